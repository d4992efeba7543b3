//! Decoded audio waiting to be played (NetEq's "sync buffer"), at the
//! codec's rate, with a tag per frame saying what it is (for the stats).
//!
//! Three positions, in frames: `read ≤ commit ≤ end`.
//! - `[read, end)` is decoded and not yet played (resampled to the output);
//! - `[read, commit)` has been handed to the concealer's history (or made
//!   by it) and must not change any more;
//! - `[commit, end)` is freshly decoded audio that time-stretching may
//!   still rewrite.
//!
//! Storage is one preallocated linear buffer; when an append does not fit
//! at the tail, the unplayed part is moved to the front.

/// Frame tags.
pub(crate) mod tag {
    /// Decoded from a packet (or recovered by FEC).
    pub const NORMAL: u8 = 0;
    /// Concealment of lost or late audio.
    pub const CONCEALED: u8 = 1;
    /// Concealment that is silent.
    pub const CONCEALED_SILENT: u8 = 2;
    /// Comfort silence in a DTX gap or while re-buffering mid-stream.
    pub const COMFORT: u8 = 3;
    /// Silence before playout ever started (not counted as received).
    pub const PRESTART: u8 = 4;
    /// Recovered from in-band FEC (Opus LBRR).
    pub const RECOVERED_FEC: u8 = 5;
    /// Recovered from deep redundancy (Opus DRED).
    pub const RECOVERED_DRED: u8 = 6;
    /// Concealment by deep PLC (counted in `CONCEALED` too).
    pub const CONCEALED_DEEP: u8 = 7;
    /// How many tags there are.
    pub const COUNT: usize = 8;
}

#[derive(Clone, Debug)]
pub(crate) struct SyncBuffer {
    data: Vec<f32>,
    tags: Vec<u8>,
    ch: usize,
    cap: usize,
    read: usize,
    commit: usize,
    end: usize,
}

impl SyncBuffer {
    /// Room for `cap_frames` frames of up to `max_ch` channels.
    pub fn new(cap_frames: usize, max_ch: usize) -> SyncBuffer {
        SyncBuffer {
            data: vec![0.0; cap_frames * max_ch.max(1)],
            tags: vec![0; cap_frames],
            ch: 1,
            cap: cap_frames,
            read: 0,
            commit: 0,
            end: 0,
        }
    }

    /// Empties the buffer and sets its channel count.
    pub fn reset(&mut self, ch: usize) {
        self.ch = ch.max(1);
        self.read = 0;
        self.commit = 0;
        self.end = 0;
    }

    pub fn channels(&self) -> usize {
        self.ch
    }

    pub fn unplayed(&self) -> usize {
        self.end - self.read
    }

    pub fn commit_pos(&self) -> usize {
        self.commit
    }

    pub fn end_pos(&self) -> usize {
        self.end
    }

    pub fn uncommitted(&self) -> usize {
        self.end - self.commit
    }

    fn compact(&mut self) {
        if self.read == 0 {
            return;
        }
        let ch = self.ch;
        self.data.copy_within(self.read * ch..self.end * ch, 0);
        self.tags.copy_within(self.read..self.end, 0);
        self.commit -= self.read;
        self.end -= self.read;
        self.read = 0;
    }

    /// The next `n` frames past the end, to be filled and then appended with
    /// [`SyncBuffer::advance`]; `n` is cut to the room left.
    pub fn tail(&mut self, n: usize) -> &mut [f32] {
        if self.end + n > self.cap {
            self.compact();
        }
        let n = n.min(self.cap - self.end);
        let ch = self.ch;
        self.data
            .get_mut(self.end * ch..(self.end + n) * ch)
            .unwrap_or_default()
    }

    /// Appends the `n` frames written into [`SyncBuffer::tail`], with `tag`.
    pub fn advance(&mut self, n: usize, t: u8) {
        let n = n.min(self.cap - self.end);
        if let Some(tags) = self.tags.get_mut(self.end..self.end + n) {
            tags.fill(t);
        }
        self.end += n;
    }

