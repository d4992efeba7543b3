//! Codec speed, natively and in wasm, as x-realtime (seconds of audio coded
//! per second of CPU), on the committed speech fixtures in 20 ms packets.
//!
//! `bash scripts/bench-codecs.sh` runs it both ways and prints one table.
//! Native: `cargo run --release --example bench_codecs`. In wasm the same code
//! is built for wasm32, bound with wasm-bindgen and run in Node (`bench()`).

use voxlet::codec::{i16_to_f32, CodecInfo, CodecKind, EncoderSettings};

fn speech(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(2)
        .map(|b| i16_to_f32(i16::from_le_bytes([b[0], b[1]])))
        .collect()
}

#[cfg(not(target_arch = "wasm32"))]
fn now_s() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static T0: OnceLock<Instant> = OnceLock::new();
    T0.get_or_init(Instant::now).elapsed().as_secs_f64()
}

#[cfg(target_arch = "wasm32")]
fn now_s() -> f64 {
    js_sys::Date::now() / 1000.0
}

/// Runs `f` until at least `min_s` seconds passed; returns seconds per call.
fn time<F: FnMut()>(min_s: f64, mut f: F) -> f64 {
    f(); // warm-up
    let (t0, mut n) = (now_s(), 0u32);
    while now_s() - t0 < min_s || n < 3 {
        f();
        n += 1;
    }
    (now_s() - t0) / n as f64
}

/// One line per codec: name, encode x-realtime, decode x-realtime.
pub fn run() -> Vec<(String, f64, f64)> {
    let s8 = speech(include_bytes!("../tests/fixtures/speech_8k.s16le"));
    let s16 = speech(include_bytes!("../tests/fixtures/speech_16k.s16le"));
    let s48 = speech(include_bytes!("../tests/fixtures/speech_48k.s16le"));
    let cases: [(&str, CodecKind, u32, &[f32]); 5] = [
        ("PCMU", CodecKind::Pcmu, 8000, &s8),
        ("PCMA", CodecKind::Pcma, 8000, &s8),
        ("G.722", CodecKind::G722, 8000, &s16),
        ("L16/16000", CodecKind::L16, 16000, &s16),
        ("Opus 32k VOIP", CodecKind::Opus, 48000, &s48),
    ];
    let mut rows = Vec::new();
    for (name, kind, clock, pcm) in cases {
        let info = match CodecInfo::new(kind, clock, 1) {
            Ok(i) => i,
            Err(e) => panic!("{name}: {e}"),
        };
        let frame = info.sample_rate as usize / 50;
        let pcm = &pcm[..pcm.len() / frame * frame];
        let audio_s = pcm.len() as f64 / info.sample_rate as f64;
        let settings = EncoderSettings::default();
        let mut enc = info.encoder(&settings).expect("encoder");
        let mut out = vec![0u8; enc.max_payload(frame)];
        let mut packets: Vec<Vec<u8>> = Vec::new();
        for f in pcm.chunks_exact(frame) {
            let n = enc.encode(f, &mut out).expect("encode");
            packets.push(out[..n].to_vec());
        }
        let enc_s = time(0.5, || {
            enc.reset();
            for f in pcm.chunks_exact(frame) {
                let _ = enc.encode(f, &mut out);
            }
        });
        let mut dec = info.decoder().expect("decoder");
        let mut pcm_out = vec![0f32; dec.max_frames()];
        let dec_s = time(0.5, || {
            dec.reset();
            for p in &packets {
                let _ = dec.decode(p, &mut pcm_out);
            }
        });
        rows.push((name.to_string(), audio_s / enc_s, audio_s / dec_s));
    }
    rows
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    println!("codec,encode_x_realtime,decode_x_realtime");
    for (name, e, d) in run() {
        println!("{name},{e:.0},{d:.0}");
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

/// Runs the benchmark in wasm and returns the same CSV as the native `main`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench() -> String {
    let mut s = String::from("codec,encode_x_realtime,decode_x_realtime\n");
    for (name, e, d) in run() {
        s += &format!("{name},{e:.0},{d:.0}\n");
    }
    s
}
