//! `hello` negotiation: the browser's offer against the operator's
//! configuration, decided in one pure function.
//!
//! It is kept apart from the session so that it can be tested without
//! sockets (see the table in the tests below), and so that there is one
//! place where policy is decided: which peer a browser gets (by configured
//! name only, never by address), which codecs, ptime, DTMF payload type,
//! transport and impairment. The session only carries the [`Plan`] out.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use voxlet::codec::{parse_rtpmap, CodecInfo, CodecKind};

use crate::config::{Config, PeerKind};
use crate::peer::{self, StreamInfo};
use crate::protocol::{Hello, Impairment, ProtoError, TelephoneEventOffer, Transport};
use crate::sip::allow::{self, AllowList, SipTarget};

/// Packet times the gateway accepts.
pub const PTIMES: [u16; 5] = [10, 20, 30, 40, 60];
/// Packet time when `hello` has none.
pub const DEFAULT_PTIME: u16 = 20;
/// Most codecs a `hello` may offer.
pub const MAX_CODECS: usize = 32;
/// Room joined when `hello` names none.
pub const DEFAULT_ROOM: &str = "default";

/// An offered codec the gateway knows.
#[derive(Clone, Debug, PartialEq)]
pub struct Codec {
    /// Payload type, as offered.
    pub pt: u8,
    /// Normalised rtpmap (`PCMU/8000`, `opus/48000/2`).
    pub rtpmap: String,
    /// Kind, clock rate and channels.
    pub info: CodecInfo,
}

/// The peer to set up, with everything needed to start it.
#[derive(Clone, Debug, PartialEq)]
pub enum PeerPlan {
    /// Loop packets back; `restamp`: under the gateway's own SSRC.
    Echo {
        /// Replace the SSRC.
        restamp: bool,
    },
    /// Play a raw s16le mono recording, encoded with the first codec.
    Announce {
        /// The recording.
        file: PathBuf,
        /// Its sample rate.
        rate: u32,
    },
    /// Join a two-caller room.
    Room {
        /// The room's name.
        room: String,
    },
    /// Bridge to the configured RTP endpoint.
    Udp {
        /// Where RTP goes (RTCP: port + 1).
        addr: SocketAddr,
        /// Local address to bind.
        bind_ip: IpAddr,
        /// Even local port range, `None`: any.
        ports: Option<(u16, u16)>,
    },
    /// Place a SIP call to an allowed destination, or wait for one.
    Sip {
        /// The destination, built from validated parts and allowed;
        /// `None`: wait for an incoming call.
        target: Option<SipTarget>,
        /// Local address the RTP sockets bind to.
        bind_ip: IpAddr,
        /// Even local port range, `None`: any.
        ports: Option<(u16, u16)>,
    },
}

impl PeerPlan {
    /// Short kind name, as in `/config.json` and the answer's `peer_kind`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            PeerPlan::Echo { .. } => "echo",
            PeerPlan::Announce { .. } => "announce",
            PeerPlan::Room { .. } => "room",
            PeerPlan::Udp { .. } => "udp",
            PeerPlan::Sip { .. } => "sip",
        }
    }
}

/// Everything decided about a session before any I/O.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The configured peer's name.
    pub peer_name: String,
    /// The peer and its parameters.
    pub peer: PeerPlan,
    /// Codecs the peer can take, in the browser's order, never empty. A room
    /// uses the first that matches the room's codec; other peers the first.
    pub codecs: Vec<Codec>,
    /// Packet time, ms.
    pub ptime: u16,
    /// RFC 4733 payload type; never one of `codecs`' payload types.
    pub telephone_event: Option<u8>,
    /// Media transport.
    pub transport: Transport,
    /// Initial impairment (validated).
    pub impairment: Impairment,
}

