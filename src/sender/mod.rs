//! The send path: microphone blocks → resample → frame → encode → RTP, with
//! RFC 4733 DTMF, pacing and RTCP sender reports. Sans-IO: time is always an
//! argument and packets are handed out as byte slices.
//!
//! ```
//! use voxlet::{CodecInfo, CodecKind};
//! use voxlet::sender::{Sender, SenderConfig};
//!
//! let pcmu = CodecInfo::new(CodecKind::Pcmu, 8000, 1).unwrap();
//! let mut cfg = SenderConfig::new(pcmu, 0);
//! cfg.input_rate = 48_000; // AudioContext rate
//! cfg.dtmf_payload_type = Some(101);
//! cfg.seed = 0x5eed; // e.g. from crypto.getRandomValues
//! let mut tx = Sender::new(cfg).unwrap();
//!
//! let mic = [0.0f32; 128]; // one worklet quantum
//! let mut sent = 0;
//! for q in 0..75u32 {
//!     let now_ms = f64::from(q) * 128.0 / 48.0;
//!     tx.push_audio(&mic, now_ms).unwrap();
//!     while let Some(packet) = tx.poll_packet(now_ms) {
//!         sent += 1; // socket.send(packet)
//!         assert_eq!(packet.len(), 12 + 160);
//!     }
//! }
//! assert_eq!(sent, 10); // 200 ms of input (its first 3 ms: the resampler filling up)
//! tx.send_dtmf('5', 100, 10).unwrap();
//! ```
//!
//! # Pipeline
//!
//! [`Sender::push_audio`] takes interleaved `f32` blocks of any size at
//! `input_rate` / `input_channels`, maps channels (mono → both, stereo →
//! average) to the codec's, resamples with the same [`Resampler`] the
//! receive path uses (a pass-through copy when the rates are equal), cuts
//! `ptime` frames, and encodes each frame straight into a preallocated
//! packet slot. Nothing allocates after [`Sender::new`].
//!
//! # Timeline
//!
//! The media clock is the pushed audio: frame slot `k` starts `k × ptime`
//! after the stream start, and its RTP timestamp is `initial + k × ptime ×
//! clock_rate / 1000` (G.722: 160 ticks per 20 ms on its 8 kHz clock). The
//! timeline never stops: DTX frames and frames replaced by DTMF are not
//! sent, but the timestamps after them are where they would be had they
//! been sent. The marker bit is set on the first audio packet of the stream,
//! the first after a DTX gap, and the first after a DTMF event.
//!
//! # Pacing ([`Pacing`])
//!
//! - [`Pacing::Live`] (microphone): a packet is released by the first
//!   [`Sender::poll_packet`] after its frame is encoded, whatever `now_ms`.
//! - [`Pacing::Paced`] (file, TTS, anything pushed faster than real time):
//!   the packet of frame slot `k` is released by the first `poll_packet`
//!   with `now_ms >= anchor + k × ptime` (media start times, integer ms,
//!   rounded down), where `anchor` is the `now_ms` of the first `push_audio`.
//!   If the producer falls behind — a frame is encoded into an empty queue
//!   more than `2 × ptime` after its release time — the schedule is
//!   re-anchored so that frame is due at that `now_ms` (no catch-up burst).
//!   A packet is due at the *start* of its media, so a paced stream runs one
//!   ptime ahead of what a live capture of the same audio would send.
//!
//! # Bounds and backpressure
//!
//! The queue holds `ceil(max_queue_ms / ptime) + 2` packets.
//! `push_audio` returns how many input frames it consumed: it stops
//! *before* a frame whose packets would not fit, so a return short of the
//! block means "queue full: poll, then offer the rest again". Nothing is
//! dropped silently. [`Sender::flush`] (end of a file: send the partial
//! frame and the resampler/encoder tail) obeys the same bound and resumes
//! after a [`SenderError::QueueFull`]. [`Sender::is_drained`] says when all
//! of it has been released.
//!
//! # DTMF (RFC 4733)
//!
//! [`Sender::send_dtmf`] queues a key. An event starts at the frame slot
//! being filled once it reaches the head of the queue (and at least
//! `dtmf_gap_ms` of audio after the previous event), and replaces the audio
//! of `ceil(duration / ptime)` slots: one telephone-event packet per slot on
//! `dtmf_payload_type` and the same SSRC and sequence space, all with the
//! timestamp of the first slot, the first with the marker bit, duration
//! `k × ptime` in the `k`-th, and the last with the E bit and the exact
//! requested duration, sent three times (three sequence numbers). Audio then
//! resumes with the timestamps it would have had (marker set). Durations are
//! in ticks of `dtmf_clock_rate`; timestamps are on the stream's RTP clock
//! (as libwebrtc does when the two differ). Events advance with the pushed
//! audio, so keep pushing (silence is fine) while digits play. A duration
//! must fit the 16-bit field (65535 ticks: 8.19 s at 8 kHz, 1.36 s at
//! 48 kHz); longer keys are refused rather than split into §2.5.1.3
//! segments.
//!
//! # RTCP
//!
//! [`Sender::poll_rtcp`] returns a compound SR + SDES(CNAME) every
//! `rtcp_interval_ms` (the first one as soon as an RTP packet has gone out).
//! The SR's NTP time is the caller's wall clock; its RTP time is the media
//! position at `now_ms` (paced: `now_ms - anchor`; live: extrapolated from
//! the last push, less the resampler delay); the counts cover packets
//! released by `poll_packet` (payload octets, header excluded).
//!
//! Invalid configuration is a typed [`SenderError`] from [`Sender::new`];
//! after that nothing panics, whatever the input (NaN and infinities are
//! silence).

