// The softphone page calls a real SIP phone: Debian's baresip, started here
// on loopback in auto-answer mode, playing a 1 kHz tone file (aufile) and
// recording what it hears (sndfile). The page dials it through a gateway with
// a `sip` peer, in headless Chromium with the fake microphone (speech):
// the page must play baresip's tone, baresip's recording must hold the
// page's speech, a keypad press must reach baresip as RFC 4733, the hold
// button must hold and resume, and the page's hang-up must end baresip's call.
//
// Starts its own gateway (VOXLET_GATEWAY_BIN, set by scripts/test-e2e.sh) and
// its own baresip; fails (does not skip) when baresip is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, openSoftphone, call, hangup, recordCall, rms, startGateway, freeUdpPair, alignAndCorrelate, readS16 } from './lib.mjs';

const PHONE_HZ = 1000;

function listenable(port) {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** A loopback port free for TCP with the next one free too (baresip listens on UDP, TCP and TLS on port + 1). */
async function freePort() {
  for (let i = 0; i < 100; i++) {
    const p = await new Promise((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => { const q = s.address().port; s.close(() => res(q)); });
    });
    if (p < 65535 && await listenable(p + 1)) return p;
  }
  throw new Error('no free port pair');
}

function wavTone(path, hz, secs, rate = 48000) {
  const n = Math.floor(secs * rate);
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(0.4 * 32767 * Math.sin(2 * Math.PI * hz * i / rate)), 44 + 2 * i);
  writeFileSync(path, b);
}

