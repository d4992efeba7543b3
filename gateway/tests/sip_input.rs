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
    c.sip.allow_from = vec!["sip:friend@127.0.0.1:*".into()];
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
    // An INVITE from a caller not on --sip-allow-from: 403; from one on
    // it, with no page waiting: 480.
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    s.send_to(request("INVITE", &s, ua, sdp, "inv0").as_bytes(), ua)
        .await
        .unwrap();
    let st = status(&s, "inv0").await.unwrap();
    assert!(st.starts_with("SIP/2.0 403"), "{st}");
    let friend = request("INVITE", &s, ua, sdp, "inv1").replace("sip:tester@", "sip:friend@");
    s.send_to(friend.as_bytes(), ua).await.unwrap();
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

/// Copies the headers a response must echo (RFC 3261 §8.2.6.2).
fn response(req: &str, status: &str, extra: &str) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for line in req.lines().take_while(|l| !l.is_empty()) {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if ["via", "from", "call-id", "cseq"].contains(&name.as_str()) {
            out += line;
            out += "\r\n";
        } else if name == "to" {
            out += line;
            out += ";tag=reg1\r\n";
        }
    }
    out + extra + "Content-Length: 0\r\n\r\n"
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A parameter of a Digest header line: `name="value"` or `name=value`.
fn param(line: &str, name: &str) -> String {
    let at = line
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("no {name} in {line}"));
    let rest = &line[at + name.len() + 1..];
    match rest.strip_prefix('"') {
        Some(q) => q.split('"').next().unwrap().to_string(),
        None => rest.split([',', ' ']).next().unwrap().to_string(),
    }
}

#[tokio::test]
async fn registers_with_digest_auth() {
    init_log();
    let registrar = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rport = registrar.local_addr().unwrap().port();
    let mut c = config(&["phone=sip"]);
    c.sip.bind = "127.0.0.1:0".parse().unwrap();
    c.sip.account = Some(format!("sip:1000@127.0.0.1:{rport}"));
    c.sip.registrar = Some(format!("sip:127.0.0.1:{rport}"));
    c.sip.user = Some("auth1000".into());
    c.sip.password = Some("s3cret".into());
    let _srv = start(c).await;
    let (req, from) = recv_udp(&registrar).await;
    let req = String::from_utf8(req).unwrap();
    assert!(
        req.starts_with(&format!("REGISTER sip:127.0.0.1:{rport} SIP/2.0\r\n")),
        "{req}"
    );
    assert!(
        !req.to_ascii_lowercase().contains("\nauthorization:"),
        "{req}"
    );
    let challenge = response(
        &req,
        "401 Unauthorized",
        "WWW-Authenticate: Digest realm=\"voxlet-test\", nonce=\"n0nce42\", algorithm=MD5\r\n",
    );
    registrar.send_to(challenge.as_bytes(), from).await.unwrap();
    let (req2, from) = recv_udp(&registrar).await;
    let req2 = String::from_utf8(req2).unwrap();
    let auth = req2
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .unwrap_or_else(|| panic!("no Authorization in {req2}"));
    assert_eq!(param(auth, "username"), "auth1000");
    assert_eq!(param(auth, "realm"), "voxlet-test");
    assert_eq!(param(auth, "nonce"), "n0nce42");
    let uri = param(auth, "uri");
    let ha1 = md5_hex("auth1000:voxlet-test:s3cret");
    let ha2 = md5_hex(&format!("REGISTER:{uri}"));
    let want = match auth.contains("qop=") {
        false => md5_hex(&format!("{ha1}:n0nce42:{ha2}")),
        true => {
            let (nc, cnonce, qop) = (param(auth, "nc"), param(auth, "cnonce"), param(auth, "qop"));
            md5_hex(&format!("{ha1}:n0nce42:{nc}:{cnonce}:{qop}:{ha2}"))
        }
    };
    assert_eq!(param(auth, "response"), want, "digest response of {auth}");
    assert!(
        req2.contains("sip:1000@"),
        "the account's user registers: {req2}"
    );
    let ok = response(&req2, "200 OK", "Expires: 600\r\n");
    registrar.send_to(ok.as_bytes(), from).await.unwrap();
}
