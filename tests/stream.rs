//! Stream mode: the playout queue against a reference resampler, its
//! queue accounting, clear() with a fade, marks, underruns, drained,
//! overflow, and every input format.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::codec::g711::{linear_to_alaw, linear_to_ulaw, PcmaDecoder, PcmuDecoder};
use voxlet::codec::g722::{G722Decoder, G722Encoder};
use voxlet::codec::{f32_to_i16, i16_to_f32};
use voxlet::dsp::Resampler;
use voxlet::stream::{
    AudioFormat, OverflowPolicy, StreamConfig, StreamError, StreamEvent, StreamPlayer,
};
use voxlet::{CodecInfo, CodecKind, Decoder, Encoder, EncoderSettings};
use voxlet_support::rng::XorShift64 as Rng;

const Q: usize = 128;

fn sine(rate: u32, frames: usize, ch: usize, hz: f64, amp: f64) -> Vec<f32> {
    let mut v = Vec::with_capacity(frames * ch);
    for i in 0..frames {
        let x = (amp * (2.0 * core::f64::consts::PI * hz * i as f64 / rate as f64).sin()) as f32;
        for c in 0..ch {
            // Second channel: a different tone, so channel mix-ups show.
            v.push(if c == 0 { x } else { 0.5 * x * x.signum() });
        }
    }
    v
}

/// Quantised to 16 bits so L16 input decodes to exactly these values.
fn q16(v: &[f32]) -> Vec<f32> {
    v.iter().map(|&x| i16_to_f32(f32_to_i16(x))).collect()
}

fn l16_bytes(v: &[f32], le: bool) -> Vec<u8> {
    v.iter()
        .flat_map(|&x| {
            let s = f32_to_i16(x);
            if le {
                s.to_le_bytes()
            } else {
                s.to_be_bytes()
            }
        })
        .collect()
}

/// The whole input through one resampler, zero-padded: what the player
/// must output.
fn reference(input: &[f32], in_rate: u32, out_rate: u32, ch: usize, out_frames: usize) -> Vec<f32> {
    let mut rs = Resampler::new(in_rate, out_rate, ch).unwrap();
    let mut padded = input.to_vec();
    padded.resize(
        input.len() + rs.max_input_frames_needed(out_frames) * ch,
        0.0,
    );
    let mut out = vec![0.0; out_frames * ch];
    let (_, co) = rs.process(&padded, &mut out);
    assert_eq!(co, out_frames);
    out
}

fn events(p: &mut StreamPlayer) -> Vec<StreamEvent> {
    std::iter::from_fn(|| p.poll_event()).collect()
}

/// Renders `quanta` quanta; returns output and (quantum index, event) pairs.
fn run(p: &mut StreamPlayer, quanta: usize, start: usize) -> (Vec<f32>, Vec<(usize, StreamEvent)>) {
    let ch = usize::from(p.config().output_channels);
    let rate = p.config().output_rate as f64;
    let mut out = Vec::new();
    let mut evs = Vec::new();
    let mut buf = vec![0f32; Q * ch];
    for q in start..start + quanta {
        p.render(&mut buf, q as f64 * Q as f64 * 1000.0 / rate);
        out.extend_from_slice(&buf);
        evs.extend(events(p).into_iter().map(|e| (q, e)));
    }
    (out, evs)
}

fn push_in_odd_chunks(p: &mut StreamPlayer, bytes: &[u8], seed: u64) {
    let mut rng = Rng(seed);
    let mut at = 0;
    while at < bytes.len() {
        let n = (1 + rng.below(997)).min(bytes.len() - at);
        p.push(&bytes[at..at + n]).unwrap();
        at += n;
    }
}

