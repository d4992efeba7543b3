//! The Receiver against what real senders put on the wire, with their real
//! arrival times: `tests/fixtures/real_senders/` (ffmpeg's RTP muxer at its
//! defaults, real-time paced; aiortp 0.8 sending audio and RFC 4733 DTMF),
//! captured on loopback; see that folder's README for what each stream looks
//! like. Every stream is loss-free, so anything concealed or late is the
//! receiver's own doing.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::codec::Registry;
use voxlet::receiver::{ReceiverEvent, ReceiverStats};
use voxlet::rtpdump::RtpDumpReader;
use voxlet::{Receiver, ReceiverConfig};

/// (packet, arrival ms) of a capture; the path's own delay is added so the
/// first packet arrives at 20 ms.
fn arrivals(file: &[u8]) -> Vec<(Vec<u8>, f64)> {
    let mut r = RtpDumpReader::new(file).unwrap();
    let mut v = Vec::new();
    while let Some(rec) = r.next_record() {
        let rec = rec.unwrap();
        if !rec.is_rtcp() {
            v.push((rec.data.to_vec(), f64::from(rec.offset_ms) + 20.0));
        }
    }
    v
}

struct Run {
    stats: ReceiverStats,
    events: Vec<ReceiverEvent>,
    /// Samples concealed before the block that played the stream's end.
    concealed_in_stream: u64,
    /// Of those, concealed in the first second (before the delay model
    /// has seen the sender's pattern).
    concealed_first_s: u64,
    /// Samples removed or inserted by time-stretching after the first second.
    stretched_after_1s: u64,
}

/// Replays `arrivals` into a default Receiver rendering 128-frame quanta
/// at 48 kHz (an AudioWorklet), until 1 s after the last arrival.
fn replay(arrivals: &[(Vec<u8>, f64)], registry: Registry) -> Run {
    replay_at(arrivals, registry, 48000, 128)
}

/// [`replay`] at an output `rate` in blocks of `block` frames.
fn replay_at(arrivals: &[(Vec<u8>, f64)], registry: Registry, rate: u32, block: usize) -> Run {
    let mut rx = Receiver::new(ReceiverConfig {
        registry,
        output_rate: rate,
        ..ReceiverConfig::default()
    })
    .unwrap();
    let mut buf = vec![0f32; block];
    let (mut i, mut n) = (0, 0u64);
    let mut t = 0.0;
    let mut events = Vec::new();
    let mut concealed_in_stream = 0;
    let mut concealed_first_s = 0;
    let mut stretched_first_s = 0;
    let until = arrivals.last().unwrap().1 + 1000.0;
    while t < until {
        while i < arrivals.len() && arrivals[i].1 <= t {
            let _ = rx.push(&arrivals[i].0, arrivals[i].1);
            i += 1;
        }
        let before = rx.stats().concealed_samples;
        let info = rx.render(&mut buf, t);
        while let Some(e) = rx.poll_event() {
            events.push(e);
        }
        if t < 1000.0 {
            concealed_first_s = rx.stats().concealed_samples;
            let s = rx.stats();
            stretched_first_s =
                s.removed_samples_for_acceleration + s.inserted_samples_for_deceleration;
        }
        if info.decoded_frames > 0 {
            // Concealment before the last block that played packet audio
            // (that one may run out of audio at the end of the stream).
            concealed_in_stream = before;
        }
        n += block as u64;
        t = n as f64 * 1000.0 / f64::from(rate);
    }
    Run {
        stats: rx.stats(),
        events,
        concealed_in_stream,
        concealed_first_s,
        stretched_after_1s: rx.stats().removed_samples_for_acceleration
            + rx.stats().inserted_samples_for_deceleration
            - stretched_first_s,
    }
}

/// Output rates and render blocks a loss-free stream is checked at: 10 ms
/// blocks and 128-frame AudioWorklet quanta, 8–48 kHz.
const RENDERS: [(u32, usize); 6] = [
    (8000, 80),
    (8000, 128),
    (16000, 160),
    (16000, 128),
    (48000, 480),
    (48000, 128),
];

