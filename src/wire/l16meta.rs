//! "JSON metadata, then binary L16": the framing of jambonz `listen`,
//! FreeSWITCH `mod_audio_fork` and Vonage WebSocket calls.
//!
//! The first message is a TEXT frame holding a JSON object that describes
//! the call (and, in most variants, the audio); every BINARY frame after it
//! is raw signed 16-bit **little-endian** PCM (unlike RTP's L16, which is
//! big-endian), channels interleaved, at the announced rate (8 or 16 kHz;
//! jambonz goes up to 64 kHz).
//!
//! Where the rate is read from, first match wins:
//! `sampleRate` / `sample_rate` / `samplingRate` / `rate` at the top level
//! or inside `audio`, `media`, `mediaFormat` or `format`; or the `rate=`
//! parameter of a `content-type` like Vonage's `audio/l16;rate=16000`. The
//! channel count from `channels` in the same places, or jambonz's
//! `mixType` (`stereo` = 2, else 1). If none is given, the default set with
//! [`L16MetaAdapter::with_default_rate`] is used (mod_audio_fork's metadata
//! is free-form), otherwise the metadata is rejected.
//!
//! **Odd byte counts**: a message need not end on a sample (or, in stereo,
//! frame) boundary. The dangling bytes are carried into the next message,
//! so the audio handed out is always whole frames and the byte stream is
//! never shifted by one. [`L16MetaAdapter::pending_bytes`] tells how many
//! are waiting.
//!
//! Text messages after the metadata (jambonz and Vonage send JSON events
//! and commands that way) are validated as JSON and handed back raw in
//! [`L16Item::Text`].

use super::json::{self, Value};
use super::{check_len, AudioFormat, Reframer, WireError, DEFAULT_MAX_MESSAGE};
use crate::codec::{f32_to_i16, i16_to_f32};

/// Announced metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L16Metadata {
    /// Sample rate in Hz (8000..=96000).
    pub sample_rate: u32,
    /// Interleaved channels (1 or 2).
    pub channels: u16,
    /// The whole metadata message, for the caller's own fields (callSid…).
    pub json: String,
}

impl L16Metadata {
    /// The format as the stream player takes it.
    pub fn audio_format(&self) -> AudioFormat {
        AudioFormat::L16Le {
            rate: self.sample_rate,
            channels: self.channels,
        }
    }
}

/// One inbound item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum L16Item<'a> {
    /// The first text message, parsed.
    Metadata(L16Metadata),
    /// Little-endian 16-bit PCM, whole frames only, in the announced
    /// format; empty when the message did not complete a frame.
    Audio(L16Audio<'a>),
    /// A later text message (valid JSON), raw.
    Text(&'a str),
}

/// Audio from one binary message: `head` (a frame completed from bytes
/// carried over) followed by `body` (whole frames from the message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L16Audio<'a> {
    /// Completed carried frame (0 or one frame of bytes).
    pub head: &'a [u8],
    /// Whole frames from the message itself.
    pub body: &'a [u8],
}

impl L16Audio<'_> {
    /// Bytes of audio (`head` + `body`).
    pub fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// Whether no whole frame came out.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples as `f32` in `[-1, 1)`, interleaved.
    pub fn samples(&self) -> impl Iterator<Item = f32> + '_ {
        self.head
            .chunks_exact(2)
            .chain(self.body.chunks_exact(2))
            .map(|b| i16_to_f32(i16::from_le_bytes([b[0], b[1]])))
    }
}

/// Sans-IO adapter for the JSON-metadata-then-L16 framing. See the module docs.
#[derive(Clone, Debug)]
pub struct L16MetaAdapter {
    max_message: usize,
    default_rate: Option<u32>,
    meta: Option<L16Metadata>,
    reframer: Reframer,
}

impl Default for L16MetaAdapter {
    fn default() -> Self {
        Self::new()
    }
}

const RATE_KEYS: [&str; 4] = ["sampleRate", "sample_rate", "samplingRate", "rate"];
const NESTS: [&str; 4] = ["audio", "media", "mediaFormat", "format"];

fn find<'a>(root: Value<'a>, keys: &[&str]) -> Option<Value<'a>> {
    let scopes = core::iter::once(Some(root)).chain(NESTS.iter().map(|n| root.get(n)));
    for scope in scopes.flatten() {
        for k in keys {
            if let Some(v) = scope.get(k) {
                return Some(v);
            }
        }
    }
    None
}

