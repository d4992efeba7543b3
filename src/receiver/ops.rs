//! The operations that append audio to the sync buffer other than
//! decoding (NetEq's `Expand`, `Accelerate` / `PreemptiveExpand`,
//! `ComfortNoise`): concealment (codec PLC or the pitch-based concealer),
//! comfort noise and silence, time-stretching; and what every append
//! updates (the concealer's history, the playout timeline, the noise
//! floor).

use crate::dsp::StretchMode;

use super::decision;
use super::packet_buffer::PacketMeta;
use super::render::Step;
use super::sync_buffer::tag;
use super::{frames_to_ms, ms_to_frames, Receiver, OPUS_STEP, STEP_MS};

/// A non-urgent time-stretch waits for this much quiet audio, ms.
const MIN_PAUSE_MS: f64 = 80.0;
/// Below this a concealed frame counts as silent (one 16-bit LSB).
const SILENT_LEVEL: f32 = 1.0 / 32768.0;

impl Receiver {
    /// Appends `frames` of comfort: the noise of the last CN packet when
    /// the pause follows one, silence otherwise.
    pub(super) fn comfort(&mut self, frames: usize, advance: bool) {
        if !self
            .playout
            .in_comfort_noise(self.buffer.front().map(|p| p.seq))
        {
            self.silence(frames, tag::COMFORT, advance);
            return;
        }
        let frames = frames.max(1);
        let end = self.sync.end_pos();
        self.commit_to(end);
        let pc = self.sync.channels().max(1);
        let dst = self.sync.tail(frames);
        let n = dst.len() / pc;
        // The same (mono) noise in every channel.
        for frame in dst.chunks_exact_mut(pc) {
            frame.fill(self.playout.cn.sample());
        }
        self.sync.advance(n, tag::COMFORT);
        let end = self.sync.end_pos();
        self.commit_to(end);
        self.after_append(n, advance);
    }

    /// Appends `frames` of silence with `t`; `advance` moves the timeline.
    pub(super) fn silence(&mut self, frames: usize, t: u8, advance: bool) {
        let frames = frames.max(1);
        let end = self.sync.end_pos();
        self.commit_to(end);
        let pc = self.sync.channels();
        let dst = self.sync.tail(frames);
        dst.fill(0.0);
        let n = dst.len() / pc;
        self.sync.advance(n, t);
        let end = self.sync.end_pos();
        self.commit_to(end);
        self.after_append(n, advance);
    }

    /// Accounts for `frames` just appended to the sync buffer; `advance`
    /// moves the playout timeline by them.
    pub(super) fn after_append(&mut self, frames: usize, advance: bool) {
        let rate = self.chain_rate();
        self.playout.after_append(frames, rate, advance);
    }

    /// One step of loss concealment, at most 10 ms (less when the gap to
    /// the next packet is shorter).
    pub(super) fn loss_step(&mut self, gap_ms: Option<f64>) -> Step {
        let ms = gap_ms.map_or(f64::from(STEP_MS), |g| g.min(f64::from(STEP_MS)).max(0.0));
        let rate = self.chain_rate();
        let frames = ms_to_frames(ms, rate).max(1);
        if self.cfg.dred_enabled && self.recover_dred(frames) {
            return Step::Audio;
        }
        if !self.playout.in_loss {
            self.playout.in_loss = true;
            self.stats.concealment_events += 1;
        }
        self.conceal(frames, true);
        self.playout.conceal_run_ms += ms.max(frames_to_ms(1, rate));
        Step::Audio
    }

    /// `short` frames of silence after `max_conceal_ms` of loss: silent
    /// codec PLC for Opus, the faded-out concealer otherwise.
    pub(super) fn loss_silence(&mut self, short: usize) -> Step {
        let frames = short;
        if self.cfg.dred_enabled {
            // The packet after the outage is here: what its DRED holds of
            // the outage plays instead of silence; with rewind, all of it
            // (the timeline moves back: that much more delay).
            if self.cfg.dred_rewind {
                self.rewind_into_dred();
            }
            if self.recover_dred(frames) {
                return Step::Audio;
            }
        }
        let codec_plc = self.decoders.codec_plc();
        if codec_plc {
            self.silence(frames, tag::CONCEALED_SILENT, true);
        } else {
            self.conceal(frames, true);
        }
        self.playout.conceal_run_ms += frames_to_ms(frames, self.chain_rate());
        Step::Audio
    }

    /// Silence expected in a DTX gap (`gap_ms` to the next packet, if
    /// any): Opus CNG after a DTX packet, else comfort noise or silence.
    pub(super) fn dtx_silence(&mut self, gap_ms: Option<f64>, short: usize) -> Step {
        let rate = self.chain_rate();
        let gap_ms = gap_ms.unwrap_or(f64::from(STEP_MS));
        // (No `clamp`: it panics when its bounds cross.)
        let ms = gap_ms.min(frames_to_ms(short, rate)).max(0.0);
        let cng = self.playout.last_dtx_packet && self.decoders.codec_plc();
        if cng {
            let frames = ms_to_frames(ms, rate).div_ceil(OPUS_STEP).max(1) * OPUS_STEP;
            if self.codec_conceal(frames, tag::COMFORT, tag::COMFORT, true) {
                return Step::Audio;
            }
        }
        self.comfort(ms_to_frames(ms, rate).max(1), true);
        Step::Audio
    }

