//! Stream mode: a playout queue for servers that send untimestamped audio
//! (voice-AI backends, TTS engines, the wire formats in [`crate::wire`]).
//!
//! Why a separate player rather than the jitter buffer: such servers send
//! audio as fast as they produce it, with no RTP timestamps or sequence
//! numbers, often far ahead of real time, and control playback with
//! commands instead (flush on barge-in, marks to learn what has been
//! heard). So the queue keeps everything in arrival order, decodes at push
//! time, and plays it out at the output rate through the
//! [`crate::dsp::Resampler`]; no reordering, loss concealment or
//! time-stretching.
//!
//! See [`StreamPlayer`] for the behaviour (start threshold, underruns,
//! marks, `clear()`, overflow policy).

use core::fmt;

use crate::codec::CodecError;
use crate::codec::CodecKind;
use crate::dsp::{DspError, Quality};

mod player;

pub use player::StreamPlayer;

/// Frames rendered per internal block (the AudioWorklet quantum); any
/// `render` length works, it is processed in blocks of at most this.
pub const BLOCK_FRAMES: usize = 128;
/// Largest [`StreamConfig::max_queue_ms`]: one hour.
pub const MAX_QUEUE_MS: u32 = 3_600_000;
/// Most output channels [`StreamPlayer::render`] fills.
pub const MAX_OUTPUT_CHANNELS: usize = 8;

/// How a chunk of audio bytes is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AudioFormat {
    /// Signed 16-bit little-endian PCM (what most WebSocket services send).
    L16Le {
        /// Sample rate in Hz (8000..=96000).
        rate: u32,
        /// Interleaved channels (1 or 2).
        channels: u16,
    },
    /// Signed 16-bit big-endian PCM (RTP's L16).
    L16Be {
        /// Sample rate in Hz (8000..=96000).
        rate: u32,
        /// Interleaved channels (1 or 2).
        channels: u16,
    },
    /// G.711 μ-law, 8 kHz mono, one byte per sample.
    Pcmu,
    /// G.711 A-law, 8 kHz mono, one byte per sample.
    Pcma,
    /// G.722 at 64 kbit/s (16 kHz audio), a continuous byte stream.
    G722,
    /// Opus: each chunk is exactly one Opus packet, decoded at 48 kHz.
    Opus {
        /// Decoded channels (1 or 2), whatever the packets carry.
        channels: u16,
    },
}

impl AudioFormat {
    /// Rate of the decoded PCM in Hz (G.722: 16000, Opus: 48000).
    pub fn sample_rate(&self) -> u32 {
        match *self {
            AudioFormat::L16Le { rate, .. } | AudioFormat::L16Be { rate, .. } => rate,
            AudioFormat::Pcmu | AudioFormat::Pcma => 8000,
            AudioFormat::G722 => 16000,
            AudioFormat::Opus { .. } => 48000,
        }
    }

    /// Channels of the decoded PCM.
    pub fn channels(&self) -> usize {
        match *self {
            AudioFormat::L16Le { channels, .. }
            | AudioFormat::L16Be { channels, .. }
            | AudioFormat::Opus { channels } => channels as usize,
            _ => 1,
        }
    }

    /// The smallest unit the byte stream can be cut at (one PCM frame for
    /// L16, one byte for G.711 / G.722); `None` for packetised Opus.
    pub fn byte_unit(&self) -> Option<usize> {
        match *self {
            AudioFormat::L16Le { channels, .. } | AudioFormat::L16Be { channels, .. } => {
                Some(2 * channels.max(1) as usize)
            }
            AudioFormat::Pcmu | AudioFormat::Pcma | AudioFormat::G722 => Some(1),
            AudioFormat::Opus { .. } => None,
        }
    }

