//! The codec and RTP tests again, compiled to wasm32 and run in headless
//! Chromium (wasm-bindgen-test with chromedriver), so the browser build is
//! proven to compute what the native build computes. Native builds skip this
//! file; `cargo test --target wasm32-unknown-unknown` runs the other test
//! files in Node.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "codec_g711.rs"]
mod codec_g711;
#[path = "codec_g722.rs"]
mod codec_g722;
#[path = "codec_l16.rs"]
mod codec_l16;
#[path = "codec_opus.rs"]
mod codec_opus;
#[path = "comfort_noise.rs"]
mod comfort_noise;
#[path = "dsp.rs"]
mod dsp;
#[path = "rtcp.rs"]
mod rtcp;
#[path = "rtp.rs"]
mod rtp;
#[path = "stream.rs"]
mod stream;
#[path = "telephone_event.rs"]
mod telephone_event;
#[path = "wire.rs"]
mod wire;
