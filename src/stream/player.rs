//! The stream-mode player: queue, resampler, marks, events.

use std::collections::VecDeque;

use super::{
    AudioFormat, OverflowPolicy, StreamConfig, StreamError, StreamEvent, StreamStats, BLOCK_FRAMES,
    MAX_OUTPUT_CHANNELS,
};
use crate::codec::g711::{alaw_to_linear, ulaw_to_linear};
use crate::codec::{i16_to_f32, CodecInfo, CodecKind, Decoder};
use crate::dsp::{self, DspError, Resampler};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not playing; the resampler is reset and idle.
    Stopped,
    /// Feeding queued audio to the resampler.
    Playing,
    /// The queue ran dry: feeding silence until the tail has played.
    Draining,
}

#[derive(Clone, Copy, Debug)]
struct PendingMark {
    id: u32,
    /// Queue position (frames pushed before the mark).
    pos: u64,
    /// Output frame (in `out_total` units) at which it fires, once known.
    target: Option<u64>,
}

/// A playout queue for untimestamped audio, rendered at the output rate.
///
/// ```
/// use voxlet::stream::{AudioFormat, StreamConfig, StreamEvent, StreamPlayer};
/// let mut p = StreamPlayer::new(AudioFormat::Pcmu, StreamConfig::new(48_000, 1)).unwrap();
/// p.push(&[0xFF; 160]).unwrap(); // 20 ms of μ-law silence
/// p.mark(7).unwrap();
/// let mut out = [0f32; 128];
/// let mut t = 0.0;
/// let mut marks = 0;
/// for _ in 0..10 {
///     p.render(&mut out, t);
///     t += 128.0 / 48.0;
///     while let Some(e) = p.poll_event() {
///         if let StreamEvent::Mark { id: 7, .. } = e { marks += 1 }
///     }
/// }
/// assert_eq!(marks, 1);
/// ```
///
/// Behaviour:
/// - **Push** ([`StreamPlayer::push`]): chunks in the input [`AudioFormat`]
///   are decoded right away (μ-law/A-law by table, G.722 and Opus with the
///   crate's decoders, L16 either byte order) and appended. Byte streams
///   may be cut anywhere: an incomplete L16 frame is carried to the next
///   push. Opus chunks are whole packets. Pushing may allocate (the queue
///   grows up to [`StreamConfig::max_queue_ms`]); rendering never does.
/// - **Start**: playback starts when [`StreamConfig::start_threshold_ms`] is
///   queued, or when audio has waited [`StreamConfig::start_timeout_ms`].
/// - **Render** ([`StreamPlayer::render`] interleaved,
///   [`StreamPlayer::render_planar`] channel after channel): fills the whole
///   output every call, silence when there is nothing to play; never
///   allocates, never panics.
/// - **Running dry**: when the queue empties, the resampler's tail is played
///   out (fed silence: the last frame's position plus twice the latency,
///   the whole filter), then [`StreamEvent::Drained`] is sent and playback
///   waits for the threshold again. If audio arrives first, playback just
///   continues (no `Drained`); either way the resumption counts as an
///   underrun.
/// - **Marks** ([`StreamPlayer::mark`]): fire ([`StreamEvent::Mark`]) in the
///   render call that plays the last frame pushed before them, exactly once
///   and in order; or [`StreamEvent::MarkCleared`] if `clear()` drops them.
///   The output position of input frame `k` is `k·out/in` plus the
///   resampler's latency, so the mark fires once frame
///   `ceil(pos·out/in) + latency` of this playback has been rendered.
/// - **Clear** ([`StreamPlayer::clear`], barge-in): drops the queue and
///   pending marks; the next render call fades what was playing out over
///   [`StreamConfig::clear_fade_ms`] (at most that call's length) and is
///   silent after that. Audio pushed after `clear()` plays after the fade.
/// - **Overflow**: see [`OverflowPolicy`].
pub struct StreamPlayer {
    cfg: StreamConfig,
    input: AudioFormat,
    in_rate: u32,
    in_ch: usize,
    decoder: Option<Box<dyn Decoder>>,
    scratch: Vec<f32>,
    carry: [u8; 4],
    carry_len: usize,

