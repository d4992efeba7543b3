//! `Sender` for JavaScript: microphone audio at the AudioContext's rate in,
//! RTP (and RTCP) packets out, over [`crate::sender::Sender`].
//!
//! Audio crosses in through an owned **planar** input buffer (one run of
//! `frames` samples per channel, the layout of a worklet's `inputs[0][ch]`)
//! that JavaScript fills through views on wasm memory; packets cross out
//! through an owned packet buffer the same way. Nothing allocates per call.

use wasm_bindgen::prelude::*;

use super::{addr, js_err};
use crate::codec::{parse_rtpmap, CodecKind};
use crate::sender::{Pacing, Sender as CoreSender, SenderConfig};

/// Names of the values [`Sender::write_stats`] writes, in order (WebRTC
/// `outbound-rtp` names where one exists).
pub const STATS: &[&str] = &[
    "packetsSent",
    "bytesSent",
    "dtxFrames",
    "encodeErrors",
    "dtmfPacketsSent",
    "senderReports",
    "queuedPackets",
    "droppedFrames",
    "payloadType",
    "ssrc",
];

/// Sending side of one RTP stream.
#[wasm_bindgen]
pub struct Sender {
    core: CoreSender,
    in_ch: usize,
    planar: Vec<f32>,
    interleaved: Vec<f32>,
    packet: Vec<u8>,
    rtcp: Vec<u8>,
    dropped: u64,
    pt: u8,
    stats: Vec<f64>,
}

