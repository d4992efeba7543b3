//! RTCP (RFC 3550 §6): reading compound packets and building the reports a
//! voice endpoint sends.
//!
//! [`parse_compound`] walks a compound packet one RTCP packet at a time and
//! yields typed, borrowed views; each packet is fully validated (version,
//! length, padding, count against length, SDES chunk structure) before it is
//! yielded, so the nested iterators never fail. Packet types voxlet does not
//! interpret (XR, RTPFB, PSFB, APP…) come out as [`RtcpPacket::Unknown`] for
//! the caller to skip. The walk is lenient where RFC 3550 A.2 would be
//! strict but nothing is at stake: the first packet need not be SR/RR
//! (RFC 5506 reduced size), padding is accepted in any packet, bytes after
//! the last SDES chunk or BYE reason are ignored.
//!
//! Builders write one packet into a caller buffer and return its length; a
//! compound packet is these written back to back.

use crate::rtp::RtcpError;

/// Sender report packet type.
pub const PT_SR: u8 = 200;
/// Receiver report packet type.
pub const PT_RR: u8 = 201;
/// Source description packet type.
pub const PT_SDES: u8 = 202;
/// Goodbye packet type.
pub const PT_BYE: u8 = 203;
/// Application-defined packet type.
pub const PT_APP: u8 = 204;
/// Extended report (RFC 3611) packet type.
pub const PT_XR: u8 = 207;

/// SDES item type: canonical name.
pub const SDES_CNAME: u8 = 1;
/// SDES item type: user name.
pub const SDES_NAME: u8 = 2;
/// SDES item type: e-mail address.
pub const SDES_EMAIL: u8 = 3;
/// SDES item type: phone number.
pub const SDES_PHONE: u8 = 4;
/// SDES item type: location.
pub const SDES_LOC: u8 = 5;
/// SDES item type: application or tool name.
pub const SDES_TOOL: u8 = 6;
/// SDES item type: notice/status.
pub const SDES_NOTE: u8 = 7;
/// SDES item type: private extension.
pub const SDES_PRIV: u8 = 8;

/// Most report blocks (or BYE SSRCs, or SDES chunks) in one packet (5-bit count).
pub const MAX_COUNT: usize = 31;
/// Size of one report block on the wire.
pub const REPORT_BLOCK_LEN: usize = 24;

/// Seconds between the NTP epoch (1900) and the Unix epoch (1970), in ms:
/// pass it to [`ntp_from_ms`] / [`ntp_to_ms`] when the clock is Unix time.
pub const NTP_UNIX_EPOCH_OFFSET_MS: u64 = 2_208_988_800_000;

#[inline]
fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..)
        .and_then(|s| s.first_chunk::<4>())
        .map_or(0, |c| u32::from_be_bytes(*c))
}

