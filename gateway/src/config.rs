//! Command line / environment configuration.
//!
//! Every option can also be given as an environment variable (`VOXLET_*`,
//! shown by `--help`); list options take comma-separated values there.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// voxlet-gateway: bridges browsers (WebSocket or WebRTC DataChannel) to RTP peers.
#[derive(Parser, Debug, Clone)]
#[command(name = "voxlet-gateway", version, about, long_about = None)]
pub struct Args {
    /// Address to serve HTTP and the WebSocket on.
    #[arg(long, env = "VOXLET_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory served at `/` (the softphone page).
    #[arg(long, env = "VOXLET_WWW", default_value = "www")]
    pub www: PathBuf,

    /// Directory served at `/pkg/` (the npm package / wasm build).
    #[arg(long, env = "VOXLET_PKG", default_value = "pkg")]
    pub pkg: PathBuf,

    /// A peer the browser may call, `[NAME=]SPEC` (repeatable). SPEC is `echo`,
    /// `echo:restamp`, `announce`, `announce:FILE.s16le@RATE`, `room` or
    /// `udp:HOST:PORT`. NAME defaults to the kind (`echo`, `announce`, `room`,
    /// `udp`). The first peer is the default. Default: echo, announce, room.
    #[arg(long = "peer", env = "VOXLET_PEERS", value_delimiter = ',')]
    pub peers: Vec<String>,

    /// Send COOP same-origin / COEP require-corp / CORP same-origin (the default).
    #[arg(
        long = "coop-coep",
        default_value_t = true,
        overrides_with = "no_isolation"
    )]
    pub coop_coep: bool,

    /// Do not send the cross-origin isolation headers.
    #[arg(long = "no-isolation", env = "VOXLET_NO_ISOLATION")]
    pub no_isolation: bool,

    /// Origin allowed to open the WebSocket, e.g. `https://phone.example` (repeatable;
    /// `*` allows any). Default: only the origin whose host:port is the request's Host.
    #[arg(
        long = "allowed-origin",
        env = "VOXLET_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Shared secret the browser must send in `hello.token`.
    #[arg(long, env = "VOXLET_TOKEN")]
    pub token: Option<String>,

    /// Concurrent WebSocket connections; one more gets error `busy`.
    #[arg(long, env = "VOXLET_MAX_SESSIONS", default_value_t = 64)]
    pub max_sessions: usize,

    /// Largest WebSocket message (text or binary) in bytes; larger closes with 1009.
    #[arg(long, env = "VOXLET_MAX_MESSAGE_BYTES", default_value_t = 16384)]
    pub max_message_bytes: usize,

    /// Packets per second a session may send (RTP + RTCP); the excess is dropped.
    #[arg(long, env = "VOXLET_MAX_PACKETS_PER_SEC", default_value_t = 250)]
    pub max_packets_per_sec: u32,

    /// Close a session that sent nothing (no packet, no control message) for this long.
    #[arg(long, env = "VOXLET_IDLE_TIMEOUT_SECS", default_value_t = 30)]
    pub idle_timeout_secs: u64,

    /// Local address UDP peers' RTP/RTCP sockets bind to. Default: 127.0.0.1 for a
    /// loopback peer, 0.0.0.0 otherwise.
    #[arg(long, env = "VOXLET_RTP_BIND")]
    pub rtp_bind: Option<IpAddr>,

    /// Even local RTP port range `MIN-MAX` for UDP peers (RTCP = RTP + 1). Default: any.
    #[arg(long, env = "VOXLET_RTP_PORTS")]
    pub rtp_ports: Option<String>,

    /// Codecs (rtpmap, e.g. `PCMU/8000`) UDP peers accept, comma-separated. Default: any.
    #[arg(long, env = "VOXLET_UDP_CODECS", value_delimiter = ',')]
    pub udp_codecs: Vec<String>,

    /// Address the WebRTC (DataChannel) ICE host candidate binds to.
    #[arg(long, env = "VOXLET_WEBRTC_IP", default_value = "127.0.0.1")]
    pub webrtc_ip: IpAddr,

    /// Directory holding `speech_8k/16k/48k.s16le` for the `announce` peer.
    #[arg(long, env = "VOXLET_FIXTURES", default_value = "tests/fixtures")]
    pub fixtures: PathBuf,

    /// Local UDP address of the SIP user agent (needed by `sip` peers).
    #[arg(long, env = "VOXLET_SIP_BIND", default_value = "127.0.0.1:5060")]
    pub sip_bind: SocketAddr,

    /// The gateway's SIP address of record, e.g. `sip:voxlet@pbx.example`
    /// (From of outgoing calls). Default: `sip:voxlet@` the SIP bind address.
    #[arg(long, env = "VOXLET_SIP_ACCOUNT")]
    pub sip_account: Option<String>,

    /// Registrar to REGISTER the account with, e.g. `sip:pbx.example`. Default: none.
    #[arg(long, env = "VOXLET_SIP_REGISTRAR")]
    pub sip_registrar: Option<String>,

    /// Digest user name for the registrar and 401/407 challenges (default: the account's user).
    #[arg(long, env = "VOXLET_SIP_USER")]
    pub sip_user: Option<String>,

    /// Digest password (prefer the environment variable).
    #[arg(long, env = "VOXLET_SIP_PASSWORD", hide_env_values = true)]
    pub sip_password: Option<String>,

    /// Destinations a browser may dial through `sip` peers, as patterns over
    /// the SIP URI (`*` any run of characters, `?` one), e.g.
    /// `sip:1???@pbx.example` (repeatable). Default: none, so nothing can be dialled.
    #[arg(long = "sip-allow", env = "VOXLET_SIP_ALLOW", value_delimiter = ',')]
    pub sip_allow: Vec<String>,

    /// Callers whose INVITE may ring a waiting page, as patterns over the
    /// From URI (same syntax as `--sip-allow`), e.g. `sip:*@pbx.example`
    /// (repeatable). From can be forged: also keep the SIP socket reachable
    /// only by your PBX. Default: none, so incoming calls get 403.
    #[arg(
        long = "sip-allow-from",
        env = "VOXLET_SIP_ALLOW_FROM",
        value_delimiter = ','
    )]
    pub sip_allow_from: Vec<String>,

    /// Take a SIP call's media from whichever host sends its first RTP
    /// packet, not only from the SDP `c=` address ("comedia": phones behind
    /// NAT that announce a private address). Whoever sends first gets the
    /// media: only where just the PBX and phones reach the RTP ports.
    #[arg(long = "sip-rtp-latch", env = "VOXLET_SIP_RTP_LATCH")]
    pub sip_rtp_latch: bool,
}

