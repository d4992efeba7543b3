//! The gateway calls a real SIP phone: Debian's `baresip`, started here on
//! loopback in auto-answer mode, playing a known tone file (`aufile`) and
//! recording what it hears (`sndfile`). The browser side is played over the
//! gateway's WebSocket protocol, so the test is deterministic and fast.
//!
//! Each direction carries a different tone (baresip 1 kHz, the browser
//! 600 Hz), so a loop-back or a silent path cannot pass: the browser must
//! hear 1 kHz and baresip's recording must hold 600 Hz. DTMF and hang-up
//! are checked in baresip's own log.
//!
//! baresip must be installed (`scripts/setup.sh` does it); without it these
//! tests fail with a message saying so rather than skip.

mod common;
mod phone;
use common::*;
use phone::*;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use voxlet::codec::parse_rtpmap;
use voxlet::rtp::RtpPacket;
use voxlet::sender::{Sender, SenderConfig};
use voxlet_gateway::Server;

/// A gateway with one `sip` peer named `phone`, allowed to call `allow`.
async fn gateway(allow: &[String], rtp_ports: Option<(u16, u16)>) -> Server {
    let mut c = config(&["phone=sip"]);
    c.sip.bind = "127.0.0.1:0".parse().unwrap();
    c.sip.allow = allow.to_vec();
    // baresip on loopback may ring waiting pages.
    c.sip.allow_from = vec!["sip:*@127.0.0.1:*".into()];
    c.rtp_bind = Some("127.0.0.1".parse().unwrap());
    c.rtp_ports = rtp_ports;
    start(c).await
}

fn hello_dial(dial: &str) -> Value {
    json!({"type": "hello", "peer": "phone", "dial": dial, "ptime": 20, "telephone_event": 101,
           "codecs": [{"pt": 111, "rtpmap": "opus/48000/2"}, {"pt": 9, "rtpmap": "G722/8000"},
                      {"pt": 0, "rtpmap": "PCMU/8000"}, {"pt": 8, "rtpmap": "PCMA/8000"}]})
}

/// Waits for a `call` message in `state` (bounded by `PHONE_T`).
async fn expect_call(c: &mut Client, state: &str) -> Value {
    if let Some(i) = c
        .json_stash
        .iter()
        .position(|v| v["type"] == "call" && v["state"] == state)
    {
        return c.json_stash.remove(i);
    }
    let end = Instant::now() + PHONE_T;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match c.next(left).await {
            Some(Msg::Json(v)) if v["type"] == "call" && v["state"] == state => return v,
            Some(Msg::Json(v)) if v["type"] == "error" => {
                panic!("error while waiting for call {state}: {v}")
            }
            Some(Msg::Json(v)) => c.json_stash.push(v),
            Some(Msg::Bin(b)) => c.stash.push((Instant::now(), b)),
            other => panic!("no call {state}: {other:?}; stashed {:?}", c.json_stash),
        }
    }
}

/// Dials and waits for the `answer` (the far end answered).
async fn dial(c: &mut Client, uri: &str) -> Value {
    c.send_json(hello_dial(uri)).await;
    expect_call(c, "calling").await;
    let end = Instant::now() + PHONE_T;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match c.next(left).await {
            Some(Msg::Json(v)) if v["type"] == "answer" => return v,
            Some(Msg::Json(v)) if v["type"] == "error" => panic!("call refused: {v}"),
            Some(Msg::Json(v)) => c.json_stash.push(v),
            Some(Msg::Bin(b)) => c.stash.push((Instant::now(), b)),
            other => panic!("no answer: {other:?}; stashed {:?}", c.json_stash),
        }
    }
}

