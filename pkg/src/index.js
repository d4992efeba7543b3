// voxlet for the browser: one call to set up an AudioContext, then nodes you
// connect() like any AudioNode.
//
//   import { register } from 'voxlet';
//   const vox = await register(audioContext);
//   const player = vox.createPlayer({ payloadTypes: { 111: 'opus/48000/2' } });
//   player.connect(audioContext.destination);
//   player.push(rtpPacket);
//
// register() compiles the wasm once per page (WebAssembly.compileStreaming
// on the main thread), adds the worklet module once per AudioContext, and
// hands the compiled module to every processor in processorOptions; the
// first processor of a context instantiates it and all processors of that
// context share that one instance (they share one AudioWorkletGlobalScope).
import { Ring } from './worklet/ring.js';
import { createWire, FORMATS } from './wire.js';
import { connectWebSocket, connectDataChannel, connectCallback, Link } from './transports.js';

export { Ring, createWire, FORMATS, connectWebSocket, connectDataChannel, connectCallback, Link };

const DEFAULT_WORKLET_URL = new URL('../worklet/voxlet-worklet.js', import.meta.url);
const DEFAULT_WASM_URL = new URL('../wasm/voxlet_bg.wasm', import.meta.url);

const compiled = new Map(); // wasm URL -> Promise<WebAssembly.Module>
const registered = new WeakMap(); // BaseAudioContext -> Promise<Voxlet>
let mainInstance = null; // Promise of the main-thread glue module (wire adapters)

/** Compiles voxlet's wasm once per URL (asynchronously: Chrome refuses large sync compiles). */
export function compileWasm(url = DEFAULT_WASM_URL) {
  const key = String(url);
  let p = compiled.get(key);
  if (!p) {
    p = (async () => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`voxlet: fetching ${key}: ${res.status}`);
      if (WebAssembly.compileStreaming && (res.headers.get('content-type') || '').startsWith('application/wasm')) {
        return WebAssembly.compileStreaming(res);
      }
      return WebAssembly.compile(await res.arrayBuffer());
    })();
    p.catch(() => compiled.delete(key));
    compiled.set(key, p);
  }
  return p;
}

/**
 * Sets voxlet up on an AudioContext (or OfflineAudioContext): compiles the
 * wasm (once per page), adds the worklet module (once per context).
 * Calling it again with the same context returns the same object.
 */
export function register(context, options = {}) {
  let p = registered.get(context);
  if (!p) {
    p = (async () => {
      const module = options.module instanceof WebAssembly.Module
        ? options.module
        : await compileWasm(options.wasmUrl || DEFAULT_WASM_URL);
      await context.audioWorklet.addModule(options.workletUrl || DEFAULT_WORKLET_URL);
      return new Voxlet(context, module, options);
    })();
    p.catch(() => registered.delete(context));
    registered.set(context, p);
  }
  return p;
}

/** Whether packets can use SharedArrayBuffer rings on this page. */
export function canUseSharedRings() {
  return typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true;
}

function randomU32() {
  const a = new Uint32Array(1);
  globalThis.crypto.getRandomValues(a);
  return a[0];
}

/** What register() resolves to: the factory for nodes on one context. */
export class Voxlet {
  constructor(context, module, options = {}) {
    this.context = context;
    this.module = module;
    this.sharedRings = options.sharedRings !== false && canUseSharedRings();
  }

  /** 'sab' when packets go through SharedArrayBuffer rings, else 'port'. */
  get transport() {
    return this.sharedRings ? 'sab' : 'port';
  }

  /** A receiving node (PlayerNode). */
  createPlayer(options = {}) {
    return new PlayerNode(this, options);
  }

  /** A sending node (MicNode); connect a MediaStreamAudioSourceNode to it. */
  createMic(options = {}) {
    return new MicNode(this, options);
  }

  /**
   * getUserMedia() with voice-friendly defaults, connected into a new
   * MicNode. Returns { node, stream, source }.
   */
  async openMic(options = {}, constraints = {}) {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, ...constraints },
    });
    const source = this.context.createMediaStreamSource(stream);
    const node = this.createMic(options);
    source.connect(node);
    return { node, stream, source };
  }

  /** The wasm-bindgen module instantiated on the main thread (wire adapters, codecs). */
  wasm() {
    if (!mainInstance) {
      mainInstance = import('../wasm/voxlet.js').then(async (glue) => {
        await glue.default({ module_or_path: this.module });
        return glue;
      });
    }
    return mainInstance;
  }

  /** A wire-format adapter ('rtp', 'twilio', 'asterisk', 'l16-meta'); see wire.js. */
  async wire(format = 'rtp', options = {}) {
    return createWire(format, options, format === 'rtp' ? null : await this.wasm());
  }
}

