// The receiving AudioWorkletProcessor ('voxlet-player'): packets in, audio
// out at the context's rate. Everything audible is computed by the wasm core
// (jitter buffer, decoders, concealment, resampling); this file only moves
// bytes and samples across and reports.
//
// Modes (processorOptions.mode):
//   'rtp'    - raw RTP packets into voxlet's Receiver (jitter buffer).
//   'stream' - untimestamped audio chunks into voxlet's StreamPlayer
//              (voice-AI servers): queue, clear(), marks, drained.
//
// Packets arrive either through a SharedArrayBuffer ring (cross-origin
// isolated pages; read at the start of every render quantum) or as port
// messages carrying transferred ArrayBuffers. Each record may carry a
// context time (ms) at which it is to be handed to the core (replay, tests);
// otherwise it is handed over at once, stamped with the current context
// time.
//
// Per render quantum nothing is allocated: the core renders into its own
// planar buffer, and cached Float32Array views on wasm memory are .set()
// into outputs[0][ch]. Stats and events are posted every statsIntervalMs.
import { loadWasm, MemViews, glue } from './wasm.js';
import { Ring } from './ring.js';

const EV_NONE = 0;
const EV_DTMF = 1;
const EV_DTMF_END = 7;
const EV_SSRC = 8;
const EV_PT = 9;
const EV_MARK = 2;
const EV_DRAINED = 3;
const EV_UNDERRUN = 4;
const EV_MARK_CLEARED = 5;
const EV_STARTED = 6;
const DTMF_KEYS = '0123456789*#ABCD';
// Ring record tags: audio, then the controls that must stay in order with it.
const TAG_DATA = 0;
const TAG_CLEAR = 1;
const TAG_MARK = 2;
const TAG_FORMAT = 3;

function createCore(o) {
  if (o.mode === 'stream') {
    if (!glue.StreamPlayer) throw new Error('voxlet: this build has no StreamPlayer');
    const s = o.stream || {};
    return new glue.StreamPlayer(sampleRate, o.channels, String(s.format || 'pcmu'),
      +(s.maxQueueMs || 0) >>> 0, +(s.startThresholdMs || 0) >>> 0, !!s.dropOldest);
  }
  const j = o.jitter || {};
  const pts = Object.entries(o.payloadTypes || {}).map(([pt, m]) => `${pt}=${m}`).join(';');
  return new glue.Receiver(sampleRate, o.channels, pts, j.minDelayMs >>> 0, j.maxDelayMs >>> 0,
    j.initialDelayMs >>> 0, j.maxConcealMs >>> 0);
}

class PlayerProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions || {};
    this.alive = true;
    this.failed = false;
    this.mode = o.mode === 'stream' ? 'stream' : 'rtp';
    this.channels = o.channels === 2 ? 2 : 1;
    this.events = [];
    this.marks = new Map();
    this.pending = [];
    this.pendingHead = 0;
    this.quanta = 0;
    this.tickEvery = Math.max(1, Math.round(((o.statsIntervalMs || 100) / 1000) * sampleRate / 128));
    this.ring = o.ring ? new Ring(o.ring) : null;
    this.scratch = new Uint8Array(512);
    this.port.onmessage = (e) => this.onMessage(e.data);
    try {
      const wasm = loadWasm(o.module);
      this.mem = new MemViews(wasm.memory);
      this.core = createCore({ ...o, channels: this.channels });
      const names = this.core.constructor.statsNames();
      this.statNames = names;
      this.port.postMessage({ t: 'ready', transport: this.ring ? 'sab' : 'port', stats: names });
    } catch (e) {
      this.fail(e);
    }
  }

  fail(e) {
    if (!this.failed) {
      this.failed = true;
      this.port.postMessage({ t: 'error', message: String(e && e.stack || e) });
    }
  }

  onMessage(m) {
    if (m.t === 'sync') { this.port.postMessage({ t: 'sync', id: m.id }); return; }
    if (this.failed) return;
    try {
      switch (m.t) {
        case 'p': { // one packet / chunk: m.b ArrayBuffer, m.at optional context ms
          const at = typeof m.at === 'number' ? m.at : NaN;
          if (at === at && at > this.now()) this.pending.push(m);
          else this.pushBytes(new Uint8Array(m.b), at === at ? at : this.now());
          break;
        }
        case 'clear': this.control(TAG_CLEAR); break;
        case 'markname': this.marks.set(m.id, m.name); break;
        case 'mark': this.marks.set(m.id, m.name); this.control(TAG_MARK, m.id); break;
        case 'format': this.control(TAG_FORMAT, m.format); break;
        case 'close': this.alive = false; this.tick(); this.core.free(); this.core = null; break;
        default: break;
      }
    } catch (e) {
      this.warn(e);
    }
  }

  warn(e) {
    this.port.postMessage({ t: 'warn', message: String(e && e.message || e) });
  }

  /** Clear, mark and format changes, in order with the audio around them. */
  control(tag, arg) {
    try {
      if (tag === TAG_CLEAR) {
        this.pending.length = 0;
        this.pendingHead = 0;
        if (this.core.clear) this.core.clear();
        else this.core.flush();
      } else if (tag === TAG_MARK) {
        try {
          this.core.mark(arg);
        } catch (e) {
          this.events.push({ type: 'mark', id: arg, cleared: true, error: String(e.message || e) });
        }
      } else if (tag === TAG_FORMAT) {
        try {
          this.core.setFormat(arg);
        } catch (e) {
          this.core.clear(); // audio of the old format still queued: drop it
          this.core.setFormat(arg);
        }
      }
    } catch (e) {
      this.warn(e);
    }
  }

  now() {
    return (currentFrame / sampleRate) * 1000;
  }

  pushBytes(u8, arrivalMs) {
    const len = u8.length;
    const ptr = this.core.inputPtr(len);
    this.mem.refresh();
    this.mem.u8.set(u8, ptr);
    this.core.push(len, arrivalMs);
  }

  drainInputs(now) {
    const ring = this.ring;
    if (ring) {
      let n;
      while ((n = ring.next()) >= 0) {
        const tag = ring.tag;
        if (tag !== TAG_DATA) {
          const b = this.scratch;
          if (n > b.length) { ring.skip(); continue; }
          ring.read(b, 0);
          if (tag === TAG_MARK) this.control(tag, b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24));
          else if (tag === TAG_FORMAT) this.control(tag, String.fromCharCode.apply(null, b.subarray(0, n)));
          else this.control(tag);
          continue;
        }
        const t = ring.time;
        if (t === t && t > now) break; // not due yet (replay)
        const ptr = this.core.inputPtr(n);
        this.mem.refresh();
        ring.read(this.mem.u8, ptr);
        this.core.push(n, t === t ? t : now);
      }
    }
    const p = this.pending;
    while (this.pendingHead < p.length && p[this.pendingHead].at <= now) {
      const m = p[this.pendingHead++];
      this.pushBytes(new Uint8Array(m.b), m.at);
    }
    if (this.pendingHead > 0 && this.pendingHead === p.length) {
      p.length = 0;
      this.pendingHead = 0;
    }
  }

  process(inputs, outputs) {
    if (!this.alive) return false;
    const out = outputs[0];
    if (this.failed || !out || out.length === 0) {
      return true;
    }
    const frames = out[0].length;
    try {
      const now = this.now();
      this.drainInputs(now);
      const ptr = this.core.render(frames, now);
      const mem = this.mem;
      mem.refresh();
      const ch = this.channels;
      for (let c = 0; c < out.length; c++) {
        const src = c < ch ? c : ch - 1;
        out[c].set(mem.f32(src, ptr + src * frames * 4, frames));
      }
      let k;
      while ((k = this.core.pollEvent()) !== EV_NONE) this.onEvent(k);
      if (++this.quanta >= this.tickEvery) this.tick();
    } catch (e) {
      this.fail(e);
    }
    return true;
  }

  onEvent(kind) {
    this.mem.refresh();
    const f = this.mem.f64;
    const i = this.core.eventPtr() >> 3;
    switch (kind) {
      case EV_DTMF:
        this.events.push({
          type: 'dtmf', phase: 'begin', digit: DTMF_KEYS[f[i]] || '', code: f[i], volume: f[i + 3],
          timeMs: f[i + 4],
        });
        break;
      case EV_DTMF_END:
        this.events.push({
          type: 'dtmf', phase: 'end', digit: DTMF_KEYS[f[i]] || '', code: f[i], durationMs: f[i + 1],
          timedOut: f[i + 3] !== 0, timeMs: f[i + 4],
        });
        break;
      case EV_SSRC: this.events.push({ type: 'ssrc', old: f[i], ssrc: f[i + 1] }); break;
      case EV_PT: this.events.push({ type: 'payloadtype', old: f[i], payloadType: f[i + 1] }); break;
      case EV_MARK: this.events.push({ type: 'mark', id: f[i], timeMs: f[i + 1] }); break;
      case EV_MARK_CLEARED: this.events.push({ type: 'mark', id: f[i], cleared: true }); break;
      case EV_DRAINED: this.events.push({ type: 'drained', timeMs: f[i + 1] }); break;
      case EV_UNDERRUN: this.events.push({ type: 'underrun', count: f[i], timeMs: this.now() }); break;
      case EV_STARTED: this.events.push({ type: 'started', timeMs: f[i + 1] }); break;
      default: break;
    }
  }

  tick() {
    this.quanta = 0;
    if (!this.core) return;
    this.core.writeStats();
    this.mem.refresh();
    const f = this.mem.f64;
    const base = this.core.statsPtr() >> 3;
    const stats = {};
    const names = this.statNames;
    for (let i = 0; i < names.length; i++) stats[names[i]] = f[base + i];
    if (this.ring) stats.ringDropped = this.ring.dropped;
    const events = this.events;
    this.events = [];
    // Mark names are resolved here, a quantum or more after the mark fired,
    // so a name sent on the port after its ring record has arrived by now.
    for (const ev of events) {
      if (ev.type === 'mark' && ev.id !== undefined) {
        ev.name = this.marks.get(ev.id);
        this.marks.delete(ev.id);
        delete ev.id;
      }
    }
    this.port.postMessage({ t: 'tick', timeMs: this.now(), stats, events });
  }
}

registerProcessor('voxlet-player', PlayerProcessor);
