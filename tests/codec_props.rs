#![cfg(not(target_arch = "wasm32"))]
//! Property tests: no byte string, output size, sample value or frame count
//! makes any codec in the registry panic. Payload bytes come off the network,
//! so every decoder is fed garbage; encoders get NaN, ±inf and odd lengths.

use proptest::prelude::*;
use voxlet::codec::telephone_event::{events, TelephoneEvent};
use voxlet::codec::{f32_to_i16, i16_to_f32};
use voxlet::{CodecError, CodecInfo, CodecKind, EncoderSettings};

/// Every audio configuration the registry hands out.
fn configs() -> Vec<CodecInfo> {
    let c = |k, r, ch| CodecInfo::new(k, r, ch).unwrap();
    let opus = c(CodecKind::Opus, 48000, 2);
    vec![
        c(CodecKind::Pcmu, 8000, 1),
        c(CodecKind::Pcma, 8000, 1),
        c(CodecKind::G722, 8000, 1),
        c(CodecKind::L16, 8000, 1),
        c(CodecKind::L16, 48000, 2),
        opus,
        opus.with_channels(1).unwrap(),
    ]
}

/// G.711 and L16 are also held to exact results, not only to not panicking.
fn is_pcm(info: &CodecInfo) -> bool {
    matches!(
        info.kind,
        CodecKind::Pcmu | CodecKind::Pcma | CodecKind::L16
    )
}

fn sample() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => -1.0f32..1.0,
        1 => -4.0f32..4.0,
        1 => proptest::num::f32::ANY,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => Just(-0.0f32),
    ]
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::collection::vec(any::<u8>(), 0..2000),
        proptest::collection::vec(any::<u8>(), 8000..8010),
    ]
}