    /// Like [`SyncBuffer::advance`], tagging each frame `quiet` when all its
    /// samples are below `level` in magnitude, else `loud`.
    pub fn advance_classified(&mut self, n: usize, loud: u8, quiet: u8, level: f32) {
        let n = n.min(self.cap - self.end);
        let ch = self.ch;
        let frames = self
            .data
            .get(self.end * ch..(self.end + n) * ch)
            .unwrap_or_default();
        let tags = self
            .tags
            .get_mut(self.end..self.end + n)
            .unwrap_or_default();
        for (t, f) in tags.iter_mut().zip(frames.chunks_exact(ch)) {
            *t = if f.iter().all(|v| v.abs() < level) {
                quiet
            } else {
                loud
            };
        }
        self.end += n;
    }

    /// The frames `[from, to)` (interleaved) and their tags.
    pub fn frames_mut(&mut self, from: usize, to: usize) -> (&mut [f32], &[u8]) {
        let ch = self.ch;
        let to = to.min(self.end);
        let from = from.min(to);
        (
            self.data.get_mut(from * ch..to * ch).unwrap_or_default(),
            self.tags.get(from..to).unwrap_or_default(),
        )
    }

    /// Unplayed frames from the read position, `n` of them.
    pub fn readable(&self, n: usize) -> (&[f32], &[u8]) {
        let ch = self.ch;
        let to = (self.read + n).min(self.end);
        (
            self.data.get(self.read * ch..to * ch).unwrap_or_default(),
            self.tags.get(self.read..to).unwrap_or_default(),
        )
    }

    pub fn read_pos(&self) -> usize {
        self.read
    }

    /// Marks everything before `pos` as committed.
    pub fn set_commit(&mut self, pos: usize) {
        self.commit = pos.max(self.commit).min(self.end);
    }

    /// Consumes `n` played frames.
    pub fn consume(&mut self, n: usize) {
        self.read = (self.read + n).min(self.end);
        if self.commit < self.read {
            self.commit = self.read;
        }
        if self.read == self.end {
            self.read = 0;
            self.commit = 0;
            self.end = 0;
        }
    }

    /// Replaces the uncommitted frames with `src` (interleaved, any length
    /// up to the room), tagged normal. Returns the frames now uncommitted.
    pub fn replace_uncommitted(&mut self, src: &[f32]) -> usize {
        let ch = self.ch;
        let n = (src.len() / ch).min(self.cap - self.commit);
        if let (Some(dst), Some(s)) = (
            self.data.get_mut(self.commit * ch..(self.commit + n) * ch),
            src.get(..n * ch),
        ) {
            dst.copy_from_slice(s);
        }
        if let Some(tags) = self.tags.get_mut(self.commit..self.commit + n) {
            tags.fill(tag::NORMAL);
        }
        self.end = self.commit + n;
        n
    }

    /// The uncommitted frames, interleaved.
    pub fn uncommitted_frames(&self) -> &[f32] {
        let ch = self.ch;
        self.data
            .get(self.commit * ch..self.end * ch)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_read_commit_compact() {
        let mut s = SyncBuffer::new(8, 2);
        s.reset(1);
        s.tail(5).copy_from_slice(&[1., 2., 3., 4., 5.]);
        s.advance(5, tag::NORMAL);
        s.set_commit(2);
        assert_eq!(s.uncommitted_frames(), &[3., 4., 5.]);
        s.consume(3);
        assert_eq!(s.unplayed(), 2);
        // Needs compaction: 6 more frames only fit after moving 2 to the front.
        let t = s.tail(6);
        assert_eq!(t.len(), 6);
        t.fill(9.0);
        s.advance(6, tag::CONCEALED);
        assert_eq!(s.unplayed(), 8);
        assert_eq!(s.readable(3).0, &[4., 5., 9.]);
        assert_eq!(s.readable(3).1, &[0, 0, 1]);
        s.set_commit(1);
        assert_eq!(s.replace_uncommitted(&[7.0]), 1);
        assert_eq!(s.unplayed(), 2);
        assert_eq!(s.readable(2).0, &[4., 7.]);
        s.consume(10);
        assert_eq!(s.unplayed(), 0);
    }
}
