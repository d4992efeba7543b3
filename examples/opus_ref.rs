//! Regenerates the Opus native-vs-wasm fixtures used by `tests/codec_opus.rs`:
//!
//! - `tests/fixtures/opus_packets.bin`: a decode script of Opus packets made
//!   by voxlet's encoder from `tests/fixtures/speech_48k.s16le`, with losses
//!   recovered by PLC and FEC, and streams in several modes (SILK, hybrid,
//!   CELT; mono and stereo; 10, 20, 60 ms).
//! - `tests/fixtures/opus_decoded_ref.f32le`: what the **native** build decodes
//!   from that script (little-endian `f32`, interleaved, streams concatenated).
//!
//! Run natively: `cargo run --example opus_ref`. The encoder is not bit-exact
//! across targets (its float analysis takes different SIMD paths), so the
//! packets are committed rather than re-encoded by the tests.
//!
//! The script format and its player are in `voxlet_support::streams::opus_script`,
//! shared with the test.

use voxlet::codec::opus::OpusEncoder;
use voxlet::codec::{CodecInfo, CodecKind, Encoder, EncoderSettings, OpusApplication};
use voxlet_support::streams::opus_script::run_script;

fn info(channels: u16) -> CodecInfo {
    CodecInfo::new(CodecKind::Opus, 48000, 2)
        .and_then(|i| i.with_channels(channels))
        .expect("opus info")
}

fn encode_all(settings: EncoderSettings, pcm: &[f32], channels: usize) -> Vec<Vec<u8>> {
    let mut enc = OpusEncoder::new(info(channels as u16), &settings).expect("encoder");
    let step = enc.frame_size() * channels;
    let mut out = vec![0u8; enc.max_payload(enc.frame_size())];
    pcm.chunks_exact(step)
        .map(|f| {
            let n = enc.encode(f, &mut out).expect("encode");
            out[..n].to_vec()
        })
        .collect()
}

fn push_decode(script: &mut Vec<u8>, p: &[u8]) {
    script.push(b'D');
    script.extend_from_slice(&(p.len() as u16).to_le_bytes());
    script.extend_from_slice(p);
}

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let raw = std::fs::read(format!("{dir}/speech_48k.s16le")).expect("speech fixture");
    let speech: Vec<f32> = raw
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0)
        .collect();
    let mut script = Vec::new();

    // A: mono speech (first 3 s), VOIP 32 kbit/s, 20 ms, FEC for 20% loss.
    // Every 12th packet is lost, recovered alternately by FEC (from the next
    // packet) and by PLC.
    let s = EncoderSettings {
        fec: true,
        packet_loss_percent: 20,
        ..EncoderSettings::default()
    };
    let pkts = encode_all(s, &speech[..144_000], 1);
    script.extend_from_slice(b"C\x01");
    for (i, p) in pkts.iter().enumerate() {
        if i % 12 == 11 && i + 1 < pkts.len() {
            if (i / 12) % 2 == 0 {
                let next = &pkts[i + 1];
                script.push(b'F');
                script.extend_from_slice(&960u16.to_le_bytes());
                script.extend_from_slice(&(next.len() as u16).to_le_bytes());
                script.extend_from_slice(next);
            } else {
                script.push(b'P');
                script.extend_from_slice(&960u16.to_le_bytes());
            }
        } else {
            push_decode(&mut script, p);
        }
    }

    // B: stereo (speech left, half-level delayed speech right), AUDIO
    // 64 kbit/s, 10 ms (CELT), first second, one 10 ms loss concealed.
    let n = 48000;
    let stereo: Vec<f32> = (0..n)
        .flat_map(|i| [speech[i], 0.5 * speech[i.saturating_sub(240)]])
        .collect();
    let s = EncoderSettings {
        bitrate: 64_000,
        application: OpusApplication::Audio,
        frame_ms: 10,
        ..EncoderSettings::default()
    };
    script.extend_from_slice(b"C\x02");
    for (i, p) in encode_all(s, &stereo, 2).iter().enumerate() {
        if i == 40 {
            script.push(b'P');
            script.extend_from_slice(&480u16.to_le_bytes());
        } else {
            push_decode(&mut script, p);
        }
    }

    // C: mono, VOIP 12 kbit/s (SILK), 60 ms, 1.2 s from 2 s in, one loss.
    let s = EncoderSettings {
        bitrate: 12_000,
        frame_ms: 60,
        ..EncoderSettings::default()
    };
    script.extend_from_slice(b"C\x01");
    for (i, p) in encode_all(s, &speech[96_000..96_000 + 57_600], 1)
        .iter()
        .enumerate()
    {
        if i == 10 {
            script.push(b'P');
            script.extend_from_slice(&2880u16.to_le_bytes());
        } else {
            push_decode(&mut script, p);
        }
    }

    // D: mono decoder fed a low-delay (CELT-only) 20 ms, 24 kbit/s stream, 0.6 s.
    let s = EncoderSettings {
        bitrate: 24_000,
        application: OpusApplication::LowDelay,
        ..EncoderSettings::default()
    };
    script.extend_from_slice(b"C\x01");
    for p in encode_all(s, &speech[150_000..150_000 + 28_800], 1) {
        push_decode(&mut script, &p);
    }

    let decoded = run_script(&script);
    let bytes: Vec<u8> = decoded.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(format!("{dir}/opus_packets.bin"), &script).expect("write packets");
    std::fs::write(format!("{dir}/opus_decoded_ref.f32le"), &bytes).expect("write ref");
    println!(
        "opus_packets.bin: {} bytes; opus_decoded_ref.f32le: {} samples",
        script.len(),
        decoded.len()
    );
}