/// One configured peer kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerKind {
    /// Loops the caller's packets back; `restamp` gives them the gateway's own SSRC.
    Echo {
        /// Replace the SSRC of looped packets.
        restamp: bool,
    },
    /// Plays speech encoded by the gateway; `file` is raw s16le mono at `rate`.
    Announce {
        /// A raw file and its rate, or `None` for the fixtures.
        file: Option<(PathBuf, u32)>,
    },
    /// Two browsers in the same room hear each other.
    Room,
    /// A fixed RTP peer (symmetric RTP, RTCP on port + 1).
    Udp {
        /// Where RTP goes (RTCP: port + 1).
        addr: SocketAddr,
    },
    /// SIP calls through the gateway's user agent, to destinations on the
    /// `--sip-allow` list only.
    Sip,
}

impl PeerKind {
    /// Short kind name, as in `/config.json`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            PeerKind::Echo { .. } => "echo",
            PeerKind::Announce { .. } => "announce",
            PeerKind::Room => "room",
            PeerKind::Udp { .. } => "udp",
            PeerKind::Sip => "sip",
        }
    }
}

/// A named peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSpec {
    /// The name the browser asks for.
    pub name: String,
    /// What it is.
    pub kind: PeerKind,
}

/// Parses `[NAME=]SPEC`.
pub fn parse_peer(s: &str) -> Result<PeerSpec, String> {
    let s = s.trim();
    let (name, spec) = match s.split_once('=') {
        Some((n, sp)) => (Some(n.trim().to_string()), sp.trim()),
        None => (None, s),
    };
    let (kind_str, rest) = match spec.split_once(':') {
        Some((k, r)) => (k, Some(r)),
        None => (spec, None),
    };
    let kind = match (kind_str, rest) {
        ("echo", None) => PeerKind::Echo { restamp: false },
        ("echo", Some("restamp")) => PeerKind::Echo { restamp: true },
        ("announce", None) => PeerKind::Announce { file: None },
        ("announce", Some(r)) => {
            let (path, rate) = r
                .rsplit_once('@')
                .ok_or_else(|| format!("peer {s:?}: expected announce:FILE.s16le@RATE"))?;
            let rate: u32 = rate
                .parse()
                .map_err(|_| format!("peer {s:?}: bad rate {rate:?}"))?;
            if !(8000..=96_000).contains(&rate) {
                return Err(format!("peer {s:?}: rate must be 8000..=96000"));
            }
            PeerKind::Announce {
                file: Some((PathBuf::from(path), rate)),
            }
        }
        ("room", None) => PeerKind::Room,
        ("sip", None) => PeerKind::Sip,
        ("udp", Some(hp)) => {
            let addr = hp
                .to_socket_addrs()
                .map_err(|e| format!("peer {s:?}: cannot resolve {hp:?}: {e}"))?
                .next()
                .ok_or_else(|| format!("peer {s:?}: {hp:?} resolves to nothing"))?;
            if addr.port() == 0 || addr.port() == u16::MAX {
                return Err(format!("peer {s:?}: port must be 1..=65534"));
            }
            PeerKind::Udp { addr }
        }
        _ => {
            return Err(format!(
                "peer {s:?}: expected echo, echo:restamp, announce, announce:FILE@RATE, room, udp:HOST:PORT or sip"
            ))
        }
    };
    let name = name.unwrap_or_else(|| kind.kind_name().to_string());
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(format!(
            "peer {s:?}: name must be 1-64 characters of A-Z a-z 0-9 - _ ."
        ));
    }
    Ok(PeerSpec { name, kind })
}

