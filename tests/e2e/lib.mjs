// Helpers for the softphone end-to-end tests: the gateway (started by
// scripts/test-e2e.sh, or here when run alone), headless Chromium with a fake
// microphone, the page's recorder taps and the signal comparisons.
import { spawn, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const OUT = join(REPO, 'target/e2e');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const GATEWAY = process.env.VOXLET_GATEWAY_BIN || join(REPO, 'target/release/voxlet-gateway');

/** The fake microphone: speech_48k.s16le as 44.1 kHz stereo WAV (what Chromium's fake capture delivers anyway). */
export function micWav() {
  mkdirSync(OUT, { recursive: true });
  const wav = join(OUT, 'mic_44k_stereo.wav');
  if (!existsSync(wav)) {
    execFileSync('sox', ['-t', 'raw', '-r', '48000', '-e', 'signed', '-b', '16', '-c', '1',
      join(REPO, 'tests/fixtures/speech_48k.s16le'), '-r', '44100', '-c', '2', wav]);
  }
  return wav;
}

/** Raw s16le mono → Float32Array. */
export function readS16(path) {
  const b = readFileSync(path);
  const x = new Float32Array(b.length >> 1);
  for (let i = 0; i < x.length; i++) x[i] = b.readInt16LE(2 * i) / 32768;
  return x;
}

/** A raw s16le file resampled with sox to `rate` (Float32Array). */
export function resampledS16(path, fromRate, toRate) {
  const out = join(OUT, `${path.split('/').pop()}.${toRate}.raw`);
  if (!existsSync(out)) {
    execFileSync('sox', ['-t', 'raw', '-r', String(fromRate), '-e', 'signed', '-b', '16', '-c', '1', path,
      '-t', 'raw', '-r', String(toRate), '-e', 'signed', '-b', '16', '-c', '1', out]);
  }
  return readS16(out);
}

/**
 * Starts voxlet-gateway on 127.0.0.1 (a free port) with `args`; resolves
 * with { url, proc, stop() } once it prints its URL. Killed after
 * `lifetimeMs` whatever happens.
 */
export function startGateway(args = [], { lifetimeMs = 240000 } = {}) {
  return new Promise((resolveP, reject) => {
    const proc = spawn(GATEWAY, ['--listen', '127.0.0.1:0', '--www', join(REPO, 'www'), '--pkg', join(REPO, 'pkg'),
      '--fixtures', join(REPO, 'tests/fixtures'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = setTimeout(() => proc.kill('SIGKILL'), lifetimeMs);
    kill.unref();
    let out = '', err = '';
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/open (http:\/\/[^\s]+?)\/?\s/);
      if (m) resolveP({ url: m[1], proc, stderr: () => err, stop: () => stopProc(proc) });
    });
    proc.on('exit', (c) => reject(new Error(`gateway exited (${c}): ${err}`)));
  });
}

function stopProc(proc) {
  return new Promise((r) => {
    if (proc.exitCode !== null) return r();
    proc.on('exit', () => r());
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
  });
}

function bindUdp(port) {
  return new Promise((res) => {
    const s = createSocket('udp4');
    s.once('error', () => res(null));
    s.bind(port, '127.0.0.1', () => res(s));
  });
}

/** A free even UDP port whose successor is free too (an RTP/RTCP pair), on 127.0.0.1. */
export async function freeUdpPair() {
  for (let i = 0; i < 200; i++) {
    const a = await bindUdp(0);
    if (!a) continue;
    const p = a.address().port;
    if (p % 2 === 0 && p < 65534) {
      const b = await bindUdp(p + 1);
      if (b) { a.close(); b.close(); return p; }
    }
    a.close();
  }
  throw new Error('no free UDP port pair');
}

/** Headless Debian Chromium, fake mic playing `fakeAudio`, loopback WebRTC allowed. */
export async function launch({ fakeAudio = micWav(), viewport = { width: 1280, height: 900 }, colorScheme = 'light', deviceScaleFactor = 1 } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'voxlet-e2e-'));
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${fakeAudio}`,
    '--allow-loopback-in-peer-connection',
  ];
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args, viewport, colorScheme, deviceScaleFactor,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Opens the softphone; console errors, page errors and failed requests are collected. */
export async function openSoftphone(context, url, query = '') {
  const page = await context.newPage();
  page.logs = [];
  page.errors = [];
  page.on('console', (m) => {
    page.logs.push(`[${m.type()}] ${m.text()}`);
    if (m.type() === 'error') page.errors.push(m.text());
  });
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) page.errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(`${url}/${query}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 10000 });
  return page;
}

