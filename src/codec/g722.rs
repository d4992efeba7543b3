//! G.722 at 64 kbit/s (mode 1): 16 kHz wideband audio in one byte per two
//! samples, RTP payload type 9 on an 8 kHz clock (RFC 3551's historical
//! mistake, kept by every implementation).
//!
//! Why written out here rather than bound from C: the algorithm is small,
//! integer-only and fully specified, and voxlet must agree bit for bit with
//! the peers it talks to. The reference for "agree" is ffmpeg's `g722`
//! encoder (no trellis) and decoder, which follow ITU-T G.722 with their own
//! QMF arrangement and output scaling; the committed fixtures are ffmpeg
//! output and the tests compare byte for byte / sample for sample.
//!
//! Structure: a 24-tap quadrature-mirror filter pair splits (encoder) or
//! joins (decoder) the 0–4 kHz and 4–8 kHz bands at 8 kHz each; each band is
//! ADPCM-coded with an adaptive two-pole / six-zero predictor and a
//! log-domain adaptive step, 6 bits for the low band and 2 for the high band.
//! All state lives in the structs and persists across calls, so one call per
//! RTP packet gives the same stream as one call for everything. Arithmetic is
//! `i32` with the reference's clamps; every intermediate is bounded well
//! inside `i32` (products stay under 2^30), so nothing wraps or panics on any
//! input, and the steady state allocates nothing.

use super::{f32_to_i16, i16_to_f32, CodecInfo, CodecKind, Decoder, Encoder};
use crate::codec::CodecError;

/// [`Decoder::max_frames`]: one second of 16 kHz audio, more than any RTP
/// packet carries. Longer payloads still decode if `out` holds them.
pub const MAX_FRAMES: usize = 16_000;

/// The codec description every G.722 stream shares.
const INFO: CodecInfo = CodecInfo {
    kind: CodecKind::G722,
    clock_rate: 8000,
    sample_rate: 16000,
    channels: 1,
};

/// QMF taps (ITU-T G.722 table 11, half of the symmetric 24-tap filter).
const QMF: [i32; 12] = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];

/// `2048 * 2^(n/32)`: mantissa of the log-to-linear step conversion.
const INV_LOG2: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
    2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];

/// High band: log-step change by codeword parity (only the sign differs otherwise).
const HIGH_LOG_STEP: [i32; 2] = [798, -214];
/// High band: 2-bit inverse quantizer.
const HIGH_INV_QUANT: [i32; 4] = [-926, -202, 926, 202];

/// Low band: log-step change by the 4 most significant codeword bits.
const LOW_LOG_STEP: [i32; 16] = [
    -60, 3042, 1198, 538, 334, 172, 58, -30, 3042, 1198, 538, 334, 172, 58, -30, -60,
];
/// Low band: 4-bit inverse quantizer (drives the predictor in every mode).
const LOW_INV_QUANT4: [i32; 16] = [
    0, -2557, -1612, -1121, -786, -530, -323, -150, 2557, 1612, 1121, 786, 530, 323, 150, 0,
];
/// Low band: 6-bit inverse quantizer (the decoder's output at 64 kbit/s).
const LOW_INV_QUANT6: [i32; 64] = [
    -17, -17, -17, -17, -3101, -2738, -2376, -2088, -1873, -1689, -1535, -1399, -1279, -1170,
    -1072, -982, -899, -822, -750, -682, -618, -558, -501, -447, -396, -347, -300, -254, -211,
    -170, -130, -91, 3101, 2738, 2376, 2088, 1873, 1689, 1535, 1399, 1279, 1170, 1072, 982, 899,
    822, 750, 682, 618, 558, 501, 447, 396, 347, 300, 254, 211, 170, 130, 91, 54, 17, -54, -17,
];
/// Low band: 6-bit quantizer decision levels (encoder).
const LOW_QUANT: [i32; 29] = [
    35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023,
    1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919,
];

#[inline(always)]
fn clip16(x: i32) -> i32 {
    x.clamp(-32768, 32767)
}

/// Log-domain step to linear step.
#[inline(always)]
fn linear_scale_factor(log_factor: i32) -> i32 {
    let wd1 = INV_LOG2[((log_factor >> 6) & 31) as usize];
    let shift = log_factor >> 11;
    if shift < 0 {
        wd1 >> (-shift).min(31)
    } else {
        wd1 << shift.min(15)
    }
}

