//! The README's usage example, compiled: microphone blocks → `Sender` → RTP
//! → `Receiver` → 128-frame output blocks, with time as an argument.
//!
//! `cargo run --example quickstart`

use voxlet::codec::parse_rtpmap;
use voxlet::{Receiver, ReceiverConfig, Registry, Sender, SenderConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let opus = parse_rtpmap("opus/48000/2")?.with_channels(1)?;
    let mut tx = Sender::new(SenderConfig {
        input_rate: 48_000,
        seed: 7,
        ..SenderConfig::new(opus, 111)
    })?;
    let mut registry = Registry::with_static();
    registry.insert_rtpmap(111, "opus/48000/2")?;
    let mut rx = Receiver::new(ReceiverConfig {
        registry,
        output_rate: 44_100,
        ..Default::default()
    })?;

    let (mut mic, mut out) = ([0f32; 128], [0f32; 128]);
    let mut energy = 0.0;
    for block in 0..1500u64 {
        let now_ms = block as f64 * 128.0 / 48.0; // one render quantum at 48 kHz
        for (i, s) in mic.iter_mut().enumerate() {
            let t = (block * 128 + i as u64) as f32 / 48_000.0;
            *s = 0.3 * (2.0 * std::f32::consts::PI * 440.0 * t).sin();
        }
        tx.push_audio(&mic, now_ms)?;
        while let Some(packet) = tx.poll_packet(now_ms) {
            rx.push(packet, now_ms)?; // over any transport; here a perfect one
        }
        rx.render(&mut out, now_ms); // exactly 128 frames at 44.1 kHz, never fails
        energy += out.iter().map(|x| x * x).sum::<f32>();
    }
    let s = rx.stats();
    println!(
        "received {} packets, lost {}, jitter buffer delay {:.1} ms, output RMS {:.3}",
        s.packets_received,
        s.packets_lost,
        1000.0 * s.jitter_buffer_delay / s.jitter_buffer_emitted_count.max(1) as f64,
        (energy / (1500.0 * 128.0)).sqrt()
    );
    Ok(())
}
