//! Decodes an RTP capture (rtpdump format) to a WAV file and prints stream
//! statistics.
//!
//! ```sh
//! cargo run --release --example decode -- tests/fixtures/opus.rtpdump out.wav [PT=rtpmap ...]
//! ```
//! Static payload types (0, 8, 9, 10, 11) are known; dynamic ones default to
//! 96 = L16/16000/1, 101 = telephone-event/8000 and 111 = opus/48000/2 and can
//! be overridden, e.g. `96=L16/48000/2`.

use std::time::Instant;

use voxlet::rtp::{RtpPacket, SeqUnwrapper};
use voxlet::rtpdump::RtpDumpReader;
use voxlet::{CodecKind, Decoder, Registry};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output) = match (args.first(), args.get(1)) {
        (Some(i), Some(o)) => (i.clone(), o.clone()),
        _ => return Err("usage: decode IN.rtpdump OUT.wav [PT=rtpmap ...]".into()),
    };
    let mut registry = Registry::with_static();
    registry.insert_rtpmap(96, "L16/16000/1")?;
    registry.insert_rtpmap(101, "telephone-event/8000")?;
    registry.insert_rtpmap(111, "opus/48000/2")?;
    for m in &args[2..] {
        let (pt, map) = m
            .split_once('=')
            .ok_or("mappings look like 111=opus/48000/2")?;
        registry.insert_rtpmap(pt.parse()?, map)?;
    }

    let bytes = std::fs::read(&input)?;
    let mut decoder: Option<(u8, Box<dyn Decoder>)> = None;
    let mut pcm: Vec<f32> = Vec::new();
    let mut buf = Vec::new();
    let mut seq = SeqUnwrapper::new();
    let (mut packets, mut bad, mut first, mut last) = (0u64, 0u64, i64::MAX, i64::MIN);
    let mut ssrc = None;
    let started = Instant::now();
    for rec in RtpDumpReader::new(&bytes)? {
        let (_offset_ms, data) = rec?;
        let Ok(p) = RtpPacket::parse(data) else {
            bad += 1;
            continue;
        };
        let Some(info) = registry.get(p.payload_type()) else {
            bad += 1;
            continue;
        };
        if info.kind == CodecKind::TelephoneEvent {
            continue;
        }
        packets += 1;
        ssrc.get_or_insert(p.ssrc());
        let s = seq.unwrap(p.sequence());
        first = first.min(s);
        last = last.max(s);
        if decoder.as_ref().map(|d| d.0) != Some(p.payload_type()) {
            let d = info.decoder()?;
            buf.resize(d.max_frames() * info.channels as usize, 0.0);
            decoder = Some((p.payload_type(), d));
        }
        if let Some((_, d)) = decoder.as_mut() {
            match d.decode(p.payload(), &mut buf) {
                Ok(n) => pcm.extend_from_slice(&buf[..n * info.channels as usize]),
                Err(_) => bad += 1,
            }
        }
    }
    let cpu = started.elapsed().as_secs_f64();
    let Some((pt, d)) = decoder else {
        return Err("no audio packets".into());
    };
    let info = *d.info();
    write_wav(&output, &pcm, info.sample_rate, info.channels)?;

    let secs = pcm.len() as f64 / info.channels as f64 / info.sample_rate as f64;
    let expected = (last - first + 1).max(0) as u64;
    println!("file        {input}");
    println!(
        "stream      SSRC {:#010x}, PT {pt} = {}/{}/{}",
        ssrc.unwrap_or(0),
        info.kind.sdp_name(),
        info.clock_rate,
        info.channels
    );
    println!(
        "packets     {packets} received, {} lost, {bad} rejected",
        expected.saturating_sub(packets)
    );
    println!(
        "audio       {secs:.2} s at {} Hz → {output}",
        info.sample_rate
    );
    println!("decode      {:.0}x real time", secs / cpu.max(1e-9));
    Ok(())
}

/// Writes 16-bit PCM WAV.
fn write_wav(path: &str, pcm: &[f32], rate: u32, channels: u16) -> std::io::Result<()> {
    let data_len = (pcm.len() * 2) as u32;
    let mut w = Vec::with_capacity(44 + data_len as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&channels.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
    w.extend_from_slice(&(channels * 2).to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for &s in pcm {
        w.extend_from_slice(&voxlet::codec::f32_to_i16(s).to_le_bytes());
    }
    std::fs::write(path, w)
}
