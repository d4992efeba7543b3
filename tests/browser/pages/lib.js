// Browser side of the Playwright tests: scenarios run inside the page,
// called from Node through harness.run(page, name, args). They use the
// package exactly as an application would (pkg/src/index.js).
import { register } from '/pkg/src/index.js';

export function parseRtpdump(buf) {
  const b = new Uint8Array(buf);
  let i = 0;
  while (b[i] !== 0x0a) i++;
  i += 1 + 16;
  const dv = new DataView(buf);
  const out = [];
  while (i + 8 <= b.length) {
    const len = dv.getUint16(i);
    const plen = dv.getUint16(i + 2);
    const offsetMs = dv.getUint32(i + 4);
    if (plen !== 0) out.push({ offsetMs, bytes: b.slice(i + 8, i + len) });
    i += len;
  }
  return out;
}

export async function fixture(name) {
  const r = await fetch(`/tests/fixtures/${name}.rtpdump`);
  return parseRtpdump(await r.arrayBuffer());
}

export function b64(f32) {
  const u8 = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
}

// A seeded PRNG so failures reproduce.
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const RECORDER = `
class Recorder extends AudioWorkletProcessor {
  constructor(o) {
    super();
    this.buf = new Float32Array(o.processorOptions.frames);
    this.n = 0;
    this.start = -1;
    this.port.onmessage = () => {
      const b = this.buf.slice(0, this.n);
      this.port.postMessage({ start: this.start, data: b }, [b.buffer]);
    };
  }
  process(inputs) {
    const x = inputs[0] && inputs[0][0];
    if (this.start < 0) this.start = currentFrame;
    const len = x ? x.length : 128;
    if (this.n + len <= this.buf.length) {
      if (x) this.buf.set(x, this.n);
      this.n += len;
    }
    return true;
  }
}
registerProcessor('test-recorder', Recorder);
`;

const recorderModules = new WeakMap();

/** A node recording its first input channel (up to `seconds`); `stop()` resolves with the samples. */
export async function recorder(ctx, seconds) {
  if (!recorderModules.has(ctx)) {
    const url = URL.createObjectURL(new Blob([RECORDER], { type: 'text/javascript' }));
    recorderModules.set(ctx, ctx.audioWorklet.addModule(url));
  }
  await recorderModules.get(ctx);
  const node = new AudioWorkletNode(ctx, 'test-recorder', {
    numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit',
    processorOptions: { frames: Math.ceil(seconds * ctx.sampleRate) },
  });
  node.stop = () => new Promise((resolve) => {
    node.port.onmessage = (e) => resolve(e.data);
    node.port.postMessage('stop');
  });
  return node;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `ctx`'s audio clock has run `seconds` more (at most 4× that
 * of wall time): on a loaded machine the audio clock can run at 0.7× the
 * wall clock, and a test that waits on the wall clock then records less
 * audio than it expects.
 */
export async function audioSleep(ctx, seconds) {
  const from = ctx.currentTime;
  const wallEnd = performance.now() + 4000 * seconds;
  while (ctx.currentTime - from < seconds && performance.now() < wallEnd) await sleep(20);
}

/**
 * Fixture RTP stream → player in an OfflineAudioContext at `rate`, each
 * packet handed to the jitter buffer at its capture time (+ leadMs).
 */
export async function playFixtureOffline({ name, rate, channels = 1, payloadTypes = {}, leadMs = 0, tailMs = 600, jitter }) {
  const pkts = await fixture(name);
  const t0 = pkts[0].offsetMs;
  const durMs = pkts[pkts.length - 1].offsetMs - t0 + leadMs + tailMs;
  const ctx = new OfflineAudioContext(channels, Math.ceil((durMs / 1000) * rate), rate);
  const vox = await register(ctx);
  const player = vox.createPlayer({ payloadTypes, channels, jitter });
  player.connect(ctx.destination);
  await player.ready;
  for (const p of pkts) player.push(p.bytes, { at: p.offsetMs - t0 + leadMs });
  await player.sync();
  const t = performance.now();
  const buf = await ctx.startRendering();
  const wall = performance.now() - t;
  await player.sync();
  return {
    transport: player.transport,
    isolated: globalThis.crossOriginIsolated,
    stats: player.stats,
    renderMs: wall,
    quanta: buf.length / 128,
    channels: Array.from({ length: channels }, (_, c) => b64(buf.getChannelData(c))),
  };
}

