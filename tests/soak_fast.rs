//! Memory over a fast-forward soak: 24 simulated hours per direction of
//! clock drift (±1000 ppm) with 40 ms (p95) jitter, 5 % bursty loss, 1 %
//! reordering and 0.5 % duplicates, PCMU rendered at 48 kHz in 128-frame
//! quanta (so the resampler runs too). `tests/receiver_soak.rs` already
//! proves the *buffer* stays bounded (level ≤ max delay at every block,
//! drift absorbed by time-stretching); this binary adds the *memory*
//! side with a counting `#[global_allocator]` (hence its own test binary):
//!
//! - bytes allocated and not freed by `Receiver::push` / `render` (net, on
//!   this thread) are 0 over the whole run: the receiver's memory is
//!   exactly what `Receiver::new` reserved;
//! - the live heap of the whole process (receiver + simulator + harness),
//!   sampled every 10 simulated seconds, never exceeds its level after
//!   the first minute by more than 64 KiB (the simulator's in-flight packets);
//! - the packet buffer never holds more than `max_packets`, and the
//!   reserved packet storage never changes.
//!
//! Release (`cargo test --release --test soak_fast -- --nocapture`): 24 h
//! per direction, about 4 min on one core. Debug (plain `cargo test`): 3
//! simulated minutes per direction (~15 s), same assertions.
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, Ordering};

use voxlet::codec::Registry;
use voxlet::{Receiver, ReceiverConfig};
use voxlet_support::netsim::{Jitter, Link, Loss, NetSim};
use voxlet_support::streams::drifting::DriftingSender;

/// Live bytes of the whole process.
static LIVE: AtomicI64 = AtomicI64::new(0);

thread_local! {
    /// Counting net bytes of this thread's receiver calls.
    static ON: Cell<bool> = const { Cell::new(false) };
    static NET: Cell<i64> = const { Cell::new(0) };
}

fn note(delta: i64) {
    LIVE.fetch_add(delta, Ordering::Relaxed);
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = NET.try_with(|n| n.set(n.get() + delta));
        }
    });
}

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            note(l.size() as i64);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            note(l.size() as i64);
        }
        p
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, n) };
        if !q.is_null() {
            note(n as i64 - l.size() as i64);
        }
        q
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        note(-(l.size() as i64));
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` counting the net bytes it leaves allocated on this thread.
fn net_bytes<R>(f: impl FnOnce() -> R) -> (R, i64) {
    NET.with(|n| n.set(0));
    ON.with(|c| c.set(true));
    let r = f();
    ON.with(|c| c.set(false));
    (r, NET.with(|n| n.get()))
}

const HOURS: f64 = if cfg!(debug_assertions) { 0.05 } else { 24.0 };
const QUANTUM: usize = 128;
const OUT_RATE: f64 = 48_000.0;

fn soak(ppm: f64, seed: u64) {
    let mut reg = Registry::empty();
    reg.insert_rtpmap(0, "PCMU/8000").unwrap();
    let cfg = ReceiverConfig {
        registry: reg,
        output_rate: OUT_RATE as u32,
        output_channels: 1,
        ..ReceiverConfig::default()
    };
    let max_packets = cfg.max_packets;
    let mut rx = Receiver::new(cfg).unwrap();
    let storage = rx.packet_storage_bytes();
    let mut link = Link::new(NetSim {
        seed,
        loss: Loss::bursty(0.05, 2.0),
        jitter: Jitter::p95(40.0),
        reorder: 0.01,
        duplicate: 0.005,
        drift_ppm: ppm,
        ..NetSim::default()
    });
    let mut tx = DriftingSender::new(HOURS * 3_600_000.0, ppm);
    let mut buf = vec![0f32; QUANTUM];
    let (mut push_net, mut render_net) = (0i64, 0i64);
    let mut live_ref: Option<i64> = None;
    let mut live_max = 0i64;
    let mut next_sample_ms = 60_000.0; // the reference: after the first minute
    let mut max_buffered = 0usize;
    let mut t = 0.0;
    let mut quanta = 0u64;
    let end = tx.end_ms();
    while t < end {
        tx.send_until(&mut link, t);
        while let Some(a) = link.pop_until(t) {
            let (_, n) = net_bytes(|| rx.push(&a.bytes, a.arrival_ms));
            push_net += n;
        }
        let (_, n) = net_bytes(|| rx.render(&mut buf, t));
        render_net += n;
        max_buffered = max_buffered.max(rx.buffered_packets());
        if t >= next_sample_ms {
            let live = LIVE.load(Ordering::Relaxed);
            let reference = *live_ref.get_or_insert(live);
            live_max = live_max.max(live);
            assert!(
                live <= reference + 64 * 1024,
                "{ppm:+} ppm at {:.1} h: live heap {live} B, {reference} B after the first minute",
                t / 3_600_000.0
            );
            assert_eq!(rx.packet_storage_bytes(), storage);
            next_sample_ms += 10_000.0;
        }
        quanta += 1;
        t = quanta as f64 * QUANTUM as f64 * 1000.0 / OUT_RATE;
    }
    let s = rx.stats();
    println!(
        "{ppm:+} ppm, {HOURS:.2} h, {quanta} quanta: receiver net bytes push {push_net} / render \
         {render_net}; process live heap {} B after 1 min, max {live_max} B; packet storage \
         {storage} B; max buffered {max_buffered} of {max_packets}; received {}, lost {}, \
         concealed {:.3}%",
        live_ref.unwrap_or(0),
        s.packets_received,
        s.packets_lost,
        s.concealed_samples as f64 / s.total_samples_received.max(1) as f64 * 100.0
    );
    assert_eq!(push_net, 0, "push left bytes allocated");
    assert_eq!(render_net, 0, "render left bytes allocated");
    assert!(max_buffered <= max_packets);
    assert!(s.packets_received > tx.packets() / 2);
}

/// One test, both directions in turn: the process-wide live-heap check
/// needs no other test allocating in parallel.
#[test]
fn memory_flat_over_a_day_with_drift_jitter_and_loss() {
    soak(1000.0, 11);
    soak(-1000.0, 12);
}
