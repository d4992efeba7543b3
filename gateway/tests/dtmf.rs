//! RFC 4733 DTMF: a `dtmf` request becomes telephone-event packets in the
//! browser's stream (renumbered gap-free), and events from the peer become
//! `{type:"dtmf"}` messages.

mod common;
use common::*;

use std::time::Duration;

use serde_json::json;
use voxlet::codec::telephone_event::TelephoneEvent;
use voxlet::rtp::RtpPacket;

#[tokio::test]
async fn dtmf_round_trip_through_echo() {
    init_log();
    let srv = start(config(&["echo"])).await;
    let mut c = connect(&srv).await;
    let ans = c.hello(hello_pcmu("echo")).await;
    assert_eq!(
        ans["telephone_event"],
        json!({"pt": 101, "rtpmap": "telephone-event/8000"})
    );
    // Audio first (the gateway learns SSRC / seq / ts from it).
    let mut seq = 60_000u16;
    for i in 0..5u32 {
        c.send_bin(&rtp(0, seq, 8000 + 160 * i, 0xcafe, 160)).await;
        seq += 1;
    }
    c.send_json(json!({"type": "dtmf", "digit": "7", "duration_ms": 100}))
        .await;
    assert_eq!(c.expect("ack").await["digit"], "7");
    // Keep talking meanwhile.
    for i in 5..20u32 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        c.send_bin(&rtp(0, seq, 8000 + 160 * i, 0xcafe, 160)).await;
        seq = seq.wrapping_add(1);
    }
    assert_eq!(c.expect("dtmf").await["digit"], "7");
    let got: Vec<Vec<u8>> = c
        .collect_bin(Duration::from_millis(200))
        .await
        .into_iter()
        .map(|x| x.1)
        .collect();
    let events: Vec<TelephoneEvent> = got
        .iter()
        .filter(|p| p[1] & 0x7f == 101)
        .map(|p| TelephoneEvent::parse(RtpPacket::parse(p).unwrap().payload()).unwrap())
        .collect();
    assert_eq!(events.len(), 4 + 3, "100 ms at 20 ms: 4 updates + 3 ends");
    assert!(events.iter().all(|e| e.event == 7));
    assert_eq!(events.iter().filter(|e| e.end).count(), 3);
    assert_eq!(events.last().unwrap().duration, 800);
    assert!(got.iter().all(|p| ssrc_of(p) == 0xcafe), "one SSRC");
    let seqs: Vec<u16> = got.iter().map(|p| seq_of(p)).collect();
    assert_eq!(got.len(), 20 + 7);
    for w in seqs.windows(2) {
        assert_eq!(
            w[1],
            w[0].wrapping_add(1),
            "gap-free across the injection (and the wrap)"
        );
    }
    c.send_json(json!({"type": "stats"})).await;
    let st = c.expect("stats").await;
    assert_eq!(st["dtmf"]["sent_events"], 1);
    assert_eq!(st["dtmf"]["received_events"], 1);
    // Bad digits are refused.
    c.send_json(json!({"type": "dtmf", "digit": "x"})).await;
    assert_eq!(c.expect_error().await["code"], "bad_field");
}

#[tokio::test]
async fn dtmf_to_and_from_udp_peer() {
    init_log();
    let (sip, _sip_rtcp) = udp_pair().await;
    let port = sip.local_addr().unwrap().port();
    let srv = start(config(&[&format!("udp:127.0.0.1:{port}")])).await;
    let mut c = connect(&srv).await;
    let ans = c.hello(hello_pcmu("udp")).await;
    let gw = ans["local_rtp_port"].as_u64().unwrap() as u16;

    // Browser → peer: '#' for 60 ms arrives as RFC 4733.
    c.send_bin(&rtp(0, 10, 1600, 0xabc, 160)).await;
    let _ = recv_udp(&sip).await;
    c.send_json(json!({"type": "dtmf", "digit": "#", "duration_ms": 60}))
        .await;
    let mut evs = Vec::new();
    while evs.len() < 2 + 3 {
        let (d, _) = recv_udp(&sip).await;
        let p = RtpPacket::parse(&d).unwrap();
        assert_eq!(p.payload_type(), 101);
        assert_eq!(p.ssrc(), 0xabc);
        assert_eq!(p.sequence(), 11 + evs.len() as u16);
        assert_eq!(p.marker(), evs.is_empty());
        evs.push(TelephoneEvent::parse(p.payload()).unwrap());
    }
    assert!(evs.iter().all(|e| e.event == 11));
    assert_eq!(
        evs.iter().map(|e| e.end).collect::<Vec<_>>(),
        [false, false, true, true, true]
    );
    assert_eq!(evs[4].duration, 480);

    // Peer → browser: one event, several packets, one message.
    for (i, end) in [false, false, true, true, true].into_iter().enumerate() {
        let mut b = vec![0u8; 4];
        TelephoneEvent {
            event: 3,
            end,
            volume: 10,
            duration: 160 * (i as u16 + 1),
        }
        .write(&mut b)
        .unwrap();
        let mut p = rtp(101, 900 + i as u16, 4000, 0x5150, 0);
        p.extend_from_slice(&b);
        sip.send_to(&p, ("127.0.0.1", gw)).await.unwrap();
    }
    assert_eq!(c.expect("dtmf").await["digit"], "3");
    let more = c.collect_bin(Duration::from_millis(200)).await;
    assert_eq!(more.len(), 5, "the packets reach the browser too");
    assert!(
        !c.json_stash.iter().any(|v| v["type"] == "dtmf"),
        "reported once"
    );
}

#[tokio::test]
async fn announce_plays_keys_back() {
    init_log();
    let srv = start(config(&["announce"])).await;
    let mut c = connect(&srv).await;
    c.hello(hello_pcmu("announce")).await;
    c.send_json(json!({"type": "dtmf", "digit": "9"})).await;
    assert_eq!(
        c.expect("dtmf").await["digit"],
        "9",
        "echoed by voxlet's Sender"
    );
}
