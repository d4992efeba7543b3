// Type-checked use of the package's declarations (`bash scripts/check-types.sh`,
// tsc --noEmit): every option and every event of the browser entry, and the
// wasm classes' option objects through the Node entry. Not run; compiled.
import {
  register, compileWasm, canUseSharedRings, connectWebSocket, connectDataChannel, connectCallback,
  createWire, FORMATS, Ring, PLAYER_TAG, MIC_TAG, AecOutput,
  type AecOutputOptions, type PlayerOptions, type MicOptions, type JitterOptions, type StreamOptions, type RegisterOptions,
  type DtmfDetail, type MarkDetail, type PlayerNode, type MicNode, type Link, type WireFormat,
} from '../../pkg/src/index.js';
import { registerNeural, NEURAL_WASM_URL } from '../../pkg/src/neural.js';
import {
  Receiver, Sender, StreamPlayer, EventKind, EventSlot, CodecDecoder, CodecEncoder, stats, push, render, encode, memory, wire,
  type ReceiverOptions, type SenderOptions, type StreamPlayerOptions,
} from '../../pkg/src/node.js';

export async function browser(ctx: AudioContext, ws: WebSocket, dc: RTCDataChannel): Promise<void> {
  const reg: RegisterOptions = { workletUrl: '/w.js', wasmUrl: new URL('https://x/v.wasm'), module: await compileWasm(), sharedRings: canUseSharedRings() };
  const vox = await register(ctx, reg);
  const transport: 'sab' | 'port' = vox.transport;
  const playerOnly = await register(new OfflineAudioContext(1, 128, 48000), { build: 'player' });
  const build: 'full' | 'player' | 'neural' = playerOnly.build;
  const neural = await registerNeural(new OfflineAudioContext(1, 128, 48000), { wasmUrl: NEURAL_WASM_URL });
  neural.createPlayer({ payloadTypes: { 111: 'opus/48000/2' }, opus: { neural: true } });
  neural.createPlayer({ opus: { neural: { deepPlc: true, dred: true, osce: 'nolace', dredRewind: false } } });
  neural.createMic({ codec: 'opus/48000/2', bitrate: 48000, packetLossPercent: 10, dredMs: 500 });
  const nrx = new Receiver({ payloadTypes: { 111: 'opus/48000/2' }, neural: { deepPlc: true, osce: 'lace' } });
  nrx.free();

  const jitter: JitterOptions = { minDelayMs: 0, maxDelayMs: 500, initialDelayMs: 0, maxConcealMs: 100 };
  const stream: StreamOptions = { format: 'l16/16000/1', maxQueueMs: 60000, startThresholdMs: 0, startTimeoutMs: 60, dropOldest: true };
  const popts: PlayerOptions = {
    mode: 'stream', channels: 2, payloadTypes: { 111: 'opus/48000/2', 101: 'telephone-event/8000' }, jitter, stream,
    statsIntervalMs: 0, ringBytes: 1 << 16,
  };
  const player: PlayerNode = vox.createPlayer(popts);
  player.connect(ctx.destination);
  await player.ready;

  player.addEventListener('ready', (e) => { const names: string[] = e.detail.stats; const t: 'sab' | 'port' = e.detail.transport; void names; void t; });
  player.addEventListener('stats', (e) => { const n: number = e.detail.jitterBufferDelay; void n; });
  player.addEventListener('dtmf', (e) => {
    const d: DtmfDetail = e.detail;
    const key: string = d.digit, code: number = d.code, at: number = d.timeMs;
    if (d.phase === 'begin') { const v: number = d.volume; void v; } else { const ms: number = d.durationMs; const to: boolean = d.timedOut; void ms; void to; }
    void key; void code; void at;
  });
  player.addEventListener('mark', (e) => { const m: MarkDetail = e.detail; const n: string = m.name; void n; void m.cleared; void m.timeMs; void m.error; });
  player.addEventListener('drained', (e) => { const t: number = e.detail.timeMs; void t; });
  player.addEventListener('underrun', (e) => { const c: number = e.detail.count; const t: number = e.detail.timeMs; void c; void t; });
  player.addEventListener('started', (e) => { const t: number = e.detail.timeMs; void t; });
  player.addEventListener('ssrc', (e) => { const s: number = e.detail.ssrc; const o: number = e.detail.old; void s; void o; });
  player.addEventListener('payloadtype', (e) => { const pt: number = e.detail.payloadType; const o: number = e.detail.old; void pt; void o; });
  player.addEventListener('warn', (e) => { const m: string = e.detail.message; void m; });
  player.addEventListener('error', (e) => { const m: string = e.detail.message; void m; });

  const pushed: boolean = player.push(new Uint8Array(160), { at: 20, transfer: false });
  player.push(new ArrayBuffer(160));
  player.setFormat('pcmu');
  const played: MarkDetail = await player.mark('end');
  await player.mark();
  await player.sync();
  player.clear();
  const closed: boolean = player.closed;
  player.close();
  void pushed; void played; void closed; void player.stats; void player.dropped; void player.streamFormat; void player.mode;

  const aopts: AecOutputOptions = { sinkId: 'default', element: new Audio(), bitrate: 64000, channels: 1 };
  const route: AecOutput = await AecOutput.create(ctx, aopts);
  const shared: AecOutput = await vox.aecOutput({ sinkId: '' });
  const echoFree = vox.createPlayer({ output: 'aec', sinkId: 'default' });
  const used: 'aec' | 'speakers' | null = await echoFree.outputReady;
  const via: AecOutput | null = echoFree.output;
  const inbound: RTCInboundRtpStreamStats | null = await route.stats();
  await route.setSinkId('default');
  const el: HTMLAudioElement = route.element;
  const input: MediaStreamAudioDestinationNode = shared.input;
  const out: MediaStream = route.stream;
  route.close();
  vox.createPlayer({ output: 'speakers' });
  void used; void via; void inbound; void el; void input; void out; void route.closed;

  const onpacket = (bytes: Uint8Array, kind: 'rtp' | 'rtcp'): void => { void bytes; void kind; };
  const mopts: MicOptions = {
    codec: 'opus/48000/2', payloadType: 111, channels: 1, ptimeMs: 20, dtmfPayloadType: null, dtmfClockRate: 48000,
    bitrate: 24000, fec: true, packetLossPercent: 10, dtx: false, rtcpIntervalMs: 0, ssrc: 42, statsIntervalMs: 250,
    ringBytes: 1 << 16, onpacket,
  };
  const mic: MicNode = vox.createMic(mopts);
  const opened = await vox.openMic({ codec: 'PCMU/8000', dtmfPayloadType: 101 }, { echoCancellation: false });
  void opened.stream; void opened.source; opened.node.close();
  mic.addEventListener('ready', (e) => { const s: number = e.detail.ssrc; const pt: number = e.detail.payloadType; const c: string = e.detail.codec; void s; void pt; void c; void e.detail.stats; });
  mic.addEventListener('stats', (e) => { const n: number | undefined = e.detail.packetsSent; void n; });
  mic.addEventListener('warn', (e) => { const m: string = e.detail.message; void m; });
  mic.addEventListener('error', (e) => { const m: string = e.detail.message; void m; });
  await mic.ready;
  mic.onpacket = onpacket;
  mic.onpacket = null;
  mic.muted = true;
  mic.sendDtmf('123#', 100, 10);
  const pt: number | undefined = mic.payloadType;
  const codec: string | undefined = mic.codec;
  void pt; void codec; void mic.ssrc; void mic.stats; void mic.closed; void mic.transport;
  mic.close();

  const fmt: WireFormat = FORMATS[0];
  const link: Link = await connectWebSocket(ws, {
    player, mic, format: 'twilio', rtcp: true, asteriskFormat: 'ulaw', defaultRate: 8000,
    twilio: { startStream: true, streamSid: 'MZ', callSid: 'CA', accountSid: 'AC', customParameters: { a: 'b' } },
  });
  await connectDataChannel(dc, { player, mic });
  const cb = await connectCallback({ player, mic, format: fmt, send: (d: string | Uint8Array) => { void d; } });
  cb.open();
  cb.receive(new Uint8Array(12));
  for (const t of ['start', 'stop', 'dtmf', 'mark', 'clear', 'event', 'text', 'rtcp', 'wireerror', 'close'] as const) {
    link.addEventListener(t, (e) => { void e.detail; });
  }
  link.addEventListener('start', (e) => { const f: string = e.detail.format; void f; });
  link.addEventListener('mark', (e) => { void e.detail.ack; void e.detail.played; void e.detail.cleared; });
  link.mark('m'); link.clear(); link.sendDtmf('1', 100); link.command('ANSWER'); link.send('x'); link.close();
  void link.counts.messagesIn; void transport;

  const adapter = createWire('rtp');
  for (const it of adapter.receive(new Uint8Array(12))) void it.kind;
  adapter.free();
  const sab = Ring.create(1024);
  const ring = new Ring(sab);
  ring.push(new Uint8Array(4), PLAYER_TAG.MARK, NaN);
  ring.push(new Uint8Array(4), MIC_TAG.RTCP);
  void ring.dropped;
}