#[test]
fn one_second_in_odd_chunks_plays_as_the_resampled_input() {
    // (format, output rate, output channels)
    let cases = [
        (
            AudioFormat::L16Le {
                rate: 16000,
                channels: 1,
            },
            48000,
            1,
        ),
        (
            AudioFormat::L16Le {
                rate: 16000,
                channels: 1,
            },
            44100,
            1,
        ),
        (
            AudioFormat::L16Be {
                rate: 24000,
                channels: 2,
            },
            48000,
            2,
        ),
        (
            AudioFormat::L16Le {
                rate: 22050,
                channels: 1,
            },
            44100,
            2,
        ),
        (
            AudioFormat::L16Le {
                rate: 48000,
                channels: 1,
            },
            48000,
            1,
        ),
    ];
    for (fmt, out_rate, out_ch) in cases {
        let (in_rate, in_ch) = (fmt.sample_rate(), fmt.channels());
        let input = q16(&sine(in_rate, in_rate as usize, in_ch, 440.0, 0.5));
        let bytes = l16_bytes(&input, matches!(fmt, AudioFormat::L16Le { .. }));
        let mut p = StreamPlayer::new(fmt, StreamConfig::new(out_rate, out_ch as u16)).unwrap();
        push_in_odd_chunks(&mut p, &bytes, 5);
        assert_eq!(p.pending_bytes(), 0);
        assert!((p.queued_ms() - 1000.0).abs() < 1e-9);

        let quanta = (out_rate as usize + 2 * p.latency_frames()) / Q + 4;
        let (out, evs) = run(&mut p, quanta, 0);
        let want = reference(&input, in_rate, out_rate, in_ch, quanta * Q);
        // Map the reference's channels to the output's.
        for f in 0..quanta * Q {
            for c in 0..out_ch {
                let w = match (in_ch, out_ch) {
                    (1, _) => want[f],
                    (2, 1) => 0.5 * (want[2 * f] + want[2 * f + 1]),
                    _ => want[2 * f + c],
                };
                let got = out[f * out_ch + c];
                assert!(
                    (got - w).abs() <= 1e-6,
                    "{fmt:?}->{out_rate}: frame {f} ch {c}: {got} vs {w}"
                );
            }
        }
        // And the resampled signal is the sine itself, delayed by the latency.
        let lat = p.latency_frames();
        let mut worst = 0f64;
        for f in lat + 200..out_rate as usize - 200 {
            let t = (f - lat) as f64 / out_rate as f64;
            let ideal = 0.5 * (2.0 * core::f64::consts::PI * 440.0 * t).sin();
            worst = worst.max((out[f * out_ch] as f64 - ideal).abs());
        }
        assert!(worst < 2e-3, "{fmt:?}->{out_rate}: {worst}");
        // Started first, Drained once, after the last input frame played.
        assert!(matches!(evs[0], (0, StreamEvent::Started { at_ms }) if at_ms == 0.0));
        let drained: Vec<_> = evs
            .iter()
            .filter(|(_, e)| matches!(e, StreamEvent::Drained { .. }))
            .collect();
        assert_eq!(drained.len(), 1, "{evs:?}");
        // The last frame's position plus the filter's whole tail.
        let end = (in_rate as u64 * out_rate as u64).div_ceil(in_rate as u64) as usize + 2 * lat;
        let StreamEvent::Drained { at_ms } = drained[0].1 else {
            unreachable!()
        };
        assert!((at_ms - end as f64 * 1000.0 / out_rate as f64).abs() < 1e-9);
        // In the call that plays the last frame; with no resampler delay
        // (equal rates) running dry is only seen one call later.
        let q = (end - 1) / Q;
        assert!(
            drained[0].0 == q || (lat == 0 && drained[0].0 == q + 1),
            "{:?}",
            drained[0]
        );
        assert!(!p.is_playing());
        let st = p.stats();
        assert_eq!(st.queued_frames, 0);
        assert!((st.played_ms - 1000.0).abs() < 1e-9);
        assert_eq!(st.underruns, 0);
    }
}

#[test]
fn queued_ms_decreases_by_the_played_duration() {
    for out_rate in [48000u32, 44100] {
        let fmt = AudioFormat::L16Le {
            rate: 16000,
            channels: 1,
        };
        let mut p = StreamPlayer::new(fmt, StreamConfig::new(out_rate, 1)).unwrap();
        let input = q16(&sine(16000, 16000, 1, 300.0, 0.3));
        p.push(&l16_bytes(&input, true)).unwrap();
        let quantum_ms = Q as f64 * 1000.0 / out_rate as f64;
        let one_in = 1000.0 / 16000.0;
        let mut buf = [0f32; Q];
        let mut prev = p.queued_ms();
        // The resampler reads up to half its window ahead of the output.
        let lookahead_ms = (p.latency_frames() as f64 / out_rate as f64) * 1000.0 + 4.0 * one_in;
        for q in 1..300 {
            p.render(&mut buf, 0.0);
            let now = p.queued_ms();
            if q > 1 {
                assert!(
                    (prev - now - quantum_ms).abs() <= one_in + 1e-9,
                    "{out_rate}: quantum {q}: {prev} -> {now}"
                );
            }
            let expect = 1000.0 - q as f64 * quantum_ms;
            assert!(
                now <= expect + one_in && now >= expect - lookahead_ms,
                "{out_rate}: quantum {q}: {now} vs {expect}"
            );
            prev = now;
        }
        // Pushing adds exactly the chunk's duration.
        let before = p.queued_ms();
        p.push(&[0u8; 640]).unwrap(); // 20 ms at 16 kHz
        assert!((p.queued_ms() - before - 20.0).abs() < 1e-9);
    }
}

