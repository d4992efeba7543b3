// Type declarations for voxlet's neural Opus entry (src/neural.js).
import type { RegisterOptions, Voxlet } from './index.js';

/** Where the neural build's wasm is (next to this module). */
export const NEURAL_WASM_URL: URL;
/** register() with the neural Opus build (deep PLC, DRED, OSCE; ~4 MB gzip). */
export function registerNeural(context: BaseAudioContext, options?: Omit<RegisterOptions, 'build'>): Promise<Voxlet>;
