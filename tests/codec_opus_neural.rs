//! Neural Opus (the `neural` build: libopus deep PLC, DRED, OSCE), run with
//! `cargo test --features neural --test codec_opus_neural`. Without the
//! feature this file is empty; `tests/codec_opus.rs` checks that the
//! default build refuses the neural settings by name.
#![cfg(feature = "neural")]

use voxlet::codec::opus::{OpusDecoder, OpusEncoder};
use voxlet::codec::{
    CodecError, CodecInfo, CodecKind, Decoder, Encoder, EncoderSettings, NeuralOpus, Osce,
};
use voxlet::rtp::RtpHeader;
use voxlet::{Receiver, ReceiverConfig};
use voxlet_support::signal::{rms, s16le_f32};

static SPEECH: &[u8] = include_bytes!("fixtures/speech_48k.s16le");

fn info() -> CodecInfo {
    CodecInfo::new(CodecKind::Opus, 48000, 2)
        .and_then(|i| i.with_channels(1))
        .unwrap()
}

/// 20 ms packets of the fixture speech at 24 kbit/s with `dred_ms` of DRED
/// (and no LBRR: with in-band FEC on, libopus leaves DRED too few bits at
/// this rate and sends none).
fn packets(dred_ms: u16) -> Vec<Vec<u8>> {
    packets_at(24_000, dred_ms)
}

/// The same at `bitrate`.
fn packets_at(bitrate: u32, dred_ms: u16) -> Vec<Vec<u8>> {
    let mut enc = OpusEncoder::new(
        info(),
        &EncoderSettings {
            bitrate,
            fec: false,
            packet_loss_percent: 20,
            dred_ms,
            ..EncoderSettings::default()
        },
    )
    .unwrap();
    let mut out = vec![0u8; enc.max_payload(960)];
    s16le_f32(SPEECH)
        .chunks_exact(960)
        .map(|f| {
            let n = enc.encode(f, &mut out).unwrap();
            out[..n].to_vec()
        })
        .collect()
}

fn decoder(neural: NeuralOpus) -> OpusDecoder {
    let mut d = OpusDecoder::new(info()).unwrap();
    d.set_neural(neural).unwrap();
    d
}

const DRED: NeuralOpus = NeuralOpus {
    deep_plc: true,
    dred: true,
    osce: Osce::Off,
    dred_rewind: false,
};

/// Level (dB) per 5 ms of `x`.
fn envelope(x: &[f32]) -> Vec<f64> {
    x.chunks(240)
        .map(|c| 20.0 * (rms(c) as f64 + 1e-5).log10())
        .collect()
}

/// Mean absolute level difference (dB) between two envelopes.
fn env_error(a: &[f32], b: &[f32]) -> f64 {
    let (ea, eb) = (envelope(a), envelope(b));
    ea.iter().zip(&eb).map(|(x, y)| (x - y).abs()).sum::<f64>() / ea.len() as f64
}

/// What each decoder makes of packets `pos..pos + lost` when they are lost
/// and `pos + lost` has arrived: (reference decode, DRED, classic PLC).
fn burst(pkts: &[Vec<u8>], pos: usize, lost: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut buf = vec![0f32; 5760];
    let mut run = |mode: u8| {
        let mut d = decoder(if mode == 1 {
            DRED
        } else {
            NeuralOpus::default()
        });
        for p in &pkts[..pos] {
            d.decode(p, &mut buf).unwrap();
        }
        let mut out = Vec::new();
        for k in 0..lost {
            let n = match mode {
                0 => d.decode(&pkts[pos + k], &mut buf).unwrap(),
                1 => d
                    .decode_redundancy(&pkts[pos + lost], 7, (lost - k) * 960, 960, &mut buf)
                    .unwrap()
                    .expect("DRED reaches the burst"),
                _ => d.conceal(960, &mut buf).unwrap(),
            };
            out.extend_from_slice(&buf[..n]);
        }
        out
    };
    (run(0), run(1), run(2))
}

