//! HTTP side: static files with the cross-origin isolation headers (and
//! without, with --no-isolation), `/config.json`, graceful shutdown of live
//! sessions, and the real binary: prints its URL, serves, stops on SIGINT.

mod common;
use common::*;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A bounded HTTP/1.1 GET; returns status, lower-case headers and body.
async fn get(addr: SocketAddr, path: &str) -> (u16, HashMap<String, String>, String) {
    tokio::time::timeout(T, async {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        (status, headers, body.to_string())
    })
    .await
    .expect("HTTP in time")
}

#[tokio::test]
async fn static_files_headers_and_config() {
    init_log();
    let srv = start(config(&["echo", "pbx=udp:127.0.0.1:5004"])).await;
    let (st, h, body) = get(srv.local_addr, "/").await;
    assert_eq!(st, 200);
    assert!(body.contains("voxlet test page"));
    assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    assert_eq!(h["cross-origin-embedder-policy"], "require-corp");
    assert_eq!(h["cross-origin-resource-policy"], "same-origin");
    let (st, h, _) = get(srv.local_addr, "/pkg/app.js").await;
    assert_eq!(st, 200);
    assert!(
        h["content-type"].contains("javascript"),
        "{:?}",
        h["content-type"]
    );
    assert_eq!(h["cross-origin-resource-policy"], "same-origin");
    let (st, _, _) = get(srv.local_addr, "/nope.js").await;
    assert_eq!(st, 404);
    let (st, _, body) = get(srv.local_addr, "/config.json").await;
    assert_eq!(st, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["peers"][1]["name"], "pbx");
    assert_eq!(v["peers"][1]["kind"], "udp");
    assert!(!body.contains("5004"), "no peer address is disclosed");
    assert_eq!(v["token_required"], false);

    let mut cfg = config(&["echo"]);
    cfg.isolation = false;
    cfg.www = "/nonexistent-voxlet-www".into();
    let srv2 = start(cfg).await;
    let (st, h, body) = get(srv2.local_addr, "/").await;
    assert_eq!(st, 200, "a placeholder page when www/ is missing");
    assert!(body.contains("voxlet gateway"));
    assert!(!h.contains_key("cross-origin-embedder-policy"));
}

#[tokio::test]
async fn graceful_shutdown_says_bye() {
    init_log();
    let srv = start(config(&["echo", "announce"])).await;
    let mut a = connect(&srv).await;
    a.hello(hello_pcmu("echo")).await;
    let mut b = connect(&srv).await;
    b.hello(hello_pcmu("announce")).await;
    let stop = tokio::spawn(srv.stop(Duration::from_secs(3)));
    for c in [&mut a, &mut b] {
        assert_eq!(c.expect("bye").await["reason"], "shutdown");
        assert_eq!(c.expect_close().await, Some(1001));
    }
    tokio::time::timeout(T, stop).await.unwrap().unwrap();
}

#[tokio::test]
async fn binary_prints_url_serves_and_stops_on_sigint() {
    let www = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/www");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_voxlet-gateway"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--www",
            www,
            "--pkg",
            www,
            "--peer",
            "echo",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the gateway");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(T, out.next_line())
        .await
        .expect("prints in time")
        .unwrap()
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let (st, _, body) = get(addr, "/healthz").await;
    assert_eq!((st, body.as_str()), (200, "ok"));
    // Ctrl-C.
    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(T, child.wait())
        .await
        .expect("exits in time")
        .unwrap();
    assert!(status.success(), "clean exit: {status}");

    // Bad configuration: a clear message and exit code 2.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_voxlet-gateway"))
        .args(["--peer", "tcp:1.2.3.4:5"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tcp:1.2.3.4:5"));
}
