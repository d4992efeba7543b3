//! Receiver (jitter buffer) tests, natively: `cargo test --test receiver`.
//!
//! Inputs are the committed ffmpeg RTP captures (`include_bytes!`, their
//! sequence numbers start at 65500 and wrap) and packets made here with
//! voxlet's encoders; network impairments come from the seeded simulator
//! in `voxlet_support::netsim`. Time is simulated: packets are pushed when their
//! arrival time has come, then a block is rendered with `now_ms`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::codec::{CodecInfo, CodecKind, Decoder, Encoder, EncoderSettings, Registry};
use voxlet::dsp::Resampler;
use voxlet::receiver::{PushOutcome, ReceiverError, ReceiverEvent, RenderInfo};
use voxlet::rtp::RtpHeader;
use voxlet::rtpdump::RtpDumpReader;
use voxlet::{Receiver, ReceiverConfig};
use voxlet_support::netsim::{self, quantile, Fate, Jitter, Loss, NetSim};
use voxlet_support::signal::{find_close, find_exact, s16le_f32};

static PCMU: &[u8] = include_bytes!("fixtures/pcmu.rtpdump");
static G722: &[u8] = include_bytes!("fixtures/g722.rtpdump");
static L16: &[u8] = include_bytes!("fixtures/l16.rtpdump");
static OPUS: &[u8] = include_bytes!("fixtures/opus.rtpdump");
static OPUS_FEC: &[u8] = include_bytes!("fixtures/opus_fec.rtpdump");
static SPEECH_8K: &[u8] = include_bytes!("fixtures/speech_8k.s16le");

/// (packet, send time ms) from an rtpdump capture (RTP records only).
fn capture(file: &[u8]) -> Vec<(Vec<u8>, f64)> {
    let mut r = RtpDumpReader::new(file).unwrap();
    let mut v = Vec::new();
    while let Some(rec) = r.next_record() {
        let rec = rec.unwrap();
        if !rec.is_rtcp() {
            v.push((rec.data.to_vec(), rec.offset_ms as f64));
        }
    }
    v
}

fn speech_8k() -> Vec<f32> {
    s16le_f32(SPEECH_8K)
}

fn registry(pt: u8, rtpmap: &str) -> Registry {
    let mut r = Registry::empty();
    r.insert_rtpmap(pt, rtpmap).unwrap();
    r
}

fn config(registry: Registry, rate: u32, channels: u16) -> ReceiverConfig {
    ReceiverConfig {
        registry,
        output_rate: rate,
        output_channels: channels,
        ..ReceiverConfig::default()
    }
}

/// Plays `arrivals` (sorted by time) through `rx` in blocks of `block`
/// frames until `until_ms`; returns the output and the per-block infos.
fn play(
    rx: &mut Receiver,
    arrivals: &[(Vec<u8>, f64)],
    block: usize,
    until_ms: f64,
) -> (Vec<f32>, Vec<RenderInfo>) {
    let rate = rx_rate(rx);
    let ch = rx_channels(rx);
    let mut out = Vec::new();
    let mut infos = Vec::new();
    let mut buf = vec![0f32; block * ch];
    let mut i = 0;
    let mut t = 0.0;
    let mut n = 0u64;
    while t < until_ms {
        while i < arrivals.len() && arrivals[i].1 <= t {
            let _ = rx.push(&arrivals[i].0, arrivals[i].1);
            i += 1;
        }
        let info = rx.render(&mut buf, t);
        assert_eq!(info.frames, block);
        out.extend_from_slice(&buf);
        infos.push(info);
        n += block as u64;
        t = n as f64 * 1000.0 / rate as f64;
    }
    (out, infos)
}

// The receiver does not expose its config; the tests know it.
thread_local! {
    static RATE: std::cell::Cell<(u32, usize)> = const { std::cell::Cell::new((48000, 1)) };
}
fn rx_rate(_: &Receiver) -> u32 {
    RATE.with(|r| r.get().0)
}
fn rx_channels(_: &Receiver) -> usize {
    RATE.with(|r| r.get().1)
}
fn receiver(cfg: ReceiverConfig) -> Receiver {
    RATE.with(|r| r.set((cfg.output_rate, cfg.output_channels as usize)));
    Receiver::new(cfg).unwrap()
}

/// Plain decode of every packet's payload, in order.
fn plain_decode(dec: &mut dyn Decoder, packets: &[(Vec<u8>, f64)]) -> Vec<f32> {
    let ch = dec.info().channels as usize;
    let mut buf = vec![0f32; dec.max_frames() * ch];
    let mut out = Vec::new();
    for (p, _) in packets {
        let pkt = voxlet::rtp::RtpPacket::parse(p).unwrap();
        let n = dec.decode(pkt.payload(), &mut buf).unwrap();
        out.extend_from_slice(&buf[..n * ch]);
    }
    out
}

/// A capture's packets, their plain decode (Opus as mono, like the
/// receivers under test) and their arrivals over a constant 20 ms path.
#[allow(clippy::type_complexity)]
fn clean_capture(
    file: &[u8],
    rtpmap: &str,
) -> (Vec<(Vec<u8>, f64)>, Vec<f32>, Vec<(Vec<u8>, f64)>) {
    let pk = capture(file);
    let info = voxlet::codec::parse_rtpmap(rtpmap).unwrap();
    let info = if info.kind == CodecKind::Opus {
        info.with_channels(1).unwrap()
    } else {
        info
    };
    let reference = plain_decode(info.decoder().unwrap().as_mut(), &pk);
    let arrivals = pk.iter().map(|(b, t)| (b.clone(), t + 20.0)).collect();
    (pk, reference, arrivals)
}

/// Clean path (constant 20 ms delay), the target pinned to the initial
/// delay (min = initial = 60 ms) so nothing is time-stretched: the output
/// must be the plain decode, bit for bit, after the initial delay.
fn clean_exact(file: &[u8], pt: u8, rtpmap: &str, rate: u32, block: usize) {
    let (pk, reference, arrivals) = clean_capture(file, rtpmap);
    let mut cfg = config(registry(pt, rtpmap), rate, 1);
    cfg.min_delay_ms = 60;
    cfg.initial_delay_ms = 60;
    let mut rx = receiver(cfg);
    let dur = pk.last().unwrap().1 + 500.0;
    let (out, _) = play(&mut rx, &arrivals, block, dur);
    let k = find_exact(&out, &reference).unwrap_or_else(|| {
        let first = reference.iter().position(|v| *v != 0.0).unwrap();
        panic!(
            "{rtpmap}: plain decode not found in the output; stats {:?}; first nonzero ref {first}",
            rx.stats()
        )
    });
    let delay_ms = k as f64 * 1000.0 / rate as f64;
    // Initial delay: the first packet plays once 60 ms are buffered (≈ 40 ms
    // after it arrived at 20 ms, + up to a block).
    assert!(
        (50.0..=100.0).contains(&delay_ms),
        "{rtpmap}: delay {delay_ms} ms"
    );
    let s = rx.stats();
    // The only concealment is after the stream ended (the whole plain
    // decode was found intact above).
    assert_eq!(s.concealment_events, 1, "{rtpmap}");
    assert_eq!(s.removed_samples_for_acceleration, 0, "{rtpmap}");
    assert_eq!(s.inserted_samples_for_deceleration, 0, "{rtpmap}");
    assert_eq!(s.packets_received, pk.len() as u64);
    assert_eq!(s.packets_lost, 0);
}

#[test]
fn clean_network_pcmu_is_bit_exact() {
    clean_exact(PCMU, 0, "PCMU/8000", 8000, 80);
}

#[test]
fn clean_network_g722_is_bit_exact() {
    clean_exact(G722, 9, "G722/8000", 16000, 128);
}

#[test]
fn clean_network_l16_is_bit_exact() {
    clean_exact(L16, 96, "L16/16000", 16000, 128);
}

#[test]
fn clean_network_opus_is_bit_exact() {
    clean_exact(OPUS, 111, "opus/48000/2", 48000, 128);
}

