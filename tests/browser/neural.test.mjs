// The neural Opus build (issue 16) in the browser: registerNeural() from
// 'voxlet/neural' loads pkg/wasm-neural, a player with opus.neural
// conceals loss with libopus' deep PLC inside the AudioWorklet, the stats
// say so, and with neural off the same build plays exactly as the full one;
// a MicNode with dredMs sends Deep REDundancy that a neural player
// recovers bursts of loss from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePage, run, f32FromB64 } from './harness.mjs';

let srv, browser, page;

usePage({}, (s) => ({ srv, browser, page } = s));

test('neural build: deep PLC conceals in the worklet and is counted; neural off = the full build', { timeout: 120000 }, async () => {
  const before = srv.requests.length;
  const full = await run(page, 'neuralOffline', { build: 'full', lossEvery: 7 });
  const off = await run(page, 'neuralOffline', { build: 'neural', neural: false, lossEvery: 7 });
  const on = await run(page, 'neuralOffline', { build: 'neural', neural: true, lossEvery: 7 });
  const wasm = [...new Set(srv.requests.slice(before).filter((p) => p.endsWith('.wasm')))];
  const us = (r) => ((r.renderMs * 1000) / r.quanta).toFixed(0);
  const s = (r) => `concealed ${r.stats.concealedSamples} (silent ${r.stats.silentConcealedSamples}), deep PLC ${r.stats.deepPlcSamples}, FEC ${r.stats.fecSamples}, ${us(r)} µs/quantum`;
  console.log(`# neural: full ${s(full)}; neural build off ${s(off)}; on ${s(on)}; wasm fetched ${wasm.join(' ')}`);
  assert.deepEqual(wasm.sort(), ['/pkg/wasm-neural/voxlet_bg.wasm', '/pkg/wasm/voxlet_bg.wasm']);
  assert.equal(on.build, 'neural');
  // Every 7th packet lost: concealment happened in all three.
  assert.ok(full.stats.concealedSamples > 20000, s(full));
  assert.equal(full.stats.deepPlcSamples, 0);
  assert.equal(off.stats.deepPlcSamples, 0);
  assert.ok(on.stats.deepPlcSamples > 0, s(on));
  assert.equal(on.stats.deepPlcSamples, on.stats.concealedSamples - on.stats.silentConcealedSamples);
  // Without loss, the neural build with neural off decodes exactly as the
  // full build. (With loss it does not: libopus built with the models runs
  // its classic PLC a little differently, even at decoder complexity 0.)
  const fullClean = await run(page, 'neuralOffline', { build: 'full' });
  const offClean = await run(page, 'neuralOffline', { build: 'neural', neural: false });
  const x = f32FromB64(fullClean.output), y = f32FromB64(offClean.output);
  assert.equal(x.length, y.length);
  // Up to the end of the last packet (after it, both conceal).
  let maxDiff = 0;
  for (let i = 0; i < fullClean.mediaEnd; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
  assert.ok(fullClean.mediaEnd > 48000 && maxDiff < 1e-6, `neural off differs from the full build by ${maxDiff} on a loss-free stream`);
  // With it on, the concealed stretches (and OSCE) change the audio.
  const a = f32FromB64(full.output), c = f32FromB64(on.output);
  let changed = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - c[i]) > 1e-3) changed++;
  assert.ok(changed > 1000, `${changed} samples changed`);
});

test('DRED end to end: a mic with dredMs, a neural player recovers bursts of loss from it', { timeout: 120000 }, async () => {
  // 3 packets (60 ms) lost out of every 20, speech at 48 kbit/s.
  const dred = await run(page, 'dredLoop', { dredMs: 200 });
  const none = await run(page, 'dredLoop', { dredMs: 0 });
  const s = (r) => `${r.lost} of ${r.sent} packets lost (${r.bytes} bytes sent): concealed ${r.stats.concealedSamples} (silent ${r.stats.silentConcealedSamples}), DRED ${r.stats.dredSamples}, deep PLC ${r.stats.deepPlcSamples}`;
  console.log(`# DRED: sender with dredMs 200 ${s(dred)}; without ${s(none)}`);
  for (const r of [dred, none]) {
    assert.ok(r.sent >= 195 && r.lost >= 27, s(r));
    assert.equal(r.stats.packetsLost, r.lost, s(r));
  }
  // Without DRED in the stream, every lost packet is concealed (deep PLC).
  assert.equal(none.stats.dredSamples, 0, s(none));
  assert.ok(none.stats.deepPlcSamples >= none.lost * 960 * 0.9, s(none));
  // With it, most of the lost audio is decoded from the packets after the
  // bursts instead (the first packets' DRED reaches back less far).
  assert.ok(dred.stats.dredSamples >= dred.lost * 960 * 0.75, s(dred));
  assert.ok(dred.stats.deepPlcSamples < none.stats.deepPlcSamples / 2, s(dred));
});

test('opus.neural on a context without the neural build throws, naming registerNeural', async () => {
  const r = await run(page, 'neuralNeedsBuild', {});
  assert.ok(r.threw);
  assert.match(r.message, /registerNeural\(\) from 'voxlet\/neural'/);
});
