//! voxlet-gateway: bridges browsers to RTP peers.
//!
//! A browser opens `/ws`, says `hello` (codec offer, peer name, transport),
//! and then exchanges RTP/RTCP packets, one per binary WebSocket frame or
//! per DataChannel message, with a peer fixed by configuration: a UDP RTP
//! endpoint (symmetric RTP, RTCP on the next port), `echo`, `announce`
//! (speech encoded here with voxlet's own `Sender`) or `room` (two
//! browsers). The browser picks peers by name only; it never names a
//! network address, so the gateway is not an open relay.
//!
//! The wire protocol is in `PROTOCOL.md`.

#![warn(missing_docs)]

pub mod config;
pub mod dtmf;
pub mod impair;
pub mod negotiate;
pub mod peer;
pub mod protocol;
pub mod server;
pub mod session;
pub mod sip;
pub mod webrtc;

pub use config::{Args, Config, PeerKind, PeerSpec};
pub use server::{serve, Server};
