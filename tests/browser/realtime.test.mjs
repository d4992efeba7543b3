// Real-time AudioContext tests, each run twice: from a server without
// COOP/COEP (packets over the MessagePort) and from one with them (the page
// is cross-origin isolated: SharedArrayBuffer rings). Packets are paced by
// timers like a network would deliver them; the player's output is
// recorded by a capture worklet.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, openPage, run, serve, REPO, readWav, f32FromB64, rms, windowedSnr } from './harness.mjs';

const REF = process.env.VOXLET_REF_DIR || join(REPO, 'target/browser-ref');

/** 10 ms RMS windows over the active span: the smallest relative to the median. */
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
  return { startMs: (start / rate) * 1000, windows: v.length, minRatio: sorted[0] / median, median, longestQuietMs: longest * 10 };
}

for (const isolated of [false, true]) {
  describe(isolated ? 'cross-origin isolated (SharedArrayBuffer rings)' : 'not isolated (MessagePort)', () => {
    let browser, srv, page;
    before(async () => {
      srv = await serve({ isolated });
      browser = await launch();
      page = await openPage(browser.context, srv.url);
    });
    after(async () => {
      await browser?.close();
      await srv?.close();
    });

    test('clean fixture stream in real time: transport chosen automatically, output matches the decode', async () => {
      const ref = (await readWav(join(REF, 'pcmu.wav'))).data[0];
      const res = await run(page, 'realtimeFixture', { name: 'pcmu', seconds: 6.4 });
      assert.equal(res.isolated, isolated);
      assert.equal(res.transport, isolated ? 'sab' : 'port');
      const out = f32FromB64(res.output);
      const r = windowedSnr(ref, 8000, out, res.rate);
      console.log(`# clean pcmu @${res.rate} Hz via ${res.transport}: lag ${(r.lag / 8).toFixed(1)} ms, window SNR median ${r.median.toFixed(1)} dB, min ${r.min.toFixed(1)} dB over ${r.windows}; stats ${JSON.stringify(res.stats)}`);
      assert.ok(res.statsCount >= 20, `stats posted periodically (${res.statsCount})`);
      assert.equal(res.stats.packetsReceived, 288);
      assert.ok(r.median > 25, `median window SNR ${r.median.toFixed(1)} dB`);
    });

    test('loss and jitter: concealment happens, stats report it, audio never stops', async () => {
      // Every 10th packet lost, plus a burst of 3 (60 ms); up to 50 ms of jitter (reordering).
      const res = await run(page, 'impairedTone', { seconds: 4, lossEvery: 10, burstAt: 120, burstLen: 3, jitterMs: 50, seed: 3 });
      const out = f32FromB64(res.output);
      const c = continuity(out, res.rate, 3800);
      const s = res.stats;
      console.log(`# loss ${res.dropped}/${res.packets}, jitter 50 ms via ${res.transport}: longest quiet stretch ${c.longestQuietMs} ms over ${c.windows} windows of 10 ms; lost ${s.packetsLost}, concealed ${s.concealedSamples} samples in ${s.concealmentEvents} events, jitter ${(s.jitter * 1000).toFixed(1)} ms, target delay ${s.targetDelayMs} ms, stretched +${s.insertedSamplesForDeceleration}/-${s.removedSamplesForAcceleration}`);
      assert.ok(s.packetsLost >= res.dropped * 0.8, `packetsLost ${s.packetsLost} vs dropped ${res.dropped}`);
      assert.ok(s.concealedSamples > 0 && s.concealmentEvents > 0, 'concealment reported');
      assert.ok(s.jitter > 0, 'jitter measured');
      // G.711 concealment (Appendix I) fades out over 60 ms: only inside the
      // 60 ms burst may the output go quiet; single losses are bridged.
      assert.ok(c.longestQuietMs <= 70, `longest quiet stretch ${c.longestQuietMs} ms`);
      assert.equal(res.events.filter((e) => e.type === 'error').length, 0);
    });

    test('random garbage packets: keeps playing, errors counted', async () => {
      const res = await run(page, 'impairedTone', { seconds: 4, garbageEvery: 2, seed: 11 });
      const out = f32FromB64(res.output);
      const c = continuity(out, res.rate, 3800);
      const s = res.stats;
      const errors = s.errors ?? (s.packetsDiscarded + s.decodeErrors);
      console.log(`# garbage ${res.garbage} packets via ${res.transport}: errors counted ${errors} (${JSON.stringify({ malformedRtp: s.malformedRtp, unknownPayloadType: s.unknownPayloadType, foreignSsrc: s.foreignSsrc, invalidPayload: s.invalidPayload })}), received ${s.packetsReceived}, quietest 10 ms window ${c.minRatio.toFixed(3)} of the median`);
      assert.ok(errors >= res.garbage * 0.5, `errors ${errors} for ${res.garbage} garbage packets`);
      assert.ok(s.packetsReceived >= res.packets * 0.95);
      assert.equal(c.longestQuietMs, 0, 'no quiet 10 ms window');
      assert.equal(res.events.filter((e) => e.type === 'error').length, 0);
    });
  });
}
