// The receiving AudioWorkletProcessor ('voxlet-player'): packets in, audio
// out at the context's rate. Everything audible is computed by the wasm core
// (jitter buffer, decoders, concealment, resampling); this file only moves
// bytes and samples across and reports.
//
// Modes (processorOptions.mode):
//   'rtp'    - raw RTP packets into voxlet's Receiver (jitter buffer).
//   'stream' - untimestamped audio chunks into voxlet's StreamPlayer
//              (voice-AI servers): queue, clear(), marks, drained.
//
// Packets arrive either through a SharedArrayBuffer ring (cross-origin
// isolated pages; read at the start of every render quantum) or as port
// messages carrying transferred ArrayBuffers. Each record may carry a
// context time (ms) at which it is to be handed to the core (replay, tests);
// otherwise it is handed over at once, stamped with the current context
// time.
//
// Per render quantum nothing is allocated: the core renders into its own
// planar buffer, and cached Float32Array views on wasm memory are .set()
// into outputs[0][ch]. Stats and events are posted every statsIntervalMs.
//
// Event kinds and the slots of the event buffer are the wasm's own
// (`EventKind`, `EventSlot`), read once here.
import { ProcessorBase, glue } from './processor-base.js';
import { PLAYER_TAG } from './ring.js';

const EV = glue.EventKind;
const SLOT = glue.EventSlot;
const { DATA, CLEAR, MARK, FORMAT } = PLAYER_TAG;

// processorOptions → the wasm constructor's options: the user's options
// pass through untouched (a field left out keeps the core's default).
function makeCore(o, channels) {
  if (o.mode === 'stream') {
    return new glue.StreamPlayer({ ...o.stream, outputRate: sampleRate, outputChannels: channels });
  }
  return new glue.Receiver({
    ...o.jitter, outputRate: sampleRate, outputChannels: channels, payloadTypes: o.payloadTypes,
    neural: o.opus?.neural,
  });
}

class PlayerProcessor extends ProcessorBase {
  constructor(options) {
    const o = options.processorOptions || {};
    const channels = o.channels === 2 ? 2 : 1;
    super(options, { defaultStatsMs: 100, makeCore: (po) => makeCore(po, channels) });
    this.channels = channels;
    this.events = [];
    this.marks = new Map();
    this.pending = [];
    this.pendingHead = 0;
    this.scratch = new Uint8Array(512);
  }

  onMessage(m) {
    switch (m.t) {
      case 'p': { // one packet / chunk: m.b ArrayBuffer, m.at optional context ms
        const at = typeof m.at === 'number' ? m.at : NaN;
        if (at === at && at > this.now()) this.pending.push(m);
        else this.pushBytes(new Uint8Array(m.b), at === at ? at : this.now());
        break;
      }
      case 'clear': this.control(CLEAR); break;
      case 'markname': this.marks.set(m.id, m.name); break;
      case 'mark': this.marks.set(m.id, m.name); this.control(MARK, m.id); break;
      case 'format': this.control(FORMAT, m.format); break;
      default: break;
    }
  }

  /** Clear, mark and format changes, in order with the audio around them. */
  control(tag, arg) {
    try {
      if (tag === CLEAR) {
        this.pending.length = 0;
        this.pendingHead = 0;
        this.core.clear();
      } else if (tag === MARK) {
        try {
          this.core.mark(arg);
        } catch (e) {
          this.events.push({ type: 'mark', id: arg, cleared: true, error: String(e.message || e) });
        }
      } else if (tag === FORMAT) {
        try {
          this.core.setFormat(arg);
        } catch (e) {
          this.core.clear(); // audio of the old format still queued: drop it
          this.core.setFormat(arg);
        }
      }
    } catch (e) {
      this.warn(e);
    }
  }

  pushBytes(u8, arrivalMs) {
    const len = u8.length;
    const ptr = this.core.inputPtr(len);
    this.mem.refresh();
    this.mem.u8.set(u8, ptr);
    this.core.push(len, arrivalMs);
  }

