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
import { Ring, PLAYER_TAG, MIC_TAG } from './worklet/ring.js';
import { createWire, FORMATS } from './wire.js';
import { connectWebSocket, connectDataChannel, connectCallback, Link } from './transports.js';
import { AecOutput } from './aec.js';

export { Ring, PLAYER_TAG, MIC_TAG, createWire, FORMATS, connectWebSocket, connectDataChannel, connectCallback, Link, AecOutput };

const DEFAULT_WORKLET_URL = new URL('../worklet/voxlet-worklet.js', import.meta.url);
const DEFAULT_WASM_URL = new URL('../wasm/voxlet_bg.wasm', import.meta.url);
// The player-only build (register(ctx, { build: 'player' })): Receiver,
// StreamPlayer and the decoders, no Sender, encoders or wire adapters; the
// same wasm-bindgen glue drives both builds.
const PLAYER_WASM_URL = new URL('../wasm-player/voxlet_bg.wasm', import.meta.url);

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
  if (options.build != null && !['full', 'player', 'neural'].includes(options.build)) {
    throw new TypeError(`voxlet: build is 'full', 'player' or 'neural', not ${JSON.stringify(options.build)}`);
  }
  if (options.build === 'neural' && !options.wasmUrl && !(options.module instanceof WebAssembly.Module)) {
    // Its URL lives in voxlet/neural so that bundlers emit the 4 MB file
    // only for apps that import it.
    throw new TypeError("voxlet: the neural build is registered with registerNeural() from 'voxlet/neural'");
  }
  let p = registered.get(context);
  if (!p) {
    p = (async () => {
      const module = options.module instanceof WebAssembly.Module
        ? options.module
        : await compileWasm(options.wasmUrl || (options.build === 'player' ? PLAYER_WASM_URL : DEFAULT_WASM_URL));
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
    /**
     * 'player' when registered with the player-only build (no mic, no wire
     * adapters), 'neural' with the neural Opus build (registerNeural()),
     * else 'full'.
     */
    this.build = options.build === 'player' || options.build === 'neural' ? options.build : 'full';
  }

  _needFull(what) {
    if (this.build === 'player') {
      throw new Error(`voxlet: ${what} needs the full build; this context was registered with { build: 'player' }`);
    }
  }

  /** 'sab' when packets go through SharedArrayBuffer rings, else 'port'. */
  get transport() {
    return this.sharedRings ? 'sab' : 'port';
  }

  _needNeural(what) {
    if (this.build !== 'neural') {
      throw new Error(`voxlet: ${what} needs the neural build: register the context with registerNeural() from 'voxlet/neural'`);
    }
  }

  /** A receiving node (PlayerNode). */
  createPlayer(options = {}) {
    if (options.opus?.neural) this._needNeural('opus.neural');
    return new PlayerNode(this, options);
  }

  /**
   * The context's echo-cancelled output route (one per context, made on
   * first use; see AecOutput). `options` apply when it is made; a
   * `sinkId` given later moves it to that device.
   */
  aecOutput(options = {}) {
    if (!this._aec) {
      this._aec = AecOutput.create(this.context, options);
      this._aec.catch(() => { this._aec = null; });
    } else if (options.sinkId !== undefined) {
      return this._aec.then(async (o) => { await o.setSinkId(options.sinkId); return o; });
    }
    return this._aec;
  }

  /** A sending node (MicNode); connect a MediaStreamAudioSourceNode to it. */
  createMic(options = {}) {
    this._needFull('createMic()');
    if (options.dredMs) this._needNeural('dredMs');
    return new MicNode(this, options);
  }

  /**
   * getUserMedia() with voice-friendly defaults, connected into a new
   * MicNode. Returns { node, stream, source }.
   */
  async openMic(options = {}, constraints = {}) {
    this._needFull('openMic()');
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
    if (format !== 'rtp') this._needFull(`wire('${format}')`);
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

/** What pending promises of a closed node reject with (and calls made after close()). */
function closedError(node) {
  return new DOMException(`voxlet: the ${node.constructor.name} was closed`, 'AbortError');
}

/**
 * Plays one incoming stream: RTP packets (mode 'rtp', the default) through
 * voxlet's jitter buffer, or untimestamped audio chunks (mode 'stream').
 * An AudioWorkletNode: connect() it like any node. Output is at the
 * context's rate, `channels` channels (1 or 2).
 *
 * Events (CustomEvent, data in `detail`): 'ready', 'stats' (every
 * statsIntervalMs), 'dtmf', 'ssrc', 'payloadtype' (rtp mode), 'mark',
 * 'drained', 'underrun', 'started' (stream mode), 'warn', 'error'.
 *
 * Options are passed through to the wasm core untouched: a field left out
 * keeps the core's default, and any value given (0 included) is used.
 *
 * close() rejects every pending mark() and sync() promise (and `ready`, if
 * the processor had not started) with an AbortError DOMException; so do
 * mark() and sync() called after close().
 */
export class PlayerNode extends AudioWorkletNode {
  constructor(vox, options = {}) {
    if (options.output != null && options.output !== 'aec' && options.output !== 'speakers') {
      throw new TypeError(`voxlet: output is 'aec' or 'speakers', not ${JSON.stringify(options.output)}`);
    }
    const channels = options.channels === 2 ? 2 : 1;
    const ring = vox.sharedRings ? Ring.create(options.ringBytes ?? 1 << 18) : null;
    super(vox.context, 'voxlet-player', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [channels],
      processorOptions: {
        module: vox.module,
        mode: options.mode === 'stream' ? 'stream' : 'rtp',
        channels,
        payloadTypes: options.payloadTypes,
        jitter: options.jitter,
        opus: options.opus,
        stream: options.stream,
        statsIntervalMs: options.statsIntervalMs,
        ring,
      },
    });
    this.vox = vox;
    this.mode = options.mode === 'stream' ? 'stream' : 'rtp';
    this.streamFormat = this.mode === 'stream' ? String(options.stream?.format ?? 'pcmu') : '';
    this.ring = ring ? new Ring(ring) : null;
    this.transport = ring ? 'sab' : 'port';
    this.stats = null;
    this.dropped = 0;
    this._markId = 1;
    this._marks = new Map(); // name -> { resolve, reject }
    this._syncs = new Map(); // id -> { resolve, reject }
    this.closed = false;
    this.ready = readyPromise(this);
    this.ready.catch(() => {});
    this.port.onmessage = (e) => this._onMessage(e.data);
    /** The AecOutput this player plays through (output 'aec'), else null. */
    this.output = null;
    /** Resolves with the route in use: 'aec', 'speakers', or null (connect it yourself). */
    this.outputReady = this._route(options.output, options.sinkId);
  }

  /**
   * Connects the player for `options.output`: 'speakers' to the context's
   * destination, 'aec' through the context's echo-cancelled route; where
   * that cannot be set up (no RTCPeerConnection, a refused device), a
   * 'warn' event says why and the player plays to the destination, so the
   * audio goes on.
   */
  async _route(output, sinkId) {
    if (output === undefined || output === null) return null;
    if (output === 'speakers') {
      this.connect(this.context.destination);
      return 'speakers';
    }
    try {
      const route = await this.vox.aecOutput(sinkId === undefined ? {} : { sinkId });
      if (this.closed) return null;
      this.connect(route.input);
      this.output = route;
      return 'aec';
    } catch (e) {
      if (this.closed) return null;
      emit(this, 'warn', { message: `output 'aec' unavailable, playing to the destination: ${e.message || e}` });
      this.connect(this.context.destination);
      return 'speakers';
    }
  }

  _onMessage(m) {
    switch (m.t) {
      case 'ready': this._resolveReady(this); emit(this, 'ready', m); break;
      case 'error': {
        const err = new Error(m.message);
        this._rejectReady(err);
        // The processor stopped: no mark will be reached.
        for (const p of this._marks.values()) p.reject(err);
        this._marks.clear();
        emit(this, 'error', { message: m.message });
        break;
      }
      case 'sync': { const p = this._syncs.get(m.id); this._syncs.delete(m.id); if (p) p.resolve(); break; }
      case 'warn': emit(this, 'warn', { message: m.message }); break;
      case 'tick':
        this.stats = m.stats;
        for (const ev of m.events) {
          if (ev.type === 'mark') {
            const p = this._marks.get(ev.name);
            if (p) { this._marks.delete(ev.name); p.resolve(ev); }
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
    if (this.closed) return false;
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
    if (this.closed) return;
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
    this._control({ t: 'format', format: this.streamFormat }, PLAYER_TAG.FORMAT, ascii);
  }

  /** Stream mode: drops everything queued (barge-in). */
  clear() {
    this._control({ t: 'clear' }, PLAYER_TAG.CLEAR, new Uint8Array(0));
  }

  /**
   * Stream mode: a mark after the audio pushed so far. The promise
   * resolves (and a 'mark' event fires) when that audio has been played
   * (or cleared: detail.cleared). Rejects (AbortError) if the node is
   * closed first.
   */
  mark(name) {
    if (this.closed) return Promise.reject(closedError(this));
    const id = this._markId++;
    const key = name == null ? `mark-${id}` : String(name);
    const done = new Promise((resolve, reject) => this._marks.set(key, { resolve, reject }));
    if (this.ring) {
      this.port.postMessage({ t: 'markname', id, name: key });
      this._control({ t: 'mark', id, name: key }, PLAYER_TAG.MARK, new Uint8Array(new Uint32Array([id]).buffer));
    } else {
      this.port.postMessage({ t: 'mark', id, name: key });
    }
    return done;
  }

  /**
   * Resolves once the worklet has handled every message sent before it.
   * Rejects (AbortError) if the node is closed first.
   */
  sync() {
    if (this.closed) return Promise.reject(closedError(this));
    const id = this._markId++;
    const done = new Promise((resolve, reject) => this._syncs.set(id, { resolve, reject }));
    this.port.postMessage({ t: 'sync', id });
    return done;
  }

  /**
   * Stops the processor and frees its wasm memory. Every pending mark() and
   * sync() promise (and `ready`, if still pending) rejects with an
   * AbortError DOMException; later calls to them reject at once, and
   * push() returns false.
   */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.port.postMessage({ t: 'close' });
    this.disconnect();
    const err = closedError(this);
    this._rejectReady(err);
    for (const p of this._marks.values()) p.reject(err);
    for (const p of this._syncs.values()) p.reject(err);
    this._marks.clear();
    this._syncs.clear();
  }
}

/**
 * Sends one outgoing stream: connect the microphone (or any node) into it;
 * it resamples, encodes and packetises inside the worklet and calls
 * `onpacket(bytes: Uint8Array, kind: 'rtp' | 'rtcp')` for each packet.
 * Events: 'ready', 'stats', 'error', 'warn'.
 *
 * Options (`MicOptions`) are passed through to the wasm Sender untouched:
 * a field left out keeps the core's default (SenderConfig::new), any value
 * given (0 included) is used. The packet handler is `onpacket`, the name
 * of the node's property, as DOM event handlers are named (on + the
 * lower-case event name); the other options are camelCase.
 */
export class MicNode extends AudioWorkletNode {
  constructor(vox, options = {}) {
    if ('onPacket' in options) {
      throw new TypeError("voxlet: the MicNode option is 'onpacket' (the node's property), not 'onPacket'");
    }
    const channels = options.channels === 2 ? 2 : 1;
    const ring = vox.sharedRings ? Ring.create(options.ringBytes ?? 1 << 16) : null;
    const { channels: _c, ringBytes: _r, statsIntervalMs, onpacket, ...sender } = options;
    sender.seed = [randomU32(), randomU32()];
    super(vox.context, 'voxlet-mic', {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: channels,
      channelCountMode: 'explicit',
      channelInterpretation: 'speakers',
      processorOptions: { module: vox.module, channels, sender, statsIntervalMs, ring },
    });
    this.vox = vox;
    // As given; once `ready`, as the processor resolved them (defaults filled in).
    this.codec = sender.codec;
    this.payloadType = sender.payloadType;
    this.ring = ring ? new Ring(ring) : null;
    this.transport = ring ? 'sab' : 'port';
    this.onpacket = onpacket ?? null;
    this.stats = null;
    this.ssrc = undefined;
    this.closed = false;
    this.ready = readyPromise(this);
    this.ready.catch(() => {});
    this.port.onmessage = (e) => this._onMessage(e.data);
  }

  _deliver(bytes, tag) {
    const f = this.onpacket;
    if (f) f(bytes, tag === MIC_TAG.RTCP ? 'rtcp' : 'rtp');
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
      case 'ready':
        this.ssrc = m.ssrc;
        this.payloadType = m.payloadType;
        this.codec = m.codec;
        this._resolveReady(this);
        emit(this, 'ready', m);
        break;
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
    if (this.closed) return;
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

  /** Stops the processor and frees its wasm memory; `ready`, if still pending, rejects (AbortError). */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.port.postMessage({ t: 'close' });
    this.disconnect();
    this._rejectReady(closedError(this));
  }
}
