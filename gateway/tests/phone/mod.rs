//! A real SIP phone for the gateway's SIP tests: Debian's `baresip` in a
//! temporary config directory on loopback (auto-answer or not), playing a
//! tone file through `aufile` and recording what it hears with `sndfile`,
//! driven through its console (`menu` module) and watched through its log;
//! plus the WAV and tone-detection helpers the tests check audio with.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// Tone baresip plays, Hz.
pub const FROM_PHONE_HZ: f32 = 1000.0;
/// Tone the browser side sends, Hz.
pub const FROM_BROWSER_HZ: f32 = 600.0;
/// Bound for waits on baresip (it is a separate process on a busy machine).
pub const PHONE_T: Duration = Duration::from_secs(15);

/// A running baresip with its own config directory.
pub struct Baresip {
    child: Child,
    stdin: tokio::process::ChildStdin,
    log: Arc<Mutex<String>>,
    dir: PathBuf,
    /// Its SIP port on 127.0.0.1.
    pub port: u16,
}

/// A loopback port free right now for UDP and TCP, with the next one free
/// for TCP (baresip listens on UDP, TCP and TLS on port + 1). Another test
/// may still take it before baresip binds: [`Baresip::start`] retries.
pub fn free_udp_port() -> u16 {
    for _ in 0..100 {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = s.local_addr().unwrap().port();
        if port < u16::MAX
            && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok()
        {
            return port;
        }
    }
    panic!("no free port");
}

/// Writes a mono 16-bit WAV file.
pub fn write_wav(path: &Path, rate: u32, samples: &[f32]) {
    let data_len = (samples.len() * 2) as u32;
    let mut v = Vec::with_capacity(44 + data_len as usize);
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data_len).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * 2).to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        v.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes());
    }
    std::fs::write(path, v).unwrap();
}

/// Reads the samples (first channel) and rate of a 16-bit PCM WAV file.
pub fn read_wav(path: &Path) -> (u32, Vec<f32>) {
    let b = std::fs::read(path).unwrap();
    assert!(b.len() >= 12 && &b[..4] == b"RIFF", "{path:?} is not a WAV");
    let mut i = 12;
    let (mut rate, mut channels) = (0u32, 1usize);
    while i + 8 <= b.len() {
        let id = &b[i..i + 4];
        let len = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        let body = &b[i + 8..(i + 8 + len).min(b.len())];
        if id == b"fmt " {
            channels = u16::from_le_bytes([body[2], body[3]]) as usize;
            rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
        } else if id == b"data" {
            let s = body
                .chunks_exact(2 * channels)
                .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0)
                .collect();
            return (rate, s);
        }
        i += 8 + len + (len & 1);
    }
    panic!("{path:?} has no data chunk");
}

pub fn tone(hz: f32, rate: u32, secs: f32, amp: f32) -> Vec<f32> {
    (0..(rate as f32 * secs) as usize)
        .map(|n| amp * (2.0 * std::f32::consts::PI * hz * n as f32 / rate as f32).sin())
        .collect()
}

/// Power at `hz` (Goertzel), per sample.
pub fn goertzel(x: &[f32], rate: u32, hz: f32) -> f32 {
    let w = 2.0 * std::f32::consts::PI * hz / rate as f32;
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &v in x {
        let s0 = v + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - c * s1 * s2) / (x.len() as f32).powi(2)
}

