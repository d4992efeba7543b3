//! The SIP user agent against hostile or broken input, and the allow-list
//! against a browser trying to dial elsewhere: typed, clear refusals, no
//! request sent, nothing crashes.

mod common;
use common::*;

use std::time::Duration;

use serde_json::json;
use tokio::net::UdpSocket;
use voxlet_gateway::Server;

async fn gateway(allow: &[&str]) -> Server {
    let mut c = config(&["phone=sip", "echo"]);
    c.sip.bind = "127.0.0.1:0".parse().unwrap();
    c.sip.account = None;
    c.sip.allow = allow.iter().map(|s| s.to_string()).collect();
    c.rtp_bind = Some("127.0.0.1".parse().unwrap());
    start(c).await
}

/// A request from `sock` to the gateway's SIP port.
fn request(
    method: &str,
    sock: &UdpSocket,
    to: std::net::SocketAddr,
    body: &str,
    branch: &str,
) -> String {
    let me = sock.local_addr().unwrap();
    format!(
        "{method} sip:voxlet@{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bK{branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:tester@{me}>;tag=t{branch}\r\n\
         To: <sip:voxlet@{to}>\r\n\
         Call-ID: {branch}@test\r\n\
         CSeq: 1 {method}\r\n\
         Contact: <sip:tester@{me}>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The status line of the next response for `branch` (other datagrams,
/// e.g. 100 Trying, are skipped), or None within 2 s.
async fn status(sock: &UdpSocket, branch: &str) -> Option<String> {
    let end = tokio::time::Instant::now() + Duration::from_secs(2);
    let mut b = vec![0u8; 65536];
    loop {
        let n = tokio::time::timeout_at(end, sock.recv(&mut b))
            .await
            .ok()?
            .ok()?;
        let text = String::from_utf8_lossy(&b[..n]).to_string();
        let line = text.lines().next().unwrap_or("").to_string();
        if text.contains(branch) && !line.contains(" 100 ") {
            return Some(line);
        }
    }
}

#[tokio::test]
async fn bad_sip_input_gets_clear_responses_and_breaks_nothing() {
    init_log();
    let srv = gateway(&["sip:*@127.0.0.1:9"]).await;
    let ua = srv.sip().unwrap().local;
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // Garbage, a truncated message and an unknown method: rsipstack cannot
    // parse them and drops them (no response is possible without a parse).
    for junk in [
        &b"\x00\xff\xfe garbage"[..],
        b"INVITE sip:x SIP/2.0\r\nVia: broken",
        request("FROBNICATE", &s, ua, "", "junk1").as_bytes(),
    ] {
        s.send_to(junk, ua).await.unwrap();
    }
    assert_eq!(status(&s, "junk1").await, None, "unknown method: dropped");
    // Still alive: OPTIONS outside a call is answered.
    s.send_to(request("OPTIONS", &s, ua, "", "opt1").as_bytes(), ua)
        .await
        .unwrap();
    assert_eq!(status(&s, "opt1").await.as_deref(), Some("SIP/2.0 200 OK"));
    // An incoming INVITE: calls to the page are not routed yet.
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    s.send_to(request("INVITE", &s, ua, sdp, "inv1").as_bytes(), ua)
        .await
        .unwrap();
    let st = status(&s, "inv1").await.unwrap();
    assert!(st.starts_with("SIP/2.0 480"), "{st}");
    // An oversized body.
    let big = "a=x\r\n".repeat(2000);
    s.send_to(request("INVITE", &s, ua, &big, "inv2").as_bytes(), ua)
        .await
        .unwrap();
    let st = status(&s, "inv2").await.unwrap();
    assert!(st.starts_with("SIP/2.0 413"), "{st}");
    // BYE / CANCEL for calls that do not exist.
    s.send_to(request("BYE", &s, ua, "", "bye1").as_bytes(), ua)
        .await
        .unwrap();
    assert!(status(&s, "bye1").await.unwrap().starts_with("SIP/2.0 481"));
    // The gateway still serves browsers.
    let mut c = connect(&srv).await;
    c.hello(hello_pcmu("echo")).await;
    assert_eq!(srv.sip().unwrap().active_calls(), 0);
}

#[tokio::test]
async fn a_browser_cannot_dial_outside_the_allow_list() {
    init_log();
    // A "SIP phone" that is not allowed: it must never hear from the gateway.
    let forbidden = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let fport = forbidden.local_addr().unwrap().port();
    let srv = gateway(&["sip:1???@127.0.0.1:9", "sip:alice@example.invalid"]).await;
    let hello = |dial: serde_json::Value| {
        json!({"type": "hello", "peer": "phone", "dial": dial,
               "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}]})
    };
    let cases = [
        (json!(format!("sip:bob@127.0.0.1:{fport}")), "not_allowed"),
        (json!(format!("sip:1000@127.0.0.1:{fport}")), "not_allowed"),
        // A number goes to the account's domain (127.0.0.1:<sip port>): not listed.
        (json!("1000"), "not_allowed"),
        (json!("10000"), "not_allowed"),
        // Tricks that must not reach a listed pattern.
        (
            json!(format!("sip:1000@127.0.0.1:9@127.0.0.1:{fport}")),
            "bad_field",
        ),
        (
            json!(format!("sip:1000@127.0.0.1:9;maddr=127.0.0.1;port={fport}")),
            "bad_field",
        ),
        (
            json!(format!(
                "sip:alice@example.invalid?Route=<sip:127.0.0.1:{fport}>"
            )),
            "bad_field",
        ),
        (json!("sips:1000@127.0.0.1:9"), "bad_field"),
        (json!(42), "bad_field"),
        (json!(null), "bad_field"),
    ];
    for (dial, want) in cases {
        let mut c = connect(&srv).await;
        c.send_json(hello(dial.clone())).await;
        let e = c.expect_error().await;
        assert_eq!(e["code"], want, "dial {dial}: {e}");
    }
    let mut b = [0u8; 2048];
    let heard = tokio::time::timeout(Duration::from_millis(500), forbidden.recv(&mut b)).await;
    assert!(
        heard.is_err(),
        "the forbidden destination received a datagram"
    );
    assert_eq!(srv.sip().unwrap().active_calls(), 0);
}
