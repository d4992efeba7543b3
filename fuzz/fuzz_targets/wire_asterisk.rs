//! Asterisk chan_websocket adapter: the first bytes optionally preset a
//! format, then a framed sequence of messages (tag even: text, odd:
//! binary). Media frames are played in the announced format; commands are
//! written in the control format in use.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::wire::asterisk::{AsteriskEvent, Command, Direction};
use voxlet::wire::AsteriskAdapter;
use voxlet_fuzz::{Playout, Reader};

const FORMATS: [&str; 8] = [
    "ulaw", "alaw", "g722", "opus", "slin", "slin16", "slin48", "gsm",
];

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let preset = r.u8();
    let mut play = Playout::default();
    let mut a = if preset < 64 {
        let f = FORMATS[preset as usize % FORMATS.len()];
        let size = r.u16() as usize;
        match AsteriskAdapter::with_format(f, size) {
            Ok(a) => {
                play.set_format(a.audio_format());
                a
            }
            Err(_) => return,
        }
    } else {
        AsteriskAdapter::new()
    };
    if r.bool() {
        a.set_max_message(r.u16() as usize);
    }
    let mut out = String::new();
    while let Some((tag, body)) = r.message() {
        if tag & 1 == 1 {
            // The reframed media as one chunk; cutting it into frames must
            // not lose bytes beyond a partial last frame of each part.
            let unit = a.frame_bytes().unwrap_or(1);
            let chunk: Option<Vec<u8>> = a.on_binary(body).ok().map(|f| {
                let n: usize = f.units(unit).map(<[u8]>::len).sum();
                assert!(n <= f.len() && f.len() - n < 2 * unit.max(1));
                [f.head, f.body].concat()
            });
            if let Some(c) = chunk {
                play.push(&c);
            }
            if tag & 2 == 2 {
                let _ = a.pending_media();
                a.reset_media();
            }
            continue;
        }
        let text = String::from_utf8_lossy(body);
        if let Ok(AsteriskEvent::MediaStart(_)) = a.on_text(&text) {
            play.set_format(a.audio_format());
        }
        let _ = (a.is_xoff(), a.control_format(), a.media_start());
        out.clear();
        let id = text.get(..text.len().min(16)).unwrap_or("");
        let cmd = match tag >> 1 & 7 {
            0 => Command::MarkMedia(Some(id)),
            1 => Command::StopMediaBuffering(Some(id)),
            2 => Command::SetMediaDirection(Direction::Both),
            3 => Command::GetStatus,
            _ => Command::Answer,
        };
        let _ = a.command(cmd, &mut out);
    }
});