/// Frame counts no caller should pass, but a `usize` allows: no overflow.
#[test]
fn extreme_frame_counts_never_panic() {
    for info in configs() {
        let ch = info.channels as usize;
        if let Ok(mut dec) = info.decoder() {
            let mut out = vec![0f32; dec.max_frames() * ch];
            for frames in [usize::MAX, usize::MAX / 2, usize::MAX / ch, 1 << 40] {
                let _ = dec.conceal(frames, &mut out);
                let _ = dec.decode_fec(&[0xFC, 0xFF, 0xFE], frames, &mut out);
            }
        }
        if let Ok(enc) = info.encoder(&EncoderSettings::default()) {
            for frames in [usize::MAX, usize::MAX / 2, usize::MAX / ch, 1 << 40] {
                let _ = enc.accepts_frames(frames);
                let _ = enc.max_payload(frames);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic(
        p in payload(),
        out_len in prop_oneof![0usize..64, 0usize..20_000],
        conceal_frames in prop_oneof![0usize..10_000, 0usize..10_000_000],
    ) {
        for info in configs() {
            let Ok(mut dec) = info.decoder() else { continue };
            let ch = info.channels as usize;
            let mut out = vec![0f32; out_len];
            let max = dec.max_frames();
            let frames = dec.frames_in(&p);
            let decoded = dec.decode(&p, &mut out);
            if let Ok(n) = decoded {
                prop_assert!(n * ch <= out.len(), "{:?}", info);
            }
            if is_pcm(&info) {
                match (&frames, &decoded) {
                    (Ok(n), Ok(m)) => {
                        prop_assert_eq!(n, m);
                        prop_assert!(*n <= max, "{:?}: {} > max_frames {}", info, n, max);
                        prop_assert!(out[..n * ch].iter().all(|x| (-1.0..1.0).contains(x)));
                    }
                    (Ok(n), Err(e)) => prop_assert_eq!(
                        *e,
                        CodecError::OutputTooSmall { needed: n * ch, got: out.len() }
                    ),
                    (Err(a), Err(b)) => prop_assert_eq!(a, b),
                    (Err(_), Ok(_)) => prop_assert!(false, "frames_in rejected what decode took"),
                }
            }
            let _ = dec.has_fec(&p);
            let _ = dec.decode_fec(&p, conceal_frames, &mut out);
            let _ = dec.conceal(conceal_frames, &mut out);
            dec.reset();
            let _ = dec.decode(&p, &mut out);
        }
    }

    #[test]
    fn encoders_never_panic(
        seed in proptest::collection::vec(sample(), 1..256),
        len in prop_oneof![0usize..300, 0usize..6000],
        out_len in prop_oneof![0usize..64, 0usize..30_000],
        frames in prop_oneof![0usize..10_000, 0usize..10_000_000],
    ) {
        // Arbitrary values, repeated to an arbitrary length (generating 6000
        // independent values per case would dominate the run time).
        let pcm: Vec<f32> = seed.iter().copied().cycle().take(len).collect();
        for info in configs() {
            let Ok(mut enc) = info.encoder(&EncoderSettings::default()) else { continue };
            let _ = enc.accepts_frames(frames);
            let _ = enc.max_payload(frames);
            let mut out = vec![0u8; out_len];
            let r = enc.encode(&pcm, &mut out);
            if let Ok(n) = r {
                prop_assert!(n <= out.len());
            }
            if is_pcm(&info) {
                let ch = info.channels as usize;
                let whole = pcm.len() % ch == 0 && enc.accepts_frames(pcm.len() / ch);
                let fits = enc.max_payload(pcm.len() / ch) <= out.len();
                prop_assert_eq!(r.is_ok(), whole && fits, "{:?} {} {}", info, pcm.len(), out.len());
            }
            // Also a frame size the encoder accepts, so the encode path runs.
            if let Some(f) = [960usize, 160, 320, 20].into_iter().find(|&f| enc.accepts_frames(f)) {
                let ch = info.channels as usize;
                let src: Vec<f32> = pcm.iter().copied().cycle().take(f * ch).collect();
                if src.len() == f * ch {
                    let mut out = vec![0u8; enc.max_payload(f).min(100_000)];
                    let _ = enc.encode(&src, &mut out);
                }
            }
            enc.reset();
        }
    }

    #[test]
    fn l16_round_trips_any_samples(s in proptest::collection::vec(any::<i16>(), 1..2000), stereo in any::<bool>()) {
        let ch = if stereo { 2 } else { 1 };
        let s = &s[..s.len() / ch * ch];
        prop_assume!(!s.is_empty());
        let info = CodecInfo::new(CodecKind::L16, 16000, ch as u16).unwrap();
        let mut enc = info.encoder(&EncoderSettings::default()).unwrap();
        let mut dec = info.decoder().unwrap();
        let pcm: Vec<f32> = s.iter().map(|&x| i16_to_f32(x)).collect();
        let mut wire = vec![0u8; s.len() * 2];
        prop_assert_eq!(enc.encode(&pcm, &mut wire), Ok(wire.len()));
        let mut out = vec![0f32; pcm.len()];
        prop_assert_eq!(dec.decode(&wire, &mut out), Ok(s.len() / ch));
        prop_assert!(out.iter().map(|&x| f32_to_i16(x)).eq(s.iter().copied()));
    }

    #[test]
    fn telephone_event_parse_never_panics(p in proptest::collection::vec(any::<u8>(), 0..64)) {
        match TelephoneEvent::parse(&p) {
            Ok(ev) => {
                prop_assert!(p.len() >= 4 && p.len() % 4 == 0);
                prop_assert!(ev.volume <= 63);
                prop_assert_eq!(events(&p).unwrap().count(), p.len() / 4);
                // Writing it back gives the last block with R cleared.
                let mut out = [0u8; 4];
                prop_assert_eq!(ev.write(&mut out), Ok(4));
                let last = &p[p.len() - 4..];
                prop_assert_eq!(out, [last[0], last[1] & !0x40, last[2], last[3]]);
            }
            Err(_) => prop_assert!(p.len() < 4 || p.len() % 4 != 0),
        }
    }
}
