//! The Rust web API (cargo feature `web`, src/web/) in headless Chromium:
//! wasm-bindgen-test with chromedriver. It drives the npm package's own
//! worklet bundle and wasm (built by scripts/build-wasm.sh: run that
//! first; scripts/test.sh does), handed over as a Blob URL and a compiled
//! module. OfflineAudioContexts render as fast as they can, so the checks
//! are on the rendered samples and the processors' statistics, not on
//! wall-clock timing.
//!
//! ```sh
//! bash scripts/build-wasm.sh
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver \
//!   cargo test --target wasm32-unknown-unknown --features web --test web_chromium
//! ```
#![cfg(all(target_arch = "wasm32", feature = "web"))]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Promise, Uint8Array, WebAssembly};
use voxlet::codec::g711::{linear_to_ulaw, ulaw_to_linear};
use voxlet::codec::parse_rtpmap;
use voxlet::codec::{NeuralOpus, Osce};
use voxlet::rtp::RtpPacket;
use voxlet::web::{
    DtmfPhase, Link, LinkEvent, LinkOptions, Message, MicOptions, OpusOptions, PlayerEvent,
    PlayerOptions, RegisterOptions, TwilioOptions, Voxlet, WireFormat,
};
use voxlet::{Sender, SenderConfig};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{BaseAudioContext, OfflineAudioContext};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const WORKLET: &str = include_str!("../pkg/worklet/voxlet-worklet.js");
const WASM: &[u8] = include_bytes!("../pkg/wasm/voxlet_bg.wasm");
/// The neural Opus build (scripts/build-wasm.sh builds it too).
const WASM_NEURAL: &[u8] = include_bytes!("../pkg/wasm-neural/voxlet_bg.wasm");

/// voxlet registered on `ctx` with the npm package's worklet and wasm.
async fn register(ctx: &BaseAudioContext) -> Voxlet {
    register_build(ctx, WASM).await
}

/// voxlet registered on `ctx` with the npm package's worklet and `wasm`.
async fn register_build(ctx: &BaseAudioContext, wasm: &[u8]) -> Voxlet {
    let module: WebAssembly::Module =
        JsFuture::from(WebAssembly::compile(&Uint8Array::from(wasm).into()))
            .await
            .expect("compiles")
            .unchecked_into();
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&Array::of1(&WORKLET.into()), &bag)
        .unwrap();
    let url = web_sys::Url::create_object_url_with_blob(&blob).unwrap();
    let options = RegisterOptions {
        worklet_url: url,
        wasm_url: String::new(),
        module: Some(module),
    };
    let vox = Voxlet::register(ctx, &options).await.expect("registers");
    // Once per context: the same set-up again, no second addModule.
    let again = Voxlet::register(ctx, &options)
        .await
        .expect("registers again");
    assert!(js_sys::Object::is(again.module(), vox.module()));
    vox
}

fn offline(rate: f32, seconds: f32) -> OfflineAudioContext {
    OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        1,
        (rate * seconds) as u32,
        rate,
    )
    .expect("OfflineAudioContext")
}

async fn render(ctx: &OfflineAudioContext) -> Vec<f32> {
    let buf: web_sys::AudioBuffer = JsFuture::from(ctx.start_rendering().unwrap())
        .await
        .unwrap()
        .unchecked_into();
    buf.get_channel_data(0).unwrap()
}

