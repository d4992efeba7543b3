// Takes docs/softphone.png: the softphone during an echo call (headless
// Chromium, fake microphone playing speech), after ~25 s so the plots have
// history, with some impairment switched on half-way and a few keys pressed.
// Starts its own gateway (target/release/voxlet-gateway: build it first,
// e.g. with scripts/test-e2e.sh or scripts/demo.sh).
//
//   node tests/e2e/screenshot.mjs [OUT.png] [--dark] [--width 1280] [--seconds 25]
import { join } from 'node:path';
import { REPO, launch, openSoftphone, call, startGateway } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : def; };
const out = argv.find((a, i) => !a.startsWith('--') && !['--width', '--seconds'].includes(argv[i - 1])) || join(REPO, 'docs/softphone.png');
const width = Number(opt('--width', 1280));
const seconds = Number(opt('--seconds', 25));
const dark = argv.includes('--dark');

const gw = await startGateway([], { lifetimeMs: (seconds + 60) * 1000 });
const browser = await launch({ viewport: { width, height: 900 }, colorScheme: dark ? 'dark' : 'light' });
try {
  const page = await openSoftphone(browser.context, gw.url);
  await call(page, { peer: 'echo', codec: 'opus', transport: 'ws' });
  await page.waitForTimeout((seconds * 1000) / 2);
  await page.locator('#loss').fill('8');
  await page.locator('#jitter').fill('40');
  for (const k of ['1', '2', '3', '#']) {
    await page.click(`.key[data-key="${CSS_ESCAPE(k)}"]`);
    await page.waitForTimeout(250);
  }
  await page.waitForTimeout((seconds * 1000) / 2);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.screenshot({ path: out, fullPage: true });
  if (page.errors.length) console.error('console errors:', page.errors);
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await gw.stop();
}

function CSS_ESCAPE(k) { return k === '#' ? '\\#' : k === '*' ? '\\*' : k; }