/// A loss-free real stream: nothing lost, nothing late, nothing concealed
/// once the first second has shown the receiver the sender's pattern (in
/// it, at most one 10 ms step: playout starts at the initial delay, before
/// the sender's pacing jitter is known), and at most `stretch_ms` of
/// time-stretching after it (5 ms, one or two pitch periods, for a steady
/// sender).
fn check_loss_free(name: &str, file: &[u8], stretch_ms: u64) {
    let a = arrivals(file);
    let mut reg = Registry::with_static();
    reg.insert_rtpmap(111, "opus/48000/2").unwrap();
    for (rate, block) in RENDERS {
        let run = replay_at(&a, reg.clone(), rate, block);
        let s = &run.stats;
        let case = format!("{name} at {rate} Hz, {block}-frame blocks");
        println!(
            "{case}: target {:.1} ms, concealed {} in the first s, {} in all; stretched {} after 1 s",
            s.target_delay_ms,
            run.concealed_first_s,
            run.concealed_in_stream,
            run.stretched_after_1s
        );
        assert_eq!(s.packets_received, a.len() as u64, "{case}");
        assert_eq!((s.packets_lost, s.packets_late), (0, 0), "{case}: {s:?}");
        assert_eq!(
            run.concealed_in_stream, run.concealed_first_s,
            "{case}: concealed after the first second; {s:?}"
        );
        let ms = |n: u64| n * 1000 / u64::from(rate);
        assert!(ms(run.concealed_first_s) <= 10, "{case}: {s:?}");
        assert!(
            ms(run.stretched_after_1s) <= stretch_ms,
            "{case}: stretched {} samples after 1 s",
            run.stretched_after_1s
        );
    }
}

#[test]
fn ffmpeg_defaults_pcmu_40ms() {
    check_loss_free(
        "pcmu",
        include_bytes!("fixtures/real_senders/ffmpeg_pcmu.rtpdump"),
        5,
    );
}
#[test]
fn ffmpeg_defaults_pcma_40ms() {
    check_loss_free(
        "pcma",
        include_bytes!("fixtures/real_senders/ffmpeg_pcma.rtpdump"),
        5,
    );
}
#[test]
fn ffmpeg_defaults_g722_pairs() {
    check_loss_free(
        "g722",
        include_bytes!("fixtures/real_senders/ffmpeg_g722.rtpdump"),
        5,
    );
}
#[test]
fn ffmpeg_defaults_opus_marker_on_every_packet() {
    check_loss_free(
        "opus",
        include_bytes!("fixtures/real_senders/ffmpeg_opus.rtpdump"),
        5,
    );
}
#[test]
fn ffmpeg_wav_pcmu_alternating_1460_588() {
    check_loss_free(
        "pcmu_wav",
        include_bytes!("fixtures/real_senders/ffmpeg_pcmu_wav.rtpdump"),
        5,
    );
}
#[test]
fn ffmpeg_wav_pcma_alternating_1460_588() {
    check_loss_free(
        "pcma_wav",
        include_bytes!("fixtures/real_senders/ffmpeg_pcma_wav.rtpdump"),
        5,
    );
}
#[test]
fn ffmpeg_wav_g722_bursts_of_6() {
    // Bursts with up to ±25 ms of pacing jitter on top: the target keeps
    // adapting a little (measured: at most 28 ms over the 5 s after the
    // first second, in pauses).
    check_loss_free(
        "g722_wav",
        include_bytes!("fixtures/real_senders/ffmpeg_g722_wav.rtpdump"),
        30,
    );
}
#[test]
fn ffmpeg_wav_opus_pairs() {
    // Bursts with up to ±25 ms of pacing jitter on top: the target keeps
    // adapting a little (measured: at most 28 ms over the 5 s after the
    // first second, in pauses).
    check_loss_free(
        "opus_wav",
        include_bytes!("fixtures/real_senders/ffmpeg_opus_wav.rtpdump"),
        30,
    );
}

#[test]
fn aiortp_dtmf_on_a_reused_timestamp() {
    let a = arrivals(include_bytes!("fixtures/real_senders/aiortp_dtmf.rtpdump"));
    let mut reg = Registry::with_static();
    reg.insert_rtpmap(101, "telephone-event/8000").unwrap();
    let run = replay(&a, reg);
    let digits: Vec<_> = run
        .events
        .iter()
        .filter_map(|e| match e {
            ReceiverEvent::DtmfBegin { digit, .. } => *digit,
            _ => None,
        })
        .collect();
    let ends: Vec<_> = run
        .events
        .iter()
        .filter_map(|e| match e {
            ReceiverEvent::DtmfEnd {
                digit,
                duration,
                timed_out,
                ..
            } => Some((*digit, *duration, *timed_out)),
            _ => None,
        })
        .collect();
    println!("{:?}\n{:?}", run.events, run.stats);
    assert_eq!(digits, ['1', '5', '#']);
    assert_eq!(
        ends,
        [
            (Some('1'), 1280, false),
            (Some('5'), 1280, false),
            (Some('#'), 1280, false)
        ]
    );
    assert_eq!(run.stats.packets_lost, 0);
    assert_eq!(run.concealed_in_stream, 0, "{:?}", run.stats);
}
