//! The far ends a browser session is bridged to: `echo`, `announce`,
//! `room` and a fixed `udp` RTP peer.
//!
//! Every peer gets the session's packets (RTP or RTCP, one per [`Packet`])
//! and hands what it sends back to the session through a bounded channel;
//! nothing on the media path ever waits: a full channel drops (and counts).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use voxlet::codec::CodecInfo;
use voxlet::sender::{Pacing, Sender, SenderConfig};

use crate::dtmf::DtmfDetector;

/// Bounded channel depth for packets (≈ 1.3 s at 20 ms ptime, both ways).
pub const CHANNEL_DEPTH: usize = 64;

/// One RTP or RTCP packet.
#[derive(Clone, Debug)]
pub struct Packet {
    /// RTCP (by RFC 5761 demultiplexing: second byte 192..=223).
    pub rtcp: bool,
    /// The datagram.
    pub data: Bytes,
}

/// RFC 5761 §4: RTCP packet types 192..=223 in the second byte.
pub fn is_rtcp(b: &[u8]) -> bool {
    b.len() >= 2 && (192..=223).contains(&b[1])
}

/// Something happened that the session should tell the browser about.
#[derive(Debug)]
pub enum SessionEvent {
    /// The other browser joined the room.
    PeerJoined,
    /// The other browser left the room.
    PeerLeft,
    /// The peer stopped working (with why); the session ends.
    PeerFailed(String),
    /// The DataChannel opened.
    DcOpen,
    /// The DataChannel / WebRTC connection closed (with why).
    DcClosed(String),
    /// A packet from the browser over the DataChannel.
    DcPacket(Bytes),
    /// The SIP call changed state.
    Sip(crate::sip::SipEvent),
}

