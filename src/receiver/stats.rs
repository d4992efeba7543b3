//! Receive statistics under WebRTC's names (`RTCInboundRtpStreamStats`,
//! W3C webrtc-stats), plus the RFC 3550 reception state behind RTCP
//! receiver reports.
//!
//! Units follow the WebRTC definitions: delays and durations in seconds,
//! `jitter` in seconds, sample counters in samples *per channel* at the
//! output rate (what was played). Fields that WebRTC does not define are
//! marked "voxlet extension".

use crate::rtp::rtcp::ReportBlock;

/// Why packets were rejected by [`Receiver::push`](super::Receiver::push),
/// by kind. None of these packets is counted in `packets_received`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    /// Not a valid RTP packet (truncated, bad version, padding, extension).
    pub malformed_rtp: u64,
    /// Payload type not in the registry.
    pub unknown_payload_type: u64,
    /// Payload larger than `max_payload_bytes`.
    pub too_large: u64,
    /// Empty payload (keep-alives).
    pub empty_payload: u64,
    /// The codec rejected the payload (e.g. an invalid Opus TOC, an odd L16
    /// length, a malformed telephone-event).
    pub invalid_payload: u64,
    /// RTCP (multiplexed on the RTP port, RFC 5761) that did not parse.
    pub malformed_rtcp: u64,
    /// `arrival_ms` not finite.
    pub bad_time: u64,
    /// From a different SSRC while the current one is active (held for
    /// probation, RFC 3550 A.1 style; the source switches after two
    /// sequential packets).
    pub foreign_ssrc: u64,
    /// Decoding failed at playout (concealed instead).
    pub decode_failed: u64,
}

impl ErrorCounts {
    /// Sum of all kinds.
    pub fn total(&self) -> u64 {
        self.malformed_rtp
            + self.unknown_payload_type
            + self.too_large
            + self.empty_payload
            + self.invalid_payload
            + self.malformed_rtcp
            + self.bad_time
            + self.foreign_ssrc
            + self.decode_failed
    }
}

