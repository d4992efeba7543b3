//! Codecs behind one small trait, and a registry that finds them by RTP
//! payload type or SDP `rtpmap`.
//!
//! Why this shape: the jitter buffer and the sender must not care which codec
//! a stream uses. They hold a `Box<dyn Decoder>` / `Box<dyn Encoder>` made
//! once per stream (allocation happens at set-up, never while rendering), and
//! every call after that works on caller-owned slices. Samples are always
//! `f32` in `[-1, 1)`, interleaved, at the codec's *audio* rate
//! ([`CodecInfo::sample_rate`]), which can differ from the RTP clock rate
//! (G.722: 16 kHz audio on an 8 kHz clock).
//!
//! Integer codecs convert exactly: a 16-bit sample `s` is `s as f32 / 32768.0`
//! and back with [`f32_to_i16`], so bit-exact comparisons survive the `f32`
//! interface.

pub mod comfort_noise;
mod error;
pub mod g711;
#[cfg(feature = "g722")]
pub mod g722;
pub mod l16;
mod neural;
#[cfg(feature = "opus")]
pub mod opus;
pub mod telephone_event;

pub use error::CodecError;
pub use neural::{NeuralOpus, Osce};

/// The codecs voxlet knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodecKind {
    /// G.711 μ-law (PCMU), static PT 0.
    Pcmu,
    /// G.711 A-law (PCMA), static PT 8.
    Pcma,
    /// G.722 at 64 kbit/s, static PT 9 (16 kHz audio, 8 kHz RTP clock).
    G722,
    /// Linear 16-bit PCM, network byte order (static PT 10 stereo, 11 mono, at 44.1 kHz).
    L16,
    /// Opus (RFC 7587): RTP clock always 48 kHz.
    Opus,
    /// RFC 4733 telephone-event (DTMF); not audio.
    TelephoneEvent,
    /// RFC 3389 comfort noise (CN), static PT 13: noise parameters for the
    /// pauses of a stream with silence suppression; not a codec of its own.
    ComfortNoise,
}

impl CodecKind {
    /// The SDP encoding name, as written in `a=rtpmap`.
    pub fn sdp_name(self) -> &'static str {
        match self {
            CodecKind::Pcmu => "PCMU",
            CodecKind::Pcma => "PCMA",
            CodecKind::G722 => "G722",
            CodecKind::L16 => "L16",
            CodecKind::Opus => "opus",
            CodecKind::TelephoneEvent => "telephone-event",
            CodecKind::ComfortNoise => "CN",
        }
    }

    /// Looks an SDP encoding name up (case-insensitive).
    pub fn from_sdp_name(name: &str) -> Option<CodecKind> {
        [
            CodecKind::Pcmu,
            CodecKind::Pcma,
            CodecKind::G722,
            CodecKind::L16,
            CodecKind::Opus,
            CodecKind::TelephoneEvent,
            CodecKind::ComfortNoise,
        ]
        .into_iter()
        .find(|k| k.sdp_name().eq_ignore_ascii_case(name))
    }
}

/// What a stream's codec is: kind, RTP clock, audio rate and channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CodecInfo {
    /// Which codec.
    pub kind: CodecKind,
    /// RTP timestamp clock rate in Hz (the `rtpmap` rate).
    pub clock_rate: u32,
    /// Rate of the decoded / encoded PCM in Hz.
    pub sample_rate: u32,
    /// Channels of the decoded / encoded PCM (1 or 2).
    pub channels: u16,
}

