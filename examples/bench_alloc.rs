//! Allocations per render quantum in steady state, counted by a
//! `#[global_allocator]` wrapper, natively and in wasm (Node): for `scripts/bench.sh`.
//!
//! Each case streams 60 s of speech in 20 ms RTP packets through 40 ms
//! (p95) jitter, 5 % bursty loss and 2 % reordering into a `Receiver`
//! rendering 128-frame quanta (the AudioWorklet's); after 2 s of warm-up
//! every allocation made inside `push` and inside `render` is counted
//! (the network simulation and encoding happen before). Must be 0.
//! (`tests/receiver_alloc.rs` asserts the same over more situations.)
//!
//! `cargo run --release --example bench_alloc` prints JSON; the wasm build
//! exports `run()` returning the same JSON.

use voxlet::codec::CodecKind;
use voxlet::{Receiver, ReceiverConfig};
use voxlet_support::streams::bench as bench_stream;
use voxlet_support::{counted, CountingAlloc};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const QUANTUM: usize = 128;
const SECONDS: usize = 60;

/// (name, quanta counted, allocations in render, allocations in push)
fn case(name: &str, kind: CodecKind, out_rate: u32, out_ch: u16) -> String {
    let bench_stream::Stream { reg, arrivals } = bench_stream::impaired(kind, SECONDS);
    // Construction allocates (everything is sized here): counted to show
    // the counter works.
    let (rx, new_allocs) = counted(|| {
        Receiver::new(ReceiverConfig {
            registry: reg,
            output_rate: out_rate,
            output_channels: out_ch,
            ..ReceiverConfig::default()
        })
    });
    let mut rx = rx.expect("receiver");
    let mut block = vec![0f32; QUANTUM * out_ch as usize];
    let (mut i, mut n, mut quanta) = (0, 0u64, 0u64);
    let (mut render_allocs, mut push_allocs) = (0u64, 0u64);
    let mut t = 0.0;
    while t < SECONDS as f64 * 1000.0 {
        let steady = t >= 2000.0;
        while i < arrivals.len() && arrivals[i].arrival_ms <= t {
            let (_, a) = counted(|| rx.push(&arrivals[i].bytes, arrivals[i].arrival_ms));
            if steady {
                push_allocs += a;
            }
            i += 1;
        }
        let (_, a) = counted(|| rx.render(&mut block, t));
        if steady {
            render_allocs += a;
            quanta += 1;
        }
        n += QUANTUM as u64;
        t = n as f64 * 1000.0 / out_rate as f64;
    }
    format!(
        "{{\"case\": \"{name}\", \"quanta\": {quanta}, \"render_allocs\": {render_allocs}, \"push_allocs\": {push_allocs}, \"new_allocs\": {new_allocs}}}"
    )
}

/// All cases as a JSON array.
pub fn run_all() -> String {
    let rows = [
        case("PCMU → 48 kHz mono", CodecKind::Pcmu, 48000, 1),
        case("G.722 → 44.1 kHz stereo", CodecKind::G722, 44100, 2),
        case("Opus → 48 kHz mono", CodecKind::Opus, 48000, 1),
    ];
    format!("[{}]", rows.join(", "))
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    println!("{}", run_all());
}

#[cfg(target_arch = "wasm32")]
fn main() {}

/// The same JSON, from wasm.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn run() -> String {
    run_all()
}
