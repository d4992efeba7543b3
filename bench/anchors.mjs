// The JavaScript side of scripts/bench.sh, in Node: voxlet compiled to wasm
// (examples/bench_anchors.rs, bound with wasm-bindgen --target nodejs) and
// the npm anchors on the same inputs, timed the same way as the native run
// (5 rounds of at least 0.2 s, the fastest round counts). Prints JSON of
// x-realtime figures (seconds of audio per second of one core).
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
import { performance } from "node:perf_hooks";
import path from "node:path";
import { OpusDecoder } from "opus-decoder";
import alawmulaw from "alawmulaw";

const [wasmDir, packetsPath, fixtures] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { Bench } = require(path.resolve(wasmDir, "bench_anchors.js"));

const G711_REPS = 20; // as in examples/bench_anchors.rs

function xrt(audioSeconds, pass) {
  pass(); // warm-up
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 200 || n < 2) {
      pass();
      n++;
    }
    best = Math.min(best, (performance.now() - t0) / 1000 / n);
  }
  return Math.round((audioSeconds / best) * 10) / 10;
}

const script = readFileSync(packetsPath);
const packets = [];
for (let i = 0; i + 2 <= script.length; ) {
  const n = script.readUInt16LE(i);
  packets.push(new Uint8Array(script.buffer, script.byteOffset + i + 2, n));
  i += 2 + n;
}

const out = { wasm: {}, anchors: {} };
const bench = new Bench(new Uint8Array(script));
for (const c of [
  "opus_decode", "pcmu_decode", "pcma_decode", "g722_decode",
  "pcmu_encode", "pcma_encode", "g722_encode", "rx_pcmu", "rx_g722", "rx_opus",
]) {
  out.wasm[c] = xrt(bench.audio_seconds(c), () => bench.run(c));
}

// opus-decoder on the same packets.
const dec = new OpusDecoder({ channels: 1, sampleRate: 48000 });
await dec.ready;
let samples = 0, errors = 0;
for (const p of packets) {
  const r = dec.decodeFrame(p);
  samples += r.samplesDecoded;
  errors += r.errors.length;
}
out.anchors.opus_decoder_check = { packets: packets.length, samples, errors };
out.anchors.opus_decoder = xrt(packets.length * 0.02, () => {
  for (const p of packets) dec.decodeFrame(p);
});
dec.free();

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
out.anchors.alawmulaw = {
  pcmu_decode: xrt(secs(pcmu.length), decodeAll(alawmulaw.mulaw, pcmu)),
  pcma_decode: xrt(secs(pcma.length), decodeAll(alawmulaw.alaw, pcma)),
  pcmu_encode: xrt(secs(s8.length), encodeAll(alawmulaw.mulaw)),
  pcma_encode: xrt(secs(s8.length), encodeAll(alawmulaw.alaw)),
};
// Same output as voxlet? (bit-exactness of the anchor, for the record)
out.anchors.alawmulaw_check = (() => {
  const a = alawmulaw.mulaw.decode(pcmu.subarray(0, 160));
  const table = readFileSync(path.join(fixtures, "pcmu_decoded.s16le"));
  let same = 0;
  for (let i = 0; i < 160; i++) same += a[i] === table.readInt16LE(2 * i) ? 1 : 0;
  return `${same}/160 samples equal to ffmpeg's pcm_mulaw decode`;
})();
console.log(JSON.stringify(out));
