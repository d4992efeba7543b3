//! The Opus decode-script player shared by `tests/codec_opus.rs` (which
//! checks the wasm build against the native reference decode) and
//! `examples/opus_ref.rs` (which writes that reference).
//!
//! Script format, records back to back (integers little-endian):
//! - `b'C'`, channels `u8`: start a new stream with a fresh decoder;
//! - `b'D'`, len `u16`, bytes: `decode`;
//! - `b'P'`, frames `u16`: `conceal`;
//! - `b'F'`, frames `u16`, len `u16`, bytes: `decode_fec` with that packet.

use voxlet::codec::opus::OpusDecoder;
use voxlet::codec::{CodecInfo, CodecKind, Decoder};

/// Runs a decode script; returns all decoded samples (interleaved,
/// streams concatenated).
pub fn run_script(mut s: &[u8]) -> Vec<f32> {
    fn take<'a>(s: &mut &'a [u8], n: usize) -> &'a [u8] {
        let (a, b) = s.split_at(n);
        *s = b;
        a
    }
    fn u16_at(s: &mut &[u8]) -> usize {
        let b = take(s, 2);
        u16::from_le_bytes([b[0], b[1]]) as usize
    }
    let mut all = Vec::new();
    let mut dec: Option<OpusDecoder> = None;
    let mut buf = vec![0f32; 5760 * 2];
    while !s.is_empty() {
        let op = take(&mut s, 1)[0];
        let n = match op {
            b'C' => {
                let ch = take(&mut s, 1)[0] as u16;
                dec = Some(
                    OpusDecoder::new(
                        CodecInfo::new(CodecKind::Opus, 48000, 2)
                            .and_then(|i| i.with_channels(ch))
                            .expect("opus info"),
                    )
                    .expect("decoder"),
                );
                continue;
            }
            b'D' => {
                let len = u16_at(&mut s);
                let p = take(&mut s, len);
                dec.as_mut().unwrap().decode(p, &mut buf).expect("decode")
            }
            b'P' => {
                let frames = u16_at(&mut s);
                dec.as_mut()
                    .unwrap()
                    .conceal(frames, &mut buf)
                    .expect("conceal")
            }
            b'F' => {
                let frames = u16_at(&mut s);
                let len = u16_at(&mut s);
                let p = take(&mut s, len);
                dec.as_mut()
                    .unwrap()
                    .decode_fec(p, frames, &mut buf)
                    .expect("fec")
            }
            _ => panic!("bad script op {op}"),
        };
        let ch = dec.as_ref().unwrap().info().channels as usize;
        all.extend_from_slice(&buf[..n * ch]);
    }
    all
}