    /// Bytes of `ms` milliseconds (`None` for Opus).
    pub fn bytes_for_ms(&self, ms: u32) -> Option<usize> {
        let ms = ms as u64;
        Some(match *self {
            AudioFormat::L16Le { rate, channels } | AudioFormat::L16Be { rate, channels } => {
                (rate as u64 * ms / 1000) as usize * 2 * channels.max(1) as usize
            }
            AudioFormat::Pcmu | AudioFormat::Pcma | AudioFormat::G722 => (8 * ms) as usize,
            AudioFormat::Opus { .. } => return None,
        })
    }

    /// The codec family.
    pub fn codec(&self) -> CodecKind {
        match self {
            AudioFormat::L16Le { .. } | AudioFormat::L16Be { .. } => CodecKind::L16,
            AudioFormat::Pcmu => CodecKind::Pcmu,
            AudioFormat::Pcma => CodecKind::Pcma,
            AudioFormat::G722 => CodecKind::G722,
            AudioFormat::Opus { .. } => CodecKind::Opus,
        }
    }
}

/// What [`StreamPlayer::push`] does when a chunk would take the queue past
/// [`StreamConfig::max_queue_ms`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Refuse the whole chunk with [`StreamError::Overflow`]; nothing of
    /// it is queued (and an Opus decoder is not advanced). The caller
    /// decides: wait, `clear()`, or tell the server to slow down.
    #[default]
    Reject,
    /// Drop the oldest queued (not yet played) audio to make room, counted
    /// in [`StreamStats::dropped_frames`]. The cut is abrupt. Marks whose
    /// audio was dropped fire as if played. A chunk longer than the whole
    /// queue is still refused.
    DropOldest,
}

/// Player settings. [`StreamConfig::new`] gives the defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamConfig {
    /// Output rate in Hz (8000..=96000, e.g. the AudioContext's 44100 or 48000).
    pub output_rate: u32,
    /// Output channels (1..=[`MAX_OUTPUT_CHANNELS`]). Mono input goes to
    /// the first two channels, stereo input to channels 0 and 1 (averaged
    /// for mono output); further channels are silent.
    pub output_channels: u16,
    /// Most audio the queue holds, in ms (default 60 000, at most
    /// [`MAX_QUEUE_MS`]). Memory grows with use, up to this much decoded
    /// `f32` audio at the input rate.
    pub max_queue_ms: u32,
    /// Playback (re)starts once this much is queued, in ms (default 20).
    /// 0 starts on the first chunk.
    pub start_threshold_ms: u32,
    /// …or once audio has waited this long below the threshold, in ms of
    /// rendered time (default 60), so a short last chunk still plays.
    pub start_timeout_ms: u32,
    /// Fade-out applied by [`StreamPlayer::clear`], in ms (default 2.5);
    /// capped to the length of the next `render` call, so the output is
    /// silent from the end of that call on.
    pub clear_fade_ms: f32,
    /// What happens when the queue is full.
    pub overflow: OverflowPolicy,
    /// Most marks pending at once (default 256).
    pub max_marks: usize,
    /// Resampler filter preset.
    pub resampler_quality: Quality,
}

impl StreamConfig {
    /// The defaults for an output of `output_rate` Hz and `output_channels`.
    pub fn new(output_rate: u32, output_channels: u16) -> StreamConfig {
        StreamConfig {
            output_rate,
            output_channels,
            max_queue_ms: 60_000,
            start_threshold_ms: 20,
            start_timeout_ms: 60,
            clear_fade_ms: 2.5,
            overflow: OverflowPolicy::Reject,
            max_marks: 256,
            resampler_quality: Quality::default(),
        }
    }
}

