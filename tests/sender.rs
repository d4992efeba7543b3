//! The Sender: per-codec round trips (exact for G.711/G.722/L16, correlation
//! for Opus), RTP header fields, DTX, RFC 4733 DTMF field by field, pacing
//! and backpressure, RTCP sender reports, configuration errors, robustness,
//! the allocation-free steady state, and Sender → Receiver round trips
//! (audio and DTMF).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use voxlet::codec::opus::OpusEncoder;
use voxlet::codec::telephone_event::TelephoneEvent;
use voxlet::codec::{f32_to_i16, i16_to_f32};
use voxlet::dsp::Resampler;
use voxlet::receiver::ReceiverEvent;
use voxlet::rtp::rtcp::{ntp_to_ms, parse_compound, RtcpPacket, NTP_UNIX_EPOCH_OFFSET_MS};
use voxlet::rtp::RtpPacket;
use voxlet::sender::{Pacing, SenderError};
use voxlet::{
    CodecError, CodecInfo, CodecKind, EncoderSettings, Receiver, ReceiverConfig, Sender,
    SenderConfig,
};
use voxlet_support::rng::XorShift64;
use voxlet_support::signal::{align, channel, ncc, s16le_f32 as s16le, Aligned};

const SPEECH_8K: &[u8] = include_bytes!("fixtures/speech_8k.s16le");
const SPEECH_16K: &[u8] = include_bytes!("fixtures/speech_16k.s16le");
const SPEECH_48K: &[u8] = include_bytes!("fixtures/speech_48k.s16le");

// ---------------------------------------------------------------- helpers

/// Counts heap allocations made by the current thread (native only).
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOC: voxlet_support::CountingAlloc = voxlet_support::CountingAlloc;

fn info(kind: CodecKind, clock: u32, ch: u16) -> CodecInfo {
    CodecInfo::new(kind, clock, ch).unwrap()
}

fn pcmu() -> CodecInfo {
    info(CodecKind::Pcmu, 8000, 1)
}

fn opus(ch: u16) -> CodecInfo {
    info(CodecKind::Opus, 48000, 2).with_channels(ch).unwrap()
}

fn config(codec: CodecInfo, pt: u8) -> SenderConfig {
    let mut c = SenderConfig::new(codec, pt);
    c.seed = 42;
    c
}

/// Pushes `pcm` (interleaved, `ch` channels at `rate`) in blocks of `block`
/// frames with `now_ms` following the audio, polls after every block,
/// flushes at the end; returns every packet in release order.
fn run(tx: &mut Sender, pcm: &[f32], ch: usize, rate: u32, block: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    let frames = pcm.len() / ch;
    while pos < frames {
        let n = block.min(frames - pos);
        let now = (((pos + n) as u64 * 1000) / rate as u64) as f64;
        let mut off = 0;
        while off < n {
            let used = tx
                .push_audio(&pcm[(pos + off) * ch..(pos + n) * ch], now)
                .unwrap();
            off += used;
            while let Some(p) = tx.poll_packet(f64::MAX) {
                out.push(p.to_vec());
            }
        }
        pos += n;
    }
    tx.flush(f64::MAX).unwrap();
    while let Some(p) = tx.poll_packet(f64::MAX) {
        out.push(p.to_vec());
    }
    out
}

fn payloads(pkts: &[Vec<u8>]) -> Vec<Vec<u8>> {
    pkts.iter()
        .map(|p| RtpPacket::parse(p).unwrap().payload().to_vec())
        .collect()
}

fn decode_all(codec: CodecInfo, pls: &[Vec<u8>]) -> Vec<f32> {
    let mut dec = codec.decoder().unwrap();
    let mut buf = vec![0f32; dec.max_frames() * codec.channels as usize];
    let mut out = Vec::new();
    for p in pls {
        let n = dec.decode(p, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n * codec.channels as usize]);
    }
    out
}

/// Direct encoding of `pcm` (codec rate, interleaved) cut into `frame`-frame
/// chunks, zero-padded to `packets` chunks.
fn encode_direct(
    codec: CodecInfo,
    settings: &EncoderSettings,
    pcm: &[f32],
    frame: usize,
    packets: usize,
) -> Vec<Vec<u8>> {
    let ch = codec.channels as usize;
    let mut padded = pcm.to_vec();
    padded.resize(packets * frame * ch, 0.0);
    let mut enc = codec.encoder(settings).unwrap();
    let mut buf = vec![0u8; enc.max_payload(frame)];
    padded
        .chunks_exact(frame * ch)
        .map(|c| {
            let n = enc.encode(c, &mut buf).unwrap();
            buf[..n].to_vec()
        })
        .collect()
}

/// The Sender's resampling, reproduced with a standalone resampler over the
/// whole input followed by silence (what `flush` feeds).
fn resample_ref(pcm: &[f32], ch: usize, from: u32, to: u32, out_frames: usize) -> Vec<f32> {
    let mut rs = Resampler::new(from, to, ch).unwrap();
    let mut input = pcm.to_vec();
    input.resize(input.len() + (from as usize / 10) * ch, 0.0);
    let mut out = vec![0f32; rs.max_output_frames(input.len() / ch) * ch];
    let (_, n) = rs.process(&input, &mut out);
    assert!(n >= out_frames, "{n} < {out_frames}");
    out.truncate(out_frames * ch);
    out
}

fn stereo_48k() -> Vec<f32> {
    let m = s16le(SPEECH_48K);
    // Left: the speech; right: the speech reversed at half level.
    m.iter()
        .zip(m.iter().rev())
        .flat_map(|(&l, &r)| [l, f32_to_i16(r * 0.5) as f32 / 32768.0])
        .collect()
}

// ------------------------------------------------------ codec round trips

#[test]
fn g711_g722_at_codec_rate_equal_direct_encode_decode() {
    for (codec, pcm) in [
        (pcmu(), s16le(SPEECH_8K)),
        (info(CodecKind::Pcma, 8000, 1), s16le(SPEECH_8K)),
        (info(CodecKind::G722, 8000, 1), s16le(SPEECH_16K)),
    ] {
        let mut tx = Sender::new(config(codec, 96)).unwrap();
        assert_eq!(tx.latency_frames(), 0);
        let pkts = run(&mut tx, &pcm, 1, codec.sample_rate, 128);
        let got = payloads(&pkts);
        let want = encode_direct(
            codec,
            &EncoderSettings::default(),
            &pcm,
            tx.frame_len(),
            pcm.len().div_ceil(tx.frame_len()),
        );
        assert_eq!(got.len(), want.len(), "{codec:?}");
        assert!(got == want, "{codec:?}: payloads differ");
        let (a, b) = (decode_all(codec, &got), decode_all(codec, &want));
        assert_eq!(a, b, "{codec:?}");
        assert!(a.len() >= pcm.len());
    }
}

#[test]
fn g711_g722_from_48k_equal_resample_then_encode_decode() {
    let input = s16le(SPEECH_48K);
    for codec in [
        pcmu(),
        info(CodecKind::Pcma, 8000, 1),
        info(CodecKind::G722, 8000, 1),
    ] {
        let mut cfg = config(codec, 96);
        cfg.input_rate = 48_000;
        let mut tx = Sender::new(cfg).unwrap();
        let pkts = run(&mut tx, &input, 1, 48_000, 128);
        let frame = tx.frame_len();
        let reference = resample_ref(&input, 1, 48_000, codec.sample_rate, pkts.len() * frame);
        // Every input frame made it out, with the resampler delay in front.
        let expected_frames = (input.len() as u64 * codec.sample_rate as u64 / 48_000) as usize;
        assert_eq!(
            pkts.len(),
            (expected_frames + tx.latency_frames()).div_ceil(frame)
        );
        let want = encode_direct(
            codec,
            &EncoderSettings::default(),
            &reference,
            frame,
            pkts.len(),
        );
        let got = payloads(&pkts);
        assert!(got == want, "{codec:?}: payloads differ from the reference");
        assert_eq!(decode_all(codec, &got), decode_all(codec, &want));
    }
}

