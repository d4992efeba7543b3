//! Wire-format adapters for JavaScript, over [`crate::wire`]: raw RTP,
//! Twilio Media Streams JSON, Asterisk `chan_websocket`, and JSON metadata
//! + L16 (jambonz / FreeSWITCH `mod_audio_fork` / Vonage).
//!
//! These run on the main thread, next to the WebSocket or DataChannel:
//! each inbound message becomes a list of [`WireItem`]s (audio for the
//! player, marks, clear, DTMF, stream start / stop, other events), and the
//! sender's RTP packets become the format's outbound media messages. This
//! is not the render path, so items are ordinary JS objects.

use wasm_bindgen::prelude::*;

use super::js_err;
use crate::rtp::RtpPacket;
use crate::stream::AudioFormat;
use crate::wire::asterisk::{AsteriskEvent, Command, Direction};
use crate::wire::l16meta::L16Item;
use crate::wire::raw_rtp::RawItem;
use crate::wire::twilio::TwilioEvent;
use crate::wire::{base64, json, AsteriskAdapter, L16MetaAdapter, RawRtp, TwilioAdapter};

/// One thing an inbound message carried.
#[wasm_bindgen(getter_with_clone)]
#[derive(Clone, Debug, Default)]
pub struct WireItem {
    /// `audio`, `rtp`, `rtcp`, `start`, `mark`, `clear`, `dtmf`, `stop`,
    /// `event`, `text` or `error`.
    pub kind: String,
    /// The bytes (`audio`: codec bytes in `format`; `rtp` / `rtcp`: the packet).
    pub bytes: Option<Vec<u8>>,
    /// Mark name, DTMF digit, event name, error text or passed-through text.
    pub text: String,
    /// For `start` (and `audio`): the stream format in voxlet's stream
    /// notation (`pcmu`, `l16/16000/1`, `opus/48000/1`…), empty if unknown.
    pub format: String,
    /// For `start`: identifiers and parameters as JSON (streamSid,
    /// callSid, customParameters, channel variables, raw metadata…).
    pub json: String,
}

fn item(kind: &str) -> WireItem {
    WireItem {
        kind: kind.to_string(),
        ..Default::default()
    }
}

fn format_name(f: Option<AudioFormat>) -> String {
    match f {
        None => String::new(),
        Some(AudioFormat::Pcmu) => "pcmu".into(),
        Some(AudioFormat::Pcma) => "pcma".into(),
        Some(AudioFormat::G722) => "g722".into(),
        Some(AudioFormat::Opus { channels }) => format!("opus/48000/{channels}"),
        Some(AudioFormat::L16Le { rate, channels }) => format!("l16/{rate}/{channels}"),
        Some(AudioFormat::L16Be { rate, channels }) => format!("l16be/{rate}/{channels}"),
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::new();
    json::write_str(&mut o, s);
    o
}

fn json_pairs(pairs: &[(String, String)]) -> String {
    let mut o = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        json::write_str(&mut o, k);
        o.push(':');
        json::write_str(&mut o, v);
    }
    o.push('}');
    o
}

enum Kind {
    Rtp(RawRtp),
    Twilio(TwilioAdapter),
    Asterisk(AsteriskAdapter),
    L16(L16MetaAdapter),
}

/// One connection's wire-format adapter.
#[wasm_bindgen]
pub struct Wire {
    kind: Kind,
    out: String,
    seq: u64,
    chunk: u64,
    media_ms: u64,
}

fn rtp_payload(packet: &[u8]) -> Option<(&[u8], u32)> {
    RtpPacket::parse(packet)
        .ok()
        .map(|p| (p.payload(), p.timestamp()))
}

