//! Load generator for the gateway, loopback only: `--sessions` concurrent
//! WebSocket sessions to the `echo` peer, each sending `--rate` RTP packets
//! per second for `--duration` seconds, counting what comes back. Reports
//! packet loss, echo latency (p50 / p90 / p99 / max, from a send timestamp
//! carried in each payload), and — with `--gateway-pid` — the gateway's CPU
//! (from /proc/PID/stat) and memory (VmRSS / VmHWM from /proc/PID/status).
//!
//! Bounded and self-stopping: connections are spread over `--ramp-ms`,
//! sending stops after `--duration`, echoes are awaited `--drain-ms` more,
//! every session hangs up, and a hard deadline (duration + 60 s) exits the
//! process whatever happens. Refuses non-loopback URLs.
//!
//! `bash scripts/load.sh` starts a gateway on 127.0.0.1 and runs this.
//!
//! ```text
//! cargo run --release -p voxlet-gateway --example load -- \
//!     --url ws://127.0.0.1:8080/ws --sessions 200 --duration 60 --gateway-pid PID
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use voxlet::rtp::{RtpHeader, RtpPacket};

#[derive(Parser, Debug, Clone)]
#[command(about = "WebSocket load against a voxlet gateway's echo peer (loopback only)")]
struct Args {
    /// The gateway's WebSocket URL (loopback only).
    #[arg(long, default_value = "ws://127.0.0.1:8080/ws")]
    url: String,
    /// Concurrent sessions.
    #[arg(long, default_value_t = 200)]
    sessions: usize,
    /// Seconds of sending per session.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// RTP packets per second per session.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Payload bytes per packet (160 = 20 ms of PCMU).
    #[arg(long, default_value_t = 160)]
    payload: usize,
    /// Connections are spread over this many ms.
    #[arg(long, default_value_t = 2000)]
    ramp_ms: u64,
    /// After sending stops, wait this long for the last echoes.
    #[arg(long, default_value_t = 2000)]
    drain_ms: u64,
    /// The gateway's PID, for its CPU and memory.
    #[arg(long)]
    gateway_pid: Option<u32>,
    /// Clock ticks per second of /proc/PID/stat (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
    /// Also print the summary as one JSON line.
    #[arg(long)]
    json: bool,
}

type Rx = futures_util::stream::SplitStream<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
>;

/// What a session's reader saw.
#[derive(Default)]
struct Echoes {
    received: u64,
    duplicates: u64,
    foreign: u64,
    warnings: u64,
    latencies_us: Vec<u32>,
    rx: Option<Rx>,
}

#[derive(Default)]
struct SessionResult {
    connected: bool,
    error: Option<String>,
    sent: u64,
    received: u64,
    duplicates: u64,
    foreign: u64,
    warnings: u64,
    latencies_us: Vec<u32>,
}

