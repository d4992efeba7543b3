//! Every limit, and robustness of the control protocol: origin allow-list,
//! token, message size, packet rate, max sessions, idle timeout, malformed
//! and unknown messages, binary before hello.

mod common;
use common::*;

use std::time::{Duration, Instant};

use serde_json::json;

#[tokio::test]
async fn origin_allow_list() {
    init_log();
    // Default: same host only.
    let srv = start(config(&["echo"])).await;
    assert_eq!(
        connect_with(&srv, Some("http://evil.example")).await.err(),
        Some(403)
    );
    assert_eq!(connect_with(&srv, Some("null")).await.err(), Some(403));
    let same = format!("http://{}", srv.local_addr);
    let mut c = connect_with(&srv, Some(&same))
        .await
        .expect("same origin allowed");
    c.hello(hello_pcmu("echo")).await;
    // No Origin (not a browser): allowed.
    assert!(connect_with(&srv, None).await.is_ok());

    // An explicit list replaces "same host".
    let mut cfg = config(&["echo"]);
    cfg.allowed_origins = vec!["https://phone.example".into()];
    let srv2 = start(cfg).await;
    assert!(connect_with(&srv2, Some("https://phone.example"))
        .await
        .is_ok());
    assert!(connect_with(&srv2, Some("HTTPS://PHONE.EXAMPLE/"))
        .await
        .is_ok());
    let same2 = format!("http://{}", srv2.local_addr);
    assert_eq!(connect_with(&srv2, Some(&same2)).await.err(), Some(403));
    assert_eq!(
        connect_with(&srv2, Some("https://phone.example.evil"))
            .await
            .err(),
        Some(403)
    );
}

#[tokio::test]
async fn token_required() {
    init_log();
    let mut cfg = config(&["echo"]);
    cfg.token = Some("s3cret".into());
    let srv = start(cfg).await;
    for token in [None, Some("wrong"), Some("s3cre"), Some("")] {
        let mut c = connect(&srv).await;
        let mut h = hello_pcmu("echo");
        if let Some(t) = token {
            h["token"] = json!(t);
        }
        c.send_json(h).await;
        let e = c.expect_error().await;
        assert_eq!(e["code"], "unauthorized", "{token:?}");
        assert_eq!(e["fatal"], true);
        assert_eq!(c.expect_close().await, Some(1008));
    }
    let mut c = connect(&srv).await;
    let mut h = hello_pcmu("echo");
    h["token"] = json!("s3cret");
    c.hello(h).await;
}

#[tokio::test]
async fn oversize_message_closes_with_1009() {
    init_log();
    let mut cfg = config(&["echo"]);
    cfg.max_message_bytes = 2048;
    let srv = start(cfg).await;
    for text in [false, true] {
        let mut c = connect(&srv).await;
        c.hello(hello_pcmu("echo")).await;
        // At the limit: fine.
        c.send_bin(&rtp(0, 1, 0, 1, 2048 - 12)).await;
        assert_eq!(c.recv_bins(1).await[0].len(), 2048);
        if text {
            let big = format!("{{\"type\":\"ping\",\"pad\":\"{}\"}}", "x".repeat(4000));
            c.send_text(&big).await;
        } else {
            c.send_bin(&rtp(0, 2, 0, 1, 4000)).await;
        }
        let e = c.expect_error().await;
        assert_eq!(e["code"], "too_big");
        assert_eq!(c.expect_close().await, Some(1009));
    }
    // The server is fine.
    let mut c = connect(&srv).await;
    c.hello(hello_pcmu("echo")).await;
}

