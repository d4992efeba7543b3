//! L16 (RFC 3551): byte order, framing checks, round trips at every common
//! rate, and the payloads of an ffmpeg RTP capture against the source audio.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::codec::i16_to_f32;
use voxlet::codec::l16::{L16Decoder, L16Encoder, MAX_PAYLOAD_BYTES};
use voxlet::{CodecError, CodecInfo, CodecKind, Decoder, Encoder, EncoderSettings, Registry};
use voxlet_support::rng::XorShift32;

const L16_RTPDUMP: &[u8] = include_bytes!("fixtures/l16.rtpdump");
const SPEECH_16K: &[u8] = include_bytes!("fixtures/speech_16k.s16le");

fn info(rate: u32, channels: u16) -> CodecInfo {
    CodecInfo::new(CodecKind::L16, rate, channels).unwrap()
}

/// Deterministic test samples covering both extremes and every byte value.
fn samples(n: usize) -> Vec<i16> {
    let mut x = XorShift32(0x1234_5678);
    (0..n)
        .map(|i| match i % 7 {
            0 => i16::MIN,
            1 => i16::MAX,
            2 => 0,
            3 => -1,
            _ => x.next_u32() as i16,
        })
        .collect()
}

#[test]
fn byte_order_is_network_order() {
    // L 0x0102, R -2; L i16::MIN, R i16::MAX
    let pcm = [0x0102i16, -2, i16::MIN, i16::MAX].map(i16_to_f32);
    let wire = [0x01, 0x02, 0xFF, 0xFE, 0x80, 0x00, 0x7F, 0xFF];
    let mut enc = L16Encoder::new(info(48000, 2));
    let mut out = [0u8; 8];
    assert_eq!(enc.encode(&pcm, &mut out), Ok(8));
    assert_eq!(out, wire);

    let mut dec = L16Decoder::new(info(48000, 2));
    let mut back = [0f32; 4];
    assert_eq!(dec.frames_in(&wire), Ok(2));
    assert_eq!(dec.decode(&wire, &mut back), Ok(2));
    assert_eq!(back, pcm);

    // The same bytes as mono are four frames, in the same order.
    let mut mono = L16Decoder::new(info(8000, 1));
    assert_eq!(mono.decode(&wire, &mut back), Ok(4));
    assert_eq!(back, pcm);
}

#[test]
fn round_trip_every_rate_mono_and_stereo() {
    for rate in [8000, 16000, 44100, 48000] {
        for ch in [1u16, 2] {
            let i = info(rate, ch);
            let mut enc = i.encoder(&EncoderSettings::default()).unwrap();
            let mut dec = i.decoder().unwrap();
            assert_eq!(dec.info(), &i);
            // 20 ms, and one odd size
            for frames in [(rate / 50) as usize, 7] {
                let src = samples(frames * ch as usize);
                let pcm: Vec<f32> = src.iter().map(|&s| i16_to_f32(s)).collect();
                assert!(enc.accepts_frames(frames));
                let mut wire = vec![0u8; enc.max_payload(frames)];
                let n = enc.encode(&pcm, &mut wire).unwrap();
                assert_eq!(n, frames * 2 * ch as usize);
                let want: Vec<u8> = src.iter().flat_map(|s| s.to_be_bytes()).collect();
                assert_eq!(wire, want, "{rate}/{ch}");
                let mut out = vec![0f32; dec.max_frames() * ch as usize];
                assert_eq!(dec.decode(&wire, &mut out), Ok(frames));
                assert_eq!(&out[..pcm.len()], &pcm[..], "{rate}/{ch}");
            }
        }
    }
}

#[test]
fn static_payload_types_decode() {
    let reg = Registry::with_static();
    let mut stereo = reg.get(10).unwrap().decoder().unwrap();
    let mut mono = reg.get(11).unwrap().decoder().unwrap();
    let mut out = vec![0f32; 2 * stereo.max_frames()];
    assert_eq!(stereo.decode(&[0; 8], &mut out), Ok(2));
    assert_eq!(mono.decode(&[0; 8], &mut out), Ok(4));
}