#[wasm_bindgen]
impl Wire {
    /// `format`: `rtp`, `twilio`, `asterisk` or `l16-meta`. `option`:
    /// Asterisk: a channel format known up front (`ulaw`, `slin16`…, empty
    /// to wait for `MEDIA_START`); l16-meta: the default rate when the
    /// metadata names none (0: required).
    #[wasm_bindgen(constructor)]
    pub fn new(format: &str, option: Option<String>) -> Result<Wire, JsError> {
        let opt = option.unwrap_or_default();
        let kind = match format {
            "rtp" | "raw-rtp" => Kind::Rtp(RawRtp::new()),
            "twilio" | "telnyx" => Kind::Twilio(TwilioAdapter::new()),
            "asterisk" => Kind::Asterisk(if opt.is_empty() {
                AsteriskAdapter::new()
            } else {
                AsteriskAdapter::with_format(&opt, 0).map_err(js_err)?
            }),
            "l16-meta" | "l16meta" | "jambonz" | "audio-fork" | "vonage" => {
                let rate: u32 = opt.parse().unwrap_or(0);
                Kind::L16(if rate > 0 {
                    L16MetaAdapter::with_default_rate(rate)
                } else {
                    L16MetaAdapter::new()
                })
            }
            _ => return Err(JsError::new(&format!("unknown wire format {format:?}"))),
        };
        Ok(Wire {
            kind,
            out: String::new(),
            seq: 0,
            chunk: 0,
            media_ms: 0,
        })
    }

    /// The player mode this format needs: `rtp` (jitter buffer) or `stream`.
    #[wasm_bindgen(getter, js_name = playerMode)]
    pub fn player_mode(&self) -> String {
        match self.kind {
            Kind::Rtp(_) => "rtp",
            _ => "stream",
        }
        .into()
    }

    /// Whether outbound media goes as text messages (Twilio) or binary.
    #[wasm_bindgen(getter, js_name = textMedia)]
    pub fn text_media(&self) -> bool {
        matches!(self.kind, Kind::Twilio(_))
    }

    /// The stream format known so far (voxlet stream notation), or empty.
    #[wasm_bindgen(getter)]
    pub fn format(&self) -> String {
        match &self.kind {
            Kind::Rtp(_) => String::new(),
            Kind::Twilio(_) => "pcmu".into(),
            Kind::Asterisk(a) => format_name(a.audio_format()),
            Kind::L16(l) => format_name(l.metadata().map(|m| m.audio_format())),
        }
    }

    /// Parses one inbound text message.
    #[wasm_bindgen(js_name = onText)]
    pub fn on_text(&mut self, text: &str) -> Vec<WireItem> {
        let mut v = Vec::new();
        match &mut self.kind {
            Kind::Rtp(r) => {
                let _ = r.on_text(text);
                v.push(WireItem {
                    text: "unexpected text message".into(),
                    ..item("error")
                });
            }
            Kind::Twilio(t) => match t.on_text(text) {
                Ok(ev) => v.push(twilio_item(ev)),
                Err(e) => v.push(WireItem {
                    text: e.to_string(),
                    ..item("error")
                }),
            },
            Kind::Asterisk(a) => match a.on_text(text) {
                Ok(ev) => v.push(asterisk_item(ev)),
                Err(e) => v.push(WireItem {
                    text: e.to_string(),
                    ..item("error")
                }),
            },
            Kind::L16(l) => match l.on_text(text) {
                Ok(L16Item::Metadata(m)) => v.push(WireItem {
                    format: format_name(Some(m.audio_format())),
                    json: m.json.clone(),
                    ..item("start")
                }),
                Ok(L16Item::Text(t)) => v.push(WireItem {
                    text: t.to_string(),
                    ..item("text")
                }),
                Ok(L16Item::Audio(_)) => {}
                Err(e) => v.push(WireItem {
                    text: e.to_string(),
                    ..item("error")
                }),
            },
        }
        v
    }

