// Type declarations for voxlet's browser entry (src/index.js).

import type { Wire as WasmWire } from '../wasm/voxlet.js';

// Options: a field left out (or undefined) keeps the wasm core's default;
// any value given, 0 included, is used (and validated by the core).

export type WireFormat = 'rtp' | 'twilio' | 'asterisk' | 'l16-meta';
export const FORMATS: WireFormat[];

export interface RegisterOptions {
  /** Where the worklet bundle is (default: next to this file, found by bundlers). */
  workletUrl?: string | URL;
  /** Where voxlet_bg.wasm is (default: next to this file; `build` chooses which). */
  wasmUrl?: string | URL;
  /**
   * 'player': fetch the player-only wasm (Receiver, StreamPlayer and the
   * decoders: about half the size); createMic(), openMic() and wire formats
   * other than 'rtp' then throw. 'neural': the neural Opus build, which
   * registerNeural() from 'voxlet/neural' registers (it knows where the
   * file is). Default 'full'.
   */
  build?: 'full' | 'player' | 'neural';
  /** An already compiled module (skips fetching and compiling). */
  module?: WebAssembly.Module;
  /** false: never use SharedArrayBuffer rings, even when cross-origin isolated. */
  sharedRings?: boolean;
}

/**
 * Sets voxlet up on a context: compiles the wasm (once per page), adds the
 * worklet module (once per context). The same promise for the same context.
 */
export function register(context: BaseAudioContext, options?: RegisterOptions): Promise<Voxlet>;
/** Compiles voxlet's wasm once per URL. */
export function compileWasm(url?: string | URL): Promise<WebAssembly.Module>;
/** Whether this page can use SharedArrayBuffer rings (cross-origin isolated). */
export function canUseSharedRings(): boolean;

/**
 * Delays count a packet's audio from its first sample: with 20 ms packets,
 * a 50 ms delay makes a packet that crossed the network at its fastest wait
 * 30 ms after arriving. One delay then suits any packet duration.
 */
export interface JitterOptions {
  /** Lowest target delay, ms (default 20). */
  minDelayMs?: number;
  /** Highest target delay, ms (default 500). */
  maxDelayMs?: number;
  /** Target delay before jitter is measured, ms (default 50); also the floor of the adaptive target. */
  initialDelayMs?: number;
  /** Concealment before going silent and re-buffering, ms (default 100). */
  maxConcealMs?: number;
}

export interface StreamOptions {
  /**
   * Chunk format: 'pcmu', 'pcma', 'g722', 'opus/48000/1' (one packet per
   * chunk), 'l16/16000/1' (little-endian), 'l16be/8000/1'. Default 'pcmu'.
   */
  format?: string;
  /** Most audio queued, ms (default 60000). */
  maxQueueMs?: number;
  /** Playback (re)starts once this much is queued, ms (default 20; 0: on the first chunk). */
  startThresholdMs?: number;
  /** …or once audio has waited this long below the threshold, ms (default 60). */
  startTimeoutMs?: number;
  /** A full queue drops its oldest audio instead of refusing the chunk. */
  dropOldest?: boolean;
}

/** The tools of neural Opus decoding (neural build), each off unless given. */
export interface NeuralOptions {
  /** Deep packet-loss concealment instead of the classic PLC. */
  deepPlc?: boolean;
  /** Recover lost audio from Deep REDundancy sent in later packets (senders with dredMs). */
  dred?: boolean;
  /** Speech enhancement of decoded speech: 'lace' (lighter), 'nolace' (stronger), 'off'. */
  osce?: 'off' | 'lace' | 'nolace';
  /**
   * After an outage long enough to stop playout, replay the part of it the
   * first packet after it carries as DRED (up to 1 s) instead of skipping
   * it: no words lost, that much extra delay until time-compression has
   * removed it. Off with `neural: true`: PESQ scores the delay jumps below
   * skipping, so it suits one-way listening (voice agents, recordings).
   */
  dredRewind?: boolean;
}

export interface OpusPlayerOptions {
  /**
   * Machine-learned Opus decoding: true = deep PLC + DRED + OSCE 'lace' (no rewind), or
   * each tool by name. Needs the neural build (registerNeural() from
   * 'voxlet/neural'); createPlayer() throws otherwise. Default false.
   */
  neural?: boolean | NeuralOptions;
}

