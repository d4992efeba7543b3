//! Resampler, time-stretch and concealment: behaviour measured on synthetic
//! signals (tones, harmonic tones, a synthetic vowel, noise), with bounds a
//! little looser than what `examples/bench_dsp.rs` measures.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::f64::consts::PI;

use voxlet::dsp::{cross_fade, Concealer, DspError, Quality, Resampler, StretchMode, TimeStretch};
use voxlet_support::signal::{channel, db, ncc as corr, rms, s16le_f32 as speech};

// ---------------------------------------------------------------- helpers

static SPEECH_8K: &[u8] = include_bytes!("fixtures/speech_8k.s16le");
static SPEECH_48K: &[u8] = include_bytes!("fixtures/speech_48k.s16le");

fn sine(rate: u32, freq: f64, amp: f64, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|i| (amp * (2.0 * PI * freq * i as f64 / rate as f64).sin()) as f32)
        .collect()
}

/// Sum of harmonics 1..=5 of `f0` with falling amplitudes (peak < 0.8).
fn harmonic(rate: u32, f0: f64, frames: usize, phase: f64) -> Vec<f32> {
    (0..frames)
        .map(|i| {
            let t = i as f64 / rate as f64;
            (1..=5)
                .map(|k| 0.3 / k as f64 * (2.0 * PI * f0 * k as f64 * t + phase * k as f64).sin())
                .sum::<f64>() as f32
        })
        .collect()
}

/// A synthetic /a/: an impulse train with period `period` frames through
/// three formant resonators (700, 1220, 2600 Hz), settled, peak 0.5.
fn vowel(rate: u32, period: usize, frames: usize) -> Vec<f32> {
    let settle = rate as usize / 5;
    let mut x: Vec<f64> = (0..settle + frames)
        .map(|i| if i % period == 0 { 1.0 } else { 0.0 })
        .collect();
    for &(f, bw) in &[(700.0, 90.0), (1220.0, 110.0), (2600.0, 160.0)] {
        let r = (-PI * bw / rate as f64).exp();
        let (a1, a2) = (2.0 * r * (2.0 * PI * f / rate as f64).cos(), -r * r);
        let (mut y1, mut y2) = (0.0, 0.0);
        for v in x.iter_mut() {
            let y = *v + a1 * y1 + a2 * y2;
            (y2, y1) = (y1, y);
            *v = y;
        }
    }
    let x = &x[settle..];
    let peak = x.iter().fold(0f64, |m, v| m.max(v.abs()));
    x.iter().map(|v| (0.5 * v / peak) as f32).collect()
}

/// Uniform white noise in [-amp·√3, amp·√3) (rms `amp`), deterministic.
fn noise(frames: usize, amp: f32, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..frames)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0) * amp * 3f32.sqrt()
        })
        .collect()
}

fn interleave(l: &[f32], r: &[f32]) -> Vec<f32> {
    l.iter().zip(r).flat_map(|(a, b)| [*a, *b]).collect()
}

fn max_jump(x: &[f32]) -> f32 {
    x.windows(2).fold(0f32, |m, w| m.max((w[1] - w[0]).abs()))
}

fn bessel_i0(x: f64) -> f64 {
    let (mut s, mut t, mut k) = (1.0, 1.0, 1.0);
    while t > s * 1e-17 {
        t *= (x / 2.0 / k) * (x / 2.0 / k);
        s += t;
        k += 1.0;
    }
    s
}

/// Windowed DFT (Goertzel-style single bins) of one signal: Kaiser β=20
/// window, sidelobes far below the levels measured.
struct Spectrum {
    x: Vec<f64>,
    wsum: f64,
    rate: f64,
}

impl Spectrum {
    fn new(x: &[f32], rate: u32) -> Spectrum {
        let n = x.len();
        let i0b = bessel_i0(20.0);
        let mut wsum = 0.0;
        let x = x
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let r = 2.0 * i as f64 / (n - 1) as f64 - 1.0;
                let w = bessel_i0(20.0 * (1.0 - r * r).max(0.0).sqrt()) / i0b;
                wsum += w;
                w * *v as f64
            })
            .collect();
        Spectrum {
            x,
            wsum,
            rate: rate as f64,
        }
    }

    /// Amplitude of the `freq` component.
    fn amp(&self, freq: f64) -> f64 {
        let w = 2.0 * PI * freq / self.rate;
        let (c, s) = (w.cos(), w.sin());
        let (mut re, mut im) = (1.0f64, 0.0f64);
        let (mut ar, mut ai) = (0.0, 0.0);
        for (i, v) in self.x.iter().enumerate() {
            ar += v * re;
            ai -= v * im;
            (re, im) = (re * c - im * s, re * s + im * c);
            if i % 1024 == 1023 {
                let m = (re * re + im * im).sqrt();
                (re, im) = (re / m, im / m);
            }
        }
        2.0 * (ar * ar + ai * ai).sqrt() / self.wsum
    }
}

