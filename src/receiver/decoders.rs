//! The decoder database (NetEq's `DecoderDatabase`): payload type →
//! decoder, made for every audio entry of the registry at construction;
//! per distinct (codec rate, channels) the DSP chain the decoded audio goes
//! through (resampler to the output rate, time-stretcher, concealer); and
//! which decoder and chain are current.

use crate::codec::{CodecInfo, CodecKind, Decoder};
use crate::dsp::{Concealer, Resampler, TimeStretch};

use super::config::{ReceiverConfig, Settings};
use super::error::ReceiverConfigError;
use super::sync_buffer::SyncBuffer;
use super::{ms_to_frames, OPUS_STEP, STEP_MS};

/// Marks in `pt_map`.
const NO_CODEC: u8 = u8::MAX;
const TELEPHONE_EVENT: u8 = u8::MAX - 1;
const COMFORT_NOISE: u8 = u8::MAX - 2;

/// One payload type's decoder.
pub(super) struct DecSlot {
    /// Its payload type.
    pub pt: u8,
    /// The decoder.
    pub dec: Box<dyn Decoder>,
    /// The codec as decoded (Opus at the output channels).
    pub info: CodecInfo,
    /// Channels the decoder produces.
    pub codec_ch: usize,
    /// Index of its [`Chain`].
    pub chain: usize,
    /// The codec conceals itself (Opus): PLC, FEC, CNG in DTX.
    pub codec_plc: bool,
}

impl DecSlot {
    /// Frames a payload of at most `max_payload` bytes can decode to.
    pub fn frames_bound(&self, max_payload: usize) -> usize {
        frames_bound(&self.info, self.dec.as_ref(), max_payload)
    }
}

/// DSP state for one (codec rate, channels) pair.
pub(super) struct Chain {
    /// Codec rate, Hz.
    pub rate: u32,
    /// Channels played at that rate (the codec's, at most the output's).
    pub ch: usize,
    /// To the output rate.
    pub rs: Resampler,
    /// Accelerate / pre-emptive expand.
    pub stretch: TimeStretch,
    /// Concealment for codecs without their own.
    pub plc: Concealer,
}

/// What a payload type carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PtKind {
    /// Audio, decoded by the decoder at this index.
    Audio(usize),
    /// RFC 4733 telephone-events.
    TelephoneEvent,
    /// RFC 3389 comfort noise.
    ComfortNoise,
}

/// Scratch sizes the receiver needs for these decoders and chains.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sizes {
    /// Samples one decode (or one concealment step) can produce.
    pub dec_samples: usize,
    /// Frames the sync buffer must hold.
    pub sync_frames: usize,
    /// Samples a time-stretch can output.
    pub chain_samples: usize,
}

/// What [`DecoderDatabase::select`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Selected {
    /// The decoder is current (it was, or became so without a payload
    /// type change to report).
    Ready,
    /// It became current, replacing another payload type.
    Changed {
        /// The previous payload type.
        old: u8,
        /// The new one.
        new: u8,
    },
    /// Its rate differs: the sync buffer must be played out first.
    Drain,
}

/// Payload type → decoder, the DSP chains, and the current ones.
pub(super) struct DecoderDatabase {
    pt_map: [u8; 128],
    slots: Vec<DecSlot>,
    chains: Vec<Chain>,
    cur_dec: usize,
    cur_chain: usize,
    /// A decoder has been selected (`cur_dec` means something).
    active: bool,
}

/// Frames a payload of at most `max_payload` bytes can decode to.
fn frames_bound(info: &CodecInfo, dec: &dyn Decoder, max_payload: usize) -> usize {
    let by_size = match info.kind {
        CodecKind::Pcmu | CodecKind::Pcma => max_payload,
        CodecKind::G722 => max_payload.saturating_mul(2),
        CodecKind::L16 => max_payload / (2 * usize::from(info.channels.max(1))),
        CodecKind::Opus | CodecKind::TelephoneEvent | CodecKind::ComfortNoise => dec.max_frames(),
    };
    by_size.min(dec.max_frames()).max(1)
}

