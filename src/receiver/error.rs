//! Why a [`Receiver`](super::Receiver) could not be built
//! ([`ReceiverConfigError`]) or rejected a packet ([`ReceiverError`]).

use core::fmt;

use crate::codec::CodecError;
use crate::dsp::DspError;
use crate::rtp::{RtcpError, RtpError};

/// Why a [`ReceiverConfig`](super::ReceiverConfig) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiverConfigError {
    /// Output rate outside 8000..=96000 Hz.
    OutputRate(u32),
    /// Output channels not 1 or 2.
    OutputChannels(u16),
    /// Not `min <= max`, or `max` is 0.
    DelayBounds {
        /// `min_delay_ms`.
        min: u32,
        /// `max_delay_ms`.
        max: u32,
    },
    /// `max_packets` outside 1..=65535.
    MaxPackets(usize),
    /// `max_payload_bytes` outside 1..=65535.
    MaxPayloadBytes(usize),
    /// `max_conceal_ms` below 20.
    MaxConceal(u32),
    /// The registry has no audio codec.
    NoAudioCodec,
    /// A registered codec could not be instantiated.
    Codec {
        /// Its payload type.
        pt: u8,
        /// Why.
        error: CodecError,
    },
    /// A DSP block refused a codec's rate or channels.
    Dsp(DspError),
}

impl fmt::Display for ReceiverConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiverConfigError::OutputRate(r) => {
                write!(f, "output rate {r} Hz not in 8000..=96000")
            }
            ReceiverConfigError::OutputChannels(c) => write!(f, "output channels {c} not 1 or 2"),
            ReceiverConfigError::DelayBounds { min, max } => {
                write!(f, "delay bounds {min}..={max} ms invalid")
            }
            ReceiverConfigError::MaxPackets(n) => write!(f, "max_packets {n} not in 1..=65535"),
            ReceiverConfigError::MaxPayloadBytes(n) => {
                write!(f, "max_payload_bytes {n} not in 1..=65535")
            }
            ReceiverConfigError::MaxConceal(n) => write!(f, "max_conceal_ms {n} below 20"),
            ReceiverConfigError::NoAudioCodec => f.write_str("the registry has no audio codec"),
            ReceiverConfigError::Codec { pt, .. } => write!(f, "payload type {pt}"),
            ReceiverConfigError::Dsp(_) => f.write_str("a codec's format is not one the DSP takes"),
        }
    }
}

impl std::error::Error for ReceiverConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReceiverConfigError::Codec { error, .. } => Some(error),
            ReceiverConfigError::Dsp(e) => Some(e),
            _ => None,
        }
    }
}

/// Why [`Receiver::push`](super::Receiver::push) rejected a packet. Each is counted in
/// [`ReceiverStats::errors`](super::ReceiverStats::errors); none disturbs playout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiverError {
    /// Not a valid RTP packet.
    Rtp(RtpError),
    /// Multiplexed RTCP (RFC 5761) that did not parse.
    Rtcp(RtcpError),
    /// Payload type not in the registry.
    UnknownPayloadType(u8),
    /// The payload is empty.
    EmptyPayload,
    /// The payload is longer than `max_payload_bytes`.
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The codec rejected the payload.
    InvalidPayload(CodecError),
    /// `arrival_ms` is not finite.
    BadTime,
}

impl fmt::Display for ReceiverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiverError::Rtp(_) => f.write_str("invalid RTP packet"),
            ReceiverError::Rtcp(_) => f.write_str("invalid RTCP packet"),
            ReceiverError::UnknownPayloadType(pt) => write!(f, "unknown payload type {pt}"),
            ReceiverError::EmptyPayload => f.write_str("empty RTP payload"),
            ReceiverError::TooLarge { len, max } => {
                write!(f, "payload of {len} bytes exceeds {max}")
            }
            ReceiverError::InvalidPayload(_) => f.write_str("invalid payload"),
            ReceiverError::BadTime => f.write_str("arrival time is not finite"),
        }
    }
}

impl std::error::Error for ReceiverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReceiverError::Rtp(e) => Some(e),
            ReceiverError::Rtcp(e) => Some(e),
            ReceiverError::InvalidPayload(e) => Some(e),
            _ => None,
        }
    }
}