/// The middle 32 bits of a 64-bit NTP timestamp (the "compact" form used in
/// LSR and round-trip computations, units of 1/65536 s).
#[inline]
pub fn ntp_middle_32(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// A wall-clock time in ms to a 64-bit NTP timestamp (32.32 fixed point,
/// seconds since 1900). `epoch_offset_ms` is the ms from the NTP epoch to the
/// caller's clock epoch ([`NTP_UNIX_EPOCH_OFFSET_MS`] for Unix time). The
/// seconds wrap modulo 2^32 (NTP eras).
pub fn ntp_from_ms(ms: u64, epoch_offset_ms: u64) -> u64 {
    let t = ms.wrapping_add(epoch_offset_ms);
    let secs = (t / 1000) & 0xFFFF_FFFF;
    let frac = ((t % 1000) << 32) / 1000;
    (secs << 32) | frac
}

/// A 64-bit NTP timestamp back to ms in the caller's clock (rounded to the
/// nearest ms, within the NTP era of the timestamp); saturates at 0 for times
/// before the caller's epoch.
pub fn ntp_to_ms(ntp: u64, epoch_offset_ms: u64) -> u64 {
    let secs = ntp >> 32;
    let frac = ntp & 0xFFFF_FFFF;
    let ms = secs * 1000 + ((frac * 1000 + (1 << 31)) >> 32);
    ms.saturating_sub(epoch_offset_ms)
}

/// Round-trip time per RFC 3550 §6.4.1, in 1/65536 s: `arrival − LSR − DLSR`,
/// with `arrival` the compact NTP time the report block arrived. `None` if
/// the block carries no LSR (0) or the result is negative (clock trouble).
pub fn round_trip_compact(arrival: u32, lsr: u32, dlsr: u32) -> Option<u32> {
    if lsr == 0 {
        return None;
    }
    let rtt = arrival.wrapping_sub(lsr).wrapping_sub(dlsr);
    (rtt <= i32::MAX as u32).then_some(rtt)
}

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReportBlock {
    /// Source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost, 24-bit signed (duplicates can make it
    /// negative). Builders clamp to −2^23..=2^23−1 as in RFC 3550 A.3.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles << 16 | seq).
    pub extended_highest_seq: u32,
    /// Interarrival jitter, in RTP timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP timestamp (0: none yet).
    pub lsr: u32,
    /// Delay since that SR was received, in 1/65536 s.
    pub dlsr: u32,
}

impl ReportBlock {
    fn parse(b: &[u8]) -> ReportBlock {
        let lost_raw = be32(b, 4);
        ReportBlock {
            ssrc: be32(b, 0),
            fraction_lost: (lost_raw >> 24) as u8,
            cumulative_lost: ((lost_raw << 8) as i32) >> 8,
            extended_highest_seq: be32(b, 8),
            jitter: be32(b, 12),
            lsr: be32(b, 16),
            dlsr: be32(b, 20),
        }
    }

    fn to_bytes(self) -> [u8; REPORT_BLOCK_LEN] {
        let lost = self.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32 & 0x00FF_FFFF;
        let mut b = [0u8; REPORT_BLOCK_LEN];
        let words = [
            self.ssrc,
            (u32::from(self.fraction_lost) << 24) | lost,
            self.extended_highest_seq,
            self.jitter,
            self.lsr,
            self.dlsr,
        ];
        for (dst, w) in b.chunks_exact_mut(4).zip(words) {
            dst.copy_from_slice(&w.to_be_bytes());
        }
        b
    }
}

/// Iterator over the report blocks of an SR or RR; never allocates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportBlocks<'a> {
    rest: &'a [u8],
}

impl Iterator for ReportBlocks<'_> {
    type Item = ReportBlock;

    fn next(&mut self) -> Option<ReportBlock> {
        let (b, rest) = self.rest.split_at_checked(REPORT_BLOCK_LEN)?;
        self.rest = rest;
        Some(ReportBlock::parse(b))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.rest.len() / REPORT_BLOCK_LEN;
        (n, Some(n))
    }
}

impl ExactSizeIterator for ReportBlocks<'_> {}
impl core::iter::FusedIterator for ReportBlocks<'_> {}

/// The sender-info section of an SR (also the input of [`write_sr`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SenderInfo {
    /// Wall-clock time of the report, 64-bit NTP.
    pub ntp_timestamp: u64,
    /// The same instant in the stream's RTP clock.
    pub rtp_timestamp: u32,
    /// Packets sent since the start of transmission.
    pub packet_count: u32,
    /// Payload octets sent since the start of transmission.
    pub octet_count: u32,
}

/// A sender report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderReport<'a> {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// What and when it sent.
    pub sender_info: SenderInfo,
    /// Reception reports about the sources it hears.
    pub report_blocks: ReportBlocks<'a>,
    /// Profile-specific extension bytes after the report blocks.
    pub extension: &'a [u8],
}

/// A receiver report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    /// The reporter's SSRC.
    pub ssrc: u32,
    /// Reception reports about the sources it hears.
    pub report_blocks: ReportBlocks<'a>,
    /// Profile-specific extension bytes after the report blocks.
    pub extension: &'a [u8],
}

/// One SDES item: type and borrowed value bytes (UTF-8 by the RFC, not checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdesItem<'a> {
    /// Item type ([`SDES_CNAME`], …), never 0.
    pub item_type: u8,
    /// Item value, at most 255 bytes.
    pub value: &'a [u8],
}

/// One SDES chunk: a source and its items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: u32,
    items: &'a [u8],
}

impl<'a> SdesChunk<'a> {
    /// The chunk's items, in wire order.
    pub fn items(&self) -> SdesItems<'a> {
        SdesItems { rest: self.items }
    }

    /// The value of the first CNAME item.
    pub fn cname(&self) -> Option<&'a [u8]> {
        self.items()
            .find(|i| i.item_type == SDES_CNAME)
            .map(|i| i.value)
    }
}