mod dtmf;
mod error;
mod queue;
mod rtcp;

pub use dtmf::{DTMF_QUEUE_LEN, END_REPEATS};
pub use error::SenderError;

#[cfg(feature = "opus")]
use crate::codec::opus::OpusEncoder;
use crate::codec::telephone_event::{digit_to_event, MAX_VOLUME};
use crate::codec::CodecError;
use crate::codec::{CodecInfo, CodecKind, Encoder, EncoderSettings};
use crate::dsp::{Quality, Resampler};
use crate::rtp::{RtpHeader, RTP_FIXED_HEADER_LEN};
use dtmf::{DtmfScheduler, FrameUse};
use queue::{PacketQueue, SlotMeta};
use rtcp::SrScheduler;

/// When queued packets are released; see the [module docs](self#pacing-pacing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pacing {
    /// Real-time source: release as soon as encoded.
    #[default]
    Live,
    /// Faster-than-real-time source: release at each packet's media time.
    Paced,
}

/// Everything a [`Sender`] needs; [`SenderConfig::new`] fills the defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct SenderConfig {
    /// The codec (not telephone-event).
    pub codec: CodecInfo,
    /// RTP payload type of the audio, 0..=127.
    pub payload_type: u8,
    /// Packet duration: 10, 20, 30, 40 or 60 ms (Opus: not 30). Default 20.
    /// For Opus it overrides `opus.frame_ms`.
    pub ptime_ms: u16,
    /// Sample rate of the pushed audio, 8000..=96000 Hz. Default: the codec's.
    pub input_rate: u32,
    /// Channels of the pushed audio, 1 or 2. Default: the codec's.
    pub input_channels: u16,
    /// Synchronisation source; random (from `seed`) when `None`.
    pub ssrc: Option<u32>,
    /// First sequence number; random when `None` (RFC 3550 §5.1).
    pub initial_sequence: Option<u16>,
    /// First RTP timestamp; random when `None` (RFC 3550 §5.1).
    pub initial_timestamp: Option<u32>,
    /// Payload type of telephone-event; `None` disables DTMF.
    pub dtmf_payload_type: Option<u8>,
    /// Clock of the negotiated telephone-event (duration units). Default:
    /// the codec's clock rate.
    pub dtmf_clock_rate: u32,
    /// Least audio between two DTMF events, rounded up to whole packets.
    /// Default 50 ms.
    pub dtmf_gap_ms: u16,
    /// Opus encoder settings (bitrate, complexity, FEC, loss, DTX,
    /// application); ignored by the other codecs.
    pub opus: EncoderSettings,
    /// Sender report interval; 0 disables RTCP. Default 5000.
    pub rtcp_interval_ms: u32,
    /// SDES CNAME; `None` makes `voxlet-XXXXXXXXXXXXXXXX` from `seed`.
    pub cname: Option<String>,
    /// Live or paced release. Default live.
    pub pacing: Pacing,
    /// Queue bound in media time, 1..=60000 ms. Default 1000.
    pub max_queue_ms: u32,
    /// Resampler filter preset. Default [`Quality::Medium`].
    pub resampler_quality: Quality,
    /// Randomness for SSRC, sequence, timestamp and CNAME (sans-IO: take it
    /// from a CSPRNG, e.g. `crypto.getRandomValues`). Default 0.
    pub seed: u64,
}

