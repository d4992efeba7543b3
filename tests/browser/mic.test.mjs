// Fake microphone (a speech WAV at 44.1 kHz stereo, made from
// tests/fixtures/speech_48k.s16le with sox) → sender worklet → RTP packets
// → receiver worklet → captured output, per codec, in a 44.1 kHz context.
// The microphone is recorded alongside on the same clock; each codec's
// output is aligned to it and compared window by window.
//
// Only Chromium's fake microphone plays a given file. Firefox's fake device
// (media.navigator.streams.fake) is a 1 kHz tone, WebKit's mock device a
// 150 Hz tone with a 1.5 kHz beep each second: there the WAV comparison is
// skipped by name and what holds is checked instead (packets, the level and
// the frequency of the tone in each codec's output).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { usePage, run, REPO, f32FromB64, windowedSnr, rms, check, CAN, why, ENGINE, speechWav } from './harness.mjs';

const REF = process.env.VOXLET_REF_DIR || join(REPO, 'target/browser-ref');

// Lower bounds on the median per-window SNR against the microphone signal
// (full band), set from measurements with margin: narrowband codecs lose
// everything above 4 kHz, Opus is perceptual (waveform SNR is modest). A
// window that holds a time-stretch scores lower (measured down to 23.7 dB
// for L16 in one of six runs); a broken path scores below 6 dB.
const CODECS = [
  { codec: 'PCMU/8000', pt: 0, minSnr: 18 }, // measured 23
  { codec: 'PCMA/8000', pt: 8, minSnr: 18 }, // 23.5
  { codec: 'G722/8000', pt: 9, minSnr: 20 }, // 26
  { codec: 'L16/16000/1', pt: 96, minSnr: 20 }, // 31.5
  { codec: 'opus/48000/2', pt: 111, minSnr: 8, bitrate: 64000 }, // 11.5
];

let browser, page;
usePage({ launch: { fakeAudio: speechWav(REF) } }, (s) => ({ browser, page } = s));

/** The strongest frequency (10 Hz steps, 50 Hz – 4 kHz) of x[from, from + n). */
function peakHz(x, rate, from, n) {
  let best = 0, bf = 0;
  for (let f = 50; f <= 4000; f += 10) {
    let c = 0, s = 0;
    const w = (2 * Math.PI * f) / rate;
    for (let i = 0; i < n; i++) { c += x[from + i] * Math.cos(w * i); s += x[from + i] * Math.sin(w * i); }
    if (c * c + s * s > best) { best = c * c + s * s; bf = f; }
  }
  return bf;
}

/** Over 100 ms windows of x from `fromS` on: the most frequent peak frequency and the median level. */
function toneOf(x, rate, fromS, toS = x.length / rate) {
  const n = Math.round(rate / 10);
  const peaks = new Map(), levels = [];
  for (let i = Math.round(fromS * rate); i + n <= Math.min(x.length, toS * rate); i += n) {
    const f = peakHz(x, rate, i, n);
    peaks.set(f, (peaks.get(f) || 0) + 1);
    levels.push(rms(x, i, i + n));
  }
  levels.sort((a, b) => a - b);
  const [hz] = [...peaks.entries()].sort((a, b) => b[1] - a[1])[0] || [0];
  return { hz, level: levels[levels.length >> 1] || 0 };
}

test('fake mic → sender worklet → packets → receiver worklet: aligned and matching per codec', async (t) => {
  // The delay is pinned, and each window may move by up to 15 ms (a pitch
  // period or two) from the one before: this test checks the capture →
  // encode → packet → decode path sample by sample, and the adaptive
  // buffer may still move its delay in the speech's pauses (by design,
  // tested natively) as the page's start-up jitter settles.
  const jitter = { minDelayMs: 100, maxDelayMs: 100, initialDelayMs: 100 };
  const res = await run(page, 'micLoopback', { codecs: CODECS, seconds: 5, jitter });
  const input = f32FromB64(res.input);
  assert.ok(rms(input) > 0.01, 'the fake microphone delivers audio');
  const outs = res.legs.map((leg) => f32FromB64(leg.output));
  const packets = [];
  for (const [i, leg] of res.legs.entries()) {
    if (!(leg.packets >= 200)) packets.push(`${CODECS[i].codec}: only ${leg.packets} packets in 5 s`);
  }
  assert.deepEqual(packets, []);

  await check(t, 'per codec: delay and window SNR against the speech WAV', !CAN.fakeMicFile && why.fakeMicFile, () => {
    const failures = [];
    for (const [i, leg] of res.legs.entries()) {
      const c = CODECS[i];
      const out = outs[i];
      // Reference = microphone; skip its first 300 ms (pipeline start-up).
      const skip = Math.round(0.3 * res.rate);
      const ref = input.subarray(skip, input.length - Math.round(0.6 * res.rate));
      const o = out.subarray(skip);
      const r = windowedSnr(ref, res.rate, o, res.rate, { maxLagMs: 400, slackMs: 15 });
      console.log(`# ${c.codec}: ${leg.packets} packets (${leg.bytes} B) via ${leg.transport}, delay ${(r.lag / res.rate * 1000).toFixed(1)} ms, window SNR median ${r.median.toFixed(1)} dB (min ${r.min.toFixed(1)}, ${r.windows} windows), lost ${leg.playerStats.packetsLost}, concealed ${leg.playerStats.concealedSamples}`);
      if (!(r.median >= c.minSnr)) failures.push(`${c.codec}: median SNR ${r.median.toFixed(1)} < ${c.minSnr} dB`);
      if (!(r.lag > 0 && r.lag < 0.4 * res.rate)) failures.push(`${c.codec}: implausible delay ${r.lag}`);
    }
    assert.deepEqual(failures, []);
  });

  // A tone has no delay to measure (any whole number of periods aligns):
  // its frequency and level are what the path must keep.
  await check(t, "per codec: the fake microphone's tone comes through (level, frequency)", CAN.fakeMicFile && `${ENGINE}: the fake microphone plays speech (compared with the WAV instead)`, () => {
    const mic = toneOf(input, res.rate, 0.5);
    const failures = [];
    for (const [i, leg] of res.legs.entries()) {
      const c = CODECS[i];
      const o = toneOf(outs[i], res.rate, 1.0, outs[i].length / res.rate - 0.6);
      console.log(`# ${ENGINE} ${c.codec}: ${leg.packets} packets via ${leg.transport}; microphone ${mic.hz} Hz at ${mic.level.toFixed(3)} rms, output ${o.hz} Hz at ${o.level.toFixed(3)} rms (median of 100 ms windows); lost ${leg.playerStats.packetsLost}, concealed ${leg.playerStats.concealedSamples}`);
      if (Math.abs(o.hz - mic.hz) > 10) failures.push(`${c.codec}: output at ${o.hz} Hz, microphone at ${mic.hz} Hz`);
      const ratio = o.level / mic.level;
      if (!(ratio > 0.7 && ratio < 1.4)) failures.push(`${c.codec}: output level ${ratio.toFixed(2)}× the microphone's`);
    }
    assert.deepEqual(failures, []);
  });
});