/// Iterator over the items of an [`SdesChunk`].
#[derive(Clone, Debug)]
pub struct SdesItems<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for SdesItems<'a> {
    type Item = SdesItem<'a>;

    fn next(&mut self) -> Option<SdesItem<'a>> {
        let (&item_type, after) = self.rest.split_first()?;
        let parsed = after
            .split_first()
            .and_then(|(&len, after)| after.split_at_checked(usize::from(len)));
        match parsed {
            Some((value, after)) if item_type != 0 => {
                self.rest = after;
                Some(SdesItem { item_type, value })
            }
            _ => {
                self.rest = &[];
                None
            }
        }
    }
}

impl core::iter::FusedIterator for SdesItems<'_> {}

/// Walks one SDES chunk starting at `body[0]`: returns (ssrc, items bytes,
/// bytes consumed including the terminator and alignment).
fn sdes_chunk(body: &[u8]) -> Result<(u32, &[u8], usize), RtcpError> {
    if body.len() < 4 {
        return Err(RtcpError::BadLength);
    }
    let ssrc = be32(body, 0);
    let mut off = 4usize;
    loop {
        match body.get(off) {
            None => return Err(RtcpError::BadLength),
            Some(0) => break,
            Some(_) => {
                let len = *body.get(off + 1).ok_or(RtcpError::BadLength)?;
                off += 2 + usize::from(len);
                if off > body.len() {
                    return Err(RtcpError::BadLength);
                }
            }
        }
    }
    let items = body.get(4..off).ok_or(RtcpError::BadLength)?;
    // The null terminator, then zero padding to the next 32-bit boundary;
    // a missing pad at the very end is tolerated.
    let consumed = ((off + 1).div_ceil(4) * 4).min(body.len());
    Ok((ssrc, items, consumed))
}

/// A source description packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sdes<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> Sdes<'a> {
    /// Number of chunks (the SC field).
    pub fn chunk_count(&self) -> usize {
        usize::from(self.count)
    }

    /// The chunks, in wire order.
    pub fn chunks(&self) -> SdesChunks<'a> {
        SdesChunks {
            remaining: self.count,
            rest: self.body,
        }
    }
}

/// Iterator over the chunks of an [`Sdes`] packet.
#[derive(Clone, Debug)]
pub struct SdesChunks<'a> {
    remaining: u8,
    rest: &'a [u8],
}

impl<'a> Iterator for SdesChunks<'a> {
    type Item = SdesChunk<'a>;

    fn next(&mut self) -> Option<SdesChunk<'a>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        match sdes_chunk(self.rest) {
            Ok((ssrc, items, used)) => {
                self.rest = self.rest.get(used..).unwrap_or(&[]);
                Some(SdesChunk { ssrc, items })
            }
            Err(_) => {
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.remaining)))
    }
}

impl core::iter::FusedIterator for SdesChunks<'_> {}

/// A goodbye packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bye<'a> {
    ssrcs: &'a [u8],
    /// Reason for leaving, if given (UTF-8 by the RFC, not checked).
    pub reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    /// The sources leaving.
    pub fn ssrcs(&self) -> impl ExactSizeIterator<Item = u32> + Clone + 'a {
        self.ssrcs.chunks_exact(4).map(|c| be32(c, 0))
    }
}

