//! Proves `Receiver::render` (and `push`) allocate nothing in steady state,
//! with a counting `#[global_allocator]` (hence its own test binary).
//!
//! Each scenario builds its packets and impairments first, warms the
//! receiver up for 2 s of audio (the first playout, the first concealment,
//! the first time-stretch: nothing is allowed to allocate even then, but
//! the claim is about steady state), then counts allocations made on this
//! thread inside `render` and inside `push` for the rest of the run:
//! jitter, loss, reordering, duplicates, DTMF, a payload-type switch that
//! changes the codec rate, and an SSRC change all happen in the counted part.

use voxlet::codec::{CodecInfo, CodecKind, Encoder, EncoderSettings, Registry};
use voxlet::rtp::RtpHeader;
use voxlet::{Receiver, ReceiverConfig};
use voxlet_support::netsim::{Jitter, Loss, NetSim};
use voxlet_support::signal::s16le_f32 as pcm;
use voxlet_support::{counted, CountingAlloc};

static SPEECH_8K: &[u8] = include_bytes!("fixtures/speech_8k.s16le");
static SPEECH_48K: &[u8] = include_bytes!("fixtures/speech_48k.s16le");

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let h = RtpHeader {
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc,
        ..RtpHeader::default()
    };
    let mut buf = vec![0u8; 12 + payload.len()];
    let n = h.write(payload, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// `seconds` of 20 ms packets: `pt_of(i)` picks the codec per packet
/// (PT 0 PCMU, 9 G.722, 111 Opus), DTMF (PT 101) bursts every 3 s, and
/// the SSRC changes at `ssrc_change_s`.
fn stream(
    seconds: usize,
    pt_of: impl Fn(usize) -> u8,
    ssrc_change_s: usize,
) -> Vec<(Vec<u8>, f64)> {
    let s8 = pcm(SPEECH_8K);
    let s48 = pcm(SPEECH_48K);
    let mut pcmu = voxlet::codec::g711::PcmuEncoder::new();
    let mut g722 = CodecInfo::new(CodecKind::G722, 8000, 1)
        .unwrap()
        .encoder(&EncoderSettings::default())
        .unwrap();
    let mut opus = CodecInfo::new(CodecKind::Opus, 48000, 2)
        .and_then(|i| i.with_channels(1))
        .unwrap()
        .encoder(&EncoderSettings {
            fec: true,
            packet_loss_percent: 10,
            ..EncoderSettings::default()
        })
        .unwrap();
    let mut out = Vec::new();
    let mut seq = 40_000u16;
    let mut payload = vec![0u8; 4000];
    for i in 0..seconds * 50 {
        let ssrc = if i >= ssrc_change_s * 50 { 0xB } else { 0xA };
        let t = (i * 20) as f64;
        let pt = pt_of(i);
        let n = match pt {
            0 => {
                let k = (i * 160) % (s8.len() - 160);
                pcmu.encode(&s8[k..k + 160], &mut payload).unwrap()
            }
            9 => {
                let k = (i * 160) % (s8.len() - 160);
                let up: Vec<f32> = s8[k..k + 160].iter().flat_map(|v| [*v, *v]).collect();
                g722.encode(&up, &mut payload).unwrap()
            }
            _ => {
                let k = (i * 960) % (s48.len() - 960);
                opus.encode(&s48[k..k + 960], &mut payload).unwrap()
            }
        };
        // Opus runs on a 48 kHz clock, the others on 8 kHz.
        let ts = if pt == 111 {
            i as u32 * 960
        } else {
            i as u32 * 160
        };
        out.push((rtp(pt, seq, ts, ssrc, &payload[..n]), t));
        seq = seq.wrapping_add(1);
        if i % 150 == 75 {
            for k in 0..6u16 {
                let ev = voxlet::codec::telephone_event::TelephoneEvent {
                    event: 1,
                    end: k >= 3,
                    volume: 10,
                    duration: 160 * (k + 1),
                };
                let mut p = [0u8; 4];
                ev.write(&mut p).unwrap();
                out.push((rtp(101, seq, ts, ssrc, &p), t + 1.0 + k as f64));
                seq = seq.wrapping_add(1);
            }
        }
    }
    out
}

fn run(name: &str, cfg: ReceiverConfig, packets: &[(Vec<u8>, f64)], block: usize) {
    let rate = cfg.output_rate;
    let ch = cfg.output_channels as usize;
    let sim = NetSim {
        seed: 21,
        loss: Loss::bursty(0.05, 2.0),
        jitter: Jitter::p95(40.0),
        reorder: 0.02,
        duplicate: 0.02,
        ..NetSim::default()
    };
    let (arrivals, _) = sim.run(packets);
    // The counter works: construction allocates (buffers, codec states).
    let (rx, new_allocs) = counted(|| Receiver::new(cfg).unwrap());
    assert!(new_allocs > 0);
    let mut rx = rx;
    let mut buf = vec![0f32; block * ch];
    let end = packets.last().unwrap().1 + 500.0;
    let (mut i, mut n) = (0, 0u64);
    let (mut render_allocs, mut push_allocs, mut renders) = (0, 0, 0);
    let mut t = 0.0;
    while t < end {
        let steady = t >= 2000.0;
        while i < arrivals.len() && arrivals[i].arrival_ms <= t {
            let a = &arrivals[i];
            let (_, c) = counted(|| rx.push(&a.bytes, a.arrival_ms));
            if steady {
                push_allocs += c;
            }
            i += 1;
        }
        let (_, c) = counted(|| rx.render(&mut buf, t));
        if steady {
            render_allocs += c;
            renders += 1;
        }
        while rx.poll_event().is_some() {}
        n += block as u64;
        t = n as f64 * 1000.0 / rate as f64;
    }
    let s = rx.stats();
    println!(
        "{name}: {renders} renders, {render_allocs} allocations in render, {push_allocs} in push; \
         concealed {} accel {} expand {} ssrc changes {} dtmf events ok",
        s.concealed_samples,
        s.removed_samples_for_acceleration,
        s.inserted_samples_for_deceleration,
        s.ssrc_changes
    );
    assert!(renders > 1000);
    assert!(
        s.concealed_samples > 0
            && s.removed_samples_for_acceleration + s.inserted_samples_for_deceleration > 0
    );
    assert_eq!(render_allocs, 0, "{name}: render allocated");
    assert_eq!(push_allocs, 0, "{name}: push allocated");
}

fn registry() -> Registry {
    let mut r = Registry::empty();
    r.insert_rtpmap(0, "PCMU/8000").unwrap();
    r.insert_rtpmap(9, "G722/8000").unwrap();
    r.insert_rtpmap(111, "opus/48000/2").unwrap();
    r.insert_rtpmap(101, "telephone-event/8000").unwrap();
    r
}

#[test]
fn render_and_push_do_not_allocate_in_steady_state() {
    // PCMU then G.722 (8 → 16 kHz codec rate: the resampler chain
    // switches), 48 kHz mono, worklet-sized blocks, SSRC change at 12 s.
    let pk = stream(20, |i| if i < 400 { 0 } else { 9 }, 12);
    run(
        "pcmu/g722 → 48k mono",
        ReceiverConfig {
            registry: registry(),
            output_rate: 48000,
            output_channels: 1,
            ..ReceiverConfig::default()
        },
        &pk,
        128,
    );
    // Opus with FEC at 44.1 kHz stereo.
    let pk = stream(20, |_| 111, 12);
    run(
        "opus → 44.1k stereo",
        ReceiverConfig {
            registry: registry(),
            output_rate: 44100,
            output_channels: 2,
            ..ReceiverConfig::default()
        },
        &pk,
        128,
    );
}