/**
 * Pushes `packets` ({ atMs, bytes }, relative to now) into `player` on the
 * wall clock, paced by timers as a network delivers them; with `stallAtMs`
 * the main thread is blocked (busy) for `stallMs` at that point.
 */
export function deliver(player, packets, { stallAtMs = -1, stallMs = 0 } = {}) {
  const start = performance.now();
  let i = 0;
  let stalled = stallAtMs < 0;
  const list = packets.slice().sort((a, b) => a.atMs - b.atMs);
  return new Promise((done) => {
    const pump = () => {
      let el = performance.now() - start;
      if (!stalled && el >= stallAtMs) {
        stalled = true;
        while (performance.now() - start < el + stallMs) { /* busy: the main thread is stalled */ }
        el = performance.now() - start;
      }
      while (i < list.length && list[i].atMs <= el) player.push(list[i++].bytes);
      if (i < list.length) setTimeout(pump, Math.max(0, Math.min(5, list[i].atMs - el)));
      else done();
    };
    pump();
  });
}

/**
 * A real-time AudioContext plays packets paced by timers: `schedule` is a
 * list of { atMs, bytes } relative to the start. Returns the recorded
 * output, the stats and events seen.
 *
 * Packets are delivered on the wall clock, as a network delivers them; the
 * recording ends when the *audio* clock has run `seconds` (a loaded
 * machine's audio clock can run at 0.7× the wall clock, so a wall-clock
 * end would cut the stream short). `stallAtMs` / `stallMs`: the main
 * thread is blocked (busy) for `stallMs` at that point of the schedule, as
 * a busy page or machine does; packets due meanwhile arrive in a burst.
 */
export async function playRealtime({ packets, payloadTypes = {}, rate, seconds, jitter, stallAtMs = -1, stallMs = 0 }) {
  const ctx = new AudioContext(rate ? { sampleRate: rate } : {});
  await ctx.resume();
  const vox = await register(ctx);
  const player = vox.createPlayer({ payloadTypes, jitter });
  const rec = await recorder(ctx, seconds + 1);
  player.connect(rec);
  await player.ready;
  const events = [];
  for (const t of ['dtmf', 'underrun', 'error', 'warn']) player.addEventListener(t, (e) => events.push({ type: t, ...e.detail }));
  const statsLog = [];
  player.addEventListener('stats', (e) => statsLog.push(e.detail));
  const start = performance.now();
  const audioStart = ctx.currentTime;
  await deliver(player, packets, { stallAtMs, stallMs });
  await audioSleep(ctx, seconds - (ctx.currentTime - audioStart));
  const audioSeconds = ctx.currentTime - audioStart;
  const wallSeconds = (performance.now() - start) / 1000;
  const r = await rec.stop();
  await player.sync();
  const stats = player.stats;
  await ctx.close();
  return {
    transport: player.transport,
    isolated: globalThis.crossOriginIsolated,
    rate: ctx.sampleRate,
    stats,
    statsCount: statsLog.length,
    events,
    clockRatio: audioSeconds / wallSeconds,
    output: b64(r.data),
  };
}

/** Fixture packets as a realtime schedule, with optional loss / jitter / garbage. */
export async function fixtureSchedule({ name, loss = 0, jitterMs = 0, garbageEvery = 0, seed = 1, leadMs = 100 }) {
  const pkts = await fixture(name);
  const r = rng(seed);
  const t0 = pkts[0].offsetMs;
  const out = [];
  let dropped = 0, garbage = 0;
  pkts.forEach((p, k) => {
    const at = p.offsetMs - t0 + leadMs + r() * jitterMs;
    if (typeof loss === 'function' ? loss(k) : r() < loss) { dropped++; } else out.push({ atMs: at, bytes: p.bytes });
    if (garbageEvery && k % garbageEvery === 0) {
      out.push({ atMs: at + 1, bytes: garbagePacket(r, p.bytes) });
      garbage++;
    }
  });
  return { schedule: out, dropped, garbage };
}