export interface PlayerOptions {
  /** 'rtp' (default): RTP packets through the jitter buffer; 'stream': untimestamped chunks. */
  mode?: 'rtp' | 'stream';
  /** Output channels, 1 (default) or 2. */
  channels?: 1 | 2;
  /**
   * Dynamic payload types, e.g. { 111: 'opus/48000/2', 101: 'telephone-event/8000' }
   * (default { 101: 'telephone-event/8000' }); 0 PCMU, 8 PCMA, 9 G722, 10/11 L16 are static.
   */
  payloadTypes?: Record<number, string>;
  jitter?: JitterOptions;
  /** Opus decoding (rtp mode). */
  opus?: OpusPlayerOptions;
  stream?: StreamOptions;
  /** How often stats and events are posted, ms (default 100). */
  statsIntervalMs?: number;
  /** SharedArrayBuffer ring size in bytes (default 256 KiB). */
  ringBytes?: number;
  /**
   * Connect the player yourself (left out), to the context's destination
   * ('speakers'), or through the echo-cancelled route ('aec': a local
   * WebRTC loopback into an <audio> element, so the browser's echo
   * canceller sees the audio; see AecOutput).
   */
  output?: 'aec' | 'speakers';
  /** Output device of the 'aec' route (HTMLMediaElement.setSinkId). */
  sinkId?: string;
}

/** AecOutput.create() / Voxlet.aecOutput() options. */
export interface AecOutputOptions {
  /** Output device (HTMLMediaElement.setSinkId, where the engine has it). */
  sinkId?: string;
  /** The <audio> element to play into (default: a new, detached one). */
  element?: HTMLAudioElement;
  /** Opus bitrate on the loopback, bit/s (default 128000). */
  bitrate?: number;
  /** Channels sent over the loopback, 1 or 2 (default 2). */
  channels?: 1 | 2;
}

/**
 * The echo-cancelled output route: audio connected to `input` goes through
 * a local RTCPeerConnection loopback into an <audio> element, which the
 * browser's echo canceller takes as far-end audio (Chrome does not cancel
 * audio played through Web Audio). Adds the loopback's Opus coding and
 * jitter buffer to the latency; see pkg/README.md.
 */
export class AecOutput {
  static create(context: BaseAudioContext, options?: AecOutputOptions): Promise<AecOutput>;
  readonly context: BaseAudioContext;
  /** The node to connect audio into. */
  readonly input: MediaStreamAudioDestinationNode;
  /** The <audio> element that plays the route. */
  readonly element: HTMLAudioElement;
  /** The loopback's received stream (what the element plays). */
  readonly stream: MediaStream;
  readonly closed: boolean;
  /** Chooses the output device; rejects NotSupportedError where the engine lacks setSinkId. */
  setSinkId(id: string): Promise<void>;
  /** The loopback receiver's 'inbound-rtp' statistics, or null before any. */
  stats(): Promise<RTCInboundRtpStreamStats | null>;
  /** Stops the element and both peers. */
  close(): void;
}

/** The packet handler of a MicNode (option and property `onpacket`). */
export type PacketHandler = (bytes: Uint8Array, kind: 'rtp' | 'rtcp') => void;

/**
 * MicNode options: the wasm Sender's (see SenderOptions in wasm/voxlet.d.ts)
 * less the input, which is the node's, plus the node's own. Data options
 * are camelCase; the handler is `onpacket`, the node property's name (DOM
 * style: on + lower-case event name).
 */
