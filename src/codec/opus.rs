//! Opus (RFC 6716, RTP payload RFC 7587) over the real libopus.
//!
//! Why libopus and not a Rust port: it is the reference, its packet loss
//! concealment and in-band FEC are what every other endpoint does, and the
//! float build compiled to wasm32 (simd128) decodes the same as natively
//! (measured in `tests/codec_opus.rs`). `opusic-sys` vendors libopus 1.6 and
//! builds it with cmake; on wasm32 the C compiler and libc header shims come
//! from `.cargo/config.toml` and `wasm-libc/`.
//!
//! Memory: the encoder and decoder states live in memory Rust allocates
//! (`opus_*_get_size` + `opus_*_init`), not through libopus' `*_create`,
//! which would call C `malloc`. So the wasm module needs no C heap and
//! exports no `malloc`/`free` (which would otherwise show up in its JS API
//! and clash with any other C code linked in); allocation happens once, when
//! a stream is set up; and native and wasm take the same code path.
//!
//! Samples are interleaved `f32` at 48 kHz. Like libopus' float API, decoded
//! samples are not clipped and may slightly exceed ±1.0 on loud input.

use core::ffi::c_int;
use core::ptr::NonNull;
use std::alloc::{self, Layout};

use opusic_sys as ffi;

use super::{CodecInfo, CodecKind, Decoder, Encoder, EncoderSettings, NeuralOpus, OpusApplication};
use crate::codec::CodecError;

/// Opus always runs at 48 kHz here (RFC 7587: the RTP clock is 48 kHz).
const RATE: i32 = 48_000;
/// Longest Opus packet: 120 ms at 48 kHz.
const MAX_FRAMES: usize = 5760;
/// PLC and FEC work in multiples of 2.5 ms.
const PLC_STEP: usize = 120;
/// Largest single Opus frame in bytes (RFC 6716 §3.2.1), plus the TOC byte.
const MAX_FRAME_BYTES: usize = 1276;
/// Frame sizes the encoder takes: 2.5, 5, 10, 20, 40, 60 ms.
const ENCODER_FRAMES: [usize; 6] = [120, 240, 480, 960, 1920, 2880];

/// One libopus state in Rust-owned, zeroed, 16-byte aligned memory.
struct State {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: the state is plain memory owned exclusively by this value; libopus
// keeps no thread-local or global references to it.
unsafe impl Send for State {}

impl State {
    fn new(size: c_int) -> Result<State, CodecError> {
        let size = usize::try_from(size)
            .ok()
            .filter(|&s| s > 0)
            .ok_or(CodecError::Opus(ffi::OPUS_INTERNAL_ERROR))?;
        let layout = Layout::from_size_align(size, 16)
            .map_err(|_| CodecError::Opus(ffi::OPUS_ALLOC_FAIL))?;
        // SAFETY: `layout` has a non-zero size.
        let ptr = unsafe { alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr).ok_or(CodecError::Opus(ffi::OPUS_ALLOC_FAIL))?;
        Ok(State { ptr, layout })
    }

