//! G.711 against ffmpeg: every code, every 16-bit input, and the speech
//! fixtures, through the plain functions and through the codec traits.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::codec::g711::{
    alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear, PcmaDecoder, PcmuDecoder,
    PcmuEncoder, MAX_FRAMES,
};
use voxlet::codec::{f32_to_i16, i16_to_f32};
use voxlet::{CodecError, CodecInfo, CodecKind, Decoder, Encoder, EncoderSettings};
use voxlet_support::signal::s16le;

const SPEECH: &[u8] = include_bytes!("fixtures/speech_8k.s16le");
const PCMU: &[u8] = include_bytes!("fixtures/pcmu.raw");
const PCMA: &[u8] = include_bytes!("fixtures/pcma.raw");
const PCMU_DECODED: &[u8] = include_bytes!("fixtures/pcmu_decoded.s16le");
const PCMA_DECODED: &[u8] = include_bytes!("fixtures/pcma_decoded.s16le");
const PCMU_ALL_CODES: &[u8] = include_bytes!("fixtures/pcmu_all_codes.s16le");
const PCMA_ALL_CODES: &[u8] = include_bytes!("fixtures/pcma_all_codes.s16le");
const PCMU_ALL_INT16: &[u8] = include_bytes!("fixtures/pcmu_all_int16.raw");
const PCMA_ALL_INT16: &[u8] = include_bytes!("fixtures/pcma_all_int16.raw");

fn check_all_codes(dec: fn(u8) -> i16, fixture: &[u8]) {
    let want = s16le(fixture);
    assert_eq!(want.len(), 256);
    for code in 0..=255u8 {
        assert_eq!(dec(code), want[code as usize], "code {code:#04x}");
    }
}

fn check_all_int16(enc: fn(i16) -> u8, fixture: &[u8]) {
    assert_eq!(fixture.len(), 65536);
    for (i, &want) in fixture.iter().enumerate() {
        let v = (i as i32 - 32768) as i16;
        assert_eq!(enc(v), want, "input {v}");
    }
}

#[test]
fn ulaw_decode_all_codes_matches_ffmpeg() {
    check_all_codes(ulaw_to_linear, PCMU_ALL_CODES);
}

#[test]
fn alaw_decode_all_codes_matches_ffmpeg() {
    check_all_codes(alaw_to_linear, PCMA_ALL_CODES);
}

#[test]
fn ulaw_encode_all_int16_matches_ffmpeg() {
    check_all_int16(linear_to_ulaw, PCMU_ALL_INT16);
}

#[test]
fn alaw_encode_all_int16_matches_ffmpeg() {
    check_all_int16(linear_to_alaw, PCMA_ALL_INT16);
}

#[test]
fn decoded_values_reencode_to_their_code() {
    for c in 0..=255u8 {
        // μ-law has two zeros (0xFF, 0x7F); the encoder picks +0.
        let want = if c == 0x7F { 0xFF } else { c };
        assert_eq!(linear_to_ulaw(ulaw_to_linear(c)), want, "μ-law {c:#04x}");
        assert_eq!(linear_to_alaw(alaw_to_linear(c)), c, "A-law {c:#04x}");
    }
}

