// The sending AudioWorkletProcessor ('voxlet-mic'): microphone audio in (at
// the context's rate, mixed down by the node to the codec's channel count),
// RTP packets out. Resampling, encoding, packetisation, DTMF and RTCP are in
// the wasm core; this file copies samples in and packets out.
//
// Packets leave through a SharedArrayBuffer ring when the page is
// cross-origin isolated (the main thread drains it when woken by a single
// 'w' message; it re-arms the wake flag after draining, so a busy main
// thread gets one wake-up per batch), else as port messages with a
// transferred ArrayBuffer each.
import { loadWasm, MemViews, glue } from './wasm.js';
import { Ring } from './ring.js';

export const TAG_RTP = 0;
export const TAG_RTCP = 1;

class MicProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions || {};
    this.alive = true;
    this.failed = false;
    this.muted = false;
    this.channels = o.channels === 2 ? 2 : 1;
    this.quanta = 0;
    this.tickEvery = Math.max(1, Math.round(((o.statsIntervalMs || 250) / 1000) * sampleRate / 128));
    this.ring = o.ring ? new Ring(o.ring) : null;
    this.port.onmessage = (e) => this.onMessage(e.data);
    try {
      const wasm = loadWasm(o.module);
      this.mem = new MemViews(wasm.memory);
      const seed = o.seed || [0, 0];
      this.core = new glue.Sender(
        String(o.codec || 'PCMU/8000'), o.payloadType | 0, sampleRate, this.channels,
        o.ptimeMs | 0, o.dtmfPayloadType == null ? -1 : o.dtmfPayloadType | 0,
        o.dtmfClockRate | 0, o.bitrate | 0, !!o.fec, !!o.dtx, o.rtcpIntervalMs | 0,
        o.ssrc == null ? -1 : o.ssrc >>> 0, seed[0] >>> 0, seed[1] >>> 0, false);
      this.statNames = glue.Sender.statsNames();
      this.port.postMessage({
        t: 'ready', transport: this.ring ? 'sab' : 'port', ssrc: this.core.ssrc, stats: this.statNames,
      });
    } catch (e) {
      this.fail(e);
    }
  }

  fail(e) {
    if (!this.failed) {
      this.failed = true;
      this.port.postMessage({ t: 'error', message: String(e && e.stack || e) });
    }
  }

  onMessage(m) {
    if (this.failed) return;
    try {
      switch (m.t) {
        case 'dtmf':
          for (const d of String(m.digits)) this.core.sendDtmf(d, m.durationMs || 100, m.volume ?? 10);
          break;
        case 'mute': this.muted = !!m.muted; break;
        case 'close': this.alive = false; this.tick(); this.core.free(); this.core = null; break;
        default: break;
      }
    } catch (e) {
      this.port.postMessage({ t: 'warn', message: String(e && e.message || e) });
    }
  }

  process(inputs) {
    if (!this.alive) return false;
    if (this.failed) return true;
    try {
      const input = inputs[0];
      const frames = input && input.length ? input[0].length : 128;
      const now = (currentFrame / sampleRate) * 1000;
      const core = this.core;
      const ptr = core.inputPtr(frames);
      const mem = this.mem;
      mem.refresh();
      for (let c = 0; c < this.channels; c++) {
        const dst = mem.f32(c, ptr + c * frames * 4, frames);
        if (this.muted || !input || input.length === 0) dst.fill(0);
        else dst.set(input[c < input.length ? c : input.length - 1]);
      }
      core.pushAudio(frames, now);
      let n;
      while ((n = core.pollPacket(now)) > 0) this.emit(core.packetPtr(), n, TAG_RTP);
      if (++this.quanta >= this.tickEvery) {
        if ((n = core.pollRtcp(now, Date.now())) > 0) this.emit(core.rtcpPtr(), n, TAG_RTCP);
        this.tick();
      }
    } catch (e) {
      this.fail(e);
    }
    return true;
  }

  emit(ptr, len, tag) {
    const mem = this.mem;
    mem.refresh();
    if (this.ring) {
      this.ring.push(mem.u8, tag, NaN, len, ptr);
      if (this.ring.takeWake()) this.port.postMessage('w');
    } else {
      const b = mem.buffer.slice(ptr, ptr + len);
      this.port.postMessage({ t: 'p', b, tag }, [b]);
    }
  }

  tick() {
    this.quanta = 0;
    if (!this.core) return;
    this.core.writeStats();
    this.mem.refresh();
    const f = this.mem.f64;
    const base = this.core.statsPtr() >> 3;
    const stats = {};
    for (let i = 0; i < this.statNames.length; i++) stats[this.statNames[i]] = f[base + i];
    if (this.ring) stats.ringDropped = this.ring.dropped;
    this.port.postMessage({ t: 'tick', stats });
  }
}

registerProcessor('voxlet-mic', MicProcessor);
