//! Impairment of packets going to the browser: seeded loss, jitter that
//! delays and reorders, explicit reordering, and changes mid-call.

mod common;
use common::*;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

async fn echo_with(imp: Value) -> (voxlet_gateway::Server, Client) {
    let mut cfg = config(&["echo"]);
    cfg.max_packets_per_sec = 100_000;
    let srv = start(cfg).await;
    let mut c = connect(&srv).await;
    let mut h = hello_pcmu("echo");
    h["impairment"] = imp;
    let ans = c.hello(h).await;
    assert!(ans["impairment"].is_object());
    (srv, c)
}

#[tokio::test]
async fn loss_50_drops_about_half_seeded() {
    init_log();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (_srv, mut c) = echo_with(json!({"loss_pct": 50, "seed": 1234})).await;
        for i in 0..400u16 {
            c.send_bin(&rtp(0, i, 160 * i as u32, 1, 160)).await;
        }
        let got: Vec<u16> = c
            .collect_bin(Duration::from_millis(300))
            .await
            .iter()
            .map(|(_, p)| seq_of(p))
            .collect();
        c.send_json(json!({"type": "stats"})).await;
        let st = c.expect("stats").await;
        let lost = st["impairment"]["lost"].as_u64().unwrap();
        assert_eq!(lost + got.len() as u64, 400);
        assert!(
            (160..=240).contains(&got.len()),
            "{} of 400 arrived",
            got.len()
        );
        runs.push(got);
    }
    assert_eq!(runs[0], runs[1], "same seed, same packets dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitter_delays_and_reorders_without_loss() {
    init_log();
    let (_srv, c) = echo_with(json!({"jitter_ms": 60, "seed": 7})).await;
    // Read concurrently so arrival times are real.
    let (mut tx, mut rx) = c.ws.split();
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        let end = Instant::now() + Duration::from_millis(1200);
        while got.len() < 100 {
            let left = end.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => got.push((Instant::now(), b.to_vec())),
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
        got
    });
    let mut sent_at = HashMap::new();
    for i in 0..100u16 {
        sent_at.insert(i, Instant::now());
        let p = rtp(0, i, 160 * i as u32, 1, 160);
        tx.send(Message::Binary(p.into())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let got = reader.await.unwrap();
    assert_eq!(got.len(), 100, "jitter alone loses nothing");
    let seqs: Vec<u16> = got.iter().map(|(_, p)| seq_of(p)).collect();
    let inversions = seqs.windows(2).filter(|w| w[1] < w[0]).count();
    let delays: Vec<f64> = got
        .iter()
        .map(|(t, p)| t.duration_since(sent_at[&seq_of(p)]).as_secs_f64() * 1000.0)
        .collect();
    let mean = delays.iter().sum::<f64>() / delays.len() as f64;
    let mut sorted = delays.clone();
    sorted.sort_by(f64::total_cmp);
    let (min, p90, max) = (sorted[0], sorted[89], sorted[99]);
    eprintln!("jitter 60 ms: {inversions} inversions, delay min {min:.1} ms, mean {mean:.1} ms, p90 {p90:.1} ms, max {max:.1} ms");
    assert!(inversions > 5, "reordered");
    assert!(
        (15.0..=55.0).contains(&mean),
        "mean delay {mean:.1} ms (uniform 0..60 → ~30)"
    );
    // The spread is bounded by the jitter setting. Measured from the fastest
    // packet, so that a busy machine's scheduling delay, which every packet
    // pays, does not count (one run with both cores busy read p90 84 ms);
    // 30 ms of slack for the noise that is not shared.
    assert!(
        p90 - min <= 60.0 + 30.0,
        "p90 delay {p90:.1} ms, fastest {min:.1} ms"
    );
}

#[tokio::test]
async fn reorder_and_mid_call_changes() {
    init_log();
    let (_srv, mut c) = echo_with(json!({"reorder_pct": 20, "seed": 3})).await;
    for i in 0..100u16 {
        c.send_bin(&rtp(0, i, 160 * i as u32, 1, 160)).await;
        tokio::time::sleep(Duration::from_millis(4)).await;
    }
    let got = c.collect_bin(Duration::from_millis(200)).await;
    assert_eq!(got.len(), 100);
    let seqs: Vec<u16> = got.iter().map(|(_, p)| seq_of(p)).collect();
    assert!(seqs.windows(2).any(|w| w[1] < w[0]), "some overtaken");

    // Total loss now...
    c.send_json(json!({"type": "impair", "loss_pct": 100}))
        .await;
    let ack = c.expect("ack").await;
    assert_eq!(ack["impairment"]["loss_pct"], 100.0);
    for i in 0..10u16 {
        c.send_bin(&rtp(0, 200 + i, 0, 1, 160)).await;
    }
    assert!(c.collect_bin(Duration::from_millis(150)).await.is_empty());
    // ...and none.
    c.send_json(json!({"type": "impair"})).await;
    c.expect("ack").await;
    let p = rtp(0, 300, 0, 1, 160);
    c.send_bin(&p).await;
    assert_eq!(c.recv_bins(1).await, vec![p]);
    // Out-of-range values are refused and change nothing.
    c.send_json(json!({"type": "impair", "jitter_ms": 5000}))
        .await;
    assert_eq!(c.expect_error().await["code"], "bad_field");
}
