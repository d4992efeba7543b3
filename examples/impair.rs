//! Plays speech through an impaired network and renders it twice: with
//! voxlet's [`Receiver`], and with a naive baseline (a fixed 60 ms buffer,
//! lost and late packets replaced by silence). Both see exactly the same
//! packets at the same times. Used by `bench/pesq/run.py`, which scores the
//! two WAVs with PESQ; with `--arrivals` it also writes those packets and
//! times to a file, so other receivers (NetEq, GStreamer) render the same.
//!
//! ```text
//! cargo run --release --example impair -- \
//!     --input speech_16k.s16le --codec g722 \
//!     --trace "seed=3 jitter=40 loss=burst:0.05:3" \
//!     --voxlet out_voxlet.wav --baseline out_baseline.wav \
//!     --arrivals out.arrivals
//! ```
//!
//! `--input`: mono 16 kHz signed 16-bit little-endian speech. `--codec`:
//! `pcmu` (rendered at 8 kHz), `g722`, `opus` or `l16` (rendered at 16 kHz).
//! `--trace`: the network, space-separated `key=value`:
//! `seed=N`, `base=MS` (default 20), `jitter=P95_MS` (correlated
//! log-normal, see `voxlet_support::netsim`), `loss=random:P` or
//! `loss=burst:P:MEAN_BURST`, `spikes=PER_S:MS`, `reorder=P`,
//! `duplicate=P`, `drift=PPM`, `batch=MS` (arrivals held and released
//! together at multiples of MS). Two more keys concern the ends, not the
//! network: `ptime=MS[,MS…]` packet durations, cycled (default 20; e.g.
//! `60,20` alternates long and short packets), and `render=RATE`: voxlet
//! renders at RATE in 128-frame blocks (an AudioWorklet at 48 kHz) and its
//! output is resampled to the codec's output rate for the WAV.
//!
//! Opus only: `--bitrate BPS` (default 24000), `--dred MS` (Deep
//! REDundancy, the `neural` build; in-band FEC is then off), `--neural
//! off|plc|dred|on|rewind|nolace` (the Receiver's neural decoding). One
//! more trace key: `outage=PERIOD_MS:MS` loses the packets sent in MS
//! after the middle of every PERIOD_MS.
//!
//! `--arrivals FILE` writes what arrived, little-endian: the magic
//! `VXARRIV1`, u32 RTP clock rate, u32 packets sent, f64 media duration
//! (ms), f64 render end (ms), then per arrival in arrival order f64 arrival
//! time (ms), u32 length and the RTP packet.
//! Prints one JSON object: per renderer the mean playout delay (from a
//! packet's arrival to its first sample playing, WebRTC's
//! jitterBufferDelay / jitterBufferEmittedCount), the late loss (packets
//! that arrived but were not played because they were late) and the share
//! of output that was concealment (baseline: zero-filled).

use std::fs;

use voxlet::codec::{CodecInfo, CodecKind, EncoderSettings, NeuralOpus, Osce, Registry};
use voxlet::dsp::Resampler;
use voxlet::rtp::{RtpHeader, RtpPacket};
use voxlet::{Receiver, ReceiverConfig};
use voxlet_support::netsim::{Arrival, Jitter, Loss, NetSim, Spikes};

const BLOCK: usize = 128;
const BASELINE_DELAY_MS: f64 = 60.0;
const PT: u8 = 96;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The trace: the network, and the two end-point keys `ptime` and `render`.
struct Trace {
    sim: NetSim,
    ptimes: Vec<usize>,
    render_rate: Option<u32>,
    /// Outages: every `.0` ms of media, the packets sent in the `.1` ms
    /// after the middle of the period are lost.
    outage: Option<(f64, f64)>,
}