/// Largest difference between consecutive output samples.
fn max_step(prev: f32, x: &[f32]) -> f32 {
    let mut last = prev;
    let mut m = 0f32;
    for &v in x {
        m = m.max((v - last).abs());
        last = v;
    }
    m
}

#[test]
fn clear_empties_within_one_quantum_with_a_fade() {
    for out_rate in [48000u32, 44100] {
        // A loud 1 kHz tone: its own largest step is 0.8·2π·1000/rate.
        let natural = 0.8 * 2.0 * core::f32::consts::PI * 1000.0 / out_rate as f32;
        let input = sine(16000, 16000, 1, 1000.0, 0.8);
        let mk = |fade_ms: f32| {
            let mut cfg = StreamConfig::new(out_rate, 1);
            cfg.clear_fade_ms = fade_ms;
            let mut p = StreamPlayer::new(
                AudioFormat::L16Le {
                    rate: 16000,
                    channels: 1,
                },
                cfg,
            )
            .unwrap();
            p.push(&l16_bytes(&input, true)).unwrap();
            p
        };
        for fade_ms in [2.5f32, 0.0] {
            let mut p = mk(fade_ms);
            for id in 0..3 {
                p.mark(id).unwrap();
            }
            let mut buf = [0f32; Q];
            // Play until the last sample is loud, so a hard cut would click.
            for _ in 0..20 {
                p.render(&mut buf, 0.0);
            }
            while buf[Q - 1].abs() < 0.6 {
                p.render(&mut buf, 0.0);
            }
            let last = buf[Q - 1];
            events(&mut p);
            assert!(p.is_playing());
            p.clear();
            assert_eq!(p.queued_frames(), 0, "clear empties the queue at once");
            assert!(!p.is_playing());
            let cleared: Vec<_> = events(&mut p);
            assert_eq!(
                cleared,
                (0..3)
                    .map(|id| StreamEvent::MarkCleared { id })
                    .collect::<Vec<_>>()
            );
            p.render(&mut buf, 0.0);
            let step = max_step(last, &buf);
            let fade = (fade_ms * out_rate as f32 / 1000.0).round() as usize;
            if fade_ms > 0.0 {
                assert!(fade < Q);
                assert!(
                    step <= natural + 0.8 / fade as f32 + 1e-3,
                    "{out_rate}: step {step} with a {fade}-frame fade"
                );
                assert!(
                    buf[..fade].iter().any(|x| x.abs() > 0.05),
                    "fade is audible"
                );
                assert!(
                    buf[fade..].iter().all(|&x| x == 0.0),
                    "silent after the fade"
                );
            } else {
                assert!(step > 0.5, "a hard cut jumps: {step}");
                assert!(buf.iter().all(|&x| x == 0.0));
            }
            // Silent afterwards; no Drained for a clear.
            for _ in 0..20 {
                p.render(&mut buf, 0.0);
                assert!(buf.iter().all(|&x| x == 0.0));
            }
            assert!(events(&mut p).is_empty());
            let st = p.stats();
            assert_eq!(st.clears, 1);
            assert!(st.dropped_frames > 10_000);
            // New audio after a clear plays normally.
            p.push(&l16_bytes(&input[..3200], true)).unwrap();
            p.mark(9).unwrap();
            let (out, evs) = run(&mut p, 120, 0);
            assert!(out.iter().any(|x| x.abs() > 0.5));
            let kinds: Vec<_> = evs.iter().map(|(_, e)| std::mem::discriminant(e)).collect();
            assert_eq!(kinds.len(), 3, "{evs:?}");
            assert!(matches!(evs[0].1, StreamEvent::Started { .. }));
            assert!(matches!(evs[1].1, StreamEvent::Mark { id: 9, .. }));
            assert!(matches!(evs[2].1, StreamEvent::Drained { .. }));
            assert_eq!(p.stats().underruns, 0, "a clear is not an underrun");
        }
    }
}