    /// Appends `frames` of concealment: the codec's PLC if it has one (Opus,
    /// rounded up to 2.5 ms), else the pitch-based concealer.
    pub(super) fn conceal(&mut self, frames: usize, advance: bool) {
        let codec_plc = self.decoders.codec_plc();
        if codec_plc && self.decoders.is_active() {
            let n = frames.div_ceil(OPUS_STEP).max(1) * OPUS_STEP;
            let loud = if self.cfg.deep_plc {
                tag::CONCEALED_DEEP
            } else {
                tag::CONCEALED
            };
            if self.codec_conceal(n, loud, tag::CONCEALED_SILENT, advance) {
                return;
            }
        }
        let end = self.sync.end_pos();
        self.commit_to(end);
        let pc = self.sync.channels();
        let dst = self.sync.tail(frames.max(1));
        let n = dst.len() / pc;
        if let Some(c) = self.decoders.chain_mut() {
            c.plc.conceal(dst);
        } else {
            dst.fill(0.0);
        }
        self.advance_classified(n, tag::CONCEALED, tag::CONCEALED_SILENT);
        let end = self.sync.end_pos();
        self.sync.set_commit(end);
        self.after_append(n, advance);
    }

    /// Recovers the next `frames` (rounded up to 2.5 ms) of a gap from the
    /// deep redundancy (Opus DRED) of the packet after it, if that packet
    /// is buffered, decodes with the current decoder and carries DRED
    /// reaching this far back. False: conceal instead.
    pub(super) fn recover_dred(&mut self, frames: usize) -> bool {
        let Some(p) = self.front_on_current_decoder() else {
            return false;
        };
        let Some(d) = self.decoders.current_mut() else {
            return false;
        };
        let rate = d.info.sample_rate;
        let codec_ch = d.codec_ch;
        let before = self.playout.frames_until(p.ts, rate) as usize / OPUS_STEP * OPUS_STEP;
        let n = frames.div_ceil(OPUS_STEP).max(1) * OPUS_STEP;
        if before < n {
            return false;
        }
        let payload = self.buffer.payload(0);
        let Some(buf) = self.dec_buf.get_mut(..n * codec_ch) else {
            return false;
        };
        match d
            .dec
            .decode_redundancy(payload, p.seq as u64, before, n, buf)
        {
            Ok(Some(got)) => {
                let end = self.sync.end_pos();
                self.commit_to(end);
                let m = self.append_decoded(got, codec_ch);
                self.sync.advance(m, tag::RECOVERED_DRED);
                let end = self.sync.end_pos();
                self.sync.set_commit(end);
                self.after_append(m, true);
                self.playout.in_loss = false;
                // Audio up to here came from packet data: a rewind never
                // goes back over it again.
                self.playout.decoded_end = self.playout.decoded_end.max(self.playout.play_ts);
                true
            }
            Ok(None) => false,
            Err(_) => {
                self.stats.errors.decode_failed += 1;
                false
            }
        }
    }

    /// Moves the timeline back to where the next packet's DRED starts, if
    /// that is before where playout is (see `NeuralOpus::dred_rewind`).
    pub(super) fn rewind_into_dred(&mut self) {
        let Some(p) = self.front_on_current_decoder() else {
            return;
        };
        let rewind = self.dred_rewind(&p);
        if rewind > p.ts - self.playout.play_ts {
            self.playout.play_ts = p.ts - rewind;
        }
    }

    /// The next buffered packet, if the current (active) decoder decodes
    /// it: the one whose redundancy can fill the gap before it.
    fn front_on_current_decoder(&self) -> Option<PacketMeta> {
        let p = self.buffer.front().copied()?;
        (p.decoder as usize == self.decoders.current_index() && self.decoders.is_active())
            .then_some(p)
    }

    /// Codec PLC (or CNG after a DTX packet) into the sync buffer.
    pub(super) fn codec_conceal(
        &mut self,
        frames: usize,
        loud: u8,
        quiet: u8,
        advance: bool,
    ) -> bool {
        let Some(d) = self.decoders.current_mut() else {
            return false;
        };
        let codec_ch = d.codec_ch;
        let Some(buf) = self.dec_buf.get_mut(..frames * codec_ch) else {
            return false;
        };
        match d.dec.conceal(frames, buf) {
            Ok(n) => {
                let end = self.sync.end_pos();
                self.commit_to(end);
                let n = self.append_decoded(n, codec_ch);
                self.advance_classified(n, loud, quiet);
                let end = self.sync.end_pos();
                self.sync.set_commit(end);
                self.after_append(n, advance);
                true
            }
            Err(_) => false,
        }
    }

