//! Measures G.722 encode and decode speed as multiples of real time.
//!
//! `cargo run --release --example bench_g722`

use std::hint::black_box;
use std::time::Instant;

use voxlet::codec::g722::{G722Decoder, G722Encoder};
use voxlet::{Decoder, Encoder};

static SPEECH: &[u8] = include_bytes!("../tests/fixtures/speech_16k.s16le");

fn main() {
    let mut pcm: Vec<f32> = SPEECH
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0)
        .collect();
    pcm.truncate(pcm.len() / 320 * 320);
    let audio_s = pcm.len() as f64 / 16000.0;
    let rounds = 200;

    // One call per 20 ms RTP packet, as in a real stream.
    let mut enc = G722Encoder::new();
    let mut bytes = vec![0u8; pcm.len() / 2];
    let t = Instant::now();
    for _ in 0..rounds {
        for (p, o) in pcm.chunks(320).zip(bytes.chunks_mut(160)) {
            black_box(enc.encode(black_box(p), o).ok());
        }
    }
    let enc_x = audio_s * rounds as f64 / t.elapsed().as_secs_f64();

    let mut dec = G722Decoder::new();
    let mut out = vec![0f32; 320];
    let t = Instant::now();
    for _ in 0..rounds {
        for pkt in bytes.chunks(160) {
            black_box(dec.decode(black_box(pkt), &mut out).ok());
        }
    }
    let dec_x = audio_s * rounds as f64 / t.elapsed().as_secs_f64();

    println!("G.722 on {audio_s:.2} s of speech x {rounds}:");
    println!("  encode {enc_x:8.0} x realtime");
    println!("  decode {dec_x:8.0} x realtime");
}