function readWav(path) {
  const b = readFileSync(path);
  let i = 12, rate = 0, ch = 1;
  while (i + 8 <= b.length) {
    const id = b.toString('latin1', i, i + 4), len = b.readUInt32LE(i + 4);
    if (id === 'fmt ') { ch = b.readUInt16LE(i + 10); rate = b.readUInt32LE(i + 12); }
    if (id === 'data') {
      const n = Math.floor(Math.min(len, b.length - i - 8) / (2 * ch));
      const x = new Float32Array(n);
      for (let k = 0; k < n; k++) x[k] = b.readInt16LE(i + 8 + 2 * ch * k) / 32768;
      return { rate, x };
    }
    i += 8 + len + (len & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

/** Goertzel power at `hz`, per sample². */
function power(x, rate, hz) {
  const c = 2 * Math.cos(2 * Math.PI * hz / rate);
  let s1 = 0, s2 = 0;
  for (const v of x) { const s0 = v + c * s1 - s2; s2 = s1; s1 = s0; }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / (x.length * x.length);
}

let phone, gw, browser, page;

function startBaresip(port) {
  const dir = mkdtempSync(join(tmpdir(), 'voxlet-e2e-baresip-'));
  mkdirSync(join(dir, 'rec'));
  wavTone(join(dir, 'tone.wav'), PHONE_HZ, 60);
  writeFileSync(join(dir, 'config'), [
    'poll_method epoll', `sip_listen 127.0.0.1:${port}`, 'net_interface 127.0.0.1',
    `audio_source aufile,${join(dir, 'tone.wav')}`, `audio_alert aufile,${join(dir, 'tone.wav')}`,
    'ausrc_srate 48000', 'auplay_srate 48000', 'module_path /usr/lib/baresip/modules',
    ...['stdio', 'g711', 'g722', 'opus', 'aufile', 'sndfile'].map((m) => `module ${m}.so`),
    'module_app account.so', 'module_app menu.so', `snd_path ${join(dir, 'rec')}`,
    'opus_stereo no', 'opus_sprop_stereo no', '',
  ].join('\n'));
  writeFileSync(join(dir, 'accounts'), `<sip:bob@127.0.0.1:${port}>;regint=0;answermode=auto\n`);
  writeFileSync(join(dir, 'contacts'), '');
  const proc = spawn('baresip', ['-4', '-v', '-f', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  const p = { proc, dir, port, log: '', uri: `sip:bob@127.0.0.1:${port}` };
  proc.stdout.on('data', (d) => { p.log += d; });
  proc.stderr.on('data', (d) => { p.log += d; });
  proc.on('error', (e) => { p.log += `spawn error: ${e.message}`; });
  p.waitLog = async (what, ms = 15000) => {
    const end = Date.now() + ms;
    while (!p.log.includes(what)) {
      if (Date.now() > end || proc.exitCode !== null) throw new Error(`baresip never logged ${JSON.stringify(what)}; its log:\n${p.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  p.stop = () => { proc.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); };
  return p;
}

before(async () => {
  try { execFileSync('baresip', ['-h'], { stdio: 'ignore' }); } catch (e) {
    if (e.code === 'ENOENT') throw new Error('baresip is not installed: run scripts/setup.sh');
  }
  phone = startBaresip(await freePort());
  await phone.waitLog('baresip is ready');
  const rtp = await freeUdpPair();
  gw = await startGateway(['--peer', 'phone=sip', '--sip-bind', '127.0.0.1:0', '--rtp-bind', '127.0.0.1',
    '--rtp-ports', `${rtp}-${rtp + 4}`, '--sip-allow', `sip:*@127.0.0.1:${phone.port}`]);
  browser = await launch();
  page = await openSoftphone(browser.context, gw.url, `?peer=phone&dial=${encodeURIComponent(phone.uri)}`);
});
after(async () => {
  if (page) assert.deepEqual(page.errors, [], 'no console errors');
  await browser?.close();
  await gw?.stop();
  phone?.stop();
});

test('the page calls baresip: its tone plays, the page speaks to it, a key reaches it, hang-up ends it', async () => {
  assert.equal(await page.isVisible('#dial'), true, 'the dial field shows for a sip peer');
  const answer = await call(page, { peer: 'phone', codec: 'opus' });
  assert.equal(answer.peer_kind, 'sip');
  assert.equal(answer.codec.rtpmap, 'opus/48000/2');
  await page.waitForTimeout(1000);
  const r = await recordCall(page, 3);
  await page.check('input[name="dtmf-mode"][value="gateway"]');
  await page.click('.key[data-key="5"]');
  await phone.waitLog("received event: '5'");
  // Hold and resume from the page (re-INVITEs; the button follows the gateway's `call` states).
  assert.equal(await page.isVisible('#hold-btn'), true, 'the hold button shows on a SIP call');
  await page.click('#hold-btn');
  await page.waitForFunction(() => document.querySelector('#hold-btn span').textContent === 'Resume', null, { timeout: 10000 });
  assert.equal(await page.getAttribute('#hold-btn', 'aria-pressed'), 'true');
  await page.click('#hold-btn');
  await page.waitForFunction(() => document.querySelector('#hold-btn span').textContent === 'Hold', null, { timeout: 10000 });
  await hangup(page);
  await phone.waitLog('session closed');
  // The page played baresip's 1 kHz tone: it dominates the speech band.
  const out = r.output;
  const p1k = power(out, r.rate, PHONE_HZ);
  for (const hz of [300, 600, 1400, 2000]) {
    assert.ok(p1k > 10 * power(out, r.rate, hz), `page output: ${PHONE_HZ} Hz dominates ${hz} Hz`);
  }
  assert.ok(rms(out) > 0.05, `page output level ${rms(out)}`);
  // baresip heard the page's microphone (speech), not silence. Its
  // recorder completes the WAV header when the call has terminated.
  await phone.waitLog('terminated');
  const rec = readdirSync(join(phone.dir, 'rec')).find((f) => f.endsWith('-dec.wav'));
  assert.ok(rec, 'baresip recorded the call');
  const heard = readWav(join(phone.dir, 'rec', rec));
  assert.ok(heard.x.length > heard.rate * 2, 'at least 2 s recorded');
  const level = rms(heard.x, heard.rate);
  assert.ok(level > 0.01, `baresip heard the page's speech (rms ${level})`);
  // …and it is the page's microphone: baresip's recording (from the call's
  // start) follows the page's recorded input after a delay.
  const raw = join(phone.dir, 'heard.raw');
  execFileSync('sox', [join(phone.dir, 'rec', rec), '-t', 'raw', '-r', String(r.rate), '-e', 'signed', '-b', '16', '-c', '1', raw]);
  const c = alignAndCorrelate(r.input, readS16(raw), r.rate, { maxLagS: 4, slackS: 0.03 });
  console.log(`  page → baresip: ${answer.codec.rtpmap}, set-up ${answer.sip.setup_ms} ms, page output ${PHONE_HZ} Hz at rms ${rms(out).toFixed(3)}, baresip heard rms ${level.toFixed(3)}, mic → baresip lag ${(c.lag / r.rate * 1000).toFixed(0)} ms NCC median ${c.median.toFixed(3)} (${c.windows} windows)`);
  assert.ok(c.windows >= 3, 'enough speech windows');
  assert.ok(c.median >= 0.8, `baresip's recording follows the page's microphone (median NCC ${c.median})`);
});
