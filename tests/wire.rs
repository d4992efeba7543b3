//! Wire-format adapters: Twilio Media Streams, Asterisk chan_websocket,
//! JSON-metadata-then-L16, raw RTP; base64 and the JSON reader.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::codec::g711::{linear_to_ulaw, PcmuDecoder};
use voxlet::rtp::RtpHeader;
use voxlet::stream::AudioFormat;
use voxlet::wire::asterisk::{AsteriskEvent, Command, ControlFormat, Direction, Status};
use voxlet::wire::l16meta::{encode_l16_le, L16Item};
use voxlet::wire::raw_rtp::RawItem;
use voxlet::wire::twilio::{self, Track, TwilioEvent};
use voxlet::wire::{
    base64, json, AsteriskAdapter, L16MetaAdapter, RawRtp, Reframer, TwilioAdapter, WireError,
};
use voxlet::{Decoder, RtpError};
use voxlet_support::rng::XorShift64 as Rng;

const SPEECH_8K: &[u8] = include_bytes!("fixtures/speech_8k.s16le");

fn speech_ulaw() -> Vec<u8> {
    SPEECH_8K
        .chunks_exact(2)
        .map(|b| linear_to_ulaw(i16::from_le_bytes([b[0], b[1]])))
        .collect()
}

fn b64(data: &[u8]) -> String {
    let mut s = String::new();
    base64::encode_into(data, &mut s);
    s
}

// ---------------------------------------------------------------- base64

#[test]
fn base64_rfc4648_vectors() {
    let v = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];
    for (plain, enc) in v {
        assert_eq!(b64(plain.as_bytes()), enc);
        let mut out = Vec::new();
        base64::decode(enc, &mut out, 100).unwrap();
        assert_eq!(out, plain.as_bytes());
        // Stripped padding is accepted.
        let mut out = Vec::new();
        base64::decode(enc.trim_end_matches('='), &mut out, 100).unwrap();
        assert_eq!(out, plain.as_bytes());
    }
}

#[test]
fn base64_round_trip_every_length_and_byte() {
    let mut rng = Rng(0x1234_5678);
    for len in 0..300 {
        let data: Vec<u8> = (0..len).map(|i| (rng.next_u64() as u8) ^ i as u8).collect();
        let enc = b64(&data);
        assert_eq!(enc.len(), base64::encoded_len(len));
        let mut out = Vec::new();
        base64::decode(&enc, &mut out, len).unwrap();
        assert_eq!(out, data);
    }
    let all: Vec<u8> = (0..=255).collect();
    let mut out = Vec::new();
    base64::decode(&b64(&all), &mut out, 256).unwrap();
    assert_eq!(out, all);
}

#[test]
fn base64_rejects_bad_input() {
    for (bad, at) in [
        ("Zm9v$", 4),
        ("Zm 9v", 2),
        ("Zm9-", 3),
        ("Z===", 1),
        ("Zm==Zm9v", 4),
        ("Zm9vY", 5),
        ("Zm=", 3),
        ("é", 0),
    ] {
        let mut out = Vec::new();
        assert_eq!(
            base64::decode(bad, &mut out, 100),
            Err(WireError::BadBase64 { offset: at }),
            "{bad}"
        );
    }
    let mut out = Vec::new();
    assert_eq!(
        base64::decode("Zm9vYmFy", &mut out, 5),
        Err(WireError::TooLarge { len: 6, max: 5 })
    );
}

// ---------------------------------------------------------------- JSON

#[test]
fn json_reader_fields_escapes_and_errors() {
    let v = json::parse(
        r#" {"a":{"b":[1,2,{"c":"x\"y\\z\/\u00e9\ud83d\ude00"}]},"n":-1.5e3,"t":true,"z":null} "#,
    )
    .unwrap();
    let arr = v.path(&["a", "b"]).unwrap();
    let elems: Vec<_> = arr.elements().collect();
    assert_eq!(elems.len(), 3);
    assert_eq!(elems[0], json::Value::Number("1"));
    let c = elems[2].get("c").unwrap().as_str().unwrap();
    assert_eq!(c.to_owned_string(100).unwrap(), "x\"y\\z/é😀");
    assert!(c.eq_str("x\"y\\z/é😀"));
    assert_eq!(c.to_owned_string(5), None, "bounded");
    assert_eq!(v.get("n"), Some(json::Value::Number("-1.5e3")));
    assert_eq!(v.get("t"), Some(json::Value::Bool(true)));
    assert_eq!(v.get("z"), Some(json::Value::Null));
    assert_eq!(v.get("missing"), None);
    let keys: Vec<_> = v.members().map(|(k, _)| k.raw()).collect();
    assert_eq!(keys, ["a", "n", "t", "z"]);

    for bad in [
        "",
        "{",
        "{\"a\":}",
        "{\"a\" 1}",
        "[1,]",
        "{\"a\":1,}",
        "01",
        "1.",
        "-",
        "tru",
        "\"abc",
        "\"\\x\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"a\nb\"",
        "{} x",
        "{'a':1}",
    ] {
        assert!(
            matches!(json::parse(bad), Err(WireError::Json { .. })),
            "{bad:?} accepted"
        );
    }
    // Nesting is bounded.
    let deep = "[".repeat(json::MAX_DEPTH + 1) + &"]".repeat(json::MAX_DEPTH + 1);
    assert!(matches!(json::parse(&deep), Err(WireError::Json { .. })));
    let ok = "[".repeat(json::MAX_DEPTH) + &"]".repeat(json::MAX_DEPTH);
    assert!(json::parse(&ok).is_ok());
    // Hostile nesting far beyond the bound fails fast, no stack overflow.
    let hostile = "[".repeat(100_000);
    assert!(json::parse(&hostile).is_err());
}

