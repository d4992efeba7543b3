//! What to play next: the playout decision, as a pure function of a few
//! numbers (so it can be reasoned about and tested on its own).
//!
//! It runs whenever the receiver needs more decoded audio: once per packet
//! in normal playout, every 10 ms of codec audio while concealing or
//! playing silence. The rules are WebRTC NetEq's (`DecisionLogic`):
//!
//! The controlled quantity is the **playout offset** of each decoded
//! packet: when its first sample plays minus when it would have arrived
//! with no queueing (its arrival minus its relative delay, see
//! [`super::delay`]). Unlike the amount of buffered audio it has no
//! saw-tooth as packets arrive and are played, does not depend on the
//! packet size or on where render blocks fall, and moves by exactly the
//! drift when the sender's clock is off. The target `T` is what the delay
//! manager asks for (95th percentile of the relative delay + packet
//! duration + render block).
//!
//! - **Start**: before the first packet is played, after an SSRC change or
//!   a long loss, output silence until the first waiting packet's offset
//!   (the time since it would have arrived with no queueing) reaches `T`.
//! - **Normal / accelerate / pre-emptive expand**, when the next packet is
//!   due: compare the filtered offset `L` with `T`: `low = T − 5 ms`,
//!   `high = T + 10 ms`; accelerate when `L ≥ high` (fast accelerate when
//!   `L ≥ 4·high`), and once started on down to `T + 1 ms`, pre-emptive expand when `L < T − 1 ms` (in pauses
//!   only while `L ≥ low`), normal otherwise.
//!   A stretch whose result would cross the other edge (a whole pitch
//!   period is up to 15 ms) is not applied, so the offset does not
//!   oscillate between accelerate and expand. Near the band only quiet
//!   audio (pauses, below a tracked noise floor) is stretched, where a
//!   removed or repeated period is inaudible; voiced speech (by whole
//!   pitch periods, cross-faded) only when it is urgent: an offset below
//!   `low` risks late packets, one [`ACCEL_URGENT_MS`] above `high` only
//!   costs latency, so accelerate waits longer for a pause. Drift and a settling target need a few ms per
//!   second, which the pauses of speech provide. (NetEq's wider band,
//!   `low = max(¾T, T − 85)`, `high = max(T, low + 20)`, is made for its
//!   noisier buffer-level measure; a narrow one lets pre-emptive expand
//!   act before jitter makes packets late, which matters for a sender
//!   clock 1000 ppm slow.) Time-stretching is rate limited to once per
//!   40 ms of audio (NetEq: 5 × 10 ms).
//! - **Flush**: when the buffered audio exceeds `max_delay` plus two
//!   packets (at least 60 ms; a burst after a network stall, a flood), drop the oldest packets down
//!   to the target rather than play seconds of backlog.
//! - **Gap before the next packet**, with the sequence numbers contiguous
//!   (nothing lost: DTX, or telephone-events in between; unless the
//!   stream stalled, see *Loss*): comfort silence;
//!   the next talkspurt starts as soon as its first packet's offset reaches
//!   the target, which is how the delay follows the target across
//!   silences without stretching speech.
//! - **Loss** (sequence numbers missing, or nothing buffered): Opus FEC
//!   when the next packet carries redundancy covering the gap; else
//!   concealment (codec PLC or pitch-based PLC) in 10 ms steps. A packet
//!   that arrives while its own slot is being concealed is still played
//!   (the concealment then added delay, removed later). After
//!   `max_conceal` of concealment, silence: the stream stalled (an outage,
//!   a delay spike), and it re-buffers — playout restarts at the first
//!   packet whose offset is at the target, the older backlog being
//!   dropped as late, so a spike does not leave its length as extra delay.
//!   That holds whether packets were lost or only held up: a contiguous
//!   packet whose whole slot has passed re-buffers too. A backlog beyond
//!   the flush limit is flushed first.

