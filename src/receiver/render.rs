//! The playout path (NetEq's `GetAudio`): [`Receiver::render`] resamples
//! the sync buffer to the output; while it runs short, one decision at a
//! time ([`decide`]) says what to append: decode (and maybe time-stretch),
//! start or re-buffer, flush down to the target, recover from FEC,
//! conceal, or play silence (the operations other than decoding are in
//! [`ops`](super::ops)).

use super::decision::{self, decide, Inputs, Next, Op};
use super::decoders::Selected;
use super::events::ReceiverEvent;
use super::packet_buffer::PacketMeta;
use super::sync_buffer::tag;
use super::{frames_to_ms, ms_to_frames, Receiver, OPUS_STEP, STEP_MS};

/// Gaps in the buffered timeline up to this long are counted in the level
/// (probably losses); longer ones (DTX, timestamp jumps) end it.
const RUN_GAP_MS: f64 = 200.0;
/// Short concealment used to cross-fade over a flush, ms.
const FLUSH_FADE_MS: u32 = 5;

/// What one [`Receiver::render`] call played.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RenderInfo {
    /// Frames written (always `out.len() / output_channels`).
    pub frames: usize,
    /// Of those, frames of concealment (lost or late audio).
    pub concealed_frames: usize,
    /// Of those, frames decoded from packets.
    pub decoded_frames: usize,
    /// Buffer level at the latest decision, ms.
    pub level_ms: f64,
    /// Target delay, ms.
    pub target_ms: f64,
}

/// Result of one decision step in `render`.
pub(super) enum Step {
    /// Audio was appended to the sync buffer.
    Audio,
    /// The next packet needs another codec rate: play out what is left first.
    Drain,
}

impl Receiver {
    /// Fills `out` (interleaved, `output_channels` per frame) with the next
    /// `out.len() / output_channels` frames; `now_ms` is when its first
    /// frame plays. Never fails, never panics, never allocates once
    /// playing. A trailing partial frame is zeroed.
    pub fn render(&mut self, out: &mut [f32], now_ms: f64) -> RenderInfo {
        let ch = self.cfg.out_ch;
        let frames = out.len() / ch;
        let now = if now_ms.is_finite() {
            now_ms
        } else {
            self.playout.last_now_ms
        };
        if let Some(rest) = out.get_mut(frames * ch..) {
            rest.fill(0.0);
        }
        {
            let events = &mut self.events;
            let stats = &mut self.stats;
            self.dtmf.poll_timeout(now, &mut |e| {
                if events.push(e) {
                    stats.events_dropped += 1;
                }
            });
        }
        if frames > 0 {
            let block = frames.min(self.cfg.sub_block);
            self.delay
                .set_block_ms(frames_to_ms(block, self.cfg.out_rate));
        }
        let mut info = RenderInfo {
            frames,
            ..RenderInfo::default()
        };
        let mut done = 0;
        while done < frames {
            let n = (frames - done).min(self.cfg.sub_block);
            let t = now + frames_to_ms(done, self.cfg.out_rate);
            if let Some(dst) = out.get_mut(done * ch..(done + n) * ch) {
                self.render_block(dst, t, &mut info);
            }
            done += n;
        }
        self.playout.last_now_ms = now + frames_to_ms(frames, self.cfg.out_rate);
        if let Some(o) = out.get(..frames * ch) {
            self.meter.meter(o, ch, self.cfg.out_rate, &mut self.stats);
        }
        info.level_ms = self.stats.buffer_level_ms;
        info.target_ms = self.stats.target_delay_ms;
        info
    }