    queue: VecDeque<f32>,
    max_queue_frames: usize,
    threshold_frames: usize,
    timeout_frames: u64,
    fade_frames: usize,

    rs: Resampler,
    latency: u64,
    block: Vec<f32>,
    mix: Vec<f32>,
    zeros: Vec<f32>,

    state: State,
    fading: bool,
    fade_keep: usize,
    starved: bool,
    wait_frames: u64,

    pushed: u64,
    consumed: u64,
    offset: i64,
    rs_in: u64,
    rs_base_out: u64,
    out_total: u64,

    marks: VecDeque<PendingMark>,
    drain_target: Option<u64>,
    /// Mark position of the end of the audio when the queue last ran dry.
    dry_target: u64,
    events: VecDeque<StreamEvent>,

    stats: StreamStats,
    played_frames: u64,
}

impl core::fmt::Debug for StreamPlayer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StreamPlayer")
            .field("input", &self.input)
            .field("config", &self.cfg)
            .field("state", &self.state)
            .field("queued_frames", &self.queued_frames())
            .finish_non_exhaustive()
    }
}

fn frames_of(ms: f64, rate: u32) -> u64 {
    (ms * rate as f64 / 1000.0).round().max(0.0) as u64
}

fn check_format(f: &AudioFormat) -> Result<(), StreamError> {
    let ch = f.channels();
    if !(1..=dsp::MAX_CHANNELS).contains(&ch) {
        return Err(StreamError::Dsp(DspError::UnsupportedChannels(ch)));
    }
    let r = f.sample_rate();
    if !(dsp::MIN_RATE..=dsp::MAX_RATE).contains(&r) {
        return Err(StreamError::Dsp(DspError::UnsupportedRate(r)));
    }
    Ok(())
}

impl StreamPlayer {
    /// A player for chunks in `input`, rendering as `cfg` says.
    pub fn new(input: AudioFormat, cfg: StreamConfig) -> Result<StreamPlayer, StreamError> {
        if !(1..=MAX_OUTPUT_CHANNELS).contains(&usize::from(cfg.output_channels)) {
            return Err(StreamError::Config("output_channels"));
        }
        if cfg.max_marks == 0 || cfg.max_marks > 1 << 16 {
            return Err(StreamError::Config("max_marks"));
        }
        if cfg.max_queue_ms == 0
            || cfg.max_queue_ms > super::MAX_QUEUE_MS
            || cfg.start_threshold_ms > cfg.max_queue_ms
        {
            return Err(StreamError::Config("max_queue_ms / start_threshold_ms"));
        }
        if !(0.0..=100.0).contains(&cfg.clear_fade_ms) {
            return Err(StreamError::Config("clear_fade_ms"));
        }
        check_format(&input)?;
        if !(dsp::MIN_RATE..=dsp::MAX_RATE).contains(&cfg.output_rate) {
            return Err(StreamError::Dsp(DspError::UnsupportedRate(cfg.output_rate)));
        }
        let out_ch = usize::from(cfg.output_channels);
        // Placeholder (a pass-through has no filter bank); `setup_input` builds the real one.
        let rs = Resampler::new(dsp::MIN_RATE, dsp::MIN_RATE, 1)?;
        let mut p = StreamPlayer {
            cfg,
            input,
            in_rate: 0,
            in_ch: 0,
            decoder: None,
            scratch: Vec::new(),
            carry: [0; 4],
            carry_len: 0,
            queue: VecDeque::new(),
            max_queue_frames: 0,
            threshold_frames: 0,
            timeout_frames: frames_of(cfg.start_timeout_ms as f64, cfg.output_rate),
            fade_frames: frames_of(cfg.clear_fade_ms as f64, cfg.output_rate) as usize,
            rs,
            latency: 0,
            block: Vec::new(),
            mix: vec![0.0; BLOCK_FRAMES * out_ch],
            zeros: Vec::new(),
            state: State::Stopped,
            fading: false,
            fade_keep: 0,
            starved: false,
            wait_frames: 0,
            pushed: 0,
            consumed: 0,
            offset: 0,
            rs_in: 0,
            rs_base_out: 0,
            out_total: 0,
            marks: VecDeque::with_capacity(cfg.max_marks),
            drain_target: None,
            dry_target: 0,
            events: VecDeque::with_capacity(2 * cfg.max_marks + 16),
            stats: StreamStats::default(),
            played_frames: 0,
        };
        p.setup_input(input)?;
        Ok(p)
    }