/// Nanoseconds since the run's epoch, carried in the first 8 payload bytes.
fn stamp(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

async fn session(
    i: usize,
    a: Arc<Args>,
    epoch: Instant,
    start: Instant,
    stop: Instant,
) -> SessionResult {
    let mut r = SessionResult::default();
    tokio::time::sleep_until(start.into()).await;
    let conn = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(a.url.as_str()),
    )
    .await;
    let ws = match conn {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => {
            r.error = Some(format!("connect: {e}"));
            return r;
        }
        Err(_) => {
            r.error = Some("connect timeout".into());
            return r;
        }
    };
    let (mut tx, mut rx) = ws.split();
    let hello = json!({"type": "hello", "id": 1, "peer": "echo",
        "codecs": [{"pt": 0, "rtpmap": "PCMU/8000"}], "ptime": 20});
    if tx
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        r.error = Some("send hello".into());
        return r;
    }
    // Wait for the answer.
    let answered = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(m)) = rx.next().await {
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                match v["type"].as_str() {
                    Some("answer") => return Ok(()),
                    Some("error") => return Err(format!("hello refused: {v}")),
                    _ => {}
                }
            }
        }
        Err("closed before answer".to_string())
    })
    .await;
    match answered {
        Ok(Ok(())) => r.connected = true,
        Ok(Err(e)) => {
            r.error = Some(e);
            return r;
        }
        Err(_) => {
            r.error = Some("answer timeout".into());
            return r;
        }
    }

    let ssrc = 0x1000_0000 + i as u32;
    let total = (a.duration * a.rate as u64) as usize;
    // Reader: counts echoes by sequence number, measures latency.
    let drain = Duration::from_millis(a.drain_ms);
    let reader = tokio::spawn(async move {
        let mut seen = vec![false; total + 1];
        let mut e = Echoes {
            latencies_us: Vec::with_capacity(total),
            ..Echoes::default()
        };
        let end = stop + drain;
        loop {
            let m = match tokio::time::timeout_at(end.into(), rx.next()).await {
                Ok(Some(Ok(m))) => m,
                _ => break,
            };
            match m {
                Message::Binary(b) => {
                    let now = stamp(epoch);
                    let Ok(p) = RtpPacket::parse(&b) else {
                        e.foreign += 1;
                        continue;
                    };
                    let pl = p.payload();
                    if p.ssrc() != ssrc || pl.len() < 12 {
                        e.foreign += 1;
                        continue;
                    }
                    let n = u32::from_le_bytes(pl[8..12].try_into().unwrap_or_default()) as usize;
                    let sent = u64::from_le_bytes(pl[..8].try_into().unwrap_or_default());
                    match seen.get_mut(n) {
                        Some(s) if !*s => {
                            *s = true;
                            e.received += 1;
                            let us = now.saturating_sub(sent) / 1000;
                            e.latencies_us.push(us.min(u32::MAX as u64) as u32);
                        }
                        Some(_) => e.duplicates += 1,
                        None => e.foreign += 1,
                    }
                }
                Message::Text(t)
                    if t.as_str().contains("\"warning\"") || t.as_str().contains("\"error\"") =>
                {
                    e.warnings += 1;
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        e.rx = Some(rx);
        e
    });

    // Writer: `rate` packets per second until `stop`.
    let period = Duration::from_secs_f64(1.0 / a.rate.max(1) as f64);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut payload = vec![0x7Fu8; a.payload.max(12)];
    let mut buf = vec![0u8; payload.len() + 12];
    let ticks = (8000 / a.rate.max(1)).max(1);
    let mut n = 0usize;
    while n < total && Instant::now() < stop {
        tick.tick().await;
        payload[..8].copy_from_slice(&stamp(epoch).to_le_bytes());
        payload[8..12].copy_from_slice(&(n as u32).to_le_bytes());
        let h = RtpHeader {
            payload_type: 0,
            sequence: n as u16,
            timestamp: n as u32 * ticks,
            ssrc,
            ..RtpHeader::default()
        };
        let Ok(len) = h.write(&payload, &mut buf) else {
            break;
        };
        if tx
            .send(Message::Binary(buf[..len].to_vec().into()))
            .await
            .is_err()
        {
            r.error = Some("send failed".into());
            break;
        }
        n += 1;
    }
    r.sent = n as u64;
    let e = reader.await.unwrap_or_default();
    r.received = e.received;
    r.duplicates = e.duplicates;
    r.foreign = e.foreign;
    r.warnings = e.warnings;
    r.latencies_us = e.latencies_us;
    let _ = tx
        .send(Message::Text(json!({"type": "hangup"}).to_string().into()))
        .await;
    if let Some(rx) = e.rx {
        if let Ok(mut ws) = tx.reunite(rx) {
            let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
        }
    }
    r
}

/// (utime + stime ticks) of a process.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// (VmRSS, VmHWM) in KiB.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let get = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((get("VmRSS:")?, get("VmHWM:")?))
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let args = Args::parse();
    let host = args
        .url
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', ':']).next())
        .unwrap_or("");
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        eprintln!("load: refusing non-loopback URL {}", args.url);
        std::process::exit(2);
    }
    // Hard stop whatever happens.
    let hard = Duration::from_secs(args.duration + 60)
        + Duration::from_millis(args.ramp_ms + args.drain_ms);
    std::thread::spawn(move || {
        std::thread::sleep(hard);
        eprintln!("load: hard deadline reached, exiting");
        std::process::exit(3);
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(Arc::new(args)));
}

async fn run(a: Arc<Args>) {
    let epoch = Instant::now();
    let t0 = epoch + Duration::from_millis(200);
    let ramp = Duration::from_millis(a.ramp_ms);
    let steady_from = t0 + ramp;
    let stop = steady_from + Duration::from_secs(a.duration);
    // CPU/RSS sampler: once a second; the steady window is from the end of
    // the ramp to the end of sending.
    let pid = a.gateway_pid;
    let clk = a.clk_tck as f64;
    let sampler = tokio::spawn(async move {
        let mut rss_max = 0u64;
        let mut samples = Vec::new();
        let mut start_cpu = None;
        let (mut end_cpu, mut end_t) = (None, steady_from);
        let mut me_start = None;
        let mut me_end = None;
        let mut rss_start = 0;
        let mut iv = tokio::time::interval(Duration::from_millis(500));
        loop {
            iv.tick().await;
            let now = Instant::now();
            if let Some(pid) = pid {
                if let Some((rss, _)) = memory_kib(pid) {
                    rss_max = rss_max.max(rss);
                    samples.push(rss);
                }
                if now >= steady_from && start_cpu.is_none() {
                    start_cpu = cpu_ticks(pid).map(|c| (c, now));
                    rss_start = memory_kib(pid).map(|m| m.0).unwrap_or(0);
                }
                if now <= stop {
                    end_cpu = cpu_ticks(pid);
                    end_t = now;
                }
            }
            let me = cpu_ticks(std::process::id());
            if now >= steady_from && me_start.is_none() {
                me_start = me.map(|c| (c, now));
            }
            if now <= stop {
                me_end = me.map(|c| (c, now));
            }
            if now > stop + Duration::from_millis(500) {
                break;
            }
        }
        let gw_cpu = match (start_cpu, end_cpu) {
            (Some((c0, t0)), Some(c1)) => {
                Some((c1 - c0) as f64 / clk / (end_t - t0).as_secs_f64().max(1e-3) * 100.0)
            }
            _ => None,
        };
        let me_cpu = match (me_start, me_end) {
            (Some((c0, t0)), Some((c1, t1))) => {
                Some((c1 - c0) as f64 / clk / (t1 - t0).as_secs_f64().max(1e-3) * 100.0)
            }
            _ => None,
        };
        let hwm = pid.and_then(memory_kib).map(|m| m.1).unwrap_or(0);
        (
            gw_cpu,
            me_cpu,
            rss_start,
            rss_max,
            hwm,
            samples.last().copied().unwrap_or(0),
        )
    });
    let mut tasks = Vec::new();
    for i in 0..a.sessions {
        let start = t0 + ramp.mul_f64(i as f64 / a.sessions.max(1) as f64);
        tasks.push(tokio::spawn(session(i, a.clone(), epoch, start, stop)));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap_or_default());
    }
    let (gw_cpu, me_cpu, rss_start, rss_max, hwm, rss_end) = sampler.await.unwrap_or_default();

    let connected = results.iter().filter(|r| r.connected).count();
    let sent: u64 = results.iter().map(|r| r.sent).sum();
    let received: u64 = results.iter().map(|r| r.received).sum();
    let dups: u64 = results.iter().map(|r| r.duplicates).sum();
    let foreign: u64 = results.iter().map(|r| r.foreign).sum();
    let warnings: u64 = results.iter().map(|r| r.warnings).sum();
    let mut errors: Vec<String> = results.iter().filter_map(|r| r.error.clone()).collect();
    errors.sort();
    errors.dedup();
    let mut lat: Vec<u32> = results.into_iter().flat_map(|r| r.latencies_us).collect();
    lat.sort_unstable();
    let loss = if sent > 0 {
        (sent - received.min(sent)) as f64 / sent as f64 * 100.0
    } else {
        f64::NAN
    };
    let expected = a.sessions as u64 * a.duration * a.rate as u64;
    println!(
        "sessions: {connected}/{} connected, {} s at {} packets/s each ({} B payload), ramp {} ms",
        a.sessions, a.duration, a.rate, a.payload, a.ramp_ms
    );
    println!(
        "packets: sent {sent} (of {expected} scheduled), echoed {received}, lost {} ({loss:.4} %), \
         duplicates {dups}, foreign {foreign}, gateway warnings/errors {warnings}",
        sent - received.min(sent)
    );
    println!(
        "echo latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
        pct(&lat, 0.5),
        pct(&lat, 0.9),
        pct(&lat, 0.99),
        pct(&lat, 1.0),
        lat.len()
    );
    if pid.is_some() {
        println!(
            "gateway: CPU {:.1} % of one core (steady window), RSS {} KiB at steady start, \
             {} KiB at end, max {} KiB (VmHWM {} KiB)",
            gw_cpu.unwrap_or(f64::NAN),
            rss_start,
            rss_end,
            rss_max,
            hwm
        );
    }
    println!(
        "load generator: CPU {:.1} % of one core",
        me_cpu.unwrap_or(f64::NAN)
    );
    if !errors.is_empty() {
        println!("session errors: {}", errors.join("; "));
    }
    if a.json {
        println!(
            "{}",
            json!({
                "sessions": a.sessions, "connected": connected, "duration_s": a.duration,
                "rate": a.rate, "sent": sent, "received": received, "loss_pct": loss,
                "duplicates": dups, "foreign": foreign, "warnings": warnings,
                "latency_ms": {"p50": pct(&lat, 0.5), "p90": pct(&lat, 0.9),
                               "p99": pct(&lat, 0.99), "max": pct(&lat, 1.0)},
                "gateway_cpu_pct": gw_cpu, "gateway_rss_kib": {"start": rss_start, "end": rss_end,
                "max": rss_max, "hwm": hwm}, "client_cpu_pct": me_cpu, "errors": errors,
            })
        );
    }
}