/// ADPCM state of one sub-band (the same for encoder and decoder).
#[derive(Clone, Copy, Debug)]
struct Band {
    /// Predicted signal for the next codeword.
    s_predictor: i32,
    /// Output of the six-zero section.
    s_zero: i32,
    /// Signs (1 = negative) of the last two partially reconstructed signals.
    part_reconst: [bool; 2],
    /// Previous reconstructed signal (times 2), for the second pole.
    prev_qtzd_reconst: i32,
    /// Pole coefficients.
    pole: [i32; 2],
    /// Last six quantized differences (times 2).
    diff: [i32; 6],
    /// Zero coefficients.
    zero: [i32; 6],
    /// Log-domain quantizer step.
    log_factor: i32,
    /// Linear quantizer step.
    scale_factor: i32,
}

impl Band {
    const fn new(scale_factor: i32) -> Band {
        Band {
            s_predictor: 0,
            s_zero: 0,
            part_reconst: [false; 2],
            prev_qtzd_reconst: 0,
            pole: [0; 2],
            diff: [0; 6],
            zero: [0; 6],
            log_factor: 0,
            scale_factor,
        }
    }

    /// Adapts the predictor to the dequantized difference `cur_diff`.
    #[inline(always)]
    fn adapt(&mut self, cur_diff: i32) {
        let cur_part = self.s_zero + cur_diff < 0;
        let sg0 = if cur_part != self.part_reconst[0] {
            1
        } else {
            -1
        };
        let sg1 = if cur_part == self.part_reconst[1] {
            1
        } else {
            -1
        };
        self.part_reconst = [cur_part, self.part_reconst[0]];

        let p1 = ((sg0 * self.pole[0].clamp(-8191, 8191)) >> 5)
            + sg1 * 128
            + ((self.pole[1] * 127) >> 7);
        let p1 = p1.clamp(-12288, 12288);
        let limit = 15360 - p1;
        let p0 = (-192 * sg0 + ((self.pole[0] * 255) >> 8)).clamp(-limit, limit);
        self.pole = [p0, p1];

        // Six-zero section: sign-sign adaptation against the *previous*
        // differences, then shift the new one in.
        let mut s_zero = 0;
        let new_diff = [
            cur_diff * 2,
            self.diff[0],
            self.diff[1],
            self.diff[2],
            self.diff[3],
            self.diff[4],
        ];
        for ((z, &old), &new) in self.zero.iter_mut().zip(&self.diff).zip(&new_diff) {
            let step = if cur_diff == 0 {
                0
            } else if (old ^ cur_diff) < 0 {
                -128
            } else {
                128
            };
            *z = ((*z * 255) >> 8) + step;
            s_zero += (new * *z) >> 15;
        }
        self.diff = new_diff;
        self.s_zero = s_zero;

        let cur_qtzd_reconst = clip16((self.s_predictor + cur_diff) * 2);
        self.s_predictor = clip16(
            s_zero + ((p0 * cur_qtzd_reconst) >> 15) + ((p1 * self.prev_qtzd_reconst) >> 15),
        );
        self.prev_qtzd_reconst = cur_qtzd_reconst;
    }

    /// Low band update from the 4 most significant bits of the codeword.
    #[inline(always)]
    fn update_low(&mut self, ilow4: usize) {
        let ilow4 = ilow4 & 15;
        self.adapt((self.scale_factor * LOW_INV_QUANT4[ilow4]) >> 10);
        self.log_factor = (((self.log_factor * 127) >> 7) + LOW_LOG_STEP[ilow4]).clamp(0, 18432);
        self.scale_factor = linear_scale_factor(self.log_factor - (8 << 11));
    }

    /// High band update from its dequantized difference and 2-bit codeword.
    #[inline(always)]
    fn update_high(&mut self, dhigh: i32, ihigh: usize) {
        self.adapt(dhigh);
        self.log_factor =
            (((self.log_factor * 127) >> 7) + HIGH_LOG_STEP[ihigh & 1]).clamp(0, 22528);
        self.scale_factor = linear_scale_factor(self.log_factor - (10 << 11));
    }
}

