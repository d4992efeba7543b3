//! Test support for voxlet, shared by its integration tests, its examples
//! and the gateway. Not published; not part of voxlet's API.
//!
//! It exists so that this code has one copy: the network simulator, the
//! PRNGs, the counting allocator and the signal comparisons used to be
//! `#[path]`-included or pasted into each test.
//!
//! - [`rng`]: seeded generators ([`Rng`], SplitMix64, is the one to use);
//! - [`netsim`]: a seeded network impairment simulator (loss, jitter,
//!   spikes, reordering, duplicates, batching, clock drift);
//! - [`alloc`]: a counting allocator for "allocates nothing" tests;
//! - [`signal`]: PCM fixtures, RMS, SNR, correlation, alignment;
//! - `streams` (feature `voxlet`): the stream builders and players that
//!   need voxlet's codecs and RTP writer.
//!
//! Without the `voxlet` feature this crate depends on nothing but `std`,
//! so voxlet's tests can use it without a dependency cycle, and the
//! gateway, a runtime binary, depends on it for [`Rng`]: its impairment
//! stage is a test facility too (seeded loss and jitter for browser
//! tests), and sharing the generator keeps one definition of "seed N".
//! Linking the crate installs nothing (the allocator is only a type).

#![warn(missing_docs)]

pub mod alloc;
pub mod netsim;
pub mod rng;
pub mod signal;
#[cfg(feature = "voxlet")]
pub mod streams;

pub use alloc::{counted, CountingAlloc};
pub use rng::Rng;
