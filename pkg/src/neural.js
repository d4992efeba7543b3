// The neural Opus build (cargo feature `neural`: libopus deep PLC, DRED and
// OSCE with their model weights, ~4 MB gzip): everything the full build has,
// plus `createPlayer({ opus: { neural: true } })` and
// `createMic({ codec: 'opus/48000/2', dredMs: 200 })`.
//
//   import { registerNeural } from 'voxlet/neural';
//   const vox = await registerNeural(audioContext);
//
// Its URL is in this module, not in voxlet's main entry, so that bundlers
// emit the file only for apps that import it.
import { register } from './index.js';

/** Where the neural build's wasm is (next to this file; bundlers find it). */
export const NEURAL_WASM_URL = new URL('../wasm-neural/voxlet_bg.wasm', import.meta.url);

/** register() with the neural build (same options; `wasmUrl` overrides where it is fetched from). */
export function registerNeural(context, options = {}) {
  return register(context, { ...options, build: 'neural', wasmUrl: options.wasmUrl || NEURAL_WASM_URL });
}
