//! The receive-path benchmark scenario, defined once for every example that
//! measures it (`receiver_bench`; `bench_anchors`, natively, in wasm and in
//! the AudioWorklet; `bench_alloc`), so their figures are about the same
//! packets: the speech fixtures looped into 20 ms RTP packets (Opus mono
//! with in-band FEC), sent when their audio is complete, through the seeded
//! network of [`crate::netsim`] with 40 ms (p95) jitter, 5 % bursty loss
//! and 2 % reordering.

use crate::netsim::{Arrival, Jitter, Loss, NetSim};
use crate::signal::s16le_f32;
use voxlet::codec::{CodecInfo, CodecKind, EncoderSettings, Registry};
use voxlet::rtp::RtpHeader;

/// The 8 kHz speech fixture (s16le).
pub static SPEECH_8K: &[u8] = include_bytes!("../../../tests/fixtures/speech_8k.s16le");
/// The 16 kHz speech fixture (s16le).
pub static SPEECH_16K: &[u8] = include_bytes!("../../../tests/fixtures/speech_16k.s16le");
/// The 48 kHz speech fixture (s16le).
pub static SPEECH_48K: &[u8] = include_bytes!("../../../tests/fixtures/speech_48k.s16le");

/// Payload type of the scenario's packets.
pub const PT: u8 = 96;

/// A codec as the benchmarks use it (G.711 and G.722 on their 8 kHz RTP
/// clock, Opus mono), with its speech fixture (at the codec's sample rate)
/// and rtpmap.
pub fn codec(kind: CodecKind) -> (CodecInfo, &'static [u8], &'static str) {
    let (info, speech, rtpmap) = match kind {
        CodecKind::Pcmu => (CodecInfo::new(kind, 8000, 1), SPEECH_8K, "PCMU/8000"),
        CodecKind::G722 => (CodecInfo::new(kind, 8000, 1), SPEECH_16K, "G722/8000"),
        CodecKind::Opus => (
            CodecInfo::new(kind, 48000, 2).and_then(|i| i.with_channels(1)),
            SPEECH_48K,
            "opus/48000/2",
        ),
        k => panic!("no benchmark stream for {k:?}"),
    };
    (info.expect("codec info"), speech, rtpmap)
}

/// `seconds` of `speech`, looped, in 20 ms packets of payload type `pt`;
/// each with its send time (when its audio is complete), in ms.
pub fn packets(info: CodecInfo, pt: u8, speech: &[f32], seconds: usize) -> Vec<(Vec<u8>, f64)> {
    let mut enc = info
        .encoder(&EncoderSettings {
            fec: true,
            packet_loss_percent: 5,
            ..EncoderSettings::default()
        })
        .expect("encoder");
    let frames = info.sample_rate as usize / 50;
    let ticks = info.clock_rate / 50;
    let (mut payload, mut packet) = (vec![0u8; 4000], vec![0u8; 4100]);
    (0..seconds * 50)
        .map(|i| {
            let k = (i * frames) % (speech.len() - frames);
            let n = enc
                .encode(&speech[k..k + frames], &mut payload)
                .expect("encode");
            let h = RtpHeader {
                payload_type: pt,
                sequence: i as u16,
                timestamp: i as u32 * ticks,
                ssrc: 1,
                ..RtpHeader::default()
            };
            let len = h.write(&payload[..n], &mut packet).expect("rtp");
            (packet[..len].to_vec(), (i * 20 + 20) as f64)
        })
        .collect()
}

/// The impaired network: 40 ms (p95) jitter, 5 % loss in bursts of mean 2,
/// 2 % reordering, seed 5.
pub fn network() -> NetSim {
    NetSim {
        seed: 5,
        loss: Loss::bursty(0.05, 2.0),
        jitter: Jitter::p95(40.0),
        reorder: 0.02,
        ..NetSim::default()
    }
}

/// One codec's scenario, ready to play: the registry mapping [`PT`], and
/// the arrivals sorted by time.
pub struct Stream {
    /// Maps [`PT`] to the codec.
    pub reg: Registry,
    /// The packets as they arrive, sorted by time.
    pub arrivals: Vec<Arrival>,
}

/// `seconds` of `kind`'s speech through [`network`].
pub fn impaired(kind: CodecKind, seconds: usize) -> Stream {
    let (info, speech, rtpmap) = codec(kind);
    let (arrivals, _) = network().run(&packets(info, PT, &s16le_f32(speech), seconds));
    let mut reg = Registry::empty();
    reg.insert_rtpmap(PT, rtpmap).expect("rtpmap");
    Stream { reg, arrivals }
}
