// The JavaScript side of scripts/bench.sh, in Node: voxlet compiled to wasm
// (examples/bench_anchors.rs, bound with wasm-bindgen --target nodejs) and
// the npm anchors on the same inputs. It times nothing by itself: bench/ab.py
// keeps it running and sends one command per line on stdin,
//
//   info                      -> JSON: checks of the anchors' output
//   WHO CASE PASSES           -> "CPU_S WALL_S AUDIO_S" for PASSES back-to-back
//                                passes (WHO: wasm | opus-decoder | alawmulaw)
//
// so that voxlet and an anchor run in alternating short rounds in this one
// process (and against the native build in another), and a ratio is the
// median of per-round ratios. CPU time is process.cpuUsage() (user + system,
// µs): on a shared machine wall time also counts other processes' turns.
//
//   node bench/anchors.mjs WASM_DIR OPUS_PACKETS_BIN FIXTURES_DIR
//
// Anchors:
// - opus-decoder (libopus compiled by Emscripten, wasm): decodeFrame() per
//   20 ms packet, mono 48 kHz, the same packets as voxlet.
// - alawmulaw (plain JS): mulaw/alaw decode() / encode() per 20 ms packet
//   (160 samples; Int16 in/out, where voxlet's codecs produce/take f32).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import path from "node:path";
import { OpusDecoder } from "opus-decoder";
import alawmulaw from "alawmulaw";

const [wasmDir, packetsPath, fixtures] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { Bench } = require(path.resolve(wasmDir, "bench_anchors.js"));

const G711_REPS = 20; // as in examples/bench_anchors.rs

const script = readFileSync(packetsPath);
const packets = [];
for (let i = 0; i + 2 <= script.length; ) {
  const n = script.readUInt16LE(i);
  packets.push(new Uint8Array(script.buffer, script.byteOffset + i + 2, n));
  i += 2 + n;
}

const bench = new Bench(new Uint8Array(script));
const info = {};

// opus-decoder on the same packets (checked once: sample count, errors).
const dec = new OpusDecoder({ channels: 1, sampleRate: 48000 });
await dec.ready;
let samples = 0, errors = 0;
for (const p of packets) {
  const r = dec.decodeFrame(p);
  samples += r.samplesDecoded;
  errors += r.errors.length;
}
info.opus_decoder_check = { packets: packets.length, samples, errors };

// alawmulaw on the G.711 fixtures and the 8 kHz speech.
const pcmu = new Uint8Array(readFileSync(path.join(fixtures, "pcmu.raw")));
const pcma = new Uint8Array(readFileSync(path.join(fixtures, "pcma.raw")));
const s8buf = readFileSync(path.join(fixtures, "speech_8k.s16le"));
const s8 = new Int16Array(s8buf.buffer.slice(s8buf.byteOffset, s8buf.byteOffset + (s8buf.length & ~1)));
const decodeAll = (codec, bytes) => () => {
  for (let r = 0; r < G711_REPS; r++)
    for (let i = 0; i + 160 <= bytes.length; i += 160) codec.decode(bytes.subarray(i, i + 160));
};
const encodeAll = (codec) => () => {
  for (let r = 0; r < G711_REPS; r++)
    for (let i = 0; i + 160 <= s8.length; i += 160) codec.encode(s8.subarray(i, i + 160));
};
const secs = (n) => (Math.floor(n / 160) * 160 * G711_REPS) / 8000;
// Same output as voxlet? (bit-exactness of the anchor, for the record)
info.alawmulaw_check = (() => {
  const a = alawmulaw.mulaw.decode(pcmu.subarray(0, 160));
  const table = readFileSync(path.join(fixtures, "pcmu_decoded.s16le"));
  let same = 0;
  for (let i = 0; i < 160; i++) same += a[i] === table.readInt16LE(2 * i) ? 1 : 0;
  return `${same}/160 samples equal to ffmpeg's pcm_mulaw decode`;
})();

// [seconds of audio in one pass, one pass] per candidate and case.
const anchors = {
  "opus-decoder": {
    opus_decode: [packets.length * 0.02, () => { for (const p of packets) dec.decodeFrame(p); }],
  },
  alawmulaw: {
    pcmu_decode: [secs(pcmu.length), decodeAll(alawmulaw.mulaw, pcmu)],
    pcma_decode: [secs(pcma.length), decodeAll(alawmulaw.alaw, pcma)],
    pcmu_encode: [secs(s8.length), encodeAll(alawmulaw.mulaw)],
    pcma_encode: [secs(s8.length), encodeAll(alawmulaw.alaw)],
  },
};

function timed(who, c, n) {
  let audio, pass;
  if (who === "wasm") [audio, pass] = [bench.audio_seconds(c), () => bench.run(c)];
  else [audio, pass] = anchors[who][c];
  const c0 = process.cpuUsage(), t0 = performance.now();
  for (let i = 0; i < n; i++) pass();
  const t1 = performance.now(), cu = process.cpuUsage(c0);
  return `${((cu.user + cu.system) / 1e6).toFixed(6)} ${((t1 - t0) / 1000).toFixed(6)} ${audio * n}`;
}

for await (const line of createInterface({ input: process.stdin })) {
  const w = line.trim().split(/\s+/);
  if (w[0] === "info") process.stdout.write(JSON.stringify(info) + "\n");
  else if (w.length === 3) process.stdout.write(timed(w[0], w[1], Number(w[2])) + "\n");
}
dec.free();
