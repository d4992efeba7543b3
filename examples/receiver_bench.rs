//! Speed of the receive path as multiples of real time: `push` + `render`
//! of a 60 s stream through an impaired network (40 ms jitter p95, 5%
//! bursty loss, 2% reordering), for several codec / output combinations.
//! The network simulation and the encoding are done before timing.
//!
//! `cargo run --release --example receiver_bench`

use std::time::Instant;

use voxlet::codec::{CodecKind, Registry};
use voxlet::{Receiver, ReceiverConfig};
use voxlet_support::signal::s16le_f32 as pcm;
use voxlet_support::streams::bench::{codec, network, packets, PT};

fn bench(name: &str, kind: CodecKind, rate: u32, ch: u16, block: usize) {
    let (info, speech, rtpmap) = codec(kind);
    let seconds = 60;
    let (arrivals, _) = network().run(&packets(info, PT, &pcm(speech), seconds));
    let mut reg = Registry::empty();
    reg.insert_rtpmap(PT, rtpmap).expect("rtpmap");
    let mut best = f64::MAX;
    let mut stats = None;
    for _ in 0..3 {
        let mut rx = Receiver::new(ReceiverConfig {
            registry: reg.clone(),
            output_rate: rate,
            output_channels: ch,
            ..ReceiverConfig::default()
        })
        .expect("receiver");
        let mut buf = vec![0f32; block * ch as usize];
        let (mut i, mut n) = (0, 0u64);
        let end = seconds as f64 * 1000.0;
        let start = Instant::now();
        let mut t = 0.0;
        while t < end {
            while i < arrivals.len() && arrivals[i].arrival_ms <= t {
                let _ = rx.push(&arrivals[i].bytes, arrivals[i].arrival_ms);
                i += 1;
            }
            rx.render(&mut buf, t);
            n += block as u64;
            t = n as f64 * 1000.0 / rate as f64;
        }
        best = best.min(start.elapsed().as_secs_f64());
        stats = Some(rx.stats());
    }
    let s = stats.expect("ran");
    println!(
        "| {name} | {block} | {:.0}× | {:.1} µs | {:.2}% | {} / {} |",
        seconds as f64 / best,
        best / (seconds as f64 * rate as f64 / block as f64) * 1e6,
        s.concealed_samples as f64 / s.total_samples_received.max(1) as f64 * 100.0,
        s.removed_samples_for_acceleration,
        s.inserted_samples_for_deceleration,
    );
}

fn main() {
    println!("60 s of speech, 20 ms packets, 40 ms jitter (p95), 5% bursty loss, 2% reordering; push + render, best of 3.\n");
    println!(
        "| stream → output | block | speed | per render | concealed | accel / expand samples |"
    );
    println!("|---|---|---|---|---|---|");
    bench("PCMU → 48 kHz mono", CodecKind::Pcmu, 48000, 1, 128);
    bench("PCMU → 8 kHz mono", CodecKind::Pcmu, 8000, 1, 160);
    bench("G.722 → 44.1 kHz stereo", CodecKind::G722, 44100, 2, 128);
    bench("Opus → 48 kHz mono", CodecKind::Opus, 48000, 1, 128);
    bench("Opus → 44.1 kHz stereo", CodecKind::Opus, 44100, 2, 128);
}
