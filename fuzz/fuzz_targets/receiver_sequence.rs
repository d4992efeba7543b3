//! The receive path fed arbitrary sequences: the first bytes make a
//! `ReceiverConfig` (any rates, delays, sizes; sometimes a hand-built
//! `CodecInfo` in the registry), then a framed sequence of operations:
//! raw datagrams or RTP built around arbitrary payloads (with sequence /
//! timestamp steps, marker, payload type), pushed at arbitrary arrival
//! times; renders of arbitrary sizes at arbitrary `now`; sender reports,
//! receiver reports, flushes, time jumps and hostile (NaN, infinite,
//! negative) times. `Receiver` promises never to panic after `new`.
//! Checked: every render fills exactly `out.len() / channels` frames with
//! finite samples; the packet buffer stays within `max_packets`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxlet::codec::{CodecInfo, CodecKind, Registry};
use voxlet::dsp::Quality;
use voxlet::rtp::RtpHeader;
use voxlet::{Receiver, ReceiverConfig};
use voxlet_fuzz::{assert_finite, Reader};

const PTS: [u8; 9] = [0, 8, 9, 10, 11, 13, 96, 101, 111];

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

fn config(r: &mut Reader) -> ReceiverConfig {
    let mut registry = Registry::with_static();
    let _ = registry.insert_rtpmap(96, "L16/16000/1");
    let _ = registry.insert_rtpmap(101, "telephone-event/8000");
    let _ = registry.insert_rtpmap(111, "opus/48000/2");
    let flags = r.u8();
    if flags & 1 == 1 {
        // A hand-built CodecInfo: the fields are public.
        let info = CodecInfo {
            kind: kind(r.u8()),
            clock_rate: r.u32() % 200_000,
            sample_rate: r.u32() % 200_000,
            channels: r.u8() as u16 % 4,
        };
        let _ = registry.insert(PTS[r.u8() as usize % PTS.len()], info);
    }
    let output_rate = match r.u8() {
        0 => 8000,
        1 => 16000,
        2 => 44100,
        3 => 48000,
        4 => r.u32(),
        _ => 48000,
    };
    let d = ReceiverConfig::default();
    let mut c = ReceiverConfig {
        registry,
        output_rate,
        output_channels: 1 + (flags >> 1 & 1) as u16,
        fec: flags & 4 == 0,
        resampler_quality: match flags >> 3 & 3 {
            0 => Quality::Low,
            1 => Quality::High,
            _ => Quality::Medium,
        },
        ..d
    };
    if flags & 32 != 0 {
        c.min_delay_ms = r.u16() as u32;
        c.max_delay_ms = r.u16() as u32;
        c.initial_delay_ms = r.u16() as u32;
        c.max_packets = r.u16() as usize % 512;
        c.max_payload_bytes = r.u16() as usize;
        c.max_conceal_ms = r.u16() as u32;
        c.dtmf_timeout_ms = r.u16() as u32;
    }
    if flags & 64 != 0 {
        c.output_channels = r.u8() as u16;
    }
    c
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let cfg = config(&mut r);
    let (rate, ch, max_packets) = (
        cfg.output_rate,
        cfg.output_channels as usize,
        cfg.max_packets,
    );
    let Ok(mut rx) = Receiver::new(cfg) else {
        return;
    };
    let storage = rx.packet_storage_bytes();
    let mut t: f64 = match r.u8() {
        0 => 0.0,
        1 => 1.7e12,
        2 => -1e6,
        _ => 1000.0,
    };
    let (mut seq, mut ts, mut ssrc) = (r.u16(), r.u32(), 0x1234_5678u32);
    let mut pkt = vec![0u8; 70_000];
    let mut out = vec![0f32; 2048 * 2];
    let mut rendered = 0usize;
    while let Some((tag, body)) = r.message() {
        let mut b = Reader::new(body);
        match tag {
            0..=79 => {
                let at = t + b.u16() as f64 / 8.0 - 200.0;
                let _ = rx.push(b.rest(), at);
            }
            80..=159 => {
                let sel = b.u8();
                let pt = PTS[sel as usize % PTS.len()];
                seq = seq.wrapping_add((b.u8() as i8) as u16);
                ts = ts.wrapping_add((b.u8() as i8 as i32 as u32).wrapping_mul(80));
                if sel >= 250 {
                    ssrc = ssrc.wrapping_add(1);
                }
                let at = t + b.u16() as f64 / 8.0 - 200.0;
                let h = RtpHeader {
                    marker: sel & 0x80 != 0,
                    payload_type: pt,
                    sequence: seq,
                    timestamp: ts,
                    ssrc,
                    ..RtpHeader::default()
                };
                if let Ok(n) = h.write(b.rest(), &mut pkt) {
                    let _ = rx.push(&pkt[..n], at);
                }
            }
            160..=219 => {
                if rendered > 48_000 {
                    continue; // bound the work per input: 1 s of audio at 48 kHz
                }
                let frames = b.u16() as usize % 2049;
                let len = frames * ch + (b.u8() as usize % 2) * usize::from(ch > 1);
                let len = len.min(out.len());
                let now = if b.u8() == 0xFF { b.time_step_ms() } else { t };
                let info = rx.render(&mut out[..len], now);
                assert_eq!(info.frames, len / ch);
                assert_finite(&out[..len], "render");
                rendered += info.frames;
                if rate > 0 {
                    t += info.frames as f64 * 1000.0 / rate as f64;
                }
            }
            220..=229 => rx.on_sender_report(b.u64(), t),
            230..=239 => {
                let _ = rx.receiver_report(t);
            }
            240..=244 => rx.clear(),
            245..=249 => {
                let _ = rx.push(b.rest(), b.time_step_ms());
            }
            _ => {
                t += b.u32() as f64 / 16.0;
            }
        }
        while rx.poll_event().is_some() {}
        assert!(rx.buffered_packets() <= max_packets.max(1));
        assert_eq!(rx.packet_storage_bytes(), storage);
        let _ = (rx.stats(), rx.ssrc());
    }
});