/// Receive statistics. Cumulative since construction (across SSRC changes)
/// unless noted.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReceiverStats {
    /// `ssrc`: the source being played.
    pub ssrc: Option<u32>,
    /// `packetsReceived`: valid RTP packets of the played source, audio and
    /// telephone-event, including duplicates and late ones (RFC 3550 A.3).
    pub packets_received: u64,
    /// `packetsLost`: expected − received (RFC 3550 A.3), summed over the
    /// sources played; negative when duplicates outnumber losses.
    pub packets_lost: i64,
    /// `packetsDiscarded`: packets dropped by the jitter buffer because they
    /// came too late to be played, or to keep it bounded (flood, overflow,
    /// resynchronisation). Duplicates are not included.
    pub packets_discarded: u64,
    /// `packetsDuplicated`: packets dropped as duplicates.
    pub packets_duplicated: u64,
    /// `bytesReceived`: payload bytes of `packets_received`.
    pub bytes_received: u64,
    /// `headerBytesReceived`: RTP header (and padding) bytes of `packets_received`.
    pub header_bytes_received: u64,
    /// `lastPacketReceivedTimestamp`: arrival time of the latest packet, ms.
    pub last_packet_received_timestamp: Option<f64>,
    /// `jitter`: RFC 3550 A.8 interarrival jitter, seconds.
    pub jitter: f64,
    /// `jitterBufferDelay`: Σ over emitted samples of (time played − time
    /// its packet arrived), seconds.
    pub jitter_buffer_delay: f64,
    /// `jitterBufferTargetDelay`: Σ over emitted samples of the target delay
    /// when they were emitted, seconds, in the sense of `jitterBufferDelay`
    /// (arrival → playout): the target playout offset minus how late the
    /// sample's packet came (its relative arrival delay), so a buffer at
    /// its target has equal means. ([`ReceiverStats::target_delay_ms`] is
    /// the offset target itself.)
    pub jitter_buffer_target_delay: f64,
    /// `jitterBufferMinimumDelay`: Σ over emitted samples of the target the
    /// network alone asked for (before `min_delay`/`max_delay` and the
    /// initial-delay floor), arrival → playout as above, seconds.
    pub jitter_buffer_minimum_delay: f64,
    /// `jitterBufferEmittedCount`: samples decoded from packets (the
    /// denominators of the three sums above).
    pub jitter_buffer_emitted_count: u64,
    /// `totalSamplesReceived`: samples played since playout started,
    /// concealment and silence included.
    pub total_samples_received: u64,
    /// `totalSamplesDuration`: their duration, seconds.
    pub total_samples_duration: f64,
    /// `concealedSamples`: samples played that were synthesised because
    /// packets were lost or late (codec or pitch-based PLC, and the silence
    /// it fades into).
    pub concealed_samples: u64,
    /// `silentConcealedSamples`: the part of `concealed_samples` that was
    /// silent (below one 16-bit LSB).
    pub silent_concealed_samples: u64,
    /// `concealmentEvents`: times concealment started after real audio.
    pub concealment_events: u64,
    /// `insertedSamplesForDeceleration`: samples inserted by pre-emptive
    /// expand (time-stretching slower).
    pub inserted_samples_for_deceleration: u64,
    /// `removedSamplesForAcceleration`: samples removed by accelerate.
    pub removed_samples_for_acceleration: u64,
    /// `fecPacketsReceived`: packets that carried in-band FEC (Opus LBRR).
    pub fec_packets_received: u64,
    /// `fecPacketsDiscarded`: of those, packets whose FEC was not needed
    /// (the packet it protects arrived) or came too late to be used.
    pub fec_packets_discarded: u64,
    /// voxlet extension: packets whose lost predecessor was recovered from
    /// their FEC.
    pub fec_packets_recovered: u64,
    /// voxlet extension: samples recovered from in-band FEC (Opus LBRR);
    /// not concealment.
    pub fec_samples: u64,
    /// voxlet extension: samples recovered from deep redundancy (Opus
    /// DRED) in later packets; not concealment.
    pub dred_samples: u64,
    /// voxlet extension: samples of `concealed_samples` made by deep PLC
    /// (the rest is the classic PLC).
    pub deep_plc_samples: u64,
    /// `audioLevel`: RMS of the played audio over the last 100 ms, 0..=1
    /// (the `totalAudioEnergy` algorithm over that interval, as the spec
    /// allows).
    pub audio_level: f64,
    /// `totalAudioEnergy`: Σ over played samples of `sample² × duration`
    /// (stereo: the louder channel), in seconds × full-scale².
    pub total_audio_energy: f64,
    /// voxlet extension: packets of `packets_discarded` that arrived after
    /// their audio had been played (or concealed): the late loss.
    pub packets_late: u64,
    /// voxlet extension: samples of comfort played in DTX gaps and while
    /// (re)buffering: silence, or the noise of an RFC 3389 CN packet (not
    /// concealment: nothing was lost).
    pub comfort_samples: u64,
    /// voxlet extension: current buffer level (audio held, ms), as measured
    /// at the latest playout decision.
    pub buffer_level_ms: f64,
    /// voxlet extension: current target delay, ms, as a playout offset
    /// (from when a packet would have arrived with no queueing to when it
    /// plays; see `jitter_buffer_target_delay` for the arrival → playout
    /// version).
    pub target_delay_ms: f64,
    /// voxlet extension: SSRC changes followed.
    pub ssrc_changes: u64,
    /// voxlet extension: events dropped because the event queue was full.
    pub events_dropped: u64,
    /// voxlet extension: rejected packets by kind.
    pub errors: ErrorCounts,
}

/// RFC 3550 A.1 constants.
const MAX_DROPOUT: u32 = 3000;
const MAX_MISORDER: u32 = 100;
const SEQ_MOD: u32 = 1 << 16;

/// RFC 3550 reception state for one source (A.1 sequence validation without
/// probation, which the receiver does itself; A.3 loss; A.8 jitter).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Reception {
    started: bool,
    max_seq: u16,
    cycles: u32,
    /// Extended first sequence number (may go below the first packet's
    /// when a packet reordered before it arrives, even below 0).
    base_seq: i64,
    bad_seq: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Last transit time, seconds.
    transit: Option<f64>,
    /// Jitter estimate, seconds.
    jitter: f64,
}

