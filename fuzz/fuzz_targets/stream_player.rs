//! Stream mode (untimestamped chunks): the first bytes pick the input
//! format (any rate / channels, most refused) and a `StreamConfig` (any
//! values); then a framed sequence of pushes (bytes or PCM), marks,
//! clears, input changes and renders of any size at any `now`. Checked:
//! the queue never exceeds `max_queue_ms` (plus one chunk under
//! `DropOldest`... it never does: a refused chunk queues nothing), and
//! every rendered sample is finite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::dsp::Quality;
use voxlet::stream::{AudioFormat, OverflowPolicy, StreamConfig, StreamPlayer};
use voxlet_fuzz::{assert_finite, Reader};

fn format(r: &mut Reader) -> AudioFormat {
    let sel = r.u8();
    let rate = || match sel >> 3 & 3 {
        0 => 8000,
        1 => 16000,
        2 => 48000,
        _ => 44100,
    };
    let channels = 1 + (sel >> 5 & 1) as u16;
    match sel % 8 {
        0 => AudioFormat::Pcmu,
        1 => AudioFormat::Pcma,
        2 => AudioFormat::G722,
        3 => AudioFormat::L16Le {
            rate: rate(),
            channels,
        },
        4 => AudioFormat::L16Be {
            rate: rate(),
            channels,
        },
        5 => AudioFormat::Opus { channels },
        6 => AudioFormat::L16Le {
            rate: r.u32(),
            channels: r.u16(),
        },
        _ => AudioFormat::Opus { channels: r.u16() },
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let input = format(&mut r);
    let f = r.u8();
    let mut cfg = StreamConfig::new(
        [48000, 44100, 16000, 8000][f as usize % 4],
        1 + (f as u16 >> 2 & 1),
    );
    if f & 8 != 0 {
        cfg.output_rate = r.u32();
        cfg.output_channels = r.u8() as u16;
    }
    if f & 16 != 0 {
        cfg.max_queue_ms = r.u32() % 120_000;
        cfg.start_threshold_ms = r.u16() as u32;
        cfg.start_timeout_ms = r.u16() as u32;
        cfg.clear_fade_ms = match r.u8() {
            0 => f32::NAN,
            1 => -1.0,
            2 => f32::INFINITY,
            b => b as f32 / 4.0,
        };
        cfg.max_marks = r.u16() as usize;
    }
    cfg.overflow = if f & 32 != 0 {
        OverflowPolicy::DropOldest
    } else {
        OverflowPolicy::Reject
    };
    cfg.resampler_quality = match f >> 6 {
        0 => Quality::Low,
        1 => Quality::High,
        _ => Quality::Medium,
    };
    let ch = usize::from(cfg.output_channels);
    let max_queue_ms = cfg.max_queue_ms as f64;
    let Ok(mut p) = StreamPlayer::new(input, cfg) else {
        return;
    };
    let mut now = 0.0;
    let mut out = vec![0f32; 4096 * 8];
    let mut rendered = 0usize;
    let mut pcm = Vec::new();
    while let Some((tag, body)) = r.message() {
        let mut b = Reader::new(body);
        match tag {
            0..=99 => {
                let _ = p.push(body);
            }
            100..=119 => {
                pcm.clear();
                while !b.is_empty() {
                    pcm.push(match b.u8() {
                        0 => f32::NAN,
                        1 => f32::INFINITY,
                        v => (v as f32 - 128.0) / 64.0,
                    });
                }
                let _ = p.push_pcm(&pcm);
            }
            120..=139 => {
                let _ = p.mark(b.u32());
            }
            140..=149 => p.clear(),
            150..=154 => {
                let mut fr = Reader::new(body);
                let _ = p.set_input(format(&mut fr));
            }
            155..=239 => {
                if rendered > 48_000 * 3 {
                    continue;
                }
                let len = (b.u16() as usize % 4097) * ch + (b.u8() as usize % 2);
                let len = len.min(out.len());
                let at = if b.u8() == 0xFF {
                    b.time_step_ms()
                } else {
                    now
                };
                if tag & 1 == 0 {
                    p.render(&mut out[..len], at);
                } else {
                    p.render_planar(&mut out[..len], at);
                }
                assert_finite(&out[..len], "render");
                rendered += len / ch.max(1);
                now += (len / ch.max(1)) as f64 / 48.0;
            }
            _ => {
                now += b.u32() as f64;
            }
        }
        while p.poll_event().is_some() {}
        let s = p.stats();
        assert!(
            s.queued_ms <= max_queue_ms + 1.0,
            "queued {} ms > {max_queue_ms}",
            s.queued_ms
        );
        let _ = (
            p.queued_frames(),
            p.is_playing(),
            p.pending_bytes(),
            p.latency_frames(),
        );
    }
});
