// The softphone page: settings from /config.json, one Call at a time
// (call.js), the keypad, impairment sliders and the live plots (plot.js).
// `window.softphone` exposes the state for the end-to-end tests
// (tests/e2e/): the current call (its AudioContext, microphone source and
// player node), received digits, errors and the latest statistics.
import { Call, CODECS, ERROR_TITLES } from './call.js';
import { Plot } from './plot.js';

const $ = (id) => document.getElementById(id);
const KEYS = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];
const SUB = { 2: 'ABC', 3: 'DEF', 4: 'GHI', 5: 'JKL', 6: 'MNO', 7: 'PQRS', 8: 'TUV', 9: 'WXYZ', 0: '+' };
const FREQS = { 1: [697, 1209], 2: [697, 1336], 3: [697, 1477], A: [697, 1633], 4: [770, 1209], 5: [770, 1336], 6: [770, 1477], B: [770, 1633], 7: [852, 1209], 8: [852, 1336], 9: [852, 1477], C: [852, 1633], '*': [941, 1209], 0: [941, 1336], '#': [941, 1477], D: [941, 1633] };
const PEER_HINTS = {
  echo: 'Loops your audio back: you hear yourself. Use headphones.',
  announce: 'Plays a recorded announcement and plays back the keys you press.',
  room: 'Talk with another browser that joins the same room.',
  udp: 'A real RTP endpoint (e.g. a PBX) set up on the gateway.',
  sip: 'A SIP call through the gateway: dial a number or SIP address the gateway allows.',
};
const TRANSPORT_HINTS = {
  ws: 'Media as binary WebSocket frames (TCP, in order).',
  datachannel: 'Media on an unordered, unreliable WebRTC DataChannel (UDP-like).',
};
const TICK_MS = 250;
const HISTORY_POINTS = 120; // 30 s of plot

const app = {
  config: null,
  call: null,
  ctx: null,
  received: '',
  sent: '',
  errors: [],
  log: [],
  stats: null,
  statsHistory: [],
  ticks: 0,
};
window.softphone = app;

// ---------------------------------------------------------------- helpers

function log(text, level = 'info') {
  const t = new Date();
  app.log.push({ t: t.toISOString(), text, level });
  const li = document.createElement('li');
  li.className = level;
  const time = document.createElement('time');
  time.textContent = t.toLocaleTimeString([], { hour12: false });
  li.append(time, ' ', text);
  const ol = $('log');
  ol.prepend(li);
  while (ol.children.length > 60) ol.lastChild.remove();
}

function showError({ code, message, fatal, level = 'error' }) {
  if (level === 'error') app.errors.push({ code, message, fatal });
  const title = ERROR_TITLES[code] || 'Error';
  const div = document.createElement('div');
  div.className = `alert ${level}`;
  div.setAttribute('role', 'alert');
  div.dataset.code = code || '';
  const body = document.createElement('div');
  const strong = document.createElement('strong');
  strong.textContent = title;
  const p = document.createElement('p');
  p.textContent = message;
  const small = document.createElement('code');
  small.textContent = code ? `${code}${fatal ? ' · call ended' : ''}` : '';
  body.append(strong, p, small);
  const x = document.createElement('button');
  x.type = 'button';
  x.className = 'btn small ghost';
  x.textContent = 'Dismiss';
  x.addEventListener('click', () => div.remove());
  div.append(body, x);
  const box = $('alerts');
  box.prepend(div);
  while (box.children.length > 3) box.lastChild.remove();
  log(`${title}: ${message}`, level);
}

function clearAlerts() { $('alerts').replaceChildren(); }

function setStatus(state, text) {
  const s = $('status');
  s.dataset.state = state;
  s.textContent = text;
}