    fn cast<T>(&self) -> *mut T {
        self.ptr.as_ptr().cast()
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // SAFETY: allocated in `State::new` with this layout.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

fn check(ret: c_int) -> Result<usize, CodecError> {
    usize::try_from(ret).map_err(|_| CodecError::Opus(ret))
}

fn payload_len(payload: &[u8]) -> Result<i32, CodecError> {
    if payload.is_empty() {
        return Err(CodecError::InvalidPayload("empty Opus packet"));
    }
    i32::try_from(payload.len()).map_err(|_| CodecError::InvalidPayload("Opus packet too long"))
}

fn check_info(info: &CodecInfo) -> Result<usize, CodecError> {
    if info.kind != CodecKind::Opus
        || info.sample_rate != 48_000
        || !(1..=2).contains(&info.channels)
    {
        return Err(CodecError::UnsupportedConfig {
            kind: info.kind,
            clock_rate: info.clock_rate,
            channels: info.channels,
        });
    }
    Ok(info.channels as usize)
}

/// PLC/FEC durations: a non-zero multiple of 2.5 ms, at most 120 ms.
fn check_gap(frames: usize) -> Result<c_int, CodecError> {
    if frames == 0 || frames % PLC_STEP != 0 || frames > MAX_FRAMES {
        return Err(CodecError::BadFrameCount(frames));
    }
    Ok(frames as c_int)
}

fn check_out(needed: usize, out: &[f32]) -> Result<(), CodecError> {
    if out.len() < needed {
        return Err(CodecError::OutputTooSmall {
            needed,
            got: out.len(),
        });
    }
    Ok(())
}

/// Opus decoder for one stream: 48 kHz, mono or stereo output whatever the
/// packets carry, with libopus PLC and in-band FEC.
pub struct OpusDecoder {
    info: CodecInfo,
    channels: usize,
    state: State,
    neural: NeuralOpus,
    #[cfg(feature = "neural")]
    dred: Option<dred::Dred>,
}

impl OpusDecoder {
    /// A decoder producing `info.channels` (1 or 2) channels at 48 kHz.
    pub fn new(info: CodecInfo) -> Result<OpusDecoder, CodecError> {
        let channels = check_info(&info)?;
        // SAFETY: plain query.
        let state = State::new(unsafe { ffi::opus_decoder_get_size(channels as c_int) })?;
        // SAFETY: `state` is at least opus_decoder_get_size bytes and aligned.
        check(unsafe { ffi::opus_decoder_init(state.cast(), RATE, channels as c_int) })?;
        Ok(OpusDecoder {
            info,
            channels,
            state,
            neural: NeuralOpus::default(),
            #[cfg(feature = "neural")]
            dred: None,
        })
    }

    /// The machine-learned tools this decoder uses.
    pub fn neural(&self) -> NeuralOpus {
        self.neural
    }

    /// One libopus decode call writing exactly `frames` frames (or an error).
    fn run(
        &mut self,
        data: Option<&[u8]>,
        frames: usize,
        fec: bool,
        out: &mut [f32],
    ) -> Result<usize, CodecError> {
        check_out(frames * self.channels, out)?;
        let (ptr, len) = match data {
            Some(d) => (d.as_ptr(), payload_len(d)?),
            None => (core::ptr::null(), 0),
        };
        // SAFETY: `ptr`/`len` describe a live slice (or null/0 for PLC);
        // `out` holds `frames * channels` floats, checked above.
        let ret = unsafe {
            ffi::opus_decode_float(
                self.state.cast(),
                ptr,
                len,
                out.as_mut_ptr(),
                frames as c_int,
                fec as c_int,
            )
        };
        check(ret)
    }
}

impl Decoder for OpusDecoder {
    fn info(&self) -> &CodecInfo {
        &self.info
    }

    fn max_frames(&self) -> usize {
        MAX_FRAMES
    }

    fn frames_in(&self, payload: &[u8]) -> Result<usize, CodecError> {
        let len = payload_len(payload)?;
        // SAFETY: reads at most `len` bytes of `payload` (TOC and frame count).
        check(unsafe { ffi::opus_packet_get_nb_samples(payload.as_ptr(), len, RATE) })
    }

    fn decode(&mut self, payload: &[u8], out: &mut [f32]) -> Result<usize, CodecError> {
        let frames = self.frames_in(payload)?;
        self.run(Some(payload), frames, false, out)
    }

    /// libopus PLC; `frames` must be a multiple of 120 (2.5 ms), at most 5760.
    fn conceal(&mut self, frames: usize, out: &mut [f32]) -> Result<usize, CodecError> {
        check_gap(frames)?;
        self.run(None, frames, false, out)
    }

    /// Decodes the LBRR (FEC) data in `next_payload` as the `frames` missing
    /// frames before it. libopus falls back to PLC for the part it has no
    /// redundancy for (CELT-only packets, no LBRR, gap longer than the packet).
    fn decode_fec(
        &mut self,
        next_payload: &[u8],
        frames: usize,
        out: &mut [f32],
    ) -> Result<usize, CodecError> {
        check_gap(frames)?;
        self.run(Some(next_payload), frames, true, out)
    }

    fn has_fec(&self, payload: &[u8]) -> bool {
        let Ok(len) = payload_len(payload) else {
            return false;
        };
        // SAFETY: `payload` is non-empty and `len` long; libopus parses it
        // with bounds checks (returns < 0 when malformed).
        unsafe { ffi::opus_packet_has_lbrr(payload.as_ptr(), len) == 1 }
    }

    /// Deep PLC, DRED and OSCE (libopus decoder complexity 5–7); needs the
    /// `neural` feature for anything but all-off. Allocates the DRED
    /// decoder here, at set-up, never while decoding.
    fn set_neural(&mut self, neural: NeuralOpus) -> Result<(), CodecError> {
        if !neural.is_off() && !NeuralOpus::built() {
            return Err(CodecError::FeatureNotBuilt("neural"));
        }
        #[cfg(feature = "neural")]
        {
            self.dred = match (neural.dred, self.dred.take()) {
                (true, Some(d)) => Some(d),
                (true, None) => Some(dred::Dred::new()?),
                (false, _) => None,
            };
        }
        // SAFETY: valid state; SET_COMPLEXITY takes one opus_int32.
        check(unsafe {
            ffi::opus_decoder_ctl(
                self.state.cast(),
                ffi::OPUS_SET_COMPLEXITY_REQUEST,
                neural.decoder_complexity(),
            )
        })?;
        self.neural = neural;
        Ok(())
    }

    /// DRED in `later` (parsed once per `key`); `before` and `frames` are
    /// multiples of 2.5 ms. Falls back (`Ok(None)`) when the packet has no
    /// DRED or none reaching `before` frames back.
    #[cfg(feature = "neural")]
    fn decode_redundancy(
        &mut self,
        later: &[u8],
        key: u64,
        before: usize,
        frames: usize,
        out: &mut [f32],
    ) -> Result<Option<usize>, CodecError> {
        let Some(d) = self.dred.as_mut() else {
            return Ok(None);
        };
        check_gap(frames)?;
        check_out(frames * self.channels, out)?;
        if before < frames || before > dred::MAX_SAMPLES {
            return Ok(None);
        }
        if !d.covers(later, key, before, frames)? {
            return Ok(None);
        }
        // SAFETY: valid decoder state and a DRED state filled by
        // opus_dred_parse; `out` holds `frames * channels` floats.
        let ret = unsafe {
            ffi::opus_decoder_dred_decode_float(
                self.state.cast(),
                d.data(),
                before as i32,
                out.as_mut_ptr(),
                frames as c_int,
            )
        };
        check(ret).map(Some)
    }

    /// Parses all of `later`'s DRED (up to 1 s), once per `key`.
    #[cfg(feature = "neural")]
    fn redundancy_reach(&mut self, later: &[u8], key: u64) -> Result<usize, CodecError> {
        let Some(d) = self.dred.as_mut() else {
            return Ok(0);
        };
        d.reach(later, key)
    }

    fn reset(&mut self) {
        // SAFETY: valid state; OPUS_RESET_STATE takes no argument and cannot
        // fail; it keeps the complexity (the neural settings).
        unsafe {
            ffi::opus_decoder_ctl(self.state.cast(), ffi::OPUS_RESET_STATE);
        }
        #[cfg(feature = "neural")]
        if let Some(d) = self.dred.as_mut() {
            d.forget();
        }
    }
}

#[cfg(feature = "neural")]
mod dred {
    //! The DRED side of a decoder: libopus' DRED decoder (the RDO-VAE
    //! model) and one parsed packet's redundancy, in Rust-owned memory.
    use super::{check, ffi, payload_len, State, RATE};
    use crate::codec::CodecError;
    use core::ffi::c_int;

    /// Most redundancy DRED carries: 1 s at 48 kHz.
    pub const MAX_SAMPLES: usize = 48_000;

    pub struct Dred {
        decoder: State,
        data: State,
        /// Which packet `data` holds, and how far back it was asked for.
        parsed: Option<(u64, usize)>,
        /// Samples before the packet the redundancy reaches (0: none) and
        /// the unencoded samples just before the packet.
        reach: usize,
        end: usize,
    }

    impl Dred {
        pub fn new() -> Result<Dred, CodecError> {
            // SAFETY: plain queries.
            let decoder = State::new(unsafe { ffi::opus_dred_decoder_get_size() })?;
            let data = State::new(unsafe { ffi::opus_dred_get_size() })?;
            // SAFETY: `decoder` is opus_dred_decoder_get_size bytes; init
            // points the model at the built-in weights (no allocation).
            check(unsafe { ffi::opus_dred_decoder_init(decoder.cast()) })?;
            Ok(Dred {
                decoder,
                data,
                parsed: None,
                reach: 0,
                end: 0,
            })
        }

        pub fn data(&self) -> *const ffi::OpusDRED {
            self.data.cast()
        }

        pub fn forget(&mut self) {
            self.parsed = None;
        }

        /// Parses all of `packet`'s redundancy (unless already done for
        /// `key`) and says how far back it reaches, in samples.
        pub fn reach(&mut self, packet: &[u8], key: u64) -> Result<usize, CodecError> {
            self.covers(packet, key, MAX_SAMPLES, 0)?;
            Ok(self.reach)
        }

        /// Parses `packet` (unless it is `key`'s, parsed at least `before`
        /// back) and says whether its DRED covers any of the `frames`
        /// samples that start `before` samples back (libopus fills what it
        /// does not cover with deep PLC).
        pub fn covers(
            &mut self,
            packet: &[u8],
            key: u64,
            before: usize,
            frames: usize,
        ) -> Result<bool, CodecError> {
            if !matches!(self.parsed, Some((k, b)) if k == key && b >= before) {
                self.parsed = None;
                let len = payload_len(packet)?;
                let mut end: c_int = 0;
                // SAFETY: valid DRED decoder and data states; `packet` is
                // `len` bytes; libopus bounds-checks the parse.
                let ret = unsafe {
                    ffi::opus_dred_parse(
                        self.decoder.cast(),
                        self.data.cast(),
                        packet.as_ptr(),
                        len,
                        before as i32,
                        RATE,
                        &mut end,
                        0,
                    )
                };
                self.reach = check(ret)?;
                self.end = usize::try_from(end).unwrap_or(0);
                self.parsed = Some((key, before));
            }
            Ok(before.saturating_sub(frames) < self.reach && before > self.end)
        }
    }
}

/// Opus encoder for one stream, configured from [`EncoderSettings`].
pub struct OpusEncoder {
    info: CodecInfo,
    channels: usize,
    frames: usize,
    lookahead: usize,
    state: State,
}

impl OpusEncoder {
    /// An encoder for `info.channels` (1 or 2) channels at 48 kHz.
    /// Out-of-range settings give [`CodecError::BadSetting`].
    pub fn new(info: CodecInfo, settings: &EncoderSettings) -> Result<OpusEncoder, CodecError> {
        let channels = check_info(&info)?;
        let s = settings;
        if !(6_000..=510_000).contains(&s.bitrate) {
            return Err(CodecError::BadSetting("bitrate"));
        }
        if s.complexity > 10 {
            return Err(CodecError::BadSetting("complexity"));
        }
        if s.packet_loss_percent > 100 {
            return Err(CodecError::BadSetting("packet_loss_percent"));
        }
        if ![10, 20, 40, 60].contains(&s.frame_ms) {
            return Err(CodecError::BadSetting("frame_ms"));
        }
        if s.dred_ms > 1000 || s.dred_ms % 10 != 0 {
            return Err(CodecError::BadSetting("dred_ms"));
        }
        if s.dred_ms > 0 && !NeuralOpus::built() {
            return Err(CodecError::FeatureNotBuilt("neural"));
        }
        let application = match s.application {
            OpusApplication::Voip => ffi::OPUS_APPLICATION_VOIP,
            OpusApplication::Audio => ffi::OPUS_APPLICATION_AUDIO,
            OpusApplication::LowDelay => ffi::OPUS_APPLICATION_RESTRICTED_LOWDELAY,
        };
        // SAFETY: plain query.
        let state = State::new(unsafe { ffi::opus_encoder_get_size(channels as c_int) })?;
        // SAFETY: `state` is at least opus_encoder_get_size bytes and aligned.
        check(unsafe {
            ffi::opus_encoder_init(state.cast(), RATE, channels as c_int, application)
        })?;
        let st: *mut ffi::OpusEncoder = state.cast();
        let set = |request: c_int, value: i32| -> Result<(), CodecError> {
            // SAFETY: valid state; every SET request used here takes one opus_int32.
            check(unsafe { ffi::opus_encoder_ctl(st, request, value) }).map(drop)
        };
        set(ffi::OPUS_SET_BITRATE_REQUEST, s.bitrate as i32)?;
        set(ffi::OPUS_SET_COMPLEXITY_REQUEST, s.complexity as i32)?;
        set(ffi::OPUS_SET_INBAND_FEC_REQUEST, s.fec as i32)?;
        set(
            ffi::OPUS_SET_PACKET_LOSS_PERC_REQUEST,
            i32::from(s.effective_loss_percent()),
        )?;
        set(ffi::OPUS_SET_DTX_REQUEST, s.dtx as i32)?;
        if s.dred_ms > 0 {
            set(
                ffi::OPUS_SET_DRED_DURATION_REQUEST,
                i32::from(s.dred_ms / 10),
            )?;
        }
        let mut lookahead: i32 = 0;
        // SAFETY: valid state; GET_LOOKAHEAD writes one opus_int32.
        check(unsafe {
            ffi::opus_encoder_ctl(
                st,
                ffi::OPUS_GET_LOOKAHEAD_REQUEST,
                &mut lookahead as *mut i32,
            )
        })?;
        Ok(OpusEncoder {
            info,
            channels,
            frames: s.frame_ms as usize * 48,
            lookahead: lookahead.max(0) as usize,
            state,
        })
    }

    /// Encoder delay in frames at 48 kHz (`OPUS_GET_LOOKAHEAD`): decoded
    /// audio lags the input by this much.
    pub fn lookahead(&self) -> usize {
        self.lookahead
    }

    /// Frames per packet from the configured `frame_ms`.
    pub fn frame_size(&self) -> usize {
        self.frames
    }
}

impl Encoder for OpusEncoder {
    fn info(&self) -> &CodecInfo {
        &self.info
    }

    /// Every Opus frame size from 2.5 to 60 ms (120..=2880 frames), not only
    /// the configured one.
    fn accepts_frames(&self, frames: usize) -> bool {
        ENCODER_FRAMES.contains(&frames)
    }

    /// 1276 bytes per started 20 ms (a 40/60 ms packet carries 2/3 frames).
    fn max_payload(&self, frames: usize) -> usize {
        MAX_FRAME_BYTES.saturating_mul(frames.div_ceil(960).max(1))
    }

    /// `out` must hold [`Encoder::max_payload`] bytes: a shorter buffer would
    /// make libopus silently lower the bitrate, so it is an error instead.
    fn encode(&mut self, pcm: &[f32], out: &mut [u8]) -> Result<usize, CodecError> {
        let frames = pcm.len() / self.channels;
        if pcm.len() % self.channels != 0 || !self.accepts_frames(frames) {
            return Err(CodecError::BadFrameCount(frames));
        }
        let needed = self.max_payload(frames);
        if out.len() < needed {
            return Err(CodecError::OutputTooSmall {
                needed,
                got: out.len(),
            });
        }
        // SAFETY: `pcm` holds `frames * channels` floats; libopus writes at
        // most `needed` (≤ out.len()) bytes.
        let ret = unsafe {
            ffi::opus_encode_float(
                self.state.cast(),
                pcm.as_ptr(),
                frames as c_int,
                out.as_mut_ptr(),
                needed as i32,
            )
        };
        check(ret)
    }

    fn reset(&mut self) {
        // SAFETY: valid state; OPUS_RESET_STATE keeps the settings.
        unsafe {
            ffi::opus_encoder_ctl(self.state.cast(), ffi::OPUS_RESET_STATE);
        }
    }
}
