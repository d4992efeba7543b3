// The softphone page itself: loads without console errors with and without
// cross-origin isolation, labels every control, shows gateway errors
// clearly, and calls without SharedArrayBuffer (MessagePort path).
//
// scripts/test-e2e.sh passes VOXLET_E2E_URL (isolated) and
// VOXLET_E2E_URL_NOISO (a gateway with --no-isolation --token e2e-secret);
// run alone, the test starts its own gateways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openSoftphone, call, hangup, recordCall, alignAndCorrelate, startGateway } from './lib.mjs';

const TOKEN = 'e2e-secret';
let iso, noiso, browser;
before(async () => {
  iso = process.env.VOXLET_E2E_URL
    ? { url: process.env.VOXLET_E2E_URL.replace(/\/$/, ''), stop: async () => {} }
    : await startGateway([]);
  noiso = process.env.VOXLET_E2E_URL_NOISO
    ? { url: process.env.VOXLET_E2E_URL_NOISO.replace(/\/$/, ''), stop: async () => {} }
    : await startGateway(['--no-isolation', '--token', TOKEN]);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await iso?.stop();
  await noiso?.stop();
});

async function pageFacts(page) {
  return page.evaluate(() => ({
    isolated: crossOriginIsolated,
    badge: document.querySelector('#isolation').textContent,
    status: document.querySelector('#status').textContent,
    peers: [...document.querySelectorAll('#peer option')].map((o) => o.value),
    codecs: [...document.querySelectorAll('#codec option')].map((o) => o.value),
    ptimes: [...document.querySelectorAll('#ptime option')].map((o) => o.value),
    // Every form control has an accessible name.
    unlabelled: [...document.querySelectorAll('input, select, button')].filter((el) => {
      if (el.closest('[hidden]')) return false;
      const byFor = el.id && document.querySelector(`label[for="${el.id}"]`);
      return !(byFor || el.closest('label') || el.getAttribute('aria-label') || el.textContent.trim());
    }).map((el) => el.outerHTML.slice(0, 80)),
    keys: document.querySelectorAll('#keypad button').length,
  }));
}

test('the page loads cleanly with cross-origin isolation', async () => {
  const page = await openSoftphone(browser.context, iso.url);
  const f = await pageFacts(page);
  await page.waitForTimeout(500);
  await page.close();
  console.log(`  isolated: ${JSON.stringify(f)}`);
  assert.equal(f.isolated, true);
  assert.equal(f.badge, 'Cross-origin isolated');
  assert.equal(f.status, 'Ready');
  assert.ok(f.peers.includes('echo'));
  assert.deepEqual(f.codecs, ['opus', 'g722', 'pcmu', 'pcma', 'l16']);
  assert.deepEqual(f.ptimes, ['10', '20', '30', '40', '60']);
  assert.equal(f.keys, 16);
  assert.deepEqual(f.unlabelled, []);
  assert.deepEqual(page.errors, []);
});

test('without isolation: loads cleanly, shows a gateway error clearly, then calls over MessagePort', async () => {
  const page = await openSoftphone(browser.context, noiso.url);
  const f = await pageFacts(page);
  assert.equal(f.isolated, false);
  assert.equal(f.badge, 'Not isolated');
  assert.equal(await page.isVisible('#token'), true, 'the token field is shown when the gateway wants one');

  // A wrong token: the gateway's `unauthorized` is shown as an alert and the call ends.
  await page.fill('#token', 'wrong');
  await call(page, { peer: 'echo', codec: 'pcmu' }).then(() => assert.fail('the call should fail'), () => {});
  const alert = await page.locator('.alert').first().textContent();
  assert.match(alert, /Wrong or missing access token/);
  assert.match(alert, /unauthorized/);
  assert.equal(await page.textContent('#status'), 'Call failed');
  assert.equal(await page.textContent('#call-btn span'), 'Call', 'ready to call again');

  // The right token: the call works without SharedArrayBuffer.
  await page.fill('#token', TOKEN);
  await call(page, { peer: 'echo', codec: 'pcmu' });
  assert.equal(await page.locator('.alert').count(), 0, 'old alerts are cleared on a new call');
  await page.waitForTimeout(1000);
  const r = await recordCall(page, 3);
  const transport = await page.evaluate(() => window.softphone.call.player.transport);
  await hangup(page);
  const c = alignAndCorrelate(r.input, r.output, r.rate, { slackS: 0.03 });
  console.log(`  not isolated: player transport ${transport}, NCC median ${c.median.toFixed(4)} (${c.windows} windows)`);
  assert.equal(transport, 'port');
  assert.ok(c.median >= 0.9, `you hear yourself (NCC ${c.median})`);
  await page.waitForTimeout(300);
  await page.close();
  assert.deepEqual(page.errors, []);
});
