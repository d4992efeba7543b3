//! WebSocket client ↔ UDP RTP peer (a test socket pair as the "SIP side"):
//! bytes unchanged both ways, RTCP on the next port, symmetric latching,
//! packets from other hosts dropped.

mod common;
use common::*;

use serde_json::json;

#[tokio::test]
async fn rtp_and_rtcp_cross_unchanged_both_ways() {
    init_log();
    let (sip_rtp, sip_rtcp) = udp_pair().await;
    let port = sip_rtp.local_addr().unwrap().port();
    let srv = start(config(&[&format!("pbx=udp:127.0.0.1:{port}")])).await;
    let mut c = connect(&srv).await;
    let ans = c.hello(hello_pcmu("pbx")).await;
    assert_eq!(ans["codec"], json!({"pt": 0, "rtpmap": "PCMU/8000"}));
    assert_eq!(ans["peer_kind"], "udp");
    let gw = ans["local_rtp_port"].as_u64().expect("local_rtp_port") as u16;
    assert_eq!(gw % 2, 0, "RTP on an even port");

    // Browser → peer: same bytes, from the gateway's RTP port.
    let sent: Vec<Vec<u8>> = (0..20u16)
        .map(|i| rtp(0, 1000 + i, 160 * i as u32, 0x1111, 160))
        .collect();
    for p in &sent {
        c.send_bin(p).await;
    }
    for p in &sent {
        let (d, from) = recv_udp(&sip_rtp).await;
        assert_eq!(&d, p);
        assert_eq!(from.port(), gw);
    }
    // RTCP goes to the peer's RTCP port (RTP + 1), from the gateway's RTP + 1.
    let rr = rtcp_rr(0x1111);
    c.send_bin(&rr).await;
    let (d, from) = recv_udp(&sip_rtcp).await;
    assert_eq!(d, rr);
    assert_eq!(from.port(), gw + 1);

    // Peer → browser: same bytes, in order.
    let back: Vec<Vec<u8>> = (0..20u16)
        .map(|i| rtp(0, 500 + i, 160 * i as u32, 0x2222, 160))
        .collect();
    for p in &back {
        sip_rtp.send_to(p, ("127.0.0.1", gw)).await.unwrap();
    }
    assert_eq!(c.recv_bins(20).await, back);
    let rr2 = rtcp_rr(0x2222);
    sip_rtcp.send_to(&rr2, ("127.0.0.1", gw + 1)).await.unwrap();
    assert_eq!(c.recv_bins(1).await, vec![rr2]);

    c.send_json(json!({"type": "stats"})).await;
    let st = c.expect("stats").await;
    assert_eq!(st["from_browser"]["packets"], 21);
    assert_eq!(st["from_browser"]["rtcp"], 1);
    assert_eq!(st["from_peer"]["packets"], 21);
    assert_eq!(st["to_browser"]["packets"], 21);
}

#[tokio::test]
async fn latches_to_peer_port_and_drops_other_hosts() {
    init_log();
    let (sip_rtp, _sip_rtcp) = udp_pair().await;
    let port = sip_rtp.local_addr().unwrap().port();
    let srv = start(config(&[&format!("udp:127.0.0.1:{port}")])).await;
    let mut c = connect(&srv).await;
    let ans = c.hello(hello_pcmu("udp")).await;
    let gw = ans["local_rtp_port"].as_u64().unwrap() as u16;

    // Another host (127.0.0.2 is loopback too) cannot inject media.
    let stranger = tokio::net::UdpSocket::bind("127.0.0.2:0").await.unwrap();
    stranger
        .send_to(&rtp(0, 1, 0, 0x6666, 160), ("127.0.0.1", gw))
        .await
        .unwrap();

    // The peer answers from another port of the configured host (NAT-like):
    // the gateway latches to it.
    let moved = udp_socket().await;
    let from_moved = rtp(0, 7, 0, 0x3333, 160);
    moved.send_to(&from_moved, ("127.0.0.1", gw)).await.unwrap();
    assert_eq!(c.recv_bins(1).await, vec![from_moved]);
    let p = rtp(0, 9, 0, 0x1111, 160);
    c.send_bin(&p).await;
    let (d, _) = recv_udp(&moved).await;
    assert_eq!(d, p, "browser RTP now goes to the latched source");

    c.send_json(json!({"type": "stats"})).await;
    let st = c.expect("stats").await;
    assert_eq!(st["from_peer"]["foreign_dropped"], 1);
    assert_eq!(
        st["to_browser"]["packets"], 1,
        "the stranger's packet never reached the browser"
    );
}