/** Sets the form and presses Call; resolves with the answer once in call. */
export async function call(page, { peer = 'echo', codec = 'opus', ptime = 20, transport = 'ws', processing = false } = {}) {
  await page.selectOption('#peer', peer);
  await page.selectOption('#codec', codec);
  await page.selectOption('#ptime', String(ptime));
  await page.check(`input[name="transport"][value="${transport}"]`);
  if (!processing) await page.uncheck('#processing');
  await page.click('#call-btn');
  await page.waitForFunction(() => {
    const c = window.softphone.call;
    return c && (c.state === 'in-call' || c.ended);
  }, null, { timeout: 15000 });
  const r = await page.evaluate(() => ({ state: window.softphone.call.state, answer: window.softphone.call.answer, errors: window.softphone.errors }));
  if (r.state !== 'in-call') throw new Error(`call failed: ${JSON.stringify(r.errors)}`);
  return r.answer;
}

export async function hangup(page) {
  await page.click('#call-btn');
  await page.waitForFunction(() => window.softphone.call.ended, null, { timeout: 5000 });
}

const RECORDER = `
class E2eRecorder extends AudioWorkletProcessor {
  constructor(o) {
    super();
    this.buf = new Float32Array(o.processorOptions.frames);
    this.n = 0;
    this.port.onmessage = () => {
      const b = this.buf.slice(0, this.n);
      this.port.postMessage(b, [b.buffer]);
      this.done = true;
    };
  }
  process(inputs) {
    if (this.done) return false;
    const x = inputs[0] && inputs[0][0];
    const len = x ? x.length : 128;
    if (this.n + len <= this.buf.length) { if (x) this.buf.set(x, this.n); this.n += len; }
    return true;
  }
}
registerProcessor('e2e-recorder', E2eRecorder);
`;

/**
 * Records the page's microphone (the call's MediaStreamSource) and output
 * (the PlayerNode) side by side on the AudioContext's clock for `seconds`.
 * Returns { rate, input, output } (Float32Array each).
 */
export async function recordCall(page, seconds, { input = true } = {}) {
  const r = await page.evaluate(async ([src, secs, withInput]) => {
    const c = window.softphone.call;
    const ctx = c.ctx;
    if (!window.__e2eRec) window.__e2eRec = ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    await window.__e2eRec;
    const mk = () => new AudioWorkletNode(ctx, 'e2e-recorder', {
      numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit',
      processorOptions: { frames: Math.ceil((secs + 0.5) * ctx.sampleRate) },
    });
    const stop = (n) => new Promise((res) => { n.port.onmessage = (e) => res(e.data); n.port.postMessage('stop'); });
    const recIn = withInput ? mk() : null;
    const recOut = mk();
    // Connected in the same task: both start on the same render quantum.
    if (recIn) c.source.connect(recIn);
    c.player.connect(recOut);
    await new Promise((res) => setTimeout(res, secs * 1000));
    const [a, b] = await Promise.all([recIn ? stop(recIn) : null, stop(recOut)]);
    try { if (recIn) c.source.disconnect(recIn); c.player.disconnect(recOut); } catch { /* call ended */ }
    const b64 = (f) => {
      if (!f) return null;
      const u8 = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
      let s = '';
      for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
      return btoa(s);
    };
    return { rate: ctx.sampleRate, input: b64(a), output: b64(b) };
  }, [RECORDER, seconds, input]);
  const dec = (s) => {
    if (!s) return null;
    const b = Buffer.from(s, 'base64');
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  return { rate: r.rate, input: dec(r.input), output: dec(r.output) };
}

// ------------------------------------------------------------------ signals

export function rms(x, from = 0, to = x.length) {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
}

/** In-place radix-2 complex FFT (re, im: Float64Array, length a power of two). */
function fft(re, im, inverse = false) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (2 * Math.PI / len) * (inverse ? 1 : -1);
    const wr = Math.cos(ang), wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k, b = a + len / 2;
        const xr = re[b] * cr - im[b] * ci, xi = re[b] * ci + im[b] * cr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
        const t = cr * wr - ci * wi; ci = cr * wi + ci * wr; cr = t;
      }
    }
  }
  if (inverse) for (let i = 0; i < n; i++) { re[i] /= n; im[i] /= n; }
}

