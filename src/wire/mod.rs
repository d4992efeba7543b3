//! Wire-format adapters: the message framings voice arrives in over a
//! WebSocket or DataChannel, turned into typed items, and the messages to
//! send back.
//!
//! Why adapters and not one parser: each service frames audio its own way
//! (one RTP packet per message; JSON with base64 μ-law; raw codec bytes plus
//! text commands; a JSON header then little-endian PCM). Each adapter is a
//! small sans-IO state machine: the caller hands it each text or binary
//! message as it arrives (`on_text` / `on_binary`) and gets a typed item or
//! a [`WireError`] back; outbound messages are built into caller-owned
//! buffers. Nothing here panics on any input, every message is bounded
//! (default [`DEFAULT_MAX_MESSAGE`] bytes), and steady-state media handling
//! reuses the adapter's buffers instead of allocating per message.
//!
//! | adapter | inbound | outbound |
//! |---|---|---|
//! | [`raw_rtp::RawRtp`] | one RTP (or muxed RTCP) packet per binary message | [`raw_rtp::RawRtp::build`] |
//! | [`twilio::TwilioAdapter`] | Twilio Media Streams JSON events | `media`, `mark`, `clear` |
//! | [`asterisk::AsteriskAdapter`] | chan_websocket media + text/JSON events | commands ([`asterisk::Command`]) |
//! | [`l16meta::L16MetaAdapter`] | JSON metadata, then 16-bit LE PCM | [`l16meta::encode_l16_le`] |
//!
//! Audio coming out of an adapter is described by a
//! [`crate::stream::AudioFormat`], which is what the stream-mode
//! [`crate::stream::StreamPlayer`] takes.

use core::fmt;

use crate::rtp::RtpError;

pub mod asterisk;
pub mod base64;
pub mod json;
pub mod l16meta;
pub mod raw_rtp;
pub mod twilio;

pub use crate::stream::AudioFormat;
pub use asterisk::AsteriskAdapter;
pub use l16meta::L16MetaAdapter;
pub use raw_rtp::RawRtp;
pub use twilio::TwilioAdapter;

/// Default bound on one inbound message, in bytes (64 KiB: a WebSocket
/// frame from any of these services is far smaller; Asterisk's own limit is
/// 65 500).
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024;

