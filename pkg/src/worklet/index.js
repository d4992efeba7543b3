// Entry of the worklet bundle (pkg/worklet/voxlet-worklet.js): registers
// both processors in one addModule(). The sources live in pkg/src/worklet/
// (shipped, and imported by pkg/src/index.js for the ring); the bundle is
// what the browser loads. polyfill.js comes first through
// wasm.js, before the wasm-bindgen glue.
import './polyfill.js';
import './player-processor.js';
import './mic-processor.js';