/// Tolerance for "the next packet is due": a gap shorter than this (e.g. a
/// sender whose timestamps step a few ticks more than the audio it sends)
/// is played through, not concealed.
pub(crate) const DUE_TOLERANCE_MS: f64 = 2.0;
/// The band around the target the filtered level is kept in, ms.
pub(crate) const LOW_MS: f64 = 5.0;
/// See [`LOW_MS`]. Wider above than below: the offset of the first packet
/// (playout starts when it reaches the target) is revised up by as much as
/// that packet was later than the fastest one of the next seconds, up to a
/// render quantum (2.7 ms) plus the arrival jitter on a clean worklet
/// link, and a few ms too much only cost latency, while removing them
/// would time-stretch a clean stream.
pub(crate) const HIGH_MS: f64 = 10.0;
/// Pre-emptive expand in pauses starts this far below the target, ms.
pub(crate) const QUIET_LOW_MS: f64 = 1.0;
/// Above the band by this much, accelerate may touch voiced speech, ms.
pub(crate) const ACCEL_URGENT_MS: f64 = 40.0;
/// Minimum audio between two time-stretch operations, ms.
pub(crate) const STRETCH_INTERVAL_MS: f64 = 40.0;

/// What is known about the next buffered audio packet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Next {
    /// Its start minus the playout position, ms (≤ 0: due or partly late).
    pub gap_ms: f64,
    /// Its duration, ms.
    pub dur_ms: f64,
    /// No sequence number is missing between the last played packet and it.
    pub contiguous: bool,
    /// Its FEC can recover the gap (Opus, LBRR present, gap ≤ its duration).
    pub fec: bool,
    /// Its playout offset if it started playing now, ms.
    pub offset_ms: f64,
    /// The offset below which it would not (re)start a timeline: its own
    /// need plus the target's margin. Usually below the target; not for
    /// a long packet of a sender that sends ahead (ffmpeg's 182.5 ms G.711
    /// payloads): starting it at the target would leave no margin for the
    /// next one, whose need the first packets do not yet show.
    pub start_min_ms: f64,
}

/// The decision's inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Inputs {
    /// A playout timeline exists (started, not re-buffering).
    pub playing: bool,
    /// The next packet, if any.
    pub next: Option<Next>,
    /// Filtered playout offset of the packets played, ms (`None`: none yet).
    pub offset_ms: Option<f64>,
    /// Audio buffered now, ms.
    pub level_ms: f64,
    /// Target delay, ms.
    pub target_ms: f64,
    /// Upper bound of the delay, ms.
    pub max_delay_ms: f64,
    /// Concealment produced in the current loss, ms.
    pub conceal_run_ms: f64,
    /// Concealment allowed before going silent and re-buffering, ms.
    pub max_conceal_ms: f64,
    /// The last packet played was a DTX packet (Opus): silence follows,
    /// an empty buffer is not a loss.
    pub in_dtx: bool,
    /// Audio played since the last time-stretch, ms.
    pub since_stretch_ms: f64,
    /// An accelerate started (offset ≥ `high`) and the offset has not yet
    /// come back to the target: keep accelerating (in pauses) down to
    /// `T + QUIET_LOW_MS`, so the offset is centred on the target, not
    /// parked at the wide upper edge.
    pub draining: bool,
}

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// No timeline: comfort silence, wait for packets.
    Wait,
    /// (Re)start the timeline at the next packet.
    Start,
    /// Decode the next packet.
    Normal,
    /// Decode and remove pitch periods (`fast`: up to 15 ms per 30 ms).
    Accelerate {
        /// NetEq's fast accelerate.
        fast: bool,
    },
    /// Decode and insert a pitch period.
    Expand,
    /// Drop the oldest packets down to the target delay.
    Flush,
    /// Recover the gap from the next packet's FEC.
    Fec,
    /// Conceal up to 10 ms of lost audio.
    Conceal,
    /// Silence for lost audio (concealment exhausted), timeline advancing.
    LossSilence,
    /// Comfort silence in a DTX gap, timeline advancing.
    DtxSilence,
}

/// The `(low, high)` limits for the filtered level, ms.
pub(crate) fn limits(target_ms: f64) -> (f64, f64) {
    (target_ms - LOW_MS, target_ms + HIGH_MS)
}