/// Counters the peer tasks update.
#[derive(Debug, Default)]
pub struct PeerCounters {
    /// Datagrams from an address other than the configured peer's.
    pub foreign_dropped: AtomicU64,
    /// Datagrams that were not RTP/RTCP (or too long).
    pub invalid_dropped: AtomicU64,
    /// Packets dropped because a channel was full (either way).
    pub queue_dropped: AtomicU64,
    /// UDP send errors.
    pub send_errors: AtomicU64,
    /// Packets the peer itself produced (announce) or received (udp).
    pub produced: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Aborts a task when dropped.
#[derive(Debug)]
pub struct AbortOnDrop(pub JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the session holds for its peer.
pub enum PeerHandle {
    /// Loop back in the session itself; `Some(ssrc)`: restamp.
    Echo {
        /// SSRC to put on looped packets.
        restamp: Option<u32>,
    },
    /// A task fed through a channel (announce, udp).
    Task {
        /// Packets for the peer.
        tx: mpsc::Sender<Packet>,
        /// The task.
        _task: AbortOnDrop,
    },
    /// A room seat.
    Room(RoomMember),
}

impl PeerHandle {
    /// Hands a browser packet to a task / room peer (echo is handled by the
    /// session). Never waits.
    pub fn send(&self, p: Packet, counters: &PeerCounters) {
        match self {
            PeerHandle::Echo { .. } => {}
            PeerHandle::Task { tx, .. } => {
                if tx.try_send(p).is_err() {
                    bump(&counters.queue_dropped);
                }
            }
            PeerHandle::Room(m) => m.send(p, counters),
        }
    }
}

/// Everything a peer needs to know about the negotiated stream.
#[derive(Clone, Debug)]
pub struct StreamInfo {
    /// Session id (seeds randomness).
    pub session: u64,
    /// The audio codec.
    pub codec: CodecInfo,
    /// Its payload type.
    pub pt: u8,
    /// Normalised rtpmap of the codec.
    pub rtpmap: String,
    /// telephone-event payload type, if negotiated (clock = codec clock).
    pub te_pt: Option<u8>,
    /// Packet time.
    pub ptime: u16,
}

// ---------------------------------------------------------------- announce

/// Reads raw s16le mono audio into `f32`.
pub fn load_s16le(path: &Path) -> io::Result<Vec<f32>> {
    let raw = std::fs::read(path)?;
    Ok(raw
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0)
        .collect())
}

/// The fixture to play for a codec: the one whose rate matches its audio
/// rate, else 48 kHz (the Sender resamples).
pub fn fixture_for(dir: &Path, codec: &CodecInfo) -> (PathBuf, u32) {
    let rate = match codec.sample_rate {
        8000 => 8000,
        16000 => 16000,
        _ => 48000,
    };
    (dir.join(format!("speech_{}k.s16le", rate / 1000)), rate)
}

/// Builds the announce Sender (fails for codec/ptime pairs it cannot encode).
pub fn announce_sender(info: &StreamInfo, input_rate: u32) -> Result<Sender, String> {
    let mut cfg = SenderConfig::new(info.codec, info.pt);
    cfg.ptime_ms = info.ptime;
    cfg.input_rate = input_rate;
    cfg.input_channels = 1;
    cfg.dtmf_payload_type = info.te_pt;
    cfg.dtmf_clock_rate = info.codec.clock_rate;
    cfg.pacing = Pacing::Paced;
    cfg.seed = info.session.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    cfg.rtcp_interval_ms = 5000;
    cfg.cname = Some("voxlet-gateway-announce".into());
    Sender::new(cfg).map_err(|e| e.to_string())
}

/// Media kept queued ahead of the pacing clock.
const ANNOUNCE_LEAD_MS: u64 = 200;
/// Silence appended to the recording before it loops.
const ANNOUNCE_PAUSE_MS: usize = 600;

/// Starts the announcer: `audio` (mono, `rate` Hz) encoded with `sender`,
/// paced in real time, looping; DTMF keys it receives are played back.
pub fn spawn_announce(
    mut sender: Sender,
    mut audio: Vec<f32>,
    rate: u32,
    te_pt: Option<u8>,
    to_browser: mpsc::Sender<Packet>,
    counters: Arc<PeerCounters>,
) -> PeerHandle {
    audio.extend(std::iter::repeat_n(
        0.0,
        rate as usize * ANNOUNCE_PAUSE_MS / 1000,
    ));
    let (tx, mut rx) = mpsc::channel::<Packet>(CHANNEL_DEPTH);
    let task = tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        let chunk = (rate as usize / 50).max(1);
        let mut pos = 0usize;
        let mut pushed: u64 = 0;
        let mut detector = DtmfDetector::new(te_pt);
        loop {
            let now_ms = start.elapsed().as_secs_f64() * 1000.0;
            while (pushed * 1000 / rate as u64) as f64 <= now_ms + ANNOUNCE_LEAD_MS as f64 {
                let end = (pos + chunk).min(audio.len());
                let Ok(n) = sender.push_audio(&audio[pos..end], now_ms) else {
                    break;
                };
                if n == 0 {
                    break;
                }
                pos += n;
                pushed += n as u64;
                if pos >= audio.len() {
                    pos = 0;
                }
            }
            while let Some(p) = sender.poll_packet(now_ms) {
                bump(&counters.produced);
                let pk = Packet {
                    rtcp: false,
                    data: Bytes::copy_from_slice(p),
                };
                if to_browser.try_send(pk).is_err() {
                    bump(&counters.queue_dropped);
                }
            }
            let unix_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
            if let Some(r) = sender.poll_rtcp(now_ms, unix_ms) {
                let pk = Packet {
                    rtcp: true,
                    data: Bytes::copy_from_slice(r),
                };
                if to_browser.try_send(pk).is_err() {
                    bump(&counters.queue_dropped);
                }
            }
            let next_ms = sender
                .next_due_ms()
                .unwrap_or(now_ms + 5.0)
                .clamp(now_ms + 1.0, now_ms + 50.0);
            let deadline = start + std::time::Duration::from_secs_f64(next_ms / 1000.0);
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {}
                m = rx.recv() => match m {
                    None => break,
                    Some(p) if !p.rtcp => {
                        if let Some(d) = detector.inspect(&p.data) {
                            let _ = sender.send_dtmf(d, 120, 10);
                        }
                    }
                    Some(_) => {}
                },
            }
        }
    });
    PeerHandle::Task {
        tx,
        _task: AbortOnDrop(task),
    }
}

// ---------------------------------------------------------------- udp

fn bind_std(ip: IpAddr, port: u16) -> io::Result<std::net::UdpSocket> {
    let s = std::net::UdpSocket::bind(SocketAddr::new(ip, port))?;
    s.set_nonblocking(true)?;
    Ok(s)
}

