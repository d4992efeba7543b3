//! G.711 μ-law (PCMU) and A-law (PCMA), bit-exact with ffmpeg.
//!
//! Why ffmpeg's flavour: G.711 decoders all agree, but encoders differ in
//! how they round at the decision thresholds. voxlet matches ffmpeg, a widely
//! deployed peer and the source of the test fixtures, so tests compare bytes
//! instead of tolerances.
//!
//! - Decoding is the classic Sun `g711.c` expansion, evaluated at compile
//!   time into 256-entry tables (one `i16` table for the integer API, one
//!   `f32` table so the hot path is a single load per sample).
//! - Encoding reproduces ffmpeg's `pcm_tablegen.h`: it quantizes the input to
//!   14 bits (`v >> 2`) and picks the code whose *decoded* value is nearest,
//!   with ffmpeg's own rounding of the decision thresholds (they are
//!   `(d[i] + d[i+1] + 4) >> 3` in 14-bit units). Instead of ffmpeg's 16 KiB
//!   table per law, the code is computed: within a segment the thresholds
//!   fall on a regular grid, and only the first code of each segment is
//!   narrower, which one comparison corrects. No data in the wasm binary, and
//!   about as fast as the table (it vectorizes; `examples/bench_g711.rs`). All
//!   65 536 inputs are checked against ffmpeg in `tests/codec_g711.rs`.
//!
//! Payloads carry one byte per sample at 8 kHz, mono (RFC 3551 §4.5.14).

use super::{f32_to_i16, CodecInfo, CodecKind, Decoder, Encoder};
use crate::codec::CodecError;

/// Largest payload the G.711 decoders accept and encoders produce, in frames:
/// 8000 (one second at 8 kHz). Real streams use 10–60 ms packets; this bound
/// only keeps [`Decoder::max_frames`] a true upper bound that callers can
/// size their output buffers with.
pub const MAX_FRAMES: usize = 8000;

const ULAW_BIAS: i32 = 0x84;

/// Sun `ulaw2linear`: 8-bit μ-law code → 16-bit linear.
const fn ulaw_expand(u: u8) -> i16 {
    let u = !u as i32;
    let t = (((u & 0x0F) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 {
        ULAW_BIAS - t
    } else {
        t - ULAW_BIAS
    }) as i16
}

/// Sun `alaw2linear`: 8-bit A-law code → 16-bit linear.
const fn alaw_expand(a: u8) -> i16 {
    let a = (a ^ 0x55) as i32;
    let q = a & 0x0F;
    let seg = (a & 0x70) >> 4;
    let t = if seg != 0 {
        (q + q + 1 + 32) << (seg + 2)
    } else {
        (q + q + 1) << 3
    };
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

const fn i16_table(alaw: bool) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if alaw {
            alaw_expand(i as u8)
        } else {
            ulaw_expand(i as u8)
        };
        i += 1;
    }
    t
}

const fn f32_table(t: &[i16; 256]) -> [f32; 256] {
    let mut f = [0f32; 256];
    let mut i = 0;
    while i < 256 {
        // Exact: every 16-bit value is representable, and /32768 is a power of 2.
        f[i] = t[i] as f32 / 32768.0;
        i += 1;
    }
    f
}

static ULAW_I16: [i16; 256] = i16_table(false);
static ALAW_I16: [i16; 256] = i16_table(true);
static ULAW_F32: [f32; 256] = f32_table(&i16_table(false));
static ALAW_F32: [f32; 256] = f32_table(&i16_table(true));

/// Decodes one μ-law byte to a 16-bit sample (Sun / ffmpeg `pcm_mulaw`).
#[inline]
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_I16[code as usize]
}

/// Decodes one A-law byte to a 16-bit sample (Sun / ffmpeg `pcm_alaw`).
#[inline]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_I16[code as usize]
}

/// ffmpeg's 14-bit magnitude of a sample (0..=8191) and its sign (0 or -1).
///
/// ffmpeg indexes its tables with `(v + 32768) >> 2`, i.e. `floor(v / 4)`,
/// and gives index 0 (-8192) the code of index 1, hence the clamp.
#[inline(always)]
fn magnitude14(v: i16) -> (u32, i32) {
    let m = (v as i32) >> 2;
    let sign = m >> 31;
    (((m ^ sign) - sign).min(8191) as u32, sign)
}

/// `16 * (e - 5) + m`, for an integer `x` in `2^e ..= 2^(e+1) - 1`, `e >= 5`,
/// where `m` is the 4 bits after the leading one: the segment and step of a
/// G.711 code, read off the exponent and top mantissa bits of `x as f32`
/// (exact below 2^24). One less when `x - 2^e < 2^(e - 7)`: the first code of
/// each segment is narrower than the grid because its lower threshold is the
/// midpoint between steps of two different sizes. Branch-free, so the loops
/// vectorize (SSE2, wasm simd128), which a leading-zero count would not.
#[inline(always)]
fn segment_code(x: u32) -> u32 {
    let bits = (x as f32).to_bits();
    let narrow = ((bits >> 16) & 0x7F == 0) as u32;
    (bits >> 19).wrapping_sub((127 + 5) * 16 + narrow)
}

