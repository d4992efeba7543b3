//! RFC 4733 telephone-event payloads (DTMF digits as named events).
//!
//! Why a parser and not a codec: telephone-event carries no audio, so it has
//! no [`Decoder`](super::Decoder). The receiver reads which key is down and
//! for how long, the sender describes a key press; generating or detecting
//! the tones is left to the application.
//!
//! Wire format (§2.3), one 4-byte block per event:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |     event     |E|R| volume    |          duration             |
//! ```
//!
//! A payload may pack several consecutive events (§2.5.1.5): they are in
//! chronological order, the RTP timestamp is the start of the first, each
//! next one starts where the previous one's duration ends, and the **last**
//! block is the current event. [`TelephoneEvent::parse`] returns that one;
//! [`events`] iterates over all of them.

use core::iter::FusedIterator;
use core::slice::ChunksExact;

use crate::codec::CodecError;

/// Bytes per event block.
pub const BLOCK_LEN: usize = 4;

/// Largest volume (−63 dBm0, the quietest).
pub const MAX_VOLUME: u8 = 63;

/// One telephone-event block (RFC 4733 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TelephoneEvent {
    /// Event code: DTMF 0–9 digits, 10 `*`, 11 `#`, 12–15 `A`–`D`.
    pub event: u8,
    /// E bit: this is the last report of the event (sent three times).
    pub end: bool,
    /// Power level as a negated dBm0 value, 0..=63 (0 is loudest).
    pub volume: u8,
    /// Duration so far, in RTP clock ticks from the event's start.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses a payload and returns its current event: the last 4-byte block
    /// (the only one in the usual single-event packet). The R bit is ignored.
    ///
    /// Errors with [`CodecError::InvalidPayload`] when the payload is shorter
    /// than 4 bytes or not a multiple of 4.
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, CodecError> {
        events(payload)?
            .next_back()
            .ok_or(CodecError::InvalidPayload(
                "telephone-event shorter than 4 bytes",
            ))
    }

    /// Decodes one 4-byte block (R bit ignored).
    pub fn from_block(block: [u8; 4]) -> TelephoneEvent {
        TelephoneEvent {
            event: block[0],
            end: block[1] & 0x80 != 0,
            volume: block[1] & 0x3F,
            duration: u16::from_be_bytes([block[2], block[3]]),
        }
    }

    /// Writes this event as one 4-byte block (R bit zero); returns 4.
    ///
    /// Errors: [`CodecError::BadSetting`] if `volume > 63`,
    /// [`CodecError::OutputTooSmall`] if `out` is shorter than 4 bytes.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, CodecError> {
        if self.volume > MAX_VOLUME {
            return Err(CodecError::BadSetting("telephone-event volume above 63"));
        }
        let got = out.len();
        let out = out.get_mut(..BLOCK_LEN).ok_or(CodecError::OutputTooSmall {
            needed: BLOCK_LEN,
            got,
        })?;
        let d = self.duration.to_be_bytes();
        out.copy_from_slice(&[self.event, (self.end as u8) << 7 | self.volume, d[0], d[1]]);
        Ok(BLOCK_LEN)
    }

    /// The DTMF key this event stands for, if it is one (0–15).
    pub fn digit(&self) -> Option<char> {
        event_to_digit(self.event)
    }
}

/// Iterates over every block of a payload, oldest first; the last one is the
/// current event. Same length checks as [`TelephoneEvent::parse`].
pub fn events(payload: &[u8]) -> Result<Events<'_>, CodecError> {
    if payload.len() < BLOCK_LEN {
        return Err(CodecError::InvalidPayload(
            "telephone-event shorter than 4 bytes",
        ));
    }
    if payload.len() % BLOCK_LEN != 0 {
        return Err(CodecError::InvalidPayload(
            "telephone-event length not a multiple of 4",
        ));
    }
    Ok(Events {
        blocks: payload.chunks_exact(BLOCK_LEN),
    })
}

/// Iterator over the events packed in one payload, from [`events`].
#[derive(Clone, Debug)]
pub struct Events<'a> {
    blocks: ChunksExact<'a, u8>,
}

fn block_of(c: &[u8]) -> TelephoneEvent {
    TelephoneEvent::from_block([c[0], c[1], c[2], c[3]])
}

impl Iterator for Events<'_> {
    type Item = TelephoneEvent;

    fn next(&mut self) -> Option<TelephoneEvent> {
        self.blocks.next().map(block_of)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.blocks.size_hint()
    }
}

impl DoubleEndedIterator for Events<'_> {
    fn next_back(&mut self) -> Option<TelephoneEvent> {
        self.blocks.next_back().map(block_of)
    }
}

impl ExactSizeIterator for Events<'_> {}
impl FusedIterator for Events<'_> {}

const DIGITS: &[u8; 16] = b"0123456789*#ABCD";

/// A DTMF key (`0`–`9`, `*`, `#`, `A`–`D`, case-insensitive) to its event code.
pub fn digit_to_event(digit: char) -> Option<u8> {
    let d = digit.to_ascii_uppercase();
    DIGITS.iter().position(|&c| c as char == d).map(|p| p as u8)
}

/// A DTMF event code (0–15) to its key (`A`–`D` upper-case).
pub fn event_to_digit(event: u8) -> Option<char> {
    DIGITS.get(event as usize).map(|&c| c as char)
}
