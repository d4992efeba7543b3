//! Typed errors. Every malformed input maps to one of these; nothing that
//! packet bytes can reach panics. The variants are small `Copy` values so the
//! render path can count them without allocating.

use core::fmt;

use crate::codec::CodecKind;

/// Why an RTP packet was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtpError {
    /// Fewer bytes than the fixed 12-byte header, the CSRC list or the extension need.
    Truncated,
    /// Version field is not 2.
    BadVersion(u8),
    /// Padding bit set but the padding count is 0 or longer than the payload.
    BadPadding,
    /// Header extension malformed (length past the end, bad element).
    BadExtension,
    /// Output buffer too small to serialize into.
    BufferTooSmall,
    /// A field does not fit its wire width (e.g. more than 15 CSRCs).
    FieldOverflow,
}

/// Why an RTCP packet was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtcpError {
    /// Fewer bytes than the header or the length field says.
    Truncated,
    /// Version field is not 2.
    BadVersion(u8),
    /// Length or report count inconsistent with the packet type.
    BadLength,
    /// Padding count invalid.
    BadPadding,
    /// Output buffer too small to serialize into.
    BufferTooSmall,
    /// A field does not fit its wire width (e.g. more than 31 report blocks).
    FieldOverflow,
}

/// Why a codec operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodecError {
    /// The codec does not support this clock rate / channel count.
    UnsupportedConfig {
        /// Codec asked for.
        kind: CodecKind,
        /// RTP clock rate asked for.
        clock_rate: u32,
        /// Channel count asked for.
        channels: u16,
    },
    /// An encoder setting is out of range (name of the setting).
    BadSetting(&'static str),
    /// The payload type is not 0..=127.
    BadPayloadType(u8),
    /// An SDP rtpmap value could not be parsed or names an unknown codec.
    BadRtpmap,
    /// telephone-event and CN carry no audio: there is no decoder or encoder for them.
    NotAudio,
    /// The operation is not available for this codec (e.g. PLC for G.711).
    Unsupported(&'static str),
    /// `out` is shorter than the result needs.
    OutputTooSmall {
        /// Samples (or bytes) needed.
        needed: usize,
        /// Samples (or bytes) given.
        got: usize,
    },
    /// The input frame count is not one this encoder accepts.
    BadFrameCount(usize),
    /// The payload is malformed for this codec (what is wrong).
    InvalidPayload(&'static str),
    /// libopus returned this error code.
    Opus(i32),
}

impl fmt::Display for RtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RtpError::Truncated => f.write_str("RTP packet truncated"),
            RtpError::BadVersion(v) => write!(f, "RTP version {v}, expected 2"),
            RtpError::BadPadding => f.write_str("RTP padding invalid"),
            RtpError::BadExtension => f.write_str("RTP header extension malformed"),
            RtpError::BufferTooSmall => f.write_str("buffer too small for RTP packet"),
            RtpError::FieldOverflow => f.write_str("RTP field does not fit its wire width"),
        }
    }
}

impl fmt::Display for RtcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RtcpError::Truncated => f.write_str("RTCP packet truncated"),
            RtcpError::BadVersion(v) => write!(f, "RTCP version {v}, expected 2"),
            RtcpError::BadLength => f.write_str("RTCP length or count inconsistent"),
            RtcpError::BadPadding => f.write_str("RTCP padding invalid"),
            RtcpError::BufferTooSmall => f.write_str("buffer too small for RTCP packet"),
            RtcpError::FieldOverflow => f.write_str("RTCP field does not fit its wire width"),
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::UnsupportedConfig {
                kind,
                clock_rate,
                channels,
            } => write!(
                f,
                "{}/{clock_rate}/{channels} is not supported",
                kind.sdp_name()
            ),
            CodecError::BadSetting(s) => write!(f, "encoder setting out of range: {s}"),
            CodecError::BadPayloadType(pt) => write!(f, "payload type {pt} is not 0..=127"),
            CodecError::BadRtpmap => f.write_str("unparseable or unknown rtpmap"),
            CodecError::NotAudio => f.write_str("telephone-event carries no audio"),
            CodecError::Unsupported(what) => write!(f, "{what} is not supported by this codec"),
            CodecError::OutputTooSmall { needed, got } => {
                write!(f, "output holds {got}, needs {needed}")
            }
            CodecError::BadFrameCount(n) => write!(f, "{n} frames is not a valid frame size"),
            CodecError::InvalidPayload(why) => write!(f, "invalid payload: {why}"),
            CodecError::Opus(code) => write!(f, "libopus error {code}"),
        }
    }
}

impl std::error::Error for RtpError {}
impl std::error::Error for RtcpError {}
impl std::error::Error for CodecError {}
