//! A seeded, deterministic network impairment simulator for the receiver
//! tests, the soaks, the benchmarks and the PESQ run (`examples/impair.rs`).
//!
//! A [`Link`] takes packets in the order the sender sends them, with the
//! send time on the **sender's** clock, and decides each one's fate:
//! - **clock drift**: the sender's clock runs `drift_ppm` fast (positive)
//!   or slow; its `send_ms` maps to real time `send_ms / (1 + ppm·1e-6)`;
//! - **loss**: independent ([`Loss::Random`]) or bursty, a two-state
//!   Gilbert-Elliott chain ([`Loss::GilbertElliott`], see [`Loss::bursty`]);
//! - **jitter**: a base delay plus a per-packet extra delay from a
//!   correlated log-normal (queueing delays are skewed, heavy-tailed and
//!   correlated from one packet to the next), see [`Jitter`];
//! - **delay spikes**: at Poisson-distributed instants the path stalls for
//!   `height_ms`; everything sent during the stall is released together at
//!   its end (a Wi-Fi retry storm or a cellular handover);
//! - **reordering**: a packet is held back by an extra random delay;
//! - **duplication**: a second copy arrives a little later;
//! - **batched delivery**: with `batch_ms > 0`, whatever would arrive is
//!   held and released together at the next multiple of `batch_ms` (a
//!   relay or radio that flushes in bursts: with 20 ms packets and 120 ms,
//!   six packets arrive together every 120 ms).
//!
//! Arrivals come out in arrival order ([`Link::pop_until`] for streaming,
//! [`NetSim::run`] for a whole list). Everything derives from `seed`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::rng::Rng;

/// Packet loss model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// Nothing lost.
    None,
    /// Each packet lost independently with this probability.
    Random(f64),
    /// Gilbert-Elliott: per packet, go good→bad with `p_gb`, bad→good with
    /// `p_bg`; lose with `loss_good` / `loss_bad` in each state.
    GilbertElliott {
        /// Good → bad transition probability.
        p_gb: f64,
        /// Bad → good transition probability.
        p_bg: f64,
        /// Loss probability in the good state.
        loss_good: f64,
        /// Loss probability in the bad state.
        loss_bad: f64,
    },
}

impl Loss {
    /// Bursts (all lost in the bad state) of mean length `mean_burst`
    /// packets, `mean_loss` of all packets lost on average.
    pub fn bursty(mean_loss: f64, mean_burst: f64) -> Loss {
        let p_bg = 1.0 / mean_burst.max(1.0);
        let p_gb = mean_loss * p_bg / (1.0 - mean_loss).max(1e-9);
        Loss::GilbertElliott {
            p_gb,
            p_bg,
            loss_good: 0.0,
            loss_bad: 1.0,
        }
    }
}

/// Extra (queueing) delay per packet on top of the base delay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    /// No extra delay.
    None,
    /// `median · exp(σ·z)` with `z` an AR(1) standard normal process of
    /// lag-one correlation `correlation`: log-normal marginal, so the
    /// 95th percentile is `median · e^{1.645σ}`.
    LogNormal {
        /// Median extra delay, ms.
        median_ms: f64,
        /// Log-space standard deviation.
        sigma: f64,
        /// Lag-one correlation of the underlying normal process.
        correlation: f64,
    },
    /// Uniform in `[0, max_ms)`, independent.
    Uniform {
        /// Upper bound, ms.
        max_ms: f64,
    },
}

impl Jitter {
    /// A log-normal with this 95th percentile: σ = 0.5 (p99 ≈ 1.3 × p95,
    /// max over a minute of packets ≈ 1.9 × p95), correlation 0.6.
    pub fn p95(p95_ms: f64) -> Jitter {
        let sigma = 0.5;
        Jitter::LogNormal {
            median_ms: p95_ms / (1.645f64 * sigma).exp(),
            sigma,
            correlation: 0.6,
        }
    }
}

/// Path stalls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spikes {
    /// Mean stalls per second (Poisson).
    pub per_s: f64,
    /// Stall length, ms.
    pub height_ms: f64,
}

/// The impairment settings; `Default` is a clean 20 ms path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetSim {
    /// Seed of every random draw.
    pub seed: u64,
    /// Fixed one-way delay, ms.
    pub base_delay_ms: f64,
    /// Loss model.
    pub loss: Loss,
    /// Queueing delay model.
    pub jitter: Jitter,
    /// Path stalls, if any.
    pub spikes: Option<Spikes>,
    /// Probability a packet is held back by `reorder_ms` (uniform range).
    pub reorder: f64,
    /// Range of the hold-back delay of a reordered packet, ms.
    pub reorder_ms: (f64, f64),
    /// Probability a packet is duplicated (the copy comes 0–20 ms later).
    pub duplicate: f64,
    /// Sender clock error, parts per million (positive: sender fast).
    pub drift_ppm: f64,
    /// Batched delivery period, ms (0: off): arrivals are held until the
    /// next multiple of it and released together, in order.
    pub batch_ms: f64,
}

