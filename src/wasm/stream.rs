//! `StreamPlayer` for JavaScript: untimestamped audio (voice-AI servers,
//! TTS) played out through [`crate::stream::StreamPlayer`]'s queue, with
//! marks, `clear()` for barge-in and drain events.
//!
//! Same conventions as the receiver binding: chunks are copied into an
//! owned staging buffer (`inputPtr`), audio is rendered planar into an
//! owned buffer whose address `render` returns, statistics and events go
//! through owned `Float64` buffers.

use wasm_bindgen::prelude::*;

use super::{
    addr, fill_stats, js_err, set_event, EventKind, EventSlot, Options, PlanarOut, Staging,
    StatsTable, EVENT_SLOTS,
};
use crate::stream::{
    AudioFormat, OverflowPolicy, StreamConfig, StreamEvent, StreamPlayer as CorePlayer, StreamStats,
};

/// What the statistics are read from: the core's and the binding's counters.
pub struct StreamStatsView {
    core: StreamStats,
    chunks_received: u64,
    bytes_received: u64,
}

/// The statistics `writeStats` writes, in order, with their names.
pub const STATS: &StatsTable<StreamStatsView> = &[
    ("queuedMs", |s| s.core.queued_ms),
    ("playedMs", |s| s.core.played_ms),
    ("underruns", |s| s.core.underruns as f64),
    ("marksPending", |s| s.core.marks_pending as f64),
    ("playing", |s| s.core.playing as u8 as f64),
    ("droppedFrames", |s| s.core.dropped_frames as f64),
    ("clears", |s| s.core.clears as f64),
    ("pushErrors", |s| s.core.push_errors as f64),
    ("eventsDropped", |s| s.core.events_dropped as f64),
    ("chunksReceived", |s| s.chunks_received as f64),
    ("bytesReceived", |s| s.bytes_received as f64),
];

#[wasm_bindgen(typescript_custom_section)]
const STREAM_OPTIONS_TS: &str = r#"
/** `new StreamPlayer(options)`: the core's StreamConfig, camelCased; a field left out keeps StreamConfig::new's default. */
export interface StreamPlayerOptions {
  /** Output rate, Hz (required: the AudioContext's). */
  outputRate: number;
  /** Output channels, 1 (default) or 2. */
  outputChannels?: number;
  /** Chunk format: 'pcmu' (default), 'pcma', 'g722', 'opus/48000/1', 'l16/16000/1' (little-endian), 'l16be/8000/1'. */
  format?: string;
  /** Most audio queued, ms (default 60000). */
  maxQueueMs?: number;
  /** Playback (re)starts once this much is queued, ms (default 20; 0: on the first chunk). */
  startThresholdMs?: number;
  /** …or once audio has waited this long below the threshold, ms (default 60). */
  startTimeoutMs?: number;
  /** A full queue drops its oldest audio instead of refusing the chunk (default false). */
  dropOldest?: boolean;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// The options object of [`StreamPlayer::new`].
    #[wasm_bindgen(typescript_type = "StreamPlayerOptions")]
    pub type StreamPlayerOptions;
}

/// The chunk format when `format` is left out.
pub const DEFAULT_FORMAT: &str = "pcmu";

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
    event: [f64; EVENT_SLOTS],
    underruns_seen: u32,
    chunks: u64,
    bytes: u64,
}

#[wasm_bindgen]
impl StreamPlayer {
    /// A player configured by `options` ([`StreamPlayerOptions`]): the
    /// core's [`StreamConfig`] fields, camelCased; a field left out keeps
    /// `StreamConfig::new`'s value.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &StreamPlayerOptions) -> Result<StreamPlayer, JsError> {
        let o = Options::new(options.as_ref(), "StreamPlayer options")?;
        let format = o.string("format")?;
        let format = format.as_deref().unwrap_or(DEFAULT_FORMAT);
        let input = parse_format(format)
            .ok_or_else(|| JsError::new(&format!("unknown stream format {format:?}")))?;
        let out_rate = o
            .int("outputRate")?
            .ok_or_else(|| JsError::new("StreamPlayer options: outputRate is required"))?;
        let channels = o.int::<u16>("outputChannels")?.unwrap_or(1).clamp(1, 2);
        let mut cfg = StreamConfig::new(out_rate, channels);
        cfg.max_queue_ms = o.int("maxQueueMs")?.unwrap_or(cfg.max_queue_ms);
        cfg.start_threshold_ms = o.int("startThresholdMs")?.unwrap_or(cfg.start_threshold_ms);
        cfg.start_timeout_ms = o.int("startTimeoutMs")?.unwrap_or(cfg.start_timeout_ms);
        if let Some(drop_oldest) = o.bool("dropOldest")? {
            cfg.overflow = if drop_oldest {
                OverflowPolicy::DropOldest
            } else {
                OverflowPolicy::Reject
            };
        }
        let core = CorePlayer::new(input, cfg).map_err(js_err)?;
        Ok(StreamPlayer {
            core,
            input: Staging::new(4096),
            out: PlanarOut::new(usize::from(channels), false),
            stats: vec![0.0; STATS.len()],
            event: [f64::NAN; EVENT_SLOTS],
            underruns_seen: 0,
            chunks: 0,
            bytes: 0,
        })
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

    /// Takes the next event ([`EventKind`], `None` when there is none)
    /// and fills the event buffer ([`EventSlot`]): mark (value = id,
    /// time), mark cleared (value = id), drained (time), underrun (value =
    /// count so far), started (time).
    #[wasm_bindgen(js_name = pollEvent)]
    pub fn poll_event(&mut self) -> EventKind {
        use EventSlot::*;
        let u = self.core.stats().underruns;
        if u != self.underruns_seen {
            self.underruns_seen = u;
            set_event(&mut self.event, &[(Value, u as f64)]);
            return EventKind::Underrun;
        }
        let (kind, id, at) = match self.core.poll_event() {
            None => return EventKind::None,
            Some(StreamEvent::Mark { id, at_ms }) => (EventKind::Mark, id as f64, at_ms),
            Some(StreamEvent::MarkCleared { id }) => (EventKind::MarkCleared, id as f64, f64::NAN),
            Some(StreamEvent::Drained { at_ms }) => (EventKind::Drained, f64::NAN, at_ms),
            Some(StreamEvent::Started { at_ms }) => (EventKind::Started, f64::NAN, at_ms),
        };
        set_event(&mut self.event, &[(Time, at), (Value, id)]);
        kind
    }

    /// Refreshes the statistics buffer.
    #[wasm_bindgen(js_name = writeStats)]
    pub fn write_stats(&mut self) {
        let view = StreamStatsView {
            core: self.core.stats(),
            chunks_received: self.chunks,
            bytes_received: self.bytes,
        };
        fill_stats(STATS, &view, &mut self.stats);
    }

    /// Audio waiting in the queue, ms.
    #[wasm_bindgen(getter, js_name = queuedMs)]
    pub fn queued_ms(&self) -> f64 {
        self.core.queued_ms()
    }
}

stats_methods!(StreamPlayer, STATS);
