//! Asterisk `chan_websocket` (Asterisk 20.16 / 21.11 / 22.6 / 23.0 and later).
//!
//! BINARY frames carry raw media in the channel's codec (no RTP header):
//! Asterisk sends one internal frame per message (160 bytes of μ-law every
//! 20 ms, 640 bytes of `slin16`, …), and accepts messages of any length
//! from the app, re-framing them itself (except in passthrough mode: opus,
//! speex, g729). TEXT frames carry control: events from Asterisk and
//! commands to it, either as one plain-text line (`NAME key:value …`, the
//! default, deprecated) or as one JSON object (`{"event":"NAME",…}` /
//! `{"command":"NAME",…}`, chosen with the dial-string option `f(json)`).
//!
//! Subset implemented (names are case-sensitive, as in Asterisk):
//!
//! | event (Asterisk → app) | parameters read |
//! |---|---|
//! | `MEDIA_START` | `connection_id`, `channel`, `channel_id`, `format`, `optimal_frame_size`, `ptime`, `channel_variables` (JSON only) |
//! | `DTMF_END` | `digit` |
//! | `MEDIA_XOFF` / `MEDIA_XON` | flow control: stop / resume sending media |
//! | `STATUS` | `queue_length`, `xon_level`, `xoff_level`, `queue_full`, `bulk_media`, `media_paused` |
//! | `MEDIA_BUFFERING_COMPLETED` | optional correlation id |
//! | `MEDIA_MARK_PROCESSED` | optional correlation id |
//! | `QUEUE_DRAINED` | — |
//! | `ERROR` | `error_text` |
//! | anything else | [`AsteriskEvent::Unknown`] with the name |
//!
//! Commands (app → Asterisk), [`Command`]: `ANSWER`, `HANGUP`,
//! `START_MEDIA_BUFFERING`, `STOP_MEDIA_BUFFERING [id]`, `FLUSH_MEDIA`
//! (barge-in), `PAUSE_MEDIA`, `CONTINUE_MEDIA`, `MARK_MEDIA [id]`,
//! `GET_STATUS`, `REPORT_QUEUE_DRAINED`, `SET_MEDIA_DIRECTION`. Asterisk
//! ignores text messages longer than 128 bytes, so the builders refuse them.
//!
//! Inbound media is re-framed by this adapter into whole codec frames of
//! `optimal_frame_size` bytes (see [`super::Reframer`]), so a payload never
//! splits a 16-bit sample, whatever sizes the messages have; passthrough
//! codecs are passed through message by message.

use super::json::{self, Value};
use super::{check_len, AudioFormat, Reframed, Reframer, WireError, DEFAULT_MAX_MESSAGE};

/// Longest text message Asterisk accepts from the app (it drops longer ones).
pub const MAX_COMMAND_LEN: usize = 128;
/// Longest string field kept from an event, in bytes.
pub const MAX_STRING: usize = 1024;
/// Most `channel_variables` kept from `MEDIA_START`; further ones are ignored.
pub const MAX_VARIABLES: usize = 256;

/// How control messages are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ControlFormat {
    /// One line: `NAME key:value …` (Asterisk's default).
    #[default]
    PlainText,
    /// One JSON object per message (`f(json)`).
    Json,
}

/// `MEDIA_START`: the connection is up; says the codec and frame size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MediaStart {
    /// `connection_id`.
    pub connection_id: String,
    /// `channel`, e.g. `WebSocket/connection1/0x5140001a0040`.
    pub channel: String,
    /// `channel_id` (the channel's unique id).
    pub channel_id: String,
    /// `format`: Asterisk's format name (`ulaw`, `alaw`, `slin16`, `opus`, …).
    pub format: String,
    /// `optimal_frame_size`: bytes of one `ptime` frame.
    pub optimal_frame_size: usize,
    /// `ptime` in milliseconds (20 when absent).
    pub ptime_ms: u32,
    /// `channel_variables` (JSON format only), in document order.
    pub channel_variables: Vec<(String, String)>,
}

impl MediaStart {
    /// The codec as the stream player takes it; `None` for formats voxlet
    /// cannot decode.
    pub fn audio_format(&self) -> Option<AudioFormat> {
        format_from_name(&self.format)
    }
}

