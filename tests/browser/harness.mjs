// Shared helpers for the browser tests: launching one of three engines
// (never a downloaded browser), a page on the test server, and the numeric
// comparisons (alignment by cross-correlation, SNR).
//
// The engine comes from env VOXLET_BROWSER (scripts/test-browser.sh sets
// it): `chromium` (Debian's, playwright-core), `firefox` (Firefox ESR,
// puppeteer-core over WebDriver BiDi, headless; needs an audio output:
// PULSE_SERVER with a null sink), `webkit` (WebKitGTK's MiniBrowser through
// WebKitWebDriver and selenium-webdriver; needs DISPLAY, an Xvfb) or
// `webkit-sab` (the same with JSC_useSharedArrayBuffer=1: WebKitGTK has no
// SharedArrayBuffer otherwise, even on a cross-origin isolated page).
// Every engine's page offers what the tests use: evaluate(fn, arg),
// waitForFunction(fn, arg, { timeout }), close(), `logs` (console errors
// and page errors), `failed` (HTTP responses >= 400) and `sab`.
import { before, after } from 'node:test';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, REPO } from './server.mjs';

export { REPO, serve };

export const ENGINE = process.env.VOXLET_BROWSER || 'chromium';
if (!['chromium', 'firefox', 'webkit', 'webkit-sab'].includes(ENGINE)) throw new Error(`VOXLET_BROWSER=${ENGINE}: not chromium, firefox, webkit or webkit-sab`);
/** The engine family: 'chromium', 'firefox' or 'webkit'. */
export const FAMILY = ENGINE.startsWith('webkit') ? 'webkit' : ENGINE;

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
export const MINIBROWSER = process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/**
 * What the engine can do that some checks depend on; a check that needs a
 * missing one is skipped by name with `why`.
 */
export const CAN = {
  // The fake microphone plays a given WAV (Chromium's
  // --use-file-for-fake-audio-capture); Firefox's fake device is a tone,
  // WebKit's mock device a synthetic one.
  fakeMicFile: FAMILY === 'chromium',
  // SharedArrayBuffer on a cross-origin isolated page.
  sharedArrayBuffer: ENGINE !== 'webkit',
  // Page errors and console messages from the page's first script on
  // (WebKitWebDriver 2.50 has no BiDi: a hook is installed after load).
  logsFromLoad: FAMILY !== 'webkit',
};
export const why = {
  fakeMicFile: `${ENGINE}: no file-backed fake microphone (${FAMILY === 'firefox' ? 'media.navigator.streams.fake is a tone' : 'the mock capture device is synthetic'})`,
  sharedArrayBuffer: `${ENGINE}: no SharedArrayBuffer on a cross-origin isolated page (JSC_useSharedArrayBuffer unset; VOXLET_BROWSER=webkit-sab has it)`,
  logsFromLoad: `${ENGINE}: page errors are only caught from the end of the page load on (WebKitWebDriver has no BiDi)`,
};

/**
 * Launches the engine with a fresh profile. `fakeAudio`: a WAV file the
 * fake microphone plays in a loop (Chromium only; see CAN.fakeMicFile).
 * Returns { engine, context, close() }; `context.newPage()` is what
 * openPage() uses.
 */
export async function launch(opts = {}) {
  if (FAMILY === 'firefox') return launchFirefox(opts);
  if (FAMILY === 'webkit') return launchWebKit(opts);
  return launchChromium(opts);
}

