//! The JSON control protocol (text frames). See `PROTOCOL.md`.
//!
//! Parsing is two-step so that every failure has a precise error code:
//! text → JSON value (`bad_json`), value → `type` string (`bad_message`),
//! known type → typed struct (`bad_field`), unknown type → `unknown_type`.
//! Unknown *fields* are ignored (forward compatibility).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// One offered codec: payload type and SDP rtpmap.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct CodecOffer {
    /// RTP payload type, 0..=127.
    pub pt: u8,
    /// `name/clock[/channels]`, e.g. `opus/48000/2`.
    pub rtpmap: String,
}

/// Network impairment applied to packets going to the browser.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Default)]
#[serde(default)]
pub struct Impairment {
    /// Probability of dropping a packet, percent (0..=100).
    pub loss_pct: f64,
    /// Extra delay drawn uniformly from 0..=jitter_ms per packet (0..=1000).
    pub jitter_ms: u32,
    /// Probability of holding a packet back so the next ones overtake it, percent.
    pub reorder_pct: f64,
    /// RNG seed (same seed, same decisions); default: derived from the session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl Impairment {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=100.0).contains(&self.loss_pct) {
            return Err("loss_pct must be 0..=100".into());
        }
        if !(0.0..=100.0).contains(&self.reorder_pct) {
            return Err("reorder_pct must be 0..=100".into());
        }
        if self.jitter_ms > 1000 {
            return Err("jitter_ms must be 0..=1000".into());
        }
        Ok(())
    }

    /// Whether it does anything.
    pub fn is_active(&self) -> bool {
        self.loss_pct > 0.0 || self.jitter_ms > 0 || self.reorder_pct > 0.0
    }
}

/// `telephone_event` in hello: a bare payload type or `{pt, rtpmap}`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum TelephoneEventOffer {
    /// Payload type only; the clock follows the audio codec.
    Pt(u8),
    /// Payload type and rtpmap (`telephone-event/8000`).
    Full {
        /// Payload type.
        pt: u8,
        /// rtpmap.
        rtpmap: Option<String>,
    },
}

/// Media transport for RTP.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Binary WebSocket frames.
    #[default]
    Ws,
    /// One unordered, unreliable WebRTC DataChannel.
    Datachannel,
}

/// `hello`: opens the session.
#[derive(Clone, Debug, Deserialize)]
pub struct Hello {
    /// Shared secret (when the gateway has `--token`).
    #[serde(default)]
    pub token: Option<String>,
    /// Configured peer name; default: the first configured.
    #[serde(default)]
    pub peer: Option<String>,
    /// Room name for `room` peers (default `"default"`).
    #[serde(default)]
    pub room: Option<String>,
    /// What a `sip` peer calls: a `sip:` URI or a number at the account's
    /// domain; it must be on the operator's `--sip-allow` list.
    #[serde(default)]
    pub dial: Option<String>,
    /// On a `sip` peer without `dial`: wait for an incoming call.
    #[serde(default)]
    pub incoming: bool,
    /// Codecs in order of preference.
    pub codecs: Vec<CodecOffer>,
    /// Packet time in ms (default 20).
    #[serde(default)]
    pub ptime: Option<u16>,
    /// RFC 4733 payload type, if the browser wants DTMF.
    #[serde(default)]
    pub telephone_event: Option<TelephoneEventOffer>,
    /// `ws` (default) or `datachannel`.
    #[serde(default)]
    pub transport: Transport,
    /// Initial impairment.
    #[serde(default)]
    pub impairment: Option<Impairment>,
}

/// `dtmf`: send a key to the peer (RFC 4733).
#[derive(Clone, Debug, Deserialize)]
pub struct Dtmf {
    /// `0`-`9`, `*`, `#`, `A`-`D`.
    pub digit: String,
    /// 40..=5000 ms, default 160.
    #[serde(default)]
    pub duration_ms: Option<u32>,
}

/// `webrtc-offer`.
#[derive(Clone, Debug, Deserialize)]
pub struct WebrtcOffer {
    /// The browser's SDP offer.
    pub sdp: String,
}

/// A parsed client message.
#[derive(Clone, Debug)]
pub enum ClientMsg {
    /// Open the session.
    Hello(Box<Hello>),
    /// Send DTMF.
    Dtmf(Dtmf),
    /// Change the impairment.
    Impair(Impairment),
    /// End the call.
    Hangup,
    /// Ask for counters.
    Stats,
    /// Keep-alive / RTT probe.
    Ping,
    /// WebRTC offer for the DataChannel transport.
    WebrtcOffer(WebrtcOffer),
    /// Answer the incoming SIP call that rings.
    Accept,
    /// Decline the incoming SIP call that rings (603).
    Reject,
    /// Put the SIP call on hold (`true`) or resume it.
    Hold(bool),
}

/// Why a request was refused: the `error` the client gets (not fatal).
#[derive(Clone, Debug, PartialEq)]
pub struct ProtoError {
    /// Error code (`bad_json`, `bad_field`, `unknown_peer`, … see PROTOCOL.md).
    pub code: &'static str,
    /// Human-readable detail.
    pub message: String,
}

impl ProtoError {
    /// An error with this code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> ProtoError {
        ProtoError {
            code,
            message: message.into(),
        }
    }
}