#[test]
fn l16_mono_16k_and_stereo_48k_are_exact() {
    // At the codec rate: the decoded stream is the input, sample for sample.
    let mono = s16le(SPEECH_16K);
    let stereo = stereo_48k();
    for (codec, pcm) in [
        (info(CodecKind::L16, 16000, 1), mono.clone()),
        (info(CodecKind::L16, 48000, 2), stereo.clone()),
    ] {
        let ch = codec.channels as usize;
        let mut tx = Sender::new(config(codec, 97)).unwrap();
        let pkts = run(&mut tx, &pcm, ch, codec.sample_rate, 128);
        let dec = decode_all(codec, &payloads(&pkts));
        assert_eq!(
            dec.len(),
            pcm.len().div_ceil(tx.frame_len() * ch) * tx.frame_len() * ch
        );
        assert_eq!(&dec[..pcm.len()], &pcm[..], "{codec:?}");
        assert!(dec[pcm.len()..].iter().all(|&v| v == 0.0));
    }
    // Resampled: 48 kHz mono mic into L16/16000, and into L16/48000/2 (mono
    // duplicated to both channels).
    let mic = s16le(SPEECH_48K);
    let codec = info(CodecKind::L16, 16000, 1);
    let mut cfg = config(codec, 97);
    cfg.input_rate = 48_000;
    let mut tx = Sender::new(cfg).unwrap();
    let pkts = run(&mut tx, &mic, 1, 48_000, 128);
    let reference = resample_ref(&mic, 1, 48_000, 16_000, pkts.len() * tx.frame_len());
    let quantized: Vec<f32> = reference
        .iter()
        .map(|&x| i16_to_f32(f32_to_i16(x)))
        .collect();
    assert_eq!(decode_all(codec, &payloads(&pkts)), quantized);

    let codec = info(CodecKind::L16, 48000, 2);
    let mut cfg = config(codec, 97);
    cfg.input_channels = 1;
    let mut tx = Sender::new(cfg).unwrap();
    let pkts = run(&mut tx, &mic, 1, 48_000, 128);
    let dec = decode_all(codec, &payloads(&pkts));
    for (i, &x) in mic.iter().enumerate() {
        assert_eq!((dec[2 * i], dec[2 * i + 1]), (x, x), "frame {i}");
    }
    // Stereo mic into mono L16: the channels are averaged.
    let codec = info(CodecKind::L16, 48000, 1);
    let mut cfg = config(codec, 97);
    cfg.input_channels = 2;
    let mut tx = Sender::new(cfg).unwrap();
    let pkts = run(&mut tx, &stereo, 2, 48_000, 128);
    let dec = decode_all(codec, &payloads(&pkts));
    for (i, f) in stereo.chunks_exact(2).enumerate() {
        assert_eq!(
            dec[i],
            i16_to_f32(f32_to_i16(0.5 * (f[0] + f[1]))),
            "frame {i}"
        );
    }
}

fn opus_settings() -> EncoderSettings {
    EncoderSettings {
        bitrate: 32_000,
        ..EncoderSettings::default()
    }
}

#[test]
fn opus_packets_equal_direct_libopus_encoding() {
    // 48 kHz input needs no resampling: the Sender's packets are byte for
    // byte what libopus makes of the same frames.
    let pcm = s16le(SPEECH_48K);
    for ptime in [10u16, 20, 40, 60] {
        let mut cfg = config(opus(1), 111);
        cfg.opus = opus_settings();
        cfg.ptime_ms = ptime;
        let mut tx = Sender::new(cfg).unwrap();
        let pkts = run(&mut tx, &pcm, 1, 48_000, 128);
        let settings = EncoderSettings {
            frame_ms: ptime,
            ..opus_settings()
        };
        let want = encode_direct(opus(1), &settings, &pcm, tx.frame_len(), pkts.len());
        assert!(payloads(&pkts) == want, "{ptime} ms");
        let la = OpusEncoder::new(opus(1), &settings).unwrap().lookahead();
        assert_eq!(tx.latency_frames(), la);
        assert_eq!(pkts.len(), (pcm.len() + la).div_ceil(tx.frame_len()));
    }
}

#[test]
fn opus_round_trip_correlation() {
    // Measured (20 ms, 32 kbit/s, complexity 9, mono): 48 kHz input 0.958
    // at lag 309 (lookahead 312); 16 kHz input resampled to 48 kHz 0.962;
    // stereo at 64 kbit/s 0.957 / 0.954.
    let pcm48 = s16le(SPEECH_48K);
    let mut cfg = config(opus(1), 111);
    cfg.opus = opus_settings();
    let mut tx = Sender::new(cfg).unwrap();
    let la = tx.latency_frames();
    let pkts = run(&mut tx, &pcm48, 1, 48_000, 128);
    let dec = decode_all(opus(1), &payloads(&pkts));
    let Aligned { ncc: c48, lag, .. } = align(&pcm48, &dec, la - 8..la + 9);
    println!("opus 48k input: ncc {c48:.4} at lag {lag} (lookahead {la})");
    assert!(c48 > 0.94, "ncc {c48}");

    let pcm16 = s16le(SPEECH_16K);
    let mut cfg = config(opus(1), 111);
    cfg.opus = opus_settings();
    cfg.input_rate = 16_000;
    let mut tx = Sender::new(cfg).unwrap();
    let la = tx.latency_frames();
    let pkts = run(&mut tx, &pcm16, 1, 16_000, 128);
    let dec = decode_all(opus(1), &payloads(&pkts));
    // Reference: the input upsampled by the same resampler, delay removed.
    let rs_lat = Resampler::new(16_000, 48_000, 1).unwrap().latency_frames();
    let up = resample_ref(&pcm16, 1, 16_000, 48_000, pcm16.len() * 3 + rs_lat);
    // `up` carries the same resampler delay as the Sender's stream.
    let opus_la = la - rs_lat;
    let Aligned { ncc: c16, lag, .. } = align(&up, &dec, opus_la - 8..opus_la + 9);
    println!("opus 16k input: ncc {c16:.4} at lag {lag}");
    assert!(c16 > 0.94, "ncc {c16}");

    // Stereo Opus from a stereo 48 kHz source, both channels.
    let st = stereo_48k();
    let mut cfg = config(opus(2), 111);
    cfg.opus = EncoderSettings {
        bitrate: 64_000,
        ..opus_settings()
    };
    let mut tx = Sender::new(cfg).unwrap();
    let la = tx.latency_frames();
    let pkts = run(&mut tx, &st, 2, 48_000, 128);
    let dec = decode_all(opus(2), &payloads(&pkts));
    for c in 0..2 {
        let (a, b) = (channel(&st, c, 2), channel(&dec, c, 2));
        let r = align(&a, &b, la - 8..la + 9).ncc;
        println!("opus stereo channel {c}: ncc {r:.4}");
        assert!(r > 0.93, "channel {c}: {r}");
    }
}

#[test]
fn block_size_does_not_change_the_stream() {
    let pcm = s16le(SPEECH_48K);
    let mut cfg = config(info(CodecKind::G722, 8000, 1), 9);
    cfg.input_rate = 48_000;
    let reference = run(&mut Sender::new(cfg.clone()).unwrap(), &pcm, 1, 48_000, 128);
    for block in [1usize, 7, 127, 960, 4801, 100_000] {
        let got = run(
            &mut Sender::new(cfg.clone()).unwrap(),
            &pcm,
            1,
            48_000,
            block,
        );
        assert!(got == reference, "block {block}");
    }
}

// -------------------------------------------------------------- RTP fields

fn parse_all(pkts: &[Vec<u8>]) -> Vec<RtpPacket<'_>> {
    pkts.iter().map(|p| RtpPacket::parse(p).unwrap()).collect()
}