    /// Parses one inbound binary message.
    #[wasm_bindgen(js_name = onBinary)]
    pub fn on_binary(&mut self, data: &[u8]) -> Vec<WireItem> {
        let mut v = Vec::new();
        let err = |e: crate::wire::WireError| WireItem {
            text: e.to_string(),
            ..item("error")
        };
        match &mut self.kind {
            Kind::Rtp(r) => match r.on_binary(data) {
                Ok(RawItem::Rtp(_)) => v.push(WireItem {
                    bytes: Some(data.to_vec()),
                    ..item("rtp")
                }),
                Ok(RawItem::Rtcp(_)) => v.push(WireItem {
                    bytes: Some(data.to_vec()),
                    ..item("rtcp")
                }),
                Err(e) => v.push(WireItem {
                    // Still handed on: the receiver counts what it rejects.
                    bytes: Some(data.to_vec()),
                    ..err(e)
                }),
            },
            Kind::Twilio(t) => {
                if let Err(e) = t.on_binary(data) {
                    v.push(err(e));
                }
            }
            Kind::Asterisk(a) => {
                let format = format_name(a.audio_format());
                match a.on_binary(data) {
                    Ok(r) => {
                        let mut b = Vec::with_capacity(r.head.len() + r.body.len());
                        b.extend_from_slice(r.head);
                        b.extend_from_slice(r.body);
                        if !b.is_empty() {
                            v.push(WireItem {
                                bytes: Some(b),
                                format,
                                ..item("audio")
                            });
                        }
                    }
                    Err(e) => v.push(err(e)),
                }
            }
            Kind::L16(l) => {
                let format = format_name(l.metadata().map(|m| m.audio_format()));
                match l.on_binary(data) {
                    Ok(L16Item::Audio(a)) => {
                        if !a.is_empty() {
                            let mut b = Vec::with_capacity(a.head.len() + a.body.len());
                            b.extend_from_slice(a.head);
                            b.extend_from_slice(a.body);
                            v.push(WireItem {
                                bytes: Some(b),
                                format,
                                ..item("audio")
                            });
                        }
                    }
                    Ok(_) => {}
                    Err(e) => v.push(err(e)),
                }
            }
        }
        v
    }

    /// Sets the Twilio `streamSid` used in outbound messages (when this
    /// side starts the stream rather than learning it from `start`).
    #[wasm_bindgen(js_name = setStreamSid)]
    pub fn set_stream_sid(&mut self, sid: &str) {
        if let Kind::Twilio(t) = &mut self.kind {
            t.set_stream_sid(sid);
        }
    }

    /// The Twilio `streamSid` known (from `start` or `setStreamSid`).
    #[wasm_bindgen(getter, js_name = streamSid)]
    pub fn stream_sid(&self) -> Option<String> {
        match &self.kind {
            Kind::Twilio(t) => t.stream_sid().map(str::to_string),
            _ => None,
        }
    }

    /// Twilio: the outbound `media` message for one RTP packet from the
    /// mic (μ-law payload), with `sequenceNumber`, `track`, `chunk` and
    /// `timestamp` as Twilio itself writes them. `None` before the
    /// `streamSid` is known or for a non-audio packet.
    #[wasm_bindgen(js_name = mediaText)]
    pub fn media_text(&mut self, rtp: &[u8], payload_type: u8) -> Option<String> {
        let Kind::Twilio(t) = &self.kind else {
            return None;
        };
        let sid = t.stream_sid()?.to_string();
        let p = RtpPacket::parse(rtp).ok()?;
        if p.payload_type() != payload_type || p.payload().is_empty() {
            return None;
        }
        self.seq += 1;
        self.chunk += 1;
        let ts = self.media_ms;
        self.media_ms += p.payload().len() as u64 / 8;
        let o = &mut self.out;
        o.clear();
        o.push_str("{\"event\":\"media\",\"sequenceNumber\":\"");
        o.push_str(&self.seq.to_string());
        o.push_str("\",\"media\":{\"track\":\"inbound\",\"chunk\":\"");
        o.push_str(&self.chunk.to_string());
        o.push_str("\",\"timestamp\":\"");
        o.push_str(&ts.to_string());
        o.push_str("\",\"payload\":\"");
        base64::encode_into(p.payload(), o);
        o.push_str("\"},\"streamSid\":");
        json::write_str(o, &sid);
        o.push('}');
        Some(o.clone())
    }

    /// Binary formats: the outbound media message for one RTP packet (the
    /// payload; little-endian for l16-meta, whose peers want LE PCM;
    /// the packet itself for raw RTP). `None` for other payload types.
    #[wasm_bindgen(js_name = mediaBinary)]
    pub fn media_binary(&mut self, rtp: &[u8], payload_type: u8) -> Option<Vec<u8>> {
        match &self.kind {
            Kind::Rtp(_) => Some(rtp.to_vec()),
            Kind::Twilio(_) => None,
            Kind::Asterisk(a) => {
                if a.is_xoff() {
                    return None;
                }
                let (payload, _) = rtp_payload(rtp)?;
                (RtpPacket::parse(rtp).ok()?.payload_type() == payload_type)
                    .then(|| payload.to_vec())
            }
            Kind::L16(_) => {
                let p = RtpPacket::parse(rtp).ok()?;
                if p.payload_type() != payload_type {
                    return None;
                }
                // RTP's L16 is big-endian; these peers take little-endian.
                let mut b = p.payload().to_vec();
                for pair in b.chunks_exact_mut(2) {
                    pair.swap(0, 1);
                }
                Some(b)
            }
        }
    }

