//! One browser connection: the WebSocket, its control protocol, the peer it
//! is bridged to, impairment, DTMF and limits. One task, one `select!` loop;
//! the media path never waits on a full queue (it drops and counts).

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use voxlet::codec::CodecInfo;
use voxlet::rtp::RtpPacket;

use crate::config::Config;
use crate::dtmf::{DtmfDetector, DtmfInjector};
use crate::impair::{Impairer, Verdict};
use crate::negotiate::{negotiate, Codec, PeerPlan, Plan};
use crate::peer::{
    self, is_rtcp, Packet, PeerCounters, PeerHandle, RoomError, SessionEvent, StreamInfo,
    CHANNEL_DEPTH,
};
use crate::protocol::{self, ClientMsg, Hello, ProtoError, Transport};
use crate::server::App;
use crate::webrtc::{self, WebrtcHandle};

mod sip_call;

/// WebSocket close codes (see PROTOCOL.md).
pub mod close {
    /// Hang-up.
    pub const NORMAL: u16 = 1000;
    /// Server shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// Bad token.
    pub const POLICY: u16 = 1008;
    /// Message larger than `--max-message-bytes`.
    pub const TOO_BIG: u16 = 1009;
    /// The peer failed.
    pub const INTERNAL: u16 = 1011;
    /// `--max-sessions` reached.
    pub const BUSY: u16 = 1013;
    /// Idle timeout.
    pub const IDLE: u16 = 4000;
}

/// Control messages per second a session may send (burst: as many).
pub const CONTROL_PER_SEC: u32 = 50;

/// Token bucket: `rate` per second, burst `rate`.
struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: u32, now: Instant) -> Bucket {
        Bucket {
            rate: rate as f64,
            tokens: rate as f64,
            at: now,
        }
    }
    fn take(&mut self, now: Instant) -> bool {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + dt * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Default, Debug)]
struct Counters {
    in_packets: u64,
    in_bytes: u64,
    in_rtcp: u64,
    in_invalid: u64,
    in_rate_limited: u64,
    in_before_hello: u64,
    to_peer: u64,
    from_peer: u64,
    from_peer_bytes: u64,
    from_peer_rtcp: u64,
    out_packets: u64,
    out_bytes: u64,
    out_no_transport: u64,
    echo_rtcp_absorbed: u64,
    control_in: u64,
    control_rate_limited: u64,
    dtmf_requested: u64,
}

struct Active {
    peer_name: String,
    peer_kind: &'static str,
    peer: PeerHandle,
    transport: Transport,
    pt: u8,
    rtpmap: String,
    codec: CodecInfo,
    ptime: u16,
    te_pt: Option<u8>,
    impairer: Impairer,
    injector: Option<DtmfInjector>,
    detector: DtmfDetector,
    local_rtp_port: Option<u16>,
    room: Option<String>,
    webrtc: Option<WebrtcHandle>,
    dc_open: bool,
    started: Instant,
}

struct Session {
    app: Arc<App>,
    id: u64,
    name: String,
    last_rx: Instant,
    counters: Counters,
    peer_counters: Arc<PeerCounters>,
    bucket: Bucket,
    control_bucket: Bucket,
    warned_rate: bool,
    warned_invalid: bool,
    warned_control_rate: bool,
    active: Option<Active>,
    from_peer_tx: mpsc::Sender<Packet>,
    events_tx: mpsc::Sender<SessionEvent>,
    connected: Instant,
    /// The SIP call being placed or up (dropping it hangs up).
    call: Option<crate::sip::CallHandle>,
    /// The plan and `hello` id of a SIP call not answered yet.
    pending: Option<(Plan, Option<Value>)>,
    /// The page's place among those waiting for an incoming SIP call.
    waiting: Option<crate::sip::incoming::WaitHandle>,
}

/// What the loop does next.
enum Flow {
    Continue,
    /// Send `bye` with this reason, then close with this code.
    Close(u16, String),
    /// The socket is gone.
    Gone,
}

