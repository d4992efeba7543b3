//! `Sender` for JavaScript: microphone audio at the AudioContext's rate in,
//! RTP (and RTCP) packets out, over [`crate::sender::Sender`].
//!
//! Audio crosses in through an owned **planar** input buffer (one run of
//! `frames` samples per channel, the layout of a worklet's `inputs[0][ch]`)
//! that JavaScript fills through views on wasm memory; packets cross out
//! through an owned packet buffer the same way. Nothing allocates per call.

use wasm_bindgen::prelude::*;

use super::{
    addr, fill_stats, js_err, static_payload_type, Options, StatsTable, DEFAULT_DTMF_PAYLOAD_TYPE,
};
use crate::codec::{parse_rtpmap, CodecKind};
use crate::sender::{Pacing, Sender as CoreSender, SenderConfig, SenderStats};

/// What the statistics are read from: the core's counters and the
/// binding's own.
pub struct SenderStatsView {
    core: SenderStats,
    queued_packets: usize,
    dropped_frames: u64,
    payload_type: u8,
    ssrc: u32,
}

/// The statistics `writeStats` writes, in order, with their names (WebRTC
/// `outbound-rtp` names where one exists).
pub const STATS: &StatsTable<SenderStatsView> = &[
    ("packetsSent", |s| s.core.packets as f64),
    ("bytesSent", |s| s.core.payload_octets as f64),
    ("dtxFrames", |s| s.core.dtx_frames as f64),
    ("encodeErrors", |s| s.core.encode_errors as f64),
    ("dtmfPacketsSent", |s| s.core.dtmf_packets as f64),
    ("senderReports", |s| s.core.sender_reports as f64),
    ("queuedPackets", |s| s.queued_packets as f64),
    ("droppedFrames", |s| s.dropped_frames as f64),
    ("payloadType", |s| s.payload_type as f64),
    ("ssrc", |s| s.ssrc as f64),
];

#[wasm_bindgen(typescript_custom_section)]
const SENDER_OPTIONS_TS: &str = r#"
/**
 * `new Sender(options)`: the core's SenderConfig, camelCased; a field left
 * out keeps SenderConfig::new's default. `codec` is an rtpmap value.
 */
export interface SenderOptions {
  /** rtpmap of the codec: 'PCMU/8000' (default), 'opus/48000/2', 'L16/16000/1'… Opus is encoded with `inputChannels` channels. */
  codec?: string;
  /** RTP payload type (default: the codec's static one, else 111). */
  payloadType?: number;
  /** Rate of the pushed audio, Hz (default: the codec's). */
  inputRate?: number;
  /** Channels of the pushed audio, 1 or 2 (default: the codec's). */
  inputChannels?: number;
  /** Packet duration, ms (default 20). */
  ptimeMs?: number;
  /** telephone-event payload type (default 101; null: no DTMF). */
  dtmfPayloadType?: number | null;
  /** Clock of telephone-event, Hz (default: the codec's clock rate). */
  dtmfClockRate?: number;
  /** Opus bitrate, bit/s (default 32000). */
  bitrate?: number;
  /** Opus in-band FEC (default false); spent only with packetLossPercent > 0. */
  fec?: boolean;
  /** Expected loss, % (default 0): how much Opus FEC is spent. */
  packetLossPercent?: number;
  /** Opus DTX (default false). */
  dtx?: boolean;
  /** Opus Deep REDundancy, ms of past audio per packet (multiples of 10, at most 1000; default 0: off); with packetLossPercent 0 the encoder assumes 10 % (libopus sends no DRED at 0). Needs the neural build (registerNeural() from 'voxlet/neural'). */
  dredMs?: number;
  /** RTCP sender report interval, ms (default 5000; 0: no RTCP). */
  rtcpIntervalMs?: number;
  /** SSRC (default: random from the seed). */
  ssrc?: number;
  /** 64 bits of randomness as two 32-bit words, from crypto.getRandomValues (default 0). */
  seed?: ArrayLike<number>;
  /** 'live' (default): packets released as encoded; 'paced': at their media time (files, TTS). */
  pacing?: 'live' | 'paced';
}
"#;

#[wasm_bindgen]
extern "C" {
    /// The options object of [`Sender::new`].
    #[wasm_bindgen(typescript_type = "SenderOptions")]
    pub type SenderOptions;
}

/// The codec when `codec` is left out.
pub const DEFAULT_CODEC: &str = "PCMU/8000";
/// The payload type of a codec without a static one when `payloadType` is
/// left out.
pub const DEFAULT_DYNAMIC_PAYLOAD_TYPE: u8 = 111;

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
    rtpmap: String,
    stats: Vec<f64>,
}

