//! Speed of the receive path as multiples of real time: `push` + `render`
//! of a 60 s stream through an impaired network (40 ms jitter p95, 5%
//! bursty loss, 2% reordering), for several codec / output combinations.
//! The network simulation and the encoding are done before timing.
//!
//! `cargo run --release --example receiver_bench`

#[path = "../tests/netsim/mod.rs"]
mod netsim;

use std::time::Instant;

use netsim::{Jitter, Loss, NetSim};
use voxlet::codec::{CodecInfo, CodecKind, EncoderSettings, Registry};
use voxlet::rtp::RtpHeader;
use voxlet::{Receiver, ReceiverConfig};

static SPEECH_8K: &[u8] = include_bytes!("../tests/fixtures/speech_8k.s16le");
static SPEECH_16K: &[u8] = include_bytes!("../tests/fixtures/speech_16k.s16le");
static SPEECH_48K: &[u8] = include_bytes!("../tests/fixtures/speech_48k.s16le");

fn pcm(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0)
        .collect()
}

/// 20 ms packets of looped speech for `seconds`.
fn stream(info: CodecInfo, pt: u8, speech: &[f32], seconds: usize) -> Vec<(Vec<u8>, f64)> {
    let mut enc = info
        .encoder(&EncoderSettings {
            fec: true,
            packet_loss_percent: 5,
            ..EncoderSettings::default()
        })
        .expect("encoder");
    let frames = info.sample_rate as usize / 50;
    let ticks = info.clock_rate / 50;
    let mut payload = vec![0u8; 4000];
    let mut packet = vec![0u8; 4100];
    (0..seconds * 50)
        .map(|i| {
            let k = (i * frames) % (speech.len() - frames);
            let n = enc
                .encode(&speech[k..k + frames], &mut payload)
                .expect("encode");
            let h = RtpHeader {
                payload_type: pt,
                sequence: i as u16,
                timestamp: i as u32 * ticks,
                ssrc: 1,
                ..RtpHeader::default()
            };
            let len = h.write(&payload[..n], &mut packet).expect("rtp");
            (packet[..len].to_vec(), (i * 20 + 20) as f64)
        })
        .collect()
}

fn bench(
    name: &str,
    info: CodecInfo,
    rtpmap: &str,
    speech: &[f32],
    rate: u32,
    ch: u16,
    block: usize,
) {
    let seconds = 60;
    let packets = stream(info, 96, speech, seconds);
    let sim = NetSim {
        seed: 5,
        loss: Loss::bursty(0.05, 2.0),
        jitter: Jitter::p95(40.0),
        reorder: 0.02,
        ..NetSim::default()
    };
    let (arrivals, _) = sim.run(&packets);
    let mut reg = Registry::empty();
    reg.insert_rtpmap(96, rtpmap).expect("rtpmap");
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
        stats = Some(*rx.stats());
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
    let s8 = pcm(SPEECH_8K);
    let s16 = pcm(SPEECH_16K);
    let s48 = pcm(SPEECH_48K);
    let pcmu = CodecInfo::new(CodecKind::Pcmu, 8000, 1).expect("pcmu");
    let g722 = CodecInfo::new(CodecKind::G722, 8000, 1).expect("g722");
    let opus = CodecInfo::new(CodecKind::Opus, 48000, 2)
        .and_then(|i| i.with_channels(1))
        .expect("opus");
    println!("60 s of speech, 20 ms packets, 40 ms jitter (p95), 5% bursty loss, 2% reordering; push + render, best of 3.\n");
    println!(
        "| stream → output | block | speed | per render | concealed | accel / expand samples |"
    );
    println!("|---|---|---|---|---|---|");
    bench("PCMU → 48 kHz mono", pcmu, "PCMU/8000", &s8, 48000, 1, 128);
    bench("PCMU → 8 kHz mono", pcmu, "PCMU/8000", &s8, 8000, 1, 160);
    bench(
        "G.722 → 44.1 kHz stereo",
        g722,
        "G722/8000",
        &s16,
        44100,
        2,
        128,
    );
    bench(
        "Opus → 48 kHz mono",
        opus,
        "opus/48000/2",
        &s48,
        48000,
        1,
        128,
    );
    bench(
        "Opus → 44.1 kHz stereo",
        opus,
        "opus/48000/2",
        &s48,
        44100,
        2,
        128,
    );
}