/// Maps an Asterisk format name to an [`AudioFormat`]: `ulaw`, `alaw`,
/// `g722`, `opus` (decoded mono), and `slin` / `slin12` … `slin96`
/// (signed linear, host byte order, which is little-endian on every
/// platform Asterisk runs on in practice).
pub fn format_from_name(name: &str) -> Option<AudioFormat> {
    Some(match name {
        "ulaw" => AudioFormat::Pcmu,
        "alaw" => AudioFormat::Pcma,
        "g722" => AudioFormat::G722,
        "opus" => AudioFormat::Opus { channels: 1 },
        "slin" => AudioFormat::L16Le {
            rate: 8000,
            channels: 1,
        },
        _ => {
            let khz = name.strip_prefix("slin")?;
            let rate = match khz {
                "12" => 12_000,
                "16" => 16_000,
                "24" => 24_000,
                "32" => 32_000,
                "44" => 44_100,
                "48" => 48_000,
                "96" => 96_000,
                _ => return None,
            };
            AudioFormat::L16Le { rate, channels: 1 }
        }
    })
}

/// Whether Asterisk runs a format in passthrough mode (no re-framing).
pub fn is_passthrough_format(name: &str) -> bool {
    matches!(name, "opus" | "speex" | "speex16" | "speex32" | "g729")
}

/// `STATUS`: the driver's queue state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Frames queued in Asterisk.
    pub queue_length: u32,
    /// Below this, `MEDIA_XON` is sent.
    pub xon_level: u32,
    /// Above this, `MEDIA_XOFF` is sent and media is dropped.
    pub xoff_level: u32,
    /// The XOFF level was reached.
    pub queue_full: bool,
    /// A bulk (buffered) transfer is in progress.
    pub bulk_media: bool,
    /// `PAUSE_MEDIA` is in effect.
    pub media_paused: bool,
}

/// One control event from Asterisk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AsteriskEvent {
    /// `MEDIA_START`; the adapter adopts its format and frame size.
    MediaStart(MediaStart),
    /// `DTMF_END`: a key was released.
    DtmfEnd {
        /// The key.
        digit: char,
    },
    /// `MEDIA_XOFF`: Asterisk's queue is nearly full, stop sending media.
    MediaXoff,
    /// `MEDIA_XON`: safe to send media again.
    MediaXon,
    /// `STATUS`, the reply to `GET_STATUS`.
    Status(Status),
    /// `MEDIA_BUFFERING_COMPLETED`, after `STOP_MEDIA_BUFFERING`.
    MediaBufferingCompleted {
        /// The id given to `STOP_MEDIA_BUFFERING`, if any.
        correlation_id: Option<String>,
    },
    /// `MEDIA_MARK_PROCESSED`: everything before a `MARK_MEDIA` has played.
    MediaMarkProcessed {
        /// The id given to `MARK_MEDIA`, if any.
        correlation_id: Option<String>,
    },
    /// `QUEUE_DRAINED`, after `REPORT_QUEUE_DRAINED`.
    QueueDrained,
    /// `ERROR` with its text.
    Error {
        /// `error_text`.
        text: String,
    },
    /// An event this adapter does not know (its name).
    Unknown(String),
}

/// Media direction for `SET_MEDIA_DIRECTION`, from the app's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Asterisk drops media from the app.
    In,
    /// Asterisk sends no media to the app.
    Out,
    /// Both ways.
    Both,
}

