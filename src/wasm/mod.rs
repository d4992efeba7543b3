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
//!   `Float64Array`-shaped buffer whose field names are fetched once
//!   (`statsNames()`): each class has one table of (name, value) pairs
//!   ([`StatsTable`]) that gives both, so names and values cannot drift.
//!   Events are a kind ([`EventKind`]) and named slots ([`EventSlot`]) in
//!   an owned buffer; both enums are exported to JavaScript, which reads
//!   them once at start-up instead of copying the numbers.
//!
//!   Their constructors take one options object whose fields are the core
//!   configuration's, camelCased (`minDelayMs` for `min_delay_ms`). A field
//!   left out (or `undefined`) keeps the core's default (`Default` / `new`
//!   of the config); any given value, 0 included, is handed to the core,
//!   which validates it. The bindings translate; they decide no policy.
//! - **Codec and wire classes** for Node and tooling ([`CodecDecoder`],
//!   [`CodecEncoder`], [`wire`]): ordinary arrays in and out, for encoding
//!   or decoding without a worklet.
//!
//! Errors become JS exceptions carrying the core's typed error text.

// A build without some of the classes (cargo features `player`, `mic`,
// `wire`) leaves some shared helpers unused.
#![cfg_attr(
    not(all(feature = "player", feature = "mic", feature = "wire")),
    allow(dead_code, unused_imports, unused_macros)
)]

use wasm_bindgen::prelude::*;

use crate::codec::{parse_rtpmap, CodecInfo, Decoder, Encoder, EncoderSettings, Registry};

/// `statsNames()` and `statsPtr()`, alike for every class with a stats
/// table (wasm-bindgen takes a class's methods from any number of `impl`
/// blocks, so the shared ones are written once, here). Defined before the
/// class modules: `macro_rules!` scope is textual.
macro_rules! stats_methods {
    ($class:ty, $table:expr) => {
        #[wasm_bindgen]
        impl $class {
            /// The names of the statistics, in the order `writeStats` writes them.
            #[wasm_bindgen(js_name = statsNames)]
            pub fn stats_names() -> Vec<String> {
                $crate::wasm::stats_names($table)
            }

            /// Address of the statistics buffer (`statsNames().length` Float64s).
            #[wasm_bindgen(js_name = statsPtr)]
            pub fn stats_ptr(&self) -> usize {
                $crate::wasm::addr(&self.stats)
            }
        }
    };
}
#[cfg(feature = "player")]
pub mod receiver;
#[cfg(feature = "mic")]
pub mod sender;
#[cfg(feature = "player")]
pub mod stream;
#[cfg(feature = "wire")]
pub mod wire;

/// A JavaScript `Error` with the message and its causes (as
/// [`Report`](crate::error::Report) prints them). The error itself is not
/// made a `dyn Error`: its vtable would pull in its `Debug`, and with the
/// `f64` fields of some errors, float formatting (~26 KB of wasm).
pub(crate) fn js_err(e: impl std::error::Error) -> JsError {
    let mut msg = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        msg.push_str(": ");
        msg.push_str(&c.to_string());
        cause = c.source();
    }
    JsError::new(&msg)
}

/// One class's statistics: (name, how to read the value) in the order
/// `writeStats` writes them. `statsNames()` and `writeStats()` both walk
/// the same table.
pub type StatsTable<T> = [(&'static str, fn(&T) -> f64)];

pub(crate) fn stats_names<T>(table: &StatsTable<T>) -> Vec<String> {
    table.iter().map(|(n, _)| n.to_string()).collect()
}

/// Writes every value of `table` read from `src` into `out` (no allocation).
pub(crate) fn fill_stats<T>(table: &StatsTable<T>, src: &T, out: &mut [f64]) {
    for ((_, get), o) in table.iter().zip(out.iter_mut()) {
        *o = get(src);
    }
}

/// What `pollEvent` returned (Receiver and StreamPlayer share one
/// numbering). Exported to JavaScript as `EventKind`.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum EventKind {
    /// No event pending.
    None = 0,
    /// A DTMF key was pressed (receiver).
    DtmfBegin = 1,
    /// A mark was reached: everything pushed before it has played (stream).
    Mark = 2,
    /// The queue ran empty (stream).
    Drained = 3,
    /// Playback ran dry (stream).
    Underrun = 4,
    /// A mark was dropped by `clear()` (stream).
    MarkCleared = 5,
    /// Playback started (stream).
    Started = 6,
    /// A DTMF key was released (receiver).
    DtmfEnd = 7,
    /// The played SSRC changed (receiver).
    Ssrc = 8,
    /// The played payload type changed (receiver).
    PayloadType = 9,
}

/// Slots of the event buffer (`eventPtr()`, `Float64`s) `pollEvent` fills;
/// a slot an event does not use is NaN. Exported to JavaScript as
/// `EventSlot`.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum EventSlot {
    /// When it happened, ms on the clock of `push` / `render` times.
    Time = 0,
    /// DTMF event code; mark id; underrun count; the new SSRC or payload type.
    Value = 1,
    /// The previous SSRC or payload type.
    Old = 2,
    /// DTMF key as a character code (0: a code without a key).
    Digit = 3,
    /// DTMF volume, −dBm0.
    Volume = 4,
    /// DTMF duration, ms.
    DurationMs = 5,
    /// DTMF end by timeout (1) rather than by an end packet (0).
    TimedOut = 6,
}