    /// Fills one internal block (at most `sub_block` frames) whose first
    /// frame plays at `t0`.
    fn render_block(&mut self, dst: &mut [f32], t0: f64, info: &mut RenderInfo) {
        let ch = self.cfg.out_ch;
        let n = dst.len() / ch;
        let mut written = 0;
        let mut guard = 0;
        while written < n {
            guard += 1;
            let want = n - written;
            let Some(rest) = dst.get_mut(written * ch..) else {
                break;
            };
            if guard > 64 {
                // Cannot happen (every step appends audio); never loop forever.
                rest.fill(0.0);
                break;
            }
            let need = self
                .decoders
                .chain()
                .map_or(want, |c| c.rs.input_frames_needed(want));
            if self.sync.unplayed() >= need {
                written += self.play(need, want, rest, info);
                continue;
            }
            let t_read = t0 + frames_to_ms(written, self.cfg.out_rate);
            let short = need - self.sync.unplayed();
            match self.produce(t_read, short) {
                Step::Audio => {}
                Step::Drain => {
                    let avail = self.sync.unplayed();
                    written += self.play(avail, want, rest, info);
                    self.sync.consume(self.sync.unplayed());
                }
            }
        }
    }

    /// Resamples up to `input` unplayed frames into at most `max_out`
    /// output frames of `dst`; returns the frames written.
    fn play(
        &mut self,
        input: usize,
        max_out: usize,
        dst: &mut [f32],
        info: &mut RenderInfo,
    ) -> usize {
        let read = self.sync.read_pos();
        self.commit_to(read + input);
        let pc = self.sync.channels();
        let Some(chain) = self.decoders.chain_mut() else {
            return 0;
        };
        let (src, tags) = self.sync.readable(input);
        let Some(tmp) = self.out_buf.get_mut(..max_out * pc) else {
            return 0;
        };
        let (used, got) = chain.rs.process(src, tmp);
        // Stats by what the consumed frames were, scaled to output frames.
        let mut counts = [0usize; tag::COUNT];
        for t in tags.iter().take(used) {
            if let Some(c) = counts.get_mut(*t as usize) {
                *c += 1;
            }
        }
        if used > 0 {
            let k = got as f64 / used as f64;
            let [normal, concealed, silent, comfort, _prestart, fec, dred, deep] = counts;
            let decoded = normal + fec + dred;
            let concealed = concealed + deep;
            let c = &mut self.carries;
            let s = &mut self.stats;
            let total = c
                .total
                .take((decoded + concealed + silent + comfort) as f64 * k);
            s.total_samples_received += total;
            s.total_samples_duration += total as f64 / f64::from(self.cfg.out_rate);
            let conc = c.concealed.take((concealed + silent) as f64 * k);
            s.concealed_samples += conc;
            s.silent_concealed_samples += c.silent.take(silent as f64 * k);
            s.comfort_samples += c.comfort.take(comfort as f64 * k);
            s.fec_samples += c.fec.take(fec as f64 * k);
            s.dred_samples += c.dred.take(dred as f64 * k);
            s.deep_plc_samples += c.deep.take(deep as f64 * k);
            info.concealed_frames += ((concealed + silent) as f64 * k).round() as usize;
            info.decoded_frames += (decoded as f64 * k).round() as usize;
        }
        // Up-mix into the caller's interleaved block.
        let ch = self.cfg.out_ch;
        let tmp = self.out_buf.get(..got * pc).unwrap_or_default();
        if pc == ch {
            if let Some(d) = dst.get_mut(..got * ch) {
                d.copy_from_slice(tmp);
            }
        } else {
            for (d, s) in dst.chunks_exact_mut(ch).zip(tmp.chunks_exact(pc)) {
                let v = s.iter().sum::<f32>() / pc as f32;
                d.fill(v);
            }
        }
        self.sync.consume(used);
        got
    }

    /// Rate of the sync buffer (the current chain's), Hz.
    pub(super) fn chain_rate(&self) -> u32 {
        self.decoders.chain_rate()
    }

    /// Makes `di` the current decoder; `false` when its rate differs and
    /// the sync buffer must be played out first.
    fn ensure_decoder(&mut self, di: usize) -> bool {
        match self.decoders.select(di, &mut self.sync) {
            Selected::Ready => true,
            Selected::Changed { old, new } => {
                self.emit(ReceiverEvent::PayloadTypeChanged { old, new });
                true
            }
            Selected::Drain => false,
        }
    }