impl CodecInfo {
    /// Builds and validates the description of one codec configuration.
    ///
    /// `clock_rate` is the RTP clock as in `rtpmap`; `channels` the rtpmap
    /// channel count (Opus is always signalled as 2 but may be decoded to 1;
    /// use [`CodecInfo::with_channels`] for that).
    pub fn new(kind: CodecKind, clock_rate: u32, channels: u16) -> Result<CodecInfo, CodecError> {
        let bad = || CodecError::UnsupportedConfig {
            kind,
            clock_rate,
            channels,
        };
        let sample_rate = match kind {
            CodecKind::Pcmu | CodecKind::Pcma => {
                if clock_rate != 8000 || channels != 1 {
                    return Err(bad());
                }
                8000
            }
            CodecKind::G722 => {
                if clock_rate != 8000 || channels != 1 {
                    return Err(bad());
                }
                16000
            }
            CodecKind::L16 => {
                if !(8000..=48000).contains(&clock_rate) || !(1..=2).contains(&channels) {
                    return Err(bad());
                }
                clock_rate
            }
            CodecKind::Opus => {
                if clock_rate != 48000 || !(1..=2).contains(&channels) {
                    return Err(bad());
                }
                48000
            }
            CodecKind::TelephoneEvent | CodecKind::ComfortNoise => {
                if clock_rate == 0 || channels != 1 {
                    return Err(bad());
                }
                clock_rate
            }
        };
        Ok(CodecInfo {
            kind,
            clock_rate,
            sample_rate,
            channels,
        })
    }

    /// The same codec with another PCM channel count (Opus decodes to 1 or 2
    /// whatever was signalled). Other codecs accept only their own count.
    pub fn with_channels(self, channels: u16) -> Result<CodecInfo, CodecError> {
        match self.kind {
            CodecKind::Opus if (1..=2).contains(&channels) => Ok(CodecInfo { channels, ..self }),
            _ if channels == self.channels => Ok(self),
            _ => Err(CodecError::UnsupportedConfig {
                kind: self.kind,
                clock_rate: self.clock_rate,
                channels,
            }),
        }
    }

    /// PCM frames (per channel) in `rtp_ticks` of RTP clock.
    pub fn ticks_to_frames(&self, rtp_ticks: u32) -> u64 {
        rtp_ticks as u64 * self.sample_rate as u64 / self.clock_rate as u64
    }

    /// Makes a stateful decoder for one stream of this codec.
    pub fn decoder(&self) -> Result<Box<dyn Decoder>, CodecError> {
        Ok(match self.kind {
            CodecKind::Pcmu => Box::new(g711::PcmuDecoder::new()),
            CodecKind::Pcma => Box::new(g711::PcmaDecoder::new()),
            #[cfg(feature = "g722")]
            CodecKind::G722 => Box::new(g722::G722Decoder::new()),
            CodecKind::L16 => Box::new(l16::L16Decoder::new(*self)),
            #[cfg(feature = "opus")]
            CodecKind::Opus => Box::new(opus::OpusDecoder::new(*self)?),
            #[cfg(not(feature = "g722"))]
            CodecKind::G722 => return Err(CodecError::NotBuilt(CodecKind::G722)),
            #[cfg(not(feature = "opus"))]
            CodecKind::Opus => return Err(CodecError::NotBuilt(CodecKind::Opus)),
            CodecKind::TelephoneEvent | CodecKind::ComfortNoise => {
                return Err(CodecError::NotAudio)
            }
        })
    }

    /// Makes a stateful encoder for one stream of this codec.
    pub fn encoder(&self, settings: &EncoderSettings) -> Result<Box<dyn Encoder>, CodecError> {
        #[cfg(not(feature = "opus"))]
        let _ = settings; // only Opus reads them
        Ok(match self.kind {
            CodecKind::Pcmu => Box::new(g711::PcmuEncoder::new()),
            CodecKind::Pcma => Box::new(g711::PcmaEncoder::new()),
            #[cfg(feature = "g722")]
            CodecKind::G722 => Box::new(g722::G722Encoder::new()),
            CodecKind::L16 => Box::new(l16::L16Encoder::new(*self)),
            #[cfg(feature = "opus")]
            CodecKind::Opus => Box::new(opus::OpusEncoder::new(*self, settings)?),
            #[cfg(not(feature = "g722"))]
            CodecKind::G722 => return Err(CodecError::NotBuilt(CodecKind::G722)),
            #[cfg(not(feature = "opus"))]
            CodecKind::Opus => return Err(CodecError::NotBuilt(CodecKind::Opus)),
            CodecKind::TelephoneEvent | CodecKind::ComfortNoise => {
                return Err(CodecError::NotAudio)
            }
        })
    }
}

