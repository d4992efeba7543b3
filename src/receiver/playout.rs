//! The playout state: where the timeline is and what has been played from
//! it, what the last decisions left behind (the loss run, the spacing of
//! time-stretches, drain mode), the filtered playout offset the decisions
//! steer, the comfort noise of the current pause, and the background level
//! that tells pauses from speech.

use crate::codec::comfort_noise::{CnPayload, ComfortNoise};

use super::delay::LevelFilter;

/// Bounds of the "quiet" level (mean square) below which time-stretching
/// may cut anywhere: −50 dBFS at least (digital silence, tones fading
/// out), −30 dBFS at most (never speech).
const QUIET_MIN: f32 = 1e-5;
const QUIET_MAX: f32 = 1e-3;
/// Growth of the noise-floor estimate per ms of audio (+8.6 dB/s).
const NOISE_FLOOR_RISE_PER_MS: f32 = 1.002;

/// Why the playout timeline is reset ([`Playout::reset`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reset {
    /// `Receiver::clear`: the caller dropped the queued audio (barge-in).
    Clear,
    /// The sender's timestamps jumped: same source, new timeline.
    Resync,
    /// An SSRC change: a new source.
    NewSource,
}

/// Playout state (see the [module documentation](self)).
pub(super) struct Playout {
    /// A timeline is being played (else: waiting to start at the target).
    pub playing: bool,
    /// Playout has started at least once (waiting then plays comfort
    /// rather than pre-start silence).
    pub started: bool,
    /// Timestamp of the next audio to play.
    pub play_ts: i64,
    /// Timestamp just past the last audio decoded from a packet (or FEC):
    /// anything older is late. `play_ts` can be ahead of it by concealment
    /// or silence; a packet in between is still played (the concealment
    /// then added delay, as in NetEq's expand → merge).
    pub decoded_end: i64,
    /// RTP clock of the timeline, Hz.
    pub clock: u32,
    /// Sequence number of the last packet played.
    pub last_seq: Option<i64>,
    /// The last packet decoded was an Opus DTX packet.
    pub last_dtx_packet: bool,
    /// RFC 3389 noise for the pause after the CN packet `cn_seq`.
    pub cn: ComfortNoise,
    /// Sequence number of the newest CN packet.
    pub cn_seq: Option<i64>,
    /// Concealment played since the last decoded packet, ms.
    pub conceal_run_ms: f64,
    /// A loss is being concealed (counted once in `concealment_events`).
    pub in_loss: bool,
    /// Audio produced since the last time-stretch, ms.
    pub since_stretch_ms: f64,
    /// See [`Inputs::draining`](super::decision::Inputs::draining).
    pub draining: bool,
    /// Background level of the decoded audio (mean square): the minimum
    /// packet energy, rising slowly (NetEq's background-noise estimate).
    pub noise_floor: f32,
    /// Sequence number of the packet whose FEC was last used.
    pub fec_used_seq: Option<i64>,
    /// Where the last render ended, ms (the time of a render whose
    /// `now_ms` is not finite).
    pub last_now_ms: f64,
    /// Length of the current run of quiet decoded audio (a pause), ms.
    pub quiet_run_ms: f64,
    /// Filtered playout offset of decoded packets.
    pub offset: LevelFilter,
    /// Audio produced since the last offset measurement, ms.
    pub offset_dt_ms: f64,
    /// A stall's backlog was dropped as late (a delay spike): the next
    /// packet decoded, if partly behind the timeline, plays from the
    /// timeline's position (see `Receiver::decode_front`).
    pub trim_late: bool,
}

impl Playout {
    /// Before the first packet.
    pub fn new() -> Playout {
        Playout {
            playing: false,
            started: false,
            play_ts: 0,
            decoded_end: i64::MIN,
            clock: 8000,
            last_seq: None,
            last_dtx_packet: false,
            cn: ComfortNoise::new(),
            cn_seq: None,
            conceal_run_ms: 0.0,
            in_loss: false,
            since_stretch_ms: 0.0,
            draining: false,
            noise_floor: QUIET_MIN,
            fec_used_seq: None,
            last_now_ms: 0.0,
            quiet_run_ms: 0.0,
            offset: LevelFilter::new(300.0),
            offset_dt_ms: 0.0,
            trim_late: false,
        }
    }