    /// Twilio: a `mark` message (acknowledging a mark once its audio has
    /// played, or asking the peer for one).
    #[wasm_bindgen(js_name = markMessage)]
    pub fn mark_message(&mut self, name: &str) -> Result<String, JsError> {
        match &self.kind {
            Kind::Twilio(t) => {
                t.mark_message(name, &mut self.out).map_err(js_err)?;
                self.seq += 1;
                Ok(self.out.clone())
            }
            Kind::Asterisk(a) => {
                let id = (!name.is_empty()).then_some(name);
                a.command(Command::MarkMedia(id), &mut self.out)
                    .map_err(js_err)?;
                Ok(self.out.clone())
            }
            _ => Err(JsError::new("this wire format has no marks")),
        }
    }

    /// Twilio: a `clear` message; Asterisk: `FLUSH_MEDIA`.
    #[wasm_bindgen(js_name = clearMessage)]
    pub fn clear_message(&mut self) -> Result<String, JsError> {
        match &self.kind {
            Kind::Twilio(t) => {
                t.clear_message(&mut self.out).map_err(js_err)?;
                Ok(self.out.clone())
            }
            Kind::Asterisk(a) => {
                a.command(Command::FlushMedia, &mut self.out)
                    .map_err(js_err)?;
                Ok(self.out.clone())
            }
            _ => Err(JsError::new("this wire format has no clear")),
        }
    }

    /// Twilio: a `dtmf` message for a key pressed on this side.
    #[wasm_bindgen(js_name = dtmfMessage)]
    pub fn dtmf_message(&mut self, digit: &str) -> Option<String> {
        let Kind::Twilio(t) = &self.kind else {
            return None;
        };
        let sid = t.stream_sid()?.to_string();
        self.seq += 1;
        Some(format!(
            "{{\"event\":\"dtmf\",\"streamSid\":{},\"sequenceNumber\":\"{}\",\"dtmf\":{{\"track\":\"inbound_track\",\"digit\":{}}}}}",
            json_str(&sid),
            self.seq,
            json_str(digit)
        ))
    }

    /// Asterisk: a command (`ANSWER`, `HANGUP`, `FLUSH_MEDIA`,
    /// `MARK_MEDIA`, `PAUSE_MEDIA`, `CONTINUE_MEDIA`, `GET_STATUS`,
    /// `REPORT_QUEUE_DRAINED`, `START_MEDIA_BUFFERING`,
    /// `STOP_MEDIA_BUFFERING`, `SET_MEDIA_DIRECTION`) with its optional
    /// argument, in the control format Asterisk uses.
    pub fn command(&mut self, name: &str, arg: Option<String>) -> Result<String, JsError> {
        let Kind::Asterisk(a) = &self.kind else {
            return Err(JsError::new("commands are for the asterisk format"));
        };
        let arg = arg.as_deref().filter(|s| !s.is_empty());
        let cmd = match name.to_ascii_uppercase().as_str() {
            "ANSWER" => Command::Answer,
            "HANGUP" => Command::Hangup,
            "START_MEDIA_BUFFERING" => Command::StartMediaBuffering,
            "STOP_MEDIA_BUFFERING" => Command::StopMediaBuffering(arg),
            "FLUSH_MEDIA" => Command::FlushMedia,
            "PAUSE_MEDIA" => Command::PauseMedia,
            "CONTINUE_MEDIA" => Command::ContinueMedia,
            "MARK_MEDIA" => Command::MarkMedia(arg),
            "GET_STATUS" => Command::GetStatus,
            "REPORT_QUEUE_DRAINED" => Command::ReportQueueDrained,
            "SET_MEDIA_DIRECTION" => Command::SetMediaDirection(match arg {
                Some("in") | Some("IN") => Direction::In,
                Some("out") | Some("OUT") => Direction::Out,
                _ => Direction::Both,
            }),
            _ => return Err(JsError::new(&format!("unknown Asterisk command {name}"))),
        };
        a.command(cmd, &mut self.out).map_err(js_err)?;
        Ok(self.out.clone())
    }
}