fn parse_trace(desc: &str) -> Trace {
    let mut sim = NetSim::default();
    let mut ptimes = vec![20];
    let mut render_rate = None;
    let mut outage = None;
    for kv in desc.split_whitespace() {
        let (k, v) = kv
            .split_once('=')
            .unwrap_or_else(|| panic!("bad trace item {kv}"));
        let f = |s: &str| {
            s.parse::<f64>()
                .unwrap_or_else(|_| panic!("bad number in {kv}"))
        };
        match k {
            "seed" => sim.seed = v.parse().expect("seed"),
            "base" => sim.base_delay_ms = f(v),
            "jitter" => sim.jitter = Jitter::p95(f(v)),
            "loss" => {
                let p: Vec<&str> = v.split(':').collect();
                sim.loss = match p.as_slice() {
                    ["random", x] => Loss::Random(f(x)),
                    ["burst", x, b] => Loss::bursty(f(x), f(b)),
                    _ => panic!("bad loss {v}"),
                }
            }
            "spikes" => {
                let (a, b) = v.split_once(':').expect("spikes=PER_S:MS");
                sim.spikes = Some(Spikes {
                    per_s: f(a),
                    height_ms: f(b),
                });
            }
            "reorder" => sim.reorder = f(v),
            "duplicate" => sim.duplicate = f(v),
            "drift" => sim.drift_ppm = f(v),
            "batch" => sim.batch_ms = f(v),
            "ptime" => {
                ptimes = v
                    .split(',')
                    .map(|x| x.parse().expect("ptime=MS[,MS…]"))
                    .collect()
            }
            "render" => render_rate = Some(v.parse().expect("render=RATE")),
            "outage" => {
                let (a, b) = v.split_once(':').expect("outage=PERIOD_MS:MS");
                outage = Some((f(a), f(b)));
            }
            _ => panic!("unknown trace key {k}"),
        }
    }
    Trace {
        sim,
        ptimes,
        render_rate,
        outage,
    }
}

fn resample(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to {
        return x.to_vec();
    }
    let mut rs = Resampler::new(from, to, 1).expect("resampler");
    let lat = rs.latency_frames();
    let mut padded = x.to_vec();
    padded.extend(std::iter::repeat_n(0.0, (from as usize / 100).max(64)));
    let mut out = vec![0f32; rs.max_output_frames(padded.len())];
    let (_, got) = rs.process(&padded, &mut out);
    out.truncate(got);
    out.drain(..lat.min(out.len()));
    out.truncate(x.len() * to as usize / from as usize);
    out
}

fn write_wav(path: &str, rate: u32, x: &[f32]) {
    let mut b = Vec::with_capacity(44 + 2 * x.len());
    let data = (2 * x.len()) as u32;
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    for v in x {
        b.extend_from_slice(&voxlet::codec::f32_to_i16(*v).to_le_bytes());
    }
    fs::write(path, b).expect("write wav");
}

struct Codec {
    info: CodecInfo,
    rtpmap: &'static str,
    out_rate: u32,
}

fn codec(name: &str) -> Codec {
    let (info, rtpmap, out_rate) = match name {
        "pcmu" => (CodecInfo::new(CodecKind::Pcmu, 8000, 1), "PCMU/8000", 8000),
        "g722" => (CodecInfo::new(CodecKind::G722, 8000, 1), "G722/8000", 16000),
        "l16" => (CodecInfo::new(CodecKind::L16, 16000, 1), "L16/16000", 16000),
        "opus" => (
            CodecInfo::new(CodecKind::Opus, 48000, 2).and_then(|i| i.with_channels(1)),
            "opus/48000/2",
            16000,
        ),
        _ => panic!("unknown codec {name}"),
    };
    Codec {
        info: info.expect("codec info"),
        rtpmap,
        out_rate,
    }
}

/// One sent packet: the RTP bytes, its send time (when its audio is
/// complete), and where its audio starts and how long it is (ms).
struct Sent {
    bytes: Vec<u8>,
    send_ms: f64,
    start_ms: usize,
    ptime_ms: usize,
}

/// RTP packets of `ptimes` ms (cycled), each sent when its audio is complete.
fn packetize(
    c: &Codec,
    speech16: &[f32],
    ptimes: &[usize],
    bitrate: u32,
    dred_ms: u16,
) -> Vec<Sent> {
    let pcm = resample(speech16, 16000, c.info.sample_rate);
    let mut enc = c
        .info
        .encoder(&EncoderSettings {
            bitrate,
            // DRED replaces LBRR: with both, libopus leaves DRED too few
            // bits at 24 kbit/s and sends none.
            fec: dred_ms == 0,
            packet_loss_percent: 10,
            dred_ms,
            ..EncoderSettings::default()
        })
        .expect("encoder");
    let per_ms = |rate: u32, ms: usize| rate as usize * ms / 1000;
    let mut payload = vec![0u8; 8000];
    let mut packet = vec![0u8; 8100];
    let mut out = Vec::new();
    let mut start_ms = 0;
    for i in 0.. {
        let ptime_ms = ptimes[i % ptimes.len()];
        let from = per_ms(c.info.sample_rate, start_ms);
        let to = per_ms(c.info.sample_rate, start_ms + ptime_ms);
        let Some(f) = pcm.get(from..to) else { break };
        let n = enc.encode(f, &mut payload).expect("encode");
        let h = RtpHeader {
            payload_type: PT,
            sequence: (i as u16).wrapping_add(60000),
            timestamp: per_ms(c.info.clock_rate, start_ms) as u32,
            ssrc: 0x1234,
            marker: i == 0,
            ..RtpHeader::default()
        };
        let len = h.write(&payload[..n], &mut packet).expect("rtp");
        out.push(Sent {
            bytes: packet[..len].to_vec(),
            send_ms: (start_ms + ptime_ms) as f64,
            start_ms,
            ptime_ms,
        });
        start_ms += ptime_ms;
    }
    out
}