/// `rate=N` in a `content-type` such as `audio/l16;rate=16000`.
fn content_type_rate(root: Value<'_>) -> Option<Option<u64>> {
    let ct = ["content-type", "contentType", "content_type"]
        .iter()
        .find_map(|k| root.get(k))?
        .as_str()?
        .to_owned_string(256)?;
    let ct = ct.to_ascii_lowercase();
    Some(
        ct.split(';')
            .find_map(|p| p.trim().strip_prefix("rate="))
            .and_then(|r| r.trim().parse().ok()),
    )
}

impl L16MetaAdapter {
    /// An adapter that requires the metadata to give the sample rate.
    pub fn new() -> L16MetaAdapter {
        L16MetaAdapter {
            max_message: DEFAULT_MAX_MESSAGE,
            default_rate: None,
            meta: None,
            reframer: Reframer::new(2),
        }
    }

    /// An adapter that assumes `rate` Hz when the metadata does not say
    /// (mod_audio_fork: the rate is the one given to `uuid_audio_fork`).
    pub fn with_default_rate(rate: u32) -> L16MetaAdapter {
        L16MetaAdapter {
            default_rate: Some(rate),
            ..Self::new()
        }
    }

    /// Changes the message bound.
    pub fn set_max_message(&mut self, max: usize) {
        self.max_message = max;
    }

    /// The metadata, once received.
    pub fn metadata(&self) -> Option<&L16Metadata> {
        self.meta.as_ref()
    }

    /// Bytes carried over, waiting for the rest of their frame.
    pub fn pending_bytes(&self) -> usize {
        self.reframer.pending().len()
    }

    /// Parses one TEXT message: the metadata if it is the first, else a
    /// pass-through [`L16Item::Text`].
    pub fn on_text<'a>(&'a mut self, text: &'a str) -> Result<L16Item<'a>, WireError> {
        check_len(text.len(), self.max_message)?;
        let root = json::parse(text)?;
        if self.meta.is_some() {
            return Ok(L16Item::Text(text));
        }
        if !matches!(root, Value::Object(_)) {
            return Err(WireError::BadField("(root)"));
        }
        let rate = match find(root, &RATE_KEYS) {
            Some(v) => Some(
                v.as_u64_lenient()
                    .ok_or(WireError::BadField("sampleRate"))?,
            ),
            None => match content_type_rate(root) {
                Some(Some(r)) => Some(r),
                Some(None) => return Err(WireError::BadField("content-type")),
                None => None,
            },
        };
        let rate = match rate {
            Some(r) => r,
            None => self
                .default_rate
                .ok_or(WireError::MissingField("sampleRate"))? as u64,
        };
        if !(crate::dsp::MIN_RATE as u64..=crate::dsp::MAX_RATE as u64).contains(&rate) {
            return Err(WireError::Unsupported("sample rate"));
        }
        let channels = match find(root, &["channels"]) {
            Some(v) => v.as_u64_lenient().ok_or(WireError::BadField("channels"))?,
            None => match root.get("mixType").and_then(|v| v.as_str()) {
                Some(m) if m.eq_str("stereo") => 2,
                _ => 1,
            },
        };
        if !(1..=2).contains(&channels) {
            return Err(WireError::Unsupported("channel count"));
        }
        let meta = L16Metadata {
            sample_rate: rate as u32,
            channels: channels as u16,
            json: text.to_string(),
        };
        self.reframer = Reframer::new(2 * channels as usize);
        self.meta = Some(meta.clone());
        Ok(L16Item::Metadata(meta))
    }

    /// Takes one BINARY message of PCM. [`WireError::NotStarted`] before
    /// the metadata. Dangling bytes are carried to the next message.
    pub fn on_binary<'a>(&'a mut self, data: &'a [u8]) -> Result<L16Item<'a>, WireError> {
        check_len(data.len(), self.max_message)?;
        if self.meta.is_none() {
            return Err(WireError::NotStarted);
        }
        let r = self.reframer.push(data);
        Ok(L16Item::Audio(L16Audio {
            head: r.head,
            body: r.body,
        }))
    }

    /// Forgets the metadata and carried bytes (a new stream on the same
    /// connection).
    pub fn reset(&mut self) {
        self.meta = None;
        self.reframer = Reframer::new(2);
    }
}

/// Appends `samples` (`f32` in `[-1, 1)`) to `out` as 16-bit little-endian
/// PCM, the format these services accept back for bidirectional audio.
pub fn encode_l16_le(samples: &[f32], out: &mut Vec<u8>) {
    out.reserve(samples.len() * 2);
    for &s in samples {
        out.extend_from_slice(&f32_to_i16(s).to_le_bytes());
    }
}
