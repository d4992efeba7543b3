// Type declarations for voxlet's Node entry (src/node.js).

export {
  CodecDecoder, CodecEncoder, Receiver, Sender, StreamPlayer, Wire, WireItem, EventKind, EventSlot, version,
} from '../wasm/voxlet.js';
export type { ReceiverOptions, SenderOptions, StreamPlayerOptions } from '../wasm/voxlet.js';
export type { WireFormat, WireOptions, WireAdapter, WireItem as WireItemObject } from './index.js';
import type { WireFormat, WireOptions, WireAdapter } from './index.js';
import type { Receiver, Sender, StreamPlayer } from '../wasm/voxlet.js';

export const FORMATS: WireFormat[];
/** The wasm memory (views on the real-time classes' buffers). */
export function memory(): WebAssembly.Memory;
/** A wire-format adapter, as in the browser. */
export function wire(format?: WireFormat, options?: WireOptions): WireAdapter;
/** Copies bytes into a Receiver / StreamPlayer staging buffer and pushes them. */
export function push(obj: Receiver | StreamPlayer, bytes: Uint8Array | ArrayBuffer, timeMs?: number): boolean | number;
/** Renders frames from a Receiver / StreamPlayer: one Float32Array copy per channel. */
export function render(obj: Receiver | StreamPlayer, frames: number, channels: number, nowMs: number): Float32Array[];
/** Pushes planar audio into a Sender; returns the packets now due. */
export function encode(sender: Sender, channels: Float32Array[], nowMs: number): Uint8Array[];
/** The statistics of a real-time object as a plain object. */
export function stats(obj: Receiver | Sender | StreamPlayer): Record<string, number>;
