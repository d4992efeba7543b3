// What the two voxlet processors share: start-up (the one wasm instance of
// this global scope, views on its memory, the core object), failure and
// warnings, the port protocol common to both ('sync', 'close'), and the
// statistics tick (the core's statistics buffer read by the names its
// class exports, `statsNames()`).
//
// A subclass passes `makeCore(glue)` and its default stats interval, and
// implements `onMessage(m)` for its own messages and `process()`.
import { loadWasm, MemViews, glue } from './wasm.js';
import { Ring } from './ring.js';

export class ProcessorBase extends AudioWorkletProcessor {
  /**
   * `options`: the AudioWorkletNode's; `defaultStatsMs`: the tick interval
   * when processorOptions.statsIntervalMs is left out; `makeCore(o)`
   * builds the wasm object from processorOptions `o`; `ready` adds fields
   * to the 'ready' message.
   */
  constructor(options, { defaultStatsMs, makeCore, ready = () => ({}) }) {
    super();
    const o = options.processorOptions || {};
    this.alive = true;
    this.failed = false;
    this.core = null;
    this.quanta = 0;
    const ms = o.statsIntervalMs ?? defaultStatsMs;
    this.tickEvery = Math.max(1, Math.round((ms / 1000) * sampleRate / 128));
    this.ring = o.ring ? new Ring(o.ring) : null;
    this.port.onmessage = (e) => this.receive(e.data);
    try {
      this.mem = new MemViews(loadWasm(o.module).memory);
      this.core = makeCore(o);
      this.statNames = this.core.constructor.statsNames();
      this.port.postMessage({
        t: 'ready', transport: this.ring ? 'sab' : 'port', stats: this.statNames, ...ready(this.core),
      });
    } catch (e) {
      this.fail(e);
    }
  }

  /** Context time of the current quantum's first frame, ms. */
  now() {
    return (currentFrame / sampleRate) * 1000;
  }

  /** Stops processing for good and reports why (once). */
  fail(e) {
    if (!this.failed) {
      this.failed = true;
      this.port.postMessage({ t: 'error', message: errorText(e) });
    }
  }

  /** A recoverable problem (a refused control message): reported, processing goes on. */
  warn(e) {
    this.port.postMessage({ t: 'warn', message: String((e && e.message) || e) });
  }

  receive(m) {
    if (m && m.t === 'sync') { this.port.postMessage({ t: 'sync', id: m.id }); return; }
    if (m && m.t === 'close') { this.close(); return; }
    if (this.failed || !this.core) return;
    try {
      this.onMessage(m);
    } catch (e) {
      this.warn(e);
    }
  }

  /** Final statistics, then the wasm object is freed; process() returns false from now on. */
  close() {
    if (!this.alive) return;
    this.alive = false;
    try {
      if (!this.failed) this.tick();
      if (this.core) this.core.free();
    } catch (e) {
      this.warn(e);
    }
    this.core = null;
    this.port.postMessage({ t: 'closed' });
  }

  /** Calls `tick()` every statsIntervalMs of rendered time. */
  countQuantum() {
    if (++this.quanta >= this.tickEvery) this.tick();
  }

  /** The core's statistics as { name: value }, plus the ring's drops. */
  readStats() {
    this.core.writeStats();
    this.mem.refresh();
    const f = this.mem.f64;
    const base = this.core.statsPtr() >> 3;
    const stats = {};
    const names = this.statNames;
    for (let i = 0; i < names.length; i++) stats[names[i]] = f[base + i];
    if (this.ring) stats.ringDropped = this.ring.dropped;
    return stats;
  }

  /** Posts statistics (and what `tickExtra()` adds) to the node. */
  tick() {
    this.quanta = 0;
    if (!this.core) return;
    this.port.postMessage({ t: 'tick', timeMs: this.now(), stats: this.readStats(), ...this.tickExtra() });
  }

  tickExtra() {
    return {};
  }
}

/**
 * An error as text, name and message first: V8's `stack` starts with them,
 * SpiderMonkey's (Firefox) and JavaScriptCore's (WebKit) hold only the
 * frames, so `stack` alone loses the message there.
 */
function errorText(e) {
  if (!e || typeof e !== 'object') return String(e);
  const head = `${e.name || 'Error'}: ${e.message}`;
  const stack = typeof e.stack === 'string' ? e.stack : '';
  if (stack.startsWith(head)) return stack;
  return stack ? `${head}\n${stack}` : head;
}

export { glue };
