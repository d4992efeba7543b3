// The softphone page (www/) against the real gateway binary, in headless
// Chromium with a fake microphone playing speech: echo calls over WebSocket
// and DataChannel (you hear yourself: the output correlates with the mic),
// DTMF round trip, impairment and concealment, and ffmpeg as a real RTP peer.
//
// Run by scripts/test-e2e.sh, which starts the gateway and passes
// VOXLET_E2E_URL and VOXLET_E2E_PBX_PORT (the `pbx` peer's port, where
// ffmpeg binds). Run alone, the test starts its own gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  REPO, launch, openSoftphone, call, hangup, recordCall, alignAndCorrelate, resampledS16, rms,
  startGateway, freeUdpPair,
} from './lib.mjs';

// Lower bounds on the median per-window normalised cross-correlation
// (0.5 s windows with speech, after alignment), set from measurements with
// margin. Measured on Chromium 156 (2 cores): echo Opus 0.96–0.97, echo PCMU
// 0.995–0.998, DataChannel Opus 0.96, ffmpeg PCMU → page 0.9998.
const MIN_NCC = { opus: 0.85, pcmu: 0.93, ffmpeg: 0.95 };

let gw, browser, page, pbxPort;
before(async () => {
  if (process.env.VOXLET_E2E_URL) {
    gw = { url: process.env.VOXLET_E2E_URL.replace(/\/$/, ''), stop: async () => {} };
    pbxPort = Number(process.env.VOXLET_E2E_PBX_PORT);
  } else {
    pbxPort = await freeUdpPair();
    const rtp = await freeUdpPair();
    gw = await startGateway(['--peer', 'echo', '--peer', 'announce', '--peer', 'room',
      '--peer', `pbx=udp:127.0.0.1:${pbxPort}`, '--rtp-ports', `${rtp}-${rtp + 2}`]);
  }
  browser = await launch();
  page = await openSoftphone(browser.context, gw.url);
});
after(async () => {
  if (page) assert.deepEqual(page.errors, [], 'no console errors during the whole session');
  await browser?.close();
  await gw?.stop();
});

/** Echo call: records mic and output side by side, returns the correlation. */
async function echoCall(codec, transport) {
  const answer = await call(page, { peer: 'echo', codec, transport });
  // Let the jitter buffer settle from its initial target first.
  await page.waitForTimeout(1500);
  const r = await recordCall(page, 5);
  const stats = await page.evaluate(() => window.softphone.call.stats);
  const info = await page.evaluate(() => ({
    isolated: crossOriginIsolated, transport: window.softphone.call.player.transport, text: document.querySelector('#callinfo').textContent,
  }));
  await hangup(page);
  assert.ok(rms(r.input) > 0.01, 'the fake microphone delivers speech');
  const c = alignAndCorrelate(r.input, r.output, r.rate, { maxLagS: 1, slackS: 0.03 });
  console.log(`  echo ${codec} over ${transport} (${info.transport}, isolated ${info.isolated}): ${answer.codec.rtpmap}, delay ${(c.lag / r.rate * 1000).toFixed(0)} ms, NCC median ${c.median.toFixed(4)} (min ${c.min.toFixed(3)}, global ${c.global.toFixed(3)}, ${c.windows} windows), received ${stats.packetsReceived}, lost ${stats.packetsLost}`);
  return { answer, c, stats, info, rate: r.rate };
}

test('echo over WebSocket with Opus: you hear your own speech', async () => {
  const { answer, c, stats, info, rate } = await echoCall('opus', 'ws');
  assert.equal(answer.codec.rtpmap, 'opus/48000/2');
  assert.equal(answer.transport, 'ws');
  assert.match(info.text, /opus\/48000\/2 · 20 ms packets · WebSocket/);
  assert.ok(stats.packetsReceived > 200, `packets came back (${stats.packetsReceived})`);
  assert.ok(c.windows >= 5, 'enough speech windows');
  assert.ok(c.median >= MIN_NCC.opus, `median NCC ${c.median} >= ${MIN_NCC.opus}`);
  assert.ok(c.lag > 0 && c.lag < 0.5 * rate, `plausible delay (${c.lag} samples)`);
});

test('echo over WebSocket with PCMU: you hear your own speech', async () => {
  const { answer, c, stats } = await echoCall('pcmu', 'ws');
  assert.deepEqual(answer.codec, { pt: 0, rtpmap: 'PCMU/8000' });
  assert.ok(stats.packetsReceived > 200);
  assert.ok(c.median >= MIN_NCC.pcmu, `median NCC ${c.median} >= ${MIN_NCC.pcmu}`);
});

test('echo over the DataChannel with Opus: you hear your own speech', async () => {
  const { answer, c, stats } = await echoCall('opus', 'datachannel');
  assert.equal(answer.transport, 'datachannel');
  const log = await page.evaluate(() => window.softphone.log.map((l) => l.text));
  assert.ok(log.some((t) => /DataChannel open/.test(t)), 'the page saw the channel open');
  assert.ok(stats.packetsReceived > 200);
  assert.ok(c.median >= MIN_NCC.opus, `median NCC ${c.median} >= ${MIN_NCC.opus}`);
});

