//! Shared helpers for the gateway's integration tests: an in-process
//! server on 127.0.0.1:0 and a WebSocket client whose every wait is bounded.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use voxlet::rtp::RtpHeader;
use voxlet_gateway::config::parse_peer;
use voxlet_gateway::{Config, Server};

/// Default bound for one wait.
pub const T: Duration = Duration::from_secs(5);

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// A config for tests: loopback, port 0, the fixtures, short idle timeout.
pub fn config(peers: &[&str]) -> Config {
    let mut c = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        fixtures: fixtures(),
        www: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/www"),
        pkg: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/www"),
        ..Config::default()
    };
    if !peers.is_empty() {
        c.peers = peers.iter().map(|p| parse_peer(p).unwrap()).collect();
    }
    c
}

pub async fn start(c: Config) -> Server {
    voxlet_gateway::serve(c).await.expect("server starts")
}

pub fn init_log() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VOXLET_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

#[derive(Debug)]
pub enum Msg {
    Json(Value),
    Bin(Vec<u8>),
    Close(Option<(u16, String)>),
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Binary frames seen while waiting for JSON.
    pub stash: Vec<(Instant, Vec<u8>)>,
    /// JSON messages seen while waiting for binary frames.
    pub json_stash: Vec<Value>,
}

pub async fn connect(s: &Server) -> Client {
    connect_with(s, None).await.expect("connects")
}

/// Connects with an optional Origin header; Err carries the HTTP status.
pub async fn connect_with(s: &Server, origin: Option<&str>) -> Result<Client, u16> {
    let mut req = format!("ws://{}/ws", s.local_addr)
        .into_client_request()
        .unwrap();
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    let cfg = WebSocketConfig::default().max_message_size(Some(1 << 20));
    let r = tokio::time::timeout(
        T,
        tokio_tungstenite::connect_async_with_config(req, Some(cfg), false),
    )
    .await
    .expect("connect in time");
    match r {
        Ok((ws, _)) => Ok(Client {
            ws,
            stash: Vec::new(),
            json_stash: Vec::new(),
        }),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("connect: {e}"),
    }
}

impl Client {
    pub async fn send_json(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    pub async fn send_text(&mut self, t: &str) {
        tokio::time::timeout(T, self.ws.send(Message::Text(t.into())))
            .await
            .expect("send in time")
            .expect("send");
    }

    pub async fn send_bin(&mut self, b: &[u8]) {
        tokio::time::timeout(T, self.ws.send(Message::Binary(b.to_vec().into())))
            .await
            .expect("send in time")
            .expect("send");
    }

    /// Next message within `t` (None: timeout or stream end).
    pub async fn next(&mut self, t: Duration) -> Option<Msg> {
        loop {
            let m = tokio::time::timeout(t, self.ws.next()).await.ok()??;
            return Some(match m {
                Ok(Message::Text(s)) => {
                    Msg::Json(serde_json::from_str(s.as_str()).expect("server JSON"))
                }
                Ok(Message::Binary(b)) => Msg::Bin(b.to_vec()),
                Ok(Message::Close(f)) => {
                    Msg::Close(f.map(|f| (u16::from(f.code), f.reason.to_string())))
                }
                Ok(_) => continue,
                Err(_) => Msg::Close(None),
            });
        }
    }

    /// Waits for a JSON message of `ty` (stashing binary frames, skipping
    /// other JSON); panics on timeout or close.
    pub async fn expect(&mut self, ty: &str) -> Value {
        let end = Instant::now() + T;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Msg::Json(v)) if v["type"] == ty => return v,
                Some(Msg::Json(v)) => self.json_stash.push(v),
                Some(Msg::Bin(b)) => self.stash.push((Instant::now(), b)),
                Some(Msg::Close(c)) => panic!("closed {c:?} while waiting for {ty}"),
                None => panic!("no {ty} within {T:?}; stashed json: {:?}", self.json_stash),
            }
        }
    }

    /// Waits for an error reply and returns its code.
    pub async fn expect_error(&mut self) -> Value {
        self.expect("error").await
    }

    /// Collects binary frames for `d` (plus any stashed ones).
    pub async fn collect_bin(&mut self, d: Duration) -> Vec<(Instant, Vec<u8>)> {
        let mut out = std::mem::take(&mut self.stash);
        let end = Instant::now() + d;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self.next(left).await {
                Some(Msg::Bin(b)) => out.push((Instant::now(), b)),
                Some(Msg::Json(v)) => self.json_stash.push(v),
                Some(Msg::Close(_)) | None => break,
            }
        }
        out
    }

    /// Waits for `n` binary frames (bounded by `T`).
    pub async fn recv_bins(&mut self, n: usize) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = std::mem::take(&mut self.stash)
            .into_iter()
            .map(|x| x.1)
            .collect();
        let end = Instant::now() + T;
        while out.len() < n {
            let left = end.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Msg::Bin(b)) => out.push(b),
                Some(Msg::Json(v)) => self.json_stash.push(v),
                Some(Msg::Close(c)) => panic!("closed {c:?} after {} of {n} frames", out.len()),
                None => panic!("only {} of {n} frames in time", out.len()),
            }
        }
        out
    }

    /// Waits for the close frame (skipping everything else); returns its code.
    pub async fn expect_close(&mut self) -> Option<u16> {
        let end = Instant::now() + T;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Msg::Close(c)) => return c.map(|c| c.0),
                Some(Msg::Json(v)) => self.json_stash.push(v),
                Some(Msg::Bin(_)) => {}
                None => panic!("no close within {T:?}"),
            }
        }
    }

    /// Sends hello and returns the answer (panics on error).
    pub async fn hello(&mut self, v: Value) -> Value {
        self.send_json(v).await;
        let end = Instant::now() + T;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Msg::Json(v)) if v["type"] == "answer" => return v,
                Some(Msg::Json(v)) if v["type"] == "error" => panic!("hello refused: {v}"),
                Some(Msg::Json(v)) => self.json_stash.push(v),
                Some(Msg::Bin(b)) => self.stash.push((Instant::now(), b)),
                other => panic!("no answer: {other:?}"),
            }
        }
    }
}

