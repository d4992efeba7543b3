//! `Receiver` for JavaScript: RTP packets in, planar audio at the
//! AudioContext's rate out, over [`crate::receiver::Receiver`] (jitter
//! buffer, decoders, concealment, time-stretch, resampling).
//!
//! Packets are copied into an owned staging buffer (`inputPtr`) and handed
//! over with `push(len, arrivalMs)`; `render(frames, nowMs)` writes planar
//! audio into an owned buffer and returns its address; statistics and
//! events go through owned `Float64` buffers. Nothing allocates per call.

use wasm_bindgen::prelude::*;

use super::{
    addr, fill_stats, js_err, set_event, EventKind, EventSlot, Options, PlanarOut, Staging,
    StatsTable, DEFAULT_DTMF_PAYLOAD_TYPE, EVENT_SLOTS,
};
use crate::codec::{CodecKind, NeuralOpus, Osce};
use crate::receiver::{Receiver as CoreReceiver, ReceiverConfig, ReceiverEvent, ReceiverStats};

/// The statistics `writeStats` writes, in order, with their names: WebRTC
/// `inbound-rtp` names where one exists (delays in seconds, as there).
pub const STATS: &StatsTable<ReceiverStats> = &[
    ("packetsReceived", |s| s.packets_received as f64),
    ("packetsLost", |s| s.packets_lost as f64),
    ("packetsDiscarded", |s| s.packets_discarded as f64),
    ("packetsDuplicated", |s| s.packets_duplicated as f64),
    ("packetsLate", |s| s.packets_late as f64),
    ("bytesReceived", |s| s.bytes_received as f64),
    ("headerBytesReceived", |s| s.header_bytes_received as f64),
    ("jitter", |s| s.jitter),
    ("jitterBufferDelay", |s| s.jitter_buffer_delay),
    ("jitterBufferTargetDelay", |s| s.jitter_buffer_target_delay),
    ("jitterBufferMinimumDelay", |s| {
        s.jitter_buffer_minimum_delay
    }),
    ("jitterBufferEmittedCount", |s| {
        s.jitter_buffer_emitted_count as f64
    }),
    ("totalSamplesReceived", |s| s.total_samples_received as f64),
    ("totalSamplesDuration", |s| s.total_samples_duration),
    ("concealedSamples", |s| s.concealed_samples as f64),
    ("silentConcealedSamples", |s| {
        s.silent_concealed_samples as f64
    }),
    ("concealmentEvents", |s| s.concealment_events as f64),
    ("insertedSamplesForDeceleration", |s| {
        s.inserted_samples_for_deceleration as f64
    }),
    ("removedSamplesForAcceleration", |s| {
        s.removed_samples_for_acceleration as f64
    }),
    ("fecPacketsReceived", |s| s.fec_packets_received as f64),
    ("fecPacketsDiscarded", |s| s.fec_packets_discarded as f64),
    ("fecPacketsRecovered", |s| s.fec_packets_recovered as f64),
    ("fecSamples", |s| s.fec_samples as f64),
    ("dredSamples", |s| s.dred_samples as f64),
    ("deepPlcSamples", |s| s.deep_plc_samples as f64),
    ("audioLevel", |s| s.audio_level),
    ("totalAudioEnergy", |s| s.total_audio_energy),
    ("comfortSamples", |s| s.comfort_samples as f64),
    ("bufferLevelMs", |s| s.buffer_level_ms),
    ("targetDelayMs", |s| s.target_delay_ms),
    ("ssrcChanges", |s| s.ssrc_changes as f64),
    ("eventsDropped", |s| s.events_dropped as f64),
    ("errors", |s| s.errors.total() as f64),
    ("malformedRtp", |s| s.errors.malformed_rtp as f64),
    ("unknownPayloadType", |s| {
        s.errors.unknown_payload_type as f64
    }),
    ("tooLarge", |s| s.errors.too_large as f64),
    ("emptyPayload", |s| s.errors.empty_payload as f64),
    ("invalidPayload", |s| s.errors.invalid_payload as f64),
    ("malformedRtcp", |s| s.errors.malformed_rtcp as f64),
    ("foreignSsrc", |s| s.errors.foreign_ssrc as f64),
    ("decodeFailed", |s| s.errors.decode_failed as f64),
    ("ssrc", |s| s.ssrc.map_or(f64::NAN, f64::from)),
    ("lastPacketReceivedTimestamp", |s| {
        s.last_packet_received_timestamp.unwrap_or(f64::NAN)
    }),
];

