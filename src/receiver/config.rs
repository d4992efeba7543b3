//! Receiver settings ([`ReceiverConfig`]), why they can be refused
//! ([`ReceiverConfigError`]), and the validated [`Settings`] the receive path reads.

use crate::codec::{NeuralOpus, Registry};
use crate::dsp::Quality;

use super::error::ReceiverConfigError;

/// Receiver settings. `Default` gives the static payload types, 48 kHz mono
/// output, delay 20..=500 ms starting at 50 ms, 200 packets of 1500 bytes.
///
/// Delays count a packet's audio from its first sample: a delay of `D`
/// plays each sample `D` ms after it would have arrived had it been sent at
/// once over the fastest path seen. A packet of `p` ms sent when its audio
/// is complete therefore waits `D − p` after arriving: with 20 ms packets
/// and the default 50 ms, 30 ms on a clean link. One delay covers a stream
/// whatever its packet durations (a 40 ms packet needs 40 ms, a 20 ms one
/// 20 ms, plus jitter).
#[derive(Clone, Debug)]
pub struct ReceiverConfig {
    /// Payload type → codec. A decoder is made for every audio entry.
    pub registry: Registry,
    /// Output rate in Hz, 8000..=96000.
    pub output_rate: u32,
    /// Output channels: 1 or 2 (mono streams are duplicated, stereo
    /// streams averaged, as needed).
    pub output_channels: u16,
    /// Lowest target delay, ms.
    pub min_delay_ms: u32,
    /// Highest target delay, ms; the buffer is flushed down to the target
    /// when it holds more than this plus two packets (at least 60 ms).
    pub max_delay_ms: u32,
    /// Target delay before any jitter has been measured, ms (clamped to
    /// `[min, max]`): playout starts there, and it is the floor of the
    /// adaptive target (a link needing less keeps this delay rather than
    /// be time-stretched down to it; the target rises above it with the
    /// jitter). Set it to `min_delay_ms` for the lowest latency.
    pub initial_delay_ms: u32,
    /// Packet slots (1..=65535): the memory bound under a flood.
    pub max_packets: usize,
    /// Largest RTP payload accepted, bytes (1..=65535).
    pub max_payload_bytes: usize,
    /// Concealment played for a loss before going silent and re-buffering,
    /// ms (at least 20). After such a stall, packets whose playout slot has
    /// passed (a delay spike's backlog) are dropped as late, not played.
    pub max_conceal_ms: u32,
    /// An open DTMF event with no update for this long is ended, ms.
    pub dtmf_timeout_ms: u32,
    /// Use Opus in-band FEC to recover single lost packets.
    pub fec: bool,
    /// Resampler filter quality.
    pub resampler_quality: Quality,
    /// Machine-learned Opus decoding (deep PLC, DRED, OSCE) for every Opus
    /// payload type; anything but all-off needs the `neural` build.
    pub neural: NeuralOpus,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            registry: Registry::with_static(),
            output_rate: 48_000,
            output_channels: 1,
            min_delay_ms: 20,
            max_delay_ms: 500,
            initial_delay_ms: 50,
            max_packets: 200,
            max_payload_bytes: 1500,
            max_conceal_ms: 100,
            dtmf_timeout_ms: 300,
            fec: true,
            resampler_quality: Quality::Medium,
            neural: NeuralOpus::default(),
        }
    }
}

/// The settings the receive path reads, checked and converted once by
/// [`ReceiverConfig::settings`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Settings {
    /// Output rate, Hz.
    pub out_rate: u32,
    /// Output channels (1 or 2).
    pub out_ch: usize,
    /// Highest target delay, ms.
    pub max_delay_ms: f64,
    /// Largest RTP payload accepted, bytes.
    pub max_payload: usize,
    /// Concealment played for a loss before going silent, ms.
    pub max_conceal_ms: f64,
    /// Recover single lost packets from Opus in-band FEC.
    pub fec_enabled: bool,
    /// Recover lost audio from Opus DRED in later packets.
    pub dred_enabled: bool,
    /// Opus concealment is deep PLC (counted apart in the stats).
    pub deep_plc: bool,
    /// After a stall, replay what the next packet's DRED holds of the outage.
    pub dred_rewind: bool,
    /// Longest internal render block, output frames (20 ms, at least 128).
    pub sub_block: usize,
}

impl ReceiverConfig {
    /// Checks the bounds, in this order (the first one broken is the
    /// error), and derives the [`Settings`]. The codecs are checked when
    /// their decoders are made.
    pub(super) fn settings(&self) -> Result<Settings, ReceiverConfigError> {
        if !(crate::dsp::MIN_RATE..=crate::dsp::MAX_RATE).contains(&self.output_rate) {
            return Err(ReceiverConfigError::OutputRate(self.output_rate));
        }
        if !(1..=2).contains(&self.output_channels) {
            return Err(ReceiverConfigError::OutputChannels(self.output_channels));
        }
        if self.min_delay_ms > self.max_delay_ms || self.max_delay_ms == 0 {
            return Err(ReceiverConfigError::DelayBounds {
                min: self.min_delay_ms,
                max: self.max_delay_ms,
            });
        }
        if !(1..=65535).contains(&self.max_packets) {
            return Err(ReceiverConfigError::MaxPackets(self.max_packets));
        }
        if !(1..=65535).contains(&self.max_payload_bytes) {
            return Err(ReceiverConfigError::MaxPayloadBytes(self.max_payload_bytes));
        }
        if self.max_conceal_ms < 20 {
            return Err(ReceiverConfigError::MaxConceal(self.max_conceal_ms));
        }
        let out_rate = self.output_rate;
        Ok(Settings {
            out_rate,
            out_ch: usize::from(self.output_channels),
            max_delay_ms: f64::from(self.max_delay_ms),
            max_payload: self.max_payload_bytes,
            max_conceal_ms: f64::from(self.max_conceal_ms),
            fec_enabled: self.fec,
            dred_enabled: self.neural.dred,
            deep_plc: self.neural.decoder_complexity() >= 5,
            dred_rewind: self.neural.dred && self.neural.dred_rewind,
            sub_block: (out_rate as usize / 50).max(128),
        })
    }
}
