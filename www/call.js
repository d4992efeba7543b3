// One call through voxlet-gateway (gateway/PROTOCOL.md): the WebSocket and
// its JSON control protocol, the audio graph (microphone → MicNode, PlayerNode
// → speakers) and the media transport (binary WebSocket frames or an
// RTCDataChannel). UI-free: the page listens to its events.
//
//   const call = new Call({ ctx, url, peer, codecs, ptime, transport, … });
//   call.addEventListener('state', …); await call.start(); … call.hangup();
//
// Events (CustomEvent, data in `detail`): 'state' {state}, 'log' {text, level},
// 'gateway-error' {code, message, fatal}, 'warning' {code, message},
// 'dtmf' {digit} (received), 'rtt' {ms}, 'ended' {reason},
// 'call' {state, to, sip_status, reason} (SIP peers: the call's progress).
import { register, connectCallback, connectDataChannel } from '/pkg/src/index.js';

/** What the page offers, in the order of the codec menu. `mic`: the MicNode codec string. */
export const CODECS = [
  { id: 'opus', label: 'Opus (48 kHz)', rtpmap: 'opus/48000/2', pt: 111, hint: 'Opus: high-quality voice at a low bitrate (about 25 kbit/s).' },
  { id: 'g722', label: 'G.722 (16 kHz)', rtpmap: 'G722/8000', pt: 9, hint: 'G.722: wideband (HD voice) telephony, 64 kbit/s.' },
  { id: 'pcmu', label: 'PCMU (G.711 μ-law)', rtpmap: 'PCMU/8000', pt: 0, hint: 'G.711 μ-law: classic telephone quality, 64 kbit/s.' },
  { id: 'pcma', label: 'PCMA (G.711 A-law)', rtpmap: 'PCMA/8000', pt: 8, hint: 'G.711 A-law: classic telephone quality, 64 kbit/s.' },
  { id: 'l16', label: 'L16 (16 kHz PCM)', rtpmap: 'L16/16000', pt: 96, hint: 'L16: uncompressed 16-bit PCM at 16 kHz, 256 kbit/s.' },
];
const TELEPHONE_EVENT_PT = 101;

/** Friendly titles for the gateway's error codes (the gateway's message is shown under them). */
export const ERROR_TITLES = {
  bad_json: 'The gateway could not read a message',
  bad_message: 'The gateway could not read a message',
  unknown_type: 'The gateway does not know that request',
  bad_field: 'A setting was refused',
  no_session: 'No call is set up yet',
  already_started: 'The call is already set up',
  unknown_peer: 'No such peer on this gateway',
  bad_ptime: 'Packet time refused',
  no_codec: 'The peer takes none of the offered codecs',
  room_full: 'That room is full',
  dtmf_unavailable: 'Keys cannot be sent on this call',
  bad_transport: 'Transport mismatch',
  webrtc_failed: 'The DataChannel could not be set up',
  peer_unavailable: 'The peer is not available',
  unauthorized: 'Wrong or missing access token',
  too_big: 'A message was too large',
  idle_timeout: 'The call timed out',
  busy: 'The gateway is busy',
  shutdown: 'The gateway is shutting down',
  peer_failed: 'The connection to the peer failed',
  not_allowed: 'The gateway may not call that destination',
  hold_failed: 'Hold or resume was refused',
  call_failed: 'The call did not go through',
  bad_answer: 'The phone answered with unusable media',
  no_mic: 'Microphone unavailable',
  connect: 'Gateway unreachable',
  timeout: 'The gateway did not answer',
  closed: 'Connection closed',
  audio: 'Audio problem',
  rate_limited: 'Sending too fast',
  datachannel_closed: 'The DataChannel closed',
  bad_packet: 'A packet was malformed',
};

const CLOSE_REASONS = {
  1000: 'hung up', 1001: 'gateway shutting down', 1006: 'connection lost', 1008: 'unauthorized',
  1009: 'message too big', 1011: 'peer failed', 1013: 'gateway busy', 4000: 'idle timeout',
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise((_, reject) => { t = setTimeout(() => reject(new CallError('timeout', `${what}: no reply within ${ms / 1000} s`)), ms); }),
  ]);
}

export class CallError extends Error {
  constructor(code, message, fatal = false) {
    super(message);
    this.code = code;
    this.fatal = fatal;
  }
}

/** dBFS of an analyser's current window (-Infinity for silence). */
function levelDb(analyser, buf) {
  analyser.getFloatTimeDomainData(buf);
  let s = 0;
  for (let i = 0; i < buf.length; i++) s += buf[i] * buf[i];
  return 10 * Math.log10(s / buf.length || 1e-12);
}