#[test]
fn header_fields_every_codec_and_ptime() {
    let cases = [
        (pcmu(), 0u8),
        (info(CodecKind::Pcma, 8000, 1), 8),
        (info(CodecKind::G722, 8000, 1), 9),
        (info(CodecKind::L16, 16000, 1), 97),
        (info(CodecKind::L16, 48000, 2), 98),
        (opus(1), 111),
        (opus(2), 111),
    ];
    for (codec, pt) in cases {
        for ptime in [10u16, 20, 30, 40, 60] {
            let mut cfg = config(codec, pt);
            cfg.ptime_ms = ptime;
            cfg.initial_sequence = Some(65_530);
            cfg.initial_timestamp = Some(u32::MAX - 1000);
            cfg.input_rate = 48_000;
            cfg.input_channels = 1;
            let tx = Sender::new(cfg);
            if codec.kind == CodecKind::Opus && ptime == 30 {
                assert!(matches!(tx, Err(SenderError::Ptime { ptime_ms: 30, .. })));
                continue;
            }
            let mut tx = tx.unwrap();
            // G.722: 16 kHz audio on an 8 kHz clock, so 8 ticks per ms.
            let per_ms = codec.clock_rate / 1000;
            assert_eq!(tx.ticks_per_packet(), per_ms * ptime as u32);
            let tone: Vec<f32> = (0..48_000).map(|i| 0.3 * (i as f32 * 0.05).sin()).collect();
            let pkts = run(&mut tx, &tone, 1, 48_000, 128);
            let ps = parse_all(&pkts);
            assert!(ps.len() >= (1000 / ptime as usize), "{codec:?} {ptime}");
            for (i, p) in ps.iter().enumerate() {
                assert_eq!(p.version(), 2);
                assert_eq!(p.payload_type(), pt);
                assert_eq!(p.ssrc(), tx.ssrc());
                assert_eq!(p.sequence(), 65_530u16.wrapping_add(i as u16));
                assert_eq!(
                    p.timestamp(),
                    (u32::MAX - 1000).wrapping_add(i as u32 * tx.ticks_per_packet())
                );
                assert_eq!(p.marker(), i == 0, "{codec:?} {ptime} packet {i}");
                assert_eq!(p.csrc_count(), 0);
                assert!(!p.has_padding() && !p.has_extension());
            }
            // Sequence and timestamp both wrapped.
            assert!(ps.iter().any(|p| p.sequence() == 0));
            assert!(ps.iter().any(|p| p.timestamp() < 100_000));
        }
    }
}

#[test]
fn random_ssrc_sequence_and_timestamp_come_from_the_seed() {
    let make = |seed| {
        let mut c = SenderConfig::new(pcmu(), 0);
        c.seed = seed;
        let t = Sender::new(c).unwrap();
        (
            t.ssrc(),
            t.initial_sequence(),
            t.initial_timestamp(),
            t.cname().to_vec(),
        )
    };
    assert_eq!(make(1), make(1));
    let (a, b) = (make(1), make(2));
    assert!(a.0 != b.0 && a.1 != b.1 && a.2 != b.2 && a.3 != b.3);
    let ssrcs: std::collections::HashSet<u32> = (0..1000).map(|s| make(s).0).collect();
    assert_eq!(ssrcs.len(), 1000);
    // Given values win.
    let mut c = SenderConfig::new(pcmu(), 0);
    c.ssrc = Some(0xDEADBEEF);
    c.initial_sequence = Some(7);
    c.initial_timestamp = Some(9);
    c.cname = Some("me@host".into());
    let t = Sender::new(c).unwrap();
    assert_eq!(
        (
            t.ssrc(),
            t.initial_sequence(),
            t.initial_timestamp(),
            t.cname()
        ),
        (0xDEADBEEF, 7, 9, &b"me@host"[..])
    );
}

/// Speech, then `silence_ms` of digital silence, then speech again (48 kHz).
fn speech_gap_speech(silence_ms: usize) -> Vec<f32> {
    let s = s16le(SPEECH_48K);
    let mut v = s[..48_000].to_vec();
    v.extend(std::iter::repeat_n(0.0, silence_ms * 48));
    v.extend_from_slice(&s[48_000..96_000]);
    v
}

#[test]
fn opus_dtx_sends_nothing_in_silence_and_marks_the_restart() {
    let mut cfg = config(opus(1), 111);
    cfg.opus = EncoderSettings {
        dtx: true,
        ..opus_settings()
    };
    cfg.initial_timestamp = Some(1000);
    let mut tx = Sender::new(cfg).unwrap();
    let pcm = speech_gap_speech(2000);
    let pkts = run(&mut tx, &pcm, 1, 48_000, 128);
    let ps = parse_all(&pkts);
    let tpp = tx.ticks_per_packet();
    let total_frames = pcm.len().div_ceil(960);
    assert!(tx.stats().dtx_frames > 50, "{:?}", tx.stats());
    assert!(ps.len() < total_frames - 50);
    assert_eq!(
        ps.len() as u64 + tx.stats().dtx_frames,
        (pcm.len() + tx.latency_frames()).div_ceil(960) as u64
    );
    let mut gaps = 0;
    for (i, p) in ps.iter().enumerate() {
        assert!(p.payload().len() > 2, "DTX payload sent");
        assert_eq!((p.timestamp() - 1000) % tpp, 0);
        if i == 0 {
            assert!(p.marker());
            continue;
        }
        let prev = &ps[i - 1];
        // Sequence numbers stay consecutive; timestamps jump over the gap.
        assert_eq!(p.sequence(), prev.sequence().wrapping_add(1));
        let dt = p.timestamp().wrapping_sub(prev.timestamp());
        assert!(dt >= tpp);
        assert_eq!(p.marker(), dt > tpp, "packet {i}: dt {dt}");
        if dt > tpp {
            gaps += 1;
        }
    }
    // At least the silence gap (libopus also sends a comfort-noise update
    // every 400 ms, each one a new "talkspurt").
    assert!(gaps >= 1);
    // Last packet's timestamp covers the whole timeline.
    let last = ps.last().unwrap();
    assert!((last.timestamp() - 1000) / tpp >= (pcm.len() / 960) as u32 - 1);
    // Without DTX, the same input is one packet per frame.
    let mut cfg = config(opus(1), 111);
    cfg.opus = opus_settings();
    let mut tx = Sender::new(cfg).unwrap();
    let n = run(&mut tx, &pcm, 1, 48_000, 128).len();
    assert_eq!(n, (pcm.len() + tx.latency_frames()).div_ceil(960));
}

// -------------------------------------------------------------------- DTMF

/// G.711, telephone-event/8000 on PT 101, 20 ms.
fn dtmf_sender(codec: CodecInfo, dtmf_clock: u32) -> Sender {
    let mut cfg = config(
        codec,
        if codec.kind == CodecKind::Opus {
            111
        } else {
            0
        },
    );
    cfg.dtmf_payload_type = Some(101);
    cfg.dtmf_clock_rate = dtmf_clock;
    cfg.initial_timestamp = Some(5000);
    cfg.initial_sequence = Some(100);
    Sender::new(cfg).unwrap()
}

/// Pushes `ms` of a tone at the codec's rate in 128-frame blocks; returns packets.
fn push_ms(tx: &mut Sender, ms: usize, t0: &mut usize) -> Vec<Vec<u8>> {
    let rate = tx.codec().sample_rate as usize;
    let ch = tx.codec().channels as usize;
    let frames = rate * ms / 1000;
    let pcm: Vec<f32> = (0..frames * ch)
        .map(|i| 0.2 * ((*t0 * ch + i) as f32 * 0.07).sin())
        .collect();
    let mut out = Vec::new();
    for b in pcm.chunks(128 * ch) {
        *t0 += b.len() / ch;
        let now = (*t0 * 1000 / rate) as f64;
        assert_eq!(tx.push_audio(b, now).unwrap(), b.len() / ch);
        while let Some(p) = tx.poll_packet(now) {
            out.push(p.to_vec());
        }
    }
    out
}

