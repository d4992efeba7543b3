//! Signal processing for the receive and send paths: sample-rate conversion,
//! time-stretching and packet-loss concealment.
//!
//! Why these live here and not in a library: they run inside the
//! AudioWorklet's render call, so they must be allocation-free after
//! construction, panic-free on any input (NaN and infinities included) and
//! O(n) per block, at any block size. Each type therefore sizes all of its
//! buffers in its constructor, treats non-finite input samples as silence
//! (so one bad sample cannot poison a filter's state forever), and works on
//! caller-owned interleaved `f32` slices, mono or stereo.
//!
//! - [`resample::Resampler`]: streaming polyphase windowed-sinc converter
//!   between any two rates in 8–96 kHz, pull-friendly (ask how much input
//!   N output frames need).
//! - [`stretch::TimeStretch`]: WSOLA accelerate / pre-emptive expand that
//!   removes or inserts whole pitch periods, as WebRTC NetEq does to shrink
//!   or grow the jitter buffer without audible artefacts; and
//!   [`cross_fade`], the overlap-add used to join concealment to new audio.
//! - [`plc::Concealer`]: G.711 Appendix I style concealment (pitch
//!   repetition with a fade-out) for codecs without their own PLC.

use core::fmt;

pub mod plc;
pub mod resample;
pub mod stretch;

pub use plc::Concealer;
pub use resample::{Quality, Resampler};
pub use stretch::{StretchMode, StretchResult, TimeStretch};

/// Lowest sample rate the DSP blocks accept, in Hz.
pub const MIN_RATE: u32 = 8_000;
/// Highest sample rate the DSP blocks accept, in Hz.
pub const MAX_RATE: u32 = 96_000;
/// Most interleaved channels the DSP blocks accept (mono or stereo).
pub const MAX_CHANNELS: usize = 2;

/// Why a DSP block could not be constructed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DspError {
    /// A sample rate outside [`MIN_RATE`]`..=`[`MAX_RATE`] (the rate given).
    UnsupportedRate(u32),
    /// A channel count outside `1..=`[`MAX_CHANNELS`] (the count given).
    UnsupportedChannels(usize),
}

impl fmt::Display for DspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DspError::UnsupportedRate(r) => {
                write!(
                    f,
                    "unsupported sample rate {r} Hz (need {MIN_RATE}..={MAX_RATE})"
                )
            }
            DspError::UnsupportedChannels(c) => {
                write!(f, "unsupported channel count {c} (need 1..={MAX_CHANNELS})")
            }
        }
    }
}

impl std::error::Error for DspError {}

pub(crate) fn check_config(rate: u32, channels: usize) -> Result<(), DspError> {
    if !(MIN_RATE..=MAX_RATE).contains(&rate) {
        return Err(DspError::UnsupportedRate(rate));
    }
    if !(1..=MAX_CHANNELS).contains(&channels) {
        return Err(DspError::UnsupportedChannels(channels));
    }
    Ok(())
}

/// Frames in `ms` milliseconds at `rate` (rounded down, at least 1).
pub(crate) fn ms_frames(rate: u32, ms_x4: u32) -> usize {
    // `ms_x4` is in quarter milliseconds so 2.5 ms and 3.75 ms are exact.
    ((rate as u64 * ms_x4 as u64) / 4000).max(1) as usize
}