/// Talks for `secs`: sends `FROM_BROWSER_HZ` in the answer's codec every
/// 20 ms (paced by the clock, so a slow machine sends the same audio, late),
/// sends DTMF `digit` half-way; returns what came back, decoded.
async fn talk(c: &mut Client, answer: &Value, secs: f32, digit: Option<char>) -> (u32, Vec<f32>) {
    let pt = answer["codec"]["pt"].as_u64().unwrap() as u8;
    let info = parse_rtpmap(answer["codec"]["rtpmap"].as_str().unwrap())
        .unwrap()
        .with_channels(1)
        .unwrap();
    let mut cfg = SenderConfig::new(info, pt);
    cfg.input_rate = 48000;
    cfg.seed = 7;
    let mut tx = Sender::new(cfg).unwrap();
    let mut dec = info.decoder().unwrap();
    let out_rate = info.sample_rate;
    let src = tone(FROM_BROWSER_HZ, 48000, secs, 0.4);
    let mut heard = Vec::new();
    let mut buf = vec![0f32; 5760];
    let start = Instant::now();
    let frames = src.len() / 960;
    for k in 0..frames {
        let now_ms = k as f64 * 20.0;
        tx.push_audio(&src[k * 960..(k + 1) * 960], now_ms).unwrap();
        while let Some(p) = tx.poll_packet(now_ms) {
            let p = p.to_vec();
            c.send_bin(&p).await;
        }
        if let (Some(d), true) = (digit, k == frames / 2) {
            let v = json!({"type": "dtmf", "digit": d.to_string(), "duration_ms": 200});
            c.send_json(v).await;
        }
        let due = start + Duration::from_millis(20 * (k as u64 + 1));
        let left = due.saturating_duration_since(Instant::now());
        for (_, b) in c.collect_bin(left).await {
            let Ok(p) = RtpPacket::parse(&b) else {
                continue;
            };
            if p.payload_type() != pt {
                continue;
            }
            if let Ok(n) = dec.decode(p.payload(), &mut buf) {
                heard.extend_from_slice(&buf[..n]);
            }
        }
    }
    (out_rate, heard)
}

#[tokio::test]
async fn calls_baresip_audio_both_ways_dtmf_and_hangup_from_the_page() {
    init_log();
    let mut phone = Baresip::start(None, true).await;
    let srv = gateway(&[format!("sip:*@127.0.0.1:{}", phone.port)], None).await;
    let mut c = connect(&srv).await;
    let t0 = Instant::now();
    let ans = dial(&mut c, &phone.uri()).await;
    eprintln!(
        "INVITE → answer: {:?} (gateway says {} ms)",
        t0.elapsed(),
        ans["sip"]["setup_ms"]
    );
    assert_eq!(ans["peer_kind"], "sip");
    assert_eq!(
        ans["codec"]["rtpmap"], "opus/48000/2",
        "baresip takes the first offered codec it has"
    );
    let (rate, heard) = talk(&mut c, &ans, 4.0, Some('5')).await;
    // Skip the first second (set-up, jitter) and check the rest.
    let tail = &heard[(rate as usize).min(heard.len())..];
    has_tone(tail, rate, FROM_PHONE_HZ).unwrap_or_else(|e| panic!("browser side: {e}"));
    phone.wait_log("received event: '5'").await;
    c.send_json(json!({"type": "hangup"})).await;
    assert_eq!(c.expect_close().await, Some(1000));
    // baresip reports a BYE from the far end as the session being reset.
    phone
        .wait_log("session closed: Connection reset by peer")
        .await;
    let (prate, pheard) = phone.heard().await;
    let skip = (prate as usize).min(pheard.len());
    has_tone(&pheard[skip..], prate, FROM_BROWSER_HZ).unwrap_or_else(|e| panic!("phone side: {e}"));
    assert_no_call_left(&srv).await;
}

/// Every call task and dialog is gone (bounded wait: teardown is async).
async fn assert_no_call_left(srv: &Server) {
    let ua = srv.sip().unwrap().clone();
    let end = Instant::now() + PHONE_T;
    while (ua.active_calls() > 0 || ua.dialogs() > 0 || srv.connections() > 0)
        && Instant::now() < end
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ua.active_calls(), 0, "call tasks left");
    assert_eq!(ua.dialogs(), 0, "SIP dialogs left");
    assert_eq!(srv.connections(), 0, "sessions left");
}

