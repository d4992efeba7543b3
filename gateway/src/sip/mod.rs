//! The gateway as a SIP user agent: a browser on a `sip` peer dials a SIP
//! URI or number, the gateway places the call (INVITE with an SDP offer of
//! Opus, G.722, PCMU, PCMA and telephone-event), and bridges the media with
//! the same symmetric RTP/RTCP bridge as `udp` peers.
//!
//! Why it is split this way:
//! - [`allow`]: the only way a browser's text becomes a destination, and
//!   the operator's allow-list over it (the gateway must not be an open
//!   relay), pure and table-tested;
//! - [`sdp`]: offer/answer and codec selection, pure and table-tested;
//! - [`ua`]: the one SIP user agent of the gateway (rsipstack endpoint and
//!   dialog layer over UDP, optional REGISTER, requests outside a call);
//! - [`call`]: one outgoing call's life (INVITE, ringing, CANCEL, answer,
//!   BYE either way) as a task that reports [`SipEvent`]s to its session;
//! - [`incoming`]: calls to the gateway, routed to a page that waits for
//!   one, which accepts or declines.
//!
//! The SIP stack is rsipstack (see README, "Dependencies", for why).

pub mod allow;
pub mod call;
pub mod incoming;
pub mod sdp;
pub mod ua;

use std::fmt;

pub use call::{CallHandle, SipEvent};
pub use ua::SipUa;

/// Why the SIP user agent or a call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SipError {
    /// The configuration is unusable (with why).
    Config(String),
    /// A socket could not be bound or used.
    Io(std::io::Error),
    /// The SIP stack refused (with its message).
    Stack(String),
    /// A dial string or URI was refused.
    Dial(allow::DialError),
    /// An SDP body was unusable.
    Sdp(sdp::SdpError),
}

impl fmt::Display for SipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SipError::Config(m) => write!(f, "SIP configuration: {m}"),
            SipError::Io(e) => write!(f, "SIP socket: {e}"),
            SipError::Stack(m) => write!(f, "SIP: {m}"),
            SipError::Dial(e) => write!(f, "destination: {e}"),
            SipError::Sdp(e) => write!(f, "SDP: {e}"),
        }
    }
}

impl std::error::Error for SipError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SipError::Io(e) => Some(e),
            SipError::Dial(e) => Some(e),
            SipError::Sdp(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for SipError {
    fn from(e: std::io::Error) -> Self {
        SipError::Io(e)
    }
}

impl From<rsipstack::Error> for SipError {
    fn from(e: rsipstack::Error) -> Self {
        SipError::Stack(e.to_string())
    }
}

impl From<allow::DialError> for SipError {
    fn from(e: allow::DialError) -> Self {
        SipError::Dial(e)
    }
}

impl From<sdp::SdpError> for SipError {
    fn from(e: sdp::SdpError) -> Self {
        SipError::Sdp(e)
    }
}
