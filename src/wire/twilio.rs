//! Twilio Media Streams: JSON text messages, μ-law 8 kHz mono audio in
//! base64.
//!
//! Inbound (Twilio → us), one JSON object per text message, `event` says
//! which:
//!
//! ```text
//! {"event":"connected","protocol":"Call","version":"1.0.0"}
//! {"event":"start","sequenceNumber":"1","start":{"accountSid":"AC…","streamSid":"MZ…",
//!   "callSid":"CA…","tracks":["inbound"],"customParameters":{"k":"v"},
//!   "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ…"}
//! {"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1",
//!   "timestamp":"5","payload":"…base64…"},"streamSid":"MZ…"}
//! {"event":"dtmf","streamSid":"MZ…","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}
//! {"event":"mark","sequenceNumber":"4","streamSid":"MZ…","mark":{"name":"my label"}}
//! {"event":"stop","sequenceNumber":"5","stop":{"accountSid":"AC…","callSid":"CA…"},"streamSid":"MZ…"}
//! ```
//!
//! Outbound (us → Twilio, bidirectional streams): `media` (base64 μ-law
//! with the `streamSid`), `mark` (acknowledged by Twilio with a `mark`
//! event once the audio before it has played) and `clear` (drops Twilio's
//! buffered audio; Twilio then returns the pending marks).
//!
//! Numbers Twilio writes as strings (`"timestamp":"5"`) are read either
//! way. Unknown events come back as [`TwilioEvent::Unknown`], not as an
//! error, so a new event type does not break a deployed client. Telnyx's
//! media streaming uses the same shape and is read by the same code.

use super::base64;
use super::json::{self, Value};
use super::{check_len, AudioFormat, WireError, DEFAULT_MAX_MESSAGE};

/// Longest string field (sids, names, parameter values) kept, in bytes.
pub const MAX_STRING: usize = 1024;
/// Most `customParameters` / `tracks` entries kept from a `start` message;
/// further ones are ignored.
pub const MAX_ENTRIES: usize = 64;

/// Which leg of the call a media or DTMF message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Track {
    /// Audio from the caller (`inbound`, or `inbound_track` in DTMF).
    Inbound,
    /// Audio sent to the caller (`outbound`).
    Outbound,
    /// Absent or another value.
    Other,
}

impl Track {
    fn parse(v: Option<Value<'_>>) -> Track {
        match v.and_then(|v| v.as_str()) {
            Some(s) if s.eq_str("inbound") || s.eq_str("inbound_track") => Track::Inbound,
            Some(s) if s.eq_str("outbound") || s.eq_str("outbound_track") => Track::Outbound,
            _ => Track::Other,
        }
    }
}

/// `start.mediaFormat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaFormat {
    /// e.g. `audio/x-mulaw`.
    pub encoding: String,
    /// e.g. 8000.
    pub sample_rate: u32,
    /// e.g. 1.
    pub channels: u16,
}

impl MediaFormat {
    /// The format as the stream player takes it: `audio/x-mulaw` →
    /// [`AudioFormat::Pcmu`], `audio/x-alaw` → [`AudioFormat::Pcma`],
    /// `audio/x-l16` → [`AudioFormat::L16Be`]; `None` otherwise.
    pub fn audio_format(&self) -> Option<AudioFormat> {
        let e = self.encoding.to_ascii_lowercase();
        match e.as_str() {
            "audio/x-mulaw" | "audio/pcmu" if self.sample_rate == 8000 && self.channels == 1 => {
                Some(AudioFormat::Pcmu)
            }
            "audio/x-alaw" | "audio/pcma" if self.sample_rate == 8000 && self.channels == 1 => {
                Some(AudioFormat::Pcma)
            }
            "audio/x-l16" | "audio/l16" => Some(AudioFormat::L16Be {
                rate: self.sample_rate,
                channels: self.channels,
            }),
            _ => None,
        }
    }
}

/// The `start` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Start {
    /// `start.streamSid` (or the top-level `streamSid`).
    pub stream_sid: String,
    /// `start.callSid` (empty if absent).
    pub call_sid: String,
    /// `start.accountSid` (empty if absent).
    pub account_sid: String,
    /// `start.tracks`, e.g. `["inbound"]`.
    pub tracks: Vec<String>,
    /// `start.mediaFormat`; μ-law 8 kHz mono when absent.
    pub media_format: MediaFormat,
    /// `start.customParameters` in document order (string values; other
    /// JSON values are kept as their JSON text).
    pub custom_parameters: Vec<(String, String)>,
    /// `sequenceNumber`, if present.
    pub sequence_number: Option<u64>,
}

