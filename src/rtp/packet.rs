//! The RTP packet (RFC 3550 §5.1): a borrowed view for receiving, a plain
//! header struct for sending.
//!
//! [`RtpPacket::parse`] validates everything the fixed header, CSRC count,
//! extension length and padding count claim, once, so the accessors are
//! infallible and cheap. Nothing is copied: the view borrows the datagram.

use super::extension::{self, ExtensionElement, ExtensionForm, HeaderExtension};
use crate::rtp::RtpError;

/// The only RTP version there is.
pub const RTP_VERSION: u8 = 2;
/// Length of the fixed RTP header.
pub const RTP_FIXED_HEADER_LEN: usize = 12;
/// Most CSRCs a packet can carry (4-bit CC field).
pub const MAX_CSRCS: usize = 15;

#[inline]
fn be32(b: &[u8]) -> u32 {
    b.first_chunk::<4>().map_or(0, |c| u32::from_be_bytes(*c))
}

/// A validated, zero-copy view of one RTP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    raw: &'a [u8],
    fixed: [u8; RTP_FIXED_HEADER_LEN],
    csrcs: &'a [u8],
    extension: Option<HeaderExtension<'a>>,
    payload: &'a [u8],
    padding_len: u8,
}

impl<'a> RtpPacket<'a> {
    /// Parses and validates `buf` as one RTP packet.
    ///
    /// Errors: [`RtpError::Truncated`] if the fixed header, CSRC list or
    /// extension block run past the end; [`RtpError::BadVersion`] unless the
    /// version is 2; [`RtpError::BadPadding`] if the P bit is set and the last
    /// byte is 0 or counts more bytes than follow the header. Extension
    /// *elements* are not checked here (see [`HeaderExtension::elements`]).
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        let (fixed, rest) = buf
            .split_first_chunk::<RTP_FIXED_HEADER_LEN>()
            .ok_or(RtpError::Truncated)?;
        let version = fixed[0] >> 6;
        if version != RTP_VERSION {
            return Err(RtpError::BadVersion(version));
        }
        let cc = usize::from(fixed[0] & 0x0F);
        let (csrcs, mut rest) = rest.split_at_checked(cc * 4).ok_or(RtpError::Truncated)?;
        let extension = if fixed[0] & 0x10 != 0 {
            let (hdr, after) = rest.split_first_chunk::<4>().ok_or(RtpError::Truncated)?;
            let profile = u16::from_be_bytes([hdr[0], hdr[1]]);
            let words = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
            let (data, after) = after
                .split_at_checked(words * 4)
                .ok_or(RtpError::Truncated)?;
            rest = after;
            Some(HeaderExtension::new(profile, data))
        } else {
            None
        };
        let (payload, padding_len) = if fixed[0] & 0x20 != 0 {
            let &count = rest.last().ok_or(RtpError::BadPadding)?;
            let keep = rest
                .len()
                .checked_sub(usize::from(count))
                .filter(|_| count != 0)
                .ok_or(RtpError::BadPadding)?;
            (rest.get(..keep).ok_or(RtpError::BadPadding)?, count)
        } else {
            (rest, 0)
        };
        Ok(RtpPacket {
            raw: buf,
            fixed: *fixed,
            csrcs,
            extension,
            payload,
            padding_len,
        })
    }

    /// The whole packet as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// The version field (always 2 once parsed).
    pub fn version(&self) -> u8 {
        self.fixed[0] >> 6
    }

    /// The P bit.
    pub fn has_padding(&self) -> bool {
        self.fixed[0] & 0x20 != 0
    }

    /// Padding bytes at the end, including the count byte (0 without P).
    pub fn padding_len(&self) -> u8 {
        self.padding_len
    }

    /// The X bit (a header extension block is present).
    pub fn has_extension(&self) -> bool {
        self.extension.is_some()
    }

    /// The M bit (for audio: first packet of a talkspurt).
    pub fn marker(&self) -> bool {
        self.fixed[1] & 0x80 != 0
    }

    /// Payload type, 0..=127.
    pub fn payload_type(&self) -> u8 {
        self.fixed[1] & 0x7F
    }

    /// Sequence number.
    pub fn sequence(&self) -> u16 {
        u16::from_be_bytes([self.fixed[2], self.fixed[3]])
    }

    /// RTP timestamp.
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.fixed[4], self.fixed[5], self.fixed[6], self.fixed[7]])
    }

    /// Synchronisation source.
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([self.fixed[8], self.fixed[9], self.fixed[10], self.fixed[11]])
    }

    /// Number of contributing sources (the CC field).
    pub fn csrc_count(&self) -> usize {
        self.csrcs.len() / 4
    }

    /// The contributing sources, in wire order.
    pub fn csrcs(&self) -> Csrcs<'a> {
        Csrcs {
            chunks: self.csrcs.chunks_exact(4),
        }
    }

    /// The `index`-th CSRC.
    pub fn csrc(&self, index: usize) -> Option<u32> {
        let start = index.checked_mul(4)?;
        self.csrcs.get(start..start.checked_add(4)?).map(be32)
    }

    /// The header extension block, if the X bit was set.
    pub fn extension(&self) -> Option<HeaderExtension<'a>> {
        self.extension
    }

    /// Data of the first RFC 8285 element with this id (see
    /// [`HeaderExtension::get`]).
    pub fn extension_element(&self, id: u8) -> Option<&'a [u8]> {
        self.extension.and_then(|e| e.get(id))
    }

    /// Bytes before the payload: fixed header, CSRCs and extension block.
    pub fn header_len(&self) -> usize {
        RTP_FIXED_HEADER_LEN + self.csrcs.len() + self.extension.map_or(0, |e| 4 + e.data().len())
    }

    /// The payload, without padding.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// Iterator over a packet's CSRCs; never allocates.