export class Call extends EventTarget {
  /**
   * @param {object} o
   * @param {AudioContext} o.ctx  resumed from the user's click
   * @param {string} o.url  ws(s)://host/ws
   * @param {string} o.peer  @param {string} o.codec  id from CODECS (offered first)
   * @param {number} o.ptime  @param {'ws'|'datachannel'} o.transport
   * @param {string} [o.room]  @param {string} [o.token]  @param {boolean} [o.processing]
   * @param {boolean} [o.headphones]  play straight to the destination; else
   *   through the echo-cancelled route (output 'aec'), as speakers need
   * @param {{loss_pct:number,jitter_ms:number,reorder_pct:number}} [o.impairment]
   */
  constructor(o) {
    super();
    this.o = o;
    this.ctx = o.ctx;
    this.state = 'idle';
    this.nextId = 1;
    this.pending = new Map();
    this.answer = null;
    this.rtt = null;
    this.startedAt = 0;
    this.ended = false;
    this.muted = false;
    this.timers = [];
    this.levelBuf = new Float32Array(4096);
  }

  _emit(type, detail = {}) { this.dispatchEvent(new CustomEvent(type, { detail })); }
  log(text, level = 'info') { this._emit('log', { text, level }); }
  _state(s) { this.state = s; this._emit('state', { state: s }); }

  /** Sends a control request; resolves with the reply carrying its id, rejects on `error`. */
  request(msg, timeoutMs = 5000) {
    const id = this.nextId++;
    const p = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this._sendText({ ...msg, id });
    return withTimeout(p, timeoutMs, msg.type).finally(() => this.pending.delete(id));
  }

