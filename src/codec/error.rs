//! Why a codec operation failed: configuration, payload, output size, libopus.

use core::fmt;

use super::CodecKind;

/// Why a codec operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
    /// telephone-event and comfort noise (CN) are not audio codecs: there is
    /// no decoder or encoder for them (the receiver handles them itself).
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
    /// This codec was left out of the build (cargo features `opus`, `g722`).
    NotBuilt(CodecKind),
    /// An optional part of a codec was left out of the build (the name of
    /// its cargo feature, e.g. `neural`).
    FeatureNotBuilt(&'static str),
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
            CodecError::NotAudio => {
                f.write_str("telephone-event and comfort noise have no audio decoder or encoder")
            }
            CodecError::Unsupported(what) => write!(f, "{what} is not supported by this codec"),
            CodecError::OutputTooSmall { needed, got } => {
                write!(f, "output holds {got}, needs {needed}")
            }
            CodecError::BadFrameCount(n) => write!(f, "{n} frames is not a valid frame size"),
            CodecError::InvalidPayload(why) => write!(f, "invalid payload: {why}"),
            CodecError::Opus(code) => write!(f, "libopus error {code}"),
            CodecError::NotBuilt(kind) => write!(
                f,
                "{} is not in this build (cargo feature `{}`)",
                kind.sdp_name(),
                kind.sdp_name().to_ascii_lowercase()
            ),
            CodecError::FeatureNotBuilt(feature) => {
                write!(
                    f,
                    "{feature} is not in this build (cargo feature `{feature}`)"
                )
            }
        }
    }
}

impl std::error::Error for CodecError {}