#[test]
fn dtmf_packets_field_by_field_rfc4733() {
    let mut tx = dtmf_sender(pcmu(), 8000);
    let mut t = 0;
    let mut pkts = push_ms(&mut tx, 100, &mut t); // 5 audio packets
    assert_eq!(pkts.len(), 5);
    tx.send_dtmf('5', 100, 10).unwrap();
    tx.send_dtmf('#', 70, 63).unwrap();
    assert_eq!(tx.pending_dtmf(), 2);
    assert!(!tx.is_drained());
    pkts.extend(push_ms(&mut tx, 600, &mut t));
    assert!(tx.is_drained());
    let ps = parse_all(&pkts);
    // Sequence numbers: one per packet, no holes, whatever the payload type.
    for (i, p) in ps.iter().enumerate() {
        assert_eq!(p.sequence(), 100 + i as u16);
        assert_eq!(p.ssrc(), tx.ssrc());
    }
    let kinds: String = ps
        .iter()
        .map(|p| if p.payload_type() == 101 { 'E' } else { 'a' })
        .collect();
    // 5 audio, '5' 100 ms = 5 slots (4 reports + end ×3), 50 ms gap = 3
    // slots of audio, '#' 70 ms = 4 slots (3 reports + end ×3), then audio.
    assert_eq!(
        &kinds[..5 + 7 + 3 + 6 + 1],
        "aaaaaEEEEEEEaaaEEEEEEa",
        "{kinds}"
    );
    let ev = |i: usize| TelephoneEvent::parse(ps[i].payload()).unwrap();
    // Digit '5' starts at the 6th slot: timestamp 5000 + 5 × 160.
    let ts5 = 5000 + 5 * 160;
    for (k, i) in (5..12).enumerate() {
        let p = &ps[i];
        assert_eq!(p.payload().len(), 4);
        assert_eq!(p.timestamp(), ts5, "same timestamp for the whole event");
        assert_eq!(p.marker(), k == 0, "marker only on the first");
        let e = ev(i);
        assert_eq!((e.event, e.volume), (5, 10));
        assert_eq!(e.digit(), Some('5'));
        let (dur, end) = if k < 4 {
            (160 * (k as u16 + 1), false)
        } else {
            (800, true)
        };
        assert_eq!((e.duration, e.end), (dur, end), "packet {k}");
        // R bit zero.
        assert_eq!(p.payload()[1] & 0x40, 0);
    }
    // End packet three times, identical payloads.
    assert_eq!(ps[9].payload(), ps[10].payload());
    assert_eq!(ps[10].payload(), ps[11].payload());
    // Audio resumes where it would have been, marker set, ts continuous.
    assert_eq!(ps[12].payload_type(), 0);
    assert!(ps[12].marker());
    assert_eq!(ps[12].timestamp(), ts5 + 5 * 160);
    assert!(!ps[13].marker());
    // '#': 70 ms = 560 ticks over 4 slots, after 3 slots of audio.
    let ts_hash = ts5 + 8 * 160;
    let durs: Vec<(u16, bool, u8, u8)> = (15..21)
        .map(|i| {
            let e = ev(i);
            assert_eq!(ps[i].timestamp(), ts_hash);
            assert_eq!(ps[i].marker(), i == 15);
            (e.duration, e.end, e.event, e.volume)
        })
        .collect();
    assert_eq!(
        durs,
        [
            (160, false, 11, 63),
            (320, false, 11, 63),
            (480, false, 11, 63),
            (560, true, 11, 63),
            (560, true, 11, 63),
            (560, true, 11, 63)
        ]
    );
    assert!(ps[21].marker());
    assert_eq!(ps[21].timestamp(), ts_hash + 4 * 160);
    // Every audio packet's timestamp is on the continuous 160-tick grid.
    for p in ps.iter().filter(|p| p.payload_type() == 0) {
        assert_eq!((p.timestamp() - 5000) % 160, 0);
    }
    assert_eq!(tx.stats().dtmf_packets, 13);
}

#[test]
fn dtmf_on_opus_uses_the_event_clock_for_durations() {
    // telephone-event/8000 next to Opus: timestamps on the 48 kHz stream
    // clock, durations in 8 kHz ticks.
    let mut tx = dtmf_sender(opus(1), 8000);
    let mut t = 0;
    let mut pkts = push_ms(&mut tx, 40, &mut t);
    tx.send_dtmf('A', 60, 0).unwrap();
    pkts.extend(push_ms(&mut tx, 200, &mut t));
    let ps = parse_all(&pkts);
    let evs: Vec<_> = ps.iter().filter(|p| p.payload_type() == 101).collect();
    assert_eq!(evs.len(), 2 + 3);
    let first_audio_ts = ps
        .iter()
        .find(|p| p.payload_type() == 111)
        .unwrap()
        .timestamp();
    let ts = evs[0].timestamp();
    assert!(evs.iter().all(|p| p.timestamp() == ts));
    let d: Vec<u16> = evs
        .iter()
        .map(|p| TelephoneEvent::parse(p.payload()).unwrap().duration)
        .collect();
    assert_eq!(d, [160, 320, 480, 480, 480]);
    let after: Vec<_> = ps.iter().filter(|p| p.timestamp() > ts).collect();
    assert!(after[0].marker() && after[0].payload_type() == 111);
    assert_eq!(after[0].timestamp(), ts + 3 * 960);
    assert!(first_audio_ts < ts);
    // With telephone-event/48000, durations count 48 kHz ticks.
    let mut tx = dtmf_sender(opus(1), 48_000);
    let mut t = 0;
    tx.send_dtmf('1', 40, 5).unwrap();
    let ps = push_ms(&mut tx, 100, &mut t);
    let d: Vec<u16> = parse_all(&ps)
        .iter()
        .filter(|p| p.payload_type() == 101)
        .map(|p| TelephoneEvent::parse(p.payload()).unwrap().duration)
        .collect();
    assert_eq!(d, [960, 1920, 1920, 1920]);
}

#[test]
fn short_dtmf_is_one_slot_with_marker_and_end() {
    let mut tx = dtmf_sender(pcmu(), 8000);
    let mut t = 0;
    tx.send_dtmf('0', 5, 20).unwrap();
    let ps = push_ms(&mut tx, 60, &mut t);
    let ps = parse_all(&ps);
    let evs: Vec<_> = ps.iter().filter(|p| p.payload_type() == 101).collect();
    assert_eq!(evs.len(), 3);
    assert!(evs[0].marker() && !evs[1].marker() && !evs[2].marker());
    for p in &evs {
        let e = TelephoneEvent::parse(p.payload()).unwrap();
        assert_eq!((e.event, e.end, e.duration, e.volume), (0, true, 40, 20));
    }
}

#[test]
fn dtmf_errors() {
    let mut tx = Sender::new(config(pcmu(), 0)).unwrap();
    assert_eq!(tx.send_dtmf('1', 100, 10), Err(SenderError::DtmfDisabled));
    let mut tx = dtmf_sender(pcmu(), 8000);
    assert_eq!(tx.send_dtmf('x', 100, 10), Err(SenderError::BadDigit('x')));
    assert_eq!(tx.send_dtmf('1', 100, 64), Err(SenderError::BadVolume(64)));
    assert_eq!(tx.send_dtmf('1', 0, 10), Err(SenderError::BadDuration(0)));
    // 65535 ticks at 8 kHz is 8191 ms.
    assert_eq!(
        tx.send_dtmf('1', 8192, 10),
        Err(SenderError::BadDuration(8192))
    );
    assert_eq!(tx.send_dtmf('1', 8191, 10), Ok(()));
    assert_eq!(tx.send_dtmf('b', 100, 10), Ok(()), "lower case accepted");
    for _ in 2..voxlet::sender::DTMF_QUEUE_LEN {
        tx.send_dtmf('*', 100, 10).unwrap();
    }
    assert_eq!(tx.send_dtmf('*', 100, 10), Err(SenderError::DtmfQueueFull));
    let mut tx = dtmf_sender(opus(1), 48_000);
    assert_eq!(
        tx.send_dtmf('1', 1366, 10),
        Err(SenderError::BadDuration(1366))
    );
}

// ------------------------------------------------------------------ pacing

