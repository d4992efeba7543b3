//! The receive path: RTP packets in, audio out. A jitter buffer in the
//! spirit of WebRTC's NetEq, sans-IO and allocation-free while rendering.
//!
//! ```
//! use voxlet::{Receiver, ReceiverConfig, Registry};
//! let mut rx = Receiver::new(ReceiverConfig {
//!     registry: Registry::with_static(),
//!     output_rate: 48_000,
//!     output_channels: 1,
//!     ..ReceiverConfig::default()
//! })?;
//! // For every datagram: rx.push(&bytes, arrival_ms)
//! let mut block = [0f32; 128];
//! let info = rx.render(&mut block, 0.0); // every render quantum
//! assert_eq!(info.frames, 128);
//! while let Some(_event) = rx.poll_event() {}
//! # Ok::<(), voxlet::receiver::ReceiverConfigError>(())
//! ```
//!
//! # Design
//!
//! [`Receiver::push`] validates a packet (RTP header, payload type, size,
//! payload framing), follows the source (SSRC changes after two sequential
//! packets of the new source, or at once when the old one has gone quiet),
//! counts it (RFC 3550 loss and jitter, duplicates), feeds its arrival time
//! to the delay manager (`delay.rs`: the 95th percentile of the relative
//! arrival delay, fast up, slow down, bounded by the configured minimum
//! and maximum) and stores it in a bounded packet buffer ordered by
//! timestamp. Telephone-events become [`ReceiverEvent`]s and never audio.
//!
//! [`Receiver::render`] pulls: while the decoded audio waiting to be played
//! (the "sync buffer", at the codec's rate) is shorter than what the
//! resampler needs for the requested output, it asks the decision logic
//! (`decision.rs`) what to do with the next 10 ms or packet: decode; decode
//! and accelerate or pre-emptive-expand (WSOLA, [`crate::dsp::stretch`])
//! to bring the filtered playout offset (how long after a no-queueing
//! arrival packets play) to the target; recover a lost packet
//! from Opus FEC; conceal (libopus PLC for Opus, [`crate::dsp::plc`] for
//! the others, whose history is fed every played frame so audio resuming
//! after a loss is cross-faded in); play comfort silence through DTX gaps
//! (re-targeting the delay at each talkspurt start); after
//! `max_conceal_ms` of loss, go silent and re-buffer. The sync buffer is
//! then resampled to the output rate ([`crate::dsp::resample`]) and
//! up-mixed to the output channels.
//!
//! Everything is sized in [`Receiver::new`]: a decoder per payload type,
//! a resampler / time-stretcher / concealer per distinct codec rate (so a
//! mid-stream codec switch allocates nothing), packet slots with their
//! byte buffers, the sync buffer for the largest packet. `render` works in
//! internal blocks of at most 20 ms of output, so any `out` length is
//! fine.
//!
//! Time: `arrival_ms` and `now_ms` are `f64` milliseconds on any clock that
//! both share (in a worklet, `currentTime * 1000`). `now_ms` is the time
//! the first frame of the block will play. Only differences matter.

#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod config;
mod decision;
mod decoders;
mod delay;
mod error;
mod events;
mod ops;
mod packet_buffer;
mod playout;
mod push;
mod render;
mod source;
mod stats;
mod sync_buffer;

use core::fmt;

use crate::rtp::rtcp::ReportBlock;

use config::Settings;
use decoders::DecoderDatabase;
use delay::DelayManager;
use events::{DtmfTracker, EventQueue};
use packet_buffer::PacketBuffer;
use playout::Playout;
use source::SourceTracker;
use stats::{AudioMeter, Carries};
use sync_buffer::SyncBuffer;

pub use config::ReceiverConfig;
pub use error::{ReceiverConfigError, ReceiverError};
pub use events::{ReceiverEvent, EVENT_QUEUE_LEN};
pub use push::PushOutcome;
pub use render::RenderInfo;
pub use stats::{ErrorCounts, ReceiverStats};

/// Length of one concealment / silence step, ms.
const STEP_MS: u32 = delay::DECISION_MS as u32;
/// Opus PLC/FEC granularity, frames at 48 kHz (2.5 ms).
const OPUS_STEP: usize = 120;