/** Random bytes, truncated headers, bad versions, unknown payload types, absurd CSRC counts. */
export function garbagePacket(r, valid) {
  const kind = Math.floor(r() * 5);
  const len = Math.floor(r() * 300);
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
  switch (kind) {
    case 0: return b; // random
    case 1: return valid.slice(0, Math.floor(r() * 12)); // truncated header
    case 2: { const v = valid.slice(); v[0] = (v[0] & 0x3f) | 0x40; return v; } // version 1
    case 3: { const v = valid.slice(); v[1] = 77; return v; } // unknown payload type
    default: { const v = valid.slice(0, 14); v[0] = 0x8f; return v; } // 15 CSRCs, too short
  }
}

/** Runs playRealtime on a fixture with impairments. */
export async function impairedFixture(args) {
  const { schedule, dropped, garbage } = await fixtureSchedule(args);
  const res = await playRealtime({ packets: schedule, payloadTypes: args.payloadTypes, seconds: args.seconds, rate: args.rate });
  return { ...res, dropped, garbage };
}

/** A 12-byte RTP header + payload. */
export function rtp(pt, seq, ts, ssrc, payload, marker = false) {
  const b = new Uint8Array(12 + payload.length);
  b[0] = 0x80; b[1] = (marker ? 0x80 : 0) | pt;
  b[2] = (seq >> 8) & 255; b[3] = seq & 255;
  b[4] = (ts >>> 24) & 255; b[5] = (ts >>> 16) & 255; b[6] = (ts >>> 8) & 255; b[7] = ts & 255;
  b[8] = (ssrc >>> 24) & 255; b[9] = (ssrc >>> 16) & 255; b[10] = (ssrc >>> 8) & 255; b[11] = ssrc & 255;
  b.set(payload, 12);
  return b;
}

/**
 * A steady tone encoded with voxlet's own encoder (main-thread wasm),
 * packetised every 20 ms, as a realtime schedule with impairments:
 * `lose(k)` drops packet k, `jitterMs` delays each packet uniformly (which
 * reorders them), `garbageEvery` inserts a garbage packet every N.
 */
export async function toneSchedule({ codec = 'PCMU/8000', pt = 0, seconds = 4, freq = 440, amp = 0.5,
  lossEvery = 0, burstAt = -1, burstLen = 0, jitterMs = 0, garbageEvery = 0, seed = 7, leadMs = 100, vox }) {
  const glue = await vox.wasm();
  const enc = new glue.CodecEncoder(codec);
  const rate = enc.sampleRate;
  const n = rate / 50;
  const r = rng(seed);
  const out = [];
  let dropped = 0, garbage = 0;
  const packets = Math.round(seconds * 50);
  for (let k = 0; k < packets; k++) {
    const pcm = new Float32Array(n);
    for (let i = 0; i < n; i++) pcm[i] = amp * Math.sin((2 * Math.PI * freq * (k * n + i)) / rate);
    const payload = enc.encode(pcm);
    const ticks = codec.startsWith('G722') ? 160 : n;
    const p = rtp(pt, (1000 + k) & 0xffff, (5000 + k * ticks) >>> 0, 0x5eed, payload, k === 0);
    const at = leadMs + k * 20 + r() * jitterMs;
    const lost = (lossEvery && k % lossEvery === lossEvery - 1) || (k >= burstAt && k < burstAt + burstLen);
    if (lost) dropped++; else out.push({ atMs: at, bytes: p });
    if (garbageEvery && k % garbageEvery === 0) {
      out.push({ atMs: at + 0.5, bytes: garbagePacket(r, p) });
      garbage++;
    }
  }
  enc.free();
  return { schedule: out, dropped, garbage, packets };
}

/** The tone scenario end to end in a realtime context. */
export async function impairedTone(args) {
  const ctx = new AudioContext();
  const vox = await register(ctx);
  const { schedule, dropped, garbage, packets } = await toneSchedule({ ...args, vox });
  await ctx.close();
  const res = await playRealtime({
    packets: schedule, payloadTypes: args.payloadTypes || {}, seconds: args.seconds + 0.6, stallAtMs: args.stallAtMs, stallMs: args.stallMs,
  });
  return { ...res, dropped, garbage, packets };
}

/** Fixture played in real time, clean. */
export async function realtimeFixture({ name, payloadTypes = {}, seconds, rate = 48000, stallAtMs, stallMs }) {
  const { schedule } = await fixtureSchedule({ name });
  return playRealtime({ packets: schedule, payloadTypes, seconds, rate, stallAtMs, stallMs });
}

