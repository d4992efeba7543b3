// Entry of the worklet bundle (pkg/worklet/voxlet-worklet.js): registers
// both processors in one addModule(). polyfill.js comes first through
// wasm.js, before the wasm-bindgen glue.
import './polyfill.js';
import './player-processor.js';
import './mic-processor.js';