    /// Audio held, ms: unplayed decoded audio plus the buffered timeline
    /// from the playout position (or the first packet) through the run of
    /// packets separated by gaps of at most `RUN_GAP_MS`.
    fn level_now(&self) -> f64 {
        let unplayed = frames_to_ms(self.sync.unplayed(), self.chain_rate());
        let front = self.buffer.front().map(|p| p.ts);
        let from = if self.playout.playing {
            Some(front.map_or(self.playout.play_ts, |f| f.min(self.playout.play_ts)))
        } else {
            front
        };
        unplayed + from.map_or(0.0, |f| self.run_ms(f))
    }

    /// Buffered audio from timestamp `from` to the end of the run, ms.
    fn run_ms(&self, from: i64) -> f64 {
        let clock = match self.buffer.front() {
            Some(p) => self
                .decoders
                .get(p.decoder as usize)
                .map_or(8000, |d| d.info.clock_rate),
            None => return 0.0,
        };
        let max_gap = (RUN_GAP_MS * f64::from(clock) / 1000.0) as i64;
        let mut cursor = from;
        let mut i = 0;
        while let Some(p) = self.buffer.get(i) {
            i += 1;
            if p.end() <= cursor {
                continue;
            }
            if p.ts - cursor > max_gap {
                break;
            }
            cursor = p.end();
        }
        (cursor - from).max(0) as f64 * 1000.0 / f64::from(clock.max(1))
    }

    /// No audio sequence number missing between the last played packet and `seq`.
    fn contiguous(&self, seq: i64) -> bool {
        self.source.contiguous(self.playout.last_seq, seq)
    }

    /// With nothing buffered: is silence expected rather than a loss? After
    /// an Opus DTX packet, or when packets newer than the last one played
    /// have arrived and none of them was audio (telephone-events while the
    /// audio is suppressed).
    fn in_dtx(&self) -> bool {
        if self.playout.last_dtx_packet && self.decoders.codec_plc() {
            return true;
        }
        match (self.playout.last_seq, self.source.highest_seq()) {
            (Some(last), Some(high)) if high > last => self.contiguous(high + 1),
            _ => false,
        }
    }

    /// Drops the oldest buffered packet, counted as discarded (and as
    /// late when it arrived too late to play).
    fn discard_front(&mut self, late: bool) {
        if let Some(p) = self.buffer.pop_front() {
            if p.has_fec {
                self.stats.fec_packets_discarded += 1;
            }
            self.stats.packets_discarded += 1;
            if late {
                self.stats.packets_late += 1;
            }
        }
    }

    /// Drops buffered packets whose audio is entirely behind playout.
    fn drop_stale(&mut self) {
        if !self.playout.playing {
            return;
        }
        while let Some(p) = self.buffer.front() {
            if p.end() > self.playout.decoded_end {
                break;
            }
            self.discard_front(false);
        }
        // Stalled (a delay spike, or an outage): packets wholly behind the
        // playout position are late when a later one is still on time. The
        // timeline goes on where it was, as if the spike's packets had been
        // lost; re-buffering at the target instead would shift the audio
        // after every spike and keep the spike in the delay.
        if self.playout.conceal_run_ms >= self.cfg.max_conceal_ms {
            let last = self.buffer.len().saturating_sub(1);
            let on_time = self
                .buffer
                .get(last)
                .is_some_and(|q| q.end() > self.playout.play_ts);
            while let Some(p) = self.buffer.front().copied() {
                if !on_time || p.end() > self.playout.play_ts || self.buffer.len() < 2 {
                    break;
                }
                self.discard_front(true);
                self.playout.trim_late = true;
            }
        }
    }

