//! RFC 4733 DTMF in a stream the gateway does not own.
//!
//! The browser owns the RTP stream it sends (SSRC, sequence numbers,
//! timestamps). To put a key press into it, the gateway acts as a minimal
//! translator: [`DtmfInjector`] gives its telephone-event packets the
//! browser's SSRC, timestamps on the browser's clock (extrapolated from the
//! last packet seen), and sequence numbers following the last one forwarded;
//! every browser packet after that is renumbered by the count of injected
//! packets, so the peer sees one gap-free sequence space. Until the first
//! injection the offset is zero and the browser's bytes go through unchanged.
//!
//! An event is sent like libwebrtc and voxlet's own `Sender` do: one packet
//! per ptime with the event's start timestamp, the first with the marker
//! bit, the duration growing by one ptime each, and the end (E bit, exact
//! duration) three times. Audio keeps flowing meanwhile.
//!
//! [`DtmfDetector`] reports each new event (new SSRC/timestamp) coming from
//! the peer once, when its first packet arrives.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use voxlet::codec::telephone_event::{digit_to_event, TelephoneEvent};
use voxlet::rtp::{seq_newer, RtpHeader, RtpPacket, RTP_FIXED_HEADER_LEN};

/// Digits queued at most.
pub const QUEUE_LEN: usize = 32;
/// Silence between two events.
pub const GAP: Duration = Duration::from_millis(50);
/// The end packet is sent this many times.
pub const END_REPEATS: usize = 3;
/// Volume of injected events (−dBm0).
pub const VOLUME: u8 = 10;

#[derive(Clone, Copy, Debug)]
struct LastIn {
    ssrc: u32,
    ts: u32,
    at: Instant,
}

#[derive(Clone, Copy, Debug)]
struct Active {
    event: u8,
    ts: u32,
    total: u32,
    elapsed: u32,
    first: bool,
}

/// Injects RFC 4733 events into the browser → peer stream.
#[derive(Debug)]
pub struct DtmfInjector {
    pt: u8,
    clock: u32,
    ptime: Duration,
    ticks_per_packet: u32,
    offset: u16,
    last_out_seq: Option<u16>,
    last_in: Option<LastIn>,
    own_ssrc: u32,
    own_ts: u32,
    created: Instant,
    queue: VecDeque<(u8, u32)>,
    active: Option<Active>,
    next_at: Option<Instant>,
    gap_until: Option<Instant>,
    /// Telephone-event packets injected.
    pub packets: u64,
    /// Events completed.
    pub events: u64,
}

impl DtmfInjector {
    /// An injector on payload type `pt` with `clock` Hz timestamps, one
    /// packet per `ptime_ms`; `seed` picks the SSRC used if the browser
    /// never sent anything.
    pub fn new(pt: u8, clock: u32, ptime_ms: u16, seed: u64, now: Instant) -> DtmfInjector {
        let mut rng = crate::impair::Rng::from_state(seed);
        DtmfInjector {
            pt,
            clock,
            ptime: Duration::from_millis(ptime_ms as u64),
            ticks_per_packet: clock * ptime_ms as u32 / 1000,
            offset: 0,
            last_out_seq: None,
            last_in: None,
            own_ssrc: rng.next_u64() as u32,
            own_ts: rng.next_u64() as u32,
            created: now,
            queue: VecDeque::new(),
            active: None,
            next_at: None,
            gap_until: None,
            packets: 0,
            events: 0,
        }
    }

    /// Longest event in ms (the 16-bit duration field at this clock, and 5 s).
    pub fn max_duration_ms(&self) -> u32 {
        (u16::MAX as u64 * 1000 / self.clock as u64).min(5000) as u32
    }

