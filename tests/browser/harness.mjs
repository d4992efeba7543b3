// Shared helpers for the Playwright tests: launching Debian's Chromium
// (never a downloaded one), a page on the test server, and the numeric
// comparisons (alignment by cross-correlation, SNR).
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve, REPO } from './server.mjs';

export { REPO, serve };

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/**
 * Launches headless Chromium with a fresh profile. `fakeAudio`: a WAV file
 * the fake microphone plays (in a loop).
 */
export async function launch({ fakeAudio } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'voxlet-chromium-'));
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  ];
  if (fakeAudio) args.push(`--use-file-for-fake-audio-capture=${fakeAudio}`);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A page on `baseUrl` with console errors and page errors collected in `page.logs`. */
export async function openPage(context, baseUrl, path = '/tests/browser/pages/blank.html') {
  const page = await context.newPage();
  page.logs = [];
  page.on('console', (m) => page.logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => page.logs.push(`[pageerror] ${e.message}`));
  page.failed = [];
  page.on('response', (r) => { if (r.status() >= 400) page.failed.push(`${r.status()} ${r.url()}`); });
  await page.goto(baseUrl + path);
  return page;
}

/** Calls `lib.js`'s export `name(args)` inside the page. */
export function run(page, name, args = {}) {
  return page.evaluate(async ([n, a]) => {
    const lib = await import('/tests/browser/pages/lib.js');
    return lib[n](a);
  }, [name, args]);
}

export function f32FromB64(s) {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** 16-bit PCM WAV → { rate, channels, data: Float32Array per channel }. */
export async function readWav(path) {
  const b = await readFile(path);
  let off = 12, fmt = null, data = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const len = b.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { channels: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') data = b.subarray(off + 8, off + 8 + len);
    off += 8 + len + (len & 1);
  }
  if (!fmt || !data || fmt.bits !== 16) throw new Error(`${path}: not 16-bit PCM WAV`);
  const frames = data.length / 2 / fmt.channels;
  const ch = Array.from({ length: fmt.channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < fmt.channels; c++) ch[c][i] = data.readInt16LE((i * fmt.channels + c) * 2) / 32768;
  }
  return { rate: fmt.rate, channels: fmt.channels, data: ch };
}

/** The f32 → i16 rounding voxlet uses (round half away from zero, saturating). */
export function toI16(x) {
  const v = Math.max(-32768, Math.min(32767, x * 32768));
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/**
 * Lag (in samples) of `b` behind `a` maximising their correlation, searched
 * in [minLag, maxLag], computed on a decimated envelope first then refined.
 */
export function bestLag(a, b, maxLag, minLag = -maxLag) {
  const n = Math.min(a.length, b.length);
  const score = (lag) => {
    let s = 0;
    for (let i = 0; i < n; i += 1) {
      const j = i + lag;
      if (j < 0 || j >= b.length) continue;
      s += a[i] * b[j];
    }
    return s;
  };
  // Coarse search with a stride, then exhaustive around the best.
  const stride = Math.max(1, Math.floor((maxLag - minLag) / 400));
  let best = minLag, bestS = -Infinity;
  for (let lag = minLag; lag <= maxLag; lag += stride) {
    const s = score(lag);
    if (s > bestS) { bestS = s; best = lag; }
  }
  const lo = Math.max(minLag, best - stride), hi = Math.min(maxLag, best + stride);
  for (let lag = lo; lag <= hi; lag++) {
    const s = score(lag);
    if (s > bestS) { bestS = s; best = lag; }
  }
  return best;
}

/** SNR in dB of `b` (offset by lag) against reference `a` over a[from..to). */
export function snrDb(a, b, lag, from = 0, to = a.length) {
  let sig = 0, err = 0;
  for (let i = from; i < to; i++) {
    const j = i + lag;
    if (j < 0 || j >= b.length) continue;
    sig += a[i] * a[i];
    const d = a[i] - b[j];
    err += d * d;
  }
  return 10 * Math.log10(sig / Math.max(err, 1e-20));
}

export function rms(x, from = 0, to = x.length) {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
}

/**
 * Windowed comparison of a capture at `outRate` with a reference at
 * `refRate` (an integer divisor): the capture is decimated (every phase
 * tried) and each 250 ms window of the reference with speech in it is
 * aligned on its own, following the lag from window to window within
 * `slackMs` (the jitter buffer stretches time by whole pitch periods); a
 * window that does not match there (below `lostDb`: the lag jumped, as
 * after a stall) is searched for over the whole range. Returns the median
 * and minimum per-window SNR, every window ({ atMs: its start in the
 * reference, snr }) in time order, and the first window's lag (the delay).
 */
export function windowedSnr(ref, refRate, out, outRate, { maxLagMs = 600, slackMs = 15, lostDb = 10 } = {}) {
  const f = outRate / refRate;
  if (f !== Math.round(f)) throw new Error(`output rate ${outRate} is not a multiple of ${refRate}`);
  const win = Math.round(refRate * 0.25);
  const phases = [];
  for (let ph = 0; ph < f; ph++) {
    const d = new Float32Array(Math.floor((out.length - ph) / f));
    for (let i = 0; i < d.length; i++) d[i] = out[i * f + ph];
    phases.push(d);
  }
  const loud = rms(ref) * 0.3;
  const sl = Math.round((refRate * slackMs) / 1000);
  const full = Math.round((refRate * maxLagMs) / 1000);
  const search = (w, lo, hi) => {
    let bw = -Infinity, bl = lo;
    for (const d of phases) {
      for (let l = lo; l <= hi; l++) {
        const s = snrDb(ref, d, l, w, w + win);
        if (s > bw) { bw = s; bl = l; }
      }
    }
    return [bw, bl];
  };
  const windows = [];
  let lag = null, first = null;
  for (let w = 0; w + win <= ref.length; w += win) {
    if (rms(ref, w, w + win) < loud) continue;
    let [bw, bl] = lag === null ? search(w, 0, full) : search(w, lag - sl, lag + sl);
    if (lag !== null && bw < lostDb) {
      const [fw, fl] = search(w, 0, full);
      if (fw > bw) [bw, bl] = [fw, fl];
    }
    lag = bl;
    if (first === null) first = bl;
    windows.push({ atMs: (w / refRate) * 1000, snr: bw });
  }
  const snrs = windows.map((x) => x.snr).sort((a, b) => a - b);
  return { lag: first, median: snrs[snrs.length >> 1], min: snrs[0], windows: snrs.length, all: windows };
}
