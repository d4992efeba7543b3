//! Packet-loss concealment for codecs without their own (G.711, G.722, L16),
//! after ITU-T G.711 Appendix I.
//!
//! Why this algorithm: it is cheap (one pitch search per loss, then a
//! copy), rate-independent, and its behaviour is well known: voiced speech
//! is continued by repeating the last pitch period, which sounds natural for
//! a packet or two, and the level then fades out so a long loss becomes
//! silence instead of a buzz.
//!
//! What it does, with times scaled to any rate (Appendix I is 8 kHz only):
//! - Keeps the last 48.75 ms of played audio (3 × the 15 ms longest pitch
//!   period plus a quarter period).
//! - On the first lost frame, finds the pitch period `P` in 5–15 ms by
//!   normalised autocorrelation over the last 20 ms (stereo: on L+R) and
//!   repeats the last period. The loop point is smoothed by overlap-adding
//!   the last `P/4` of the period with the `P/4` before it.
//! - After 10 ms of loss the repeated segment grows to the last 2 periods,
//!   after 20 ms to 3 (less buzzy), each change cross-faded over `P/4`.
//! - The first 10 ms play at full level, then the level falls linearly by
//!   20 % per 10 ms, reaching exact silence 60 ms into the loss.
//! - On the first good frame the concealment is continued and cross-faded
//!   into the new audio over 4 ms, 4 ms more per further 10 ms of loss (at
//!   most 10 ms), so there is no jump when real audio resumes.
//!
//! One deliberate difference from Appendix I: it delays all output by
//! 3.75 ms so it can rewrite the last quarter period before a loss. Here
//! there is no delay; instead the first `P/4` of concealment carry a
//! decaying offset that makes the splice continuous (the first concealed
//! sample steps from the last real one exactly as the signal did one period
//! earlier). Everything is per frame, so block sizes do not change the
//! output.

use super::{check_config, find_pitch, finite, ms_frames, DspError, MAX_CHANNELS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Playing good audio.
    Idle,
    /// In a loss.
    Concealing,
    /// First good audio after a loss, cross-fading from the concealment.
    Merging,
}

/// A read position in the repeated segment: the last `blen` frames of the
/// history snapshot, `off` frames in.
#[derive(Clone, Copy, Debug, Default)]
struct Reader {
    blen: usize,
    off: usize,
}

/// Concealment state for one stream.
///
/// Call [`Concealer::good`] on every decoded frame in play order (after any
/// time-stretching: the history must be what was actually played) and
/// [`Concealer::conceal`] for every frame that is missing; both take any
/// length and add no latency.
#[derive(Clone, Debug)]
pub struct Concealer {
    rate: u32,
    channels: usize,
    /// History length in frames.
    hist_len: usize,
    /// Ring of the last `hist_len` frames played (interleaved).
    hist: Vec<f32>,
    /// Next write frame in `hist`.
    hpos: usize,
    /// `hist` in order, snapshotted when a loss starts (interleaved).
    pbuf: Vec<f32>,
    mono: Vec<f32>,
    scratch: Vec<f32>,
    /// 10 ms in frames.
    f10: usize,
    min_pitch: usize,
    max_pitch: usize,
    corr_len: usize,
    decim: usize,
    state: State,
    /// Frames generated since the loss started (capped at silence).
    lost: usize,
    pitch: usize,
    /// Quarter period: loop and period-change overlap.
    ov: usize,
    cur: Reader,
    old: Reader,
    /// Frames left in a period-change cross-fade from `old` to `cur`.
    xfade: usize,
    /// Per channel offset that makes the splice into the loss continuous.
    splice: [f32; MAX_CHANNELS],
    merge_len: usize,
    merge_pos: usize,
}