static PORT_CURSOR: AtomicU64 = AtomicU64::new(0);

/// Binds an RTP socket on an even port and the RTCP socket on the next one.
pub fn bind_pair(
    ip: IpAddr,
    range: Option<(u16, u16)>,
) -> io::Result<(std::net::UdpSocket, std::net::UdpSocket)> {
    match range {
        Some((lo, hi)) => {
            let lo = lo + (lo & 1);
            let pairs = ((hi - lo) / 2) as u64;
            if pairs == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    "empty RTP port range",
                ));
            }
            let first = PORT_CURSOR.fetch_add(1, Ordering::Relaxed);
            for k in 0..pairs {
                let port = lo + (((first + k) % pairs) * 2) as u16;
                if let Ok(a) = bind_std(ip, port) {
                    if let Ok(b) = bind_std(ip, port + 1) {
                        return Ok((a, b));
                    }
                }
            }
            Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "no free RTP/RTCP port pair in --rtp-ports",
            ))
        }
        None => {
            for _ in 0..100 {
                let a = bind_std(ip, 0)?;
                let port = a.local_addr()?.port();
                if port % 2 != 0 || port == u16::MAX {
                    continue;
                }
                if let Ok(b) = bind_std(ip, port + 1) {
                    return Ok((a, b));
                }
            }
            Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "no free RTP/RTCP port pair",
            ))
        }
    }
}

/// The local address for sockets talking to `peer`: loopback for a loopback
/// peer, the unspecified address otherwise.
pub fn bind_ip_for(peer: &SocketAddr, configured: Option<IpAddr>) -> IpAddr {
    if let Some(ip) = configured {
        return ip;
    }
    match peer.ip() {
        IpAddr::V4(v) if v.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v) if v.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

fn looks_like_rtp(b: &[u8]) -> bool {
    b.len() >= 8 && b[0] >> 6 == 2
}

/// Starts a symmetric-RTP bridge to `peer` (RTCP on `peer.port() + 1`).
/// Packets are accepted only from the configured host; the destination
/// latches to the port they come from. Returns the handle and the local RTP port.
pub fn spawn_udp(
    peer: SocketAddr,
    bind_ip: IpAddr,
    ports: Option<(u16, u16)>,
    to_browser: mpsc::Sender<Packet>,
    events: mpsc::Sender<SessionEvent>,
    counters: Arc<PeerCounters>,
) -> io::Result<(PeerHandle, u16)> {
    let pair = bind_pair(bind_ip, ports)?;
    let local_port = pair.0.local_addr()?.port();
    let handle = spawn_udp_on(
        pair,
        peer,
        PtMap::default(),
        SourceFilter::Host,
        to_browser,
        events,
        counters,
    )?;
    Ok((handle, local_port))
}

/// Payload-type pairs `(browser, peer)` rewritten on RTP crossing the bridge
/// (a SIP far end may answer with numbers of its own). Empty: unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PtMap(pub Vec<(u8, u8)>);

impl PtMap {
    /// Rewrites the payload type of an RTP packet: `to_peer` maps browser →
    /// peer numbers, otherwise peer → browser.
    pub fn apply(&self, data: Bytes, to_peer: bool) -> Bytes {
        if self.0.is_empty() || data.len() < 12 {
            return data;
        }
        let pt = data[1] & 0x7f;
        let mapped = self.0.iter().find_map(|&(b, p)| {
            if to_peer && b == pt {
                Some(p)
            } else if !to_peer && p == pt {
                Some(b)
            } else {
                None
            }
        });
        match mapped {
            Some(n) if n != pt => {
                let mut v = data.to_vec();
                v[1] = (v[1] & 0x80) | n;
                Bytes::from(v)
            }
            _ => data,
        }
    }
}

/// Which hosts a UDP bridge takes media from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SourceFilter {
    /// Only the configured host (for a SIP call, the SDP `c=` address);
    /// the port latches to where its packets come from. The default.
    #[default]
    Host,
    /// Until the first RTP packet has come, any host; then only that one
    /// ("comedia"): for a phone behind NAT whose SDP names its private
    /// address. Whoever sends the first packet gets the call's media, so
    /// it is for networks where only the PBX/phones reach the media ports.
    LatchFirst,
}