export interface MicOptions {
  /** rtpmap of the codec: 'PCMU/8000' (default), 'PCMA/8000', 'G722/8000', 'L16/16000/1', 'opus/48000/2'. */
  codec?: string;
  /** RTP payload type (default: the codec's static one, else 111). */
  payloadType?: number;
  /** Channels taken from the input (mixed down by the node) and, for Opus, encoded: 1 (default) or 2. */
  channels?: 1 | 2;
  /** Packet duration, ms (default 20). */
  ptimeMs?: number;
  /** telephone-event payload type (default 101; null disables DTMF). */
  dtmfPayloadType?: number | null;
  /** Clock of telephone-event, Hz (default: the codec's clock rate). */
  dtmfClockRate?: number;
  /** Opus bitrate, bit/s (default 32000). */
  bitrate?: number;
  /** Opus in-band FEC (default false); spent only with packetLossPercent > 0. */
  fec?: boolean;
  /** Expected packet loss, % (default 0): how much Opus FEC is spent. */
  packetLossPercent?: number;
  /** Opus DTX (default false). */
  dtx?: boolean;
  /**
   * Opus Deep REDundancy: ms of past audio each packet carries (multiples
   * of 10, at most 1000; default 0 = off), for receivers with DRED to
   * recover bursts of loss. Takes bitrate from the primary encoding; with
   * fec on at low bitrates libopus sends none. libopus sizes it by the
   * expected loss and sends none at 0 %: with packetLossPercent 0 the
   * encoder assumes 10 %. Needs the neural build.
   */
  dredMs?: number;
  /** RTCP sender report interval, ms (default 5000; 0: no RTCP). */
  rtcpIntervalMs?: number;
  /** SSRC (default: random). */
  ssrc?: number;
  /** How often stats are posted, ms (default 250). */
  statsIntervalMs?: number;
  /** SharedArrayBuffer ring size in bytes (default 64 KiB). */
  ringBytes?: number;
  /** Called with every packet (the same as setting the node's `onpacket`). */
  onpacket?: PacketHandler | null;
}

/** Receiver statistics (WebRTC inbound-rtp names where one exists), or stream-mode statistics. */
export type PlayerStats = Record<string, number>;

/** 'dtmf' event detail: begin (with the volume) and end (with the duration) of an RFC 4733 event. */
export type DtmfDetail = {
  /** The key ('0'–'9', '*', '#', 'A'–'D'), '' for other event codes. */
  digit: string;
  /** RFC 4733 event code. */
  code: number;
  /** Arrival time of the packet that began or ended it, context ms. */
  timeMs: number;
} & (
  | { phase: 'begin'; /** −dBm0 (0..63). */ volume: number }
  | { phase: 'end'; durationMs: number; /** Ended by timeout, no end packet seen. */ timedOut: boolean }
);

/** 'mark' event detail and what PlayerNode.mark() resolves with. */
export interface MarkDetail {
  name: string;
  /** Dropped by clear() (or refused) instead of played. */
  cleared?: boolean;
  /** When the audio before it finished playing, context ms (played marks). */
  timeMs?: number;
  /** Why the mark was refused (cleared: true). */
  error?: string;
}

export interface PlayerEventMap extends AudioWorkletNodeEventMap {
  ready: CustomEvent<{ transport: 'sab' | 'port'; /** Names of the statistics. */ stats: string[] }>;
  stats: CustomEvent<PlayerStats>;
  dtmf: CustomEvent<DtmfDetail>;
  mark: CustomEvent<MarkDetail>;
  drained: CustomEvent<{ timeMs: number }>;
  underrun: CustomEvent<{ count: number; timeMs: number }>;
  started: CustomEvent<{ timeMs: number }>;
  ssrc: CustomEvent<{ old: number; ssrc: number }>;
  payloadtype: CustomEvent<{ old: number; payloadType: number }>;
  /** A control message the processor refused (e.g. an unknown stream format); playback goes on. */
  warn: CustomEvent<{ message: string }>;
  /** The processor failed and stopped. */
  error: CustomEvent<{ message: string }>;
}

export class Voxlet {
  readonly context: BaseAudioContext;
  readonly module: WebAssembly.Module;
  readonly sharedRings: boolean;
  /** 'player' when registered with { build: 'player' } (no mic, no wire adapters but 'rtp'), 'neural' by registerNeural(), else 'full'. */
  readonly build: 'full' | 'player' | 'neural';
  /** 'sab' when packets go through SharedArrayBuffer rings, else 'port'. */
  readonly transport: 'sab' | 'port';
  createPlayer(options?: PlayerOptions): PlayerNode;
  /** The context's echo-cancelled output route (one per context, made on first use). */
  aecOutput(options?: AecOutputOptions): Promise<AecOutput>;
  createMic(options?: MicOptions): MicNode;
  /** getUserMedia (voice processing on by default) connected into a new MicNode. */
  openMic(options?: MicOptions, constraints?: MediaTrackConstraints): Promise<{
    node: MicNode; stream: MediaStream; source: MediaStreamAudioSourceNode;
  }>;
  /** The wasm-bindgen module instantiated on the main thread. */
  wasm(): Promise<typeof import('../wasm/voxlet.js')>;
  wire(format?: WireFormat, options?: WireOptions): Promise<WireAdapter>;
}

