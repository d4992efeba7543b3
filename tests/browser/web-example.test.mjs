// examples/web (a Rust app using voxlet's `web` feature, built by
// scripts/build-web-example.sh) in a real browser: its page calls the
// Rust `call()`, which registers the npm package's worklet and wasm,
// plays what a WebSocket sends and sends the (fake, speech WAV)
// microphone back. The test server sends the pcmu fixture in real time;
// the player's output is recorded (the test's recorder node, connected to
// the node the app exposes) and compared with the native decode as
// realtime.test.mjs does for the npm package (sample-exact where the stats
// say the receiver changed nothing, window by window where a loaded
// machine made it stretch or conceal); the packets the
// app sent back are checked as RTP carrying the microphone (Chromium's is
// the speech WAV, Firefox's and WebKit's fake devices are tones: the level
// is checked, which holds for both).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import alawmulaw from 'alawmulaw';
import { usePage, REPO, readWav, readRtpdump, speechWav, f32FromB64, assertFollowsDecode, rms } from './harness.mjs';

const REF = process.env.VOXLET_REF_DIR || join(REPO, 'target/browser-ref');

let page;
usePage({ launch: { fakeAudio: speechWav(REF) }, path: '/examples/web/index.html' }, async (s) => {
  page = s.page;
  await page.waitForFunction(() => window.voxletExampleReady === true, null, { timeout: 30000 });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('the Rust example plays a WebSocket RTP stream and sends the microphone', async () => {
  const packets = await readRtpdump(join(REPO, 'tests/fixtures/pcmu.rtpdump'));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const received = [];
  let socket = null;
  const connected = new Promise((resolve) => wss.once('connection', (ws) => {
    socket = ws;
    ws.on('message', (data, isBinary) => { if (isBinary) received.push(new Uint8Array(data)); });
    resolve();
  }));
  // The app's call, and a recorder on its player, before any audio is sent.
  const seconds = 7;
  const setup = await page.evaluate(async ([url, s]) => {
    const lib = await import('/tests/browser/pages/lib.js');
    const call = await window.startCall(url, 48000); // a multiple of the stream's 8 kHz, for the comparison
    const ctx = call.context();
    // The stream starts once the audio clock runs (WebKitGTK's stalls for
    // ~1 s after resume() and then catches up in a burst).
    await lib.audioSleep(ctx, 1);
    const rec = await lib.recorder(ctx, s + 1);
    call.player().connect(rec);
    window.test = { call, ctx, rec, lib, wall: performance.now(), audio: ctx.currentTime };
    return { rate: ctx.sampleRate, state: ctx.state };
  }, [`ws://127.0.0.1:${wss.address().port}`, seconds]);
  await connected;
  // The fixture in real time (its capture times), as a network delivers it.
  const t0 = performance.now();
  const first = packets[0].offsetMs;
  for (const p of packets) {
    const wait = p.offsetMs - first - (performance.now() - t0);
    if (wait > 0) await sleep(wait);
    socket.send(p.bytes);
  }
  const res = await page.evaluate(async () => {
    const { call, ctx, rec, lib, wall, audio } = window.test;
    await lib.audioSleep(ctx, 0.8); // the tail of the stream
    const r = await rec.stop();
    const stats = call.stats();
    const clockRatio = (ctx.currentTime - audio) / ((performance.now() - wall) / 1000);
    call.hangUp();
    return { output: lib.b64(r.data), stats, state: ctx.state, clockRatio };
  });
  socket.close();
  await new Promise((r) => wss.close(r));
  assert.deepEqual(page.logs.filter((l) => l.startsWith('[error]') || l.startsWith('[pageerror]')), []);
  assert.deepEqual(page.failed, []);

  // Played: the fixture, window by window, against the native decode.
  const ref = (await readWav(join(REF, 'pcmu.wav'))).data[0];
  const out = f32FromB64(res.output);
  const s = res.stats;
  assert.equal(s.packetsReceived, packets.length);
  assert.equal(s.packetsLost, 0);
  const r = assertFollowsDecode(assert, ref, 8000, out, setup.rate, s, { maxLagMs: 1500 });
  console.log(`# example @${setup.rate} Hz, audio clock ${res.clockRatio.toFixed(2)}× wall: received ${s.packetsReceived}, lost ${s.packetsLost}, concealed ${s.concealedSamples} in ${s.concealmentEvents} events, stretched +${s.insertedSamplesForDeceleration}/-${s.removedSamplesForAcceleration}; delay ${(r.lag / 8).toFixed(1)} ms, ${r.winMs} ms window SNR median ${r.median.toFixed(1)} dB, min ${r.min.toFixed(1)} dB over ${r.windows}`);

  // Sent: RTP (PCMU, one SSRC, consecutive sequence numbers) carrying the
  // microphone (the speech WAV; the app asks for echo cancellation and
  // noise suppression, so its level, not its waveform, is checked).
  const rtp = received.filter((b) => !(b[1] >= 192 && b[1] <= 223));
  assert.ok(rtp.length >= 100, `${rtp.length} RTP packets from the microphone`);
  const ssrc = (b) => Buffer.from(b).readUInt32BE(8);
  assert.ok(rtp.every((b) => b[0] >> 6 === 2 && (b[1] & 0x7f) === 0 && ssrc(b) === ssrc(rtp[0])), 'RTP v2, PT 0, one SSRC');
  const seq = rtp.map((b) => (b[2] << 8) | b[3]);
  assert.ok(seq.every((q, i) => i === 0 || q === ((seq[i - 1] + 1) & 0xffff)), 'consecutive sequence numbers');
  const pcm = Float32Array.from(alawmulaw.mulaw.decode(Buffer.concat(rtp.map((b) => b.subarray(12)))), (v) => v / 32768);
  console.log(`# example sent ${rtp.length} RTP packets (+${received.length - rtp.length} RTCP), microphone rms ${rms(pcm).toFixed(3)}`);
  assert.ok(rms(pcm) > 0.01, `the microphone's speech is in the packets (rms ${rms(pcm).toFixed(4)})`);
});