test('DTMF round trip through echo: keypad clicks and keyboard, via the gateway and in-band', async () => {
  await call(page, { peer: 'echo', codec: 'pcmu' });
  await page.check('input[name="dtmf-mode"][value="gateway"]');
  for (const k of ['1', '5', '#', 'A']) await page.click(`.key[data-key="${k}"]`);
  await page.keyboard.press('9');
  await page.keyboard.press('*');
  await page.waitForFunction(() => window.softphone.received.length >= 6, null, { timeout: 5000 });
  // Let the last gateway event finish before the browser sends its own.
  await page.waitForTimeout(600);
  await page.check('input[name="dtmf-mode"][value="inband"]');
  await page.click('.key[data-key="7"]');
  await page.waitForTimeout(400);
  await page.keyboard.press('0');
  await page.waitForFunction(() => window.softphone.received.length >= 8, null, { timeout: 5000 }).catch(() => {});
  await page.waitForTimeout(500);
  const sent = await page.textContent('#dtmf-sent');
  const received = await page.textContent('#dtmf-recv');
  await hangup(page);
  console.log(`  DTMF sent ${sent}, received ${received}`);
  assert.equal(sent, '15#A9*70');
  assert.equal(received, '15#A9*70');
});

test('impairment: 10 % loss is concealed and the audio continues', async () => {
  await call(page, { peer: 'echo', codec: 'pcmu' });
  await page.waitForTimeout(500);
  await page.locator('#loss').fill('10');
  await page.waitForFunction(() => /Active: 10 % loss/.test(document.querySelector('#impair-state').textContent), null, { timeout: 3000 });
  const s0 = await page.evaluate(() => ({ ...window.softphone.call.stats }));
  const r = await recordCall(page, 4, { input: false });
  const s1 = await page.evaluate(() => ({ ...window.softphone.call.stats }));
  const shown = await page.textContent('#counters');
  const gwStats = await page.evaluate(() => window.softphone.call.request({ type: 'stats' }));
  await page.locator('#loss').fill('0');
  await hangup(page);
  const lost = s1.packetsLost - s0.packetsLost, got = s1.packetsReceived - s0.packetsReceived;
  const concealed = s1.concealedSamples - s0.concealedSamples;
  // Audio continues: every second of the recording has sound (the mic loops speech).
  const secs = [];
  for (let i = 0; i + r.rate <= r.output.length; i += r.rate) secs.push(rms(r.output, i, i + r.rate));
  console.log(`  10 % loss: ${lost} lost / ${got} received in 4 s, concealed ${concealed} samples in ${s1.concealmentEvents - s0.concealmentEvents} events; gateway dropped ${gwStats.impairment.lost}; output RMS per second ${secs.map((x) => x.toFixed(3)).join(' ')}`);
  assert.equal(gwStats.impairment.config.loss_pct, 10);
  assert.ok(gwStats.impairment.lost > 0, 'the gateway dropped packets');
  assert.ok(lost > 0, 'the page saw losses');
  assert.ok(concealed > 0, 'the page concealed them');
  assert.ok(got > 150, `packets keep coming (${got} in 4 s)`);
  assert.ok(secs.length >= 3 && secs.every((x) => x > 0.01), 'audio in every second');
  assert.match(shown, /concealed [1-9]|concealed 0\.[0-9]*[1-9]/, 'the page shows concealment');
});

test('ffmpeg as a real RTP peer: the page plays its PCMU stream', async () => {
  const answer = await call(page, { peer: 'pbx', codec: 'pcmu' });
  assert.equal(answer.peer_kind, 'udp');
  assert.ok(answer.local_rtp_port > 0, 'the answer tells the local RTP port');
  const recording = recordCall(page, 7.5, { input: false });
  // ffmpeg binds the peer's configured port (so the gateway's packets to it
  // land on a socket) and sends the speech to the gateway's RTP port.
  const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
    '-f', 's16le', '-ar', '8000', '-ac', '1', '-i', join(REPO, 'tests/fixtures/speech_8k.s16le'),
    '-c:a', 'pcm_mulaw', '-f', 'rtp',
    `rtp://127.0.0.1:${answer.local_rtp_port}?localrtpport=${pbxPort}&localrtcpport=${pbxPort + 1}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let ffErr = '';
  ff.stderr.on('data', (d) => { ffErr += d; });
  const ffDone = new Promise((r) => ff.on('exit', (code) => r(code)));
  const r = await recording;
  const code = await Promise.race([ffDone, new Promise((res) => setTimeout(() => { ff.kill('SIGKILL'); res('killed'); }, 3000))]);
  const stats = await page.evaluate(() => window.softphone.call.stats);
  await hangup(page);
  assert.equal(code, 0, `ffmpeg exited cleanly: ${ffErr}`);
  const ref = resampledS16(join(REPO, 'tests/fixtures/speech_8k.s16le'), 8000, r.rate);
  const c = alignAndCorrelate(ref, r.output, r.rate, { maxLagS: 2.5, slackS: 0.03 });
  console.log(`  ffmpeg PCMU → gateway → page: ${stats.packetsReceived} packets, delay ${(c.lag / r.rate * 1000).toFixed(0)} ms after recording start, NCC median ${c.median.toFixed(4)} (min ${c.min.toFixed(3)}, global ${c.global.toFixed(3)}, ${c.windows} windows)`);
  assert.ok(stats.packetsReceived > 100, 'packets from ffmpeg reached the page');
  assert.ok(c.windows >= 6);
  assert.ok(c.median >= MIN_NCC.ffmpeg, `median NCC ${c.median} >= ${MIN_NCC.ffmpeg}`);
});
