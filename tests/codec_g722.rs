//! G.722 against ffmpeg: the encoder must reproduce `g722.raw` byte for byte
//! and the decoder `g722_decoded.s16le` sample for sample (see
//! `fixtures/gen.sh`), whether fed the whole stream, RTP-sized packets, or
//! through the `CodecInfo` trait objects. Fixtures are `include_bytes!` so
//! the same file runs in wasm.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::codec::g722::{G722Decoder, G722Encoder};
use voxlet::codec::{f32_to_i16, i16_to_f32};
use voxlet::{CodecError, CodecInfo, CodecKind, Decoder, Encoder};
use voxlet_support::rng::XorShift32;
use voxlet_support::signal::s16le;

static SPEECH: &[u8] = include_bytes!("fixtures/speech_16k.s16le");
static G722: &[u8] = include_bytes!("fixtures/g722.raw");
static DECODED: &[u8] = include_bytes!("fixtures/g722_decoded.s16le");
// Edge cases (full-scale squares, noise, near-Nyquist sines, DC; every byte
// value and random bytes), also through ffmpeg: see gen.sh.
static STRESS: &[u8] = include_bytes!("fixtures/g722_stress.s16le");
static STRESS_G722: &[u8] = include_bytes!("fixtures/g722_stress.raw");
static STRESS_DECODED: &[u8] = include_bytes!("fixtures/g722_stress_decoded.s16le");
static CODES: &[u8] = include_bytes!("fixtures/g722_codes.raw");
static CODES_DECODED: &[u8] = include_bytes!("fixtures/g722_codes_decoded.s16le");

/// PCM as ffmpeg encodes it: an odd trailing sample is paired with a copy
/// of itself.
fn pad_like_ffmpeg(raw: &[u8]) -> Vec<i16> {
    let mut s = s16le(raw);
    assert_eq!(s.len() % 2, 1, "fixture is expected to have an odd length");
    s.push(*s.last().unwrap());
    s
}

fn speech_even() -> Vec<i16> {
    pad_like_ffmpeg(SPEECH)
}

/// RTP packet size: 20 ms = 160 bytes = 320 samples.
const PKT_BYTES: usize = 160;

fn first_diff<T: PartialEq>(a: &[T], b: &[T]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x != y)
}

#[test]
fn encode_whole_stream_matches_ffmpeg() {
    let pcm = speech_even();
    let mut out = vec![0u8; pcm.len() / 2];
    let n = G722Encoder::new().encode_i16(&pcm, &mut out).unwrap();
    assert_eq!(n, G722.len());
    assert_eq!(first_diff(&out, G722), None);

    // The f32 trait path, whole stream in one call.
    let pcm_f: Vec<f32> = pcm.iter().map(|&s| i16_to_f32(s)).collect();
    let mut out = vec![0u8; pcm.len() / 2];
    let n = Encoder::encode(&mut G722Encoder::new(), &pcm_f, &mut out).unwrap();
    assert_eq!(n, G722.len());
    assert_eq!(first_diff(&out, G722), None);
}

#[test]
fn encode_rtp_packets_matches_ffmpeg() {
    let pcm: Vec<f32> = speech_even().iter().map(|&s| i16_to_f32(s)).collect();
    let mut enc = G722Encoder::new();
    let mut got = Vec::new();
    let mut buf = [0u8; PKT_BYTES];
    for chunk in pcm.chunks(PKT_BYTES * 2) {
        let n = enc.encode(chunk, &mut buf).unwrap();
        assert_eq!(n, chunk.len() / 2);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got.len(), G722.len());
    assert_eq!(first_diff(&got, G722), None);
}