export class PlayerNode extends AudioWorkletNode {
  readonly vox: Voxlet;
  readonly mode: 'rtp' | 'stream';
  readonly transport: 'sab' | 'port';
  streamFormat: string;
  /** Latest statistics (updated every statsIntervalMs). */
  stats: PlayerStats | null;
  /** Packets dropped because the SharedArrayBuffer ring was full. */
  dropped: number;
  /** Resolves once the processor runs (rejects if it failed to start, AbortError if closed first). */
  readonly ready: Promise<PlayerNode>;
  /** The AecOutput this player plays through (option output: 'aec'), else null. */
  readonly output: AecOutput | null;
  /**
   * The route in use once connected: 'aec', 'speakers' (also when 'aec'
   * could not be set up: a 'warn' event says why), or null (no `output`
   * option: connect it yourself).
   */
  readonly outputReady: Promise<'aec' | 'speakers' | null>;
  /** close() was called. */
  readonly closed: boolean;
  /**
   * One RTP packet ('rtp' mode) or audio chunk ('stream' mode). `at`:
   * context time in ms at which the worklet takes it (replays, tests);
   * `transfer`: an ArrayBuffer may be detached rather than copied.
   */
  push(data: ArrayBuffer | ArrayBufferView, options?: { at?: number; transfer?: boolean }): boolean;
  /** Stream mode: drop everything queued (barge-in); rtp mode: flush the jitter buffer. */
  clear(): void;
  /**
   * Stream mode: resolves when the audio pushed so far has played (or was
   * cleared: `cleared`); rejects with an AbortError DOMException if the
   * node is closed first (or already).
   */
  mark(name?: string): Promise<MarkDetail>;
  /** Stream mode: the format of the chunks that follow. */
  setFormat(format: string): void;
  /** Resolves once the worklet has handled every message sent before; rejects (AbortError) if the node is closed first. */
  sync(): Promise<void>;
  /** Stops the processor, frees its wasm memory; pending mark(), sync() and ready reject with an AbortError DOMException. */
  close(): void;
  addEventListener<K extends keyof PlayerEventMap>(type: K, listener: (this: PlayerNode, ev: PlayerEventMap[K]) => any, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

export interface MicEventMap extends AudioWorkletNodeEventMap {
  ready: CustomEvent<{ transport: 'sab' | 'port'; ssrc: number; payloadType: number; codec: string; stats: string[] }>;
  stats: CustomEvent<Record<string, number>>;
  error: CustomEvent<{ message: string }>;
  warn: CustomEvent<{ message: string }>;
}

export class MicNode extends AudioWorkletNode {
  readonly vox: Voxlet;
  /** The codec's rtpmap (as given until `ready`, then with the default filled in). */
  readonly codec: string | undefined;
  /** The audio payload type (as given until `ready`, then with the default filled in). */
  readonly payloadType: number | undefined;
  readonly transport: 'sab' | 'port';
  ssrc: number | undefined;
  stats: Record<string, number> | null;
  /** Resolves once the processor runs (rejects if it failed to start, AbortError if closed first). */
  readonly ready: Promise<MicNode>;
  readonly closed: boolean;
  /** Called with every packet the worklet produced. */
  onpacket: PacketHandler | null;
  /** RFC 4733 telephone-events in place of audio. */
  sendDtmf(digits: string, durationMs?: number, volume?: number): void;
  /** Silence instead of the input (timing kept). */
  muted: boolean;
  /** Stops the processor and frees its wasm memory (a pending `ready` rejects with an AbortError). */
  close(): void;
  addEventListener<K extends keyof MicEventMap>(type: K, listener: (this: MicNode, ev: MicEventMap[K]) => any, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

export interface WireOptions {
  /** Asterisk: the channel format when known up front ('ulaw', 'slin16'…); else MEDIA_START says. */
  asteriskFormat?: string;
  /** l16-meta: the rate when the metadata names none. */
  defaultRate?: number;
}

export interface WireItem {
  kind: 'rtp' | 'rtcp' | 'audio' | 'start' | 'mark' | 'clear' | 'dtmf' | 'stop' | 'event' | 'text' | 'error';
  bytes?: ArrayBuffer | Uint8Array;
  text: string;
  format: string;
  json: string;
}

export interface WireAdapter {
  readonly format: WireFormat;
  readonly playerMode: 'rtp' | 'stream';
  readonly textMedia: boolean;
  receive(data: string | ArrayBuffer | Uint8Array): WireItem[];
  media(rtp: Uint8Array, payloadType: number): string | Uint8Array | undefined;
  markMessage?(name: string): string;
  clearMessage?(): string;
  dtmfMessage?(digit: string): string | undefined;
  command?(name: string, arg?: string): string;
  free(): void;
}

export function createWire(format?: WireFormat, options?: WireOptions, glue?: { Wire: typeof WasmWire } | null): WireAdapter;

export interface LinkOptions extends WireOptions {
  player?: PlayerNode | null;
  mic?: MicNode | null;
  /** Default 'rtp'. The player's mode must match ('rtp' for rtp, 'stream' otherwise). */
  format?: WireFormat;
  /** rtp: send the mic's RTCP sender reports on the same channel (default true). */
  rtcp?: boolean;
  /** Twilio: act as the Twilio side and announce the stream (connected + start). */
  twilio?: { startStream?: boolean; streamSid?: string; callSid?: string; accountSid?: string; customParameters?: Record<string, string> };
}

export interface LinkEventMap {
  start: CustomEvent<{ format: string; info: Record<string, unknown>; raw: string; name: string }>;
  stop: CustomEvent<{}>;
  dtmf: CustomEvent<{ digit: string }>;
  mark: CustomEvent<{ name: string; ack?: boolean; played?: boolean; cleared?: boolean }>;
  clear: CustomEvent<{}>;
  event: CustomEvent<{ name: string; info: Record<string, unknown> }>;
  text: CustomEvent<{ text: string }>;
  rtcp: CustomEvent<{ bytes: ArrayBuffer | Uint8Array }>;
  wireerror: CustomEvent<{ message: string }>;
  close: CustomEvent<{}>;
}

export class Link extends EventTarget {
  readonly player: PlayerNode | null;
  readonly mic: MicNode | null;
  readonly format: WireFormat;
  readonly closed: boolean;
  readonly counts: { messagesIn: number; messagesOut: number; audioIn: number; errors: number };
  /** An inbound message. */
  receive(data: string | ArrayBuffer | ArrayBufferView): void;
  /** The transport is open (connectCallback users call it). */
  open(): void;
  send(data: string | Uint8Array): void;
  /** Ask the peer to report when our audio so far has played. */
  mark(name: string): void;
  /** Ask the peer to drop our queued audio (Twilio clear, Asterisk FLUSH_MEDIA). */
  clear(): void;
  sendDtmf(digits: string, durationMs?: number): void;
  /** Asterisk: 'ANSWER', 'HANGUP', 'FLUSH_MEDIA', 'MARK_MEDIA', 'GET_STATUS', … */
  command(name: string, arg?: string): void;
  close(): void;
  addEventListener<K extends keyof LinkEventMap>(type: K, listener: (ev: LinkEventMap[K]) => any, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

/** A WebSocket carrying the format (binaryType is set to 'arraybuffer'). */
export function connectWebSocket(ws: WebSocket, options?: LinkOptions): Promise<Link>;
/** An RTCDataChannel; create it with { ordered: false, maxRetransmits: 0 } for voice. */
export function connectDataChannel(dc: RTCDataChannel, options?: LinkOptions): Promise<Link>;
/** Any transport: `send` gets each outbound message; call `link.receive()` with each inbound one. */
export function connectCallback(options: LinkOptions & { send: (data: string | Uint8Array) => void }): Promise<Link>;

/** The SharedArrayBuffer ring (exported for custom transports). */
/** Ring record tags: player rings (audio and in-order controls), mic rings (packet kind). */
export const PLAYER_TAG: { readonly DATA: 0; readonly CLEAR: 1; readonly MARK: 2; readonly FORMAT: 3 };
export const MIC_TAG: { readonly RTP: 0; readonly RTCP: 1 };

export class Ring {
  static create(capacity?: number): SharedArrayBuffer;
  constructor(sab: SharedArrayBuffer);
  push(bytes: Uint8Array, tag?: number, time?: number, len?: number, offset?: number): boolean;
  next(): number;
  read(dest: Uint8Array, offset?: number): void;
  skip(): void;
  readonly dropped: number;
  len: number;
  tag: number;
  time: number;
}
