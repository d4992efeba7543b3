//! RFC 3389 comfort noise: the payload, the generator against ffmpeg's CN
//! codec, and the receiver playing CN in the pauses of a G.711 stream.
//!
//! Fixtures (tests/fixtures/gen.sh): ffmpeg's CN encoder run on brown
//! (low-pass) and blue (high-pass) noise at 8 kHz, 80 ms per payload
//! (`cn_<colour>.bin`), and ffmpeg's decode of those payloads
//! (`cn_<colour>_ffmpeg.s16le`).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::codec::comfort_noise::{CnPayload, ComfortNoise, MAX_ORDER};
use voxlet::codec::g711::PcmuEncoder;
use voxlet::codec::{CodecKind, Encoder, Registry};
use voxlet::receiver::PushOutcome;
use voxlet::rtp::RtpHeader;
use voxlet::{Receiver, ReceiverConfig};
use voxlet_support::signal::{db, rms, s16le_f32 as s16le};

static BROWN: &[u8] = include_bytes!("fixtures/cn_brown.bin");
static BROWN_FFMPEG: &[u8] = include_bytes!("fixtures/cn_brown_ffmpeg.s16le");
static BLUE: &[u8] = include_bytes!("fixtures/cn_blue.bin");
static BLUE_FFMPEG: &[u8] = include_bytes!("fixtures/cn_blue_ffmpeg.s16le");

/// ffmpeg's CN frame: 80 ms at 8 kHz.
const FRAME: usize = 640;

fn payloads(bin: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut s = bin;
    while let Some((&n, rest)) = s.split_first() {
        let (p, rest) = rest.split_at(n as usize);
        out.push(p);
        s = rest;
    }
    out
}

/// Power in 16 equal bands from 0 to 4 kHz (256-point Hann-windowed DFT
/// frames, averaged), normalised to sum 1, in dB.
fn band_shape(x: &[f32]) -> [f64; 16] {
    let n = 256;
    let mut bands = [0f64; 16];
    for frame in x.chunks_exact(n) {
        for k in 0..128 {
            let (mut re, mut im) = (0f64, 0f64);
            for (i, &v) in frame.iter().enumerate() {
                let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
                let a = 2.0 * std::f64::consts::PI * (k * i) as f64 / n as f64;
                re += f64::from(v) * w * a.cos();
                im -= f64::from(v) * w * a.sin();
            }
            bands[k / 8] += re * re + im * im;
        }
    }
    let total: f64 = bands.iter().sum();
    bands.map(|b| 10.0 * (b / total).log10())
}

fn generate(bin: &[u8]) -> Vec<f32> {
    let mut g = ComfortNoise::new();
    let mut out = Vec::new();
    for p in payloads(bin) {
        g.update(&CnPayload::parse(p).unwrap());
        let mut frame = vec![0f32; FRAME];
        g.generate(&mut frame);
        out.extend_from_slice(&frame);
    }
    out
}

#[test]
fn payload_parse_and_write() {
    let p = CnPayload::parse(&[0x23, 0x03, 0x89, 0xFF, 0x00]).unwrap();
    assert_eq!(p.level_dbov, 35);
    let k = p.reflection_coefficients();
    assert_eq!(k.len(), 4);
    assert_eq!(k, &[-124.0 / 128.0, 10.0 / 128.0, 1.0, -127.0 / 128.0]);
    let mut out = [0u8; 8];
    let n = p.write(&mut out).unwrap();
    assert_eq!(&out[..n], &[0x23, 0x03, 0x89, 0xFF, 0x00]);
    assert!(p.write(&mut out[..3]).is_err());
    // Level only (the RFC 1890 draft form); the unused top bit is ignored.
    let p = CnPayload::parse(&[0x80 | 40]).unwrap();
    assert_eq!((p.level_dbov, p.reflection_coefficients().len()), (40, 0));
    assert!((p.rms() - 0.01).abs() < 1e-6);
    assert!(CnPayload::parse(&[]).is_err());
    // More coefficients than the model order kept: the rest are ignored.
    let long = [30u8; 1 + MAX_ORDER + 4];
    assert_eq!(
        CnPayload::parse(&long)
            .unwrap()
            .reflection_coefficients()
            .len(),
        MAX_ORDER
    );
}

