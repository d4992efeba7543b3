// Wire formats: how audio and control travel on one WebSocket / DataChannel.
//
//   'rtp'      one RTP packet per binary message, both ways (default). The
//              player is in 'rtp' mode (jitter buffer). Handled in JS: the
//              packets go straight to the worklet.
//   'twilio'   Twilio Media Streams JSON (text messages, base64 μ-law 8 kHz).
//   'asterisk' Asterisk chan_websocket: binary media in the channel's codec,
//              text control (MEDIA_START, DTMF_END, FLUSH_MEDIA, MARK_MEDIA…).
//   'l16-meta' a JSON metadata text message, then binary 16-bit LE PCM
//              (jambonz listen, FreeSWITCH mod_audio_fork, Vonage).
// The last three need a player in 'stream' mode; parsing and building the
// messages is done by voxlet's Rust adapters (wasm on the main thread).
export const FORMATS = ['rtp', 'twilio', 'asterisk', 'l16-meta'];

/** Items from an inbound message: { kind, bytes?, text, format, json }. */
class RtpWire {
  constructor() {
    this.format = 'rtp';
    this.playerMode = 'rtp';
    this.textMedia = false;
    this.streamFormat = '';
  }
  receive(data) {
    if (typeof data === 'string') return [{ kind: 'error', text: 'unexpected text message' }];
    const b = data instanceof ArrayBuffer ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // RTCP (RFC 5761 demultiplexing: packet types 192..223 in the 2nd byte).
    const kind = b.length >= 2 && b[1] >= 192 && b[1] <= 223 ? 'rtcp' : 'rtp';
    return [{ kind, bytes: data, text: '', format: '', json: '' }];
  }
  media(rtp) { return rtp; }
  free() {}
}

class RustWire {
  constructor(format, options, glue) {
    const opt = format === 'asterisk' ? (options.asteriskFormat || '')
      : format === 'l16-meta' ? String(options.defaultRate || '') : undefined;
    this.w = new glue.Wire(format, opt);
    this.format = format;
    this.playerMode = this.w.playerMode;
    this.textMedia = this.w.textMedia;
  }
  get streamFormat() { return this.w.format; }
  receive(data) {
    const items = typeof data === 'string' ? this.w.onText(data)
      : this.w.onBinary(data instanceof Uint8Array ? data : new Uint8Array(data));
    return items.map((it) => {
      const o = { kind: it.kind, bytes: it.bytes, text: it.text, format: it.format, json: it.json };
      it.free();
      return o;
    });
  }
  /** The outbound message for one of the mic's RTP packets (or undefined). */
  media(rtp, payloadType) {
    return this.textMedia ? this.w.mediaText(rtp, payloadType) : this.w.mediaBinary(rtp, payloadType);
  }
  markMessage(name) { return this.w.markMessage(name); }
  clearMessage() { return this.w.clearMessage(); }
  dtmfMessage(digit) { return this.w.dtmfMessage(digit); }
  command(name, arg) { return this.w.command(name, arg); }
  setStreamSid(sid) { this.w.setStreamSid(sid); }
  get streamSid() { return this.w.streamSid; }
  free() { this.w.free(); }
}

/**
 * A wire adapter. `glue` is the main-thread wasm module (Voxlet#wasm() or
 * the Node entry); not needed for 'rtp'.
 */
export function createWire(format = 'rtp', options = {}, glue = null) {
  if (!FORMATS.includes(format)) throw new Error(`voxlet: unknown wire format '${format}' (${FORMATS.join(', ')})`);
  if (format === 'rtp') return new RtpWire();
  if (!glue) throw new Error(`voxlet: wire format '${format}' needs the wasm module`);
  return new RustWire(format, options, glue);
}
