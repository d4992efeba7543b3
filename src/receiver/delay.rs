//! The delay manager: how much audio to hold back (the target delay), from
//! how late packets arrive; and the filtered buffer level it is compared to.
//!
//! Model (WebRTC NetEq's `DelayManager` since 2020, "relative arrival
//! delay"): for every packet, `d = arrival − send time`, where the send time
//! is the RTP timestamp of the end of its audio in ms (the sender's media
//! clock; the unknown offset between the clocks cancels; using the end
//! keeps a change of packet duration from looking like jitter). The smallest `d` over the last 2 s is the
//! delay of a packet that crossed the network with no queueing; a packet's
//! *relative delay* is how much later than that it came. A histogram of
//! relative delays (1 ms buckets, exponential forgetting) gives its 95th
//! percentile `q`; the target delay is `q + packet duration`, bounded by the
//! configured `[min_delay, max_delay]`. Why the packet duration: the level
//! the target is compared with counts the whole next packet, so a level of
//! `q + duration` means the next packet's first sample plays `q` ms after a
//! packet with no queueing delay would have arrived.
//!
//! The caller adds its render block duration ([`DelayManager::set_block_ms`]):
//! a block is decided at its start, so a packet must be there up to one
//! block before its first sample plays (2.7 ms for a 128-frame worklet
//! quantum at 48 kHz; 20 ms for 20 ms blocks).
//!
//! Fast up, slow down: each packet adds `1 − f` of probability mass with the
//! forgetting factor `f = 0.995` (memory of about 200 packets). A rise of
//! the jitter moves the 95th percentile once about 5% of the mass (≈10
//! packets) is above it; a fall needs the old mass to decay below 5%,
//! `f^n < 0.05`, ≈600 packets (12 s at 20 ms). Isolated late packets (< 5%)
//! never raise it. The 2 s window for the minimum tracks clock drift and
//! route changes.
//!
//! The histogram is kept unnormalised (each new packet weighs `1/f` times
//! the one before, rescaled when the weights grow large) and the quantile
//! bucket is maintained incrementally, so an update is O(1) amortised
//! rather than O(buckets): a simulated day at 50 packets/s stays cheap.

/// Forgetting factor per packet.
const FORGET: f64 = 0.995;
/// Quantile of the relative delay the target covers.
pub(crate) const QUANTILE: f64 = 0.95;
/// Window over which the minimum delay is taken, ms.
const MIN_WINDOW_MS: f64 = 2000.0;
/// Entries of the minimum window (a monotonic deque); 2 s of 2.5 ms packets
/// would need 800, at 10 ms 200. When full the oldest entry is dropped.
const WINDOW: usize = 512;
/// Most histogram buckets (bucket width grows for very large max delays).
const MAX_BUCKETS: usize = 4000;
/// Weight of the seeded prior, in packets.
const PRIOR_PACKETS: f64 = 20.0;
/// Packet duration assumed before the first packet, ms.
const DEFAULT_PACKET_MS: f64 = 20.0;

/// Delay estimation for one stream.
#[derive(Clone, Debug)]
pub(crate) struct DelayManager {
    min_ms: f64,
    max_ms: f64,
    bucket_ms: f64,
    hist: Vec<f64>,
    total: f64,
    inc: f64,
    qidx: usize,
    /// Mass in buckets below `qidx`.
    below: f64,
    /// Monotonic deque (arrival ms, d ms), increasing `d`.
    win: [(f64, f64); WINDOW],
    whead: usize,
    wlen: usize,
    packet_ms: f64,
    block_ms: f64,
    initial_ms: f64,
    packets: u64,
}

impl DelayManager {
    /// A manager bounded by `[min_ms, max_ms]`, starting at `initial_ms`.
    pub fn new(min_ms: f64, max_ms: f64, initial_ms: f64) -> DelayManager {
        let bucket_ms = (max_ms / MAX_BUCKETS as f64).max(1.0);
        let buckets = ((max_ms / bucket_ms).ceil() as usize + 2).min(MAX_BUCKETS + 2);
        let mut dm = DelayManager {
            min_ms,
            max_ms,
            bucket_ms,
            hist: vec![0.0; buckets],
            total: 0.0,
            inc: 1.0,
            qidx: 0,
            below: 0.0,
            win: [(0.0, 0.0); WINDOW],
            whead: 0,
            wlen: 0,
            packet_ms: DEFAULT_PACKET_MS,
            block_ms: 0.0,
            initial_ms,
            packets: 0,
        };
        dm.seed(initial_ms);
        dm
    }