/// Decides the session a `hello` gets under `config`, or the error the
/// browser gets. The token is not checked here (see `session`).
pub fn negotiate(hello: &Hello, config: &Config) -> Result<Plan, ProtoError> {
    let h = hello;
    let Some(spec) = config.peer(h.peer.as_deref()) else {
        let names: Vec<&str> = config.peers.iter().map(|p| p.name.as_str()).collect();
        return Err(ProtoError::new(
            "unknown_peer",
            format!(
                "no peer named {:?}; configured: {}",
                h.peer.as_deref().unwrap_or(""),
                names.join(", ")
            ),
        ));
    };
    let ptime = h.ptime.unwrap_or(DEFAULT_PTIME);
    if !PTIMES.contains(&ptime) {
        return Err(ProtoError::new(
            "bad_ptime",
            "ptime must be 10, 20, 30, 40 or 60",
        ));
    }
    if h.codecs.len() > MAX_CODECS {
        return Err(ProtoError::new("bad_field", "hello: at most 32 codecs"));
    }
    let mut known = Vec::new();
    for c in &h.codecs {
        if c.pt > 127 {
            return Err(ProtoError::new(
                "bad_field",
                format!("hello: payload type {} > 127", c.pt),
            ));
        }
        // Codecs the gateway does not know are skipped, not refused; so
        // are telephone-event and comfort noise, which are not audio codecs.
        if let Ok(info) = parse_rtpmap(&c.rtpmap) {
            if !matches!(
                info.kind,
                CodecKind::TelephoneEvent | CodecKind::ComfortNoise
            ) {
                known.push(Codec {
                    pt: c.pt,
                    rtpmap: rtpmap_of(&info),
                    info,
                });
            }
        }
    }
    let telephone_event = match &h.telephone_event {
        None => None,
        Some(TelephoneEventOffer::Pt(p)) => Some(*p),
        Some(TelephoneEventOffer::Full { pt, .. }) => Some(*pt),
    };
    if telephone_event.is_some_and(|p| p > 127) {
        return Err(ProtoError::new("bad_field", "hello: telephone_event > 127"));
    }
    let impairment = h.impairment.unwrap_or_default();
    if let Err(e) = impairment.validate() {
        return Err(ProtoError::new(
            "bad_field",
            format!("hello.impairment: {e}"),
        ));
    }
    let no_known = known.is_empty();
    let codecs: Vec<Codec> = known
        .into_iter()
        .filter(|c| Some(c.pt) != telephone_event && takes(&spec.kind, config, c, ptime))
        .collect();
    let Some(first) = codecs.first() else {
        let msg = if no_known {
            "no codec offered that the gateway knows (PCMU, PCMA, G722, L16, opus)".to_string()
        } else {
            format!(
                "peer {:?} takes none of the offered codecs at ptime {ptime}",
                spec.name
            )
        };
        return Err(ProtoError::new("no_codec", msg));
    };
    let peer = match &spec.kind {
        PeerKind::Echo { restamp } => PeerPlan::Echo { restamp: *restamp },
        PeerKind::Announce { file } => {
            let (file, rate) = match file {
                Some((p, r)) => (p.clone(), *r),
                None => peer::fixture_for(&config.fixtures, &first.info),
            };
            PeerPlan::Announce { file, rate }
        }
        PeerKind::Room => {
            let room = h.room.clone().unwrap_or_else(|| DEFAULT_ROOM.into());
            if room.is_empty() || room.len() > 64 || room.chars().any(|c| c.is_control()) {
                return Err(ProtoError::new(
                    "bad_field",
                    "hello.room: 1-64 printable characters",
                ));
            }
            PeerPlan::Room { room }
        }
        PeerKind::Udp { addr } => PeerPlan::Udp {
            addr: *addr,
            bind_ip: peer::bind_ip_for(addr, config.rtp_bind),
            ports: config.rtp_ports,
        },
        PeerKind::Sip => PeerPlan::Sip {
            target: match (&h.dial, h.incoming) {
                (None, true) => None,
                (dial, _) => Some(sip_target(dial.as_deref(), config)?),
            },
            bind_ip: config.rtp_bind.unwrap_or(config.sip.bind.ip()),
            ports: config.rtp_ports,
        },
    };
    Ok(Plan {
        peer_name: spec.name.clone(),
        peer,
        codecs,
        ptime,
        telephone_event,
        transport: h.transport,
        impairment,
    })
}

/// The destination of a `sip` peer: `hello.dial` resolved and checked
/// against the operator's allow-list (`not_allowed` otherwise).
fn sip_target(dial: Option<&str>, config: &Config) -> Result<SipTarget, ProtoError> {
    let Some(dial) = dial else {
        return Err(ProtoError::new(
            "bad_field",
            "hello.dial: a sip peer needs a SIP URI or number to call (or incoming: true)",
        ));
    };
    let account = match &config.sip.account {
        Some(a) => allow::parse_account(a)
            .map_err(|e| ProtoError::new("peer_unavailable", format!("--sip-account: {e}")))?,
        None => SipTarget {
            user: Some("voxlet".into()),
            host: match config.sip.bind.ip() {
                IpAddr::V6(v) => format!("[{v}]"),
                ip => ip.to_string(),
            },
            port: Some(config.sip.bind.port()),
        },
    };
    let target = allow::resolve_dial(dial, &account)
        .map_err(|e| ProtoError::new("bad_field", format!("hello.dial: {e}")))?;
    let list = AllowList::parse(&config.sip.allow)
        .map_err(|e| ProtoError::new("peer_unavailable", format!("--sip-allow: {e}")))?;
    list.check(target)
        .map_err(|e| ProtoError::new("not_allowed", e.to_string()))
}