impl Reception {
    fn init_seq(&mut self, seq: u16) {
        self.started = true;
        self.base_seq = i64::from(seq);
        self.max_seq = seq;
        self.bad_seq = SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// RFC 3550 A.1 `update_seq`: false when the packet is not counted (a
    /// large jump awaiting confirmation by the next packet).
    pub fn update_seq(&mut self, seq: u16) -> bool {
        if !self.started {
            self.init_seq(seq);
            self.received = 1;
            return true;
        }
        let udelta = u32::from(seq.wrapping_sub(self.max_seq));
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(SEQ_MOD);
            }
            self.max_seq = seq;
        } else if udelta <= SEQ_MOD - MAX_MISORDER {
            if u32::from(seq) == self.bad_seq {
                // Two sequential packets after a jump: the sender restarted.
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (SEQ_MOD - 1);
                return false;
            }
        } else {
            // Duplicate or reordered, counted. Reordered before the first
            // packet: the stream started earlier (else A.3 would count it
            // received but never expected).
            let ext = i64::from(self.extended_max()) - i64::from(SEQ_MOD - udelta);
            if ext < self.base_seq {
                self.base_seq = ext;
            }
        }
        self.received = self.received.wrapping_add(1);
        true
    }

    /// RFC 3550 A.8 with times in seconds: `arrival_s` on the receiver's
    /// clock, `rtp_s` the packet's timestamp over its clock rate.
    pub fn update_jitter(&mut self, arrival_s: f64, rtp_s: f64) {
        let transit = arrival_s - rtp_s;
        if let Some(prev) = self.transit {
            let d = (transit - prev).abs();
            if d.is_finite() {
                self.jitter += (d - self.jitter) / 16.0;
            }
        }
        if transit.is_finite() {
            self.transit = Some(transit);
        }
    }

    /// A timestamp discontinuity (same source): restart the transit reference.
    pub fn reset_transit(&mut self) {
        self.transit = None;
    }

    pub fn jitter_s(&self) -> f64 {
        self.jitter
    }

    pub fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    fn expected(&self) -> i64 {
        if !self.started {
            return 0;
        }
        i64::from(self.extended_max()) - self.base_seq + 1
    }

    /// Expected − received (RFC 3550 A.3).
    pub fn lost(&self) -> i64 {
        if !self.started {
            return 0;
        }
        self.expected() - i64::from(self.received)
    }

    /// The report block for `ssrc`: fraction lost since the previous call,
    /// cumulative lost, extended highest sequence, jitter in units of
    /// `clock_rate`, and LSR/DLSR from `last_sr` = (middle 32 bits of the
    /// SR's NTP time, ms since it arrived).
    pub fn report_block(
        &mut self,
        ssrc: u32,
        clock_rate: u32,
        last_sr: Option<(u32, f64)>,
    ) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected - i64::from(self.expected_prior);
        let received_interval = i64::from(self.received.wrapping_sub(self.received_prior) as i32);
        self.expected_prior = expected as u32;
        self.received_prior = self.received;
        let lost_interval = expected_interval - received_interval;
        let fraction_lost = if expected_interval <= 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval).min(255) as u8
        };
        let (lsr, dlsr) = match last_sr {
            Some((lsr, since_ms)) => {
                let d = (since_ms.max(0.0) / 1000.0 * 65536.0).round();
                (lsr, d.min(u32::MAX as f64) as u32)
            }
            None => (0, 0),
        };
        let jitter = (self.jitter * f64::from(clock_rate)).round();
        ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: self.lost().clamp(-0x80_0000, 0x7F_FFFF) as i32,
            extended_highest_seq: self.extended_max(),
            jitter: jitter.clamp(0.0, u32::MAX as f64) as u32,
            lsr,
            dlsr,
        }
    }
}

/// Sample counters at the output rate, with the fractional carry of the
/// codec-rate → output-rate conversion kept so totals are exact over time.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Carry {
    frac: f64,
}

impl Carry {
    /// Adds `x` (possibly fractional) and returns the whole part to count.
    pub fn take(&mut self, x: f64) -> u64 {
        self.frac += x;
        let whole = self.frac.floor().max(0.0);
        self.frac -= whole;
        whole as u64
    }
}