/// [`spawn_udp`] on an already bound RTP/RTCP socket pair (a SIP call binds
/// first, because its port goes into the SDP offer), rewriting payload
/// types with `pt_map` and taking media from the hosts `filter` allows.
pub fn spawn_udp_on(
    (a, b): (std::net::UdpSocket, std::net::UdpSocket),
    peer: SocketAddr,
    pt_map: PtMap,
    filter: SourceFilter,
    to_browser: mpsc::Sender<Packet>,
    events: mpsc::Sender<SessionEvent>,
    counters: Arc<PeerCounters>,
) -> io::Result<PeerHandle> {
    let rtp = UdpSocket::from_std(a)?;
    let rtcp = UdpSocket::from_std(b)?;
    let (tx, mut rx) = mpsc::channel::<Packet>(CHANNEL_DEPTH);
    let task = tokio::spawn(async move {
        // The host media is taken from; `open`: any host may still latch.
        let mut host = peer.ip();
        let mut open = filter == SourceFilter::LatchFirst;
        let mut rtp_dest = peer;
        let mut rtcp_dest = SocketAddr::new(peer.ip(), peer.port().wrapping_add(1));
        let mut b1 = vec![0u8; 2048];
        let mut b2 = vec![0u8; 2048];
        let fail = |e: io::Error| SessionEvent::PeerFailed(format!("UDP peer socket: {e}"));
        loop {
            tokio::select! {
                m = rx.recv() => {
                    let Some(p) = m else { break };
                    let (sock, dest) = if p.rtcp { (&rtcp, rtcp_dest) } else { (&rtp, rtp_dest) };
                    let data = if p.rtcp { p.data } else { pt_map.apply(p.data, true) };
                    if sock.send_to(&data, dest).await.is_err() {
                        bump(&counters.send_errors);
                    }
                }
                r = rtp.recv_from(&mut b1) => match r {
                    Ok((n, src)) => {
                        if open && src.ip() != host && looks_like_rtp(&b1[..n]) && !is_rtcp(&b1[..n]) {
                            tracing::info!(from = %src, sdp = %peer, "RTP latched to its first source");
                            host = src.ip();
                            rtcp_dest = SocketAddr::new(host, src.port().wrapping_add(1));
                        }
                        if let Some(d) = accept(&b1[..n], src, host, &counters) {
                            open = false;
                            rtp_dest = src;
                            let rtcp = is_rtcp(d);
                            let mut data = Bytes::copy_from_slice(d);
                            if !rtcp {
                                data = pt_map.apply(data, false);
                            }
                            if to_browser.try_send(Packet { rtcp, data }).is_err() {
                                bump(&counters.queue_dropped);
                            }
                        }
                    }
                    Err(e) if transient(&e) => {}
                    Err(e) => { let _ = events.send(fail(e)).await; break; }
                },
                r = rtcp.recv_from(&mut b2) => match r {
                    Ok((n, src)) => {
                        if let Some(d) = accept(&b2[..n], src, host, &counters) {
                            rtcp_dest = src;
                            if to_browser.try_send(Packet { rtcp: true, data: Bytes::copy_from_slice(d) }).is_err() {
                                bump(&counters.queue_dropped);
                            }
                        }
                    }
                    Err(e) if transient(&e) => {}
                    Err(e) => { let _ = events.send(fail(e)).await; break; }
                },
            }
        }
    });
    Ok(PeerHandle::Task {
        tx,
        _task: AbortOnDrop(task),
    })
}

/// ICMP port unreachable shows up as ConnectionRefused on the next recv.
fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::WouldBlock
    )
}

fn accept<'a>(d: &'a [u8], src: SocketAddr, host: IpAddr, c: &PeerCounters) -> Option<&'a [u8]> {
    if src.ip() != host {
        bump(&c.foreign_dropped);
        return None;
    }
    if !looks_like_rtp(d) || d.len() >= 2048 {
        bump(&c.invalid_dropped);
        return None;
    }
    bump(&c.produced);
    Some(d)
}

// ---------------------------------------------------------------- room