#[test]
fn audio_pushed_between_clear_and_render_plays_after_the_fade() {
    let fmt = AudioFormat::L16Le {
        rate: 48000,
        channels: 1,
    };
    let mut p = StreamPlayer::new(fmt, StreamConfig::new(48000, 1)).unwrap();
    p.push_pcm(&vec![0.5; 4800]).unwrap();
    let mut buf = [0f32; Q];
    p.render(&mut buf, 0.0);
    assert!(matches!(events(&mut p)[..], [StreamEvent::Started { .. }]));
    p.clear();
    p.push_pcm(&vec![-0.25; 960]).unwrap(); // 20 ms, exactly the threshold
    p.mark(1).unwrap();
    p.render(&mut buf, 0.0);
    assert!(
        buf[0] > 0.45 && buf[0] <= 0.5,
        "fade starts from the old audio"
    );
    assert!(
        buf[120..].iter().all(|&x| x == 0.0),
        "2.5 ms fade at 48 kHz"
    );
    assert_eq!(p.queued_frames(), 960);
    let (out, evs) = run(&mut p, 10, 2);
    assert!(
        out[..960].iter().all(|&x| x == -0.25),
        "then the new audio, whole"
    );
    assert!(out[960..].iter().all(|&x| x == 0.0));
    assert!(matches!(evs[0], (2, StreamEvent::Started { .. })));
    // 960 frames: the mark fires in the quantum that plays frame 959.
    assert!(
        matches!(evs[1], (9, StreamEvent::Mark { id: 1, at_ms }) if (at_ms - 20.0 - 2.0 * 128.0 / 48.0).abs() < 1e-9),
        "{evs:?}"
    );
}

#[test]
fn marks_fire_once_in_order_in_the_render_call_that_plays_them() {
    for out_rate in [48000u32, 44100] {
        let fmt = AudioFormat::L16Le {
            rate: 16000,
            channels: 1,
        };
        let mut p = StreamPlayer::new(fmt, StreamConfig::new(out_rate, 1)).unwrap();
        let lat = p.latency_frames();
        // Silence with a click on the last frame before each mark.
        let mut rng = Rng(31);
        let mut pos = 0usize;
        let mut marks = Vec::new();
        for id in 0..40u32 {
            let n = 37 + rng.below(700);
            let mut chunk = vec![0f32; n];
            chunk[n - 1] = 0.9;
            p.push_pcm(&chunk).unwrap();
            pos += n;
            p.mark(id).unwrap();
            marks.push((id, pos));
        }
        assert_eq!(p.stats().marks_pending, 40);
        let quanta = (pos * out_rate as usize / 16000 + lat) / Q + 10;
        let (out, evs) = run(&mut p, quanta, 0);
        let fired: Vec<(usize, u32, f64)> = evs
            .iter()
            .filter_map(|&(q, e)| match e {
                StreamEvent::Mark { id, at_ms } => Some((q, id, at_ms)),
                _ => None,
            })
            .collect();
        assert_eq!(
            fired.iter().map(|f| f.1).collect::<Vec<_>>(),
            (0..40).collect::<Vec<_>>(),
            "each mark exactly once, in order"
        );
        let (_, more) = run(&mut p, 50, quanta);
        assert!(!more
            .iter()
            .any(|(_, e)| matches!(e, StreamEvent::Mark { .. })));
        assert_eq!(p.stats().marks_pending, 0);

        for (&(q, id, at_ms), &(_, pos)) in fired.iter().zip(&marks) {
            let target = (pos as u64 * out_rate as u64).div_ceil(16000) as usize + lat;
            assert_eq!(q, (target - 1) / Q, "{out_rate}: mark {id}");
            assert!((at_ms - target as f64 * 1000.0 / out_rate as f64).abs() < 1e-9);
            // Measured: the click (the last frame before the mark) peaks
            // just before the mark's time, less than one input frame earlier.
            let lo = target.saturating_sub(3 * out_rate as usize / 16000 + 2);
            let peak = (lo..target.min(out.len()))
                .max_by(|&a, &b| out[a].abs().total_cmp(&out[b].abs()))
                .unwrap();
            assert!(out[peak] > 0.5, "{out_rate}: no click before mark {id}");
            // (The discrete peak is within half an output frame of the
            // exact one; the target is rounded up to a whole frame.)
            let gap = (target - peak) as f64 * 16000.0 / out_rate as f64;
            let slack = 1.5 * 16000.0 / out_rate as f64;
            assert!(
                gap > 0.0 && gap <= 1.0 + slack,
                "{out_rate}: mark {id}: gap {gap} input frames"
            );
        }
    }
}