/// One `media` message. The payload borrows the adapter's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Media<'a> {
    /// `media.track`.
    pub track: Track,
    /// `media.chunk` (1 for the first message of the stream), if present.
    pub chunk: Option<u64>,
    /// `media.timestamp`: milliseconds since the stream started, if present.
    pub timestamp_ms: Option<u64>,
    /// `sequenceNumber`, if present.
    pub sequence_number: Option<u64>,
    /// The decoded payload bytes (μ-law for Twilio).
    pub payload: &'a [u8],
}

/// One inbound message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TwilioEvent<'a> {
    /// `connected`: the WebSocket is up.
    Connected {
        /// `protocol`, e.g. `Call` (empty if absent).
        protocol: String,
        /// `version`, e.g. `1.0.0` (empty if absent).
        version: String,
    },
    /// `start`: stream metadata; the adapter keeps the `streamSid`.
    Start(Start),
    /// `media`: a chunk of audio.
    Media(Media<'a>),
    /// `dtmf`: a key press.
    Dtmf {
        /// `dtmf.track`.
        track: Track,
        /// `dtmf.digit`: `0`–`9`, `*`, `#`, `A`–`D`.
        digit: char,
    },
    /// `mark`: a mark we sent has been reached (its audio played), or
    /// was dropped by a `clear`.
    Mark {
        /// `mark.name`.
        name: String,
    },
    /// `stop`: the stream ended.
    Stop,
    /// Any other `event` value (its name).
    Unknown(String),
}

/// Counters kept by the adapter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TwilioStats {
    /// Messages accepted.
    pub messages: u64,
    /// Messages rejected with an error.
    pub errors: u64,
    /// `media` messages accepted.
    pub media: u64,
    /// Payload bytes decoded.
    pub payload_bytes: u64,
}

/// Sans-IO Twilio Media Streams adapter. See the module docs.
#[derive(Clone, Debug)]
pub struct TwilioAdapter {
    max_message: usize,
    stream_sid: Option<String>,
    payload: Vec<u8>,
    stats: TwilioStats,
}

impl Default for TwilioAdapter {
    fn default() -> Self {
        Self::new()
    }
}

fn string_field(v: Option<Value<'_>>, path: &'static str) -> Result<Option<String>, WireError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s
            .to_owned_string(MAX_STRING)
            .map(Some)
            .ok_or(WireError::BadField(path)),
        Some(_) => Err(WireError::BadField(path)),
    }
}

fn required_str(v: Option<Value<'_>>, path: &'static str) -> Result<String, WireError> {
    string_field(v, path)?.ok_or(WireError::MissingField(path))
}

fn opt_u64(v: Option<Value<'_>>, path: &'static str) -> Result<Option<u64>, WireError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64_lenient()
            .map(Some)
            .ok_or(WireError::BadField(path)),
    }
}

fn json_text(v: Value<'_>) -> Option<String> {
    let s = match v {
        Value::String(s) => return s.to_owned_string(MAX_STRING),
        Value::Null => "null",
        Value::Bool(true) => "true",
        Value::Bool(false) => "false",
        Value::Number(n) | Value::Array(n) | Value::Object(n) => n,
    };
    (s.len() <= MAX_STRING).then(|| s.to_string())
}

impl TwilioAdapter {
    /// An adapter accepting messages up to [`DEFAULT_MAX_MESSAGE`] bytes.
    pub fn new() -> TwilioAdapter {
        Self::with_max_message(DEFAULT_MAX_MESSAGE)
    }

    /// An adapter accepting messages up to `max_message` bytes; larger
    /// ones are rejected with [`WireError::TooLarge`] before parsing. The
    /// payload buffer grows to at most 3/4 of this.
    pub fn with_max_message(max_message: usize) -> TwilioAdapter {
        TwilioAdapter {
            max_message,
            stream_sid: None,
            payload: Vec::with_capacity(320),
            stats: TwilioStats::default(),
        }
    }

    /// The `streamSid` of the current stream (from `start`).
    pub fn stream_sid(&self) -> Option<&str> {
        self.stream_sid.as_deref()
    }

    /// Sets the `streamSid` used by the outbound builders (normally taken
    /// from `start`).
    pub fn set_stream_sid(&mut self, sid: &str) {
        self.stream_sid = Some(sid.to_string());
    }

    /// Counters.
    pub fn stats(&self) -> TwilioStats {
        self.stats
    }