#[tokio::test]
async fn packet_rate_cap_drops_counts_and_warns_once() {
    init_log();
    let mut cfg = config(&["echo"]);
    cfg.max_packets_per_sec = 50;
    let srv = start(cfg).await;
    let mut c = connect(&srv).await;
    c.hello(hello_pcmu("echo")).await;
    let t = Instant::now();
    for i in 0..200u16 {
        c.send_bin(&rtp(0, i, 160 * i as u32, 1, 160)).await;
    }
    let burst = t.elapsed();
    c.send_json(json!({"type": "stats"})).await;
    let st = c.expect("stats").await;
    let passed = st["from_browser"]["packets"].as_u64().unwrap();
    let limited = st["from_browser"]["rate_limited"].as_u64().unwrap();
    assert_eq!(passed + limited, 200);
    // Burst of 50 plus what refilled while sending.
    let refill = (burst.as_secs_f64() * 50.0).ceil() as u64;
    assert!(
        passed >= 50 && passed <= 51 + refill,
        "passed {passed} in {burst:?}"
    );
    let echoed = c.collect_bin(Duration::from_millis(200)).await.len() as u64;
    assert_eq!(echoed, passed);
    let warnings: Vec<_> = c
        .json_stash
        .iter()
        .filter(|v| v["type"] == "warning" && v["code"] == "rate_limited")
        .collect();
    assert_eq!(warnings.len(), 1, "warned once: {:?}", c.json_stash);
    // The bucket refills: a second later packets pass again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.send_bin(&rtp(0, 999, 0, 1, 160)).await;
    assert_eq!(c.recv_bins(1).await.len(), 1);
}

#[tokio::test]
async fn max_sessions_busy() {
    init_log();
    let mut cfg = config(&["echo"]);
    cfg.max_sessions = 2;
    let srv = start(cfg).await;
    let mut a = connect(&srv).await;
    a.hello(hello_pcmu("echo")).await;
    let mut b = connect(&srv).await;
    b.hello(hello_pcmu("echo")).await;
    let mut c = connect(&srv).await;
    let e = c.expect_error().await;
    assert_eq!(e["code"], "busy");
    assert_eq!(c.expect_close().await, Some(1013));
    // One leaves: room again.
    a.send_json(json!({"type": "hangup"})).await;
    a.expect_close().await;
    let end = Instant::now() + T;
    while srv.connections() >= 2 {
        assert!(Instant::now() < end, "connection count never dropped");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut d = connect(&srv).await;
    d.hello(hello_pcmu("echo")).await;
}

#[tokio::test]
async fn idle_timeout_closes_and_traffic_keeps_alive() {
    init_log();
    let mut cfg = config(&["echo"]);
    cfg.idle_timeout = Duration::from_millis(600);
    let srv = start(cfg).await;
    // Pings keep a session alive past the timeout...
    let mut live = connect(&srv).await;
    live.hello(hello_pcmu("echo")).await;
    let mut idle = connect(&srv).await;
    idle.hello(hello_pcmu("echo")).await;
    let t = Instant::now();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        live.send_json(json!({"type": "ping"})).await;
        live.expect("pong").await;
    }
    // ...the silent one was closed.
    let e = idle.expect_error().await;
    assert_eq!(e["code"], "idle_timeout");
    assert_eq!(idle.expect("bye").await["reason"], "idle timeout");
    assert_eq!(idle.expect_close().await, Some(4000));
    assert!(t.elapsed() >= Duration::from_millis(500));
    // Also before hello.
    let mut silent = connect(&srv).await;
    assert_eq!(silent.expect_error().await["code"], "idle_timeout");
    assert_eq!(silent.expect_close().await, Some(4000));
}

