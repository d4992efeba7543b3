// Lock-free single-producer / single-consumer ring of variable-length byte
// records in a SharedArrayBuffer, for packets between the main thread and an
// AudioWorklet when the page is cross-origin isolated. Neither side blocks
// or allocates: the producer copies a record in and publishes it with one
// Atomics.store; the consumer copies it out into wasm memory and releases it
// with another. A full ring drops the record (counted) rather than wait.
//
// Layout of the SharedArrayBuffer:
//   bytes 0..16   Int32 header: [0] write counter, [1] read counter,
//                 [2] dropped records, [3] wake flag (consumer asleep = 1)
//   bytes 16..    data, `capacity` bytes (a power of two)
// Counters are byte positions that only grow (mod 2^32); the index in the
// data is `counter & (capacity - 1)`. A record is
//   u32 length | u32 tag | f64 time | payload, padded to 8 bytes,
// and never wraps: if it does not fit before the end, the producer writes
// WRAP at the tail and starts at 0.

/**
 * Record tags. Player rings: audio, then the controls that must stay in
 * order with it. Mic rings: what kind of packet a record is.
 */
export const PLAYER_TAG = Object.freeze({ DATA: 0, CLEAR: 1, MARK: 2, FORMAT: 3 });
export const MIC_TAG = Object.freeze({ RTP: 0, RTCP: 1 });

const HEADER = 16;
const REC = 16;
const WRAP = 0xffffffff;

export class Ring {
  /** A SharedArrayBuffer for a ring of at least `capacity` bytes. */
  static create(capacity = 1 << 18) {
    let c = 1024;
    while (c < capacity) c *= 2;
    const sab = new SharedArrayBuffer(HEADER + c);
    new Int32Array(sab, 0, 4)[3] = 1;
    return sab;
  }

  constructor(sab) {
    this.sab = sab;
    this.capacity = sab.byteLength - HEADER;
    this.mask = this.capacity - 1;
    this.h = new Int32Array(sab, 0, 4);
    this.u8 = new Uint8Array(sab, HEADER, this.capacity);
    this.u32 = new Uint32Array(sab, HEADER, this.capacity / 4);
    this.f64 = new Float64Array(sab, HEADER, this.capacity / 8);
    // Consumer state of the record `next()` found.
    this.len = 0;
    this.tag = 0;
    this.time = NaN;
    this._pos = 0;
    this._r = 0;
  }

  /**
   * Producer: copies `len` bytes of `bytes` (a Uint8Array) from `offset` in,
   * with a tag and a time (NaN: none). False when full (counted).
   */
  push(bytes, tag = 0, time = NaN, len = bytes.length, offset = 0) {
    const rec = REC + ((len + 7) & ~7);
    const w = Atomics.load(this.h, 0) >>> 0;
    const r = Atomics.load(this.h, 1) >>> 0;
    const free = this.capacity - ((w - r) >>> 0);
    let pos = w & this.mask;
    const tail = this.capacity - pos;
    const skip = tail < rec ? tail : 0;
    if (rec > this.capacity || skip + rec > free) {
      Atomics.add(this.h, 2, 1);
      return false;
    }
    if (skip) {
      this.u32[pos >> 2] = WRAP;
      pos = 0;
    }
    this.u32[pos >> 2] = len;
    this.u32[(pos >> 2) + 1] = tag;
    this.f64[(pos >> 3) + 1] = time;
    const u8 = this.u8;
    const base = pos + REC;
    if (len > 256 && offset === 0 && bytes.length === len) u8.set(bytes, base);
    else for (let i = 0; i < len; i++) u8[base + i] = bytes[offset + i];
    Atomics.store(this.h, 0, (w + skip + rec) | 0);
    return true;
  }

  /** Consumer: length of the next record (its tag and time in `tag`, `time`), or -1. */
  next() {
    let r = Atomics.load(this.h, 1) >>> 0;
    const w = Atomics.load(this.h, 0) >>> 0;
    if (r === w) return -1;
    let pos = r & this.mask;
    if (this.u32[pos >> 2] === WRAP) {
      r = (r + this.capacity - pos) >>> 0;
      Atomics.store(this.h, 1, r | 0);
      if (r === w) return -1;
      pos = 0;
    }
    this._r = r;
    this._pos = pos;
    this.len = this.u32[pos >> 2];
    this.tag = this.u32[(pos >> 2) + 1];
    this.time = this.f64[(pos >> 3) + 1];
    return this.len;
  }

  /** Consumer: copies the record `next()` found into `dest` at `offset` and releases it. */
  read(dest, offset = 0) {
    const len = this.len;
    const base = this._pos + REC;
    const u8 = this.u8;
    for (let i = 0; i < len; i++) dest[offset + i] = u8[base + i];
    this.skip();
  }

  /** Consumer: releases the record `next()` found without reading it. */
  skip() {
    Atomics.store(this.h, 1, (this._r + REC + ((this.len + 7) & ~7)) | 0);
  }

  /** Records the producer dropped because the ring was full. */
  get dropped() {
    return Atomics.load(this.h, 2);
  }

  /** Wake flag: the consumer sets it before sleeping; the producer takes it (true once). */
  sleep() { Atomics.store(this.h, 3, 1); }
  takeWake() { return Atomics.compareExchange(this.h, 3, 1, 0) === 1; }
}