impl Default for NetSim {
    fn default() -> Self {
        NetSim {
            seed: 1,
            base_delay_ms: 20.0,
            loss: Loss::None,
            jitter: Jitter::None,
            spikes: None,
            reorder: 0.0,
            reorder_ms: (20.0, 60.0),
            duplicate: 0.0,
            drift_ppm: 0.0,
            batch_ms: 0.0,
        }
    }
}

/// One packet as it arrives.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrival {
    /// The packet.
    pub bytes: Vec<u8>,
    /// Arrival time (receiver clock), ms.
    pub arrival_ms: f64,
    /// Index of the packet in send order.
    pub index: u64,
    /// Real (receiver clock) send time, ms.
    pub sent_ms: f64,
    /// A duplicate copy.
    pub duplicate: bool,
}

/// What happened to one sent packet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fate {
    /// Dropped.
    Lost,
    /// Arrives at `arrival_ms`; `jitter_ms` is its delay above the base
    /// delay (queueing, spikes and reordering included).
    Delivered {
        /// Arrival time of the original (not the duplicate), ms.
        arrival_ms: f64,
        /// Delay above the base delay, ms.
        jitter_ms: f64,
    },
}

struct Queued(Arrival, u64);

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    // Reversed: BinaryHeap is a max-heap, we want the earliest arrival.
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.arrival_ms
            .total_cmp(&self.0.arrival_ms)
            .then(o.1.cmp(&self.1))
    }
}

/// A streaming impaired path.
pub struct Link {
    cfg: NetSim,
    rng: Rng,
    bad: bool,
    z: f64,
    next_spike_ms: f64,
    spike_end_ms: f64,
    heap: BinaryHeap<Queued>,
    counter: u64,
    sent: u64,
}

impl Link {
    /// A path with these settings, nothing in flight.
    pub fn new(cfg: NetSim) -> Link {
        let mut rng = Rng::new(cfg.seed);
        let next_spike_ms = match cfg.spikes {
            Some(s) if s.per_s > 0.0 => rng.exp(1000.0 / s.per_s),
            _ => f64::INFINITY,
        };
        Link {
            cfg,
            rng,
            bad: false,
            z: 0.0,
            next_spike_ms,
            spike_end_ms: f64::NEG_INFINITY,
            heap: BinaryHeap::new(),
            counter: 0,
            sent: 0,
        }
    }

    fn lost(&mut self) -> bool {
        match self.cfg.loss {
            Loss::None => false,
            Loss::Random(p) => self.rng.chance(p),
            Loss::GilbertElliott {
                p_gb,
                p_bg,
                loss_good,
                loss_bad,
            } => {
                self.bad = if self.bad {
                    !self.rng.chance(p_bg)
                } else {
                    self.rng.chance(p_gb)
                };
                self.rng.chance(if self.bad { loss_bad } else { loss_good })
            }
        }
    }

    fn jitter(&mut self) -> f64 {
        match self.cfg.jitter {
            Jitter::None => 0.0,
            Jitter::Uniform { max_ms } => self.rng.range(0.0, max_ms),
            Jitter::LogNormal {
                median_ms,
                sigma,
                correlation,
            } => {
                let r = correlation.clamp(0.0, 0.999);
                self.z = r * self.z + (1.0 - r * r).sqrt() * self.rng.normal();
                median_ms * (sigma * self.z).exp()
            }
        }
    }