/** c[lag] = Σ a[i]·b[i+lag] for lag in [0, maxLag] (FFT). */
function xcorr(a, b, maxLag) {
  let n = 1;
  while (n < a.length + b.length) n <<= 1;
  const ar = new Float64Array(n), ai = new Float64Array(n), br = new Float64Array(n), bi = new Float64Array(n);
  ar.set(a); br.set(b);
  fft(ar, ai); fft(br, bi);
  for (let i = 0; i < n; i++) {
    const r = ar[i] * br[i] + ai[i] * bi[i]; // conj(A)·B
    const im = ar[i] * bi[i] - ai[i] * br[i];
    ar[i] = r; ai[i] = im;
  }
  fft(ar, ai, true);
  return ar.subarray(0, maxLag + 1);
}

/** Normalised cross-correlation of ref[from..to) with out shifted by lag. */
export function ncc(ref, out, lag, from = 0, to = ref.length) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = from; i < to; i++) {
    const j = i + lag;
    if (j < 0 || j >= out.length) continue;
    ab += ref[i] * out[j]; aa += ref[i] * ref[i]; bb += out[j] * out[j];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * How well `out` reproduces `ref` (same rate) after a delay: the global lag
 * (0..maxLag samples) maximising the cross-correlation, the normalised
 * cross-correlation at that lag over the whole overlap, then per window
 * (`winS` seconds of `ref` with speech in it) the best NCC within ±slack of
 * the lag followed from window to window (the jitter buffer may stretch time
 * a little). Returns { lag, global, median, min, windows }.
 */
export function alignAndCorrelate(ref, out, rate, { maxLagS = 1, winS = 0.5, slackS = 0.01 } = {}) {
  const maxLag = Math.min(Math.round(maxLagS * rate), out.length - 1);
  const c = xcorr(ref, out, maxLag);
  let lag = 0;
  for (let l = 1; l <= maxLag; l++) if (c[l] > c[lag]) lag = l;
  const usable = Math.min(ref.length, out.length - lag);
  const global = ncc(ref, out, lag, 0, usable);
  const win = Math.round(winS * rate), slack = Math.round(slackS * rate);
  const loud = rms(ref, 0, usable) * 0.5;
  const per = [];
  let cur = lag;
  for (let w = 0; w + win <= usable - slack; w += win) {
    if (rms(ref, w, w + win) < loud) continue;
    let best = -1, bl = cur;
    for (let l = cur - slack; l <= cur + slack; l++) {
      const v = ncc(ref, out, l, w, w + win);
      if (v > best) { best = v; bl = l; }
    }
    cur = bl;
    per.push(best);
  }
  const sorted = per.slice().sort((x, y) => x - y);
  return { lag, global, median: sorted[sorted.length >> 1] ?? 0, min: sorted[0] ?? 0, windows: per.length };
}

// `node tests/e2e/lib.mjs ports N`: prints N free RTP/RTCP pairs (for scripts/test-e2e.sh).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === 'ports') {
  const out = [];
  while (out.length < Number(process.argv[3] || 1)) {
    const p = await freeUdpPair();
    if (!out.some((q) => Math.abs(q - p) < 4)) out.push(p);
  }
  console.log(out.join(' '));
}