/// A non-finite sample becomes silence.
#[inline]
pub(crate) fn finite(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Overlap-adds `fade_out` into the start of `fade_in` (both interleaved
/// with `channels` channels) with complementary linear ramps, and returns
/// the frames faded: the shorter of the two.
///
/// Frame `i` of `n` becomes `(1 - w) * fade_out + w * fade_in` with
/// `w = (i + 1) / (n + 1)`, so neither end is a hard cut: joining the tail
/// of concealment (or the old signal) to newly decoded audio after a gap
/// leaves no click. Linear (equal-gain) ramps keep the level of correlated
/// signals, which is the case these joins are made for. Non-finite samples
/// count as silence. Frames of `fade_in` past the fade are left as they are.
pub fn cross_fade(fade_out: &[f32], fade_in: &mut [f32], channels: usize) -> usize {
    let ch = channels.max(1);
    let n = (fade_out.len() / ch).min(fade_in.len() / ch);
    let step = 1.0 / (n as f32 + 1.0);
    for (i, (o, f)) in fade_out
        .chunks_exact(ch)
        .zip(fade_in.chunks_exact_mut(ch))
        .take(n)
        .enumerate()
    {
        let w = (i as f32 + 1.0) * step;
        for (a, b) in o.iter().zip(f.iter_mut()) {
            *b = (1.0 - w) * finite(*a) + w * finite(*b);
        }
    }
    n
}

/// `Σ a·b` with eight independent partial sums, so it vectorises.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Normalised cross-correlation of two equally long segments, in `[-1, 1]`;
/// 0 when either is (nearly) silent or the sums are not finite. Also
/// returns the two energies.
pub(crate) fn norm_corr(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    let ab = dot(a, b);
    let aa = dot(a, a);
    let bb = dot(b, b);
    let den = (aa as f64 * bb as f64).sqrt();
    let c = if den > 1e-20 && ab.is_finite() && den.is_finite() {
        (ab as f64 / den).clamp(-1.0, 1.0) as f32
    } else {
        0.0
    };
    (c, aa, bb)
}

/// Pitch-period search by normalised autocorrelation, shared by
/// time-stretch and concealment.
///
/// Compares `x[end - corr_len .. end]` with the same length `lag` frames
/// earlier for `lag` in `min_lag..=max_lag`: first on a copy decimated by
/// `decim` (box average, about 4 kHz, cheap), then at full rate around the
/// best coarse lag. Returns `(lag, correlation)`; shorter lags win ties.
/// `scratch` must hold `(corr_len + max_lag) / decim` samples. Out-of-range
/// arguments are clamped; nothing here panics.
pub(crate) fn find_pitch(
    x: &[f32],
    end: usize,
    corr_len: usize,
    min_lag: usize,
    max_lag: usize,
    decim: usize,
    scratch: &mut [f32],
) -> (usize, f32) {
    let end = end.min(x.len());
    let min_lag = min_lag.max(1);
    if corr_len == 0 || max_lag < min_lag || end < corr_len + max_lag {
        return (min_lag, 0.0);
    }
    let d = decim.max(1);
    let mut best = (min_lag, f32::MIN);
    if d > 1 {
        let nd = ((corr_len + max_lag) / d).min(scratch.len());
        let cl = corr_len / d;
        let (lo, hi) = (min_lag.div_ceil(d), max_lag / d);
        if nd > 0 && cl > 0 && hi >= lo && nd >= cl + hi {
            let y = &mut scratch[..nd];
            let base = end - nd * d;
            let inv = 1.0 / d as f32;
            for (i, v) in y.iter_mut().enumerate() {
                let s = &x[base + i * d..base + (i + 1) * d];
                *v = s.iter().sum::<f32>() * inv;
            }
            let y = &scratch[..nd];
            let r = &y[nd - cl..];
            let mut cbest = (lo, f32::MIN);
            for lag in lo..=hi {
                let (c, _, _) = norm_corr(r, &y[nd - cl - lag..nd - lag]);
                if c > cbest.1 {
                    cbest = (lag, c);
                }
            }
            let centre = cbest.0 * d;
            let (flo, fhi) = (
                centre.saturating_sub(d - 1).max(min_lag),
                (centre + d - 1).min(max_lag),
            );
            best = full_rate_best(x, end, corr_len, flo, fhi, best);
        }
    }
    if best.1 == f32::MIN {
        best = full_rate_best(x, end, corr_len, min_lag, max_lag, best);
    }
    (best.0, best.1.clamp(0.0, 1.0))
}

fn full_rate_best(
    x: &[f32],
    end: usize,
    corr_len: usize,
    lo: usize,
    hi: usize,
    mut best: (usize, f32),
) -> (usize, f32) {
    let r = &x[end - corr_len..end];
    for lag in lo..=hi {
        let (c, _, _) = norm_corr(r, &x[end - corr_len - lag..end - lag]);
        if c > best.1 {
            best = (lag, c);
        }
    }
    best
}