export function node(): void {
  const ro: ReceiverOptions = {
    outputRate: 16000, outputChannels: 1, payloadTypes: { 111: 'opus/48000/2' }, minDelayMs: 0, maxDelayMs: 200,
    initialDelayMs: 0, maxConcealMs: 100,
  };
  const rx = new Receiver(ro);
  const so: SenderOptions = {
    codec: 'PCMU/8000', payloadType: 0, inputRate: 16000, inputChannels: 1, ptimeMs: 20, dtmfPayloadType: 101,
    dtmfClockRate: 8000, bitrate: 32000, fec: false, packetLossPercent: 0, dtx: false, rtcpIntervalMs: 0, ssrc: 1,
    seed: [1, 2], pacing: 'paced',
  };
  const tx = new Sender(so);
  const sp: StreamPlayerOptions = { outputRate: 16000, outputChannels: 1, format: 'pcmu', maxQueueMs: 1000, startThresholdMs: 0, startTimeoutMs: 60, dropOldest: false };
  const player = new StreamPlayer(sp);
  for (const p of encode(tx, [new Float32Array(320)], 0)) push(rx, p, 0);
  const [mono] = render(rx, 320, 1, 0);
  const kind: EventKind = rx.pollEvent();
  if (kind === EventKind.DtmfBegin) void new Float64Array(memory().buffer, rx.eventPtr(), 8)[EventSlot.Digit];
  const s: Record<string, number> = stats(rx);
  const names: string[] = Receiver.statsNames();
  void mono; void s; void names; void tx.payloadType; void tx.codec; void player.queuedMs;
  void new CodecDecoder('PCMU/8000', undefined).sampleRate; void new CodecEncoder('G722/8000', 1, undefined, 20).channels;
  void wire('twilio').format;
}
