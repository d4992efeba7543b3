//! RFC 8285 header extension elements: reading them in place and laying them
//! out for sending.
//!
//! Parsing a packet only checks that the extension *block* fits; the elements
//! inside it are decoded lazily by [`ExtensionElements`], which reports a
//! malformed element as [`RtpError::BadExtension`]. A receiver that ignores
//! extensions therefore never rejects audio because of a bad one.

use crate::rtp::RtpError;

/// "Defined by profile" value of the one-byte element form (RFC 8285 §4.2).
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// "Defined by profile" value of the two-byte element form (RFC 8285 §4.3);
/// the low 4 bits ("appbits") are free for the application.
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

/// How the elements of a header extension block are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionForm {
    /// RFC 8285 one-byte headers (profile `0xBEDE`): ids 1..=14, 1..=16 bytes.
    OneByte,
    /// RFC 8285 two-byte headers (profile `0x100X`): ids 1..=255, 0..=255 bytes.
    TwoByte {
        /// The low 4 bits of the profile value.
        appbits: u8,
    },
    /// Any other profile: opaque data, no elements.
    Opaque,
}

impl ExtensionForm {
    /// The form a "defined by profile" value selects.
    pub fn from_profile(profile: u16) -> ExtensionForm {
        if profile == ONE_BYTE_PROFILE {
            ExtensionForm::OneByte
        } else if profile & 0xFFF0 == TWO_BYTE_PROFILE {
            ExtensionForm::TwoByte {
                appbits: (profile & 0x000F) as u8,
            }
        } else {
            ExtensionForm::Opaque
        }
    }
}

/// One RFC 8285 extension element: a local id and its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtensionElement<'a> {
    /// Local identifier negotiated in SDP `a=extmap` (never 0).
    pub id: u8,
    /// The element's data (one-byte form: 1..=16 bytes; two-byte: 0..=255).
    pub data: &'a [u8],
}

/// The header extension block of a received packet (the X bit was set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderExtension<'a> {
    profile: u16,
    data: &'a [u8],
}

impl<'a> HeaderExtension<'a> {
    /// Wraps a profile value and the block's data (a multiple of 4 bytes on
    /// the wire, without the 4-byte block header).
    pub fn new(profile: u16, data: &'a [u8]) -> HeaderExtension<'a> {
        HeaderExtension { profile, data }
    }

    /// The 16-bit "defined by profile" value.
    pub fn profile(&self) -> u16 {
        self.profile
    }

    /// The raw block data after the 4-byte block header.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Which element encoding the profile value selects.
    pub fn form(&self) -> ExtensionForm {
        ExtensionForm::from_profile(self.profile)
    }

    /// Iterates the elements. Opaque profiles yield nothing. Padding is
    /// skipped; a one-byte id 15 ends the list (RFC 8285 §4.2). A malformed
    /// element (data past the end, a one-byte id 0 with a non-zero length,
    /// a two-byte header cut short) yields one `Err(BadExtension)`, then the
    /// iterator ends.
    pub fn elements(&self) -> ExtensionElements<'a> {
        ExtensionElements {
            form: self.form(),
            rest: self.data,
        }
    }

    /// The data of the first element with this id. Stops at the first
    /// malformed element (use [`HeaderExtension::elements`] to see errors).
    pub fn get(&self, id: u8) -> Option<&'a [u8]> {
        self.elements()
            .map_while(Result::ok)
            .find(|e| e.id == id)
            .map(|e| e.data)
    }
}

/// Iterator over the elements of a [`HeaderExtension`]; never allocates.
#[derive(Clone, Debug)]
pub struct ExtensionElements<'a> {
    form: ExtensionForm,
    rest: &'a [u8],
}

impl<'a> ExtensionElements<'a> {
    fn fail(&mut self) -> Option<Result<ExtensionElement<'a>, RtpError>> {
        self.rest = &[];
        Some(Err(RtpError::BadExtension))
    }
}

impl<'a> Iterator for ExtensionElements<'a> {
    type Item = Result<ExtensionElement<'a>, RtpError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&b, after) = self.rest.split_first()?;
            let (id, len, after) = match self.form {
                ExtensionForm::Opaque => {
                    self.rest = &[];
                    return None;
                }
                ExtensionForm::OneByte => {
                    let id = b >> 4;
                    let nibble = b & 0x0F;
                    if id == 0 {
                        if nibble != 0 {
                            return self.fail();
                        }
                        self.rest = after;
                        continue;
                    }
                    if id == 15 {
                        self.rest = &[];
                        return None;
                    }
                    (id, usize::from(nibble) + 1, after)
                }
                ExtensionForm::TwoByte { .. } => {
                    if b == 0 {
                        self.rest = after;
                        continue;
                    }
                    let Some((&len, after)) = after.split_first() else {
                        return self.fail();
                    };
                    (b, usize::from(len), after)
                }
            };
            let Some((data, after)) = after.split_at_checked(len) else {
                return self.fail();
            };
            self.rest = after;
            return Some(Ok(ExtensionElement { id, data }));
        }
    }
}

impl core::iter::FusedIterator for ExtensionElements<'_> {}

/// Picks the element form for sending and returns it with the padded block
/// data length (a multiple of 4). One-byte if every id is 1..=14 and every
/// length 1..=16, else two-byte if every id is non-zero and every length
/// ≤ 255, else [`RtpError::FieldOverflow`].
pub(crate) fn layout(
    elements: &[ExtensionElement<'_>],
) -> Result<(ExtensionForm, usize), RtpError> {
    let one_byte = elements
        .iter()
        .all(|e| (1..=14).contains(&e.id) && (1..=16).contains(&e.data.len()));
    let (form, per_element) = if one_byte {
        (ExtensionForm::OneByte, 1)
    } else if elements.iter().all(|e| e.id != 0 && e.data.len() <= 255) {
        (ExtensionForm::TwoByte { appbits: 0 }, 2)
    } else {
        return Err(RtpError::FieldOverflow);
    };
    let raw: usize = elements.iter().map(|e| per_element + e.data.len()).sum();
    let padded = raw.div_ceil(4) * 4;
    if padded / 4 > usize::from(u16::MAX) {
        return Err(RtpError::FieldOverflow);
    }
    Ok((form, padded))
}

/// Writes the elements in `form` into `out` (exactly the padded length from
/// [`layout`]), zero-filling the tail.
pub(crate) fn write_elements(
    elements: &[ExtensionElement<'_>],
    form: ExtensionForm,
    out: &mut [u8],
) -> Result<(), RtpError> {
    let mut pos = 0usize;
    for e in elements {
        let hdr: &[u8] = match form {
            ExtensionForm::OneByte => &[(e.id << 4) | (e.data.len().wrapping_sub(1) as u8 & 0x0F)],
            ExtensionForm::TwoByte { .. } => &[e.id, e.data.len() as u8],
            ExtensionForm::Opaque => return Err(RtpError::FieldOverflow),
        };
        for part in [hdr, e.data] {
            let end = pos + part.len();
            out.get_mut(pos..end)
                .ok_or(RtpError::BufferTooSmall)?
                .copy_from_slice(part);
            pos = end;
        }
    }
    out.get_mut(pos..).ok_or(RtpError::BufferTooSmall)?.fill(0);
    Ok(())
}