#[test]
fn mark_with_nothing_queued_fires_at_the_next_render() {
    let mut p = StreamPlayer::new(AudioFormat::Pcmu, StreamConfig::new(48000, 2)).unwrap();
    p.mark(5).unwrap();
    let mut buf = [1f32; 2 * Q];
    p.render(&mut buf, 1234.5);
    assert!(buf.iter().all(|&x| x == 0.0));
    assert_eq!(
        events(&mut p),
        [StreamEvent::Mark {
            id: 5,
            at_ms: 1234.5
        }]
    );
    // Mark limit.
    let mut cfg = StreamConfig::new(48000, 1);
    cfg.max_marks = 2;
    let mut p = StreamPlayer::new(AudioFormat::Pcmu, cfg).unwrap();
    p.push(&[0xFF; 80]).unwrap();
    p.mark(1).unwrap();
    p.mark(2).unwrap();
    assert_eq!(p.mark(3), Err(StreamError::TooManyMarks { max: 2 }));
}

#[test]
fn underrun_is_counted_when_starved_and_playback_resumes() {
    let fmt = AudioFormat::Pcmu;
    let mut p = StreamPlayer::new(fmt, StreamConfig::new(48000, 1)).unwrap();
    let tone: Vec<u8> = sine(8000, 800, 1, 500.0, 0.5)
        .iter()
        .map(|&x| linear_to_ulaw(f32_to_i16(x)))
        .collect();
    p.push(&tone).unwrap(); // 100 ms
    let (out, evs) = run(&mut p, 60, 0); // 160 ms
    assert!(out.iter().any(|x| x.abs() > 0.3));
    assert!(matches!(evs[0].1, StreamEvent::Started { .. }));
    assert!(matches!(evs[1].1, StreamEvent::Drained { .. }));
    assert_eq!(evs.len(), 2);
    assert!(!p.is_playing());
    assert_eq!(p.stats().underruns, 0, "not yet resumed");
    assert!(
        out[out.len() - 1000..].iter().all(|&x| x == 0.0),
        "silence while starved"
    );

    // Audio again: playback resumes and the starvation counts.
    p.push(&tone).unwrap();
    let (out, evs) = run(&mut p, 10, 60);
    assert!(out.iter().any(|x| x.abs() > 0.3));
    assert!(matches!(evs[0], (60, StreamEvent::Started { .. })));
    assert!(p.is_playing());
    assert_eq!(p.stats().underruns, 1);

    // Starved mid-stream, refilled before the tail ended: no Drained, the
    // output continues, one more underrun.
    let mut p = StreamPlayer::new(fmt, StreamConfig::new(48000, 1)).unwrap();
    p.push(&tone[..160]).unwrap(); // 20 ms = 7.5 quanta
    let (_, evs) = run(&mut p, 8, 0);
    assert_eq!(evs.len(), 1, "{evs:?}");
    p.push(&tone[160..]).unwrap();
    let (_, evs) = run(&mut p, 60, 8);
    assert_eq!(p.stats().underruns, 1);
    let drained = evs
        .iter()
        .filter(|(_, e)| matches!(e, StreamEvent::Drained { .. }))
        .count();
    assert_eq!(drained, 1, "{evs:?}");
}

#[test]
fn start_threshold_and_timeout() {
    let mut cfg = StreamConfig::new(48000, 1);
    cfg.start_threshold_ms = 40;
    cfg.start_timeout_ms = 30;
    let mut p = StreamPlayer::new(AudioFormat::Pcmu, cfg).unwrap();
    p.push(&[0x80; 160]).unwrap(); // 20 ms, below the threshold
    let (out, evs) = run(&mut p, 20, 0);
    // 30 ms = 11.25 quanta of waiting, so it starts in quantum 12.
    assert!(out[..12 * Q].iter().all(|&x| x == 0.0));
    assert!(
        matches!(evs[0], (12, StreamEvent::Started { .. })),
        "{evs:?}"
    );
    // At the threshold it starts at once.
    let mut p = StreamPlayer::new(AudioFormat::Pcmu, cfg).unwrap();
    p.push(&[0x80; 320]).unwrap();
    let (_, evs) = run(&mut p, 1, 0);
    assert!(matches!(evs[0], (0, StreamEvent::Started { at_ms }) if at_ms == 0.0));
}

