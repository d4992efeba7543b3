//! The Sender's typed errors: invalid configuration at construction, and the
//! few things a running Sender refuses (bad DTMF requests, malformed input,
//! a full queue on flush).

use core::fmt;

use crate::codec::CodecError;
use crate::codec::CodecKind;

/// Why a [`Sender`](super::Sender) could not be built, or refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SenderError {
    /// The codec is telephone-event, which carries no audio.
    NotAudio,
    /// The audio payload type is not 0..=127.
    PayloadType(u8),
    /// `ptime_ms` is not one the codec can packetize: 10/20/30/40/60 ms
    /// (Opus: 10/20/40/60), giving a whole number of frames and RTP ticks.
    Ptime {
        /// The codec.
        codec: CodecKind,
        /// The ptime asked for.
        ptime_ms: u16,
    },
    /// `input_rate` outside 8000..=96000 Hz.
    InputRate(u32),
    /// `input_channels` is not 1 or 2.
    InputChannels(u16),
    /// The DTMF payload type is not 0..=127 or equals the audio one.
    DtmfPayloadType(u8),
    /// The telephone-event clock is outside 8000..=96000 Hz or gives a
    /// fractional number of ticks per packet.
    DtmfClockRate(u32),
    /// `max_queue_ms` outside 1..=60000.
    QueueSize(u32),
    /// The CNAME is empty or longer than 255 bytes.
    Cname,
    /// The codec rejected the configuration (encoder construction, Opus settings).
    Codec(CodecError),
    /// `send_dtmf` without a DTMF payload type in the configuration.
    DtmfDisabled,
    /// Not a DTMF key (0-9, *, #, A-D).
    BadDigit(char),
    /// DTMF volume above 63 (−63 dBm0 is the quietest).
    BadVolume(u8),
    /// DTMF duration of 0 ms, or longer than the 16-bit duration field
    /// holds at the telephone-event clock (65535 ticks: 8.19 s at 8 kHz,
    /// 1.36 s at 48 kHz).
    BadDuration(u32),
    /// The DTMF digit queue is full.
    DtmfQueueFull,
    /// Interleaved input whose length is not a multiple of the channel count.
    BadInputLength {
        /// Samples given.
        samples: usize,
        /// Input channels configured.
        channels: u16,
    },
    /// Not enough free packet slots for what was asked (only `flush`; audio
    /// input signals a full queue by accepting fewer frames).
    QueueFull,
}

impl fmt::Display for SenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SenderError::NotAudio => f.write_str("telephone-event cannot be the audio codec"),
            SenderError::PayloadType(pt) => write!(f, "payload type {pt} is not 0..=127"),
            SenderError::Ptime { codec, ptime_ms } => {
                write!(
                    f,
                    "ptime {ptime_ms} ms is not supported for {}",
                    codec.sdp_name()
                )
            }
            SenderError::InputRate(r) => write!(f, "input rate {r} Hz is not 8000..=96000"),
            SenderError::InputChannels(c) => write!(f, "{c} input channels, expected 1 or 2"),
            SenderError::DtmfPayloadType(pt) => {
                write!(f, "DTMF payload type {pt} is invalid or taken by the audio")
            }
            SenderError::DtmfClockRate(r) => write!(f, "telephone-event clock {r} Hz is invalid"),
            SenderError::QueueSize(ms) => write!(f, "queue bound {ms} ms is not 1..=60000"),
            SenderError::Cname => f.write_str("CNAME must be 1..=255 bytes"),
            SenderError::Codec(_) => f.write_str("the codec refused the configuration"),
            SenderError::DtmfDisabled => f.write_str("no DTMF payload type configured"),
            SenderError::BadDigit(c) => write!(f, "{c:?} is not a DTMF key"),
            SenderError::BadVolume(v) => write!(f, "DTMF volume {v} above 63"),
            SenderError::BadDuration(ms) => write!(f, "DTMF duration {ms} ms out of range"),
            SenderError::DtmfQueueFull => f.write_str("DTMF digit queue full"),
            SenderError::BadInputLength { samples, channels } => {
                write!(
                    f,
                    "{samples} samples is not a whole number of {channels}-channel frames"
                )
            }
            SenderError::QueueFull => f.write_str("packet queue full"),
        }
    }
}

impl std::error::Error for SenderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SenderError::Codec(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CodecError> for SenderError {
    fn from(e: CodecError) -> Self {
        SenderError::Codec(e)
    }
}