#[wasm_bindgen]
impl Sender {
    /// A sender of `rtpmap` (`"PCMU/8000"`, `"opus/48000/2"`…) on payload
    /// type `payloadType`, fed `inputChannels` channels at `inputRate`.
    ///
    /// `ptimeMs` packet duration (0: 20); `dtmfPayloadType` −1 disables
    /// DTMF; `dtmfClockRate` 0: the codec's; `bitrate` 0: Opus default;
    /// `rtcpIntervalMs` 0: no RTCP; `ssrc` −1: random from the seed;
    /// `seedLo/Hi` 64 bits of randomness (from `crypto.getRandomValues`);
    /// `paced` for faster-than-real-time sources.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rtpmap: &str,
        payload_type: u8,
        input_rate: u32,
        input_channels: u16,
        ptime_ms: u16,
        dtmf_payload_type: i32,
        dtmf_clock_rate: u32,
        bitrate: u32,
        fec: bool,
        dtx: bool,
        rtcp_interval_ms: u32,
        ssrc: f64,
        seed_lo: u32,
        seed_hi: u32,
        paced: bool,
    ) -> Result<Sender, JsError> {
        let mut codec = parse_rtpmap(rtpmap).map_err(js_err)?;
        if codec.kind == CodecKind::Opus && input_channels == 1 {
            // opus/48000/2 is how Opus is always signalled; send mono from a mono source.
            codec = codec.with_channels(1).map_err(js_err)?;
        }
        let mut c = SenderConfig::new(codec, payload_type);
        if ptime_ms > 0 {
            c.ptime_ms = ptime_ms;
        }
        c.input_rate = input_rate;
        c.input_channels = input_channels;
        if (0..=127).contains(&dtmf_payload_type) {
            c.dtmf_payload_type = Some(dtmf_payload_type as u8);
            if dtmf_clock_rate > 0 {
                c.dtmf_clock_rate = dtmf_clock_rate;
            }
        }
        if bitrate > 0 {
            c.opus.bitrate = bitrate;
        }
        c.opus.fec = fec;
        if fec {
            c.opus.packet_loss_percent = c.opus.packet_loss_percent.max(10);
        }
        c.opus.dtx = dtx;
        c.rtcp_interval_ms = rtcp_interval_ms;
        if ssrc >= 0.0 && ssrc <= u32::MAX as f64 {
            c.ssrc = Some(ssrc as u32);
        }
        c.seed = (seed_hi as u64) << 32 | seed_lo as u64;
        c.pacing = if paced { Pacing::Paced } else { Pacing::Live };
        let core = CoreSender::new(c).map_err(js_err)?;
        let in_ch = input_channels.clamp(1, 2) as usize;
        Ok(Sender {
            core,
            in_ch,
            planar: vec![0.0; 128 * in_ch],
            interleaved: vec![0.0; 128 * in_ch],
            packet: vec![0; 1500],
            rtcp: vec![0; 1500],
            dropped: 0,
            pt: payload_type,
            stats: vec![0.0; STATS.len()],
        })
    }

    /// The names of the statistics, in the order `writeStats` writes them.
    #[wasm_bindgen(js_name = statsNames)]
    pub fn stats_names() -> Vec<String> {
        STATS.iter().map(|s| s.to_string()).collect()
    }

    /// Address of the planar input buffer for `frames` frames per channel
    /// (`inputChannels` runs of `frames` Float32 samples). Stable while
    /// `frames` does not grow.
    #[wasm_bindgen(js_name = inputPtr)]
    pub fn input_ptr(&mut self, frames: usize) -> usize {
        let n = frames * self.in_ch;
        if self.planar.len() < n {
            self.planar.resize(n, 0.0);
            self.interleaved.resize(n, 0.0);
        }
        addr(&self.planar)
    }

    /// Encodes the `frames` planar frames in the input buffer, captured up
    /// to `nowMs`. Returns the frames taken: fewer means the packet queue
    /// was full and the rest was dropped (counted).
    #[wasm_bindgen(js_name = pushAudio)]
    pub fn push_audio(&mut self, frames: usize, now_ms: f64) -> usize {
        let ch = self.in_ch;
        let frames = frames.min(self.planar.len() / ch);
        let pcm: &[f32] = if ch == 1 {
            &self.planar[..frames]
        } else {
            for f in 0..frames {
                for c in 0..ch {
                    self.interleaved[f * ch + c] = self.planar[c * frames + f];
                }
            }
            &self.interleaved[..frames * ch]
        };
        let taken = self.core.push_audio(pcm, now_ms).unwrap_or(0);
        self.dropped += (frames - taken.min(frames)) as u64;
        taken
    }

    /// Encodes what is left in the partly filled frame (end of a file or
    /// utterance), padding with silence.
    pub fn flush(&mut self, now_ms: f64) -> Result<(), JsError> {
        self.core.flush(now_ms).map_err(js_err)
    }

    /// Copies the next due packet into the packet buffer and returns its
    /// length (0: none due). Read it at `packetPtr()`.
    #[wasm_bindgen(js_name = pollPacket)]
    pub fn poll_packet(&mut self, now_ms: f64) -> usize {
        loop {
            match self.core.poll_packet_into(now_ms, &mut self.packet) {
                None => return 0,
                Some(Ok(n)) => return n,
                Some(Err(need)) => self.packet.resize(need, 0),
            }
        }
    }

    /// Address of the packet buffer (valid until the next `pollPacket`).
    #[wasm_bindgen(js_name = packetPtr)]
    pub fn packet_ptr(&self) -> usize {
        addr(&self.packet)
    }

    /// A compound RTCP SR + SDES when one is due: copied into the RTCP
    /// buffer, length returned (0: none). `unixMs` is the wall clock.
    #[wasm_bindgen(js_name = pollRtcp)]
    pub fn poll_rtcp(&mut self, now_ms: f64, unix_ms: f64) -> usize {
        match self.core.poll_rtcp(now_ms, unix_ms) {
            Some(p) => {
                if self.rtcp.len() < p.len() {
                    self.rtcp.resize(p.len(), 0);
                }
                self.rtcp[..p.len()].copy_from_slice(p);
                p.len()
            }
            None => 0,
        }
    }

    /// Address of the RTCP buffer.
    #[wasm_bindgen(js_name = rtcpPtr)]
    pub fn rtcp_ptr(&self) -> usize {
        addr(&self.rtcp)
    }

    /// Queues a DTMF key (`0`-`9`, `*`, `#`, `A`-`D`) held `durationMs` at
    /// `volume` (0..=63, −dBm0; 10 is usual). Needs `dtmfPayloadType`.
    #[wasm_bindgen(js_name = sendDtmf)]
    pub fn send_dtmf(&mut self, digit: char, duration_ms: u32, volume: u8) -> Result<(), JsError> {
        self.core
            .send_dtmf(digit, duration_ms, volume)
            .map_err(js_err)
    }

    /// The SSRC of every packet.
    #[wasm_bindgen(getter)]
    pub fn ssrc(&self) -> u32 {
        self.core.ssrc()
    }

    /// Whether everything queued (DTMF included) has been sent.
    #[wasm_bindgen(getter, js_name = isDrained)]
    pub fn is_drained(&self) -> bool {
        self.core.is_drained()
    }

    /// Input-to-packet delay in codec frames (resampler and encoder lookahead).
    #[wasm_bindgen(getter, js_name = latencyFrames)]
    pub fn latency_frames(&self) -> usize {
        self.core.latency_frames()
    }

    /// Address of the statistics buffer (`statsNames().length` Float64s).
    #[wasm_bindgen(js_name = statsPtr)]
    pub fn stats_ptr(&self) -> usize {
        addr(&self.stats)
    }

    /// Refreshes the statistics buffer.
    #[wasm_bindgen(js_name = writeStats)]
    pub fn write_stats(&mut self) {
        let s = self.core.stats();
        let v = [
            s.packets as f64,
            s.payload_octets as f64,
            s.dtx_frames as f64,
            s.encode_errors as f64,
            s.dtmf_packets as f64,
            s.sender_reports as f64,
            self.core.queued_packets() as f64,
            self.dropped as f64,
            self.pt as f64,
            self.core.ssrc() as f64,
        ];
        self.stats.copy_from_slice(&v);
    }
}