impl SenderConfig {
    /// Defaults for `codec` on `payload_type`: 20 ms, input at the codec's
    /// rate and channels, random SSRC/sequence/timestamp, no DTMF, default
    /// Opus settings, SR every 5 s, live pacing, 1 s queue.
    pub fn new(codec: CodecInfo, payload_type: u8) -> SenderConfig {
        SenderConfig {
            codec,
            payload_type,
            ptime_ms: 20,
            input_rate: codec.sample_rate,
            input_channels: codec.channels,
            ssrc: None,
            initial_sequence: None,
            initial_timestamp: None,
            dtmf_payload_type: None,
            dtmf_clock_rate: codec.clock_rate,
            dtmf_gap_ms: 50,
            opus: EncoderSettings::default(),
            rtcp_interval_ms: 5000,
            cname: None,
            pacing: Pacing::Live,
            max_queue_ms: 1000,
            resampler_quality: Quality::Medium,
            seed: 0,
        }
    }
}

/// Counters since construction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderStats {
    /// RTP packets released by `poll_packet` (audio and DTMF).
    pub packets: u64,
    /// Their payload bytes (headers excluded).
    pub payload_octets: u64,
    /// Audio frames not sent because Opus DTX marked them silent.
    pub dtx_frames: u64,
    /// Frames whose encoding failed (skipped like DTX frames).
    pub encode_errors: u64,
    /// Telephone-event packets queued (end repeats included).
    pub dtmf_packets: u64,
    /// Sender reports produced.
    pub sender_reports: u64,
}

/// SplitMix64: seed → well-mixed 64-bit values.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Frames per channel the channel-mapping scratch holds.
const SCRATCH_FRAMES: usize = 512;

/// One outgoing RTP stream. See the [module docs](self).
pub struct Sender {
    codec: CodecInfo,
    payload_type: u8,
    dtmf_payload_type: Option<u8>,
    dtmf_clock_rate: u32,
    ptime_ms: u16,
    pacing: Pacing,
    ssrc: u32,
    initial_sequence: u16,
    initial_timestamp: u32,
    seq: u16,
    in_channels: usize,
    channels: usize,
    input_rate: u32,
    encoder: Box<dyn Encoder>,
    opus_dtx: bool,
    /// Encoder delay (Opus lookahead) in codec frames.
    encoder_delay: usize,
    resampler: Resampler,
    /// Channel-mapped input, `SCRATCH_FRAMES × channels`.
    scratch: Vec<f32>,
    /// The frame being filled, `frame_len × channels`.
    frame: Vec<f32>,
    frame_len: usize,
    fill: usize,
    /// Codec frames of silence `flush` still has to produce.
    flush_left: usize,
    /// A flush completed and no audio came since.
    flushed: bool,
    /// Codec frames of completed frame slots.
    media_frames: u64,
    /// Input frames consumed.
    input_frames: u64,
    talkspurt: bool,
    dtmf: DtmfScheduler,
    queue: PacketQueue,
    /// Paced: ms at which media frame 0 is due. Live: estimated capture time
    /// of media frame 0. `None` before the first push.
    anchor_ms: Option<f64>,
    /// The last finite `now_ms` given (see [`Sender::clock`]).
    last_now_ms: f64,
    sr: SrScheduler,
    stats: SenderStats,
}

