//! The insert path (NetEq's `InsertPacket`): [`Receiver::push`] validates
//! a datagram, follows the source (SSRC changes, timestamp jumps), counts
//! it, feeds its arrival to the delay manager and stores it in the packet
//! buffer; telephone-events and comfort noise are taken apart here.

use crate::codec::comfort_noise::CnPayload;
use crate::codec::telephone_event::TelephoneEvent;
use crate::codec::CodecError;
use crate::rtp::rtcp::{parse_compound, RtcpPacket};
use crate::rtp::RtpPacket;

use super::decoders::PtKind;
use super::error::ReceiverError;
use super::events::ReceiverEvent;
use super::packet_buffer::{Insert, PacketMeta};
use super::playout::Reset;
use super::source::{Seen, SourceCheck};
use super::Receiver;

/// A packet more than `max_delay` + this behind playout while newer by
/// sequence number means the sender's timestamps jumped back: resync.
const RESYNC_MARGIN_MS: f64 = 1000.0;

/// What [`Receiver::push`] did with a valid packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored for playout.
    Buffered,
    /// Stored, and it made the receiver switch to its (new) SSRC.
    SourceChanged,
    /// A duplicate: dropped (`packets_duplicated`).
    Duplicate,
    /// Its audio has already been played or concealed: dropped
    /// (`packets_discarded`, `packets_late`).
    Late,
    /// Dropped to keep the buffer bounded, or a second packet for the same
    /// timestamp (`packets_discarded`).
    Discarded,
    /// A telephone-event packet (events are queued, see [`Receiver::poll_event`]).
    TelephoneEvent,
    /// An RFC 3389 comfort-noise packet: its noise plays in the pause that
    /// follows (counted in `comfort_samples`).
    ComfortNoise,
    /// RTCP (a sender report of the played source is recorded for LSR/DLSR).
    Rtcp,
    /// From another SSRC while the current one is active: held until a
    /// second sequential packet confirms the new source.
    Held,
}

/// A validated packet, before the source check.
#[derive(Clone, Copy)]
enum Payload {
    Audio { slot: usize, frames: usize },
    Event(TelephoneEvent),
    ComfortNoise(CnPayload),
}

impl Receiver {
    fn error(&mut self, e: ReceiverError) -> ReceiverError {
        let c = &mut self.stats.errors;
        match e {
            ReceiverError::Rtp(_) => c.malformed_rtp += 1,
            ReceiverError::Rtcp(_) => c.malformed_rtcp += 1,
            ReceiverError::UnknownPayloadType(_) => c.unknown_payload_type += 1,
            ReceiverError::EmptyPayload => c.empty_payload += 1,
            ReceiverError::TooLarge { .. } => c.too_large += 1,
            ReceiverError::InvalidPayload(_) => c.invalid_payload += 1,
            ReceiverError::BadTime => c.bad_time += 1,
        }
        e
    }

    /// Takes one datagram received at `arrival_ms`: an RTP packet, or RTCP
    /// multiplexed on the same port (RFC 5761). Never panics; a rejected
    /// packet is counted by kind in [`ReceiverStats::errors`](super::ReceiverStats::errors) and changes
    /// nothing else.
    pub fn push(&mut self, packet: &[u8], arrival_ms: f64) -> Result<PushOutcome, ReceiverError> {
        if !arrival_ms.is_finite() {
            return Err(self.error(ReceiverError::BadTime));
        }
        if let [b0, b1, ..] = packet {
            if b0 >> 6 == 2 && (192..=223).contains(b1) {
                return self.push_rtcp(packet, arrival_ms);
            }
        }
        let p = RtpPacket::parse(packet).map_err(|e| self.error(ReceiverError::Rtp(e)))?;
        let kind = self.validate(&p).map_err(|e| self.error(e))?;
        let mut switched = false;
        match self.source.check(p.ssrc(), p.sequence(), arrival_ms) {
            SourceCheck::Current => {}
            SourceCheck::First => {
                self.source.start(p.ssrc());
                self.stats.ssrc = Some(p.ssrc());
            }
            SourceCheck::Idle => {
                self.switch_source(p.ssrc(), arrival_ms);
                switched = true;
            }
            SourceCheck::Confirmed(h) => {
                self.switch_source(p.ssrc(), arrival_ms);
                switched = true;
                let buf = self.source.take_held_bytes();
                if let Some(hp) = buf.get(..h.len).and_then(|b| RtpPacket::parse(b).ok()) {
                    if let Ok(hk) = self.validate(&hp) {
                        let _ = self.accept(&hp, hk, h.arrival_ms);
                    }
                }
                self.source.restore_held_bytes(buf);
            }
            SourceCheck::Foreign => {
                self.stats.errors.foreign_ssrc += 1;
                self.source.hold(packet, p.ssrc(), p.sequence(), arrival_ms);
                return Ok(PushOutcome::Held);
            }
        }
        let out = self.accept(&p, kind, arrival_ms);
        Ok(match out {
            PushOutcome::Buffered if switched => PushOutcome::SourceChanged,
            o => o,
        })
    }