    /// Restarts the histogram with its weight on the relative delay that
    /// gives `target_ms`: the prior the next packets move it away from. It
    /// weighs as much as [`PRIOR_PACKETS`] packets: one packet above it
    /// moves the 95th percentile up at once (fast up); packets below it
    /// take about 4 s (20 ms packets) to bring it down — the initial delay
    /// is a guess, not a measurement.
    pub fn seed(&mut self, target_ms: f64) {
        self.hist.iter_mut().for_each(|h| *h = 0.0);
        let r = (target_ms - self.packet_ms - self.block_ms - self.bucket_ms).max(0.0);
        let b = self.bucket(r + 0.5 * self.bucket_ms);
        let w = PRIOR_PACKETS;
        if let Some(h) = self.hist.get_mut(b) {
            *h = w;
        }
        self.total = w;
        self.inc = 1.0;
        self.qidx = b;
        self.below = 0.0;
        self.reset_window();
    }

    /// Forgets the minimum-delay window (new timeline or source).
    pub fn reset_window(&mut self) {
        self.whead = 0;
        self.wlen = 0;
    }

    fn bucket(&self, r_ms: f64) -> usize {
        let b = (r_ms / self.bucket_ms).max(0.0) as usize;
        b.min(self.hist.len().saturating_sub(1))
    }

    /// Records one packet: arrival time and its RTP timestamp in ms, and its
    /// duration. Returns its relative delay in ms.
    pub fn update(&mut self, arrival_ms: f64, ts_ms: f64, packet_ms: f64) -> f64 {
        if packet_ms > 0.0 && packet_ms.is_finite() {
            self.packet_ms = packet_ms;
        }
        let d = arrival_ms - ts_ms;
        if !d.is_finite() {
            return 0.0;
        }
        // Monotonic deque: drop expired entries at the front, larger ones at the back.
        while self.wlen > 0 {
            let front = self.win.get(self.whead).copied().unwrap_or_default();
            if front.0 < arrival_ms - MIN_WINDOW_MS || self.wlen == WINDOW {
                self.whead = (self.whead + 1) % WINDOW;
                self.wlen -= 1;
            } else {
                break;
            }
        }
        while self.wlen > 0 {
            let back = (self.whead + self.wlen - 1) % WINDOW;
            if self.win.get(back).is_some_and(|e| e.1 >= d) {
                self.wlen -= 1;
            } else {
                break;
            }
        }
        if let Some(e) = self.win.get_mut((self.whead + self.wlen) % WINDOW) {
            *e = (arrival_ms, d);
        }
        self.wlen += 1;
        let min = self.win.get(self.whead).map_or(d, |e| e.1);
        let r = (d - min).max(0.0);
        self.add(r);
        self.packets += 1;
        r
    }

    fn add(&mut self, r_ms: f64) {
        let b = self.bucket(r_ms);
        self.inc /= FORGET;
        if let Some(h) = self.hist.get_mut(b) {
            *h += self.inc;
        }
        self.total += self.inc;
        if b < self.qidx {
            self.below += self.inc;
        }
        if self.inc > 1e100 {
            let k = 1.0 / self.inc;
            self.hist.iter_mut().for_each(|h| *h *= k);
            self.inc = 1.0;
            self.total = self.hist.iter().sum();
            self.below = self.hist.iter().take(self.qidx).sum();
        }
        self.rebalance();
    }

    /// Moves `qidx` so that `below < q·total <= below + hist[qidx]`.
    fn rebalance(&mut self) {
        let want = QUANTILE * self.total;
        let last = self.hist.len().saturating_sub(1);
        loop {
            let here = self.hist.get(self.qidx).copied().unwrap_or(0.0);
            if self.below + here < want && self.qidx < last {
                self.below += here;
                self.qidx += 1;
            } else if self.below >= want && self.qidx > 0 {
                self.qidx -= 1;
                let prev = self.hist.get(self.qidx).copied().unwrap_or(0.0);
                self.below = (self.below - prev).max(0.0);
            } else {
                break;
            }
        }
    }

    /// The relative delay quantile, ms.
    pub fn quantile_ms(&self) -> f64 {
        (self.qidx + 1) as f64 * self.bucket_ms
    }

    /// Sets the duration of the caller's render blocks, ms.
    /// Before the first packet, the initial target is re-seeded so it
    /// stays what was configured.
    pub fn set_block_ms(&mut self, block_ms: f64) {
        if block_ms.is_finite() && block_ms != self.block_ms {
            self.block_ms = block_ms.max(0.0);
            if self.packets == 0 {
                self.seed(self.initial_ms);
            }
        }
    }

    /// The target delay before the configured bounds: what the network
    /// (and the render block) alone ask for (WebRTC's `jitterBufferMinimumDelay`).
    pub fn unbounded_target_ms(&self) -> f64 {
        self.quantile_ms() + self.packet_ms + self.block_ms
    }