// ---------------------------------------------------------------- Twilio

const CONNECTED: &str = r#"{"event": "connected", "protocol": "Call", "version": "1.0.0"}"#;

const START: &str = r#"{
  "event": "start",
  "sequenceNumber": "1",
  "start": {
    "accountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "callSid": "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "tracks": [ "inbound", "outbound" ],
    "customParameters": { "FirstName": "Jane", "LastName": "Doe", "RemoteParty": "Bob" },
    "mediaFormat": { "encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1 }
  },
  "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
}"#;

fn media_msg(seq: u64, chunk: u64, ts: u64, payload: &str) -> String {
    format!(
        r#"{{"event":"media","sequenceNumber":"{seq}","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{ts}","payload":"{payload}"}},"streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}}"#
    )
}

#[test]
fn twilio_every_event_type() {
    let mut a = TwilioAdapter::new();
    assert_eq!(
        a.on_text(CONNECTED).unwrap(),
        TwilioEvent::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into()
        }
    );
    assert_eq!(a.stream_sid(), None);

    let TwilioEvent::Start(s) = a.on_text(START).unwrap() else {
        panic!("not start")
    };
    assert_eq!(s.stream_sid, "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    assert_eq!(s.call_sid, "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    assert_eq!(s.account_sid, "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    assert_eq!(s.tracks, ["inbound", "outbound"]);
    assert_eq!(s.media_format.encoding, "audio/x-mulaw");
    assert_eq!(s.media_format.sample_rate, 8000);
    assert_eq!(s.media_format.channels, 1);
    assert_eq!(s.media_format.audio_format(), Some(AudioFormat::Pcmu));
    assert_eq!(
        s.custom_parameters,
        [
            ("FirstName".to_string(), "Jane".to_string()),
            ("LastName".into(), "Doe".into()),
            ("RemoteParty".into(), "Bob".into())
        ]
    );
    assert_eq!(s.sequence_number, Some(1));
    assert_eq!(a.stream_sid(), Some("MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"));

    let ulaw: Vec<u8> = (0..160u32).map(|i| (i * 37 % 256) as u8).collect();
    let msg = media_msg(3, 1, 5, &b64(&ulaw));
    match a.on_text(&msg).unwrap() {
        TwilioEvent::Media(m) => {
            assert_eq!(m.track, Track::Inbound);
            assert_eq!(m.chunk, Some(1));
            assert_eq!(m.timestamp_ms, Some(5));
            assert_eq!(m.sequence_number, Some(3));
            assert_eq!(m.payload, &ulaw[..]);
        }
        e => panic!("{e:?}"),
    }

    let dtmf = r#"{"event":"dtmf","streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}"#;
    assert_eq!(
        a.on_text(dtmf).unwrap(),
        TwilioEvent::Dtmf {
            track: Track::Inbound,
            digit: '1'
        }
    );
    let star = dtmf.replace("\"1\"", "\"*\"");
    assert!(matches!(
        a.on_text(&star).unwrap(),
        TwilioEvent::Dtmf { digit: '*', .. }
    ));

    let mark = r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","mark":{"name":"my label"}}"#;
    assert_eq!(
        a.on_text(mark).unwrap(),
        TwilioEvent::Mark {
            name: "my label".into()
        }
    );

    let stop = r#"{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","callSid":"CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"},"streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}"#;
    assert_eq!(a.on_text(stop).unwrap(), TwilioEvent::Stop);

    let unknown = r#"{"event":"transcription","sequenceNumber":"6","text":"hi"}"#;
    assert_eq!(
        a.on_text(unknown).unwrap(),
        TwilioEvent::Unknown("transcription".into())
    );
    let st = a.stats();
    assert_eq!(
        (st.messages, st.errors, st.media, st.payload_bytes),
        (8, 0, 1, 160)
    );
}

#[test]
fn twilio_numbers_as_json_numbers_and_escaped_slashes() {
    let mut a = TwilioAdapter::new();
    // Some encoders write "/" as "\/"; numbers may be plain JSON numbers.
    let data = [0xFFu8, 0xFE, 0xFD, 0x3F, 0xBF];
    let enc = b64(&data);
    assert!(enc.contains('/'));
    let escaped = enc.replace('/', "\\/");
    let msg = format!(
        r#"{{"event":"media","sequenceNumber":7,"media":{{"track":"outbound","chunk":2,"timestamp":40,"payload":"{escaped}"}}}}"#
    );
    let TwilioEvent::Media(m) = a.on_text(&msg).unwrap() else {
        panic!()
    };
    assert_eq!(
        (m.track, m.chunk, m.timestamp_ms),
        (Track::Outbound, Some(2), Some(40))
    );
    assert_eq!(m.payload, &data);
}

#[test]
fn twilio_errors_are_typed_and_recoverable() {
    let mut a = TwilioAdapter::new();
    let cases: Vec<(String, WireError)> =
        vec![
        (media_msg(1, 1, 0, "abc$"), WireError::BadBase64 { offset: 3 }),
        (media_msg(1, 1, 0, "Zm9vY"), WireError::BadBase64 { offset: 5 }),
        (r#"{"sequenceNumber":"1"}"#.into(), WireError::MissingField("event")),
        (r#"{"event":5}"#.into(), WireError::BadField("event")),
        (r#"{"event":"media"}"#.into(), WireError::MissingField("media")),
        (
            r#"{"event":"media","media":{"track":"inbound"}}"#.into(),
            WireError::MissingField("media.payload"),
        ),
        (
            r#"{"event":"media","media":{"payload":42}}"#.into(),
            WireError::BadField("media.payload"),
        ),
        (
            r#"{"event":"media","media":{"payload":"","timestamp":"soon"}}"#.into(),
            WireError::BadField("media.timestamp"),
        ),
        (r#"{"event":"start"}"#.into(), WireError::MissingField("start")),
        (
            r#"{"event":"start","start":{"callSid":"CA1"}}"#.into(),
            WireError::MissingField("start.streamSid"),
        ),
        (
            r#"{"event":"start","start":{"streamSid":"MZ1","mediaFormat":{"sampleRate":8000}}}"#
                .into(),
            WireError::MissingField("start.mediaFormat.encoding"),
        ),
        (r#"{"event":"mark","mark":{}}"#.into(), WireError::MissingField("mark.name")),
        (r#"{"event":"dtmf"}"#.into(), WireError::MissingField("dtmf")),
        (
            r#"{"event":"dtmf","dtmf":{"digit":"12"}}"#.into(),
            WireError::BadField("dtmf.digit"),
        ),
        (
            r#"{"event":"dtmf","dtmf":{"digit":"x"}}"#.into(),
            WireError::BadField("dtmf.digit"),
        ),
        (r#"["event","media"]"#.into(), WireError::BadField("(root)")),
        (String::new(), WireError::Empty),
    ];
    for (msg, want) in &cases {
        assert_eq!(a.on_text(msg).err(), Some(*want), "{msg}");
    }
    assert!(matches!(
        a.on_text("{\"event\":"),
        Err(WireError::Json { .. })
    ));
    assert_eq!(
        a.on_binary(&[1, 2, 3]).err(),
        Some(WireError::UnexpectedBinary)
    );
    assert_eq!(a.stats().errors, cases.len() as u64 + 2);
    // Still works afterwards.
    assert!(matches!(a.on_text(START), Ok(TwilioEvent::Start(_))));
    assert!(matches!(
        a.on_text(&media_msg(2, 1, 0, "AAAA")),
        Ok(TwilioEvent::Media(m)) if m.payload == [0, 0, 0]
    ));
}

#[test]
fn twilio_messages_over_the_bound_are_rejected_before_parsing() {
    let big = media_msg(1, 1, 0, &"A".repeat(70_000));
    let mut a = TwilioAdapter::new();
    assert_eq!(
        a.on_text(&big).err(),
        Some(WireError::TooLarge {
            len: big.len(),
            max: voxlet::wire::DEFAULT_MAX_MESSAGE
        })
    );
    let mut small = TwilioAdapter::with_max_message(1000);
    let ok = media_msg(1, 1, 0, &b64(&[0x55; 160]));
    assert!(small.on_text(&ok).is_ok());
    let over = media_msg(1, 1, 0, &b64(&[0x55; 800]));
    assert!(matches!(
        small.on_text(&over),
        Err(WireError::TooLarge { max: 1000, .. })
    ));
    // 100 custom parameters: only the first 64 are kept.
    let params: Vec<String> = (0..100).map(|i| format!("\"k{i}\":\"v{i}\"")).collect();
    let start = format!(
        r#"{{"event":"start","start":{{"streamSid":"MZ1","customParameters":{{{}}}}}}}"#,
        params.join(",")
    );
    let TwilioEvent::Start(s) = a.on_text(&start).unwrap() else {
        panic!()
    };
    assert_eq!(s.custom_parameters.len(), twilio::MAX_ENTRIES);
    assert_eq!(
        s.custom_parameters[63],
        ("k63".to_string(), "v63".to_string())
    );
    assert_eq!(s.media_format.audio_format(), Some(AudioFormat::Pcmu));
}

#[test]
fn twilio_outbound_messages_are_exact() {
    let mut s = String::new();
    twilio::write_media("MZ123", &[0xFF, 0x7F, 0x00], &mut s);
    assert_eq!(
        s,
        r#"{"event":"media","streamSid":"MZ123","media":{"payload":"/38A"}}"#
    );
    twilio::write_mark("MZ123", "turn \"1\"\n", &mut s);
    assert_eq!(
        s,
        r#"{"event":"mark","streamSid":"MZ123","mark":{"name":"turn \"1\"\n"}}"#
    );
    twilio::write_clear("MZ123", &mut s);
    assert_eq!(s, r#"{"event":"clear","streamSid":"MZ123"}"#);
    // Every builder's output is valid JSON with the expected fields.
    twilio::write_mark("MZ123", "a\u{1}b", &mut s);
    let v = json::parse(&s).unwrap();
    assert!(v
        .path(&["mark", "name"])
        .unwrap()
        .as_str()
        .unwrap()
        .eq_str("a\u{1}b"));

    let mut a = TwilioAdapter::new();
    assert_eq!(a.clear_message(&mut s), Err(WireError::NotStarted));
    a.on_text(START).unwrap();
    a.mark_message("m1", &mut s).unwrap();
    assert_eq!(
        s,
        r#"{"event":"mark","streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","mark":{"name":"m1"}}"#
    );
}

#[test]
fn twilio_round_trip_equals_g711_decode() {
    let ulaw = speech_ulaw();
    let mut a = TwilioAdapter::new();
    a.on_text(START).unwrap();
    let mut dec = PcmuDecoder::new();
    let mut msg = String::new();
    let mut via_wire = Vec::new();
    let mut got = vec![0f32; 8000];
    for (i, chunk) in ulaw.chunks(160).enumerate() {
        // What a server sends Twilio, re-labelled as what Twilio sends us.
        a.media_message(chunk, &mut msg).unwrap();
        let v = json::parse(&msg).unwrap();
        let payload = v
            .path(&["media", "payload"])
            .unwrap()
            .as_str()
            .unwrap()
            .raw();
        let inbound = media_msg(i as u64 + 2, i as u64 + 1, i as u64 * 20, payload);
        let TwilioEvent::Media(m) = a.on_text(&inbound).unwrap() else {
            panic!()
        };
        assert_eq!(m.timestamp_ms, Some(i as u64 * 20));
        let n = dec.decode(m.payload, &mut got).unwrap();
        via_wire.extend_from_slice(&got[..n]);
    }
    let mut direct = vec![0f32; ulaw.len()];
    let mut dec2 = PcmuDecoder::new();
    let mut at = 0;
    for chunk in ulaw.chunks(8000) {
        at += dec2.decode(chunk, &mut direct[at..]).unwrap();
    }
    assert_eq!(via_wire.len(), ulaw.len());
    assert_eq!(via_wire, direct);
}

// ---------------------------------------------------------------- Asterisk

#[test]
fn asterisk_plain_text_events() {
    let mut a = AsteriskAdapter::new();
    assert_eq!(a.on_binary(&[0; 160]).err(), Some(WireError::NotStarted));
    let ev = a
        .on_text("MEDIA_START connection_id:e226e283-c90a-4ea9-9e37-389000b9ef47 channel:WebSocket/connectionid channel_id:pbx1-123456789.999 format:ulaw optimal_frame_size:160 ptime:20")
        .unwrap();
    let AsteriskEvent::MediaStart(ms) = ev else {
        panic!("{ev:?}")
    };
    assert_eq!(ms.connection_id, "e226e283-c90a-4ea9-9e37-389000b9ef47");
    assert_eq!(ms.channel, "WebSocket/connectionid");
    assert_eq!(ms.channel_id, "pbx1-123456789.999");
    assert_eq!(ms.format, "ulaw");
    assert_eq!(ms.optimal_frame_size, 160);
    assert_eq!(ms.ptime_ms, 20);
    assert_eq!(ms.audio_format(), Some(AudioFormat::Pcmu));
    assert_eq!(a.audio_format(), Some(AudioFormat::Pcmu));
    assert_eq!(a.frame_bytes(), Some(160));
    assert_eq!(a.control_format(), ControlFormat::PlainText);

    let cases = [
        (
            "DTMF_END digit:5 channel_id:pbx1-123456789.999",
            AsteriskEvent::DtmfEnd { digit: '5' },
        ),
        ("MEDIA_XOFF", AsteriskEvent::MediaXoff),
        ("MEDIA_XON", AsteriskEvent::MediaXon),
        ("QUEUE_DRAINED", AsteriskEvent::QueueDrained),
        (
            "MEDIA_BUFFERING_COMPLETED",
            AsteriskEvent::MediaBufferingCompleted {
                correlation_id: None,
            },
        ),
        (
            "MEDIA_BUFFERING_COMPLETED 61ea9311-d501-46e5-8825-017b342b39f2",
            AsteriskEvent::MediaBufferingCompleted {
                correlation_id: Some("61ea9311-d501-46e5-8825-017b342b39f2".into()),
            },
        ),
        (
            "MEDIA_MARK_PROCESSED turn-7",
            AsteriskEvent::MediaMarkProcessed {
                correlation_id: Some("turn-7".into()),
            },
        ),
        (
            "STATUS channel_id:pbx1-1.2 queue_length:12 xon_level:800 xoff_level:900 queue_full:false bulk_media:true media_paused:false",
            AsteriskEvent::Status(Status {
                queue_length: 12,
                xon_level: 800,
                xoff_level: 900,
                queue_full: false,
                bulk_media: true,
                media_paused: false,
            }),
        ),
        (
            "ERROR channel_id:pbx1-1.2 error_text:FLUSH_MEDIA not supported in passthrough mode",
            AsteriskEvent::Error {
                text: "FLUSH_MEDIA not supported in passthrough mode".into(),
            },
        ),
        ("SOMETHING_NEW a:b", AsteriskEvent::Unknown("SOMETHING_NEW".into())),
        ("media_xoff", AsteriskEvent::Unknown("media_xoff".into())),
    ];
    for (text, want) in cases {
        assert_eq!(a.on_text(text).unwrap(), want, "{text}");
        if text == "MEDIA_XOFF" {
            assert!(a.is_xoff());
        }
        if text == "MEDIA_XON" {
            assert!(!a.is_xoff());
        }
    }
    assert_eq!(
        a.on_text("DTMF_END").err(),
        Some(WireError::MissingField("digit"))
    );
    assert_eq!(
        a.on_text("DTMF_END digit:Q").err(),
        Some(WireError::BadField("digit"))
    );
    assert_eq!(
        a.on_text("STATUS queue_length:x").err(),
        Some(WireError::BadField("queue_length"))
    );
    assert_eq!(a.on_text("   ").err(), Some(WireError::Empty));
}

#[test]
fn asterisk_json_events() {
    let mut a = AsteriskAdapter::new();
    let start = r#"{
        "event": "MEDIA_START",
        "connection_id": "media_connection1",
        "channel": "WebSocket/media_connection1/0x5140001a0040",
        "channel_id": "1761245643.1",
        "format": "slin16",
        "optimal_frame_size": 640,
        "ptime": 20,
        "channel_variables": {
            "DIALEDPEERNUMBER": "media_connection1/c(slin16)",
            "MEDIA_WEBSOCKET_CONNECTION_ID": "media_connection1",
            "MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE": "640"
        }
    }"#;
    let AsteriskEvent::MediaStart(ms) = a.on_text(start).unwrap() else {
        panic!()
    };
    assert_eq!(ms.channel_id, "1761245643.1");
    assert_eq!(ms.optimal_frame_size, 640);
    assert_eq!(ms.channel_variables.len(), 3);
    assert_eq!(
        ms.channel_variables[2],
        ("MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE".into(), "640".into())
    );
    assert_eq!(
        a.audio_format(),
        Some(AudioFormat::L16Le {
            rate: 16000,
            channels: 1
        })
    );
    assert_eq!(a.control_format(), ControlFormat::Json);
    let cases = [
        (
            r##"{"event":"DTMF_END","channel_id":"1761245643.1","digit":"#"}"##,
            AsteriskEvent::DtmfEnd { digit: '#' },
        ),
        (
            r#"{"event":"STATUS","channel_id":"1.1","queue_length":3,"xon_level":800,"xoff_level":900,"queue_full":true,"bulk_media":false,"media_paused":true}"#,
            AsteriskEvent::Status(Status {
                queue_length: 3,
                xon_level: 800,
                xoff_level: 900,
                queue_full: true,
                bulk_media: false,
                media_paused: true,
            }),
        ),
        (
            r#"{"event":"MEDIA_MARK_PROCESSED","channel_id":"1.1","correlation_id":"m-1"}"#,
            AsteriskEvent::MediaMarkProcessed {
                correlation_id: Some("m-1".into()),
            },
        ),
        (
            r#"{"event":"MEDIA_BUFFERING_COMPLETED","channel_id":"1.1","correlation_id":""}"#,
            AsteriskEvent::MediaBufferingCompleted {
                correlation_id: None,
            },
        ),
        (
            r#"{"event":"QUEUE_DRAINED","channel_id":"1.1"}"#,
            AsteriskEvent::QueueDrained,
        ),
        (
            r#"{"event":"MEDIA_XOFF","channel_id":"1.1"}"#,
            AsteriskEvent::MediaXoff,
        ),
        (
            r#"{"event":"ERROR","channel_id":"1.1","error_text":"Unable to parse JSON command"}"#,
            AsteriskEvent::Error {
                text: "Unable to parse JSON command".into(),
            },
        ),
        (
            r#"{"event":"FUTURE_EVENT","x":[1,2]}"#,
            AsteriskEvent::Unknown("FUTURE_EVENT".into()),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(a.on_text(text).unwrap(), want, "{text}");
    }
    assert_eq!(
        a.on_text(r#"{"channel_id":"1"}"#).err(),
        Some(WireError::MissingField("event"))
    );
    assert!(matches!(
        a.on_text("{\"event\":\"X\""),
        Err(WireError::Json { .. })
    ));
    assert_eq!(
        a.on_text(r#"{"event":"MEDIA_START","format":"slin16","optimal_frame_size":"big"}"#)
            .err(),
        Some(WireError::BadField("optimal_frame_size"))
    );
}

#[test]
fn asterisk_unsupported_format_still_reports_media_start() {
    let mut a = AsteriskAdapter::new();
    let ev = a
        .on_text(
            "MEDIA_START connection_id:x channel:WebSocket/x format:g729 optimal_frame_size:20",
        )
        .unwrap();
    assert!(matches!(ev, AsteriskEvent::MediaStart(ref m) if m.format == "g729"));
    assert_eq!(a.audio_format(), None);
    assert_eq!(
        a.on_binary(&[0; 20]).err(),
        Some(WireError::Unsupported("Asterisk format"))
    );
    // slin16 with a frame size that would split a sample is refused.
    let mut b = AsteriskAdapter::new();
    b.on_text("MEDIA_START format:slin16 optimal_frame_size:641")
        .unwrap();
    assert_eq!(
        b.on_binary(&[0; 20]).err(),
        Some(WireError::BadField("optimal_frame_size"))
    );
}

#[test]
fn asterisk_media_is_reframed_whatever_the_message_sizes() {
    let mut rng = Rng(99);
    let stream: Vec<u8> = (0..50_000).map(|_| rng.next_u64() as u8).collect();
    for (format, frame) in [
        ("slin16", 640usize),
        ("ulaw", 160),
        ("slin", 320),
        ("g722", 160),
    ] {
        let mut a = AsteriskAdapter::new();
        a.on_text(&format!(
            "MEDIA_START connection_id:c channel:WebSocket/c format:{format} optimal_frame_size:{frame} ptime:20"
        ))
        .unwrap();
        assert_eq!(a.frame_bytes(), Some(frame));
        let mut out = Vec::new();
        let mut frames = 0;
        let mut at = 0;
        while at < stream.len() {
            let n = (1 + rng.below(1500)).min(stream.len() - at);
            let r = a.on_binary(&stream[at..at + n]).unwrap();
            assert_eq!(r.len() % frame, 0);
            for unit in r.units(frame) {
                assert_eq!(unit.len(), frame);
                out.extend_from_slice(unit);
                frames += 1;
            }
            at += n;
            assert_eq!(out.len() + a.pending_media().len(), at);
            assert!(a.pending_media().len() < frame);
        }
        let whole = stream.len() / frame * frame;
        assert_eq!(frames, stream.len() / frame);
        assert_eq!(out, stream[..whole]);
        assert_eq!(a.pending_media(), &stream[whole..]);
    }
    // Passthrough (opus): each message is one frame, untouched.
    let mut a = AsteriskAdapter::new();
    a.on_text(
        "MEDIA_START connection_id:c channel:WebSocket/c format:opus optimal_frame_size:0 ptime:20",
    )
    .unwrap();
    assert_eq!(a.frame_bytes(), None);
    let r = a.on_binary(&stream[..77]).unwrap();
    assert_eq!((r.head, r.body), (&[][..], &stream[..77]));
    // Configured up front: media before MEDIA_START is accepted.
    let mut b = AsteriskAdapter::with_format("alaw", 160).unwrap();
    assert_eq!(b.on_binary(&stream[..400]).unwrap().len(), 320);
    assert!(AsteriskAdapter::with_format("mp3", 160).is_err());
}

#[test]
fn asterisk_commands_plain_and_json() {
    let mut s = String::new();
    let cases = [
        (Command::Answer, "ANSWER", r#"{"command":"ANSWER"}"#),
        (Command::Hangup, "HANGUP", r#"{"command":"HANGUP"}"#),
        (
            Command::FlushMedia,
            "FLUSH_MEDIA",
            r#"{"command":"FLUSH_MEDIA"}"#,
        ),
        (
            Command::StartMediaBuffering,
            "START_MEDIA_BUFFERING",
            r#"{"command":"START_MEDIA_BUFFERING"}"#,
        ),
        (
            Command::StopMediaBuffering(Some("61ea9311-d501-46e5-8825-017b342b39f2")),
            "STOP_MEDIA_BUFFERING 61ea9311-d501-46e5-8825-017b342b39f2",
            r#"{"command":"STOP_MEDIA_BUFFERING","correlation_id":"61ea9311-d501-46e5-8825-017b342b39f2"}"#,
        ),
        (
            Command::StopMediaBuffering(None),
            "STOP_MEDIA_BUFFERING",
            r#"{"command":"STOP_MEDIA_BUFFERING"}"#,
        ),
        (
            Command::MarkMedia(Some("m1")),
            "MARK_MEDIA m1",
            r#"{"command":"MARK_MEDIA","correlation_id":"m1"}"#,
        ),
        (
            Command::PauseMedia,
            "PAUSE_MEDIA",
            r#"{"command":"PAUSE_MEDIA"}"#,
        ),
        (
            Command::ContinueMedia,
            "CONTINUE_MEDIA",
            r#"{"command":"CONTINUE_MEDIA"}"#,
        ),
        (
            Command::GetStatus,
            "GET_STATUS",
            r#"{"command":"GET_STATUS"}"#,
        ),
        (
            Command::ReportQueueDrained,
            "REPORT_QUEUE_DRAINED",
            r#"{"command":"REPORT_QUEUE_DRAINED"}"#,
        ),
        (
            Command::SetMediaDirection(Direction::In),
            "SET_MEDIA_DIRECTION in",
            r#"{"command":"SET_MEDIA_DIRECTION","direction":"in"}"#,
        ),
    ];
    for (cmd, plain, js) in cases {
        cmd.write(ControlFormat::PlainText, &mut s).unwrap();
        assert_eq!(s, plain);
        cmd.write(ControlFormat::Json, &mut s).unwrap();
        assert_eq!(s, js);
    }
    let long = "x".repeat(120);
    assert_eq!(
        Command::MarkMedia(Some(&long)).write(ControlFormat::PlainText, &mut s),
        Err(WireError::TooLarge {
            len: 131,
            max: voxlet::wire::asterisk::MAX_COMMAND_LEN
        })
    );
    for bad in ["", " a", "a\nb"] {
        assert_eq!(
            Command::MarkMedia(Some(bad)).write(ControlFormat::Json, &mut s),
            Err(WireError::BadField("correlation_id"))
        );
    }
    // The adapter answers in the format Asterisk uses.
    let mut a = AsteriskAdapter::new();
    a.command(Command::FlushMedia, &mut s).unwrap();
    assert_eq!(s, "FLUSH_MEDIA");
    a.on_text(r#"{"event":"MEDIA_START","format":"ulaw","optimal_frame_size":160}"#)
        .unwrap();
    a.command(Command::FlushMedia, &mut s).unwrap();
    assert_eq!(s, r#"{"command":"FLUSH_MEDIA"}"#);
}

// ---------------------------------------------------------------- L16 metadata

#[test]
fn l16_metadata_variants() {
    let cases = [
        (
            r#"{"callSid":"b4a4c0e3","from":"+15083084809","to":"+15083728299","sampleRate":16000,"mixType":"mono","direction":"inbound"}"#,
            16000,
            1,
        ),
        (
            r#"{"callSid":"x","sampleRate":"8000","mixType":"stereo"}"#,
            8000,
            2,
        ),
        (
            r#"{"audio":{"sampleRate":24000,"channels":1},"id":"x"}"#,
            24000,
            1,
        ),
        (
            r#"{"event":"websocket:connected","content-type":"audio/l16;rate=16000"}"#,
            16000,
            1,
        ),
        (r#"{"sample_rate":64000}"#, 64000, 1),
    ];
    for (meta, rate, ch) in cases {
        let mut a = L16MetaAdapter::new();
        match a.on_text(meta).unwrap() {
            L16Item::Metadata(m) => {
                assert_eq!((m.sample_rate, m.channels), (rate, ch), "{meta}");
                assert_eq!(m.json, meta);
                assert_eq!(m.audio_format(), AudioFormat::L16Le { rate, channels: ch });
            }
            other => panic!("{other:?}"),
        }
    }
    let mut a = L16MetaAdapter::new();
    assert_eq!(
        a.on_text(r#"{"callSid":"x"}"#).err(),
        Some(WireError::MissingField("sampleRate"))
    );
    assert_eq!(
        a.on_text(r#"{"sampleRate":4000}"#).err(),
        Some(WireError::Unsupported("sample rate"))
    );
    assert_eq!(
        a.on_text(r#"{"sampleRate":8000,"channels":6}"#).err(),
        Some(WireError::Unsupported("channel count"))
    );
    assert_eq!(
        a.on_text(r#"{"sampleRate":"fast"}"#).err(),
        Some(WireError::BadField("sampleRate"))
    );
    assert!(matches!(a.on_text("not json"), Err(WireError::Json { .. })));
    let mut d = L16MetaAdapter::with_default_rate(16000);
    assert!(matches!(
        d.on_text(r#"{"callSid":"x","custom":{"k":"v"}}"#),
        Ok(L16Item::Metadata(m)) if m.sample_rate == 16000
    ));
    // Later text messages pass through, validated.
    assert_eq!(
        d.on_text(r#"{"type":"killAudio"}"#).unwrap(),
        L16Item::Text(r#"{"type":"killAudio"}"#)
    );
    assert!(matches!(d.on_text("{oops"), Err(WireError::Json { .. })));
}

#[test]
fn l16_binary_before_metadata_is_an_error() {
    let mut a = L16MetaAdapter::new();
    assert_eq!(a.on_binary(&[0; 320]).err(), Some(WireError::NotStarted));
    a.on_text(r#"{"sampleRate":8000}"#).unwrap();
    assert!(matches!(a.on_binary(&[0; 320]), Ok(L16Item::Audio(x)) if x.len() == 320));
    assert_eq!(a.on_binary(&[]).err(), Some(WireError::Empty));
    a.reset();
    assert_eq!(a.on_binary(&[0; 2]).err(), Some(WireError::NotStarted));
}

#[test]
fn l16_odd_byte_counts_carry_the_dangling_byte() {
    let samples: Vec<i16> = SPEECH_8K
        .chunks_exact(2)
        .take(8000)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    for ch in [1u16, 2] {
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut a = L16MetaAdapter::new();
        a.on_text(&format!(r#"{{"sampleRate":16000,"channels":{ch}}}"#))
            .unwrap();
        let mut rng = Rng(7 + ch as u64);
        let mut got: Vec<f32> = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let n = (1 + rng.below(333)).min(bytes.len() - at);
            let L16Item::Audio(au) = a.on_binary(&bytes[at..at + n]).unwrap() else {
                panic!()
            };
            assert_eq!(au.len() % (2 * ch as usize), 0);
            got.extend(au.samples());
            at += n;
            assert_eq!(got.len() * 2 + a.pending_bytes(), at);
        }
        assert_eq!(a.pending_bytes(), 0);
        let want: Vec<f32> = samples.iter().map(|&s| s as f32 / 32768.0).collect();
        assert_eq!(got, want);
    }
    // A single byte, then the rest of the sample.
    let mut a = L16MetaAdapter::new();
    a.on_text(r#"{"sampleRate":8000}"#).unwrap();
    assert!(matches!(a.on_binary(&[0x34]), Ok(L16Item::Audio(x)) if x.is_empty()));
    assert_eq!(a.pending_bytes(), 1);
    let L16Item::Audio(x) = a.on_binary(&[0x12, 0xFF]).unwrap() else {
        panic!()
    };
    assert_eq!(x.samples().collect::<Vec<_>>(), [0x1234 as f32 / 32768.0]);
    assert_eq!(a.pending_bytes(), 1);
}

#[test]
fn l16_encode_is_little_endian_and_exact() {
    let mut out = Vec::new();
    encode_l16_le(&[0.0, -1.0, 0x1234 as f32 / 32768.0, 2.0], &mut out);
    assert_eq!(out, [0, 0, 0x00, 0x80, 0x34, 0x12, 0xFF, 0x7F]);
}

// ---------------------------------------------------------------- raw RTP

#[test]
fn raw_rtp_validates_and_builds() {
    let hdr = RtpHeader {
        marker: true,
        payload_type: 0,
        sequence: 4242,
        timestamp: 160_000,
        ssrc: 0xDEAD_BEEF,
        ..Default::default()
    };
    let mut buf = [0u8; 256];
    let n = RawRtp::build(&hdr, &[0xFF; 160], &mut buf).unwrap();
    assert_eq!(n, 172);
    let mut a = RawRtp::new();
    match a.on_binary(&buf[..n]).unwrap() {
        RawItem::Rtp(p) => {
            assert_eq!(p.sequence(), 4242);
            assert_eq!(p.timestamp(), 160_000);
            assert_eq!(p.ssrc(), 0xDEAD_BEEF);
            assert!(p.marker());
            assert_eq!(p.payload(), &[0xFF; 160][..]);
        }
        other => panic!("{other:?}"),
    }
    // RTCP receiver report muxed on the same channel.
    let rr = [0x80, 201, 0, 1, 0xDE, 0xAD, 0xBE, 0xEF];
    assert_eq!(a.on_binary(&rr).unwrap(), RawItem::Rtcp(&rr));
    assert_eq!(
        a.on_binary(&[0x80, 200, 0]).err(),
        Some(WireError::Rtp(RtpError::Truncated))
    );
    assert_eq!(
        a.on_binary(&buf[..5]).err(),
        Some(WireError::Rtp(RtpError::Truncated))
    );
    assert_eq!(
        a.on_binary(&[0x40; 20]).err(),
        Some(WireError::Rtp(RtpError::BadVersion(1)))
    );
    assert_eq!(a.on_binary(&[]).err(), Some(WireError::Empty));
    assert_eq!(a.on_text("hello").err(), Some(WireError::UnexpectedText));
    let mut small = RawRtp::with_max_packet(100);
    assert_eq!(
        small.on_binary(&buf[..n]).err(),
        Some(WireError::TooLarge { len: 172, max: 100 })
    );
    let st = a.stats();
    assert_eq!((st.rtp, st.rtcp, st.errors), (1, 1, 5));
    assert_eq!(
        RawRtp::build(&hdr, &[0; 160], &mut [0u8; 20]).err(),
        Some(WireError::Rtp(RtpError::BufferTooSmall))
    );
}

#[test]
fn reframer_take_pending_and_reset() {
    let mut r = Reframer::new(4);
    assert!(r.push(&[1, 2, 3]).is_empty());
    let out = r.push(&[4, 5, 6, 7, 8, 9, 10]);
    assert_eq!((out.head, out.body), (&[1, 2, 3, 4][..], &[5, 6, 7, 8][..]));
    assert_eq!(r.pending(), &[9, 10]);
    assert_eq!(r.take_pending(), &[9, 10]);
    assert!(r.pending().is_empty());
    r.push(&[1]);
    r.reset();
    assert_eq!(r.push(&[1, 2, 3, 4]).body, &[1, 2, 3, 4]);
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(0xC0FFEE);
    let mut tw = TwilioAdapter::new();
    let mut ast = AsteriskAdapter::with_format("slin16", 640).unwrap();
    let mut l16 = L16MetaAdapter::with_default_rate(8000);
    let mut raw = RawRtp::new();
    let alphabet = br#"{}[]":,0123456789.eE+-truefalsnl \/u"abcMEDIA_START:event"#;
    for i in 0..3000 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let text: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())] as char)
            .collect();
        let _ = tw.on_text(&text);
        let _ = ast.on_text(&text);
        let _ = l16.on_text(&text);
        let _ = ast.on_binary(&bytes);
        let _ = l16.on_binary(&bytes);
        let _ = raw.on_binary(&bytes);
        if i % 100 == 0 {
            let _ = json::parse(&text);
        }
    }
}
