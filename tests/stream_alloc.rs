//! `StreamPlayer::render` never allocates: a counting global allocator
//! (this file is its own test binary, so it sees only this test). Only the
//! test's own thread is counted: libtest's main thread may allocate at any
//! time (e.g. its "running for over 60 s" notice on a loaded machine).
#![cfg(not(target_arch = "wasm32"))]

use voxlet::stream::{AudioFormat, StreamConfig, StreamEvent, StreamPlayer};
use voxlet_support::{counted, CountingAlloc};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn render_and_events_never_allocate() {
    // The counter sees allocations at all.
    let (v, n) = counted(|| vec![1u8; 10]);
    assert_eq!((v.len(), n), (10, 1));
    let formats = [
        (
            AudioFormat::L16Le {
                rate: 16000,
                channels: 1,
            },
            44100,
            2,
        ),
        (
            AudioFormat::L16Be {
                rate: 24000,
                channels: 2,
            },
            48000,
            1,
        ),
        (AudioFormat::Pcmu, 48000, 1),
        (AudioFormat::Opus { channels: 1 }, 48000, 2),
    ];
    for (fmt, rate, ch) in formats {
        let mut p = StreamPlayer::new(fmt, StreamConfig::new(rate, ch)).unwrap();
        let chunk: Vec<u8> = (0..3200u32).map(|i| (i * 7 % 251) as u8).collect();
        let push = |p: &mut StreamPlayer| match fmt {
            AudioFormat::Opus { .. } => {
                // A 20 ms CELT silence frame (TOC 0xF8: fullband, 20 ms, mono, code 0).
                for _ in 0..50 {
                    p.push(&[0xF8, 0xFF, 0xFE]).unwrap();
                }
            }
            _ => {
                p.push(&chunk).unwrap();
            }
        };
        push(&mut p);
        let mut out = vec![0f32; 128 * usize::from(ch)];
        let mut planar = vec![0f32; 128 * usize::from(ch)];
        let mut marks = 0;
        let mut drained = 0;
        let mut total = 0;
        for round in 0..6 {
            if round > 0 {
                push(&mut p);
            }
            for id in 0..20 {
                p.mark(round * 100 + id).unwrap();
            }
            if round == 3 {
                let (_, n) = counted(|| p.clear());
                total += n;
            }
            // Render well past the end: marks fire, the queue drains, the
            // player goes idle; plus an odd-sized call and a planar one.
            for i in 0..500 {
                let (_, n) = counted(|| {
                    if i % 7 == 0 {
                        p.render_planar(&mut planar, i as f64);
                    } else if i % 11 == 0 {
                        p.render(&mut out[..37], i as f64);
                    } else {
                        p.render(&mut out, i as f64);
                    }
                    let mut evs = 0;
                    while let Some(e) = p.poll_event() {
                        match e {
                            StreamEvent::Mark { .. } => marks += 1,
                            StreamEvent::Drained { .. } => drained += 1,
                            _ => {}
                        }
                        evs += 1;
                    }
                    let _ = p.stats();
                    evs
                });
                total += n;
            }
        }
        assert_eq!(total, 0, "{fmt:?}: {total} allocations while rendering");
        assert!(
            marks >= 100 && drained >= 5,
            "{fmt:?}: {marks} marks, {drained} drained"
        );
    }
}
