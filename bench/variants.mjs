// Speed of the build variants of bench/variants.sh in one Node process:
// every variant's examples/bench_anchors.rs (bound for Node, wasm-opt'ed
// like the shipped wasm) runs the same cases in alternating rounds (order
// reversed every other round), each slice sized to ~SLICE s of CPU and cut
// into INNER interleaved pieces of which the fastest counts (as bench/ab.py
// does), and each variant's speed is reported as the median over rounds of
// its x-realtime divided by the first variant's in the same round.
//
//   node --single-threaded-gc bench/variants.mjs OUT_DIR base VARIANT... [ROUNDS]
//
// OUT_DIR holds opus_packets.bin (native `bench_anchors OUT_DIR`) and
// OUT_DIR/NAME/node/bench_anchors.js per variant. Prints a markdown table and
// a JSON line.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
const out = args.shift();
const rounds = /^\d+$/.test(args.at(-1)) ? Number(args.pop()) : 9;
const names = args;
const SLICE = Number(process.env.SLICE || 0.08), INNER = 4;
const CASES = (process.env.CASES || "opus_decode,opus_encode,rx_opus,rx_pcmu,rx_g722").split(",");
const require = createRequire(import.meta.url);
const script = new Uint8Array(readFileSync(path.join(out, "opus_packets.bin")));
const benches = names.map((n) => new (require(path.resolve(out, n, "node", "bench_anchors.js")).Bench)(script));

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
function xrt(b, c, n) {
  const t0 = cpu();
  for (let i = 0; i < n; i++) b.run(c);
  return (b.audio_seconds(c) * n) / (cpu() - t0);
}
// passes per piece, sized on the first variant
const passes = {};
for (const c of CASES) {
  let n = 1, t;
  for (;;) { const t0 = cpu(); for (let i = 0; i < n; i++) benches[0].run(c); t = cpu() - t0; if (t >= SLICE / 4) break; n *= 2; }
  passes[c] = Math.max(1, Math.round((n * SLICE) / INNER / t));
  for (const b of benches) b.run(c); // warm-up
}
const med = (xs) => { const s = [...xs].sort((a, b) => a - b), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b), k = (s.length - 1) * p, i = Math.floor(k); return i + 1 >= s.length ? s[i] : s[i] + (s[i + 1] - s[i]) * (k - i); };
const ratio = {}, speed = {};
for (let r = 0; r < rounds; r++) {
  for (const c of CASES) {
    const order = names.map((_, i) => i);
    if (r % 2) order.reverse();
    const best = new Array(names.length).fill(0);
    for (let p = 0; p < INNER; p++) for (const i of order) best[i] = Math.max(best[i], xrt(benches[i], c, passes[c]));
    names.forEach((n, i) => {
      ((ratio[c] ??= {})[n] ??= []).push(best[i] / best[0]);
      ((speed[c] ??= {})[n] ??= []).push(best[i]);
    });
  }
  process.stderr.write(`[variants] round ${r + 1}/${rounds}\n`);
}
const res = {};
console.log(`| variant | ${CASES.map((c) => `${c} (x-rt, ratio [q1–q3])`).join(" | ")} |`);
console.log(`|---|${CASES.map(() => "---").join("|")}|`);
for (const n of names) {
  res[n] = {};
  const cells = CASES.map((c) => {
    const x = med(speed[c][n]), rr = ratio[c][n];
    res[n][c] = { xrt: x, ratio: med(rr), q1: q(rr, 0.25), q3: q(rr, 0.75) };
    return `${x.toFixed(0)}×, ${med(rr).toFixed(3)} [${q(rr, 0.25).toFixed(3)}–${q(rr, 0.75).toFixed(3)}]`;
  });
  console.log(`| ${n} | ${cells.join(" | ")} |`);
}
console.log(JSON.stringify(res));
