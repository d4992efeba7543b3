//! The sending side of the soak tests (`receiver_soak`, `soak_fast`): 20 ms
//! PCMU packets of the speech fixture (encoded once, cycled) sent into a
//! simulated [`Link`] as their send time comes on a clock that runs `ppm`
//! fast (+) or slow (−). Packets are streamed, never all in memory, so a
//! day of audio costs nothing to hold. Timestamps start just below the
//! 32-bit wrap and sequence numbers wrap every 21 minutes.

use crate::netsim::{Fate, Link};
use crate::signal::s16le_f32;
use voxlet::codec::g711::PcmuEncoder;
use voxlet::codec::Encoder;
use voxlet::rtp::RtpHeader;

static SPEECH_8K: &[u8] = include_bytes!("../../../tests/fixtures/speech_8k.s16le");

/// PCMU at 8 kHz, 20 ms packets, payload type 0.
pub struct DriftingSender {
    payloads: Vec<Vec<u8>>,
    packet: Vec<u8>,
    ppm: f64,
    packets: u64,
    /// Packets sent so far.
    pub sent: u64,
    /// Of those, dropped by the link.
    pub lost: u64,
}

impl DriftingSender {
    /// A sender of `total_ms` of audio (by its own clock), `ppm` off.
    pub fn new(total_ms: f64, ppm: f64) -> DriftingSender {
        let mut enc = PcmuEncoder::new();
        let speech = s16le_f32(SPEECH_8K);
        let payloads = speech
            .chunks_exact(160)
            .map(|f| {
                let mut p = vec![0u8; 160];
                enc.encode(f, &mut p).unwrap();
                p
            })
            .collect();
        DriftingSender {
            payloads,
            packet: vec![0u8; 12 + 160],
            ppm,
            packets: (total_ms / 20.0) as u64,
            sent: 0,
            lost: 0,
        }
    }

    /// Packets the whole run sends.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Receiver time (ms) 1 s before the last packet is sent: run to here
    /// and the stream is live throughout.
    pub fn end_ms(&self) -> f64 {
        self.packets as f64 * 20.0 / (1.0 + self.ppm * 1e-6) - 1000.0
    }

    /// Sends every packet due by receiver time `t_ms` + 100 ms.
    pub fn send_until(&mut self, link: &mut Link, t_ms: f64) {
        while self.sent < self.packets
            && (self.sent as f64 * 20.0) / (1.0 + self.ppm * 1e-6) <= t_ms + 100.0
        {
            let h = RtpHeader {
                payload_type: 0,
                sequence: self.sent as u16,
                timestamp: (self.sent as u32)
                    .wrapping_mul(160)
                    .wrapping_add(0xFFF0_0000),
                ssrc: 0x50AC,
                ..RtpHeader::default()
            };
            let p = &self.payloads[self.sent as usize % self.payloads.len()];
            let len = h.write(p, &mut self.packet).unwrap();
            if link.send(&self.packet[..len], self.sent as f64 * 20.0) == Fate::Lost {
                self.lost += 1;
            }
            self.sent += 1;
        }
    }
}