    /// Twilio sends only text messages: always [`WireError::UnexpectedBinary`].
    pub fn on_binary(&mut self, _data: &[u8]) -> Result<TwilioEvent<'_>, WireError> {
        self.stats.errors += 1;
        Err(WireError::UnexpectedBinary)
    }

    /// Parses one inbound text message.
    pub fn on_text(&mut self, text: &str) -> Result<TwilioEvent<'_>, WireError> {
        match self.parse(text) {
            Ok(kind) => {
                self.stats.messages += 1;
                Ok(match kind {
                    Parsed::Event(e) => e,
                    Parsed::Media(m) => {
                        self.stats.media += 1;
                        self.stats.payload_bytes += self.payload.len() as u64;
                        TwilioEvent::Media(Media {
                            payload: &self.payload,
                            ..m
                        })
                    }
                })
            }
            Err(e) => {
                self.stats.errors += 1;
                Err(e)
            }
        }
    }

    fn parse(&mut self, text: &str) -> Result<Parsed, WireError> {
        check_len(text.len(), self.max_message)?;
        let root = json::parse(text)?;
        if !matches!(root, Value::Object(_)) {
            return Err(WireError::BadField("(root)"));
        }
        let event = match root.get("event") {
            Some(Value::String(s)) => s,
            Some(_) => return Err(WireError::BadField("event")),
            None => return Err(WireError::MissingField("event")),
        };
        let seq = opt_u64(root.get("sequenceNumber"), "sequenceNumber")?;
        if event.eq_str("media") {
            let media = root.get("media").ok_or(WireError::MissingField("media"))?;
            if !matches!(media, Value::Object(_)) {
                return Err(WireError::BadField("media"));
            }
            let payload = match media.get("payload") {
                Some(Value::String(s)) => s,
                Some(_) => return Err(WireError::BadField("media.payload")),
                None => return Err(WireError::MissingField("media.payload")),
            };
            let m = Media {
                track: Track::parse(media.get("track")),
                chunk: opt_u64(media.get("chunk"), "media.chunk")?,
                timestamp_ms: opt_u64(media.get("timestamp"), "media.timestamp")?,
                sequence_number: seq,
                payload: &[],
            };
            self.payload.clear();
            let max = base64::decoded_len_max(payload.raw().len());
            self.payload.reserve(max);
            base64::decode_chars(payload.chars(), &mut self.payload, max)?;
            return Ok(Parsed::Media(m));
        }
        let ev = if event.eq_str("connected") {
            TwilioEvent::Connected {
                protocol: string_field(root.get("protocol"), "protocol")?.unwrap_or_default(),
                version: string_field(root.get("version"), "version")?.unwrap_or_default(),
            }
        } else if event.eq_str("start") {
            let start = self.parse_start(root, seq)?;
            self.stream_sid = Some(start.stream_sid.clone());
            TwilioEvent::Start(start)
        } else if event.eq_str("dtmf") {
            let d = root.get("dtmf").ok_or(WireError::MissingField("dtmf"))?;
            let digit = required_str(d.get("digit"), "dtmf.digit")?;
            let mut cs = digit.chars();
            let digit = match (cs.next(), cs.next()) {
                (Some(c), None) if crate::codec::telephone_event::digit_to_event(c).is_some() => {
                    c.to_ascii_uppercase()
                }
                _ => return Err(WireError::BadField("dtmf.digit")),
            };
            TwilioEvent::Dtmf {
                track: Track::parse(d.get("track")),
                digit,
            }
        } else if event.eq_str("mark") {
            let m = root.get("mark").ok_or(WireError::MissingField("mark"))?;
            TwilioEvent::Mark {
                name: required_str(m.get("name"), "mark.name")?,
            }
        } else if event.eq_str("stop") {
            TwilioEvent::Stop
        } else {
            TwilioEvent::Unknown(
                event
                    .to_owned_string(MAX_STRING)
                    .ok_or(WireError::BadField("event"))?,
            )
        };
        Ok(Parsed::Event(ev))
    }

    fn parse_start(&self, root: Value<'_>, seq: Option<u64>) -> Result<Start, WireError> {
        let s = root.get("start").ok_or(WireError::MissingField("start"))?;
        if !matches!(s, Value::Object(_)) {
            return Err(WireError::BadField("start"));
        }
        let stream_sid = match string_field(s.get("streamSid"), "start.streamSid")? {
            Some(sid) => sid,
            None => required_str(root.get("streamSid"), "start.streamSid")?,
        };
        let media_format = match s.get("mediaFormat") {
            None => MediaFormat {
                encoding: "audio/x-mulaw".into(),
                sample_rate: 8000,
                channels: 1,
            },
            Some(f @ Value::Object(_)) => MediaFormat {
                encoding: required_str(f.get("encoding"), "start.mediaFormat.encoding")?,
                sample_rate: opt_u64(f.get("sampleRate"), "start.mediaFormat.sampleRate")?
                    .unwrap_or(8000)
                    .try_into()
                    .map_err(|_| WireError::BadField("start.mediaFormat.sampleRate"))?,
                channels: opt_u64(f.get("channels"), "start.mediaFormat.channels")?
                    .unwrap_or(1)
                    .try_into()
                    .map_err(|_| WireError::BadField("start.mediaFormat.channels"))?,
            },
            Some(_) => return Err(WireError::BadField("start.mediaFormat")),
        };
        let mut tracks = Vec::new();
        match s.get("tracks") {
            None | Some(Value::Null) => {}
            Some(a @ Value::Array(_)) => {
                for t in a.elements().take(MAX_ENTRIES) {
                    tracks.push(required_str(Some(t), "start.tracks")?);
                }
            }
            Some(_) => return Err(WireError::BadField("start.tracks")),
        }
        let mut custom_parameters = Vec::new();
        match s.get("customParameters") {
            None | Some(Value::Null) => {}
            Some(o @ Value::Object(_)) => {
                for (k, v) in o.members().take(MAX_ENTRIES) {
                    let bad = WireError::BadField("start.customParameters");
                    let k = k.to_owned_string(MAX_STRING).ok_or(bad)?;
                    custom_parameters.push((k, json_text(v).ok_or(bad)?));
                }
            }
            Some(_) => return Err(WireError::BadField("start.customParameters")),
        }
        Ok(Start {
            stream_sid,
            call_sid: string_field(s.get("callSid"), "start.callSid")?.unwrap_or_default(),
            account_sid: string_field(s.get("accountSid"), "start.accountSid")?.unwrap_or_default(),
            tracks,
            media_format,
            custom_parameters,
            sequence_number: seq,
        })
    }

    fn sid(&self) -> Result<&str, WireError> {
        self.stream_sid.as_deref().ok_or(WireError::NotStarted)
    }

    /// Builds an outbound `media` message for the current stream (see
    /// [`write_media`]); [`WireError::NotStarted`] before `start`.
    pub fn media_message(&self, mulaw: &[u8], out: &mut String) -> Result<(), WireError> {
        write_media(self.sid()?, mulaw, out);
        Ok(())
    }

    /// Builds an outbound `mark` message for the current stream (see [`write_mark`]).
    pub fn mark_message(&self, name: &str, out: &mut String) -> Result<(), WireError> {
        write_mark(self.sid()?, name, out);
        Ok(())
    }

    /// Builds an outbound `clear` message for the current stream (see [`write_clear`]).
    pub fn clear_message(&self, out: &mut String) -> Result<(), WireError> {
        write_clear(self.sid()?, out);
        Ok(())
    }
}

