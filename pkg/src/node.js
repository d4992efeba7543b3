// voxlet in Node (no AudioWorklet): the wasm module is instantiated
// synchronously at import, and the same classes the worklet uses are
// available for server-side encode / decode, jitter buffering, stream
// playout and wire formats.
//
//   import { CodecDecoder, CodecEncoder, Receiver, Wire } from 'voxlet';
//   const rx = new Receiver({ outputRate: 16000, payloadTypes: { 111: 'opus/48000/2' } });
//   const dec = new CodecDecoder('PCMU/8000');
//   const pcm = dec.decode(payload); // Float32Array at dec.sampleRate
//
// The real-time classes (Receiver, Sender, StreamPlayer) hand audio through
// wasm memory (see the README): use the helpers below, or `memory()` with
// their *Ptr() methods.
import { readFileSync } from 'node:fs';
import * as glue from '../wasm/voxlet.js';
import { createWire, FORMATS } from './wire.js';

const exportsObj = glue.initSync({ module: readFileSync(new URL('../wasm/voxlet_bg.wasm', import.meta.url)) });

export const {
  CodecDecoder, CodecEncoder, Receiver, Sender, StreamPlayer, Wire, WireItem, EventKind, EventSlot, version,
} = glue;
export { FORMATS };

/** The wasm memory (for views on the real-time classes' buffers). */
export function memory() {
  return exportsObj.memory;
}

/** A wire-format adapter ('rtp', 'twilio', 'asterisk', 'l16-meta'), as in the browser. */
export function wire(format = 'rtp', options = {}) {
  return createWire(format, options, glue);
}

/** Copies `bytes` into a real-time object's staging buffer and pushes them (Receiver / StreamPlayer). */
export function push(obj, bytes, timeMs = 0) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const ptr = obj.inputPtr(u8.length);
  new Uint8Array(exportsObj.memory.buffer, ptr, u8.length).set(u8);
  return obj.push(u8.length, timeMs);
}

/** Renders `frames` frames from a Receiver / StreamPlayer: an array of Float32Array copies, one per channel. */
export function render(obj, frames, channels, nowMs) {
  const ptr = obj.render(frames, nowMs);
  const all = new Float32Array(exportsObj.memory.buffer, ptr, frames * channels);
  return Array.from({ length: channels }, (_, c) => all.slice(c * frames, (c + 1) * frames));
}

/** Pushes planar audio (one Float32Array per channel) into a Sender and returns the packets now due. */
export function encode(sender, channels, nowMs) {
  const frames = channels[0].length;
  const ptr = sender.inputPtr(frames);
  const mem = new Float32Array(exportsObj.memory.buffer, ptr, frames * channels.length);
  channels.forEach((ch, c) => mem.set(ch, c * frames));
  sender.pushAudio(frames, nowMs);
  const out = [];
  let n;
  while ((n = sender.pollPacket(nowMs)) > 0) {
    out.push(new Uint8Array(exportsObj.memory.buffer, sender.packetPtr(), n).slice());
  }
  return out;
}

/** Reads the statistics of a real-time object as a plain object. */
export function stats(obj) {
  obj.writeStats();
  const names = obj.constructor.statsNames();
  const v = new Float64Array(exportsObj.memory.buffer, obj.statsPtr(), names.length);
  return Object.fromEntries(names.map((n, i) => [n, v[i]]));
}