pub fn hello_pcmu(peer: &str) -> Value {
    json!({"type": "hello", "peer": peer, "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}], "ptime": 20, "telephone_event": 101})
}

/// An RTP packet with `payload_len` bytes of a pattern derived from `seq`.
pub fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload_len: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..payload_len).map(|i| (i as u16 ^ seq) as u8).collect();
    let h = RtpHeader {
        marker: false,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc,
        ..RtpHeader::default()
    };
    let mut out = vec![0u8; 12 + payload_len];
    let n = h.write(&payload, &mut out).unwrap();
    out.truncate(n);
    out
}

/// A minimal RTCP receiver report (no blocks) from `ssrc`.
pub fn rtcp_rr(ssrc: u32) -> Vec<u8> {
    let mut v = vec![0x80, 201, 0, 1];
    v.extend_from_slice(&ssrc.to_be_bytes());
    v
}

pub fn seq_of(p: &[u8]) -> u16 {
    u16::from_be_bytes([p[2], p[3]])
}

pub fn ts_of(p: &[u8]) -> u32 {
    u32::from_be_bytes([p[4], p[5], p[6], p[7]])
}

pub fn ssrc_of(p: &[u8]) -> u32 {
    u32::from_be_bytes([p[8], p[9], p[10], p[11]])
}

/// Reserves a free UDP port on loopback (bound, so nobody else takes it).
pub async fn udp_socket() -> tokio::net::UdpSocket {
    tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

/// Binds an even port and the next one (a "SIP side" RTP/RTCP pair).
pub async fn udp_pair() -> (tokio::net::UdpSocket, tokio::net::UdpSocket) {
    for _ in 0..100 {
        let a = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let p = a.local_addr().unwrap().port();
        if p % 2 != 0 || p == u16::MAX {
            continue;
        }
        if let Ok(b) = tokio::net::UdpSocket::bind(("127.0.0.1", p + 1)).await {
            return (a, b);
        }
    }
    panic!("no UDP pair");
}

pub async fn recv_udp(s: &tokio::net::UdpSocket) -> (Vec<u8>, std::net::SocketAddr) {
    let mut b = vec![0u8; 4096];
    let (n, from) = tokio::time::timeout(T, s.recv_from(&mut b))
        .await
        .expect("UDP datagram in time")
        .unwrap();
    b.truncate(n);
    (b, from)
}