/// The validated configuration the server runs with.
#[derive(Clone, Debug)]
pub struct Config {
    /// HTTP listen address.
    pub listen: SocketAddr,
    /// Served at `/`.
    pub www: PathBuf,
    /// Served at `/pkg/`.
    pub pkg: PathBuf,
    /// Callable peers, the first is the default.
    pub peers: Vec<PeerSpec>,
    /// COOP/COEP/CORP headers.
    pub isolation: bool,
    /// Allowed origins (lower-case, no trailing slash); empty = same host; `*` = any.
    pub allowed_origins: Vec<String>,
    /// Required `hello.token`.
    pub token: Option<String>,
    /// Concurrent connections.
    pub max_sessions: usize,
    /// Largest WebSocket message.
    pub max_message_bytes: usize,
    /// Packets per second from one browser.
    pub max_packets_per_sec: u32,
    /// Idle timeout.
    pub idle_timeout: Duration,
    /// UDP peers' local bind address override.
    pub rtp_bind: Option<IpAddr>,
    /// Even local RTP port range.
    pub rtp_ports: Option<(u16, u16)>,
    /// Codecs UDP peers accept (lower-case rtpmaps); empty = any.
    pub udp_codecs: Vec<String>,
    /// ICE host candidate address.
    pub webrtc_ip: IpAddr,
    /// Fixture directory for `announce`.
    pub fixtures: PathBuf,
    /// The SIP user agent's settings (used when a `sip` peer is configured).
    pub sip: SipConfig,
}

