//! The DataChannel transport: WebRTC with str0m (sans-IO) driven by a tokio
//! task per session.
//!
//! The gateway is the answerer and ICE-lite: it binds one UDP socket on
//! `--webrtc-ip` (127.0.0.1 by default) and offers that as its only host
//! candidate; the browser's connectivity checks find it. The browser opens
//! the channel (`ordered: false, maxRetransmits: 0`); each message on it is
//! one RTP or RTCP packet, both ways.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use str0m::change::SdpOffer;
use str0m::channel::ChannelId;
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::peer::{AbortOnDrop, SessionEvent, CHANNEL_DEPTH};

/// Longest SDP accepted.
pub const MAX_SDP: usize = 16 * 1024;

/// The session's end of a running WebRTC connection.
pub struct WebrtcHandle {
    /// Packets to write on the DataChannel (dropped while it is not open).
    pub to_dc: mpsc::Sender<Bytes>,
    /// Local ICE candidate address.
    pub local: SocketAddr,
    _task: AbortOnDrop,
}

/// Accepts the browser's offer; returns the SDP answer and the running
/// connection, whose events (open, data, close) go to `events`.
pub async fn answer(
    offer_sdp: &str,
    ip: IpAddr,
    events: mpsc::Sender<SessionEvent>,
) -> Result<(String, WebrtcHandle), String> {
    if offer_sdp.len() > MAX_SDP {
        return Err(format!("SDP longer than {MAX_SDP} bytes"));
    }
    let offer = SdpOffer::from_sdp_string(offer_sdp).map_err(|e| format!("bad SDP offer: {e}"))?;
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0))
        .await
        .map_err(|e| format!("cannot bind {ip}: {e}"))?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let mut rtc = Rtc::builder().set_ice_lite(true).build(Instant::now());
    let cand = Candidate::host(local, "udp").map_err(|e| format!("candidate {local}: {e}"))?;
    rtc.add_local_candidate(cand);
    let answer = rtc
        .sdp_api()
        .accept_offer(offer)
        .map_err(|e| format!("cannot answer the offer: {e}"))?;
    let (to_dc, rx) = mpsc::channel(CHANNEL_DEPTH);
    let task = tokio::spawn(drive(rtc, socket, rx, events));
    Ok((
        answer.to_sdp_string(),
        WebrtcHandle {
            to_dc,
            local,
            _task: AbortOnDrop(task),
        },
    ))
}

/// Runs one `Rtc` on `socket` until it disconnects: transmits, timeouts,
/// incoming datagrams, and `outgoing` messages written to the first
/// DataChannel that opens. Reports [`SessionEvent::DcOpen`],
/// [`SessionEvent::DcPacket`] and [`SessionEvent::DcClosed`]. Used by the
/// gateway (answerer) and by tests (offerer) alike.
pub async fn drive(
    mut rtc: Rtc,
    socket: UdpSocket,
    mut outgoing: mpsc::Receiver<Bytes>,
    events: mpsc::Sender<SessionEvent>,
) {
    let local = match socket.local_addr() {
        Ok(a) => a,
        Err(e) => {
            let _ = events.send(SessionEvent::DcClosed(e.to_string())).await;
            return;
        }
    };
    let mut buf = vec![0u8; 2048];
    let mut channel: Option<ChannelId> = None;
    let mut outgoing_open = true;
    let why = 'outer: loop {
        // Drain to the next timeout (str0m's single-mutation rule).
        let timeout = loop {
            let out = match rtc.poll_output() {
                Ok(o) => o,
                Err(e) => break 'outer format!("webrtc: {e}"),
            };
            match out {
                Output::Timeout(t) => break t,
                Output::Transmit(t) => {
                    let _ = socket.send_to(&t.contents, t.destination).await;
                }
                Output::Event(ev) => match ev {
                    Event::ChannelOpen(id, _label) if channel.is_none() => {
                        channel = Some(id);
                        let _ = events.send(SessionEvent::DcOpen).await;
                    }
                    Event::ChannelData(d) if Some(d.id) == channel && d.binary => {
                        // A full session queue drops, as the network would.
                        let _ = events.try_send(SessionEvent::DcPacket(Bytes::from(d.data)));
                    }
                    Event::ChannelClose(id) if Some(id) == channel => {
                        break 'outer "DataChannel closed".to_string();
                    }
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        break 'outer "ICE disconnected".to_string();
                    }
                    _ => {}
                },
            }
        };
        if !rtc.is_alive() {
            break "WebRTC connection closed".to_string();
        }
        let now = Instant::now();
        let wait = timeout
            .saturating_duration_since(now)
            .min(Duration::from_secs(1));
        let input_result = tokio::select! {
            _ = tokio::time::sleep(wait) => rtc.handle_input(Input::Timeout(Instant::now())),
            r = socket.recv_from(&mut buf) => match r {
                Ok((n, source)) => match Receive::new(Protocol::Udp, source, local, &buf[..n]) {
                    Ok(rx) => rtc.handle_input(Input::Receive(Instant::now(), rx)),
                    Err(_) => Ok(()),
                },
                Err(_) => Ok(()),
            },
            m = outgoing.recv(), if outgoing_open => {
                match m {
                    Some(data) => {
                        if let Some(mut ch) = channel.and_then(|id| rtc.channel(id)) {
                            let _ = ch.write(true, &data);
                        }
                    }
                    None => outgoing_open = false,
                }
                Ok(())
            }
        };
        if let Err(e) = input_result {
            break format!("webrtc: {e}");
        }
    };
    let _ = events.send(SessionEvent::DcClosed(why)).await;
}
