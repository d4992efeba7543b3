//! Reading and writing rtptools' `rtpdump` capture files, the format of the
//! test fixtures (and what `rtpdump -F dump`, `rtpplay` and Wireshark's
//! "RTP → Save as rtpdump" use).
//!
//! Layout, all integers big-endian:
//!
//! ```text
//! "#!rtpplay1.0 ADDRESS/PORT\n"
//! RD_hdr_t    start.tv_sec u32, start.tv_usec u32, source u32, port u16, padding u16
//! RD_packet_t length u16 (record incl. this 8-byte header), plen u16, offset u32 (ms)
//!             then length − 8 packet bytes; repeated to the end of the file
//! ```
//!
//! `plen` is the length of the packet as it was on the wire; rtptools writes
//! `plen = 0` for RTCP, and `length − 8` may be shorter than `plen` when only
//! headers were captured. The reader keeps both facts on
//! [`RtpDumpRecord`] ([`RtpDumpRecord::is_rtcp`]); its plain iterator yields
//! every record, RTP and RTCP alike, with the bytes that were stored. The
//! writer sets `plen` to the packet length ([`write_packet`]) or to 0
//! ([`write_rtcp`]).
//!
//! The reader borrows the file and never panics; the writer appends to a
//! `Vec` (tooling, not the render path).

use core::fmt;

/// Prefix of the text line (`#!rtpplay` + version 1.0 + space).
pub const RTPDUMP_MAGIC: &[u8] = b"#!rtpplay1.0 ";
/// Size of the binary file header (`RD_hdr_t`).
pub const FILE_HEADER_LEN: usize = 16;
/// Size of each record header (`RD_packet_t`).
pub const RECORD_HEADER_LEN: usize = 8;
/// Largest packet a record can hold (`length` is 16 bits and counts the header).
pub const MAX_PACKET_LEN: usize = u16::MAX as usize - RECORD_HEADER_LEN;

/// Why an rtpdump file could not be read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpDumpError {
    /// The file does not start with `#!rtpplay1.0 `.
    BadMagic,
    /// The text line has no newline, is not UTF-8, or is not `ADDRESS/PORT`
    /// (reader); the address contains a newline (writer).
    BadHeaderLine,
    /// The file ends inside the binary header or a record.
    Truncated,
    /// A record's length field is smaller than its own 8-byte header.
    BadRecordLength(u16),
    /// A packet longer than [`MAX_PACKET_LEN`] cannot be written (its length).
    PacketTooLong(usize),
}

impl fmt::Display for RtpDumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RtpDumpError::BadMagic => f.write_str("not an rtpdump file (no #!rtpplay1.0 line)"),
            RtpDumpError::BadHeaderLine => f.write_str("rtpdump header line malformed"),
            RtpDumpError::Truncated => f.write_str("rtpdump file truncated"),
            RtpDumpError::BadRecordLength(n) => write!(f, "rtpdump record length {n} < 8"),
            RtpDumpError::PacketTooLong(n) => write!(f, "{n}-byte packet too long for rtpdump"),
        }
    }
}

impl std::error::Error for RtpDumpError {}

/// The file header: the text line's address and the binary `RD_hdr_t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtpDumpHeader<'a> {
    /// Address from the text line (text before the last `/`).
    pub address: &'a str,
    /// Port from the text line.
    pub port: u16,
    /// Start of the recording, seconds since the Unix epoch.
    pub start_sec: u32,
    /// Microseconds part of the start.
    pub start_usec: u32,
    /// Binary source address (IPv4 as a number, e.g. `0x7F00_0001`).
    pub source: u32,
    /// Binary source port.
    pub source_port: u16,
}

/// One record of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpDumpRecord<'a> {
    /// Milliseconds since the start of the recording.
    pub offset_ms: u32,
    /// `plen`: original packet length, 0 for RTCP.
    pub original_len: u16,
    /// The stored packet bytes.
    pub data: &'a [u8],
}

impl RtpDumpRecord<'_> {
    /// Whether the writer marked this record as RTCP (`plen == 0`).
    pub fn is_rtcp(&self) -> bool {
        self.original_len == 0
    }

    /// Whether fewer bytes were stored than the packet had on the wire.
    pub fn is_truncated(&self) -> bool {
        usize::from(self.original_len) > self.data.len()
    }
}

/// Reads an rtpdump file held in memory.
///
/// As an iterator it yields `(offset_ms, packet)` per record; after an error
/// it yields nothing more.
#[derive(Clone, Debug)]
pub struct RtpDumpReader<'a> {
    header: RtpDumpHeader<'a>,
    rest: &'a [u8],
}

