//! `StreamPlayer` for JavaScript: untimestamped audio (voice-AI servers,
//! TTS) played out through [`crate::stream::StreamPlayer`]'s queue, with
//! marks, `clear()` for barge-in and drain events.
//!
//! Same conventions as the receiver binding: chunks are copied into an
//! owned staging buffer (`inputPtr`), audio is rendered planar into an
//! owned buffer whose address `render` returns, statistics and events go
//! through owned `Float64` buffers.

use wasm_bindgen::prelude::*;

use super::{addr, js_err, PlanarOut, Staging};
use crate::stream::{
    AudioFormat, OverflowPolicy, StreamConfig, StreamEvent, StreamPlayer as CorePlayer,
};

/// Names of the values [`StreamPlayer::write_stats`] writes, in order.
pub const STATS: &[&str] = &[
    "queuedMs",
    "playedMs",
    "underruns",
    "marksPending",
    "playing",
    "droppedFrames",
    "clears",
    "pushErrors",
    "eventsDropped",
    "chunksReceived",
    "bytesReceived",
];

/// Event kinds `pollEvent` returns (shared with the receiver's numbering).
pub const EV_MARK: u32 = 2;
/// The queue ran empty and everything before has played.
pub const EV_DRAINED: u32 = 3;
/// Playback resumed after running dry (an underrun).
pub const EV_UNDERRUN: u32 = 4;
/// A mark dropped by `clear()`.
pub const EV_MARK_CLEARED: u32 = 5;
/// Playback started.
pub const EV_STARTED: u32 = 6;

/// Parses a stream audio format name.
///
/// `pcmu`/`ulaw`/`PCMU/8000`, `pcma`/`alaw`, `g722`, `opus[/48000[/CH]]`,
/// `l16/RATE[/CH]` or `slinRATE` (little-endian, what WebSocket services
/// send), `l16be/RATE[/CH]` (network order, RTP's L16). Case-insensitive.
pub fn parse_format(s: &str) -> Option<AudioFormat> {
    let s = s.trim().to_ascii_lowercase();
    let mut parts = s.split('/');
    let name = parts.next()?;
    let nums: Vec<u32> = parts
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    let ch = |i: usize| nums.get(i).copied().unwrap_or(1) as u16;
    Some(match name {
        "pcmu" | "ulaw" | "mulaw" | "mu-law" | "audio/x-mulaw" => AudioFormat::Pcmu,
        "pcma" | "alaw" | "a-law" => AudioFormat::Pcma,
        "g722" => AudioFormat::G722,
        "opus" => AudioFormat::Opus { channels: ch(1) },
        "l16" | "l16le" | "s16le" | "pcm16" => AudioFormat::L16Le {
            rate: *nums.first()?,
            channels: ch(1),
        },
        "l16be" | "s16be" => AudioFormat::L16Be {
            rate: *nums.first()?,
            channels: ch(1),
        },
        "slin" => AudioFormat::L16Le {
            rate: 8000,
            channels: 1,
        },
        n if n.starts_with("slin") => AudioFormat::L16Le {
            rate: n[4..].parse::<u32>().ok()? * 1000,
            channels: 1,
        },
        _ => return None,
    })
}

/// Stream-mode player for an AudioWorklet.
#[wasm_bindgen]
pub struct StreamPlayer {
    core: CorePlayer,
    input: Staging,
    out: PlanarOut,
    stats: Vec<f64>,
    event: [f64; 8],
    underruns_seen: u32,
    chunks: u64,
    bytes: u64,
}

#[wasm_bindgen]
impl StreamPlayer {
    /// A player of chunks in `format` (see [`parse_format`]) rendering
    /// `channels` channels at `outRate`. `maxQueueMs` and
    /// `startThresholdMs` 0 keep the defaults (60 s, 20 ms);
    /// `dropOldest` makes a full queue drop its oldest audio instead of
    /// refusing the chunk.
    #[wasm_bindgen(constructor)]
    pub fn new(
        out_rate: u32,
        channels: u32,
        format: &str,
        max_queue_ms: u32,
        start_threshold_ms: u32,
        drop_oldest: bool,
    ) -> Result<StreamPlayer, JsError> {
        let input = parse_format(format)
            .ok_or_else(|| JsError::new(&format!("unknown stream format {format:?}")))?;
        let channels = channels.clamp(1, 2) as u16;
        let mut cfg = StreamConfig::new(out_rate, channels);
        if max_queue_ms > 0 {
            cfg.max_queue_ms = max_queue_ms;
        }
        if start_threshold_ms > 0 {
            cfg.start_threshold_ms = start_threshold_ms;
        }
        if drop_oldest {
            cfg.overflow = OverflowPolicy::DropOldest;
        }
        let core = CorePlayer::new(input, cfg).map_err(js_err)?;
        Ok(StreamPlayer {
            core,
            input: Staging::new(4096),
            out: PlanarOut::new(usize::from(channels), false),
            stats: vec![0.0; STATS.len()],
            event: [0.0; 8],
            underruns_seen: 0,
            chunks: 0,
            bytes: 0,
        })
    }