async fn sleep_ms(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// Zero crossings per second (≈ 2 × the frequency of a tone).
fn zcr(x: &[f32], rate: f32) -> f32 {
    let z = x
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    z as f32 / x.len() as f32 * rate
}

fn tone(n: usize, rate: f32, f: f32, amp: f32, from: usize) -> Vec<f32> {
    (from..from + n)
        .map(|i| amp * (2.0 * std::f32::consts::PI * f * i as f32 / rate).sin())
        .collect()
}

#[wasm_bindgen_test]
async fn player_plays_rtp_and_reports_dtmf_and_stats() {
    let ctx = offline(8000.0, 2.0);
    let vox = register(&ctx).await;
    let player = vox
        .create_player(&PlayerOptions::default())
        .expect("player");
    player.connect_to_destination().unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let ev = events.clone();
    player.on_event(move |e| ev.borrow_mut().push(e.clone()));
    player.ready().await.expect("ready");

    // 1.2 s of a 400 Hz tone, then the key 5 for 200 ms, then silence:
    // PCMU packets from the core's Sender, handed to the player at their
    // capture time + 40 ms of context time.
    let mut tx = Sender::new(SenderConfig {
        input_rate: 8000,
        seed: 3,
        dtmf_payload_type: Some(101),
        ..SenderConfig::new(parse_rtpmap("PCMU/8000").unwrap(), 0)
    })
    .unwrap();
    let mut packets = 0;
    let mut audio_packets = 0;
    for k in 0..80usize {
        let now = k as f64 * 20.0;
        if k == 60 {
            tx.send_dtmf('5', 200, 10).unwrap();
        }
        let block = if k < 60 {
            tone(160, 8000.0, 400.0, 0.5, k * 160)
        } else {
            vec![0.0; 160]
        };
        tx.push_audio(&block, now).unwrap();
        while let Some(p) = tx.poll_packet(now) {
            if RtpPacket::parse(p).unwrap().payload_type() == 0 {
                audio_packets += 1;
            }
            packets += 1;
            assert!(player.push_at(p, now + 40.0));
        }
    }
    player.sync().await.expect("sync");
    let out = render(&ctx).await;
    player.sync().await.expect("sync after rendering");

    // The tone, at its level, where it was sent (40 ms + the jitter buffer's delay later).
    let mid = &out[2400..8800];
    assert!(
        (zcr(mid, 8000.0) - 800.0).abs() < 20.0,
        "400 Hz: {} zero crossings/s",
        zcr(mid, 8000.0)
    );
    let r = rms(mid);
    assert!((r - 0.354).abs() < 0.03, "tone level {r}");
    assert!(rms(&out[14_000..]) < 0.01, "silence after the key");

    let stats = player.stats().expect("stats posted");
    assert!(
        stats.get("packetsReceived").unwrap() >= audio_packets as f64,
        "{stats:?} of {packets}"
    );
    assert_eq!(stats.get("packetsLost"), Some(0.0));
    let ev = events.borrow();
    assert!(
        matches!(ev.first(), Some(PlayerEvent::Ready)),
        "{:?}",
        ev.first()
    );
    assert!(
        ev.iter()
            .filter(|e| matches!(e, PlayerEvent::Stats(_)))
            .count()
            >= 15
    );
    let dtmf: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            PlayerEvent::Dtmf(d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(dtmf.len(), 2, "{dtmf:?}");
    assert_eq!(dtmf[0].digit, "5");
    assert_eq!(dtmf[0].phase, DtmfPhase::Begin { volume: 10.0 });
    assert!(
        matches!(dtmf[1].phase, DtmfPhase::End { duration_ms, timed_out: false } if (duration_ms - 200.0).abs() < 1.0),
        "{:?}",
        dtmf[1]
    );
    player.close();
}

#[wasm_bindgen_test]
async fn closing_a_player_fails_what_is_pending() {
    let ctx = offline(8000.0, 0.5);
    let vox = register(&ctx).await;
    let player = vox.create_player(&PlayerOptions::stream("pcmu")).unwrap();
    let mark = player.mark("never");
    player.close();
    player.close(); // twice: nothing
    let name = |e: JsValue| {
        js_sys::Reflect::get(&e, &"name".into())
            .unwrap()
            .as_string()
    };
    assert_eq!(
        name(player.ready().await.unwrap_err()),
        Some("AbortError".into())
    );
    assert_eq!(name(mark.await.unwrap_err()), Some("AbortError".into()));
    assert_eq!(
        name(player.sync().await.unwrap_err()),
        Some("AbortError".into())
    );
    assert!(!player.push(&[0xff; 160]));
    assert!(player.is_closed());
}

#[wasm_bindgen_test]
async fn mic_packets_go_out_through_a_link() {
    // A 1 kHz tone into the mic node; its packets leave through a raw-RTP
    // link on a callback transport.
    let ctx = offline(48000.0, 1.0);
    let vox = register(&ctx).await;
    let mic = vox.create_mic(&MicOptions::codec("PCMU/8000", 0)).unwrap();
    let osc = web_sys::OscillatorNode::new(&ctx).unwrap();
    osc.frequency().set_value(1000.0);
    let gain = web_sys::GainNode::new(&ctx).unwrap();
    gain.gain().set_value(0.5);
    osc.connect_with_audio_node(&gain).unwrap();
    gain.connect_with_audio_node(mic.node()).unwrap();
    osc.start().unwrap();
    mic.ready().await.expect("mic ready");
    let (ssrc, pt, codec) = mic.settings().unwrap();
    assert_eq!((pt, codec.as_str()), (0, "PCMU/8000"));

    let sent = Rc::new(RefCell::new(Vec::new()));
    let s = sent.clone();
    let link = Link::callback(LinkOptions::rtp(None, Some(&mic)), move |m| {
        s.borrow_mut().push(m.clone())
    })
    .unwrap();
    render(&ctx).await;
    // The packets of the last quanta are still on their way from the
    // worklet: wait until none has come for 200 ms.
    let mut seen = 0;
    for _ in 0..50 {
        sleep_ms(200).await;
        let n = sent.borrow().len();
        if n == seen && n > 0 {
            break;
        }
        seen = n;
    }
    link.close();
    let sent = sent.borrow().clone();
    let mut pcm = Vec::new();
    let mut last: Option<(u16, u32)> = None;
    let mut rtcp = 0;
    for m in sent.iter() {
        let Message::Binary(b) = m else {
            panic!("a text message in raw RTP")
        };
        if (192..=223).contains(&b[1]) {
            rtcp += 1; // a sender report, muxed on the same channel
            continue;
        }
        let p = RtpPacket::parse(b).expect("RTP");
        assert_eq!((p.ssrc(), p.payload_type()), (ssrc, 0));
        if let Some((seq, ts)) = last {
            assert_eq!(p.sequence(), seq.wrapping_add(1));
            assert_eq!(p.timestamp(), ts.wrapping_add(160));
        }
        last = Some((p.sequence(), p.timestamp()));
        pcm.extend(
            p.payload()
                .iter()
                .map(|&c| ulaw_to_linear(c) as f32 / 32768.0),
        );
    }
    // 1 s of input is 50 frames of 20 ms; the resampler's delay and the
    // frame still being filled keep up to 2 back.
    assert!(
        (48..=50).contains(&(sent.len() - rtcp)),
        "{} packets for 1 s",
        sent.len() - rtcp
    );
    assert!(rtcp <= 1, "{rtcp} sender reports in 1 s");
    assert_eq!(link.counts().messages_out, sent.len() as u64);
    let body = &pcm[800..];
    assert!(
        (zcr(body, 8000.0) - 2000.0).abs() < 40.0,
        "1 kHz: {}",
        zcr(body, 8000.0)
    );
    assert!((rms(body) - 0.354).abs() < 0.03, "level {}", rms(body));
    link.close();
    mic.close();
}

fn json(m: &Message) -> JsValue {
    let Message::Text(t) = m else {
        panic!("binary message {m:?}")
    };
    js_sys::JSON::parse(t).unwrap()
}

fn field(v: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(v.clone(), |v, k| {
        js_sys::Reflect::get(&v, &(*k).into()).unwrap_or(JsValue::UNDEFINED)
    })
}

#[wasm_bindgen_test]
async fn twilio_stream_plays_and_acknowledges_marks_when_played() {
    let ctx = offline(8000.0, 1.5);
    let vox = register(&ctx).await;
    let player = vox.create_player(&PlayerOptions::stream("pcmu")).unwrap();
    player.connect_to_destination().unwrap();
    player.ready().await.unwrap();
    let sent = Rc::new(RefCell::new(Vec::new()));
    let s = sent.clone();
    let options = LinkOptions {
        twilio: TwilioOptions {
            start_stream: true,
            stream_sid: Some("MZtest".into()),
            ..TwilioOptions::default()
        },
        ..LinkOptions::new(WireFormat::Twilio, Some(&player), None)
    };
    let link = Link::callback(options, move |m| s.borrow_mut().push(m.clone())).unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let ev = events.clone();
    link.on_event(move |e| ev.borrow_mut().push(e.clone()));
    link.open();
    {
        let sent = sent.borrow();
        assert_eq!(
            field(&json(&sent[0]), &["event"]).as_string().unwrap(),
            "connected"
        );
        assert_eq!(
            field(&json(&sent[1]), &["start", "streamSid"])
                .as_string()
                .unwrap(),
            "MZtest"
        );
    }
    // 0.5 s of 300 Hz, mark m1, 0.5 s more: like a TTS server, all at once.
    let x = tone(8000, 8000.0, 300.0, 0.5, 0);
    for (k, chunk) in x.chunks(160).enumerate() {
        if k == 25 {
            link.receive(&Message::Text(
                r#"{"event":"mark","streamSid":"MZtest","mark":{"name":"m1"}}"#.into(),
            ));
        }
        let bytes: Vec<u8> = chunk
            .iter()
            .map(|&v| linear_to_ulaw((v * 32767.0) as i16))
            .collect();
        let mut b64 = String::new();
        voxlet::wire::base64::encode_into(&bytes, &mut b64);
        link.receive(&Message::Text(format!(
            r#"{{"event":"media","streamSid":"MZtest","media":{{"payload":"{b64}"}}}}"#
        )));
    }
    link.receive(&Message::Text("not json".into()));
    player.sync().await.unwrap();
    let out = render(&ctx).await;
    player.sync().await.unwrap();
    for _ in 0..50 {
        if sent.borrow().len() > 2 {
            break;
        }
        sleep_ms(20).await;
    }
    // The mark came back once the half second before it had played.
    let sent = sent.borrow();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(
        field(&json(&sent[2]), &["event"]).as_string().unwrap(),
        "mark"
    );
    assert_eq!(
        field(&json(&sent[2]), &["mark", "name"])
            .as_string()
            .unwrap(),
        "m1"
    );
    let ev = events.borrow();
    assert!(
        ev.contains(&LinkEvent::Mark {
            name: "m1".into(),
            ack: false,
            played: true,
            cleared: false
        }),
        "{ev:?}"
    );
    assert!(
        ev.iter().any(|e| matches!(e, LinkEvent::WireError(_))),
        "{ev:?}"
    );
    let c = link.counts();
    assert_eq!((c.audio_in, c.errors, c.messages_in), (50, 1, 52));
    // A second of tone, then silence.
    assert!((zcr(&out[800..7200], 8000.0) - 600.0).abs() < 20.0);
    assert!(
        (rms(&out[800..7200]) - 0.354).abs() < 0.03,
        "level {}",
        rms(&out[800..7200])
    );
    assert!(rms(&out[9600..]) < 0.01);
    drop(ev);
    link.close();
    assert_eq!(events.borrow().last(), Some(&LinkEvent::Close));
}

/// Two RTCPeerConnections of this page connected to each other, and the
/// data channel at both ends once open.
async fn data_channel_pair() -> (web_sys::RtcDataChannel, web_sys::RtcDataChannel, impl Drop) {
    use web_sys::{
        RtcDataChannel, RtcDataChannelEvent, RtcPeerConnection, RtcPeerConnectionIceEvent,
    };
    /// The peers (closed when dropped) and their handlers (kept alive till then).
    struct Keep {
        _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
        peers: [RtcPeerConnection; 2],
    }
    impl Drop for Keep {
        fn drop(&mut self) {
            self.peers.iter().for_each(|p| p.close());
        }
    }
    let pc1 = RtcPeerConnection::new().unwrap();
    let pc2 = RtcPeerConnection::new().unwrap();
    let mut keep = Vec::new();
    for (from, to) in [(&pc1, &pc2), (&pc2, &pc1)] {
        let to = to.clone();
        let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let e: RtcPeerConnectionIceEvent = e.unchecked_into();
            let _ = to.add_ice_candidate_with_opt_rtc_ice_candidate(e.candidate().as_ref());
        });
        from.set_onicecandidate(Some(cb.as_ref().unchecked_ref()));
        keep.push(cb);
    }
    let far: Rc<RefCell<Option<RtcDataChannel>>> = Rc::new(RefCell::new(None));
    let f = far.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        *f.borrow_mut() = Some(e.unchecked_into::<RtcDataChannelEvent>().channel());
    });
    pc2.set_ondatachannel(Some(cb.as_ref().unchecked_ref()));
    keep.push(cb);
    let near = pc1.create_data_channel("voice");
    let offer = JsFuture::from(pc1.create_offer()).await.unwrap();
    JsFuture::from(pc1.set_local_description(offer.unchecked_ref()))
        .await
        .unwrap();
    JsFuture::from(pc2.set_remote_description(offer.unchecked_ref()))
        .await
        .unwrap();
    let answer = JsFuture::from(pc2.create_answer()).await.unwrap();
    JsFuture::from(pc2.set_local_description(answer.unchecked_ref()))
        .await
        .unwrap();
    JsFuture::from(pc1.set_remote_description(answer.unchecked_ref()))
        .await
        .unwrap();
    let open = |dc: &RtcDataChannel| dc.ready_state() == web_sys::RtcDataChannelState::Open;
    for _ in 0..500 {
        if open(&near) && far.borrow().as_ref().is_some_and(open) {
            break;
        }
        sleep_ms(20).await;
    }
    let far = far.borrow().clone().expect("the far end's data channel");
    assert!(open(&near) && open(&far), "data channel open");
    (
        near,
        far,
        Keep {
            _handlers: keep,
            peers: [pc1, pc2],
        },
    )
}