/// Output-rate sample counters with their fractional carries.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Carries {
    /// `totalSamplesReceived`.
    pub total: Carry,
    /// `concealedSamples`.
    pub concealed: Carry,
    /// `silentConcealedSamples`.
    pub silent: Carry,
    /// `comfort_samples`.
    pub comfort: Carry,
    /// `jitterBufferEmittedCount`.
    pub emitted: Carry,
    /// `insertedSamplesForDeceleration`.
    pub inserted: Carry,
    /// `removedSamplesForAcceleration`.
    pub removed: Carry,
    /// `fec_samples`.
    pub fec: Carry,
    /// `dred_samples`.
    pub dred: Carry,
    /// `deep_plc_samples`.
    pub deep: Carry,
}

/// `audioLevel` / `totalAudioEnergy` meter over played output.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AudioMeter {
    window_frames: usize,
    acc: f64,
    n: usize,
}

impl AudioMeter {
    pub fn new(rate: u32) -> AudioMeter {
        AudioMeter {
            window_frames: (rate as usize / 10).max(1),
            acc: 0.0,
            n: 0,
        }
    }

    /// Meters interleaved `out`; updates `stats.audio_level` at the end of
    /// each 100 ms window and `total_audio_energy` always.
    pub fn meter(&mut self, out: &[f32], channels: usize, rate: u32, stats: &mut ReceiverStats) {
        let mut energy = 0.0f64;
        for f in out.chunks_exact(channels.max(1)) {
            let m = f.iter().fold(0.0f32, |a, v| a.max(v.abs()));
            let e = f64::from(m) * f64::from(m);
            energy += e;
            self.acc += e;
            self.n += 1;
            if self.n >= self.window_frames {
                stats.audio_level = (self.acc / self.n as f64).sqrt().min(1.0);
                self.acc = 0.0;
                self.n = 0;
            }
        }
        stats.total_audio_energy += energy / f64::from(rate.max(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_fraction_and_wrap() {
        let mut r = Reception::default();
        for s in 65530u16..=65535 {
            assert!(r.update_seq(s));
        }
        // 0, 1 lost; 2..=9 received.
        for s in 2u16..10 {
            assert!(r.update_seq(s));
        }
        assert_eq!(r.extended_max(), 65536 + 9);
        assert_eq!(r.lost(), 2);
        let b = r.report_block(7, 8000, Some((0x1234_5678, 500.0)));
        assert_eq!(b.cumulative_lost, 2);
        assert_eq!(b.fraction_lost, (2 * 256 / 16) as u8);
        assert_eq!(b.extended_highest_seq, 65545);
        assert_eq!(b.lsr, 0x1234_5678);
        assert_eq!(b.dlsr, 32768);
        // No new packets: nothing lost in the interval.
        assert_eq!(r.report_block(7, 8000, None).fraction_lost, 0);
    }

    #[test]
    fn duplicates_make_loss_negative() {
        let mut r = Reception::default();
        r.update_seq(10);
        r.update_seq(11);
        r.update_seq(11);
        assert_eq!(r.lost(), -1);
    }

    #[test]
    fn reordered_before_the_first_packet() {
        let mut r = Reception::default();
        r.update_seq(0);
        r.update_seq(65535);
        r.update_seq(1);
        assert_eq!(r.lost(), 0);
        assert_eq!(r.expected(), 3);
    }

    #[test]
    fn restart_after_two_sequential() {
        let mut r = Reception::default();
        r.update_seq(100);
        assert!(!r.update_seq(20000));
        assert!(r.update_seq(20001));
        assert_eq!(r.extended_max(), 20001);
        assert_eq!(r.lost(), 0);
    }

    #[test]
    fn jitter_a8() {
        let mut r = Reception::default();
        // Transit alternates 0 / 10 ms: |D| = 10 ms each step → J → 10 ms.
        for i in 0..400 {
            let t = i as f64 * 0.02;
            r.update_jitter(t + if i % 2 == 0 { 0.0 } else { 0.01 }, t);
        }
        assert!((r.jitter_s() - 0.01).abs() < 1e-4);
        let b = r.report_block(1, 8000, None);
        assert_eq!(b.jitter, 80);
    }
}