/// A parsed message and its optional correlation `id` (echoed in replies).
pub struct Parsed {
    /// The message.
    pub msg: Result<ClientMsg, ProtoError>,
    /// The request's `id`, any JSON value.
    pub id: Option<Value>,
}

fn field<T: serde::de::DeserializeOwned>(v: Value, ty: &str) -> Result<T, ProtoError> {
    serde_json::from_value(v).map_err(|e| ProtoError {
        code: "bad_field",
        message: format!("{ty}: {e}"),
    })
}

/// Parses one text frame.
pub fn parse(text: &str) -> Parsed {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Parsed {
                msg: Err(ProtoError {
                    code: "bad_json",
                    message: format!("not JSON: {e}"),
                }),
                id: None,
            }
        }
    };
    let id = v.get("id").cloned();
    let Some(obj) = v.as_object() else {
        return Parsed {
            msg: Err(ProtoError {
                code: "bad_message",
                message: "a message is a JSON object with a \"type\"".into(),
            }),
            id,
        };
    };
    let ty = match obj.get("type") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Parsed {
                msg: Err(ProtoError {
                    code: "bad_field",
                    message: "\"type\" must be a string".into(),
                }),
                id,
            }
        }
        None => {
            return Parsed {
                msg: Err(ProtoError {
                    code: "bad_message",
                    message: "missing \"type\"".into(),
                }),
                id,
            }
        }
    };
    let msg = match ty.as_str() {
        "hello" => field::<Hello>(v, "hello").map(|h| ClientMsg::Hello(Box::new(h))),
        "dtmf" => field::<Dtmf>(v, "dtmf").map(ClientMsg::Dtmf),
        "impair" => field::<Impairment>(v, "impair").map(ClientMsg::Impair),
        "hangup" => Ok(ClientMsg::Hangup),
        "stats" => Ok(ClientMsg::Stats),
        "ping" => Ok(ClientMsg::Ping),
        "accept" => Ok(ClientMsg::Accept),
        "reject" => Ok(ClientMsg::Reject),
        "hold" => Ok(ClientMsg::Hold(true)),
        "resume" => Ok(ClientMsg::Hold(false)),
        "webrtc-offer" => field::<WebrtcOffer>(v, "webrtc-offer").map(ClientMsg::WebrtcOffer),
        other => Err(ProtoError {
            code: "unknown_type",
            message: format!(
                "unknown message type {:?} (known: hello, dtmf, impair, hangup, stats, ping, webrtc-offer, accept, reject, hold, resume)",
                truncate(other, 40)
            ),
        }),
    };
    Parsed { msg, id }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Builds `{type:"error", code, message, fatal}` (+ `id`).
pub fn error(code: &str, message: &str, fatal: bool, id: Option<&Value>) -> String {
    let mut v = json!({"type": "error", "code": code, "message": message, "fatal": fatal});
    with_id(&mut v, id);
    v.to_string()
}

/// Adds the request `id` to a reply object.
pub fn with_id(v: &mut Value, id: Option<&Value>) {
    if let (Some(id), Some(o)) = (id, v.as_object_mut()) {
        o.insert("id".into(), id.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors() {
        assert_eq!(parse("{").msg.unwrap_err().code, "bad_json");
        assert_eq!(parse("[1]").msg.unwrap_err().code, "bad_message");
        assert_eq!(parse("{}").msg.unwrap_err().code, "bad_message");
        assert_eq!(parse(r#"{"type":5}"#).msg.unwrap_err().code, "bad_field");
        assert_eq!(
            parse(r#"{"type":"nope"}"#).msg.unwrap_err().code,
            "unknown_type"
        );
        assert_eq!(
            parse(r#"{"type":"hello","codecs":"PCMU"}"#)
                .msg
                .unwrap_err()
                .code,
            "bad_field"
        );
        assert_eq!(
            parse(r#"{"type":"dtmf","digit":5}"#).msg.unwrap_err().code,
            "bad_field"
        );
        let p = parse(r#"{"type":"ping","id":7}"#);
        assert!(matches!(p.msg, Ok(ClientMsg::Ping)));
        assert_eq!(p.id, Some(json!(7)));
    }

    #[test]
    fn hello_parses() {
        let p = parse(
            r#"{"type":"hello","peer":"echo","codecs":[{"pt":111,"rtpmap":"opus/48000/2"},{"pt":0,"rtpmap":"PCMU/8000"}],
                "ptime":20,"telephone_event":101,"transport":"datachannel","impairment":{"loss_pct":5},"extra":1}"#,
        );
        let ClientMsg::Hello(h) = p.msg.unwrap() else {
            panic!()
        };
        assert_eq!(h.codecs.len(), 2);
        assert_eq!(h.transport, Transport::Datachannel);
        assert_eq!(h.telephone_event, Some(TelephoneEventOffer::Pt(101)));
        assert_eq!(h.impairment.unwrap().loss_pct, 5.0);
        let p = parse(
            r#"{"type":"hello","codecs":[],"telephone_event":{"pt":101,"rtpmap":"telephone-event/8000"}}"#,
        );
        let ClientMsg::Hello(h) = p.msg.unwrap() else {
            panic!()
        };
        assert!(matches!(
            h.telephone_event,
            Some(TelephoneEventOffer::Full { pt: 101, .. })
        ));
    }
}
