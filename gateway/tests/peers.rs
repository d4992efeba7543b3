//! The built-in peers: echo (and its latency / throughput), announce (real
//! time, valid RTP, decodes to the speech fixture), room (two hear each
//! other, a third is refused).

mod common;
use common::*;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use voxlet::codec::parse_rtpmap;
use voxlet::rtp::RtpPacket;
use voxlet_support::signal::{rms, s16le_f32};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_returns_packets_and_measures_latency() {
    init_log();
    let srv = start(config(&["echo", "mirror=echo:restamp"])).await;
    let mut c = connect(&srv).await;
    let ans = c.hello(hello_pcmu("echo")).await;
    assert_eq!(ans["peer_kind"], "echo");
    let mut lat = Vec::new();
    for i in 0..50u16 {
        let p = rtp(0, 40_000 + i, 160 * i as u32, 0xfeed, 160);
        let t = Instant::now();
        c.send_bin(&p).await;
        let back = c.recv_bins(1).await;
        lat.push(t.elapsed());
        assert_eq!(back[0], p, "echo returns the same bytes");
    }
    lat.sort();
    eprintln!(
        "echo round trip on loopback (client→gateway→client): median {:?}, p90 {:?}, max {:?}",
        lat[lat.len() / 2],
        lat[lat.len() * 9 / 10],
        lat[lat.len() - 1]
    );
    assert!(lat[lat.len() / 2] < Duration::from_millis(50));

    // echo:restamp: same packet, the gateway's SSRC.
    let mut c2 = connect(&srv).await;
    c2.hello(hello_pcmu("mirror")).await;
    let p = rtp(0, 5, 800, 0xfeed, 160);
    c2.send_bin(&p).await;
    let back = c2.recv_bins(1).await.remove(0);
    assert_ne!(ssrc_of(&back), 0xfeed);
    assert_eq!(back[..8], p[..8]);
    assert_eq!(back[12..], p[12..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_throughput_one_session() {
    init_log();
    let mut cfg = config(&["echo"]);
    cfg.max_packets_per_sec = 1_000_000;
    let srv = start(cfg).await;
    let mut c = connect(&srv).await;
    c.hello(hello_pcmu("echo")).await;
    const N: u16 = 5000;
    let (mut tx, mut rx) = c.ws.split();
    let reader = tokio::spawn(async move {
        let mut n = 0u32;
        while n < N as u32 {
            match tokio::time::timeout(T, rx.next()).await {
                Ok(Some(Ok(Message::Binary(_)))) => n += 1,
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
        n
    });
    let t = Instant::now();
    for i in 0..N {
        let p = rtp(0, i, 160 * i as u32, 1, 160);
        tx.send(Message::Binary(p.into())).await.unwrap();
    }
    let got = tokio::time::timeout(Duration::from_secs(20), reader)
        .await
        .unwrap()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(got, N as u32);
    eprintln!(
        "one echo session: {N} packets of 172 bytes in {secs:.3} s = {:.0} packets/s each way",
        N as f64 / secs
    );
}

fn check_stream(pkts: &[Vec<u8>], pt: u8, ticks: u32) {
    let ssrc = ssrc_of(&pkts[0]);
    for w in pkts.windows(2) {
        let (a, b) = (
            RtpPacket::parse(&w[0]).unwrap(),
            RtpPacket::parse(&w[1]).unwrap(),
        );
        assert_eq!(b.payload_type(), pt);
        assert_eq!(b.ssrc(), ssrc);
        assert_eq!(b.sequence(), a.sequence().wrapping_add(1), "continuous seq");
        assert_eq!(
            b.timestamp(),
            a.timestamp().wrapping_add(ticks),
            "continuous ts"
        );
    }
}

#[tokio::test]
async fn announce_pcmu_real_time_and_decodes_to_the_speech() {
    init_log();
    let srv = start(config(&["announce"])).await;
    let mut c = connect(&srv).await;
    let ans = c.hello(hello_pcmu("announce")).await;
    assert_eq!(ans["telephone_event"]["pt"], 101);
    let t0 = Instant::now();
    let frames = c.collect_bin(Duration::from_millis(2000)).await;
    let secs = t0.elapsed().as_secs_f64();
    let (rtcp, rtp): (Vec<_>, Vec<_>) = frames.into_iter().map(|f| f.1).partition(|p| p[1] == 200);
    assert!(!rtcp.is_empty(), "an RTCP sender report arrived");
    let rate = rtp.len() as f64 / secs;
    eprintln!(
        "announce PCMU: {} packets in {secs:.2} s = {rate:.1}/s",
        rtp.len()
    );
    assert!(
        (45.0..=55.0).contains(&rate),
        "about 50 packets/s, got {rate:.1}"
    );
    check_stream(&rtp, 0, 160);
    assert!(rtp.iter().all(|p| p.len() == 12 + 160));

    // Decode with voxlet's decoder and compare with the fixture.
    let info = parse_rtpmap("PCMU/8000").unwrap();
    let mut dec = info.decoder().unwrap();
    let mut pcm = Vec::new();
    let mut out = vec![0f32; dec.max_frames()];
    for p in &rtp {
        let n = dec
            .decode(RtpPacket::parse(p).unwrap().payload(), &mut out)
            .unwrap();
        pcm.extend_from_slice(&out[..n]);
    }
    let raw = std::fs::read(fixtures().join("speech_8k.s16le")).unwrap();
    let speech = s16le_f32(&raw);
    let n = pcm.len().min(speech.len()) - 200;
    let (mut best, mut best_lag) = (f64::MAX, 0);
    for lag in 0..200 {
        let err: f64 = (0..n)
            .map(|i| (pcm[i + lag] as f64 - speech[i] as f64).powi(2))
            .sum();
        if err < best {
            best = err;
            best_lag = lag;
        }
    }
    let sig: f64 = speech[..n].iter().map(|&v| (v as f64).powi(2)).sum();
    let snr = 10.0 * (sig / best.max(1e-12)).log10();
    eprintln!(
        "announce PCMU vs fixture: SNR {snr:.1} dB at lag {best_lag}, rms {:.3}",
        rms(&pcm)
    );
    assert!(rms(&pcm) > 0.5 * rms(&speech[..n]), "speech energy");
    assert!(
        snr > 25.0,
        "decoded audio is the fixture (μ-law): {snr:.1} dB"
    );
}

#[tokio::test]
async fn announce_opus_decodes_to_speech() {
    init_log();
    let srv = start(config(&["announce"])).await;
    let mut c = connect(&srv).await;
    let ans = c
        .hello(json!({"type": "hello", "peer": "announce",
            "codecs": [{"pt": 111, "rtpmap": "opus/48000/2"}, {"pt": 0, "rtpmap": "PCMU/8000"}]}))
        .await;
    assert_eq!(ans["codec"], json!({"pt": 111, "rtpmap": "opus/48000/2"}));
    let rtp: Vec<Vec<u8>> = c
        .collect_bin(Duration::from_millis(1500))
        .await
        .into_iter()
        .map(|f| f.1)
        .filter(|p| p[1] & 0x7f == 111)
        .collect();
    assert!(
        (65..=85).contains(&rtp.len()),
        "{} packets in 1.5 s",
        rtp.len()
    );
    check_stream(&rtp, 111, 960);
    let info = parse_rtpmap("opus/48000/2")
        .unwrap()
        .with_channels(1)
        .unwrap();
    let mut dec = info.decoder().unwrap();
    let mut out = vec![0f32; dec.max_frames()];
    let mut pcm = Vec::new();
    for p in &rtp {
        let n = dec
            .decode(RtpPacket::parse(p).unwrap().payload(), &mut out)
            .unwrap();
        pcm.extend_from_slice(&out[..n]);
    }
    eprintln!(
        "announce opus: {} packets, decoded rms {:.3}",
        rtp.len(),
        rms(&pcm)
    );
    assert!(rms(&pcm) > 0.02, "speech energy, rms {}", rms(&pcm));
}

#[tokio::test]
async fn room_two_talk_third_refused() {
    init_log();
    let srv = start(config(&["room"])).await;
    let mut a = connect(&srv).await;
    let mut b = connect(&srv).await;
    let mut c = connect(&srv).await;
    let ans_a = a
        .hello(json!({"type": "hello", "peer": "room", "room": "r1",
            "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}]}))
        .await;
    assert_eq!(ans_a["room"], "r1");
    // B prefers PCMA but the room talks PCMU; B's PCMU is on PT 96 (rewritten).
    let ans_b = b
        .hello(json!({"type": "hello", "peer": "room", "room": "r1",
            "codecs": [{"pt": 8, "rtpmap": "PCMA/8000"}, {"pt": 96, "rtpmap": "PCMU/8000"}]}))
        .await;
    assert_eq!(ans_b["codec"], json!({"pt": 96, "rtpmap": "PCMU/8000"}));
    assert_eq!(a.expect("peer").await["state"], "joined");
    assert_eq!(b.expect("peer").await["state"], "joined");

    for i in 0..5u16 {
        a.send_bin(&rtp(0, i, 160 * i as u32, 0xa, 160)).await;
    }
    let got = b.recv_bins(5).await;
    for (i, p) in got.iter().enumerate() {
        let mut want = rtp(0, i as u16, 160 * i as u32, 0xa, 160);
        want[1] = 96;
        assert_eq!(p, &want, "A's packet reaches B with B's payload type");
    }
    for i in 0..5u16 {
        b.send_bin(&rtp(96, i, 160 * i as u32, 0xb, 160)).await;
    }
    let got = a.recv_bins(5).await;
    assert!(got.iter().all(|p| p[1] == 0 && ssrc_of(p) == 0xb));

    // A third caller is refused, and can keep trying.
    c.send_json(json!({"type": "hello", "peer": "room", "room": "r1",
        "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}]}))
        .await;
    let e = c.expect_error().await;
    assert_eq!(e["code"], "room_full");
    assert_eq!(e["fatal"], false);
    // Another room is free.
    c.hello(json!({"type": "hello", "peer": "room", "room": "r2",
        "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}]}))
        .await;

    // B hangs up: A is told, and the seat is free again.
    b.send_json(json!({"type": "hangup"})).await;
    assert_eq!(b.expect("bye").await["reason"], "hangup");
    assert_eq!(b.expect_close().await, Some(1000));
    assert_eq!(a.expect("peer").await["state"], "left");
    let mut d = connect(&srv).await;
    d.hello(json!({"type": "hello", "peer": "room", "room": "r1",
        "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}]}))
        .await;
    assert_eq!(a.expect("peer").await["state"], "joined");

    // A codec the room does not talk is refused.
    let mut e2 = connect(&srv).await;
    let mut e3 = connect(&srv).await;
    e2.hello(json!({"type": "hello", "peer": "room", "room": "r3",
        "codecs": [{"pt": 8, "rtpmap": "PCMA/8000"}]}))
        .await;
    e3.send_json(json!({"type": "hello", "peer": "room", "room": "r3",
        "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}]}))
        .await;
    let e = e3.expect_error().await;
    assert_eq!(e["code"], "no_codec");
    assert_eq!(srv.rooms(), 3);
}
