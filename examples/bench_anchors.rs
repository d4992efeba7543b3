//! The voxlet side of `scripts/bench.sh`: the same work natively and in
//! wasm (Node), timed the same way, so the anchors measured by
//! `bench/anchors.mjs` (npm `opus-decoder`, `alawmulaw`) and ffmpeg can be
//! compared in one run.
//!
//! Every case is one *pass* over a fixed input (the speech fixtures in
//! 20 ms packets, or a 60 s impaired stream for the receive path); the
//! native `main` times passes itself, the wasm build exports a [`Bench`]
//! object whose methods each run one pass and JavaScript times them with
//! `performance.now()` / `process.cpuUsage()`.
//!
//! Timing is driven from outside, by `bench/ab.py`: `--serve` keeps this
//! process alive and runs `CASE PASSES` commands read from stdin, one line
//! each, answering `CPU_S WALL_S AUDIO_S`, so that the orchestrator can
//! alternate short rounds of native, wasm (bench/anchors.mjs, the same
//! protocol) and ffmpeg on the same inputs and report the median of
//! per-round ratios (figures measured minutes apart drift apart on a shared
//! machine; rounds measured back to back do not).
//!
//! The Opus packets are read from a file (`opus_script`: u16 LE length +
//! packet, repeated) that the native run writes first, so native, wasm and
//! `opus-decoder` decode byte-identical packets.
//!
//! ```text
//! cargo run --release --example bench_anchors -- OUT_DIR           # writes OUT_DIR/opus_packets.bin, rx_*.bin, rx_stats_native.json
//! cargo run --release --example bench_anchors -- --serve OUT_DIR   # times passes on request (bench/ab.py)
//! ```

use voxlet::codec::{CodecInfo, CodecKind, Decoder, Encoder, EncoderSettings};
use voxlet::receiver::ReceiverStats;
use voxlet::{Receiver, ReceiverConfig};
use voxlet_support::signal::s16le_f32 as pcm;
use voxlet_support::streams::bench::{
    self as bench_stream, Stream, SPEECH_16K, SPEECH_48K, SPEECH_8K,
};

static PCMU: &[u8] = include_bytes!("../tests/fixtures/pcmu.raw");
static PCMA: &[u8] = include_bytes!("../tests/fixtures/pcma.raw");
static G722: &[u8] = include_bytes!("../tests/fixtures/g722.raw");

/// Render quantum of the receive-path benchmark (the AudioWorklet's).
pub const QUANTUM: usize = 128;
/// Seconds of stream in one receive-path pass.
pub const STREAM_S: usize = 60;
/// G.711 passes go over their input this many times, so one pass is long
/// enough (~1 ms) for the timer and the JS call overhead not to matter.
pub const G711_REPS: usize = 20;

fn info(kind: CodecKind) -> CodecInfo {
    match kind {
        CodecKind::Opus => CodecInfo::new(kind, 48000, 2).and_then(|i| i.with_channels(1)),
        k => CodecInfo::new(k, 8000, 1),
    }
    .expect("codec info")
}

/// Opus packets of the 48 kHz speech fixture: 20 ms, 32 kbit/s, VOIP,
/// complexity 9 (voxlet's defaults), as a length-prefixed script.
pub fn opus_script() -> Vec<u8> {
    let s48 = pcm(SPEECH_48K);
    let mut enc = info(CodecKind::Opus)
        .encoder(&EncoderSettings::default())
        .expect("encoder");
    let mut out = vec![0u8; 1500];
    let mut script = Vec::new();
    for f in s48.chunks_exact(960) {
        let n = enc.encode(f, &mut out).expect("encode");
        script.extend_from_slice(&(n as u16).to_le_bytes());
        script.extend_from_slice(&out[..n]);
    }
    script
}

fn parse_script(script: &[u8]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let mut s = script;
    while s.len() >= 2 {
        let n = u16::from_le_bytes([s[0], s[1]]) as usize;
        v.push(s[2..2 + n].to_vec());
        s = &s[2 + n..];
    }
    v
}