#[test]
fn generator_plays_the_signalled_level() {
    for (level, refl) in [
        (20u8, &[][..]),
        (40, &[][..]),
        (60, &[][..]),
        (40, &[-0.9f32, 0.3][..]),
        (40, &[0.8f32, -0.2, 0.1][..]),
    ] {
        let p = CnPayload::new(level, refl);
        let mut g = ComfortNoise::new();
        g.update(&p);
        let mut x = vec![0f32; 16000];
        g.generate(&mut x);
        let err = db(rms(&x[800..])) - db(f64::from(p.rms()));
        assert!(err.abs() < 0.4, "level {level} refl {refl:?}: {err:+.2} dB");
    }
    // Silent until the first payload.
    let mut x = [1f32; 64];
    ComfortNoise::new().generate(&mut x);
    assert_eq!(x, [0f32; 64]);
}

/// Hostile coefficient bytes (all 0, all 255, alternating: poles on or near
/// the unit circle at order 16) still give noise at the signalled level,
/// never full-scale: the model's order stops at 40 dB of prediction gain.
#[test]
fn hostile_coefficients_stay_at_the_level() {
    let alternating: Vec<u8> = (0..16).map(|i| if i % 2 == 0 { 0 } else { 255 }).collect();
    for (name, coefs) in [
        ("all 0", vec![0u8; 16]),
        ("all 255", vec![255u8; 16]),
        ("all 254", vec![254u8; 16]),
        ("alternating", alternating),
    ] {
        for level in [20u8, 60, 127] {
            let mut bytes = vec![level];
            bytes.extend_from_slice(&coefs);
            let p = CnPayload::parse(&bytes).unwrap();
            let mut g = ComfortNoise::new();
            g.update(&p);
            let mut x = vec![0f32; 48000];
            g.generate(&mut x);
            assert!(x.iter().all(|v| v.is_finite()));
            let err = db(rms(&x[8000..]).max(1e-12)) - db(f64::from(p.rms()));
            assert!(err.abs() < 3.0, "{name}, level {level}: {err:+.1} dB");
        }
    }
}

/// ffmpeg's decoder plays CN 6.02 dB below the signalled level (its
/// uniform excitation has power 1/3 and it scales energy by 0.75: power
/// ×1/4); voxlet plays the level RFC 3389 defines (0 dBov = full-scale
/// square wave), which is the level ffmpeg's own encoder measured. Same
/// spectral envelope (reflection coefficients read and filtered the same
/// way): normalised band powers within 2 dB.
#[test]
fn matches_ffmpeg_shape_at_the_rfc_level() {
    for (name, bin, reference) in [("brown", BROWN, BROWN_FFMPEG), ("blue", BLUE, BLUE_FFMPEG)] {
        let ours = generate(bin);
        let theirs = s16le(reference);
        assert_eq!(ours.len(), theirs.len(), "{name}");
        let offset = db(rms(&ours)) - db(rms(&theirs));
        assert!(
            (offset - 6.02).abs() < 0.5,
            "{name}: voxlet {offset:+.2} dB vs ffmpeg (expected +6.02)"
        );
        let (a, b) = (band_shape(&ours), band_shape(&theirs));
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f64, f64::max);
        assert!(worst < 2.0, "{name}: band shapes {a:.1?} vs {b:.1?}");
        // The shape is strongly coloured (so the check above has teeth):
        // brown falls and blue rises by well over 10 dB across the band.
        let tilt = a[15] - a[0];
        assert!(
            if name == "brown" {
                tilt < -10.0
            } else {
                tilt > 10.0
            },
            "{name}: tilt {tilt:.1} dB"
        );
    }
}