#[test]
fn paced_five_seconds_released_at_media_times() {
    let pcm = s16le(SPEECH_8K);
    let five_s = &pcm[..40_000];
    let mut cfg = config(pcmu(), 0);
    cfg.pacing = Pacing::Paced;
    cfg.max_queue_ms = 5000;
    let mut tx = Sender::new(cfg).unwrap();
    assert_eq!(tx.push_audio(five_s, 1000.0).unwrap(), 40_000);
    assert_eq!(tx.queued_packets(), 250);
    assert_eq!(tx.next_due_ms(), Some(1000.0));
    assert!(!tx.is_drained());
    let mut released = Vec::new();
    for now in 1000..7000u64 {
        while let Some(p) = tx.poll_packet(now as f64) {
            released.push((now, RtpPacket::parse(p).unwrap().sequence()));
        }
        if now == 3000 {
            assert_eq!(released.len(), 101);
            assert_eq!(tx.next_due_ms(), Some(3020.0));
        }
    }
    assert_eq!(released.len(), 250);
    for (k, &(at, seq)) in released.iter().enumerate() {
        assert_eq!(at, 1000 + 20 * k as u64, "packet {k}");
        assert_eq!(seq, tx.initial_sequence().wrapping_add(k as u16));
    }
    assert!(tx.is_drained());
    assert_eq!(tx.next_due_ms(), None);
    // A later push continues the schedule where the media is.
    tx.push_audio(&pcm[40_000..40_160], 6010.0).unwrap();
    assert_eq!(tx.next_due_ms(), Some(6000.0));
}

#[test]
fn paced_backpressure_loses_nothing() {
    let pcm = s16le(SPEECH_8K);
    let mut cfg = config(pcmu(), 0);
    cfg.pacing = Pacing::Paced;
    cfg.max_queue_ms = 200; // 10 + 2 slots
    let mut tx = Sender::new(cfg).unwrap();
    assert_eq!(tx.queue_capacity(), 12);
    let first = tx.push_audio(&pcm, 0.0).unwrap();
    assert_eq!(first, 12 * 160, "stops at the frame that would not fit");
    assert_eq!(tx.push_audio(&pcm[first..], 0.0).unwrap(), 0);
    let mut pos = first;
    let mut got = Vec::new();
    let mut now = 0.0;
    while pos < pcm.len() || !tx.is_drained() {
        pos += tx.push_audio(&pcm[pos..], now).unwrap();
        if pos == pcm.len() {
            let _ = tx.flush(now);
        }
        while let Some(p) = tx.poll_packet(now) {
            got.push(p.to_vec());
        }
        now += 5.0;
        assert!(now < 100_000.0);
    }
    let ps = parse_all(&got);
    assert_eq!(ps.len(), pcm.len().div_ceil(160));
    for (i, p) in ps.iter().enumerate() {
        assert_eq!(p.sequence(), tx.initial_sequence().wrapping_add(i as u16));
    }
    let want = encode_direct(pcmu(), &EncoderSettings::default(), &pcm, 160, ps.len());
    assert!(payloads(&got) == want);
    // Paced and slow: each packet went out no earlier than its media time.
    assert!(now as usize >= pcm.len() / 8 - 20);
}

#[test]
fn non_finite_times_are_taken_as_the_last_finite_one() {
    // A clock that glitches (NaN, ±∞) must not corrupt the paced schedule,
    // the RTP timestamps or the RTCP schedule: each call uses the last
    // finite time instead.
    let pcm = s16le(SPEECH_8K);
    let run = |glitch: bool| {
        let mut cfg = config(pcmu(), 0);
        cfg.pacing = Pacing::Paced;
        cfg.rtcp_interval_ms = 1000;
        let mut tx = Sender::new(cfg).unwrap();
        let mut log = Vec::new();
        for k in 0..100u32 {
            let now = f64::from(k) * 10.0;
            let bad = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][k as usize % 3];
            let at = |t: f64| if glitch && k % 2 == 1 { bad } else { t };
            let block = &pcm[k as usize * 80..(k as usize + 1) * 80];
            // In the glitched run every other call's time is bad; the
            // previous call was at now - 10, so shift the good run to match.
            let t = if glitch && k % 2 == 1 {
                now - 10.0
            } else {
                now
            };
            tx.push_audio(block, at(t)).unwrap();
            while let Some(p) = tx.poll_packet(at(t)) {
                let p = RtpPacket::parse(p).unwrap();
                log.push((k, p.sequence(), p.timestamp()));
            }
            if let Some(r) = tx.poll_rtcp(at(t), 1.7e12) {
                log.push((k, 0xFFFF, r.len() as u32));
            }
            assert!(tx.next_due_ms().is_none_or(f64::is_finite));
            assert_eq!(tx.rtp_timestamp_at(at(t)), tx.rtp_timestamp_at(t));
        }
        log
    };
    let glitched = run(true);
    assert!(
        glitched.len() > 40,
        "packets were released: {}",
        glitched.len()
    );
    assert_eq!(glitched, run(false));
}

#[test]
fn paced_producer_stall_restarts_the_schedule() {
    let pcm = s16le(SPEECH_8K);
    let mut cfg = config(pcmu(), 0);
    cfg.pacing = Pacing::Paced;
    let mut tx = Sender::new(cfg).unwrap();
    tx.push_audio(&pcm[..1600], 0.0).unwrap(); // 200 ms
    let mut n = 0;
    for now in 0..400 {
        while tx.poll_packet(now as f64).is_some() {
            n += 1;
        }
    }
    assert_eq!(n, 10);
    // The producer comes back 2 s late with 200 ms more: no burst, the
    // schedule restarts at now.
    tx.push_audio(&pcm[1600..3200], 2200.0).unwrap();
    assert_eq!(tx.next_due_ms(), Some(2200.0));
    let mut times = Vec::new();
    for now in 2200..2600 {
        while tx.poll_packet(now as f64).is_some() {
            times.push(now);
        }
    }
    assert_eq!(times, (0..10).map(|k| 2200 + 20 * k).collect::<Vec<u64>>());
}

#[test]
fn live_releases_immediately_and_bounds_the_queue() {
    let pcm = s16le(SPEECH_8K);
    let mut tx = Sender::new(config(pcmu(), 0)).unwrap();
    // Pushed "in the future" relative to the poll: live ignores media time.
    tx.push_audio(&pcm[..800], 50_000.0).unwrap();
    let mut n = 0;
    while tx.poll_packet(0.0).is_some() {
        n += 1;
    }
    assert_eq!(n, 5);
    // Nobody polls: the queue (1000 ms + 2 = 52 packets) fills and push
    // says so by consuming less.
    let mut tx = Sender::new(config(pcmu(), 0)).unwrap();
    assert_eq!(tx.queue_capacity(), 52);
    assert_eq!(tx.push_audio(&pcm[..50 * 160 + 50], 0.0).unwrap(), 8050);
    assert_eq!(tx.push_audio(&pcm[8050..], 0.0).unwrap(), 110 + 160);
    assert_eq!(tx.queued_packets(), 52);
    assert_eq!(tx.push_audio(&pcm[8320..], 0.0).unwrap(), 0);
    // flush needs room too, and resumes where it stopped: from 48 kHz the
    // tail is 150 frames + 24 of resampler delay, two packets, one free.
    let mut cfg = config(pcmu(), 0);
    cfg.input_rate = 48_000;
    let mut tx48 = Sender::new(cfg).unwrap();
    let mic = vec![0.25f32; (51 * 160 + 150) * 6];
    assert_eq!(tx48.push_audio(&mic, 0.0).unwrap(), mic.len());
    assert_eq!(tx48.queued_packets(), 51);
    assert_eq!(tx48.flush(0.0), Err(SenderError::QueueFull));
    assert_eq!(tx48.queued_packets(), 52);
    assert!(tx48.poll_packet(0.0).is_some());
    assert_eq!(tx48.flush(0.0), Ok(()));
    assert_eq!(tx48.queued_packets(), 52);
    assert_eq!(tx48.flush(0.0), Ok(()), "nothing left to flush");
    assert_eq!(tx48.queued_packets(), 52);
    let mut buf = [0u8; 64];
    assert_eq!(tx.poll_packet_into(0.0, &mut buf), Some(Err(172)));
    let mut buf = [0u8; 200];
    assert_eq!(tx.poll_packet_into(0.0, &mut buf), Some(Ok(172)));
    assert_eq!(RtpPacket::parse(&buf[..172]).unwrap().payload().len(), 160);
}