    /// (Re)builds everything that depends on the input format.
    fn setup_input(&mut self, input: AudioFormat) -> Result<(), StreamError> {
        check_format(&input)?;
        let (rate, ch) = (input.sample_rate(), input.channels());
        let decoder = match input {
            AudioFormat::G722 => Some(CodecInfo::new(CodecKind::G722, 8000, 1)?.decoder()?),
            AudioFormat::Opus { channels } => Some(
                CodecInfo::new(CodecKind::Opus, 48000, 2)?
                    .with_channels(channels)?
                    .decoder()?,
            ),
            _ => None,
        };
        if rate != self.in_rate || ch != self.in_ch {
            self.rs = Resampler::with_quality(
                rate,
                self.cfg.output_rate,
                ch,
                self.cfg.resampler_quality,
            )?;
            self.latency = self.rs.latency_frames() as u64;
            self.block = vec![0.0; BLOCK_FRAMES * ch];
            self.zeros = vec![0.0; self.rs.max_input_frames_needed(BLOCK_FRAMES).max(1) * ch];
            self.in_rate = rate;
            self.in_ch = ch;
            self.max_queue_frames = frames_of(self.cfg.max_queue_ms as f64, rate) as usize;
            self.threshold_frames = frames_of(self.cfg.start_threshold_ms as f64, rate) as usize;
            self.queue =
                VecDeque::with_capacity((rate as usize * ch).min(self.max_queue_frames * ch));
            self.reset_resampler();
        }
        self.scratch = match &decoder {
            Some(d) => vec![0.0; d.max_frames() * ch],
            None => Vec::new(),
        };
        self.decoder = decoder;
        self.input = input;
        self.carry_len = 0;
        Ok(())
    }

    /// Switches to another input format. Same rate and channel count: at
    /// any time (the queue is kept). Otherwise only when nothing is queued,
    /// playing, fading or marked ([`StreamError::Busy`]).
    pub fn set_input(&mut self, input: AudioFormat) -> Result<(), StreamError> {
        let reshape = input.sample_rate() != self.in_rate || input.channels() != self.in_ch;
        let idle = self.state == State::Stopped
            && !self.fading
            && self.queue.is_empty()
            && self.marks.is_empty();
        if reshape && !idle {
            return Err(StreamError::Busy);
        }
        self.setup_input(input)
    }

    /// The input format.
    pub fn input(&self) -> AudioFormat {
        self.input
    }

    /// The settings.
    pub fn config(&self) -> &StreamConfig {
        &self.cfg
    }

    /// The resampler's delay in output frames (also the delay of marks).
    pub fn latency_frames(&self) -> usize {
        self.latency as usize
    }

    /// Frames waiting in the queue (at the input rate). Frames that a
    /// pending `clear()` fade still plays do not count.
    pub fn queued_frames(&self) -> usize {
        self.raw_frames() - if self.fading { self.fade_keep } else { 0 }
    }

    /// Frames in the queue, including those kept for a fade.
    fn raw_frames(&self) -> usize {
        self.queue.len() / self.in_ch
    }

    /// Audio waiting in the queue, in ms.
    pub fn queued_ms(&self) -> f64 {
        self.queued_frames() as f64 * 1000.0 / self.in_rate as f64
    }

    /// Whether playback is running (from `Started` until `Drained` or `clear()`).
    pub fn is_playing(&self) -> bool {
        self.state != State::Stopped && !self.fading
    }

    /// Counters and state.
    pub fn stats(&self) -> StreamStats {
        StreamStats {
            queued_ms: self.queued_ms(),
            queued_frames: self.queued_frames(),
            played_ms: self.played_frames as f64 * 1000.0 / self.in_rate as f64,
            marks_pending: self.marks.len(),
            playing: self.is_playing(),
            ..self.stats
        }
    }

    /// The next event, oldest first; `None` when there are none. Never allocates.
    pub fn poll_event(&mut self) -> Option<StreamEvent> {
        self.events.pop_front()
    }

    fn emit(&mut self, e: StreamEvent) {
        if self.events.len() < self.events.capacity() {
            self.events.push_back(e);
        } else {
            self.stats.events_dropped += 1;
        }
    }