enum Wake {
    Ws(Option<Result<Message, axum::Error>>),
    FromPeer(Option<Packet>),
    Event(Option<SessionEvent>),
    Impair,
    Dtmf,
    Idle,
    Shutdown,
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Refuses a connection over `--max-sessions` (or during shutdown).
pub async fn refuse(mut ws: WebSocket, code: &str, message: &str, close_code: u16) {
    let _ = send_text(&mut ws, protocol::error(code, message, true, None)).await;
    close_ws(&mut ws, close_code, message).await;
}

async fn close_ws(ws: &mut WebSocket, code: u16, reason: &str) {
    let reason: String = reason.chars().take(100).collect();
    let close = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    let _ = send_msg(ws, close).await;
    // Let the client answer the close handshake (bounded).
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        while let Some(Ok(m)) = ws.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

fn too_big(e: &axum::Error) -> bool {
    let inner = std::error::Error::source(e);
    let check = |err: &(dyn std::error::Error + 'static)| {
        matches!(
            err.downcast_ref::<tungstenite::Error>(),
            Some(tungstenite::Error::Capacity(_))
        )
    };
    inner.is_some_and(check) || e.to_string().contains("Space limit exceeded")
}

/// Runs one accepted WebSocket to the end.
pub async fn run(mut ws: WebSocket, app: Arc<App>) {
    let id = app.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let now = Instant::now();
    let (from_peer_tx, mut from_peer_rx) = mpsc::channel::<Packet>(CHANNEL_DEPTH * 2);
    let (events_tx, mut events_rx) = mpsc::channel::<SessionEvent>(CHANNEL_DEPTH * 4);
    let mut s = Session {
        name: format!(
            "s{id}-{:06x}",
            (app.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)) & 0xff_ffff
        ),
        id,
        last_rx: now,
        counters: Counters::default(),
        peer_counters: Arc::new(PeerCounters::default()),
        bucket: Bucket::new(app.config.max_packets_per_sec, now),
        control_bucket: Bucket::new(CONTROL_PER_SEC, now),
        warned_rate: false,
        warned_invalid: false,
        warned_control_rate: false,
        active: None,
        from_peer_tx,
        events_tx,
        connected: now,
        call: None,
        pending: None,
        waiting: None,
        app,
    };
    tracing::debug!(session = %s.name, "connected");
    let shutdown = s.app.shutdown.clone();
    let idle = s.app.config.idle_timeout;
    let flow = loop {
        let impair_due = s.active.as_ref().and_then(|a| a.impairer.next_due());
        let dtmf_due = s
            .active
            .as_ref()
            .and_then(|a| a.injector.as_ref())
            .and_then(|i| i.next_due());
        // A SIP call that rings is not idle (the page waits for the answer),
        // but rings for three minutes at most.
        let idle_at = if s.waiting.is_some() {
            // A page waiting for calls is not idle; closing it still ends it.
            s.last_rx + Duration::from_secs(86_400)
        } else if s.pending.is_some() {
            s.last_rx + idle.max(RING_LIMIT)
        } else {
            s.last_rx + idle
        };
        let wake = tokio::select! {
            m = ws.recv() => Wake::Ws(m),
            p = from_peer_rx.recv() => Wake::FromPeer(p),
            e = events_rx.recv() => Wake::Event(e),
            _ = sleep_opt(impair_due) => Wake::Impair,
            _ = sleep_opt(dtmf_due) => Wake::Dtmf,
            _ = tokio::time::sleep_until(idle_at.into()) => Wake::Idle,
            _ = shutdown.cancelled() => Wake::Shutdown,
        };
        let flow = match wake {
            Wake::Ws(None) => Flow::Gone,
            Wake::Ws(Some(Err(e))) => {
                if too_big(&e) {
                    let msg = format!(
                        "message larger than {} bytes",
                        s.app.config.max_message_bytes
                    );
                    let _ = send_text(&mut ws, protocol::error("too_big", &msg, true, None)).await;
                    close_ws(&mut ws, close::TOO_BIG, &msg).await;
                }
                Flow::Gone
            }
            Wake::Ws(Some(Ok(m))) => {
                s.last_rx = Instant::now();
                match m {
                    Message::Text(t) => s.on_text(&mut ws, t.as_str()).await,
                    Message::Binary(b) => s.on_binary(&mut ws, b).await,
                    Message::Close(_) => Flow::Gone,
                    _ => Flow::Continue,
                }
            }
            Wake::FromPeer(Some(p)) => s.on_from_peer(&mut ws, p).await,
            Wake::FromPeer(None) => Flow::Continue,
            Wake::Event(Some(ev)) => s.on_event(&mut ws, ev).await,
            Wake::Event(None) => Flow::Continue,
            Wake::Impair => s.release_impaired(&mut ws).await,
            Wake::Dtmf => s.pump_dtmf(&mut ws).await,
            Wake::Idle => {
                let msg = format!("no message for {} s", idle.as_secs());
                let _ = send_text(&mut ws, protocol::error("idle_timeout", &msg, true, None)).await;
                Flow::Close(close::IDLE, "idle timeout".into())
            }
            Wake::Shutdown => Flow::Close(close::GOING_AWAY, "shutdown".into()),
        };
        match flow {
            Flow::Continue => continue,
            other => break other,
        }
    };
    if let Flow::Close(code, reason) = flow {
        let _ = send_text(
            &mut ws,
            json!({"type": "bye", "reason": reason}).to_string(),
        )
        .await;
        close_ws(&mut ws, code, &reason).await;
    }
    tracing::info!(
        session = %s.name,
        secs = s.connected.elapsed().as_secs_f32(),
        in_packets = s.counters.in_packets,
        out_packets = s.counters.out_packets,
        "session ended"
    );
    // Dropping `s` ends the peer (task abort / room seat freed) and WebRTC.
}

/// Longest a session waits for a SIP call to be answered without hearing
/// from the browser.
pub const RING_LIMIT: Duration = Duration::from_secs(180);

/// A browser that stops reading must not hold its session forever.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(3);

async fn send_msg(ws: &mut WebSocket, m: Message) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, ws.send(m)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

async fn send_text(ws: &mut WebSocket, text: String) -> Result<(), ()> {
    send_msg(ws, Message::Text(text.into())).await
}

/// A started peer.
struct Attached {
    peer: PeerHandle,
    /// Index in `Plan::codecs` of the codec in use.
    codec: usize,
    /// Local RTP port (UDP peers).
    local_rtp_port: Option<u16>,
}

impl Attached {
    /// A peer using the plan's first codec, with no local port.
    fn new(peer: PeerHandle) -> Attached {
        Attached {
            peer,
            codec: 0,
            local_rtp_port: None,
        }
    }
}

impl Session {
    async fn reply(&mut self, ws: &mut WebSocket, mut v: Value, id: Option<&Value>) -> Flow {
        protocol::with_id(&mut v, id);
        match send_text(ws, v.to_string()).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Gone,
        }
    }

