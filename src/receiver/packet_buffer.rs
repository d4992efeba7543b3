//! Bounded, allocation-free storage for received audio packets, ordered by
//! (unwrapped) RTP timestamp.
//!
//! All memory is taken at construction: `max_packets` slots of metadata, one
//! byte arena of `max_packets × max_payload` bytes, and an index kept sorted
//! by `(timestamp, sequence)`. Insertion is a binary search plus a shift of
//! at most `max_packets` 16-bit indices; removal from the front is the same
//! shift. With the few hundred slots a voice stream needs that is cheaper
//! and simpler than a tree, and never allocates.
//!
//! Flood policy (when every slot is in use): the packet with the **oldest**
//! timestamp among the buffered ones and the new one is dropped. A full
//! buffer means playout is far behind (hundreds of packets is seconds of
//! audio, well past any sane maximum delay), so the oldest audio is the one
//! least worth keeping: dropping it bounds the latency and the memory, and
//! playout resynchronises on what is left (see the decision logic).

/// What is known about one buffered packet.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct PacketMeta {
    /// Unwrapped sequence number.
    pub seq: i64,
    /// Unwrapped RTP timestamp.
    pub ts: i64,
    /// Duration in RTP clock ticks.
    pub dur: u32,
    /// Payload type.
    pub pt: u8,
    /// Index of the decoder for `pt`.
    pub decoder: u8,
    /// Carries in-band FEC (Opus LBRR) for the packet before it.
    pub has_fec: bool,
    /// Arrival time, ms.
    pub arrival_ms: f64,
    /// Its need when it arrived, ms, from the delay manager: how long after
    /// the start of its audio (plus the smallest path delay) it arrived.
    pub rel_ms: f64,
    /// `arrival − start of its audio` in the sender's media time, ms.
    pub start_delay_ms: f64,
    /// Payload length in bytes.
    pub len: u32,
}

impl PacketMeta {
    /// Its need against the delay manager's current smallest delay `min_ms`
    /// (`None`: as when it arrived), ms. `arrival_ms − need` is the
    /// reference its playout offset is measured from.
    pub fn need_ms(&self, min_ms: Option<f64>) -> f64 {
        match min_ms {
            Some(m) if (self.start_delay_ms - m).is_finite() => (self.start_delay_ms - m).max(0.0),
            _ => self.rel_ms,
        }
    }
    /// Timestamp just past the end of this packet's audio.
    pub fn end(&self) -> i64 {
        self.ts.saturating_add(i64::from(self.dur))
    }
}

/// Result of [`PacketBuffer::insert`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Insert {
    /// Stored.
    Stored,
    /// A packet with the same timestamp and sequence number is already stored.
    Duplicate,
    /// A different packet with the same timestamp is stored; the new one was
    /// not (the first one wins, as in NetEq).
    SameTimestamp,
    /// The buffer was full: the oldest packet was dropped to make room (its
    /// metadata), and the new one stored.
    StoredDroppedOldest(PacketMeta),
    /// The buffer was full and the new packet was the oldest: not stored.
    Rejected,
    /// The payload is longer than a slot (never happens when the caller
    /// checks the size first).
    TooLarge,
}

/// The packet store.
#[derive(Clone, Debug)]
pub(crate) struct PacketBuffer {
    meta: Vec<PacketMeta>,
    bytes: Vec<u8>,
    max_payload: usize,
    /// Slot indices of stored packets, sorted by (ts, seq).
    order: Vec<u16>,
    /// Free slot indices.
    free: Vec<u16>,
}

