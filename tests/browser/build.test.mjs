// register(ctx, { build: 'player' }): the page fetches only the player-only
// wasm (pkg/wasm-player, no Sender, encoders or wire adapters), plays Opus
// and G.722 through it with the one worklet bundle, and the calls that need
// the full build say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePage } from './harness.mjs';

let srv, browser, page;

usePage({}, (s) => ({ srv, browser, page } = s));

test("build 'player': only the player wasm is fetched; Opus and G.722 play; mic and wire formats refuse", async () => {
  const before = srv.requests.length;
  const res = await page.evaluate(async () => {
    const { register } = await import('/pkg/src/index.js');
    const { fixture } = await import('/tests/browser/pages/lib.js');
    const out = {};
    for (const [name, payloadTypes] of [['opus', { 111: 'opus/48000/2' }], ['g722', {}]]) {
      const pkts = await fixture(name);
      const t0 = pkts[0].offsetMs;
      const durMs = pkts[pkts.length - 1].offsetMs - t0 + 600;
      const ctx = new OfflineAudioContext(1, Math.ceil((durMs / 1000) * 48000), 48000);
      const vox = await register(ctx, { build: 'player' });
      const player = vox.createPlayer({ payloadTypes });
      player.connect(ctx.destination);
      await player.ready;
      for (const p of pkts) player.push(p.bytes, { at: p.offsetMs - t0 + 20 });
      await player.sync();
      const buf = await ctx.startRendering();
      await player.sync();
      let energy = 0;
      for (const x of buf.getChannelData(0)) energy += x * x;
      out[name] = { build: vox.build, stats: player.stats, energy };
      if (name === 'opus') {
        const refused = async (f) => { try { await f(); return null; } catch (e) { return String(e.message); } };
        out.createMic = await refused(() => vox.createMic());
        out.openMic = await refused(() => vox.openMic());
        out.twilio = await refused(() => vox.wire('twilio'));
        out.rtp = await refused(() => vox.wire('rtp'));
        out.badBuild = await refused(() => register(new OfflineAudioContext(1, 128, 48000), { build: 'mic' }));
      }
    }
    return out;
  });
  for (const name of ['opus', 'g722']) {
    const r = res[name];
    assert.equal(r.build, 'player');
    assert.ok(r.stats.packetsReceived > 100, `${name}: ${JSON.stringify(r.stats)}`);
    assert.equal(r.stats.errors, 0, `${name}: ${JSON.stringify(r.stats)}`);
    assert.ok(r.energy > 1, `${name}: audio energy ${r.energy}`);
  }
  for (const k of ['createMic', 'openMic', 'twilio']) assert.match(res[k] || '', /needs the full build/, k);
  assert.equal(res.rtp, null);
  assert.match(res.badBuild || '', /build is 'full', 'player' or 'neural'/);
  // Asked of the test server (seen the same way in every engine).
  const wasmRequests = srv.requests.slice(before).filter((p) => p.endsWith('.wasm'));
  assert.deepEqual([...new Set(wasmRequests)], ['/pkg/wasm-player/voxlet_bg.wasm']);
  assert.deepEqual(page.failed, []);
});