    /// One playout decision; appends audio to the sync buffer (or asks for
    /// a drain). `short` is how many frames the current render still lacks:
    /// silence is made only that long, so a talkspurt can start at any frame.
    fn produce(&mut self, t_read: f64, short: usize) -> Step {
        let step = ms_to_frames(f64::from(STEP_MS), self.chain_rate()).max(1);
        let short = short.min(step).max(1);
        let t = t_read + frames_to_ms(self.sync.unplayed(), self.chain_rate());
        self.drop_stale();
        if self.playout.playing {
            if let Some(p) = self.buffer.front() {
                let clock = self
                    .decoders
                    .get(p.decoder as usize)
                    .map_or(self.playout.clock, |d| d.info.clock_rate);
                if clock != self.playout.clock {
                    // Another RTP clock: its timestamps are a new timeline.
                    self.playout.playing = false;
                }
            }
        }
        let raw = self.level_now();
        let next = self.buffer.front().copied().map(|p| self.next_info(&p, t));
        if !self.playout.playing {
            self.playout.offset.reset();
            self.playout.offset_dt_ms = 0.0;
        }
        let target = self.delay.target_ms();
        self.stats.buffer_level_ms = raw;
        self.stats.target_delay_ms = target;
        let op = decide(&Inputs {
            playing: self.playout.playing,
            next,
            offset_ms: self.playout.offset.get(),
            level_ms: raw,
            target_ms: target,
            max_delay_ms: self.cfg.max_delay_ms,
            conceal_run_ms: self.playout.conceal_run_ms,
            max_conceal_ms: self.cfg.max_conceal_ms,
            in_dtx: self.in_dtx(),
            since_stretch_ms: self.playout.since_stretch_ms,
            draining: self.playout.draining,
        });
        self.playout.draining = self.playout.playing
            && match op {
                Op::Accelerate { .. } => true,
                Op::Normal | Op::Expand => {
                    self.playout.draining
                        && self
                            .playout
                            .offset
                            .get()
                            .is_some_and(|o| o >= target + decision::QUIET_LOW_MS)
                }
                _ => false,
            };
        match op {
            Op::Wait => {
                if self.playout.started {
                    self.comfort(short, false);
                } else {
                    self.silence(short, tag::PRESTART, false);
                }
                Step::Audio
            }
            Op::Start => self.start(t, t_read, target),
            Op::Normal => self.decode_packets(t_read, None),
            Op::Accelerate { fast } => self.decode_packets(t_read, Some(Some(fast))),
            Op::Expand => self.decode_packets(t_read, Some(None)),
            Op::Flush => self.flush_to_target(raw, target),
            Op::Fec => {
                let Some(p) = self.buffer.front().copied() else {
                    return self.fallback();
                };
                if p.decoder as usize != self.decoders.current_index() || !self.recover_fec(&p, t) {
                    return self.loss_step(next.map(|n| n.gap_ms));
                }
                Step::Audio
            }
            Op::Conceal => self.loss_step(next.map(|n| n.gap_ms)),
            Op::LossSilence => self.loss_silence(short),
            Op::DtxSilence => self.dtx_silence(next.map(|n| n.gap_ms), short),
        }
    }

