//! Seeded network impairment for packets going to the browser: loss,
//! jitter (uniform extra delay, which reorders when it exceeds the packet
//! spacing) and explicit reordering (a packet held back by 1.5 packet times
//! plus the jitter bound, so the following ones overtake it).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::protocol::Impairment;

/// SplitMix64, shared with voxlet's test support (seeded with
/// [`Rng::from_state`]: the seed is the state).
pub use voxlet_support::Rng;

/// Most packets held back at once; beyond that new ones are dropped.
pub const MAX_HELD: usize = 2048;

/// What happened to one packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it now.
    Now(Bytes),
    /// Held; it comes out of [`Impairer::pop_due`] later.
    Held,
    /// Dropped (loss, or too many held).
    Dropped,
}

/// Counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImpairStats {
    /// Dropped by `loss_pct`.
    pub lost: u64,
    /// Delayed by jitter.
    pub delayed: u64,
    /// Held back by `reorder_pct`.
    pub reordered: u64,
    /// Dropped because [`MAX_HELD`] were already held.
    pub overflow: u64,
}

/// The impairment stage of one session.
pub struct Impairer {
    cfg: Impairment,
    rng: Rng,
    ptime_ms: u32,
    held: BinaryHeap<Reverse<(Instant, u64, Bytes)>>,
    order: u64,
    /// Counters.
    pub stats: ImpairStats,
}

impl Impairer {
    /// A stage applying `cfg`; `default_seed` is used when `cfg.seed` is `None`.
    pub fn new(cfg: Impairment, default_seed: u64, ptime_ms: u32) -> Impairer {
        Impairer {
            rng: Rng::from_state(cfg.seed.unwrap_or(default_seed)),
            cfg,
            ptime_ms: ptime_ms.max(1),
            held: BinaryHeap::new(),
            order: 0,
            stats: ImpairStats::default(),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> Impairment {
        self.cfg
    }

    /// Changes the settings; a new seed restarts the RNG. Held packets keep
    /// their release times.
    pub fn set(&mut self, cfg: Impairment) {
        if let Some(s) = cfg.seed {
            self.rng = Rng::from_state(s);
        }
        self.cfg = cfg;
    }

    /// Decides the fate of one packet arriving at `now`.
    pub fn process(&mut self, pkt: Bytes, now: Instant) -> Verdict {
        if !self.cfg.is_active() && self.held.is_empty() {
            return Verdict::Now(pkt);
        }
        if self.cfg.loss_pct > 0.0 && self.rng.uniform() * 100.0 < self.cfg.loss_pct {
            self.stats.lost += 1;
            return Verdict::Dropped;
        }
        let mut delay_ms = 0.0;
        if self.cfg.jitter_ms > 0 {
            delay_ms = self.rng.uniform() * (self.cfg.jitter_ms as f64 + 1.0);
            delay_ms = delay_ms.floor();
            if delay_ms >= 1.0 {
                self.stats.delayed += 1;
            }
        }
        if self.cfg.reorder_pct > 0.0 && self.rng.uniform() * 100.0 < self.cfg.reorder_pct {
            delay_ms += self.cfg.jitter_ms as f64 + 1.5 * self.ptime_ms as f64;
            self.stats.reordered += 1;
        }
        if delay_ms < 1.0 && self.held.is_empty() {
            return Verdict::Now(pkt);
        }
        if self.held.len() >= MAX_HELD {
            self.stats.overflow += 1;
            return Verdict::Dropped;
        }
        let at = now + Duration::from_micros((delay_ms * 1000.0) as u64);
        self.order += 1;
        self.held.push(Reverse((at, self.order, pkt)));
        Verdict::Held
    }

    /// When the next held packet is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.held.peek().map(|Reverse((t, _, _))| *t)
    }

    /// The next held packet due at `now`, if any.
    pub fn pop_due(&mut self, now: Instant) -> Option<Bytes> {
        if self.next_due()? <= now {
            self.held.pop().map(|Reverse((_, _, p))| p)
        } else {
            None
        }
    }

    /// Packets currently held.
    pub fn held(&self) -> usize {
        self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passthrough_when_inactive() {
        let mut i = Impairer::new(Impairment::default(), 1, 20);
        let now = Instant::now();
        assert_eq!(
            i.process(Bytes::from_static(b"x"), now),
            Verdict::Now(Bytes::from_static(b"x"))
        );
    }

    #[test]
    fn loss_is_seeded_and_near_rate() {
        let cfg = Impairment {
            loss_pct: 30.0,
            seed: Some(42),
            ..Default::default()
        };
        let run = || {
            let mut i = Impairer::new(cfg, 0, 20);
            let now = Instant::now();
            (0..10_000)
                .map(|_| matches!(i.process(Bytes::new(), now), Verdict::Dropped))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let lost = a.iter().filter(|&&d| d).count();
        assert!((2800..3200).contains(&lost), "{lost}");
    }

    #[test]
    fn jitter_delays_within_bound_and_reorders() {
        let cfg = Impairment {
            jitter_ms: 60,
            seed: Some(7),
            ..Default::default()
        };
        let mut i = Impairer::new(cfg, 0, 20);
        let t0 = Instant::now();
        let mut out = Vec::new();
        for k in 0..100u8 {
            let now = t0 + Duration::from_millis(20 * k as u64);
            while let Some(p) = i.pop_due(now) {
                out.push(p[0]);
            }
            if let Verdict::Now(p) = i.process(Bytes::from(vec![k]), now) {
                out.push(p[0]);
            }
        }
        while let Some(p) = i.pop_due(t0 + Duration::from_secs(10)) {
            out.push(p[0]);
        }
        assert_eq!(out.len(), 100); // jitter alone loses nothing
        assert!(out.windows(2).any(|w| w[1] < w[0]), "some reordering");
    }
}