#[wasm_bindgen]
impl Sender {
    /// A sender configured by `options` ([`SenderOptions`]): the core's
    /// [`SenderConfig`] fields, camelCased; a field left out keeps
    /// `SenderConfig::new`'s value.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &SenderOptions) -> Result<Sender, JsError> {
        let o = Options::new(options.as_ref(), "Sender options")?;
        let rtpmap = o
            .string("codec")?
            .unwrap_or_else(|| DEFAULT_CODEC.to_string());
        let mut codec = parse_rtpmap(&rtpmap).map_err(js_err)?;
        let input_channels: Option<u16> = o.int("inputChannels")?;
        if codec.kind == CodecKind::Opus {
            // Opus is always signalled opus/48000/2; what is encoded is the input's channels.
            codec = codec
                .with_channels(input_channels.unwrap_or(codec.channels))
                .map_err(js_err)?;
        }
        let payload_type = match o.int("payloadType")? {
            Some(pt) => pt,
            None => static_payload_type(&codec).unwrap_or(DEFAULT_DYNAMIC_PAYLOAD_TYPE),
        };
        let mut c = SenderConfig::new(codec, payload_type);
        c.ptime_ms = o.int("ptimeMs")?.unwrap_or(c.ptime_ms);
        c.input_rate = o.int("inputRate")?.unwrap_or(c.input_rate);
        c.input_channels = input_channels.unwrap_or(c.input_channels);
        c.dtmf_payload_type = if o.is_null("dtmfPayloadType") {
            None
        } else {
            Some(
                o.int("dtmfPayloadType")?
                    .unwrap_or(DEFAULT_DTMF_PAYLOAD_TYPE),
            )
        };
        c.dtmf_clock_rate = o.int("dtmfClockRate")?.unwrap_or(c.dtmf_clock_rate);
        c.opus.bitrate = o.int("bitrate")?.unwrap_or(c.opus.bitrate);
        c.opus.fec = o.bool("fec")?.unwrap_or(c.opus.fec);
        c.opus.packet_loss_percent = o
            .int("packetLossPercent")?
            .unwrap_or(c.opus.packet_loss_percent);
        c.opus.dtx = o.bool("dtx")?.unwrap_or(c.opus.dtx);
        c.opus.dred_ms = o.int("dredMs")?.unwrap_or(c.opus.dred_ms);
        c.rtcp_interval_ms = o.int("rtcpIntervalMs")?.unwrap_or(c.rtcp_interval_ms);
        if let Some(ssrc) = o.int("ssrc")? {
            c.ssrc = Some(ssrc);
        }
        let seed = o.object("seed", "Sender options.seed")?;
        let seed = seed.get();
        let word = |i: &str| seed.int::<u32>(i).map(|w| w.unwrap_or(0) as u64);
        c.seed = word("1")? << 32 | word("0")?;
        c.pacing = match o.string("pacing")?.as_deref() {
            None => c.pacing,
            Some("live") => Pacing::Live,
            Some("paced") => Pacing::Paced,
            Some(p) => {
                return Err(JsError::new(&format!(
                    "Sender options: pacing {p:?} is not 'live' or 'paced'"
                )))
            }
        };
        let in_ch = c.input_channels.clamp(1, 2) as usize;
        let core = CoreSender::new(c).map_err(js_err)?;
        Ok(Sender {
            core,
            in_ch,
            planar: vec![0.0; 128 * in_ch],
            interleaved: vec![0.0; 128 * in_ch],
            packet: vec![0; 1500],
            rtcp: vec![0; 1500],
            dropped: 0,
            pt: payload_type,
            rtpmap,
            stats: vec![0.0; STATS.len()],
        })
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

    /// The codec's rtpmap value, as given (or the default).
    #[wasm_bindgen(getter)]
    pub fn codec(&self) -> String {
        self.rtpmap.clone()
    }

    /// The payload type of the audio packets.
    #[wasm_bindgen(getter, js_name = payloadType)]
    pub fn payload_type(&self) -> u8 {
        self.pt
    }

    /// Refreshes the statistics buffer.
    #[wasm_bindgen(js_name = writeStats)]
    pub fn write_stats(&mut self) {
        let view = SenderStatsView {
            core: self.core.stats(),
            queued_packets: self.core.queued_packets(),
            dropped_frames: self.dropped,
            payload_type: self.pt,
            ssrc: self.core.ssrc(),
        };
        fill_stats(STATS, &view, &mut self.stats);
    }
}

stats_methods!(Sender, STATS);