    fn ms_of_frames(&self, frames: usize) -> f64 {
        frames as f64 * 1000.0 / self.in_rate as f64
    }

    /// Makes room for `frames` more frames, per the overflow policy.
    fn admit(&mut self, frames: usize) -> Result<(), StreamError> {
        let queued = self.raw_frames();
        if queued + frames <= self.max_queue_frames {
            return Ok(());
        }
        let err = StreamError::Overflow {
            queued_ms: self.queued_ms(),
            chunk_ms: self.ms_of_frames(frames),
            max_ms: self.cfg.max_queue_ms,
        };
        if self.cfg.overflow == OverflowPolicy::Reject || frames > self.max_queue_frames {
            self.stats.push_errors += 1;
            return Err(err);
        }
        // DropOldest: never drop the frames a pending fade still plays.
        let excess = queued + frames - self.max_queue_frames;
        let droppable = queued - if self.fading { self.fade_keep } else { 0 };
        if excess > droppable {
            self.stats.push_errors += 1;
            return Err(err);
        }
        let start = if self.fading { self.fade_keep } else { 0 };
        self.queue
            .drain(start * self.in_ch..(start + excess) * self.in_ch);
        self.stats.dropped_frames += excess as u64;
        if start == 0 {
            self.consumed += excess as u64;
            self.offset -= excess as i64;
            self.resolve_marks();
        } else {
            // Dropped from the middle: positions after the kept frames shift.
            self.pushed -= excess as u64;
            for m in self.marks.iter_mut() {
                m.pos = m
                    .pos
                    .saturating_sub(excess as u64)
                    .max(self.consumed + start as u64);
            }
        }
        Ok(())
    }

    fn append(&mut self, samples: impl Iterator<Item = f32>, frames: usize) {
        self.queue.extend(samples);
        self.pushed += frames as u64;
    }

    /// Decodes one chunk in the input format and queues it; returns the
    /// frames queued (at the input rate). On error nothing is queued.
    pub fn push(&mut self, bytes: &[u8]) -> Result<usize, StreamError> {
        match self.input {
            AudioFormat::L16Le { .. } | AudioFormat::L16Be { .. } => self.push_l16(bytes),
            AudioFormat::Pcmu | AudioFormat::Pcma => {
                self.admit(bytes.len())?;
                let table: fn(u8) -> i16 = if self.input == AudioFormat::Pcmu {
                    ulaw_to_linear
                } else {
                    alaw_to_linear
                };
                self.append(bytes.iter().map(|&b| i16_to_f32(table(b))), bytes.len());
                Ok(bytes.len())
            }
            AudioFormat::G722 => {
                self.admit(bytes.len() * 2)?;
                let mut total = 0;
                let ch = self.in_ch;
                let max_bytes = (self.scratch.len() / 2).max(1);
                for piece in bytes.chunks(max_bytes) {
                    let Some(dec) = self.decoder.as_mut() else {
                        return Err(StreamError::Config("no decoder"));
                    };
                    let n = match dec.decode(piece, &mut self.scratch) {
                        Ok(n) => n,
                        Err(e) => {
                            self.stats.push_errors += 1;
                            return Err(e.into());
                        }
                    };
                    let n = n.min(self.scratch.len() / ch);
                    self.queue.extend(self.scratch[..n * ch].iter().copied());
                    self.pushed += n as u64;
                    total += n;
                }
                Ok(total)
            }
            AudioFormat::Opus { .. } => {
                let Some(dec) = self.decoder.as_mut() else {
                    return Err(StreamError::Config("no decoder"));
                };
                let frames = match dec.frames_in(bytes) {
                    Ok(n) => n,
                    Err(e) => {
                        self.stats.push_errors += 1;
                        return Err(e.into());
                    }
                };
                self.admit(frames)?;
                let Some(dec) = self.decoder.as_mut() else {
                    return Err(StreamError::Config("no decoder"));
                };
                let n = match dec.decode(bytes, &mut self.scratch) {
                    Ok(n) => n,
                    Err(e) => {
                        self.stats.push_errors += 1;
                        return Err(e.into());
                    }
                };
                let ch = self.in_ch;
                let n = n.min(self.scratch.len() / ch);
                self.queue.extend(self.scratch[..n * ch].iter().copied());
                self.pushed += n as u64;
                Ok(n)
            }
        }
    }