fn write_arrivals(
    path: &str,
    c: &Codec,
    sent: usize,
    duration_ms: f64,
    end_ms: f64,
    arrivals: &[Arrival],
) {
    let mut b = Vec::new();
    b.extend_from_slice(b"VXARRIV1");
    b.extend_from_slice(&c.info.clock_rate.to_le_bytes());
    b.extend_from_slice(&(sent as u32).to_le_bytes());
    b.extend_from_slice(&duration_ms.to_le_bytes());
    b.extend_from_slice(&end_ms.to_le_bytes());
    for a in arrivals {
        b.extend_from_slice(&a.arrival_ms.to_le_bytes());
        b.extend_from_slice(&(a.bytes.len() as u32).to_le_bytes());
        b.extend_from_slice(&a.bytes);
    }
    fs::write(path, b).expect("write arrivals");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let input = arg(&args, "--input").unwrap_or_else(|| "tests/fixtures/speech_16k.s16le".into());
    let c = codec(&arg(&args, "--codec").unwrap_or_else(|| "g722".into()));
    let trace = parse_trace(&arg(&args, "--trace").unwrap_or_default());
    let raw = fs::read(&input).expect("read input");
    let speech: Vec<f32> = raw
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0)
        .collect();
    let dred_ms: u16 = arg(&args, "--dred").map_or(0, |v| v.parse().expect("--dred MS"));
    let neural = match arg(&args, "--neural").as_deref() {
        None | Some("off") => NeuralOpus::default(),
        Some("plc") => NeuralOpus {
            deep_plc: true,
            ..NeuralOpus::default()
        },
        Some("dred") => NeuralOpus {
            deep_plc: true,
            dred: true,
            ..NeuralOpus::default()
        },
        Some("rewind") => NeuralOpus {
            dred_rewind: true,
            ..NeuralOpus::ON
        },
        Some("on") => NeuralOpus::ON,
        Some("nolace") => NeuralOpus {
            osce: Osce::NoLace,
            ..NeuralOpus::ON
        },
        Some(x) => panic!("--neural off|plc|dred|on|rewind|nolace, not {x}"),
    };
    let bitrate: u32 =
        arg(&args, "--bitrate").map_or(24_000, |v| v.parse().expect("--bitrate BPS"));
    let packets = packetize(&c, &speech, &trace.ptimes, bitrate, dred_ms);
    let to_send: Vec<(Vec<u8>, f64)> = packets
        .iter()
        .map(|p| (p.bytes.clone(), p.send_ms))
        .collect();
    let (mut arrivals, _) = trace.sim.run(&to_send);
    if let Some((period, len)) = trace.outage {
        arrivals.retain(|a| {
            let t = packets[a.index as usize].start_ms as f64 - period / 2.0;
            t < 0.0 || t.rem_euclid(period) >= len
        });
    }
    let duration_ms = speech.len() as f64 / 16.0;
    let end_ms = duration_ms + 1000.0;
    if let Some(p) = arg(&args, "--arrivals") {
        write_arrivals(&p, &c, packets.len(), duration_ms, end_ms, &arrivals);
    }

    // --- voxlet -------------------------------------------------------
    let mut reg = Registry::empty();
    reg.insert_rtpmap(PT, c.rtpmap).expect("rtpmap");
    let render_rate = trace.render_rate.unwrap_or(c.out_rate);
    let mut rx = Receiver::new(ReceiverConfig {
        registry: reg,
        output_rate: render_rate,
        output_channels: 1,
        neural,
        ..ReceiverConfig::default()
    })
    .expect("receiver");
    let mut out = Vec::new();
    let mut buf = vec![0f32; BLOCK];
    let (mut i, mut n, mut t) = (0, 0u64, 0.0);
    // Stats as of the last block with decoded audio: the concealment after
    // the stream ended is not part of the scenario.
    let mut s = rx.stats();
    while t < end_ms {
        while i < arrivals.len() && arrivals[i].arrival_ms <= t {
            let _ = rx.push(&arrivals[i].bytes, arrivals[i].arrival_ms);
            i += 1;
        }
        let info = rx.render(&mut buf, t);
        if info.decoded_frames > 0 {
            s = rx.stats();
        }
        out.extend_from_slice(&buf);
        n += BLOCK as u64;
        t = n as f64 * 1000.0 / render_rate as f64;
    }
    let v_delay = s.jitter_buffer_delay / s.jitter_buffer_emitted_count.max(1) as f64 * 1000.0;
    let v_late = s.packets_late as f64 / s.packets_received.max(1) as f64;
    let v_conc = s.concealed_samples as f64 / s.total_samples_received.max(1) as f64;
    if let Some(p) = arg(&args, "--voxlet") {
        write_wav(&p, c.out_rate, &resample(&out, render_rate, c.out_rate));
    }

    // --- baseline: fixed 60 ms after the first arrival, zero-filled -----
    let rate = c.info.sample_rate;
    let frames = |ms: usize| rate as usize * ms / 1000;
    let mut dec = c.info.decoder().expect("decoder");
    let mut dbuf = vec![0f32; dec.max_frames()];
    let t0 = arrivals.first().map_or(0.0, |a| a.arrival_ms);
    let lead = ((t0 + BASELINE_DELAY_MS) * rate as f64 / 1000.0) as usize;
    let media_ms = packets.last().map_or(0, |p| p.start_ms + p.ptime_ms);
    let mut timeline = vec![0f32; lead + frames(media_ms)];
    let mut played = vec![false; packets.len()];
    let (mut delay_sum, mut late, mut received) = (0.0, 0u64, 0u64);
    let mut seen = std::collections::HashSet::new();
    for a in &arrivals {
        if !seen.insert(a.index) {
            continue; // duplicate
        }
        received += 1;
        let k = a.index as usize;
        let play_ms = t0 + BASELINE_DELAY_MS + packets[k].start_ms as f64;
        if a.arrival_ms > play_ms {
            late += 1;
            continue;
        }
        played[k] = true;
        // Weighted by duration, like jitterBufferDelay (per sample).
        delay_sum += (play_ms - a.arrival_ms) * packets[k].ptime_ms as f64;
    }
    // Decode in order what is played (a naive receiver: lost or late
    // packets are skipped and left silent).
    for (k, p) in packets.iter().enumerate() {
        if !played[k] {
            continue;
        }
        let payload = RtpPacket::parse(&p.bytes).expect("rtp").payload();
        let got = dec.decode(payload, &mut dbuf).expect("decode");
        let (at, len) = (lead + frames(p.start_ms), got.min(frames(p.ptime_ms)));
        timeline[at..at + len].copy_from_slice(&dbuf[..len]);
    }
    let base = resample(&timeline, rate, c.out_rate);
    let played_ms: usize = packets
        .iter()
        .zip(&played)
        .filter(|(_, p)| **p)
        .map(|(p, _)| p.ptime_ms)
        .sum();
    let b_delay = delay_sum / played_ms.max(1) as f64;
    let b_late = late as f64 / received.max(1) as f64;
    let b_conc = 1.0 - played_ms as f64 / media_ms.max(1) as f64;
    if let Some(p) = arg(&args, "--baseline") {
        write_wav(&p, c.out_rate, &base);
    }

    println!(
        "{{\"rate\": {}, \"packets\": {}, \"received\": {}, \
         \"voxlet\": {{\"delay_ms\": {v_delay:.1}, \"late\": {v_late:.5}, \"concealed\": {v_conc:.5}, \
         \"fec_recovered\": {}, \"accel\": {}, \"expand\": {}, \
         \"fec_samples\": {}, \"dred_samples\": {}, \"deep_plc_samples\": {}, \"concealed_samples\": {}}}, \
         \"baseline\": {{\"delay_ms\": {b_delay:.1}, \"late\": {b_late:.5}, \"concealed\": {b_conc:.5}}}}}",
        c.out_rate,
        packets.len(),
        s.packets_received,
        s.fec_packets_recovered,
        s.removed_samples_for_acceleration,
        s.inserted_samples_for_deceleration,
        s.fec_samples,
        s.dred_samples,
        s.deep_plc_samples,
        s.concealed_samples,
    );
}