/// Encodes the whole speech fixture in 20 ms packets through the trait object.
fn encode_speech(kind: CodecKind) -> Vec<u8> {
    let info = CodecInfo::new(kind, 8000, 1).unwrap();
    let mut enc = info.encoder(&EncoderSettings::default()).unwrap();
    assert_eq!(enc.info().kind, kind);
    let pcm: Vec<f32> = s16le(SPEECH).into_iter().map(i16_to_f32).collect();
    let mut out = Vec::new();
    let mut buf = [0u8; 160];
    for frame in pcm.chunks(160) {
        assert!(enc.accepts_frames(frame.len()));
        assert!(enc.max_payload(frame.len()) <= buf.len());
        let n = enc.encode(frame, &mut buf).unwrap();
        assert_eq!(n, frame.len());
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// Decodes a G.711 byte stream in 20 ms payloads through the trait object.
fn decode_stream(kind: CodecKind, bytes: &[u8]) -> Vec<i16> {
    let info = CodecInfo::new(kind, 8000, 1).unwrap();
    let mut dec = info.decoder().unwrap();
    assert_eq!(dec.info().kind, kind);
    assert_eq!(dec.max_frames(), MAX_FRAMES);
    let mut out = vec![0f32; dec.max_frames()];
    let mut pcm = Vec::new();
    for payload in bytes.chunks(160) {
        assert_eq!(dec.frames_in(payload).unwrap(), payload.len());
        let n = dec.decode(payload, &mut out).unwrap();
        assert_eq!(n, payload.len());
        pcm.extend(out[..n].iter().map(|&x| f32_to_i16(x)));
    }
    pcm
}

#[test]
fn pcmu_speech_encode_matches_ffmpeg() {
    let ours = encode_speech(CodecKind::Pcmu);
    assert_eq!(ours.len(), PCMU.len());
    assert!(ours == PCMU, "PCMU bytes differ from ffmpeg");
}

#[test]
fn pcma_speech_encode_matches_ffmpeg() {
    let ours = encode_speech(CodecKind::Pcma);
    assert_eq!(ours.len(), PCMA.len());
    assert!(ours == PCMA, "PCMA bytes differ from ffmpeg");
}

#[test]
fn pcmu_speech_decode_matches_ffmpeg() {
    assert!(decode_stream(CodecKind::Pcmu, PCMU) == s16le(PCMU_DECODED));
}

#[test]
fn pcma_speech_decode_matches_ffmpeg() {
    assert!(decode_stream(CodecKind::Pcma, PCMA) == s16le(PCMA_DECODED));
}

#[test]
fn decoder_output_is_exact_f32() {
    let mut dec = PcmaDecoder::new();
    let codes: Vec<u8> = (0..=255).collect();
    let mut out = [0f32; 256];
    assert_eq!(dec.decode(&codes, &mut out).unwrap(), 256);
    for (c, &x) in codes.iter().zip(&out) {
        assert_eq!(x, alaw_to_linear(*c) as f32 / 32768.0);
    }
}

#[test]
fn output_too_small_is_an_error() {
    let mut dec = PcmuDecoder::new();
    let mut out = [0f32; 159];
    assert_eq!(
        dec.decode(&[0xFF; 160], &mut out),
        Err(CodecError::OutputTooSmall {
            needed: 160,
            got: 159
        })
    );
    let mut enc = PcmuEncoder::new();
    let mut bytes = [0u8; 10];
    assert_eq!(
        enc.encode(&[0.0; 11], &mut bytes),
        Err(CodecError::OutputTooSmall {
            needed: 11,
            got: 10
        })
    );
}

#[test]
fn frame_count_limits() {
    let mut dec = PcmuDecoder::new();
    let mut out = vec![0f32; MAX_FRAMES + 1];
    assert_eq!(dec.decode(&[], &mut out), Ok(0));
    assert_eq!(
        dec.decode(&vec![0xFF; MAX_FRAMES], &mut out),
        Ok(MAX_FRAMES)
    );
    let long = vec![0xFF; MAX_FRAMES + 1];
    assert!(matches!(
        dec.decode(&long, &mut out),
        Err(CodecError::InvalidPayload(_))
    ));
    assert!(dec.frames_in(&long).is_err());

    let mut enc = PcmuEncoder::new();
    assert!(enc.accepts_frames(1) && enc.accepts_frames(80) && enc.accepts_frames(MAX_FRAMES));
    assert!(!enc.accepts_frames(0) && !enc.accepts_frames(MAX_FRAMES + 1));
    let mut bytes = vec![0u8; MAX_FRAMES + 1];
    assert_eq!(
        enc.encode(&[], &mut bytes),
        Err(CodecError::BadFrameCount(0))
    );
    assert_eq!(
        enc.encode(&vec![0.0; MAX_FRAMES + 1], &mut bytes),
        Err(CodecError::BadFrameCount(MAX_FRAMES + 1))
    );
    // Odd sizes are fine: G.711 has no framing.
    assert_eq!(enc.encode(&[0.1; 7], &mut bytes), Ok(7));
}

#[test]
fn non_finite_input_saturates() {
    let cases = [CodecKind::Pcmu, CodecKind::Pcma];
    for kind in cases {
        let info = CodecInfo::new(kind, 8000, 1).unwrap();
        let mut enc = info.encoder(&EncoderSettings::default()).unwrap();
        let mut out = [0u8; 5];
        let pcm = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 2.0, -2.0];
        enc.encode(&pcm, &mut out).unwrap();
        let enc1: fn(i16) -> u8 = if kind == CodecKind::Pcmu {
            linear_to_ulaw
        } else {
            linear_to_alaw
        };
        let want = [0, 32767, -32768, 32767, -32768].map(enc1);
        assert_eq!(out, want, "{kind:?}");
    }
}