    /// Starts playout at the first buffered packet (re-buffering with a
    /// backlog: at the first one at the target delay). `t` is when the
    /// audio appended now will play.
    fn start(&mut self, t: f64, t_read: f64, target: f64) -> Step {
        // Re-buffering with a backlog (packets released together
        // after a stall): start at the first packet that is at the
        // target delay, dropping older ones as late.
        while let (Some(p), Some(q)) = (self.buffer.get(0).copied(), self.buffer.get(1).copied()) {
            let min = self.delay.min_ms();
            let off = |x: &PacketMeta| t - (x.arrival_ms - x.need_ms(min));
            if off(&q) < target || off(&p) <= target + decision::HIGH_MS {
                break;
            }
            self.discard_front(true);
        }
        let Some(p) = self.buffer.front().copied() else {
            return self.fallback();
        };
        if !self.ensure_decoder(p.decoder as usize) {
            return Step::Drain;
        }
        let restart = self.playout.started;
        self.playout.play_ts = p.ts;
        self.playout.clock = self
            .decoders
            .get(p.decoder as usize)
            .map_or(8000, |d| d.info.clock_rate);
        self.playout.playing = true;
        self.playout.started = true;
        self.playout.conceal_run_ms = 0.0;
        // A restart after a stall: the offset filtered before it
        // says nothing about the new timeline.
        self.playout.offset.reset();
        self.playout.offset_dt_ms = 0.0;
        if restart && self.cfg.dred_rewind {
            self.rewind_into_dred();
            if self.playout.play_ts < p.ts {
                // The gap before `p` is then filled from its DRED by the
                // loss steps, as a gap still ahead of playout is.
                return self.loss_step(None);
            }
        }
        self.decode_packets(t_read, None)
    }

    /// Clock ticks of the outage before `p` that its DRED holds and no
    /// packet played: how far a restart rewinds (0: none).
    pub(super) fn dred_rewind(&mut self, p: &PacketMeta) -> i64 {
        let decoded_end = self.playout.decoded_end;
        let Some(d) = self.decoders.current_mut() else {
            return 0;
        };
        if !d.codec_plc || d.info.clock_rate != d.info.sample_rate {
            return 0;
        }
        let payload = self.buffer.payload(0);
        let Ok(reach) = d.dec.redundancy_reach(payload, p.seq as u64) else {
            return 0;
        };
        let unplayed = p.ts.saturating_sub(decoded_end).max(0);
        let step = OPUS_STEP as i64;
        let rewind = (reach as i64).min(unplayed) / step * step;
        if rewind >= 4 * step {
            rewind
        } else {
            0
        }
    }

    /// Drops the oldest packets until the level (`level_ms`) is down to
    /// the target, and conceals briefly over the jump.
    fn flush_to_target(&mut self, level_ms: f64, target: f64) -> Step {
        let mut lvl = level_ms;
        while self.buffer.len() > 1 {
            let Some(p) = self.buffer.front().copied() else {
                break;
            };
            let dur_ms = f64::from(p.dur) * 1000.0 / f64::from(self.playout.clock.max(1));
            if lvl - dur_ms < target {
                break;
            }
            lvl -= dur_ms;
            self.discard_front(false);
        }
        if let Some(p) = self.buffer.front() {
            self.playout.play_ts = self.playout.play_ts.max(p.ts);
        }
        self.playout.offset.reset();
        // A short concealment over the jump; the next decode merges.
        if !self.playout.in_loss {
            self.playout.in_loss = true;
            self.stats.concealment_events += 1;
        }
        let frames = ms_to_frames(f64::from(FLUSH_FADE_MS), self.chain_rate());
        self.conceal(frames, false);
        Step::Audio
    }

    /// Appends 10 ms of comfort silence (used when nothing else applies).
    fn fallback(&mut self) -> Step {
        self.comfort(ms_to_frames(f64::from(STEP_MS), self.chain_rate()), false);
        Step::Audio
    }

    /// What the decision needs to know of the next packet `p`, for audio
    /// appended now that plays at `t`.
    fn next_info(&self, p: &PacketMeta, t: f64) -> Next {
        let (clock, codec_plc) = self
            .decoders
            .get(p.decoder as usize)
            .map_or((8000, false), |d| (d.info.clock_rate, d.codec_plc));
        let to_ms = 1000.0 / f64::from(clock.max(1));
        let gap_ms = if self.playout.playing {
            (p.ts - self.playout.play_ts) as f64 * to_ms
        } else {
            0.0
        };
        let dur_ms = f64::from(p.dur) * to_ms;
        let need = p.need_ms(self.delay.min_ms());
        Next {
            gap_ms,
            dur_ms,
            contiguous: self.contiguous(p.seq),
            fec: self.cfg.fec_enabled && p.has_fec && codec_plc && gap_ms > 0.0,
            offset_ms: t - (p.arrival_ms - need),
            start_min_ms: need + self.delay.margin_ms(),
        }
    }