// Laid out as NetEq's `NetEqImpl`: the insert path (`push.rs`, NetEq's
// `InsertPacket`) and the playout path (`render.rs`, `GetAudio`, with the
// operations other than decoding in `ops.rs`) are `impl Receiver` blocks
// that call into the objects below, each in its own file.
/// The jitter buffer and decoder for one incoming RTP audio stream. See the
/// [module documentation](self).
pub struct Receiver {
    /// The validated settings.
    cfg: Settings,
    /// Payload type → decoder, the per-rate DSP chains, the current ones.
    decoders: DecoderDatabase,
    /// Packets waiting to be decoded, by timestamp.
    buffer: PacketBuffer,
    /// Target delay from the arrivals.
    delay: DelayManager,
    /// Decoded audio waiting to be played, at the codec rate.
    sync: SyncBuffer,
    /// Scratch: one decode or codec concealment.
    dec_buf: Vec<f32>,
    /// Scratch: one time-stretch output.
    stretch_buf: Vec<f32>,
    /// Scratch: one resampled internal block.
    out_buf: Vec<f32>,
    /// Statistics under WebRTC's names.
    stats: ReceiverStats,
    /// `audioLevel` / `totalAudioEnergy` of the output.
    meter: AudioMeter,
    /// Fractional carries of the output-rate sample counters.
    carries: Carries,
    /// Events waiting for [`Receiver::poll_event`].
    events: EventQueue,
    /// Telephone-event (DTMF) state.
    dtmf: DtmfTracker,
    /// The played SSRC and its sequence, timing and RTCP state.
    source: SourceTracker,
    /// Where playout is, and the state the decisions leave behind.
    playout: Playout,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("output_rate", &self.cfg.out_rate)
            .field("output_channels", &self.cfg.out_ch)
            .field("ssrc", &self.source.ssrc())
            .field("playing", &self.playout.playing)
            .field("buffered_packets", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

fn ms_to_frames(ms: f64, rate: u32) -> usize {
    (ms * f64::from(rate) / 1000.0).max(0.0) as usize
}

fn frames_to_ms(frames: usize, rate: u32) -> f64 {
    frames as f64 * 1000.0 / f64::from(rate.max(1))
}

impl Receiver {
    /// Builds a receiver; all memory it will use is allocated here.
    pub fn new(cfg: ReceiverConfig) -> Result<Receiver, ReceiverConfigError> {
        let settings = cfg.settings()?;
        let out_rate = settings.out_rate;
        let sub_block = settings.sub_block;

        let (decoders, sizes) = DecoderDatabase::new(&cfg, &settings)?;
        let min = f64::from(cfg.min_delay_ms);
        let max = f64::from(cfg.max_delay_ms);
        let initial = f64::from(cfg.initial_delay_ms).max(min).min(max);
        let mut sync = SyncBuffer::new(sizes.sync_frames, 2);
        sync.reset(decoders.chain().map_or(1, |c| c.ch));
        Ok(Receiver {
            cfg: settings,
            decoders,
            buffer: PacketBuffer::new(cfg.max_packets, cfg.max_payload_bytes),
            delay: DelayManager::new(min, max, initial),
            sync,
            dec_buf: vec![0.0; sizes.dec_samples],
            stretch_buf: vec![0.0; sizes.chain_samples],
            out_buf: vec![0.0; sub_block * 2],
            stats: ReceiverStats {
                target_delay_ms: initial,
                ..ReceiverStats::default()
            },
            meter: AudioMeter::new(out_rate),
            carries: Carries::default(),
            events: EventQueue::new(),
            dtmf: DtmfTracker::new(f64::from(cfg.dtmf_timeout_ms)),
            source: SourceTracker::new(cfg.max_payload_bytes),
            playout: Playout::new(),
        })
    }

    /// The statistics so far (a copy, like [`Sender::stats`](crate::Sender::stats)).
    pub fn stats(&self) -> ReceiverStats {
        self.stats
    }

    /// The next queued event, oldest first.
    pub fn poll_event(&mut self) -> Option<ReceiverEvent> {
        self.events.pop()
    }

    /// The SSRC being played.
    pub fn ssrc(&self) -> Option<u32> {
        self.source.ssrc()
    }

    /// Packets waiting in the buffer.
    pub fn buffered_packets(&self) -> usize {
        self.buffer.len()
    }

    /// Bytes reserved for packet storage (fixed at construction).
    pub fn packet_storage_bytes(&self) -> usize {
        self.buffer.reserved_bytes() + self.source.held_bytes_len()
    }

    /// Records a sender report from the played source, received at
    /// `now_ms`, for the LSR/DLSR fields of [`Receiver::receiver_report`].
    /// (Sender reports multiplexed on the RTP port are recorded by `push`.)
    pub fn on_sender_report(&mut self, ntp_timestamp: u64, now_ms: f64) {
        self.source.on_sender_report(ntp_timestamp, now_ms);
    }

    /// An RTCP reception report block for the played source (RFC 3550
    /// §6.4.1): fraction lost since the previous call, cumulative lost,
    /// extended highest sequence number, interarrival jitter (A.8, in the
    /// clock of the audio codec), LSR/DLSR from the last sender report.
    /// `None` before the first packet.
    pub fn receiver_report(&mut self, now_ms: f64) -> Option<ReportBlock> {
        let clock = self.decoders.current().map_or(8000, |d| d.info.clock_rate);
        self.source.report_block(clock, now_ms)
    }

    /// Drops everything buffered and not yet played (barge-in): packets and
    /// decoded audio. Playout re-buffers from the next packet.
    // Resets: the packets, the unplayed audio, the current concealer's
    // history, the playout timeline (`Playout::reset`). Keeps: the source
    // (SSRC, sequence state, reception stats), the decoders, the delay
    // manager (the path has not changed), and the loss run and the rest of
    // the playout state (see `Playout::reset`).
    pub fn clear(&mut self) {
        let n = self.buffer.len() as u64;
        self.stats.packets_discarded += n;
        self.buffer.clear();
        self.sync.consume(self.sync.unplayed());
        self.decoders.reset_concealer();
        self.playout.reset(playout::Reset::Clear);
    }

    fn emit(&mut self, ev: ReceiverEvent) {
        if self.events.push(ev) {
            self.stats.events_dropped += 1;
        }
    }
}
