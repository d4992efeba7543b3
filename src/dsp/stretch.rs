//! Time-stretching by whole pitch periods (WSOLA), as WebRTC NetEq's
//! `Accelerate` and `PreemptiveExpand` do.
//!
//! Why: a jitter buffer that has grown too long must play audio faster, one
//! that is running dry must play it slower, and both must happen without
//! changing pitch or clicking. Removing or repeating exactly one pitch period
//! of voiced speech, cross-faded over that period, is inaudible; doing it in
//! noise-like sounds (fricatives, music) is not, so those blocks are left
//! alone unless they are quiet enough that nobody hears the seam.
//!
//! Per call, on a contiguous block of decoded audio of at least 30 ms (the
//! NetEq layout, scaled to any rate):
//! 1. The pitch period `P` is searched in 2.5–15 ms by normalised
//!    autocorrelation, coarse on a ~4 kHz box-decimated copy and refined at
//!    full rate. Stereo is analysed on the mid (L+R) signal and both channels
//!    are cut at the same place.
//! 2. The 15 ms point is the splice. The period before it and the period
//!    after it are compared: they are "periodic" when their normalised
//!    correlation is at least the threshold (0.9, NetEq's
//!    `kCorrelationThreshold`), and "quiet" when their mean square is below
//!    the quiet level (NetEq compares with its background-noise estimate;
//!    here the caller may set it, default −50 dBFS).
//! 3. Stretch only when periodic, or quiet (then regardless of
//!    correlation): accelerate cross-fades the period before the splice into
//!    the period after it and drops one period (or, `fast`, as many whole
//!    periods as fit in 15 ms); expand cross-fades the period after the
//!    splice back into the one before and so plays one period twice.
//!
//! The cross-fades are linear over the whole removed/inserted length, so the
//! output is continuous at both ends of the seam.

use super::{check_config, find_pitch, finite, ms_frames, norm_corr, DspError};

/// What a stretch call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StretchMode {
    /// The block was periodic (voiced) and whole periods were removed/inserted.
    Periodic,
    /// The block was quiet and was stretched regardless of periodicity.
    Quiet,
    /// Nothing changed: not periodic enough, input shorter than
    /// [`TimeStretch::min_input_frames`], or `output` too short.
    Unchanged,
}

/// Result of [`TimeStretch::accelerate`] / [`TimeStretch::expand`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StretchResult {
    /// Frames written to `output`.
    pub frames: usize,
    /// Frames removed (accelerate) or inserted (expand); 0 when unchanged.
    pub changed: usize,
    /// Why it did what it did.
    pub mode: StretchMode,
    /// The pitch period found, in frames (0 when no analysis ran).
    pub period: usize,
    /// Normalised correlation of the periods around the splice, `0..=1`.
    pub correlation: f32,
}

/// WSOLA accelerate / pre-emptive expand for one stream.
#[derive(Clone, Debug)]
pub struct TimeStretch {
    rate: u32,
    channels: usize,
    /// The splice point and the longest period: 15 ms.
    splice: usize,
    min_lag: usize,
    corr_len: usize,
    decim: usize,
    mono: Vec<f32>,
    scratch: Vec<f32>,
    threshold: f32,
    quiet: f32,
}