    async fn error(
        &mut self,
        ws: &mut WebSocket,
        code: &str,
        message: &str,
        id: Option<&Value>,
    ) -> Flow {
        match send_text(ws, protocol::error(code, message, false, id)).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Gone,
        }
    }

    async fn fatal(
        &mut self,
        ws: &mut WebSocket,
        code: &str,
        message: &str,
        id: Option<&Value>,
        close_code: u16,
    ) -> Flow {
        let _ = send_text(ws, protocol::error(code, message, true, id)).await;
        close_ws(ws, close_code, message).await;
        Flow::Gone
    }

    async fn on_text(&mut self, ws: &mut WebSocket, text: &str) -> Flow {
        self.counters.control_in += 1;
        if !self.control_bucket.take(Instant::now()) {
            self.counters.control_rate_limited += 1;
            if !self.warned_control_rate {
                self.warned_control_rate = true;
                let msg = format!(
                    "more than {CONTROL_PER_SEC} control messages per second; excess ignored"
                );
                let v = json!({"type": "warning", "code": "rate_limited", "message": msg});
                return self.reply(ws, v, None).await;
            }
            return Flow::Continue;
        }
        let parsed = protocol::parse(text);
        let id = parsed.id.as_ref();
        let msg = match parsed.msg {
            Ok(m) => m,
            Err(e) => return self.error(ws, e.code, &e.message, id).await,
        };
        match msg {
            ClientMsg::Hello(h) => self.on_hello(ws, *h, id).await,
            ClientMsg::Ping => {
                let v = json!({"type": "pong", "server_time_ms": now_ms()});
                self.reply(ws, v, id).await
            }
            ClientMsg::Stats => {
                let v = self.stats_json();
                self.reply(ws, v, id).await
            }
            ClientMsg::Hangup => Flow::Close(close::NORMAL, "hangup".into()),
            ClientMsg::Impair(imp) => {
                if let Err(e) = imp.validate() {
                    return self
                        .error(ws, "bad_field", &format!("impair: {e}"), id)
                        .await;
                }
                let Some(a) = self.active.as_mut() else {
                    return self.error(ws, "no_session", "send hello first", id).await;
                };
                a.impairer.set(imp);
                let v = json!({"type": "ack", "of": "impair", "impairment": a.impairer.config()});
                self.reply(ws, v, id).await
            }
            ClientMsg::Dtmf(d) => {
                let Some(a) = self.active.as_mut() else {
                    return self.error(ws, "no_session", "send hello first", id).await;
                };
                let Some(inj) = a.injector.as_mut() else {
                    return self
                        .error(
                            ws,
                            "dtmf_unavailable",
                            "no telephone_event was negotiated",
                            id,
                        )
                        .await;
                };
                let mut chars = d.digit.chars();
                let (Some(c), None) = (chars.next(), chars.next()) else {
                    return self
                        .error(ws, "bad_field", "dtmf: digit must be one character", id)
                        .await;
                };
                let dur = d.duration_ms.unwrap_or(160);
                match inj.push(c, dur, Instant::now()) {
                    Ok(()) => {
                        self.counters.dtmf_requested += 1;
                        let v = json!({"type": "ack", "of": "dtmf", "digit": c.to_ascii_uppercase().to_string()});
                        self.reply(ws, v, id).await
                    }
                    Err(e) => self.error(ws, "bad_field", &format!("dtmf: {e}"), id).await,
                }
            }
            ClientMsg::WebrtcOffer(o) => self.on_webrtc_offer(ws, &o.sdp, id).await,
            ClientMsg::Accept => self.on_accept(ws, id).await,
            ClientMsg::Reject => self.on_reject(ws, id).await,
            ClientMsg::Hold(on) => self.on_hold(ws, on, id).await,
        }
    }

    /// `hello`: authenticate, [`negotiate`], attach the peer, answer.
    async fn on_hello(&mut self, ws: &mut WebSocket, h: Hello, id: Option<&Value>) -> Flow {
        if self.active.is_some() || self.pending.is_some() {
            return self
                .error(
                    ws,
                    "already_started",
                    "this connection already has a session",
                    id,
                )
                .await;
        }
        if let Err(msg) = authenticate(&h, &self.app.config) {
            return self.fatal(ws, "unauthorized", msg, id, close::POLICY).await;
        }
        let plan = match negotiate(&h, &self.app.config) {
            Ok(p) => p,
            Err(e) => return self.error(ws, e.code, &e.message, id).await,
        };
        if let PeerPlan::Sip { .. } = &plan.peer {
            return self.start_sip_call(ws, plan, id).await;
        }
        let attached = match &plan.peer {
            PeerPlan::Sip { .. } => return Flow::Continue,
            PeerPlan::Echo { restamp } => Ok(self.attach_echo(*restamp)),
            PeerPlan::Announce { file, rate } => self.attach_announce(&plan, file, *rate).await,
            PeerPlan::Room { room } => self.attach_room(&plan, room),
            PeerPlan::Udp {
                addr,
                bind_ip,
                ports,
            } => self.attach_udp(&plan, *addr, *bind_ip, *ports),
        };
        let attached = match attached {
            Ok(a) => a,
            Err(e) => return self.error(ws, e.code, &e.message, id).await,
        };
        let a = self.activate(plan, attached);
        let v = self.answer(&a);
        tracing::info!(session = %self.name, peer = %a.peer_name, codec = %a.rtpmap, pt = a.pt, ptime = a.ptime, transport = ?a.transport, "session started");
        self.active = Some(a);
        self.reply(ws, v, id).await
    }

    /// Echo: loops packets back, restamped with an SSRC of our own if asked.
    fn attach_echo(&self, restamp: bool) -> Attached {
        let ssrc = (crate::impair::Rng::from_state(self.app.seed ^ self.id).next_u64() as u32) | 1;
        Attached::new(PeerHandle::Echo {
            restamp: restamp.then_some(ssrc),
        })
    }

    /// Announce: loads the recording, encodes it with the plan's first codec.
    async fn attach_announce(
        &self,
        plan: &Plan,
        file: &Path,
        rate: u32,
    ) -> Result<Attached, ProtoError> {
        let audio = match tokio::task::spawn_blocking({
            let p = file.to_path_buf();
            move || peer::load_s16le(&p)
        })
        .await
        {
            Ok(Ok(a)) if !a.is_empty() => a,
            _ => {
                let msg = format!("announce recording {} unreadable", file.display());
                tracing::error!("{msg}");
                return Err(ProtoError::new("peer_unavailable", msg));
            }
        };
        let c = &plan.codecs[0];
        let si = StreamInfo {
            session: self.id,
            codec: c.info,
            pt: c.pt,
            rtpmap: c.rtpmap.clone(),
            te_pt: plan.telephone_event,
            ptime: plan.ptime,
        };
        let sender =
            peer::announce_sender(&si, rate).map_err(|e| ProtoError::new("no_codec", e))?;
        Ok(Attached::new(peer::spawn_announce(
            sender,
            audio,
            rate,
            plan.telephone_event,
            self.from_peer_tx.clone(),
            self.peer_counters.clone(),
        )))
    }

    /// Room: takes a seat; the room picks the codec among the plan's.
    fn attach_room(&self, plan: &Plan, room: &str) -> Result<Attached, ProtoError> {
        let offers: Vec<(u8, CodecInfo)> = plan.codecs.iter().map(|c| (c.pt, c.info)).collect();
        match self.app.rooms.join(
            room,
            &offers,
            plan.telephone_event,
            self.from_peer_tx.clone(),
            self.events_tx.clone(),
        ) {
            Ok((member, codec)) => Ok(Attached {
                peer: PeerHandle::Room(member),
                codec,
                local_rtp_port: None,
            }),
            Err(RoomError::Full) => Err(ProtoError::new(
                "room_full",
                format!("room {room:?} already has two callers"),
            )),
            Err(RoomError::CodecMismatch(m)) => Err(ProtoError::new("no_codec", m)),
        }
    }

    /// UDP: binds the RTP/RTCP pair and starts the bridge.
    fn attach_udp(
        &self,
        plan: &Plan,
        addr: SocketAddr,
        bind_ip: IpAddr,
        ports: Option<(u16, u16)>,
    ) -> Result<Attached, ProtoError> {
        match peer::spawn_udp(
            addr,
            bind_ip,
            ports,
            self.from_peer_tx.clone(),
            self.events_tx.clone(),
            self.peer_counters.clone(),
        ) {
            Ok((peer, port)) => Ok(Attached {
                peer,
                codec: 0,
                local_rtp_port: Some(port),
            }),
            Err(e) => {
                tracing::error!("udp peer {}: {e}", plan.peer_name);
                Err(ProtoError::new(
                    "peer_unavailable",
                    format!("cannot open RTP ports: {e}"),
                ))
            }
        }
    }

    /// The session state for a plan and its attached peer.
    fn activate(&self, plan: Plan, attached: Attached) -> Active {
        let Plan {
            peer_name,
            peer,
            mut codecs,
            ptime,
            telephone_event: te_pt,
            transport,
            impairment,
        } = plan;
        let Codec { pt, rtpmap, info } = codecs.swap_remove(attached.codec);
        let now = Instant::now();
        let seed = self.app.seed;
        Active {
            peer_name,
            peer_kind: peer.kind_name(),
            peer: attached.peer,
            transport,
            pt,
            rtpmap,
            codec: info,
            ptime,
            te_pt,
            impairer: Impairer::new(impairment, seed ^ self.id.rotate_left(17), ptime as u32),
            injector: te_pt
                .map(|p| DtmfInjector::new(p, info.clock_rate, ptime, seed ^ self.id, now)),
            detector: DtmfDetector::new(te_pt),
            local_rtp_port: attached.local_rtp_port,
            room: match peer {
                PeerPlan::Room { room } => Some(room),
                _ => None,
            },
            webrtc: None,
            dc_open: false,
            started: now,
        }
    }

    /// The `answer` message.
    fn answer(&self, a: &Active) -> Value {
        let cfg = &self.app.config;
        let mut v = json!({
            "type": "answer",
            "session": self.name,
            "peer": a.peer_name,
            "peer_kind": a.peer_kind,
            "transport": a.transport,
            "codec": {"pt": a.pt, "rtpmap": a.rtpmap},
            "ptime": a.ptime,
            "telephone_event": a.te_pt.map(|p| json!({"pt": p, "rtpmap": format!("telephone-event/{}", a.codec.clock_rate)})),
            "impairment": a.impairer.config(),
            "limits": {
                "max_message_bytes": cfg.max_message_bytes,
                "max_packets_per_sec": cfg.max_packets_per_sec,
                "idle_timeout_secs": cfg.idle_timeout.as_secs(),
            },
        });
        if let Some(p) = a.local_rtp_port {
            v["local_rtp_port"] = json!(p);
        }
        if let Some(r) = &a.room {
            v["room"] = json!(r);
        }
        v
    }

    async fn on_webrtc_offer(&mut self, ws: &mut WebSocket, sdp: &str, id: Option<&Value>) -> Flow {
        let ip = self.app.config.webrtc_ip;
        let events = self.events_tx.clone();
        let Some(a) = self.active.as_mut() else {
            return self.error(ws, "no_session", "send hello first", id).await;
        };
        if a.transport != Transport::Datachannel {
            return self
                .error(
                    ws,
                    "bad_transport",
                    "hello.transport was not \"datachannel\"",
                    id,
                )
                .await;
        }
        if a.webrtc.is_some() {
            return self
                .error(
                    ws,
                    "already_started",
                    "a WebRTC connection already exists",
                    id,
                )
                .await;
        }
        match webrtc::answer(sdp, ip, events).await {
            Ok((answer, handle)) => {
                tracing::debug!(session = %self.name, local = %handle.local, "webrtc answered");
                if let Some(a) = self.active.as_mut() {
                    a.webrtc = Some(handle);
                }
                self.reply(ws, json!({"type": "webrtc-answer", "sdp": answer}), id)
                    .await
            }
            Err(e) => self.error(ws, "webrtc_failed", &e, id).await,
        }
    }

    async fn on_event(&mut self, ws: &mut WebSocket, ev: SessionEvent) -> Flow {
        match ev {
            SessionEvent::PeerJoined => {
                self.reply(ws, json!({"type": "peer", "state": "joined"}), None)
                    .await
            }
            SessionEvent::PeerLeft => {
                self.reply(ws, json!({"type": "peer", "state": "left"}), None)
                    .await
            }
            SessionEvent::PeerFailed(why) => {
                tracing::warn!(session = %self.name, "peer failed: {why}");
                self.fatal(ws, "peer_failed", &why, None, close::INTERNAL)
                    .await
            }
            SessionEvent::DcOpen => {
                if let Some(a) = self.active.as_mut() {
                    a.dc_open = true;
                }
                self.reply(ws, json!({"type": "datachannel", "state": "open"}), None)
                    .await
            }
            SessionEvent::DcClosed(why) => {
                if let Some(a) = self.active.as_mut() {
                    a.dc_open = false;
                    a.webrtc = None;
                }
                self.reply(
                    ws,
                    json!({"type": "datachannel", "state": "closed", "reason": why}),
                    None,
                )
                .await
            }
            SessionEvent::DcPacket(b) => {
                self.last_rx = Instant::now();
                self.on_binary(ws, b).await
            }
            SessionEvent::Sip(ev) => self.on_sip(ws, ev).await,
        }
    }

    /// A packet from the browser (WebSocket binary frame or DataChannel message).
    async fn on_binary(&mut self, ws: &mut WebSocket, b: Bytes) -> Flow {
        let now = Instant::now();
        let Some(a) = self.active.as_mut() else {
            self.counters.in_before_hello += 1;
            if self.counters.in_before_hello == 1 {
                return self
                    .error(
                        ws,
                        "no_session",
                        "binary frame before hello: packet dropped",
                        None,
                    )
                    .await;
            }
            return Flow::Continue;
        };
        if !self.bucket.take(now) {
            self.counters.in_rate_limited += 1;
            if !self.warned_rate {
                self.warned_rate = true;
                tracing::warn!(session = %self.name, "over {} packets/s: dropping", self.app.config.max_packets_per_sec);
                let msg = format!(
                    "more than {} packets per second; excess dropped",
                    self.app.config.max_packets_per_sec
                );
                return self
                    .reply(
                        ws,
                        json!({"type": "warning", "code": "rate_limited", "message": msg}),
                        None,
                    )
                    .await;
            }
            return Flow::Continue;
        }
        let rtcp = is_rtcp(&b);
        let valid = if rtcp {
            b.len() >= 8 && b[0] >> 6 == 2
        } else {
            RtpPacket::parse(&b).is_ok()
        };
        if !valid {
            self.counters.in_invalid += 1;
            if !self.warned_invalid {
                self.warned_invalid = true;
                return self
                    .reply(
                        ws,
                        json!({"type": "warning", "code": "bad_packet", "message": "binary frame is not RTP/RTCP (version 2); dropped"}),
                        None,
                    )
                    .await;
            }
            return Flow::Continue;
        }
        self.counters.in_packets += 1;
        self.counters.in_bytes += b.len() as u64;
        if rtcp {
            self.counters.in_rtcp += 1;
        }
        let data = match (&mut a.injector, rtcp) {
            (Some(inj), false) => inj.forward(b, now),
            _ => b,
        };
        match &a.peer {
            PeerHandle::Echo { restamp } => {
                if rtcp {
                    self.counters.echo_rtcp_absorbed += 1;
                    return Flow::Continue;
                }
                let data = restamped(*restamp, data);
                self.counters.to_peer += 1;
                self.on_from_peer(ws, Packet { rtcp, data }).await
            }
            peer => {
                self.counters.to_peer += 1;
                peer.send(Packet { rtcp, data }, &self.peer_counters);
                Flow::Continue
            }
        }
    }

    async fn pump_dtmf(&mut self, ws: &mut WebSocket) -> Flow {
        let Some(a) = self.active.as_mut() else {
            return Flow::Continue;
        };
        let Some(inj) = a.injector.as_mut() else {
            return Flow::Continue;
        };
        let mut out = Vec::new();
        inj.poll(Instant::now(), &mut out);
        let echo = match a.peer {
            PeerHandle::Echo { restamp } => Some(restamp),
            _ => None,
        };
        for data in out {
            self.counters.to_peer += 1;
            if let Some(restamp) = echo {
                let data = restamped(restamp, data);
                if let Flow::Gone = self.on_from_peer(ws, Packet { rtcp: false, data }).await {
                    return Flow::Gone;
                }
            } else if let Some(a) = self.active.as_ref() {
                a.peer
                    .send(Packet { rtcp: false, data }, &self.peer_counters);
            }
        }
        Flow::Continue
    }

    /// A packet the peer sends to the browser: DTMF detection, impairment, transport.
    async fn on_from_peer(&mut self, ws: &mut WebSocket, p: Packet) -> Flow {
        let Some(a) = self.active.as_mut() else {
            return Flow::Continue;
        };
        self.counters.from_peer += 1;
        self.counters.from_peer_bytes += p.data.len() as u64;
        if p.rtcp {
            self.counters.from_peer_rtcp += 1;
        }
        let digit = if p.rtcp {
            None
        } else {
            a.detector.inspect(&p.data)
        };
        if let Some(d) = digit {
            let v = json!({"type": "dtmf", "digit": d.to_string()});
            if let Flow::Gone = self.reply(ws, v, None).await {
                return Flow::Gone;
            }
        }
        let Some(a) = self.active.as_mut() else {
            return Flow::Continue;
        };
        match a.impairer.process(p.data, Instant::now()) {
            Verdict::Now(d) => self.send_browser(ws, d).await,
            Verdict::Held | Verdict::Dropped => Flow::Continue,
        }
    }

    async fn release_impaired(&mut self, ws: &mut WebSocket) -> Flow {
        let now = Instant::now();
        loop {
            let Some(d) = self.active.as_mut().and_then(|a| a.impairer.pop_due(now)) else {
                return Flow::Continue;
            };
            if let Flow::Gone = self.send_browser(ws, d).await {
                return Flow::Gone;
            }
        }
    }

    async fn send_browser(&mut self, ws: &mut WebSocket, d: Bytes) -> Flow {
        let Some(a) = self.active.as_ref() else {
            return Flow::Continue;
        };
        let len = d.len() as u64;
        match a.transport {
            Transport::Ws => {
                if send_msg(ws, Message::Binary(d)).await.is_err() {
                    return Flow::Gone;
                }
            }
            Transport::Datachannel => match (&a.webrtc, a.dc_open) {
                (Some(w), true) => {
                    if w.to_dc.try_send(d).is_err() {
                        self.peer_counters
                            .queue_dropped
                            .fetch_add(1, Ordering::Relaxed);
                        return Flow::Continue;
                    }
                }
                _ => {
                    self.counters.out_no_transport += 1;
                    return Flow::Continue;
                }
            },
        }
        self.counters.out_packets += 1;
        self.counters.out_bytes += len;
        Flow::Continue
    }

    fn stats_json(&self) -> Value {
        let c = &self.counters;
        let pc = &self.peer_counters;
        let ld = |x: &std::sync::atomic::AtomicU64| x.load(Ordering::Relaxed);
        let mut v = json!({
            "type": "stats",
            "session": self.name,
            "connected_ms": self.connected.elapsed().as_millis() as u64,
            "from_browser": {
                "packets": c.in_packets, "bytes": c.in_bytes, "rtcp": c.in_rtcp,
                "invalid": c.in_invalid, "rate_limited": c.in_rate_limited,
                "before_hello": c.in_before_hello,
            },
            "to_peer": {"packets": c.to_peer, "queue_dropped": ld(&pc.queue_dropped), "send_errors": ld(&pc.send_errors)},
            "from_peer": {
                "packets": c.from_peer, "bytes": c.from_peer_bytes, "rtcp": c.from_peer_rtcp,
                "foreign_dropped": ld(&pc.foreign_dropped), "invalid_dropped": ld(&pc.invalid_dropped),
                "echo_rtcp_absorbed": c.echo_rtcp_absorbed,
            },
            "to_browser": {"packets": c.out_packets, "bytes": c.out_bytes, "no_transport": c.out_no_transport},
            "control": {"messages": c.control_in, "rate_limited": c.control_rate_limited},
        });
        if let Some(a) = &self.active {
            let s = a.impairer.stats;
            v["peer"] = json!(a.peer_name);
            v["call_ms"] = json!(a.started.elapsed().as_millis() as u64);
            v["transport"] = json!(a.transport);
            v["datachannel_open"] = json!(a.dc_open);
            v["impairment"] = json!({
                "config": a.impairer.config(),
                "lost": s.lost, "delayed": s.delayed, "reordered": s.reordered,
                "overflow": s.overflow, "held": a.impairer.held(),
            });
            v["dtmf"] = json!({
                "requested": c.dtmf_requested,
                "sent_packets": a.injector.as_ref().map_or(0, |i| i.packets),
                "sent_events": a.injector.as_ref().map_or(0, |i| i.events),
                "received_events": a.detector.events,
            });
        }
        v
    }
}

