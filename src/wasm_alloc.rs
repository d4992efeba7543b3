//! wasm malloc stub