impl TimeStretch {
    /// A stretcher for audio at `sample_rate` Hz (8000..=96000) with
    /// `channels` interleaved channels (1 or 2).
    pub fn new(sample_rate: u32, channels: usize) -> Result<TimeStretch, DspError> {
        check_config(sample_rate, channels)?;
        let splice = ms_frames(sample_rate, 60);
        let min_lag = ms_frames(sample_rate, 10);
        let corr_len = ms_frames(sample_rate, 50);
        let decim = ((sample_rate + 2000) / 4000).max(1) as usize;
        Ok(TimeStretch {
            rate: sample_rate,
            channels,
            splice,
            min_lag,
            corr_len,
            decim,
            mono: vec![0.0; 2 * splice],
            scratch: vec![0.0; (corr_len + splice) / decim + 1],
            threshold: 0.9,
            quiet: 1e-5,
        })
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// Interleaved channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Shortest input block that can be stretched: 30 ms of frames.
    pub fn min_input_frames(&self) -> usize {
        2 * self.splice
    }

    /// Longest pitch period searched (15 ms of frames): the most one
    /// [`TimeStretch::expand`] inserts and one non-`fast` accelerate removes.
    pub fn max_period_frames(&self) -> usize {
        self.splice
    }

    /// Sets the correlation needed to stretch non-quiet audio (default 0.9).
    pub fn set_correlation_threshold(&mut self, threshold: f32) {
        self.threshold = if threshold.is_nan() { 0.9 } else { threshold };
    }

    /// Sets the mean square (per sample, full scale 1.0) below which audio
    /// counts as quiet and is stretched even when not periodic (default
    /// `1e-5`, −50 dBFS). A receiver with a background-noise estimate can
    /// pass a few times that estimate, as NetEq does; 0 disables.
    pub fn set_quiet_level(&mut self, mean_square: f32) {
        self.quiet = if mean_square.is_finite() {
            mean_square.max(0.0)
        } else {
            0.0
        };
    }

    /// Plays `input` faster: writes it to `output` with one pitch period
    /// removed (with `fast`, as many whole periods as fit in 15 ms, like
    /// NetEq's fast accelerate) when the block is periodic or quiet.
    ///
    /// `output` must hold at least `input.len()` samples; `input` at least
    /// [`TimeStretch::min_input_frames`] frames, else it is copied unchanged.
    /// Only the first 30 ms are analysed and modified; the rest is copied.
    pub fn accelerate(&mut self, input: &[f32], output: &mut [f32], fast: bool) -> StretchResult {
        let ch = self.channels;
        let n = input.len() / ch;
        if n < self.min_input_frames() || output.len() / ch < n {
            return copy_unchanged(input, output, ch, 0, 0.0);
        }
        let (period, corr, active) = self.analyse(input);
        if active && corr < self.threshold {
            return copy_unchanged(input, output, ch, period, corr);
        }
        let u = self.splice;
        let len = if fast { (u / period) * period } else { period };
        // [0, u - len): as is; [u - len, u): x[u - len + i] fading into
        // x[u + i]; then x[u + len ..].
        copy_finite(&input[..(u - len) * ch], &mut output[..(u - len) * ch]);
        fade(
            &input[(u - len) * ch..u * ch],
            &input[u * ch..(u + len) * ch],
            &mut output[(u - len) * ch..u * ch],
            ch,
        );
        copy_finite(
            &input[(u + len) * ch..n * ch],
            &mut output[u * ch..(n - len) * ch],
        );
        StretchResult {
            frames: n - len,
            changed: len,
            mode: if active {
                StretchMode::Periodic
            } else {
                StretchMode::Quiet
            },
            period,
            correlation: corr,
        }
    }

    /// Plays `input` slower: writes it to `output` with one pitch period
    /// repeated when the block is periodic or quiet.
    ///
    /// `output` must hold at least `input.len()` samples plus
    /// [`TimeStretch::max_period_frames`] frames; `input` at least
    /// [`TimeStretch::min_input_frames`] frames, else it is copied unchanged.
    pub fn expand(&mut self, input: &[f32], output: &mut [f32]) -> StretchResult {
        let ch = self.channels;
        let n = input.len() / ch;
        if n < self.min_input_frames() || output.len() / ch < n + self.splice {
            return copy_unchanged(input, output, ch, 0, 0.0);
        }
        let (period, corr, active) = self.analyse(input);
        if active && corr < self.threshold {
            return copy_unchanged(input, output, ch, period, corr);
        }
        let u = self.splice;
        let p = period;
        // [0, u): as is; [u, u + p): x[u + i] fading into x[u - p + i];
        // then x[u ..] again.
        copy_finite(&input[..u * ch], &mut output[..u * ch]);
        fade(
            &input[u * ch..(u + p) * ch],
            &input[(u - p) * ch..u * ch],
            &mut output[u * ch..(u + p) * ch],
            ch,
        );
        copy_finite(
            &input[u * ch..n * ch],
            &mut output[(u + p) * ch..(n + p) * ch],
        );
        StretchResult {
            frames: n + p,
            changed: p,
            mode: if active {
                StretchMode::Periodic
            } else {
                StretchMode::Quiet
            },
            period: p,
            correlation: corr,
        }
    }

    /// Pitch period, correlation across the splice, and whether the two
    /// periods around it are louder than the quiet level.
    fn analyse(&mut self, input: &[f32]) -> (usize, f32, bool) {
        let ch = self.channels;
        let n = self.mono.len();
        let inv = 1.0 / ch as f32;
        for (m, f) in self.mono.iter_mut().zip(input.chunks_exact(ch)).take(n) {
            *m = f.iter().map(|v| finite(*v)).sum::<f32>() * inv;
        }
        let u = self.splice;
        let (p, _) = find_pitch(
            &self.mono,
            u + self.corr_len,
            self.corr_len,
            self.min_lag,
            u,
            self.decim,
            &mut self.scratch,
        );
        let (c, e1, e2) = norm_corr(&self.mono[u - p..u], &self.mono[u..u + p]);
        let mean_sq = (e1 + e2) / (2 * p) as f32;
        // A NaN or infinite energy is not quiet: it counts as active (and
        // then fails the correlation test).
        let quiet = mean_sq <= self.quiet;
        let active = !quiet;
        (p, c, active)
    }
}

fn copy_finite(src: &[f32], dst: &mut [f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = finite(*s);
    }
}

fn copy_unchanged(
    input: &[f32],
    output: &mut [f32],
    ch: usize,
    period: usize,
    correlation: f32,
) -> StretchResult {
    let frames = (input.len() / ch).min(output.len() / ch);
    copy_finite(&input[..frames * ch], &mut output[..frames * ch]);
    StretchResult {
        frames,
        changed: 0,
        mode: StretchMode::Unchanged,
        period,
        correlation,
    }
}

/// `out[i] = (1 - w) a[i] + w b[i]`, `w = (i + 1) / (len + 1)` per frame.
fn fade(a: &[f32], b: &[f32], out: &mut [f32], ch: usize) {
    let len = out.len() / ch;
    let step = 1.0 / (len as f32 + 1.0);
    for (i, ((fa, fb), fo)) in a
        .chunks_exact(ch)
        .zip(b.chunks_exact(ch))
        .zip(out.chunks_exact_mut(ch))
        .enumerate()
    {
        let w = (i as f32 + 1.0) * step;
        for ((x, y), o) in fa.iter().zip(fb).zip(fo.iter_mut()) {
            *o = (1.0 - w) * finite(*x) + w * finite(*y);
        }
    }
}
