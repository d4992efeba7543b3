//! The receive path: RTP packets in, audio out. A jitter buffer in the
//! spirit of WebRTC's NetEq, sans-IO and allocation-free while rendering.
//!
//! ```
//! use voxlet::{Receiver, ReceiverConfig, Registry};
//! let mut rx = Receiver::new(ReceiverConfig {
//!     registry: Registry::with_static(),
//!     output_rate: 48_000,
//!     output_channels: 1,
//!     ..ReceiverConfig::default()
//! })?;
//! // For every datagram: rx.push(&bytes, arrival_ms)
//! let mut block = [0f32; 128];
//! let info = rx.render(&mut block, 0.0); // every render quantum
//! assert_eq!(info.frames, 128);
//! while let Some(_event) = rx.poll_event() {}
//! # Ok::<(), voxlet::receiver::ConfigError>(())
//! ```
//!
//! # Design
//!
//! [`Receiver::push`] validates a packet (RTP header, payload type, size,
//! payload framing), follows the source (SSRC changes after two sequential
//! packets of the new source, or at once when the old one has gone quiet),
//! counts it (RFC 3550 loss and jitter, duplicates), feeds its arrival time
//! to the delay manager ([`delay`]: the 95th percentile of the relative
//! arrival delay, fast up, slow down, bounded by the configured minimum
//! and maximum) and stores it in a bounded packet buffer ordered by
//! timestamp. Telephone-events become [`ReceiverEvent`]s and never audio.
//!
//! [`Receiver::render`] pulls: while the decoded audio waiting to be played
//! (the "sync buffer", at the codec's rate) is shorter than what the
//! resampler needs for the requested output, it asks the decision logic
//! ([`decision`]) what to do with the next 10 ms or packet: decode; decode
//! and accelerate or pre-emptive-expand (WSOLA, [`crate::dsp::stretch`])
//! to bring the filtered playout offset (how long after a no-queueing
//! arrival packets play) to the target; recover a lost packet
//! from Opus FEC; conceal (libopus PLC for Opus, [`crate::dsp::plc`] for
//! the others, whose history is fed every played frame so audio resuming
//! after a loss is cross-faded in); play comfort silence through DTX gaps
//! (re-targeting the delay at each talkspurt start); after
//! `max_conceal_ms` of loss, go silent and re-buffer. The sync buffer is
//! then resampled to the output rate ([`crate::dsp::resample`]) and
//! up-mixed to the output channels.
//!
//! Everything is sized in [`Receiver::new`]: a decoder per payload type,
//! a resampler / time-stretcher / concealer per distinct codec rate (so a
//! mid-stream codec switch allocates nothing), packet slots with their
//! byte buffers, the sync buffer for the largest packet. `render` works in
//! internal blocks of at most 20 ms of output, so any `out` length is
//! fine.
//!
//! Time: `arrival_ms` and `now_ms` are `f64` milliseconds on any clock that
//! both share (in a worklet, `currentTime * 1000`). `now_ms` is the time
//! the first frame of the block will play. Only differences matter.

#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod config;
mod decision;
mod decoders;
mod delay;
mod events;
mod packet_buffer;
mod playout;
mod push;
mod source;
mod stats;
mod sync_buffer;

use core::fmt;

use crate::dsp::StretchMode;
use crate::rtp::rtcp::ReportBlock;

use config::Settings;
use decision::{decide, Inputs, Next, Op};
use decoders::{DecoderDatabase, Selected};
use delay::DelayManager;
use events::{DtmfTracker, EventQueue};
use packet_buffer::{PacketBuffer, PacketMeta};
use playout::Playout;
use source::SourceTracker;
use stats::{AudioMeter, Carry};
use sync_buffer::{tag, SyncBuffer};

pub use config::{ConfigError, ReceiverConfig};
pub use events::{ReceiverEvent, EVENT_QUEUE_LEN};
pub use push::{PushOutcome, ReceiverError};
pub use stats::{ErrorCounts, ReceiverStats};

/// What one [`Receiver::render`] call played.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RenderInfo {
    /// Frames written (always `out.len() / output_channels`).
    pub frames: usize,
    /// Of those, frames of concealment (lost or late audio).
    pub concealed_frames: usize,
    /// Of those, frames decoded from packets.
    pub decoded_frames: usize,
    /// Buffer level at the latest decision, ms.
    pub level_ms: f64,
    /// Target delay, ms.
    pub target_ms: f64,
}

/// Gaps in the buffered timeline up to this long are counted in the level
/// (probably losses); longer ones (DTX, timestamp jumps) end it.
const RUN_GAP_MS: f64 = 200.0;
/// Length of one concealment / silence step, ms.
const STEP_MS: u32 = delay::DECISION_MS as u32;
/// Opus PLC/FEC granularity, frames at 48 kHz (2.5 ms).
const OPUS_STEP: usize = 120;
/// Short concealment used to cross-fade over a flush, ms.
const FLUSH_FADE_MS: u32 = 5;
/// A non-urgent time-stretch waits for this much quiet audio, ms.
const MIN_PAUSE_MS: f64 = 80.0;
/// Below this a concealed frame counts as silent (one 16-bit LSB).
const SILENT_LEVEL: f32 = 1.0 / 32768.0;