/// Opus `application` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OpusApplication {
    /// Best for speech (`OPUS_APPLICATION_VOIP`).
    #[default]
    Voip,
    /// Best for music and mixed content (`OPUS_APPLICATION_AUDIO`).
    Audio,
    /// Lowest delay, no speech modes (`OPUS_APPLICATION_RESTRICTED_LOWDELAY`).
    LowDelay,
}

/// Encoder knobs. Only Opus reads them; the others have nothing to tune.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EncoderSettings {
    /// Target bitrate in bit/s (Opus: 6000..=510000).
    pub bitrate: u32,
    /// 0 (fastest) ..= 10 (best).
    pub complexity: u8,
    /// Speech, audio or low-delay tuning.
    pub application: OpusApplication,
    /// In-band forward error correction (LBRR).
    pub fec: bool,
    /// Expected packet loss in percent (0..=100); drives how much FEC is spent.
    pub packet_loss_percent: u8,
    /// Discontinuous transmission: tiny packets (and none at RTP level) in silence.
    pub dtx: bool,
    /// Deep REDundancy (Opus DRED, `neural` builds): how much past audio,
    /// in ms (multiples of 10, at most 1000; 0 = off), each packet carries
    /// for receivers to recover bursts of loss. It takes bitrate from the
    /// primary encoding, more with a higher `packet_loss_percent`; libopus
    /// sends none at 0 % expected loss, so with DRED on and
    /// `packet_loss_percent` 0 the encoder assumes
    /// [`EncoderSettings::DRED_LOSS_PERCENT`].
    pub dred_ms: u16,
    /// Frame duration in milliseconds (Opus: 10, 20, 40 or 60).
    pub frame_ms: u16,
}

impl EncoderSettings {
    /// The expected loss the encoder assumes when DRED is on and
    /// `packet_loss_percent` is 0 (libopus sizes DRED by the expected loss
    /// and sends none at 0): 10 %, the setting `bench/pesq/neural.py`
    /// measured DRED streams with.
    pub const DRED_LOSS_PERCENT: u8 = 10;

    /// The expected loss given to the encoder: `packet_loss_percent`, or
    /// [`EncoderSettings::DRED_LOSS_PERCENT`] when DRED is on and it is 0.
    pub fn effective_loss_percent(&self) -> u8 {
        if self.dred_ms > 0 && self.packet_loss_percent == 0 {
            Self::DRED_LOSS_PERCENT
        } else {
            self.packet_loss_percent
        }
    }
}

impl Default for EncoderSettings {
    fn default() -> Self {
        EncoderSettings {
            bitrate: 32_000,
            complexity: 9,
            application: OpusApplication::Voip,
            fec: false,
            packet_loss_percent: 0,
            dtx: false,
            dred_ms: 0,
            frame_ms: 20,
        }
    }
}

