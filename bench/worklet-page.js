// Browser side of bench/worklet.mjs: the receive-path benchmark inside a
// real AudioWorklet. Runs in a page served from the repository root and
// uses the package as an application would (pkg/src/index.js).
//
// An OfflineAudioContext renders as fast as the machine allows, so its wall
// time is the CPU cost of the whole graph. Two graphs of the same length:
//   - baseline: an AudioWorkletNode whose process() does nothing (the
//     context, the worklet thread and one JS call per 128-frame quantum);
//   - voxlet: the player worklet fed the impaired stream, every packet
//     handed to the core at its recorded arrival time (`at`), rendering to
//     48 kHz mono (the same work as the `rx_*` cases of bench_anchors).
// The player's cost is the difference.
import { register } from '/pkg/src/index.js';

const RATE = 48000;
const NULL_PROCESSOR = `
registerProcessor('voxlet-bench-null', class extends AudioWorkletProcessor {
  process() { return true; }
});`;

/** Stream file of bench_anchors: (f64 LE arrival ms, u16 LE length, bytes)*. */
function parseStream(buf) {
  const dv = new DataView(buf);
  const out = [];
  for (let i = 0; i + 10 <= buf.byteLength;) {
    const at = dv.getFloat64(i, true);
    const n = dv.getUint16(i + 8, true);
    out.push({ at, bytes: new Uint8Array(buf, i + 10, n) });
    i += 10 + n;
  }
  return out;
}

async function timeRender(ctx) {
  const t = performance.now();
  await ctx.startRendering();
  return performance.now() - t;
}

/** Wall ms of rendering `seconds` through a do-nothing worklet node. */
async function baseline(seconds) {
  const ctx = new OfflineAudioContext(1, seconds * RATE, RATE);
  const url = URL.createObjectURL(new Blob([NULL_PROCESSOR], { type: 'text/javascript' }));
  await ctx.audioWorklet.addModule(url);
  URL.revokeObjectURL(url);
  new AudioWorkletNode(ctx, 'voxlet-bench-null', { numberOfInputs: 0, outputChannelCount: [1] }).connect(ctx.destination);
  return timeRender(ctx);
}

/** Wall ms of rendering `seconds` of the stream through the player, and its stats. */
async function player(packets, rtpmap, seconds) {
  const ctx = new OfflineAudioContext(1, seconds * RATE, RATE);
  const vox = await register(ctx);
  const node = vox.createPlayer({ payloadTypes: { 96: rtpmap }, channels: 1 });
  node.connect(ctx.destination);
  await node.ready;
  for (const p of packets) node.push(p.bytes, { at: p.at });
  await node.sync();
  const ms = await timeRender(ctx);
  // close() makes the processor post its final stats (a 'stats' event)
  // before it stops; pending and later sync() calls reject.
  const last = new Promise((resolve) => node.addEventListener('stats', resolve, { once: true }));
  node.close();
  await last;
  return { ms, stats: node.stats, transport: node.transport };
}

/**
 * `url`: a stream file; `rtpmap`: its payload type 96; `seconds`: length
 * of the render; `rounds`: alternating baseline / player renders, the
 * fastest of each counts. Returns wall ms per render and the player's stats.
 */
export async function benchStream({ url, rtpmap, seconds, rounds = 5 }) {
  const packets = parseStream(await (await fetch(url)).arrayBuffer());
  let base = Infinity, best = Infinity, last = null;
  await baseline(1); // warm-up: worklet thread, module compilation
  await player(packets.slice(0, 50), rtpmap, 1);
  for (let r = 0; r < rounds; r++) {
    base = Math.min(base, await baseline(seconds));
    const p = await player(packets, rtpmap, seconds);
    best = Math.min(best, p.ms);
    last = p;
  }
  return { baseMs: base, playerMs: best, quanta: (seconds * RATE) / 128, packets: packets.length, stats: last.stats, transport: last.transport };
}