    /// Ends the timeline: playout re-buffers and starts again at the first
    /// packet buffered after this (at the target delay). The one reset of
    /// the playout state; `why` says which caller and decides the one field
    /// that depends on it.
    ///
    /// Always reset: no packet counts as played any more (`last_seq`,
    /// `decoded_end`: nothing is late), the filtered offset is forgotten,
    /// and so is the comfort noise of the pause (the next pause starts from
    /// its own CN packet).
    ///
    /// Reset only for [`Reset::NewSource`]: the loss run (`in_loss`,
    /// `conceal_run_ms`), which belonged to the old source. After
    /// [`Reset::Clear`] and [`Reset::Resync`] the stream goes on, so a loss
    /// spanning the restart stays one concealment event.
    ///
    /// Always kept: `started` (waiting plays comfort, counted as received
    /// samples, not pre-start silence), the talker's background level
    /// (`noise_floor`, `quiet_run_ms`), the stretch spacing and drain mode
    /// (`since_stretch_ms`, `draining`), `last_dtx_packet`,
    /// `fec_used_seq`, `last_now_ms`, `offset_dt_ms` (zeroed by the next
    /// decision, as playout is stopped), and `clock` / `play_ts` (set
    /// again at the next start).
    pub fn reset(&mut self, why: Reset) {
        self.playing = false;
        self.last_seq = None;
        self.decoded_end = i64::MIN;
        self.offset.reset();
        self.trim_late = false;
        self.forget_comfort_noise();
        if why == Reset::NewSource {
            self.in_loss = false;
            self.conceal_run_ms = 0.0;
        }
    }

    /// Whether the pause being played follows a CN packet: every audio
    /// packet before it has been played (none older is still buffered:
    /// `front_seq` is the oldest buffered packet's) and none after it yet.
    pub fn in_comfort_noise(&self, front_seq: Option<i64>) -> bool {
        let Some(cn) = self.cn_seq else {
            return false;
        };
        self.last_seq.is_none_or(|last| cn > last) && front_seq.is_none_or(|s| s > cn)
    }

    /// Forgets the comfort noise.
    pub fn forget_comfort_noise(&mut self) {
        self.cn.reset();
        self.cn_seq = None;
    }

    /// An RFC 3389 CN packet `seq` arrived (`front_seq`: the oldest
    /// buffered packet's sequence number).
    pub fn on_comfort_noise(&mut self, seq: i64, cn: &CnPayload, front_seq: Option<i64>) {
        // The noise of the newest CN packet; older ones arriving
        // late change nothing. A CN packet that ends a talkspurt
        // starts its pause at its own level; further ones within
        // the pause (periodic updates) are blended in.
        if self.cn_seq.is_none_or(|s| seq > s) {
            if self.in_comfort_noise(front_seq) {
                self.cn.update(cn);
            } else {
                self.cn.set(cn);
            }
            self.cn_seq = Some(seq);
        }
    }

    /// Frames at `rate` from the timeline's position to RTP timestamp
    /// `ts` (0 when `ts` is behind it): a gap before a buffered packet.
    pub fn frames_until(&self, ts: i64, rate: u32) -> u64 {
        (ts - self.play_ts).max(0) as u64 * u64::from(rate) / u64::from(self.clock.max(1))
    }

    /// `frames` at `rate` were appended to the sync buffer; `advance` moves
    /// the timeline by them.
    pub fn after_append(&mut self, frames: usize, rate: u32, advance: bool) {
        let ms = super::frames_to_ms(frames, rate);
        self.offset_dt_ms += ms;
        self.since_stretch_ms += ms;
        if advance {
            let ticks = frames as u64 * u64::from(self.clock) / u64::from(rate.max(1));
            self.play_ts = self.play_ts.saturating_add(ticks as i64);
        }
    }

    /// The level (mean square) below which audio is quiet: 4 × the noise
    /// floor, within [−50, −30] dBFS.
    pub fn quiet_level(&self) -> f32 {
        (4.0 * self.noise_floor).clamp(QUIET_MIN, QUIET_MAX)
    }

    /// Updates the noise floor and the quiet run with `ms` of decoded
    /// audio of mean square `e`.
    pub fn track_noise_floor(&mut self, e: f32, ms: f32) {
        let quiet = self.quiet_level();
        if e < quiet {
            self.quiet_run_ms += f64::from(ms);
        } else {
            self.quiet_run_ms = 0.0;
        }
        let risen = self.noise_floor * NOISE_FLOOR_RISE_PER_MS.powf(ms);
        if e.is_finite() {
            self.noise_floor = e.min(risen).max(1e-12);
        }
    }
}