async function launchChromium({ fakeAudio } = {}) {
  const { chromium } = await import('playwright-core');
  const dir = await mkdtemp(join(tmpdir(), 'voxlet-chromium-'));
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  ];
  if (fakeAudio) args.push(`--use-file-for-fake-audio-capture=${fakeAudio}`);
  // Not the PulseAudio null sink test-browser.sh starts for the other
  // engines: through it Chromium's real-time clock starts late and runs
  // unevenly (a mic node sent no packet in 700 ms, packets went late);
  // headless Chromium's own fake output is steady.
  const env = { ...process.env };
  delete env.PULSE_SERVER;
  delete env.DISPLAY;
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    env,
  });
  return {
    engine: ENGINE,
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function launchFirefox() {
  if (!process.env.PULSE_SERVER) {
    console.log('# firefox: PULSE_SERVER is not set: without an audio output AudioContext.resume() never resolves (scripts/test-browser.sh starts a null sink)');
  }
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    protocol: 'webDriverBiDi',
    extraPrefsFirefox: {
      // getUserMedia: a fake device (a tone), no permission prompt.
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      // Autoplay allowed, Web Audio included (0 = allowed).
      'media.autoplay.default': 0,
      'media.autoplay.block-webaudio': false,
    },
  });
  const context = {
    async newPage() {
      const page = await browser.newPage();
      return wrapPuppeteer(page);
    },
  };
  return {
    engine: ENGINE,
    context,
    version: await browser.version(),
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** Puppeteer's page with Playwright's evaluate / waitForFunction / on signatures. */
function wrapPuppeteer(p) {
  return {
    raw: p,
    on(ev, fn) {
      if (ev === 'console') p.on('console', (m) => fn({ type: () => m.type(), text: () => m.text() }));
      else if (ev === 'pageerror') p.on('pageerror', fn);
      else if (ev === 'response') p.on('response', (r) => fn({ status: () => r.status(), url: () => r.url() }));
      else p.on(ev, fn);
    },
    goto: (url) => p.goto(url),
    evaluate: (fn, arg) => p.evaluate(fn, arg),
    waitForFunction: (fn, arg, { timeout = 30000 } = {}) => p.waitForFunction(fn, { timeout, polling: 100 }, arg),
    close: () => p.close(),
  };
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function launchWebKit() {
  if (!process.env.DISPLAY) throw new Error('webkit: DISPLAY is not set (MiniBrowser has no headless mode: run under Xvfb, as scripts/test-browser.sh does)');
  // The web process crashed at start-up once in ~13 sessions: one retry.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchWebKitOnce();
    } catch (e) {
      if (attempt >= 2) throw e;
      console.log(`# ${ENGINE}: launch failed (${String(e.message || e).split('\n')[0]}); retrying once`);
    }
  }
}