impl core::fmt::Debug for Sender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("codec", &self.codec)
            .field("payload_type", &self.payload_type)
            .field("ssrc", &self.ssrc)
            .field("seq", &self.seq)
            .field("media_frames", &self.media_frames)
            .field("queued", &self.queue.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// Validates `config` and allocates everything the stream will need.
    pub fn new(config: SenderConfig) -> Result<Sender, SenderError> {
        let c = &config;
        let codec = c.codec;
        if codec.kind == CodecKind::TelephoneEvent {
            return Err(SenderError::NotAudio);
        }
        // A hand-built CodecInfo must be one `CodecInfo::new` would make.
        if CodecInfo::new(codec.kind, codec.clock_rate, codec.channels)? != codec {
            return Err(SenderError::Codec(CodecError::UnsupportedConfig {
                kind: codec.kind,
                clock_rate: codec.clock_rate,
                channels: codec.channels,
            }));
        }
        if c.payload_type > 127 {
            return Err(SenderError::PayloadType(c.payload_type));
        }
        let ptime = c.ptime_ms;
        let bad_ptime = SenderError::Ptime {
            codec: codec.kind,
            ptime_ms: ptime,
        };
        let allowed: &[u16] = match codec.kind {
            CodecKind::Opus => &[10, 20, 40, 60],
            _ => &[10, 20, 30, 40, 60],
        };
        let p = ptime as u64;
        if !allowed.contains(&ptime)
            || (codec.sample_rate as u64 * p) % 1000 != 0
            || (codec.clock_rate as u64 * p) % 1000 != 0
            || codec.sample_rate == 0
            || codec.channels == 0
        {
            return Err(bad_ptime);
        }
        if !(8000..=96_000).contains(&c.input_rate) {
            return Err(SenderError::InputRate(c.input_rate));
        }
        if !(1..=2).contains(&c.input_channels) {
            return Err(SenderError::InputChannels(c.input_channels));
        }
        if let Some(pt) = c.dtmf_payload_type {
            if pt > 127 || pt == c.payload_type {
                return Err(SenderError::DtmfPayloadType(pt));
            }
            if !(8000..=96_000).contains(&c.dtmf_clock_rate)
                || (c.dtmf_clock_rate as u64 * p) % 1000 != 0
            {
                return Err(SenderError::DtmfClockRate(c.dtmf_clock_rate));
            }
        }
        if !(1..=60_000).contains(&c.max_queue_ms) {
            return Err(SenderError::QueueSize(c.max_queue_ms));
        }
        if let Some(name) = &c.cname {
            if name.is_empty() || name.len() > 255 {
                return Err(SenderError::Cname);
            }
        }

        let frame_len = (codec.sample_rate as u64 * p / 1000) as usize;
        let (encoder, encoder_delay): (Box<dyn Encoder>, usize) = match codec.kind {
            #[cfg(feature = "opus")]
            CodecKind::Opus => {
                let settings = EncoderSettings {
                    frame_ms: ptime,
                    ..c.opus
                };
                let e = OpusEncoder::new(codec, &settings)?;
                let la = e.lookahead();
                (Box::new(e), la)
            }
            _ => (codec.encoder(&c.opus)?, 0),
        };
        if !encoder.accepts_frames(frame_len) {
            return Err(bad_ptime);
        }
        let channels = codec.channels as usize;
        let resampler = Resampler::with_quality(
            c.input_rate,
            codec.sample_rate,
            channels,
            c.resampler_quality,
        )
        .map_err(|_| SenderError::InputRate(c.input_rate))?;

        let mut rng = c.seed;
        let r_ssrc = splitmix(&mut rng) as u32;
        let r_seq = splitmix(&mut rng) as u16;
        let r_ts = splitmix(&mut rng) as u32;
        let r_cname = splitmix(&mut rng);
        let ssrc = c.ssrc.unwrap_or(r_ssrc);
        let initial_sequence = c.initial_sequence.unwrap_or(r_seq);
        let initial_timestamp = c.initial_timestamp.unwrap_or(r_ts);
        let cname = match &c.cname {
            Some(n) => n.as_bytes().to_vec(),
            None => format!("voxlet-{r_cname:016x}").into_bytes(),
        };

        let slot_size = RTP_FIXED_HEADER_LEN + encoder.max_payload(frame_len).max(4);
        let capacity = (c.max_queue_ms as usize).div_ceil(ptime as usize) + 2;
        let dtmf_ticks = (c.dtmf_clock_rate as u64 * p / 1000) as u32;
        let gap_frames = (c.dtmf_gap_ms as u32).div_ceil(ptime as u32);

        Ok(Sender {
            codec,
            payload_type: c.payload_type,
            dtmf_payload_type: c.dtmf_payload_type,
            dtmf_clock_rate: c.dtmf_clock_rate,
            ptime_ms: ptime,
            pacing: c.pacing,
            ssrc,
            initial_sequence,
            initial_timestamp,
            seq: initial_sequence,
            in_channels: c.input_channels as usize,
            channels,
            input_rate: c.input_rate,
            encoder,
            opus_dtx: codec.kind == CodecKind::Opus && c.opus.dtx,
            encoder_delay,
            resampler,
            scratch: vec![0.0; SCRATCH_FRAMES * channels],
            frame: vec![0.0; frame_len * channels],
            frame_len,
            fill: 0,
            flush_left: 0,
            flushed: false,
            media_frames: 0,
            input_frames: 0,
            talkspurt: true,
            dtmf: DtmfScheduler::new(dtmf_ticks, gap_frames),
            queue: PacketQueue::new(capacity, slot_size),
            anchor_ms: None,
            last_now_ms: 0.0,
            sr: SrScheduler::new(c.rtcp_interval_ms, cname),
            stats: SenderStats::default(),
        })
    }

    /// The codec being sent.
    pub fn codec(&self) -> CodecInfo {
        self.codec
    }

    /// The SSRC of every packet.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Sequence number of the first packet.
    pub fn initial_sequence(&self) -> u16 {
        self.initial_sequence
    }

    /// RTP timestamp of media frame 0.
    pub fn initial_timestamp(&self) -> u32 {
        self.initial_timestamp
    }

    /// The SDES CNAME sent with each sender report.
    pub fn cname(&self) -> &[u8] {
        self.sr.cname()
    }

    /// Packet duration in ms.
    pub fn ptime_ms(&self) -> u16 {
        self.ptime_ms
    }

    /// Codec frames (per channel) in one packet.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// RTP timestamp increment per packet.
    pub fn ticks_per_packet(&self) -> u32 {
        (self.frame_len as u64 * self.codec.clock_rate as u64 / self.codec.sample_rate as u64)
            as u32
    }

    /// Delay between input and encoded audio in codec frames: the
    /// resampler's group delay plus the encoder's lookahead (Opus). Decoded
    /// audio lags the input by this much (plus any decoder delay).
    pub fn latency_frames(&self) -> usize {
        self.resampler.latency_frames() + self.encoder_delay
    }

    /// Packets the queue holds at most.
    pub fn queue_capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// Packets waiting to be released.
    pub fn queued_packets(&self) -> usize {
        self.queue.len()
    }

    /// DTMF digits queued or in progress.
    pub fn pending_dtmf(&self) -> usize {
        self.dtmf.pending()
    }

    /// Counters since construction.
    pub fn stats(&self) -> SenderStats {
        SenderStats {
            sender_reports: self.sr.reports(),
            ..self.stats
        }
    }

    /// Everything queued has been released and no DTMF digit is queued or
    /// in progress. Audio in the partly filled frame (less than one ptime)
    /// is not "queued"; [`Sender::flush`] sends it.
    pub fn is_drained(&self) -> bool {
        self.queue.is_empty() && self.dtmf.is_idle()
    }

    fn media_ms(&self, frames: u64) -> f64 {
        frames as f64 * 1000.0 / self.codec.sample_rate as f64
    }

    /// RTP timestamp of media frame `frames`.
    fn rtp_ts(&self, frames: u64) -> u32 {
        let ticks = frames as u128 * self.codec.clock_rate as u128 / self.codec.sample_rate as u128;
        self.initial_timestamp.wrapping_add(ticks as u32)
    }

    /// When the oldest queued packet may be released (`now_ms` units):
    /// paced, its media time; live, the `now_ms` it was queued at. `None`
    /// when the queue is empty.
    pub fn next_due_ms(&self) -> Option<f64> {
        let m = self.queue.front()?;
        Some(match self.pacing {
            Pacing::Live => m.queued_ms,
            Pacing::Paced => self.due_ms(m.media_frame),
        })
    }

    fn due_ms(&self, media_frame: u64) -> f64 {
        (self.anchor_ms.unwrap_or(0.0) + self.media_ms(media_frame)).max(0.0)
    }

    /// `now_ms` as used: a non-finite time (NaN, ±∞) is taken as the last
    /// finite one, so a bad clock reading cannot corrupt the schedule.
    fn clock(&mut self, now_ms: f64) -> f64 {
        if now_ms.is_finite() {
            self.last_now_ms = now_ms;
        }
        self.last_now_ms
    }

    /// Takes interleaved audio (`input_channels` × frames, any frame count,
    /// `input_rate`) captured up to `now_ms`, and queues the packets it
    /// completes. Returns the input frames consumed: fewer than given means
    /// the queue is full (poll, then offer the rest again).
    ///
    /// Non-finite samples are silence. Errors only with
    /// [`SenderError::BadInputLength`] (nothing consumed). A frame the
    /// encoder fails on is skipped (counted in [`SenderStats`]), like DTX.
    pub fn push_audio(&mut self, pcm: &[f32], now_ms: f64) -> Result<usize, SenderError> {
        let now_ms = self.clock(now_ms);
        let in_ch = self.in_channels;
        if pcm.len() % in_ch != 0 {
            return Err(SenderError::BadInputLength {
                samples: pcm.len(),
                channels: in_ch as u16,
            });
        }
        let frames = pcm.len() / in_ch;
        if frames > 0 {
            self.flush_left = 0;
            self.flushed = false;
        }
        if self.anchor_ms.is_none() {
            self.anchor_ms = Some(now_ms);
        }
        let cc = self.channels;
        let mut pos = 0usize;
        while pos < frames {
            if self.queue.free() < self.dtmf.packets_for_next_frame() {
                break;
            }
            let room = &mut self.frame[self.fill * cc..self.frame_len * cc];
            let (used, made) = if in_ch == cc {
                self.resampler
                    .process(&pcm[pos * in_ch..frames * in_ch], room)
            } else {
                let n = (frames - pos).min(SCRATCH_FRAMES);
                let src = &pcm[pos * in_ch..(pos + n) * in_ch];
                let dst = &mut self.scratch[..n * cc];
                map_channels(src, in_ch, dst, cc);
                self.resampler.process(dst, room)
            };
            pos += used;
            self.fill += made;
            if self.fill >= self.frame_len {
                self.fill = 0;
                self.emit_frame(now_ms);
            } else if used == 0 && made == 0 {
                break;
            }
        }
        self.input_frames += pos as u64;
        if self.pacing == Pacing::Live {
            // Media frame m was captured at about anchor + m / rate: the last
            // input frame at now_ms, shifted by the resampler delay.
            let in_ms = self.input_frames as f64 * 1000.0 / self.input_rate as f64;
            let lat = self.media_ms(self.resampler.latency_frames() as u64);
            self.anchor_ms = Some(now_ms - in_ms - lat);
        }
        Ok(pos)
    }

    /// Completes the partly filled frame: pushes enough silence through the
    /// resampler (and the Opus lookahead) that all audio pushed so far is
    /// encoded, then pads the last frame with silence. For the end of a file
    /// or TTS utterance. The timeline advances by the padding.
    ///
    /// Works frame by frame like [`Sender::push_audio`]: if the queue fills
    /// up first it returns [`SenderError::QueueFull`] with the work done so
    /// far kept; poll packets and call `flush` again to finish. (Pushing
    /// audio in between abandons the rest of the padding.)
    pub fn flush(&mut self, now_ms: f64) -> Result<(), SenderError> {
        let now_ms = self.clock(now_ms);
        if self.flush_left == 0 {
            let tail = self.fill + self.latency_frames();
            if tail == 0 || self.flushed {
                return Ok(());
            }
            self.flush_left = tail.div_ceil(self.frame_len) * self.frame_len - self.fill;
        }
        if self.anchor_ms.is_none() {
            self.anchor_ms = Some(now_ms);
        }
        let cc = self.channels;
        self.scratch.iter_mut().for_each(|v| *v = 0.0);
        while self.flush_left > 0 {
            if self.queue.free() < self.dtmf.packets_for_next_frame() {
                return Err(SenderError::QueueFull);
            }
            let want = self.flush_left.min(self.frame_len - self.fill);
            let room = &mut self.frame[self.fill * cc..(self.fill + want) * cc];
            let (_, made) = self.resampler.process(&self.scratch, room);
            if made == 0 {
                break; // cannot happen (512 input frames give at least 42)
            }
            self.fill += made;
            self.flush_left = self.flush_left.saturating_sub(made);
            if self.fill >= self.frame_len {
                self.fill = 0;
                self.emit_frame(now_ms);
            }
        }
        self.flushed = true;
        Ok(())
    }

    /// Encodes / replaces the completed frame in `self.frame` and queues its
    /// packets (the caller checked there is room).
    fn emit_frame(&mut self, now_ms: f64) {
        let start = self.media_frames;
        self.media_frames += self.frame_len as u64;
        let ts = self.rtp_ts(start);
        match self.dtmf.on_frame(ts) {
            FrameUse::Audio => self.emit_audio(start, ts, now_ms),
            FrameUse::Event {
                event,
                timestamp,
                marker,
                repeats,
            } => {
                let pt = self.dtmf_payload_type.unwrap_or(0);
                for i in 0..repeats {
                    self.paced_reanchor(start, now_ms);
                    let header = RtpHeader {
                        marker: marker && i == 0,
                        payload_type: pt,
                        sequence: self.seq,
                        timestamp,
                        ssrc: self.ssrc,
                        ..RtpHeader::default()
                    };
                    let Some(slot) = self.queue.tail_mut() else {
                        return;
                    };
                    let Ok(n) = event.write(&mut slot[RTP_FIXED_HEADER_LEN..]) else {
                        return;
                    };
                    if header.write(&[], slot).is_err() {
                        return;
                    }
                    self.queue.commit(SlotMeta {
                        len: RTP_FIXED_HEADER_LEN + n,
                        media_frame: start,
                        queued_ms: now_ms,
                    });
                    self.seq = self.seq.wrapping_add(1);
                    self.stats.dtmf_packets += 1;
                }
                self.talkspurt = true;
            }
        }
    }

    fn emit_audio(&mut self, start: u64, ts: u32, now_ms: f64) {
        self.paced_reanchor(start, now_ms);
        let Some(slot) = self.queue.tail_mut() else {
            return;
        };
        let (head, body) = slot.split_at_mut(RTP_FIXED_HEADER_LEN);
        let n = match self.encoder.encode(&self.frame, body) {
            Ok(n) => n,
            Err(_) => {
                self.stats.encode_errors += 1;
                self.talkspurt = true;
                return;
            }
        };
        if self.opus_dtx && n <= 2 {
            self.stats.dtx_frames += 1;
            self.talkspurt = true;
            return;
        }
        let header = RtpHeader {
            marker: self.talkspurt,
            payload_type: self.payload_type,
            sequence: self.seq,
            timestamp: ts,
            ssrc: self.ssrc,
            ..RtpHeader::default()
        };
        if header.write(&[], head).is_err() {
            return;
        }
        self.queue.commit(SlotMeta {
            len: RTP_FIXED_HEADER_LEN + n,
            media_frame: start,
            queued_ms: now_ms,
        });
        self.seq = self.seq.wrapping_add(1);
        self.talkspurt = false;
    }

    /// Paced mode: a frame queued into an empty queue more than 2 × ptime
    /// after its release time restarts the schedule at `now_ms`.
    fn paced_reanchor(&mut self, media_frame: u64, now_ms: f64) {
        if self.pacing != Pacing::Paced || !self.queue.is_empty() {
            return;
        }
        let due = self.anchor_ms.unwrap_or(now_ms) + self.media_ms(media_frame);
        if now_ms - due > 2.0 * self.ptime_ms as f64 {
            self.anchor_ms = Some(now_ms - self.media_ms(media_frame));
        }
    }

    /// Queues a DTMF key (`0`-`9`, `*`, `#`, `A`-`D`) held `duration_ms` at
    /// `volume` (0..=63, −dBm0). Starts at the frame being filled, or after
    /// the digits already queued.
    pub fn send_dtmf(
        &mut self,
        digit: char,
        duration_ms: u32,
        volume: u8,
    ) -> Result<(), SenderError> {
        if self.dtmf_payload_type.is_none() {
            return Err(SenderError::DtmfDisabled);
        }
        let event = digit_to_event(digit).ok_or(SenderError::BadDigit(digit))?;
        if volume > MAX_VOLUME {
            return Err(SenderError::BadVolume(volume));
        }
        let ticks = duration_ms as u64 * self.dtmf_clock_rate as u64 / 1000;
        if duration_ms == 0 || ticks == 0 || ticks > u16::MAX as u64 {
            return Err(SenderError::BadDuration(duration_ms));
        }
        if !self.dtmf.push(event, volume, ticks as u16) {
            return Err(SenderError::DtmfQueueFull);
        }
        Ok(())
    }

    /// Releases the oldest queued packet if it is due at `now_ms` (see the
    /// [pacing rule](self#pacing-pacing)). The slice is valid until the next
    /// call on the Sender. Allocation-free.
    pub fn poll_packet(&mut self, now_ms: f64) -> Option<&[u8]> {
        let now_ms = self.clock(now_ms);
        let front = self.queue.front()?;
        if self.pacing == Pacing::Paced && self.due_ms(front.media_frame) > now_ms {
            return None;
        }
        let pkt = self.queue.pop()?;
        self.stats.packets += 1;
        self.stats.payload_octets += pkt.len().saturating_sub(RTP_FIXED_HEADER_LEN) as u64;
        Some(pkt)
    }

    /// Copies the next due packet into `out` (see [`Sender::poll_packet`]);
    /// returns its length. A packet longer than `out` stays queued and is
    /// reported as `Err(needed)`.
    pub fn poll_packet_into(
        &mut self,
        now_ms: f64,
        out: &mut [u8],
    ) -> Option<Result<usize, usize>> {
        let now_ms = self.clock(now_ms);
        let front = self.queue.front()?;
        if self.pacing == Pacing::Paced && self.due_ms(front.media_frame) > now_ms {
            return None;
        }
        if front.len > out.len() {
            return Some(Err(front.len));
        }
        let pkt = self.poll_packet(now_ms)?;
        let n = pkt.len();
        out[..n].copy_from_slice(pkt);
        Some(Ok(n))
    }

    /// The RTP timestamp of the media instant at `now_ms`.
    pub fn rtp_timestamp_at(&self, now_ms: f64) -> u32 {
        let now_ms = if now_ms.is_finite() {
            now_ms
        } else {
            self.last_now_ms
        };
        let Some(anchor) = self.anchor_ms else {
            return self.initial_timestamp;
        };
        let ticks = (now_ms - anchor) * self.codec.clock_rate as f64 / 1000.0;
        self.initial_timestamp
            .wrapping_add(ticks.round() as i64 as u32)
    }

    /// A compound SR + SDES(CNAME) when one is due at `now_ms` (the same
    /// clock as `push_audio`/`poll_packet`); `unix_ms` is the wall clock
    /// (ms since 1970) for the NTP timestamp. `None` when RTCP is disabled,
    /// nothing has been sent yet, or the interval has not elapsed.
    pub fn poll_rtcp(&mut self, now_ms: f64, unix_ms: f64) -> Option<&[u8]> {
        let now_ms = self.clock(now_ms);
        if !self.sr.due(now_ms, self.stats.packets > 0) {
            return None;
        }
        let ts = self.rtp_timestamp_at(now_ms);
        let (ssrc, packets, octets) = (
            self.ssrc,
            self.stats.packets as u32,
            self.stats.payload_octets as u32,
        );
        self.sr.build(now_ms, ssrc, unix_ms, ts, packets, octets)
    }

    /// When the next sender report is due (`None` before the first one).
    pub fn next_rtcp_ms(&self) -> Option<f64> {
        self.sr.next_ms()
    }
}

/// Mono → stereo duplicates, stereo → mono averages; frames of `src`
/// (`ci` channels) into `dst` (`co` channels).
fn map_channels(src: &[f32], ci: usize, dst: &mut [f32], co: usize) {
    match (ci, co) {
        (1, 2) => {
            for (d, &s) in dst.chunks_exact_mut(2).zip(src) {
                d[0] = s;
                d[1] = s;
            }
        }
        (2, 1) => {
            for (d, s) in dst.iter_mut().zip(src.chunks_exact(2)) {
                *d = 0.5 * (s[0] + s[1]);
            }
        }
        _ => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
        }
    }
}