const fmtMs = (v) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : Math.round(v)} ms` : '–');
const fmtDb = (v) => (Number.isFinite(v) && v > -100 ? `${v.toFixed(0)} dB` : 'silent');
const fmtPct = (v) => (Number.isFinite(v) ? `${v < 10 && v > 0 ? v.toFixed(1) : v.toFixed(0)} %` : '–');

// ---------------------------------------------------------------- set-up form

function selected(name) {
  const el = document.querySelector(`input[name="${name}"]:checked`);
  return el ? el.value : null;
}

function fillForm(cfg) {
  const params = new URLSearchParams(location.search);
  const peer = $('peer');
  peer.replaceChildren();
  for (const p of cfg.peers) {
    const o = new Option(`${p.name}${p.kind !== p.name ? ` — ${p.kind}` : ''}`, p.name);
    o.dataset.kind = p.kind;
    peer.add(o);
  }
  peer.value = params.get('peer') || cfg.default_peer || (cfg.peers[0] && cfg.peers[0].name) || '';
  const codec = $('codec');
  for (const c of CODECS) codec.add(new Option(c.label, c.id));
  codec.value = CODECS.some((c) => c.id === params.get('codec')) ? params.get('codec') : 'opus';
  const ptime = $('ptime');
  for (const t of cfg.ptimes || [20]) ptime.add(new Option(`${t} ms`, String(t)));
  ptime.value = params.get('ptime') || '20';
  if (!ptime.value) ptime.value = String((cfg.ptimes || [20])[0]);
  const tr = params.get('transport');
  for (const r of document.querySelectorAll('input[name="transport"]')) {
    r.disabled = !(cfg.transports || ['ws']).includes(r.value);
    if (tr && r.value === tr) r.checked = true;
  }
  if (params.get('processing') === 'off') $('processing').checked = false;
  if (params.get('headphones') === 'on') $('headphones').checked = true;
  if (params.get('room')) $('room').value = params.get('room');
  if (params.get('dial')) $('dial').value = params.get('dial');
  $('token-field').hidden = !cfg.token_required;
  onPeerChange();
  onTransportChange();
  onCodecChange();
}

function onPeerChange() {
  const o = $('peer').selectedOptions[0];
  const kind = o ? o.dataset.kind : '';
  $('peer-hint').textContent = PEER_HINTS[kind] || '';
  $('room-field').hidden = kind !== 'room';
  $('dial-field').hidden = kind !== 'sip';
}

function onCodecChange() {
  const c = CODECS.find((x) => x.id === $('codec').value);
  $('codec-hint').textContent = c ? c.hint : '';
}

function onTransportChange() {
  $('transport-hint').textContent = TRANSPORT_HINTS[selected('transport')] || '';
}

function lockForm(locked) {
  for (const el of document.querySelectorAll('#setup select, #setup input')) el.disabled = locked || (el.name === 'transport' && !(app.config?.transports || ['ws']).includes(el.value));
}

// ---------------------------------------------------------------- impairment

function impairment() {
  return { loss_pct: Number($('loss').value), jitter_ms: Number($('jitter').value), reorder_pct: Number($('reorder').value) };
}

function showImpairValues() {
  $('loss-v').textContent = `${$('loss').value} %`;
  $('jitter-v').textContent = `${$('jitter').value} ms`;
  $('reorder-v').textContent = `${$('reorder').value} %`;
}

let impairTimer = 0;
function onImpairInput() {
  showImpairValues();
  clearTimeout(impairTimer);
  impairTimer = setTimeout(applyImpairment, 150);
}

function showImpairState(got) {
  app.impairment = got;
  const none = !got.loss_pct && !got.jitter_ms && !got.reorder_pct;
  $('impair-state').textContent = none ? 'Off: packets reach you untouched.' : `Active: ${got.loss_pct} % loss, ${got.jitter_ms} ms jitter, ${got.reorder_pct} % reordered.`;
  return none;
}

async function applyImpairment() {
  const call = app.call;
  const imp = impairment();
  if (!call || call.state !== 'in-call') {
    $('impair-state').textContent = 'Applied when you call.';
    return;
  }
  try {
    const got = await call.impair(imp);
    const none = showImpairState(got);
    log(`Impairment ${none ? 'off' : `set: loss ${got.loss_pct} %, jitter ${got.jitter_ms} ms, reorder ${got.reorder_pct} %`}`);
  } catch (e) {
    if (!call.ended) showError({ code: e.code, message: e.message });
  }
}

// ---------------------------------------------------------------- keypad

function buildKeypad() {
  const pad = $('keypad');
  for (const k of KEYS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `key${/[A-D]/.test(k) ? ' letter' : ''}`;
    b.dataset.key = k;
    b.disabled = true;
    b.setAttribute('aria-label', `Key ${k === '*' ? 'star' : k === '#' ? 'pound' : k}`);
    b.innerHTML = `<span class="d">${k}</span><span class="s">${SUB[k] || '&nbsp;'}</span>`;
    b.addEventListener('click', () => pressKey(k));
    pad.append(b);
  }
}

function flashKey(k) {
  const b = document.querySelector(`.key[data-key="${CSS.escape(k)}"]`);
  if (!b) return;
  b.classList.add('down');
  setTimeout(() => b.classList.remove('down'), 160);
}

/** A short local dual tone so a key press is heard at once (not sent). */
function keyTone(k) {
  const ctx = app.ctx;
  const f = FREQS[k];
  if (!ctx || !f || ctx.state !== 'running') return;
  const g = new GainNode(ctx, { gain: 0 });
  const t = ctx.currentTime;
  g.gain.setTargetAtTime(0.06, t, 0.005);
  g.gain.setTargetAtTime(0, t + 0.12, 0.01);
  g.connect(ctx.destination);
  for (const fr of f) {
    const o = new OscillatorNode(ctx, { frequency: fr });
    o.connect(g);
    o.start(t);
    o.stop(t + 0.2);
  }
  setTimeout(() => g.disconnect(), 400);
}

async function pressKey(k) {
  const call = app.call;
  if (!call || call.state !== 'in-call') return;
  flashKey(k);
  keyTone(k);
  app.sent += k;
  $('dtmf-sent').textContent = app.sent.slice(-24);
  try {
    await call.sendDtmf(k, selected('dtmf-mode'));
  } catch (e) {
    if (!call.ended) showError({ code: e.code, message: e.message });
  }
}

function onKeyDown(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t && (t.tagName === 'INPUT' && t.type !== 'range' && t.type !== 'radio' && t.type !== 'checkbox' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
  if (!app.call || app.call.state !== 'in-call') return;
  const k = e.key.length === 1 ? e.key.toUpperCase() : '';
  if (KEYS.includes(k)) {
    e.preventDefault();
    pressKey(k);
  } else if (k === 'M') {
    e.preventDefault();
    toggleMute();
  }
}

// ---------------------------------------------------------------- call

function toggleMute() {
  const call = app.call;
  if (!call) return;
  call.setMuted(!call.muted);
  const b = $('mute-btn');
  b.setAttribute('aria-pressed', String(call.muted));
  b.querySelector('span').textContent = call.muted ? 'Unmute' : 'Mute';
  log(call.muted ? 'Microphone muted (silence is sent)' : 'Microphone on');
}

async function toggleHold() {
  const call = app.call;
  if (!call) return;
  const b = $('hold-btn');
  const on = b.getAttribute('aria-pressed') !== 'true';
  b.disabled = true;
  try {
    await call.hold(on);
  } catch (e) {
    showError({ code: e.code || 'hold_failed', message: e.message });
  } finally {
    b.disabled = call.state !== 'in-call';
  }
}

function setCallUi(state) {
  const inCall = state === 'in-call';
  const busy = state === 'connecting' || state === 'ringing';
  const btn = $('call-btn');
  btn.classList.toggle('danger', inCall || busy);
  btn.classList.toggle('primary', !(inCall || busy));
  btn.querySelector('span').textContent = inCall ? 'Hang up' : busy ? 'Cancel' : 'Call';
  $('mute-btn').disabled = !inCall;
  const sip = app.call?.answer?.peer_kind === 'sip';
  $('hold-btn').hidden = !sip;
  $('hold-btn').disabled = !inCall || !sip;
  for (const k of document.querySelectorAll('.key')) k.disabled = !inCall;
  lockForm(inCall || busy);
  document.body.dataset.call = state;
}

async function startCall() {
  clearAlerts();
  // The AudioContext is created/resumed inside the click (autoplay policy).
  let ctxReady;
  try {
    if (!app.ctx) app.ctx = new AudioContext({ latencyHint: 'interactive' });
    ctxReady = app.ctx.resume();
  } catch (e) {
    showError({ code: 'audio', message: `This browser cannot start audio: ${e.message}` });
    return;
  }
  const peerOpt = $('peer').selectedOptions[0];
  const call = new Call({
    ctx: app.ctx,
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
    peer: $('peer').value,
    codec: $('codec').value,
    ptime: Number($('ptime').value),
    transport: selected('transport'),
    room: peerOpt && peerOpt.dataset.kind === 'room' ? $('room').value.trim() || 'lobby' : undefined,
    dial: peerOpt && peerOpt.dataset.kind === 'sip' ? $('dial').value.trim() || undefined : undefined,
    incoming: !!(peerOpt && peerOpt.dataset.kind === 'sip' && !$('dial').value.trim()),
    token: app.config.token_required ? $('token').value : undefined,
    processing: $('processing').checked,
    headphones: $('headphones').checked,
    impairment: impairment(),
  });
  app.call = call;
  app.received = '';
  app.sent = '';
  $('dtmf-recv').textContent = '';
  $('dtmf-sent').textContent = '';
  app.statsHistory = [];
  app.ticks = 0;
  for (const p of plots) p.clear();
  call.addEventListener('log', (e) => log(e.detail.text, e.detail.level));
  call.addEventListener('gateway-error', (e) => showError(e.detail));
  call.addEventListener('warning', (e) => showError({ ...e.detail, level: 'warn' }));
  call.addEventListener('dtmf', (e) => {
    app.received += e.detail.digit;
    const out = $('dtmf-recv');
    out.textContent = app.received.slice(-24);
    out.classList.remove('flash');
    void out.offsetWidth;
    out.classList.add('flash');
    log(`Key received: ${e.detail.digit}`);
  });
  call.addEventListener('state', (e) => {
    const s = e.detail.state;
    setCallUi(s);
    if (s === 'connecting') setStatus('busy', 'Connecting…');
    if (s === 'ringing') setStatus('busy', 'Calling…');
    if (s === 'in-call') {
      const a = call.answer;
      setStatus('live', `In call · ${a.peer}`);
      $('callinfo').textContent = `${a.codec.rtpmap} · ${a.ptime} ms packets · ${a.transport === 'datachannel' ? 'DataChannel' : 'WebSocket'}${call.player.transport === 'sab' ? ' · SharedArrayBuffer' : ''}`;
      showImpairState(a.impairment);
      // Sliders moved while the call was being set up: send them now.
      const want = impairment();
      if (want.loss_pct !== a.impairment.loss_pct || want.jitter_ms !== a.impairment.jitter_ms || want.reorder_pct !== a.impairment.reorder_pct) applyImpairment();
    }
  });
  call.addEventListener('call', (e) => {
    const m = e.detail;
    document.body.dataset.sipState = m.state;
    $('incoming').hidden = m.state !== 'incoming';
    if (m.state === 'waiting') setStatus('busy', `Waiting for calls to ${m.account}`);
    if (m.state === 'incoming') { $('incoming-from').textContent = m.from; setStatus('busy', 'Incoming call'); }
    if (m.state === 'ringing') setStatus('busy', 'Ringing…');
    if (m.state === 'held') setStatus('busy', m.by === 'local' ? 'On hold' : 'On hold (the other side held the call)');
    if (m.state === 'resumed' && call.answer) setStatus('live', `In call · ${call.answer.peer}`);
    if (m.by === 'local') {
      const b = $('hold-btn');
      b.setAttribute('aria-pressed', String(m.state === 'held'));
      b.querySelector('span').textContent = m.state === 'held' ? 'Resume' : 'Hold';
    }
    if (m.state === 'ended') log(`The other side hung up${m.reason ? ` (${m.reason})` : ''}`);
  });
  $('accept-btn').onclick = () => { $('incoming').hidden = true; call.accept(); };
  $('reject-btn').onclick = () => { $('incoming').hidden = true; call.reject(); };
  document.body.dataset.failed = 'false';
  call.addEventListener('ended', (e) => {
    $('incoming').hidden = true;
    document.body.dataset.failed = String(!!e.detail.failed);
    setStatus(e.detail.failed ? 'error' : 'idle', e.detail.failed ? 'Call failed' : 'Call ended');
    $('callinfo').textContent = `Call ended: ${e.detail.reason}.`;
    log(`Call ended: ${e.detail.reason}`, e.detail.failed ? 'error' : 'info');
    $('mute-btn').setAttribute('aria-pressed', 'false');
    $('mute-btn').querySelector('span').textContent = 'Mute';
    $('hold-btn').setAttribute('aria-pressed', 'false');
    $('hold-btn').querySelector('span').textContent = 'Hold';
    $('impair-state').textContent = 'Applied when you call.';
    app.ctx?.suspend().catch(() => {});
  });
  log(`Calling ${call.o.peer} over ${call.o.transport === 'ws' ? 'WebSocket' : 'DataChannel'}…`);
  try {
    await ctxReady;
    await call.start();
  } catch {
    // Shown through the call's events.
  }
}

async function onCallButton(e) {
  e.preventDefault();
  const call = app.call;
  if (call && !call.ended) {
    await call.hangup();
    return;
  }
  await startCall();
}

// ---------------------------------------------------------------- live view

let plots = [];
let plotJb, plotLoss, plotLevel;

function tick() {
  const call = app.call;
  if (!call || call.state !== 'in-call') return;
  const s = call.stats;
  const hist = app.statsHistory;
  const prev = hist[hist.length - 1];
  const older = hist[Math.max(0, hist.length - 4)]; // ~1 s ago: loss and concealment over 1 s
  const lv = call.levels();
  let delay = NaN, target = NaN, loss = NaN, conceal = NaN;
  if (s) {
    target = s.targetDelayMs;
    delay = s.bufferLevelMs;
    if (prev) {
      const emitted = s.jitterBufferEmittedCount - prev.jitterBufferEmittedCount;
      if (emitted > 0) delay = ((s.jitterBufferDelay - prev.jitterBufferDelay) / emitted) * 1000;
      const lost = Math.max(0, s.packetsLost - older.packetsLost);
      const got = s.packetsReceived - older.packetsReceived;
      loss = got + lost > 0 ? (100 * lost) / (got + lost) : 0;
      const samples = s.totalSamplesReceived - older.totalSamplesReceived;
      conceal = samples > 0 ? Math.min(100, (100 * (s.concealedSamples - older.concealedSamples)) / samples) : 0;
    }
    hist.push({ ...s });
    if (hist.length > 8) hist.shift();
  }
  app.ticks++;
  app.stats = s;
  plotJb.push([delay, target]);
  plotLoss.push([loss, conceal]);
  plotLevel.push([lv.input, lv.output]);
  for (const p of plots) p.draw();
  $('v-delay').textContent = fmtMs(delay);
  $('v-target').textContent = fmtMs(target);
  $('v-loss').textContent = fmtPct(loss);
  $('v-conceal').textContent = fmtPct(conceal);
  $('v-in').textContent = call.muted ? 'muted' : fmtDb(lv.input);
  $('v-out').textContent = fmtDb(lv.output);
  // Latency: what one talker's voice goes through to reach the other's ear.
  const a = call.answer;
  const ctx = call.ctx;
  const outMs = ((ctx.outputLatency || 0) + (ctx.baseLatency || 0)) * 1000;
  const rtt = call.rtt;
  const jb = Number.isFinite(delay) ? delay : NaN;
  const echo = a.peer_kind === 'echo';
  const net = Number.isFinite(rtt) ? (echo ? rtt : rtt / 2) : 0;
  const total = a.ptime + net + (Number.isFinite(jb) ? jb : 0) + outMs;
  $('lat-total').textContent = Number.isFinite(jb) ? Math.round(total) : '–';
  $('lat-label').textContent = echo ? 'until you hear yourself (estimate)' : 'mouth-to-ear (estimate)';
  $('lat-rtt').textContent = fmtMs(rtt);
  $('lat-jb').textContent = fmtMs(jb);
  $('lat-ptime').textContent = `${a.ptime} ms`;
  $('lat-out').textContent = fmtMs(outMs);
  if (s) {
    const secs = (performance.now() - call.startedAt) / 1000;
    const lostPct = s.packetsReceived + s.packetsLost > 0 ? (100 * s.packetsLost) / (s.packetsReceived + s.packetsLost) : 0;
    $('counters').textContent = `${Math.floor(secs / 60)}:${String(Math.floor(secs % 60)).padStart(2, '0')} · received ${s.packetsReceived} packets · lost ${s.packetsLost} (${lostPct.toFixed(1)} %) · late ${s.packetsLate} · concealed ${(s.concealedSamples / (ctx.sampleRate || 48000)).toFixed(2)} s in ${s.concealmentEvents} events · sent ${call.micStats ? call.micStats.packetsSent : 0}`;
  }
}

// ---------------------------------------------------------------- start-up

async function micPermissionHint() {
  const info = $('callinfo');
  const set = (state) => {
    if (app.call) return;
    info.textContent = state === 'denied'
      ? 'The microphone is blocked for this page: allow it in the address bar, then press Call.'
      : state === 'granted'
        ? 'Microphone allowed. Pick who to call, then press Call.'
        : 'Pick who to call, then press Call. Your browser will ask for the microphone.';
  };
  if (!window.isSecureContext) {
    info.textContent = 'The microphone needs https:// or http://localhost: open the page that way.';
    return;
  }
  try {
    const p = await navigator.permissions.query({ name: 'microphone' });
    set(p.state);
    p.addEventListener('change', () => set(p.state));
  } catch {
    set('prompt');
  }
}

async function init() {
  buildKeypad();
  const isolated = globalThis.crossOriginIsolated === true;
  const iso = $('isolation');
  iso.textContent = isolated ? 'Cross-origin isolated' : 'Not isolated';
  iso.title = isolated
    ? 'COOP/COEP headers present: packets reach the audio thread through SharedArrayBuffer rings.'
    : 'No COOP/COEP headers: packets reach the audio thread as MessagePort messages (works the same).';
  plotJb = new Plot($('plot-jb'), { series: ['--c1', '--c2'], min: 0, max: 100, autoMax: true, unit: 'ms', points: HISTORY_POINTS });
  plotLoss = new Plot($('plot-loss'), { series: ['--c3', '--c4'], min: 0, max: 10, autoMax: true, unit: '%', points: HISTORY_POINTS });
  plotLevel = new Plot($('plot-level'), { series: ['--c5', '--c6'], min: -60, max: 0, ticks: 4, floor: -60, unit: 'dB', points: HISTORY_POINTS });
  plots = [plotJb, plotLoss, plotLevel];
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => plots.forEach((p) => p.draw()));

  $('setup').addEventListener('submit', onCallButton);
  $('mute-btn').addEventListener('click', toggleMute);
  $('hold-btn').addEventListener('click', toggleHold);
  $('peer').addEventListener('change', onPeerChange);
  $('codec').addEventListener('change', onCodecChange);
  for (const r of document.querySelectorAll('input[name="transport"]')) r.addEventListener('change', onTransportChange);
  for (const id of ['loss', 'jitter', 'reorder']) $(id).addEventListener('input', onImpairInput);
  $('impair-reset').addEventListener('click', () => {
    for (const id of ['loss', 'jitter', 'reorder']) $(id).value = 0;
    onImpairInput();
  });
  document.addEventListener('keydown', onKeyDown);
  showImpairValues();
  setInterval(tick, TICK_MS);

  setCallUi('idle');
  $('call-btn').disabled = true;
  try {
    const r = await fetch('/config.json', { cache: 'no-store' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    app.config = await r.json();
  } catch (e) {
    showError({ code: 'connect', message: `Could not load /config.json from the gateway (${e.message}). Is voxlet-gateway running?` });
    setStatus('error', 'Gateway unreachable');
    return;
  }
  fillForm(app.config);
  $('call-btn').disabled = false;
  $('pkg-info').textContent = `${app.config.peers.length} peer${app.config.peers.length === 1 ? '' : 's'} · packets ≤ ${app.config.limits.max_message_bytes} B`;
  setStatus('idle', 'Ready');
  micPermissionHint();
  app.ready = true;
  document.body.dataset.ready = 'true';
}

init();
