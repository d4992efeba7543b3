// A fixture RTP stream pushed into the player worklet equals the native
// decode of the same packets (`cargo run --example decode`, WAVs made by
// scripts/test-browser.sh in target/browser-ref/). The OfflineAudioContext
// runs at the codec's rate, so no resampling stands between the two.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { usePage, openPage, run, serve, REPO, readWav, f32FromB64, toI16, bestLag, check, why } from './harness.mjs';

const REF = process.env.VOXLET_REF_DIR || join(REPO, 'target/browser-ref');
let browser, page;

usePage({}, (s) => ({ browser, page } = s));

// A fixed target delay: with packets arriving exactly on time the buffer
// level never leaves the target, so nothing is time-stretched.
const JITTER = { minDelayMs: 60, maxDelayMs: 60, initialDelayMs: 60 };

const CASES = [
  { name: 'pcmu', rate: 8000 },
  { name: 'pcma', rate: 8000 },
  { name: 'g722', rate: 16000 },
  { name: 'l16', rate: 16000, payloadTypes: { 96: 'L16/16000/1' } },
  { name: 'opus', rate: 48000, payloadTypes: { 111: 'opus/48000/2' }, tolerance: 1 },
];

for (const c of CASES) {
  test(`fixture ${c.name}.rtpdump in the player worklet = native decode`, async () => {
    const ref = (await readWav(join(REF, `${c.name}.wav`))).data[0];
    const res = await run(page, 'playFixtureOffline', { name: c.name, rate: c.rate, payloadTypes: c.payloadTypes || {}, leadMs: 20, jitter: JITTER });
    const out = f32FromB64(res.channels[0]);
    const tol = c.tolerance || 0;
    // Walk the reference in 10 ms blocks; each must appear, bit-exact (or
    // within `tol` LSB for Opus), in order in the output. The lag may only
    // change where the jitter buffer time-stretched (accelerate /
    // pre-emptive expand, counted in the stats); the block holding such a
    // splice is cross-faded and matches no lag. Up to the last packet:
    // after it the stream just stops and the end is cross-faded into
    // concealment.
    const blk = c.rate / 100;
    const end = ref.length - Math.round(c.rate * 0.02);
    const a = Int16Array.from(ref.subarray(0, end), toI16);
    const b = Int16Array.from(out, toI16);
    const matches = (i, lag) => {
      if (i + lag < 0 || i + blk + lag > b.length) return false;
      for (let k = i; k < i + blk; k++) if (Math.abs(a[k] - b[k + lag]) > tol) return false;
      return true;
    };
    let lag = bestLag(ref, out, Math.round(c.rate * 0.5), 0);
    const first = lag;
    let blocks = 0, exact = 0, moves = 0;
    const bad = [];
    for (let i = 0; i + blk <= end; i += blk) {
      blocks++;
      if (matches(i, lag)) { exact++; continue; }
      let found = null;
      for (let d = 1; d <= blk * 20 && found === null; d++) {
        if (matches(i, lag - d)) found = lag - d;
        else if (matches(i, lag + d)) found = lag + d;
      }
      if (found === null) bad.push(i / c.rate);
      else { lag = found; moves++; exact++; }
    }
    const s = res.stats;
    const stretched = s.insertedSamplesForDeceleration + s.removedSamplesForAcceleration;
    console.log(`# ${c.name}: delay ${(first / c.rate * 1000).toFixed(1)} ms, ${exact}/${blocks} blocks of 10 ms ${tol ? `within ${tol} LSB` : 'bit-exact'}, lag moved ${moves}x, unmatched at [${bad.map((t) => t.toFixed(2)).join(', ')}] s, via ${res.transport}; received ${s.packetsReceived}, lost ${s.packetsLost}, stretched +${s.insertedSamplesForDeceleration}/-${s.removedSamplesForAcceleration} samples, offline render ${(res.renderMs * 1000 / res.quanta).toFixed(1)} µs/quantum`);
    assert.equal(s.packetsReceived, 288);
    assert.equal(s.packetsLost, 0);
    assert.equal(stretched, 0, 'no time-stretching at a fixed target delay');
    assert.equal(moves, 0, 'one lag throughout');
    assert.deepEqual(bad, [], 'every block matches');
  });
}

test('the same over SharedArrayBuffer rings (cross-origin isolated page)', async (t) => {
  const iso = await serve({ isolated: true });
  try {
    const p2 = await openPage(browser.context, iso.url);
    const ref = (await readWav(join(REF, 'pcmu.wav'))).data[0];
    const res = await run(p2, 'playFixtureOffline', { name: 'pcmu', rate: 8000, leadMs: 20, jitter: JITTER });
    const out = f32FromB64(res.channels[0]);
    const lag = bestLag(ref, out, 4000, 0);
    let diff = 0;
    for (let i = 0; i < ref.length - 160; i++) diff = Math.max(diff, Math.abs(toI16(ref[i]) - toI16(out[i + lag])));
    console.log(`# pcmu via ${res.transport} (isolated ${res.isolated}): max |diff| ${diff} LSB`);
    assert.equal(res.isolated, true);
    // Without SharedArrayBuffer the isolated page falls back to the port.
    assert.equal(res.transport, p2.sab ? 'sab' : 'port');
    assert.equal(diff, 0);
    await check(t, 'packets went through the SharedArrayBuffer ring', !p2.sab && why.sharedArrayBuffer, () => assert.equal(res.transport, 'sab'));
    await p2.close();
  } finally {
    await iso.close();
  }
});

test('render cost per quantum at 48 kHz (OfflineAudioContext, whole graph)', async () => {
  const rows = [];
  for (const c of [{ name: 'pcmu' }, { name: 'g722' }, { name: 'opus', payloadTypes: { 111: 'opus/48000/2' } }]) {
    const best = [];
    for (let k = 0; k < 3; k++) {
      const res = await run(page, 'playFixtureOffline', { name: c.name, rate: 48000, payloadTypes: c.payloadTypes || {}, leadMs: 20 });
      best.push((res.renderMs * 1000) / res.quanta);
    }
    const us = Math.min(...best);
    rows.push(`${c.name} ${us.toFixed(1)} µs`);
    // A quantum lasts 2667 µs at 48 kHz; the bound is loose for slow CI machines.
    assert.ok(us < 600, `${c.name}: ${us.toFixed(1)} µs per quantum`);
  }
  console.log(`# render cost per 128-frame quantum at 48 kHz, player + context (best of 3): ${rows.join(', ')}`);
});
