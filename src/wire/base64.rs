//! Standard base64 (RFC 4648 §4, `+/`, `=` padding), written here rather
//! than taken from a crate because the decoder reads straight from a JSON
//! string's unescaped characters (a JSON encoder may write `/` as `\/`) into
//! a bounded buffer, with no intermediate copy. About 100 lines.
//!
//! Decoding is strict about the alphabet (no whitespace, no URL-safe
//! `-_`), rejects data after padding and a dangling single character, and
//! accepts input whose padding was stripped.

use super::WireError;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const fn decode_table() -> [u8; 256] {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
}

static DECODE: [u8; 256] = decode_table();

/// Bytes that `n` base64 characters decode to at most.
pub fn decoded_len_max(n: usize) -> usize {
    n / 4 * 3 + (n % 4) * 3 / 4
}

/// Characters `n` bytes encode to (with padding).
pub fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Appends the padded base64 encoding of `data` to `out`.
pub fn encode_into(data: &[u8], out: &mut String) {
    out.reserve(encoded_len(data.len()));
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let v = (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
        for shift in [18, 12, 6, 0] {
            out.push(ALPHABET[(v >> shift) as usize & 63] as char);
        }
    }
    match *chunks.remainder() {
        [a] => {
            let v = (a as u32) << 16;
            out.push(ALPHABET[(v >> 18) as usize & 63] as char);
            out.push(ALPHABET[(v >> 12) as usize & 63] as char);
            out.push_str("==");
        }
        [a, b] => {
            let v = (a as u32) << 16 | (b as u32) << 8;
            out.push(ALPHABET[(v >> 18) as usize & 63] as char);
            out.push(ALPHABET[(v >> 12) as usize & 63] as char);
            out.push(ALPHABET[(v >> 6) as usize & 63] as char);
            out.push('=');
        }
        _ => {}
    }
}

/// Decodes base64 characters, appending to `out` (which is not cleared).
/// Fails with [`WireError::TooLarge`] before `out` would grow past `max`
/// bytes, or [`WireError::BadBase64`] with the offending character index.
pub fn decode_chars(
    chars: impl Iterator<Item = char>,
    out: &mut Vec<u8>,
    max: usize,
) -> Result<(), WireError> {
    let mut acc = 0u32;
    let mut n = 0usize; // sextets in `acc`
    let mut pad = 0usize;
    let mut count = 0usize;
    let start = out.len();
    for (i, c) in chars.enumerate() {
        count = i + 1;
        if c == '=' {
            pad += 1;
            if pad > 2 || n < 2 {
                return Err(WireError::BadBase64 { offset: i });
            }
            continue;
        }
        let v = if (c as u32) < 256 {
            DECODE[c as usize]
        } else {
            0xFF
        };
        if v == 0xFF || pad > 0 {
            return Err(WireError::BadBase64 { offset: i });
        }
        acc = acc << 6 | v as u32;
        n += 1;
        if n == 4 {
            push(
                out,
                start,
                max,
                &[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8],
            )?;
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 if pad == 0 => {}
        2 if pad == 0 || pad == 2 => push(out, start, max, &[(acc >> 4) as u8])?,
        3 if pad <= 1 => push(out, start, max, &[(acc >> 10) as u8, (acc >> 2) as u8])?,
        _ => return Err(WireError::BadBase64 { offset: count }),
    }
    Ok(())
}

fn push(out: &mut Vec<u8>, start: usize, max: usize, bytes: &[u8]) -> Result<(), WireError> {
    let len = out.len() - start + bytes.len();
    if len > max {
        return Err(WireError::TooLarge { len, max });
    }
    out.extend_from_slice(bytes);
    Ok(())
}

/// Decodes a base64 string, appending to `out`; see [`decode_chars`].
pub fn decode(s: &str, out: &mut Vec<u8>, max: usize) -> Result<(), WireError> {
    decode_chars(s.chars(), out, max)
}