/**
 * Fake microphone → one MicNode per codec → packets → one PlayerNode each
 * → recorders, all in one 44.1 kHz context; the microphone itself is
 * recorded too (the reference, same clock).
 */
export async function micLoopback({ codecs, seconds = 4, rate = 44100, jitter }) {
  const ctx = new AudioContext({ sampleRate: rate });
  await ctx.resume();
  const vox = await register(ctx);
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 2 },
  });
  const source = ctx.createMediaStreamSource(stream);
  const inRec = await recorder(ctx, seconds + 1);
  source.connect(inRec);
  const legs = [];
  for (const c of codecs) {
    const mic = vox.createMic({ codec: c.codec, payloadType: c.pt, bitrate: c.bitrate });
    const player = vox.createPlayer({ payloadTypes: c.pt >= 96 ? { [c.pt]: c.codec } : {}, jitter });
    const rec = await recorder(ctx, seconds + 1);
    let packets = 0, bytes = 0;
    mic.onpacket = (b) => { packets++; bytes += b.length; player.push(b); };
    source.connect(mic);
    player.connect(rec);
    await Promise.all([mic.ready, player.ready]);
    legs.push({ c, mic, player, rec, get packets() { return packets; }, get bytes() { return bytes; } });
  }
  await audioSleep(ctx, seconds);
  const input = await inRec.stop();
  const out = [];
  for (const l of legs) {
    const r = await l.rec.stop();
    await l.player.sync();
    out.push({
      codec: l.c.codec, packets: l.packets, bytes: l.bytes, transport: l.mic.transport,
      micStats: l.mic.stats, playerStats: l.player.stats, output: b64(r.data), start: r.start,
    });
    l.mic.close();
    l.player.close();
  }
  stream.getTracks().forEach((t) => t.stop());
  await ctx.close();
  return { rate: ctx.sampleRate, input: b64(input.data), inputStart: input.start, legs: out };
}

/**
 * A WebSocket session in one wire format: a tone (oscillator) goes into a
 * MicNode whose packets the link sends; what the server sends is played by
 * a PlayerNode and recorded. Runs until the server closes the socket.
 */
export async function wireSession({ url, format, micCodec, streamFormat = 'pcmu', startThresholdMs, twilio, marks = [], commands = [], seconds = 6 }) {
  const { connectWebSocket } = await import('/pkg/src/index.js');
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const vox = await register(ctx);
  const player = vox.createPlayer(format === 'rtp' ? {} : { mode: 'stream', stream: { format: streamFormat, startThresholdMs } });
  const rec = await recorder(ctx, seconds + 1);
  player.connect(rec);
  const osc = new OscillatorNode(ctx, { frequency: 440 });
  const gain = new GainNode(ctx, { gain: 0.5 });
  const mic = vox.createMic({ codec: micCodec });
  osc.connect(gain).connect(mic);
  osc.start();
  await Promise.all([player.ready, mic.ready]);
  const t0 = performance.now();
  const log = [];
  const ws = new WebSocket(url);
  const link = await connectWebSocket(ws, { player, mic, format, twilio });
  for (const t of ['start', 'stop', 'dtmf', 'mark', 'clear', 'event', 'text', 'wireerror']) {
    link.addEventListener(t, (e) => log.push({ t: Math.round(performance.now() - t0), ...e.detail, type: t, info: undefined, raw: undefined }));
  }
  for (const t of ['mark', 'drained', 'underrun', 'started', 'error']) {
    player.addEventListener(t, (e) => log.push({ t: Math.round(performance.now() - t0), ...e.detail, type: `player-${t}` }));
  }
  if (ws.readyState !== 1) await new Promise((r) => ws.addEventListener('open', r, { once: true }));
  for (const m of marks) setTimeout(() => link.mark(m.name), m.atMs);
  for (const c of commands) setTimeout(() => link.command(c.name, c.arg), c.atMs);
  const closed = new Promise((r) => ws.addEventListener('close', r, { once: true }));
  await Promise.race([closed, sleep(seconds * 1000)]);
  const r = await rec.stop();
  await player.sync();
  const res = {
    log, counts: link.counts, playerStats: player.stats, micStats: mic.stats, rate: ctx.sampleRate,
    output: b64(r.data), transport: player.transport,
  };
  link.close();
  ws.close();
  await ctx.close();
  return res;
}