#[wasm_bindgen_test]
async fn rtp_over_a_data_channel_reaches_the_far_player_and_closing_the_channel_closes_the_links() {
    let (near, far, _peers) = data_channel_pair().await;
    // MicNode side: a tone into a mic node, its packets on `near`.
    let mic_ctx = offline(48000.0, 1.0);
    let vox = register(&mic_ctx).await;
    let mic = vox.create_mic(&MicOptions::codec("PCMU/8000", 0)).unwrap();
    let osc = web_sys::OscillatorNode::new(&mic_ctx).unwrap();
    osc.connect_with_audio_node(mic.node()).unwrap();
    osc.start().unwrap();
    mic.ready().await.unwrap();
    let sender = Link::data_channel(&near, LinkOptions::rtp(None, Some(&mic))).unwrap();
    // PlayerNode side: what arrives on `far`.
    let play_ctx = offline(8000.0, 1.5);
    let vox2 = register(&play_ctx).await;
    let player = vox2.create_player(&PlayerOptions::default()).unwrap();
    player.connect_to_destination().unwrap();
    player.ready().await.unwrap();
    let receiver = Link::data_channel(&far, LinkOptions::rtp(Some(&player), None)).unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let ev = events.clone();
    receiver.on_event(move |e| ev.borrow_mut().push(e.clone()));

    render(&mic_ctx).await;
    for _ in 0..250 {
        let (out, inn) = (sender.counts().messages_out, receiver.counts().messages_in);
        if out >= 50 && inn == out {
            break;
        }
        sleep_ms(20).await;
    }
    let (sent, got) = (sender.counts(), receiver.counts());
    assert!(sent.messages_out >= 50, "{sent:?}");
    assert_eq!(
        got.messages_in, sent.messages_out,
        "a reliable channel loses nothing"
    );
    let rtcp = events
        .borrow()
        .iter()
        .filter(|e| matches!(e, LinkEvent::Rtcp(_)))
        .count() as u64;
    assert_eq!(got.audio_in + rtcp, got.messages_in);
    assert_eq!(got.errors, 0);

    player.sync().await.unwrap();
    let out = render(&play_ctx).await;
    player.sync().await.unwrap();
    let stats = player.stats().expect("stats");
    assert_eq!(
        stats.get("packetsReceived"),
        Some(got.audio_in as f64),
        "{stats:?}"
    );
    // The oscillator's 440 Hz (its default) came through.
    let played: Vec<f32> = out.iter().copied().filter(|v| v.abs() > 1e-4).collect();
    assert!(played.len() > 4000, "{} samples played", played.len());
    assert!(
        (zcr(&played, 8000.0) - 880.0).abs() < 40.0,
        "440 Hz: {}",
        zcr(&played, 8000.0)
    );

    // Closing the channel closes both links (the transport's close event).
    near.close();
    for _ in 0..250 {
        if sender.is_closed() && receiver.is_closed() {
            break;
        }
        sleep_ms(20).await;
    }
    assert!(sender.is_closed() && receiver.is_closed());
    assert_eq!(events.borrow().last(), Some(&LinkEvent::Close));
    mic.close();
    player.close();
}