#[wasm_bindgen(typescript_custom_section)]
const RECEIVER_OPTIONS_TS: &str = r#"
/** `new Receiver(options)`: the core's ReceiverConfig, camelCased; a field left out keeps the core's default. */
export interface ReceiverOptions {
  /** Output rate, Hz (default 48000): the AudioContext's. */
  outputRate?: number;
  /** Output channels, 1 (default) or 2. */
  outputChannels?: number;
  /** Dynamic payload types added to the static ones, e.g. { 111: 'opus/48000/2', 101: 'telephone-event/8000' } (default { 101: 'telephone-event/8000' }). */
  payloadTypes?: Record<number, string>;
  /** Lowest target delay, ms (default 20). */
  minDelayMs?: number;
  /** Highest target delay, ms (default 500). */
  maxDelayMs?: number;
  /** Target delay before jitter is measured, and its floor, ms (default 50). */
  initialDelayMs?: number;
  /** Concealment before going silent and re-buffering, ms (default 100, at least 20). */
  maxConcealMs?: number;
  /**
   * Machine-learned Opus decoding (the neural build only): true = deep PLC,
   * DRED and OSCE LACE; or each tool by name. Default false: classic PLC.
   */
  neural?: boolean | NeuralOptions;
}

/** The tools of neural Opus decoding, each off unless given. */
export interface NeuralOptions {
  /** Deep packet-loss concealment instead of the classic PLC. */
  deepPlc?: boolean;
  /** Recover lost audio from Deep REDundancy sent in later packets. */
  dred?: boolean;
  /** Speech enhancement: 'lace' (lighter), 'nolace' (stronger), 'off'. */
  osce?: 'off' | 'lace' | 'nolace';
  /** After an outage that stopped playout, replay what DRED holds of it (adds that much delay for a while). */
  dredRewind?: boolean;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// The options object of [`Receiver::new`].
    #[wasm_bindgen(typescript_type = "ReceiverOptions")]
    pub type ReceiverOptions;
}

/// The `neural` option: a boolean (all on / off) or `{ deepPlc, dred, osce }`.
fn neural_option(o: &Options) -> Result<NeuralOpus, JsError> {
    if let Ok(Some(on)) = o.bool("neural") {
        return Ok(if on {
            NeuralOpus::ON
        } else {
            NeuralOpus::default()
        });
    }
    let n = o.object("neural", "Receiver options.neural")?;
    if n.is_absent() {
        return Ok(NeuralOpus::default());
    }
    let n = n.get();
    let osce = match n.string("osce")?.as_deref() {
        None => Osce::Off,
        Some(name) => Osce::from_name(name).ok_or_else(|| {
            JsError::new(&format!(
                "Receiver options.neural.osce is 'off', 'lace' or 'nolace', not '{name}'"
            ))
        })?,
    };
    Ok(NeuralOpus {
        deep_plc: n.bool("deepPlc")?.unwrap_or(false),
        dred: n.bool("dred")?.unwrap_or(false),
        osce,
        dred_rewind: n.bool("dredRewind")?.unwrap_or(false),
    })
}

/// Receiving side of one RTP stream for an AudioWorklet.
#[wasm_bindgen]
pub struct Receiver {
    core: CoreReceiver,
    dtmf_clock: f64,
    input: Staging,
    out: PlanarOut,
    stats: Vec<f64>,
    event: [f64; EVENT_SLOTS],
}

