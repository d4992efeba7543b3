//! The send path with an arbitrary `SenderConfig` (every field from the
//! input, the `CodecInfo` hand-built half the time): `Sender::new` must
//! refuse or accept without panicking; an accepted sender then gets a
//! framed sequence of audio pushes (any length, NaN / infinite samples),
//! DTMF requests, flushes and polls at arbitrary (u64) times. Every packet
//! released must parse as RTP with the configured SSRC and one of the two
//! payload types; every RTCP compound must parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::codec::{CodecInfo, CodecKind, EncoderSettings, OpusApplication};
use voxlet::dsp::Quality;
use voxlet::rtp::rtcp::parse_compound;
use voxlet::rtp::RtpPacket;
use voxlet::sender::Pacing;
use voxlet::{Sender, SenderConfig};
use voxlet_fuzz::Reader;

fn kind(b: u8) -> CodecKind {
    match b % 7 {
        0 => CodecKind::Pcmu,
        1 => CodecKind::Pcma,
        2 => CodecKind::G722,
        3 => CodecKind::L16,
        4 => CodecKind::Opus,
        5 => CodecKind::ComfortNoise,
        _ => CodecKind::TelephoneEvent,
    }
}

fn opt<T>(r: &mut Reader, v: impl FnOnce(&mut Reader) -> T) -> Option<T> {
    if r.bool() {
        Some(v(r))
    } else {
        None
    }
}