/// Everything one benchmark run needs, prepared before any timing.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen::prelude::wasm_bindgen)]
pub struct Bench {
    opus: Vec<Vec<u8>>,
    opus_dec: Box<dyn Decoder>,
    pcmu_dec: Box<dyn Decoder>,
    pcma_dec: Box<dyn Decoder>,
    g722_dec: Box<dyn Decoder>,
    pcmu_enc: Box<dyn Encoder>,
    pcma_enc: Box<dyn Encoder>,
    g722_enc: Box<dyn Encoder>,
    opus_enc: Box<dyn Encoder>,
    s8: Vec<f32>,
    s16: Vec<f32>,
    s48: Vec<f32>,
    out: Vec<f32>,
    bytes: Vec<u8>,
    streams: Vec<Stream>,
    block: Vec<f32>,
    sink: f32,
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen::prelude::wasm_bindgen)]
impl Bench {
    /// Prepares decoders, encoders, inputs and the impaired streams.
    #[cfg_attr(
        target_arch = "wasm32",
        wasm_bindgen::prelude::wasm_bindgen(constructor)
    )]
    pub fn new(opus_script: &[u8]) -> Bench {
        let dec = |k| info(k).decoder().expect("decoder");
        let enc = |k| {
            info(k)
                .encoder(&EncoderSettings::default())
                .expect("encoder")
        };
        Bench {
            opus: parse_script(opus_script),
            opus_dec: dec(CodecKind::Opus),
            pcmu_dec: dec(CodecKind::Pcmu),
            pcma_dec: dec(CodecKind::Pcma),
            g722_dec: dec(CodecKind::G722),
            pcmu_enc: enc(CodecKind::Pcmu),
            pcma_enc: enc(CodecKind::Pcma),
            g722_enc: enc(CodecKind::G722),
            opus_enc: enc(CodecKind::Opus),
            s8: pcm(SPEECH_8K),
            s16: pcm(SPEECH_16K),
            s48: pcm(SPEECH_48K),
            out: vec![0f32; 5760],
            bytes: vec![0u8; 4000],
            streams: [CodecKind::Pcmu, CodecKind::G722, CodecKind::Opus]
                .into_iter()
                .map(|k| bench_stream::impaired(k, STREAM_S))
                .collect(),
            block: vec![0f32; QUANTUM],
            sink: 0.0,
        }
    }

    /// Seconds of audio in one pass of `case` (see [`Bench::run`]).
    pub fn audio_seconds(&self, case: &str) -> f64 {
        match case {
            "opus_decode" => self.opus.len() as f64 * 0.02,
            "pcmu_decode" => (PCMU.len() / 160 * 160 * G711_REPS) as f64 / 8000.0,
            "pcma_decode" => (PCMA.len() / 160 * 160 * G711_REPS) as f64 / 8000.0,
            "g722_decode" => G722.len() as f64 / 8000.0,
            "pcmu_encode" | "pcma_encode" => {
                (self.s8.len() / 160 * 160 * G711_REPS) as f64 / 8000.0
            }
            "g722_encode" => (self.s16.len() / 320 * 320) as f64 / 16000.0,
            "opus_encode" => (self.s48.len() / 960 * 960) as f64 / 48000.0,
            c if c.starts_with("rx_") => STREAM_S as f64,
            _ => f64::NAN,
        }
    }

    /// One pass of `case`: `opus_{decode,encode}`,
    /// `{pcmu,pcma,g722}_{decode,encode}` (20 ms packets),
    /// `rx_{pcmu,g722,opus}` (receive path, 60 s). Opus encode uses the
    /// settings the packets were made with (32 kbit/s VOIP, complexity 9).
    pub fn run(&mut self, case: &str) {
        match case {
            "opus_decode" => {
                self.opus_dec.reset();
                for p in &self.opus {
                    let _ = self.opus_dec.decode(p, &mut self.out);
                }
            }
            "pcmu_decode" => {
                for _ in 0..G711_REPS {
                    decode(&mut *self.pcmu_dec, PCMU, 160, &mut self.out)
                }
            }
            "pcma_decode" => {
                for _ in 0..G711_REPS {
                    decode(&mut *self.pcma_dec, PCMA, 160, &mut self.out)
                }
            }
            "g722_decode" => decode(&mut *self.g722_dec, G722, 160, &mut self.out),
            "pcmu_encode" => {
                for _ in 0..G711_REPS {
                    encode(&mut *self.pcmu_enc, &self.s8, 160, &mut self.bytes)
                }
            }
            "pcma_encode" => {
                for _ in 0..G711_REPS {
                    encode(&mut *self.pcma_enc, &self.s8, 160, &mut self.bytes)
                }
            }
            "g722_encode" => encode(&mut *self.g722_enc, &self.s16, 320, &mut self.bytes),
            "opus_encode" => encode(&mut *self.opus_enc, &self.s48, 960, &mut self.bytes),
            "rx_pcmu" => drop(self.receive(0)),
            "rx_g722" => drop(self.receive(1)),
            "rx_opus" => drop(self.receive(2)),
            _ => panic!("unknown case {case}"),
        }
        self.sink += self.out[0];
    }

    /// One receive-path pass over stream `i`; returns the final stats.
    fn receive(&mut self, i: usize) -> ReceiverStats {
        let s = &self.streams[i];
        let mut rx = Receiver::new(ReceiverConfig {
            registry: s.reg.clone(),
            output_rate: 48000,
            output_channels: 1,
            ..ReceiverConfig::default()
        })
        .expect("receiver");
        let (mut k, mut n) = (0, 0u64);
        let end = STREAM_S as f64 * 1000.0;
        let mut t = 0.0;
        while t < end {
            while k < s.arrivals.len() && s.arrivals[k].arrival_ms <= t {
                let _ = rx.push(&s.arrivals[k].bytes, s.arrivals[k].arrival_ms);
                k += 1;
            }
            rx.render(&mut self.block, t);
            n += QUANTUM as u64;
            t = n as f64 * 1000.0 / 48000.0;
        }
        self.sink += self.block[0];
        rx.stats()
    }
}

