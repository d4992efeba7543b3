//! A counting allocator for the "allocates nothing" tests and
//! `examples/bench_alloc.rs`: [`counted`] runs a closure and returns how
//! many allocations (alloc, alloc_zeroed, realloc) it made **on the calling
//! thread**, so libtest's own threads never count.
//!
//! A library cannot install a global allocator for its users: each test
//! binary installs [`CountingAlloc`] itself, once, at its root:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: voxlet_support::CountingAlloc = voxlet_support::CountingAlloc;
//! let (value, allocations) = voxlet_support::counted(|| work());
//! ```
//!
//! Without it installed, [`counted`] always reports 0.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting allocations while [`counted`] runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAlloc;

thread_local! {
    // Const-initialised: reading them never allocates.
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator also runs during thread-local teardown.
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: forwards every call to the system allocator; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(p, l, n) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}

/// Runs `f`; returns its result and the allocations it made on this thread
/// (0 unless [`CountingAlloc`] is the global allocator).
pub fn counted<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let outer = ON.with(|on| on.replace(true));
    let before = COUNT.with(Cell::get);
    let r = f();
    ON.with(|on| on.set(outer));
    (r, COUNT.with(Cell::get) - before)
}