    fn push_rtcp(&mut self, packet: &[u8], arrival_ms: f64) -> Result<PushOutcome, ReceiverError> {
        let mut sr_ntp = None;
        for p in parse_compound(packet) {
            match p {
                Ok(RtcpPacket::SenderReport(sr)) if self.source.is_current(sr.ssrc) => {
                    sr_ntp = Some(sr.sender_info.ntp_timestamp);
                }
                Ok(_) => {}
                Err(e) => return Err(self.error(ReceiverError::Rtcp(e))),
            }
        }
        if let Some(ntp) = sr_ntp {
            self.on_sender_report(ntp, arrival_ms);
        }
        Ok(PushOutcome::Rtcp)
    }

    /// Payload type, size and payload framing.
    fn validate(&self, p: &RtpPacket<'_>) -> Result<Payload, ReceiverError> {
        let pt = p.payload_type();
        let Some(kind) = self.decoders.lookup(pt) else {
            return Err(ReceiverError::UnknownPayloadType(pt));
        };
        let payload = p.payload();
        if payload.is_empty() {
            return Err(ReceiverError::EmptyPayload);
        }
        if payload.len() > self.cfg.max_payload {
            return Err(ReceiverError::TooLarge {
                len: payload.len(),
                max: self.cfg.max_payload,
            });
        }
        let slot = match kind {
            PtKind::ComfortNoise => {
                return CnPayload::parse(payload)
                    .map(Payload::ComfortNoise)
                    .map_err(ReceiverError::InvalidPayload);
            }
            PtKind::TelephoneEvent => {
                return TelephoneEvent::parse(payload)
                    .map(Payload::Event)
                    .map_err(ReceiverError::InvalidPayload);
            }
            PtKind::Audio(slot) => slot,
        };
        let d = self
            .decoders
            .get(slot)
            .ok_or(ReceiverError::UnknownPayloadType(pt))?;
        let frames = d
            .dec
            .frames_in(payload)
            .map_err(ReceiverError::InvalidPayload)?;
        if frames == 0 || frames > d.frames_bound(self.cfg.max_payload) {
            return Err(ReceiverError::InvalidPayload(CodecError::InvalidPayload(
                "payload decodes to no audio or more than the receiver holds",
            )));
        }
        Ok(Payload::Audio { slot, frames })
    }

    /// Plays `ssrc` from now on (an SSRC change).
    ///
    /// Resets: the buffered packets (discarded), everything the source
    /// tracker keeps for a source (unwrappers, duplicate window, reception
    /// state, sender report, held packet), open DTMF events (ended), every
    /// decoder, the delay manager's statistics (re-seeded at the current
    /// target), the playout timeline and the loss run
    /// ([`Playout::reset`](super::playout::Playout::reset) for a new source).
    /// Keeps: the decoded audio not yet played (the old source's last
    /// audio still plays out) and the concealer, the statistics, and the
    /// rest of the playout state.
    fn switch_source(&mut self, ssrc: u32, at_ms: f64) {
        if let Some(old) = self.source.ssrc() {
            self.emit(ReceiverEvent::SsrcChanged { old, new: ssrc });
        }
        self.stats.ssrc_changes += 1;
        self.stats.packets_discarded += self.buffer.len() as u64;
        self.buffer.clear();
        self.source.switch_to(ssrc);
        let mut q: [Option<ReceiverEvent>; 2] = [None; 2];
        let mut n = 0;
        self.dtmf.reset(at_ms, &mut |e| {
            if let Some(s) = q.get_mut(n) {
                *s = Some(e);
                n += 1;
            }
        });
        for e in q.into_iter().flatten() {
            self.emit(e);
        }
        self.decoders.reset_decoders();
        let target = self.delay.target_ms();
        self.delay.seed(target);
        self.playout.reset(Reset::NewSource);
        self.stats.ssrc = Some(ssrc);
    }