#[test]
fn dred_recovers_a_lost_burst_closer_than_plc() {
    let pkts = packets(200);
    for pos in [60usize, 120, 180, 240] {
        let (reference, dred, plc) = burst(&pkts, pos, 5);
        let (e_dred, e_plc) = (env_error(&reference, &dred), env_error(&reference, &plc));
        println!("at {pos}: envelope error DRED {e_dred:.1} dB, classic PLC {e_plc:.1} dB");
        assert!(dred.iter().all(|x| x.is_finite()));
        // Measured (4 positions): DRED 2.6-2.9 dB, classic PLC 4.8-19.9 dB
        // (it repeats the last pitch period and fades out).
        assert!(
            e_dred < 4.0,
            "at {pos}: DRED envelope off by {e_dred:.1} dB"
        );
        assert!(
            e_dred < e_plc,
            "at {pos}: DRED {e_dred:.1} dB, PLC {e_plc:.1} dB"
        );
    }
}

#[test]
fn no_dred_without_redundancy_or_beyond_its_reach() {
    let plain = packets(0);
    let mut buf = vec![0f32; 5760];
    let mut d = decoder(DRED);
    for p in &plain[..100] {
        d.decode(p, &mut buf).unwrap();
    }
    // A packet sent without DRED: nothing to recover, the caller conceals.
    assert_eq!(
        d.decode_redundancy(&plain[105], 1, 960, 960, &mut buf)
            .unwrap(),
        None
    );
    let with = packets(100);
    // 100 ms of DRED does not reach 600 ms back.
    assert_eq!(
        d.decode_redundancy(&with[105], 2, 28_800, 960, &mut buf)
            .unwrap(),
        None
    );
    // A decoder not asked for DRED never uses it.
    let mut classic = decoder(NeuralOpus::default());
    assert_eq!(
        classic
            .decode_redundancy(&with[105], 3, 960, 960, &mut buf)
            .unwrap(),
        None
    );
    // Bad sizes are errors, not panics.
    assert!(matches!(
        d.decode_redundancy(&with[105], 2, 960, 100, &mut buf),
        Err(CodecError::BadFrameCount(100))
    ));
    assert!(matches!(
        d.decode_redundancy(&with[105], 2, 960, 960, &mut buf[..10]),
        Err(CodecError::OutputTooSmall { .. })
    ));
}