function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('voxlet: packets are ArrayBuffer or typed arrays');
}

function readyPromise(node) {
  return new Promise((resolve, reject) => {
    node._resolveReady = resolve;
    node._rejectReady = reject;
  });
}

function emit(node, type, detail) {
  node.dispatchEvent(new CustomEvent(type, { detail }));
}

/**
 * Plays one incoming stream: RTP packets (mode 'rtp', the default) through
 * voxlet's jitter buffer, or untimestamped audio chunks (mode 'stream').
 * An AudioWorkletNode: connect() it like any node. Output is at the
 * context's rate, `channels` channels (1 or 2).
 *
 * Events (CustomEvent, data in `detail`): 'ready', 'stats' (every
 * statsIntervalMs), 'dtmf', 'mark', 'drained', 'underrun', 'error'.
 */
export class PlayerNode extends AudioWorkletNode {
  constructor(vox, options = {}) {
    const channels = options.channels === 2 ? 2 : 1;
    const ring = vox.sharedRings ? Ring.create(options.ringBytes || 1 << 18) : null;
    super(vox.context, 'voxlet-player', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [channels],
      processorOptions: {
        module: vox.module,
        mode: options.mode === 'stream' ? 'stream' : 'rtp',
        channels,
        payloadTypes: options.payloadTypes || { 101: 'telephone-event/8000' },
        jitter: options.jitter || {},
        stream: options.stream || {},
        statsIntervalMs: options.statsIntervalMs || 100,
        ring,
      },
    });
    this.vox = vox;
    this.mode = options.mode === 'stream' ? 'stream' : 'rtp';
    this.streamFormat = this.mode === 'stream' ? String((options.stream || {}).format || 'pcmu') : '';
    this.ring = ring ? new Ring(ring) : null;
    this.transport = ring ? 'sab' : 'port';
    this.stats = null;
    this.dropped = 0;
    this._markId = 1;
    this._marks = new Map();
    this._syncs = new Map();
    this.ready = readyPromise(this);
    this.ready.catch(() => {});
    this.port.onmessage = (e) => this._onMessage(e.data);
  }

  _onMessage(m) {
    switch (m.t) {
      case 'ready': this._resolveReady(this); emit(this, 'ready', m); break;
      case 'error':
        this._rejectReady(new Error(m.message));
        emit(this, 'error', { message: m.message });
        break;
      case 'sync': { const f = this._syncs.get(m.id); this._syncs.delete(m.id); if (f) f(); break; }
      case 'warn': emit(this, 'warn', { message: m.message }); break;
      case 'tick':
        this.stats = m.stats;
        for (const ev of m.events) {
          if (ev.type === 'mark') {
            const r = this._marks.get(ev.name);
            if (r) { this._marks.delete(ev.name); r(ev); }
          }
          emit(this, ev.type, ev);
        }
        emit(this, 'stats', m.stats);
        break;
      default: break;
    }
  }

  /**
   * Hands one packet (mode 'rtp') or audio chunk (mode 'stream') to the
   * worklet. `options.at`: context time in ms at which the worklet is to
   * take it (replays and tests); `options.transfer`: the ArrayBuffer may be
   * detached instead of copied (port path). Returns false if it was dropped
   * (SharedArrayBuffer ring full).
   */
  push(data, options) {
    const at = options && typeof options.at === 'number' ? options.at : NaN;
    const u8 = toBytes(data);
    if (this.ring) {
      if (this.ring.push(u8, 0, at)) return true;
      this.dropped++;
      return false;
    }
    let b;
    if (options && options.transfer && data instanceof ArrayBuffer) b = data;
    else b = u8.slice().buffer;
    const msg = at === at ? { t: 'p', b, at } : { t: 'p', b };
    this.port.postMessage(msg, [b]);
    return true;
  }

  // Clear, mark and format must stay in order with the audio: through the
  // ring when there is one, else through the port like the audio.
  _control(msg, tag, bytes) {
    if (this.ring && this.ring.push(bytes, tag)) return;
    this.port.postMessage(msg);
  }

  /**
   * Stream mode: changes the format of the chunks that follow (e.g. 'pcmu',
   * 'pcma', 'g722', 'opus/48000/1', 'l16/16000/1' little-endian,
   * 'l16be/8000/1'). Audio of another rate still queued is dropped.
   */
  setFormat(format) {
    this.streamFormat = String(format);
    const ascii = Uint8Array.from(this.streamFormat, (c) => c.charCodeAt(0) & 0x7f);
    this._control({ t: 'format', format: this.streamFormat }, 3, ascii);
  }

  /** Stream mode: drops everything queued (barge-in). */
  clear() {
    this._control({ t: 'clear' }, 1, new Uint8Array(0));
  }

  /**
   * Stream mode: a mark after the audio pushed so far. The promise
   * resolves (and a 'mark' event fires) when that audio has been played
   * (or cleared: detail.cleared).
   */
  mark(name) {
    const id = this._markId++;
    const key = name == null ? `mark-${id}` : String(name);
    const done = new Promise((resolve) => this._marks.set(key, resolve));
    if (this.ring) {
      this.port.postMessage({ t: 'markname', id, name: key });
      this._control({ t: 'mark', id, name: key }, 2, new Uint8Array(new Uint32Array([id]).buffer));
    } else {
      this.port.postMessage({ t: 'mark', id, name: key });
    }
    return done;
  }

  /** Resolves once the worklet has handled every message sent before it. */
  sync() {
    const id = this._markId++;
    this.port.postMessage({ t: 'sync', id });
    return new Promise((resolve) => this._syncs.set(id, resolve));
  }

  /** Stops the processor and frees its wasm memory. */
  close() {
    this.port.postMessage({ t: 'close' });
    this.disconnect();
  }
}