/// The telephone-event payload type the bindings use when none is given,
/// for sending (`Sender`'s `dtmfPayloadType`) as for receiving
/// (`Receiver`'s `payloadTypes` left out): RFC 4733's customary 101, so
/// DTMF works both ways without configuration. The one policy of the
/// bindings beyond the core's defaults.
pub const DEFAULT_DTMF_PAYLOAD_TYPE: u8 = 101;

/// Slots in the event buffer.
pub(crate) const EVENT_SLOTS: usize = 8;

/// Clears the event buffer to NaN and sets `fields` (no allocation).
pub(crate) fn set_event(buf: &mut [f64; EVENT_SLOTS], fields: &[(EventSlot, f64)]) {
    buf.fill(f64::NAN);
    for &(slot, v) in fields {
        buf[slot as usize] = v;
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn reflect_get(target: &JsValue, key: &JsValue) -> JsValue;
    #[wasm_bindgen(js_namespace = Object, js_name = keys)]
    fn object_keys(target: &JsValue) -> Vec<JsValue>;
}

/// A JavaScript options object read field by field. `undefined` and
/// `null` fields are absent (`None`); a present field of the wrong type or
/// out of range is an error naming it.
pub(crate) struct Options<'a> {
    obj: &'a JsValue,
    what: &'static str,
}

impl<'a> Options<'a> {
    /// `what` names the object in errors (`"Sender options"`).
    pub(crate) fn new(obj: &'a JsValue, what: &'static str) -> Result<Options<'a>, JsError> {
        if !(obj.is_object() || obj.is_undefined() || obj.is_null()) {
            return Err(JsError::new(&format!("{what}: not an object")));
        }
        Ok(Options { obj, what })
    }

    fn raw(&self, key: &str) -> JsValue {
        if self.obj.is_object() {
            reflect_get(self.obj, &JsValue::from_str(key))
        } else {
            JsValue::UNDEFINED
        }
    }

    fn bad(&self, key: &str, want: &str, v: &JsValue) -> JsError {
        JsError::new(&format!("{}: {key} must be {want} (got {v:?})", self.what))
    }

    /// Whether `key` is present and `null` (as opposed to left out).
    pub(crate) fn is_null(&self, key: &str) -> bool {
        self.raw(key).is_null()
    }

    /// A whole number in `T`'s range.
    pub(crate) fn int<T: TryFrom<u64>>(&self, key: &str) -> Result<Option<T>, JsError> {
        let v = self.raw(key);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        match v.as_f64() {
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= u64::MAX as f64 => {
                T::try_from(x as u64)
                    .map(Some)
                    .map_err(|_| self.bad(key, "an integer in range", &v))
            }
            _ => Err(self.bad(key, "a non-negative integer", &v)),
        }
    }

    /// A boolean.
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, JsError> {
        let v = self.raw(key);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        v.as_bool()
            .map(Some)
            .ok_or_else(|| self.bad(key, "a boolean", &v))
    }

    /// A string.
    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, JsError> {
        let v = self.raw(key);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        v.as_string()
            .map(Some)
            .ok_or_else(|| self.bad(key, "a string", &v))
    }

    /// A nested options object.
    pub(crate) fn object(&self, key: &str, what: &'static str) -> Result<OwnedOptions, JsError> {
        let v = self.raw(key);
        Options::new(&v, what)?;
        Ok(OwnedOptions { obj: v, what })
    }
}

/// A nested options object ([`Options::object`]).
pub(crate) struct OwnedOptions {
    obj: JsValue,
    what: &'static str,
}

impl OwnedOptions {
    /// Whether the field was left out (or `undefined` / `null`).
    pub(crate) fn is_absent(&self) -> bool {
        self.obj.is_undefined() || self.obj.is_null()
    }

    pub(crate) fn get(&self) -> Options<'_> {
        Options {
            obj: &self.obj,
            what: self.what,
        }
    }

    /// (key, string value) for every own key: a `{ 111: 'opus/48000/2' }` map.
    pub(crate) fn string_entries(&self) -> Result<Vec<(String, String)>, JsError> {
        if !self.obj.is_object() {
            return Ok(Vec::new());
        }
        let o = self.get();
        object_keys(&self.obj)
            .into_iter()
            .filter_map(|k| k.as_string())
            .map(|k| {
                let v = o.string(&k)?.unwrap_or_default();
                Ok((k, v))
            })
            .collect()
    }
}

/// The static payload type (RFC 3551) of `codec`, if it has one.
pub(crate) fn static_payload_type(codec: &CodecInfo) -> Option<u8> {
    let r = Registry::with_static();
    (0..=127u8).find(|&pt| r.get(pt).is_some_and(|i| i == *codec))
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
/// is instantiated. Not in a `web` build: there voxlet is a library inside
/// an app, and the app owns the one start function a wasm module may have
/// (it can call [`crate::web::show_panics`] from it).
#[cfg(not(feature = "web"))]
#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// A stateful decoder for one stream, made from an SDP rtpmap value
/// such as `"PCMU/8000"` or `"opus/48000/2"`.
#[cfg(feature = "player")]
#[wasm_bindgen]
pub struct CodecDecoder {
    inner: Box<dyn Decoder>,
    out: Vec<f32>,
}

#[cfg(feature = "player")]
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
#[cfg(feature = "mic")]
#[wasm_bindgen]
pub struct CodecEncoder {
    inner: Box<dyn Encoder>,
    out: Vec<u8>,
}

#[cfg(feature = "mic")]
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