/// A command to Asterisk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// `ANSWER` the channel.
    Answer,
    /// `HANGUP` the channel.
    Hangup,
    /// `START_MEDIA_BUFFERING`: buffer following media into whole frames.
    StartMediaBuffering,
    /// `STOP_MEDIA_BUFFERING [id]`.
    StopMediaBuffering(Option<&'a str>),
    /// `FLUSH_MEDIA`: drop queued media (barge-in).
    FlushMedia,
    /// `PAUSE_MEDIA`: play silence, keep the queue.
    PauseMedia,
    /// `CONTINUE_MEDIA`: resume after `PAUSE_MEDIA`.
    ContinueMedia,
    /// `MARK_MEDIA [id]`: ask for `MEDIA_MARK_PROCESSED` when reached.
    MarkMedia(Option<&'a str>),
    /// `GET_STATUS`.
    GetStatus,
    /// `REPORT_QUEUE_DRAINED`: ask for one `QUEUE_DRAINED`.
    ReportQueueDrained,
    /// `SET_MEDIA_DIRECTION`.
    SetMediaDirection(Direction),
}

impl Command<'_> {
    /// The command name.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Answer => "ANSWER",
            Command::Hangup => "HANGUP",
            Command::StartMediaBuffering => "START_MEDIA_BUFFERING",
            Command::StopMediaBuffering(_) => "STOP_MEDIA_BUFFERING",
            Command::FlushMedia => "FLUSH_MEDIA",
            Command::PauseMedia => "PAUSE_MEDIA",
            Command::ContinueMedia => "CONTINUE_MEDIA",
            Command::MarkMedia(_) => "MARK_MEDIA",
            Command::GetStatus => "GET_STATUS",
            Command::ReportQueueDrained => "REPORT_QUEUE_DRAINED",
            Command::SetMediaDirection(_) => "SET_MEDIA_DIRECTION",
        }
    }

    /// Replaces `out` with the command in `format`. A correlation id must
    /// be non-empty, without control characters or surrounding spaces
    /// ([`WireError::BadField`]); the message must fit in
    /// [`MAX_COMMAND_LEN`] bytes ([`WireError::TooLarge`]).
    pub fn write(&self, format: ControlFormat, out: &mut String) -> Result<(), WireError> {
        out.clear();
        let (key, value) = match *self {
            Command::StopMediaBuffering(Some(id)) | Command::MarkMedia(Some(id)) => {
                if id.is_empty() || id.trim() != id || id.chars().any(char::is_control) {
                    return Err(WireError::BadField("correlation_id"));
                }
                ("correlation_id", Some(id))
            }
            Command::SetMediaDirection(d) => (
                "direction",
                Some(match d {
                    Direction::In => "in",
                    Direction::Out => "out",
                    Direction::Both => "both",
                }),
            ),
            _ => ("", None),
        };
        match format {
            ControlFormat::PlainText => {
                out.push_str(self.name());
                if let Some(v) = value {
                    out.push(' ');
                    out.push_str(v);
                }
            }
            ControlFormat::Json => {
                out.push_str("{\"command\":\"");
                out.push_str(self.name());
                out.push('"');
                if let Some(v) = value {
                    out.push_str(",\"");
                    out.push_str(key);
                    out.push_str("\":");
                    json::write_str(out, v);
                }
                out.push('}');
            }
        }
        if out.len() > MAX_COMMAND_LEN {
            let len = out.len();
            out.clear();
            return Err(WireError::TooLarge {
                len,
                max: MAX_COMMAND_LEN,
            });
        }
        Ok(())
    }
}

/// Sans-IO chan_websocket adapter (the app side). See the module docs.
#[derive(Clone, Debug)]
pub struct AsteriskAdapter {
    max_message: usize,
    control: Option<ControlFormat>,
    start: Option<MediaStart>,
    format: Option<AudioFormat>,
    passthrough: bool,
    reframer: Reframer,
    xoff: bool,
    media_error: Option<WireError>,
}

impl Default for AsteriskAdapter {
    fn default() -> Self {
        Self::new()
    }
}

fn bounded(s: &str) -> Result<String, WireError> {
    if s.len() > MAX_STRING {
        Err(WireError::TooLarge {
            len: s.len(),
            max: MAX_STRING,
        })
    } else {
        Ok(s.to_string())
    }
}

fn parse_digit(s: &str) -> Result<char, WireError> {
    let mut cs = s.chars();
    match (cs.next(), cs.next()) {
        (Some(c), None) if crate::codec::telephone_event::digit_to_event(c).is_some() => {
            Ok(c.to_ascii_uppercase())
        }
        _ => Err(WireError::BadField("digit")),
    }
}

fn parse_bool(s: &str, field: &'static str) -> Result<bool, WireError> {
    match s {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(WireError::BadField(field)),
    }
}