    fn push_l16(&mut self, bytes: &[u8]) -> Result<usize, StreamError> {
        let le = matches!(self.input, AudioFormat::L16Le { .. });
        let unit = 2 * self.in_ch;
        let total = self.carry_len + bytes.len();
        let frames = total / unit;
        self.admit(frames)?;
        let conv = move |b: &[u8]| {
            let s = if le {
                i16::from_le_bytes([b[0], b[1]])
            } else {
                i16::from_be_bytes([b[0], b[1]])
            };
            i16_to_f32(s)
        };
        let mut rest = bytes;
        if self.carry_len > 0 {
            let need = (unit - self.carry_len).min(rest.len());
            self.carry[self.carry_len..self.carry_len + need].copy_from_slice(&rest[..need]);
            self.carry_len += need;
            rest = &rest[need..];
            if self.carry_len == unit {
                let c = self.carry;
                self.queue.extend(c[..unit].chunks_exact(2).map(conv));
                self.carry_len = 0;
            }
        }
        let whole = rest.len() / unit * unit;
        self.queue.extend(rest[..whole].chunks_exact(2).map(conv));
        let tail = &rest[whole..];
        self.carry[self.carry_len..self.carry_len + tail.len()].copy_from_slice(tail);
        self.carry_len += tail.len();
        self.pushed += frames as u64;
        Ok(frames)
    }

    /// Queues decoded audio: interleaved `f32` at the input format's rate
    /// and channel count (a trailing partial frame is ignored). Non-finite
    /// samples play as silence.
    pub fn push_pcm(&mut self, pcm: &[f32]) -> Result<usize, StreamError> {
        let frames = pcm.len() / self.in_ch;
        self.admit(frames)?;
        let n = frames * self.in_ch;
        self.append(pcm[..n].iter().map(|&x| dsp::finite(x)), frames);
        Ok(frames)
    }

    /// Bytes of an incomplete L16 frame waiting for the next push.
    pub fn pending_bytes(&self) -> usize {
        self.carry_len
    }

    /// Places mark `id` after the audio pushed so far. It fires as
    /// [`StreamEvent::Mark`] once that audio has been played (at the next
    /// render if nothing is pending). Ids need not be unique.
    pub fn mark(&mut self, id: u32) -> Result<(), StreamError> {
        if self.marks.len() >= self.cfg.max_marks {
            return Err(StreamError::TooManyMarks {
                max: self.cfg.max_marks,
            });
        }
        self.marks.push_back(PendingMark {
            id,
            pos: self.pushed,
            target: None,
        });
        self.resolve_marks();
        Ok(())
    }

    /// Barge-in: drops all queued audio and pending marks (each reported as
    /// [`StreamEvent::MarkCleared`]) and any incomplete L16 frame. If audio
    /// is playing, the next render call fades it out (see
    /// [`StreamConfig::clear_fade_ms`]) and is silent after the fade.
    pub fn clear(&mut self) {
        self.stats.clears += 1;
        while let Some(m) = self.marks.pop_front() {
            self.emit(StreamEvent::MarkCleared { id: m.id });
        }
        self.drain_target = None;
        self.starved = false;
        self.carry_len = 0;
        self.wait_frames = 0;
        let queued = self.raw_frames();
        let keep = if self.state == State::Stopped {
            0
        } else {
            let need = self.rs.input_frames_needed(self.fade_frames.max(1));
            let k = if self.fading { self.fade_keep } else { need };
            k.min(queued)
        };
        if self.state != State::Stopped {
            self.fading = true;
            self.fade_keep = keep;
        }
        self.queue.truncate(keep * self.in_ch);
        self.stats.dropped_frames += (queued - keep) as u64;
        self.pushed = self.consumed + keep as u64;
    }

    fn target_of(&self, rs_in: u64) -> u64 {
        let out = self.cfg.output_rate as u64;
        let inr = self.in_rate as u64;
        self.rs_base_out + (rs_in * out).div_ceil(inr) + self.latency
    }