    /// Queues a key; errors with a message for a bad digit / full queue.
    pub fn push(&mut self, digit: char, duration_ms: u32, now: Instant) -> Result<(), String> {
        let event = digit_to_event(digit.to_ascii_uppercase())
            .ok_or_else(|| format!("{digit:?} is not a DTMF key (0-9 * # A-D)"))?;
        if self.queue.len() >= QUEUE_LEN {
            return Err(format!("{QUEUE_LEN} keys already queued"));
        }
        let ms = duration_ms.clamp(40, self.max_duration_ms());
        let total = (ms as u64 * self.clock as u64 / 1000) as u32;
        self.queue.push_back((event, total));
        if self.active.is_none() && self.next_at.is_none() {
            self.next_at = Some(self.gap_until.map_or(now, |g| g.max(now)));
        }
        Ok(())
    }

    /// Renumbers one browser RTP packet (already validated) if needed and
    /// remembers where the stream is.
    pub fn forward(&mut self, pkt: Bytes, now: Instant) -> Bytes {
        let Ok(p) = RtpPacket::parse(&pkt) else {
            return pkt;
        };
        let out_seq = p.sequence().wrapping_add(self.offset);
        self.last_in = Some(LastIn {
            ssrc: p.ssrc(),
            ts: p.timestamp(),
            at: now,
        });
        if self.last_out_seq.is_none_or(|l| seq_newer(out_seq, l)) {
            self.last_out_seq = Some(out_seq);
        }
        if self.offset == 0 {
            return pkt;
        }
        let mut v = pkt.to_vec();
        v[2..4].copy_from_slice(&out_seq.to_be_bytes());
        Bytes::from(v)
    }

    /// When [`DtmfInjector::poll`] has something to do.
    pub fn next_due(&self) -> Option<Instant> {
        self.next_at
    }

    /// Whether an event is playing or queued.
    pub fn busy(&self) -> bool {
        self.active.is_some() || !self.queue.is_empty()
    }

    fn media_ts(&self, now: Instant) -> (u32, u32) {
        match self.last_in {
            Some(l) => {
                let el = now.saturating_duration_since(l.at).as_millis() as u64;
                let ticks = el * self.clock as u64 / 1000;
                (l.ssrc, l.ts.wrapping_add(ticks as u32))
            }
            None => {
                let el = now.saturating_duration_since(self.created).as_millis() as u64;
                (
                    self.own_ssrc,
                    self.own_ts
                        .wrapping_add((el * self.clock as u64 / 1000) as u32),
                )
            }
        }
    }

    fn packet(&mut self, ssrc: u32, a: &Active, duration: u32, end: bool, out: &mut Vec<Bytes>) {
        let seq = self
            .last_out_seq
            .map_or(self.own_ts as u16, |s| s.wrapping_add(1));
        let header = RtpHeader {
            marker: a.first,
            payload_type: self.pt,
            sequence: seq,
            timestamp: a.ts,
            ssrc,
            ..RtpHeader::default()
        };
        let mut buf = [0u8; RTP_FIXED_HEADER_LEN + 4];
        let ev = TelephoneEvent {
            event: a.event,
            end,
            volume: VOLUME,
            duration: duration.min(u16::MAX as u32) as u16,
        };
        if ev.write(&mut buf[RTP_FIXED_HEADER_LEN..]).is_err()
            || header.write(&[], &mut buf).is_err()
        {
            return;
        }
        self.last_out_seq = Some(seq);
        self.offset = self.offset.wrapping_add(1);
        self.packets += 1;
        out.push(Bytes::copy_from_slice(&buf));
    }

    /// Emits the telephone-event packets due at `now` into `out`.
    pub fn poll(&mut self, now: Instant, out: &mut Vec<Bytes>) {
        let Some(due) = self.next_at else {
            return;
        };
        if now < due {
            return;
        }
        let ssrc = self.media_ts(now).0;
        match self.active {
            None => {
                let Some((event, total)) = self.queue.pop_front() else {
                    self.next_at = None;
                    return;
                };
                let (_, ts) = self.media_ts(now);
                let mut a = Active {
                    event,
                    ts,
                    total,
                    elapsed: self.ticks_per_packet.min(total),
                    first: true,
                };
                if a.elapsed >= a.total {
                    self.finish(ssrc, &mut a, now, out);
                } else {
                    self.packet(ssrc, &a, a.elapsed, false, out);
                    a.first = false;
                    self.active = Some(a);
                    self.next_at = Some(due + self.ptime);
                }
            }
            Some(mut a) => {
                a.elapsed = (a.elapsed + self.ticks_per_packet).min(a.total);
                if a.elapsed >= a.total {
                    self.finish(ssrc, &mut a, now, out);
                } else {
                    self.packet(ssrc, &a, a.elapsed, false, out);
                    self.active = Some(a);
                    self.next_at = Some(due + self.ptime);
                }
            }
        }
    }