/// A stateful decoder for one RTP stream.
///
/// All methods write interleaved `f32` into `out` and return the number of
/// frames (samples per channel) written. `out` must hold at least
/// [`Decoder::max_frames`] × channels samples; a shorter `out` is an error,
/// never a panic.
pub trait Decoder: Send {
    /// The codec configuration this decoder was made for.
    fn info(&self) -> &CodecInfo;
    /// Upper bound of frames a single payload can decode to (sizes `out`).
    fn max_frames(&self) -> usize;
    /// Frames this payload will decode to, without decoding it.
    fn frames_in(&self, payload: &[u8]) -> Result<usize, CodecError>;
    /// Decodes one RTP payload.
    fn decode(&mut self, payload: &[u8], out: &mut [f32]) -> Result<usize, CodecError>;
    /// Codec-native concealment of `frames` lost frames (Opus PLC). Codecs
    /// without one return [`CodecError::Unsupported`]; the jitter buffer then
    /// conceals itself.
    fn conceal(&mut self, frames: usize, out: &mut [f32]) -> Result<usize, CodecError> {
        let _ = (frames, out);
        Err(CodecError::Unsupported("conceal"))
    }
    /// Recovers the frame *before* `next_payload` from the redundancy carried
    /// in it (Opus in-band FEC), producing `frames` frames.
    fn decode_fec(
        &mut self,
        next_payload: &[u8],
        frames: usize,
        out: &mut [f32],
    ) -> Result<usize, CodecError> {
        let _ = (next_payload, frames, out);
        Err(CodecError::Unsupported("fec"))
    }
    /// Whether [`Decoder::decode_fec`] can work on this payload.
    fn has_fec(&self, payload: &[u8]) -> bool {
        let _ = payload;
        false
    }
    /// Selects machine-learned decoding (Opus in a `neural` build). Codecs
    /// without it accept only [`NeuralOpus::is_off`] settings and answer
    /// [`CodecError::Unsupported`] otherwise.
    fn set_neural(&mut self, neural: NeuralOpus) -> Result<(), CodecError> {
        if neural.is_off() {
            Ok(())
        } else {
            Err(CodecError::Unsupported("neural decoding"))
        }
    }
    /// How many frames before the later packet `later` its deep redundancy
    /// (Opus DRED) reaches back, up to 1 s (0: none, or not asked for DRED).
    /// `key` as for [`Decoder::decode_redundancy`].
    fn redundancy_reach(&mut self, later: &[u8], key: u64) -> Result<usize, CodecError> {
        let _ = (later, key);
        Ok(0)
    }
    /// Recovers `frames` lost frames that end `before` frames ahead of the
    /// first sample of the later packet `later`, from the deep redundancy it
    /// carries (Opus DRED). `key` names `later` (its sequence number, say),
    /// so that its redundancy is parsed once however many gaps it fills.
    /// `Ok(None)`: no redundancy here (none sent, not this far back, or the
    /// decoder was not asked for DRED); the caller conceals instead.
    fn decode_redundancy(
        &mut self,
        later: &[u8],
        key: u64,
        before: usize,
        frames: usize,
        out: &mut [f32],
    ) -> Result<Option<usize>, CodecError> {
        let _ = (later, key, before, frames, out);
        Ok(None)
    }
    /// Forgets all stream state (new SSRC, after a long gap).
    fn reset(&mut self);
}

/// A stateful encoder for one RTP stream.
pub trait Encoder: Send {
    /// The codec configuration this encoder was made for.
    fn info(&self) -> &CodecInfo;
    /// Frame sizes (per channel) this encoder accepts in one call.
    fn accepts_frames(&self, frames: usize) -> bool;
    /// Upper bound of payload bytes for `frames` frames (sizes `out`).
    fn max_payload(&self, frames: usize) -> usize;
    /// Encodes `pcm` (interleaved, a frame count accepted by
    /// [`Encoder::accepts_frames`]) into `out`; returns the payload length.
    /// Opus with DTX may return a 1–2 byte payload in silence.
    fn encode(&mut self, pcm: &[f32], out: &mut [u8]) -> Result<usize, CodecError>;
    /// Forgets all stream state.
    fn reset(&mut self);
}

/// `f32` in `[-1, 1)` to a 16-bit sample: round to nearest, saturating.
/// Exact inverse of `s as f32 / 32768.0`.
#[inline]
pub fn f32_to_i16(x: f32) -> i16 {
    // Clamp, truncate, then round half away from zero by hand: identical to
    // `round()` for every f32 (checked exhaustively) but branch-free, so it
    // vectorizes instead of calling `roundf` (3x faster natively, 10x in wasm).
    // NaN clamps to NaN, truncates to 0, and both comparisons are false.
    let v = (x * 32768.0).clamp(-32768.0, 32767.0);
    let t = v as i32;
    let d = v - t as f32;
    (t + (d >= 0.5) as i32 - (d <= -0.5) as i32) as i16
}