    /// Gives an output position to every mark whose audio has all been
    /// fed to the resampler (or dropped).
    fn resolve_marks(&mut self) {
        let consumed = self.consumed;
        let stopped = self.state == State::Stopped;
        let dry = self.dry_target;
        let now = self.out_total;
        for i in 0..self.marks.len() {
            let m = self.marks[i];
            if m.target.is_some() {
                continue;
            }
            if m.pos > consumed {
                break;
            }
            let t = if stopped {
                now
            } else if self.state == State::Draining {
                // Everything before it was fed before the queue ran dry.
                dry
            } else {
                let rs_pos = (m.pos as i64 + self.offset).max(0) as u64;
                self.target_of(rs_pos)
            };
            self.marks[i].target = Some(t);
        }
    }

    fn reset_resampler(&mut self) {
        self.rs.reset();
        self.rs_in = 0;
        self.offset = -(self.consumed as i64);
        self.rs_base_out = self.out_total;
    }

    fn should_start(&self) -> bool {
        let q = self.raw_frames();
        q > 0 && (q >= self.threshold_frames || self.wait_frames >= self.timeout_frames)
    }

    /// Renders `out.len() / output_channels` frames, interleaved, all of
    /// them written (silence when idle; a trailing partial frame is
    /// zeroed). `now_ms` is the time at which `out`'s first frame plays
    /// (e.g. `currentTime * 1000` in the worklet); it only timestamps events.
    pub fn render(&mut self, out: &mut [f32], now_ms: f64) {
        let och = usize::from(self.cfg.output_channels);
        let frames = out.len() / och;
        out[frames * och..].iter_mut().for_each(|x| *x = 0.0);
        self.render_with(frames, now_ms, |mix, at, n| {
            out[at * och..(at + n) * och].copy_from_slice(&mix[..n * och]);
        });
    }