// -------------------------------------------------------------------- RTCP

#[test]
fn sender_reports_carry_counts_and_the_ntp_rtp_mapping() {
    let pcm = s16le(SPEECH_8K);
    let mut cfg = config(pcmu(), 0);
    cfg.pacing = Pacing::Paced;
    cfg.max_queue_ms = 20_000;
    cfg.rtcp_interval_ms = 1000;
    cfg.initial_timestamp = Some(u32::MAX - 8000);
    cfg.cname = Some("voxlet@test".into());
    let mut tx = Sender::new(cfg).unwrap();
    let unix0 = 1_700_000_000_000u64;
    assert!(
        tx.poll_rtcp(0.0, unix0 as f64).is_none(),
        "nothing sent yet"
    );
    tx.push_audio(&pcm[..8000 * 5], 100.0).unwrap();
    let mut reports = Vec::new();
    let mut sent = (0u32, 0u32);
    for now in 100..5200u64 {
        while let Some(p) = tx.poll_packet(now as f64) {
            sent.0 += 1;
            sent.1 += (p.len() - 12) as u32;
        }
        if let Some(r) = tx.poll_rtcp(now as f64, (unix0 + now) as f64) {
            reports.push((now, sent, r.to_vec()));
        }
    }
    assert_eq!(
        reports.iter().map(|r| r.0).collect::<Vec<_>>(),
        [100, 1100, 2100, 3100, 4100, 5100]
    );
    assert_eq!(tx.stats().sender_reports, 6);
    for (now, (pkts, octets), bytes) in &reports {
        let mut it = parse_compound(bytes);
        let Some(Ok(RtcpPacket::SenderReport(sr))) = it.next() else {
            panic!("first packet is not an SR");
        };
        assert_eq!(sr.ssrc, tx.ssrc());
        assert_eq!(sr.sender_info.packet_count, *pkts);
        assert_eq!(sr.sender_info.octet_count, *octets);
        assert_eq!(*octets, pkts * 160);
        assert_eq!(
            ntp_to_ms(sr.sender_info.ntp_timestamp, NTP_UNIX_EPOCH_OFFSET_MS),
            unix0 + now
        );
        // Paced: media time at `now` is now - 100 ms.
        let want = (u32::MAX - 8000).wrapping_add(((now - 100) * 8) as u32);
        assert_eq!(sr.sender_info.rtp_timestamp, want, "at {now}");
        assert_eq!(sr.report_blocks.len(), 0);
        let Some(Ok(RtcpPacket::Sdes(sdes))) = it.next() else {
            panic!("no SDES");
        };
        let chunk = sdes.chunks().next().unwrap();
        assert_eq!(chunk.cname(), Some(&b"voxlet@test"[..]));
        assert!(it.next().is_none());
    }
    // The SR's RTP time agrees with the packet being released at that time.
    let (now, _, _) = reports[2];
    assert_eq!(
        tx.rtp_timestamp_at(now as f64),
        (u32::MAX - 8000).wrapping_add(((now - 100) / 20 * 160) as u32)
    );
}

#[test]
fn live_sr_timestamp_tracks_the_capture_clock() {
    let mut cfg = config(pcmu(), 0);
    cfg.input_rate = 48_000;
    cfg.initial_timestamp = Some(0);
    let mut tx = Sender::new(cfg).unwrap();
    let block = [0.1f32; 480]; // 10 ms blocks, pushed at their end time
    for k in 1..=100u64 {
        tx.push_audio(&block, (1000 + 10 * k) as f64).unwrap();
        while tx.poll_packet(0.0).is_some() {}
    }
    // After 1 s of audio, "now" is the capture instant of input frame
    // 48000, i.e. media frame 8000 + resampler delay at 8 kHz.
    let lat = Resampler::new(48_000, 8000, 1).unwrap().latency_frames() as u32;
    assert_eq!(tx.rtp_timestamp_at(2000.0), 8000 + lat);
    assert!(tx.poll_rtcp(2000.0, 0.0).is_some());
    assert!(tx.poll_rtcp(2001.0, 0.0).is_none());
    let mut cfg = config(pcmu(), 0);
    cfg.rtcp_interval_ms = 0;
    let mut tx = Sender::new(cfg).unwrap();
    tx.push_audio(&[0.0; 160], 0.0).unwrap();
    assert!(tx.poll_packet(0.0).is_some());
    assert!(tx.poll_rtcp(10_000.0, 0.0).is_none(), "disabled");
}

// ------------------------------------------------------------ bad configs

#[test]
fn bad_configs_are_typed_errors() {
    let base = config(pcmu(), 0);
    let err = |f: &dyn Fn(&mut SenderConfig)| {
        let mut c = base.clone();
        f(&mut c);
        Sender::new(c).err()
    };
    assert_eq!(
        err(&|c| c.codec = info(CodecKind::TelephoneEvent, 8000, 1)),
        Some(SenderError::NotAudio)
    );
    assert_eq!(
        err(&|c| c.payload_type = 128),
        Some(SenderError::PayloadType(128))
    );
    for p in [0u16, 5, 25, 50, 80, 120] {
        assert_eq!(
            err(&|c| c.ptime_ms = p),
            Some(SenderError::Ptime {
                codec: CodecKind::Pcmu,
                ptime_ms: p
            })
        );
    }
    assert_eq!(
        err(&|c| {
            c.codec = opus(1);
            c.ptime_ms = 30;
        }),
        Some(SenderError::Ptime {
            codec: CodecKind::Opus,
            ptime_ms: 30
        })
    );
    // L16 at 44.1 kHz: 10 ms = 441 frames is fine; 11025 Hz is not.
    let l16 = |r| info(CodecKind::L16, r, 1);
    assert_eq!(err(&|c| c.codec = l16(44_100)), None);
    assert_eq!(
        err(&|c| {
            c.codec = l16(11_025);
            c.ptime_ms = 10;
        }),
        Some(SenderError::Ptime {
            codec: CodecKind::L16,
            ptime_ms: 10
        })
    );
    assert_eq!(
        err(&|c| c.input_rate = 7999),
        Some(SenderError::InputRate(7999))
    );
    assert_eq!(
        err(&|c| c.input_rate = 96_001),
        Some(SenderError::InputRate(96_001))
    );
    assert_eq!(
        err(&|c| c.input_channels = 0),
        Some(SenderError::InputChannels(0))
    );
    assert_eq!(
        err(&|c| c.input_channels = 3),
        Some(SenderError::InputChannels(3))
    );
    assert_eq!(
        err(&|c| c.dtmf_payload_type = Some(0)),
        Some(SenderError::DtmfPayloadType(0))
    );
    assert_eq!(
        err(&|c| c.dtmf_payload_type = Some(200)),
        Some(SenderError::DtmfPayloadType(200))
    );
    assert_eq!(
        err(&|c| {
            c.dtmf_payload_type = Some(101);
            c.dtmf_clock_rate = 0;
        }),
        Some(SenderError::DtmfClockRate(0))
    );
    assert_eq!(
        err(&|c| {
            c.dtmf_payload_type = Some(101);
            c.dtmf_clock_rate = 11_025;
        }),
        Some(SenderError::DtmfClockRate(11_025))
    );
    assert_eq!(
        err(&|c| c.max_queue_ms = 0),
        Some(SenderError::QueueSize(0))
    );
    assert_eq!(
        err(&|c| c.max_queue_ms = 60_001),
        Some(SenderError::QueueSize(60_001))
    );
    assert_eq!(
        err(&|c| c.cname = Some(String::new())),
        Some(SenderError::Cname)
    );
    assert_eq!(
        err(&|c| c.cname = Some("x".repeat(256))),
        Some(SenderError::Cname)
    );
    assert_eq!(
        err(&|c| {
            c.codec = opus(1);
            c.opus.bitrate = 1000;
        }),
        Some(SenderError::Codec(CodecError::BadSetting("bitrate")))
    );
    assert_eq!(
        err(&|c| {
            c.codec = opus(1);
            c.opus.complexity = 11;
        }),
        Some(SenderError::Codec(CodecError::BadSetting("complexity")))
    );
    // A hand-built CodecInfo the codec refuses.
    let bogus = CodecInfo {
        kind: CodecKind::Opus,
        clock_rate: 48_000,
        sample_rate: 48_000,
        channels: 3,
    };
    assert!(matches!(
        err(&|c| c.codec = bogus),
        Some(SenderError::Codec(CodecError::UnsupportedConfig { .. }))
    ));
    let bogus = CodecInfo {
        clock_rate: 0,
        ..pcmu()
    };
    assert!(matches!(
        err(&|c| c.codec = bogus),
        Some(SenderError::Codec(CodecError::UnsupportedConfig { .. }))
    ));
    let bogus = CodecInfo {
        sample_rate: 16_000,
        ..pcmu()
    };
    assert!(matches!(
        err(&|c| c.codec = bogus),
        Some(SenderError::Codec(CodecError::UnsupportedConfig { .. }))
    ));
    // Every error displays.
    assert!(!SenderError::QueueFull.to_string().is_empty());
    // Input that is not whole frames.
    let mut cfg = base.clone();
    cfg.input_channels = 2;
    let mut tx = Sender::new(cfg).unwrap();
    assert_eq!(
        tx.push_audio(&[0.0; 3], 0.0),
        Err(SenderError::BadInputLength {
            samples: 3,
            channels: 2
        })
    );
}