impl AsteriskAdapter {
    /// An adapter waiting for `MEDIA_START`, with messages bounded by
    /// [`DEFAULT_MAX_MESSAGE`].
    pub fn new() -> AsteriskAdapter {
        AsteriskAdapter {
            max_message: DEFAULT_MAX_MESSAGE,
            control: None,
            start: None,
            format: None,
            passthrough: false,
            reframer: Reframer::new(1),
            xoff: false,
            media_error: None,
        }
    }

    /// An adapter whose media format is known up front (Asterisk format
    /// name and frame size), so media is accepted before `MEDIA_START`.
    pub fn with_format(
        format: &str,
        optimal_frame_size: usize,
    ) -> Result<AsteriskAdapter, WireError> {
        let mut a = Self::new();
        a.configure(format, optimal_frame_size)?;
        Ok(a)
    }

    /// Changes the message bound.
    pub fn set_max_message(&mut self, max: usize) {
        self.max_message = max;
    }

    fn configure(&mut self, format: &str, frame: usize) -> Result<(), WireError> {
        let f = format_from_name(format).ok_or(WireError::Unsupported("Asterisk format"))?;
        self.passthrough = is_passthrough_format(format);
        if !self.passthrough {
            // A frame must hold whole samples; fall back to 20 ms if absent.
            let sample_bytes = f.byte_unit().unwrap_or(1);
            let frame = if frame == 0 {
                f.bytes_for_ms(20).unwrap_or(160)
            } else {
                frame
            };
            if frame % sample_bytes != 0 || frame > self.max_message {
                return Err(WireError::BadField("optimal_frame_size"));
            }
            self.reframer = Reframer::new(frame);
        } else {
            self.reframer = Reframer::new(1);
        }
        self.format = Some(f);
        Ok(())
    }

    /// The `MEDIA_START` seen, if any.
    pub fn media_start(&self) -> Option<&MediaStart> {
        self.start.as_ref()
    }

    /// The media format, once known.
    pub fn audio_format(&self) -> Option<AudioFormat> {
        self.format
    }

    /// Bytes per re-framed media frame; `None` before the format is known
    /// or in passthrough mode (one frame per message).
    pub fn frame_bytes(&self) -> Option<usize> {
        (self.format.is_some() && !self.passthrough).then(|| self.reframer.unit())
    }

    /// The control format Asterisk used last (plain text until a JSON
    /// event is seen); [`AsteriskAdapter::command`] writes in it.
    pub fn control_format(&self) -> ControlFormat {
        self.control.unwrap_or_default()
    }

    /// Whether Asterisk asked us to stop sending media (`MEDIA_XOFF` seen,
    /// no `MEDIA_XON` since).
    pub fn is_xoff(&self) -> bool {
        self.xoff
    }

    /// Builds a command in the control format in use.
    pub fn command(&self, cmd: Command<'_>, out: &mut String) -> Result<(), WireError> {
        cmd.write(self.control_format(), out)
    }

    /// Takes one BINARY message of media and returns the whole frames now
    /// available (see [`Reframed::units`] with [`AsteriskAdapter::frame_bytes`]).
    /// An incomplete tail waits for the next message. In passthrough mode
    /// the message is returned whole. [`WireError::NotStarted`] before the
    /// format is known; the configuration error if `MEDIA_START` named a
    /// format voxlet cannot take (e.g. [`WireError::Unsupported`]).
    pub fn on_binary<'a>(&'a mut self, data: &'a [u8]) -> Result<Reframed<'a>, WireError> {
        check_len(data.len(), self.max_message)?;
        if self.format.is_none() {
            return Err(self.media_error.unwrap_or(WireError::NotStarted));
        }
        if self.passthrough {
            return Ok(Reframed {
                head: &[],
                body: data,
            });
        }
        Ok(self.reframer.push(data))
    }

    /// Bytes waiting for the rest of their frame.
    pub fn pending_media(&self) -> &[u8] {
        self.reframer.pending()
    }

    /// Drops media waiting for the rest of its frame.
    pub fn reset_media(&mut self) {
        self.reframer.reset();
    }