/// Encodes a 16-bit sample to μ-law, bit-exact with ffmpeg's `pcm_mulaw`.
#[inline]
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let (j, sign) = magnitude14(sample);
    // The μ-law bias (0x84 = 33 in 14-bit units) makes every segment
    // `32 << s ..= (64 << s) - 1`; the clipped top (8192..) folds into 127.
    let code = segment_code(j + 33).min(127) as u8;
    code ^ (0xFF ^ (sign as u8 & 0x80))
}

/// Encodes a 16-bit sample to A-law, bit-exact with ffmpeg's `pcm_alaw`.
#[inline]
pub fn linear_to_alaw(sample: i16) -> u8 {
    let (j, sign) = magnitude14(sample);
    // Segments 0 and 1 share one step (4), below 128 the code is linear.
    let seg = segment_code(j); // computed always: the select stays branch-free
    let code = if j < 128 { j >> 2 } else { seg };
    (code as u8) ^ (0xD5 ^ (sign as u8 & 0x80))
}

fn g711_info(kind: CodecKind) -> CodecInfo {
    CodecInfo {
        kind,
        clock_rate: 8000,
        sample_rate: 8000,
        channels: 1,
    }
}

fn check_len(frames: usize) -> Result<(), CodecError> {
    if frames > MAX_FRAMES {
        Err(CodecError::InvalidPayload("G.711 payload longer than 1 s"))
    } else {
        Ok(())
    }
}

fn decode_with(table: &[f32; 256], payload: &[u8], out: &mut [f32]) -> Result<usize, CodecError> {
    check_len(payload.len())?;
    let n = payload.len();
    let got = out.len();
    let out = out
        .get_mut(..n)
        .ok_or(CodecError::OutputTooSmall { needed: n, got })?;
    for (o, &b) in out.iter_mut().zip(payload) {
        *o = table[b as usize];
    }
    Ok(n)
}

fn encode_with(enc: fn(i16) -> u8, pcm: &[f32], out: &mut [u8]) -> Result<usize, CodecError> {
    let n = pcm.len();
    if n == 0 || n > MAX_FRAMES {
        return Err(CodecError::BadFrameCount(n));
    }
    let got = out.len();
    let out = out
        .get_mut(..n)
        .ok_or(CodecError::OutputTooSmall { needed: n, got })?;
    for (o, &x) in out.iter_mut().zip(pcm) {
        *o = enc(f32_to_i16(x));
    }
    Ok(n)
}

macro_rules! g711_codec {
    ($dec:ident, $enc:ident, $kind:expr, $table:ident, $encode:ident, $name:literal) => {
        #[doc = concat!($name, " decoder: one byte → one sample, stateless.")]
        #[derive(Debug, Clone)]
        pub struct $dec {
            info: CodecInfo,
        }

        impl $dec {
            #[doc = concat!("A ", $name, " decoder (8 kHz mono).")]
            pub fn new() -> $dec {
                $dec {
                    info: g711_info($kind),
                }
            }
        }

        impl Default for $dec {
            fn default() -> Self {
                Self::new()
            }
        }

        impl Decoder for $dec {
            fn info(&self) -> &CodecInfo {
                &self.info
            }
            /// [`MAX_FRAMES`] (1 s); longer payloads are rejected.
            fn max_frames(&self) -> usize {
                MAX_FRAMES
            }
            fn frames_in(&self, payload: &[u8]) -> Result<usize, CodecError> {
                check_len(payload.len())?;
                Ok(payload.len())
            }
            fn decode(&mut self, payload: &[u8], out: &mut [f32]) -> Result<usize, CodecError> {
                decode_with(&$table, payload, out)
            }
            fn reset(&mut self) {}
        }

        #[doc = concat!($name, " encoder: one sample → one byte, stateless.")]
        #[derive(Debug, Clone)]
        pub struct $enc {
            info: CodecInfo,
        }

        impl $enc {
            #[doc = concat!("A ", $name, " encoder (8 kHz mono).")]
            pub fn new() -> $enc {
                $enc {
                    info: g711_info($kind),
                }
            }
        }

        impl Default for $enc {
            fn default() -> Self {
                Self::new()
            }
        }

        impl Encoder for $enc {
            fn info(&self) -> &CodecInfo {
                &self.info
            }
            /// Any count from 1 to [`MAX_FRAMES`].
            fn accepts_frames(&self, frames: usize) -> bool {
                (1..=MAX_FRAMES).contains(&frames)
            }
            fn max_payload(&self, frames: usize) -> usize {
                frames
            }
            fn encode(&mut self, pcm: &[f32], out: &mut [u8]) -> Result<usize, CodecError> {
                encode_with($encode, pcm, out)
            }
            fn reset(&mut self) {}
        }
    };
}

g711_codec!(
    PcmuDecoder,
    PcmuEncoder,
    CodecKind::Pcmu,
    ULAW_F32,
    linear_to_ulaw,
    "G.711 μ-law (PCMU)"
);
g711_codec!(
    PcmaDecoder,
    PcmaEncoder,
    CodecKind::Pcma,
    ALAW_F32,
    linear_to_alaw,
    "G.711 A-law (PCMA)"
);