/// History length of the QMF buffer; shifted down every `QMF_BUF / 2` bytes.
const QMF_BUF: usize = 1024;
/// Samples of QMF history kept across a shift (the filter spans 24).
const QMF_KEEP: usize = 22;

/// The 24-tap QMF delay line, as ffmpeg keeps it: a linear buffer that is
/// shifted down when full, so each output is one contiguous 24-sample dot
/// product.
#[derive(Clone, Debug)]
struct Qmf {
    buf: [i32; QMF_BUF],
    /// Next write position; always even and in `QMF_KEEP..=QMF_BUF`.
    pos: usize,
}

impl Qmf {
    const fn new() -> Qmf {
        Qmf {
            buf: [0; QMF_BUF],
            pos: QMF_KEEP,
        }
    }

    /// Appends two samples and returns the filter outputs `[x0, x1]`: `x1`
    /// over the even-position history with the taps forward, `x0` over the
    /// odd positions with the taps reversed.
    #[inline(always)]
    fn push(&mut self, a: i32, b: i32) -> [i32; 2] {
        if self.pos >= QMF_BUF {
            self.buf.copy_within(QMF_BUF - QMF_KEEP..QMF_BUF, 0);
            self.pos = QMF_KEEP;
        }
        let pos = self.pos;
        let w = match self.buf.get_mut(pos - QMF_KEEP..pos + 2) {
            Some(w) => w,
            None => return [0, 0], // unreachable: pos is even and in 22..1024
        };
        w[22] = a;
        w[23] = b;
        self.pos = pos + 2;
        let mut x0 = 0;
        let mut x1 = 0;
        for (i, pair) in w.chunks_exact(2).enumerate() {
            x1 += pair[0] * QMF[i];
            x0 += pair[1] * QMF[11 - i];
        }
        [x0, x1]
    }
}

/// G.722 64 kbit/s encoder, bit-exact with ffmpeg's `g722` (no trellis).
#[derive(Clone, Debug)]
pub struct G722Encoder {
    low: Band,
    high: Band,
    qmf: Qmf,
}

impl Default for G722Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl G722Encoder {
    /// A fresh encoder (16 kHz mono in, PT 9 payloads out).
    pub fn new() -> G722Encoder {
        G722Encoder {
            low: Band::new(8),
            high: Band::new(2),
            qmf: Qmf::new(),
        }
    }

    #[inline(always)]
    fn encode_pair(&mut self, s0: i16, s1: i16) -> u8 {
        let [x0, x1] = self.qmf.push(s0 as i32, s1 as i32);
        let xlow = (x0 + x1) >> 14;
        let xhigh = (x0 - x1) >> 14;

        // High band: 2-bit quantizer (sign and one magnitude decision).
        let h = &self.high;
        let diff = clip16(xhigh - h.s_predictor);
        let pred = (141 * h.scale_factor) >> 8;
        let ihigh = ((diff ^ (diff >> 31)) < pred) as usize + 2 * (diff >= 0) as usize;

        // Low band: 6-bit quantizer over |diff| (one's complement for negatives).
        let l = &self.low;
        let diff = clip16(xlow - l.s_predictor);
        let limit = ((diff ^ (diff >> 31)) + 1) << 10;
        let sf = l.scale_factor;
        let i = LOW_QUANT.partition_point(|&q| limit > q * sf) as i32;
        let ilow = if diff < 0 {
            if i < 2 {
                63 - i
            } else {
                33 - i
            }
        } else {
            61 - i
        } as usize;

        let dhigh = (self.high.scale_factor * HIGH_INV_QUANT[ihigh & 3]) >> 10;
        self.high.update_high(dhigh, ihigh);
        self.low.update_low(ilow >> 2);
        ((ihigh << 6) | (ilow & 63)) as u8
    }

    /// Encodes 16-bit PCM (an even, non-zero sample count, any length) into
    /// `out`, one byte per two samples; returns the bytes written.
    pub fn encode_i16(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        check_frames(pcm.len())?;
        let n = pcm.len() / 2;
        let out = check_out(out, n)?;
        for (o, s) in out.iter_mut().zip(pcm.chunks_exact(2)) {
            *o = self.encode_pair(s[0], s[1]);
        }
        Ok(n)
    }
}

