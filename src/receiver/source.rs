//! The source tracker: which SSRC is played, and the state that belongs to
//! that source — a packet of a new SSRC held until a second one confirms
//! it, sequence number and timestamp unwrapping, the duplicate window, the
//! sequence numbers of packets that carry no audio (so their gaps are not
//! losses), the RFC 3550 reception state and the last sender report behind
//! RTCP receiver reports.

use crate::rtp::rtcp::{ntp_middle_32, ReportBlock};
use crate::rtp::{seq_diff, SeqUnwrapper, TimestampUnwrapper};

use super::stats::Reception;

/// Largest RTP header (12 + 15 CSRC + extension header) held for probation
/// beyond the payload; packets with longer extensions are not held.
const HELD_HEADER_ROOM: usize = 12 + 60 + 4 + 256;
/// The old source is considered gone after this long without packets, ms.
const SSRC_IDLE_MS: f64 = 1000.0;
/// A packet from the new SSRC within this many sequence numbers of the
/// held one confirms it.
const SSRC_CONFIRM_WINDOW: u16 = 10;
/// Sequence numbers of recent telephone-event packets remembered.
const EVENT_SEQS: usize = 64;

/// Recently seen sequence numbers, to tell duplicates apart.
#[derive(Clone, Copy, Debug)]
struct SeqWindow {
    bits: [u64; 16],
    highest: Option<i64>,
}

/// Whether a sequence number was seen before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Seen {
    /// Not seen before.
    New,
    /// Seen before: a duplicate.
    Duplicate,
    /// Too far behind the highest one to tell.
    TooOld,
}

impl SeqWindow {
    const SPAN: i64 = 1024;

    fn new() -> SeqWindow {
        SeqWindow {
            bits: [0; 16],
            highest: None,
        }
    }

    fn bit(seq: i64) -> (usize, u64) {
        let i = seq.rem_euclid(Self::SPAN) as usize;
        (i / 64, 1u64 << (i % 64))
    }

    fn check_and_set(&mut self, seq: i64) -> Seen {
        match self.highest {
            None => self.highest = Some(seq),
            Some(h) if seq > h => {
                if seq - h >= Self::SPAN {
                    self.bits = [0; 16];
                } else {
                    let mut s = h + 1;
                    while s < seq {
                        let (w, b) = Self::bit(s);
                        if let Some(word) = self.bits.get_mut(w) {
                            *word &= !b;
                        }
                        s += 1;
                    }
                }
                let (w, b) = Self::bit(seq);
                if let Some(word) = self.bits.get_mut(w) {
                    *word &= !b;
                }
                self.highest = Some(seq);
            }
            Some(h) if h - seq >= Self::SPAN => return Seen::TooOld,
            Some(_) => {}
        }
        let (w, b) = Self::bit(seq);
        match self.bits.get_mut(w) {
            Some(word) if *word & b != 0 => Seen::Duplicate,
            Some(word) => {
                *word |= b;
                Seen::New
            }
            None => Seen::New,
        }
    }
}

/// A packet of a new SSRC waiting for confirmation.
#[derive(Clone, Copy, Debug)]
pub(super) struct Held {
    /// Its SSRC.
    pub ssrc: u32,
    /// Its sequence number.
    pub seq: u16,
    /// When it arrived, ms.
    pub arrival_ms: f64,
    /// Its length, bytes (stored in the tracker's held buffer).
    pub len: usize,
}

/// Whose packet this is, by SSRC ([`SourceTracker::check`]).
#[derive(Clone, Copy, Debug)]
pub(super) enum SourceCheck {
    /// The source being played.
    Current,
    /// The first packet ever: its source is played.
    First,
    /// Another source, and the played one has gone quiet: switch now.
    Idle,
    /// Another source, confirmed by the packet held before: switch, then
    /// play the held packet too.
    Confirmed(Held),
    /// Another source, not confirmed: hold the packet.
    Foreign,
}

