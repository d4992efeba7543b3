//! ffmpeg as the far end: the Sender's RTP goes over loopback UDP to an
//! `ffmpeg` process reading an SDP file, and what ffmpeg decodes must match
//! — G.711 sample for sample against our decoder, G.722 sample for sample
//! against ffmpeg decoding the same payload bytes from a file (and against
//! our decoder), Opus by correlation with the input.
//!
//! Everything is bounded in time (ffmpeg start, sending, shutdown) and stays
//! on 127.0.0.1. Skipped (with a message) when `ffmpeg` is not installed.

#![cfg(not(target_arch = "wasm32"))]

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use voxlet::codec::{f32_to_i16, i16_to_f32};
use voxlet::rtp::RtpPacket;
use voxlet::{CodecInfo, CodecKind, EncoderSettings, Sender, SenderConfig};
use voxlet_support::signal::s16le_f32 as s16le;

const SPEECH_48K: &[u8] = include_bytes!("fixtures/speech_48k.s16le");

fn have_ffmpeg() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn read_s16le(path: &Path) -> Vec<i16> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let p = std::env::temp_dir().join(format!(
            "voxlet-sender-ffmpeg-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kills the child on drop unless it already exited.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// An even UDP port on 127.0.0.1 whose successor is free too (RTP + RTCP).
fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p % 2 != 0 || p == u16::MAX {
            continue;
        }
        if UdpSocket::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no free UDP port pair");
}

/// Whether some socket is bound to UDP `port`: from /proc/net/udp on Linux
/// (no race with the process binding it), else by trying to bind it.
fn port_bound(port: u16) -> bool {
    match std::fs::read_to_string("/proc/net/udp") {
        Ok(table) => {
            let suffix = format!(":{port:04X}");
            table.lines().skip(1).any(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|local| local.ends_with(&suffix))
            })
        }
        Err(_) => UdpSocket::bind(("127.0.0.1", port)).is_err(),
    }
}

