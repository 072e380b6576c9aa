// web/examples/index.html served as plain static files, in headless Chromium: what a frontend
// developer sees when trying the package.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { launchBrowser } from './support/browser.mjs';
import { decodePng } from './support/qr.mjs';
import { serveSite } from './support/site.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

let server;
let browser;
let origin;
before(async () => {
  // web/ as static files, nothing more: the example must work from plain files.
  server = await serveSite(root);
  origin = server.origin;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the example page renders QR codes, formats a typed code and shows a payload', async () => {
  const context = await browser.newContext({ deviceScaleFactor: 2 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${origin}/examples/`);

  const text = 'Přihlášení 🔐 https://login.example.com/token#scan=Zm9vYmFy';
  await page.fill('#qr-text', text);
  const svg = page.locator('#qr-svg svg');
  await svg.waitFor();
  assert.equal(await svg.getAttribute('aria-label'), 'QR code of the text above');
  assert.deepEqual(decodePng(await svg.screenshot()).bytes, Buffer.from(text, 'utf8'));
  const canvas = page.locator('#qr-canvas');
  assert.equal(await canvas.evaluate((c) => c.width), 400, 'drawn at the device pixel ratio');
  assert.deepEqual(decodePng(await canvas.screenshot()).bytes, Buffer.from(text, 'utf8'));

  await page.locator('#code').pressSequentially('1234 5678 9');
  assert.equal(await page.inputValue('#code'), '1234-5678-9');
  assert.match(await page.textContent('#code-check'), /7 digits missing/);
  await page.locator('#code').pressSequentially('012 3456');
  assert.equal(await page.textContent('#code-check'), 'Send 12345678-90123456');

  await page.fill('#payload', 'just text');
  assert.match(await page.textContent('#operation'), /^payload_too_few_lines: /);
  assert.deepEqual(errors, []);
  await context.close();
});