    /// Counts, de-duplicates and stores a packet of the current source.
    fn accept(&mut self, p: &RtpPacket<'_>, kind: Payload, arrival_ms: f64) -> PushOutcome {
        self.stats.last_packet_received_timestamp = Some(arrival_ms);
        let payload = p.payload();
        let arrival = self.source.receive(p.sequence(), arrival_ms);
        if arrival.counted {
            self.stats.packets_received += 1;
            self.stats.bytes_received += payload.len() as u64;
            self.stats.header_bytes_received += (p.as_bytes().len() - payload.len()) as u64;
        }
        self.stats.packets_lost = arrival.lost;
        let seq = arrival.seq;
        match arrival.seen {
            Seen::New => {}
            Seen::Duplicate => {
                self.stats.packets_duplicated += 1;
                return PushOutcome::Duplicate;
            }
            Seen::TooOld => {
                self.stats.packets_discarded += 1;
                self.stats.packets_late += 1;
                return PushOutcome::Late;
            }
        }
        let (slot, frames) = match kind {
            Payload::ComfortNoise(cn) => {
                self.source.note_non_audio(seq);
                let front = self.buffer.front().map(|p| p.seq);
                self.playout.on_comfort_noise(seq, &cn, front);
                return PushOutcome::ComfortNoise;
            }
            Payload::Event(ev) => {
                self.source.note_non_audio(seq);
                let mut q: [Option<ReceiverEvent>; 3] = [None; 3];
                let mut n = 0;
                self.dtmf
                    .on_packet(p.timestamp(), seq, ev, arrival_ms, &mut |e| {
                        if let Some(s) = q.get_mut(n) {
                            *s = Some(e);
                            n += 1;
                        }
                    });
                for e in q.into_iter().flatten() {
                    self.emit(e);
                }
                return PushOutcome::TelephoneEvent;
            }
            Payload::Audio { slot, frames } => (slot, frames),
        };
        let Some(d) = self.decoders.get(slot) else {
            return PushOutcome::Discarded;
        };
        let clock = d.info.clock_rate.max(1);
        let rate = d.info.sample_rate.max(1);
        let dur =
            (frames as u64 * u64::from(clock) / u64::from(rate)).min(u64::from(u32::MAX)) as u32;
        let has_fec = self.cfg.fec_enabled && d.codec_plc && d.dec.has_fec(payload);
        let mut ts = self.source.unwrap_ts(p.timestamp());
        let to_ms = 1000.0 / f64::from(clock);
        if has_fec {
            self.stats.fec_packets_received += 1;
        }
        // Late, or a timestamp discontinuity?
        if self.playout.playing && ts.saturating_add(i64::from(dur)) <= self.playout.decoded_end {
            let late_ms = (self.playout.decoded_end - ts - i64::from(dur)) as f64 * to_ms;
            let newer = self.playout.last_seq.is_none_or(|l| seq > l);
            if newer && late_ms > self.cfg.max_delay_ms + RESYNC_MARGIN_MS {
                self.resync();
                ts = self.source.unwrap_ts(p.timestamp());
            } else {
                self.stats.packets_discarded += 1;
                self.stats.packets_late += 1;
                if has_fec {
                    self.stats.fec_packets_discarded += 1;
                }
                self.observe_arrival(arrival_ms, ts, to_ms, dur);
                return PushOutcome::Late;
            }
        }
        let rel_ms = self.observe_arrival(arrival_ms, ts, to_ms, dur);
        let meta = PacketMeta {
            seq,
            ts,
            dur,
            pt: p.payload_type(),
            decoder: slot as u8,
            has_fec,
            arrival_ms,
            rel_ms,
            start_delay_ms: arrival_ms - ts as f64 * to_ms,
            len: payload.len() as u32,
        };
        match self.buffer.insert(meta, payload) {
            Insert::Stored => PushOutcome::Buffered,
            Insert::StoredDroppedOldest(old) => {
                self.stats.packets_discarded += 1;
                if old.has_fec {
                    self.stats.fec_packets_discarded += 1;
                }
                PushOutcome::Buffered
            }
            Insert::Duplicate => {
                self.stats.packets_duplicated += 1;
                PushOutcome::Duplicate
            }
            Insert::SameTimestamp | Insert::Rejected | Insert::TooLarge => {
                self.stats.packets_discarded += 1;
                PushOutcome::Discarded
            }
        }
    }

    /// Jitter stats and the delay manager; returns the packet's need, ms
    /// (see [`delay`](super::delay)).
    fn observe_arrival(&mut self, arrival_ms: f64, ts: i64, to_ms: f64, dur: u32) -> f64 {
        let ts_ms = ts as f64 * to_ms;
        let dur_ms = f64::from(dur) * to_ms;
        self.stats.jitter = self.source.update_jitter(arrival_ms, ts_ms);
        // Delay from the end of the packet's audio (when the sender could
        // send it), so a change of packet duration is not mistaken for
        // jitter; the need adds the packet's own duration back.
        self.delay.update(arrival_ms, ts_ms + dur_ms, dur_ms)
    }

    /// The sender's timestamps jumped: start a new timeline (same source).
    ///
    /// Resets: the buffered packets (discarded: they belong to the old
    /// timeline), the timestamp unwrapper and the jitter estimate's
    /// transit, the delay manager's arrival window, the playout timeline
    /// ([`Playout::reset`](super::playout::Playout::reset)). Keeps: the
    /// sequence numbers (unwrapper, duplicate window: same source), the
    /// decoded audio not yet played, decoders and concealer, the target
    /// delay, and the loss run and the rest of the playout state.
    fn resync(&mut self) {
        self.stats.packets_discarded += self.buffer.len() as u64;
        self.buffer.clear();
        self.source.restart_timeline();
        self.delay.reset_window();
        self.playout.reset(Reset::Resync);
    }
}