    fn finish(&mut self, ssrc: u32, a: &mut Active, now: Instant, out: &mut Vec<Bytes>) {
        for _ in 0..END_REPEATS {
            self.packet(ssrc, a, a.total, true, out);
            a.first = false;
        }
        self.events += 1;
        self.active = None;
        let gap = now + GAP;
        self.gap_until = Some(gap);
        self.next_at = if self.queue.is_empty() {
            None
        } else {
            Some(gap)
        };
    }
}

/// Reports each new telephone-event from the peer once.
#[derive(Debug, Default)]
pub struct DtmfDetector {
    pt: Option<u8>,
    last: Option<(u32, u32)>,
    /// Events reported.
    pub events: u64,
}

impl DtmfDetector {
    /// A detector for payload type `pt` (`None`: detects nothing).
    pub fn new(pt: Option<u8>) -> DtmfDetector {
        DtmfDetector {
            pt,
            last: None,
            events: 0,
        }
    }

    /// The key of a new event starting in `pkt`, if any.
    pub fn inspect(&mut self, pkt: &[u8]) -> Option<char> {
        let pt = self.pt?;
        if pkt.len() < RTP_FIXED_HEADER_LEN + 4 || pkt[1] & 0x7f != pt {
            return None;
        }
        let p = RtpPacket::parse(pkt).ok()?;
        let ev = TelephoneEvent::parse(p.payload()).ok()?;
        let key = (p.ssrc(), p.timestamp());
        if self.last == Some(key) {
            return None;
        }
        self.last = Some(key);
        let d = ev.digit()?;
        self.events += 1;
        Some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtp(seq: u16, ts: u32) -> Bytes {
        let h = RtpHeader {
            payload_type: 0,
            sequence: seq,
            timestamp: ts,
            ssrc: 0xabc,
            ..RtpHeader::default()
        };
        let mut b = vec![0u8; 12 + 160];
        h.write(&[0u8; 160], &mut b).unwrap();
        Bytes::from(b)
    }

    #[test]
    fn injects_event_and_renumbers() {
        let t0 = Instant::now();
        let mut inj = DtmfInjector::new(101, 8000, 20, 1, t0);
        let a = rtp(100, 1000);
        assert_eq!(inj.forward(a.clone(), t0), a, "unchanged before any DTMF");
        inj.push('5', 100, t0).unwrap();
        let mut out = Vec::new();
        let mut t = t0;
        while inj.busy() {
            inj.poll(t, &mut out);
            t += Duration::from_millis(20);
        }
        // 100 ms at 20 ms: 4 growing packets, then the end three times.
        assert_eq!(out.len(), 4 + 3);
        let mut det = DtmfDetector::new(Some(101));
        let mut seqs = Vec::new();
        for (i, p) in out.iter().enumerate() {
            let pk = RtpPacket::parse(p).unwrap();
            assert_eq!(pk.ssrc(), 0xabc);
            assert_eq!(pk.timestamp(), 1000);
            assert_eq!(pk.marker(), i == 0);
            seqs.push(pk.sequence());
            let d = det.inspect(p);
            assert_eq!(d, if i == 0 { Some('5') } else { None });
            let ev = TelephoneEvent::parse(pk.payload()).unwrap();
            assert_eq!(ev.end, i >= 4);
        }
        assert_eq!(seqs, (101..108).collect::<Vec<u16>>());
        let b = inj.forward(rtp(101, 1160), t);
        assert_eq!(RtpPacket::parse(&b).unwrap().sequence(), 108);
    }
}