fn twilio_item(ev: TwilioEvent<'_>) -> WireItem {
    match ev {
        TwilioEvent::Connected { protocol, .. } => WireItem {
            text: "connected".into(),
            json: format!("{{\"protocol\":{}}}", json_str(&protocol)),
            ..item("event")
        },
        TwilioEvent::Start(s) => WireItem {
            format: format_name(s.media_format.audio_format()),
            json: format!(
                "{{\"streamSid\":{},\"callSid\":{},\"accountSid\":{},\"customParameters\":{}}}",
                json_str(&s.stream_sid),
                json_str(&s.call_sid),
                json_str(&s.account_sid),
                json_pairs(&s.custom_parameters)
            ),
            ..item("start")
        },
        TwilioEvent::Media(m) => WireItem {
            bytes: Some(m.payload.to_vec()),
            format: "pcmu".into(),
            ..item("audio")
        },
        TwilioEvent::Dtmf { digit, .. } => WireItem {
            text: digit.to_string(),
            ..item("dtmf")
        },
        TwilioEvent::Mark { name } => WireItem {
            text: name,
            ..item("mark")
        },
        TwilioEvent::Stop => item("stop"),
        TwilioEvent::Unknown(name) if name == "clear" => item("clear"),
        TwilioEvent::Unknown(name) => WireItem {
            text: name,
            ..item("event")
        },
    }
}

fn asterisk_item(ev: AsteriskEvent) -> WireItem {
    match ev {
        AsteriskEvent::MediaStart(ms) => WireItem {
            format: format_name(ms.audio_format()),
            text: ms.format.clone(),
            json: format!(
                "{{\"connectionId\":{},\"channel\":{},\"channelId\":{},\"format\":{},\"optimalFrameSize\":{},\"ptimeMs\":{},\"channelVariables\":{}}}",
                json_str(&ms.connection_id),
                json_str(&ms.channel),
                json_str(&ms.channel_id),
                json_str(&ms.format),
                ms.optimal_frame_size,
                ms.ptime_ms,
                json_pairs(&ms.channel_variables)
            ),
            ..item("start")
        },
        AsteriskEvent::DtmfEnd { digit } => WireItem {
            text: digit.to_string(),
            ..item("dtmf")
        },
        AsteriskEvent::MediaMarkProcessed { correlation_id } => WireItem {
            text: correlation_id.unwrap_or_default(),
            ..item("mark")
        },
        AsteriskEvent::Error { text } => WireItem {
            text,
            ..item("error")
        },
        AsteriskEvent::MediaXoff => WireItem {
            text: "MEDIA_XOFF".into(),
            ..item("event")
        },
        AsteriskEvent::MediaXon => WireItem {
            text: "MEDIA_XON".into(),
            ..item("event")
        },
        AsteriskEvent::QueueDrained => WireItem {
            text: "QUEUE_DRAINED".into(),
            ..item("event")
        },
        AsteriskEvent::Status(s) => WireItem {
            text: "STATUS".into(),
            json: format!(
                "{{\"queueLength\":{},\"xonLevel\":{},\"xoffLevel\":{},\"queueFull\":{},\"bulkMedia\":{},\"mediaPaused\":{}}}",
                s.queue_length, s.xon_level, s.xoff_level, s.queue_full, s.bulk_media, s.media_paused
            ),
            ..item("event")
        },
        AsteriskEvent::MediaBufferingCompleted { correlation_id } => WireItem {
            text: "MEDIA_BUFFERING_COMPLETED".into(),
            json: format!(
                "{{\"correlationId\":{}}}",
                json_str(&correlation_id.unwrap_or_default())
            ),
            ..item("event")
        },
        AsteriskEvent::Unknown(name) => WireItem {
            text: name,
            ..item("event")
        },
    }
}