/// Something the player reports; drained with [`StreamPlayer::poll_event`].
///
/// Times (`at_ms`) are on the clock of the `now_ms` given to
/// [`StreamPlayer::render`] (the time at which that call's first frame
/// plays), interpolated to the exact frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StreamEvent {
    /// Playback started (first audio, or again after running dry).
    Started {
        /// When the first frame of this playback plays.
        at_ms: f64,
    },
    /// A mark was reached: all audio pushed before it has been played.
    Mark {
        /// The id given to [`StreamPlayer::mark`].
        id: u32,
        /// When the last frame before the mark played.
        at_ms: f64,
    },
    /// A mark was dropped by [`StreamPlayer::clear`] before being reached.
    MarkCleared {
        /// The id given to [`StreamPlayer::mark`].
        id: u32,
    },
    /// The queue ran empty and all audio before that has been played,
    /// including the resampler's tail (twice its latency after the last
    /// frame's position). Not sent after `clear()`, nor when audio arrives
    /// before the tail has played (playback then just continues). With
    /// equal input and output rates, a queue that empties exactly at the
    /// end of a render call is only noticed, and reported, in the next one
    /// (`at_ms` is exact either way).
    Drained {
        /// When the tail of the last queued frame finished playing.
        at_ms: f64,
    },
}

/// Counters and state; [`StreamPlayer::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StreamStats {
    /// Audio waiting in the queue, ms.
    pub queued_ms: f64,
    /// Audio waiting in the queue, frames at the input rate.
    pub queued_frames: usize,
    /// Audio played (handed to the resampler) since creation, ms.
    pub played_ms: f64,
    /// Times playback ran dry and later resumed without a `clear()` in
    /// between. A pause in the server's stream counts too: the player
    /// cannot tell a pause from lateness.
    pub underruns: u32,
    /// Marks not yet reached.
    pub marks_pending: usize,
    /// Between `Started` and `Drained` (or `clear()`).
    pub playing: bool,
    /// Frames dropped by `clear()` or [`OverflowPolicy::DropOldest`].
    pub dropped_frames: u64,
    /// `clear()` calls.
    pub clears: u32,
    /// Chunks refused by `push` (overflow or undecodable).
    pub push_errors: u32,
    /// Events lost because nobody polled and the ring was full.
    pub events_dropped: u32,
}

/// Why a stream-player call failed.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum StreamError {
    /// The chunk does not fit in the queue ([`OverflowPolicy`]).
    Overflow {
        /// Queued before the chunk, ms.
        queued_ms: f64,
        /// The chunk, ms.
        chunk_ms: f64,
        /// [`StreamConfig::max_queue_ms`].
        max_ms: u32,
    },
    /// [`StreamConfig::max_marks`] marks are already pending.
    TooManyMarks {
        /// The bound.
        max: usize,
    },
    /// The chunk could not be decoded.
    Codec(CodecError),
    /// A rate or channel count the resampler does not take.
    Dsp(DspError),
    /// An invalid setting (which).
    Config(&'static str),
    /// [`StreamPlayer::set_input`] with another rate or channel count while
    /// audio, marks or a fade are pending; `clear()` first.
    Busy,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Whole milliseconds: float formatting would add ~26 KB to the wasm.
            StreamError::Overflow {
                queued_ms,
                chunk_ms,
                max_ms,
            } => write!(
                f,
                "queue overflow: {} ms queued + {} ms > {max_ms} ms",
                queued_ms.round() as u64,
                chunk_ms.round() as u64
            ),
            StreamError::TooManyMarks { max } => write!(f, "more than {max} marks pending"),
            StreamError::Codec(_) => f.write_str("the chunk could not be decoded"),
            StreamError::Dsp(_) => f.write_str("the format is not one the resampler takes"),
            StreamError::Config(what) => write!(f, "invalid stream setting: {what}"),
            StreamError::Busy => {
                f.write_str("cannot change the input format while audio is pending")
            }
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Codec(e) => Some(e),
            StreamError::Dsp(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CodecError> for StreamError {
    fn from(e: CodecError) -> Self {
        StreamError::Codec(e)
    }
}

impl From<DspError> for StreamError {
    fn from(e: DspError) -> Self {
        StreamError::Dsp(e)
    }
}