    /// Like [`StreamPlayer::render`] but planar: `out` holds each channel's
    /// frames one after the other (`out.len() / output_channels` frames per
    /// channel), as an AudioWorklet's output arrays want them.
    pub fn render_planar(&mut self, out: &mut [f32], now_ms: f64) {
        let och = usize::from(self.cfg.output_channels);
        let frames = out.len() / och;
        out[frames * och..].iter_mut().for_each(|x| *x = 0.0);
        self.render_with(frames, now_ms, |mix, at, n| {
            for c in 0..och {
                let dst = &mut out[c * frames + at..c * frames + at + n];
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = mix[i * och + c];
                }
            }
        });
    }

    fn render_with(
        &mut self,
        frames: usize,
        now_ms: f64,
        mut sink: impl FnMut(&[f32], usize, usize),
    ) {
        let call_start = self.out_total;
        let fade_len = if self.fading {
            self.fade_frames.min(frames)
        } else {
            0
        };
        let mut at = 0;
        while at < frames {
            let n = (frames - at).min(BLOCK_FRAMES);
            self.render_block(n, now_ms, call_start);
            self.upmix(n);
            if self.fading {
                let och = usize::from(self.cfg.output_channels);
                for i in 0..n {
                    let k = at + i;
                    let g = if k < fade_len {
                        1.0 - (k + 1) as f32 / (fade_len + 1) as f32
                    } else {
                        0.0
                    };
                    self.mix[i * och..(i + 1) * och]
                        .iter_mut()
                        .for_each(|x| *x *= g);
                }
            }
            sink(&self.mix, at, n);
            self.out_total += n as u64;
            self.fire(now_ms, call_start);
            at += n;
        }
        if self.fading {
            self.finish_fade();
        }
    }

    fn finish_fade(&mut self) {
        let drop = self.fade_keep.min(self.raw_frames());
        self.queue.drain(..drop * self.in_ch);
        self.consumed += drop as u64;
        self.offset -= drop as i64;
        self.fading = false;
        self.fade_keep = 0;
        self.state = State::Stopped;
        self.drain_target = None;
        self.reset_resampler();
        self.resolve_marks();
    }

    fn at_ms(&self, frame: u64, now_ms: f64, call_start: u64) -> f64 {
        let d = frame.saturating_sub(call_start) as f64;
        now_ms + d * 1000.0 / self.cfg.output_rate as f64
    }

    /// Emits marks and `Drained` whose position has been rendered.
    fn fire(&mut self, now_ms: f64, call_start: u64) {
        while let Some(m) = self.marks.front() {
            match m.target {
                Some(t) if t <= self.out_total => {
                    let id = m.id;
                    self.marks.pop_front();
                    let at_ms = self.at_ms(t, now_ms, call_start);
                    self.emit(StreamEvent::Mark { id, at_ms });
                }
                _ => break,
            }
        }
        if let Some(t) = self.drain_target {
            if t <= self.out_total && self.state == State::Draining && !self.fading {
                self.drain_target = None;
                let at_ms = self.at_ms(t, now_ms, call_start);
                self.emit(StreamEvent::Drained { at_ms });
                self.state = State::Stopped;
                self.reset_resampler();
                self.resolve_marks();
            }
        }
    }

    /// Resamples `n` frames into `self.block` (input channel count).
    fn render_block(&mut self, n: usize, now_ms: f64, call_start: u64) {
        let ch = self.in_ch;
        if !self.fading && self.state != State::Playing {
            if self.should_start() {
                if self.starved {
                    self.stats.underruns += 1;
                    self.starved = false;
                }
                if self.state == State::Stopped {
                    self.reset_resampler();
                }
                self.state = State::Playing;
                self.drain_target = None;
                self.wait_frames = 0;
                let at_ms = self.at_ms(self.out_total, now_ms, call_start);
                self.emit(StreamEvent::Started { at_ms });
            } else if self.state == State::Stopped {
                if !self.queue.is_empty() {
                    self.wait_frames += n as u64;
                }
                self.block[..n * ch].iter_mut().for_each(|x| *x = 0.0);
                return;
            } else if !self.queue.is_empty() {
                self.wait_frames += n as u64;
            }
        }
        let mut produced = 0;
        while produced < n {
            let need = self.rs.input_frames_needed(n - produced);
            let avail = if self.fading {
                self.fade_keep.min(self.raw_frames())
            } else if self.state == State::Playing {
                self.raw_frames()
            } else {
                0
            };
            if need > 0 && avail == 0 && self.state == State::Playing && !self.fading {
                // Ran dry: play the tail out, then report Drained.
                self.resolve_marks();
                self.state = State::Draining;
                self.starved = true;
                // The filter rings on for another `latency` frames after
                // the last frame's centre: play all of it.
                self.dry_target = self.target_of(self.rs_in);
                self.drain_target = Some(self.dry_target + self.latency);
            }
            let dst = &mut self.block[produced * ch..n * ch];
            let (ci, co) = if need == 0 {
                self.rs.process(&[], dst)
            } else if avail > 0 {
                let (a, _) = self.queue.as_slices();
                let take = need.min(avail).min(a.len() / ch);
                self.rs.process(&a[..take * ch], dst)
            } else {
                let take = need.min(self.zeros.len() / ch);
                self.rs.process(&self.zeros[..take * ch], dst)
            };
            if need > 0 && avail > 0 {
                self.queue.drain(..ci * ch);
                self.consumed += ci as u64;
                self.rs_in += ci as u64;
                self.played_frames += ci as u64;
                if self.fading {
                    self.fade_keep -= ci.min(self.fade_keep);
                }
                self.resolve_marks();
            } else {
                self.rs_in += ci as u64;
                self.offset += ci as i64;
            }
            produced += co;
            if ci == 0 && co == 0 {
                break;
            }
        }
        self.block[produced * ch..n * ch]
            .iter_mut()
            .for_each(|x| *x = 0.0);
    }

    /// Maps `self.block` (input channels) to `self.mix` (output channels).
    fn upmix(&mut self, n: usize) {
        let och = usize::from(self.cfg.output_channels);
        let ich = self.in_ch;
        for (src, dst) in self.block[..n * ich]
            .chunks_exact(ich)
            .zip(self.mix[..n * och].chunks_exact_mut(och))
        {
            dst.iter_mut().for_each(|x| *x = 0.0);
            match (ich, och) {
                (1, 1) => dst[0] = src[0],
                (1, _) => {
                    dst[0] = src[0];
                    dst[1] = src[0];
                }
                (_, 1) => dst[0] = 0.5 * (src[0] + src[1]),
                _ => {
                    dst[0] = src[0];
                    dst[1] = src[1];
                }
            }
        }
    }
}