/// Echo with `restamp`: the gateway's SSRC on looped RTP.
fn restamped(restamp: Option<u32>, data: Bytes) -> Bytes {
    match restamp {
        Some(ssrc) if data.len() >= 12 => {
            let mut v = data.to_vec();
            v[8..12].copy_from_slice(&ssrc.to_be_bytes());
            Bytes::from(v)
        }
        _ => data,
    }
}

/// Checks `hello.token` against `--token`; the error is the message to send.
fn authenticate(h: &Hello, config: &Config) -> Result<(), &'static str> {
    let Some(t) = &config.token else {
        return Ok(());
    };
    match &h.token {
        None => Err("a token is required"),
        Some(g) if constant_time_eq(g.as_bytes(), t.as_bytes()) => Ok(()),
        Some(_) => Err("wrong token"),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticate_table() {
        let hello = |token: Option<&str>| {
            let mut v = json!({"type": "hello", "codecs": []});
            if let Some(t) = token {
                v["token"] = json!(t);
            }
            match protocol::parse(&v.to_string()).msg {
                Ok(ClientMsg::Hello(h)) => *h,
                other => panic!("{other:?}"),
            }
        };
        let with = |token: Option<&str>| Config {
            token: token.map(String::from),
            ..Config::default()
        };
        let cases = [
            (None, None, Ok(())),
            (None, Some("anything"), Ok(())),
            (Some("s3cret"), Some("s3cret"), Ok(())),
            (Some("s3cret"), None, Err("a token is required")),
            (Some("s3cret"), Some("s3cre"), Err("wrong token")),
            (Some("s3cret"), Some(""), Err("wrong token")),
        ];
        for (configured, sent, want) in cases {
            assert_eq!(
                authenticate(&hello(sent), &with(configured)),
                want,
                "--token {configured:?}, hello.token {sent:?}"
            );
        }
    }
}