fn config(r: &mut Reader) -> Option<SenderConfig> {
    let k = kind(r.u8());
    let sel = r.u8();
    let codec = if sel & 1 == 0 {
        let clock = match sel >> 1 & 3 {
            0 => 8000,
            1 => 48000,
            2 => 16000,
            _ => r.u32() % 100_000,
        };
        let ch = 1 + (sel >> 3 & 1) as u16;
        let info = CodecInfo::new(k, clock, if k == CodecKind::Opus { 2 } else { ch }).ok()?;
        info.with_channels(ch).unwrap_or(info)
    } else {
        CodecInfo {
            kind: k,
            clock_rate: r.u32() % 200_000,
            sample_rate: r.u32() % 200_000,
            channels: r.u8() as u16 % 4,
        }
    };
    let mut c = SenderConfig::new(codec, r.u8());
    let f = r.u8();
    if f & 1 != 0 {
        c.ptime_ms = [10, 20, 30, 40, 60][r.u8() as usize % 5];
    }
    if f & 2 != 0 {
        c.ptime_ms = r.u16();
    }
    if f & 4 != 0 {
        c.input_rate = match r.u8() % 4 {
            0 => 44100,
            1 => 48000,
            2 => 8000,
            _ => r.u32(),
        };
        c.input_channels = r.u8() as u16 % 4;
    }
    c.ssrc = opt(r, |r| r.u32());
    c.initial_sequence = opt(r, |r| r.u16());
    c.initial_timestamp = opt(r, |r| r.u32());
    c.dtmf_payload_type = opt(r, |r| r.u8());
    if f & 8 != 0 {
        c.dtmf_clock_rate = r.u32();
        c.dtmf_gap_ms = r.u16();
    }
    if f & 16 != 0 {
        c.opus = EncoderSettings {
            bitrate: r.u32() % 600_000,
            complexity: r.u8() % 12,
            application: match r.u8() % 3 {
                0 => OpusApplication::Voip,
                1 => OpusApplication::Audio,
                _ => OpusApplication::LowDelay,
            },
            fec: r.bool(),
            packet_loss_percent: r.u8() % 110,
            dtx: r.bool(),
            frame_ms: r.u16() % 80,
            dred_ms: r.u16() % 1100,
        };
    }
    if f & 32 != 0 {
        c.rtcp_interval_ms = r.u32() % 20_000;
        c.max_queue_ms = r.u32() % 70_000;
        c.cname = opt(r, |r| {
            let n = r.u8() as usize;
            String::from_utf8_lossy(r.bytes(n)).into_owned()
        });
    }
    c.pacing = if f & 64 != 0 {
        Pacing::Paced
    } else {
        Pacing::Live
    };
    c.resampler_quality = match f >> 7 {
        0 => Quality::Medium,
        _ => Quality::Low,
    };
    c.seed = r.u64();
    Some(c)
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let Some(cfg) = config(&mut r) else { return };
    let (pt, dtmf_pt, ssrc_cfg) = (cfg.payload_type, cfg.dtmf_payload_type, cfg.ssrc);
    let Ok(mut tx) = Sender::new(cfg) else {
        return;
    };
    let ssrc = tx.ssrc();
    if let Some(s) = ssrc_cfg {
        assert_eq!(s, ssrc);
    }
    let in_ch = {
        // The channel count push_audio accepts: try 1..=2.
        let mut c = 1;
        while c < 3 && tx.push_audio(&vec![0.0; c], 0.0).is_err() {
            c += 1;
        }
        c
    };
    // Any time, hostile ones included (NaN, ±∞, huge, negative).
    let mut now: f64 = 0.0;
    let mut pcm = Vec::new();
    let mut pushed = 0usize;
    let mut buf = vec![0u8; 4096];
    let check = |p: &[u8]| {
        let q = RtpPacket::parse(p).expect("sender packet parses");
        assert_eq!(q.ssrc(), ssrc);
        assert!(q.payload_type() == pt || Some(q.payload_type()) == dtmf_pt);
    };
    while let Some((tag, body)) = r.message() {
        let mut b = Reader::new(body);
        match tag {
            0..=127 => {
                if pushed > 48_000 {
                    continue; // bound the work per input
                }
                // Samples: i16 from the body, or hostile values.
                pcm.clear();
                let frames = b.u16() as usize % 4096;
                let style = b.u8();
                for i in 0..frames * in_ch {
                    pcm.push(match style {
                        0 => f32::NAN,
                        1 => f32::INFINITY,
                        2 => 1e30 * if i % 2 == 0 { 1.0 } else { -1.0 },
                        _ => b.u16() as i16 as f32 / 32768.0,
                    });
                }
                if tag & 1 == 1 {
                    pcm.push(0.5); // a partial frame: must be an error when in_ch > 1
                }
                if let Ok(n) = tx.push_audio(&pcm, now) {
                    assert!(n * in_ch <= pcm.len());
                    pushed += n;
                }
            }
            128..=159 => {
                let digit = b"0123456789*#ABCDxa "[b.u8() as usize % 19] as char;
                let _ = tx.send_dtmf(digit, b.u16() as u32, b.u8());
            }
            160..=175 => {
                let _ = tx.flush(now);
            }
            176..=223 => {
                while let Some(p) = tx.poll_packet(now) {
                    check(p);
                }
            }
            224..=239 => {
                let small = b.u16() as usize % 4096;
                if let Some(Ok(n)) = tx.poll_packet_into(now, &mut buf[..small]) {
                    check(&buf[..n]);
                }
            }
            240..=247 => {
                if let Some(c) = tx.poll_rtcp(now, b.u64() as f64) {
                    for p in parse_compound(c) {
                        p.expect("sender RTCP parses");
                    }
                }
                let _ = (
                    tx.next_rtcp_ms(),
                    tx.next_due_ms(),
                    tx.rtp_timestamp_at(now),
                );
            }
            _ => {
                now = match b.u8() {
                    0 => now + b.u64() as f64,
                    1 => f64::NAN,
                    2 => f64::INFINITY,
                    3 => -(b.u16() as f64),
                    _ => now + b.u16() as f64,
                };
            }
        }
        let _ = (
            tx.stats(),
            tx.is_drained(),
            tx.queued_packets(),
            tx.pending_dtmf(),
        );
        assert!(tx.queued_packets() <= tx.queue_capacity());
    }
});