/// Whether `x` holds a clear tone at `hz`: its power beats every other
/// probe frequency (including the other direction's tone) by 10x, and the
/// signal is not near silence.
pub fn has_tone(x: &[f32], rate: u32, hz: f32) -> Result<(), String> {
    let rms = (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt();
    if rms < 0.01 {
        return Err(format!(
            "near silence (rms {rms:.4}) over {} samples",
            x.len()
        ));
    }
    let target = goertzel(x, rate, hz);
    for other in [
        300.0,
        450.0,
        FROM_BROWSER_HZ,
        800.0,
        FROM_PHONE_HZ,
        1400.0,
        2000.0,
    ] {
        if (other - hz).abs() < 1.0 {
            continue;
        }
        let p = goertzel(x, rate, other);
        if p * 10.0 > target {
            return Err(format!(
                "{hz} Hz power {target:.2e} does not dominate {other} Hz ({p:.2e}); rms {rms:.3}"
            ));
        }
    }
    Ok(())
}

impl Baresip {
    /// Starts baresip on a free loopback port, auto-answering (`answer`) or
    /// not, playing `FROM_PHONE_HZ`; `codecs` is its `audio_codecs` account
    /// list. Retries on another port when one was taken meanwhile.
    pub async fn start(codecs: Option<&str>, answer: bool) -> Baresip {
        for _ in 0..4 {
            match Baresip::try_start(codecs, answer).await {
                Ok(b) => return b,
                Err(log) if log.contains("Address already in use") => continue,
                Err(log) => panic!("baresip did not start; its log:\n{log}"),
            }
        }
        panic!("baresip found no free port in 4 tries");
    }

    async fn try_start(codecs: Option<&str>, answer: bool) -> Result<Baresip, String> {
        if Command::new("baresip").arg("-h").output().await.is_err() {
            panic!("baresip is not installed: run scripts/setup.sh (apt-get install baresip-core)");
        }
        let dir = std::env::temp_dir().join(format!(
            "voxlet-baresip-{}-{}",
            std::process::id(),
            free_udp_port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("rec")).unwrap();
        write_wav(
            &dir.join("tone.wav"),
            48000,
            &tone(FROM_PHONE_HZ, 48000, 30.0, 0.4),
        );
        let port = free_udp_port();
        let config = format!(
            "poll_method epoll\n\
             sip_listen 127.0.0.1:{port}\n\
             net_interface 127.0.0.1\n\
             audio_source aufile,{tone}\n\
             audio_alert aufile,{tone}\n\
             ausrc_srate 48000\n\
             auplay_srate 48000\n\
             rtp_ports 30000-39998\n\
             module_path /usr/lib/baresip/modules\n\
             module stdio.so\n\
             module g711.so\n\
             module g722.so\n\
             module opus.so\n\
             module aufile.so\n\
             module sndfile.so\n\
             module_app account.so\n\
             module_app menu.so\n\
             snd_path {rec}\n\
             opus_stereo no\n\
             opus_sprop_stereo no\n",
            tone = dir.join("tone.wav").display(),
            rec = dir.join("rec").display(),
        );
        std::fs::write(dir.join("config"), config).unwrap();
        std::fs::write(
            dir.join("accounts"),
            format!(
                "<sip:bob@127.0.0.1:{port}>;regint=0;answermode={}{}\n",
                if answer { "auto" } else { "manual" },
                codecs
                    .map(|c| format!(";audio_codecs={c}"))
                    .unwrap_or_default()
            ),
        )
        .unwrap();
        std::fs::write(dir.join("contacts"), "").unwrap();
        let mut child = Command::new("baresip")
            .arg("-f")
            .arg(&dir)
            .arg("-4")
            .arg("-v")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("baresip starts");
        let log = Arc::new(Mutex::new(String::new()));
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(out).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    let mut g = log.lock().unwrap();
                    g.push_str(&l);
                    g.push('\n');
                }
            });
        }
        let stdin = child.stdin.take().unwrap();
        let mut b = Baresip {
            child,
            stdin,
            log,
            dir,
            port,
        };
        let end = Instant::now() + PHONE_T;
        loop {
            let l = b.log();
            if l.contains("baresip is ready") {
                return Ok(b);
            }
            if Instant::now() > end || matches!(b.child.try_wait(), Ok(Some(_))) {
                // Let the log readers catch up with the exit.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Err(b.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until baresip's log contains `what` (bounded); returns the log.
    pub async fn wait_log(&mut self, what: &str) -> String {
        let end = Instant::now() + PHONE_T;
        loop {
            let l = self.log();
            if l.contains(what) {
                return l;
            }
            if Instant::now() > end {
                panic!("baresip never logged {what:?}; its log:\n{l}");
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("baresip exited ({st}) before logging {what:?}; its log:\n{l}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types a command into baresip's console (menu module).
    pub async fn command(&mut self, cmd: &str) {
        self.stdin.write_all(cmd.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    pub fn uri(&self) -> String {
        format!("sip:bob@127.0.0.1:{}", self.port)
    }

    /// The recording of what baresip heard (decoded audio), once its call
    /// has terminated: sndfile completes the WAV header only then (read
    /// earlier, the data chunk can still say 0 samples).
    pub async fn heard(&mut self) -> (u32, Vec<f32>) {
        self.wait_log("terminated").await;
        let files: Vec<PathBuf> = std::fs::read_dir(self.dir.join("rec"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .collect();
        assert_eq!(files.len(), 1, "one decoded recording: {files:?}");
        read_wav(&files[0])
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