    /// Parses one TEXT message (plain-text or JSON, detected per message).
    pub fn on_text(&mut self, text: &str) -> Result<AsteriskEvent, WireError> {
        check_len(text.len(), self.max_message)?;
        let t = text.trim();
        let ev = if t.starts_with('{') {
            let ev = parse_json(t)?;
            self.control = Some(ControlFormat::Json);
            ev
        } else {
            let ev = parse_plain(t)?;
            self.control.get_or_insert(ControlFormat::PlainText);
            ev
        };
        match &ev {
            AsteriskEvent::MediaStart(ms) => {
                // The event is reported even for a format voxlet cannot
                // decode; media then fails with this error.
                self.media_error = self.configure(&ms.format, ms.optimal_frame_size).err();
                if self.media_error.is_some() {
                    self.format = None;
                }
                self.start = Some(ms.clone());
            }
            AsteriskEvent::MediaXoff => self.xoff = true,
            AsteriskEvent::MediaXon => self.xoff = false,
            _ => {}
        }
        Ok(ev)
    }
}

/// Field access over one control message, plain-text (`NAME key:value …`)
/// or JSON: [`event`] builds every event from either through it.
trait Fields {
    /// A string field; `None` when absent.
    fn text(&self, key: &'static str) -> Result<Option<String>, WireError>;
    /// An unsigned integer field; `None` when absent.
    fn uint(&self, key: &'static str) -> Result<Option<u64>, WireError>;
    /// A boolean field; `None` when absent.
    fn flag(&self, key: &'static str) -> Result<Option<bool>, WireError>;
    /// The correlation id of `MEDIA_BUFFERING_COMPLETED` and
    /// `MEDIA_MARK_PROCESSED`; empty is none.
    fn correlation_id(&self) -> Result<Option<String>, WireError>;
    /// The text of `ERROR`.
    fn error_text(&self) -> Result<String, WireError>;
    /// `MEDIA_START`'s channel variables (only JSON carries them).
    fn variables(&self) -> Result<Vec<(String, String)>, WireError> {
        Ok(Vec::new())
    }
}

/// The event `name` with its fields from `f`.
fn event(name: &str, f: &dyn Fields) -> Result<AsteriskEvent, WireError> {
    let num = |key: &'static str| -> Result<u32, WireError> {
        let v = f.uint(key)?.ok_or(WireError::MissingField(key))?;
        u32::try_from(v).map_err(|_| WireError::BadField(key))
    };
    let flag = |key: &'static str| f.flag(key)?.ok_or(WireError::MissingField(key));
    let text = |key: &'static str| Ok::<_, WireError>(f.text(key)?.unwrap_or_default());
    Ok(match name {
        "MEDIA_START" => AsteriskEvent::MediaStart(MediaStart {
            connection_id: text("connection_id")?,
            channel: text("channel")?,
            channel_id: text("channel_id")?,
            format: f.text("format")?.ok_or(WireError::MissingField("format"))?,
            optimal_frame_size: match f.uint("optimal_frame_size")? {
                Some(v) => {
                    usize::try_from(v).map_err(|_| WireError::BadField("optimal_frame_size"))?
                }
                None => 0,
            },
            ptime_ms: match f.uint("ptime")? {
                Some(v) => u32::try_from(v).map_err(|_| WireError::BadField("ptime"))?,
                None => 20,
            },
            channel_variables: f.variables()?,
        }),
        "DTMF_END" => AsteriskEvent::DtmfEnd {
            digit: parse_digit(&f.text("digit")?.ok_or(WireError::MissingField("digit"))?)?,
        },
        "MEDIA_XOFF" => AsteriskEvent::MediaXoff,
        "MEDIA_XON" => AsteriskEvent::MediaXon,
        "QUEUE_DRAINED" => AsteriskEvent::QueueDrained,
        "STATUS" => AsteriskEvent::Status(Status {
            queue_length: num("queue_length")?,
            xon_level: num("xon_level")?,
            xoff_level: num("xoff_level")?,
            queue_full: flag("queue_full")?,
            bulk_media: flag("bulk_media")?,
            media_paused: flag("media_paused")?,
        }),
        "MEDIA_BUFFERING_COMPLETED" => AsteriskEvent::MediaBufferingCompleted {
            correlation_id: f.correlation_id()?,
        },
        "MEDIA_MARK_PROCESSED" => AsteriskEvent::MediaMarkProcessed {
            correlation_id: f.correlation_id()?,
        },
        "ERROR" => AsteriskEvent::Error {
            text: f.error_text()?,
        },
        other => AsteriskEvent::Unknown(bounded(other)?),
    })
}

/// A plain-text message after its name: `key:value` words; for the
/// correlation id and the error text, the rest of the line.
struct Plain<'a>(&'a str);

impl Plain<'_> {
    fn param(&self, key: &str) -> Option<&str> {
        self.0
            .split_ascii_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix(':'))
    }
}