enum Parsed {
    Event(TwilioEvent<'static>),
    Media(Media<'static>),
}

/// Replaces `out` with
/// `{"event":"media","streamSid":"…","media":{"payload":"<base64>"}}`.
/// Twilio expects μ-law 8 kHz mono in the payload.
pub fn write_media(stream_sid: &str, mulaw: &[u8], out: &mut String) {
    out.clear();
    out.reserve(64 + stream_sid.len() + base64::encoded_len(mulaw.len()));
    out.push_str("{\"event\":\"media\",\"streamSid\":");
    json::write_str(out, stream_sid);
    out.push_str(",\"media\":{\"payload\":\"");
    base64::encode_into(mulaw, out);
    out.push_str("\"}}");
}

/// Replaces `out` with `{"event":"mark","streamSid":"…","mark":{"name":"…"}}`.
pub fn write_mark(stream_sid: &str, name: &str, out: &mut String) {
    out.clear();
    out.push_str("{\"event\":\"mark\",\"streamSid\":");
    json::write_str(out, stream_sid);
    out.push_str(",\"mark\":{\"name\":");
    json::write_str(out, name);
    out.push_str("}}");
}

/// Replaces `out` with `{"event":"clear","streamSid":"…"}`.
pub fn write_clear(stream_sid: &str, out: &mut String) {
    out.clear();
    out.push_str("{\"event\":\"clear\",\"streamSid\":");
    json::write_str(out, stream_sid);
    out.push('}');
}
