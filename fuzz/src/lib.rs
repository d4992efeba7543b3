//! Helpers shared by the fuzz targets: a byte reader that never fails
//! (missing bytes read as zero) and the framing used by the multi-message
//! targets, so that seed files can be written by hand or from fixtures
//! (`fuzz/seeds.py`).
//!
//! Framing of a message sequence: each message is `tag: u8`,
//! `len: u16 little-endian`, then `len` bytes (cut short at the end of the
//! input). What the tag means is up to the target.

/// Reads little-endian values from the front of a byte slice; past the end
/// everything reads as 0.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    /// Bytes left.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    /// No bytes left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }

    /// One byte.
    pub fn u8(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        let b = self.bytes(2);
        let mut a = [0u8; 2];
        a[..b.len()].copy_from_slice(b);
        u16::from_le_bytes(a)
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> u32 {
        let b = self.bytes(4);
        let mut a = [0u8; 4];
        a[..b.len()].copy_from_slice(b);
        u32::from_le_bytes(a)
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> u64 {
        let b = self.bytes(8);
        let mut a = [0u8; 8];
        a[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(a)
    }

    /// A bool from the low bit of a byte.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// One framed message: `(tag, body)`, `None` when the input is used up.
    pub fn message(&mut self) -> Option<(u8, &'a [u8])> {
        if self.data.is_empty() {
            return None;
        }
        let tag = self.u8();
        let len = self.u16() as usize;
        Some((tag, self.bytes(len)))
    }

    /// A time value: usually a small step, sometimes something hostile
    /// (negative, huge, NaN, infinite) so the "never panics on any time"
    /// contracts are exercised too.
    pub fn time_step_ms(&mut self) -> f64 {
        let sel = self.u8();
        match sel {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -(self.u16() as f64),
            4 => f64::from_bits(self.u64()),
            5 => 1e15,
            _ => self.u16() as f64 / 8.0,
        }
    }
}

/// Asserts every sample is a finite number (no NaN or infinity reaches the
/// speakers whatever the input).
pub fn assert_finite(samples: &[f32], what: &str) {
    if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
        panic!("{what}: sample {i} is {}", samples[i]);
    }
}

use voxlet::codec::CodecInfo;

/// Drives one decoder with a framed sequence of payloads. Tags: `0..=199`
/// decode the body; `200..=219` conceal (`body[0]` × 10 frames), `220..=239`
/// recover with FEC from the body, `240..=249` decode into a buffer that is
/// too short (must be an error, never a panic), `250..` reset.
/// Checks: the frames a decode reports fit `out` and match `frames_in`; all
/// audio is finite.
pub fn drive_decoder(info: CodecInfo, data: &[u8]) {
    let Ok(mut dec) = info.decoder() else {
        return;
    };
    let ch = info.channels as usize;
    let max = dec.max_frames();
    let mut out = vec![0f32; max * ch];
    let mut r = Reader::new(data);
    let mut steps = 0;
    while let Some((tag, body)) = r.message() {
        steps += 1;
        if steps > 64 {
            break;
        }
        match tag {
            0..=199 => {
                let expect = dec.frames_in(body);
                match dec.decode(body, &mut out) {
                    Ok(n) => {
                        assert!(n <= max, "{n} frames > max_frames {max}");
                        if let Ok(e) = expect {
                            assert_eq!(e, n, "frames_in disagrees with decode");
                        }
                        assert_finite(&out[..n * ch], "decode");
                    }
                    Err(_) => {}
                }
                let _ = dec.has_fec(body);
            }
            200..=219 => {
                let frames = body.first().copied().unwrap_or(0) as usize * 10;
                if let Ok(n) = dec.conceal(frames, &mut out) {
                    assert!(n * ch <= out.len());
                    assert_finite(&out[..n * ch], "conceal");
                }
            }
            220..=239 => {
                let frames = body.first().copied().unwrap_or(0) as usize * 10;
                if let Ok(n) = dec.decode_fec(body.get(1..).unwrap_or(&[]), frames, &mut out) {
                    assert!(n * ch <= out.len());
                    assert_finite(&out[..n * ch], "decode_fec");
                }
            }
            240..=249 => {
                let short = body.first().copied().unwrap_or(0) as usize % out.len().max(1);
                let mut small = vec![0f32; short];
                if let Ok(n) = dec.decode(body.get(1..).unwrap_or(&[]), &mut small) {
                    assert!(
                        n * ch <= small.len(),
                        "decoded {n} frames into {short} samples"
                    );
                }
            }
            _ => dec.reset(),
        }
    }
}

use voxlet::stream::{AudioFormat, StreamConfig, StreamPlayer};

/// Where the wire targets send the audio they extract: a [`StreamPlayer`]
/// at 48 kHz stereo, rendered after each chunk, so the adapters' output is
/// checked end to end (it must decode and play without panicking).
#[derive(Default)]
pub struct Playout {
    player: Option<StreamPlayer>,
    now_ms: f64,
    buf: Vec<f32>,
}

impl Playout {
    /// (Re)starts playout in `format`; an unplayable format stops it.
    pub fn set_format(&mut self, format: Option<AudioFormat>) {
        let cfg = StreamConfig {
            max_queue_ms: 2000,
            ..StreamConfig::new(48_000, 2)
        };
        self.player = format.and_then(|f| StreamPlayer::new(f, cfg).ok());
    }

    /// Queues a chunk and renders 10 ms.
    pub fn push(&mut self, bytes: &[u8]) {
        let Some(p) = self.player.as_mut() else {
            return;
        };
        let _ = p.push(bytes);
        self.buf.resize(960, 0.0);
        p.render(&mut self.buf, self.now_ms);
        assert_finite(&self.buf, "stream render");
        while p.poll_event().is_some() {}
        self.now_ms += 10.0;
    }
}