/// A packet of the played source, as counted by [`SourceTracker::receive`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Arrival {
    /// Counted in the RFC 3550 reception state (`packetsReceived`).
    pub counted: bool,
    /// Packets lost, over all sources played.
    pub lost: i64,
    /// Its unwrapped sequence number.
    pub seq: i64,
    /// Whether it is a duplicate.
    pub seen: Seen,
}

/// The played source and its sequence, timing and RTCP state.
pub(super) struct SourceTracker {
    ssrc: Option<u32>,
    /// Arrival of the latest packet of the played source, ms.
    last_rx_ms: f64,
    held: Option<Held>,
    held_bytes: Vec<u8>,
    seq_unwrap: SeqUnwrapper,
    ts_unwrap: TimestampUnwrapper,
    seen: SeqWindow,
    event_seqs: [i64; EVENT_SEQS],
    event_pos: usize,
    /// The last sender report: its NTP middle 32 bits, when it came.
    sr: Option<(u32, f64)>,
    rx: Reception,
    /// Packets lost by the sources played before this one.
    lost_before: i64,
}

impl SourceTracker {
    /// No source yet; room to hold a packet of `max_payload` bytes.
    pub fn new(max_payload: usize) -> SourceTracker {
        SourceTracker {
            ssrc: None,
            last_rx_ms: f64::NEG_INFINITY,
            held: None,
            held_bytes: vec![0; max_payload + HELD_HEADER_ROOM],
            seq_unwrap: SeqUnwrapper::new(),
            ts_unwrap: TimestampUnwrapper::new(),
            seen: SeqWindow::new(),
            event_seqs: [i64::MIN; EVENT_SEQS],
            event_pos: 0,
            sr: None,
            rx: Reception::default(),
            lost_before: 0,
        }
    }

    /// The SSRC being played.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Bytes reserved to hold a packet of a new source.
    pub fn held_bytes_len(&self) -> usize {
        self.held_bytes.len()
    }

    /// Whose packet (`ssrc`, `seq`, arriving at `arrival_ms`) this is.
    pub fn check(&self, ssrc: u32, seq: u16, arrival_ms: f64) -> SourceCheck {
        let Some(cur) = self.ssrc else {
            return SourceCheck::First;
        };
        if cur == ssrc {
            return SourceCheck::Current;
        }
        if arrival_ms - self.last_rx_ms >= SSRC_IDLE_MS {
            return SourceCheck::Idle;
        }
        match self.held.filter(|h| {
            h.ssrc == ssrc
                && seq_diff(seq, h.seq) != 0
                // unsigned: two sequence numbers 32768 apart differ by
                // i16::MIN, whose abs() overflows
                && seq_diff(seq, h.seq).unsigned_abs() <= SSRC_CONFIRM_WINDOW
        }) {
            Some(h) => SourceCheck::Confirmed(h),
            None => SourceCheck::Foreign,
        }
    }

    /// Plays `ssrc` (the first source).
    pub fn start(&mut self, ssrc: u32) {
        self.ssrc = Some(ssrc);
    }

    /// Holds `packet` of another source until a second one confirms it
    /// (replacing any held before; a packet too long to hold is not).
    pub fn hold(&mut self, packet: &[u8], ssrc: u32, seq: u16, arrival_ms: f64) {
        if let Some(dst) = self.held_bytes.get_mut(..packet.len()) {
            dst.copy_from_slice(packet);
            self.held = Some(Held {
                ssrc,
                seq,
                arrival_ms,
                len: packet.len(),
            });
        }
    }