impl PacketBuffer {
    /// `max_packets` (1..=65535) slots of `max_payload` bytes each.
    pub fn new(max_packets: usize, max_payload: usize) -> PacketBuffer {
        let n = max_packets.clamp(1, u16::MAX as usize);
        PacketBuffer {
            meta: vec![PacketMeta::default(); n],
            bytes: vec![0; n.saturating_mul(max_payload)],
            max_payload,
            order: Vec::with_capacity(n),
            free: (0..n as u16).rev().collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Bytes reserved (slots and arena), for the memory-bound test.
    pub fn reserved_bytes(&self) -> usize {
        self.bytes.len()
            + self.meta.len() * core::mem::size_of::<PacketMeta>()
            + (self.order.capacity() + self.free.capacity()) * 2
    }

    fn key(&self, slot: u16) -> (i64, i64) {
        self.meta
            .get(slot as usize)
            .map_or((i64::MAX, i64::MAX), |m| (m.ts, m.seq))
    }

    /// The `i`-th packet in timestamp order.
    pub fn get(&self, i: usize) -> Option<&PacketMeta> {
        let slot = *self.order.get(i)?;
        self.meta.get(slot as usize)
    }

    /// The earliest packet.
    pub fn front(&self) -> Option<&PacketMeta> {
        self.get(0)
    }

    /// The latest packet.
    #[cfg(test)]
    pub fn back(&self) -> Option<&PacketMeta> {
        self.order.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// Payload of the `i`-th packet in timestamp order.
    pub fn payload(&self, i: usize) -> &[u8] {
        let Some(&slot) = self.order.get(i) else {
            return &[];
        };
        let len = self.meta.get(slot as usize).map_or(0, |m| m.len as usize);
        let start = slot as usize * self.max_payload;
        self.bytes.get(start..start + len).unwrap_or(&[])
    }

    /// Stores a packet (see the flood policy in the module docs).
    pub fn insert(&mut self, meta: PacketMeta, payload: &[u8]) -> Insert {
        if payload.len() > self.max_payload {
            return Insert::TooLarge;
        }
        let key = (meta.ts, meta.seq);
        let pos = match self.order.binary_search_by(|&s| self.key(s).cmp(&key)) {
            Ok(_) => return Insert::Duplicate,
            Err(p) => p,
        };
        let same_ts = |i: usize| self.get(i).is_some_and(|m| m.ts == meta.ts);
        if (pos > 0 && same_ts(pos - 1)) || same_ts(pos) {
            return Insert::SameTimestamp;
        }
        let mut dropped = None;
        let mut pos = pos;
        if self.free.is_empty() {
            if pos == 0 {
                return Insert::Rejected;
            }
            dropped = self.pop_front();
            pos -= 1;
        }
        let Some(slot) = self.free.pop() else {
            return Insert::Rejected;
        };
        let start = slot as usize * self.max_payload;
        if let Some(dst) = self.bytes.get_mut(start..start + payload.len()) {
            dst.copy_from_slice(payload);
        }
        if let Some(m) = self.meta.get_mut(slot as usize) {
            *m = PacketMeta {
                len: payload.len() as u32,
                ..meta
            };
        }
        self.order.insert(pos.min(self.order.len()), slot);
        match dropped {
            Some(d) => Insert::StoredDroppedOldest(d),
            None => Insert::Stored,
        }
    }

    /// Removes and returns the earliest packet's metadata (read its payload
    /// with [`PacketBuffer::payload`]`(0)` first).
    pub fn pop_front(&mut self) -> Option<PacketMeta> {
        if self.order.is_empty() {
            return None;
        }
        let slot = self.order.remove(0);
        self.free.push(slot);
        self.meta.get(slot as usize).copied()
    }

    /// Removes every packet.
    pub fn clear(&mut self) {
        while let Some(s) = self.order.pop() {
            self.free.push(s);
        }
    }

    /// Timestamp just past the end of the latest packet.
    #[cfg(test)]
    pub fn end_ts(&self) -> Option<i64> {
        self.back().map(PacketMeta::end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(seq: i64, ts: i64) -> PacketMeta {
        PacketMeta {
            seq,
            ts,
            dur: 160,
            ..PacketMeta::default()
        }
    }

    #[test]
    fn orders_by_timestamp_and_detects_duplicates() {
        let mut b = PacketBuffer::new(4, 8);
        assert_eq!(b.insert(m(2, 320), &[2]), Insert::Stored);
        assert_eq!(b.insert(m(0, 0), &[0]), Insert::Stored);
        assert_eq!(b.insert(m(1, 160), &[1, 1]), Insert::Stored);
        assert_eq!(b.insert(m(1, 160), &[1, 1]), Insert::Duplicate);
        assert_eq!(b.insert(m(9, 160), &[9]), Insert::SameTimestamp);
        assert_eq!(b.front().map(|p| p.seq), Some(0));
        assert_eq!(b.payload(1), &[1, 1]);
        assert_eq!(b.end_ts(), Some(480));
        assert_eq!(b.insert(m(3, 480), &[0; 9]), Insert::TooLarge);
    }

    #[test]
    fn flood_drops_oldest() {
        let mut b = PacketBuffer::new(3, 4);
        for i in 0..3 {
            assert_eq!(b.insert(m(i, i * 160), &[i as u8]), Insert::Stored);
        }
        match b.insert(m(10, 1600), &[10]) {
            Insert::StoredDroppedOldest(d) => assert_eq!(d.seq, 0),
            other => panic!("{other:?}"),
        }
        assert_eq!(b.insert(m(-5, -800), &[0]), Insert::Rejected);
        assert_eq!(b.len(), 3);
        assert_eq!(b.front().map(|p| p.seq), Some(1));
        assert_eq!(b.back().map(|p| p.seq), Some(10));
        assert_eq!(b.payload(2), &[10]);
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.insert(m(0, 0), &[1, 2, 3, 4]), Insert::Stored);
    }
}
