//! Measures the DSP blocks: resampler quality (image / alias rejection,
//! passband ripple) and the speed of everything as multiples of real time.
//!
//! `cargo run --release --example bench_dsp`

use std::f64::consts::PI;
use std::hint::black_box;
use std::time::Instant;

use voxlet::dsp::{Concealer, Quality, Resampler, TimeStretch};
use voxlet_support::signal::s16le_f32 as pcm;

static SPEECH_8K: &[u8] = include_bytes!("../tests/fixtures/speech_8k.s16le");
static SPEECH_16K: &[u8] = include_bytes!("../tests/fixtures/speech_16k.s16le");
static SPEECH_48K: &[u8] = include_bytes!("../tests/fixtures/speech_48k.s16le");

fn bessel_i0(x: f64) -> f64 {
    let (mut s, mut t, mut k) = (1.0, 1.0, 1.0);
    while t > s * 1e-17 {
        t *= (x / 2.0 / k) * (x / 2.0 / k);
        s += t;
        k += 1.0;
    }
    s
}

/// Amplitude of the `freq` component of `x` (Kaiser β=20 window: sidelobes
/// far below anything measured here).
fn tone_amp(x: &[f32], rate: f64, freq: f64) -> f64 {
    let n = x.len();
    let (mut re, mut im, mut wsum) = (0.0, 0.0, 0.0);
    let b = 20.0;
    let i0b = bessel_i0(b);
    for (i, v) in x.iter().enumerate() {
        let r = 2.0 * i as f64 / (n - 1) as f64 - 1.0;
        let w = bessel_i0(b * (1.0 - r * r).max(0.0).sqrt()) / i0b;
        let ph = 2.0 * PI * freq * i as f64 / rate;
        re += w * *v as f64 * ph.cos();
        im -= w * *v as f64 * ph.sin();
        wsum += w;
    }
    2.0 * (re * re + im * im).sqrt() / wsum
}

fn db(x: f64) -> f64 {
    20.0 * x.max(1e-12).log10()
}

/// Resamples a `freq` sine (amplitude 0.5) and returns the steady-state output.
fn run_tone(rs: &mut Resampler, freq: f64, out_frames: usize) -> Vec<f32> {
    rs.reset();
    let fin = rs.in_rate() as f64;
    let skip = rs.latency_frames() + 64;
    let total = out_frames + skip;
    let n_in = rs.input_frames_needed(total);
    let input: Vec<f32> = (0..n_in)
        .map(|i| (0.5 * (2.0 * PI * freq * i as f64 / fin).sin()) as f32)
        .collect();
    let mut out = vec![0f32; total];
    rs.process(&input, &mut out);
    out.split_off(skip)
}

/// Where a component at `f` Hz lands after sampling at `rate`.
fn fold(f: f64, rate: f64) -> f64 {
    let r = f.rem_euclid(rate);
    if r > rate / 2.0 {
        rate - r
    } else {
        r
    }
}

/// Worst spurious component (image or alias) relative to a 0.5-amplitude
/// input tone, in dB, and the passband ripple up to 0.9 × Nyquist of the
/// lower rate. Tones: 24 across the passband, plus (downsampling) 24 across
/// the input band whose aliases would land in the passband. Spurs are
/// looked for wherever `m·in ± f` folds to in the output band.
pub fn measure(fin: u32, fout: u32, q: Quality) -> (f64, f64) {
    let mut rs = Resampler::with_quality(fin, fout, 1, q).unwrap();
    let (fi, fo) = (fin as f64, fout as f64);
    let low = fi.min(fo);
    let n = fout as usize / 2;
    let mut tones: Vec<f64> = (1..=24)
        .map(|k| (0.45 * low * k as f64 / 24.0).round())
        .collect();
    if fi / 2.0 > 0.55 * fo {
        let (a, b) = (0.55 * fo, fi / 2.0 - 1.0);
        tones.extend((0..24).map(|k| (a + (b - a) * k as f64 / 23.0).round()));
    }
    let mut worst = f64::MIN;
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for &f in &tones {
        let out = run_tone(&mut rs, f, n);
        let passband = f <= 0.45 * low + 1.0;
        if passband {
            let a = db(tone_amp(&out, fo, f) / 0.5);
            lo = lo.min(a);
            hi = hi.max(a);
        }
        let mut seen: Vec<f64> = Vec::new();
        for m in 0..=6 {
            for g in [m as f64 * fi - f, m as f64 * fi + f] {
                let s = fold(g, fo);
                let is_tone = passband && (s - f).abs() < 20.0;
                if g <= 0.0 || is_tone || s < 20.0 || s > fo / 2.0 - 20.0 {
                    continue;
                }
                if seen.iter().any(|x| (x - s).abs() < 2.0) {
                    continue;
                }
                seen.push(s);
                worst = worst.max(db(tone_amp(&out, fo, s) / 0.5));
            }
        }
    }
    (worst, hi - lo)
}

