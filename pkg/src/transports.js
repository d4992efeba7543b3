// Transports: connect a player and/or a mic node to a WebSocket, an
// RTCDataChannel, or anything else through a plain callback, in one of the
// wire formats of wire.js.
//
//   const link = await connectWebSocket(ws, { player, mic, format: 'rtp' });
//
// Inbound messages are parsed (wire adapter) and their audio handed to the
// player; the mic's packets are turned into the format's outbound messages
// and sent. A Link is an EventTarget: 'start', 'stop', 'dtmf', 'mark',
// 'event', 'text', 'rtcp', 'wireerror', 'close' (CustomEvent, data in
// `detail`).
import { createWire } from './wire.js';

function randomSid(prefix) {
  const a = new Uint8Array(16);
  globalThis.crypto.getRandomValues(a);
  return prefix + Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Link extends EventTarget {
  constructor({ player = null, mic = null, wire, send, options = {} }) {
    super();
    this.player = player;
    this.mic = mic;
    this.wire = wire;
    this.format = wire.format;
    this.options = options;
    this._send = send;
    this.closed = false;
    this.counts = { messagesIn: 0, messagesOut: 0, audioIn: 0, errors: 0 };
    this._ourMarks = new Set();
    this._streamFormat = player && player.mode === 'stream' ? player.streamFormat : '';
    if (player && player.mode !== wire.playerMode) {
      throw new Error(`voxlet: wire format '${wire.format}' needs a player created with mode '${wire.playerMode}'`);
    }
    if (mic) {
      this._prevOnPacket = mic.onpacket;
      mic.onpacket = (bytes, kind) => this._onMicPacket(bytes, kind);
    }
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  send(data) {
    if (this.closed || data == null) return;
    this.counts.messagesOut++;
    this._send(data);
  }

  /** Called once the transport is open: a Twilio-side stream announces itself. */
  open() {
    const t = this.options.twilio;
    if (this.format === 'twilio' && t && t.startStream) {
      const sid = t.streamSid || randomSid('MZ');
      this.wire.setStreamSid(sid);
      this.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
      this.send(JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        start: {
          accountSid: t.accountSid || '', streamSid: sid, callSid: t.callSid || randomSid('CA'),
          tracks: ['inbound'], customParameters: t.customParameters || {},
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        },
        streamSid: sid,
      }));
    }
  }

  /** Hands one inbound message (string, ArrayBuffer or typed array) to the link. */
  receive(data) {
    if (this.closed) return;
    this.counts.messagesIn++;
    let items;
    try {
      items = this.wire.receive(data);
    } catch (e) {
      this.counts.errors++;
      this._emit('wireerror', { message: String(e.message || e) });
      return;
    }
    for (const it of items) this._item(it);
  }

  _setStreamFormat(fmt) {
    if (!fmt || !this.player || this.player.mode !== 'stream' || fmt === this._streamFormat) return;
    this._streamFormat = fmt;
    this.player.setFormat(fmt);
  }

  _item(it) {
    const p = this.player;
    switch (it.kind) {
      case 'rtp':
        this.counts.audioIn++;
        if (p) p.push(it.bytes); // copied: other listeners may read the same message
        break;
      case 'audio':
        this.counts.audioIn++;
        this._setStreamFormat(it.format);
        if (p) p.push(it.bytes, { transfer: false });
        break;
      case 'start': {
        this._setStreamFormat(it.format);
        let info = {};
        try { info = it.json ? JSON.parse(it.json) : {}; } catch { /* raw metadata kept below */ }
        this._emit('start', { format: it.format, info, raw: it.json, name: it.text });
        break;
      }
      case 'mark':
        if (this._ourMarks.has(it.text)) {
          // The peer reached a mark we sent.
          this._ourMarks.delete(it.text);
          this._emit('mark', { name: it.text, ack: true });
        } else if (p && p.mode === 'stream' && this.format === 'twilio') {
          // The peer asks to be told when the audio before this mark has
          // played (Twilio semantics): mark the queue, answer when reached.
          p.mark(it.text).then((ev) => {
            this._emit('mark', { name: it.text, played: !ev.cleared, cleared: !!ev.cleared });
            try { this.send(this.wire.markMessage(it.text)); } catch { /* no streamSid */ }
          }, () => { /* the player was closed or failed: nothing played, nothing to acknowledge */ });
        } else {
          this._emit('mark', { name: it.text });
        }
        break;
      case 'clear':
        if (p && p.mode === 'stream') p.clear();
        this._emit('clear', {});
        break;
      case 'dtmf': this._emit('dtmf', { digit: it.text }); break;
      case 'stop': this._emit('stop', {}); break;
      case 'rtcp': this._emit('rtcp', { bytes: it.bytes }); break;
      case 'text': this._emit('text', { text: it.text }); break;
      case 'error':
        this.counts.errors++;
        // Raw RTP: still handed on so the receiver counts what it rejects.
        if (it.bytes && p && p.mode === 'rtp') p.push(it.bytes);
        this._emit('wireerror', { message: it.text });
        break;
      default: {
        let info = {};
        try { info = it.json ? JSON.parse(it.json) : {}; } catch { /* ignore */ }
        this._emit('event', { name: it.text, info });
      }
    }
  }

  _onMicPacket(bytes, kind) {
    if (this.closed) return;
    if (kind === 'rtcp') {
      if (this.format === 'rtp' && this.options.rtcp !== false) this.send(bytes);
      return;
    }
    const m = this.wire.media(bytes, this.mic.payloadType);
    if (m != null) this.send(m);
  }

  /** Asks the peer to report when the audio sent so far has been played (Twilio mark, Asterisk MARK_MEDIA). */
  mark(name) {
    this._ourMarks.add(String(name));
    this.send(this.wire.markMessage(String(name)));
  }

  /** Asks the peer to drop the audio it has queued from us (Twilio clear, Asterisk FLUSH_MEDIA). */
  clear() {
    this.send(this.wire.clearMessage());
  }

  /** Twilio format: a dtmf message; rtp: RFC 4733 events from the mic node. */
  sendDtmf(digits, durationMs = 100) {
    if (this.format === 'twilio') {
      for (const d of String(digits)) this.send(this.wire.dtmfMessage(d));
    } else if (this.mic) {
      this.mic.sendDtmf(digits, durationMs);
    }
  }

  /** Asterisk format: sends a command (e.g. 'ANSWER', 'HANGUP', 'FLUSH_MEDIA'). */
  command(name, arg) {
    this.send(this.wire.command(name, arg));
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    if (this.mic) this.mic.onpacket = this._prevOnPacket || null;
    if (this._detach) this._detach();
    this.wire.free();
    this._emit('close', {});
  }
}

