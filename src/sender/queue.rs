//! The bounded packet queue: a ring of preallocated fixed-size slots.
//!
//! Every slot is big enough for the largest packet the configuration can
//! produce (12-byte header + the encoder's worst-case payload), so packets
//! are encoded straight into their slot and handed out as a borrowed slice:
//! no allocation and no copy after construction.

/// Per-slot bookkeeping.
#[derive(Clone, Copy, Debug, Default)]
pub struct SlotMeta {
    /// Packet length in bytes.
    pub len: usize,
    /// Media position of the packet's frame slot, in codec frames since the
    /// stream start (its release time in paced mode).
    pub media_frame: u64,
    /// `now_ms` of the `push_audio` that produced it.
    pub queued_ms: f64,
}

#[derive(Debug)]
pub struct PacketQueue {
    buf: Vec<u8>,
    slot_size: usize,
    meta: Vec<SlotMeta>,
    head: usize,
    len: usize,
}

impl PacketQueue {
    pub fn new(capacity: usize, slot_size: usize) -> PacketQueue {
        let capacity = capacity.max(1);
        PacketQueue {
            buf: vec![0u8; capacity * slot_size],
            slot_size,
            meta: vec![SlotMeta::default(); capacity],
            head: 0,
            len: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.meta.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn free(&self) -> usize {
        self.capacity() - self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn slot(&self, index: usize) -> core::ops::Range<usize> {
        let start = index * self.slot_size;
        start..start + self.slot_size
    }

    /// The buffer of the next free slot (undefined contents), or `None` if full.
    pub fn tail_mut(&mut self) -> Option<&mut [u8]> {
        if self.len == self.capacity() {
            return None;
        }
        let r = self.slot((self.head + self.len) % self.capacity());
        self.buf.get_mut(r)
    }

    /// Commits the slot returned by [`PacketQueue::tail_mut`].
    pub fn commit(&mut self, meta: SlotMeta) {
        if self.len < self.capacity() {
            let i = (self.head + self.len) % self.capacity();
            self.meta[i] = SlotMeta {
                len: meta.len.min(self.slot_size),
                ..meta
            };
            self.len += 1;
        }
    }

    pub fn front(&self) -> Option<SlotMeta> {
        (self.len > 0).then(|| self.meta[self.head])
    }

    /// Removes the oldest packet and returns its bytes (valid until the next
    /// mutation of the queue).
    pub fn pop(&mut self) -> Option<&[u8]> {
        if self.len == 0 {
            return None;
        }
        let i = self.head;
        self.head = (self.head + 1) % self.capacity();
        self.len -= 1;
        let len = self.meta[i].len;
        let r = self.slot(i);
        self.buf.get(r.start..r.start + len)
    }
}
