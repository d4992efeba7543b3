//! Twilio Media Streams adapter: a framed sequence of messages (tag even:
//! text, lossy UTF-8; odd: binary). `start` formats go to a stream
//! player, `media` payloads are played; outbound messages are built and
//! parsed back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::wire::twilio::TwilioEvent;
use voxlet::wire::TwilioAdapter;
use voxlet_fuzz::{Playout, Reader};

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let max = if r.bool() {
        r.u16() as usize
    } else {
        voxlet::wire::DEFAULT_MAX_MESSAGE
    };
    let mut a = TwilioAdapter::with_max_message(max);
    let mut play = Playout::default();
    let mut out = String::new();
    while let Some((tag, body)) = r.message() {
        if tag & 1 == 1 {
            assert!(a.on_binary(body).is_err());
            continue;
        }
        let text = String::from_utf8_lossy(body);
        match a.on_text(&text) {
            Ok(TwilioEvent::Start(s)) => play.set_format(s.media_format.audio_format()),
            Ok(TwilioEvent::Media(m)) => {
                let payload = m.payload.to_vec();
                play.push(&payload);
                // What we would send back must be accepted by the adapter.
                out.clear();
                if a.media_message(&payload, &mut out).is_ok() {
                    match a.on_text(&out) {
                        Ok(TwilioEvent::Media(m2)) => assert_eq!(m2.payload, &payload[..]),
                        Ok(other) => panic!("media came back as {other:?}"),
                        Err(e) => {
                            // Only the size bound may refuse our own message.
                            assert!(out.len() > max, "own media refused: {e:?}");
                        }
                    }
                }
            }
            Ok(_) | Err(_) => {}
        }
        let _ = a.stats();
        if let Some(sid) = a.stream_sid().map(str::to_owned) {
            out.clear();
            let _ = a.mark_message(&sid, &mut out);
            let _ = a.clear_message(&mut out);
        }
    }
});