impl<'a> RtpDumpReader<'a> {
    /// Parses the text line and binary header of `file`.
    pub fn new(file: &'a [u8]) -> Result<RtpDumpReader<'a>, RtpDumpError> {
        let after_magic = file
            .strip_prefix(RTPDUMP_MAGIC)
            .ok_or(RtpDumpError::BadMagic)?;
        let nl = after_magic
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(RtpDumpError::BadHeaderLine)?;
        let (line, after) = after_magic.split_at(nl);
        let line = core::str::from_utf8(line).map_err(|_| RtpDumpError::BadHeaderLine)?;
        let line = line.trim_end_matches('\r');
        let (address, port) = line.rsplit_once('/').ok_or(RtpDumpError::BadHeaderLine)?;
        let port: u16 = port
            .trim()
            .parse()
            .map_err(|_| RtpDumpError::BadHeaderLine)?;
        let after = after.get(1..).unwrap_or(&[]);
        let (bin, rest) = after
            .split_first_chunk::<FILE_HEADER_LEN>()
            .ok_or(RtpDumpError::Truncated)?;
        let u32_at = |i: usize| u32::from_be_bytes([bin[i], bin[i + 1], bin[i + 2], bin[i + 3]]);
        let header = RtpDumpHeader {
            address,
            port,
            start_sec: u32_at(0),
            start_usec: u32_at(4),
            source: u32_at(8),
            source_port: u16::from_be_bytes([bin[12], bin[13]]),
        };
        Ok(RtpDumpReader { header, rest })
    }

    /// The file header.
    pub fn header(&self) -> &RtpDumpHeader<'a> {
        &self.header
    }

    /// The next record with its `plen`, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Option<Result<RtpDumpRecord<'a>, RtpDumpError>> {
        if self.rest.is_empty() {
            return None;
        }
        let result = self.read_record();
        if result.is_err() {
            self.rest = &[];
        }
        Some(result)
    }

    fn read_record(&mut self) -> Result<RtpDumpRecord<'a>, RtpDumpError> {
        let (hdr, after) = self
            .rest
            .split_first_chunk::<RECORD_HEADER_LEN>()
            .ok_or(RtpDumpError::Truncated)?;
        let length = u16::from_be_bytes([hdr[0], hdr[1]]);
        let data_len = usize::from(length)
            .checked_sub(RECORD_HEADER_LEN)
            .ok_or(RtpDumpError::BadRecordLength(length))?;
        let (data, rest) = after
            .split_at_checked(data_len)
            .ok_or(RtpDumpError::Truncated)?;
        self.rest = rest;
        Ok(RtpDumpRecord {
            offset_ms: u32::from_be_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]),
            original_len: u16::from_be_bytes([hdr[2], hdr[3]]),
            data,
        })
    }
}

impl<'a> Iterator for RtpDumpReader<'a> {
    type Item = Result<(u32, &'a [u8]), RtpDumpError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
            .map(|r| r.map(|rec| (rec.offset_ms, rec.data)))
    }
}

impl core::iter::FusedIterator for RtpDumpReader<'_> {}

/// Appends the text line and binary header to `out`.
pub fn write_header(out: &mut Vec<u8>, header: &RtpDumpHeader<'_>) -> Result<(), RtpDumpError> {
    if header.address.contains(['\n', '\r']) {
        return Err(RtpDumpError::BadHeaderLine);
    }
    out.extend_from_slice(RTPDUMP_MAGIC);
    out.extend_from_slice(header.address.as_bytes());
    out.extend_from_slice(format!("/{}\n", header.port).as_bytes());
    out.extend_from_slice(&header.start_sec.to_be_bytes());
    out.extend_from_slice(&header.start_usec.to_be_bytes());
    out.extend_from_slice(&header.source.to_be_bytes());
    out.extend_from_slice(&header.source_port.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    Ok(())
}

fn write_record(
    out: &mut Vec<u8>,
    offset_ms: u32,
    plen: u16,
    packet: &[u8],
) -> Result<(), RtpDumpError> {
    if packet.len() > MAX_PACKET_LEN {
        return Err(RtpDumpError::PacketTooLong(packet.len()));
    }
    let length = (packet.len() + RECORD_HEADER_LEN) as u16;
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&plen.to_be_bytes());
    out.extend_from_slice(&offset_ms.to_be_bytes());
    out.extend_from_slice(packet);
    Ok(())
}

/// Appends an RTP packet record (`plen` = its length) at `offset_ms`. An
/// empty packet would read back as RTCP (`plen` 0).
pub fn write_packet(out: &mut Vec<u8>, offset_ms: u32, packet: &[u8]) -> Result<(), RtpDumpError> {
    write_record(out, offset_ms, packet.len() as u16, packet)
}

/// Appends an RTCP packet record (`plen` = 0, as rtptools does) at `offset_ms`.
pub fn write_rtcp(out: &mut Vec<u8>, offset_ms: u32, packet: &[u8]) -> Result<(), RtpDumpError> {
    write_record(out, offset_ms, 0, packet)
}