/// One packet of a compound RTCP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtcpPacket<'a> {
    /// Sender report (PT 200).
    SenderReport(SenderReport<'a>),
    /// Receiver report (PT 201).
    ReceiverReport(ReceiverReport<'a>),
    /// Source description (PT 202).
    Sdes(Sdes<'a>),
    /// Goodbye (PT 203).
    Bye(Bye<'a>),
    /// Any other type, not interpreted.
    Unknown {
        /// The packet type byte.
        packet_type: u8,
        /// The 5-bit count / format field.
        count: u8,
        /// Everything after the 4-byte common header, without padding.
        payload: &'a [u8],
    },
}

impl<'a> RtcpPacket<'a> {
    /// Parses the first RTCP packet of `buf`; returns it and the bytes it
    /// occupies (from its length field).
    ///
    /// Errors: [`RtcpError::Truncated`] if the header or the length field run
    /// past `buf`; [`RtcpError::BadVersion`]; [`RtcpError::BadPadding`] for a
    /// padding count of 0 or past the header; [`RtcpError::BadLength`] if
    /// the count does not fit the length or an SDES/BYE body is malformed.
    pub fn parse(buf: &'a [u8]) -> Result<(RtcpPacket<'a>, usize), RtcpError> {
        let (hdr, _) = buf.split_first_chunk::<4>().ok_or(RtcpError::Truncated)?;
        let version = hdr[0] >> 6;
        if version != 2 {
            return Err(RtcpError::BadVersion(version));
        }
        let count = hdr[0] & 0x1F;
        let packet_type = hdr[1];
        let len = (usize::from(u16::from_be_bytes([hdr[2], hdr[3]])) + 1) * 4;
        let packet = buf.get(..len).ok_or(RtcpError::Truncated)?;
        let mut body = packet.get(4..).ok_or(RtcpError::Truncated)?;
        if hdr[0] & 0x20 != 0 {
            let pad = usize::from(*packet.last().ok_or(RtcpError::BadPadding)?);
            let keep = body
                .len()
                .checked_sub(pad)
                .filter(|_| pad != 0)
                .ok_or(RtcpError::BadPadding)?;
            body = body.get(..keep).ok_or(RtcpError::BadPadding)?;
        }
        let n = usize::from(count);
        let parsed = match packet_type {
            PT_SR => {
                let blocks_end = 24 + n * REPORT_BLOCK_LEN;
                if body.len() < blocks_end {
                    return Err(RtcpError::BadLength);
                }
                RtcpPacket::SenderReport(SenderReport {
                    ssrc: be32(body, 0),
                    sender_info: SenderInfo {
                        ntp_timestamp: (u64::from(be32(body, 4)) << 32) | u64::from(be32(body, 8)),
                        rtp_timestamp: be32(body, 12),
                        packet_count: be32(body, 16),
                        octet_count: be32(body, 20),
                    },
                    report_blocks: ReportBlocks {
                        rest: body.get(24..blocks_end).unwrap_or(&[]),
                    },
                    extension: body.get(blocks_end..).unwrap_or(&[]),
                })
            }
            PT_RR => {
                let blocks_end = 4 + n * REPORT_BLOCK_LEN;
                if body.len() < blocks_end {
                    return Err(RtcpError::BadLength);
                }
                RtcpPacket::ReceiverReport(ReceiverReport {
                    ssrc: be32(body, 0),
                    report_blocks: ReportBlocks {
                        rest: body.get(4..blocks_end).unwrap_or(&[]),
                    },
                    extension: body.get(blocks_end..).unwrap_or(&[]),
                })
            }
            PT_SDES => {
                let mut off = 0;
                for _ in 0..n {
                    let rest = body.get(off..).ok_or(RtcpError::BadLength)?;
                    off += sdes_chunk(rest)?.2;
                }
                RtcpPacket::Sdes(Sdes { count, body })
            }
            PT_BYE => {
                let (ssrcs, rest) = body.split_at_checked(n * 4).ok_or(RtcpError::BadLength)?;
                let reason = match rest.split_first() {
                    None => None,
                    Some((&rlen, after)) => {
                        Some(after.get(..usize::from(rlen)).ok_or(RtcpError::BadLength)?)
                    }
                };
                RtcpPacket::Bye(Bye { ssrcs, reason })
            }
            _ => RtcpPacket::Unknown {
                packet_type,
                count,
                payload: body,
            },
        };
        Ok((parsed, len))
    }

    /// The packet type byte.
    pub fn packet_type(&self) -> u8 {
        match self {
            RtcpPacket::SenderReport(_) => PT_SR,
            RtcpPacket::ReceiverReport(_) => PT_RR,
            RtcpPacket::Sdes(_) => PT_SDES,
            RtcpPacket::Bye(_) => PT_BYE,
            RtcpPacket::Unknown { packet_type, .. } => *packet_type,
        }
    }
}

/// Iterates the packets of a compound RTCP packet.
///
/// Yields `Ok` per valid packet; at the first invalid one yields its `Err`
/// and then stops (the rest cannot be framed). An empty buffer yields
/// nothing.
pub fn parse_compound(buf: &[u8]) -> RtcpPackets<'_> {
    RtcpPackets { rest: buf }
}

/// Iterator returned by [`parse_compound`]; never allocates.
#[derive(Clone, Debug)]
pub struct RtcpPackets<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for RtcpPackets<'a> {
    type Item = Result<RtcpPacket<'a>, RtcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match RtcpPacket::parse(self.rest) {
            Ok((p, used)) => {
                self.rest = self.rest.get(used..).unwrap_or(&[]);
                Some(Ok(p))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for RtcpPackets<'_> {}

/// Bounds-checked sequential writer for the builders.
struct Cursor<'b> {
    out: &'b mut [u8],
    pos: usize,
}

impl<'b> Cursor<'b> {
    /// Claims `len` bytes of `out` and writes the common header for them.
    fn start(
        out: &'b mut [u8],
        count: usize,
        packet_type: u8,
        len: usize,
    ) -> Result<Self, RtcpError> {
        if count > MAX_COUNT {
            return Err(RtcpError::FieldOverflow);
        }
        let words = u16::try_from(len / 4 - 1).map_err(|_| RtcpError::FieldOverflow)?;
        let out = out.get_mut(..len).ok_or(RtcpError::BufferTooSmall)?;
        out.fill(0);
        let mut c = Cursor { out, pos: 0 };
        c.put(&[0x80 | count as u8, packet_type])?;
        c.put(&words.to_be_bytes())?;
        Ok(c)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), RtcpError> {
        let end = self.pos + bytes.len();
        self.out
            .get_mut(self.pos..end)
            .ok_or(RtcpError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }
}

/// Writes a sender report (at most 31 blocks) into `out`; returns its length.
pub fn write_sr(
    ssrc: u32,
    info: &SenderInfo,
    blocks: &[ReportBlock],
    out: &mut [u8],
) -> Result<usize, RtcpError> {
    let len = 28 + blocks.len() * REPORT_BLOCK_LEN;
    let mut c = Cursor::start(out, blocks.len(), PT_SR, len)?;
    c.put(&ssrc.to_be_bytes())?;
    c.put(&info.ntp_timestamp.to_be_bytes())?;
    c.put(&info.rtp_timestamp.to_be_bytes())?;
    c.put(&info.packet_count.to_be_bytes())?;
    c.put(&info.octet_count.to_be_bytes())?;
    for b in blocks {
        c.put(&b.to_bytes())?;
    }
    Ok(len)
}

/// Writes a receiver report (at most 31 blocks) into `out`; returns its length.
pub fn write_rr(ssrc: u32, blocks: &[ReportBlock], out: &mut [u8]) -> Result<usize, RtcpError> {
    let len = 8 + blocks.len() * REPORT_BLOCK_LEN;
    let mut c = Cursor::start(out, blocks.len(), PT_RR, len)?;
    c.put(&ssrc.to_be_bytes())?;
    for b in blocks {
        c.put(&b.to_bytes())?;
    }
    Ok(len)
}

/// Writes an SDES packet with one chunk for `ssrc` carrying `items` into
/// `out`; returns its length. Item type 0 or a value over 255 bytes is
/// [`RtcpError::FieldOverflow`].
pub fn write_sdes(ssrc: u32, items: &[SdesItem<'_>], out: &mut [u8]) -> Result<usize, RtcpError> {
    let mut items_len = 0usize;
    for i in items {
        if i.item_type == 0 || i.value.len() > 255 {
            return Err(RtcpError::FieldOverflow);
        }
        items_len += 2 + i.value.len();
    }
    // Chunk: SSRC, items, at least one null octet, padded to 32 bits.
    let len = 4 + (4 + items_len + 1).div_ceil(4) * 4;
    let mut c = Cursor::start(out, 1, PT_SDES, len)?;
    c.put(&ssrc.to_be_bytes())?;
    for i in items {
        c.put(&[i.item_type, i.value.len() as u8])?;
        c.put(i.value)?;
    }
    Ok(len)
}

/// Writes an SDES packet carrying only a CNAME (at most 255 bytes).
pub fn write_sdes_cname(ssrc: u32, cname: &[u8], out: &mut [u8]) -> Result<usize, RtcpError> {
    write_sdes(
        ssrc,
        &[SdesItem {
            item_type: SDES_CNAME,
            value: cname,
        }],
        out,
    )
}

/// Writes a BYE for at most 31 sources with an optional reason (at most 255
/// bytes) into `out`; returns its length.
pub fn write_bye(ssrcs: &[u32], reason: Option<&[u8]>, out: &mut [u8]) -> Result<usize, RtcpError> {
    let reason_len = match reason {
        Some(r) if r.len() > 255 => return Err(RtcpError::FieldOverflow),
        Some(r) => (1 + r.len()).div_ceil(4) * 4,
        None => 0,
    };
    let len = 4 + 4 * ssrcs.len() + reason_len;
    let mut c = Cursor::start(out, ssrcs.len(), PT_BYE, len)?;
    for s in ssrcs {
        c.put(&s.to_be_bytes())?;
    }
    if let Some(r) = reason {
        c.put(&[r.len() as u8])?;
        c.put(r)?;
    }
    Ok(len)
}
