//! JSON metadata then L16 (jambonz / mod_audio_fork / Vonage): a framed
//! sequence of messages (tag even: text, odd: binary); the audio is played
//! in the announced format and its samples read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::wire::l16meta::L16Item;
use voxlet::wire::L16MetaAdapter;
use voxlet_fuzz::{Playout, Reader};

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let mut a = match r.u8() {
        0..=63 => L16MetaAdapter::with_default_rate(r.u16() as u32 * 2),
        _ => L16MetaAdapter::new(),
    };
    if r.bool() {
        a.set_max_message(r.u16() as usize);
    }
    let mut play = Playout::default();
    while let Some((tag, body)) = r.message() {
        if tag & 1 == 1 {
            let ch = a.metadata().map(|m| m.channels as usize).unwrap_or(1);
            let chunk: Option<Vec<u8>> = match a.on_binary(body) {
                Ok(L16Item::Audio(au)) => {
                    assert_eq!((au.head.len() + au.body.len()) % (2 * ch), 0);
                    assert_eq!(au.len(), au.head.len() + au.body.len());
                    assert_eq!(au.samples().count() * 2, au.len());
                    voxlet_fuzz::assert_finite(&au.samples().collect::<Vec<_>>(), "samples");
                    Some([au.head, au.body].concat())
                }
                Ok(other) => panic!("binary gave {other:?}"),
                Err(_) => None,
            };
            if let Some(c) = chunk {
                play.push(&c);
            }
            if tag & 2 == 2 {
                a.reset();
                play.set_format(None);
            }
            continue;
        }
        let text = String::from_utf8_lossy(body);
        if let Ok(L16Item::Metadata(m)) = a.on_text(&text) {
            play.set_format(Some(m.audio_format()));
        }
        let _ = a.pending_bytes();
    }
});