#[wasm_bindgen_test]
async fn l16_meta_stream_switches_the_players_format_and_plays() {
    // The player starts as 'pcmu'; the metadata (16 kHz) makes the link
    // switch it to 'l16/16000/1' before the PCM, sent in odd-sized pieces.
    let ctx = offline(16000.0, 1.5);
    let vox = register(&ctx).await;
    let player = vox.create_player(&PlayerOptions::stream("pcmu")).unwrap();
    player.connect_to_destination().unwrap();
    player.ready().await.unwrap();
    let link = Link::callback(
        LinkOptions::new(WireFormat::L16Meta, Some(&player), None),
        |_| {},
    )
    .unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let ev = events.clone();
    link.on_event(move |e| ev.borrow_mut().push(e.clone()));
    link.receive(&Message::Text(
        r#"{"callSid":"abc","sampleRate":16000,"mixType":"mono"}"#.into(),
    ));
    let pcm: Vec<u8> = tone(16000, 16000.0, 500.0, 0.5, 0)
        .iter()
        .flat_map(|&v| ((v * 32767.0) as i16).to_le_bytes())
        .collect();
    for piece in pcm.chunks(641) {
        link.receive(&Message::Binary(piece.to_vec()));
    }
    assert_eq!(player.stream_format(), "l16/16000/1");
    assert!(
        matches!(&events.borrow()[0], LinkEvent::Start { format, json, .. } if format == "l16/16000/1" && json.contains("abc")),
        "{:?}",
        events.borrow()
    );
    player.sync().await.unwrap();
    let out = render(&ctx).await;
    player.sync().await.unwrap();
    let body = &out[1600..14400];
    assert!(
        (zcr(body, 16000.0) - 1000.0).abs() < 20.0,
        "500 Hz: {}",
        zcr(body, 16000.0)
    );
    assert!((rms(body) - 0.354).abs() < 0.01, "level {}", rms(body));
    assert_eq!(link.counts().errors, 0);
    link.close();
    player.close();
}