#[wasm_bindgen]
impl Receiver {
    /// A receiver configured by `options` ([`ReceiverOptions`]): the
    /// core's [`ReceiverConfig`] fields, camelCased; a field left out keeps
    /// `ReceiverConfig::default()`'s value.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &ReceiverOptions) -> Result<Receiver, JsError> {
        let o = Options::new(options.as_ref(), "Receiver options")?;
        let d = ReceiverConfig::default();
        let mut registry = d.registry.clone();
        let pts = o.object("payloadTypes", "Receiver options.payloadTypes")?;
        if pts.is_absent() {
            registry
                .insert_rtpmap(DEFAULT_DTMF_PAYLOAD_TYPE, "telephone-event/8000")
                .map_err(js_err)?;
        }
        for (pt, map) in pts.string_entries()? {
            let pt: u8 = pt.trim().parse().map_err(js_err)?;
            registry.insert_rtpmap(pt, map.trim()).map_err(js_err)?;
        }
        let dtmf_clock = registry
            .payload_type_of(CodecKind::TelephoneEvent)
            .and_then(|pt| registry.get(pt))
            .map_or(8000.0, |i| i.clock_rate as f64);
        let cfg = ReceiverConfig {
            registry,
            output_rate: o.int("outputRate")?.unwrap_or(d.output_rate),
            output_channels: o.int("outputChannels")?.unwrap_or(d.output_channels),
            min_delay_ms: o.int("minDelayMs")?.unwrap_or(d.min_delay_ms),
            max_delay_ms: o.int("maxDelayMs")?.unwrap_or(d.max_delay_ms),
            initial_delay_ms: o.int("initialDelayMs")?.unwrap_or(d.initial_delay_ms),
            max_conceal_ms: o.int("maxConcealMs")?.unwrap_or(d.max_conceal_ms),
            neural: neural_option(&o)?,
            ..d
        };
        let channels = cfg.output_channels.clamp(1, 2) as usize;
        let core = CoreReceiver::new(cfg).map_err(js_err)?;
        Ok(Receiver {
            core,
            dtmf_clock,
            input: Staging::new(2048),
            out: PlanarOut::new(channels, true),
            stats: vec![0.0; STATS.len()],
            event: [f64::NAN; EVENT_SLOTS],
        })
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

    /// Drops everything buffered and not yet played (barge-in), as `StreamPlayer.clear`.
    pub fn clear(&mut self) {
        self.core.clear();
    }

    /// Address of the event buffer `pollEvent` fills.
    #[wasm_bindgen(js_name = eventPtr)]
    pub fn event_ptr(&self) -> usize {
        addr(&self.event)
    }

    /// Takes the next event ([`EventKind`], `None` when there is none)
    /// and fills the event buffer ([`EventSlot`]): DTMF begin (value =
    /// code, digit, volume, time), DTMF end (value, digit, duration ms,
    /// timed out, time), SSRC and payload type changes (value = new, old).
    #[wasm_bindgen(js_name = pollEvent)]
    pub fn poll_event(&mut self) -> EventKind {
        use EventSlot::*;
        let digit = |d: Option<char>| d.map_or(0.0, |c| c as u32 as f64);
        let ev = &mut self.event;
        match self.core.poll_event() {
            None => EventKind::None,
            Some(ReceiverEvent::DtmfBegin {
                event,
                digit: d,
                volume,
                at_ms,
                ..
            }) => {
                let f = [
                    (Time, at_ms),
                    (Value, event as f64),
                    (Digit, digit(d)),
                    (Volume, volume as f64),
                ];
                set_event(ev, &f);
                EventKind::DtmfBegin
            }
            Some(ReceiverEvent::DtmfEnd {
                event,
                digit: d,
                duration,
                timed_out,
                at_ms,
                ..
            }) => {
                let f = [
                    (Time, at_ms),
                    (Value, event as f64),
                    (Digit, digit(d)),
                    (DurationMs, duration as f64 * 1000.0 / self.dtmf_clock),
                    (TimedOut, timed_out as u8 as f64),
                ];
                set_event(ev, &f);
                EventKind::DtmfEnd
            }
            Some(ReceiverEvent::SsrcChanged { old, new }) => {
                set_event(ev, &[(Value, new as f64), (Old, old as f64)]);
                EventKind::Ssrc
            }
            Some(ReceiverEvent::PayloadTypeChanged { old, new }) => {
                set_event(ev, &[(Value, new as f64), (Old, old as f64)]);
                EventKind::PayloadType
            }
        }
    }

    /// Refreshes the statistics buffer.
    #[wasm_bindgen(js_name = writeStats)]
    pub fn write_stats(&mut self) {
        fill_stats(STATS, &self.core.stats(), &mut self.stats);
    }
}

stats_methods!(Receiver, STATS);