#[test]
fn bad_lengths_rejected() {
    let mut mono = L16Decoder::new(info(16000, 1));
    let mut stereo = L16Decoder::new(info(16000, 2));
    let mut out = vec![0f32; 70_000];
    for (ch, len) in [(1, 3), (1, 1), (2, 6), (2, 2)] {
        let dec = if ch == 1 { &mut mono } else { &mut stereo };
        let p = vec![0u8; len];
        assert!(
            matches!(dec.frames_in(&p), Err(CodecError::InvalidPayload(_))),
            "{ch}ch {len}"
        );
        assert!(
            matches!(dec.decode(&p, &mut out), Err(CodecError::InvalidPayload(_))),
            "{ch}ch {len}"
        );
    }
    assert_eq!(mono.decode(&[], &mut out), Ok(0));
    // More than the documented bound.
    let big = vec![0u8; 2 * (mono.max_frames() + 1)];
    assert!(matches!(
        mono.decode(&big, &mut out),
        Err(CodecError::InvalidPayload(_))
    ));

    let mut enc = L16Encoder::new(info(16000, 2));
    let mut wire = [0u8; 64];
    assert_eq!(
        enc.encode(&[0.0; 3], &mut wire),
        Err(CodecError::BadFrameCount(3))
    );
    assert_eq!(
        enc.encode(&[], &mut wire),
        Err(CodecError::BadFrameCount(0))
    );
}

#[test]
fn max_frames_bounds() {
    assert_eq!(L16Decoder::new(info(8000, 1)).max_frames(), 8000);
    assert_eq!(L16Decoder::new(info(16000, 2)).max_frames(), 16000);
    assert_eq!(
        L16Decoder::new(info(44100, 1)).max_frames(),
        MAX_PAYLOAD_BYTES / 2
    );
    assert_eq!(
        L16Decoder::new(info(48000, 2)).max_frames(),
        MAX_PAYLOAD_BYTES / 4
    );
    let enc = L16Encoder::new(info(48000, 2));
    assert!(enc.accepts_frames(MAX_PAYLOAD_BYTES / 4));
    assert!(!enc.accepts_frames(MAX_PAYLOAD_BYTES / 4 + 1));
    assert!(!enc.accepts_frames(0));
}

#[test]
fn output_too_small_is_an_error() {
    let mut dec = L16Decoder::new(info(8000, 2));
    let mut out = [0f32; 3];
    assert_eq!(
        dec.decode(&[0; 8], &mut out),
        Err(CodecError::OutputTooSmall { needed: 4, got: 3 })
    );
    let mut enc = L16Encoder::new(info(8000, 2));
    let mut wire = [0u8; 7];
    assert_eq!(
        enc.encode(&[0.0; 4], &mut wire),
        Err(CodecError::OutputTooSmall { needed: 8, got: 7 })
    );
}

/// RTP payloads of an rtpdump file, in file order. Minimal on purpose (this
/// test checks L16, not the rtpdump reader): text line, 16-byte header, then
/// records of [len u16, plen u16, offset u32, packet]; payload after the
/// 12-byte RTP header and CSRCs (ffmpeg sends no extension or padding).
fn rtpdump_payloads(file: &[u8]) -> Vec<(u16, &[u8])> {
    let nl = file.iter().position(|&b| b == b'\n').unwrap();
    assert!(file.starts_with(b"#!rtpplay1.0 "));
    let mut rest = &file[nl + 1 + 16..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let plen = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        let pkt = &rest[8..8 + plen];
        assert_eq!(pkt[0] >> 6, 2, "RTP version");
        assert_eq!(pkt[0] & 0x30, 0, "no padding or extension expected");
        assert_eq!(pkt[1] & 0x7F, 96, "payload type");
        let cc = (pkt[0] & 0x0F) as usize;
        let seq = u16::from_be_bytes([pkt[2], pkt[3]]);
        out.push((seq, &pkt[12 + 4 * cc..]));
        rest = &rest[len..];
    }
    out
}

#[test]
fn ffmpeg_rtp_capture_decodes_to_source() {
    let payloads = rtpdump_payloads(L16_RTPDUMP);
    assert!(payloads.len() > 100);
    let mut dec = L16Decoder::new(info(16000, 1));
    let mut out = vec![0f32; dec.max_frames()];
    let mut pcm = Vec::new();
    let mut max_packet = 0;
    for (i, (seq, p)) in payloads.iter().enumerate() {
        // Loopback capture: no loss, no reordering, sequence wraps past 65535.
        assert_eq!(*seq, payloads[0].0.wrapping_add(i as u16));
        let n = dec.decode(p, &mut out).unwrap();
        max_packet = max_packet.max(n);
        pcm.extend_from_slice(&out[..n]);
    }
    let src: Vec<f32> = SPEECH_16K
        .chunks_exact(2)
        .map(|c| i16_to_f32(i16::from_le_bytes([c[0], c[1]])))
        .collect();
    let common = pcm.len().min(src.len());
    assert!(pcm.len().abs_diff(src.len()) < max_packet);
    assert!(common > 16000);
    assert!(
        pcm[..common] == src[..common],
        "decoded L16 differs from source"
    );
}
