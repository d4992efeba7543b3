// The echo-cancelled output route (`createPlayer({ output: 'aec' })`): the
// player's audio goes through a local RTCPeerConnection loopback into an
// <audio> element. Checked in real time: the loopback carries audio (its
// inbound-rtp statistics count it), the received stream that the element
// plays holds the player's signal, and the latency the route adds is
// measured against the player's own output on the same clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePage, run, f32FromB64, bestLag, rms, windowedSnr, ENGINE } from './harness.mjs';

let page;
usePage({}, (s) => ({ page } = s));

test("output 'aec': the loopback carries the player's audio to the element; latency added measured", async (t) => {
  if (!(await page.evaluate(() => typeof RTCPeerConnection === 'function'))) {
    // Debian 12's WebKitGTK has no WebRTC: the documented fallback holds.
    const res = await run(page, 'aecRoute', { seconds: 2 });
    console.log(`# ${ENGINE}: no RTCPeerConnection: route ${res.route}, warnings ${JSON.stringify(res.warns)}`);
    assert.equal(res.route, 'speakers');
    assert.match(res.warns.join(' '), /RTCPeerConnection/);
    t.skip(`${ENGINE}: no RTCPeerConnection (checked the fallback to 'speakers' with a warning instead)`);
    return;
  }
  const res = await run(page, 'aecRoute', { seconds: 5 });
  assert.equal(res.route, 'aec', `route ${res.route}, warnings ${JSON.stringify(res.warns)}`);
  assert.deepEqual(res.warns, []);
  assert.equal(res.element.paused, false, 'the <audio> element plays');
  const s = res.inbound;
  assert.ok(s && s.packetsReceived > 100, `loopback inbound-rtp packets ${s && s.packetsReceived}`);
  assert.ok(s.totalSamplesReceived > 0);

  // Both recordings on the context's clock: put them on one timeline.
  const direct = f32FromB64(res.direct.data);
  const looped = f32FromB64(res.looped.data);
  const shift = res.looped.start - res.direct.start; // frames by which `looped` started later
  assert.ok(rms(looped) > 0.1 * rms(direct), `the received stream is not silent (rms ${rms(looped).toFixed(4)} vs ${rms(direct).toFixed(4)})`);
  // Lag of the looped signal behind the direct one, searched in 0..400 ms.
  const rate = res.rate;
  const from = Math.max(0, shift);
  const a = direct.subarray(from);
  const b = looped.subarray(Math.max(0, from - shift));
  const lag = bestLag(a, b, Math.round(0.4 * rate), -Math.round(0.4 * rate));
  const addedMs = ((lag - 0) / rate) * 1000;
  // Opus at 128 kbit/s on the loopback is close to transparent; its own
  // jitter buffer may stretch time, so the comparison follows the lag
  // window by window.
  const w = windowedSnr(a.subarray(0, a.length - Math.round(0.5 * rate)), rate, b, rate, { maxLagMs: 300, slackMs: 15 });
  const snr = w.median;
  const jb = s.jitterBufferEmittedCount ? (s.jitterBufferDelay / s.jitterBufferEmittedCount) * 1000 : NaN;
  console.log(`# aec route: ${s.packetsReceived} loopback packets, latency added ${addedMs.toFixed(1)} ms (loopback jitter buffer ${jb.toFixed(1)} ms), SNR ${snr.toFixed(1)} dB against the direct output; element sinkId ${JSON.stringify(res.element.sinkId)}, setSinkId ${res.element.setSinkId ? 'available' : 'missing'}`);
  assert.ok(addedMs > 0 && addedMs < 300, `latency added ${addedMs.toFixed(1)} ms`);
  assert.ok(snr > 10, `the received stream matches the player's output: ${snr.toFixed(1)} dB`);
});