    /// The target delay, ms, within `[min, max]`, and not below the
    /// initial delay: playout starts at the initial delay, and a link that
    /// needs less keeps it rather than have its audio time-stretched to
    /// save a few ms (a clean link measures `packet + block + ~3 ms`,
    /// 26 ms for 20 ms packets in a worklet: going there from 60 ms would
    /// cut 34 ms out of the first seconds of speech). Configure a lower
    /// `initial_delay_ms` for lower latency; the target rises above it as
    /// soon as the jitter asks for more, and comes back down to it.
    pub fn target_ms(&self) -> f64 {
        self.unbounded_target_ms()
            .max(self.initial_ms)
            .max(self.min_ms)
            .min(self.max_ms)
            .max(self.min_ms.min(self.max_ms))
    }
}

/// Exponentially smoothed buffer level (NetEq's `BufferLevelFilter`), with
/// the time constant in media time so it behaves the same at any packet size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LevelFilter {
    value: Option<f64>,
    tau_ms: f64,
}

impl LevelFilter {
    pub fn new(tau_ms: f64) -> LevelFilter {
        LevelFilter {
            value: None,
            tau_ms,
        }
    }

    /// Adds a measurement `dt_ms` of audio after the previous one.
    pub fn update(&mut self, level_ms: f64, dt_ms: f64) -> f64 {
        let v = match self.value {
            None => level_ms,
            Some(v) => {
                let a = (-dt_ms.max(0.0) / self.tau_ms).exp();
                a * v + (1.0 - a) * level_ms
            }
        };
        let v = if v.is_finite() { v } else { level_ms };
        self.value = Some(v);
        v
    }

    /// Shifts the filtered value (after audio was removed or inserted).
    pub fn adjust(&mut self, delta_ms: f64) {
        if let Some(v) = self.value.as_mut() {
            *v += delta_ms;
        }
    }

    pub fn get(&self) -> Option<f64> {
        self.value
    }

    pub fn reset(&mut self) {
        self.value = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_network_converges_to_min() {
        let mut dm = DelayManager::new(20.0, 500.0, 20.0);
        for i in 0..2000 {
            let t = i as f64 * 20.0;
            dm.update(t + 30.0, t, 20.0);
        }
        assert!(dm.target_ms() <= 22.0, "{}", dm.target_ms());
        // The initial delay is a floor: a steady network keeps it.
        let mut dm = DelayManager::new(20.0, 500.0, 80.0);
        assert!((dm.target_ms() - 80.0).abs() <= 1.0);
        for i in 0..2000 {
            let t = i as f64 * 20.0;
            dm.update(t + 30.0, t, 20.0);
        }
        assert!((dm.target_ms() - 80.0).abs() <= 1e-9, "{}", dm.target_ms());
        assert!(dm.unbounded_target_ms() <= 22.0);
    }

    #[test]
    fn fast_up_slow_down() {
        let mut dm = DelayManager::new(0.0, 1000.0, 20.0);
        let mut rng = 1u32;
        let mut jitter = |amp: f64| {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            amp * (rng as f64 / u32::MAX as f64)
        };
        let mut t = 0.0;
        for _ in 0..1000 {
            dm.update(t + jitter(10.0), t, 20.0);
            t += 20.0;
        }
        let low = dm.target_ms();
        assert!((25.0..=35.0).contains(&low), "{low}");
        // Jitter grows to 100 ms: the target follows within ~30 packets.
        for _ in 0..30 {
            dm.update(t + jitter(100.0), t, 20.0);
            t += 20.0;
        }
        assert!(dm.target_ms() > 80.0, "{}", dm.target_ms());
        for _ in 0..70 {
            dm.update(t + jitter(100.0), t, 20.0);
            t += 20.0;
        }
        // Back to 10 ms after 2 s of it: still high 100 packets later,
        // down after 1000.
        for _ in 0..100 {
            dm.update(t + jitter(10.0), t, 20.0);
            t += 20.0;
        }
        assert!(dm.target_ms() > 80.0, "{}", dm.target_ms());
        for _ in 0..1000 {
            dm.update(t + jitter(10.0), t, 20.0);
            t += 20.0;
        }
        assert!(dm.target_ms() < 40.0, "{}", dm.target_ms());
    }

    #[test]
    fn level_filter_smooths() {
        let mut f = LevelFilter::new(500.0);
        assert_eq!(f.update(60.0, 20.0), 60.0);
        let v = f.update(160.0, 20.0);
        assert!(v > 60.0 && v < 70.0);
        f.adjust(-5.0);
        assert!(f.get().is_some_and(|x| x < v));
    }
}
