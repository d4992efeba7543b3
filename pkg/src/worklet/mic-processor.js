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
import { ProcessorBase, glue } from './processor-base.js';
import { MIC_TAG } from './ring.js';

class MicProcessor extends ProcessorBase {
  constructor(options) {
    const o = options.processorOptions || {};
    const channels = o.channels === 2 ? 2 : 1;
    super(options, {
      defaultStatsMs: 250,
      // The user's options pass through untouched (a field left out keeps
      // the core's default); the input is the context's.
      makeCore: (po) => new glue.Sender({ ...po.sender, inputRate: sampleRate, inputChannels: channels }),
      ready: (core) => ({ ssrc: core.ssrc, payloadType: core.payloadType, codec: core.codec }),
    });
    this.channels = channels;
    this.muted = false;
  }

  onMessage(m) {
    switch (m.t) {
      case 'dtmf':
        // durationMs / volume: filled in by MicNode.sendDtmf.
        for (const d of String(m.digits)) this.core.sendDtmf(d, m.durationMs, m.volume);
        break;
      case 'mute': this.muted = !!m.muted; break;
      default: break;
    }
  }

  process(inputs) {
    if (!this.alive) return false;
    if (this.failed) return true;
    try {
      const input = inputs[0];
      const frames = input && input.length ? input[0].length : 128;
      const now = this.now();
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
      while ((n = core.pollPacket(now)) > 0) this.emit(core.packetPtr(), n, MIC_TAG.RTP);
      if (this.quanta + 1 >= this.tickEvery && (n = core.pollRtcp(now, Date.now())) > 0) {
        this.emit(core.rtcpPtr(), n, MIC_TAG.RTCP);
      }
      this.countQuantum();
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
}

registerProcessor('voxlet-mic', MicProcessor);