/// Resamples a `freq` tone of amplitude 0.5 and returns `frames` steady-state
/// output frames.
fn resample_tone(rs: &mut Resampler, freq: f64, frames: usize) -> Vec<f32> {
    rs.reset();
    let skip = rs.latency_frames() + 64;
    let n_in = rs.input_frames_needed(skip + frames);
    let input = sine(rs.in_rate(), freq, 0.5, n_in);
    let mut out = vec![0f32; skip + frames];
    assert_eq!(rs.process(&input, &mut out), (n_in, skip + frames));
    out.split_off(skip)
}

fn fold(f: f64, rate: f64) -> f64 {
    let r = f.rem_euclid(rate);
    if r > rate / 2.0 {
        rate - r
    } else {
        r
    }
}

/// Worst spur (dB re the tone's input amplitude) over the places `m·in ± f`
/// fold to in the output band, excluding the tone itself.
fn worst_spur(rs: &mut Resampler, tones: &[f64]) -> f64 {
    let (fi, fo) = (rs.in_rate() as f64, rs.out_rate() as f64);
    let mut worst = f64::MIN;
    for &f in tones {
        let out = resample_tone(rs, f, rs.out_rate() as usize / 4);
        let sp = Spectrum::new(&out, rs.out_rate());
        for m in 0..=4 {
            for g in [m as f64 * fi - f, m as f64 * fi + f] {
                let s = fold(g, fo);
                let is_tone = f < fo / 2.0 && (s - f).abs() < 40.0;
                if g <= 0.0 || is_tone || s < 40.0 || s > fo / 2.0 - 40.0 {
                    continue;
                }
                worst = worst.max(db(sp.amp(s) / 0.5));
            }
        }
    }
    worst
}

/// Frequency from zero crossings (±1 crossing over the span).
fn zero_cross_freq(x: &[f32], rate: u32) -> f64 {
    let idx: Vec<f64> = x
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] <= 0.0 && w[1] > 0.0)
        .map(|(i, w)| i as f64 + (-w[0] / (w[1] - w[0])) as f64)
        .collect();
    let (a, b) = (idx[0], idx[idx.len() - 1]);
    (idx.len() - 1) as f64 * rate as f64 / (b - a)
}

// -------------------------------------------------------------- resampler

const PAIRS: &[(u32, u32)] = &[
    (8000, 48000),
    (16000, 48000),
    (48000, 44100),
    (44100, 16000),
    (8000, 44100),
    (48000, 8000),
    (44100, 48000),
];

#[test]
fn resample_preserves_tone_frequency_and_amplitude() {
    for &(fin, fout) in PAIRS {
        let mut rs = Resampler::new(fin, fout, 1).unwrap();
        for &f in &[440.0, 1000.0, 3000.0] {
            let out = resample_tone(&mut rs, f, fout as usize / 2);
            let a = Spectrum::new(&out, fout).amp(f);
            assert!((db(a / 0.5)).abs() < 0.01, "{fin}->{fout} {f} Hz: {a}");
            let fe = zero_cross_freq(&out, fout);
            assert!((fe - f).abs() < 0.1, "{fin}->{fout} {f} Hz measured {fe}");
        }
    }
}

#[test]
fn resample_image_rejection() {
    // Bench (24-tone sweep): Low -54.8, Medium -78.7, High -100 dB.
    for &(fin, fout) in &[(8000, 48000), (16000, 48000), (44100, 48000), (8000, 44100)] {
        let low = fin.min(fout) as f64;
        let tones = [0.06 * low, 0.25 * low, 0.45 * low];
        for (q, bound) in [
            (Quality::Low, -50.0),
            (Quality::Medium, -75.0),
            (Quality::High, -95.0),
        ] {
            let mut rs = Resampler::with_quality(fin, fout, 1, q).unwrap();
            let w = worst_spur(&mut rs, &tones);
            assert!(w < bound, "{fin}->{fout} {q:?}: worst image {w:.1} dB");
        }
    }
    // The classic case: images of 1 kHz at 7, 9, 15, 17, 23 kHz (bench:
    // -110 dB and below).
    let mut rs = Resampler::new(8000, 48000, 1).unwrap();
    let sp = Spectrum::new(&resample_tone(&mut rs, 1000.0, 24000), 48000);
    for img in [7000.0, 9000.0, 15000.0, 17000.0, 23000.0] {
        let l = db(sp.amp(img) / 0.5);
        assert!(l < -100.0, "image at {img}: {l:.1} dB");
    }
}

