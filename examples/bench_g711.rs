//! Speed of the G.711 and L16 codecs, in ×-realtime (seconds of audio coded
//! per second of CPU), through the `Decoder`/`Encoder` trait objects (`f32`
//! interface) and through the raw 16-bit G.711 functions.
//!
//!     cargo run --release --example bench_g711

use std::hint::black_box;
use std::time::{Duration, Instant};

use voxlet::codec::g711::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};
use voxlet::codec::i16_to_f32;
use voxlet::{CodecInfo, CodecKind, EncoderSettings};
use voxlet_support::signal::s16le;

const SPEECH_8K: &[u8] = include_bytes!("../tests/fixtures/speech_8k.s16le");
const SPEECH_16K: &[u8] = include_bytes!("../tests/fixtures/speech_16k.s16le");
const SPEECH_48K: &[u8] = include_bytes!("../tests/fixtures/speech_48k.s16le");

/// Runs `f` (which codes `audio_secs` of audio) for about 0.5 s; returns ×-realtime.
fn measure(audio_secs: f64, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < Duration::from_millis(500) {
        f();
        runs += 1;
    }
    audio_secs * runs as f64 / start.elapsed().as_secs_f64()
}

fn report(name: &str, x: f64, samples_per_sec: f64) {
    let ns = 1e9 / (x * samples_per_sec);
    println!("{name:<34} {x:>10.0}x realtime  {ns:>6.2} ns/sample");
}

/// 20 ms packets through the trait objects.
fn bench_codec(name: &str, info: CodecInfo, pcm_i16: &[i16]) {
    let ch = info.channels as usize;
    let frames = info.sample_rate as usize / 50;
    let pcm: Vec<f32> = pcm_i16.iter().map(|&s| i16_to_f32(s)).collect();
    let pcm = &pcm[..pcm.len() / (frames * ch) * frames * ch];
    let secs = (pcm.len() / ch) as f64 / info.sample_rate as f64;
    let sps = (info.sample_rate as usize * ch) as f64;

    let mut enc = info.encoder(&EncoderSettings::default()).unwrap();
    let mut wire = vec![0u8; enc.max_payload(frames) * (pcm.len() / ch / frames)];
    let plen = enc.max_payload(frames);
    let x = measure(secs, || {
        for (src, dst) in pcm.chunks(frames * ch).zip(wire.chunks_mut(plen)) {
            black_box(enc.encode(black_box(src), dst).unwrap());
        }
    });
    report(&format!("{name} encode (f32)"), x, sps);

    let mut dec = info.decoder().unwrap();
    let mut out = vec![0f32; dec.max_frames() * ch];
    let x = measure(secs, || {
        for p in wire.chunks(plen) {
            black_box(dec.decode(black_box(p), &mut out).unwrap());
        }
    });
    report(&format!("{name} decode (f32)"), x, sps);
}

fn bench_raw(name: &str, enc: fn(i16) -> u8, dec: fn(u8) -> i16, pcm: &[i16]) {
    let secs = pcm.len() as f64 / 8000.0;
    let mut bytes = vec![0u8; pcm.len()];
    let x = measure(secs, || {
        for (o, &s) in bytes.iter_mut().zip(black_box(pcm)) {
            *o = enc(s);
        }
        black_box(&bytes);
    });
    report(&format!("{name} encode (i16 fn)"), x, 8000.0);
    let mut back = vec![0i16; pcm.len()];
    let x = measure(secs, || {
        for (o, &b) in back.iter_mut().zip(black_box(&bytes)) {
            *o = dec(b);
        }
        black_box(&back);
    });
    report(&format!("{name} decode (i16 fn)"), x, 8000.0);
}

fn main() {
    let s8 = s16le(SPEECH_8K);
    let s16 = s16le(SPEECH_16K);
    let s48: Vec<i16> = s16le(SPEECH_48K).iter().flat_map(|&s| [s, s]).collect();
    let c = |k, r, ch| CodecInfo::new(k, r, ch).unwrap();
    bench_codec("PCMU", c(CodecKind::Pcmu, 8000, 1), &s8);
    bench_codec("PCMA", c(CodecKind::Pcma, 8000, 1), &s8);
    bench_codec("L16/16000/1", c(CodecKind::L16, 16000, 1), &s16);
    bench_codec("L16/48000/2", c(CodecKind::L16, 48000, 2), &s48);
    bench_raw("PCMU", linear_to_ulaw, ulaw_to_linear, &s8);
    bench_raw("PCMA", linear_to_alaw, alaw_to_linear, &s8);
}