/// A player with `opus.neural` and a mic with `dredMs`: on the full build
/// the worklet refuses them (ready() fails, naming the neural build); on
/// the neural build the player conceals Opus losses with deep PLC (its
/// stats count it) and the mic sends.
#[wasm_bindgen_test]
async fn neural_options_reach_the_worklet() {
    let neural = PlayerOptions {
        payload_types: vec![(111, "opus/48000/2".into())],
        // Every tool, NoLACE by name (`osce: 'nolace'` in the worklet).
        opus: OpusOptions {
            neural: Some(NeuralOpus {
                osce: Osce::NoLace,
                ..NeuralOpus::ON
            }),
        },
        ..PlayerOptions::default()
    };
    let dred = MicOptions {
        bitrate: Some(48_000),
        dred_ms: Some(200),
        ..MicOptions::codec("opus/48000/2", 111)
    };
    let message = |e: JsValue| {
        js_sys::Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| format!("{e:?}"))
    };

    // The full build: refused, by name.
    let ctx = offline(48000.0, 0.5);
    let vox = register(&ctx).await;
    let player = vox.create_player(&neural).unwrap();
    let err = message(
        player
            .ready()
            .await
            .expect_err("neural player on the full build"),
    );
    assert!(err.contains("neural"), "{err}");
    let mic = vox.create_mic(&dred).unwrap();
    let err = message(mic.ready().await.expect_err("DRED mic on the full build"));
    assert!(err.contains("neural"), "{err}");

    // The neural build: 1.2 s of a 300 Hz tone as Opus, one packet in 5 lost.
    let ctx = offline(48000.0, 1.5);
    let vox = register_build(&ctx, WASM_NEURAL).await;
    let player = vox.create_player(&neural).unwrap();
    player.connect_to_destination().unwrap();
    player.ready().await.expect("neural player ready");
    let mut tx = Sender::new(SenderConfig {
        input_rate: 48000,
        input_channels: 1,
        seed: 5,
        ..SenderConfig::new(parse_rtpmap("opus/48000/2").unwrap(), 111)
    })
    .unwrap();
    let (mut sent, mut dropped) = (0, 0);
    for k in 0..60usize {
        let now = k as f64 * 20.0;
        tx.push_audio(&tone(960, 48000.0, 300.0, 0.4, k * 960), now)
            .unwrap();
        while let Some(p) = tx.poll_packet(now) {
            if RtpPacket::parse(p).unwrap().payload_type() != 111 {
                continue;
            }
            sent += 1;
            if sent % 5 == 2 {
                dropped += 1;
                continue;
            }
            assert!(player.push_at(p, now + 60.0));
        }
    }
    player.sync().await.expect("sync");
    let out = render(&ctx).await;
    player.sync().await.expect("sync after rendering");
    let stats = player.stats().expect("stats");
    let deep = stats.get("deepPlcSamples").unwrap_or(0.0);
    assert_eq!(stats.get("packetsLost"), Some(dropped as f64), "{stats:?}");
    assert!(
        deep >= 960.0 * (dropped as f64 - 2.0),
        "deep PLC samples {deep} for {dropped} losses: {stats:?}"
    );
    assert!(
        rms(&out[24_000..60_000]) > 0.15,
        "the tone plays through the losses"
    );

    let mic = vox.create_mic(&dred).unwrap();
    mic.ready().await.expect("DRED mic on the neural build");
    mic.close();
    player.close();
}