/**
 * Two RTCPeerConnections in the page joined by an unordered, unreliable
 * DataChannel: a tone → MicNode → connectDataChannel (side A) → channel →
 * connectDataChannel (side B) → PlayerNode → recorder.
 */
export async function dataChannelLoop({ seconds = 2 }) {
  const { connectDataChannel } = await import('/pkg/src/index.js');
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const dcA = a.createDataChannel('voice', { ordered: false, maxRetransmits: 0 });
  const dcB = new Promise((r) => { b.ondatachannel = (e) => r(e.channel); });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const chB = await dcB;
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const vox = await register(ctx);
  const mic = vox.createMic({ codec: 'opus/48000/2', payloadType: 111 });
  const player = vox.createPlayer({ payloadTypes: { 111: 'opus/48000/2' } });
  const rec = await recorder(ctx, seconds + 1);
  player.connect(rec);
  const osc = new OscillatorNode(ctx, { frequency: 440 });
  osc.connect(new GainNode(ctx, { gain: 0.3 })).connect(mic);
  osc.start();
  const linkA = await connectDataChannel(dcA, { mic });
  const linkB = await connectDataChannel(chB, { player });
  await audioSleep(ctx, seconds);
  const r = await rec.stop();
  await player.sync();
  const res = {
    ordered: dcA.ordered, maxRetransmits: dcA.maxRetransmits, sent: linkA.counts.messagesOut,
    received: linkB.counts.messagesIn, stats: player.stats, rate: ctx.sampleRate, output: b64(r.data),
  };
  linkA.close(); linkB.close(); a.close(); b.close();
  await ctx.close();
  return res;
}

/**
 * Stream mode in an OfflineAudioContext: one 10 ms μ-law chunk handed over
 * at 100 ms; returns when playback started ('started' event) with
 * `stream` options as given (undefined fields left out).
 */
export async function streamStart({ stream }) {
  const rate = 48000;
  const ctx = new OfflineAudioContext(1, rate / 2, rate);
  const vox = await register(ctx);
  const player = vox.createPlayer({ mode: 'stream', stream });
  player.connect(ctx.destination);
  const started = [];
  player.addEventListener('started', (e) => started.push(e.detail.timeMs));
  await player.ready;
  player.push(new Uint8Array(80).fill(0x95), { at: 100 });
  await player.sync();
  await ctx.startRendering();
  await player.sync();
  return { started, stats: player.stats };
}

/** The player's start-up with `options`: resolves with its 'ready' or the error it rejected with. */
export async function playerStartup(options) {
  const ctx = new OfflineAudioContext(1, 4800, 48000);
  const vox = await register(ctx);
  const player = vox.createPlayer(options);
  try {
    await player.ready;
    return { ok: true };
  } catch (e) {
    return { ok: false, message: String(e.message || e) };
  }
}

/**
 * close() with a mark(), a sync() and (on a second node) `ready` pending:
 * how each settled (within 2 s), and what mark() / sync() / push() do
 * after close().
 */
export async function closeSettles() {
  const ctx = new OfflineAudioContext(1, 48000, 48000); // never rendered: no mark can be reached
  const vox = await register(ctx);
  const settle = (p) => Promise.race([
    p.then((v) => ({ state: 'resolved', value: v }), (e) => ({ state: 'rejected', name: e.name, message: e.message })),
    new Promise((r) => setTimeout(() => r({ state: 'pending' }), 2000)),
  ]);
  const player = vox.createPlayer({ mode: 'stream' });
  await player.ready;
  player.push(new Uint8Array(8000).fill(0x95)); // 1 s
  const mark = player.mark('m1');
  const sync = player.sync();
  player.close();
  const early = vox.createPlayer({ mode: 'stream' });
  const ready = early.ready;
  early.close();
  const mic = vox.createMic({ codec: 'PCMU/8000' });
  const micReady = mic.ready;
  mic.close();
  return {
    mark: await settle(mark),
    sync: await settle(sync),
    ready: await settle(ready),
    micReady: await settle(micReady),
    markAfter: await settle(player.mark('m2')),
    syncAfter: await settle(player.sync()),
    pushAfter: player.push(new Uint8Array(80)),
  };
}

/**
 * A tone into a MicNode for `ms` in a real-time context, the packets
 * counted through the `onpacket` option; also whether the misspelt
 * `onPacket` option is refused.
 */