/// The SIP user agent's settings: operator-only, never from a browser.
#[derive(Clone, Debug)]
pub struct SipConfig {
    /// Local UDP address of the user agent.
    pub bind: SocketAddr,
    /// Address of record (`sip:user@domain`); `None`: `sip:voxlet@` the bound address.
    pub account: Option<String>,
    /// Registrar URI; `None`: no REGISTER.
    pub registrar: Option<String>,
    /// Digest user name (default: the account's user part).
    pub user: Option<String>,
    /// Digest password.
    pub password: Option<String>,
    /// Destination patterns a browser may dial (see [`crate::sip::allow`]).
    pub allow: Vec<String>,
    /// Caller (From) patterns whose INVITE may ring a waiting page.
    pub allow_from: Vec<String>,
    /// Media from the first RTP source, not only the SDP host (`--sip-rtp-latch`).
    pub rtp_latch: bool,
}

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 5060)),
            account: None,
            registrar: None,
            user: None,
            password: None,
            allow: Vec::new(),
            allow_from: Vec::new(),
            rtp_latch: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            www: "www".into(),
            pkg: "pkg".into(),
            peers: default_peers(),
            isolation: true,
            allowed_origins: Vec::new(),
            token: None,
            max_sessions: 64,
            max_message_bytes: 16384,
            max_packets_per_sec: 250,
            idle_timeout: Duration::from_secs(30),
            rtp_bind: None,
            rtp_ports: None,
            udp_codecs: Vec::new(),
            webrtc_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            fixtures: "tests/fixtures".into(),
            sip: SipConfig::default(),
        }
    }
}

fn default_peers() -> Vec<PeerSpec> {
    ["echo", "announce", "room"]
        .iter()
        .map(|s| parse_peer(s).expect("built-in peer"))
        .collect()
}

impl Config {
    /// Validates command-line arguments.
    pub fn from_args(a: Args) -> Result<Config, String> {
        let mut peers = Vec::new();
        for p in &a.peers {
            if p.trim().is_empty() {
                continue;
            }
            let spec = parse_peer(p)?;
            if peers.iter().any(|q: &PeerSpec| q.name == spec.name) {
                return Err(format!(
                    "two peers named {:?} (use NAME=SPEC to tell them apart)",
                    spec.name
                ));
            }
            peers.push(spec);
        }
        if peers.is_empty() {
            peers = default_peers();
        }
        let rtp_ports = match &a.rtp_ports {
            None => None,
            Some(r) => {
                let (lo, hi) = r
                    .split_once('-')
                    .ok_or_else(|| format!("--rtp-ports {r:?}: expected MIN-MAX"))?;
                let lo: u16 = lo
                    .trim()
                    .parse()
                    .map_err(|_| format!("--rtp-ports {r:?}"))?;
                let hi: u16 = hi
                    .trim()
                    .parse()
                    .map_err(|_| format!("--rtp-ports {r:?}"))?;
                if lo < 1024 || hi <= lo || hi == u16::MAX {
                    return Err(format!("--rtp-ports {r:?}: need 1024 <= MIN < MAX < 65535"));
                }
                Some((lo, hi))
            }
        };
        for c in &a.udp_codecs {
            voxlet::codec::parse_rtpmap(c)
                .map_err(|_| format!("--udp-codecs: bad rtpmap {c:?}"))?;
        }
        for p in &a.sip_allow {
            crate::sip::allow::Pattern::parse(p).map_err(|e| format!("--sip-allow: {e}"))?;
        }
        for p in &a.sip_allow_from {
            crate::sip::allow::Pattern::parse(p).map_err(|e| format!("--sip-allow-from: {e}"))?;
        }
        if let Some(acc) = &a.sip_account {
            crate::sip::allow::parse_account(acc).map_err(|e| format!("--sip-account: {e}"))?;
        }
        if let Some(r) = &a.sip_registrar {
            crate::sip::allow::parse_uri(r).map_err(|e| format!("--sip-registrar: {e}"))?;
        }
        if a.max_message_bytes < 1024 {
            return Err("--max-message-bytes must be at least 1024".into());
        }
        if a.max_sessions == 0 || a.max_packets_per_sec == 0 || a.idle_timeout_secs == 0 {
            return Err(
                "--max-sessions, --max-packets-per-sec and --idle-timeout-secs must be > 0".into(),
            );
        }
        Ok(Config {
            listen: a.listen,
            www: a.www,
            pkg: a.pkg,
            peers,
            isolation: a.coop_coep && !a.no_isolation,
            allowed_origins: a
                .allowed_origins
                .iter()
                .map(|o| normalize_origin(o))
                .filter(|o| !o.is_empty())
                .collect(),
            token: a.token.filter(|t| !t.is_empty()),
            max_sessions: a.max_sessions,
            max_message_bytes: a.max_message_bytes,
            max_packets_per_sec: a.max_packets_per_sec,
            idle_timeout: Duration::from_secs(a.idle_timeout_secs),
            rtp_bind: a.rtp_bind,
            rtp_ports,
            udp_codecs: a
                .udp_codecs
                .iter()
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty())
                .collect(),
            webrtc_ip: a.webrtc_ip,
            fixtures: a.fixtures,
            sip: SipConfig {
                bind: a.sip_bind,
                account: a.sip_account.filter(|s| !s.trim().is_empty()),
                registrar: a.sip_registrar.filter(|s| !s.trim().is_empty()),
                user: a.sip_user.filter(|s| !s.is_empty()),
                password: a.sip_password.filter(|s| !s.is_empty()),
                allow: a
                    .sip_allow
                    .iter()
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
                allow_from: a
                    .sip_allow_from
                    .iter()
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
                rtp_latch: a.sip_rtp_latch,
            },
        })
    }

    /// The peer called `name`, or the default (first) one for `None`.
    pub fn peer(&self, name: Option<&str>) -> Option<&PeerSpec> {
        match name {
            None => self.peers.first(),
            Some(n) => self.peers.iter().find(|p| p.name == n),
        }
    }
}