impl DecoderDatabase {
    /// A decoder per audio payload type of `cfg.registry` and a chain per
    /// distinct (rate, channels); the current chain is the first at the
    /// output rate (so nothing is resampled before the first packet).
    pub fn new(
        cfg: &ReceiverConfig,
        s: &Settings,
    ) -> Result<(DecoderDatabase, Sizes), ReceiverConfigError> {
        let out_ch = s.out_ch;
        let out_rate = s.out_rate;
        let sub_block = s.sub_block;

        let mut pt_map = [NO_CODEC; 128];
        let mut decoders: Vec<DecSlot> = Vec::new();
        let mut chains: Vec<Chain> = Vec::new();
        let mut max_dec_samples = 0usize;
        let mut max_sync_frames = 0usize;
        let mut max_chain_samples = 0usize;
        for pt in 0u8..128 {
            let Some(info) = cfg.registry.get(pt) else {
                continue;
            };
            if matches!(
                info.kind,
                CodecKind::TelephoneEvent | CodecKind::ComfortNoise
            ) {
                if let Some(m) = pt_map.get_mut(pt as usize) {
                    *m = if info.kind == CodecKind::ComfortNoise {
                        COMFORT_NOISE
                    } else {
                        TELEPHONE_EVENT
                    };
                }
                continue;
            }
            let dinfo = if info.kind == CodecKind::Opus {
                info.with_channels(cfg.output_channels)
                    .map_err(|error| ReceiverConfigError::Codec { pt, error })?
            } else {
                info
            };
            let mut dec = dinfo
                .decoder()
                .map_err(|error| ReceiverConfigError::Codec { pt, error })?;
            if info.kind == CodecKind::Opus {
                dec.set_neural(cfg.neural)
                    .map_err(|error| ReceiverConfigError::Codec { pt, error })?;
            }
            let codec_ch = usize::from(dinfo.channels.max(1));
            let pc = codec_ch.min(out_ch);
            let chain = match chains
                .iter()
                .position(|c| c.rate == dinfo.sample_rate && c.ch == pc)
            {
                Some(i) => i,
                None => {
                    let rs = Resampler::with_quality(
                        dinfo.sample_rate,
                        out_rate,
                        pc,
                        cfg.resampler_quality,
                    )
                    .map_err(ReceiverConfigError::Dsp)?;
                    let stretch = TimeStretch::new(dinfo.sample_rate, pc)
                        .map_err(ReceiverConfigError::Dsp)?;
                    let plc =
                        Concealer::new(dinfo.sample_rate, pc).map_err(ReceiverConfigError::Dsp)?;
                    chains.push(Chain {
                        rate: dinfo.sample_rate,
                        ch: pc,
                        rs,
                        stretch,
                        plc,
                    });
                    chains.len() - 1
                }
            };
            let bound = frames_bound(&dinfo, dec.as_ref(), cfg.max_payload_bytes);
            let rate = dinfo.sample_rate;
            let conceal_frames = ms_to_frames(f64::from(STEP_MS), rate) + OPUS_STEP;
            max_dec_samples = max_dec_samples.max(bound.max(conceal_frames) * codec_ch);
            if let Some(c) = chains.get(chain) {
                let need = c.rs.max_input_frames_needed(sub_block);
                let stretch_min = c.stretch.min_input_frames();
                let period = c.stretch.max_period_frames();
                let frames = need + stretch_min + bound + period + conceal_frames + 16;
                max_sync_frames = max_sync_frames.max(frames);
                max_chain_samples = max_chain_samples.max(frames * pc);
            }
            if let Some(m) = pt_map.get_mut(pt as usize) {
                *m = decoders.len() as u8;
            }
            decoders.push(DecSlot {
                pt,
                dec,
                info: dinfo,
                codec_ch,
                chain,
                codec_plc: info.kind == CodecKind::Opus,
            });
            if decoders.len() >= usize::from(COMFORT_NOISE) {
                break;
            }
        }
        if decoders.is_empty() {
            return Err(ReceiverConfigError::NoAudioCodec);
        }
        let first_chain = chains.iter().position(|c| c.rate == out_rate).unwrap_or(0);
        Ok((
            DecoderDatabase {
                pt_map,
                slots: decoders,
                chains,
                cur_dec: 0,
                cur_chain: first_chain,
                active: false,
            },
            Sizes {
                dec_samples: max_dec_samples,
                sync_frames: max_sync_frames,
                chain_samples: max_chain_samples,
            },
        ))
    }

