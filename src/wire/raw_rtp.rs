//! Raw RTP: one RTP packet per binary message (WebSocket or DataChannel).
//!
//! Trivial framing, but the packet is still validated here so a transport
//! can count and drop garbage before it reaches the jitter buffer. With
//! RTCP multiplexed on the same channel (RFC 5761), packets whose second
//! byte is 192..=223 (RTCP packet types 192–223, which RTP payload types
//! 64–95 with the marker bit would collide with) are returned as RTCP.

use super::{check_len, WireError};
use crate::rtp::{RtpHeader, RtpPacket};

/// Largest packet accepted by default: what one UDP datagram can carry.
pub const DEFAULT_MAX_PACKET: usize = 65_507;

/// One inbound packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawItem<'a> {
    /// A parsed RTP packet.
    Rtp(RtpPacket<'a>),
    /// An RTCP compound packet (version checked, at least 8 bytes); parse
    /// it with [`crate::rtp::rtcp`].
    Rtcp(&'a [u8]),
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawRtpStats {
    /// RTP packets accepted.
    pub rtp: u64,
    /// RTCP packets accepted.
    pub rtcp: u64,
    /// Messages rejected.
    pub errors: u64,
}

/// Sans-IO raw RTP adapter.
#[derive(Clone, Debug)]
pub struct RawRtp {
    max_packet: usize,
    stats: RawRtpStats,
}

impl Default for RawRtp {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a packet is RTCP by the RFC 5761 §4 rule (packet type 192..=223).
pub fn is_rtcp(packet: &[u8]) -> bool {
    matches!(packet.get(1), Some(192..=223))
}

impl RawRtp {
    /// An adapter accepting packets up to [`DEFAULT_MAX_PACKET`] bytes.
    pub fn new() -> RawRtp {
        Self::with_max_packet(DEFAULT_MAX_PACKET)
    }

    /// An adapter accepting packets up to `max_packet` bytes.
    pub fn with_max_packet(max_packet: usize) -> RawRtp {
        RawRtp {
            max_packet,
            stats: RawRtpStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> RawRtpStats {
        self.stats
    }

    /// Validates one binary message.
    pub fn on_binary<'a>(&mut self, data: &'a [u8]) -> Result<RawItem<'a>, WireError> {
        let r = Self::classify(data, self.max_packet);
        match r {
            Ok(RawItem::Rtp(_)) => self.stats.rtp += 1,
            Ok(RawItem::Rtcp(_)) => self.stats.rtcp += 1,
            Err(_) => self.stats.errors += 1,
        }
        r
    }

    fn classify(data: &[u8], max: usize) -> Result<RawItem<'_>, WireError> {
        check_len(data.len(), max)?;
        if is_rtcp(data) {
            if data.len() < 8 {
                return Err(WireError::Rtp(crate::rtp::RtpError::Truncated));
            }
            let v = data[0] >> 6;
            if v != 2 {
                return Err(WireError::Rtp(crate::rtp::RtpError::BadVersion(v)));
            }
            return Ok(RawItem::Rtcp(data));
        }
        Ok(RawItem::Rtp(RtpPacket::parse(data)?))
    }

    /// Raw RTP carries no text: always [`WireError::UnexpectedText`].
    pub fn on_text(&mut self, _text: &str) -> Result<RawItem<'static>, WireError> {
        self.stats.errors += 1;
        Err(WireError::UnexpectedText)
    }

    /// Writes one outbound packet (`header` + `payload`) into `out`; the
    /// returned length is the binary message to send.
    pub fn build(
        header: &RtpHeader<'_>,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, WireError> {
        Ok(header.write(payload, out)?)
    }
}
