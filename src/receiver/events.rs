//! Events the receiver reports to its caller (DTMF key presses, stream
//! changes), queued in a fixed ring and drained with
//! [`Receiver::poll_event`](super::Receiver::poll_event), so producing them
//! never allocates.
//!
//! DTMF follows RFC 4733 §2.5.2: an event is identified by its RTP
//! timestamp; every update packet repeats that timestamp with a growing
//! duration, and the last one is sent (typically three times) with the E
//! bit set. The tracker turns that into exactly one
//! [`ReceiverEvent::DtmfBegin`] and one [`ReceiverEvent::DtmfEnd`] per
//! event, whatever is lost, reordered or repeated:
//! - begin: the first packet seen for a new timestamp (even if it already
//!   carries the E bit, when every earlier update was lost);
//! - end: the first packet with the E bit; or, when every end packet is
//!   lost, a timeout with no update (`timed_out: true`); or a new event
//!   starting while this one is still open;
//! - packets of an event that already ended, or older than the current
//!   one, are ignored;
//! - a long event that the sender splits into segments (§2.5.1.3: same
//!   code, the next timestamp right where a 0xFFFF-tick segment ended) is
//!   continued, not reported twice.
//!
//! Events are reported when their packets *arrive*, not when the audio
//! around them is played; each carries its RTP timestamp so a caller can
//! line it up with the audio if it needs to.

use crate::codec::telephone_event::{event_to_digit, TelephoneEvent};
use crate::rtp::ts_diff;

/// Capacity of the event ring; when it is full the oldest event is dropped
/// (counted in [`ReceiverStats::events_dropped`](super::ReceiverStats::events_dropped)).
pub const EVENT_QUEUE_LEN: usize = 32;

/// Something the caller may want to know about, drained with
/// [`Receiver::poll_event`](super::Receiver::poll_event).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReceiverEvent {
    /// A telephone-event (DTMF key) started.
    DtmfBegin {
        /// RFC 4733 event code (0–9, 10 `*`, 11 `#`, 12–15 `A`–`D`, others).
        event: u8,
        /// The key, for codes 0–15.
        digit: Option<char>,
        /// RTP timestamp of the event's start (identifies the event).
        rtp_timestamp: u32,
        /// Volume as −dBm0 (0..=63), from the first packet seen.
        volume: u8,
        /// Arrival time of the packet that started it, in ms (the `push` time).
        at_ms: f64,
    },
    /// A telephone-event ended.
    DtmfEnd {
        /// RFC 4733 event code.
        event: u8,
        /// The key, for codes 0–15.
        digit: Option<char>,
        /// RTP timestamp of the event's start.
        rtp_timestamp: u32,
        /// Duration in RTP clock ticks (the last one reported; segments of a
        /// long event are summed).
        duration: u32,
        /// True when no end packet arrived and the event was closed by the
        /// timeout or by the next event.
        timed_out: bool,
        /// Time the end was detected, in ms (`push` or `render` time).
        at_ms: f64,
    },
    /// The stream's SSRC changed; playout was reset for the new source.
    SsrcChanged {
        /// The previous source.
        old: u32,
        /// The new source.
        new: u32,
    },
    /// The payload type of the played audio changed (codec switch).
    PayloadTypeChanged {
        /// The previous payload type.
        old: u8,
        /// The new payload type.
        new: u8,
    },
}

/// Fixed-capacity FIFO of events; pushing onto a full queue drops the oldest.
#[derive(Clone, Debug)]
pub(crate) struct EventQueue {
    ring: [Option<ReceiverEvent>; EVENT_QUEUE_LEN],
    head: usize,
    len: usize,
}

impl EventQueue {
    pub(crate) fn new() -> EventQueue {
        EventQueue {
            ring: [None; EVENT_QUEUE_LEN],
            head: 0,
            len: 0,
        }
    }

