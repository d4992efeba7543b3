//! Streams a raw audio file as RTP over UDP with the paced Sender, in real
//! time, and prints the SDP a receiver needs (e.g. `ffplay -protocol_whitelist
//! file,udp,rtp -i stream.sdp`).
//!
//! ```text
//! cargo run --release --example send -- FILE.s16le RATE HOST:PORT [pcmu|pcma|g722|opus]
//! cargo run --release --example send -- tests/fixtures/speech_48k.s16le 48000 127.0.0.1:5004 opus
//! ```
//!
//! FILE is mono signed 16-bit little-endian PCM at RATE Hz. DTMF "123" is
//! sent after the first second to show telephone-event on PT 101.

use std::net::UdpSocket;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use voxlet::sender::Pacing;
use voxlet::{CodecInfo, CodecKind, Sender, SenderConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: send FILE.s16le RATE HOST:PORT [pcmu|pcma|g722|opus]");
        std::process::exit(2);
    }
    let bytes = std::fs::read(&args[1]).expect("read input file");
    let rate: u32 = args[2].parse().expect("RATE");
    let dest = &args[3];
    let codec_name = args.get(4).map_or("pcmu", String::as_str);
    let (codec, pt, rtpmap) = match codec_name {
        "pcma" => (CodecInfo::new(CodecKind::Pcma, 8000, 1), 8, "PCMA/8000"),
        "g722" => (CodecInfo::new(CodecKind::G722, 8000, 1), 9, "G722/8000"),
        "opus" => (
            CodecInfo::new(CodecKind::Opus, 48000, 2).and_then(|c| c.with_channels(1)),
            111,
            "opus/48000/2",
        ),
        _ => (CodecInfo::new(CodecKind::Pcmu, 8000, 1), 0, "PCMU/8000"),
    };
    let codec = codec.expect("codec");
    let pcm: Vec<f32> = bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0)
        .collect();

    let mut cfg = SenderConfig::new(codec, pt);
    cfg.input_rate = rate;
    cfg.input_channels = 1;
    cfg.pacing = Pacing::Paced;
    cfg.dtmf_payload_type = Some(101);
    cfg.rtcp_interval_ms = 1000;
    cfg.seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut tx = Sender::new(cfg).expect("sender config");

    let port: u16 = dest
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("HOST:PORT");
    let host = dest.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
    println!(
        "v=0\no=- 0 0 IN IP4 {host}\ns=voxlet\nc=IN IP4 {host}\nt=0 0\n\
         m=audio {port} RTP/AVP {pt} 101\na=rtpmap:{pt} {rtpmap}\n\
         a=rtpmap:101 telephone-event/{}\na=fmtp:101 0-15\n",
        codec.clock_rate
    );
    let sock = UdpSocket::bind("0.0.0.0:0").expect("bind");
    let rtcp_dest = format!("{host}:{}", port + 1);

    let start = Instant::now();
    let now_ms = || start.elapsed().as_secs_f64() * 1000.0;
    let unix_ms = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let mut pos = 0;
    let mut flushed = false;
    let mut dtmf_sent = false;
    let (mut packets, mut bytes_out) = (0u64, 0u64);
    loop {
        let now = now_ms();
        if pos < pcm.len() {
            pos += tx.push_audio(&pcm[pos..], now).expect("push");
        } else if !flushed {
            flushed = tx.flush(now).is_ok();
        }
        if !dtmf_sent && now >= 1000.0 {
            for d in ['1', '2', '3'] {
                tx.send_dtmf(d, 120, 10).expect("dtmf");
            }
            dtmf_sent = true;
        }
        while let Some(p) = tx.poll_packet(now) {
            packets += 1;
            bytes_out += p.len() as u64;
            let _ = sock.send_to(p, dest);
        }
        if let Some(r) = tx.poll_rtcp(now, unix_ms()) {
            let _ = sock.send_to(r, &rtcp_dest);
        }
        if flushed && tx.is_drained() {
            break;
        }
        let wait = tx.next_due_ms().map_or(5.0, |t| (t - now).clamp(1.0, 5.0));
        std::thread::sleep(Duration::from_secs_f64(wait / 1000.0));
    }
    eprintln!(
        "sent {packets} packets, {bytes_out} bytes in {:.1} s; {:?}",
        start.elapsed().as_secs_f64(),
        tx.stats()
    );
}