    /// Sends a packet at `send_ms` (sender clock); returns its fate.
    pub fn send(&mut self, bytes: &[u8], send_ms: f64) -> Fate {
        let index = self.sent;
        self.sent += 1;
        let sent_ms = send_ms / (1.0 + self.cfg.drift_ppm * 1e-6);
        // Draw every random number in the same order whatever the fate,
        // so changing one impairment does not reshuffle the others.
        let lost = self.lost();
        let mut extra = self.jitter();
        if let Some(s) = self.cfg.spikes {
            while self.next_spike_ms <= sent_ms {
                self.spike_end_ms = self.spike_end_ms.max(self.next_spike_ms + s.height_ms);
                self.next_spike_ms += self.rng.exp(1000.0 / s.per_s.max(1e-9));
            }
        }
        if sent_ms < self.spike_end_ms {
            extra += self.spike_end_ms - sent_ms;
        }
        let reorder = self.rng.chance(self.cfg.reorder);
        let reorder_extra = self.rng.range(self.cfg.reorder_ms.0, self.cfg.reorder_ms.1);
        let dup = self.rng.chance(self.cfg.duplicate);
        let dup_extra = self.rng.range(0.0, 20.0);
        if lost {
            return Fate::Lost;
        }
        if reorder {
            extra += reorder_extra;
        }
        let natural_ms = sent_ms + self.cfg.base_delay_ms + extra;
        let arrival_ms = self.batched(natural_ms);
        extra += arrival_ms - natural_ms;
        self.push(Arrival {
            bytes: bytes.to_vec(),
            arrival_ms,
            index,
            sent_ms,
            duplicate: false,
        });
        if dup {
            self.push(Arrival {
                bytes: bytes.to_vec(),
                arrival_ms: self.batched(natural_ms + dup_extra),
                index,
                sent_ms,
                duplicate: true,
            });
        }
        Fate::Delivered {
            arrival_ms,
            jitter_ms: extra,
        }
    }

    /// `t_ms` rounded up to the next batch release (unchanged when off).
    fn batched(&self, t_ms: f64) -> f64 {
        let p = self.cfg.batch_ms;
        if p > 0.0 {
            (t_ms / p).ceil() * p
        } else {
            t_ms
        }
    }

    fn push(&mut self, a: Arrival) {
        self.counter += 1;
        self.heap.push(Queued(a, self.counter));
    }

    /// The next arrival at or before `t_ms`, in arrival order.
    pub fn pop_until(&mut self, t_ms: f64) -> Option<Arrival> {
        if self.heap.peek().is_some_and(|q| q.0.arrival_ms <= t_ms) {
            self.heap.pop().map(|q| q.0)
        } else {
            None
        }
    }

    /// Packets in flight.
    pub fn in_flight(&self) -> usize {
        self.heap.len()
    }
}

impl NetSim {
    /// Runs a whole list of (packet, sender send time) through the path;
    /// returns the arrivals sorted by arrival time, and each packet's fate.
    pub fn run(&self, packets: &[(Vec<u8>, f64)]) -> (Vec<Arrival>, Vec<Fate>) {
        let mut link = Link::new(*self);
        let fates = packets.iter().map(|(b, t)| link.send(b, *t)).collect();
        let mut out = Vec::with_capacity(packets.len());
        while let Some(a) = link.pop_until(f64::INFINITY) {
            out.push(a);
        }
        (out, fates)
    }
}

/// The `q`-quantile (0..=1) of `v` (sorted copy, nearest rank).
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let i = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1;
    s[i]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sorted() {
        let cfg = NetSim {
            seed: 7,
            loss: Loss::bursty(0.05, 3.0),
            jitter: Jitter::p95(40.0),
            reorder: 0.02,
            duplicate: 0.02,
            ..NetSim::default()
        };
        let pk: Vec<(Vec<u8>, f64)> = (0..5000)
            .map(|i| (vec![i as u8], i as f64 * 20.0))
            .collect();
        let (a, f) = cfg.run(&pk);
        let (b, _) = cfg.run(&pk);
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0].arrival_ms <= w[1].arrival_ms));
        let lost = f.iter().filter(|f| **f == Fate::Lost).count() as f64 / 5000.0;
        assert!((0.03..0.07).contains(&lost), "{lost}");
        let j: Vec<f64> = f
            .iter()
            .filter_map(|f| match f {
                Fate::Delivered { jitter_ms, .. } => Some(*jitter_ms),
                Fate::Lost => None,
            })
            .collect();
        let p95 = quantile(&j, 0.95);
        assert!((35.0..70.0).contains(&p95), "{p95}");
    }

    #[test]
    fn batched_delivery_releases_groups() {
        let cfg = NetSim {
            batch_ms: 120.0,
            ..NetSim::default()
        };
        let pk: Vec<(Vec<u8>, f64)> = (0..600)
            .map(|i| (vec![i as u8], (i + 1) as f64 * 20.0))
            .collect();
        let (a, _) = cfg.run(&pk);
        assert_eq!(a.len(), 600);
        assert!(a.iter().all(|x| x.arrival_ms % 120.0 == 0.0));
        assert!(a.windows(2).all(|w| w[0].index < w[1].index));
        let mut groups = std::collections::BTreeMap::new();
        for x in &a {
            *groups.entry(x.arrival_ms as u64).or_insert(0) += 1;
        }
        let n: Vec<i32> = groups.into_values().collect();
        assert!(n[1..n.len() - 1].iter().all(|n| *n == 6), "{n:?}");
    }
}