    /// Queues `ev`; returns true when an older event had to be dropped.
    pub(crate) fn push(&mut self, ev: ReceiverEvent) -> bool {
        let dropped = self.len == EVENT_QUEUE_LEN;
        if dropped {
            self.head = (self.head + 1) % EVENT_QUEUE_LEN;
            self.len -= 1;
        }
        let at = (self.head + self.len) % EVENT_QUEUE_LEN;
        if let Some(slot) = self.ring.get_mut(at) {
            *slot = Some(ev);
        }
        self.len += 1;
        dropped
    }

    pub(crate) fn pop(&mut self) -> Option<ReceiverEvent> {
        if self.len == 0 {
            return None;
        }
        let ev = self.ring.get_mut(self.head).and_then(Option::take);
        self.head = (self.head + 1) % EVENT_QUEUE_LEN;
        self.len -= 1;
        ev
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// The event currently open (begun, not yet ended).
#[derive(Clone, Copy, Debug)]
struct Active {
    ts: u32,
    event: u8,
    /// Sequence number of the first packet seen for it.
    first_seq: i64,
    /// Duration of the current segment, ticks.
    duration: u16,
    /// Ticks of earlier segments of the same (long) event.
    earlier: u32,
    last_update_ms: f64,
}

/// An event that ended, remembered to recognise its late repeats.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Ended {
    ts: u32,
    event: u8,
    /// Newest sequence number seen for it.
    seq: i64,
    duration: u16,
}

/// Recently finished events.
const RECENT: usize = 8;

/// RFC 4733 receive state for one stream.
#[derive(Clone, Debug)]
pub(crate) struct DtmfTracker {
    active: Option<Active>,
    /// Start timestamp and first sequence number of the newest event seen
    /// (open or not).
    newest: Option<(u32, i64)>,
    recent: [Option<Ended>; RECENT],
    recent_pos: usize,
    timeout_ms: f64,
}

impl DtmfTracker {
    pub(crate) fn new(timeout_ms: f64) -> DtmfTracker {
        DtmfTracker {
            active: None,
            newest: None,
            recent: [None; RECENT],
            recent_pos: 0,
            timeout_ms,
        }
    }

    /// Forgets everything (new source). An open event is ended first.
    pub(crate) fn reset(&mut self, now_ms: f64, out: &mut impl FnMut(ReceiverEvent)) {
        self.close(now_ms, i64::MIN, true, out);
        self.newest = None;
        self.recent = [None; RECENT];
    }

    fn close(
        &mut self,
        at_ms: f64,
        seq: i64,
        timed_out: bool,
        out: &mut impl FnMut(ReceiverEvent),
    ) {
        if let Some(a) = self.active.take() {
            out(ReceiverEvent::DtmfEnd {
                event: a.event,
                digit: event_to_digit(a.event),
                rtp_timestamp: a.ts,
                duration: a.earlier.saturating_add(u32::from(a.duration)),
                timed_out,
                at_ms,
            });
            if let Some(slot) = self.recent.get_mut(self.recent_pos) {
                *slot = Some(Ended {
                    ts: a.ts,
                    event: a.event,
                    seq: seq.max(a.first_seq),
                    duration: a.duration,
                });
            }
            self.recent_pos = (self.recent_pos + 1) % RECENT;
        }
    }

    /// Ends an open event that has had no update for the timeout.
    pub(crate) fn poll_timeout(&mut self, now_ms: f64, out: &mut impl FnMut(ReceiverEvent)) {
        if let Some(a) = self.active {
            if now_ms - a.last_update_ms >= self.timeout_ms {
                self.close(now_ms, i64::MIN, true, out);
            }
        }
    }

    /// Whether a packet belongs to an event that already ended (same
    /// timestamp and code): not newer than the last packet seen of it, an
    /// end packet at least as long (the end is sent three times; a late end
    /// after a timeout), or an update longer than it (a late update).
    /// What is left — a newer start no longer than the old event — is the
    /// same key pressed again on a reused timestamp.
    fn is_repeat(&self, ts: u32, seq: i64, ev: &TelephoneEvent) -> bool {
        self.recent.iter().flatten().any(|e| {
            e.ts == ts
                && e.event == ev.event
                && (seq <= e.seq
                    || (ev.end && ev.duration >= e.duration)
                    || (!ev.end && ev.duration > e.duration))
        })
    }

