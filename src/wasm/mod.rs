//! JavaScript bindings (wasm32 only): a thin layer over the core, no DSP here.
//!
//! Two kinds of classes live here:
//!
//! - **Real-time classes** for the AudioWorklet ([`receiver`], [`sender`],
//!   [`stream`]). They never hand audio across the boundary as a fresh
//!   array. Each object owns its buffers (sized once, at construction) and
//!   exposes their addresses in wasm memory; the JavaScript side keeps
//!   `Float32Array` / `Uint8Array` views on `memory.buffer`, made again only
//!   when the memory grows, and copies with `.set()`. Audio is **planar**
//!   there (channel after channel), the layout of the worklet's
//!   `outputs[0][ch]` arrays. Statistics are written into an owned
//!   `Float64Array`-shaped buffer whose field names are fetched once.
//! - **Codec and wire classes** for Node and tooling ([`CodecDecoder`],
//!   [`CodecEncoder`], [`wire`]): ordinary arrays in and out, for encoding
//!   or decoding without a worklet.
//!
//! Errors become JS exceptions carrying the core's typed error text.

use wasm_bindgen::prelude::*;

use crate::codec::{parse_rtpmap, Decoder, Encoder, EncoderSettings};

pub mod receiver;
pub mod sender;
pub mod stream;
pub mod wire;

pub(crate) fn js_err(e: impl std::error::Error + 'static) -> JsError {
    JsError::new(&crate::error::Report(&e).to_string())
}

/// Address of a slice in wasm memory, as JavaScript sees it.
pub(crate) fn addr<T>(s: &[T]) -> usize {
    s.as_ptr() as usize
}

/// A byte buffer in wasm memory that JavaScript copies one packet or chunk
/// into before calling `push` (grown for a larger one, never shrunk).
pub(crate) struct Staging(Vec<u8>);

impl Staging {
    pub(crate) fn new(len: usize) -> Staging {
        Staging(vec![0; len])
    }

    /// Address of room for `len` bytes.
    pub(crate) fn ptr(&mut self, len: usize) -> usize {
        if self.0.len() < len {
            self.0.resize(len, 0);
        }
        addr(&self.0)
    }

    /// The first `len` staged bytes.
    pub(crate) fn bytes(&self, len: usize) -> &[u8] {
        &self.0[..len.min(self.0.len())]
    }
}

/// The rendered block JavaScript copies out: `channels` planar runs of
/// `frames` samples, the layout of a worklet's `outputs[0][ch]`. Sized at
/// construction for a 128-frame quantum; resized only if the quantum
/// size changes.
pub(crate) struct PlanarOut {
    channels: usize,
    planar: Vec<f32>,
    interleaved: Vec<f32>,
}

impl PlanarOut {
    /// `interleaved`: whether the renderer writes interleaved frames (a
    /// transposition buffer is kept then).
    pub(crate) fn new(channels: usize, interleaved: bool) -> PlanarOut {
        let n = 128 * channels;
        PlanarOut {
            channels,
            planar: vec![0.0; n],
            interleaved: if interleaved && channels > 1 {
                vec![0.0; n]
            } else {
                Vec::new()
            },
        }
    }

    fn fit(&mut self, frames: usize, interleaved: bool) {
        let n = frames * self.channels;
        if self.planar.len() != n {
            self.planar.resize(n, 0.0);
        }
        if interleaved && self.channels > 1 && self.interleaved.len() != n {
            self.interleaved.resize(n, 0.0);
        }
    }

    /// Fills the block from `render`, which writes planar; returns its address.
    pub(crate) fn render_planar(
        &mut self,
        frames: usize,
        render: impl FnOnce(&mut [f32]),
    ) -> usize {
        self.fit(frames, false);
        render(&mut self.planar);
        addr(&self.planar)
    }

    /// Fills the block from `render`, which writes interleaved frames
    /// (transposed here unless mono); returns its address.
    pub(crate) fn render_interleaved(
        &mut self,
        frames: usize,
        render: impl FnOnce(&mut [f32]),
    ) -> usize {
        self.fit(frames, true);
        let ch = self.channels;
        if ch == 1 {
            render(&mut self.planar);
        } else {
            render(&mut self.interleaved);
            for (f, frame) in self.interleaved.chunks_exact(ch).enumerate() {
                for (c, &v) in frame.iter().enumerate() {
                    self.planar[c * frames + f] = v;
                }
            }
        }
        addr(&self.planar)
    }
}