  _sendText(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  async start() {
    const o = this.o;
    try {
      this._state('connecting');
      // 1. Microphone (the browser asks for permission here).
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw new CallError('no_mic', 'This page needs a secure context (https:// or http://localhost) to use the microphone.');
      }
      const vox = await register(this.ctx);
      this.vox = vox;
      try {
        const p = o.processing !== false;
        this.stream = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: p, noiseSuppression: p, autoGainControl: p },
        });
      } catch (e) {
        const denied = e && (e.name === 'NotAllowedError' || e.name === 'SecurityError');
        throw new CallError('no_mic', denied
          ? 'Microphone access was denied. Allow it (the icon in the address bar) and call again.'
          : `No microphone: ${e && e.message || e}`);
      }
      if (this.ended) { this.stream.getTracks().forEach((t) => t.stop()); return; }
      this.source = this.ctx.createMediaStreamSource(this.stream);
      this.inAnalyser = new AnalyserNode(this.ctx, { fftSize: 4096 });
      this.source.connect(this.inAnalyser);
      this.log(`Microphone: ${this.stream.getAudioTracks()[0]?.label || 'default'}`);

      // 2. WebSocket.
      const ws = new WebSocket(o.url);
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      ws.addEventListener('message', (e) => this._onMessage(e.data));
      ws.addEventListener('close', (e) => this._onClose(e));
      await withTimeout(new Promise((resolve, reject) => {
        ws.addEventListener('open', resolve, { once: true });
        ws.addEventListener('error', () => reject(new CallError('connect', `Cannot reach the gateway at ${o.url}.`)), { once: true });
      }), 5000, 'WebSocket');
      if (this.ended) { ws.close(1000); return; }
      this.log(`Connected to ${o.url}`);

      // 3. hello → answer.
      const first = CODECS.find((c) => c.id === o.codec) || CODECS[0];
      const offer = [first, ...CODECS.filter((c) => c !== first)].map((c) => ({ pt: c.pt, rtpmap: c.rtpmap }));
      const hello = {
        type: 'hello', peer: o.peer, codecs: offer, ptime: o.ptime,
        telephone_event: TELEPHONE_EVENT_PT, transport: o.transport,
      };
      if (o.room) hello.room = o.room;
      if (o.dial) hello.dial = o.dial;
      if (o.incoming) hello.incoming = true;
      if (o.token) hello.token = o.token;
      if (o.impairment) hello.impairment = o.impairment;
      this._state('ringing');
      // A SIP call's answer comes when the phone answers: wait as a phone rings.
      // Waiting for an incoming call may take all day.
      const a = await this.request(hello, o.incoming ? 86400000 : o.dial ? 120000 : 5000);
      this.answer = a;
      if (this.ended) return;
      this.log(`Answer: ${a.peer} (${a.peer_kind}), ${a.codec.rtpmap} PT ${a.codec.pt}, ${a.ptime} ms${a.telephone_event ? `, DTMF PT ${a.telephone_event.pt}` : ''}${a.local_rtp_port ? `, local RTP port ${a.local_rtp_port}` : ''}`);
      if (a.codec.rtpmap.toLowerCase() !== first.rtpmap.toLowerCase()) {
        this.log(`The peer took ${a.codec.rtpmap} instead of ${first.rtpmap}.`, 'warn');
      }

      // 4. Audio nodes for the answered codec.
      const payloadTypes = { [a.codec.pt]: a.codec.rtpmap };
      if (a.telephone_event) payloadTypes[a.telephone_event.pt] = a.telephone_event.rtpmap;
      // Speakers: through the echo-cancelled route, so the browser's echo
      // canceller hears what is played (it ignores Web Audio output).
      this.player = vox.createPlayer({ payloadTypes, statsIntervalMs: 100, output: this.o.headphones ? 'speakers' : 'aec' });
      this.outAnalyser = new AnalyserNode(this.ctx, { fftSize: 4096 });
      this.player.connect(this.outAnalyser);
      const micCodec = /^l16\//i.test(a.codec.rtpmap) && a.codec.rtpmap.split('/').length === 2 ? `${a.codec.rtpmap}/1` : a.codec.rtpmap;
      this.mic = vox.createMic({
        codec: micCodec, payloadType: a.codec.pt, ptimeMs: a.ptime,
        dtmfPayloadType: a.telephone_event ? a.telephone_event.pt : null,
        dtmfClockRate: a.telephone_event ? Number(a.telephone_event.rtpmap.split('/')[1]) : undefined,
      });
      this.mic.muted = this.muted;
      this.source.connect(this.mic);
      for (const n of [this.player, this.mic]) {
        n.addEventListener('error', (e) => this._fail(new CallError('audio', `Audio worklet: ${e.detail.message}`)));
        n.addEventListener('warn', (e) => this.log(`Audio worklet: ${e.detail.message}`, 'warn'));
      }
      this.player.addEventListener('stats', (e) => { this.stats = e.detail; });
      this.mic.addEventListener('stats', (e) => { this.micStats = e.detail; });
      const [, , route] = await Promise.all([this.player.ready, this.mic.ready, this.player.outputReady]);
      this.log(`Audio: ${this.ctx.sampleRate} Hz, packets via ${this.player.transport === 'sab' ? 'SharedArrayBuffer rings' : 'MessagePort'}, output ${route === 'aec' ? 'through the echo-cancelled route' : 'direct'}`);

      // 5. Media transport.
      if (a.transport === 'datachannel') await this._startDataChannel();
      else {
        this.link = await connectCallback({ player: this.player, mic: this.mic, send: (d) => { if (ws.readyState === 1) ws.send(d); } });
        this.link.open();
      }
      if (this.ended) return;
      this.startedAt = performance.now();
      this._state('in-call');
      this.timers.push(setInterval(() => this.ping(), 2000));
      this.ping();
    } catch (e) {
      this._fail(e);
      throw e;
    }
  }

  async _startDataChannel() {
    const pc = new RTCPeerConnection();
    this.pc = pc;
    const dc = pc.createDataChannel('rtp', { ordered: false, maxRetransmits: 0 });
    this.dc = dc;
    this.link = await connectDataChannel(dc, { player: this.player, mic: this.mic });
    const opened = new Promise((resolve) => { this._dcOpen = resolve; });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') this._fail(new CallError('webrtc_failed', 'The DataChannel connection failed (ICE). Is the gateway\'s --webrtc-ip reachable from this browser?'));
    });
    await pc.setLocalDescription(await pc.createOffer());
    const r = await this.request({ type: 'webrtc-offer', sdp: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: 'answer', sdp: r.sdp });
    this.log('DataChannel: offer answered, connecting…');
    await withTimeout(opened, 10000, 'DataChannel');
  }

  _onMessage(data) {
    if (typeof data !== 'string') {
      // Media on the WebSocket (also accepted in DataChannel mode).
      if (this.link) this.link.receive(data);
      return;
    }
    let m;
    try { m = JSON.parse(data); } catch { this.log('Unreadable control message from the gateway', 'warn'); return; }
    const waiting = m.id != null ? this.pending.get(m.id) : null;
    if (waiting) {
      this.pending.delete(m.id);
      if (m.type === 'error') waiting.reject(new CallError(m.code, m.message, m.fatal));
      else waiting.resolve(m);
      return;
    }
    switch (m.type) {
      case 'pong':
        if (m.id != null && this._pings && this._pings.has(m.id)) {
          this.rtt = performance.now() - this._pings.get(m.id);
          this._pings.delete(m.id);
          this._emit('rtt', { ms: this.rtt });
        }
        break;
      case 'dtmf': this._emit('dtmf', { digit: m.digit }); break;
      case 'call': // SIP progress: calling, ringing, answered, held, resumed, ended
        this.log(`Call ${m.state}${m.to ? ` ${m.to}` : ''}${m.sip_status ? ` (${m.sip_status})` : ''}${m.reason ? `: ${m.reason}` : ''}`);
        this._emit('call', m);
        break;
      case 'datachannel':
        if (m.state === 'open') { this.log('DataChannel open: media flows on it'); if (this._dcOpen) this._dcOpen(); }
        else if (this.state === 'in-call') this._emit('warning', { code: 'datachannel_closed', message: `Media stopped: the DataChannel closed${m.reason ? ` (${m.reason})` : ''}. Hang up and call again.` });
        break;
      case 'peer': this.log(m.state === 'joined' ? 'The other caller joined the room' : 'The other caller left the room', 'info'); this._emit('peer', m); break;
      case 'warning': this._emit('warning', m); break;
      case 'error':
        this._emit('gateway-error', m);
        if (m.fatal) this._fail(new CallError(m.code, m.message, true), true);
        break;
      case 'bye': this.byeReason = m.reason; if (this._bye) this._bye(); break;
      case 'ack': break;
      default: break;
    }
  }

  _onClose(e) {
    for (const { reject } of this.pending.values()) reject(new CallError('closed', `The gateway closed the connection (${CLOSE_REASONS[e.code] || `code ${e.code}`}).`));
    this.pending.clear();
    if (!this.ended) {
      const why = this.byeReason || CLOSE_REASONS[e.code] || `closed (${e.code})`;
      if (e.code === 1000 || e.code === 1001) this._end(this.byeReason === 'hangup' ? 'the peer hung up' : why);
      else this._fail(new CallError('closed', `The gateway closed the connection: ${why}${e.reason ? ` — ${e.reason}` : ''}.`, true), true);
    }
  }

  ping() {
    if (!this.ws || this.ws.readyState !== 1) return;
    const id = this.nextId++;
    (this._pings ||= new Map()).set(id, performance.now());
    if (this._pings.size > 10) this._pings.delete(this._pings.keys().next().value);
    this._sendText({ type: 'ping', id });
  }

  /** Sends one key: 'gateway' (the gateway injects RFC 4733) or 'inband' (the mic node sends it). */
  async sendDtmf(digit, mode = 'gateway') {
    if (this.state !== 'in-call') return;
    if (mode === 'inband') {
      if (!this.answer.telephone_event) throw new CallError('dtmf_unavailable', 'No telephone-event payload type was negotiated.');
      this.mic.sendDtmf(digit, 160);
      return;
    }
    await this.request({ type: 'dtmf', digit, duration_ms: 160 });
  }

  /** Replaces the impairment of packets toward this page; resolves with what the gateway applies. */
  async impair(imp) {
    const r = await this.request({ type: 'impair', ...imp });
    return r.impairment;
  }

  setMuted(m) {
    this.muted = !!m;
    if (this.mic) this.mic.muted = this.muted;
  }

  /** Current microphone and speaker levels, dBFS. */
  levels() {
    return {
      input: this.inAnalyser ? levelDb(this.inAnalyser, this.levelBuf) : -Infinity,
      output: this.outAnalyser ? levelDb(this.outAnalyser, this.levelBuf) : -Infinity,
    };
  }

  /** Answers the incoming SIP call that rings. */
  accept() { this._sendText({ type: 'accept' }); }

  /** Declines the incoming SIP call that rings (the gateway answers 603). */
  reject() { this._sendText({ type: 'reject' }); }

  /** Puts the SIP call on hold (true) or resumes it; resolves with the ack. */
  hold(on) { return this.request({ type: on ? 'hold' : 'resume' }, 15000); }

  async hangup() {
    if (this.ended) return;
    if (this.ws && this.ws.readyState === 1) {
      const bye = new Promise((r) => { this._bye = r; });
      this._sendText({ type: 'hangup' });
      await Promise.race([bye, sleep(1000)]);
    }
    this._end('you hung up');
  }

  _fail(e, fromGateway = false) {
    if (this.ended) return;
    const err = e instanceof CallError ? e : new CallError('error', String(e && e.message || e));
    if (!fromGateway || err.code === 'closed') this._emit('gateway-error', { code: err.code, message: err.message, fatal: true, local: !fromGateway });
    this._end(err.message, true);
  }

  _end(reason, failed = false) {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearInterval(t);
    try { this.link?.close(); } catch { /* already closed */ }
    try { this.mic?.close(); } catch { /* gone */ }
    try { this.player?.close(); } catch { /* gone */ }
    try { this.source?.disconnect(); } catch { /* gone */ }
    this.stream?.getTracks().forEach((t) => t.stop());
    try { this.dc?.close(); this.pc?.close(); } catch { /* gone */ }
    if (this.ws && this.ws.readyState <= 1) this.ws.close(1000);
    this._state('ended');
    this._emit('ended', { reason, failed });
  }
}
