// The echo-cancelled output route (player option output: 'aec') against the
// direct output ('speakers'), in one run of headless Chromium:
//  - CPU: the browser's CPU time (every process of it, from /proc) while
//    the pcmu fixture plays in real time, in alternating rounds direct /
//    aec; reported per 128-frame render quantum, median of the rounds;
//  - latency added: the player's output and the route's received stream
//    recorded on the same AudioContext clock and aligned by
//    cross-correlation (tests/browser/pages/lib.js aecRoute), median of
//    the rounds; plus the loopback's own jitter buffer delay (inbound-rtp).
// Prints JSON.
//
//   node bench/aec.mjs [ROUNDS]     # default 5
//
// Needs pkg/wasm and pkg/worklet built (scripts/build-wasm.sh).
import { readFileSync, readdirSync } from 'node:fs';
import { launch, openPage, run, serve, f32FromB64, bestLag } from '../tests/browser/harness.mjs';

const ROUNDS = Number(process.argv[2] || 5);
const TICK = 100; // USER_HZ

/** Pids of every process descended from this one (the browser and its helpers). */
function descendants() {
  const kids = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  const out = [];
  const walk = (p) => { for (const k of kids.get(p) || []) { out.push(k); walk(k); } };
  walk(process.pid);
  return out;
}

/** CPU seconds (user + system) of the browser's processes. */
function browserCpu() {
  let t = 0;
  for (const pid of descendants()) {
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      t += (Number(f[11]) + Number(f[12])) / TICK; // utime, stime
    } catch { /* gone */ }
  }
  return t;
}

const median = (xs) => { const s = xs.slice().sort((a, b) => a - b); return s[s.length >> 1]; };

const srv = await serve();
const browser = await launch();
const out = { rounds: ROUNDS, cpu: { speakers: [], aec: [] }, latencyMs: [], loopbackJitterBufferMs: [] };
try {
  const page = await openPage(browser.context, srv.url);
  for (let r = 0; r < ROUNDS; r++) {
    for (const output of r % 2 ? ['aec', 'speakers'] : ['speakers', 'aec']) {
      const c0 = browserCpu();
      const res = await page.evaluate(async (a) => (await import('/bench/aec-page.js')).playRound(a), { output });
      const cpu = browserCpu() - c0;
      if (res.route !== output) throw new Error(`route ${res.route}, asked for ${output}`);
      out.cpu[output].push((cpu / res.quanta) * 1e6);
    }
    const a = await run(page, 'aecRoute', { seconds: 5 });
    const direct = f32FromB64(a.direct.data);
    const looped = f32FromB64(a.looped.data);
    const shift = a.looped.start - a.direct.start;
    const from = Math.max(0, shift);
    const lag = bestLag(direct.subarray(from), looped.subarray(Math.max(0, from - shift)), Math.round(0.4 * a.rate), 0);
    out.latencyMs.push((lag / a.rate) * 1000);
    const s = a.inbound;
    out.loopbackJitterBufferMs.push((s.jitterBufferDelay / s.jitterBufferEmittedCount) * 1000);
    process.stderr.write(`[aec] round ${r + 1}: cpu/quantum speakers ${out.cpu.speakers.at(-1).toFixed(1)} µs, aec ${out.cpu.aec.at(-1).toFixed(1)} µs; latency added ${out.latencyMs.at(-1).toFixed(1)} ms\n`);
  }
  out.chromium = await page.evaluate(() => navigator.userAgent);
} finally {
  await browser.close();
  await srv.close();
}
out.summary = {
  cpuPerQuantumUs: { speakers: median(out.cpu.speakers), aec: median(out.cpu.aec) },
  cpuRatio: median(out.cpu.aec.map((x, i) => x / out.cpu.speakers[i])),
  quantumBudgetUs: (128 / 48000) * 1e6,
  latencyAddedMs: median(out.latencyMs),
  latencyRangeMs: [Math.min(...out.latencyMs), Math.max(...out.latencyMs)],
  loopbackJitterBufferMs: median(out.loopbackJitterBufferMs),
};
process.stdout.write(JSON.stringify(out) + '\n');
