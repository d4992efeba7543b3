// `npm pack` of pkg/ installs into a small Vite app (tests/browser/vite-app),
// which `vite build` bundles (the worklet and the wasm found through
// `new URL(..., import.meta.url)`), and the built app runs in Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { launch, openPage, serve, REPO, ENGINE, CAN, why, check } from './harness.mjs';

let dir, browser, srv, app;
before(() => { dir = mkdtempSync(join(tmpdir(), 'voxlet-vite-')); });
after(async () => {
  await browser?.close();
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

test(`npm pack → install into a Vite app → vite build → runs in ${ENGINE}`, async (t) => {
  const packOut = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: join(REPO, 'pkg'), encoding: 'utf8' });
  const pack = JSON.parse(packOut)[0];
  const tgz = join(dir, pack.filename);
  const files = pack.files.map((f) => f.path).sort();
  console.log(`# npm pack: ${pack.filename}, ${pack.size} bytes packed, ${pack.unpackedSize} unpacked, ${files.length} files: ${files.join(' ')}`);
  for (const f of ['package.json', 'src/index.js', 'src/index.d.ts', 'src/node.js', 'worklet/voxlet-worklet.js', 'wasm/voxlet_bg.wasm', 'wasm/voxlet.js']) {
    assert.ok(files.includes(f), `package contains ${f}`);
  }

  app = join(dir, 'app');
  cpSync(join(REPO, 'tests/browser/vite-app'), app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'voxlet-vite-app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tgz], { cwd: app, stdio: 'pipe' });

  const { build } = await import('vite');
  await build({
    root: app, logLevel: 'warn', configFile: false,
    build: {
      outDir: join(app, 'dist'), emptyOutDir: true,
      rollupOptions: { input: { main: join(app, 'index.html'), player: join(app, 'player.html') } },
    },
  });
  const assets = readdirSync(join(app, 'dist/assets'));
  const sizes = assets.map((a) => {
    const b = readFileSync(join(app, 'dist/assets', a));
    return `${a} ${b.length} B (${gzipSync(b, { level: 9 }).length} gz)`;
  });
  console.log(`# vite build: ${sizes.join(', ')}`);
  assert.ok(assets.some((a) => a.endsWith('.wasm')), 'the wasm is emitted');
  assert.ok(assets.some((a) => /voxlet-worklet.*\.js$/.test(a)), 'the worklet is emitted');

  srv = await serve({ root: join(app, 'dist') });
  browser = await launch();
  const page = await openPage(browser.context, srv.url, '/index.html');
  await page.waitForFunction(() => window.result, null, { timeout: 20000 });
  const result = await page.evaluate(() => window.result);
  console.log(`# app result: ${JSON.stringify({ ...result, stats: result.stats && { packetsReceived: result.stats.packetsReceived, concealedSamples: result.stats.concealedSamples } })}`);
  assert.ok(result.ok, result.error);
  assert.ok(result.stats.packetsReceived >= 45, `${result.stats.packetsReceived} packets played`);
  // Nothing but the favicon may be missing.
  assert.deepEqual(page.failed.filter((u) => !u.endsWith('/favicon.ico')), []);
  assert.deepEqual(page.logs.filter((l) => l.startsWith('[pageerror]')), []);
  await check(t, 'no page error from the start of the page load on', !CAN.logsFromLoad && why.logsFromLoad,
    () => assert.deepEqual(page.logs.filter((l) => l.startsWith('[pageerror]')), []));
});

test('a player-only page of the Vite app fetches only the player-only wasm', async () => {
  assert.ok(app, 'the packed app exists (first test)');
  // Vite emits both wasm files (each is a static new URL(...) in the
  // package), hashed under the same name; they are told apart by size:
  // the player-only build is the smaller one.
  const wasms = readdirSync(join(app, 'dist/assets')).filter((a) => a.endsWith('.wasm'))
    .map((a) => ({ name: a, size: statSync(join(app, 'dist/assets', a)).size }))
    .sort((a, b) => a.size - b.size);
  assert.equal(wasms.length, 2, `two wasm builds emitted: ${JSON.stringify(wasms)}`);
  const [playerWasm, fullWasm] = wasms;
  const before = srv.requests.length;
  const page = await openPage(browser.context, srv.url, '/player.html');
  await page.waitForFunction(() => window.result, null, { timeout: 20000 });
  const result = await page.evaluate(() => window.result);
  const fetched = srv.requests.slice(before).filter((p) => p.endsWith('.wasm'));
  console.log(`# player page: ${JSON.stringify({ ok: result.ok, error: result.error, packets: result.stats && result.stats.packetsReceived, fetched, playerWasm, fullWasm })}`);
  assert.ok(result.ok, result.error);
  assert.ok(result.stats.packetsReceived >= 45, `${result.stats.packetsReceived} packets played`);
  assert.deepEqual([...new Set(fetched)], [`/assets/${playerWasm.name}`], 'only the player-only wasm is fetched');
  assert.match(result.mic, /needs the full build/, 'createMic() on the player build says why it cannot');
});

test('the same app under the Vite dev server (optimizeDeps.exclude: voxlet, as documented)', { timeout: 60000 }, async () => {
  assert.ok(app, 'the packed app exists (previous test)');
  const { createServer } = await import('vite');
  const server = await createServer({
    root: app, configFile: false, logLevel: 'warn',
    optimizeDeps: { exclude: ['voxlet'] },
    server: { host: '127.0.0.1', port: 0, strictPort: false },
  });
  await server.listen();
  try {
    const url = server.resolvedUrls.local[0].replace(/\/$/, '');
    const page = await openPage(browser.context, url, '/index.html');
    await page.waitForFunction(() => window.result, null, { timeout: 20000 });
    const result = await page.evaluate(() => window.result);
    console.log(`# vite dev: ${JSON.stringify({ ok: result.ok, error: result.error, packets: result.stats && result.stats.packetsReceived })}`);
    assert.ok(result.ok, result.error);
    assert.ok(result.stats.packetsReceived >= 45);
  } finally {
    await server.close();
  }
});