    /// One received telephone-event packet (its current event block) with
    /// its unwrapped sequence number.
    ///
    /// An event is its timestamp *and* its code: some senders (aiortp, for
    /// one) reuse one timestamp for successive key presses, so a new code,
    /// or the same code starting again after its end was seen, on a
    /// timestamp already used is a new event.
    pub(crate) fn on_packet(
        &mut self,
        ts: u32,
        seq: i64,
        ev: TelephoneEvent,
        at_ms: f64,
        out: &mut impl FnMut(ReceiverEvent),
    ) {
        self.poll_timeout(at_ms, out);
        if let Some(a) = self.active.as_mut() {
            if a.ts == ts && a.event == ev.event && seq >= a.first_seq {
                if ev.duration > a.duration {
                    a.duration = ev.duration;
                }
                a.last_update_ms = at_ms;
                if ev.end {
                    self.close(at_ms, seq, false, out);
                }
                return;
            }
        }
        if let Some((n_ts, n_seq)) = self.newest {
            let d = ts_diff(ts, n_ts);
            if d < 0 || (d == 0 && seq < n_seq) {
                return; // Older than the newest event: stale, reordered.
            }
        }
        if self.is_repeat(ts, seq, &ev) {
            return; // A repeat of an event that already ended.
        }
        // A new timestamp. Is it the next segment of a long event?
        if let Some(a) = self.active.as_mut() {
            let seg_end = a.ts.wrapping_add(u32::from(a.duration));
            if a.event == ev.event && a.duration == u16::MAX && ts == seg_end {
                a.earlier = a.earlier.saturating_add(u32::from(a.duration));
                a.ts = ts;
                a.first_seq = seq;
                a.duration = ev.duration;
                a.last_update_ms = at_ms;
                self.newest = Some((ts, seq));
                if ev.end {
                    self.close(at_ms, seq, false, out);
                }
                return;
            }
        }
        // A different event while one is open: the open one ended unseen.
        self.close(at_ms, seq.saturating_sub(1), true, out);
        self.newest = Some((ts, seq));
        out(ReceiverEvent::DtmfBegin {
            event: ev.event,
            digit: event_to_digit(ev.event),
            rtp_timestamp: ts,
            volume: ev.volume,
            at_ms,
        });
        self.active = Some(Active {
            ts,
            event: ev.event,
            first_seq: seq,
            duration: ev.duration,
            earlier: 0,
            last_update_ms: at_ms,
        });
        if ev.end {
            self.close(at_ms, seq, false, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn te(event: u8, end: bool, duration: u16) -> TelephoneEvent {
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
    }

    #[test]
    fn queue_drops_oldest_when_full() {
        let mut q = EventQueue::new();
        for i in 0..EVENT_QUEUE_LEN + 3 {
            let dropped = q.push(ReceiverEvent::SsrcChanged {
                old: 0,
                new: i as u32,
            });
            assert_eq!(dropped, i >= EVENT_QUEUE_LEN);
        }
        assert_eq!(q.len(), EVENT_QUEUE_LEN);
        assert_eq!(q.pop(), Some(ReceiverEvent::SsrcChanged { old: 0, new: 3 }));
    }

    #[test]
    fn begin_and_end_once_with_repeated_end() {
        let mut t = DtmfTracker::new(300.0);
        let mut evs = Vec::new();
        let mut out = |e| evs.push(e);
        t.on_packet(1000, 1, te(5, false, 160), 0.0, &mut out);
        t.on_packet(1000, 2, te(5, false, 320), 20.0, &mut out);
        for i in 0..3 {
            t.on_packet(1000, 3 + i, te(5, true, 480), 40.0 + i as f64, &mut out);
        }
        t.poll_timeout(10_000.0, &mut out);
        assert_eq!(evs.len(), 2);
        assert!(matches!(evs[0], ReceiverEvent::DtmfBegin { event: 5, .. }));
        assert!(matches!(
            evs[1],
            ReceiverEvent::DtmfEnd {
                event: 5,
                duration: 480,
                timed_out: false,
                ..
            }
        ));
    }

    #[test]
    fn timeout_when_end_lost() {
        let mut t = DtmfTracker::new(300.0);
        let mut evs = Vec::new();
        let mut out = |e| evs.push(e);
        t.on_packet(7, 6, te(1, false, 160), 0.0, &mut out);
        t.poll_timeout(200.0, &mut out);
        t.poll_timeout(301.0, &mut out);
        t.on_packet(7, 7, te(1, true, 800), 400.0, &mut out); // late end: ignored
        assert_eq!(evs.len(), 2);
        assert!(matches!(
            evs[1],
            ReceiverEvent::DtmfEnd {
                timed_out: true,
                ..
            }
        ));
    }

    #[test]
    fn long_event_segments_are_one_event() {
        let mut t = DtmfTracker::new(300.0);
        let mut evs = Vec::new();
        let mut out = |e| evs.push(e);
        t.on_packet(100, 6, te(9, false, u16::MAX), 0.0, &mut out);
        t.on_packet(100 + 65535, 7, te(9, false, 800), 20.0, &mut out);
        t.on_packet(100 + 65535, 8, te(9, true, 1600), 40.0, &mut out);
        assert_eq!(evs.len(), 2);
        assert!(matches!(
            evs[1],
            ReceiverEvent::DtmfEnd {
                duration: 67135,
                ..
            }
        ));
    }

    /// Collects what a list of (ts, seq, event, end, duration) packets
    /// report, as (begin?, code, timed_out) tuples.
    fn run(pkts: &[(u32, i64, u8, bool, u16)]) -> Vec<(bool, u8, bool)> {
        let mut t = DtmfTracker::new(300.0);
        let mut evs = Vec::new();
        let mut out = |e| evs.push(e);
        for (i, &(ts, seq, ev, end, dur)) in pkts.iter().enumerate() {
            t.on_packet(ts, seq, te(ev, end, dur), i as f64 * 20.0, &mut out);
        }
        t.poll_timeout(1e9, &mut out);
        evs.iter()
            .map(|e| match *e {
                ReceiverEvent::DtmfBegin { event, .. } => (true, event, false),
                ReceiverEvent::DtmfEnd {
                    event, timed_out, ..
                } => (false, event, timed_out),
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn successive_events_on_a_reused_timestamp() {
        // aiortp 0.8 sends `1 5 #` all with one RTP timestamp; and `1 1`
        // (the same key twice) the same way.
        let mut pkts = Vec::new();
        let mut seq = 0;
        for code in [1, 5, 11, 11] {
            for d in [160, 320] {
                seq += 1;
                pkts.push((4000, seq, code, false, d));
            }
            for _ in 0..3 {
                seq += 1;
                pkts.push((4000, seq, code, true, 480));
            }
        }
        let got = run(&pkts);
        let want: Vec<_> = [1, 5, 11, 11]
            .iter()
            .flat_map(|&c| [(true, c, false), (false, c, false)])
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn reused_timestamp_reordering_and_repeats_are_not_new_events() {
        let got = run(&[
            (4000, 1, 1, false, 160),
            (4000, 3, 1, true, 480),
            (4000, 2, 1, false, 320), // reordered update of the ended `1`
            (4000, 4, 1, true, 480),  // repeated end
            (4000, 6, 5, false, 160), // next key on the same timestamp
            (4000, 5, 1, true, 480),  // late repeat of the old end
            (4000, 7, 5, true, 320),
        ]);
        assert_eq!(
            got,
            [
                (true, 1, false),
                (false, 1, false),
                (true, 5, false),
                (false, 5, false)
            ]
        );
    }
}