#[test]
fn encode_trait_object_matches_ffmpeg() {
    let info = CodecInfo::new(CodecKind::G722, 8000, 1).unwrap();
    let mut enc: Box<dyn Encoder> = info.encoder(&Default::default()).unwrap();
    assert_eq!(enc.info().sample_rate, 16000);
    assert!(enc.accepts_frames(320));
    assert!(!enc.accepts_frames(321));
    assert_eq!(enc.max_payload(320), 160);
    let pcm: Vec<f32> = speech_even().iter().map(|&s| i16_to_f32(s)).collect();
    let mut got = Vec::new();
    let mut buf = vec![0u8; enc.max_payload(PKT_BYTES * 2)];
    for chunk in pcm.chunks(PKT_BYTES * 2) {
        let n = enc.encode(chunk, &mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(first_diff(&got, G722), None);
    assert_eq!(got.len(), G722.len());
}

#[test]
fn decode_whole_stream_matches_ffmpeg() {
    let want = s16le(DECODED);
    assert_eq!(want.len(), G722.len() * 2);
    let mut out = vec![0i16; want.len()];
    let n = G722Decoder::new().decode_i16(G722, &mut out).unwrap();
    assert_eq!(n, want.len());
    assert_eq!(first_diff(&out, &want), None);

    // Through the trait a payload is at most 1 s (max_frames); longer is an error.
    let mut out = vec![0f32; want.len()];
    let mut dec = G722Decoder::new();
    assert_eq!(dec.max_frames(), 16_000);
    assert!(matches!(
        dec.frames_in(G722),
        Err(CodecError::InvalidPayload(_))
    ));
    assert!(matches!(
        dec.decode(G722, &mut out),
        Err(CodecError::InvalidPayload(_))
    ));
    let mut got = Vec::new();
    for chunk in G722.chunks(8000) {
        assert_eq!(dec.frames_in(chunk).unwrap(), chunk.len() * 2);
        let n = dec.decode(chunk, &mut out).unwrap();
        got.extend(out[..n].iter().map(|&x| f32_to_i16(x)));
    }
    assert_eq!(first_diff(&got, &want), None);
}

#[test]
fn decode_rtp_packets_matches_ffmpeg() {
    let want = s16le(DECODED);
    let mut dec = G722Decoder::new();
    let mut out = vec![0f32; dec.max_frames()];
    let mut got = Vec::new();
    for pkt in G722.chunks(PKT_BYTES) {
        let n = dec.decode(pkt, &mut out).unwrap();
        assert_eq!(n, pkt.len() * 2);
        got.extend(out[..n].iter().map(|&x| f32_to_i16(x)));
    }
    assert_eq!(got.len(), want.len());
    assert_eq!(first_diff(&got, &want), None);
}

#[test]
fn decode_trait_object_matches_ffmpeg() {
    let info = CodecInfo::new(CodecKind::G722, 8000, 1).unwrap();
    let mut dec: Box<dyn Decoder> = info.decoder().unwrap();
    assert_eq!(dec.info().sample_rate, 16000);
    assert_eq!(dec.max_frames(), 16000);
    let want = s16le(DECODED);
    let mut out = vec![0f32; dec.max_frames()];
    let mut got = Vec::new();
    for pkt in G722.chunks(PKT_BYTES) {
        let n = dec.decode(pkt, &mut out).unwrap();
        got.extend(out[..n].iter().map(|&x| f32_to_i16(x)));
    }
    assert_eq!(first_diff(&got, &want), None);
    assert_eq!(got.len(), want.len());
    assert_eq!(
        dec.conceal(320, &mut out),
        Err(CodecError::Unsupported("conceal"))
    );
}

#[test]
fn reset_really_resets() {
    let mut dec = G722Decoder::new();
    let payload = &G722[..8000];
    let mut a = vec![0f32; 16_000];
    let mut b = vec![0f32; 16_000];
    dec.decode(payload, &mut a).unwrap();
    dec.reset();
    dec.decode(payload, &mut b).unwrap();
    assert!(a == b, "decoder output differs after reset");
    // Without reset the state carries over, so the output differs.
    dec.decode(payload, &mut b).unwrap();
    assert!(a != b);

    let pcm: Vec<f32> = speech_even().iter().map(|&s| i16_to_f32(s)).collect();
    let mut enc = G722Encoder::new();
    let mut x = vec![0u8; pcm.len() / 2];
    let mut y = vec![0u8; pcm.len() / 2];
    enc.encode(&pcm, &mut x).unwrap();
    enc.reset();
    enc.encode(&pcm, &mut y).unwrap();
    assert_eq!(x, y);
    assert_eq!(&x[..], G722);
    enc.encode(&pcm, &mut y).unwrap();
    assert_ne!(x, y);
}

#[test]
fn errors() {
    let mut enc = G722Encoder::new();
    let mut out = [0u8; 160];
    assert_eq!(
        enc.encode(&[0.0; 321], &mut out),
        Err(CodecError::BadFrameCount(321))
    );
    assert_eq!(
        enc.encode(&[0.0; 1], &mut out),
        Err(CodecError::BadFrameCount(1))
    );
    assert_eq!(enc.encode(&[], &mut out), Err(CodecError::BadFrameCount(0)));
    assert_eq!(
        enc.encode(&[0.0; 322], &mut out),
        Err(CodecError::OutputTooSmall {
            needed: 161,
            got: 160
        })
    );
    assert_eq!(
        enc.encode_i16(&[0; 3], &mut out),
        Err(CodecError::BadFrameCount(3))
    );

    let mut dec = G722Decoder::new();
    let mut pcm = [0f32; 319];
    assert_eq!(
        dec.decode(&[0u8; 160], &mut pcm),
        Err(CodecError::OutputTooSmall {
            needed: 320,
            got: 319
        })
    );
    assert_eq!(dec.decode(&[], &mut pcm), Ok(0));
    let mut pcm16 = [0i16; 3];
    assert_eq!(
        dec.decode_i16(&[0u8; 2], &mut pcm16),
        Err(CodecError::OutputTooSmall { needed: 4, got: 3 })
    );
}

/// Nothing reachable from input bytes or samples panics or leaves [-1, 1).
#[test]
fn extreme_inputs_stay_in_range() {
    let mut dec = G722Decoder::new();
    let mut out = vec![0f32; 512];
    let mut x = XorShift32(0x1234_5678);
    for round in 0..64 {
        let pkt: Vec<u8> = (0..256)
            .map(|i| match round % 4 {
                0 => i as u8,
                1 => 0xff,
                2 => 0x00,
                _ => x.next_u32() as u8,
            })
            .collect();
        let n = dec.decode(&pkt, &mut out).unwrap();
        assert!(out[..n].iter().all(|v| (-1.0..1.0).contains(v)));
    }

    let mut enc = G722Encoder::new();
    let mut bytes = [0u8; 160];
    for pattern in [f32::MAX, f32::MIN, f32::NAN, 1.0, -1.0, 0.0] {
        let pcm: Vec<f32> = (0..320)
            .map(|i| if i % 2 == 0 { pattern } else { -pattern })
            .collect();
        assert_eq!(enc.encode(&pcm, &mut bytes), Ok(160));
        let pcm = vec![pattern; 320];
        assert_eq!(enc.encode(&pcm, &mut bytes), Ok(160));
    }
}

#[test]
fn edge_cases_match_ffmpeg() {
    // Encoder, in RTP-sized calls.
    let pcm: Vec<f32> = pad_like_ffmpeg(STRESS)
        .iter()
        .map(|&s| i16_to_f32(s))
        .collect();
    let mut enc = G722Encoder::new();
    let mut got = Vec::new();
    let mut buf = [0u8; PKT_BYTES];
    for chunk in pcm.chunks(PKT_BYTES * 2) {
        let n = enc.encode(chunk, &mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got.len(), STRESS_G722.len());
    assert_eq!(first_diff(&got, STRESS_G722), None);

    // Decoder, on ffmpeg's encoding of it and on every byte value.
    for (bytes, decoded) in [(STRESS_G722, STRESS_DECODED), (CODES, CODES_DECODED)] {
        let want = s16le(decoded);
        let mut out = vec![0i16; bytes.len() * 2];
        let mut dec = G722Decoder::new();
        let mut n = 0;
        for pkt in bytes.chunks(PKT_BYTES) {
            n += dec.decode_i16(pkt, &mut out[n..]).unwrap();
        }
        assert_eq!(n, want.len());
        assert_eq!(first_diff(&out, &want), None);
    }
}