/// Whether a peer of this kind can take `c` at `ptime`.
fn takes(kind: &PeerKind, config: &Config, c: &Codec, ptime: u16) -> bool {
    match kind {
        PeerKind::Udp { .. } if !config.udp_codecs.is_empty() => config
            .udp_codecs
            .iter()
            .any(|f| parse_rtpmap(f).is_ok_and(|fi| fi == c.info)),
        // The announcer encodes: only what voxlet's Sender can encode at this ptime.
        PeerKind::Announce { .. } => {
            let si = StreamInfo {
                session: 0,
                codec: c.info,
                pt: c.pt,
                rtpmap: c.rtpmap.clone(),
                te_pt: None,
                ptime,
            };
            peer::announce_sender(&si, 48000).is_ok()
        }
        PeerKind::Sip => crate::sip::sdp::sip_codec(c),
        _ => true,
    }
}

/// The rtpmap as the answer states it (Opus always with `/2`).
fn rtpmap_of(info: &CodecInfo) -> String {
    if info.channels > 1 || info.kind == CodecKind::Opus {
        format!(
            "{}/{}/{}",
            info.kind.sdp_name(),
            info.clock_rate,
            info.channels.max(2)
        )
    } else {
        format!("{}/{}", info.kind.sdp_name(), info.clock_rate)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};

    use super::*;
    use crate::config::parse_peer;
    use crate::protocol::{parse, ClientMsg};

    const NAMES: &str = "echo, me, announce, file, room, pbx, far, phone";

    /// Every peer kind, twice where a parameter differs.
    fn config() -> Config {
        Config {
            peers: [
                "echo",
                "me=echo:restamp",
                "announce",
                "file=announce:/srv/hold.s16le@16000",
                "room",
                "pbx=udp:127.0.0.1:5004",
                "far=udp:192.0.2.7:5004",
                "phone=sip",
            ]
            .iter()
            .map(|s| parse_peer(s).unwrap())
            .collect(),
            fixtures: "/fx".into(),
            sip: crate::config::SipConfig {
                account: Some("sip:1000@pbx.example".into()),
                allow: vec!["sip:1???@pbx.example".into(), "sip:*@127.0.0.1:5062".into()],
                ..Default::default()
            },
            ..Config::default()
        }
    }
    fn sip(target: Option<&str>) -> PeerPlan {
        PeerPlan::Sip {
            target: target.map(|t| crate::sip::allow::parse_uri(t).unwrap()),
            bind_ip: "127.0.0.1".parse().unwrap(),
            ports: None,
        }
    }

    /// Only `echo`.
    fn echo_only() -> Config {
        Config {
            peers: vec![parse_peer("echo").unwrap()],
            ..config()
        }
    }

    /// UDP peers limited to PCMA and stereo Opus.
    fn udp_filtered() -> Config {
        Config {
            udp_codecs: vec!["pcma/8000".into(), "opus/48000/2".into()],
            ..config()
        }
    }

    fn offer(pt: u32, rtpmap: &str) -> Value {
        json!({"pt": pt, "rtpmap": rtpmap})
    }

    fn codec(pt: u8, rtpmap: &str, kind: CodecKind, clock: u32, channels: u16) -> Codec {
        Codec {
            pt,
            rtpmap: rtpmap.into(),
            info: CodecInfo::new(kind, clock, channels).unwrap(),
        }
    }
    fn pcmu() -> Codec {
        codec(0, "PCMU/8000", CodecKind::Pcmu, 8000, 1)
    }
    fn pcma() -> Codec {
        codec(8, "PCMA/8000", CodecKind::Pcma, 8000, 1)
    }
    fn g722() -> Codec {
        codec(9, "G722/8000", CodecKind::G722, 8000, 1)
    }
    fn l16() -> Codec {
        codec(96, "L16/16000", CodecKind::L16, 16000, 1)
    }
    fn l16_stereo() -> Codec {
        codec(97, "L16/48000/2", CodecKind::L16, 48000, 2)
    }
    fn opus() -> Codec {
        codec(111, "opus/48000/2", CodecKind::Opus, 48000, 2)
    }

    /// A plan with the defaults (ptime 20, no DTMF, ws, no impairment).
    fn plan(peer_name: &str, peer: PeerPlan, codecs: Vec<Codec>) -> Plan {
        Plan {
            peer_name: peer_name.into(),
            peer,
            codecs,
            ptime: 20,
            telephone_event: None,
            transport: Transport::Ws,
            impairment: Impairment::default(),
        }
    }
    fn echo() -> PeerPlan {
        PeerPlan::Echo { restamp: false }
    }
    fn announce(file: &str, rate: u32) -> PeerPlan {
        PeerPlan::Announce {
            file: file.into(),
            rate,
        }
    }
    fn room(name: &str) -> PeerPlan {
        PeerPlan::Room { room: name.into() }
    }
    fn udp(addr: &str, bind_ip: &str, ports: Option<(u16, u16)>) -> PeerPlan {
        PeerPlan::Udp {
            addr: addr.parse().unwrap(),
            bind_ip: bind_ip.parse().unwrap(),
            ports,
        }
    }
    fn err(code: &'static str, message: &str) -> Result<Plan, ProtoError> {
        Err(ProtoError::new(code, message))
    }
    fn no_codec_known() -> Result<Plan, ProtoError> {
        err(
            "no_codec",
            "no codec offered that the gateway knows (PCMU, PCMA, G722, L16, opus)",
        )
    }

    /// The hello text as a browser sends it, through `protocol::parse`, then `negotiate`.
    fn run(config: &Config, hello: &Value) -> Result<Plan, ProtoError> {
        let mut v = hello.clone();
        v["type"] = json!("hello");
        match parse(&v.to_string()).msg? {
            ClientMsg::Hello(h) => negotiate(&h, config),
            other => panic!("not a hello: {other:?}"),
        }
    }

    struct Case {
        name: &'static str,
        config: Config,
        hello: Value,
        want: Result<Plan, ProtoError>,
    }

    fn case(
        name: &'static str,
        config: Config,
        hello: Value,
        want: Result<Plan, ProtoError>,
    ) -> Case {
        Case {
            name,
            config,
            hello,
            want,
        }
    }

    fn cases() -> Vec<Case> {
        let pcmu_offer = || json!([offer(0, "PCMU/8000")]);
        let c = config;
        let all_offer = || {
            json!([
                offer(96, "L16/16000"),
                offer(111, "opus/48000/2"),
                offer(9, "G722/8000"),
                offer(0, "PCMU/8000"),
                offer(8, "PCMA/8000")
            ])
        };
        vec![
            // ---- sip: destinations from the allow-list only, SIP codecs only
            case(
                "sip: a number at the account's domain, allowed; L16 is not offered to SIP",
                c(),
                json!({"peer": "phone", "dial": "1001", "codecs": all_offer()}),
                Ok(plan(
                    "phone",
                    sip(Some("sip:1001@pbx.example")),
                    vec![opus(), g722(), pcmu(), pcma()],
                )),
            ),
            case(
                "sip: a URI on the list",
                c(),
                json!({"peer": "phone", "dial": "sip:bob@127.0.0.1:5062", "codecs": pcmu_offer()}),
                Ok(plan(
                    "phone",
                    sip(Some("sip:bob@127.0.0.1:5062")),
                    vec![pcmu()],
                )),
            ),
            case(
                "sip: a number the list does not allow",
                c(),
                json!({"peer": "phone", "dial": "9001", "codecs": pcmu_offer()}),
                err(
                    "not_allowed",
                    "sip:9001@pbx.example is not an allowed destination",
                ),
            ),
            case(
                "sip: another host",
                c(),
                json!({"peer": "phone", "dial": "sip:1001@evil.example", "codecs": pcmu_offer()}),
                err(
                    "not_allowed",
                    "sip:1001@evil.example is not an allowed destination",
                ),
            ),
            case(
                "sip: a URI parameter is refused before the list is consulted",
                c(),
                json!({"peer": "phone", "dial": "sip:1001@pbx.example;maddr=192.0.2.9", "codecs": pcmu_offer()}),
                err(
                    "bad_field",
                    "hello.dial: only sip: URIs (no sips:, tel:, parameters or headers)",
                ),
            ),
            case(
                "sip: nothing to dial",
                c(),
                json!({"peer": "phone", "codecs": pcmu_offer()}),
                err(
                    "bad_field",
                    "hello.dial: a sip peer needs a SIP URI or number to call (or incoming: true)",
                ),
            ),
            case(
                "sip: wait for an incoming call",
                c(),
                json!({"peer": "phone", "incoming": true, "codecs": pcmu_offer()}),
                Ok(plan("phone", sip(None), vec![pcmu()])),
            ),
            case(
                "sip: only L16 offered",
                c(),
                json!({"peer": "phone", "dial": "1001", "codecs": [offer(96, "L16/16000")]}),
                err(
                    "no_codec",
                    "peer \"phone\" takes none of the offered codecs at ptime 20",
                ),
            ),
            // ---- peers, by name only
            case(
                "no peer: the first configured, defaults everywhere",
                c(),
                json!({"codecs": pcmu_offer()}),
                Ok(plan("echo", echo(), vec![pcmu()])),
            ),
            case(
                "echo by name, restamp",
                c(),
                json!({"peer": "me", "codecs": pcmu_offer()}),
                Ok(plan("me", PeerPlan::Echo { restamp: true }, vec![pcmu()])),
            ),
            case(
                "announce: fixture for an 8 kHz codec",
                c(),
                json!({"peer": "announce", "codecs": pcmu_offer()}),
                Ok(plan(
                    "announce",
                    announce("/fx/speech_8k.s16le", 8000),
                    vec![pcmu()],
                )),
            ),
            case(
                "announce: fixture for G.722 (16 kHz audio, 8 kHz clock)",
                c(),
                json!({"peer": "announce", "codecs": [offer(9, "G722/8000")]}),
                Ok(plan(
                    "announce",
                    announce("/fx/speech_16k.s16le", 16000),
                    vec![g722()],
                )),
            ),
            case(
                "announce: fixture for L16/16000",
                c(),
                json!({"peer": "announce", "codecs": [offer(96, "L16/16000")]}),
                Ok(plan(
                    "announce",
                    announce("/fx/speech_16k.s16le", 16000),
                    vec![l16()],
                )),
            ),
            case(
                "announce: 48 kHz fixture for opus, chosen by the first codec",
                c(),
                json!({"peer": "announce", "codecs": [offer(111, "opus/48000/2"), offer(0, "PCMU/8000")]}),
                Ok(plan(
                    "announce",
                    announce("/fx/speech_48k.s16le", 48000),
                    vec![opus(), pcmu()],
                )),
            ),
            case(
                "announce: 48 kHz fixture for a rate without its own (L16/32000)",
                c(),
                json!({"peer": "announce", "codecs": [offer(98, "L16/32000")]}),
                Ok(plan(
                    "announce",
                    announce("/fx/speech_48k.s16le", 48000),
                    vec![codec(98, "L16/32000", CodecKind::L16, 32000, 1)],
                )),
            ),
            case(
                "announce: the configured file and rate, whatever the codec",
                c(),
                json!({"peer": "file", "codecs": [offer(111, "opus/48000/2")]}),
                Ok(plan(
                    "file",
                    announce("/srv/hold.s16le", 16000),
                    vec![opus()],
                )),
            ),
            case(
                "announce: drops what it cannot encode at this ptime (opus at 30 ms)",
                c(),
                json!({"peer": "announce", "ptime": 30, "codecs": [offer(111, "opus/48000/2"), offer(0, "PCMU/8000")]}),
                Ok(Plan {
                    ptime: 30,
                    ..plan(
                        "announce",
                        announce("/fx/speech_8k.s16le", 8000),
                        vec![pcmu()],
                    )
                }),
            ),
            case(
                "room: default name",
                c(),
                json!({"peer": "room", "codecs": pcmu_offer()}),
                Ok(plan("room", room("default"), vec![pcmu()])),
            ),
            case(
                "room: named, all usable codecs kept for the room to choose",
                c(),
                json!({"peer": "room", "room": "lobby-1", "codecs": [offer(111, "opus/48000/2"), offer(0, "PCMU/8000")]}),
                Ok(plan("room", room("lobby-1"), vec![opus(), pcmu()])),
            ),
            case(
                "room: 64-character name",
                c(),
                json!({"peer": "room", "room": "r".repeat(64), "codecs": pcmu_offer()}),
                Ok(plan("room", room(&"r".repeat(64)), vec![pcmu()])),
            ),
            case(
                "udp: loopback peer binds loopback, any port",
                c(),
                json!({"peer": "pbx", "codecs": pcmu_offer()}),
                Ok(plan(
                    "pbx",
                    udp("127.0.0.1:5004", "127.0.0.1", None),
                    vec![pcmu()],
                )),
            ),
            case(
                "udp: remote peer binds the unspecified address",
                c(),
                json!({"peer": "far", "codecs": pcmu_offer()}),
                Ok(plan(
                    "far",
                    udp("192.0.2.7:5004", "0.0.0.0", None),
                    vec![pcmu()],
                )),
            ),
            case(
                "udp: --rtp-bind and --rtp-ports",
                Config {
                    rtp_bind: Some("10.0.0.2".parse().unwrap()),
                    rtp_ports: Some((40000, 40100)),
                    ..c()
                },
                json!({"peer": "far", "codecs": pcmu_offer()}),
                Ok(plan(
                    "far",
                    udp("192.0.2.7:5004", "10.0.0.2", Some((40000, 40100))),
                    vec![pcmu()],
                )),
            ),
            case(
                "udp: --udp-codecs keeps only the listed codecs, in the browser's order",
                udp_filtered(),
                json!({"peer": "pbx", "codecs": [offer(0, "PCMU/8000"), offer(111, "opus/48000/2"), offer(8, "PCMA/8000")]}),
                Ok(plan(
                    "pbx",
                    udp("127.0.0.1:5004", "127.0.0.1", None),
                    vec![opus(), pcma()],
                )),
            ),
            case(
                "udp: --udp-codecs does not apply to echo",
                udp_filtered(),
                json!({"peer": "echo", "codecs": pcmu_offer()}),
                Ok(plan("echo", echo(), vec![pcmu()])),
            ),
            // ---- codecs
            case(
                "every codec, in the browser's order, rtpmaps normalised",
                c(),
                json!({"codecs": [
                    offer(111, "OPUS/48000/2"), offer(8, "pcma/8000"), offer(9, "G722/8000"),
                    offer(96, "L16/16000/1"), offer(97, "L16/48000/2"), offer(0, " PCMU/8000 "),
                ]}),
                Ok(plan(
                    "echo",
                    echo(),
                    vec![opus(), pcma(), g722(), l16(), l16_stereo(), pcmu()],
                )),
            ),
            case(
                "mono opus is answered opus/48000/2",
                c(),
                json!({"codecs": [offer(111, "opus/48000")]}),
                Ok(plan(
                    "echo",
                    echo(),
                    vec![codec(111, "opus/48000/2", CodecKind::Opus, 48000, 1)],
                )),
            ),
            case(
                "unknown or unsupported rtpmaps are skipped, not refused",
                c(),
                json!({"codecs": [offer(3, "GSM/8000"), offer(98, "PCMU/16000"), offer(99, "garbage"), offer(100, "opus/48000/2/1"), offer(8, "PCMA/8000")]}),
                Ok(plan("echo", echo(), vec![pcma()])),
            ),
            case(
                "telephone-event among the codecs is not an audio codec",
                c(),
                json!({"codecs": [offer(101, "telephone-event/8000"), offer(0, "PCMU/8000")]}),
                Ok(plan("echo", echo(), vec![pcmu()])),
            ),
            case(
                "comfort noise among the codecs is not an audio codec",
                c(),
                json!({"codecs": [offer(13, "CN/8000"), offer(0, "PCMU/8000")]}),
                Ok(plan("echo", echo(), vec![pcmu()])),
            ),
            case(
                "comfort noise alone is no codec",
                c(),
                json!({"codecs": [offer(13, "CN/8000")]}),
                no_codec_known(),
            ),
            case(
                "payload type 127 is accepted",
                c(),
                json!({"codecs": [offer(127, "PCMU/8000")]}),
                Ok(plan(
                    "echo",
                    echo(),
                    vec![codec(127, "PCMU/8000", CodecKind::Pcmu, 8000, 1)],
                )),
            ),
            case(
                "32 codecs are accepted",
                c(),
                json!({"codecs": (0..32).map(|pt| offer(pt, "PCMU/8000")).collect::<Vec<_>>()}),
                Ok(plan(
                    "echo",
                    echo(),
                    (0..32)
                        .map(|pt| codec(pt, "PCMU/8000", CodecKind::Pcmu, 8000, 1))
                        .collect(),
                )),
            ),
            // ---- DTMF
            case(
                "telephone_event as a payload type",
                c(),
                json!({"codecs": pcmu_offer(), "telephone_event": 101}),
                Ok(Plan {
                    telephone_event: Some(101),
                    ..plan("echo", echo(), vec![pcmu()])
                }),
            ),
            case(
                "telephone_event as {pt, rtpmap}",
                c(),
                json!({"codecs": pcmu_offer(), "telephone_event": {"pt": 101, "rtpmap": "telephone-event/8000"}}),
                Ok(Plan {
                    telephone_event: Some(101),
                    ..plan("echo", echo(), vec![pcmu()])
                }),
            ),
            case(
                "a codec on the telephone_event payload type is dropped",
                c(),
                json!({"codecs": [offer(0, "PCMU/8000"), offer(8, "PCMA/8000")], "telephone_event": 0}),
                Ok(Plan {
                    telephone_event: Some(0),
                    ..plan("echo", echo(), vec![pcma()])
                }),
            ),
            // ---- ptime, transport, impairment
            case(
                "ptime 10",
                c(),
                json!({"codecs": pcmu_offer(), "ptime": 10}),
                Ok(Plan {
                    ptime: 10,
                    ..plan("echo", echo(), vec![pcmu()])
                }),
            ),
            case(
                "ptime 30",
                c(),
                json!({"codecs": pcmu_offer(), "ptime": 30}),
                Ok(Plan {
                    ptime: 30,
                    ..plan("echo", echo(), vec![pcmu()])
                }),
            ),
            case(
                "ptime 40",
                c(),
                json!({"codecs": pcmu_offer(), "ptime": 40}),
                Ok(Plan {
                    ptime: 40,
                    ..plan("echo", echo(), vec![pcmu()])
                }),
            ),
            case(
                "ptime 60",
                c(),
                json!({"codecs": pcmu_offer(), "ptime": 60}),
                Ok(Plan {
                    ptime: 60,
                    ..plan("echo", echo(), vec![pcmu()])
                }),
            ),
            case(
                "transport datachannel",
                c(),
                json!({"codecs": pcmu_offer(), "transport": "datachannel"}),
                Ok(Plan {
                    transport: Transport::Datachannel,
                    ..plan("echo", echo(), vec![pcmu()])
                }),
            ),
            case(
                "impairment is carried",
                c(),
                json!({"codecs": pcmu_offer(), "impairment": {"loss_pct": 5, "jitter_ms": 40, "reorder_pct": 1.5, "seed": 7}}),
                Ok(Plan {
                    impairment: Impairment {
                        loss_pct: 5.0,
                        jitter_ms: 40,
                        reorder_pct: 1.5,
                        seed: Some(7),
                    },
                    ..plan("echo", echo(), vec![pcmu()])
                }),
            ),
            case(
                "hello.room is ignored by other peers",
                c(),
                json!({"codecs": pcmu_offer(), "room": ""}),
                Ok(plan("echo", echo(), vec![pcmu()])),
            ),
            // ---- refusals: peers
            case(
                "unknown peer name",
                c(),
                json!({"peer": "nope", "codecs": pcmu_offer()}),
                err(
                    "unknown_peer",
                    &format!("no peer named \"nope\"; configured: {NAMES}"),
                ),
            ),
            case(
                "a peer by address is refused (peers by name only)",
                c(),
                json!({"peer": "127.0.0.1:5004", "codecs": pcmu_offer()}),
                err(
                    "unknown_peer",
                    &format!("no peer named \"127.0.0.1:5004\"; configured: {NAMES}"),
                ),
            ),
            case(
                "a peer by spec is refused (peers by name only)",
                c(),
                json!({"peer": "udp:198.51.100.1:5060", "codecs": pcmu_offer()}),
                err(
                    "unknown_peer",
                    &format!("no peer named \"udp:198.51.100.1:5060\"; configured: {NAMES}"),
                ),
            ),
            case(
                "a kind that is not configured is refused",
                echo_only(),
                json!({"peer": "room", "codecs": pcmu_offer()}),
                err("unknown_peer", "no peer named \"room\"; configured: echo"),
            ),
            case(
                "peer names are case-sensitive",
                c(),
                json!({"peer": "ECHO", "codecs": pcmu_offer()}),
                err(
                    "unknown_peer",
                    &format!("no peer named \"ECHO\"; configured: {NAMES}"),
                ),
            ),
            case(
                "empty peer name",
                c(),
                json!({"peer": "", "codecs": pcmu_offer()}),
                err(
                    "unknown_peer",
                    &format!("no peer named \"\"; configured: {NAMES}"),
                ),
            ),
            case(
                "the peer is checked first (before ptime and codecs)",
                c(),
                json!({"peer": "nope", "ptime": 25, "codecs": []}),
                err(
                    "unknown_peer",
                    &format!("no peer named \"nope\"; configured: {NAMES}"),
                ),
            ),
            // ---- refusals: ptime
            case(
                "ptime 25",
                c(),
                json!({"codecs": pcmu_offer(), "ptime": 25}),
                err("bad_ptime", "ptime must be 10, 20, 30, 40 or 60"),
            ),
            case(
                "ptime 0",
                c(),
                json!({"codecs": pcmu_offer(), "ptime": 0}),
                err("bad_ptime", "ptime must be 10, 20, 30, 40 or 60"),
            ),
            case(
                "ptime 120, before the codecs",
                c(),
                json!({"codecs": [], "ptime": 120}),
                err("bad_ptime", "ptime must be 10, 20, 30, 40 or 60"),
            ),
            // ---- refusals: fields
            case(
                "33 codecs",
                c(),
                json!({"codecs": (0..33).map(|pt| offer(pt, "PCMU/8000")).collect::<Vec<_>>()}),
                err("bad_field", "hello: at most 32 codecs"),
            ),
            case(
                "payload type 128",
                c(),
                json!({"codecs": [offer(0, "PCMU/8000"), offer(128, "PCMA/8000")]}),
                err("bad_field", "hello: payload type 128 > 127"),
            ),
            case(
                "payload type > 127 is refused even for an unknown codec",
                c(),
                json!({"codecs": [offer(200, "GSM/8000")]}),
                err("bad_field", "hello: payload type 200 > 127"),
            ),
            case(
                "telephone_event 128",
                c(),
                json!({"codecs": pcmu_offer(), "telephone_event": 128}),
                err("bad_field", "hello: telephone_event > 127"),
            ),
            case(
                "telephone_event {pt: 200}",
                c(),
                json!({"codecs": pcmu_offer(), "telephone_event": {"pt": 200}}),
                err("bad_field", "hello: telephone_event > 127"),
            ),
            case(
                "impairment loss_pct out of range",
                c(),
                json!({"codecs": pcmu_offer(), "impairment": {"loss_pct": 150}}),
                err("bad_field", "hello.impairment: loss_pct must be 0..=100"),
            ),
            case(
                "impairment reorder_pct out of range",
                c(),
                json!({"codecs": pcmu_offer(), "impairment": {"reorder_pct": -1}}),
                err("bad_field", "hello.impairment: reorder_pct must be 0..=100"),
            ),
            case(
                "impairment jitter_ms out of range",
                c(),
                json!({"codecs": pcmu_offer(), "impairment": {"jitter_ms": 1001}}),
                err("bad_field", "hello.impairment: jitter_ms must be 0..=1000"),
            ),
            case(
                "room name empty",
                c(),
                json!({"peer": "room", "room": "", "codecs": pcmu_offer()}),
                err("bad_field", "hello.room: 1-64 printable characters"),
            ),
            case(
                "room name of 65 characters",
                c(),
                json!({"peer": "room", "room": "r".repeat(65), "codecs": pcmu_offer()}),
                err("bad_field", "hello.room: 1-64 printable characters"),
            ),
            case(
                "room name with a control character",
                c(),
                json!({"peer": "room", "room": "a\nb", "codecs": pcmu_offer()}),
                err("bad_field", "hello.room: 1-64 printable characters"),
            ),
            // Missing or mistyped fields never reach `negotiate`: `protocol::parse` refuses them.
            case(
                "missing codecs",
                c(),
                json!({"peer": "echo"}),
                err("bad_field", "hello: missing field `codecs`"),
            ),
            case(
                "payload type beyond u8",
                c(),
                json!({"codecs": [offer(300, "PCMU/8000")]}),
                err(
                    "bad_field",
                    "hello: invalid value: integer `300`, expected u8",
                ),
            ),
            case(
                "unknown transport",
                c(),
                json!({"codecs": pcmu_offer(), "transport": "tcp"}),
                err(
                    "bad_field",
                    "hello: unknown variant `tcp`, expected `ws` or `datachannel`",
                ),
            ),
            // ---- refusals: no codec
            case("no codecs", c(), json!({"codecs": []}), no_codec_known()),
            case(
                "only unknown codecs",
                c(),
                json!({"codecs": [offer(3, "GSM/8000"), offer(18, "G729/8000")]}),
                no_codec_known(),
            ),
            case(
                "only telephone-event",
                c(),
                json!({"codecs": [offer(101, "telephone-event/8000")]}),
                no_codec_known(),
            ),
            case(
                "the only codec is on the telephone_event payload type",
                c(),
                json!({"codecs": pcmu_offer(), "telephone_event": 0}),
                err(
                    "no_codec",
                    "peer \"echo\" takes none of the offered codecs at ptime 20",
                ),
            ),
            case(
                "udp: --udp-codecs takes none of the offer",
                udp_filtered(),
                json!({"peer": "pbx", "codecs": [offer(0, "PCMU/8000"), offer(9, "G722/8000")]}),
                err(
                    "no_codec",
                    "peer \"pbx\" takes none of the offered codecs at ptime 20",
                ),
            ),
            case(
                "udp: --udp-codecs opus/48000/2 does not take mono opus",
                udp_filtered(),
                json!({"peer": "pbx", "codecs": [offer(111, "opus/48000")]}),
                err(
                    "no_codec",
                    "peer \"pbx\" takes none of the offered codecs at ptime 20",
                ),
            ),
            case(
                "announce: opus at 30 ms only",
                c(),
                json!({"peer": "announce", "ptime": 30, "codecs": [offer(111, "opus/48000/2")]}),
                err(
                    "no_codec",
                    "peer \"announce\" takes none of the offered codecs at ptime 30",
                ),
            ),
            case(
                "no codec is reported before a bad room name",
                c(),
                json!({"peer": "room", "room": "", "codecs": []}),
                no_codec_known(),
            ),
        ]
    }

    #[test]
    fn table() {
        let cases = cases();
        let mut failed = Vec::new();
        for c in &cases {
            let got = run(&c.config, &c.hello);
            if got != c.want {
                failed.push(format!(
                    "{}\n  hello: {}\n  want:  {:?}\n  got:   {:?}",
                    c.name, c.hello, c.want, got
                ));
            }
        }
        assert!(
            failed.is_empty(),
            "{} of {} cases failed:\n{}",
            failed.len(),
            cases.len(),
            failed.join("\n")
        );
    }

    /// The table keeps covering every peer kind, codec, transport and error code.
    #[test]
    fn table_covers_everything() {
        let cases = cases();
        let plans: Vec<&Plan> = cases.iter().filter_map(|c| c.want.as_ref().ok()).collect();
        let kinds: BTreeSet<&str> = plans.iter().map(|p| p.peer.kind_name()).collect();
        assert_eq!(
            kinds,
            BTreeSet::from(["announce", "echo", "room", "sip", "udp"])
        );
        let codecs: BTreeSet<&str> = plans
            .iter()
            .flat_map(|p| &p.codecs)
            .map(|c| c.info.kind.sdp_name())
            .collect();
        assert_eq!(
            codecs,
            BTreeSet::from(["G722", "L16", "PCMA", "PCMU", "opus"])
        );
        assert!(plans.iter().any(|p| p.transport == Transport::Ws));
        assert!(plans.iter().any(|p| p.transport == Transport::Datachannel));
        let ptimes: BTreeSet<u16> = plans.iter().map(|p| p.ptime).collect();
        assert_eq!(ptimes, BTreeSet::from(PTIMES));
        let codes: BTreeSet<&str> = cases
            .iter()
            .filter_map(|c| c.want.as_ref().err())
            .map(|e| e.code)
            .collect();
        assert_eq!(
            codes,
            BTreeSet::from([
                "bad_field",
                "bad_ptime",
                "no_codec",
                "not_allowed",
                "unknown_peer"
            ])
        );
    }
}