impl Concealer {
    /// A concealer for audio at `sample_rate` Hz (8000..=96000) with
    /// `channels` interleaved channels (1 or 2).
    pub fn new(sample_rate: u32, channels: usize) -> Result<Concealer, DspError> {
        check_config(sample_rate, channels)?;
        let max_pitch = ms_frames(sample_rate, 60);
        let min_pitch = ms_frames(sample_rate, 20);
        let corr_len = ms_frames(sample_rate, 80);
        let hist_len = 3 * max_pitch + max_pitch / 4 + 1;
        let decim = ((sample_rate + 2000) / 4000).max(1) as usize;
        Ok(Concealer {
            rate: sample_rate,
            channels,
            hist_len,
            hist: vec![0.0; hist_len * channels],
            hpos: 0,
            pbuf: vec![0.0; hist_len * channels],
            mono: vec![0.0; hist_len],
            scratch: vec![0.0; (corr_len + max_pitch) / decim + 1],
            f10: ms_frames(sample_rate, 40),
            min_pitch,
            max_pitch,
            corr_len,
            decim,
            state: State::Idle,
            lost: 0,
            pitch: min_pitch,
            ov: 1,
            cur: Reader::default(),
            old: Reader::default(),
            xfade: 0,
            splice: [0.0; MAX_CHANNELS],
            merge_len: 0,
            merge_pos: 0,
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

    /// Frames from the start of a loss to exact silence (60 ms).
    pub fn fade_out_frames(&self) -> usize {
        6 * self.f10
    }

    /// Whether a loss is being concealed or merged out of.
    pub fn is_concealing(&self) -> bool {
        self.state != State::Idle
    }

    /// Frames concealed in the current (or last) loss, counting the merge;
    /// stops counting at [`Concealer::fade_out_frames`].
    pub fn concealed_frames(&self) -> usize {
        self.lost
    }

    /// Pitch period used by the current (or last) loss, in frames.
    pub fn pitch_frames(&self) -> usize {
        self.pitch
    }

    /// Records a good (decoded) interleaved frame of any length. Right after
    /// a loss, cross-fades the continued concealment into its start, in
    /// place. Non-finite samples are replaced by 0 in place. A trailing
    /// partial frame is left as it is and not recorded.
    pub fn good(&mut self, frame: &mut [f32]) {
        let ch = self.channels;
        if self.state == State::Concealing {
            let k = self.lost.div_ceil(self.f10).max(1);
            let four_ms = ms_frames(self.rate, 16);
            self.merge_len = (k * four_ms).min(self.f10);
            self.merge_pos = 0;
            self.state = State::Merging;
        }
        let mut gen = [0f32; MAX_CHANNELS];
        for f in frame.chunks_exact_mut(ch) {
            for v in f.iter_mut() {
                *v = finite(*v);
            }
            if self.state == State::Merging {
                self.next_frame(&mut gen[..ch]);
                let w = (self.merge_pos + 1) as f32 / (self.merge_len + 1) as f32;
                for (v, g) in f.iter_mut().zip(&gen) {
                    *v = (1.0 - w) * g + w * *v;
                }
                self.merge_pos += 1;
                if self.merge_pos >= self.merge_len {
                    self.state = State::Idle;
                }
            }
            self.push(f);
        }
    }

    /// Writes concealment for missing audio into `out` (interleaved, any
    /// length; call repeatedly as the loss goes on). A trailing partial
    /// frame is zeroed.
    pub fn conceal(&mut self, out: &mut [f32]) {
        let ch = self.channels;
        if self.state != State::Concealing {
            self.start_loss();
        }
        let mut chunks = out.chunks_exact_mut(ch);
        for f in &mut chunks {
            self.next_frame(f);
            self.push(f);
        }
        chunks.into_remainder().iter_mut().for_each(|v| *v = 0.0);
    }

    /// Forgets the history and any loss in progress.
    pub fn reset(&mut self) {
        self.hist.iter_mut().for_each(|v| *v = 0.0);
        self.hpos = 0;
        self.state = State::Idle;
        self.lost = 0;
        self.xfade = 0;
    }

    fn push(&mut self, f: &[f32]) {
        let ch = self.channels;
        self.hist[self.hpos * ch..(self.hpos + 1) * ch].copy_from_slice(f);
        self.hpos += 1;
        if self.hpos == self.hist_len {
            self.hpos = 0;
        }
    }

    fn start_loss(&mut self) {
        let ch = self.channels;
        let (h, p) = (self.hist_len, self.hpos * ch);
        let older = h * ch - p;
        self.pbuf[..older].copy_from_slice(&self.hist[p..]);
        self.pbuf[older..].copy_from_slice(&self.hist[..p]);
        let inv = 1.0 / ch as f32;
        for (m, f) in self.mono.iter_mut().zip(self.pbuf.chunks_exact(ch)) {
            *m = f.iter().sum::<f32>() * inv;
        }
        let (pitch, _) = find_pitch(
            &self.mono,
            h,
            self.corr_len,
            self.min_pitch,
            self.max_pitch,
            self.decim,
            &mut self.scratch,
        );
        self.pitch = pitch;
        self.ov = (pitch / 4).max(1);
        self.cur = Reader {
            blen: pitch,
            off: 0,
        };
        self.xfade = 0;
        self.lost = 0;
        for c in 0..ch {
            self.splice[c] = self.pbuf[(h - 1) * ch + c] - self.pbuf[(h - 1 - pitch) * ch + c];
        }
        self.state = State::Concealing;
    }

    /// Value of channel `c` at reader `r` (the loop tail overlap-added with
    /// the frames before the segment, as Appendix I builds its buffer).
    fn fetch(&self, r: Reader, c: usize) -> f32 {
        let (h, ch, ov) = (self.hist_len, self.channels, self.ov);
        let pos = h - r.blen + r.off;
        let v = self.pbuf[pos * ch + c];
        if pos + ov >= h {
            let w = (pos + ov + 1 - h) as f32 / ov as f32;
            (1.0 - w) * v + w * self.pbuf[(pos - r.blen) * ch + c]
        } else {
            v
        }
    }

    /// The next concealed frame into `out` (`channels` samples).
    fn next_frame(&mut self, out: &mut [f32]) {
        let n = self.lost;
        let f10 = self.f10;
        if n >= 6 * f10 {
            out.iter_mut().for_each(|v| *v = 0.0);
            return;
        }
        if n == f10 || n == 2 * f10 {
            self.old = self.cur;
            self.cur = Reader {
                blen: self.pitch * (n / f10 + 1),
                off: self.cur.off % self.pitch,
            };
            self.xfade = self.ov;
        }
        let gain = if n < f10 {
            1.0
        } else {
            1.0 - (n - f10) as f32 / (5 * f10) as f32
        };
        let splice = if n < self.ov {
            1.0 - n as f32 / self.ov as f32
        } else {
            0.0
        };
        for (c, o) in out.iter_mut().enumerate() {
            let mut v = self.fetch(self.cur, c);
            if self.xfade > 0 {
                let w = (self.ov - self.xfade + 1) as f32 / (self.ov + 1) as f32;
                v = (1.0 - w) * self.fetch(self.old, c) + w * v;
            }
            *o = (v + splice * self.splice[c]) * gain;
        }
        self.cur.off += 1;
        if self.cur.off == self.cur.blen {
            self.cur.off = 0;
        }
        if self.xfade > 0 {
            self.xfade -= 1;
            self.old.off += 1;
            if self.old.off == self.old.blen {
                self.old.off = 0;
            }
        }
        self.lost += 1;
    }
}