#[tokio::test]
async fn baresip_sends_dtmf_holds_resumes_and_hangs_up() {
    init_log();
    let mut phone = Baresip::start(None, true).await;
    let srv = gateway(&[format!("sip:*@127.0.0.1:{}", phone.port)], None).await;
    let mut c = connect(&srv).await;
    let ans = dial(&mut c, &phone.uri()).await;
    let (rate, heard) = talk(&mut c, &ans, 1.5, None).await;
    has_tone(
        &heard[(rate as usize / 2).min(heard.len())..],
        rate,
        FROM_PHONE_HZ,
    )
    .unwrap_or_else(|e| panic!("browser side: {e}"));
    // baresip's console (menu module): a digit is sent as RFC 4733 DTMF…
    phone.command("7").await;
    let d = c.expect("dtmf").await;
    assert_eq!(d["digit"], "7");
    // …'x' holds the call and 'X' resumes it (re-INVITEs, answered by the gateway)…
    phone.command("x").await;
    assert_eq!(expect_call(&mut c, "held").await["by"], "remote");
    phone.command("X").await;
    assert_eq!(expect_call(&mut c, "resumed").await["by"], "remote");
    // …and 'b' hangs up.
    phone.command("b").await;
    let ended = expect_call(&mut c, "ended").await;
    assert_eq!(ended["by"], "remote");
    assert_eq!(c.expect_close().await, Some(1000));
    phone.wait_log("terminated").await;
    assert_no_call_left(&srv).await;
}

#[tokio::test]
async fn hanging_up_while_it_rings_cancels() {
    init_log();
    let mut phone = Baresip::start(None, false).await;
    let srv = gateway(&[format!("sip:*@127.0.0.1:{}", phone.port)], None).await;
    let mut c = connect(&srv).await;
    c.send_json(hello_dial(&phone.uri())).await;
    expect_call(&mut c, "calling").await;
    let ringing = expect_call(&mut c, "ringing").await;
    assert_eq!(ringing["sip_status"], 180);
    phone.wait_log("Incoming call from").await;
    c.send_json(json!({"type": "hangup"})).await;
    assert_eq!(c.expect_close().await, Some(1000));
    // The call was never answered, so only a CANCEL can end baresip's
    // session (it reports that as the session being reset).
    let l = phone
        .wait_log("session closed: Connection reset by peer")
        .await;
    assert!(!l.contains("Call established"), "{l}");
    assert_no_call_left(&srv).await;
}

#[tokio::test]
async fn no_common_codec_is_a_clear_error() {
    init_log();
    let phone = Baresip::start(Some("PCMA"), true).await;
    let srv = gateway(&[format!("sip:*@127.0.0.1:{}", phone.port)], None).await;
    let mut c = connect(&srv).await;
    let mut hello = hello_dial(&phone.uri());
    hello["codecs"] = json!([{"pt": 0, "rtpmap": "PCMU/8000"}]);
    c.send_json(hello).await;
    expect_call(&mut c, "calling").await;
    let e = c.expect_error().await;
    assert_eq!(e["code"], "no_codec", "{e}");
    assert_eq!(e["sip_status"], 488, "{e}");
    assert_eq!(e["fatal"], true);
    assert_eq!(c.expect_close().await, Some(1000));
    assert_no_call_left(&srv).await;
}