/// Installs the panic hook (panic text on `console.error`) when the module
/// is instantiated.
#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// A stateful decoder for one stream, made from an SDP rtpmap value
/// such as `"PCMU/8000"` or `"opus/48000/2"`.
#[wasm_bindgen]
pub struct CodecDecoder {
    inner: Box<dyn Decoder>,
    out: Vec<f32>,
}

#[wasm_bindgen]
impl CodecDecoder {
    /// Creates a decoder from an rtpmap value; `channels` overrides the PCM
    /// channel count (Opus decodes `opus/48000/2` to mono when 1).
    #[wasm_bindgen(constructor)]
    pub fn new(rtpmap: &str, channels: Option<u16>) -> Result<CodecDecoder, JsError> {
        let mut info = parse_rtpmap(rtpmap).map_err(js_err)?;
        if let Some(ch) = channels {
            info = info.with_channels(ch).map_err(js_err)?;
        }
        let inner = info.decoder().map_err(js_err)?;
        let out = vec![0.0; inner.max_frames() * info.channels as usize];
        Ok(CodecDecoder { inner, out })
    }

    /// Decodes one RTP payload to interleaved Float32 samples at `sampleRate`.
    pub fn decode(&mut self, payload: &[u8]) -> Result<Vec<f32>, JsError> {
        let ch = self.inner.info().channels as usize;
        let n = self.inner.decode(payload, &mut self.out).map_err(js_err)?;
        Ok(self.out[..n * ch].to_vec())
    }

    /// Codec concealment of `frames` lost frames (Opus only), interleaved.
    pub fn conceal(&mut self, frames: usize) -> Result<Vec<f32>, JsError> {
        let ch = self.inner.info().channels as usize;
        let frames = frames.min(self.inner.max_frames());
        let n = self.inner.conceal(frames, &mut self.out).map_err(js_err)?;
        Ok(self.out[..n * ch].to_vec())
    }

    /// Forgets the stream state.
    pub fn reset(&mut self) {
        self.inner.reset();
    }

    /// PCM sample rate of the decoded audio in Hz.
    #[wasm_bindgen(getter, js_name = sampleRate)]
    pub fn sample_rate(&self) -> u32 {
        self.inner.info().sample_rate
    }

    /// PCM channel count of the decoded audio.
    #[wasm_bindgen(getter)]
    pub fn channels(&self) -> u16 {
        self.inner.info().channels
    }
}

/// A stateful encoder for one stream, made from an SDP rtpmap value.
#[wasm_bindgen]
pub struct CodecEncoder {
    inner: Box<dyn Encoder>,
    out: Vec<u8>,
}

#[wasm_bindgen]
impl CodecEncoder {
    /// Creates an encoder; `bitrate` and `frameMs` apply to Opus.
    #[wasm_bindgen(constructor)]
    pub fn new(
        rtpmap: &str,
        channels: Option<u16>,
        bitrate: Option<u32>,
        frame_ms: Option<u16>,
    ) -> Result<CodecEncoder, JsError> {
        let mut info = parse_rtpmap(rtpmap).map_err(js_err)?;
        if let Some(ch) = channels {
            info = info.with_channels(ch).map_err(js_err)?;
        }
        let mut settings = EncoderSettings::default();
        if let Some(b) = bitrate {
            settings.bitrate = b;
        }
        if let Some(f) = frame_ms {
            settings.frame_ms = f;
        }
        let inner = info.encoder(&settings).map_err(js_err)?;
        Ok(CodecEncoder {
            inner,
            out: Vec::new(),
        })
    }

    /// Encodes interleaved Float32 samples (one packet's worth) to a payload.
    pub fn encode(&mut self, pcm: &[f32]) -> Result<Vec<u8>, JsError> {
        let frames = pcm.len() / self.inner.info().channels as usize;
        let need = self.inner.max_payload(frames);
        if self.out.len() < need {
            self.out.resize(need, 0);
        }
        let n = self.inner.encode(pcm, &mut self.out).map_err(js_err)?;
        Ok(self.out[..n].to_vec())
    }

    /// PCM sample rate the encoder takes in Hz.
    #[wasm_bindgen(getter, js_name = sampleRate)]
    pub fn sample_rate(&self) -> u32 {
        self.inner.info().sample_rate
    }

    /// PCM channel count the encoder takes.
    #[wasm_bindgen(getter)]
    pub fn channels(&self) -> u16 {
        self.inner.info().channels
    }
}

/// The voxlet version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