struct Seat {
    pt: u8,
    te_pt: Option<u8>,
    to_browser: mpsc::Sender<Packet>,
    events: mpsc::Sender<SessionEvent>,
}

struct RoomState {
    codec: CodecInfo,
    seats: [Option<Seat>; 2],
}

/// All rooms of the server.
#[derive(Default)]
pub struct Rooms {
    map: Mutex<HashMap<String, Arc<Mutex<RoomState>>>>,
}

/// Why a room refused a caller.
#[derive(Debug)]
pub enum RoomError {
    /// Two are talking already.
    Full,
    /// The caller offers none of... the room's codec.
    CodecMismatch(String),
}

/// A seat in a room; leaving (drop) frees it and tells the other one.
pub struct RoomMember {
    rooms: Arc<Rooms>,
    name: String,
    room: Arc<Mutex<RoomState>>,
    slot: usize,
}

impl Rooms {
    /// Takes a seat in room `name`. The first caller's codec (its first
    /// offer `choose` accepts) becomes the room's; the second caller must
    /// offer the same codec (any payload type: the gateway rewrites PTs).
    /// Returns the member and the index of the chosen offer.
    pub fn join(
        self: &Arc<Self>,
        name: &str,
        offers: &[(u8, CodecInfo)],
        te_pt: Option<u8>,
        to_browser: mpsc::Sender<Packet>,
        events: mpsc::Sender<SessionEvent>,
    ) -> Result<(RoomMember, usize), RoomError> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let room = map.get(name).cloned().unwrap_or_else(|| {
            Arc::new(Mutex::new(RoomState {
                codec: offers[0].1,
                seats: [None, None],
            }))
        });
        let mut st = room.lock().unwrap_or_else(|e| e.into_inner());
        let occupied = st.seats.iter().filter(|s| s.is_some()).count();
        if occupied >= 2 {
            return Err(RoomError::Full);
        }
        let idx = if occupied == 0 {
            st.codec = offers[0].1;
            0
        } else {
            offers
                .iter()
                .position(|(_, c)| *c == st.codec)
                .ok_or_else(|| {
                    RoomError::CodecMismatch(format!(
                        "the room talks {}/{}{}; offer it",
                        st.codec.kind.sdp_name(),
                        st.codec.clock_rate,
                        if st.codec.channels > 1 {
                            format!("/{}", st.codec.channels)
                        } else {
                            String::new()
                        }
                    ))
                })?
        };
        let slot = if st.seats[0].is_none() { 0 } else { 1 };
        st.seats[slot] = Some(Seat {
            pt: offers[idx].0,
            te_pt,
            to_browser,
            events,
        });
        if let Some(other) = &st.seats[1 - slot] {
            let _ = other.events.try_send(SessionEvent::PeerJoined);
            if let Some(me) = &st.seats[slot] {
                let _ = me.events.try_send(SessionEvent::PeerJoined);
            }
        }
        drop(st);
        map.insert(name.to_string(), room.clone());
        Ok((
            RoomMember {
                rooms: self.clone(),
                name: name.to_string(),
                room,
                slot,
            },
            idx,
        ))
    }

    /// Rooms with someone in them.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// No room is in use.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RoomMember {
    /// Forwards a packet to the other seat, rewriting the payload type.
    pub fn send(&self, mut p: Packet, counters: &PeerCounters) {
        let st = self.room.lock().unwrap_or_else(|e| e.into_inner());
        let (Some(me), Some(other)) = (&st.seats[self.slot], &st.seats[1 - self.slot]) else {
            return;
        };
        if !p.rtcp && p.data.len() >= 12 {
            let pt = p.data[1] & 0x7f;
            let new_pt = if pt == me.pt {
                Some(other.pt)
            } else if me.te_pt == Some(pt) {
                other.te_pt
            } else {
                None
            };
            match new_pt {
                Some(n) if n != pt => {
                    let mut v = p.data.to_vec();
                    v[1] = (v[1] & 0x80) | n;
                    p.data = Bytes::from(v);
                }
                Some(_) => {}
                // The other side cannot decode it (e.g. DTMF it did not negotiate).
                None => return,
            }
        }
        if other.to_browser.try_send(p).is_err() {
            bump(&counters.queue_dropped);
        }
    }
}