    /// Decodes the next packet; for a stretch operation (`Some(Some(fast))`
    /// accelerate, `Some(None)` expand) decodes following due packets until
    /// the stretcher has its 30 ms, then stretches.
    fn decode_packets(&mut self, t_read: f64, stretch: Option<Option<bool>>) -> Step {
        let Some(p) = self.buffer.front().copied() else {
            return self.fallback();
        };
        if !self.ensure_decoder(p.decoder as usize) {
            return Step::Drain;
        }
        self.decode_front(t_read);
        let Some(mode) = stretch else {
            return Step::Audio;
        };
        let min_in = self
            .decoders
            .chain()
            .map_or(usize::MAX, |c| c.stretch.min_input_frames());
        let mut extra = 0;
        while self.sync.uncommitted() < min_in && extra < 8 {
            let Some(q) = self.buffer.front().copied() else {
                break;
            };
            let gap_ms = (q.ts - self.playout.play_ts) as f64 * 1000.0
                / f64::from(self.playout.clock.max(1));
            if q.decoder as usize != self.decoders.current_index()
                || gap_ms > decision::DUE_TOLERANCE_MS
            {
                break;
            }
            self.decode_front(t_read);
            extra += 1;
        }
        if self.sync.uncommitted() >= min_in {
            self.time_stretch(mode);
        }
        Step::Audio
    }

    /// Decodes the front packet into the sync buffer.
    fn decode_front(&mut self, t_read: f64) {
        let Some(p) = self.buffer.front().copied() else {
            return;
        };
        let Some(d) = self.decoders.get_mut(p.decoder as usize) else {
            self.buffer.pop_front();
            return;
        };
        let payload = self.buffer.payload(0);
        let codec_ch = d.codec_ch;
        let rate = d.info.sample_rate;
        let result = d.dec.decode(payload, &mut self.dec_buf);
        self.playout.last_dtx_packet = d.codec_plc && payload.len() <= 2;
        self.buffer.pop_front();
        match result {
            Ok(n) => {
                // After a delay spike (its late backlog dropped), a packet
                // partly behind the timeline plays from the timeline's
                // position, its late part cut, as a fixed buffer would.
                // Played whole, it added up to a packet of delay after
                // every spike (10 ms on average for 20 ms packets), which
                // accelerate then removed: 40 ms of time-stretching per
                // 22 s on 300 ms spikes every 5 s. A packet partly late
                // otherwise (a talkspurt's first one after a pause sent
                // without DTX) still plays whole: its start is the onset.
                let skip = if self.playout.trim_late && p.ts < self.playout.play_ts {
                    let clock = u64::from(self.playout.clock.max(1));
                    let late = (self.playout.play_ts - p.ts).unsigned_abs();
                    (late.saturating_mul(u64::from(rate)) / clock) as usize
                } else {
                    0
                };
                self.playout.trim_late = false;
                let skip = skip.min(n.saturating_sub(1));
                if skip > 0 && n * codec_ch <= self.dec_buf.len() {
                    self.dec_buf.copy_within(skip * codec_ch..n * codec_ch, 0);
                }
                let n = n - skip;
                let t_play =
                    t_read + frames_to_ms(self.sync.unplayed(), rate) - frames_to_ms(skip, rate);
                let m = self.append_decoded(n, codec_ch);
                self.sync.advance(m, tag::NORMAL);
                let need = p.need_ms(self.delay.min_ms());
                self.count_emitted(m, rate, t_play - p.arrival_ms, need);
                self.track_noise_floor(m, rate);
                let offset = t_play - (p.arrival_ms - need);
                self.playout
                    .offset
                    .update(offset, self.playout.offset_dt_ms);
                self.playout.offset_dt_ms = 0.0;
                if p.has_fec && self.playout.fec_used_seq != Some(p.seq) {
                    self.stats.fec_packets_discarded += 1;
                }
                self.after_append(m, false);
            }
            Err(_) => {
                self.stats.errors.decode_failed += 1;
                if !self.playout.in_loss {
                    self.stats.concealment_events += 1;
                }
                let frames = (u64::from(p.dur) * u64::from(rate)
                    / u64::from(self.playout.clock.max(1))) as usize;
                self.conceal(frames.max(1), false);
            }
        }
        // A packet that arrived while its slot was being concealed plays in
        // full: the timeline moves back to it (the concealment added delay).
        self.playout.play_ts = p.end();
        self.playout.decoded_end = self.playout.decoded_end.max(p.end());
        self.playout.last_seq = Some(p.seq);
        self.playout.in_loss = false;
        self.playout.conceal_run_ms = 0.0;
    }