/// The decision.
pub(crate) fn decide(i: &Inputs) -> Op {
    let ready = |n: &Next| n.offset_ms >= i.target_ms.max(n.start_min_ms);
    if !i.playing {
        return match i.next {
            Some(n) if ready(&n) => Op::Start,
            _ => Op::Wait,
        };
    }
    let stalled = i.conceal_run_ms >= i.max_conceal_ms;
    let Some(n) = i.next else {
        return if i.in_dtx {
            Op::DtxSilence
        } else if i.conceal_run_ms < i.max_conceal_ms {
            Op::Conceal
        } else {
            Op::LossSilence
        };
    };
    // The buffered audio is the offset plus up to two packets (the one due
    // and the one arriving; 60 ms at least, for a stream whose packets
    // just got shorter): beyond that over the maximum, flush. Checked
    // before re-buffering too: after a stall longer than the 2 s window of
    // the relative delay, a backlog all looks unqueued and would wait.
    let flood = i.level_ms > i.max_delay_ms + (2.0 * n.dur_ms).max(60.0);
    if n.gap_ms <= DUE_TOLERANCE_MS && flood {
        return Op::Flush;
    }
    if stalled && !n.contiguous && n.gap_ms > DUE_TOLERANCE_MS {
        // After a loss, a packet ahead of the playout position: wait for
        // its slot on the timeline as it is, unless that would leave it far
        // above the target (the sender's timestamps jumped): then restart
        // at it now.
        return if n.offset_ms + n.gap_ms > i.target_ms + HIGH_MS && ready(&n) {
            Op::Start
        } else {
            Op::LossSilence
        };
    }
    if stalled && n.gap_ms <= -n.dur_ms {
        // Re-buffer: restart when the next packet is at the target delay.
        // Only when its whole slot has passed and no later packet is on
        // time (the receiver drops such a backlog as late before deciding):
        // the path's delay itself went up. A delay spike's backlog ends
        // with packets that are on time for the timeline as it was, and it
        // goes on there, as a fixed buffer would, without shifting the
        // audio. A packet only partly late (a talkspurt's first packet
        // after a pause sent without DTX) is played as usual.
        return if ready(&n) {
            Op::Start
        } else {
            Op::LossSilence
        };
    }
    if n.gap_ms <= DUE_TOLERANCE_MS {
        let Some(offset) = i.offset_ms else {
            return Op::Normal;
        };
        let (low, high) = limits(i.target_ms);
        if offset >= 4.0 * high {
            return Op::Accelerate { fast: true };
        }
        if i.since_stretch_ms >= STRETCH_INTERVAL_MS {
            if offset >= high || (i.draining && offset >= i.target_ms + QUIET_LOW_MS) {
                return Op::Accelerate { fast: false };
            }
            if offset < low.max(i.target_ms - QUIET_LOW_MS) {
                return Op::Expand;
            }
        }
        return Op::Normal;
    }
    if n.contiguous {
        return if ready(&n) { Op::Start } else { Op::DtxSilence };
    }
    if n.fec && n.gap_ms <= n.dur_ms + DUE_TOLERANCE_MS {
        return Op::Fec;
    }
    Op::Conceal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(gap_ms: f64) -> Next {
        Next {
            gap_ms,
            dur_ms: 20.0,
            contiguous: false,
            fec: false,
            offset_ms: 0.0,
            start_min_ms: 0.0,
        }
    }

    fn inputs(offset: f64, next: Option<Next>) -> Inputs {
        Inputs {
            playing: true,
            next,
            offset_ms: Some(offset),
            level_ms: offset,
            target_ms: 60.0,
            max_delay_ms: 500.0,
            conceal_run_ms: 0.0,
            max_conceal_ms: 100.0,
            in_dtx: false,
            since_stretch_ms: 1000.0,
            draining: false,
        }
    }

    #[test]
    fn neteq_limits() {
        assert_eq!(limits(60.0), (55.0, 70.0));
        assert_eq!(limits(400.0), (395.0, 410.0));
    }

    #[test]
    fn stretch_by_level() {
        assert_eq!(decide(&inputs(60.0, Some(next(0.0)))), Op::Normal);
        assert_eq!(decide(&inputs(69.0, Some(next(0.0)))), Op::Normal);
        assert_eq!(
            decide(&inputs(70.0, Some(next(0.0)))),
            Op::Accelerate { fast: false }
        );
        assert_eq!(
            decide(&inputs(300.0, Some(next(0.0)))),
            Op::Accelerate { fast: true }
        );
        let mut d = inputs(62.0, Some(next(0.0)));
        d.draining = true;
        assert_eq!(decide(&d), Op::Accelerate { fast: false });
        d.offset_ms = Some(60.5);
        assert_eq!(decide(&d), Op::Normal);
        assert_eq!(decide(&inputs(59.0, Some(next(0.0)))), Op::Normal);
        assert_eq!(decide(&inputs(58.9, Some(next(0.0)))), Op::Expand);
        let mut i = inputs(40.0, Some(next(0.0)));
        i.since_stretch_ms = 10.0;
        assert_eq!(decide(&i), Op::Normal);
        i.level_ms = 550.0;
        assert_eq!(decide(&i), Op::Normal);
        i.level_ms = 561.0;
        assert_eq!(decide(&i), Op::Flush);
        i.level_ms = 60.0;
        i.offset_ms = None;
        assert_eq!(decide(&i), Op::Normal);
    }

    #[test]
    fn gaps() {
        let mut n = next(20.0);
        assert_eq!(decide(&inputs(60.0, Some(n))), Op::Conceal);
        n.fec = true;
        assert_eq!(decide(&inputs(60.0, Some(n))), Op::Fec);
        n.fec = false;
        n.contiguous = true;
        n.offset_ms = 20.0;
        assert_eq!(decide(&inputs(60.0, Some(n))), Op::DtxSilence);
        n.offset_ms = 60.0;
        assert_eq!(decide(&inputs(60.0, Some(n))), Op::Start);
        let mut i = inputs(60.0, None);
        assert_eq!(decide(&i), Op::Conceal);
        i.conceal_run_ms = 100.0;
        assert_eq!(decide(&i), Op::LossSilence);
        let mut far = next(500.0);
        far.offset_ms = 70.0;
        i.next = Some(far);
        assert_eq!(decide(&i), Op::Start);
        // Stalled, a late packet (its slot already passed): re-buffer.
        let mut late = next(-150.0);
        late.offset_ms = 50.0;
        i.next = Some(late);
        assert_eq!(decide(&i), Op::LossSilence);
        late.offset_ms = 250.0;
        i.next = Some(late);
        assert_eq!(decide(&i), Op::Start);
        // Stalled with nothing lost (a delay spike): the backlog's first
        // packet is late, so re-buffer as well rather than play it late.
        late.contiguous = true;
        i.next = Some(late);
        assert_eq!(decide(&i), Op::Start);
        late.offset_ms = 50.0;
        i.next = Some(late);
        assert_eq!(decide(&i), Op::LossSilence);
        // ... but a packet only partly behind (its slot not yet over) plays.
        let mut onset = next(-10.0);
        onset.contiguous = true;
        i.next = Some(onset);
        assert_eq!(decide(&i), Op::Normal);
        // A backlog over the flush limit is flushed even while stalled
        // (its offsets may all look unqueued after a long stall).
        i.next = Some(late);
        i.level_ms = 600.0;
        assert_eq!(decide(&i), Op::Flush);
        i.level_ms = 60.0;
        // Not stalled: a late contiguous packet is played (the short
        // concealment before it becomes delay, removed later).
        i.conceal_run_ms = 40.0;
        assert_eq!(decide(&i), Op::Normal);
        // Stalled, contiguous and not yet due (DTX): wait for the target.
        i.conceal_run_ms = 100.0;
        let mut dtx = next(30.0);
        dtx.contiguous = true;
        dtx.offset_ms = 20.0;
        i.next = Some(dtx);
        assert_eq!(decide(&i), Op::DtxSilence);
        i.next = None;
        i.in_dtx = true;
        assert_eq!(decide(&i), Op::DtxSilence);
        i.playing = false;
        i.next = None;
        assert_eq!(decide(&i), Op::Wait);
    }
}
