// The app as served by `qrauth serve --static dist`, in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { HomePage, baseUrl, decodePng, launchBrowser, openPage } from './support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('the home page shows the server health, a QR code of its address and a code field', async () => {
  const { page, problems, close } = await openPage(browser);
  const home = new HomePage(page);
  await home.open('/');

  const health = await (await fetch(new URL('/api/v1/health', baseUrl))).json();
  await home.health.filter({ hasText: `Server ok · qrauth ${health.version}` }).waitFor();

  // The QR code, as a phone camera would see it: a screenshot, decoded by an independent reader.
  const svg = home.qr.locator('svg');
  assert.equal(await svg.getAttribute('role'), 'img');
  assert.match(await svg.getAttribute('aria-label'), /^QR code of this page's address/);
  const decoded = decodePng(await home.qr.screenshot());
  assert.equal(decoded.text, page.url());
  assert.deepEqual([...new Set(decoded.modes)], ['byte']);
  assert.equal(await home.pageUrl.textContent(), page.url());

  // The code field, typed key by key as a person would, with spaces.
  assert.equal(await home.codeInput.getAttribute('inputmode'), 'numeric');
  assert.equal(await home.codeInput.getAttribute('autocomplete'), 'one-time-code');
  await home.typeCode('1234 5678 90');
  await home.codeStatus.filter({ hasText: '6 digits missing' }).waitFor();
  assert.equal(await home.codeNormalized.count(), 0, 'nothing to send yet');
  await home.typeCode('1234 5678-9012 3456');
  await home.codeNormalized.filter({ hasText: '12345678-90123456' }).waitFor();
  assert.equal(await home.codeStatus.textContent(), 'Complete: 1234-5678-9012-3456');

  assert.deepEqual(problems, [], 'the page loaded without errors or CSP violations');
  await close();
});

test('an app route loads the app, and the page cannot be framed', async () => {
  const response = await fetch(new URL('/token', baseUrl));
  assert.equal(response.status, 200);
  const csp = response.headers.get('content-security-policy');
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.equal(response.headers.get('x-frame-options'), 'DENY');
  assert.equal(response.headers.get('cache-control'), 'no-cache');

  // trunk's hashed files may be cached for a year; the page that names them may not.
  const html = await response.text();
  const script = /import init, \* as bindings from '([^']+)'/.exec(html)[1];
  const asset = await fetch(new URL(script, baseUrl));
  assert.equal(asset.status, 200);
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');

  const { page, problems, close } = await openPage(browser);
  const home = new HomePage(page);
  await home.open('/token');
  await home.health.filter({ hasText: 'Server ok' }).waitFor();
  assert.deepEqual(problems, []);
  await close();
});

test('the page says so when the server cannot be reached', async () => {
  const { page, close } = await openPage(browser);
  await page.route('**/api/v1/health', (route) => route.abort('connectionrefused'));
  const home = new HomePage(page);
  await home.open('/');
  await home.health.filter({ hasText: 'Server unavailable: the server cannot be reached' }).waitFor();
  await close();
});