/// A 16-bit sample to `f32` in `[-1, 1)`.
#[inline]
pub fn i16_to_f32(s: i16) -> f32 {
    s as f32 * (1.0 / 32768.0)
}

/// Payload type → codec, seeded with the static assignments of RFC 3551
/// and extended from SDP `rtpmap` lines for dynamic types.
#[derive(Clone, Debug)]
pub struct Registry {
    map: [Option<CodecInfo>; 128],
}

impl Default for Registry {
    fn default() -> Self {
        Self::with_static()
    }
}

impl Registry {
    /// An empty registry (no payload type known).
    pub fn empty() -> Registry {
        Registry { map: [None; 128] }
    }

    /// The static payload types of RFC 3551 that voxlet decodes:
    /// 0 PCMU, 8 PCMA, 9 G722, 10 L16/44100/2, 11 L16/44100/1.
    pub fn with_static() -> Registry {
        let mut r = Registry::empty();
        let s = |k, rate, ch| CodecInfo::new(k, rate, ch).ok();
        r.map[0] = s(CodecKind::Pcmu, 8000, 1);
        r.map[8] = s(CodecKind::Pcma, 8000, 1);
        r.map[9] = s(CodecKind::G722, 8000, 1);
        r.map[10] = s(CodecKind::L16, 44100, 2);
        r.map[11] = s(CodecKind::L16, 44100, 1);
        r.map[13] = s(CodecKind::ComfortNoise, 8000, 1);
        r
    }

    /// Maps `pt` to `info`, replacing what was there.
    pub fn insert(&mut self, pt: u8, info: CodecInfo) -> Result<(), CodecError> {
        let slot = self
            .map
            .get_mut(pt as usize)
            .ok_or(CodecError::BadPayloadType(pt))?;
        *slot = Some(info);
        Ok(())
    }

    /// Adds a dynamic mapping from an SDP rtpmap value, e.g.
    /// `insert_rtpmap(111, "opus/48000/2")`.
    pub fn insert_rtpmap(&mut self, pt: u8, rtpmap: &str) -> Result<CodecInfo, CodecError> {
        let info = parse_rtpmap(rtpmap)?;
        self.insert(pt, info)?;
        Ok(info)
    }

    /// The codec for a payload type, if known.
    pub fn get(&self, pt: u8) -> Option<CodecInfo> {
        self.map.get(pt as usize).copied().flatten()
    }

    /// The first payload type mapped to `kind`.
    pub fn payload_type_of(&self, kind: CodecKind) -> Option<u8> {
        self.map
            .iter()
            .position(|c| matches!(c, Some(i) if i.kind == kind))
            .map(|p| p as u8)
    }
}

/// Parses an SDP rtpmap value `name/clock[/channels]` (the part after
/// `a=rtpmap:PT `).
pub fn parse_rtpmap(rtpmap: &str) -> Result<CodecInfo, CodecError> {
    let bad = || CodecError::BadRtpmap;
    let mut it = rtpmap.trim().split('/');
    let name = it.next().ok_or_else(bad)?;
    let kind = CodecKind::from_sdp_name(name).ok_or_else(bad)?;
    let clock: u32 = it
        .next()
        .ok_or_else(bad)?
        .trim()
        .parse()
        .map_err(|_| bad())?;
    let channels: u16 = match it.next() {
        Some(c) => c.trim().parse().map_err(|_| bad())?,
        None => 1,
    };
    if it.next().is_some() {
        return Err(bad());
    }
    CodecInfo::new(kind, clock, channels)
}