    /// What payload type `pt` carries; `None` when it is not registered.
    pub fn lookup(&self, pt: u8) -> Option<PtKind> {
        match self.pt_map.get(pt as usize).copied().unwrap_or(NO_CODEC) {
            NO_CODEC => None,
            COMFORT_NOISE => Some(PtKind::ComfortNoise),
            TELEPHONE_EVENT => Some(PtKind::TelephoneEvent),
            slot => Some(PtKind::Audio(slot as usize)),
        }
    }

    /// The decoder at index `i`.
    pub fn get(&self, i: usize) -> Option<&DecSlot> {
        self.slots.get(i)
    }

    /// The decoder at index `i`, mutably.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut DecSlot> {
        self.slots.get_mut(i)
    }

    /// Index of the current decoder (0 before any was selected).
    pub fn current_index(&self) -> usize {
        self.cur_dec
    }

    /// The current decoder (the first one before any was selected).
    pub fn current(&self) -> Option<&DecSlot> {
        self.slots.get(self.cur_dec)
    }

    /// The current decoder, mutably.
    pub fn current_mut(&mut self) -> Option<&mut DecSlot> {
        self.slots.get_mut(self.cur_dec)
    }

    /// Whether a decoder has been selected since construction.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Whether the current decoder conceals itself (Opus).
    pub fn codec_plc(&self) -> bool {
        self.current().is_some_and(|d| d.codec_plc)
    }

    /// The current chain.
    pub fn chain(&self) -> Option<&Chain> {
        self.chains.get(self.cur_chain)
    }

    /// The current chain, mutably.
    pub fn chain_mut(&mut self) -> Option<&mut Chain> {
        self.chains.get_mut(self.cur_chain)
    }

    /// Rate of the current chain (the sync buffer's rate), Hz.
    pub fn chain_rate(&self) -> u32 {
        self.chain().map_or(8000, |c| c.rate)
    }

    /// Resets every decoder (a new source).
    pub fn reset_decoders(&mut self) {
        for d in self.slots.iter_mut() {
            d.dec.reset();
        }
    }

    /// Resets the current chain's concealer (its history is gone).
    pub fn reset_concealer(&mut self) {
        if let Some(c) = self.chains.get_mut(self.cur_chain) {
            c.plc.reset();
        }
    }

    /// Hands `sync`'s unplayed frames up to `pos` to the concealer's
    /// history (which cross-fades the first ones after a loss, in place).
    pub fn commit_to(&mut self, sync: &mut SyncBuffer, pos: usize) {
        let from = sync.commit_pos();
        if pos <= from {
            return;
        }
        if !self.codec_plc() {
            let (frames, _) = sync.frames_mut(from, pos);
            if let Some(c) = self.chains.get_mut(self.cur_chain) {
                c.plc.good(frames);
            }
        }
        sync.set_commit(pos);
    }

    /// Makes `di` the current decoder (resetting it, and its chain's
    /// concealer; a new chain also resets its resampler and `sync`).
    pub fn select(&mut self, di: usize, sync: &mut SyncBuffer) -> Selected {
        if self.active && di == self.cur_dec {
            return Selected::Ready;
        }
        let Some(chain) = self.slots.get(di).map(|d| d.chain) else {
            return Selected::Ready;
        };
        if chain != self.cur_chain && sync.unplayed() > 0 {
            return Selected::Drain;
        }
        let end = sync.end_pos();
        self.commit_to(sync, end);
        let old_pt = self
            .slots
            .get(self.cur_dec)
            .filter(|_| self.active)
            .map(|d| d.pt);
        if chain != self.cur_chain {
            self.cur_chain = chain;
            if let Some(c) = self.chains.get_mut(chain) {
                c.rs.reset();
                sync.reset(c.ch);
            }
        }
        if let Some(c) = self.chains.get_mut(chain) {
            c.plc.reset();
        }
        let mut new_pt = None;
        if let Some(d) = self.slots.get_mut(di) {
            d.dec.reset();
            new_pt = Some(d.pt);
        }
        self.cur_dec = di;
        self.active = true;
        match (old_pt, new_pt) {
            (Some(old), Some(new)) if old != new => Selected::Changed { old, new },
            _ => Selected::Ready,
        }
    }
}