    /// Copies `n` decoded frames from `dec_buf` to the sync buffer's tail
    /// (down-mixing stereo to mono when needed); returns the frames copied.
    /// The caller tags them with `advance`.
    pub(super) fn append_decoded(&mut self, n: usize, codec_ch: usize) -> usize {
        let pc = self.sync.channels();
        let src = self.dec_buf.get(..n * codec_ch).unwrap_or_default();
        let dst = self.sync.tail(n);
        let m = dst.len() / pc;
        if codec_ch == pc {
            if let (Some(d), Some(s)) = (dst.get_mut(..m * pc), src.get(..m * pc)) {
                d.copy_from_slice(s);
            }
        } else {
            for (d, s) in dst.chunks_exact_mut(pc).zip(src.chunks_exact(codec_ch)) {
                let v = s.iter().sum::<f32>() / codec_ch as f32;
                d.fill(v);
            }
        }
        m
    }

    /// Appends the `n` frames written at the tail, tagged `quiet` when
    /// silent and `loud` otherwise.
    pub(super) fn advance_classified(&mut self, n: usize, loud: u8, quiet: u8) {
        self.sync.advance_classified(n, loud, quiet, SILENT_LEVEL);
    }

    /// Hands unplayed frames up to `pos` to the concealer's history (which
    /// cross-fades the first ones after a loss, in place).
    pub(super) fn commit_to(&mut self, pos: usize) {
        self.decoders.commit_to(&mut self.sync, pos);
    }

    /// Updates the noise floor from the last `frames` appended frames.
    pub(super) fn track_noise_floor(&mut self, frames: usize, rate: u32) {
        let end = self.sync.end_pos();
        let (x, _) = self.sync.frames_mut(end.saturating_sub(frames), end);
        if x.is_empty() {
            return;
        }
        let e = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
        let ms = frames_to_ms(frames, rate) as f32;
        self.playout.track_noise_floor(e, ms);
    }

    /// Accelerate (`Some(fast)`) or expand (`None`) the uncommitted audio.
    pub(super) fn time_stretch(&mut self, mode: Option<bool>) {
        let pc = self.sync.channels();
        let rate = self.chain_rate();
        // Voiced speech only when the offset is far from the band (or fast
        // accelerate); else pauses only, where the seam cannot be heard.
        let (_, high) = decision::limits(self.delay.target_ms());
        let (low, _) = decision::limits(self.delay.jitter_target_ms());
        let urgent = match (mode, self.playout.offset.get()) {
            (Some(true), _) | (_, None) => true,
            (Some(false), Some(o)) => o >= high + decision::ACCEL_URGENT_MS,
            (None, Some(o)) => o < low,
        };
        let quiet = self.playout.quiet_level();
        // Not urgent: only in a real pause, not between two words. A
        // listener hears neither, but a delay change inside an utterance
        // shifts the rest of it (PESQ, which aligns utterances, scored
        // such in-utterance stretches 0.1–0.2 lower on 40 ms jitter).
        if !urgent && self.playout.quiet_run_ms < MIN_PAUSE_MS {
            return;
        }
        let Some(c) = self.decoders.chain_mut() else {
            return;
        };
        c.stretch
            .set_correlation_threshold(if urgent { 0.9 } else { f32::INFINITY });
        c.stretch.set_quiet_level(quiet);
        let input = self.sync.uncommitted_frames();
        let n_in = input.len();
        let res = match mode {
            Some(fast) => match self.stretch_buf.get_mut(..n_in) {
                Some(out) => c.stretch.accelerate(input, out, fast),
                None => return,
            },
            None => match self
                .stretch_buf
                .get_mut(..n_in + c.stretch.max_period_frames() * pc)
            {
                Some(out) => c.stretch.expand(input, out),
                None => return,
            },
        };
        if res.mode == StretchMode::Unchanged || res.changed == 0 {
            return;
        }
        let ms = frames_to_ms(res.changed, rate);
        if let Some(level) = self.playout.offset.get() {
            let (low, high) = decision::limits(self.delay.target_ms());
            let overshoot = match mode {
                Some(fast) => !fast && level - ms < low,
                None => level + ms > high,
            };
            if overshoot {
                return;
            }
        }
        let Some(src) = self.stretch_buf.get(..res.frames * pc) else {
            return;
        };
        self.sync.replace_uncommitted(src);
        let out = res.changed as f64 * f64::from(self.cfg.out_rate) / f64::from(rate.max(1));
        if mode.is_some() {
            self.stats.removed_samples_for_acceleration += self.carries.removed.take(out);
            self.playout.offset.adjust(-ms);
        } else {
            self.stats.inserted_samples_for_deceleration += self.carries.inserted.take(out);
            self.playout.offset.adjust(ms);
        }
        self.playout.since_stretch_ms = 0.0;
    }
}