#[derive(Clone, Debug)]
pub struct Csrcs<'a> {
    chunks: core::slice::ChunksExact<'a, u8>,
}

impl Iterator for Csrcs<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        self.chunks.next().map(be32)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for Csrcs<'_> {}
impl core::iter::FusedIterator for Csrcs<'_> {}

/// The header extension to send with an [`RtpHeader`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionSpec<'a> {
    /// RFC 8285 elements, written in order without padding between them.
    /// The one-byte form is used when every id is 1..=14 and every data
    /// length 1..=16, else the two-byte form (profile `0x1000`). An id of 0
    /// or data over 255 bytes is [`RtpError::FieldOverflow`]. An empty list
    /// still writes an (empty) one-byte block.
    Elements(&'a [ExtensionElement<'a>]),
    /// A block written verbatim: `data` must be a multiple of 4 bytes and at
    /// most 65535 words, else [`RtpError::FieldOverflow`].
    Raw {
        /// The "defined by profile" value.
        profile: u16,
        /// The block data after the 4-byte block header.
        data: &'a [u8],
    },
}

/// An RTP header to serialize; borrows its CSRC list and extension data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtpHeader<'a> {
    /// The M bit.
    pub marker: bool,
    /// Payload type, 0..=127.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Contributing sources, at most 15.
    pub csrcs: &'a [u32],
    /// Header extension block, if any.
    pub extension: Option<ExtensionSpec<'a>>,
    /// Pad the whole packet to a multiple of this many bytes (0 or 1: no
    /// padding). The P bit is set only when padding bytes are added.
    pub pad_to: u8,
}

/// Where each part of a packet goes (computed once, used by `write`).
struct Layout {
    ext_form: Option<ExtensionForm>,
    ext_len: usize,
    padding: usize,
    total: usize,
}

