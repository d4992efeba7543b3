// Options reach the wasm core as given: 0 is a value, not "the default"
// (startThresholdMs 0 starts stream playback on the first chunk, delays
// of 0 are used, rtcpIntervalMs 0 sends no RTCP), a field left out keeps
// the core's default. close() settles every pending promise. The mic's
// packet handler option is `onpacket`, like the property.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePage, run } from './harness.mjs';

let page;

usePage({}, (s) => ({ page } = s));

test('stream startThresholdMs 0 starts on the first chunk; left out, the core default (20 ms, 60 ms timeout) waits', async () => {
  const zero = await run(page, 'streamStart', { stream: { startThresholdMs: 0 } });
  const dflt = await run(page, 'streamStart', { stream: {} });
  // One 10 ms chunk handed over at 100 ms (the quantum starting at or after it).
  assert.equal(zero.started.length, 1, JSON.stringify(zero));
  assert.ok(zero.started[0] >= 100 && zero.started[0] < 100 + 128 / 48 + 0.01, `threshold 0: started at ${zero.started[0]} ms`);
  // Below the default 20 ms threshold it waits for the 60 ms start timeout.
  assert.equal(dflt.started.length, 1, JSON.stringify(dflt));
  assert.ok(dflt.started[0] >= 155, `default: started at ${dflt.started[0]} ms`);
  assert.equal(zero.stats.chunksReceived, 1);
});

test('jitter delays of 0 reach the receiver: a lower target than the default 50 ms floor; maxDelayMs 0 is refused by the core', async () => {
  const args = { name: 'pcmu', rate: 8000, leadMs: 20 };
  const zero = await run(page, 'playFixtureOffline', { ...args, jitter: { minDelayMs: 0, initialDelayMs: 0 } });
  const dflt = await run(page, 'playFixtureOffline', { ...args });
  assert.ok(dflt.stats.targetDelayMs >= 50, `default target ${dflt.stats.targetDelayMs} ms`);
  assert.ok(zero.stats.targetDelayMs < dflt.stats.targetDelayMs, `0 ms floor: target ${zero.stats.targetDelayMs} ms`);
  const bad = await run(page, 'playerStartup', { jitter: { maxDelayMs: 0 } });
  assert.equal(bad.ok, false);
  assert.match(bad.message, /delay bounds/);
  const typo = await run(page, 'playerStartup', { jitter: { minDelayMs: '10' } });
  assert.equal(typo.ok, false);
  assert.match(typo.message, /minDelayMs/);
});

test('close() rejects pending mark(), sync() and ready with an AbortError; later calls too', async () => {
  const r = await run(page, 'closeSettles');
  for (const k of ['mark', 'sync', 'ready', 'micReady', 'markAfter', 'syncAfter']) {
    assert.equal(r[k].state, 'rejected', `${k}: ${JSON.stringify(r[k])}`);
    assert.equal(r[k].name, 'AbortError', `${k}: ${JSON.stringify(r[k])}`);
  }
  assert.equal(r.pushAfter, false);
});

test('mic: onpacket option, defaults resolved by the core, rtcpIntervalMs 0 sends no RTCP', async () => {
  const dflt = await run(page, 'micOptions', {});
  assert.match(dflt.refused || '', /TypeError: .*onpacket/);
  assert.equal(dflt.payloadType, 0); // PCMU's static payload type
  assert.equal(dflt.codec, 'PCMU/8000');
  assert.ok(dflt.kinds.rtp >= 20, JSON.stringify(dflt.kinds));
  assert.ok(dflt.kinds.rtcp >= 1, `the core's default RTCP interval sends a first report: ${JSON.stringify(dflt.kinds)}`);
  const off = await run(page, 'micOptions', { options: { codec: 'G722/8000', rtcpIntervalMs: 0 } });
  assert.equal(off.payloadType, 9);
  assert.ok(off.kinds.rtp >= 20 && off.kinds.rtcp === 0, JSON.stringify(off.kinds));
});