impl Drop for RoomMember {
    fn drop(&mut self) {
        let mut map = self.rooms.map.lock().unwrap_or_else(|e| e.into_inner());
        let mut st = self.room.lock().unwrap_or_else(|e| e.into_inner());
        st.seats[self.slot] = None;
        match &st.seats[1 - self.slot] {
            Some(other) => {
                let _ = other.events.try_send(SessionEvent::PeerLeft);
            }
            None => {
                drop(st);
                if map
                    .get(&self.name)
                    .is_some_and(|r| Arc::ptr_eq(r, &self.room))
                {
                    map.remove(&self.name);
                }
            }
        }
    }
}

/// Monotonic-ish seed material.
pub fn seed_now() -> u64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ (std::process::id() as u64).rotate_left(32) ^ (Instant::now().elapsed().as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    fn rtp(seq: u16) -> Vec<u8> {
        let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34];
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&[0xff; 160]);
        p
    }

    /// A UDP bridge whose SDP host is 127.0.0.1 (`sdp`), with `filter`.
    async fn bridge(
        filter: SourceFilter,
    ) -> (
        PeerHandle,
        u16,
        mpsc::Receiver<Packet>,
        Arc<PeerCounters>,
        UdpSocket,
    ) {
        let sdp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let pair = bind_pair(IpAddr::V4(Ipv4Addr::LOCALHOST), None).unwrap();
        let port = pair.0.local_addr().unwrap().port();
        let (to_browser, rx) = mpsc::channel(16);
        let (events, _) = mpsc::channel(4);
        let counters = Arc::new(PeerCounters::default());
        let handle = spawn_udp_on(
            pair,
            sdp.local_addr().unwrap(),
            PtMap::default(),
            filter,
            to_browser,
            events,
            counters.clone(),
        )
        .unwrap();
        (handle, port, rx, counters, sdp)
    }

    async fn recv(rx: &mut mpsc::Receiver<Packet>) -> Option<Packet> {
        tokio::time::timeout(Duration::from_millis(500), rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// 127.0.0.2 is loopback too: a host other than the SDP's.
    async fn nat_host() -> UdpSocket {
        UdpSocket::bind("127.0.0.2:0").await.unwrap()
    }

    #[tokio::test]
    async fn host_filter_drops_media_from_other_hosts() {
        let (_h, port, mut rx, counters, _sdp) = bridge(SourceFilter::Host).await;
        let nat = nat_host().await;
        nat.send_to(&rtp(1), ("127.0.0.1", port)).await.unwrap();
        assert!(recv(&mut rx).await.is_none());
        assert_eq!(counters.foreign_dropped.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn latch_first_takes_the_first_source_then_only_it() {
        let (h, port, mut rx, counters, sdp) = bridge(SourceFilter::LatchFirst).await;
        // The phone behind NAT: its packets come from another address than its SDP's.
        let nat = nat_host().await;
        nat.send_to(&rtp(1), ("127.0.0.1", port)).await.unwrap();
        assert_eq!(recv(&mut rx).await.expect("latched").data[..], rtp(1)[..]);
        // Media to the phone goes where its packets came from.
        h.send(
            Packet {
                rtcp: false,
                data: Bytes::from(rtp(9)),
            },
            &counters,
        );
        let mut b = [0u8; 512];
        let (n, from) = tokio::time::timeout(Duration::from_millis(500), nat.recv_from(&mut b))
            .await
            .expect("media reaches the latched source")
            .unwrap();
        assert_eq!((&b[..n], from.port()), (&rtp(9)[..], port));
        // Latched: now the SDP host itself is a stranger.
        sdp.send_to(&rtp(2), ("127.0.0.1", port)).await.unwrap();
        assert!(recv(&mut rx).await.is_none());
        assert_eq!(counters.foreign_dropped.load(Ordering::Relaxed), 1);
        // Not RTP does not latch an open bridge either (checked on a new one).
        let (_h2, port2, mut rx2, counters2, _sdp2) = bridge(SourceFilter::LatchFirst).await;
        nat.send_to(b"hello", ("127.0.0.1", port2)).await.unwrap();
        assert!(recv(&mut rx2).await.is_none());
        assert_eq!(counters2.foreign_dropped.load(Ordering::Relaxed), 1);
    }
}
