//! RFC 4733 event scheduling on the audio frame clock.
//!
//! The Sender completes one audio frame per ptime of pushed audio and asks
//! [`DtmfScheduler::on_frame`] what that frame slot carries: audio, or a
//! telephone-event report that replaces it (the audio is paused, §2.5).
//! An event starts at the first frame slot after it reaches the head of the
//! queue (and after the inter-digit gap), keeps that slot's RTP timestamp for
//! all its packets, reports `k × ptime` of duration in its `k`-th packet, and
//! ends with the exact requested duration and the E bit, sent three times
//! (§2.5.1.4). Nothing here allocates: the digit queue is a fixed ring.

use crate::codec::telephone_event::TelephoneEvent;

/// Digits that can wait in the queue.
pub const DTMF_QUEUE_LEN: usize = 32;
/// Copies of the final (E bit) packet, RFC 4733 §2.5.1.4.
pub const END_REPEATS: u8 = 3;

#[derive(Clone, Copy, Debug, Default)]
struct Digit {
    event: u8,
    volume: u8,
    /// Total duration in telephone-event clock ticks (1..=65535).
    duration: u16,
    /// Frame slots the event occupies (ceil(duration / ticks per frame)).
    frames: u32,
}

#[derive(Clone, Copy, Debug)]
struct Active {
    digit: Digit,
    timestamp: u32,
    /// Reports sent so far.
    sent: u32,
}

/// What one completed audio frame slot carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameUse {
    /// Send the audio.
    Audio,
    /// Send this event report instead of the audio, `repeats` times.
    Event {
        /// The 4-byte payload's fields.
        event: TelephoneEvent,
        /// The event's start (same in all its packets).
        timestamp: u32,
        /// First packet of the event.
        marker: bool,
        /// 1, or 3 for the final report.
        repeats: u8,
    },
}

/// The digit queue and the event in progress.
#[derive(Clone, Debug)]
pub struct DtmfScheduler {
    queue: [Digit; DTMF_QUEUE_LEN],
    head: usize,
    len: usize,
    active: Option<Active>,
    /// Event-clock ticks per frame slot (ptime × clock / 1000).
    ticks_per_frame: u32,
    /// Audio frame slots between two events.
    gap_frames: u32,
    gap_left: u32,
}

impl DtmfScheduler {
    pub fn new(ticks_per_frame: u32, gap_frames: u32) -> DtmfScheduler {
        DtmfScheduler {
            queue: [Digit::default(); DTMF_QUEUE_LEN],
            head: 0,
            len: 0,
            active: None,
            ticks_per_frame: ticks_per_frame.max(1),
            gap_frames,
            gap_left: 0,
        }
    }

    /// Queues one event; `false` when the queue is full.
    pub fn push(&mut self, event: u8, volume: u8, duration: u16) -> bool {
        if self.len == DTMF_QUEUE_LEN {
            return false;
        }
        let frames = (duration as u32).div_ceil(self.ticks_per_frame).max(1);
        self.queue[(self.head + self.len) % DTMF_QUEUE_LEN] = Digit {
            event,
            volume,
            duration,
            frames,
        };
        self.len += 1;
        true
    }

    /// No event in progress and none queued.
    pub fn is_idle(&self) -> bool {
        self.active.is_none() && self.len == 0
    }

    /// Digits queued or in progress.
    pub fn pending(&self) -> usize {
        self.len + usize::from(self.active.is_some())
    }

    /// The event that the next frame slot would start, if any.
    fn next_start(&self) -> Option<Digit> {
        (self.active.is_none() && self.gap_left == 0 && self.len > 0).then(|| self.queue[self.head])
    }

    /// Packets the next frame slot will need at most (1, or 3 for a final report).
    pub fn packets_for_next_frame(&self) -> usize {
        let last = match (self.active, self.next_start()) {
            (Some(a), _) => a.sent + 1 >= a.digit.frames,
            (None, Some(d)) => d.frames <= 1,
            (None, None) => false,
        };
        if last {
            END_REPEATS as usize
        } else {
            1
        }
    }

    /// Decides what the frame slot starting at RTP time `timestamp` carries.
    pub fn on_frame(&mut self, timestamp: u32) -> FrameUse {
        if self.active.is_none() {
            if self.gap_left > 0 {
                self.gap_left -= 1;
                return FrameUse::Audio;
            }
            if self.len == 0 {
                return FrameUse::Audio;
            }
            let digit = self.queue[self.head];
            self.head = (self.head + 1) % DTMF_QUEUE_LEN;
            self.len -= 1;
            self.active = Some(Active {
                digit,
                timestamp,
                sent: 0,
            });
        }
        let Some(a) = self.active.as_mut() else {
            return FrameUse::Audio;
        };
        a.sent += 1;
        let end = a.sent >= a.digit.frames;
        let duration = if end {
            a.digit.duration
        } else {
            (a.sent.saturating_mul(self.ticks_per_frame)).min(u16::MAX as u32) as u16
        };
        let out = FrameUse::Event {
            event: TelephoneEvent {
                event: a.digit.event,
                end,
                volume: a.digit.volume,
                duration,
            },
            timestamp: a.timestamp,
            marker: a.sent == 1,
            repeats: if end { END_REPEATS } else { 1 },
        };
        if end {
            self.active = None;
            self.gap_left = self.gap_frames;
        }
        out
    }
}
