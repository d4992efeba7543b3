//! Modular comparison and unwrapping of RTP sequence numbers (16 bits) and
//! timestamps (32 bits).
//!
//! Both counters wrap, so "newer" only means something within half the
//! range: two values are compared by their wrapping difference read as a
//! signed number. A sequence number up to 32767 ahead of the reference is
//! newer, one up to 32768 behind is older (timestamps: 2^31 − 1 / 2^31).
//! A real jump larger than that (a sender restart) is indistinguishable from
//! reordering; detecting it (RFC 3550 Appendix A.1 waits for two sequential
//! packets) is the caller's job, e.g. by calling `reset`.

/// `a − b` as a signed distance: positive if `a` is newer than `b`.
/// Exactly half the range apart gives `i16::MIN`.
#[inline]
pub fn seq_diff(a: u16, b: u16) -> i16 {
    a.wrapping_sub(b) as i16
}

/// Whether sequence number `a` is newer than `b` (`seq_diff(a, b) > 0`).
/// Values exactly 32768 apart are never newer than each other.
#[inline]
pub fn seq_newer(a: u16, b: u16) -> bool {
    seq_diff(a, b) > 0
}

/// `a − b` for RTP timestamps as a signed distance: positive if `a` is later.
/// Exactly half the range apart gives `i32::MIN`.
#[inline]
pub fn ts_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// Whether timestamp `a` is later than `b` (`ts_diff(a, b) > 0`).
#[inline]
pub fn ts_newer(a: u32, b: u32) -> bool {
    ts_diff(a, b) > 0
}

/// Extends 16-bit sequence numbers to a monotonic `i64` count.
///
/// Each value is placed within ±half the range of the highest extended
/// number seen so far, so a packet reordered across the wrap lands before
/// it (65535 after 0 → −1 + 65536·k) without moving the reference back.
/// The first value maps to itself; older values may go negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqUnwrapper {
    highest: Option<i64>,
}

impl SeqUnwrapper {
    /// An unwrapper that has seen nothing.
    pub const fn new() -> SeqUnwrapper {
        SeqUnwrapper { highest: None }
    }

    /// The extended value `seq` would get, without recording it.
    pub fn peek(&self, seq: u16) -> i64 {
        match self.highest {
            None => i64::from(seq),
            Some(h) => h.saturating_add(i64::from(seq_diff(seq, h as u16))),
        }
    }

    /// Extends `seq` and records it (the reference only moves forward).
    pub fn unwrap(&mut self, seq: u16) -> i64 {
        let e = self.peek(seq);
        self.highest = Some(self.highest.map_or(e, |h| h.max(e)));
        e
    }

    /// The highest extended value seen, if any.
    pub fn highest(&self) -> Option<i64> {
        self.highest
    }

    /// Forgets everything (new SSRC, detected restart).
    pub fn reset(&mut self) {
        self.highest = None;
    }
}

/// Extends 32-bit RTP timestamps to a monotonic `i64`, the same way
/// [`SeqUnwrapper`] does for sequence numbers (window ±2^31).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimestampUnwrapper {
    highest: Option<i64>,
}

impl TimestampUnwrapper {
    /// An unwrapper that has seen nothing.
    pub const fn new() -> TimestampUnwrapper {
        TimestampUnwrapper { highest: None }
    }

    /// The extended value `ts` would get, without recording it.
    pub fn peek(&self, ts: u32) -> i64 {
        match self.highest {
            None => i64::from(ts),
            Some(h) => h.saturating_add(i64::from(ts_diff(ts, h as u32))),
        }
    }

    /// Extends `ts` and records it (the reference only moves forward).
    pub fn unwrap(&mut self, ts: u32) -> i64 {
        let e = self.peek(ts);
        self.highest = Some(self.highest.map_or(e, |h| h.max(e)));
        e
    }

    /// The highest extended value seen, if any.
    pub fn highest(&self) -> Option<i64> {
        self.highest
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.highest = None;
    }
}
