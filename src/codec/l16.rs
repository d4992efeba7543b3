//! L16: uncompressed 16-bit linear PCM (RFC 3551 §4.5.11).
//!
//! Why it is here: L16 is the reference codec for tests and for LAN links
//! where bandwidth is free, and the only one that carries any rate from
//! 8 to 48 kHz and stereo with no loss. Samples are signed 16-bit in network
//! (big-endian) byte order, channels interleaved frame by frame, so a payload
//! is `frames × channels × 2` bytes. Conversion to and from `f32` is exact
//! ([`i16_to_f32`] / [`f32_to_i16`]).

use super::{f32_to_i16, i16_to_f32, CodecInfo, Decoder, Encoder};
use crate::codec::CodecError;

/// The largest RTP payload one UDP/IPv4 datagram can carry: 65 535 minus the
/// IPv4 (20), UDP (8) and RTP (12) headers.
pub const MAX_PAYLOAD_BYTES: usize = 65_535 - 20 - 8 - 12;

/// Frames per payload the L16 codecs accept: one second of audio, or what
/// the largest UDP datagram holds if that is less (44.1/48 kHz, stereo).
/// Real streams send 10–40 ms; the bound keeps [`Decoder::max_frames`] true
/// for any packet that can arrive, so `out` can be sized once.
fn max_frames_for(info: &CodecInfo, channels: usize) -> usize {
    (info.sample_rate as usize).min(MAX_PAYLOAD_BYTES / (2 * channels))
}

/// Channel count used for framing; a hand-built `CodecInfo` with 0 channels
/// is treated as mono rather than dividing by zero.
fn channels_of(info: &CodecInfo) -> usize {
    info.channels.max(1) as usize
}

/// L16 decoder: big-endian 16-bit PCM → interleaved `f32`. Stateless.
#[derive(Debug, Clone)]
pub struct L16Decoder {
    info: CodecInfo,
    channels: usize,
    max_frames: usize,
}

impl L16Decoder {
    /// A decoder for `info` (L16 at `info.clock_rate`, `info.channels`).
    pub fn new(info: CodecInfo) -> L16Decoder {
        let channels = channels_of(&info);
        L16Decoder {
            info,
            channels,
            max_frames: max_frames_for(&info, channels),
        }
    }
}

impl Decoder for L16Decoder {
    fn info(&self) -> &CodecInfo {
        &self.info
    }

    /// One second of audio, capped at what a UDP datagram can carry
    /// (8000 at 8 kHz mono, 16 373 at 48 kHz stereo).
    fn max_frames(&self) -> usize {
        self.max_frames
    }

    /// Rejects an odd byte count, a partial frame, and more than
    /// [`Decoder::max_frames`] frames, with [`CodecError::InvalidPayload`].
    fn frames_in(&self, payload: &[u8]) -> Result<usize, CodecError> {
        if payload.len() % 2 != 0 {
            return Err(CodecError::InvalidPayload(
                "L16 payload has an odd byte count",
            ));
        }
        let frame_bytes = 2 * self.channels;
        if payload.len() % frame_bytes != 0 {
            return Err(CodecError::InvalidPayload(
                "L16 payload is not a whole number of frames",
            ));
        }
        let frames = payload.len() / frame_bytes;
        if frames > self.max_frames {
            return Err(CodecError::InvalidPayload("L16 payload longer than 1 s"));
        }
        Ok(frames)
    }

    fn decode(&mut self, payload: &[u8], out: &mut [f32]) -> Result<usize, CodecError> {
        let frames = self.frames_in(payload)?;
        let samples = frames * self.channels;
        let got = out.len();
        let out = out.get_mut(..samples).ok_or(CodecError::OutputTooSmall {
            needed: samples,
            got,
        })?;
        for (o, b) in out.iter_mut().zip(payload.chunks_exact(2)) {
            *o = i16_to_f32(i16::from_be_bytes([b[0], b[1]]));
        }
        Ok(frames)
    }

    fn reset(&mut self) {}
}

/// L16 encoder: interleaved `f32` → big-endian 16-bit PCM. Stateless.
#[derive(Debug, Clone)]
pub struct L16Encoder {
    info: CodecInfo,
    channels: usize,
    max_frames: usize,
}

impl L16Encoder {
    /// An encoder for `info` (L16 at `info.clock_rate`, `info.channels`).
    pub fn new(info: CodecInfo) -> L16Encoder {
        let channels = channels_of(&info);
        L16Encoder {
            info,
            channels,
            max_frames: max_frames_for(&info, channels),
        }
    }
}

impl Encoder for L16Encoder {
    fn info(&self) -> &CodecInfo {
        &self.info
    }

    /// Any count from 1 to the decoder's bound (1 s, or a full UDP datagram).
    fn accepts_frames(&self, frames: usize) -> bool {
        (1..=self.max_frames).contains(&frames)
    }

    fn max_payload(&self, frames: usize) -> usize {
        frames.saturating_mul(2 * self.channels)
    }

    /// `pcm.len()` must be a whole number of frames: otherwise
    /// [`CodecError::BadFrameCount`] carries the sample count.
    fn encode(&mut self, pcm: &[f32], out: &mut [u8]) -> Result<usize, CodecError> {
        if pcm.len() % self.channels != 0 {
            return Err(CodecError::BadFrameCount(pcm.len()));
        }
        let frames = pcm.len() / self.channels;
        if !self.accepts_frames(frames) {
            return Err(CodecError::BadFrameCount(frames));
        }
        let bytes = pcm.len() * 2;
        let got = out.len();
        let out = out
            .get_mut(..bytes)
            .ok_or(CodecError::OutputTooSmall { needed: bytes, got })?;
        for (o, &x) in out.chunks_exact_mut(2).zip(pcm) {
            o.copy_from_slice(&f32_to_i16(x).to_be_bytes());
        }
        Ok(bytes)
    }

    fn reset(&mut self) {}
}