impl RtpHeader<'_> {
    fn layout(&self, payload_len: usize) -> Result<Layout, RtpError> {
        if self.payload_type > 0x7F || self.csrcs.len() > MAX_CSRCS {
            return Err(RtpError::FieldOverflow);
        }
        let (ext_form, ext_len) = match self.extension {
            None => (None, 0),
            Some(ExtensionSpec::Elements(els)) => {
                let (form, len) = extension::layout(els)?;
                (Some(form), len)
            }
            Some(ExtensionSpec::Raw { data, .. }) => {
                if data.len() % 4 != 0 || data.len() / 4 > usize::from(u16::MAX) {
                    return Err(RtpError::FieldOverflow);
                }
                (None, data.len())
            }
        };
        let ext_total = if self.extension.is_some() {
            4 + ext_len
        } else {
            0
        };
        let base = RTP_FIXED_HEADER_LEN
            .checked_add(self.csrcs.len() * 4 + ext_total)
            .and_then(|n| n.checked_add(payload_len))
            .ok_or(RtpError::FieldOverflow)?;
        let padding = match usize::from(self.pad_to) {
            0 | 1 => 0,
            n => (n - base % n) % n,
        };
        Ok(Layout {
            ext_form,
            ext_len,
            padding,
            total: base.checked_add(padding).ok_or(RtpError::FieldOverflow)?,
        })
    }

    /// Bytes [`RtpHeader::write`] needs for a payload of `payload_len` bytes.
    pub fn encoded_len(&self, payload_len: usize) -> Result<usize, RtpError> {
        Ok(self.layout(payload_len)?.total)
    }

    /// Serializes header, `payload` and padding into `out`; returns the packet
    /// length. Errors: [`RtpError::FieldOverflow`] for a value that does not
    /// fit its field, [`RtpError::BufferTooSmall`] if `out` is short.
    pub fn write(&self, payload: &[u8], out: &mut [u8]) -> Result<usize, RtpError> {
        let l = self.layout(payload.len())?;
        let out = out.get_mut(..l.total).ok_or(RtpError::BufferTooSmall)?;
        let mut w = Cursor { out, pos: 0 };
        let b0 = (RTP_VERSION << 6)
            | (u8::from(l.padding > 0) << 5)
            | (u8::from(self.extension.is_some()) << 4)
            | self.csrcs.len() as u8;
        w.put(&[b0, (u8::from(self.marker) << 7) | self.payload_type])?;
        w.put(&self.sequence.to_be_bytes())?;
        w.put(&self.timestamp.to_be_bytes())?;
        w.put(&self.ssrc.to_be_bytes())?;
        for c in self.csrcs {
            w.put(&c.to_be_bytes())?;
        }
        let words = (l.ext_len / 4) as u16;
        match (self.extension, l.ext_form) {
            (Some(ExtensionSpec::Elements(els)), Some(form)) => {
                let profile = match form {
                    ExtensionForm::OneByte => extension::ONE_BYTE_PROFILE,
                    _ => extension::TWO_BYTE_PROFILE,
                };
                w.put(&profile.to_be_bytes())?;
                w.put(&words.to_be_bytes())?;
                extension::write_elements(els, form, w.take(l.ext_len)?)?;
            }
            (Some(ExtensionSpec::Raw { profile, data }), _) => {
                w.put(&profile.to_be_bytes())?;
                w.put(&words.to_be_bytes())?;
                w.put(data)?;
            }
            _ => {}
        }
        w.put(payload)?;
        if l.padding > 0 {
            let pad = w.take(l.padding)?;
            pad.fill(0);
            if let Some(last) = pad.last_mut() {
                *last = l.padding as u8;
            }
        }
        Ok(l.total)
    }
}

/// Bounds-checked sequential writer.
struct Cursor<'b> {
    out: &'b mut [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&mut [u8], RtpError> {
        let end = self.pos.checked_add(n).ok_or(RtpError::BufferTooSmall)?;
        let s = self
            .out
            .get_mut(self.pos..end)
            .ok_or(RtpError::BufferTooSmall)?;
        self.pos = end;
        Ok(s)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), RtpError> {
        self.take(bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }
}
