//! DataChannel transport end to end, in-process: a str0m WebRTC client
//! (the "browser") signals over the WebSocket, opens one unordered,
//! unreliable channel on 127.0.0.1, and sends RTP through the gateway to
//! `echo` and back; DTMF and stats work the same as over the WebSocket.

mod common;
use common::*;

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use str0m::change::SdpAnswer;
use str0m::channel::{ChannelConfig, Reliability};
use str0m::{Candidate, Rtc};
use tokio::sync::mpsc;
use voxlet_gateway::peer::SessionEvent;

async fn next_event(rx: &mut mpsc::Receiver<SessionEvent>) -> SessionEvent {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("WebRTC event in time")
        .expect("driver alive")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtp_over_datachannel_to_echo_and_back() {
    init_log();
    let srv = start(config(&["echo"])).await;
    let mut c = connect(&srv).await;
    let mut h = hello_pcmu("echo");
    h["transport"] = json!("datachannel");
    let ans = c.hello(h).await;
    assert_eq!(ans["transport"], "datachannel");

    // The "browser": str0m, full ICE, host candidate on loopback.
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut rtc = Rtc::builder().build(Instant::now());
    rtc.add_local_candidate(Candidate::host(sock.local_addr().unwrap(), "udp").unwrap());
    let mut api = rtc.sdp_api();
    api.add_channel_with_config(ChannelConfig {
        label: "rtp".into(),
        ordered: false,
        reliability: Reliability::MaxRetransmits { retransmits: 0 },
        ..Default::default()
    });
    let (offer, pending) = api.apply().expect("an offer");
    c.send_json(json!({"type": "webrtc-offer", "sdp": offer.to_sdp_string()}))
        .await;
    let a = c.expect("webrtc-answer").await;
    let sdp = a["sdp"].as_str().unwrap();
    assert!(sdp.contains("127.0.0.1"), "loopback host candidate");
    assert!(sdp.contains("a=ice-lite"));
    rtc.sdp_api()
        .accept_answer(pending, SdpAnswer::from_sdp_string(sdp).unwrap())
        .unwrap();
    let (to_dc, rx) = mpsc::channel::<Bytes>(256);
    let (ev_tx, mut ev_rx) = mpsc::channel(1024);
    let t_connect = Instant::now();
    tokio::spawn(voxlet_gateway::webrtc::drive(rtc, sock, rx, ev_tx));
    assert!(matches!(next_event(&mut ev_rx).await, SessionEvent::DcOpen));
    assert_eq!(c.expect("datachannel").await["state"], "open");
    eprintln!("DataChannel open after {:?}", t_connect.elapsed());

    // Round trips, one at a time (latency), then a burst.
    let mut lat = Vec::new();
    for i in 0..30u16 {
        let p = rtp(0, 100 + i, 160 * i as u32, 0xd0d0, 160);
        let t = Instant::now();
        to_dc.send(Bytes::from(p.clone())).await.unwrap();
        match next_event(&mut ev_rx).await {
            SessionEvent::DcPacket(b) => assert_eq!(b.as_ref(), &p[..]),
            other => panic!("unexpected {other:?}"),
        }
        lat.push(t.elapsed());
    }
    lat.sort();
    eprintln!(
        "DataChannel echo round trip: median {:?}, max {:?}",
        lat[lat.len() / 2],
        lat[lat.len() - 1]
    );
    for i in 0..100u16 {
        to_dc
            .send(Bytes::from(rtp(0, 200 + i, 0, 0xd0d0, 160)))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut got = 0;
    while got < 100 {
        match tokio::time::timeout(Duration::from_secs(2), ev_rx.recv()).await {
            Ok(Some(SessionEvent::DcPacket(_))) => got += 1,
            _ => break,
        }
    }
    assert!(got >= 95, "{got} of 100 (unreliable channel on loopback)");

    // DTMF still works; RTP goes to the DataChannel, JSON to the WebSocket.
    c.send_json(json!({"type": "dtmf", "digit": "1", "duration_ms": 60}))
        .await;
    assert_eq!(c.expect("dtmf").await["digit"], "1");
    assert!(c.stash.is_empty(), "no RTP on the WebSocket");
    c.send_json(json!({"type": "stats"})).await;
    let st = c.expect("stats").await;
    assert_eq!(st["datachannel_open"], true);
    assert!(st["from_browser"]["packets"].as_u64().unwrap() >= 125);

    // Hang up: the WebRTC side is torn down with the session.
    c.send_json(json!({"type": "hangup"})).await;
    assert_eq!(c.expect_close().await, Some(1000));
}

#[tokio::test]
async fn webrtc_offer_errors() {
    init_log();
    let srv = start(config(&["echo"])).await;
    let mut c = connect(&srv).await;
    let mut h = hello_pcmu("echo");
    h["transport"] = json!("datachannel");
    c.hello(h).await;
    c.send_json(json!({"type": "webrtc-offer", "sdp": "this is not SDP"}))
        .await;
    let e = c.expect_error().await;
    assert_eq!(e["code"], "webrtc_failed");
    // Still alive.
    c.send_json(json!({"type": "ping"})).await;
    c.expect("pong").await;
}