#[test]
fn overflow_policies() {
    let mut cfg = StreamConfig::new(48000, 1);
    cfg.max_queue_ms = 100;
    let mut p = StreamPlayer::new(AudioFormat::Pcmu, cfg).unwrap();
    p.push(&[0xFF; 640]).unwrap(); // 80 ms
    let e = p.push(&[0xFF; 320]).unwrap_err(); // +40 ms
    assert_eq!(
        e,
        StreamError::Overflow {
            queued_ms: 80.0,
            chunk_ms: 40.0,
            max_ms: 100
        }
    );
    assert_eq!(p.queued_frames(), 640, "nothing of the chunk queued");
    assert_eq!(p.stats().push_errors, 1);
    p.push(&[0xFF; 160]).unwrap(); // exactly full
    assert_eq!(p.queued_ms(), 100.0);

    cfg.overflow = OverflowPolicy::DropOldest;
    let mut p = StreamPlayer::new(AudioFormat::Pcmu, cfg).unwrap();
    let ramp: Vec<u8> = (0..800).map(|i| linear_to_ulaw((i * 40) as i16)).collect();
    p.push(&ramp).unwrap();
    p.mark(1).unwrap();
    p.push(&[0xFF; 160]).unwrap();
    assert_eq!(p.queued_frames(), 800);
    assert_eq!(p.stats().dropped_frames, 160);
    assert!(p.push(&[0xFF; 801]).is_err(), "longer than the whole queue");
    // The oldest 160 frames are gone: playback starts at ramp[160] (0.195),
    // not at ramp[0] (0).
    let lat = p.latency_frames();
    let (out, evs) = run(&mut p, 6, 0);
    let first = out[lat + 6..lat + 30]
        .iter()
        .fold(0f32, |a, x| a.max(x.abs()));
    assert!(first > 0.18 && first < 0.25, "{first}");
    // The mark after the ramp fires when its (kept) audio has played.
    assert!(
        matches!(evs[..], [(0, StreamEvent::Started { .. })]),
        "{evs:?}"
    );
    let (_, evs) = run(&mut p, 40, 6);
    let mark_q = evs
        .iter()
        .find(|(_, e)| matches!(e, StreamEvent::Mark { id: 1, .. }))
        .unwrap()
        .0;
    // Kept ramp: 640 frames at 8 kHz = 3840 at 48 kHz, plus the latency.
    assert_eq!(mark_q, (3840 + lat - 1) / Q);
}

#[test]
fn every_input_format_decodes_like_its_codec() {
    let speech16: Vec<f32> = sine(16000, 16000, 1, 350.0, 0.4);
    let speech8: Vec<f32> = sine(8000, 8000, 1, 350.0, 0.4);
    // μ-law and A-law.
    for alaw in [false, true] {
        let bytes: Vec<u8> = speech8
            .iter()
            .map(|&x| {
                let s = f32_to_i16(x);
                if alaw {
                    linear_to_alaw(s)
                } else {
                    linear_to_ulaw(s)
                }
            })
            .collect();
        let mut dec: Box<dyn Decoder> = if alaw {
            Box::new(PcmaDecoder::new())
        } else {
            Box::new(PcmuDecoder::new())
        };
        let mut pcm = vec![0f32; 8000];
        dec.decode(&bytes, &mut pcm).unwrap();
        let fmt = if alaw {
            AudioFormat::Pcma
        } else {
            AudioFormat::Pcmu
        };
        check_plays(fmt, &[bytes.as_slice()], &pcm, 8000, 1);
    }
    // G.722: a byte stream, cut anywhere.
    let mut enc = G722Encoder::new();
    let mut g722 = vec![0u8; 8000];
    let n = enc.encode(&speech16, &mut g722).unwrap();
    g722.truncate(n);
    let mut pcm = vec![0f32; 16000];
    G722Decoder::new().decode(&g722, &mut pcm).unwrap();
    let pieces: Vec<&[u8]> = g722.chunks(333).collect();
    check_plays(AudioFormat::G722, &pieces, &pcm, 16000, 1);
    // Opus: one packet per chunk, 48 kHz, exact pass-through at 48 kHz.
    let info = CodecInfo::new(CodecKind::Opus, 48000, 2)
        .unwrap()
        .with_channels(1)
        .unwrap();
    let mut enc = info.encoder(&EncoderSettings::default()).unwrap();
    let mut dec = info.decoder().unwrap();
    let tone = sine(48000, 48000, 1, 440.0, 0.3);
    let mut packets = Vec::new();
    let mut pcm = Vec::new();
    let mut buf = vec![0f32; 5760];
    for frame in tone.chunks_exact(960) {
        let mut pkt = vec![0u8; 1500];
        let n = enc.encode(frame, &mut pkt).unwrap();
        pkt.truncate(n);
        let m = dec.decode(&pkt, &mut buf).unwrap();
        pcm.extend_from_slice(&buf[..m]);
        packets.push(pkt);
    }
    let refs: Vec<&[u8]> = packets.iter().map(|p| p.as_slice()).collect();
    check_plays(AudioFormat::Opus { channels: 1 }, &refs, &pcm, 48000, 1);
    // A bad Opus packet is refused and counted; nothing is queued.
    let mut p = StreamPlayer::new(
        AudioFormat::Opus { channels: 1 },
        StreamConfig::new(48000, 1),
    )
    .unwrap();
    assert!(matches!(p.push(&[]), Err(StreamError::Codec(_))));
    assert_eq!((p.queued_frames(), p.stats().push_errors), (0, 1));
}