/// A clean stream (constant 20 ms path delay) with the default config:
/// whether the caller pushes the first packets before its first `render`
/// (the README quickstart) or renders from t = 0, and whatever its block
/// size, the output is the plain decode, bit for bit, starting the initial
/// delay after the first packet arrived, with nothing time-stretched.
/// (Before: pushing first left the delay model seeded for a render block of
/// 0 ms, and the first seconds were accelerated by 81–193 samples.)
fn clean_default_config(file: &[u8], pt: u8, rtpmap: &str, rate: u32) {
    let (_, reference, arrivals) = clean_capture(file, rtpmap);
    let end = arrivals.last().unwrap().1 + 500.0;
    for block in [rate as usize / 100, 128] {
        for push_first in [false, true] {
            let mut rx = receiver(config(registry(pt, rtpmap), rate, 1));
            let mut buf = vec![0f32; block];
            let mut out = Vec::new();
            // Push-first: the first render comes a few packets in.
            let t0 = if push_first { arrivals[1].1 } else { 0.0 };
            let (mut i, mut n) = (0, 0u64);
            let mut t = t0;
            while t < end {
                while i < arrivals.len() && arrivals[i].1 <= t {
                    rx.push(&arrivals[i].0, arrivals[i].1).unwrap();
                    i += 1;
                }
                rx.render(&mut buf, t);
                out.extend_from_slice(&buf);
                n += block as u64;
                t = t0 + n as f64 * 1000.0 / rate as f64;
            }
            let s = rx.stats();
            let case = format!("{rtpmap} block {block} push_first {push_first}");
            assert_eq!(s.removed_samples_for_acceleration, 0, "{case}: {s:?}");
            assert_eq!(s.inserted_samples_for_deceleration, 0, "{case}: {s:?}");
            assert_eq!(s.concealment_events, 1, "{case}: only after the end");
            let k = find_exact(&out, &reference)
                .unwrap_or_else(|| panic!("{case}: plain decode not in the output"));
            // The first sample plays `initial_delay_ms` after it could
            // have arrived: the initial delay minus the 20 ms packet
            // duration after the first packet arrived, to within a block.
            let start = t0 + k as f64 * 1000.0 / rate as f64 - arrivals[0].1;
            let block_ms = block as f64 * 1000.0 / rate as f64;
            let wait = f64::from(ReceiverConfig::default().initial_delay_ms) - 20.0;
            assert!(
                (wait - block_ms..=wait + block_ms).contains(&start),
                "{case}: first sample played {start} ms after arrival"
            );
        }
    }
}

#[test]
fn clean_stream_is_exact_whatever_the_first_call_pcmu() {
    clean_default_config(PCMU, 0, "PCMU/8000", 8000);
}

#[test]
fn clean_stream_is_exact_whatever_the_first_call_g722() {
    clean_default_config(G722, 9, "G722/8000", 16000);
}

#[test]
fn clean_stream_is_exact_whatever_the_first_call_opus() {
    clean_default_config(OPUS, 111, "opus/48000/2", 48000);
}

#[test]
fn clean_network_pcmu_at_48k_matches_resampled_decode() {
    let pk = capture(PCMU);
    let decoded = plain_decode(&mut voxlet::codec::g711::PcmuDecoder::new(), &pk);
    let mut rs = Resampler::new(8000, 48000, 1).unwrap();
    let mut reference = vec![0f32; decoded.len() * 6];
    let (used, got) = rs.process(&decoded, &mut reference);
    assert_eq!((used, got), (decoded.len(), decoded.len() * 6));
    let arrivals: Vec<_> = pk.iter().map(|(b, t)| (b.clone(), t + 20.0)).collect();
    let mut cfg = config(registry(0, "PCMU/8000"), 48000, 1);
    cfg.min_delay_ms = 60;
    cfg.initial_delay_ms = 60;
    let mut rx = receiver(cfg);
    let (out, _) = play(&mut rx, &arrivals, 128, 6500.0);
    // 8 kHz → 48 kHz is an integer ratio, so the resampler's phase is the
    // same whatever silence preceded the stream: the match is exact here;
    // the bound is one 24-bit LSB, for other rates' phase interpolation.
    let k = find_close(&out, &reference, 1.0 / 8_388_608.0).expect("resampled decode");
    let delay_ms = k as f64 / 48.0;
    assert!((50.0..=100.0).contains(&delay_ms), "delay {delay_ms} ms");
}

/// A sender: `seconds` of looped speech (8 kHz), PCMU, `ptime_ms` packets,
/// from sequence 65000 and timestamp near the 32-bit wrap. Returns
/// (packet, send time on the sender's clock).
fn pcmu_stream(seconds: f64, ptime_ms: usize, ssrc: u32) -> Vec<(Vec<u8>, f64)> {
    let speech = speech_8k();
    let mut enc = voxlet::codec::g711::PcmuEncoder::new();
    let frames = 8 * ptime_ms;
    let n = (seconds * 1000.0 / ptime_ms as f64) as usize;
    let mut pcm = vec![0f32; frames];
    let mut payload = vec![0u8; frames];
    let mut out = Vec::with_capacity(n);
    let mut pos = 0;
    for i in 0..n {
        for v in pcm.iter_mut() {
            *v = speech[pos % speech.len()];
            pos += 1;
        }
        let len = enc.encode(&pcm, &mut payload).unwrap();
        out.push((
            rtp(
                0,
                65000u16.wrapping_add(i as u16),
                (u32::MAX - 40_000).wrapping_add((i * frames) as u32),
                ssrc,
                i == 0,
                &payload[..len],
            ),
            (i * ptime_ms) as f64,
        ));
    }
    out
}

fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let h = RtpHeader {
        marker,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc,
        ..RtpHeader::default()
    };
    let mut buf = vec![0u8; 12 + payload.len() + 64];
    let n = h.write(payload, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// Runs `packets` through `sim` and plays them; returns the receiver, the
/// output, the per-block infos and each packet's fate.
fn simulate(
    cfg: ReceiverConfig,
    sim: NetSim,
    packets: &[(Vec<u8>, f64)],
    block: usize,
    tail_ms: f64,
) -> (Receiver, Vec<f32>, Vec<RenderInfo>, Vec<Fate>) {
    let (arrivals, fates) = sim.run(packets);
    let arrivals: Vec<_> = arrivals
        .into_iter()
        .map(|a| (a.bytes, a.arrival_ms))
        .collect();
    let end = packets.last().map_or(0.0, |p| p.1) + tail_ms;
    let mut rx = receiver(cfg);
    let (out, infos) = play(&mut rx, &arrivals, block, end);
    (rx, out, infos, fates)
}

fn jitters(fates: &[Fate]) -> Vec<f64> {
    fates
        .iter()
        .filter_map(|f| match f {
            Fate::Delivered { jitter_ms, .. } => Some(*jitter_ms),
            Fate::Lost => None,
        })
        .collect()
}

#[test]
fn jitter_40ms_late_loss_and_delay() {
    let packets = pcmu_stream(120.0, 20, 0x1234);
    let sim = NetSim {
        seed: 40,
        jitter: Jitter::p95(40.0),
        ..NetSim::default()
    };
    // Initial delay at the minimum: the target is what the jitter asks
    // for (the default 60 ms initial delay is also its floor).
    let mut cfg = config(registry(0, "PCMU/8000"), 48000, 1);
    cfg.initial_delay_ms = cfg.min_delay_ms;
    let (rx, _out, _infos, fates) = simulate(cfg, sim, &packets, 128, 300.0);
    let s = rx.stats();
    let j = jitters(&fates);
    let p95 = quantile(&j, 0.95);
    let mean_j = j.iter().sum::<f64>() / j.len() as f64;
    let late = s.packets_late as f64 / s.packets_received as f64;
    let jb = s.jitter_buffer_delay / s.jitter_buffer_emitted_count as f64 * 1000.0;
    // Mean delay from "arrived with no queueing" to playout.
    let playout = jb + mean_j;
    println!(
        "p95 {p95:.1} p99 {:.1} mean jitter {mean_j:.1} late {:.3}% jb {jb:.1} playout {playout:.1} target {:.1} concealed {:.2}% accel {} expand {}",
        quantile(&j, 0.99),
        late * 100.0,
        s.target_delay_ms,
        s.concealed_samples as f64 / s.total_samples_received as f64 * 100.0,
        s.removed_samples_for_acceleration,
        s.inserted_samples_for_deceleration,
    );
    assert!(late <= 0.01, "late loss {late}");
    // The target is the 95th percentile of the relative arrival delay plus
    // one packet (the level it is compared with counts the whole next
    // packet), so the mean time a packet waits in the buffer settles near
    // the jitter's p95 (+4.6 ms here before the reorder optimizer's cost
    // counted the quantile as its floor); plus what the reorder optimizer
    // adds for the packets this jitter reorders (20 ms packets, up to 40
    // ms apart in delay: ~2 % of them land above the p95, which it finds
    // worth waiting for): measured +14.4 ms. At least the p95 less half a
    // packet, at most one packet above it.
    assert!(
        (-10.0..=20.0).contains(&(jb - p95)),
        "mean jitter buffer delay {jb} vs p95 {p95}"
    );
    assert!(s.concealed_samples as f64 / (s.total_samples_received as f64) < 0.015);
}

/// Decoded PCMU of a list of packets (all PCMU), concatenated.
fn pcmu_decode(packets: &[(Vec<u8>, f64)]) -> Vec<f32> {
    plain_decode(&mut voxlet::codec::g711::PcmuDecoder::new(), packets)
}

/// A receiver whose target is pinned at `delay_ms` (min = initial), so a
/// path whose delay variation stays inside it never time-stretches.
fn pinned(rate: u32, delay_ms: u32) -> ReceiverConfig {
    let mut cfg = config(registry(0, "PCMU/8000"), rate, 1);
    cfg.min_delay_ms = delay_ms;
    cfg.initial_delay_ms = delay_ms;
    cfg
}

#[test]
fn reorder_and_duplicates_do_not_change_the_audio() {
    // Starts at seq 65000 / timestamp 2^32 − 40000: both wrap in the first 5 s.
    let packets = pcmu_stream(20.0, 20, 0xABCD);
    let sim = NetSim {
        seed: 3,
        reorder: 0.1,
        reorder_ms: (5.0, 45.0),
        duplicate: 0.05,
        ..NetSim::default()
    };
    let (arrivals, _) = sim.run(&packets);
    let dups = arrivals.iter().filter(|a| a.duplicate).count() as u64;
    let reordered = arrivals
        .windows(2)
        .filter(|w| w[1].index < w[0].index)
        .count();
    assert!(dups > 10 && reordered > 10, "{dups} {reordered}");
    // Reordered by up to 45 ms: 65 ms for a 20 ms packet, plus the 20 ms
    // margin of 10 ms blocks.
    let (rx, out, _, _) = simulate(pinned(8000, 90), sim, &packets, 80, 400.0);
    let s = rx.stats();
    assert_eq!(s.packets_duplicated, dups);
    assert_eq!(s.packets_received, packets.len() as u64 + dups);
    assert_eq!(
        s.packets_lost,
        -(dups as i64),
        "RFC 3550: duplicates make it negative"
    );
    assert_eq!(s.packets_late, 0);
    assert!(find_exact(&out, &pcmu_decode(&packets)).is_some(), "{s:?}");
    // The RR counts the wraps: 20 s = 1000 packets from 65000.
    let mut rx = rx;
    let rr = rx.receiver_report(30_000.0).unwrap();
    assert_eq!(rr.extended_highest_seq, 65536 + (65000 + 999 - 65536));
    assert_eq!(rr.cumulative_lost, -(dups as i32));
}

/// A delay spike with nothing lost: the path stalls for 300 ms, then
/// releases its backlog at once. Once concealment runs out, the backlog's
/// packets whose slot has passed are dropped as late and the stream goes on
/// on its timeline, at the delay it had before, as a fixed buffer would:
/// not played late (carrying the spike's length as extra delay that only
/// time-stretching speech would remove), not re-buffered (shifting the
/// audio), and the spike does not raise the target.
#[test]
fn delay_spike_backlog_is_dropped_not_played_late() {
    let packets = pcmu_stream(13.0, 20, 7);
    let arrivals: Vec<(Vec<u8>, f64)> = packets
        .iter()
        .map(|(b, sent)| {
            let stalled = (10_000.0..10_300.0).contains(sent);
            (b.clone(), if stalled { 10_300.0 } else { *sent } + 20.0)
        })
        .collect();
    let mut rx = receiver(pinned(8000, 60));
    let mut buf = vec![0f32; 80];
    let mut out = Vec::new();
    let (mut i, mut target_after, mut inserted_before) = (0, None, 0);
    for step in 0..1300 {
        let t = step as f64 * 10.0;
        while i < arrivals.len() && arrivals[i].1 <= t {
            let _ = rx.push(&arrivals[i].0, arrivals[i].1);
            i += 1;
        }
        rx.render(&mut buf, t);
        out.extend_from_slice(&buf);
        if t == 10_290.0 {
            inserted_before = rx.stats().inserted_samples_for_deceleration;
        }
        if t == 10_400.0 {
            target_after = Some(rx.stats().target_delay_ms);
        }
    }
    let target = target_after.unwrap();
    let s = rx.stats();
    assert!(s.packets_late >= 5, "the backlog is dropped as late: {s:?}");
    // No expansion to catch up after the spike, and the target is where it
    // was (60 ms).
    assert_eq!(
        s.inserted_samples_for_deceleration, inserted_before,
        "{s:?}"
    );
    assert!(target <= 61.0, "target {target} after the spike; {s:?}");
    // What plays 200 ms after the spike is the stream, bit-exact, lagging
    // its media time by what it did before: the path's 20 ms plus the 60 ms
    // delay, minus the 20 ms of a packet's own audio the delay counts
    // (before: re-buffered at a target the spike had raised, a lag of
    // 180 ms; before that, the backlog played late at 320 ms).
    let plain = pcmu_decode(&packets);
    let at = 10_500 * 8;
    // (The speech repeats every few seconds: search near the spike.)
    let from = 9_500 * 8;
    let pos =
        find_exact(&plain[from..at], &out[at..at + 400]).expect("plays the stream after the spike");
    let lag = 10_500.0 - (from + pos) as f64 / 8.0;
    assert!(
        (55.0..=70.0).contains(&lag),
        "lag {lag} ms, target {target} ms, {s:?}"
    );
}

/// A spike whose backlog arrives while the timeline is inside a packet's
/// slot: that packet plays from the timeline's position, its late part
/// cut, as a fixed buffer would. Played whole, it added up to a packet of
/// delay after each spike, which accelerate then took out of the speech.
#[test]
fn delay_spike_partly_late_packet_keeps_the_timeline() {
    let packets = pcmu_stream(13.0, 20, 7);
    let arrivals: Vec<(Vec<u8>, f64)> = packets
        .iter()
        .map(|(b, sent)| {
            let stalled = (10_000.0..10_310.0).contains(sent);
            (b.clone(), if stalled { 10_310.0 } else { *sent } + 20.0)
        })
        .collect();
    let mut rx = receiver(pinned(8000, 60));
    let mut buf = vec![0f32; 40];
    let mut out = Vec::new();
    let mut i = 0;
    for step in 0..2600 {
        let t = step as f64 * 5.0;
        while i < arrivals.len() && arrivals[i].1 <= t {
            let _ = rx.push(&arrivals[i].0, arrivals[i].1);
            i += 1;
        }
        rx.render(&mut buf, t);
        out.extend_from_slice(&buf);
    }
    let s = rx.stats();
    assert!(s.packets_late >= 5, "{s:?}");
    let plain = pcmu_decode(&packets);
    let lag_at = |ms: usize| {
        let (at, from) = (ms * 8, (ms - 1000) * 8);
        let pos = find_exact(&plain[from..at], &out[at..at + 400]).expect("plays the stream");
        ms as f64 - (from + pos) as f64 / 8.0
    };
    let (before, after) = (lag_at(9_800), lag_at(10_500));
    assert!(
        (after - before).abs() < 0.5,
        "lag {before} ms before the spike, {after} ms after; {s:?}"
    );
    assert_eq!(s.removed_samples_for_acceleration, 0, "{s:?}");
}

/// Spikes that recur (300 ms, one per 5 s on average, over a 10 ms-jitter
/// path) are not covered: the delay stays where the jitter puts it and
/// each spike costs its own packets, as in a fixed buffer; covering them
/// would hold the delay above 300 ms for the whole call.
#[test]
fn recurring_spikes_do_not_raise_the_delay() {
    let packets = pcmu_stream(60.0, 20, 9);
    let sim = NetSim {
        seed: 5,
        jitter: Jitter::p95(10.0),
        spikes: Some(netsim::Spikes {
            per_s: 0.2,
            height_ms: 300.0,
        }),
        ..NetSim::default()
    };
    let cfg = config(registry(0, "PCMU/8000"), 48000, 1);
    let (rx, _, infos, _) = simulate(cfg, sim, &packets, 128, 300.0);
    let s = rx.stats();
    let delay = s.jitter_buffer_delay / s.jitter_buffer_emitted_count as f64 * 1000.0;
    let max_target = infos[infos.len() / 5..]
        .iter()
        .map(|i| i.target_ms)
        .fold(0.0, f64::max);
    println!(
        "delay {delay:.1} ms, highest target {max_target:.1} ms, late {}",
        s.packets_late
    );
    assert!(s.packets_late > 50, "the spikes' packets are lost: {s:?}");
    assert!(max_target < 90.0, "highest target {max_target} ms; {s:?}");
    assert!(delay < 50.0, "mean delay {delay} ms; {s:?}");
}

#[test]
fn late_packet_is_discarded_and_counted() {
    let packets = pcmu_stream(3.0, 20, 1);
    let mut arrivals: Vec<_> = packets.iter().map(|(b, t)| (b.clone(), t + 20.0)).collect();
    arrivals[50].1 += 400.0; // arrives long after its turn
    arrivals.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut rx = receiver(pinned(8000, 60));
    let mut outcome = None;
    let mut buf = vec![0f32; 80];
    let mut i = 0;
    for step in 0..400 {
        let t = step as f64 * 10.0;
        while i < arrivals.len() && arrivals[i].1 <= t {
            let o = rx.push(&arrivals[i].0, arrivals[i].1);
            if arrivals[i].0 == packets[50].0 {
                outcome = Some(o);
            }
            i += 1;
        }
        rx.render(&mut buf, t);
    }
    assert_eq!(outcome, Some(Ok(PushOutcome::Late)));
    let s = rx.stats();
    assert_eq!((s.packets_late, s.packets_discarded), (1, 1));
    assert_eq!(s.concealment_events, 2, "the missing packet, and the end");
}

#[test]
fn ssrc_change_resets_and_plays_the_new_source() {
    let a = pcmu_stream(4.0, 20, 0xAAAA);
    // Source B: other sequence and timestamp bases, starts right after A.
    let b: Vec<_> = pcmu_stream(4.0, 20, 0xBBBB)
        .into_iter()
        .enumerate()
        .map(|(i, (p, t))| {
            let mut p = p;
            p[2..4].copy_from_slice(&(1000u16 + i as u16).to_be_bytes());
            p[4..8].copy_from_slice(&(5_000_000u32 + 160 * i as u32).to_be_bytes());
            (p, t + 4000.0)
        })
        .collect();
    let mut all = a.clone();
    all.extend(b.iter().cloned());
    let cfg = config(registry(0, "PCMU/8000"), 8000, 1);
    let sim = NetSim {
        seed: 9,
        jitter: Jitter::p95(30.0),
        ..NetSim::default()
    };
    let (arrivals, _) = sim.run(&all);
    let arrivals: Vec<_> = arrivals
        .into_iter()
        .map(|x| (x.bytes, x.arrival_ms))
        .collect();
    let mut rx = receiver(cfg);
    let (_, infos) = play(&mut rx, &arrivals[..], 80, 3990.0);

    let target_a = infos.last().unwrap().target_ms;
    let rest: Vec<_> = arrivals.iter().filter(|x| x.1 > 3990.0).cloned().collect();
    let mut buf = vec![0f32; 80];
    let mut out = Vec::new();
    let mut i = 0;
    let mut events = Vec::new();
    let mut targets = Vec::new();
    for step in 0..450 {
        let t = 3990.0 + step as f64 * 10.0;
        while i < rest.len() && rest[i].1 <= t {
            let _ = rx.push(&rest[i].0, rest[i].1);
            i += 1;
        }
        let info = rx.render(&mut buf, t);
        out.extend_from_slice(&buf);
        targets.push(info.target_ms);
        while let Some(e) = rx.poll_event() {
            events.push(e);
        }
    }
    assert_eq!(
        events,
        vec![ReceiverEvent::SsrcChanged {
            old: 0xAAAA,
            new: 0xBBBB
        }]
    );
    let s = rx.stats();
    assert_eq!(s.ssrc, Some(0xBBBB));
    assert_eq!(s.ssrc_changes, 1);
    assert_eq!(s.packets_lost, 0, "per-source RFC 3550 counts");
    // The delay estimate carried over: right after the switch the target is
    // still the one A had converged to (not the initial delay; the reorder
    // optimizer may then raise it as B's own reordered packets arrive: 90
    // ms 250 ms in, on this path).
    assert!(
        (targets[20] - target_a).abs() < 5.0 && targets[30] >= target_a - 5.0,
        "{} vs {target_a}",
        targets[30]
    );
    // B is played: its second second of audio is in the output, playing at
    // full level (not concealment).
    let b_dec = pcmu_decode(&b);
    let level = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    let tail = &out[out.len() - 8000..];
    assert!(level(tail) > 0.3 * level(&b_dec[8000..24000]), "{s:?}");
}

#[test]
fn stray_packet_of_another_ssrc_is_held_not_played() {
    let packets = pcmu_stream(2.0, 20, 7);
    let mut rx = receiver(pinned(8000, 60));
    let stray = rtp(0, 12, 999, 8, false, &[0xFF; 160]);
    let mut buf = vec![0f32; 80];
    let mut outcomes = Vec::new();
    for (i, (p, t)) in packets.iter().enumerate() {
        rx.push(p, t + 20.0).unwrap();
        if i == 30 {
            outcomes.push(rx.push(&stray, t + 20.0).unwrap());
        }
        rx.render(&mut buf, *t);
        rx.render(&mut buf, t + 10.0);
    }
    assert_eq!(outcomes, vec![PushOutcome::Held]);
    assert_eq!(rx.ssrc(), Some(7));
    assert_eq!(rx.stats().errors.foreign_ssrc, 1);
    assert_eq!(rx.stats().ssrc_changes, 0);
}

#[test]
fn stray_packets_of_another_ssrc_32768_sequence_numbers_apart_do_not_confirm_it() {
    // Found by fuzzing (receiver_sequence): the held packet and the next
    // one of the same foreign SSRC differ by i16::MIN in sequence number,
    // whose absolute value overflowed (a panic with overflow checks on).
    let packets = pcmu_stream(1.0, 20, 7);
    let mut rx = receiver(pinned(8000, 60));
    let mut buf = vec![0f32; 80];
    let mut outcomes = Vec::new();
    for (i, (p, t)) in packets.iter().enumerate() {
        rx.push(p, t + 20.0).unwrap();
        if i == 20 || i == 21 {
            let seq = if i == 20 { 100 } else { 100 + 32768 };
            outcomes.push(
                rx.push(&rtp(0, seq, 999, 8, false, &[0xFF; 160]), t + 20.0)
                    .unwrap(),
            );
        }
        rx.render(&mut buf, *t);
        rx.render(&mut buf, t + 10.0);
    }
    assert_eq!(outcomes, vec![PushOutcome::Held, PushOutcome::Held]);
    assert_eq!(rx.ssrc(), Some(7));
    assert_eq!(rx.stats().ssrc_changes, 0);
}

/// Talkspurts separated by silences in which nothing is sent: sequence
/// numbers continue, timestamps jump.
fn talkspurts(spurts: &[(usize, usize)], ptime_ms: usize) -> Vec<(Vec<u8>, f64)> {
    // (start ms, packets)
    let speech = speech_8k();
    let mut enc = voxlet::codec::g711::PcmuEncoder::new();
    let frames = 8 * ptime_ms;
    let mut out = Vec::new();
    let mut seq = 100u16;
    let mut payload = vec![0u8; frames];
    for &(start_ms, n) in spurts {
        for k in 0..n {
            let t = start_ms + k * ptime_ms;
            let s = (t * 8) % (speech.len() - frames);
            enc.encode(&speech[s..s + frames], &mut payload).unwrap();
            out.push((rtp(0, seq, (t * 8) as u32, 5, k == 0, &payload), t as f64));
            seq = seq.wrapping_add(1);
        }
    }
    out
}

#[test]
fn dtx_gap_is_silence_not_loss() {
    // G.711 without comfort-noise packets: when the buffer runs dry the
    // receiver cannot know yet whether packets were lost or the talker
    // paused, so it conceals (fading to silence within 60 ms, at most
    // 100 ms) and then plays silence counted as silent concealment, as
    // WebRTC does. Once the next talkspurt's first packet shows no
    // sequence number is missing, the rest is comfort silence; nothing is
    // counted as lost, and the next talkspurt plays untouched.
    let packets = talkspurts(&[(0, 100), (3000, 100)], 20);
    let (rx, out, _, _) = simulate(pinned(8000, 60), NetSim::default(), &packets, 80, 300.0);
    let s = rx.stats();
    assert_eq!(s.packets_lost, 0);
    assert_eq!(s.packets_discarded, 0);
    let audible = s.concealed_samples - s.silent_concealed_samples;
    assert!(audible <= 2 * 800, "at most 100 ms audible per gap: {s:?}");
    // The 1 s gap: silent concealment, then comfort silence once the next
    // talkspurt is known (its wait for the target delay).
    let silence = s.silent_concealed_samples + s.comfort_samples;
    assert!((7000..9000).contains(&(silence - 2400 + 800)), "{s:?}");
    assert!(s.comfort_samples >= 300, "{s:?}");
    // Both talkspurts play untouched.
    assert!(find_exact(&out, &pcmu_decode(&packets[..100])).is_some());
    assert!(find_exact(&out, &pcmu_decode(&packets[100..])).is_some());
}

#[test]
fn dtx_gap_retargets_the_delay_at_the_next_talkspurt() {
    // The path delay drops by 100 ms during the silence: the second
    // talkspurt waits its target (60 ms) again instead of inheriting a
    // 160 ms delay, with no time-stretching of speech.
    let packets = talkspurts(&[(0, 100), (3000, 100)], 20);
    let arrivals: Vec<_> = packets
        .iter()
        .enumerate()
        .map(|(i, (b, t))| (b.clone(), t + if i < 100 { 120.0 } else { 20.0 }))
        .collect();
    let mut rx = receiver(pinned(8000, 60));
    let (out, _) = play(&mut rx, &arrivals, 80, 5500.0);
    let second = pcmu_decode(&packets[100..]);
    let k = find_exact(&out, &second).expect("second talkspurt intact");
    let delay = k as f64 / 8.0 - 3000.0;
    assert!(
        (60.0..=100.0).contains(&delay),
        "second talkspurt delay {delay} ms"
    );
}

#[test]
fn packet_duration_change_mid_stream() {
    // 20 ms, then 40 ms, then 10 ms packets, one continuous timeline.
    let speech = speech_8k();
    let mut enc = voxlet::codec::g711::PcmuEncoder::new();
    let mut packets = Vec::new();
    let (mut t, mut seq) = (0usize, 0u16);
    for &(ptime, n) in &[(20usize, 50usize), (40, 25), (10, 300)] {
        for _ in 0..n {
            let frames = 8 * ptime;
            let mut payload = vec![0u8; frames];
            enc.encode(&speech[t * 8..t * 8 + frames], &mut payload)
                .unwrap();
            // Sent when its audio is complete.
            packets.push((
                rtp(0, seq, (t * 8) as u32, 5, false, &payload),
                (t + ptime) as f64,
            ));
            t += ptime;
            seq += 1;
        }
    }
    // The delay counts a packet's audio from its first sample: a 40 ms
    // packet, sent when its audio is complete, needs 40 ms of it, which the
    // pinned 60 ms covers (as it covers 20 and 10 ms packets). Nothing is
    // time-stretched, concealed or dropped when the duration changes: the
    // output is the plain decode, bit for bit. (When the target followed the
    // last packet's duration instead, each change was time-stretched.)
    let (rx, out, _, _) = simulate(pinned(8000, 60), NetSim::default(), &packets, 80, 300.0);
    let s = rx.stats();
    assert_eq!((s.packets_discarded, s.packets_late), (0, 0), "{s:?}");
    let reference = pcmu_decode(&packets);
    assert!(find_exact(&out, &reference).is_some(), "{s:?}");
    assert_eq!(s.inserted_samples_for_deceleration, 0, "{s:?}");
    assert_eq!(s.removed_samples_for_acceleration, 0, "{s:?}");
    assert_eq!(s.concealment_events, 1);
}

#[test]
fn payload_type_change_switches_decoder_and_rate() {
    // PCMU (8 kHz audio) then G.722 (16 kHz audio) on the same 8 kHz RTP
    // clock, rendered at 48 kHz: the resampler chain switches.
    let speech = speech_8k();
    let mut reg = Registry::empty();
    reg.insert_rtpmap(0, "PCMU/8000").unwrap();
    reg.insert_rtpmap(9, "G722/8000").unwrap();
    let mut pcmu = voxlet::codec::g711::PcmuEncoder::new();
    let g722_info = CodecInfo::new(CodecKind::G722, 8000, 1).unwrap();
    let mut g722 = g722_info.encoder(&EncoderSettings::default()).unwrap();
    let mut packets = Vec::new();
    for i in 0..200usize {
        let pcm = &speech[i * 160..i * 160 + 160];
        let (pt, payload) = if i < 100 {
            let mut p = vec![0u8; 160];
            pcmu.encode(pcm, &mut p).unwrap();
            (0, p)
        } else {
            let up: Vec<f32> = pcm.iter().flat_map(|v| [*v, *v]).collect();
            let mut p = vec![0u8; 160];
            let n = g722.encode(&up, &mut p).unwrap();
            p.truncate(n);
            (9, p)
        };
        packets.push((
            rtp(pt, i as u16, (i * 160) as u32, 5, false, &payload),
            (i * 20) as f64,
        ));
    }
    let mut cfg = config(reg, 48000, 1);
    cfg.min_delay_ms = 60;
    cfg.initial_delay_ms = 60;
    let (mut rx, out, infos, _) = simulate(cfg, NetSim::default(), &packets, 128, 300.0);
    let mut events = Vec::new();
    while let Some(e) = rx.poll_event() {
        events.push(e);
    }
    assert_eq!(
        events,
        vec![ReceiverEvent::PayloadTypeChanged { old: 0, new: 9 }]
    );
    let s = rx.stats();
    assert_eq!(s.concealment_events, 1, "{s:?}");
    assert_eq!(infos.iter().map(|i| i.frames).sum::<usize>(), out.len());
    // Audio on both sides of the switch (≈2 s each, at 48 kHz).
    let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    assert!(rms(&out[48_000..96_000]) > 0.01 && rms(&out[2 * 48_000 + 48_000..4 * 48_000]) > 0.01);
}

/// Telephone-event packet (PT 101).
fn dtmf(seq: u16, ts: u32, event: u8, end: bool, duration: u16) -> Vec<u8> {
    let te = voxlet::codec::telephone_event::TelephoneEvent {
        event,
        end,
        volume: 10,
        duration,
    };
    let mut payload = [0u8; 4];
    te.write(&mut payload).unwrap();
    rtp(101, seq, ts, 5, false, &payload)
}

#[test]
fn dtmf_events_begin_and_end_exactly_once() {
    // Audio 0–3 s. Key '5' at 1000 ms: audio suppressed while it lasts
    // (its packets take the sequence numbers), updates every 20 ms, the end
    // packet sent 3 times. Key '#' at 2000 ms with audio going on, its end
    // packets all lost: ended by the timeout.
    let speech = speech_8k();
    let mut enc = voxlet::codec::g711::PcmuEncoder::new();
    let mut packets: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut seq = 0u16;
    let mut payload = vec![0u8; 160];
    for i in 0..150usize {
        let t = i * 20;
        let ts = (t * 8) as u32;
        if (1000..1200).contains(&t) {
            let d = ((t - 1000) / 20 + 1) as u16 * 160;
            packets.push((dtmf(seq, 8000, 5, false, d), t as f64));
            seq += 1;
            if t == 1180 {
                for k in 0..3 {
                    packets.push((dtmf(seq, 8000, 5, true, 1600), t as f64 + 5.0 * k as f64));
                    seq += 1;
                }
            }
            continue;
        }
        enc.encode(&speech[t * 8..t * 8 + 160], &mut payload)
            .unwrap();
        packets.push((rtp(0, seq, ts, 5, false, &payload), t as f64));
        seq += 1;
        if (2000..2100).contains(&t) {
            let d = ((t - 2000) / 20 + 1) as u16 * 160;
            packets.push((dtmf(seq, 16000, 11, false, d), t as f64 + 1.0));
            seq += 1;
        }
    }
    packets.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut cfg = pinned(8000, 60);
    cfg.registry
        .insert_rtpmap(101, "telephone-event/8000")
        .unwrap();
    let (mut rx, _out, _, _) = simulate(cfg, NetSim::default(), &packets, 80, 300.0);
    let mut evs = Vec::new();
    while let Some(e) = rx.poll_event() {
        evs.push(e);
    }
    let summary: Vec<_> = evs
        .iter()
        .map(|e| match e {
            ReceiverEvent::DtmfBegin { digit, .. } => format!("begin {}", digit.unwrap()),
            ReceiverEvent::DtmfEnd {
                digit,
                timed_out,
                duration,
                ..
            } => format!("end {} {duration} {timed_out}", digit.unwrap()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        ["begin 5", "end 5 1600 false", "begin #", "end # 800 true"]
    );
    let s = rx.stats();
    assert_eq!(s.packets_lost, 0);
    // The suppressed audio is a gap without loss: the event packets fill
    // the sequence numbers, so it is comfort silence, no concealment (the
    // one concealment event is the stream's end).
    assert_eq!(s.concealment_events, 1, "{s:?}");
    assert!(s.comfort_samples >= 1500, "{s:?}");
    assert_eq!(s.packets_received as usize, packets.len());
}

#[test]
fn garbage_is_counted_and_audio_goes_on() {
    let packets = pcmu_stream(6.0, 20, 0x5555);
    let arrivals: Vec<_> = packets.iter().map(|(b, t)| (b.clone(), t + 20.0)).collect();
    let mut clean = receiver(pinned(8000, 60));
    let (reference, _) = play(&mut clean, &arrivals, 80, 6300.0);

    let mut rng = voxlet_support::Rng::new(77);
    let mut dirty = Vec::new();
    let mut expect = std::collections::HashMap::<&str, usize>::new();
    for (i, (p, t)) in arrivals.iter().enumerate() {
        dirty.push((p.clone(), *t));
        let g: Vec<u8> = match i % 8 {
            0 => (0..rng.range(0.0, 300.0) as usize)
                .map(|_| rng.next_u64() as u8)
                .collect(),
            1 => p[..rng.range(0.0, 12.0) as usize].to_vec(),
            2 => {
                let mut q = p.clone();
                q[0] = 0x40;
                q
            }
            3 => rtp(77, 1, 1, 0x5555, false, &[1, 2, 3]),
            4 => rtp(0, 1, 1, 0x5555, false, &[]),
            5 => rtp(0, 1, 1, 0x5555, false, &vec![0; 2000]),
            6 => vec![0x80, 200, 0, 50, 1, 2, 3],
            _ => continue,
        };
        let kind = match i % 8 {
            0 => "random",
            1 => "truncated",
            2 => "version",
            3 => "pt",
            4 => "empty",
            5 => "large",
            _ => "rtcp",
        };
        *expect.entry(kind).or_default() += 1;
        dirty.push((g, *t));
    }
    let mut rx = receiver(pinned(8000, 60));
    let (out, _) = play(&mut rx, &dirty, 80, 6300.0);
    assert_eq!(out, reference, "garbage changed the audio");
    let e = rx.stats().errors;
    // Random bytes land in several kinds (most are not version 2), hence ≥.
    assert!(e.malformed_rtp as usize >= expect["truncated"] + expect["version"]);
    assert!(e.unknown_payload_type as usize >= expect["pt"]);
    assert_eq!(e.empty_payload as usize, expect["empty"]);
    assert_eq!(e.too_large as usize, expect["large"]);
    assert!(e.malformed_rtcp as usize >= expect["rtcp"]);
    assert!(e.total() as usize >= expect.values().sum::<usize>() - expect["random"]);
    assert_eq!(rx.stats().packets_received, clean.stats().packets_received);
    assert_eq!(rx.push(&[0x80; 20], f64::NAN), Err(ReceiverError::BadTime));
}

#[test]
fn flood_keeps_memory_bounded_and_recovers() {
    let mut cfg = config(registry(0, "PCMU/8000"), 48000, 1);
    cfg.max_packets = 100;
    let mut rx = receiver(cfg);
    let storage = rx.packet_storage_bytes();
    let packets = pcmu_stream(60.0, 20, 0x77);
    let mut buf = vec![0f32; 128];
    // Normal for 1 s, then the next 50 s of packets all at once, then normal.
    let mut t = 0.0;
    let mut i = 0;
    let mut max_level: f64 = 0.0;
    let mut levels_after = Vec::new();
    while t < 30_000.0 {
        let limit = if t >= 1000.0 && i < 2550 {
            2550
        } else {
            packets.len()
        };
        while i < limit && (packets[i].1 + 20.0 <= t || (t >= 1000.0 && i < 2550)) {
            let _ = rx.push(&packets[i].0, t);
            i += 1;
        }
        assert!(rx.buffered_packets() <= 100);
        let info = rx.render(&mut buf, t);
        max_level = max_level.max(info.level_ms);
        if t > 5000.0 {
            levels_after.push(info.level_ms);
        }
        t += 128.0 / 48.0;
    }
    assert_eq!(rx.packet_storage_bytes(), storage);
    let s = rx.stats();
    assert!(s.packets_discarded >= 2400, "{s:?}");
    // Back to normal playout: level within bounds, audio decoded.
    let tail = &levels_after[levels_after.len() - 1000..];
    assert!(tail.iter().all(|l| *l <= 500.0), "{max_level}");
    assert!(s.total_audio_energy > 0.0);
}

#[test]
fn opus_fec_recovers_a_dropped_packet() {
    let pk = capture(OPUS_FEC);
    let with_lbrr = {
        let d = voxlet::codec::opus::OpusDecoder::new(
            CodecInfo::new(CodecKind::Opus, 48000, 2)
                .unwrap()
                .with_channels(1)
                .unwrap(),
        )
        .unwrap();
        pk.iter()
            .filter(|(p, _)| d.has_fec(voxlet::rtp::RtpPacket::parse(p).unwrap().payload()))
            .count() as u64
    };
    assert!(with_lbrr > 100, "fixture carries LBRR: {with_lbrr}");
    let run = |fec: bool| {
        let mut arrivals: Vec<_> = pk.iter().map(|(b, t)| (b.clone(), t + 20.0)).collect();
        let dropped = arrivals.remove(120);
        let mut cfg = config(registry(111, "opus/48000/2"), 48000, 1);
        cfg.fec = fec;
        let mut rx = receiver(cfg);
        play(&mut rx, &arrivals, 128, 6300.0);
        let has = voxlet::codec::opus::OpusDecoder::new(
            CodecInfo::new(CodecKind::Opus, 48000, 2)
                .unwrap()
                .with_channels(1)
                .unwrap(),
        )
        .unwrap()
        .has_fec(voxlet::rtp::RtpPacket::parse(&dropped.0).unwrap().payload());
        (rx.stats(), has)
    };
    let (s, dropped_had_fec) = run(true);
    assert_eq!(s.fec_packets_recovered, 1, "{s:?}");
    assert_eq!(
        s.fec_packets_received,
        with_lbrr - u64::from(dropped_had_fec)
    );
    assert_eq!(s.fec_packets_discarded, s.fec_packets_received - 1);
    assert_eq!(s.concealment_events, 1, "only the end of the stream: {s:?}");
    let (s, _) = run(false);
    assert_eq!(s.fec_packets_recovered, 0);
    assert_eq!(s.concealment_events, 2, "the drop is concealed by PLC");
}

#[test]
fn long_outage_stops_concealing_and_rebuffers() {
    let packets = pcmu_stream(10.0, 20, 3);
    let arrivals: Vec<_> = packets
        .iter()
        .filter(|(_, t)| !(3000.0..6000.0).contains(t))
        .map(|(b, t)| (b.clone(), t + 20.0))
        .collect();
    let mut rx = receiver(pinned(8000, 60));
    let (out, infos) = play(&mut rx, &arrivals, 80, 10_300.0);
    let s = rx.stats();
    assert_eq!(s.packets_lost, 150);
    // Concealment that is not silence: at most max_conceal (100 ms) per loss.
    let audible = s.concealed_samples - s.silent_concealed_samples;
    assert!(audible <= 2 * 800, "{s:?}");
    // Audio after the outage is decoded again, at about the target delay.
    let decoded_late: usize = infos[650..900].iter().map(|i| i.decoded_frames).sum();
    assert!(decoded_late >= 250 * 80 - 200, "{decoded_late}");
    // The first ≤ 10 ms are faded in from the concealer's silence (merge).
    let second = pcmu_decode(&packets[300..]);
    let k = find_exact(&out, &second[200..]).expect("resumed audio intact") - 200;
    let delay = k as f64 / 8.0 - 6000.0;
    assert!((40.0..=100.0).contains(&delay), "{delay}");
}

#[test]
fn stereo_output_and_odd_rates() {
    let packets = pcmu_stream(3.0, 20, 3);
    let arrivals: Vec<_> = packets.iter().map(|(b, t)| (b.clone(), t + 20.0)).collect();
    let mut mono = receiver(pinned(44100, 60));
    let (m, _) = play(&mut mono, &arrivals, 128, 3000.0);
    let mut cfg = pinned(44100, 60);
    cfg.output_channels = 2;
    let mut st = receiver(cfg);
    let (s, _) = play(&mut st, &arrivals, 128, 3000.0);
    assert_eq!(s.len(), 2 * m.len());
    assert!(s
        .chunks_exact(2)
        .zip(&m)
        .all(|(f, v)| f[0] == *v && f[1] == *v));
    assert!(m.iter().any(|v| *v != 0.0));
    // Odd block sizes and a partial frame; NaN time; empty blocks.
    let mut buf = vec![1f32; 7];
    let info = st.render(&mut buf, f64::NAN);
    assert_eq!(info.frames, 3);
    assert_eq!(buf[6], 0.0);
    assert_eq!(st.render(&mut [], 0.0).frames, 0);
    let mut big = vec![0f32; 2 * 96_000];
    assert_eq!(st.render(&mut big, 10_000.0).frames, 96_000);
}

#[test]
fn stereo_stream_downmixed_to_mono() {
    // L16 stereo (PT 10, 44.1 kHz) with L = x, R = x/2 → mono (3/4)x.
    let mut reg = Registry::empty();
    reg.insert_rtpmap(10, "L16/44100/2").unwrap();
    let mut packets = Vec::new();
    for i in 0..100u32 {
        let mut payload = Vec::new();
        for k in 0..441u32 {
            let x = (((i * 441 + k) as f32 * 0.05).sin() * 16000.0) as i16;
            payload.extend_from_slice(&x.to_be_bytes());
            payload.extend_from_slice(&(x / 2).to_be_bytes());
        }
        packets.push((
            rtp(10, i as u16, i * 441, 1, false, &payload),
            i as f64 * 10.0,
        ));
    }
    let mut cfg = config(reg, 44100, 1);
    cfg.min_delay_ms = 60;
    cfg.initial_delay_ms = 60;
    cfg.max_payload_bytes = 2000;
    let (rx, out, _, _) = simulate(cfg, NetSim::default(), &packets, 128, 200.0);
    assert_eq!(rx.stats().packets_received, 100);
    let peak = out.iter().fold(0f32, |a, v| a.max(v.abs()));
    assert!((peak - 0.75 * 16000.0 / 32768.0).abs() < 0.01, "{peak}");
}

#[test]
fn rtcp_receiver_report_and_sender_report() {
    let packets = pcmu_stream(20.0, 20, 0x42);
    let sim = NetSim {
        seed: 5,
        loss: Loss::Random(0.05),
        jitter: Jitter::p95(20.0),
        ..NetSim::default()
    };
    let (mut rx, _, _, fates) = simulate(
        config(registry(0, "PCMU/8000"), 8000, 1),
        sim,
        &packets,
        80,
        300.0,
    );
    let lost = fates.iter().filter(|f| **f == Fate::Lost).count() as i32;
    let last_lost = matches!(fates.last(), Some(Fate::Lost));
    // An SR multiplexed on the RTP port, then the report 1.5 s later.
    let mut sr = vec![0u8; 28];
    let info = voxlet::rtp::rtcp::SenderInfo {
        ntp_timestamp: 0x0102_0304_0506_0708,
        rtp_timestamp: 0,
        packet_count: 0,
        octet_count: 0,
    };
    voxlet::rtp::rtcp::write_sr(0x42, &info, &[], &mut sr).unwrap();
    assert_eq!(rx.push(&sr, 20_000.0), Ok(PushOutcome::Rtcp));
    let rr = rx.receiver_report(21_500.0).unwrap();
    assert_eq!(rr.ssrc, 0x42);
    assert_eq!(rr.cumulative_lost, lost - i32::from(last_lost));
    let frac = rr.fraction_lost as f64 / 256.0;
    assert!((0.02..0.09).contains(&frac), "{frac}");
    assert_eq!(rr.lsr, 0x0304_0506);
    assert_eq!(rr.dlsr, 98304); // 1.5 s in 1/65536 s
                                // A.8 jitter in 8 kHz units, and the stats' seconds agree.
    assert!(rr.jitter > 8 * 3, "{}", rr.jitter);
    assert!((rx.stats().jitter * 8000.0 - rr.jitter as f64).abs() <= 1.0);
    // Nothing new: fraction 0.
    assert_eq!(rx.receiver_report(22_000.0).unwrap().fraction_lost, 0);
}

#[test]
fn random_and_burst_loss_are_concealed() {
    for loss in [Loss::Random(0.05), Loss::bursty(0.05, 4.0)] {
        let packets = pcmu_stream(30.0, 20, 9);
        let sim = NetSim {
            seed: 11,
            loss,
            jitter: Jitter::p95(20.0),
            ..NetSim::default()
        };
        let (rx, out, _, fates) = simulate(
            config(registry(0, "PCMU/8000"), 16000, 1),
            sim,
            &packets,
            128,
            300.0,
        );
        let s = rx.stats();
        let lost = fates.iter().filter(|f| **f == Fate::Lost).count() as f64;
        let conc = s.concealed_samples as f64 / s.total_samples_received as f64;
        // Concealment ≈ the lost audio (plus partly-late packets).
        assert!(
            conc > 0.8 * lost / packets.len() as f64 && conc < 0.09,
            "{loss:?}: {conc} {s:?}"
        );
        assert!(s.concealment_events > 0 && s.packets_lost > 0);
        assert!(out.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
    }
}

#[test]
fn config_errors_are_typed() {
    use voxlet::receiver::ReceiverConfigError;
    let bad = |f: fn(&mut ReceiverConfig)| {
        let mut c = ReceiverConfig::default();
        f(&mut c);
        Receiver::new(c).err()
    };
    assert_eq!(
        bad(|c| c.output_rate = 7999),
        Some(ReceiverConfigError::OutputRate(7999))
    );
    assert_eq!(
        bad(|c| c.output_channels = 3),
        Some(ReceiverConfigError::OutputChannels(3))
    );
    assert_eq!(
        bad(|c| c.min_delay_ms = 600),
        Some(ReceiverConfigError::DelayBounds { min: 600, max: 500 })
    );
    assert_eq!(
        bad(|c| c.max_packets = 0),
        Some(ReceiverConfigError::MaxPackets(0))
    );
    assert_eq!(
        bad(|c| c.registry = Registry::empty()),
        Some(ReceiverConfigError::NoAudioCodec)
    );
    assert!(Receiver::new(ReceiverConfig::default()).is_ok());
}

#[test]
fn fuzzed_packets_and_calls_never_panic() {
    // Random but plausible packets (known payload types, sizes around the
    // real ones, sequence numbers / timestamps / SSRCs that jump, wrap and
    // repeat), bit flips, random render sizes and times (backwards, NaN):
    // nothing may panic, every render fills its block with finite samples.
    let mut reg = Registry::empty();
    reg.insert_rtpmap(0, "PCMU/8000").unwrap();
    reg.insert_rtpmap(9, "G722/8000").unwrap();
    reg.insert_rtpmap(96, "L16/16000/2").unwrap();
    reg.insert_rtpmap(111, "opus/48000/2").unwrap();
    reg.insert_rtpmap(101, "telephone-event/8000").unwrap();
    let opus_pkts: Vec<Vec<u8>> = capture(OPUS)
        .into_iter()
        .map(|(p, _)| {
            voxlet::rtp::RtpPacket::parse(&p)
                .unwrap()
                .payload()
                .to_vec()
        })
        .collect();
    for (seed, rate, ch) in [
        (1u64, 48000u32, 1u16),
        (2, 44100, 2),
        (3, 8000, 1),
        (4, 96000, 2),
    ] {
        let mut rng = voxlet_support::Rng::new(seed);
        let mut cfg = config(reg.clone(), rate, ch);
        cfg.max_packets = 50;
        let mut rx = Receiver::new(cfg).unwrap();
        let (mut seq, mut ts, mut t) = (0u16, 0u32, 0.0f64);
        let mut buf = vec![0f32; 4096];
        for step in 0..10_000 {
            let pick = rng.next_u64() % 100;
            let pt = [0u8, 9, 96, 111, 101, 55][(rng.next_u64() % 6) as usize];
            let payload: Vec<u8> = match pt {
                111 => opus_pkts[(rng.next_u64() as usize) % opus_pkts.len()].clone(),
                101 => vec![
                    (rng.next_u64() % 20) as u8,
                    (rng.next_u64() % 256) as u8,
                    0,
                    (rng.next_u64() % 256) as u8,
                ],
                _ => (0..(rng.next_u64() % 400) as usize)
                    .map(|_| rng.next_u64() as u8)
                    .collect(),
            };
            match pick {
                0..=59 => {
                    seq = seq.wrapping_add(1);
                    ts = ts.wrapping_add(160);
                }
                60..=69 => seq = seq.wrapping_sub((rng.next_u64() % 5) as u16),
                70..=74 => ts = rng.next_u64() as u32,
                75..=79 => seq = rng.next_u64() as u16,
                _ => {}
            }
            let ssrc = if rng.chance(0.01) {
                rng.next_u64() as u32
            } else {
                7
            };
            let mut pkt = rtp(pt, seq, ts, ssrc, rng.chance(0.1), &payload);
            if rng.chance(0.05) {
                let k = (rng.next_u64() as usize) % pkt.len();
                pkt[k] ^= 1 << (rng.next_u64() % 8);
            }
            if rng.chance(0.02) {
                pkt.truncate((rng.next_u64() as usize) % pkt.len());
            }
            let arrival = if rng.chance(0.01) {
                t - 500.0
            } else {
                t + rng.range(0.0, 40.0)
            };
            let _ = rx.push(&pkt, arrival);
            if step % 3 == 0 {
                let frames = (rng.next_u64() % 600) as usize;
                let n = frames * ch as usize + usize::from(ch == 2 && rng.chance(0.1));
                let now = if rng.chance(0.01) { f64::NAN } else { t };
                let info = rx.render(&mut buf[..n], now);
                assert_eq!(info.frames, frames);
                assert!(buf[..n].iter().all(|v| v.is_finite() && v.abs() <= 4.0));
                t += frames as f64 * 1000.0 / rate as f64;
            }
            while rx.poll_event().is_some() {}
            if step % 1000 == 0 {
                let _ = rx.receiver_report(t);
            }
        }
        assert!(rx.buffered_packets() <= 50);
    }
}

/// Tuning probe, not a check: prints late loss, mean jitter-buffer delay
/// against the jitter's p95, concealment and stretching for 20/40/80 ms
/// jitter over five seeds. `cargo test --release --test receiver
/// explore_jitter -- --ignored --nocapture`.
#[test]
#[ignore]
fn explore_jitter() {
    for p in [20.0, 40.0, 80.0] {
        for seed in 1..6 {
            let packets = pcmu_stream(120.0, 20, 0x1234);
            let sim = NetSim {
                seed,
                jitter: Jitter::p95(p),
                ..NetSim::default()
            };
            let cfg = config(registry(0, "PCMU/8000"), 48000, 1);
            let (rx, _o, _i, fates) = simulate(cfg, sim, &packets, 128, 300.0);
            let s = rx.stats();
            let j = jitters(&fates);
            let jb = s.jitter_buffer_delay / s.jitter_buffer_emitted_count as f64 * 1000.0;
            println!("jit {p} seed {seed}: p95 {:.1} late {:.2}% jb {jb:.1} (jb-p95 {:.1}) conc {:.2}% accel {} expand {}",
                quantile(&j, 0.95), s.packets_late as f64 / s.packets_received as f64 * 100.0, jb - quantile(&j, 0.95),
                s.concealed_samples as f64 / s.total_samples_received as f64 * 100.0, s.removed_samples_for_acceleration, s.inserted_samples_for_deceleration);
        }
    }
}

/// One 128-frame render quantum at 48 kHz, ms.
const QUANTUM_MS: f64 = 128.0 / 48.0;

/// How long the first of a clean stream's 20 ms packets waits with the
/// default config: the initial delay counts its audio from its first sample.
fn initial_wait_ms() -> f64 {
    f64::from(ReceiverConfig::default().initial_delay_ms) - 20.0
}

/// A loopback path as a browser worklet sees it: 20 ms base delay plus
/// uniform jitter in `[-jitter_ms, +jitter_ms]` (seeded), then delivered at
/// the next 128-frame render quantum boundary (the worklet only sees the
/// message port between quanta), so two packets sometimes share a quantum.
fn worklet_arrivals(packets: &[(Vec<u8>, f64)], jitter_ms: f64, seed: u64) -> Vec<(Vec<u8>, f64)> {
    let mut rng = voxlet_support::Rng::new(seed);
    let mut v: Vec<_> = packets
        .iter()
        .map(|(b, t)| {
            let j = if jitter_ms > 0.0 {
                rng.range(-jitter_ms, jitter_ms)
            } else {
                0.0
            };
            let a = ((t + 20.0 + j) / QUANTUM_MS).ceil() * QUANTUM_MS;
            (b.clone(), a)
        })
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v
}

/// Default config, 48 kHz, 128-frame blocks: returns (stretched samples
/// after the first `settle_ms`, total stretched, first packet's
/// arrival → playout delay in ms).
fn worklet_stretch(
    arrivals: &[(Vec<u8>, f64)],
    reg: Registry,
    settle_ms: f64,
) -> (u64, u64, f64, voxlet::receiver::ReceiverStats) {
    let mut rx = receiver(config(reg, 48000, 1));
    let until = arrivals.last().unwrap().1 + 200.0;
    let mut buf = [0f32; 128];
    let (mut i, mut n, mut t) = (0, 0u64, 0.0);
    let mut at_settle = None;
    let mut start = None;
    let stretched = |s: &voxlet::receiver::ReceiverStats| {
        s.removed_samples_for_acceleration + s.inserted_samples_for_deceleration
    };
    while t < until {
        while i < arrivals.len() && arrivals[i].1 <= t {
            let _ = rx.push(&arrivals[i].0, arrivals[i].1);
            i += 1;
        }
        let info = rx.render(&mut buf, t);
        if start.is_none() && info.decoded_frames > 0 {
            start = Some(t + (128 - info.decoded_frames) as f64 / 48.0);
        }
        if at_settle.is_none() && t >= settle_ms {
            at_settle = Some(stretched(&rx.stats()));
        }
        n += 128;
        t = n as f64 / 48.0;
    }
    let s = rx.stats();
    let total = stretched(&s);
    (
        total - at_settle.unwrap_or(0),
        total,
        start.unwrap() - arrivals[0].1,
        s,
    )
}

fn check_worklet_clean(file: &[u8], pt: u8, rtpmap: &str) {
    let pk = capture(file);
    for (jitter, seed) in [(0.0, 0), (2.0, 1), (2.0, 2), (2.0, 3)] {
        let arrivals = worklet_arrivals(&pk, jitter, seed);
        let (after, total, start, s) = worklet_stretch(&arrivals, registry(pt, rtpmap), 1000.0);
        println!(
            "{rtpmap} ±{jitter} seed {seed}: stretched {total} ({after} after 1 s), start {start:.2} ms, target {:.1}, late {} concealed {}",
            s.target_delay_ms, s.packets_late, s.concealed_samples
        );
        assert_eq!(
            after, 0,
            "{rtpmap} ±{jitter} ms seed {seed}: stretched after 1 s; {s:?}"
        );
        // Whatever happens in the first second stays small: no more than
        // one pitch period (≤ 15 ms = 720 samples) of settling.
        assert!(
            total <= 720,
            "{rtpmap} ±{jitter} seed {seed}: stretched {total}"
        );
        // The first packet plays at the initial delay (the 20 ms of its
        // own audio included), within a quantum; earlier by as much as it
        // came later than the fastest packet after it (the delay counts
        // from the fastest path).
        assert!(
            (start - initial_wait_ms()).abs() <= QUANTUM_MS + 2.0 * jitter,
            "{rtpmap} ±{jitter} seed {seed}: first packet played {start} ms after it arrived"
        );
        assert_eq!(s.packets_late, 0, "{rtpmap}");
    }
}

#[test]
fn worklet_quantised_clean_link_pcmu_does_not_stretch() {
    check_worklet_clean(PCMU, 0, "PCMU/8000");
}

#[test]
fn worklet_quantised_clean_link_opus_does_not_stretch() {
    check_worklet_clean(OPUS, 111, "opus/48000/2");
}

#[test]
fn worklet_quantised_long_call_does_not_stretch() {
    // 60 s of speech on a quantised loopback with ±2 ms of jitter.
    let packets = pcmu_stream(60.0, 20, 0x77);
    let arrivals = worklet_arrivals(&packets, 2.0, 9);
    let (after, total, start, s) = worklet_stretch(&arrivals, registry(0, "PCMU/8000"), 1000.0);
    println!(
        "60 s: stretched {total} ({after} after 1 s), start {start:.2}, target {:.1}",
        s.target_delay_ms
    );
    assert_eq!(after, 0, "{s:?}");
    assert!(
        (start - initial_wait_ms()).abs() <= QUANTUM_MS,
        "start {start}"
    );
}

/// `jitter_buffer_target_delay` and `jitter_buffer_delay` are both arrival
/// → playout (WebRTC): on a jittery lossy path the mean delay is the mean
/// target, give or take what the controller lags. It lags above the target
/// more than below: the delay a late packet adds (its slot concealed, then
/// it plays) is removed only in a pause, and a pause in speech comes every
/// few seconds.
#[test]
fn jitter_buffer_delay_meets_its_target() {
    for (seed, loss) in [(40, 0.0), (41, 0.08), (42, 0.08)] {
        let packets = pcmu_stream(60.0, 20, 0x1234);
        let sim = NetSim {
            seed,
            jitter: Jitter::p95(40.0),
            loss: if loss > 0.0 {
                Loss::Random(loss)
            } else {
                Loss::None
            },
            ..NetSim::default()
        };
        let cfg = config(registry(0, "PCMU/8000"), 48000, 1);
        let (rx, _out, _infos, _fates) = simulate(cfg, sim, &packets, 128, 300.0);
        let s = rx.stats();
        let n = s.jitter_buffer_emitted_count as f64;
        let delay = s.jitter_buffer_delay / n * 1000.0;
        let target = s.jitter_buffer_target_delay / n * 1000.0;
        let minimum = s.jitter_buffer_minimum_delay / n * 1000.0;
        println!("seed {seed} loss {loss}: delay {delay:.1} target {target:.1} minimum {minimum:.1} controller target {:.1}", s.target_delay_ms);
        assert!(
            (-5.0..=15.0).contains(&(delay - target)),
            "seed {seed}: mean delay {delay:.1} ms vs mean target {target:.1} ms"
        );
        assert!(minimum <= target + 0.5, "{minimum} > {target}");
    }
}