/// PCMU speech-like tone, then a CN packet and a 1 s pause, then the tone
/// again: the pause plays noise at the CN level, nothing counts as lost or
/// concealed, and the audio after it plays normally. Rendered at 48 kHz
/// stereo (noise resampled, in both channels).
#[test]
fn receiver_plays_cn_in_the_pause() {
    let mut reg = Registry::empty();
    reg.insert_rtpmap(0, "PCMU/8000").unwrap();
    reg.insert_rtpmap(13, "CN/8000").unwrap();
    assert_eq!(reg.get(13).map(|i| i.kind), Some(CodecKind::ComfortNoise));
    assert_eq!(
        Registry::with_static().get(13).map(|i| i.kind),
        Some(CodecKind::ComfortNoise)
    );
    let mut rx = Receiver::new(ReceiverConfig {
        registry: reg,
        output_rate: 48000,
        output_channels: 2,
        ..ReceiverConfig::default()
    })
    .unwrap();

    let mut enc = PcmuEncoder::new();
    let tone: Vec<f32> = (0..160)
        .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 400.0 * i as f32 / 8000.0).sin())
        .collect();
    let mut payload = [0u8; 160];
    enc.encode(&tone, &mut payload).unwrap();
    let mut pkt = [0u8; 200];
    // Packets: 50 audio (1 s), CN at t = 1 s, audio again from t = 2 s.
    let mut sched: Vec<(f64, Vec<u8>)> = Vec::new();
    let mut seq = 100u16;
    let mut push = |ts: u32, pt: u8, marker: bool, body: &[u8], at: f64| {
        let h = RtpHeader {
            payload_type: pt,
            marker,
            sequence: seq,
            timestamp: ts,
            ssrc: 9,
            ..RtpHeader::default()
        };
        let n = h.write(body, &mut pkt).unwrap();
        sched.push((at, pkt[..n].to_vec()));
        seq = seq.wrapping_add(1);
    };
    for i in 0..50u32 {
        push(i * 160, 0, i == 0, &payload, f64::from(i) * 20.0);
    }
    push(50 * 160, 13, false, &[40], 1000.0); // −40 dBov, white
    for i in 100..150u32 {
        push(i * 160, 0, i == 100, &payload, f64::from(i) * 20.0);
    }

    let (mut left, mut right) = (Vec::new(), Vec::new());
    let mut buf = [0f32; 256];
    let mut k = 0;
    // Until the last packet (sent at 2980 ms) has played: after it the
    // stream just ends, and that is concealed.
    for q in 0..1120 {
        let t = f64::from(q) * 128.0 * 1000.0 / 48000.0;
        while k < sched.len() && sched[k].0 <= t {
            let r = rx.push(&sched[k].1, sched[k].0).unwrap();
            if sched[k].1[1] & 0x7F == 13 {
                assert_eq!(r, PushOutcome::ComfortNoise);
            }
            k += 1;
        }
        rx.render(&mut buf, t);
        for f in buf.chunks_exact(2) {
            left.push(f[0]);
            right.push(f[1]);
        }
    }
    assert_eq!(left, right, "the same noise in both channels");
    let s = rx.stats();
    assert_eq!(s.errors.total(), 0);
    assert_eq!(s.packets_lost, 0);
    assert_eq!(s.concealed_samples, 0, "a CN pause is not a loss");
    // The pause: from 1.2 s to 1.9 s of output (the playout delay is under
    // 200 ms) the signal is noise at −40 dBov.
    let pause = &left[(1.2 * 48000.0) as usize..(1.9 * 48000.0) as usize];
    let level = db(rms(pause));
    assert!((level + 40.0).abs() < 1.0, "pause at {level:.1} dBFS");
    assert!(
        s.comfort_samples > 40000,
        "comfort samples {}",
        s.comfort_samples
    );
    // And the tone is back after it (≈ −13.5 dBFS RMS for 0.3 peak).
    let after = &left[(2.4 * 48000.0) as usize..(2.9 * 48000.0) as usize];
    assert!(
        db(rms(after)) > -16.0,
        "after the pause: {:.1} dBFS",
        db(rms(after))
    );
}

/// Without a CN packet the same pause is digital silence.
#[test]
fn receiver_without_cn_pauses_in_silence() {
    let mut reg = Registry::empty();
    reg.insert_rtpmap(0, "PCMU/8000").unwrap();
    let mut rx = Receiver::new(ReceiverConfig {
        registry: reg,
        output_rate: 8000,
        output_channels: 1,
        ..ReceiverConfig::default()
    })
    .unwrap();
    let payload = [0x15u8; 160]; // a loud constant
    let mut pkt = [0u8; 200];
    let mut out = Vec::new();
    let mut buf = [0f32; 160];
    let mut seq = 0u16;
    for step in 0..150u32 {
        let t = f64::from(step) * 20.0;
        if !(50..100).contains(&step) {
            let h = RtpHeader {
                payload_type: 0,
                marker: step == 100,
                sequence: seq,
                timestamp: step * 160,
                ssrc: 9,
                ..RtpHeader::default()
            };
            let n = h.write(&payload, &mut pkt).unwrap();
            rx.push(&pkt[..n], t).unwrap();
            seq += 1;
        }
        rx.render(&mut buf, t);
        out.extend_from_slice(&buf);
    }
    assert!(out[1200 * 8..1900 * 8].iter().all(|&v| v == 0.0));
}