#[tokio::test]
async fn malformed_control_gets_errors_and_the_session_survives() {
    init_log();
    let srv = start(config(&["echo", "announce"])).await;
    let mut c = connect(&srv).await;

    // Binary before hello.
    c.send_bin(&rtp(0, 1, 0, 1, 160)).await;
    let e = c.expect_error().await;
    assert_eq!(e["code"], "no_session");
    assert_eq!(e["fatal"], false);

    let cases: &[(&str, &str)] = &[
        ("{", "bad_json"),
        ("not json at all", "bad_json"),
        ("[1,2]", "bad_message"),
        ("{}", "bad_message"),
        (r#"{"type": 5}"#, "bad_field"),
        (r#"{"type": "frobnicate"}"#, "unknown_type"),
        (r#"{"type": "hello", "codecs": "PCMU"}"#, "bad_field"),
        (
            r#"{"type": "hello", "codecs": [{"pt": "zero", "rtpmap": "PCMU/8000"}]}"#,
            "bad_field",
        ),
        (
            r#"{"type": "hello", "codecs": [{"pt": 300, "rtpmap": "PCMU/8000"}]}"#,
            "bad_field",
        ),
        (
            r#"{"type": "hello", "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}], "ptime": 25}"#,
            "bad_ptime",
        ),
        (
            r#"{"type": "hello", "codecs": [{"pt": 96, "rtpmap": "AMR/8000"}]}"#,
            "no_codec",
        ),
        (r#"{"type": "hello", "codecs": []}"#, "no_codec"),
        (
            r#"{"type": "hello", "peer": "10.0.0.1:5060", "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}]}"#,
            "unknown_peer",
        ),
        (
            r#"{"type": "hello", "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}], "transport": "carrier-pigeon"}"#,
            "bad_field",
        ),
        (
            r#"{"type": "hello", "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}], "impairment": {"loss_pct": 101}}"#,
            "bad_field",
        ),
        (r#"{"type": "dtmf", "digit": 5}"#, "bad_field"),
        (r#"{"type": "dtmf", "digit": "5"}"#, "no_session"),
        (r#"{"type": "impair", "loss_pct": "lots"}"#, "bad_field"),
        (r#"{"type": "webrtc-offer", "sdp": "v=0"}"#, "no_session"),
    ];
    for (i, (text, code)) in cases.iter().enumerate() {
        c.send_json(json!({"type": "ping", "id": i})).await;
        assert_eq!(c.expect("pong").await["id"], i, "alive before case {i}");
        c.send_text(text).await;
        let e = c.expect_error().await;
        assert_eq!(e["code"], *code, "{text} → {e}");
        assert_eq!(e["fatal"], false);
    }
    // An id is echoed in errors too.
    c.send_text(r#"{"type": "nope", "id": "abc"}"#).await;
    assert_eq!(c.expect_error().await["id"], "abc");

    // Now a proper call works on the same connection.
    let ans = c
        .hello(json!({"type": "hello", "peer": "echo",
            "codecs": [{"pt": 96, "rtpmap": "AMR/8000"}, {"pt": 8, "rtpmap": "PCMA/8000"}]}))
        .await;
    assert_eq!(ans["codec"]["pt"], 8, "unknown codecs are skipped");
    assert_eq!(ans["telephone_event"], serde_json::Value::Null);
    c.send_text(r#"{"type": "hello", "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}]}"#)
        .await;
    assert_eq!(c.expect_error().await["code"], "already_started");
    c.send_text(r#"{"type": "dtmf", "digit": "5"}"#).await;
    assert_eq!(c.expect_error().await["code"], "dtmf_unavailable");
    c.send_text(r#"{"type": "webrtc-offer", "sdp": "v=0"}"#)
        .await;
    assert_eq!(c.expect_error().await["code"], "bad_transport");
    // Garbage binary frames are dropped with one warning; RTP still flows.
    c.send_bin(b"\x00\x01garbage").await;
    c.send_bin(b"\x00\x01more").await;
    let p = rtp(8, 1, 0, 1, 160);
    c.send_bin(&p).await;
    assert_eq!(c.recv_bins(1).await, vec![p]);
    let w: Vec<_> = c
        .json_stash
        .iter()
        .filter(|v| v["code"] == "bad_packet")
        .collect();
    assert_eq!(w.len(), 1);
    c.send_json(json!({"type": "stats"})).await;
    let st = c.expect("stats").await;
    assert_eq!(st["from_browser"]["invalid"], 2);
    assert_eq!(st["from_browser"]["before_hello"], 1);

    // And the server still takes new calls.
    let mut d = connect(&srv).await;
    d.hello(hello_pcmu("announce")).await;
}