fn decode(d: &mut dyn Decoder, bytes: &[u8], packet: usize, out: &mut [f32]) {
    d.reset();
    for p in bytes.chunks_exact(packet) {
        let _ = d.decode(p, out);
    }
}

fn encode(e: &mut dyn Encoder, pcm: &[f32], frame: usize, out: &mut [u8]) {
    e.reset();
    for f in pcm.chunks_exact(frame) {
        let _ = e.encode(f, out);
    }
}

/// Names of the receive-path streams (`Bench::streams`' order), with the
/// rtpmap each is sent under (payload type 96).
pub const RX_STREAMS: [&str; 3] = ["pcmu", "g722", "opus"];

/// CPU time of this process in seconds (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`,
/// ns resolution and exact for the running thread, unlike /proc/self/stat's
/// ticks). CPU rather than wall time: on a shared machine the wall clock
/// also counts the time other processes held the core.
#[cfg(not(target_arch = "wasm32"))]
fn cpu_s() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: a valid, writable timespec (64-bit Linux layout); libc is linked by std.
    assert_eq!(
        unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) },
        0
    );
    ts.sec as f64 + ts.nsec as f64 * 1e-9
}

/// `--serve`: answers `CASE PASSES` lines on stdin with `CPU_S WALL_S AUDIO_S`
/// for that many back-to-back passes (bench/ab.py drives it).
#[cfg(not(target_arch = "wasm32"))]
fn serve(dir: &str) {
    use std::io::{BufRead, Write};
    use std::time::Instant;
    let script = std::fs::read(format!("{dir}/opus_packets.bin"))
        .expect("read packets (run without --serve first)");
    let mut b = Bench::new(&script);
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let mut w = line.split_whitespace();
        let (Some(case), Some(n)) = (w.next(), w.next()) else {
            continue;
        };
        let n: u32 = n.parse().expect("passes");
        let (t0, c0) = (Instant::now(), cpu_s());
        for _ in 0..n {
            b.run(case);
        }
        let (c1, t1) = (cpu_s(), t0.elapsed().as_secs_f64());
        writeln!(
            out,
            "{:.9} {:.9} {}",
            c1 - c0,
            t1,
            b.audio_seconds(case) * n as f64
        )
        .expect("stdout");
        out.flush().expect("stdout");
    }
    eprintln!("(sink {})", b.sink);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--serve") {
        return serve(args.get(1).map(String::as_str).unwrap_or("target/bench"));
    }
    let dir = args
        .first()
        .cloned()
        .unwrap_or_else(|| "target/bench".into());
    std::fs::create_dir_all(&dir).expect("out dir");
    let script = opus_script();
    std::fs::write(format!("{dir}/opus_packets.bin"), &script).expect("write packets");
    let mut b = Bench::new(&script);
    // The impaired receive-path streams, for bench/worklet.mjs to replay
    // into the player worklet, with the stats of one native pass over each
    // (the worklet run must show the same packets, losses and concealment).
    let mut stats = Vec::new();
    for (i, name) in RX_STREAMS.iter().enumerate() {
        let mut f = Vec::new();
        for a in &b.streams[i].arrivals {
            f.extend_from_slice(&a.arrival_ms.to_le_bytes());
            f.extend_from_slice(&(a.bytes.len() as u16).to_le_bytes());
            f.extend_from_slice(&a.bytes);
        }
        std::fs::write(format!("{dir}/rx_{name}.bin"), f).expect("write stream");
        let s = b.receive(i);
        stats.push(format!(
            "\"rx_{name}\": {{\"packetsReceived\": {}, \"packetsLost\": {}, \"concealedSamples\": {}, \"packetsDiscarded\": {}, \"insertedSamplesForDeceleration\": {}, \"removedSamplesForAcceleration\": {}}}",
            s.packets_received,
            s.packets_lost,
            s.concealed_samples,
            s.packets_discarded,
            s.inserted_samples_for_deceleration,
            s.removed_samples_for_acceleration
        ));
    }
    std::fs::write(
        format!("{dir}/rx_stats_native.json"),
        format!("{{{}}}\n", stats.join(", ")),
    )
    .expect("write stats");
}

#[cfg(target_arch = "wasm32")]
fn main() {}