fn check_plays(fmt: AudioFormat, chunks: &[&[u8]], decoded: &[f32], in_rate: u32, ch: usize) {
    let mut p = StreamPlayer::new(fmt, StreamConfig::new(44100, 1)).unwrap();
    for c in chunks {
        p.push(c).unwrap();
    }
    assert_eq!(p.queued_frames(), decoded.len() / ch, "{fmt:?}");
    let quanta = 44100 / Q + 4;
    let (out, _) = run(&mut p, quanta, 0);
    let want = reference(decoded, in_rate, 44100, ch, quanta * Q);
    for (i, (a, b)) in out.iter().zip(&want).enumerate() {
        assert!((a - b).abs() <= 1e-6, "{fmt:?} frame {i}: {a} vs {b}");
    }
}

#[test]
fn planar_and_interleaved_render_agree() {
    let fmt = AudioFormat::L16Le {
        rate: 24000,
        channels: 2,
    };
    let input = q16(&sine(24000, 4800, 2, 300.0, 0.5));
    let bytes = l16_bytes(&input, true);
    let mut a = StreamPlayer::new(fmt, StreamConfig::new(48000, 3)).unwrap();
    let mut b = StreamPlayer::new(fmt, StreamConfig::new(48000, 3)).unwrap();
    a.push(&bytes).unwrap();
    b.push(&bytes).unwrap();
    let mut il = [0f32; 3 * 100];
    let mut pl = [0f32; 3 * 100];
    let mut loud = false;
    for _ in 0..120 {
        a.render(&mut il, 0.0);
        b.render_planar(&mut pl, 0.0);
        for f in 0..100 {
            for c in 0..3 {
                assert_eq!(il[f * 3 + c], pl[c * 100 + f]);
            }
            assert_eq!(il[f * 3 + 2], 0.0, "third channel silent");
            loud |= il[f * 3].abs() > 0.4 && il[f * 3 + 1] != il[f * 3];
        }
    }
    assert!(loud, "stereo kept apart");
    // Odd lengths: the trailing partial frame is zeroed, never panics.
    let mut odd = [1f32; 7];
    a.render(&mut odd, 0.0);
    assert_eq!(odd[6], 0.0);
    a.render(&mut [], 0.0);
}