export async function micOptions({ options = {}, ms = 700 }) {
  let refused = null;
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const vox = await register(ctx);
  try {
    vox.createMic({ onPacket: () => {} });
  } catch (e) {
    refused = `${e.name}: ${e.message}`;
  }
  const kinds = { rtp: 0, rtcp: 0 };
  const mic = vox.createMic({ ...options, onpacket: (bytes, kind) => { kinds[kind]++; } });
  const osc = new OscillatorNode(ctx, { frequency: 440 });
  osc.connect(mic);
  osc.start();
  await mic.ready;
  await audioSleep(ctx, ms / 1000);
  const res = { refused, kinds, payloadType: mic.payloadType, codec: mic.codec, stats: mic.stats };
  mic.close();
  await ctx.close();
  return res;
}

/**
 * A playing real-time player closed while packets keep coming (as a
 * WebSocket's last messages do): packets pushed just before close(), in
 * the same task and after it. Returns what push() returned after close
 * and every 'warn' / 'error' event seen until 300 ms later.
 */
export async function pushAroundClose() {
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const vox = await register(ctx);
  const player = vox.createPlayer();
  player.connect(ctx.destination);
  await player.ready;
  const events = [];
  for (const t of ['warn', 'error']) player.addEventListener(t, (e) => events.push({ type: t, ...e.detail }));
  const payload = new Uint8Array(160).fill(0xff);
  let seq = 0;
  const next = () => rtp(0, seq, seq++ * 160, 0x1234, payload);
  for (let k = 0; k < 10; k++) { player.push(next()); await sleep(20); }
  player.push(next());
  player.close();
  const after = [player.push(next())];
  await sleep(50);
  after.push(player.push(next()));
  await sleep(250);
  await ctx.close();
  return { transport: player.transport, after, events };
}

/**
 * The pcmu fixture played in real time by a player with output 'aec',
 * recorded twice on the context's clock: straight from the player, and
 * from the echo-cancelled route's received stream (what its <audio>
 * element plays). Returns both recordings (with their first frames, to
 * align them), the loopback's inbound-rtp statistics and the route used.
 */
export async function aecRoute({ seconds = 5 } = {}) {
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const vox = await register(ctx);
  const player = vox.createPlayer({ output: 'aec' });
  const warns = [];
  player.addEventListener('warn', (e) => warns.push(e.detail.message));
  const route = await player.outputReady;
  const direct = await recorder(ctx, seconds + 1);
  player.connect(direct);
  const looped = await recorder(ctx, seconds + 1);
  if (player.output) ctx.createMediaStreamSource(player.output.stream).connect(looped);
  await player.ready;
  const { schedule } = await fixtureSchedule({ name: 'pcmu' });
  const audioStart = ctx.currentTime;
  await deliver(player, schedule);
  await audioSleep(ctx, seconds - (ctx.currentTime - audioStart));
  const d = await direct.stop();
  const l = await looped.stop();
  const inbound = player.output ? await player.output.stats() : null;
  const element = player.output ? { paused: player.output.element.paused, sinkId: player.output.element.sinkId ?? null, setSinkId: typeof player.output.element.setSinkId === 'function' } : null;
  player.close();
  player.output?.close();
  await ctx.close();
  return {
    route, warns, element, rate: ctx.sampleRate,
    inbound: inbound && {
      packetsReceived: inbound.packetsReceived, totalSamplesReceived: inbound.totalSamplesReceived,
      jitterBufferDelay: inbound.jitterBufferDelay, jitterBufferEmittedCount: inbound.jitterBufferEmittedCount,
      concealedSamples: inbound.concealedSamples, codec: inbound.codecId,
    },
    direct: { start: d.start, data: b64(d.data) },
    looped: { start: l.start, data: b64(l.data) },
  };
}

/**
 * The Opus fixture with every `lossEvery`-th packet dropped, rendered
 * offline at 48 kHz by a player of the full build (`build: 'full'`) or of
 * the neural build (registerNeural()) with `opus: { neural }`.
 */
