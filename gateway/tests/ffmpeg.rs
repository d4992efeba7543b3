//! ffmpeg as a real RTP peer: `ffmpeg -re ... -c:a pcm_mulaw -f rtp` sends
//! the speech fixture into the gateway's UDP side (peer `udp:` configured);
//! a WebSocket client receives every packet, in sequence (across the
//! 16-bit wrap), and voxlet's decoder turns it back into the speech.
//! Skipped, with a message, when ffmpeg is not installed.

mod common;
use common::*;

use std::process::Stdio;
use std::time::{Duration, Instant};

use voxlet::codec::parse_rtpmap;
use voxlet::rtp::RtpPacket;
use voxlet_support::signal::{rms, s16le_f32, snr_db};

fn have_ffmpeg() -> bool {
    std::process::Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test]
async fn ffmpeg_rtp_into_udp_side_reaches_websocket() {
    init_log();
    if !have_ffmpeg() {
        eprintln!("SKIPPED: ffmpeg not installed");
        return;
    }
    // ffmpeg's local ports (it binds them itself): reserve, then free.
    let (a, b) = udp_pair().await;
    let ff_port = a.local_addr().unwrap().port();
    drop((a, b));
    let srv = start(config(&[&format!("sip=udp:127.0.0.1:{ff_port}")])).await;
    let mut c = connect(&srv).await;
    let ans = c.hello(hello_pcmu("sip")).await;
    let gw = ans["local_rtp_port"].as_u64().unwrap() as u16;

    const SECS: u32 = 3;
    let url = format!(
        "rtp://127.0.0.1:{gw}?pkt_size=172&localrtpport={ff_port}&localrtcpport={}",
        ff_port + 1
    );
    let input = fixtures().join("speech_8k.s16le");
    let t0 = Instant::now();
    let mut child = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-re"])
        .args(["-f", "s16le", "-ar", "8000", "-ac", "1", "-i"])
        .arg(&input)
        .args(["-t", &SECS.to_string(), "-c:a", "pcm_mulaw"])
        .args(["-f", "rtp", "-seq", "65500", "-ssrc", "287454020"])
        .arg(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn ffmpeg");
    let frames = c
        .collect_bin(Duration::from_millis(SECS as u64 * 1000 + 700))
        .await;
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("ffmpeg ends in time")
        .unwrap();
    assert!(status.success(), "ffmpeg failed: {status}");
    let (rtcp, rtp): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
        frames.into_iter().map(|f| f.1).partition(|p| p[1] == 200);
    eprintln!(
        "ffmpeg → gateway → WebSocket: {} RTP + {} RTCP packets in {:.2} s",
        rtp.len(),
        rtcp.len(),
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(rtp.len(), (SECS * 50) as usize, "every 20 ms packet");
    assert!(
        !rtcp.is_empty(),
        "ffmpeg's sender report (to RTP port + 1) reaches the browser"
    );
    let seqs: Vec<u16> = rtp.iter().map(|p| seq_of(p)).collect();
    assert_eq!(seqs[0], 65500);
    for (w, p) in seqs.windows(2).zip(rtp.windows(2)) {
        assert_eq!(w[1], w[0].wrapping_add(1), "continuous seq across the wrap");
        assert_eq!(ts_of(&p[1][..]), ts_of(&p[0][..]).wrapping_add(160));
    }
    assert!(rtp
        .iter()
        .all(|p| p[1] & 0x7f == 0 && ssrc_of(p) == 287454020));

    let info = parse_rtpmap("PCMU/8000").unwrap();
    let mut dec = info.decoder().unwrap();
    let mut out = vec![0f32; dec.max_frames()];
    let mut pcm = Vec::new();
    for p in &rtp {
        let n = dec
            .decode(RtpPacket::parse(p).unwrap().payload(), &mut out)
            .unwrap();
        pcm.extend_from_slice(&out[..n]);
    }
    let raw = std::fs::read(&input).unwrap();
    let snr = snr_db(&s16le_f32(&raw), &pcm);
    eprintln!(
        "decoded: rms {:.3}, SNR vs the fixture {snr:.1} dB",
        rms(&pcm)
    );
    assert!(rms(&pcm) > 0.02, "speech energy");
    assert!(snr > 30.0, "μ-law of the fixture: {snr:.1} dB");
}