    /// Stats for `frames` decoded frames at `rate` from a packet of
    /// relative delay `rel_ms` that waited `delay_ms` (arrival → playout).
    ///
    /// The controller's target is a playout *offset* (from when the packet
    /// would have arrived with no queueing); a packet that came `rel_ms`
    /// late is meant to wait `target − rel_ms` after its arrival. That is
    /// what is accumulated, so `jitterBufferTargetDelay` and
    /// `jitterBufferDelay` measure the same thing (WebRTC) and differ only
    /// by how far playout is from the target; accumulating the offset
    /// target itself overstated it by the mean relative delay (~25 ms at
    /// 40 ms p95 jitter). Same for the minimum delay.
    fn count_emitted(&mut self, frames: usize, rate: u32, delay_ms: f64, rel_ms: f64) {
        let out = frames as f64 * f64::from(self.cfg.out_rate) / f64::from(rate.max(1));
        let rel = if rel_ms.is_finite() { rel_ms } else { 0.0 };
        let target = (self.delay.target_ms() - rel).max(0.0);
        let minimum = (self.delay.unbounded_target_ms() - rel).max(0.0);
        let s = &mut self.stats;
        s.jitter_buffer_emitted_count += self.carries.emitted.take(out);
        s.jitter_buffer_delay += delay_ms.max(0.0) / 1000.0 * out;
        s.jitter_buffer_target_delay += target / 1000.0 * out;
        s.jitter_buffer_minimum_delay += minimum / 1000.0 * out;
    }

    /// Recovers the gap before `p` from its in-band FEC.
    fn recover_fec(&mut self, p: &PacketMeta, t: f64) -> bool {
        let Some(d) = self.decoders.current_mut() else {
            return false;
        };
        let rate = d.info.sample_rate;
        let codec_ch = d.codec_ch;
        let gap = self.playout.frames_until(p.ts, rate);
        let cap = self.dec_buf.len() / codec_ch.max(1);
        let frames = ((gap as usize + OPUS_STEP / 2) / OPUS_STEP * OPUS_STEP)
            .max(OPUS_STEP)
            .min(cap / OPUS_STEP * OPUS_STEP);
        let payload = self.buffer.payload(0);
        let Some(buf) = self.dec_buf.get_mut(..frames * codec_ch) else {
            return false;
        };
        match d.dec.decode_fec(payload, frames, buf) {
            Ok(n) => {
                let m = self.append_decoded(n, codec_ch);
                self.sync.advance(m, tag::RECOVERED_FEC);
                let need = p.need_ms(self.delay.min_ms());
                self.count_emitted(m, rate, t - p.arrival_ms, need);
                self.stats.fec_packets_recovered += 1;
                self.playout.fec_used_seq = Some(p.seq);
                self.after_append(m, false);
                self.playout.play_ts = p.ts;
                self.playout.decoded_end = self.playout.decoded_end.max(p.ts);
                self.playout.in_loss = false;
                self.playout.conceal_run_ms = 0.0;
                true
            }
            Err(_) => false,
        }
    }
}