#[test]
fn deep_plc_and_osce_decode_speech() {
    let pkts = packets(0);
    let mut buf = vec![0f32; 5760];
    for neural in [
        NeuralOpus {
            deep_plc: true,
            ..NeuralOpus::default()
        },
        NeuralOpus::ON,
        NeuralOpus {
            osce: Osce::NoLace,
            ..NeuralOpus::ON
        },
    ] {
        let mut d = decoder(neural);
        let mut classic = decoder(NeuralOpus::default());
        let (mut out, mut reference) = (Vec::new(), Vec::new());
        for p in &pkts[..120] {
            let n = d.decode(p, &mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
            let n = classic.decode(p, &mut buf).unwrap();
            reference.extend_from_slice(&buf[..n]);
        }
        let last = rms(&out[out.len() - 960..]);
        // Lose 60 ms: deep PLC keeps speech going at a speech-like level.
        let mut lost = Vec::new();
        for _ in 0..3 {
            let n = d.conceal(960, &mut buf).unwrap();
            lost.extend_from_slice(&buf[..n]);
        }
        assert!(lost.iter().all(|x| x.is_finite()));
        let l = rms(&lost);
        println!("{neural:?}: last frame rms {last:.3}, concealed 60 ms rms {l:.3}");
        assert!(
            l > 0.1 * last && l < 3.0 * last,
            "{neural:?}: concealment rms {l} vs {last}"
        );
        // OSCE changes the decoded speech (enhancement), deep PLC alone does not.
        let same = out == reference;
        assert_eq!(same, neural.osce == Osce::Off, "{neural:?}");
        assert_eq!(d.neural(), neural);
    }
}

#[test]
fn encoder_dred_settings_are_checked() {
    for bad in [5u16, 1010, 2000] {
        let r = OpusEncoder::new(
            info(),
            &EncoderSettings {
                dred_ms: bad,
                ..EncoderSettings::default()
            },
        );
        assert!(matches!(r, Err(CodecError::BadSetting("dred_ms"))), "{bad}");
    }
    // DRED is carried (found by the parser) once the encoder has history.
    let pkts = packets(200);
    let mut d = decoder(DRED);
    let mut buf = vec![0f32; 5760];
    let found = (50..150)
        .filter(|&i| {
            d.decode_redundancy(&pkts[i], i as u64, 1920, 960, &mut buf)
                .unwrap()
                .is_some()
        })
        .count();
    // Measured 87: packets in pauses carry none.
    assert!(found >= 80, "{found} of 100 packets carried DRED");
}

/// libopus sends no DRED at 0 % expected loss; asking for DRED without
/// saying how much loss to expect must still send it (the npm package's
/// `createMic({ dredMs })` gives no packetLossPercent).
#[test]
fn dred_without_an_expected_loss_is_still_sent() {
    let encode = |packet_loss_percent: u8| {
        let settings = EncoderSettings {
            bitrate: 48_000,
            packet_loss_percent,
            dred_ms: 200,
            ..EncoderSettings::default()
        };
        let mut enc = OpusEncoder::new(info(), &settings).unwrap();
        let mut out = vec![0u8; enc.max_payload(960)];
        let pkts: Vec<Vec<u8>> = s16le_f32(SPEECH)
            .chunks_exact(960)
            .take(150)
            .map(|f| {
                let n = enc.encode(f, &mut out).unwrap();
                out[..n].to_vec()
            })
            .collect();
        let mut d = decoder(DRED);
        let reach: usize = (50..150)
            .map(|i| d.redundancy_reach(&pkts[i], i as u64).unwrap())
            .sum();
        (settings.effective_loss_percent(), reach / 100 / 48)
    };
    let (assumed, reach_ms) = encode(0);
    assert_eq!(assumed, EncoderSettings::DRED_LOSS_PERCENT);
    assert!(
        reach_ms >= 100,
        "mean DRED reach {reach_ms} ms with no loss given"
    );
    let (given, reach_ms) = encode(3);
    assert_eq!(given, 3);
    assert!(reach_ms > 0, "mean DRED reach {reach_ms} ms at 3 % loss");
    assert_eq!(
        EncoderSettings::default().effective_loss_percent(),
        0,
        "no DRED: the loss given, 0"
    );
}

/// Renders `pkts` as RTP through a Receiver with `neural`, losing packets
/// `lost`, each arriving 20 ms after it was sent at a fixed 80 ms delay
/// (so the packet after a short burst is buffered before its gap plays).
fn receive(
    pkts: &[Vec<u8>],
    lost: &[usize],
    neural: NeuralOpus,
) -> voxlet::receiver::ReceiverStats {
    let mut reg = voxlet::codec::Registry::empty();
    reg.insert_rtpmap(111, "opus/48000/2").unwrap();
    let mut rx = Receiver::new(ReceiverConfig {
        registry: reg,
        output_rate: 48_000,
        min_delay_ms: 80,
        initial_delay_ms: 80,
        neural,
        ..ReceiverConfig::default()
    })
    .unwrap();
    let mut rtp = vec![0u8; 1600];
    let mut out = vec![0f32; 480];
    let mut next = 0;
    // Until the last packet has played (no concealment after the end).
    for block in 0..(pkts.len() * 2 + 6) {
        let now = block as f64 * 10.0;
        while next < pkts.len() && (next as f64 + 1.0) * 20.0 <= now {
            if !lost.contains(&next) {
                let h = RtpHeader {
                    payload_type: 111,
                    sequence: next as u16,
                    timestamp: (next * 960) as u32,
                    ssrc: 5,
                    ..RtpHeader::default()
                };
                let n = h.write(&pkts[next], &mut rtp).unwrap();
                rx.push(&rtp[..n], now).unwrap();
            }
            next += 1;
        }
        rx.render(&mut out, now);
    }
    rx.stats()
}

#[test]
fn receiver_recovers_bursts_from_dred_and_counts_it() {
    let pkts = packets(200);
    let lost: Vec<usize> = [60, 120, 180, 240].iter().flat_map(|&p| p..p + 3).collect();
    let neural = receive(&pkts, &lost, DRED);
    let classic = receive(&pkts, &lost, NeuralOpus::default());
    println!(
        "neural: dred {} deep PLC {} concealed {}; classic: concealed {} deep PLC {}",
        neural.dred_samples,
        neural.deep_plc_samples,
        neural.concealed_samples,
        classic.concealed_samples,
        classic.deep_plc_samples
    );
    // 12 packets (240 ms = 11,520 samples at 48 kHz) lost in 4 bursts of
    // 3: every one recovered from the DRED of the packet after its burst.
    assert_eq!(neural.dred_samples, 11_520, "{neural:?}");
    assert_eq!(neural.concealed_samples, 0);
    assert_eq!(classic.dred_samples, 0);
    assert_eq!(classic.deep_plc_samples, 0);
    assert_eq!(classic.concealed_samples, 11_520);
    // The same losses in a stream sent without DRED: deep PLC conceals,
    // and every audible concealed sample is counted as deep PLC.
    let plc = receive(&packets(0), &lost, DRED);
    println!(
        "no DRED sent: {} concealed, {} silent, {} deep PLC",
        plc.concealed_samples, plc.silent_concealed_samples, plc.deep_plc_samples
    );
    assert_eq!(plc.dred_samples, 0);
    assert_eq!(plc.concealed_samples, 11_520);
    assert!(plc.deep_plc_samples > 0);
    assert_eq!(
        plc.deep_plc_samples,
        plc.concealed_samples - plc.silent_concealed_samples
    );
}

#[test]
fn dred_rewind_replays_an_outage_that_stopped_playout() {
    // 48 kbit/s: enough for DRED to reach ~440 ms back (24 kbit/s: ~140).
    let pkts = packets_at(48_000, 1000);
    // 300 ms lost: more than the 100 ms of concealment before playout stops.
    let lost: Vec<usize> = (150..165).collect();
    let plain = receive(&pkts, &lost, DRED);
    let rewind = receive(
        &pkts,
        &lost,
        NeuralOpus {
            dred_rewind: true,
            ..DRED
        },
    );
    println!(
        "300 ms outage: without rewind dred {} concealed {}; with rewind dred {} concealed {}, delay {:.0} vs {:.0} ms",
        plain.dred_samples,
        plain.concealed_samples,
        rewind.dred_samples,
        rewind.concealed_samples,
        plain.jitter_buffer_delay / plain.jitter_buffer_emitted_count as f64 * 1000.0,
        rewind.jitter_buffer_delay / rewind.jitter_buffer_emitted_count as f64 * 1000.0,
    );
    // Without rewind only the end of the outage still ahead of playout
    // when the next packet arrives comes from DRED; with it, nearly all
    // 300 ms (14,400 samples; measured: all of it, mean delay 60 -> 122 ms
    // over this 5.7 s clip, as the rewind adds delay that time-compression
    // then removes).
    assert!(plain.dred_samples < 6_000, "{plain:?}");
    assert!(rewind.dred_samples >= 13_440, "{rewind:?}");
}

#[test]
fn dred_reaches_further_at_higher_bitrates() {
    let mut d = decoder(DRED);
    let mut mean_ms = |bitrate: u32| {
        let pkts = packets_at(bitrate, 1000);
        let reach: usize = (100..200)
            .map(|i| {
                d.redundancy_reach(&pkts[i], u64::from(bitrate) + i as u64)
                    .unwrap()
            })
            .sum();
        reach as f64 / 100.0 / 48.0
    };
    let (low, high) = (mean_ms(24_000), mean_ms(48_000));
    println!("DRED asked for 1 s: mean reach {low:.0} ms at 24 kbit/s, {high:.0} ms at 48 kbit/s");
    // Measured: 136 ms at 24 kbit/s, 174 at 32, 438 at 48, 598 at 64
    // (libopus sizes DRED from the bitrate left over the primary coding).
    assert!(low > 80.0 && high > 2.0 * low, "{low} / {high}");
}