// ------------------------------------------------------------- robustness

#[test]
fn hostile_input_never_panics_and_stays_valid() {
    let mut x = XorShift64(0x1234_5678_9abc_def0);
    let mut rnd = move || XorShift64::next_u64(&mut x);
    for codec in [
        pcmu(),
        info(CodecKind::G722, 8000, 1),
        info(CodecKind::L16, 48000, 2),
        opus(2),
    ] {
        let mut cfg = config(codec, 96);
        cfg.input_rate = 44_100;
        cfg.input_channels = 1;
        cfg.dtmf_payload_type = Some(101);
        let mut tx = Sender::new(cfg).unwrap();
        let specials = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30, 0.0];
        let mut now = 0.0;
        for i in 0..300 {
            let n = (rnd() % 3000) as usize;
            let block: Vec<f32> = (0..n)
                .map(|_| {
                    let r = rnd();
                    if r % 7 == 0 {
                        specials[(r >> 8) as usize % specials.len()]
                    } else {
                        (r >> 11) as f32 / (1u64 << 52) as f32 * 4.0 - 2.0
                    }
                })
                .collect();
            now += (rnd() % 100) as f64;
            let _ = tx.push_audio(&block, now).unwrap();
            if i % 37 == 0 {
                let _ = tx.send_dtmf('7', (rnd() % 300 + 1) as u32, 10);
            }
            if i % 50 == 0 {
                let _ = tx.flush(now);
            }
            while let Some(p) = tx.poll_packet(now) {
                let p = RtpPacket::parse(p).unwrap();
                assert!(!p.payload().is_empty());
            }
            let _ = tx.poll_rtcp(now, now);
        }
        assert_eq!(tx.stats().encode_errors, 0, "{codec:?}");
        assert!(tx.push_audio(&[], now).unwrap() == 0);
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn steady_state_is_allocation_free() {
    let pcm = s16le(SPEECH_48K);
    for codec in [
        pcmu(),
        info(CodecKind::G722, 8000, 1),
        info(CodecKind::L16, 48000, 2),
        opus(1),
    ] {
        let mut cfg = config(codec, 96);
        cfg.input_rate = 48_000;
        cfg.input_channels = 1;
        cfg.dtmf_payload_type = Some(101);
        cfg.dtmf_clock_rate = 8000;
        cfg.rtcp_interval_ms = 100;
        let mut tx = Sender::new(cfg).unwrap();
        let (n, allocs) = voxlet_support::counted(|| {
            let mut now = 0.0;
            let mut n = 0;
            for (i, block) in pcm.chunks(128).enumerate() {
                now = ((i as u64 + 1) * 128 * 1000 / 48_000) as f64;
                tx.push_audio(block, now).unwrap();
                if i % 100 == 0 {
                    tx.send_dtmf('9', 80, 10).unwrap();
                }
                while let Some(p) = tx.poll_packet(now) {
                    n += p.len();
                }
                if let Some(r) = tx.poll_rtcp(now, now) {
                    n += r.len();
                }
            }
            tx.flush(now).unwrap();
            while let Some(p) = tx.poll_packet(now) {
                n += p.len();
            }
            n
        });
        assert!(n > 0);
        assert_eq!(allocs, 0, "{codec:?} allocated");
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn encode_speed_times_realtime() {
    let pcm = s16le(SPEECH_48K);
    let secs = pcm.len() as f64 / 48_000.0;
    for codec in [
        pcmu(),
        info(CodecKind::G722, 8000, 1),
        info(CodecKind::L16, 16000, 1),
        opus(1),
    ] {
        let mut cfg = config(codec, 96);
        cfg.input_rate = 48_000;
        cfg.input_channels = 1;
        let mut tx = Sender::new(cfg).unwrap();
        let t = std::time::Instant::now();
        let pkts = run(&mut tx, &pcm, 1, 48_000, 128);
        let dt = t.elapsed().as_secs_f64();
        assert!(!pkts.is_empty());
        println!(
            "{:?} from 48 kHz, 128-frame blocks: {:.0}x real time",
            codec.kind,
            secs / dt
        );
    }
}

// ------------------------------------------------------ Sender → Receiver

/// Sends `pcm` (interleaved, the Sender's input format) through a paced
/// Sender into a Receiver that renders 128-frame blocks at `out_rate` /
/// `out_ch`; every packet arrives at its release time. `dtmf` lists
/// `(input frame, key, ms)`: the key is queued when the input reaches that
/// frame. `fixed_delay` pins the Receiver's target delay at 60 ms. Returns the rendered audio (1 s of playout after the last packet
/// included), the receiver's events and the Sender.
fn through_receiver(
    cfg: SenderConfig,
    rtpmaps: &[(u8, &str)],
    pcm: &[f32],
    out_rate: u32,
    out_ch: u16,
    dtmf: &[(usize, char, u32)],
    fixed_delay: bool,
) -> (Vec<f32>, Vec<ReceiverEvent>, Sender) {
    let mut registry = voxlet::Registry::with_static();
    for (pt, m) in rtpmaps {
        registry.insert_rtpmap(*pt, m).unwrap();
    }
    let mut rc = ReceiverConfig {
        registry,
        output_rate: out_rate,
        output_channels: out_ch,
        max_payload_bytes: 4096, // L16/48000/2: 3840 bytes per 20 ms
        ..ReceiverConfig::default()
    };
    if fixed_delay {
        // On a jitter-free link the Receiver then has no reason to
        // time-stretch, so what it plays is what was sent.
        (rc.min_delay_ms, rc.max_delay_ms, rc.initial_delay_ms) = (60, 60, 60);
    }
    let mut rx = Receiver::new(rc).unwrap();
    let mut cfg = cfg;
    cfg.pacing = Pacing::Paced;
    let ch = cfg.input_channels as usize;
    let frames = pcm.len() / ch;
    let mut tx = Sender::new(cfg).unwrap();
    let mut out = Vec::new();
    let mut events = Vec::new();
    let mut block = vec![0f32; 128 * out_ch as usize];
    let mut dtmf = dtmf.iter().copied().peekable();
    let (mut pos, mut flushed, mut q, mut tail) = (0, false, 0u64, 0);
    while tail < out_rate as usize / 128 {
        let now = q as f64 * 128.0 * 1000.0 / out_rate as f64;
        let now_ms = now;
        if pos < frames {
            while let Some((_, d, ms)) = dtmf.next_if(|&(at, _, _)| pos >= at) {
                tx.send_dtmf(d, ms, 10).unwrap();
            }
            let end = dtmf.peek().map_or(frames, |&(at, _, _)| at);
            pos += tx.push_audio(&pcm[pos * ch..end * ch], now_ms).unwrap();
        } else if !flushed {
            flushed = tx.flush(now_ms).is_ok();
        }
        while let Some(p) = tx.poll_packet(now_ms) {
            rx.push(p, now).unwrap();
        }
        rx.render(&mut block, now);
        out.extend_from_slice(&block);
        while let Some(e) = rx.poll_event() {
            events.push(e);
        }
        q += 1;
        if flushed && tx.is_drained() {
            tail += 1;
        }
        assert!(q < 1_000_000);
    }
    (out, events, tx)
}

/// The longest run of frames at the end of `reference` that `out` plays
/// exactly, `lag` frames later, over all lags in `lags`: (run length in
/// frames, lag, first frame of the run in `reference`).
fn exact_tail_run(
    reference: &[f32],
    out: &[f32],
    ch: usize,
    lags: core::ops::Range<usize>,
) -> (usize, usize, usize) {
    let frames = reference.len() / ch;
    let mut best = (0, 0, frames);
    for lag in lags {
        let mut run = 0;
        while run < frames {
            let i = frames - 1 - run;
            if out.get((i + lag) * ch..(i + lag + 1) * ch) != reference.get(i * ch..(i + 1) * ch) {
                break;
            }
            run += 1;
        }
        if run > best.0 {
            best = (run, lag, frames - run);
        }
    }
    best
}

/// `out` plays `want` sample for sample from at most 200 ms in (the
/// Receiver may adjust its delay while it starts) to the very end.
fn assert_plays_exactly(name: &str, want: &[f32], out: &[f32], ch: usize, rate: u32) {
    let frames = want.len() / ch;
    let (run, lag, start) = exact_tail_run(want, out, ch, 0..rate as usize / 2);
    println!(
        "{name}: exact from frame {start} to the end ({run} of {frames}), played {} ms late",
        lag * 1000 / rate as usize
    );
    assert_eq!(
        start + run,
        frames,
        "{name}: does not play exactly to the end"
    );
    assert!(
        start <= rate as usize / 5,
        "{name}: exact only from frame {start}"
    );
}

#[test]
fn receiver_plays_g711_g722_l16_exactly() {
    // Packets on time, no loss: the Receiver plays the direct
    // encode-decode of the same input, every sample, after its buffering
    // delay (once it has settled: at most its first 200 ms differ). At the
    // codec rate, and from 48 kHz input resampled by the Sender (reference:
    // the same resampler, then encode-decode).
    let speech48 = s16le(SPEECH_48K);
    let cases: [(CodecInfo, u8, &str, Vec<f32>); 4] = [
        (pcmu(), 0, "", s16le(SPEECH_8K)),
        (info(CodecKind::Pcma, 8000, 1), 8, "", s16le(SPEECH_8K)),
        (info(CodecKind::G722, 8000, 1), 9, "", s16le(SPEECH_16K)),
        (
            info(CodecKind::L16, 16000, 1),
            97,
            "L16/16000",
            s16le(SPEECH_16K),
        ),
    ];
    for (codec, pt, rtpmap, pcm) in cases {
        let maps: Vec<(u8, &str)> = if rtpmap.is_empty() {
            vec![]
        } else {
            vec![(pt, rtpmap)]
        };
        let rate = codec.sample_rate;
        for input_rate in [rate, 48_000] {
            let mut cfg = config(codec, pt);
            cfg.input_rate = input_rate;
            let input = if input_rate == rate { &pcm } else { &speech48 };
            let (out, _, tx) = through_receiver(cfg, &maps, input, rate, 1, &[], true);
            let packets = tx.stats().packets as usize;
            let at_codec_rate = if input_rate == rate {
                input.clone()
            } else {
                resample_ref(input, 1, 48_000, rate, packets * tx.frame_len())
            };
            let sent = encode_direct(
                codec,
                &EncoderSettings::default(),
                &at_codec_rate,
                tx.frame_len(),
                packets,
            );
            let want = decode_all(codec, &sent);
            let name = format!("{:?} from {input_rate} Hz", codec.kind);
            assert_plays_exactly(&name, &want, &out, 1, rate);
        }
    }
    // L16/48000/2 from a stereo source, rendered in stereo.
    let st = stereo_48k();
    let codec = info(CodecKind::L16, 48000, 2);
    let (out, _, _) = through_receiver(
        config(codec, 98),
        &[(98, "L16/48000/2")],
        &st,
        48_000,
        2,
        &[],
        true,
    );
    assert_plays_exactly("L16 stereo", &st, &out, 2, 48_000);
}

#[test]
fn receiver_plays_opus_with_high_correlation() {
    let pcm = s16le(SPEECH_48K);
    let mut cfg = config(opus(1), 111);
    cfg.opus = opus_settings();
    let (out, _, tx) = through_receiver(cfg, &[(111, "opus/48000/2")], &pcm, 48_000, 1, &[], true);
    // Find the playout delay by correlation (buffering + lookahead).
    let la = tx.latency_frames();
    let (_, coarse) = (0..24_000 / 16)
        .map(|k| {
            let lag = k * 16;
            let n = pcm.len().min(out.len().saturating_sub(lag));
            (ncc(&pcm[..n / 4], &out[lag..lag + n / 4]), lag)
        })
        .fold((-1.0, 0), |b, q| if q.0 > b.0 { q } else { b });
    let Aligned { ncc: c, lag, .. } = align(&pcm, &out, coarse.saturating_sub(32)..coarse + 33);
    println!("opus via Receiver: ncc {c:.4} at lag {lag} (lookahead {la})");
    assert!(c > 0.94, "ncc {c}");
}

#[test]
fn receiver_reports_the_dtmf_digits_and_durations() {
    let pcm = s16le(SPEECH_8K);
    // PCMU + telephone-event/8000, and Opus + telephone-event/48000.
    for (codec, pt, map, te_clock, input) in [
        (pcmu(), 0u8, None, 8000u32, pcm.clone()),
        (
            opus(1),
            111,
            Some((111u8, "opus/48000/2")),
            48_000,
            s16le(SPEECH_48K),
        ),
    ] {
        let rate = codec.sample_rate as usize;
        let mut cfg = config(codec, pt);
        cfg.dtmf_payload_type = Some(101);
        cfg.dtmf_clock_rate = te_clock;
        let te = format!("telephone-event/{te_clock}");
        let mut maps = vec![(101u8, te.as_str())];
        maps.extend(map);
        let keys = [
            (rate / 2, '1', 100u32),
            (rate, '2', 250),
            (rate, '#', 40),
            (rate * 2, 'D', 70),
            (rate * 2, '*', 1000),
        ];
        // With the default (adaptive) delay: the audio pauses during events
        // look like DTX gaps to the Receiver.
        let (_, events, tx) = through_receiver(cfg, &maps, &input, rate as u32, 1, &keys, false);
        let ends: Vec<(Option<char>, u32, bool)> = events
            .iter()
            .filter_map(|e| match *e {
                ReceiverEvent::DtmfEnd {
                    digit,
                    duration,
                    timed_out,
                    ..
                } => Some((digit, duration, timed_out)),
                _ => None,
            })
            .collect();
        let begins: Vec<Option<char>> = events
            .iter()
            .filter_map(|e| match *e {
                ReceiverEvent::DtmfBegin { digit, volume, .. } => {
                    assert_eq!(volume, 10);
                    Some(digit)
                }
                _ => None,
            })
            .collect();
        let want: Vec<(Option<char>, u32, bool)> = keys
            .iter()
            .map(|&(_, d, ms)| (Some(d), ms * te_clock / 1000, false))
            .collect();
        println!("{:?}: {ends:?}", codec.kind);
        assert_eq!(ends, want, "{:?}", codec.kind);
        assert_eq!(begins, keys.iter().map(|k| Some(k.1)).collect::<Vec<_>>());
        assert!(tx.is_drained());
    }
}