/**
 * Sends one outgoing stream: connect the microphone (or any node) into it;
 * it resamples, encodes and packetises inside the worklet and calls
 * `onpacket(bytes: Uint8Array, kind: 'rtp' | 'rtcp')` for each packet.
 * Events: 'ready', 'stats', 'error', 'warn'.
 */
export class MicNode extends AudioWorkletNode {
  constructor(vox, options = {}) {
    const channels = options.channels === 2 ? 2 : 1;
    const ring = vox.sharedRings ? Ring.create(options.ringBytes || 1 << 16) : null;
    const codec = options.codec || 'PCMU/8000';
    const name = codec.split('/')[0].toLowerCase();
    const staticPt = { pcmu: 0, pcma: 8, g722: 9 }[name];
    const payloadType = options.payloadType ?? staticPt ?? 111;
    const ctx = vox.context;
    super(ctx, 'voxlet-mic', {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: channels,
      channelCountMode: 'explicit',
      channelInterpretation: 'speakers',
      processorOptions: {
        module: vox.module,
        codec,
        payloadType,
        channels,
        ptimeMs: options.ptimeMs || 20,
        dtmfPayloadType: options.dtmfPayloadType ?? 101,
        dtmfClockRate: options.dtmfClockRate || 0,
        bitrate: options.bitrate || 0,
        fec: !!options.fec,
        dtx: !!options.dtx,
        rtcpIntervalMs: options.rtcpIntervalMs || 0,
        ssrc: options.ssrc,
        seed: [randomU32(), randomU32()],
        statsIntervalMs: options.statsIntervalMs || 250,
        ring,
      },
    });
    this.vox = vox;
    this.codec = codec;
    this.payloadType = payloadType;
    this.ring = ring ? new Ring(ring) : null;
    this.transport = ring ? 'sab' : 'port';
    this.onpacket = options.onPacket || null;
    this.stats = null;
    this.ssrc = undefined;
    this.ready = readyPromise(this);
    this.ready.catch(() => {});
    this.port.onmessage = (e) => this._onMessage(e.data);
  }

  _deliver(bytes, tag) {
    const f = this.onpacket;
    if (f) f(bytes, tag === 1 ? 'rtcp' : 'rtp');
  }

  _drainRing() {
    const r = this.ring;
    for (;;) {
      let n;
      while ((n = r.next()) >= 0) {
        const out = new Uint8Array(n);
        const tag = r.tag;
        r.read(out, 0);
        this._deliver(out, tag);
      }
      r.sleep();
      if (r.next() < 0) break; // nothing slipped in between: asleep
      r.takeWake();
    }
  }

  _onMessage(m) {
    if (m === 'w') { this._drainRing(); return; }
    switch (m.t) {
      case 'p': this._deliver(new Uint8Array(m.b), m.tag); break;
      case 'ready': this.ssrc = m.ssrc; this._resolveReady(this); emit(this, 'ready', m); break;
      case 'error':
        this._rejectReady(new Error(m.message));
        emit(this, 'error', { message: m.message });
        break;
      case 'warn': emit(this, 'warn', { message: m.message }); break;
      case 'tick': this.stats = m.stats; emit(this, 'stats', m.stats); break;
      default: break;
    }
  }

  /** Sends DTMF digits as RFC 4733 telephone-events (in place of audio). */
  sendDtmf(digits, durationMs = 100, volume = 10) {
    this.port.postMessage({ t: 'dtmf', digits: String(digits), durationMs, volume });
  }

  /** Sends silence instead of the input while muted (the stream keeps its timing). */
  set muted(v) {
    this._muted = !!v;
    this.port.postMessage({ t: 'mute', muted: this._muted });
  }

  get muted() {
    return !!this._muted;
  }

  close() {
    this.port.postMessage({ t: 'close' });
    this.disconnect();
  }
}
