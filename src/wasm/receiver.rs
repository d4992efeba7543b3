//! `Receiver` for JavaScript: RTP packets in, planar audio at the
//! AudioContext's rate out, over [`crate::receiver::Receiver`] (jitter
//! buffer, decoders, concealment, time-stretch, resampling).
//!
//! Packets are copied into an owned staging buffer (`inputPtr`) and handed
//! over with `push(len, arrivalMs)`; `render(frames, nowMs)` writes planar
//! audio into an owned buffer and returns its address; statistics and
//! events go through owned `Float64` buffers. Nothing allocates per call.

use wasm_bindgen::prelude::*;

use super::{addr, js_err, PlanarOut, Staging};
use crate::codec::{CodecKind, Registry};
use crate::receiver::{Receiver as CoreReceiver, ReceiverConfig, ReceiverEvent};

/// Names of the values [`Receiver::write_stats`] writes, in order: WebRTC
/// `inbound-rtp` names where one exists (delays in seconds, as there).
pub const STATS: &[&str] = &[
    "packetsReceived",
    "packetsLost",
    "packetsDiscarded",
    "packetsDuplicated",
    "packetsLate",
    "bytesReceived",
    "headerBytesReceived",
    "jitter",
    "jitterBufferDelay",
    "jitterBufferTargetDelay",
    "jitterBufferMinimumDelay",
    "jitterBufferEmittedCount",
    "totalSamplesReceived",
    "totalSamplesDuration",
    "concealedSamples",
    "silentConcealedSamples",
    "concealmentEvents",
    "insertedSamplesForDeceleration",
    "removedSamplesForAcceleration",
    "fecPacketsReceived",
    "fecPacketsDiscarded",
    "fecPacketsRecovered",
    "audioLevel",
    "totalAudioEnergy",
    "comfortSamples",
    "bufferLevelMs",
    "targetDelayMs",
    "ssrcChanges",
    "eventsDropped",
    "errors",
    "malformedRtp",
    "unknownPayloadType",
    "tooLarge",
    "emptyPayload",
    "invalidPayload",
    "malformedRtcp",
    "foreignSsrc",
    "decodeFailed",
    "ssrc",
    "lastPacketReceivedTimestamp",
];

/// `pollEvent` kinds.
pub const EV_DTMF_BEGIN: u32 = 1;
/// A DTMF key was released.
pub const EV_DTMF_END: u32 = 7;
/// The played SSRC changed.
pub const EV_SSRC: u32 = 8;
/// The played payload type changed.
pub const EV_PT: u32 = 9;

/// Receiving side of one RTP stream for an AudioWorklet.
#[wasm_bindgen]
pub struct Receiver {
    core: CoreReceiver,
    dtmf_clock: f64,
    input: Staging,
    out: PlanarOut,
    stats: Vec<f64>,
    event: [f64; 8],
}

fn opt(v: u32, default: u32) -> u32 {
    if v == 0 {
        default
    } else {
        v
    }
}

#[wasm_bindgen]
impl Receiver {
    /// `outRate`: the AudioContext's rate; `channels`: 1 or 2;
    /// `payloadTypes`: dynamic mappings added to the static ones, e.g.
    /// `"111=opus/48000/2;101=telephone-event/8000"`. Delays in ms, 0 for
    /// the defaults (min 20, max 500, initial 60); `maxConcealMs` 0: 100.
    #[wasm_bindgen(constructor)]
    pub fn new(
        out_rate: u32,
        channels: u16,
        payload_types: &str,
        min_delay_ms: u32,
        max_delay_ms: u32,
        initial_delay_ms: u32,
        max_conceal_ms: u32,
    ) -> Result<Receiver, JsError> {
        let mut registry = Registry::with_static();
        for m in payload_types
            .split([';', ','])
            .filter(|s| !s.trim().is_empty())
        {
            let (pt, map) = m
                .split_once('=')
                .ok_or_else(|| JsError::new("payload types look like 111=opus/48000/2"))?;
            let pt: u8 = pt.trim().parse().map_err(js_err)?;
            registry.insert_rtpmap(pt, map.trim()).map_err(js_err)?;
        }
        let dtmf_clock = registry
            .payload_type_of(CodecKind::TelephoneEvent)
            .and_then(|pt| registry.get(pt))
            .map_or(8000.0, |i| i.clock_rate as f64);
        let d = ReceiverConfig::default();
        let cfg = ReceiverConfig {
            registry,
            output_rate: out_rate,
            output_channels: channels,
            min_delay_ms: opt(min_delay_ms, d.min_delay_ms),
            max_delay_ms: opt(max_delay_ms, d.max_delay_ms),
            initial_delay_ms: opt(initial_delay_ms, d.initial_delay_ms),
            max_conceal_ms: opt(max_conceal_ms, d.max_conceal_ms),
            ..d
        };
        let core = CoreReceiver::new(cfg).map_err(js_err)?;
        let channels = channels.clamp(1, 2) as usize;
        Ok(Receiver {
            core,
            dtmf_clock,
            input: Staging::new(2048),
            out: PlanarOut::new(channels, true),
            stats: vec![0.0; STATS.len()],
            event: [0.0; 8],
        })
    }