    /// The names of the statistics, in the order `writeStats` writes them.
    #[wasm_bindgen(js_name = statsNames)]
    pub fn stats_names() -> Vec<String> {
        STATS.iter().map(|s| s.to_string()).collect()
    }

    /// Address of a staging buffer for one chunk of `len` bytes.
    #[wasm_bindgen(js_name = inputPtr)]
    pub fn input_ptr(&mut self, len: usize) -> usize {
        self.input.ptr(len)
    }

    /// Queues the staged chunk (`len` bytes). Returns the frames queued, or
    /// −1 when the chunk was refused (overflow, undecodable; counted).
    pub fn push(&mut self, len: usize, arrival_ms: f64) -> i32 {
        let _ = arrival_ms;
        let chunk = self.input.bytes(len);
        self.chunks += 1;
        self.bytes += chunk.len() as u64;
        match self.core.push(chunk) {
            Ok(n) => n.min(i32::MAX as usize) as i32,
            Err(_) => -1,
        }
    }

    /// Changes the input format (e.g. after a metadata message); fails
    /// while audio is pending with another rate or channel count.
    #[wasm_bindgen(js_name = setFormat)]
    pub fn set_format(&mut self, format: &str) -> Result<(), JsError> {
        let f = parse_format(format)
            .ok_or_else(|| JsError::new(&format!("unknown stream format {format:?}")))?;
        self.core.set_input(f).map_err(js_err)
    }

    /// Places mark `id` after the audio queued so far.
    pub fn mark(&mut self, id: u32) -> Result<(), JsError> {
        self.core.mark(id).map_err(js_err)
    }

    /// Barge-in: drops the queue (fading out what plays) and pending marks.
    pub fn clear(&mut self) {
        self.core.clear();
    }

    /// Renders `frames` frames (planar, `channels` runs) at `nowMs` into the
    /// output buffer and returns its address.
    pub fn render(&mut self, frames: usize, now_ms: f64) -> usize {
        let core = &mut self.core;
        self.out
            .render_planar(frames, |out| core.render_planar(out, now_ms))
    }

    /// Address of the event buffer `pollEvent` fills.
    #[wasm_bindgen(js_name = eventPtr)]
    pub fn event_ptr(&self) -> usize {
        addr(&self.event)
    }

    /// Takes the next event: 0 none, 2 mark (id, time ms), 3 drained (−,
    /// time), 4 underrun (count, −), 5 mark cleared (id), 6 started (−, time).
    #[wasm_bindgen(js_name = pollEvent)]
    pub fn poll_event(&mut self) -> u32 {
        let u = self.core.stats().underruns;
        if u != self.underruns_seen {
            self.underruns_seen = u;
            self.event = [u as f64, f64::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
            return EV_UNDERRUN;
        }
        let (kind, a, b) = match self.core.poll_event() {
            None => return 0,
            Some(StreamEvent::Mark { id, at_ms }) => (EV_MARK, id as f64, at_ms),
            Some(StreamEvent::MarkCleared { id }) => (EV_MARK_CLEARED, id as f64, f64::NAN),
            Some(StreamEvent::Drained { at_ms }) => (EV_DRAINED, 0.0, at_ms),
            Some(StreamEvent::Started { at_ms }) => (EV_STARTED, 0.0, at_ms),
        };
        self.event = [a, b, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        kind
    }

    /// Address of the statistics buffer.
    #[wasm_bindgen(js_name = statsPtr)]
    pub fn stats_ptr(&self) -> usize {
        addr(&self.stats)
    }

    /// Refreshes the statistics buffer.
    #[wasm_bindgen(js_name = writeStats)]
    pub fn write_stats(&mut self) {
        let s = self.core.stats();
        let v = [
            s.queued_ms,
            s.played_ms,
            s.underruns as f64,
            s.marks_pending as f64,
            s.playing as u8 as f64,
            s.dropped_frames as f64,
            s.clears as f64,
            s.push_errors as f64,
            s.events_dropped as f64,
            self.chunks as f64,
            self.bytes as f64,
        ];
        self.stats.copy_from_slice(&v);
    }

    /// Audio waiting in the queue, ms.
    #[wasm_bindgen(getter, js_name = queuedMs)]
    pub fn queued_ms(&self) -> f64 {
        self.core.queued_ms()
    }
}