impl Fields for Plain<'_> {
    fn text(&self, key: &'static str) -> Result<Option<String>, WireError> {
        self.param(key).map(bounded).transpose()
    }

    fn uint(&self, key: &'static str) -> Result<Option<u64>, WireError> {
        self.param(key)
            .map(|v| v.parse().map_err(|_| WireError::BadField(key)))
            .transpose()
    }

    fn flag(&self, key: &'static str) -> Result<Option<bool>, WireError> {
        self.param(key).map(|v| parse_bool(v, key)).transpose()
    }

    fn correlation_id(&self) -> Result<Option<String>, WireError> {
        if self.0.is_empty() {
            Ok(None)
        } else {
            bounded(self.0).map(Some)
        }
    }

    fn error_text(&self) -> Result<String, WireError> {
        bounded(match self.0.find("error_text:") {
            Some(i) => &self.0[i + "error_text:".len()..],
            None => self.0,
        })
    }
}

/// Parses a plain-text control message.
fn parse_plain(t: &str) -> Result<AsteriskEvent, WireError> {
    if t.is_empty() {
        return Err(WireError::Empty);
    }
    let (name, rest) = match t.split_once(' ') {
        Some((n, r)) => (n, r.trim()),
        None => (t, ""),
    };
    event(name, &Plain(rest))
}

/// A JSON control message (an object).
struct Json<'a>(&'a Value<'a>);

impl Fields for Json<'_> {
    fn text(&self, key: &'static str) -> Result<Option<String>, WireError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => s
                .to_owned_string(MAX_STRING)
                .map(Some)
                .ok_or(WireError::BadField(key)),
            Some(_) => Err(WireError::BadField(key)),
        }
    }

    fn uint(&self, key: &'static str) -> Result<Option<u64>, WireError> {
        self.0
            .get(key)
            .map(|v| v.as_u64_lenient().ok_or(WireError::BadField(key)))
            .transpose()
    }

    fn flag(&self, key: &'static str) -> Result<Option<bool>, WireError> {
        self.0
            .get(key)
            .map(|v| match v {
                Value::Number(n) => parse_bool(n, key),
                _ => v.as_bool_lenient().ok_or(WireError::BadField(key)),
            })
            .transpose()
    }

    fn correlation_id(&self) -> Result<Option<String>, WireError> {
        Ok(self.text("correlation_id")?.filter(|s| !s.is_empty()))
    }

    fn error_text(&self) -> Result<String, WireError> {
        Ok(self.text("error_text")?.unwrap_or_default())
    }

    fn variables(&self) -> Result<Vec<(String, String)>, WireError> {
        let mut vars = Vec::new();
        if let Some(o @ Value::Object(_)) = self.0.get("channel_variables") {
            for (k, v) in o.members().take(MAX_VARIABLES) {
                let bad = WireError::BadField("channel_variables");
                let k = k.to_owned_string(MAX_STRING).ok_or(bad)?;
                let v = match v {
                    Value::String(s) => s.to_owned_string(MAX_STRING).ok_or(bad)?,
                    Value::Number(n) => n.to_string(),
                    _ => return Err(bad),
                };
                vars.push((k, v));
            }
        }
        Ok(vars)
    }
}

/// Parses a JSON control message.
fn parse_json(t: &str) -> Result<AsteriskEvent, WireError> {
    let root = json::parse(t)?;
    if !matches!(root, Value::Object(_)) {
        return Err(WireError::BadField("(root)"));
    }
    let name = match root.get("event") {
        Some(Value::String(s)) => s
            .to_owned_string(MAX_STRING)
            .ok_or(WireError::BadField("event"))?,
        Some(_) => return Err(WireError::BadField("event")),
        None => return Err(WireError::MissingField("event")),
    };
    event(&name, &Json(&root))
}