/// Sends `packets` to an ffmpeg reading `sdp` (with `{port}` substituted),
/// returns what it decoded as s16le at `rate` Hz mono.
fn ffmpeg_receive(tag: &str, sdp: &str, packets: &[Vec<u8>], rate: u32) -> Vec<i16> {
    let dir = TempDir::new(tag);
    let port = free_port_pair();
    let sdp_path = dir.0.join("stream.sdp");
    std::fs::write(&sdp_path, sdp.replace("{port}", &port.to_string())).unwrap();
    let out_path = dir.0.join("out.s16le");
    let child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-protocol_whitelist", "file,udp,rtp"])
        .args(["-analyzeduration", "100000", "-probesize", "32"])
        // Stop 2 s after the last packet (the SDP demuxer's no-data timeout).
        .args(["-listen_timeout", "2"])
        .arg("-i")
        .arg(&sdp_path)
        .args(["-f", "s16le", "-ac", "1", "-ar", &rate.to_string()])
        .arg(&out_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ffmpeg");
    let mut child = Reaper(child);

    // Wait until ffmpeg listens on the RTP port.
    let start = Instant::now();
    loop {
        if port_bound(port) {
            break;
        }
        if let Ok(Some(st)) = child.0.try_wait() {
            panic!("ffmpeg exited early: {st}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "ffmpeg never bound"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for p in packets {
        sock.send_to(p, ("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(st) = child.0.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "ffmpeg did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.0.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    assert!(
        status.success() || out_path.exists(),
        "ffmpeg failed: {err}"
    );
    read_s16le(&out_path)
}

/// The Sender's packets for `codec` from the 48 kHz speech fixture in
/// 128-frame blocks (flushed at the end).
fn sender_packets(codec: CodecInfo, pt: u8, settings: EncoderSettings) -> (Vec<Vec<u8>>, usize) {
    let pcm = s16le(SPEECH_48K);
    let mut cfg = SenderConfig::new(codec, pt);
    cfg.input_rate = 48_000;
    cfg.input_channels = 1;
    cfg.opus = settings;
    cfg.seed = 7;
    let mut tx = Sender::new(cfg).unwrap();
    let mut out = Vec::new();
    for (i, b) in pcm.chunks(128).enumerate() {
        let now = ((i as u64 + 1) * 128 * 1000 / 48_000) as f64;
        assert_eq!(tx.push_audio(b, now).unwrap(), b.len());
        while let Some(p) = tx.poll_packet(now) {
            out.push(p.to_vec());
        }
    }
    tx.flush(f64::MAX).unwrap();
    while let Some(p) = tx.poll_packet(f64::MAX) {
        out.push(p.to_vec());
    }
    (out, tx.latency_frames())
}

fn our_decode(codec: CodecInfo, pkts: &[Vec<u8>]) -> Vec<i16> {
    let mut dec = codec.decoder().unwrap();
    let mut buf = vec![0f32; dec.max_frames() * codec.channels as usize];
    let mut out = Vec::new();
    for p in pkts {
        let p = RtpPacket::parse(p).unwrap();
        let n = dec.decode(p.payload(), &mut buf).unwrap();
        out.extend(buf[..n].iter().map(|&x| f32_to_i16(x)));
    }
    out
}

fn sdp(pt: u8, rtpmap: &str, extra: &str) -> String {
    format!(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=voxlet\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {{port}} RTP/AVP {pt}\r\na=rtpmap:{pt} {rtpmap}\r\n{extra}"
    )
}

#[test]
fn ffmpeg_decodes_g711_exactly_like_us() {
    if !have_ffmpeg() {
        eprintln!("ffmpeg not installed: skipped");
        return;
    }
    for (kind, pt, name) in [(CodecKind::Pcmu, 0u8, "PCMU"), (CodecKind::Pcma, 8, "PCMA")] {
        let codec = CodecInfo::new(kind, 8000, 1).unwrap();
        let (pkts, _) = sender_packets(codec, pt, EncoderSettings::default());
        let ours = our_decode(codec, &pkts);
        let theirs = ffmpeg_receive(name, &sdp(pt, &format!("{name}/8000"), ""), &pkts, 8000);
        assert_eq!(theirs.len(), ours.len(), "{name}: sample count");
        assert!(theirs == ours, "{name}: ffmpeg's decode differs from ours");
    }
}

#[test]
fn ffmpeg_decodes_g722_like_the_same_bytes_from_a_file() {
    if !have_ffmpeg() {
        eprintln!("ffmpeg not installed: skipped");
        return;
    }
    let codec = CodecInfo::new(CodecKind::G722, 8000, 1).unwrap();
    let (pkts, _) = sender_packets(codec, 9, EncoderSettings::default());
    let theirs_rtp = ffmpeg_receive("G722", &sdp(9, "G722/8000", ""), &pkts, 16000);

    // ffmpeg decoding the concatenated payloads as a raw G.722 file.
    let dir = TempDir::new("g722-file");
    let raw = dir.0.join("payload.g722");
    let bytes: Vec<u8> = pkts
        .iter()
        .flat_map(|p| RtpPacket::parse(p).unwrap().payload().to_vec())
        .collect();
    std::fs::write(&raw, &bytes).unwrap();
    let out = dir.0.join("file.s16le");
    let st = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "g722",
            "-i",
        ])
        .arg(&raw)
        .args(["-f", "s16le"])
        .arg(&out)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let theirs_file = read_s16le(&out);
    assert_eq!(theirs_rtp.len(), theirs_file.len());
    assert!(theirs_rtp == theirs_file, "RTP and file decodes differ");
    assert!(
        our_decode(codec, &pkts) == theirs_file,
        "our G.722 decode differs"
    );
    assert_eq!(theirs_file.len(), pkts.len() * 320);
}

#[test]
fn ffmpeg_decodes_opus_with_high_correlation() {
    if !have_ffmpeg() {
        eprintln!("ffmpeg not installed: skipped");
        return;
    }
    let codec = CodecInfo::new(CodecKind::Opus, 48000, 2)
        .unwrap()
        .with_channels(1)
        .unwrap();
    let settings = EncoderSettings {
        bitrate: 32_000,
        fec: true,
        packet_loss_percent: 5,
        ..EncoderSettings::default()
    };
    let (pkts, la) = sender_packets(codec, 111, settings);
    let theirs = ffmpeg_receive(
        "opus",
        &sdp(
            111,
            "opus/48000/2",
            "a=fmtp:111 minptime=10;useinbandfec=1\r\na=ptime:20\r\n",
        ),
        &pkts,
        48000,
    );
    let input = s16le(SPEECH_48K);
    let dec: Vec<f32> = theirs.iter().map(|&s| i16_to_f32(s)).collect();
    assert!(
        dec.len() + 2000 >= input.len(),
        "ffmpeg decoded {} of {}",
        dec.len(),
        input.len()
    );
    // ffmpeg may or may not skip the encoder delay: search 0..2×lookahead.
    let (mut best, mut lag) = (-1.0f64, 0usize);
    for l in 0..2 * la + 8 {
        let n = input.len().min(dec.len().saturating_sub(l));
        let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
        for (&x, &y) in input[..n].iter().zip(&dec[l..l + n]) {
            ab += x as f64 * y as f64;
            aa += x as f64 * x as f64;
            bb += y as f64 * y as f64;
        }
        let c = ab / (aa * bb).sqrt().max(1e-12);
        if c > best {
            (best, lag) = (c, l);
        }
    }
    println!("ffmpeg opus: ncc {best:.4} at lag {lag} (lookahead {la})");
    assert!(best > 0.94, "ncc {best}");
}