/// 20 calls in a row through a 3-pair RTP port range: a leaked port would
/// make a later call fail to bind. Prints the set-up times (not asserted).
#[tokio::test]
async fn twenty_calls_in_a_row_leak_nothing() {
    init_log();
    let phone = Baresip::start(None, true).await;
    let range = (41_000u16 + (std::process::id() % 500) as u16 * 8, 0);
    let range = (range.0, range.0 + 6);
    let srv = gateway(&[format!("sip:*@127.0.0.1:{}", phone.port)], Some(range)).await;
    let mut setup = Vec::new();
    let mut first_audio = Vec::new();
    for i in 0..20 {
        let mut c = connect(&srv).await;
        let t0 = Instant::now();
        let ans = dial(&mut c, &phone.uri()).await;
        setup.push(ans["sip"]["setup_ms"].as_u64().unwrap());
        let port = ans["local_rtp_port"].as_u64().unwrap() as u16;
        assert!(
            (range.0..=range.1).contains(&port),
            "call {i}: port {port} in range"
        );
        // Audio from the phone reaches the page.
        let got = c.recv_bins(5).await;
        first_audio.push(t0.elapsed().as_millis() as u64);
        assert!(
            got.iter().any(|b| b.len() > 12 && b[1] & 0x7f == 111),
            "call {i}: Opus from the phone"
        );
        c.send_json(json!({"type": "hangup"})).await;
        assert_eq!(c.expect_close().await, Some(1000), "call {i}");
        assert_no_call_left(&srv).await;
    }
    setup.sort_unstable();
    first_audio.sort_unstable();
    eprintln!(
        "20 calls: INVITE→200 median {} ms max {} ms; hello→first phone audio at the page median {} ms max {} ms",
        setup[10], setup[19], first_audio[10], first_audio[19]
    );
}

fn hello_incoming() -> Value {
    let mut h = hello_dial("");
    h.as_object_mut().unwrap().remove("dial");
    h["incoming"] = json!(true);
    h
}

#[tokio::test]
async fn baresip_calls_a_waiting_page_which_accepts() {
    init_log();
    let mut phone = Baresip::start(None, true).await;
    let srv = gateway(&[], None).await;
    let ua = srv.sip().unwrap().clone();
    let account = format!("sip:voxlet@{}", ua.local);
    let mut c = connect(&srv).await;
    c.send_json(hello_incoming()).await;
    let w = expect_call(&mut c, "waiting").await;
    assert_eq!(w["account"], account.as_str());
    phone.command(&format!("/dial {account}\n")).await;
    let inc = expect_call(&mut c, "incoming").await;
    assert_eq!(inc["from"], phone.uri().as_str(), "{inc}");
    c.send_json(json!({"type": "accept", "id": 9})).await;
    assert_eq!(c.expect("ack").await["of"], "accept");
    let ans = c.expect("answer").await;
    assert_eq!(ans["peer_kind"], "sip");
    phone.wait_log("Call established").await;
    let (rate, heard) = talk(&mut c, &ans, 2.5, Some('3')).await;
    has_tone(
        &heard[(rate as usize).min(heard.len())..],
        rate,
        FROM_PHONE_HZ,
    )
    .unwrap_or_else(|e| panic!("browser side: {e}"));
    phone.wait_log("received event: '3'").await;
    c.send_json(json!({"type": "hangup"})).await;
    assert_eq!(c.expect_close().await, Some(1000));
    phone
        .wait_log("session closed: Connection reset by peer")
        .await;
    let (prate, pheard) = phone.heard().await;
    has_tone(
        &pheard[(prate as usize).min(pheard.len())..],
        prate,
        FROM_BROWSER_HZ,
    )
    .unwrap_or_else(|e| panic!("phone side: {e}"));
    assert_no_call_left(&srv).await;
    assert_eq!(ua.waiting_pages(), 0);
}