#[test]
fn resample_alias_rejection() {
    // 48 kHz -> 16 kHz: a 10 kHz tone would alias to 6 kHz (bench: -104 dB).
    let mut rs = Resampler::new(48000, 16000, 1).unwrap();
    let sp = Spectrum::new(&resample_tone(&mut rs, 10000.0, 8000), 16000);
    let l = db(sp.amp(6000.0) / 0.5);
    assert!(l < -95.0, "10 kHz alias at 6 kHz: {l:.1} dB");
    // Stopband tones whose aliases land in the passband (bench: -78 dB).
    for &(fin, fout) in &[(48000, 16000), (44100, 16000), (48000, 8000)] {
        let fo = fout as f64;
        let top = fin as f64 / 2.0 - 100.0;
        let tones = [0.55 * fo, 0.7 * fo, fo, top];
        let mut rs = Resampler::new(fin, fout, 1).unwrap();
        let w = worst_spur(&mut rs, &tones);
        assert!(w < -75.0, "{fin}->{fout}: worst alias {w:.1} dB");
    }
}

#[test]
fn resample_passband_ripple() {
    // Bench: 0.0014 dB at Medium up to 0.9 x Nyquist of the lower rate.
    for &(fin, fout) in &[(8000, 48000), (48000, 16000), (48000, 44100)] {
        let mut rs = Resampler::new(fin, fout, 1).unwrap();
        let low = fin.min(fout) as f64;
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for k in 1..=9 {
            let f = (0.05 * k as f64 * low).round();
            let out = resample_tone(&mut rs, f, fout as usize / 4);
            let a = db(Spectrum::new(&out, fout).amp(f) / 0.5);
            lo = lo.min(a);
            hi = hi.max(a);
        }
        assert!(hi - lo < 0.01, "{fin}->{fout} ripple {:.4} dB", hi - lo);
        assert!(
            lo > -0.01 && hi < 0.01,
            "{fin}->{fout} gain {lo:.4}..{hi:.4} dB"
        );
    }
}

fn one_shot(rs: &mut Resampler, input: &[f32]) -> Vec<f32> {
    rs.reset();
    let ch = rs.channels();
    let mut out = vec![0f32; rs.max_output_frames(input.len() / ch) * ch];
    let expect = rs.output_frames_available(input.len() / ch);
    let (c, n) = rs.process(input, &mut out);
    assert_eq!((c, n), (input.len() / ch, expect));
    out.truncate(n * ch);
    out
}

#[test]
fn resample_streaming_equals_one_shot() {
    let sizes = [1usize, 7, 128, 441];
    for &(fin, fout, ch) in &[
        (8000, 48000, 1),
        (16000, 48000, 2),
        (48000, 44100, 1),
        (44100, 16000, 2),
        (8001, 48000, 1),
        (48000, 48000, 2),
    ] {
        let mut rs = Resampler::new(fin, fout, ch).unwrap();
        let input: Vec<f32> = noise(fin as usize / 5 * ch, 0.3, fin);
        let reference = one_shot(&mut rs, &input);

        // Push: odd input block sizes, plenty of output room.
        rs.reset();
        let mut pushed = Vec::new();
        let mut buf = vec![0f32; rs.max_output_frames(441) * ch];
        let (mut pos, mut k) = (0, 0);
        while pos < input.len() {
            let n = (sizes[k % 4] * ch).min(input.len() - pos);
            let expect = rs.output_frames_available(n / ch);
            let (c, o) = rs.process(&input[pos..pos + n], &mut buf);
            assert_eq!((c, o), (n / ch, expect));
            pushed.extend_from_slice(&buf[..o * ch]);
            pos += n;
            k += 1;
        }
        assert_eq!(pushed, reference, "push {fin}->{fout}x{ch}");

        // Pull: odd output block sizes, exactly the input asked for.
        rs.reset();
        let mut pulled = Vec::new();
        let (mut pos, mut k) = (0, 0);
        loop {
            let want = sizes[k % 4];
            let need = rs.input_frames_needed(want);
            assert!(need <= rs.max_input_frames_needed(want));
            if pos + need * ch > input.len() {
                break;
            }
            let mut out = vec![0f32; want * ch];
            let got = rs.process(&input[pos..pos + need * ch], &mut out);
            assert_eq!(got, (need, want));
            pulled.extend_from_slice(&out);
            pos += need * ch;
            k += 1;
        }
        assert!(pulled.len() > reference.len() * 9 / 10);
        assert_eq!(
            pulled[..],
            reference[..pulled.len()],
            "pull {fin}->{fout}x{ch}"
        );
    }
}