fn bench_resampler(fin: u32, fout: u32, q: Quality, input: &[f32]) -> f64 {
    let mut rs = Resampler::with_quality(fin, fout, 1, q).unwrap();
    let mut out = [0f32; 128];
    let audio_s = input.len() as f64 / fin as f64;
    let rounds = 20;
    let t = Instant::now();
    for _ in 0..rounds {
        let mut pos = 0;
        // Pull 128 frames at a time, as an AudioWorklet render does.
        loop {
            let need = rs.input_frames_needed(128);
            if pos + need > input.len() {
                break;
            }
            let (c, _) = rs.process(black_box(&input[pos..pos + need]), &mut out);
            black_box(&out);
            pos += c;
        }
    }
    audio_s * rounds as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let s8 = pcm(SPEECH_8K);
    let s16 = pcm(SPEECH_16K);
    let s48 = pcm(SPEECH_48K);
    let s441: Vec<f32> = {
        let mut rs = Resampler::new(48000, 44100, 1).unwrap();
        let mut out = vec![0f32; rs.max_output_frames(s48.len())];
        let (_, n) = rs.process(&s48, &mut out);
        out.truncate(n);
        out
    };

    println!(
        "resampler quality (worst image/alias re tone; ripple to 0.9 x Nyquist of lower rate)"
    );
    println!(
        "{:>14} {:>7} {:>12} {:>11} {:>8}",
        "rates", "quality", "worst spur", "ripple", "latency"
    );
    for &(fin, fout) in &[
        (8000, 48000),
        (16000, 48000),
        (8000, 44100),
        (48000, 44100),
        (44100, 48000),
        (48000, 16000),
        (44100, 16000),
        (48000, 8000),
        (8001, 48000),
    ] {
        for q in [Quality::Low, Quality::Medium, Quality::High] {
            let (spur, ripple) = measure(fin, fout, q);
            let rs = Resampler::with_quality(fin, fout, 1, q).unwrap();
            println!(
                "{:>14} {:>7} {:>9.1} dB {:>8.4} dB {:>5} fr",
                format!("{fin}->{fout}"),
                format!("{q:?}"),
                spur,
                ripple,
                rs.latency_frames()
            );
        }
    }

    println!();
    println!("spot checks at Medium (level re the 0.5-amplitude tone)");
    let spot = |fin: u32, fout: u32, tone: f64, at: &[f64]| {
        let mut rs = Resampler::new(fin, fout, 1).unwrap();
        let out = run_tone(&mut rs, tone, fout as usize / 2);
        let lv: Vec<String> = at
            .iter()
            .map(|&f| {
                format!(
                    "{:.0} Hz {:.1} dB",
                    f,
                    db(tone_amp(&out, fout as f64, f) / 0.5)
                )
            })
            .collect();
        println!("  {fin}->{fout}, {tone} Hz tone: {}", lv.join(", "));
    };
    spot(
        8000,
        48000,
        1000.0,
        &[1000.0, 7000.0, 9000.0, 15000.0, 17000.0, 23000.0],
    );
    spot(8000, 48000, 3600.0, &[3600.0, 4400.0, 11600.0]);
    spot(8000, 48000, 3900.0, &[3900.0, 4100.0, 11900.0]);
    spot(48000, 16000, 10000.0, &[6000.0]);
    spot(48000, 16000, 7200.0, &[7200.0]);
    spot(8000, 44100, 1000.0, &[1000.0, 7000.0, 9000.0]);

    println!();
    println!("speed (x real time, mono, 128-frame pulls; one core)");
    println!("{:>24} {:>10}", "block", "x realtime");
    for &(fin, fout, input) in &[
        (8000u32, 48000u32, &s8),
        (16000, 48000, &s16),
        (48000, 44100, &s48),
        (44100, 48000, &s441),
        (48000, 16000, &s48),
    ] {
        for q in [Quality::Low, Quality::Medium, Quality::High] {
            let x = bench_resampler(fin, fout, q, input);
            println!(
                "{:>24} {:>10.0}",
                format!("resample {fin}->{fout} {q:?}"),
                x
            );
        }
    }

    for &(rate, input) in &[(8000u32, &s8), (48000, &s48)] {
        // Conceal every other 20 ms packet: worst-case PLC load.
        let mut plc = Concealer::new(rate, 1).unwrap();
        let pkt = rate as usize / 50;
        let mut buf = vec![0f32; pkt];
        let rounds = 20;
        let t = Instant::now();
        for _ in 0..rounds {
            for (k, p) in input.chunks_exact(pkt).enumerate() {
                if k % 2 == 0 {
                    buf.copy_from_slice(p);
                    plc.good(black_box(&mut buf));
                } else {
                    plc.conceal(black_box(&mut buf));
                }
            }
        }
        let audio_s = (input.len() / pkt * pkt) as f64 / rate as f64;
        let x = audio_s * rounds as f64 / t.elapsed().as_secs_f64();
        println!("{:>24} {:>10.0}", format!("plc {rate} (50% loss)"), x);

        // Accelerate (or expand) every 30 ms block.
        let mut ts = TimeStretch::new(rate, 1).unwrap();
        let blk = ts.min_input_frames();
        let mut out = vec![0f32; blk + ts.max_period_frames()];
        for expand in [false, true] {
            let t = Instant::now();
            for _ in 0..rounds {
                for p in input.chunks_exact(blk) {
                    let r = if expand {
                        ts.expand(black_box(p), &mut out)
                    } else {
                        ts.accelerate(black_box(p), &mut out, false)
                    };
                    black_box(r);
                }
            }
            let audio_s = (input.len() / blk * blk) as f64 / rate as f64;
            let x = audio_s * rounds as f64 / t.elapsed().as_secs_f64();
            let name = if expand { "expand" } else { "accelerate" };
            println!("{:>24} {:>10.0}", format!("{name} {rate} (every 30 ms)"), x);
        }
    }
}