#[test]
fn config_and_format_changes() {
    let c = StreamConfig::new(48000, 1);
    assert!(StreamPlayer::new(
        AudioFormat::Pcmu,
        StreamConfig {
            output_channels: 0,
            ..c
        }
    )
    .is_err());
    assert!(StreamPlayer::new(
        AudioFormat::Pcmu,
        StreamConfig {
            output_rate: 4000,
            ..c
        }
    )
    .is_err());
    assert!(StreamPlayer::new(
        AudioFormat::L16Le {
            rate: 200_000,
            channels: 1
        },
        c
    )
    .is_err());
    assert!(StreamPlayer::new(
        AudioFormat::L16Le {
            rate: 16000,
            channels: 3
        },
        c
    )
    .is_err());
    for bad in [
        StreamConfig {
            max_queue_ms: u32::MAX,
            ..c
        },
        StreamConfig {
            max_queue_ms: 0,
            ..c
        },
        StreamConfig {
            start_threshold_ms: 70_000,
            ..c
        },
        StreamConfig {
            clear_fade_ms: f32::NAN,
            ..c
        },
        StreamConfig { max_marks: 0, ..c },
    ] {
        assert!(matches!(
            StreamPlayer::new(AudioFormat::Pcmu, bad),
            Err(StreamError::Config(_))
        ));
    }
    let mut p = StreamPlayer::new(AudioFormat::Pcmu, c).unwrap();
    p.push(&[0xFF; 160]).unwrap();
    // Same rate: fine at any time, queue kept.
    p.set_input(AudioFormat::Pcma).unwrap();
    assert_eq!(p.queued_frames(), 160);
    // Another rate with audio queued: refused.
    let l16 = AudioFormat::L16Le {
        rate: 16000,
        channels: 1,
    };
    assert_eq!(p.set_input(l16), Err(StreamError::Busy));
    p.clear();
    p.set_input(l16).unwrap();
    p.push(&[0; 640]).unwrap();
    assert_eq!(p.queued_ms(), 20.0);
    // Non-finite PCM plays as silence.
    let mut p = StreamPlayer::new(l16, StreamConfig::new(16000, 1)).unwrap();
    p.push_pcm(&[f32::NAN, f32::INFINITY, 0.25, f32::NEG_INFINITY])
        .unwrap();
    let mut buf = [9f32; 4];
    p.start_now();
    p.render(&mut buf, 0.0);
    assert_eq!(buf, [0.0, 0.0, 0.25, 0.0]);
}

trait StartNow {
    fn start_now(&mut self);
}
impl StartNow for StreamPlayer {
    /// Renders silence until the start timeout passes (queue below threshold).
    fn start_now(&mut self) {
        let frames = (self.config().start_timeout_ms as usize * self.config().output_rate as usize)
            .div_ceil(1000);
        let mut sink = vec![0f32; frames * usize::from(self.config().output_channels)];
        self.render(&mut sink, 0.0);
    }
}

#[test]
fn random_operations_keep_invariants() {
    let mut rng = Rng(0xABCDEF);
    let formats = [
        AudioFormat::L16Le {
            rate: 16000,
            channels: 1,
        },
        AudioFormat::L16Be {
            rate: 44100,
            channels: 2,
        },
        AudioFormat::Pcmu,
        AudioFormat::G722,
    ];
    for (k, fmt) in formats.into_iter().enumerate() {
        let mut cfg = StreamConfig::new([44100, 48000, 8000, 96000][k], 1 + k as u16 % 2);
        cfg.max_queue_ms = 500;
        cfg.overflow = if k % 2 == 0 {
            OverflowPolicy::Reject
        } else {
            OverflowPolicy::DropOldest
        };
        let mut p = StreamPlayer::new(fmt, cfg).unwrap();
        let mut next_id = 0u32;
        let mut seen = vec![0u8; 100_000];
        let mut buf = vec![0f32; 1000];
        for _ in 0..3000 {
            match rng.below(10) {
                0..=3 => {
                    let n = rng.below(2000);
                    let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                    let _ = p.push(&bytes);
                }
                4 => {
                    if p.mark(next_id).is_ok() {
                        next_id += 1;
                    }
                }
                5 if rng.below(8) == 0 => p.clear(),
                _ => {
                    let n = rng.below(buf.len());
                    p.render(&mut buf[..n], 0.0);
                    let peak = buf[..n].iter().fold(0f32, |a, x| a.max(x.abs()));
                    // Full-scale noise overshoots a little through the filter.
                    assert!(peak.is_finite() && peak < 3.0, "{fmt:?}: {peak}");
                }
            }
            while let Some(e) = p.poll_event() {
                if let StreamEvent::Mark { id, .. } | StreamEvent::MarkCleared { id } = e {
                    seen[id as usize] += 1;
                }
            }
        }
        p.clear();
        while let Some(e) = p.poll_event() {
            if let StreamEvent::Mark { id, .. } | StreamEvent::MarkCleared { id } = e {
                seen[id as usize] += 1;
            }
        }
        assert!(next_id > 100);
        assert!(
            seen[..next_id as usize].iter().all(|&c| c == 1),
            "{fmt:?}: every mark reported exactly once"
        );
        assert_eq!(p.stats().events_dropped, 0);
    }
}