export async function neuralOffline({ build = 'neural', neural = false, lossEvery = 0, leadMs = 60 }) {
  const pkts = (await fixture('opus')).filter((_, k) => !lossEvery || k % lossEvery !== lossEvery - 1);
  const t0 = pkts[0].offsetMs;
  const durMs = pkts[pkts.length - 1].offsetMs - t0 + leadMs + 300;
  const ctx = new OfflineAudioContext(1, Math.ceil((durMs / 1000) * 48000), 48000);
  let vox;
  if (build === 'neural') {
    const { registerNeural } = await import('/pkg/src/neural.js');
    vox = await registerNeural(ctx);
  } else {
    vox = await register(ctx);
  }
  const jitter = { minDelayMs: leadMs, maxDelayMs: leadMs, initialDelayMs: leadMs };
  const player = vox.createPlayer({ payloadTypes: { 111: 'opus/48000/2' }, jitter, opus: { neural } });
  player.connect(ctx.destination);
  await player.ready;
  for (const p of pkts) player.push(p.bytes, { at: p.offsetMs - t0 + leadMs });
  await player.sync();
  const t = performance.now();
  const buf = await ctx.startRendering();
  const wall = performance.now() - t;
  await player.sync();
  const mediaEnd = Math.round(((pkts[pkts.length - 1].offsetMs - t0 + leadMs + 20) / 1000) * 48000);
  return { build: vox.build, stats: player.stats, renderMs: wall, quanta: buf.length / 128, mediaEnd, output: b64(buf.getChannelData(0)) };
}

/** createPlayer({ opus: { neural: true } }) on a context of the full build: the error's message. */
export async function neuralNeedsBuild() {
  const ctx = new OfflineAudioContext(1, 4800, 48000);
  const vox = await register(ctx);
  try {
    vox.createPlayer({ payloadTypes: { 111: 'opus/48000/2' }, opus: { neural: true } });
    return { threw: false };
  } catch (e) {
    return { threw: true, message: String(e.message) };
  }
}

/**
 * Neural Opus end to end in the worklets (neural build): the speech
 * fixture into a MicNode (`dredMs` of Deep REDundancy, 48 kbit/s)
 * rendered offline, its packets collected; then the packets, less
 * `burst` in a row out of every `every`, played offline at their capture
 * times (+ 80 ms) by a player with `opus: { neural }`. Returns the
 * player's stats, the packets sent and lost and the mic's bytes.
 */
export async function dredLoop({ dredMs = 0, neural = true, every = 20, burst = 3, seconds = 4 }) {
  const { registerNeural } = await import('/pkg/src/neural.js');
  const raw = new Int16Array(await (await fetch('/tests/fixtures/speech_48k.s16le')).arrayBuffer());
  const n = Math.min(raw.length, seconds * 48000);
  const tx = new OfflineAudioContext(1, n, 48000);
  const voxTx = await registerNeural(tx);
  const packets = [];
  let bytes = 0;
  const mic = voxTx.createMic({
    codec: 'opus/48000/2', payloadType: 111, bitrate: 48000, dredMs,
    onpacket: (b, kind) => { if (kind === 'rtp') { packets.push(b.slice()); bytes += b.length; } },
  });
  const buf = tx.createBuffer(1, n, 48000);
  const ch = buf.getChannelData(0);
  for (let i = 0; i < n; i++) ch[i] = raw[i] / 32768;
  const src = new AudioBufferSourceNode(tx, { buffer: buf });
  src.connect(mic);
  src.start();
  await mic.ready;
  await tx.startRendering();
  // The last packets are still on their way from the worklet.
  for (let seen = -1; seen !== packets.length; ) { seen = packets.length; await sleep(200); }
  mic.close();

  const leadMs = 80;
  const rx = new OfflineAudioContext(1, n + 48000 * 0.3, 48000);
  const vox = await registerNeural(rx);
  const jitter = { minDelayMs: leadMs, maxDelayMs: leadMs, initialDelayMs: leadMs };
  const player = vox.createPlayer({ payloadTypes: { 111: 'opus/48000/2' }, jitter, opus: { neural } });
  player.connect(rx.destination);
  await player.ready;
  const ts0 = new DataView(packets[0].buffer).getUint32(4);
  let lost = 0;
  packets.forEach((p, k) => {
    // Never the first or the last packet: a loss needs packets around it.
    if (k > 0 && k < packets.length - 1 && k % every >= every - burst) { lost++; return; }
    const ts = new DataView(p.buffer).getUint32(4);
    player.push(p, { at: (ts - ts0) / 48 + leadMs });
  });
  await player.sync();
  await rx.startRendering();
  await player.sync();
  return { sent: packets.length, lost, bytes, stats: player.stats };
}
