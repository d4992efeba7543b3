// The one wasm instance of this AudioWorkletGlobalScope. Every voxlet
// processor of an AudioContext runs in the same global scope, so the first
// processor instantiates the module (compiled once on the main thread and
// passed in `processorOptions.module`) and the others reuse it.
//
// polyfill.js must be evaluated before the wasm-bindgen glue: keep it the
// first import.
import './polyfill.js';
import * as glue from '../../wasm/voxlet.js';

let exports = null;

/** The wasm exports (with `memory`), instantiating on first use. */
export function loadWasm(module) {
  if (!exports) {
    if (!(module instanceof WebAssembly.Module)) {
      throw new Error('voxlet: processorOptions.module must be a WebAssembly.Module (use register())');
    }
    exports = glue.initSync({ module });
  }
  return exports;
}

export { glue };

/**
 * Typed-array views on wasm memory that survive memory growth: `refresh()`
 * (cheap: one identity check) re-creates them only when `memory.buffer`
 * changed. `f32(ptr, len, slot)` hands out a cached Float32Array for a
 * (ptr, len) pair so the render loop allocates nothing.
 */
export class MemViews {
  constructor(memory) {
    this.memory = memory;
    this.buffer = null;
    this.u8 = null;
    this.f64 = null;
    this.cache = [];
    this.refresh();
  }
  refresh() {
    const b = this.memory.buffer;
    if (b === this.buffer) return false;
    this.buffer = b;
    this.u8 = new Uint8Array(b);
    this.f64 = new Float64Array(b);
    for (const c of this.cache) c.view = null;
    return true;
  }
  f32(slot, ptr, len) {
    let c = this.cache[slot];
    if (!c) c = this.cache[slot] = { ptr: -1, len: -1, view: null };
    if (c.view === null || c.ptr !== ptr || c.len !== len) {
      c.ptr = ptr; c.len = len;
      c.view = new Float32Array(this.buffer, ptr, len);
    }
    return c.view;
  }
}