/// Lower-case, without a trailing slash.
pub fn normalize_origin(o: &str) -> String {
    o.trim().trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse() {
        assert_eq!(parse_peer("echo").unwrap().name, "echo");
        assert_eq!(
            parse_peer("me=echo:restamp").unwrap(),
            PeerSpec {
                name: "me".into(),
                kind: PeerKind::Echo { restamp: true }
            }
        );
        let u = parse_peer("pbx=udp:127.0.0.1:4000").unwrap();
        assert_eq!(
            u.kind,
            PeerKind::Udp {
                addr: "127.0.0.1:4000".parse().unwrap()
            }
        );
        assert_eq!(parse_peer("udp:127.0.0.1:5004").unwrap().name, "udp");
        assert!(parse_peer("udp:127.0.0.1:0").is_err());
        assert!(parse_peer("tcp:1.2.3.4:5").is_err());
        assert!(parse_peer("bad name=echo").is_err());
        let a = parse_peer("announce:/tmp/x.raw@16000").unwrap();
        assert_eq!(
            a.kind,
            PeerKind::Announce {
                file: Some(("/tmp/x.raw".into(), 16000))
            }
        );
    }

    #[test]
    fn args_validate() {
        let a = Args::parse_from(["x", "--peer", "echo", "--peer", "echo"]);
        assert!(Config::from_args(a).is_err());
        let a = Args::parse_from(["x", "--no-isolation", "--rtp-ports", "40000-40100"]);
        let c = Config::from_args(a).unwrap();
        assert!(!c.isolation);
        assert_eq!(c.rtp_ports, Some((40000, 40100)));
        assert_eq!(c.peers.len(), 3);
        let a = Args::parse_from(["x"]);
        assert!(Config::from_args(a).unwrap().isolation);
        let a = Args::parse_from([
            "x",
            "--peer",
            "phone=sip",
            "--sip-allow",
            "sip:1???@pbx.example",
        ]);
        let c = Config::from_args(a).unwrap();
        assert_eq!(c.peers[0].kind, PeerKind::Sip);
        assert!(
            c.sip.allow_from.is_empty(),
            "incoming calls are off by default"
        );
        for bad in [
            ["x", "--sip-allow", "1000"],
            ["x", "--sip-allow-from", "bob"],
            ["x", "--sip-account", "sip:pbx.example"],
            ["x", "--sip-registrar", "tel:+1"],
        ] {
            assert!(Config::from_args(Args::parse_from(bad)).is_err(), "{bad:?}");
        }
    }
}