async function launchWebKitOnce() {
  const { WebDriver, Capabilities } = await import('selenium-webdriver');
  const { Executor, HttpClient } = await import('selenium-webdriver/http/index.js');
  const port = await freePort();
  const env = { ...process.env };
  if (ENGINE === 'webkit-sab') env.JSC_useSharedArrayBuffer = '1';
  else delete env.JSC_useSharedArrayBuffer;
  // Own process group: MiniBrowser and its web/network processes outlive
  // the driver otherwise.
  const drv = spawn('WebKitWebDriver', [`--port=${port}`, '--host=local'], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let drvErr = '';
  drv.stderr.on('data', (d) => { drvErr = (drvErr + d).slice(-4000); });
  const exited = new Promise((r) => drv.once('exit', r));
  const kill = () => { try { process.kill(-drv.pid, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', kill);
  const url = `http://127.0.0.1:${port}`;
  const client = new HttpClient(url);
  const executor = new Executor(client);
  try {
    for (let i = 0; ; i++) {
      try { await fetch(`${url}/status`); break; } catch (e) { if (i > 50) throw e; await sleep(100); }
    }
    const caps = new Capabilities({
      'webkitgtk:browserOptions': {
        binary: MINIBROWSER,
        args: [
          '--automation',
          '--autoplay-policy=allow',
          '--enable-media-stream=true',
          '--enable-webrtc=true',
          '--enable-mock-capture-devices=true',
          // Mock microphone without a prompt and without window focus.
          '--features=+MockCaptureDevices,-MockCaptureDevicesPrompt,-GetUserMediaRequiresFocus',
        ],
      },
    });
    const driver = await withTimeout(WebDriver.createSession(executor, caps), 30000, 'WebKitWebDriver new session');
    await driver.manage().setTimeouts({ script: 600000, pageLoad: 60000 });
    // A web process that died at start shows here, inside the retry.
    await withTimeout(driver.executeScript('return 1'), 15000, 'first script in MiniBrowser');
    const context = {
      async newPage() {
        return new WebKitPage(driver);
      },
    };
    return {
      engine: ENGINE,
      context,
      driver,
      async close() {
        await withTimeout(driver.quit(), 10000, 'quit').catch(() => {});
        kill();
        await Promise.race([exited, sleep(2000)]);
        process.removeListener('exit', kill);
      },
    };
  } catch (e) {
    kill();
    process.removeListener('exit', kill);
    throw new Error(`${e.message || e}${drvErr ? `\nWebKitWebDriver: ${drvErr}` : ''}`);
  }
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: no answer in ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
}

// Installed in the page after each load: console errors/warnings and page
// errors are kept until the next evaluate() collects them.
const WEBKIT_HOOK = `
if (!window.__voxletLogs) {
  const logs = window.__voxletLogs = [];
  for (const k of ['error', 'warn']) {
    const f = console[k].bind(console);
    console[k] = (...a) => { logs.push('[' + (k === 'warn' ? 'warning' : k) + '] ' + a.map(String).join(' ')); f(...a); };
  }
  addEventListener('error', (e) => logs.push('[pageerror] ' + e.message));
  addEventListener('unhandledrejection', (e) => logs.push('[pageerror] ' + (e.reason && e.reason.message || e.reason)));
}`;

/**
 * A WebDriver-classic window as a page: one window per page, switched to
 * before each call (the tests use one page at a time).
 */
class WebKitPage {
  constructor(driver) {
    this.driver = driver;
    this.handle = null;
    this.listeners = { console: [], pageerror: [], response: [] };
  }
  on(ev, fn) { (this.listeners[ev] ||= []).push(fn); }
  async focus() {
    if (this.handle === null) {
      // The session's first window is the first page; later pages open tabs.
      if (!this.driver.voxletFirstPageUsed) {
        this.driver.voxletFirstPageUsed = true;
        this.handle = (await this.driver.getAllWindowHandles())[0];
      } else {
        await this.driver.switchTo().newWindow('tab');
        this.handle = await this.driver.getWindowHandle();
      }
    }
    await this.driver.switchTo().window(this.handle);
  }
  async goto(url) {
    await this.focus();
    await this.driver.get(url);
    await this.driver.executeScript(WEBKIT_HOOK);
    await this.collect();
  }
  /** Moves the page's collected messages and failed resources to the listeners. */
  async collect() {
    const got = await this.driver.executeScript(`
      const l = (window.__voxletLogs || []).splice(0);
      const seen = window.__voxletSeen || (window.__voxletSeen = new Set());
      const failed = [];
      for (const e of performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))) {
        if (e.responseStatus >= 400 && !seen.has(e.name)) { seen.add(e.name); failed.push([e.responseStatus, e.name]); }
      }
      return { logs: l, failed };`);
    for (const m of got.logs) {
      if (m.startsWith('[pageerror] ')) for (const f of this.listeners.pageerror) f({ message: m.slice(12) });
      else {
        const type = m.slice(1, m.indexOf(']'));
        for (const f of this.listeners.console) f({ type: () => type, text: () => m.slice(type.length + 3) });
      }
    }
    for (const [status, url] of got.failed) for (const f of this.listeners.response) f({ status: () => status, url: () => url });
  }
  async evaluate(fn, arg) {
    await this.focus();
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn})(arguments[0])).then(
        (v) => done({ ok: true, v: v === undefined ? null : v }),
        (e) => done({ ok: false, e: e && typeof e === 'object' ? (e.name || 'Error') + ': ' + e.message + '\\n' + e.stack : String(e) }));`;
    const r = await this.driver.executeAsyncScript(script, arg === undefined ? null : arg);
    await this.collect().catch(() => {});
    if (!r.ok) throw new Error(`page: ${r.e}`);
    return r.v;
  }
  async waitForFunction(fn, arg, { timeout = 30000 } = {}) {
    const end = Date.now() + timeout;
    for (;;) {
      const v = await this.evaluate(fn, arg);
      if (v) return v;
      if (Date.now() > end) throw new Error(`waitForFunction: not true within ${timeout} ms`);
      await sleep(100);
    }
  }
  async close() {
    await this.focus();
    const handles = await this.driver.getAllWindowHandles();
    if (handles.length > 1) {
      await this.driver.close();
      await this.driver.switchTo().window(handles.find((h) => h !== this.handle));
    } else {
      await this.driver.get('about:blank');
    }
  }
}

/**
 * A check that needs what the engine may lack, as a subtest of `t` that is
 * skipped by name, with the reason, when `lacking` (a string) is set.
 */
export function check(t, name, lacking, fn) {
  return t.test(name, lacking ? { skip: lacking } : {}, fn);
}

/**
 * A page on `baseUrl` with console errors and page errors collected in
 * `page.logs`, failed responses in `page.failed`, and `page.sab`: whether
 * this page can use SharedArrayBuffer rings (cross-origin isolated and the
 * engine has SharedArrayBuffer).
 */
export async function openPage(context, baseUrl, path = '/tests/browser/pages/blank.html') {
  const page = await context.newPage();
  page.logs = [];
  page.on('console', (m) => page.logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => page.logs.push(`[pageerror] ${e.message}`));
  page.failed = [];
  page.on('response', (r) => { if (r.status() >= 400) page.failed.push(`${r.status()} ${r.url()}`); });
  await page.goto(baseUrl + path);
  page.sab = await page.evaluate(() => typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true);
  return page;
}

/**
 * The set-up most test files (or describe blocks) share: a server
 * (`serve` options), a browser (`launch` options) and a page at `path`,
 * opened in `before` and closed in `after`. `use` receives { srv,
 * browser, page } once they are open (and is awaited: more set-up can go
 * there).
 */
export function usePage({ serve: serveOptions, launch: launchOptions, path } = {}, use) {
  let srv, browser;
  before(async () => {
    srv = await serve(serveOptions);
    browser = await launch(launchOptions);
    await use({ srv, browser, page: await openPage(browser.context, srv.url, path) });
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });
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

/**
 * The fake microphone's speech WAV (44.1 kHz stereo, what Chromium's fake
 * capture delivers), made once with sox from tests/fixtures/speech_48k.s16le
 * in `dir` (target/browser-ref).
 */
export function speechWav(dir) {
  const wav = join(dir, 'mic_44k_stereo.wav');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(wav)) {
    execFileSync('sox', ['-t', 'raw', '-r', '48000', '-e', 'signed', '-b', '16', '-c', '1',
      join(REPO, 'tests/fixtures/speech_48k.s16le'), '-r', '44100', '-c', '2', wav]);
  }
  return wav;
}

/** An rtpdump file (rtptools format) → [{ offsetMs, bytes: Buffer }], as pages/lib.js parses it in the page. */
export async function readRtpdump(path) {
  const b = await readFile(path);
  let i = b.indexOf(0x0a) + 1 + 16;
  const out = [];
  while (i + 8 <= b.length) {
    const len = b.readUInt16BE(i);
    const plen = b.readUInt16BE(i + 2);
    if (plen !== 0) out.push({ offsetMs: b.readUInt32BE(i + 4), bytes: b.subarray(i + 8, i + len) });
    i += len;
  }
  return out;
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
 * The frequency of a tone in a real-time capture, robust to what a loaded
 * machine does to it: zero crossings counted in 100 ms windows, only in
 * windows where the tone plays throughout (every 5 ms of it above 30 % of
 * the median window level: no underrun gap, no fade inside), and the
 * median taken. Returns { hz, windows: used, of: all }.
 */
export function toneHz(x, rate) {
  const w = Math.round(rate / 10), sub = Math.round(rate / 200);
  const levels = [];
  for (let i = 0; i + w <= x.length; i += w) levels.push(rms(x, i, i + w));
  const median = levels.slice().sort((a, b) => a - b)[levels.length >> 1] || 0;
  const rates = [];
  for (let i = 0, k = 0; i + w <= x.length; i += w, k++) {
    let whole = true;
    for (let j = i; j + sub <= i + w && whole; j += sub) whole = rms(x, j, j + sub) > 0.3 * median;
    if (!whole) continue;
    let z = 0;
    for (let j = i + 1; j < i + w; j++) if ((x[j - 1] < 0) !== (x[j] < 0)) z++;
    rates.push((z / 2) * (rate / w));
  }
  rates.sort((a, b) => a - b);
  return { hz: rates.length ? rates[rates.length >> 1] : NaN, windows: rates.length, of: levels.length };
}

/**
 * Windowed comparison of a capture at `outRate` with a reference at
 * `refRate` (an integer divisor): the capture is decimated (every phase
 * tried) and each 250 ms window of the reference with speech in it is
 * aligned on its own (`winMs`: 250 ms unless told), following the lag from window to window within
 * `slackMs` (the jitter buffer stretches time by whole pitch periods); a
 * window that does not match there (below `lostDb`: the lag jumped, as
 * after a stall) is searched for over the whole range. Returns the median
 * and minimum per-window SNR, every window ({ atMs: its start in the
 * reference, snr }) in time order, and the first window's lag (the delay).
 */
export function windowedSnr(ref, refRate, out, outRate, { maxLagMs = 600, slackMs = 15, lostDb = 10, winMs = 250 } = {}) {
  const f = outRate / refRate;
  if (f !== Math.round(f)) throw new Error(`output rate ${outRate} is not a multiple of ${refRate}`);
  const win = Math.round((refRate * winMs) / 1000);
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

/**
 * Whether the jitter buffer changed the audio, from its stats: it
 * time-stretched, or concealed more than once (the end of a stream is one
 * concealment event: the receiver conceals, then goes silent, after the
 * last packet).
 */
export const altered = (s) => s.insertedSamplesForDeceleration + s.removedSamplesForAcceleration > 0 || s.concealmentEvents > 1;

/**
 * What a real-time capture of a loss-free stream must show on a machine
 * under any load. Where the stats say the receiver changed nothing, every
 * 250 ms window of speech is the native decode (SNR > 60 dB). Where it
 * stretched or concealed (a loaded machine delayed delivery or slowed the
 * audio clock, and the receiver adapted, as it should), the speech is
 * still all there, in order: 50 ms windows, each aligned on its own (a
 * stretch moves the lag by a pitch period and spoils one short window,
 * not a quarter second), have a median SNR above 15 dB and at most 30 %
 * below 10 dB. Returns the comparison used, for the log.
 */
export function assertFollowsDecode(assert, ref, refRate, out, outRate, stats, { maxLagMs = 600 } = {}) {
  if (!altered(stats)) {
    const r = windowedSnr(ref, refRate, out, outRate, { maxLagMs });
    assert.ok(r.min > 60, `unaltered output: min window SNR ${r.min.toFixed(1)} dB`);
    return { ...r, winMs: 250 };
  }
  const r = windowedSnr(ref, refRate, out, outRate, { maxLagMs, winMs: 50 });
  assert.ok(r.median > 15, `altered output: median 50 ms window SNR ${r.median.toFixed(1)} dB`);
  const bad = r.all.filter((w) => w.snr < 10).length;
  assert.ok(bad <= r.windows * 0.3, `altered output: ${bad} of ${r.windows} windows of 50 ms below 10 dB`);
  return { ...r, winMs: 50 };
}