#[tokio::test]
async fn incoming_calls_without_a_page_or_rejected_are_refused() {
    init_log();
    let mut phone = Baresip::start(None, true).await;
    let srv = gateway(&[], None).await;
    let ua = srv.sip().unwrap().clone();
    let account = format!("sip:voxlet@{}", ua.local);
    // Nobody waits: 480.
    phone.command(&format!("/dial {account}\n")).await;
    phone.wait_log("480 Temporarily Unavailable").await;
    // A page waits and rejects: 603.
    let mut c = connect(&srv).await;
    c.send_json(hello_incoming()).await;
    expect_call(&mut c, "waiting").await;
    phone.command(&format!("/dial {account}\n")).await;
    expect_call(&mut c, "incoming").await;
    c.send_json(json!({"type": "reject"})).await;
    assert_eq!(c.expect_close().await, Some(1000));
    phone.wait_log("603 Decline").await;
    assert_no_call_left(&srv).await;
    // The caller gives up while the page's call rings: the page is told.
    let mut c = connect(&srv).await;
    c.send_json(hello_incoming()).await;
    expect_call(&mut c, "waiting").await;
    phone.command(&format!("/dial {account}\n")).await;
    expect_call(&mut c, "incoming").await;
    phone.command("b").await;
    let ended = expect_call(&mut c, "ended").await;
    assert_eq!(ended["by"], "remote");
    assert_eq!(c.expect_close().await, Some(1000));
    assert_no_call_left(&srv).await;
}

#[tokio::test]
async fn stopping_the_gateway_hangs_up_its_calls() {
    init_log();
    let mut phone = Baresip::start(None, true).await;
    let srv = gateway(&[format!("sip:*@127.0.0.1:{}", phone.port)], None).await;
    let ua = srv.sip().unwrap().clone();
    let mut c = connect(&srv).await;
    dial(&mut c, &phone.uri()).await;
    phone.wait_log("Call established").await;
    srv.stop(Duration::from_secs(5)).await;
    assert_eq!(c.expect_close().await, Some(1001));
    phone
        .wait_log("session closed: Connection reset by peer")
        .await;
    assert_eq!(ua.active_calls(), 0);
    assert!(ua.is_stopped());
}

/// Audio packets of payload type `pt` the page receives in `d`.
async fn audio_in(c: &mut Client, pt: u8, d: Duration) -> usize {
    c.collect_bin(d)
        .await
        .iter()
        .filter(|(_, b)| b.len() > 12 && b[1] & 0x7f == pt)
        .count()
}

#[tokio::test]
async fn the_page_holds_and_resumes() {
    init_log();
    let mut phone = Baresip::start(None, true).await;
    let srv = gateway(&[format!("sip:*@127.0.0.1:{}", phone.port)], None).await;
    let mut c = connect(&srv).await;
    let ans = dial(&mut c, &phone.uri()).await;
    let pt = ans["codec"]["pt"].as_u64().unwrap() as u8;
    phone.wait_log("Call established").await;
    assert!(
        audio_in(&mut c, pt, Duration::from_millis(600)).await > 10,
        "audio before hold"
    );
    c.send_json(json!({"type": "hold", "id": 1})).await;
    assert_eq!(c.expect("ack").await["of"], "hold");
    let held = expect_call(&mut c, "held").await;
    assert_eq!(held["by"], "local");
    // In-flight packets first, then the phone (now recvonly) sends nothing.
    c.collect_bin(Duration::from_millis(300)).await;
    let during = audio_in(&mut c, pt, Duration::from_secs(1)).await;
    c.send_json(json!({"type": "resume", "id": 2})).await;
    assert_eq!(c.expect("ack").await["of"], "resume");
    assert_eq!(expect_call(&mut c, "resumed").await["by"], "local");
    c.collect_bin(Duration::from_millis(300)).await;
    let after = audio_in(&mut c, pt, Duration::from_secs(1)).await;
    eprintln!("phone audio packets: {during} during hold, {after} after resume (1 s each)");
    assert!(
        during <= 2,
        "the phone kept sending on hold: {during} packets"
    );
    assert!(after >= 20, "audio after resume: {after} packets");
    // hold/resume without an answered call is refused.
    let mut c2 = connect(&srv).await;
    c2.send_json(json!({"type": "hold"})).await;
    assert_eq!(c2.expect_error().await["code"], "no_session");
    c.send_json(json!({"type": "hangup"})).await;
    assert_eq!(c.expect_close().await, Some(1000));
    drop(c2);
    assert_no_call_left(&srv).await;
}