#[test]
fn resample_latency_matches_impulse() {
    for &(fin, fout) in &[
        (8000, 48000),
        (16000, 48000),
        (48000, 44100),
        (44100, 48000),
        (48000, 16000),
        (44100, 16000),
        (8000, 44100),
        (8001, 48000),
    ] {
        for q in [Quality::Low, Quality::Medium, Quality::High] {
            let mut rs = Resampler::with_quality(fin, fout, 1, q).unwrap();
            let g = gcd(fin, fout);
            let k0 = (fin / g) as usize; // lands on a whole output frame
            let mut input = vec![0f32; k0 + 4 * rs.latency_frames() + 400];
            input[k0] = 1.0;
            let out = one_shot(&mut rs, &input);
            let peak = (0..out.len())
                .max_by(|&a, &b| out[a].abs().total_cmp(&out[b].abs()))
                .unwrap();
            let expect = (fout / g) as usize + rs.latency_frames();
            assert_eq!(peak, expect, "{fin}->{fout} {q:?}");
        }
    }
    assert_eq!(Resampler::new(16000, 16000, 1).unwrap().latency_frames(), 0);
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[test]
fn resample_nan_does_not_poison() {
    for &(fin, fout) in &[(8000, 48000), (48000, 16000), (16000, 16000)] {
        let mut rs = Resampler::new(fin, fout, 1).unwrap();
        let clean = sine(fin, 700.0, 0.5, fin as usize / 10);
        let mut dirty = clean.clone();
        let mut zeroed = clean.clone();
        for (i, v) in [
            (100, f32::NAN),
            (101, f32::INFINITY),
            (300, f32::NEG_INFINITY),
        ] {
            dirty[i] = v;
            zeroed[i] = 0.0;
        }
        let a = one_shot(&mut rs, &dirty);
        let b = one_shot(&mut rs, &zeroed);
        assert!(a.iter().all(|v| v.is_finite()));
        assert_eq!(a, b, "{fin}->{fout}");
    }
}

#[test]
fn resample_stereo_channels_independent() {
    let l = sine(16000, 1000.0, 0.5, 4000);
    let r = noise(4000, 0.2, 7);
    let silent = vec![0f32; 4000];
    let mut mono = Resampler::new(16000, 44100, 1).unwrap();
    let mut st = Resampler::new(16000, 44100, 2).unwrap();
    let ml = one_shot(&mut mono, &l);
    let mr = one_shot(&mut mono, &r);
    let out = one_shot(&mut st, &interleave(&l, &r));
    assert_eq!(channel(&out, 0, 2), ml);
    assert_eq!(channel(&out, 1, 2), mr);
    let out = one_shot(&mut st, &interleave(&silent, &l));
    assert!(channel(&out, 0, 2).iter().all(|v| *v == 0.0));
    assert_eq!(channel(&out, 1, 2), ml);
}

#[test]
fn resample_passthrough_and_config() {
    let mut rs = Resampler::new(48000, 48000, 2).unwrap();
    assert!(rs.is_passthrough());
    let x = noise(256, 0.5, 3);
    let mut out = vec![0f32; 200];
    assert_eq!(rs.process(&x, &mut out), (100, 100));
    assert_eq!(out[..], x[..200]);
    assert_eq!(
        Resampler::new(7999, 48000, 1).unwrap_err(),
        DspError::UnsupportedRate(7999)
    );
    assert_eq!(
        Resampler::new(8000, 96001, 1).unwrap_err(),
        DspError::UnsupportedRate(96001)
    );
    assert_eq!(
        Resampler::new(8000, 16000, 3).unwrap_err(),
        DspError::UnsupportedChannels(3)
    );
    assert!(Resampler::new(8000, 16000, 0).is_err());
    assert!(Resampler::new(96000, 8000, 2).is_ok());
    // Empty and short slices are fine.
    let mut rs = Resampler::new(8000, 48000, 2).unwrap();
    assert_eq!(rs.process(&[], &mut []), (0, 0));
    assert_eq!(rs.process(&[0.1], &mut [0.0; 1]), (0, 0));
    assert_eq!(rs.input_frames_needed(0), 0);
}

// ----------------------------------------------------------- time-stretch

#[test]
fn accelerate_removes_whole_periods_of_harmonic_tone() {
    for &rate in &[8000u32, 16000, 48000] {
        let period = rate as usize / 200;
        let x = harmonic(rate, 200.0, rate as usize * 40 / 1000, 0.3);
        let mut ts = TimeStretch::new(rate, 1).unwrap();
        let mut out = vec![0f32; x.len()];
        let r = ts.accelerate(&x, &mut out, false);
        assert_eq!(r.mode, StretchMode::Periodic, "{rate}: {r:?}");
        assert!(r.changed > 0 && r.changed % period == 0, "{rate}: {r:?}");
        assert!(r.correlation > 0.99);
        assert_eq!(r.frames, x.len() - r.changed);
        let y = &out[..r.frames];
        // Exactly periodic: the output is the input with whole periods cut,
        // so it still matches the same waveform everywhere.
        let u = ts.max_period_frames();
        for (i, v) in y.iter().enumerate() {
            let src = if i < u - r.changed { i } else { i + r.changed };
            assert!((v - x[src]).abs() < 1e-4, "{rate} @{i}");
        }
        assert!(max_jump(y) <= max_jump(&x) * 1.01);
    }
}

#[test]
fn accelerate_and_expand_synthetic_vowel() {
    for &(rate, period) in &[(8000u32, 64usize), (16000, 128), (48000, 384)] {
        let x = vowel(rate, period, rate as usize * 30 / 1000);
        let mut ts = TimeStretch::new(rate, 1).unwrap();
        let mut out = vec![0f32; x.len() + ts.max_period_frames()];

        let r = ts.accelerate(&x, &mut out, false);
        assert_eq!(r.mode, StretchMode::Periodic, "{rate}: {r:?}");
        assert!(r.changed > 0 && r.changed % period == 0, "{rate}: {r:?}");
        assert_eq!(r.frames, x.len() - r.changed);
        assert!(max_jump(&out[..r.frames]) <= max_jump(&x) * 1.05 + 1e-6);

        let r = ts.expand(&x, &mut out);
        assert_eq!(r.mode, StretchMode::Periodic, "{rate}: {r:?}");
        assert!(r.changed > 0 && r.changed % period == 0, "{rate}: {r:?}");
        assert_eq!(r.frames, x.len() + r.changed);
        let u = ts.max_period_frames();
        assert_eq!(out[..u], x[..u]);
        assert_eq!(out[u + r.changed..r.frames], x[u..]);
        assert!(max_jump(&out[..r.frames]) <= max_jump(&x) * 1.05 + 1e-6);
    }
}

#[test]
fn fast_accelerate_removes_several_periods() {
    let rate = 16000;
    let x = harmonic(rate, 250.0, 480, 0.0); // period 64 frames, 30 ms
    let mut ts = TimeStretch::new(rate, 1).unwrap();
    let mut out = vec![0f32; x.len()];
    let r = ts.accelerate(&x, &mut out, true);
    assert_eq!(r.mode, StretchMode::Periodic);
    assert_eq!(r.changed % 64, 0);
    // As many whole periods as fit in 15 ms (240 frames).
    assert!(r.changed > 240 - 64 && r.changed <= 240, "{r:?}");
    assert!(max_jump(&out[..r.frames]) <= max_jump(&x) * 1.01);
}

#[test]
fn noise_is_stretched_only_when_quiet() {
    for &rate in &[8000u32, 48000] {
        let n = rate as usize * 30 / 1000;
        let mut ts = TimeStretch::new(rate, 1).unwrap();
        let mut out = vec![0f32; n + ts.max_period_frames()];
        // Normal level (-20 dBFS): not periodic, left alone.
        let loud = noise(n, 0.1, rate);
        let r = ts.accelerate(&loud, &mut out, false);
        assert_eq!(
            (r.mode, r.frames, r.changed),
            (StretchMode::Unchanged, n, 0)
        );
        assert!(r.correlation < 0.9);
        assert_eq!(out[..n], loud[..]);
        let r = ts.expand(&loud, &mut out);
        assert_eq!((r.mode, r.frames), (StretchMode::Unchanged, n));
        // -60 dBFS: below the quiet level, stretched like NetEq's passive speech.
        let quiet = noise(n, 0.001, rate + 1);
        let r = ts.accelerate(&quiet, &mut out, false);
        assert_eq!(r.mode, StretchMode::Quiet);
        assert_eq!(r.frames, n - r.changed);
        assert!(r.changed >= rate as usize / 400);
        let r = ts.expand(&quiet, &mut out);
        assert_eq!(r.mode, StretchMode::Quiet);
        assert_eq!(r.frames, n + r.changed);
        // Quiet detection off: quiet noise is noise.
        ts.set_quiet_level(0.0);
        assert_eq!(
            ts.accelerate(&quiet, &mut out, false).mode,
            StretchMode::Unchanged
        );
    }
}

#[test]
fn stretch_real_speech() {
    // espeak-ng speech in 30 ms blocks. Measured: ~47 % periodic, ~21 %
    // quiet, ~32 % left alone; no seam steeper than the block itself.
    for (rate, x) in [(8000u32, speech(SPEECH_8K)), (48000, speech(SPEECH_48K))] {
        let mut ts = TimeStretch::new(rate, 1).unwrap();
        let n = ts.min_input_frames();
        let mut out = vec![0f32; n + ts.max_period_frames()];
        for expand in [false, true] {
            let (mut periodic, mut unchanged, mut blocks) = (0, 0, 0);
            for blk in x.chunks_exact(n) {
                let r = if expand {
                    ts.expand(blk, &mut out)
                } else {
                    ts.accelerate(blk, &mut out, false)
                };
                blocks += 1;
                match r.mode {
                    StretchMode::Periodic => periodic += 1,
                    StretchMode::Unchanged => unchanged += 1,
                    StretchMode::Quiet => {}
                }
                if r.mode == StretchMode::Unchanged {
                    assert_eq!(out[..n], blk[..]);
                } else {
                    assert!(max_jump(&out[..r.frames]) <= max_jump(blk) * 1.1 + 1e-4);
                }
            }
            assert!(
                periodic * 10 > blocks * 3,
                "{rate}: {periodic}/{blocks} periodic"
            );
            assert!(
                unchanged * 10 > blocks,
                "{rate}: {unchanged}/{blocks} unchanged"
            );
        }
    }
}

#[test]
fn stretch_stereo_cuts_both_channels_together() {
    let rate = 16000;
    let l = harmonic(rate, 200.0, 480, 0.0);
    let r = harmonic(rate, 200.0, 480, 1.1);
    let x = interleave(&l, &r);
    let mut ts = TimeStretch::new(rate, 2).unwrap();
    let mut out = vec![0f32; x.len() + 2 * ts.max_period_frames()];
    let res = ts.accelerate(&x, &mut out, false);
    assert_eq!(res.mode, StretchMode::Periodic);
    assert_eq!(res.changed % 80, 0);
    let y = &out[..res.frames * 2];
    for (c, src) in [(0, &l), (1, &r)] {
        let yc = channel(y, c, 2);
        assert!(max_jump(&yc) <= max_jump(src) * 1.01);
    }
    let res = ts.expand(&x, &mut out);
    assert_eq!(res.mode, StretchMode::Periodic);
    assert_eq!(res.frames, 480 + res.changed);
    for (c, src) in [(0, &l), (1, &r)] {
        let yc = channel(&out[..res.frames * 2], c, 2);
        assert!(max_jump(&yc) <= max_jump(src) * 1.01);
    }
    // A silent channel stays silent.
    let silent = vec![0f32; 480];
    let x = interleave(&l, &silent);
    let res = ts.accelerate(&x, &mut out, false);
    assert!(res.changed > 0);
    assert!(channel(&out[..res.frames * 2], 1, 2)
        .iter()
        .all(|v| *v == 0.0));
}

#[test]
fn stretch_edge_cases() {
    let mut ts = TimeStretch::new(8000, 1).unwrap();
    assert_eq!(ts.min_input_frames(), 240);
    let x = harmonic(8000, 200.0, 239, 0.0);
    let mut out = vec![0f32; 400];
    let r = ts.accelerate(&x, &mut out, false);
    assert_eq!((r.mode, r.frames), (StretchMode::Unchanged, 239));
    // Output too short for an expansion: copied, unchanged.
    let x = harmonic(8000, 200.0, 240, 0.0);
    let r = ts.expand(&x, &mut out[..300]);
    assert_eq!((r.mode, r.frames), (StretchMode::Unchanged, 240));
    // NaN / inf: no panic, finite output.
    let mut bad = harmonic(8000, 200.0, 240, 0.0);
    bad[10] = f32::NAN;
    bad[200] = f32::INFINITY;
    for expand in [false, true] {
        let r = if expand {
            ts.expand(&bad, &mut out)
        } else {
            ts.accelerate(&bad, &mut out, true)
        };
        assert!(out[..r.frames].iter().all(|v| v.is_finite()));
    }
    let r = ts.accelerate(&[f32::MAX; 240], &mut out, false);
    assert!(out[..r.frames].iter().all(|v| v.is_finite()));
    assert!(TimeStretch::new(4000, 1).is_err());
}

#[test]
fn cross_fade_joins_without_jump() {
    let a = vec![1.0f32; 64];
    let mut b = vec![-1.0f32; 100];
    assert_eq!(cross_fade(&a, &mut b, 2), 32);
    // Frames 0..32 ramp from near 1 to near -1 in equal steps.
    let l = channel(&b, 0, 2);
    assert!((l[0] - (1.0 - 2.0 / 33.0)).abs() < 1e-6);
    assert!(max_jump(&l) <= 2.0 / 33.0 + 1e-6);
    assert!(l[32..].iter().all(|v| *v == -1.0));
    let mut nan = [f32::NAN; 4];
    cross_fade(&[f32::INFINITY; 4], &mut nan, 1);
    assert!(nan.iter().all(|v| *v == 0.0));
}

// ------------------------------------------------------------ concealment

/// Plays `x` through `good` in 10 ms frames.
fn feed(plc: &mut Concealer, x: &[f32]) -> Vec<f32> {
    let step = plc.sample_rate() as usize / 100 * plc.channels();
    let mut out = x.to_vec();
    for f in out.chunks_mut(step) {
        plc.good(f);
    }
    out
}

#[test]
fn plc_continues_the_period() {
    for &rate in &[8000u32, 16000, 48000] {
        for (name, x) in [
            (
                "harmonic 160 Hz",
                harmonic(rate, 160.0, rate as usize / 5, 0.2),
            ),
            (
                "vowel 125 Hz",
                vowel(rate, rate as usize / 125, rate as usize / 5),
            ),
        ] {
            let cut = rate as usize / 10;
            let mut plc = Concealer::new(rate, 1).unwrap();
            feed(&mut plc, &x[..cut]);
            let ten = rate as usize / 100;
            let mut out = vec![0f32; ten];
            plc.conceal(&mut out);
            let c = corr(&out, &x[cut..cut + ten]);
            assert!(c > 0.99, "{rate} {name}: correlation {c}");
            // Level of the first 10 ms is that of the signal.
            let ratio = rms(&out) / rms(&x[cut..cut + ten]);
            assert!((0.9..1.1).contains(&ratio), "{rate} {name}: level {ratio}");
            // The splice into the concealment is no steeper than the signal.
            let j = (out[0] - x[cut - 1]).abs();
            assert!(j <= max_jump(&x) * 1.05, "{rate} {name}: splice {j}");
            assert!(max_jump(&out) <= max_jump(&x) * 1.1, "{rate} {name}");
        }
    }
}

#[test]
fn plc_fades_to_exact_silence() {
    for &rate in &[8000u32, 48000] {
        // 200 Hz: every 10 ms window holds exactly two periods.
        let x = harmonic(rate, 200.0, rate as usize / 5, 0.4);
        let mut plc = Concealer::new(rate, 1).unwrap();
        feed(&mut plc, &x);
        let ten = rate as usize / 100;
        let mut out = vec![0f32; 12 * ten];
        plc.conceal(&mut out);
        let lv: Vec<f64> = out.chunks(ten).map(rms).collect();
        // Full level for 10 ms, then a linear ramp to 0 at 60 ms: the rms of
        // window k is that of the ramp over it.
        assert!((lv[0] / rms(&x) - 1.0).abs() < 0.02, "{rate}: {lv:?}");
        for k in 1..6 {
            let (g0, g1) = (1.0 - 0.2 * (k - 1) as f64, 1.0 - 0.2 * k as f64);
            let expect = ((g0 * g0 + g0 * g1 + g1 * g1) / 3.0).sqrt();
            assert!((lv[k] / lv[0] - expect).abs() < 0.03, "{rate} {k}: {lv:?}");
        }
        // Exact silence from 60 ms on.
        assert!(out[6 * ten..].iter().all(|v| *v == 0.0));
        assert_eq!(plc.fade_out_frames(), 6 * ten);
        // More loss stays silent; the next good audio fades in from zero.
        plc.conceal(&mut out);
        assert!(out.iter().all(|v| *v == 0.0));
        let mut next = x[..2 * ten].to_vec();
        plc.good(&mut next);
        assert!(next[0].abs() <= x[0].abs() / 10.0 + 1e-6);
        assert!(max_jump(&next) <= max_jump(&x) * 1.1);
        // The fade-in lasts 10 ms after a long loss.
        assert_eq!(next[ten..], x[ten..2 * ten]);
    }
}

#[test]
fn plc_merge_after_loss_has_no_jump() {
    for &rate in &[8000u32, 16000, 48000] {
        for lost_ms in [10usize, 20, 30, 45] {
            // New audio resumes out of phase with the concealment: the worst
            // case for the merge.
            let f0 = 180.0;
            let x = harmonic(rate, f0, rate as usize / 5, 0.0);
            let y = harmonic(rate, f0, rate as usize / 10, 2.0);
            let mut plc = Concealer::new(rate, 1).unwrap();
            let mut played = feed(&mut plc, &x);
            let mut gap = vec![0f32; rate as usize * lost_ms / 1000];
            plc.conceal(&mut gap);
            played.extend_from_slice(&gap);
            let back = feed(&mut plc, &y);
            played.extend_from_slice(&back);
            assert!(!plc.is_concealing());
            let bound = max_jump(&x) * 1.25;
            let j = max_jump(&played);
            assert!(j <= bound, "{rate} Hz, {lost_ms} ms: jump {j} > {bound}");
            // After the merge (at most 10 ms) the new audio is untouched.
            let ten = rate as usize / 100;
            assert_eq!(back[ten..], y[ten..]);
        }
    }
}

#[test]
fn plc_real_speech_splices_and_merges_smoothly() {
    // 20 ms packets, losing 1, 2 or 3 in a row every 8th: no splice into or
    // out of concealment steeper than 1.2x the speech it came from.
    for (rate, x) in [(8000u32, speech(SPEECH_8K)), (48000, speech(SPEECH_48K))] {
        let pkt = rate as usize / 50;
        let mut plc = Concealer::new(rate, 1).unwrap();
        let mut played: Vec<f32> = Vec::new();
        let mut checked = 0;
        let packets = x.len() / pkt;
        let mut k = 0;
        while k < packets {
            let mut f = x[k * pkt..(k + 1) * pkt].to_vec();
            let burst = 1 + (k / 8) % 3;
            if k % 8 == 7 && k + burst + 1 < packets {
                // The concealment repeats the last 5-45 ms, so compare with
                // the speech from there to the end of the merge.
                let local = max_jump(&x[(k - 3) * pkt..(k + burst + 1) * pkt]);
                let before = played.len();
                for _ in 0..burst {
                    plc.conceal(&mut f);
                    played.extend_from_slice(&f);
                }
                k += burst;
                let mut g = x[k * pkt..(k + 1) * pkt].to_vec();
                plc.good(&mut g);
                played.extend_from_slice(&g);
                let seam = max_jump(&played[before - 1..]);
                assert!(
                    seam <= 1.2 * local + 1e-3,
                    "{rate} packet {k}: {seam} vs {local}"
                );
                checked += 1;
            } else {
                plc.good(&mut f);
                played.extend_from_slice(&f);
            }
            k += 1;
        }
        assert!(checked > 20);
    }
}

#[test]
fn plc_any_block_size_gives_the_same_output() {
    let rate = 16000;
    let x = vowel(rate, 131, 6000);
    let run = |sizes: &[usize]| {
        let mut plc = Concealer::new(rate, 2).unwrap();
        let st = interleave(&x, &x);
        let mut out = Vec::new();
        let mut k = 0;
        let mut take = |n: usize| {
            let s = sizes[k % sizes.len()];
            k += 1;
            s.min(n)
        };
        let mut pos = 0;
        // 3000 good frames, 1500 lost (94 ms), 1000 good, 200 lost, rest good.
        for (len, lost) in [
            (3000, false),
            (1500, true),
            (1000, false),
            (200, true),
            (300, false),
        ] {
            let end = pos + len;
            while pos < end {
                let n = take(end - pos);
                let mut blk = st[pos * 2..(pos + n) * 2].to_vec();
                if lost {
                    plc.conceal(&mut blk);
                } else {
                    plc.good(&mut blk);
                }
                out.extend_from_slice(&blk);
                pos += n;
            }
        }
        out
    };
    let reference = run(&[100_000]);
    for sizes in [&[1usize][..], &[7], &[128], &[441], &[1, 7, 128, 441]] {
        assert_eq!(run(sizes), reference, "{sizes:?}");
    }
}

#[test]
fn plc_stereo_and_edge_cases() {
    let rate = 8000;
    let l = harmonic(rate, 160.0, 1600, 0.0);
    let silent = vec![0f32; 1600];
    let mut plc = Concealer::new(rate, 2).unwrap();
    feed(&mut plc, &interleave(&l[..800], &silent[..800]));
    let mut out = vec![0f32; 160];
    plc.conceal(&mut out);
    assert!(channel(&out, 1, 2).iter().all(|v| *v == 0.0));
    assert!(corr(&channel(&out, 0, 2), &l[800..880]) > 0.99);

    // Concealing with no history: silence.
    let mut plc = Concealer::new(48000, 1).unwrap();
    let mut out = vec![1f32; 960];
    plc.conceal(&mut out);
    assert!(out.iter().all(|v| *v == 0.0));

    // NaN / inf in good frames are cleaned in place; concealment is finite.
    let mut plc = Concealer::new(8000, 1).unwrap();
    let mut bad = harmonic(8000, 160.0, 800, 0.0);
    bad[5] = f32::NAN;
    bad[790] = f32::NEG_INFINITY;
    plc.good(&mut bad);
    assert!(bad[5] == 0.0 && bad[790] == 0.0);
    let mut out = vec![0f32; 800];
    plc.conceal(&mut out);
    assert!(out.iter().all(|v| v.is_finite()));
    let mut huge = vec![f32::MAX; 800];
    plc.good(&mut huge);
    plc.conceal(&mut out);
    assert!(out.iter().all(|v| v.is_finite()));

    // A partial trailing frame is zeroed, not concealed.
    let mut plc = Concealer::new(8000, 2).unwrap();
    let mut odd = [1f32; 5];
    plc.conceal(&mut odd);
    assert_eq!(odd[4], 0.0);
    assert!(Concealer::new(8000, 3).is_err());
}
