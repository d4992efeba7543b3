// Real-time AudioContext tests, each run twice: from a server without
// COOP/COEP (packets over the MessagePort) and from one with them (the page
// is cross-origin isolated: SharedArrayBuffer rings). Packets are paced by
// timers like a network would deliver them; the player's output is
// recorded by a capture worklet.
//
// These run in real time, so they assert what holds on a busy machine too:
// every packet arrives, the stats explain every change to the audio
// (concealment, time-stretching, silence), and the output matches the
// source window by window after an alignment that follows stretching.
// Where the stats say nothing was changed, the output must equal the
// native decode exactly; that is the case on an idle machine, and the
// sample-exact comparisons of every codec are the offline tests'
// (fixture.test.mjs). A deliberate main-thread stall checks the
// load-robust path on every run, loaded or not.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { usePage, run, REPO, readWav, f32FromB64, rms, windowedSnr, assertFollowsDecode, check, why } from './harness.mjs';

const REF = process.env.VOXLET_REF_DIR || join(REPO, 'target/browser-ref');

/**
 * 10 ms RMS windows over the active span: the smallest relative to the
 * median, the longest run of quiet windows (< 10 % of the median), and
 * how long the output is quiet at its end (after the stream).
 */
function continuity(out, rate, activeMs) {
  const w = Math.round(rate / 100);
  let start = 0;
  while (start < out.length && Math.abs(out[start]) < 0.01) start++;
  const end = Math.min(out.length, start + Math.round((activeMs / 1000) * rate));
  const v = [];
  for (let i = start; i + w <= end; i += w) v.push(rms(out, i, i + w));
  const sorted = v.slice().sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  let run = 0, longest = 0;
  for (const x of v) {
    run = x < 0.1 * median ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  let tail = out.length;
  while (tail >= w && rms(out, tail - w, tail) < 0.1 * median) tail -= w;
  const tailQuietMs = ((out.length - tail) / rate) * 1000;
  return { startMs: (start / rate) * 1000, windows: v.length, minRatio: sorted[0] / median, median, longestQuietMs: longest * 10, tailQuietMs };
}

/**
 * ms of silence inside the stream that the stats account for: the silent
 * concealment reported, less the silence after the stream's end
 * (`c.tailQuietMs`, from the output), plus 10 ms of measuring slack.
 */
const silentInsideMs = (s, rate, c) => Math.max(0, (s.silentConcealedSamples / rate) * 1000 - c.tailQuietMs) + 10;

/** One line of what the jitter buffer did, for the log. */
function summary(res) {
  const s = res.stats;
  return `via ${res.transport}, audio clock ${res.clockRatio.toFixed(2)}× wall: concealed ${s.concealedSamples} (silent ${s.silentConcealedSamples}) in ${s.concealmentEvents} events, stretched +${s.insertedSamplesForDeceleration}/-${s.removedSamplesForAcceleration}, late ${s.packetsLate}, target ${s.targetDelayMs.toFixed(0)} ms`;
}

/** Neither a 'warn' nor an 'error' event. */
function noProblems(res) {
  const bad = res.events.filter((e) => e.type === 'error' || e.type === 'warn');
  assert.equal(bad.length, 0, JSON.stringify(bad));
}

for (const isolated of [false, true]) {
  describe(isolated ? 'cross-origin isolated (SharedArrayBuffer rings)' : 'not isolated (MessagePort)', () => {
    let browser, page;
    usePage({ serve: { isolated } }, (s) => ({ browser, page } = s));

    test('clean fixture stream in real time: transport chosen automatically, output matches the decode', async (t) => {
      const ref = (await readWav(join(REF, 'pcmu.wav'))).data[0];
      const res = await run(page, 'realtimeFixture', { name: 'pcmu', seconds: 6.4 });
      assert.equal(res.isolated, isolated);
      // page.sab: isolated and the engine has SharedArrayBuffer (WebKitGTK
      // only with JSC_useSharedArrayBuffer=1); else the port fallback.
      assert.equal(res.transport, page.sab ? 'sab' : 'port');
      if (isolated) await check(t, 'isolated page: SharedArrayBuffer rings', !page.sab && why.sharedArrayBuffer, () => assert.equal(res.transport, 'sab'));
      const out = f32FromB64(res.output);
      const s = res.stats;
      assert.ok(res.statsCount >= 20, `stats posted periodically (${res.statsCount})`);
      assert.equal(s.packetsReceived, 288);
      assert.equal(s.packetsLost, 0);
      noProblems(res);
      // Sample-exact where the stats say nothing changed; else the speech,
      // in order, window by window.
      const r = assertFollowsDecode(assert, ref, 8000, out, res.rate, s);
      console.log(`# clean pcmu @${res.rate} Hz ${summary(res)}; lag ${(r.lag / 8).toFixed(1)} ms, ${r.winMs} ms window SNR median ${r.median.toFixed(1)} dB, min ${r.min.toFixed(1)} dB over ${r.windows}`);
    });

    test('a 300 ms main-thread stall: concealment, recovery, the rest plays', async () => {
      const ref = (await readWav(join(REF, 'pcmu.wav'))).data[0];
      const res = await run(page, 'realtimeFixture', { name: 'pcmu', seconds: 6.4, stallAtMs: 2000, stallMs: 300 });
      const out = f32FromB64(res.output);
      // 50 ms windows: the receiver stretches time around the stall.
      const r = windowedSnr(ref, 8000, out, res.rate, { winMs: 50 });
      const s = res.stats;
      const after = r.all.filter((w) => w.atMs >= 3500).map((w) => w.snr).sort((a, b) => a - b);
      const afterMedian = after[after.length >> 1];
      console.log(`# stall 300 ms ${summary(res)}; 50 ms window SNR median ${r.median.toFixed(1)} dB, after the stall ${afterMedian.toFixed(1)} dB over ${after.length}`);
      assert.equal(s.packetsReceived, 288, 'every packet arrives, late or not');
      assert.ok(s.concealedSamples > 0 && s.concealmentEvents >= 1, 'the stall was concealed and reported');
      assert.ok(after.length >= 5 && afterMedian > 15, `after the stall: median window SNR ${afterMedian} dB`);
      assert.ok(r.median > 15, `median window SNR ${r.median.toFixed(1)} dB`);
      noProblems(res);
    });

    test('loss and jitter: concealment happens, stats report it, audio never stops', async () => {
      // Every 10th packet lost, plus a burst of 3 (60 ms); up to 50 ms of jitter (reordering).
      const res = await run(page, 'impairedTone', { seconds: 4, lossEvery: 10, burstAt: 120, burstLen: 3, jitterMs: 50, seed: 3 });
      const out = f32FromB64(res.output);
      const c = continuity(out, res.rate, 3800);
      const s = res.stats;
      console.log(`# loss ${res.dropped}/${res.packets}, jitter 50 ms ${summary(res)}; longest quiet stretch ${c.longestQuietMs} ms over ${c.windows} windows of 10 ms (${c.tailQuietMs.toFixed(0)} ms quiet at the end); lost ${s.packetsLost}, jitter ${(s.jitter * 1000).toFixed(1)} ms`);
      assert.ok(s.packetsLost >= res.dropped * 0.8, `packetsLost ${s.packetsLost} vs dropped ${res.dropped}`);
      assert.ok(s.concealedSamples > 0 && s.concealmentEvents > 0, 'concealment reported');
      assert.ok(s.jitter > 0, 'jitter measured');
      // G.711 concealment (Appendix I) fades out over 60 ms: only inside the
      // 60 ms burst may the output go quiet; single losses are bridged. A
      // longer quiet stretch (a delivery stall on a loaded machine) must
      // be reported as silent concealment.
      const allowed = 70 + silentInsideMs(s, res.rate, c);
      assert.ok(c.longestQuietMs <= allowed, `longest quiet stretch ${c.longestQuietMs} ms, allowed ${allowed.toFixed(0)} ms`);
      noProblems(res);
    });

    test('packets pushed around close(): no warning, push() says false once closed', async () => {
      const res = await run(page, 'pushAroundClose');
      assert.equal(res.transport, page.sab ? 'sab' : 'port');
      assert.deepEqual(res.after, [false, false]);
      assert.deepEqual(res.events, []);
    });

    test('random garbage packets: keeps playing, errors counted', async () => {
      const res = await run(page, 'impairedTone', { seconds: 4, garbageEvery: 2, seed: 11 });
      const out = f32FromB64(res.output);
      const c = continuity(out, res.rate, 3800);
      const s = res.stats;
      const errors = s.errors ?? (s.packetsDiscarded + s.decodeErrors);
      console.log(`# garbage ${res.garbage} packets ${summary(res)}; errors counted ${errors} (${JSON.stringify({ malformedRtp: s.malformedRtp, unknownPayloadType: s.unknownPayloadType, foreignSsrc: s.foreignSsrc, invalidPayload: s.invalidPayload })}), received ${s.packetsReceived}, quietest 10 ms window ${c.minRatio.toFixed(3)} of the median, ${c.tailQuietMs.toFixed(0)} ms quiet at the end`);
      assert.equal(errors, res.garbage, `every garbage packet counted as an error (${errors} of ${res.garbage})`);
      assert.equal(s.packetsReceived, res.packets);
      // Garbage must not interrupt the audio: no quiet stretch at all, unless
      // the stats report a concealment inside the stream (more than the one
      // at its end: a delivery stall on a loaded machine), which may fade
      // to quiet as in the loss test.
      const allowed = s.concealmentEvents > 1 ? 70 + silentInsideMs(s, res.rate, c) : silentInsideMs(s, res.rate, c) - 10;
      assert.ok(c.longestQuietMs <= allowed, `longest quiet stretch ${c.longestQuietMs} ms, allowed ${allowed.toFixed(0)} ms (tail ${c.tailQuietMs.toFixed(0)} ms, ${s.concealmentEvents} concealment events)`);
      noProblems(res);
    });
  });
}
