//! RTCP sender reports: scheduling and the compound SR + SDES(CNAME) packet.

use crate::rtp::rtcp::{
    ntp_from_ms, write_sdes_cname, write_sr, SenderInfo, NTP_UNIX_EPOCH_OFFSET_MS,
};

/// Largest compound packet: SR (28) + SDES with a 255-byte CNAME (268).
pub const MAX_RTCP_LEN: usize = 28 + 4 + 4 + 2 + 255 + 1 + 3;

#[derive(Debug)]
pub struct SrScheduler {
    interval_ms: f64,
    next_ms: Option<f64>,
    buf: Vec<u8>,
    cname: Vec<u8>,
    reports: u64,
}

impl SrScheduler {
    pub fn new(interval_ms: u32, cname: Vec<u8>) -> SrScheduler {
        SrScheduler {
            interval_ms: f64::from(interval_ms),
            next_ms: None,
            buf: vec![0u8; MAX_RTCP_LEN],
            cname,
            reports: 0,
        }
    }

    pub fn cname(&self) -> &[u8] {
        &self.cname
    }

    pub fn reports(&self) -> u64 {
        self.reports
    }

    pub fn next_ms(&self) -> Option<f64> {
        self.next_ms
    }

    /// Whether a report is due at `now_ms` given that `sent_any` packets went
    /// out. The first report goes with the first poll after the first RTP
    /// packet; then one every interval (a late poll restarts the interval).
    pub fn due(&self, now_ms: f64, sent_any: bool) -> bool {
        self.interval_ms > 0.0 && sent_any && self.next_ms.is_none_or(|n| now_ms >= n)
    }

    /// Writes SR + SDES and schedules the next one; `None` only if a write
    /// failed (it cannot with the sizes used).
    pub fn build(
        &mut self,
        now_ms: f64,
        ssrc: u32,
        unix_ms: f64,
        rtp_timestamp: u32,
        packets: u32,
        octets: u32,
    ) -> Option<&[u8]> {
        let info = SenderInfo {
            ntp_timestamp: ntp_from_ms(unix_ms.max(0.0) as u64, NTP_UNIX_EPOCH_OFFSET_MS),
            rtp_timestamp,
            packet_count: packets,
            octet_count: octets,
        };
        let n = write_sr(ssrc, &info, &[], &mut self.buf).ok()?;
        let m = write_sdes_cname(ssrc, &self.cname, self.buf.get_mut(n..)?).ok()?;
        let next = match self.next_ms {
            Some(t) if now_ms < t + self.interval_ms => t + self.interval_ms,
            _ => now_ms + self.interval_ms,
        };
        self.next_ms = Some(next);
        self.reports += 1;
        self.buf.get(..n + m)
    }
}
