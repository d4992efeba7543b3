//! Why an RTP or RTCP packet was rejected (parsing and building).

use core::fmt;

/// Why an RTP packet was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
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

impl std::error::Error for RtpError {}
impl std::error::Error for RtcpError {}