    /// The names of the statistics, in the order `writeStats` writes them.
    #[wasm_bindgen(js_name = statsNames)]
    pub fn stats_names() -> Vec<String> {
        STATS.iter().map(|s| s.to_string()).collect()
    }

    /// Address of a staging buffer for one packet of `len` bytes: copy the
    /// packet there, then call `push(len, arrivalMs)`.
    #[wasm_bindgen(js_name = inputPtr)]
    pub fn input_ptr(&mut self, len: usize) -> usize {
        self.input.ptr(len)
    }

    /// Hands the staged packet (`len` bytes, RTP or muxed RTCP) to the
    /// jitter buffer. False when it was rejected (counted by kind).
    pub fn push(&mut self, len: usize, arrival_ms: f64) -> bool {
        self.core.push(self.input.bytes(len), arrival_ms).is_ok()
    }

    /// Renders `frames` frames, the first playing at `nowMs`, into the
    /// output buffer and returns its address: `channels` planar runs of
    /// `frames` Float32 samples.
    pub fn render(&mut self, frames: usize, now_ms: f64) -> usize {
        let core = &mut self.core;
        self.out.render_interleaved(frames, |out| {
            core.render(out, now_ms);
        })
    }

    /// Drops everything buffered and not yet played.
    pub fn flush(&mut self) {
        self.core.clear();
    }

    /// Address of the event buffer `pollEvent` fills.
    #[wasm_bindgen(js_name = eventPtr)]
    pub fn event_ptr(&self) -> usize {
        addr(&self.event)
    }

    /// Takes the next event: 0 none; 1 DTMF begin (code, 0, 0, volume, ms);
    /// 7 DTMF end (code, duration ms, 1, timed out, ms); 8 SSRC changed
    /// (old, new); 9 payload type changed (old, new).
    #[wasm_bindgen(js_name = pollEvent)]
    pub fn poll_event(&mut self) -> u32 {
        let (kind, v) = match self.core.poll_event() {
            None => return 0,
            Some(ReceiverEvent::DtmfBegin {
                event,
                volume,
                at_ms,
                ..
            }) => (
                EV_DTMF_BEGIN,
                [event as f64, 0.0, 0.0, volume as f64, at_ms],
            ),
            Some(ReceiverEvent::DtmfEnd {
                event,
                duration,
                timed_out,
                at_ms,
                ..
            }) => (
                EV_DTMF_END,
                [
                    event as f64,
                    duration as f64 * 1000.0 / self.dtmf_clock,
                    1.0,
                    timed_out as u8 as f64,
                    at_ms,
                ],
            ),
            Some(ReceiverEvent::SsrcChanged { old, new }) => {
                (EV_SSRC, [old as f64, new as f64, 0.0, 0.0, 0.0])
            }
            Some(ReceiverEvent::PayloadTypeChanged { old, new }) => {
                (EV_PT, [old as f64, new as f64, 0.0, 0.0, 0.0])
            }
        };
        self.event[..5].copy_from_slice(&v);
        kind
    }

    /// Address of the statistics buffer (`statsNames().length` Float64s).
    #[wasm_bindgen(js_name = statsPtr)]
    pub fn stats_ptr(&self) -> usize {
        addr(&self.stats)
    }

    /// Refreshes the statistics buffer.
    #[wasm_bindgen(js_name = writeStats)]
    pub fn write_stats(&mut self) {
        let s = self.core.stats();
        let e = &s.errors;
        let v = [
            s.packets_received as f64,
            s.packets_lost as f64,
            s.packets_discarded as f64,
            s.packets_duplicated as f64,
            s.packets_late as f64,
            s.bytes_received as f64,
            s.header_bytes_received as f64,
            s.jitter,
            s.jitter_buffer_delay,
            s.jitter_buffer_target_delay,
            s.jitter_buffer_minimum_delay,
            s.jitter_buffer_emitted_count as f64,
            s.total_samples_received as f64,
            s.total_samples_duration,
            s.concealed_samples as f64,
            s.silent_concealed_samples as f64,
            s.concealment_events as f64,
            s.inserted_samples_for_deceleration as f64,
            s.removed_samples_for_acceleration as f64,
            s.fec_packets_received as f64,
            s.fec_packets_discarded as f64,
            s.fec_packets_recovered as f64,
            s.audio_level,
            s.total_audio_energy,
            s.comfort_samples as f64,
            s.buffer_level_ms,
            s.target_delay_ms,
            s.ssrc_changes as f64,
            s.events_dropped as f64,
            e.total() as f64,
            e.malformed_rtp as f64,
            e.unknown_payload_type as f64,
            e.too_large as f64,
            e.empty_payload as f64,
            e.invalid_payload as f64,
            e.malformed_rtcp as f64,
            e.foreign_ssrc as f64,
            e.decode_failed as f64,
            s.ssrc.map_or(f64::NAN, |v| v as f64),
            s.last_packet_received_timestamp.unwrap_or(f64::NAN),
        ];
        self.stats.copy_from_slice(&v);
    }
}