  drainInputs(now) {
    const ring = this.ring;
    if (ring) {
      let n;
      while ((n = ring.next()) >= 0) {
        const tag = ring.tag;
        if (tag !== DATA) {
          const b = this.scratch;
          if (n > b.length) { ring.skip(); continue; }
          ring.read(b, 0);
          if (tag === MARK) this.control(tag, b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24));
          else if (tag === FORMAT) this.control(tag, String.fromCharCode.apply(null, b.subarray(0, n)));
          else this.control(tag);
          continue;
        }
        const t = ring.time;
        if (t === t && t > now) break; // not due yet (replay)
        const ptr = this.core.inputPtr(n);
        this.mem.refresh();
        ring.read(this.mem.u8, ptr);
        this.core.push(n, t === t ? t : now);
      }
    }
    const p = this.pending;
    while (this.pendingHead < p.length && p[this.pendingHead].at <= now) {
      const m = p[this.pendingHead++];
      this.pushBytes(new Uint8Array(m.b), m.at);
    }
    if (this.pendingHead > 0 && this.pendingHead === p.length) {
      p.length = 0;
      this.pendingHead = 0;
    }
  }

  process(inputs, outputs) {
    if (!this.alive) return false;
    const out = outputs[0];
    if (this.failed || !out || out.length === 0) {
      return true;
    }
    const frames = out[0].length;
    try {
      const now = this.now();
      this.drainInputs(now);
      const ptr = this.core.render(frames, now);
      const mem = this.mem;
      mem.refresh();
      const ch = this.channels;
      for (let c = 0; c < out.length; c++) {
        const src = c < ch ? c : ch - 1;
        out[c].set(mem.f32(src, ptr + src * frames * 4, frames));
      }
      let k;
      while ((k = this.core.pollEvent()) !== EV.None) this.onEvent(k);
      this.countQuantum();
    } catch (e) {
      this.fail(e);
    }
    return true;
  }

  onEvent(kind) {
    this.mem.refresh();
    const f = this.mem.f64;
    const i = this.core.eventPtr() >> 3;
    const time = f[i + SLOT.Time];
    const value = f[i + SLOT.Value];
    switch (kind) {
      case EV.DtmfBegin:
      case EV.DtmfEnd: {
        const d = f[i + SLOT.Digit];
        const ev = {
          type: 'dtmf', phase: kind === EV.DtmfBegin ? 'begin' : 'end', digit: d ? String.fromCharCode(d) : '',
          code: value, volume: f[i + SLOT.Volume], timeMs: time,
        };
        if (kind === EV.DtmfEnd) {
          delete ev.volume;
          ev.durationMs = f[i + SLOT.DurationMs];
          ev.timedOut = f[i + SLOT.TimedOut] !== 0;
        }
        this.events.push(ev);
        break;
      }
      case EV.Ssrc: this.events.push({ type: 'ssrc', old: f[i + SLOT.Old], ssrc: value }); break;
      case EV.PayloadType: this.events.push({ type: 'payloadtype', old: f[i + SLOT.Old], payloadType: value }); break;
      case EV.Mark: this.events.push({ type: 'mark', id: value, timeMs: time }); break;
      case EV.MarkCleared: this.events.push({ type: 'mark', id: value, cleared: true }); break;
      case EV.Drained: this.events.push({ type: 'drained', timeMs: time }); break;
      case EV.Underrun: this.events.push({ type: 'underrun', count: value, timeMs: this.now() }); break;
      case EV.Started: this.events.push({ type: 'started', timeMs: time }); break;
      default: break;
    }
  }

  tickExtra() {
    const events = this.events;
    this.events = [];
    // Mark names are resolved here, a quantum or more after the mark fired,
    // so a name sent on the port after its ring record has arrived by now.
    for (const ev of events) {
      if (ev.type === 'mark' && ev.id !== undefined) {
        ev.name = this.marks.get(ev.id);
        this.marks.delete(ev.id);
        delete ev.id;
      }
    }
    return { events };
  }
}

registerProcessor('voxlet-player', PlayerProcessor);