/// Output-rate sample counters with their fractional carries.
#[derive(Clone, Copy, Debug, Default)]
struct Carries {
    total: Carry,
    concealed: Carry,
    silent: Carry,
    comfort: Carry,
    emitted: Carry,
    inserted: Carry,
    removed: Carry,
}

/// Result of one decision step in `render`.
enum Step {
    /// Audio was appended to the sync buffer.
    Audio,
    /// The next packet needs another codec rate: play out what is left first.
    Drain,
}

/// The jitter buffer and decoder for one incoming RTP audio stream. See the
/// [module documentation](self).
pub struct Receiver {
    /// The validated settings.
    cfg: Settings,

    decoders: DecoderDatabase,

    buffer: PacketBuffer,
    delay: DelayManager,
    sync: SyncBuffer,
    dec_buf: Vec<f32>,
    stretch_buf: Vec<f32>,
    out_buf: Vec<f32>,

    stats: ReceiverStats,
    meter: AudioMeter,
    carries: Carries,
    events: EventQueue,
    dtmf: DtmfTracker,
    source: SourceTracker,

    playout: Playout,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("output_rate", &self.cfg.out_rate)
            .field("output_channels", &self.cfg.out_ch)
            .field("ssrc", &self.source.ssrc())
            .field("playing", &self.playout.playing)
            .field("buffered_packets", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

fn ms_to_frames(ms: f64, rate: u32) -> usize {
    (ms * f64::from(rate) / 1000.0).max(0.0) as usize
}

fn frames_to_ms(frames: usize, rate: u32) -> f64 {
    frames as f64 * 1000.0 / f64::from(rate.max(1))
}

impl Receiver {
    /// Builds a receiver; all memory it will use is allocated here.
    pub fn new(cfg: ReceiverConfig) -> Result<Receiver, ConfigError> {
        let settings = cfg.settings()?;
        let out_rate = settings.out_rate;
        let sub_block = settings.sub_block;

        let (decoders, sizes) = DecoderDatabase::new(&cfg, &settings)?;
        let min = f64::from(cfg.min_delay_ms);
        let max = f64::from(cfg.max_delay_ms);
        let initial = f64::from(cfg.initial_delay_ms).max(min).min(max);
        let mut sync = SyncBuffer::new(sizes.sync_frames, 2);
        sync.reset(decoders.chain().map_or(1, |c| c.ch));
        Ok(Receiver {
            cfg: settings,
            decoders,
            buffer: PacketBuffer::new(cfg.max_packets, cfg.max_payload_bytes),
            delay: DelayManager::new(min, max, initial),
            sync,
            dec_buf: vec![0.0; sizes.dec_samples],
            stretch_buf: vec![0.0; sizes.chain_samples],
            out_buf: vec![0.0; sub_block * 2],
            stats: ReceiverStats {
                target_delay_ms: initial,
                ..ReceiverStats::default()
            },
            meter: AudioMeter::new(out_rate),
            carries: Carries::default(),
            events: EventQueue::new(),
            dtmf: DtmfTracker::new(f64::from(cfg.dtmf_timeout_ms)),
            source: SourceTracker::new(cfg.max_payload_bytes),
            playout: Playout::new(),
        })
    }

    /// The statistics so far.
    pub fn stats(&self) -> &ReceiverStats {
        &self.stats
    }

    /// The next queued event, oldest first.
    pub fn poll_event(&mut self) -> Option<ReceiverEvent> {
        self.events.pop()
    }

    /// The SSRC being played.
    pub fn ssrc(&self) -> Option<u32> {
        self.source.ssrc()
    }

    /// Packets waiting in the buffer.
    pub fn buffered_packets(&self) -> usize {
        self.buffer.len()
    }

    /// Bytes reserved for packet storage (fixed at construction).
    pub fn packet_storage_bytes(&self) -> usize {
        self.buffer.reserved_bytes() + self.source.held_bytes_len()
    }

    /// Records a sender report from the played source, received at
    /// `now_ms`, for the LSR/DLSR fields of [`Receiver::receiver_report`].
    /// (Sender reports multiplexed on the RTP port are recorded by `push`.)
    pub fn on_sender_report(&mut self, ntp_timestamp: u64, now_ms: f64) {
        self.source.on_sender_report(ntp_timestamp, now_ms);
    }

    /// An RTCP reception report block for the played source (RFC 3550
    /// §6.4.1): fraction lost since the previous call, cumulative lost,
    /// extended highest sequence number, interarrival jitter (A.8, in the
    /// clock of the audio codec), LSR/DLSR from the last sender report.
    /// `None` before the first packet.
    pub fn receiver_report(&mut self, now_ms: f64) -> Option<ReportBlock> {
        let clock = self.decoders.current().map_or(8000, |d| d.info.clock_rate);
        self.source.report_block(clock, now_ms)
    }

    /// Drops everything buffered and not yet played (barge-in): packets and
    /// decoded audio. Playout re-buffers from the next packet.
    pub fn flush(&mut self) {
        let n = self.buffer.len() as u64;
        self.stats.packets_discarded += n;
        self.buffer.clear();
        self.sync.consume(self.sync.unplayed());
        self.decoders.reset_concealer();
        self.playout.reset();
    }

    fn emit(&mut self, ev: ReceiverEvent) {
        if self.events.push(ev) {
            self.stats.events_dropped += 1;
        }
    }

    // --------------------------------------------------------------- render

    /// Fills `out` (interleaved, `output_channels` per frame) with the next
    /// `out.len() / output_channels` frames; `now_ms` is when its first
    /// frame plays. Never fails, never panics, never allocates once
    /// playing. A trailing partial frame is zeroed.
    pub fn render(&mut self, out: &mut [f32], now_ms: f64) -> RenderInfo {
        let ch = self.cfg.out_ch;
        let frames = out.len() / ch;
        let now = if now_ms.is_finite() {
            now_ms
        } else {
            self.playout.last_now_ms
        };
        if let Some(rest) = out.get_mut(frames * ch..) {
            rest.fill(0.0);
        }
        {
            let events = &mut self.events;
            let stats = &mut self.stats;
            self.dtmf.poll_timeout(now, &mut |e| {
                if events.push(e) {
                    stats.events_dropped += 1;
                }
            });
        }
        if frames > 0 {
            let block = frames.min(self.cfg.sub_block);
            self.delay
                .set_block_ms(frames_to_ms(block, self.cfg.out_rate));
        }
        let mut info = RenderInfo {
            frames,
            ..RenderInfo::default()
        };
        let mut done = 0;
        while done < frames {
            let n = (frames - done).min(self.cfg.sub_block);
            let t = now + frames_to_ms(done, self.cfg.out_rate);
            if let Some(dst) = out.get_mut(done * ch..(done + n) * ch) {
                self.render_block(dst, t, &mut info);
            }
            done += n;
        }
        self.playout.last_now_ms = now + frames_to_ms(frames, self.cfg.out_rate);
        if let Some(o) = out.get(..frames * ch) {
            self.meter.meter(o, ch, self.cfg.out_rate, &mut self.stats);
        }
        info.level_ms = self.stats.buffer_level_ms;
        info.target_ms = self.stats.target_delay_ms;
        info
    }

    fn chain_rate(&self) -> u32 {
        self.decoders.chain_rate()
    }

    fn render_block(&mut self, dst: &mut [f32], t0: f64, info: &mut RenderInfo) {
        let ch = self.cfg.out_ch;
        let n = dst.len() / ch;
        let mut written = 0;
        let mut guard = 0;
        while written < n {
            guard += 1;
            let want = n - written;
            let Some(rest) = dst.get_mut(written * ch..) else {
                break;
            };
            if guard > 64 {
                // Cannot happen (every step appends audio); never loop forever.
                rest.fill(0.0);
                break;
            }
            let need = self
                .decoders
                .chain()
                .map_or(want, |c| c.rs.input_frames_needed(want));
            if self.sync.unplayed() >= need {
                written += self.play(need, want, rest, info);
                continue;
            }
            let t_read = t0 + frames_to_ms(written, self.cfg.out_rate);
            let short = need - self.sync.unplayed();
            match self.produce(t_read, short) {
                Step::Audio => {}
                Step::Drain => {
                    let avail = self.sync.unplayed();
                    written += self.play(avail, want, rest, info);
                    self.sync.consume(self.sync.unplayed());
                }
            }
        }
    }

    /// Resamples up to `input` unplayed frames into at most `max_out`
    /// output frames of `dst`; returns the frames written.
    fn play(
        &mut self,
        input: usize,
        max_out: usize,
        dst: &mut [f32],
        info: &mut RenderInfo,
    ) -> usize {
        let read = self.sync.read_pos();
        self.commit_to(read + input);
        let pc = self.sync.channels();
        let Some(chain) = self.decoders.chain_mut() else {
            return 0;
        };
        let (src, tags) = self.sync.readable(input);
        let Some(tmp) = self.out_buf.get_mut(..max_out * pc) else {
            return 0;
        };
        let (used, got) = chain.rs.process(src, tmp);
        // Stats by what the consumed frames were, scaled to output frames.
        let mut counts = [0usize; 5];
        for t in tags.iter().take(used) {
            if let Some(c) = counts.get_mut(*t as usize) {
                *c += 1;
            }
        }
        if used > 0 {
            let k = got as f64 / used as f64;
            let [normal, concealed, silent, comfort, _prestart] = counts;
            let c = &mut self.carries;
            let s = &mut self.stats;
            let total = c
                .total
                .take((normal + concealed + silent + comfort) as f64 * k);
            s.total_samples_received += total;
            s.total_samples_duration += total as f64 / f64::from(self.cfg.out_rate);
            let conc = c.concealed.take((concealed + silent) as f64 * k);
            s.concealed_samples += conc;
            s.silent_concealed_samples += c.silent.take(silent as f64 * k);
            s.comfort_samples += c.comfort.take(comfort as f64 * k);
            info.concealed_frames += ((concealed + silent) as f64 * k).round() as usize;
            info.decoded_frames += (normal as f64 * k).round() as usize;
        }
        // Up-mix into the caller's interleaved block.
        let ch = self.cfg.out_ch;
        let tmp = self.out_buf.get(..got * pc).unwrap_or_default();
        if pc == ch {
            if let Some(d) = dst.get_mut(..got * ch) {
                d.copy_from_slice(tmp);
            }
        } else {
            for (d, s) in dst.chunks_exact_mut(ch).zip(tmp.chunks_exact(pc)) {
                let v = s.iter().sum::<f32>() / pc as f32;
                d.fill(v);
            }
        }
        self.sync.consume(used);
        got
    }

    /// Hands unplayed frames up to `pos` to the concealer's history (which
    /// cross-fades the first ones after a loss, in place).
    fn commit_to(&mut self, pos: usize) {
        self.decoders.commit_to(&mut self.sync, pos);
    }

    /// Makes `di` the current decoder; `false` when its rate differs and
    /// the sync buffer must be played out first.
    fn ensure_decoder(&mut self, di: usize) -> bool {
        match self.decoders.select(di, &mut self.sync) {
            Selected::Ready => true,
            Selected::Changed { old, new } => {
                self.emit(ReceiverEvent::PayloadTypeChanged { old, new });
                true
            }
            Selected::Drain => false,
        }
    }

    /// Audio held, ms: unplayed decoded audio plus the buffered timeline
    /// from the playout position (or the first packet) through the run of
    /// packets separated by gaps of at most `RUN_GAP_MS`.
    fn level_now(&self) -> f64 {
        let unplayed = frames_to_ms(self.sync.unplayed(), self.chain_rate());
        let front = self.buffer.front().map(|p| p.ts);
        let from = if self.playout.playing {
            Some(front.map_or(self.playout.play_ts, |f| f.min(self.playout.play_ts)))
        } else {
            front
        };
        unplayed + from.map_or(0.0, |f| self.run_ms(f))
    }

    /// Buffered audio from timestamp `from` to the end of the run, ms.
    fn run_ms(&self, from: i64) -> f64 {
        let clock = match self.buffer.front() {
            Some(p) => self
                .decoders
                .get(p.decoder as usize)
                .map_or(8000, |d| d.info.clock_rate),
            None => return 0.0,
        };
        let max_gap = (RUN_GAP_MS * f64::from(clock) / 1000.0) as i64;
        let mut cursor = from;
        let mut i = 0;
        while let Some(p) = self.buffer.get(i) {
            i += 1;
            if p.end() <= cursor {
                continue;
            }
            if p.ts - cursor > max_gap {
                break;
            }
            cursor = p.end();
        }
        (cursor - from).max(0) as f64 * 1000.0 / f64::from(clock.max(1))
    }

    /// No audio sequence number missing between the last played packet and `seq`.
    fn contiguous(&self, seq: i64) -> bool {
        self.source.contiguous(self.playout.last_seq, seq)
    }

    /// With nothing buffered: is silence expected rather than a loss? After
    /// an Opus DTX packet, or when packets newer than the last one played
    /// have arrived and none of them was audio (telephone-events while the
    /// audio is suppressed).
    fn in_dtx(&self) -> bool {
        if self.playout.last_dtx_packet && self.decoders.codec_plc() {
            return true;
        }
        match (self.playout.last_seq, self.source.highest_seq()) {
            (Some(last), Some(high)) if high > last => self.contiguous(high + 1),
            _ => false,
        }
    }

    /// Drops buffered packets whose audio is entirely behind playout.
    fn drop_stale(&mut self) {
        if !self.playout.playing {
            return;
        }
        while let Some(p) = self.buffer.front() {
            if p.end() > self.playout.decoded_end {
                break;
            }
            if p.has_fec {
                self.stats.fec_packets_discarded += 1;
            }
            self.stats.packets_discarded += 1;
            self.buffer.pop_front();
        }
        // Stalled (a delay spike, or an outage): packets wholly behind the
        // playout position are late when a later one is still on time. The
        // timeline goes on where it was, as if the spike's packets had been
        // lost; re-buffering at the target instead would shift the audio
        // after every spike and keep the spike in the delay.
        if self.playout.conceal_run_ms >= self.cfg.max_conceal_ms {
            let last = self.buffer.len().saturating_sub(1);
            let on_time = self
                .buffer
                .get(last)
                .is_some_and(|q| q.end() > self.playout.play_ts);
            while let Some(p) = self.buffer.front().copied() {
                if !on_time || p.end() > self.playout.play_ts || self.buffer.len() < 2 {
                    break;
                }
                if p.has_fec {
                    self.stats.fec_packets_discarded += 1;
                }
                self.stats.packets_discarded += 1;
                self.stats.packets_late += 1;
                self.buffer.pop_front();
            }
        }
    }

    /// One playout decision; appends audio to the sync buffer (or asks for
    /// a drain). `short` is how many frames the current render still lacks:
    /// silence is made only that long, so a talkspurt can start at any frame.
    fn produce(&mut self, t_read: f64, short: usize) -> Step {
        let step = ms_to_frames(f64::from(STEP_MS), self.chain_rate()).max(1);
        let short = short.min(step).max(1);
        let t = t_read + frames_to_ms(self.sync.unplayed(), self.chain_rate());
        self.drop_stale();
        if self.playout.playing {
            if let Some(p) = self.buffer.front() {
                let clock = self
                    .decoders
                    .get(p.decoder as usize)
                    .map_or(self.playout.clock, |d| d.info.clock_rate);
                if clock != self.playout.clock {
                    // Another RTP clock: its timestamps are a new timeline.
                    self.playout.playing = false;
                }
            }
        }
        let raw = self.level_now();
        let next = self.buffer.front().copied().map(|p| self.next_info(&p, t));
        if !self.playout.playing {
            self.playout.offset.reset();
            self.playout.offset_dt_ms = 0.0;
        }
        let target = self.delay.target_ms();
        self.stats.buffer_level_ms = raw;
        self.stats.target_delay_ms = target;
        let op = decide(&Inputs {
            playing: self.playout.playing,
            next,
            offset_ms: self.playout.offset.get(),
            level_ms: raw,
            target_ms: target,
            max_delay_ms: self.cfg.max_delay_ms,
            conceal_run_ms: self.playout.conceal_run_ms,
            max_conceal_ms: self.cfg.max_conceal_ms,
            in_dtx: self.in_dtx(),
            since_stretch_ms: self.playout.since_stretch_ms,
            draining: self.playout.draining,
        });
        self.playout.draining = self.playout.playing
            && match op {
                Op::Accelerate { .. } => true,
                Op::Normal | Op::Expand => {
                    self.playout.draining
                        && self
                            .playout
                            .offset
                            .get()
                            .is_some_and(|o| o >= target + decision::QUIET_LOW_MS)
                }
                _ => false,
            };
        match op {
            Op::Wait => {
                if self.playout.started {
                    self.comfort(short, false);
                } else {
                    self.silence(short, tag::PRESTART, false);
                }
                Step::Audio
            }
            Op::Start => {
                // Re-buffering with a backlog (packets released together
                // after a stall): start at the first packet that is at the
                // target delay, dropping older ones as late.
                while let (Some(p), Some(q)) =
                    (self.buffer.get(0).copied(), self.buffer.get(1).copied())
                {
                    let min = self.delay.min_ms();
                    let off = |x: &PacketMeta| t - (x.arrival_ms - x.need_ms(min));
                    if off(&q) < target || off(&p) <= target + decision::HIGH_MS {
                        break;
                    }
                    if p.has_fec {
                        self.stats.fec_packets_discarded += 1;
                    }
                    self.stats.packets_discarded += 1;
                    self.stats.packets_late += 1;
                    self.buffer.pop_front();
                }
                let Some(p) = self.buffer.front().copied() else {
                    return self.fallback();
                };
                if !self.ensure_decoder(p.decoder as usize) {
                    return Step::Drain;
                }
                self.playout.play_ts = p.ts;
                self.playout.clock = self
                    .decoders
                    .get(p.decoder as usize)
                    .map_or(8000, |d| d.info.clock_rate);
                self.playout.playing = true;
                self.playout.started = true;
                self.playout.conceal_run_ms = 0.0;
                // A restart after a stall: the offset filtered before it
                // says nothing about the new timeline.
                self.playout.offset.reset();
                self.playout.offset_dt_ms = 0.0;
                self.decode_packets(t_read, None)
            }
            Op::Normal => self.decode_packets(t_read, None),
            Op::Accelerate { fast } => self.decode_packets(t_read, Some(Some(fast))),
            Op::Expand => self.decode_packets(t_read, Some(None)),
            Op::Flush => {
                let mut lvl = raw;
                while self.buffer.len() > 1 {
                    let Some(p) = self.buffer.front().copied() else {
                        break;
                    };
                    let dur_ms = f64::from(p.dur) * 1000.0 / f64::from(self.playout.clock.max(1));
                    if lvl - dur_ms < target {
                        break;
                    }
                    lvl -= dur_ms;
                    if p.has_fec {
                        self.stats.fec_packets_discarded += 1;
                    }
                    self.stats.packets_discarded += 1;
                    self.buffer.pop_front();
                }
                if let Some(p) = self.buffer.front() {
                    self.playout.play_ts = self.playout.play_ts.max(p.ts);
                }
                self.playout.offset.reset();
                // A short concealment over the jump; the next decode merges.
                if !self.playout.in_loss {
                    self.playout.in_loss = true;
                    self.stats.concealment_events += 1;
                }
                let frames = ms_to_frames(f64::from(FLUSH_FADE_MS), self.chain_rate());
                self.conceal(frames, false);
                Step::Audio
            }
            Op::Fec => {
                let Some(p) = self.buffer.front().copied() else {
                    return self.fallback();
                };
                if p.decoder as usize != self.decoders.current_index() || !self.recover_fec(&p, t) {
                    return self.loss_step(next.map(|n| n.gap_ms));
                }
                Step::Audio
            }
            Op::Conceal => self.loss_step(next.map(|n| n.gap_ms)),
            Op::LossSilence => {
                let frames = short;
                let codec_plc = self.decoders.codec_plc();
                if codec_plc {
                    self.silence(frames, tag::CONCEALED_SILENT, true);
                } else {
                    self.conceal(frames, true);
                }
                self.playout.conceal_run_ms += frames_to_ms(frames, self.chain_rate());
                Step::Audio
            }
            Op::DtxSilence => {
                let rate = self.chain_rate();
                let gap_ms = next.map_or(f64::from(STEP_MS), |n| n.gap_ms);
                // (No `clamp`: it panics when its bounds cross.)
                let ms = gap_ms.min(frames_to_ms(short, rate)).max(0.0);
                let cng = self.playout.last_dtx_packet && self.decoders.codec_plc();
                if cng {
                    let frames = ms_to_frames(ms, rate).div_ceil(OPUS_STEP).max(1) * OPUS_STEP;
                    if self.codec_conceal(frames, tag::COMFORT, tag::COMFORT, true) {
                        return Step::Audio;
                    }
                }
                self.comfort(ms_to_frames(ms, rate).max(1), true);
                Step::Audio
            }
        }
    }

    /// Appends 10 ms of comfort silence (used when nothing else applies).
    fn fallback(&mut self) -> Step {
        self.comfort(ms_to_frames(f64::from(STEP_MS), self.chain_rate()), false);
        Step::Audio
    }

    /// Appends `frames` of comfort: the noise of the last CN packet when
    /// the pause follows one, silence otherwise.
    fn comfort(&mut self, frames: usize, advance: bool) {
        if !self
            .playout
            .in_comfort_noise(self.buffer.front().map(|p| p.seq))
        {
            self.silence(frames, tag::COMFORT, advance);
            return;
        }
        let frames = frames.max(1);
        let end = self.sync.end_pos();
        self.commit_to(end);
        let pc = self.sync.channels().max(1);
        let dst = self.sync.tail(frames);
        let n = dst.len() / pc;
        // The same (mono) noise in every channel.
        for frame in dst.chunks_exact_mut(pc) {
            frame.fill(self.playout.cn.sample());
        }
        self.sync.advance(n, tag::COMFORT);
        let end = self.sync.end_pos();
        self.commit_to(end);
        self.after_append(n, advance);
    }

    fn next_info(&self, p: &PacketMeta, t: f64) -> Next {
        let (clock, codec_plc) = self
            .decoders
            .get(p.decoder as usize)
            .map_or((8000, false), |d| (d.info.clock_rate, d.codec_plc));
        let to_ms = 1000.0 / f64::from(clock.max(1));
        let gap_ms = if self.playout.playing {
            (p.ts - self.playout.play_ts) as f64 * to_ms
        } else {
            0.0
        };
        let dur_ms = f64::from(p.dur) * to_ms;
        let need = p.need_ms(self.delay.min_ms());
        Next {
            gap_ms,
            dur_ms,
            contiguous: self.contiguous(p.seq),
            fec: self.cfg.fec_enabled && p.has_fec && codec_plc && gap_ms > 0.0,
            offset_ms: t - (p.arrival_ms - need),
            start_min_ms: need + self.delay.margin_ms(),
        }
    }

    /// Appends `frames` of silence with `t`; `advance` moves the timeline.
    fn silence(&mut self, frames: usize, t: u8, advance: bool) {
        let frames = frames.max(1);
        let end = self.sync.end_pos();
        self.commit_to(end);
        let pc = self.sync.channels();
        let dst = self.sync.tail(frames);
        dst.fill(0.0);
        let n = dst.len() / pc;
        self.sync.advance(n, t);
        let end = self.sync.end_pos();
        self.commit_to(end);
        self.after_append(n, advance);
    }

    fn after_append(&mut self, frames: usize, advance: bool) {
        let rate = self.chain_rate();
        self.playout.after_append(frames, rate, advance);
    }

    /// One step of loss concealment, at most 10 ms (less when the gap to
    /// the next packet is shorter).
    fn loss_step(&mut self, gap_ms: Option<f64>) -> Step {
        let ms = gap_ms.map_or(f64::from(STEP_MS), |g| g.min(f64::from(STEP_MS)).max(0.0));
        let rate = self.chain_rate();
        let frames = ms_to_frames(ms, rate).max(1);
        if !self.playout.in_loss {
            self.playout.in_loss = true;
            self.stats.concealment_events += 1;
        }
        self.conceal(frames, true);
        self.playout.conceal_run_ms += ms.max(frames_to_ms(1, rate));
        Step::Audio
    }

    /// Appends `frames` of concealment: the codec's PLC if it has one (Opus,
    /// rounded up to 2.5 ms), else the pitch-based concealer.
    fn conceal(&mut self, frames: usize, advance: bool) {
        let codec_plc = self.decoders.codec_plc();
        if codec_plc && self.decoders.is_active() {
            let n = frames.div_ceil(OPUS_STEP).max(1) * OPUS_STEP;
            if self.codec_conceal(n, tag::CONCEALED, tag::CONCEALED_SILENT, advance) {
                return;
            }
        }
        let end = self.sync.end_pos();
        self.commit_to(end);
        let pc = self.sync.channels();
        let dst = self.sync.tail(frames.max(1));
        let n = dst.len() / pc;
        if let Some(c) = self.decoders.chain_mut() {
            c.plc.conceal(dst);
        } else {
            dst.fill(0.0);
        }
        self.advance_classified(n, tag::CONCEALED, tag::CONCEALED_SILENT);
        let end = self.sync.end_pos();
        self.sync.set_commit(end);
        self.after_append(n, advance);
    }

    /// Codec PLC (or CNG after a DTX packet) into the sync buffer.
    fn codec_conceal(&mut self, frames: usize, loud: u8, quiet: u8, advance: bool) -> bool {
        let Some(d) = self.decoders.current_mut() else {
            return false;
        };
        let codec_ch = d.codec_ch;
        let Some(buf) = self.dec_buf.get_mut(..frames * codec_ch) else {
            return false;
        };
        match d.dec.conceal(frames, buf) {
            Ok(n) => {
                let end = self.sync.end_pos();
                self.commit_to(end);
                let n = self.append_decoded(n, codec_ch);
                self.advance_classified(n, loud, quiet);
                let end = self.sync.end_pos();
                self.sync.set_commit(end);
                self.after_append(n, advance);
                true
            }
            Err(_) => false,
        }
    }

    /// Copies `n` decoded frames from `dec_buf` to the sync buffer's tail
    /// (down-mixing stereo to mono when needed); returns the frames copied.
    /// The caller tags them with `advance`.
    fn append_decoded(&mut self, n: usize, codec_ch: usize) -> usize {
        let pc = self.sync.channels();
        let src = self.dec_buf.get(..n * codec_ch).unwrap_or_default();
        let dst = self.sync.tail(n);
        let m = dst.len() / pc;
        if codec_ch == pc {
            if let (Some(d), Some(s)) = (dst.get_mut(..m * pc), src.get(..m * pc)) {
                d.copy_from_slice(s);
            }
        } else {
            for (d, s) in dst.chunks_exact_mut(pc).zip(src.chunks_exact(codec_ch)) {
                let v = s.iter().sum::<f32>() / codec_ch as f32;
                d.fill(v);
            }
        }
        m
    }

    fn advance_classified(&mut self, n: usize, loud: u8, quiet: u8) {
        self.sync.advance_classified(n, loud, quiet, SILENT_LEVEL);
    }

    /// Decodes the next packet; for a stretch operation (`Some(Some(fast))`
    /// accelerate, `Some(None)` expand) decodes following due packets until
    /// the stretcher has its 30 ms, then stretches.
    fn decode_packets(&mut self, t_read: f64, stretch: Option<Option<bool>>) -> Step {
        let Some(p) = self.buffer.front().copied() else {
            return self.fallback();
        };
        if !self.ensure_decoder(p.decoder as usize) {
            return Step::Drain;
        }
        self.decode_front(t_read);
        let Some(mode) = stretch else {
            return Step::Audio;
        };
        let min_in = self
            .decoders
            .chain()
            .map_or(usize::MAX, |c| c.stretch.min_input_frames());
        let mut extra = 0;
        while self.sync.uncommitted() < min_in && extra < 8 {
            let Some(q) = self.buffer.front().copied() else {
                break;
            };
            let gap_ms = (q.ts - self.playout.play_ts) as f64 * 1000.0
                / f64::from(self.playout.clock.max(1));
            if q.decoder as usize != self.decoders.current_index()
                || gap_ms > decision::DUE_TOLERANCE_MS
            {
                break;
            }
            self.decode_front(t_read);
            extra += 1;
        }
        if self.sync.uncommitted() >= min_in {
            self.time_stretch(mode);
        }
        Step::Audio
    }

    /// Decodes the front packet into the sync buffer.
    fn decode_front(&mut self, t_read: f64) {
        let Some(p) = self.buffer.front().copied() else {
            return;
        };
        let Some(d) = self.decoders.get_mut(p.decoder as usize) else {
            self.buffer.pop_front();
            return;
        };
        let payload = self.buffer.payload(0);
        let codec_ch = d.codec_ch;
        let rate = d.info.sample_rate;
        let result = d.dec.decode(payload, &mut self.dec_buf);
        self.playout.last_dtx_packet = d.codec_plc && payload.len() <= 2;
        self.buffer.pop_front();
        match result {
            Ok(n) => {
                let t_play = t_read + frames_to_ms(self.sync.unplayed(), rate);
                let m = self.append_decoded(n, codec_ch);
                self.sync.advance(m, tag::NORMAL);
                let need = p.need_ms(self.delay.min_ms());
                self.count_emitted(m, rate, t_play - p.arrival_ms, need);
                self.track_noise_floor(m, rate);
                let offset = t_play - (p.arrival_ms - need);
                self.playout
                    .offset
                    .update(offset, self.playout.offset_dt_ms);
                self.playout.offset_dt_ms = 0.0;
                if p.has_fec && self.playout.fec_used_seq != Some(p.seq) {
                    self.stats.fec_packets_discarded += 1;
                }
                self.after_append(m, false);
            }
            Err(_) => {
                self.stats.errors.decode_failed += 1;
                if !self.playout.in_loss {
                    self.stats.concealment_events += 1;
                }
                let frames = (u64::from(p.dur) * u64::from(rate)
                    / u64::from(self.playout.clock.max(1))) as usize;
                self.conceal(frames.max(1), false);
            }
        }
        // A packet that arrived while its slot was being concealed plays in
        // full: the timeline moves back to it (the concealment added delay).
        self.playout.play_ts = p.end();
        self.playout.decoded_end = self.playout.decoded_end.max(p.end());
        self.playout.last_seq = Some(p.seq);
        self.playout.in_loss = false;
        self.playout.conceal_run_ms = 0.0;
    }

    /// Updates the noise floor from the last `frames` appended frames.
    fn track_noise_floor(&mut self, frames: usize, rate: u32) {
        let end = self.sync.end_pos();
        let (x, _) = self.sync.frames_mut(end.saturating_sub(frames), end);
        if x.is_empty() {
            return;
        }
        let e = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
        let ms = frames_to_ms(frames, rate) as f32;
        self.playout.track_noise_floor(e, ms);
    }

    /// Stats for `frames` decoded frames at `rate` from a packet of
    /// relative delay `rel_ms` that waited `delay_ms` (arrival → playout).
    ///
    /// The controller's target is a playout *offset* (from when the packet
    /// would have arrived with no queueing); a packet that came `rel_ms`
    /// late is meant to wait `target − rel_ms` after its arrival. That is
    /// what is accumulated, so `jitterBufferTargetDelay` and
    /// `jitterBufferDelay` measure the same thing (WebRTC) and differ only
    /// by how far playout is from the target; accumulating the offset
    /// target itself overstated it by the mean relative delay (~25 ms at
    /// 40 ms p95 jitter). Same for the minimum delay.
    fn count_emitted(&mut self, frames: usize, rate: u32, delay_ms: f64, rel_ms: f64) {
        let out = frames as f64 * f64::from(self.cfg.out_rate) / f64::from(rate.max(1));
        let rel = if rel_ms.is_finite() { rel_ms } else { 0.0 };
        let target = (self.delay.target_ms() - rel).max(0.0);
        let minimum = (self.delay.unbounded_target_ms() - rel).max(0.0);
        let s = &mut self.stats;
        s.jitter_buffer_emitted_count += self.carries.emitted.take(out);
        s.jitter_buffer_delay += delay_ms.max(0.0) / 1000.0 * out;
        s.jitter_buffer_target_delay += target / 1000.0 * out;
        s.jitter_buffer_minimum_delay += minimum / 1000.0 * out;
    }

    /// Recovers the gap before `p` from its in-band FEC.
    fn recover_fec(&mut self, p: &PacketMeta, t: f64) -> bool {
        let clock = self.playout.clock.max(1);
        let Some(d) = self.decoders.current_mut() else {
            return false;
        };
        let rate = d.info.sample_rate;
        let codec_ch = d.codec_ch;
        let gap = (p.ts - self.playout.play_ts).max(0) as u64 * u64::from(rate) / u64::from(clock);
        let cap = self.dec_buf.len() / codec_ch.max(1);
        let frames = ((gap as usize + OPUS_STEP / 2) / OPUS_STEP * OPUS_STEP)
            .max(OPUS_STEP)
            .min(cap / OPUS_STEP * OPUS_STEP);
        let payload = self.buffer.payload(0);
        let Some(buf) = self.dec_buf.get_mut(..frames * codec_ch) else {
            return false;
        };
        match d.dec.decode_fec(payload, frames, buf) {
            Ok(n) => {
                let m = self.append_decoded(n, codec_ch);
                self.sync.advance(m, tag::NORMAL);
                let need = p.need_ms(self.delay.min_ms());
                self.count_emitted(m, rate, t - p.arrival_ms, need);
                self.stats.fec_packets_recovered += 1;
                self.playout.fec_used_seq = Some(p.seq);
                self.after_append(m, false);
                self.playout.play_ts = p.ts;
                self.playout.decoded_end = self.playout.decoded_end.max(p.ts);
                self.playout.in_loss = false;
                self.playout.conceal_run_ms = 0.0;
                true
            }
            Err(_) => false,
        }
    }

    /// Accelerate (`Some(fast)`) or expand (`None`) the uncommitted audio.
    fn time_stretch(&mut self, mode: Option<bool>) {
        let pc = self.sync.channels();
        let rate = self.chain_rate();
        // Voiced speech only when the offset is far from the band (or fast
        // accelerate); else pauses only, where the seam cannot be heard.
        let (low, high) = decision::limits(self.delay.target_ms());
        let urgent = match (mode, self.playout.offset.get()) {
            (Some(true), _) | (_, None) => true,
            (Some(false), Some(o)) => o >= high + decision::ACCEL_URGENT_MS,
            (None, Some(o)) => o < low,
        };
        let quiet = self.playout.quiet_level();
        // Not urgent: only in a real pause, not between two words. A
        // listener hears neither, but a delay change inside an utterance
        // shifts the rest of it (PESQ, which aligns utterances, scored
        // such in-utterance stretches 0.1–0.2 lower on 40 ms jitter).
        if !urgent && self.playout.quiet_run_ms < MIN_PAUSE_MS {
            return;
        }
        let Some(c) = self.decoders.chain_mut() else {
            return;
        };
        c.stretch
            .set_correlation_threshold(if urgent { 0.9 } else { f32::INFINITY });
        c.stretch.set_quiet_level(quiet);
        let input = self.sync.uncommitted_frames();
        let n_in = input.len();
        let res = match mode {
            Some(fast) => match self.stretch_buf.get_mut(..n_in) {
                Some(out) => c.stretch.accelerate(input, out, fast),
                None => return,
            },
            None => match self
                .stretch_buf
                .get_mut(..n_in + c.stretch.max_period_frames() * pc)
            {
                Some(out) => c.stretch.expand(input, out),
                None => return,
            },
        };
        if res.mode == StretchMode::Unchanged || res.changed == 0 {
            return;
        }
        let ms = frames_to_ms(res.changed, rate);
        if let Some(level) = self.playout.offset.get() {
            let (low, high) = decision::limits(self.delay.target_ms());
            let overshoot = match mode {
                Some(fast) => !fast && level - ms < low,
                None => level + ms > high,
            };
            if overshoot {
                return;
            }
        }
        let Some(src) = self.stretch_buf.get(..res.frames * pc) else {
            return;
        };
        self.sync.replace_uncommitted(src);
        let out = res.changed as f64 * f64::from(self.cfg.out_rate) / f64::from(rate.max(1));
        if mode.is_some() {
            self.stats.removed_samples_for_acceleration += self.carries.removed.take(out);
            self.playout.offset.adjust(-ms);
        } else {
            self.stats.inserted_samples_for_deceleration += self.carries.inserted.take(out);
            self.playout.offset.adjust(ms);
        }
        self.playout.since_stretch_ms = 0.0;
    }
}