fn check_frames(frames: usize) -> Result<(), CodecError> {
    if frames % 2 != 0 || frames == 0 {
        return Err(CodecError::BadFrameCount(frames));
    }
    Ok(())
}

fn check_out<T>(out: &mut [T], needed: usize) -> Result<&mut [T], CodecError> {
    let got = out.len();
    out.get_mut(..needed)
        .ok_or(CodecError::OutputTooSmall { needed, got })
}

impl Encoder for G722Encoder {
    fn info(&self) -> &CodecInfo {
        &INFO
    }

    fn accepts_frames(&self, frames: usize) -> bool {
        check_frames(frames).is_ok()
    }

    fn max_payload(&self, frames: usize) -> usize {
        frames / 2 + frames % 2
    }

    fn encode(&mut self, pcm: &[f32], out: &mut [u8]) -> Result<usize, CodecError> {
        check_frames(pcm.len())?;
        let n = pcm.len() / 2;
        let out = check_out(out, n)?;
        for (o, s) in out.iter_mut().zip(pcm.chunks_exact(2)) {
            *o = self.encode_pair(f32_to_i16(s[0]), f32_to_i16(s[1]));
        }
        Ok(n)
    }

    fn reset(&mut self) {
        *self = G722Encoder::new();
    }
}

/// G.722 64 kbit/s decoder, bit-exact with ffmpeg's `g722` decoder.
#[derive(Clone, Debug)]
pub struct G722Decoder {
    low: Band,
    high: Band,
    qmf: Qmf,
}

impl Default for G722Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl G722Decoder {
    /// A fresh decoder (PT 9 payloads in, 16 kHz mono out).
    pub fn new() -> G722Decoder {
        G722Decoder {
            low: Band::new(8),
            high: Band::new(2),
            qmf: Qmf::new(),
        }
    }

    #[inline(always)]
    fn decode_byte(&mut self, byte: u8) -> [i16; 2] {
        let ihigh = (byte >> 6) as usize;
        let ilow = (byte & 63) as usize;

        let rlow = ((self.low.scale_factor * LOW_INV_QUANT6[ilow]) >> 10) + self.low.s_predictor;
        let rlow = rlow.clamp(-16384, 16383);
        self.low.update_low(ilow >> 2);

        let dhigh = (self.high.scale_factor * HIGH_INV_QUANT[ihigh & 3]) >> 10;
        let rhigh = (dhigh + self.high.s_predictor).clamp(-16384, 16383);
        self.high.update_high(dhigh, ihigh);

        let [x0, x1] = self.qmf.push(rlow + rhigh, rlow - rhigh);
        [clip16(x0 >> 11) as i16, clip16(x1 >> 11) as i16]
    }

    /// Decodes a payload into 16-bit PCM, two samples per byte; returns the
    /// samples written.
    /// Unlike [`Decoder::decode`], any payload length is accepted (bulk use).
    pub fn decode_i16(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let n = payload.len().saturating_mul(2);
        let out = check_out(out, n)?;
        for (o, &b) in out.chunks_exact_mut(2).zip(payload) {
            let [a, c] = self.decode_byte(b);
            o[0] = a;
            o[1] = c;
        }
        Ok(n)
    }
}

impl Decoder for G722Decoder {
    fn info(&self) -> &CodecInfo {
        &INFO
    }

    fn max_frames(&self) -> usize {
        MAX_FRAMES
    }

    fn frames_in(&self, payload: &[u8]) -> Result<usize, CodecError> {
        let n = payload.len().saturating_mul(2);
        if n > MAX_FRAMES {
            return Err(CodecError::InvalidPayload("G.722 payload longer than 1 s"));
        }
        Ok(n)
    }

    fn decode(&mut self, payload: &[u8], out: &mut [f32]) -> Result<usize, CodecError> {
        let n = self.frames_in(payload)?;
        let out = check_out(out, n)?;
        for (o, &b) in out.chunks_exact_mut(2).zip(payload) {
            let [a, c] = self.decode_byte(b);
            o[0] = i16_to_f32(a);
            o[1] = i16_to_f32(c);
        }
        Ok(n)
    }

    fn reset(&mut self) {
        *self = G722Decoder::new();
    }
}