    /// Lends the held packet's buffer (give it back with
    /// [`SourceTracker::restore_held_bytes`]).
    pub fn take_held_bytes(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.held_bytes)
    }

    /// Gives back the buffer of [`SourceTracker::take_held_bytes`].
    pub fn restore_held_bytes(&mut self, buf: Vec<u8>) {
        self.held_bytes = buf;
    }

    /// Plays `ssrc` from now on: its sequence numbers, timestamps and
    /// reception state start afresh (the losses counted so far are kept),
    /// the held packet and the last sender report are forgotten.
    pub fn switch_to(&mut self, ssrc: u32) {
        self.lost_before += self.rx.lost();
        self.rx = Reception::default();
        self.seq_unwrap.reset();
        self.ts_unwrap.reset();
        self.seen = SeqWindow::new();
        self.event_seqs = [i64::MIN; EVENT_SEQS];
        self.sr = None;
        self.held = None;
        self.ssrc = Some(ssrc);
    }

    /// The sender's timestamps jumped (same source): they are unwrapped
    /// afresh, and the jitter estimate does not see the jump.
    pub fn restart_timeline(&mut self) {
        self.ts_unwrap.reset();
        self.rx.reset_transit();
    }

    /// A packet of the played source with sequence number `seq` arrived
    /// at `arrival_ms`: counts it, unwraps its sequence number, checks it
    /// against the duplicate window.
    pub fn receive(&mut self, seq: u16, arrival_ms: f64) -> Arrival {
        self.last_rx_ms = arrival_ms;
        let counted = self.rx.update_seq(seq);
        let lost = self.lost_before + self.rx.lost();
        let seq = self.seq_unwrap.unwrap(seq);
        let seen = self.seen.check_and_set(seq);
        Arrival {
            counted,
            lost,
            seq,
            seen,
        }
    }

    /// Unwraps an RTP timestamp of the played source.
    pub fn unwrap_ts(&mut self, ts: u32) -> i64 {
        self.ts_unwrap.unwrap(ts)
    }

    /// Updates the RFC 3550 A.8 interarrival jitter with a packet that
    /// arrived at `arrival_ms` with RTP time `ts_ms`; returns the jitter, s.
    pub fn update_jitter(&mut self, arrival_ms: f64, ts_ms: f64) -> f64 {
        self.rx.update_jitter(arrival_ms / 1000.0, ts_ms / 1000.0);
        self.rx.jitter_s()
    }

    /// The highest unwrapped sequence number of the played source.
    pub fn highest_seq(&self) -> Option<i64> {
        self.seq_unwrap.highest()
    }

    /// Records the sequence number of a packet that carries no audio
    /// (telephone-event, CN), so its gap in the audio is not a loss.
    pub fn note_non_audio(&mut self, seq: i64) {
        if let Some(s) = self.event_seqs.get_mut(self.event_pos) {
            *s = seq;
        }
        self.event_pos = (self.event_pos + 1) % EVENT_SEQS;
    }

    /// No audio sequence number missing between `last` (the last played
    /// packet) and `seq`.
    pub fn contiguous(&self, last: Option<i64>, seq: i64) -> bool {
        let Some(last) = last else {
            return false;
        };
        if seq <= last + 1 {
            return true;
        }
        let missing = seq - last - 1;
        if missing > EVENT_SEQS as i64 {
            return false;
        }
        let events = self
            .event_seqs
            .iter()
            .filter(|&&s| s > last && s < seq)
            .count() as i64;
        missing <= events
    }

    /// Whether `ssrc` is the played source.
    pub fn is_current(&self, ssrc: u32) -> bool {
        Some(ssrc) == self.ssrc
    }

    /// Records a sender report of the played source received at `now_ms`.
    pub fn on_sender_report(&mut self, ntp_timestamp: u64, now_ms: f64) {
        self.sr = Some((ntp_middle_32(ntp_timestamp), now_ms));
    }

    /// The reception report block for the played source, jitter in
    /// `clock` units; `None` before the first packet.
    pub fn report_block(&mut self, clock: u32, now_ms: f64) -> Option<ReportBlock> {
        let ssrc = self.ssrc?;
        let sr = self.sr.map(|(lsr, at)| (lsr, now_ms - at));
        Some(self.rx.report_block(ssrc, clock, sr))
    }
}
