// The receive path inside a real AudioWorklet in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core): the impaired 60 s streams of
// examples/bench_anchors.rs replayed into the player worklet of the npm
// package, rendered by an OfflineAudioContext at 48 kHz (see
// bench/worklet-page.js). Prints JSON: per stream, the wall time of the
// render, of a do-nothing worklet baseline, and the player's final stats
// (to compare with the native pass over the same stream).
//
//   node bench/worklet.mjs OUT_DIR    # reads OUT_DIR/rx_{pcmu,g722,opus}.bin
//
// Needs pkg/wasm and pkg/worklet built (scripts/build-wasm.sh).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launch, openPage, run, serve } from '../tests/browser/harness.mjs';

const dir = process.argv[2] || 'target/bench';
const STREAMS = [
  ['rx_pcmu', 'PCMU/8000'],
  ['rx_g722', 'G722/8000'],
  ['rx_opus', 'opus/48000/2'],
]; // bench_anchors' RX_STREAMS, each sent as payload type 96
const SECONDS = 60; // bench_anchors' STREAM_S

const routes = {};
for (const [name] of STREAMS) {
  routes[`/bench-data/${name}.bin`] = async (req, res, headers) => {
    const body = await readFile(join(dir, `${name}.bin`));
    res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  };
}

const srv = await serve({ routes });
const browser = await launch();
const out = {};
try {
  const page = await openPage(browser.context, srv.url);
  for (const [name, rtpmap] of STREAMS) {
    out[name] = await page.evaluate(async (a) => {
      const lib = await import('/bench/worklet-page.js');
      return lib.benchStream(a);
    }, { url: `/bench-data/${name}.bin`, rtpmap, seconds: SECONDS, rounds: 5 });
    process.stderr.write(`[worklet] ${name}: ${JSON.stringify({ ...out[name], stats: undefined })}\n`);
  }
  const failed = page.failed.filter((f) => !f.endsWith('/favicon.ico'));
  if (failed.length || page.logs.some((l) => l.startsWith('[pageerror]'))) {
    throw new Error(`page errors:\n${[...failed, ...page.logs].join('\n')}`);
  }
  out.chromium = await browser.context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
} finally {
  await browser.close();
  await srv.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
