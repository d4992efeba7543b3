//! RTP and RTCP on the wire (RFC 3550, RFC 8285), plus sequence number and
//! timestamp arithmetic.
//!
//! Why this shape: packets arrive from the network (or a fuzzer) and are
//! parsed on the audio path, so parsing is a *validated borrowed view*: one
//! pass checks every length the header claims, then accessors read fields
//! straight from the caller's buffer. Nothing here allocates, panics or
//! indexes out of bounds, whatever the bytes. Building goes the other way:
//! plain structs that borrow their variable parts and serialize into a
//! caller-owned `&mut [u8]`, returning the length written.
//!
//! - [`RtpPacket`] / [`RtpHeader`]: receive / send one RTP packet.
//! - [`HeaderExtension`]: RFC 8285 one- and two-byte extension elements,
//!   decoded lazily so a bad extension never costs the audio.
//! - [`SeqUnwrapper`], [`TimestampUnwrapper`], [`seq_diff`]…: wrap-aware
//!   ordering of 16-bit sequence numbers and 32-bit timestamps.
//! - [`rtcp`]: compound RTCP parsing, SR/RR/SDES/BYE building, NTP helpers.

mod error;
mod extension;
mod packet;
pub mod rtcp;
mod seq;

pub use error::{RtcpError, RtpError};
pub use extension::{
    ExtensionElement, ExtensionElements, ExtensionForm, HeaderExtension, ONE_BYTE_PROFILE,
    TWO_BYTE_PROFILE,
};
pub use packet::{
    Csrcs, ExtensionSpec, RtpHeader, RtpPacket, MAX_CSRCS, RTP_FIXED_HEADER_LEN, RTP_VERSION,
};
pub use seq::{seq_diff, seq_newer, ts_diff, ts_newer, SeqUnwrapper, TimestampUnwrapper};
