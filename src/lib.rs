//! # voxlet
//!
//! Real-time RTP voice for the browser, computed inside the AudioWorklet.
//!
//! This crate is a **sans-IO core**: it owns no sockets, threads or timers.
//! Packets go in as byte slices with the time they arrived; audio comes out
//! as `f32` blocks of the size the caller asks for; time is always an
//! argument. That keeps the same code usable in an AudioWorklet (wasm32), in
//! a native gateway, and in deterministic tests that simulate hours of
//! network in milliseconds.
//!
//! ## Time
//!
//! Every time argument in the crate is an `f64` count of milliseconds on
//! the caller's monotonic clock, named `*_ms` (`arrival_ms`, `now_ms`):
//! [`Receiver`], [`Sender`], [`stream::StreamPlayer`] and what the wire
//! adapters hand over all take the same clock. Why not str0m's
//! `std::time::Instant`: in `wasm32-unknown-unknown` (an AudioWorklet)
//! `Instant::now()` panics, and the clocks a page has are `f64` already
//! (`currentTime` in seconds, `performance.now()` in ms). Why not integer
//! ms: a 128-frame render quantum at 44.1 kHz lasts 2.902… ms, and rounding
//! it would make the playout clock drift from the audio clock. `f64` holds
//! whole milliseconds exactly for 285,000 years. A non-finite time (NaN,
//! ±∞) never corrupts state: a packet with one is rejected and counted, a
//! render or send call uses the last finite time. Only the wall clock for
//! RTCP NTP timestamps (`unix_ms`) is a different clock.
//!
//! ## Names
//!
//! One name per concept across the three engines and the JavaScript API:
//! `clear()` drops queued audio (barge-in) everywhere; `Sender::flush`
//! sends the partial last frame; `resampler_quality`, `output_channels` /
//! `input_channels` (`u16`), `stats()` returns a copy. See `MIGRATION.md`.
//!
//! Layout:
//! - [`rtp`]: RTP/RTCP parsing and building (RFC 3550, RFC 8285), sequence
//!   and timestamp unwrapping.
//! - [`codec`]: the [`codec::Decoder`] / [`codec::Encoder`] traits, the
//!   payload-type [`codec::Registry`], and G.711, G.722, L16, Opus and
//!   RFC 4733 telephone-event.
//! - [`dsp`]: resampler, time-stretch (accelerate / pre-emptive expand)
//!   and packet-loss concealment, allocation-free after construction.
//! - [`receiver`]: the receive path ([`Receiver`]): a NetEq-style jitter
//!   buffer with adaptive delay, time-stretching, loss concealment, Opus
//!   FEC, DTMF events, resampling to the output rate, WebRTC-named stats
//!   and RTCP receiver reports; allocation-free while rendering.
//! - [`sender`]: the send path ([`Sender`]): resample, encode, packetize,
//!   RFC 4733 DTMF, pacing and RTCP sender reports.
//! - [`wire`]: sans-IO adapters for the framings voice arrives in over a
//!   WebSocket or DataChannel: raw RTP, Twilio Media Streams, Asterisk
//!   chan_websocket, JSON metadata then L16 (jambonz / mod_audio_fork / Vonage).
//! - [`stream`]: stream mode, a playout queue for untimestamped audio with
//!   marks, `clear()` for barge-in, drained and underrun reporting.
//! - [`rtpdump`]: reading and writing rtptools' `rtpdump` capture files (the
//!   test fixtures' format).
//! - [`error`]: the typed errors.

#![deny(missing_docs)]

pub mod codec;
pub mod dsp;
pub mod error;
pub mod receiver;
pub mod rtp;
pub mod rtpdump;
pub mod sender;
pub mod stream;
pub mod wire;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

#[cfg(all(target_arch = "wasm32", feature = "web"))]
pub mod web;

pub use codec::{CodecInfo, CodecKind, Decoder, Encoder, EncoderSettings, Registry};
pub use error::{CodecError, RtcpError, RtpError};
pub use receiver::{Receiver, ReceiverConfig};
pub use sender::{Sender, SenderConfig};