async function makeLink(opts, send) {
  const { player = null, mic = null, format = 'rtp' } = opts;
  const node = player || mic;
  let glue = null;
  if (format !== 'rtp') {
    if (!node || !node.vox) throw new Error('voxlet: pass the player and/or mic node');
    glue = await node.vox.wasm();
  }
  const wire = createWire(format, opts, glue);
  return new Link({ player, mic, wire, send, options: opts });
}

/**
 * A WebSocket (binary messages; `ws.binaryType` is set to 'arraybuffer').
 * Options: { player, mic, format = 'rtp', rtcp = true, twilio: {
 * startStream, streamSid, callSid, customParameters }, asteriskFormat,
 * defaultRate }.
 */
export async function connectWebSocket(ws, opts = {}) {
  ws.binaryType = 'arraybuffer';
  return attach(ws, opts, (d) => { if (ws.readyState === 1) ws.send(d); }, () => ws.readyState === 1);
}

// Listens at once (messages that arrive while the wasm is being
// instantiated are queued, not lost), then hands everything to the link.
async function attach(target, opts, send, isOpen) {
  const early = [];
  let link = null;
  const onMessage = (e) => { if (link) link.receive(e.data); else early.push(e.data); };
  const onClose = () => { if (link) link.close(); };
  const onOpen = () => { if (link) link.open(); };
  target.addEventListener('message', onMessage);
  target.addEventListener('close', onClose);
  try {
    link = await makeLink(opts, send);
  } catch (e) {
    target.removeEventListener('message', onMessage);
    target.removeEventListener('close', onClose);
    throw e;
  }
  link._detach = () => {
    target.removeEventListener('message', onMessage);
    target.removeEventListener('close', onClose);
    target.removeEventListener('open', onOpen);
  };
  if (isOpen()) link.open();
  else target.addEventListener('open', onOpen, { once: true });
  for (const d of early) link.receive(d);
  return link;
}

/**
 * An RTCDataChannel. For voice create it unordered and unreliable, so a
 * lost packet is concealed instead of stalling the ones behind it:
 *   pc.createDataChannel('voice', { ordered: false, maxRetransmits: 0 })
 * Same options as connectWebSocket.
 */
export async function connectDataChannel(dc, opts = {}) {
  dc.binaryType = 'arraybuffer';
  return attach(dc, opts, (d) => { if (dc.readyState === 'open') dc.send(d); }, () => dc.readyState === 'open');
}

/**
 * Any other transport: `send(data)` is called with each outbound message
 * (Uint8Array or string); call `link.receive(data)` with each inbound one,
 * and `link.open()` once the transport is up.
 */
export async function connectCallback(opts = {}) {
  if (typeof opts.send !== 'function') throw new TypeError('voxlet: connectCallback needs { send }');
  return makeLink(opts, opts.send);
}