/// Why a message was rejected. Small and `Copy`, like the crate's other
/// errors; the adapter stays usable after any of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The message (or a decoded payload) is larger than the bound.
    TooLarge {
        /// Size seen, in bytes.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// Malformed JSON, at this byte offset.
    Json {
        /// Byte offset in the message.
        offset: usize,
        /// What was wrong.
        why: &'static str,
    },
    /// A required field is absent (its JSON path, e.g. `media.payload`).
    MissingField(&'static str),
    /// A field has the wrong type or an unusable value.
    BadField(&'static str),
    /// Invalid base64 at this character index of the encoded string.
    BadBase64 {
        /// Index of the offending character (or the length, if truncated).
        offset: usize,
    },
    /// A text message where this protocol carries only binary ones.
    UnexpectedText,
    /// A binary message where this protocol carries only text ones.
    UnexpectedBinary,
    /// Media arrived before the message that says what format it is in.
    NotStarted,
    /// A format, codec or encoding this adapter cannot handle (what).
    Unsupported(&'static str),
    /// An empty message.
    Empty,
    /// The RTP packet is malformed.
    Rtp(RtpError),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::TooLarge { len, max } => {
                write!(f, "message of {len} bytes exceeds the bound of {max}")
            }
            WireError::Json { offset, why } => write!(f, "invalid JSON at byte {offset}: {why}"),
            WireError::MissingField(p) => write!(f, "missing field {p}"),
            WireError::BadField(p) => write!(f, "bad value for field {p}"),
            WireError::BadBase64 { offset } => write!(f, "invalid base64 at character {offset}"),
            WireError::UnexpectedText => f.write_str("unexpected text message"),
            WireError::UnexpectedBinary => f.write_str("unexpected binary message"),
            WireError::NotStarted => f.write_str("media before the stream's format is known"),
            WireError::Unsupported(what) => write!(f, "unsupported {what}"),
            WireError::Empty => f.write_str("empty message"),
            WireError::Rtp(_) => f.write_str("invalid RTP packet"),
        }
    }
}

impl std::error::Error for WireError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WireError::Rtp(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RtpError> for WireError {
    fn from(e: RtpError) -> Self {
        WireError::Rtp(e)
    }
}

pub(crate) fn check_len(len: usize, max: usize) -> Result<(), WireError> {
    if len > max {
        Err(WireError::TooLarge { len, max })
    } else if len == 0 {
        Err(WireError::Empty)
    } else {
        Ok(())
    }
}

/// Re-frames a byte stream into whole units of `unit` bytes (a codec frame
/// or one PCM sample frame), carrying the incomplete tail of each message
/// into the next. Used by the Asterisk and L16 adapters; public so a caller
/// can re-frame outbound media the same way.
///
/// [`Reframer::push`] returns at most two slices: the carried bytes
/// completed from the new message (copied into an internal buffer of `unit`
/// bytes), then the whole units that lie in the message itself (borrowed,
/// not copied). No allocation after construction.
#[derive(Clone, Debug)]
pub struct Reframer {
    unit: usize,
    carry: Vec<u8>,
    head: Vec<u8>,
}

/// What one [`Reframer::push`] produced: `head` (a unit completed from
/// carried bytes, possibly empty) then `body` (whole units from the
/// message). Both are multiples of the unit size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reframed<'a> {
    /// The unit completed from the previous message's tail (0 or `unit` bytes).
    pub head: &'a [u8],
    /// Whole units taken directly from the new message.
    pub body: &'a [u8],
}

impl<'a> Reframed<'a> {
    /// Total bytes (`head.len() + body.len()`).
    pub fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// Whether nothing complete came out.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The output cut into units of `unit` bytes (head first).
    pub fn units(&self, unit: usize) -> impl Iterator<Item = &'a [u8]> {
        let unit = unit.max(1);
        self.head
            .chunks_exact(unit)
            .chain(self.body.chunks_exact(unit))
    }
}

impl Reframer {
    /// A re-framer for units of `unit` bytes (at least 1).
    pub fn new(unit: usize) -> Reframer {
        let unit = unit.max(1);
        Reframer {
            unit,
            carry: Vec::with_capacity(unit),
            head: Vec::with_capacity(unit),
        }
    }

    /// The unit size in bytes.
    pub fn unit(&self) -> usize {
        self.unit
    }

    /// Bytes carried over, waiting for the rest of their unit.
    pub fn pending(&self) -> &[u8] {
        &self.carry
    }

    /// Drops the carried bytes.
    pub fn reset(&mut self) {
        self.carry.clear();
        self.head.clear();
    }

    /// Takes the carried bytes out (e.g. at the end of a stream, to pad
    /// them), leaving the re-framer empty.
    pub fn take_pending(&mut self) -> &[u8] {
        self.head.clear();
        core::mem::swap(&mut self.head, &mut self.carry);
        &self.head
    }

    /// Adds one message and returns the whole units now available.
    pub fn push<'a>(&'a mut self, data: &'a [u8]) -> Reframed<'a> {
        let unit = self.unit;
        self.head.clear();
        let mut rest = data;
        if !self.carry.is_empty() {
            let need = unit - self.carry.len();
            let take = need.min(rest.len());
            self.carry.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.carry.len() == unit {
                core::mem::swap(&mut self.head, &mut self.carry);
                self.carry.clear();
            }
        }
        let whole = rest.len() / unit * unit;
        let (body, tail) = rest.split_at(whole);
        self.carry.extend_from_slice(tail);
        Reframed {
            head: &self.head,
            body,
        }
    }
}
