//! Every typed error of the crate, in one place to import from.
//!
//! Each module owns its error type (as in str0m and symphonia: the type
//! sits next to the code that returns it); this module only re-exports
//! them, and [`Report`] prints one with its causes. Every malformed input
//! maps to one of these; nothing that packet bytes can reach panics. The
//! errors are small `Copy` values so the render path can count them without
//! allocating, and `#[non_exhaustive]` so variants can be added in minor
//! versions. An error that wraps another returns it from
//! [`source`](std::error::Error::source) and does not repeat its message.

pub use crate::codec::CodecError;
pub use crate::dsp::DspError;
pub use crate::receiver::{ReceiverConfigError, ReceiverError};
pub use crate::rtp::{RtcpError, RtpError};
pub use crate::rtpdump::RtpDumpError;
pub use crate::sender::SenderError;
pub use crate::stream::StreamError;
pub use crate::wire::WireError;

use core::fmt;

/// Displays an error followed by its chain of causes, `": "`-separated
/// (`"payload type 96: unsupported: opus/48000/3"`).
#[derive(Clone, Copy, Debug)]
pub struct Report<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}
