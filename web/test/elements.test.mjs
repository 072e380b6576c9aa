// The custom elements as a developer gets them: `npm pack` of the package, the tarball installed
// into a copy of web/examples/sign-in (plain HTML, no build step), served with the strict CSP
// qrauth sends and /api/ passed to the real `qrauth serve` that `cargo xtask test` started (the
// Host kept, as the README tells a dev proxy to). Driven in Chromium; a real token approves.
import 'fake-indexeddb/auto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { SoftwareToken } from 'qrauth-token';

import { account, server as api, signedIn } from './support/account.mjs';
import { launchBrowser } from './support/browser.mjs';
import { decodePng } from './support/qr.mjs';
import { installedExample } from './support/packed.mjs';
import { serveSite } from './support/site.mjs';

const elements = account('ELEMENTS');
let site;
let browser;
let origin;
let example;
let token;
let activationId;

before(async () => {
  example = installedExample('sign-in', { offline: true });
  // The pages get the policy qrauth sends with its own.
  const csp = (await fetch(`${api}/api/v1/health`)).headers.get('content-security-policy');
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  site = await serveSite(example.dir, { headers: { 'content-security-policy': csp }, api });
  origin = site.origin;
  browser = await launchBrowser();

  const offer = await (await signedIn(elements))('/activations');
  assert.equal(offer.status, 201);
  token = await SoftwareToken.open({ server: api, database: `elements-${process.pid}` });
  ({ activationId } = await token.activate({ code: offer.body.activationQr, pin: '2580', pinAgain: '2580' }));
});

after(async () => {
  await browser?.close();
  await site?.close();
  example?.remove();
});

/** A fresh visitor on the example page; `problems` collects page errors and CSP reports. */
async function visit(path = '/') {
  const context = await browser.newContext({ deviceScaleFactor: 2 });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && problems.push(m.text()));
  await page.goto(origin + path);
  return { context, page, problems };
}

const status = (page) => page.locator('qrauth-sign-in [part~="status"]').first();

/** A frame of a sign-in QR without its step and MAC: the login's link. */
const loginLinkOf = (frame) => frame.replace(/\.\d+\.[\w-]{11}$/, '');

/**
 * The link in the sign-in QR, read from the QR itself, as a camera reads the frame on screen
 * (the same-device link is the same login's).
 */
async function qrLink(page) {
  const svg = page.locator('qrauth-sign-in [part~="qr"] svg');
  await svg.waitFor();
  const link = decodePng(await svg.screenshot()).text;
  const sameDevice = await page.locator('qrauth-sign-in [part~="same-device-link"]').getAttribute('href');
  assert.equal(loginLinkOf(sameDevice), loginLinkOf(link));
  return link;
}

/** The two digits the element shows once a phone scanned (number matching). */
async function shownNumber(page) {
  const number = page.locator('qrauth-sign-in [part~="number"]');
  await number.waitFor();
  return number.textContent();
}

test('the plain HTML page signs a person in by QR: scanned, approved on the token, then the signed-in page', async () => {
  const { context, page, problems } = await visit();
  assert.equal(await page.locator('qrauth-sign-in svg').getAttribute('aria-label'), "QR code to sign in: scan it with your phone's camera");
  assert.match(await status(page).textContent(), /Scan the code with your phone's camera/);
  assert.match(await page.locator('qrauth-sign-in [part~="countdown"]').textContent(), /^Expires in 0:0[1-5]$/);
  // Logins live 5 s here: one renewed in between is scanned again.
  let request;
  for (let tries = 0; !request; tries++) {
    const link = await qrLink(page);
    assert.ok(link.startsWith(`${origin}/token#scan=`), `${link} points at the page's site`);
    request = await token.attachLogin(link).catch((e) => (tries < 3 ? null : Promise.reject(e)));
  }
  await page.locator('qrauth-sign-in [data-state="scanned"]').waitFor();
  const number = await shownNumber(page);
  assert.match(number, /^\d\d$/);
  assert.equal(await status(page).textContent(), `Check your phone: type ${number} there, then approve.`);
  await token.approveLogin(activationId, request, '2580', number);
  await page.waitForURL(`${origin}/signed-in.html`);
  const session = await page.evaluate(async () => (await fetch('/api/v1/session')).json());
  assert.equal(session.user, elements.user);
  assert.deepEqual(problems, [], 'no errors and no CSP violation');
  await context.close();
});

test('"More time" near the end gives the code its lifetime again and says so to screen readers', async () => {
  const { context, page, problems } = await visit();
  const countdown = page.locator('qrauth-sign-in [part~="countdown"]');
  const more = page.getByRole('button', { name: 'More time' });
  // Logins live 5 s here, so the last 30 seconds are all of it.
  await more.waitFor();
  await page.waitForTimeout(2_500);
  assert.match(await countdown.textContent(), /^Expires in 0:0[1-3]$/);
  await more.click();
  await page.locator('qrauth-sign-in [aria-live="polite"]', { hasText: /^More time: the code now expires in 0:0[45]\.$/ }).waitFor();
  assert.match(await countdown.textContent(), /^Expires in 0:0[45]$/);
  assert.deepEqual(problems, []);
  await context.close();
});

test('with a typed code: the user name, the login QR for the token, a wrong code refused, the right one signs in', async () => {
  const { context, page, problems } = await visit();
  await page.getByRole('button', { name: 'Use a code instead' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.equal(await page.getByRole('alert').first().textContent(), 'Type your user name.');
  await page.getByLabel('User name').fill(elements.user);
  await page.getByRole('button', { name: 'Continue' }).click();
  const svg = page.locator('qrauth-sign-in [part~="qr"] svg');
  await svg.waitFor();
  assert.equal(await svg.getAttribute('aria-label'), 'QR code to sign in: scan it with the qrauth token');
  const payload = decodePng(await svg.screenshot()).text;
  const field = page.getByLabel('Code from your token');
  await field.pressSequentially('1234 5678 9');
  assert.equal(await field.inputValue(), '1234-5678-9');
  assert.equal(await page.locator('qrauth-code-input [part~="status"]').textContent(), '7 digits missing.');
  await page.getByRole('button', { name: 'Sign in' }).click();
  assert.equal(await page.locator('qrauth-code-input [part~="message"]').textContent(), '7 digits missing.');
  await field.fill('');
  await field.pressSequentially('0000000000000000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('qrauth-code-input [part~="message"]', { hasText: 'That code is not right.' }).waitFor();

  const { canonical } = await token.computeOfflineCode(activationId, payload, '2580');
  await field.fill(canonical);
  assert.equal(await field.inputValue(), canonical.replace('-', '').replace(/(\d{4})(?=\d)/g, '$1-'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${origin}/signed-in.html`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a server that is down or answers garbage: a clear message, retried with back-off, then the QR', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  let asked = 0;
  await page.route('**/api/v1/logins', (route) => {
    asked += 1;
    if (asked === 1) return route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"unavailable","message":"Down for a moment."}}' });
    if (asked === 2) return route.fulfill({ status: 201, contentType: 'application/json', body: 'not json' });
    return route.fallback();
  });
  await page.goto(origin);
  await page.locator('qrauth-sign-in [data-state="failed"]', { hasText: 'No code: Down for a moment.' }).waitFor();
  await page.locator('qrauth-sign-in [part~="qr"] svg').waitFor({ timeout: 15_000 });
  assert.equal(asked, 3, 'asked again by itself until it got a login');
  assert.equal(await status(page).getAttribute('data-state'), 'waiting');
  await context.close();
});

test('an unknown login state is an error, never signed in; a removed element stops and cancels its login', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route('**/api/v1/logins/*', (route) =>
    route.request().method() === 'GET'
      ? route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ loginId: 'x', state: 'HACKED', expiresAt: 0, expiresInMs: 1000 }) })
      : route.fallback());
  await page.goto(origin);
  await page.locator('qrauth-sign-in [data-state="failed"]', { hasText: 'HACKED' }).waitFor();
  assert.equal(page.url(), `${origin}/`);
  await page.unroute('**/api/v1/logins/*');

  // Start again, then take the element off the page: its login is cancelled, nothing more is asked.
  await page.getByRole('button', { name: 'Start again' }).click();
  await page.locator('qrauth-sign-in [data-state="waiting"]').waitFor();
  const requests = [];
  page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
  await page.evaluate(() => document.querySelector('qrauth-sign-in').remove());
  await page.waitForTimeout(2_500);
  const after = requests.filter((r) => !r.startsWith('DELETE'));
  assert.ok(requests.some((r) => r.startsWith('DELETE /api/v1/logins/')), `cancelled: ${requests}`);
  assert.ok(after.length <= 1, `at most the poll in flight, then nothing: ${after}`);
  await context.close();
});

test('while the server cannot be reached the element says it is reconnecting, then goes on by itself', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  let failing = true;
  await page.route('**/api/v1/logins/*', (route) =>
    failing && route.request().method() === 'GET'
      ? route.fulfill({ status: 503, contentType: 'application/json', headers: { 'retry-after': '1' }, body: '{"error":{"code":"unavailable","message":"Down for a moment."}}' })
      : route.fallback());
  await page.goto(origin);
  await page.locator('qrauth-sign-in [data-state="reconnecting"]', { hasText: 'Reconnecting… the server cannot be reached right now.' }).waitFor();
  failing = false;
  await page.locator('qrauth-sign-in [data-state="waiting"]').waitFor({ timeout: 10_000 });
  assert.equal(await status(page).textContent(), "Scan the code with your phone's camera.");
  await context.close();
});

test('a wasm that does not arrive (the connection cut) is said so with "Try again", which loads it', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let cut = true;
  await page.route('**/*.wasm', (route) => (cut ? route.abort('connectionreset') : route.fallback()));
  await page.goto(origin);
  await page.locator('qrauth-sign-in [data-state="failed"]', { hasText: 'The sign-in could not be loaded' }).waitFor();
  cut = false;
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.locator('qrauth-sign-in [part~="qr"] svg').waitFor();
  assert.equal(await status(page).getAttribute('data-state'), 'waiting');
  assert.deepEqual(errors, [], 'no unhandled failure');
  await context.close();
});

test('on another origin that the server allows, `server` points the element at it and the page gets the identity token', async () => {
  // The page's own policy must let it reach the API's origin; qrauth's allows only its own.
  const csp = (await fetch(`${api}/api/v1/health`)).headers.get('content-security-policy').replace("connect-src 'self'", `connect-src 'self' ${api}`);
  writeFileSync(join(example.dir, 'other-origin.html'), readFileSync(join(example.dir, 'index.html'), 'utf8')
    .replace('<qrauth-sign-in signed-in-href="./signed-in.html">', `<qrauth-sign-in server="${api}">`));
  const other = await serveSite(example.dir, { headers: { 'content-security-policy': csp }, port: Number(process.env.QRAUTH_ALLOWED_PAGE_PORT) });
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.addInitScript(() => document.addEventListener('qrauth-signed-in', (e) => (window.signedIn = e.detail)));
  await page.goto(`${other.origin}/other-origin.html`);
  let request;
  for (let tries = 0; !request; tries++) {
    const link = await qrLink(page);
    assert.ok(link.startsWith(`${api}/token#scan=`), `${link} points at the server`);
    request = await token.attachLogin(link).catch((e) => (tries < 3 ? null : Promise.reject(e)));
  }
  await token.approveLogin(activationId, request, '2580', await shownNumber(page));
  const detail = await (await page.waitForFunction(() => window.signedIn)).jsonValue();
  assert.equal(detail.method, 'qr');
  assert.equal(detail.user, elements.user);
  assert.equal(detail.idToken.split('.').length, 3, 'an identity token for the page backend');
  assert.equal(page.url(), `${other.origin}/other-origin.html`, 'no signed-in-href: the page stays');
  assert.deepEqual(errors, []);
  await context.close();
  await other.close();
});

test('a typed-code sign-in whose code expires gets a new one by itself, three times, then "Get a new code"; "Not you?" goes back', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.clock.install();
  await page.goto(origin);
  await page.getByRole('button', { name: 'Use a code instead' }).click();
  await page.getByLabel('User name').fill(elements.user);
  await page.getByRole('button', { name: 'Continue' }).click();
  const svg = page.locator('qrauth-sign-in [part~="qr"] svg');
  await svg.waitFor();
  const renew = page.getByRole('button', { name: 'Get a new code' });
  const payloads = [decodePng(await svg.screenshot()).text];
  for (let renewal = 1; renewal <= 3; renewal++) {
    // The QR before the jump: read after it, a renewal that was quick would already be there,
    // and the wait would be for a second one that never comes.
    const before = await svg.evaluate((e) => e.outerHTML);
    await page.clock.fastForward('05:01');
    await page.waitForFunction((shownBefore) => {
      const shown = document.querySelector('qrauth-sign-in').shadowRoot.querySelector('svg');
      return shown && shown.outerHTML !== shownBefore;
    }, before);
    payloads.push(decodePng(await svg.screenshot()).text);
    assert.equal(await renew.isVisible(), false, `renewal ${renewal} came by itself`);
  }
  assert.equal(new Set(payloads).size, 4, 'four operations, one after another');
  await page.clock.fastForward('05:01');
  await renew.waitFor();
  assert.equal(await page.locator('qrauth-sign-in [part~="countdown"]').textContent(), 'Expired');
  await renew.click();
  await page.locator('qrauth-sign-in [part~="countdown"]', { hasText: /^Expires in [45]:/ }).waitFor();

  await page.getByRole('button', { name: 'Not you?' }).click();
  await page.getByLabel('User name').waitFor();
  await context.close();
});

test('way="password": a wrong password is said so, the right one signs in; the person choosing another way is told to the page', async () => {
  writeFileSync(join(example.dir, 'password.html'), readFileSync(join(example.dir, 'index.html'), 'utf8')
    .replace('<qrauth-sign-in signed-in-href="./signed-in.html">', '<qrauth-sign-in way="password" signed-in-href="./signed-in.html">'));
  const { context, page, problems } = await visit('/password.html');
  await page.evaluate(() => {
    window.ways = [];
    document.addEventListener('qrauth-way', (e) => window.ways.push(e.detail.way));
    document.addEventListener('qrauth-signed-in', (e) => sessionStorage.setItem('signedIn', JSON.stringify(e.detail)));
  });
  const problem = page.getByTestId('password-problem');
  await page.getByTestId('password-submit').click();
  await problem.filter({ hasText: 'Type your user name and password.' }).waitFor();
  await page.getByTestId('password-user').fill(elements.user);
  await page.getByTestId('password').fill('not the password');
  await page.getByTestId('password-submit').click();
  await problem.filter({ hasText: 'The user name or password is not right.' }).waitFor();
  assert.equal(await page.getByTestId('password-submit').textContent(), 'Sign in');

  // The element's own switch to another way, then back by the attribute, as a page's links do.
  await page.evaluate(() => { document.querySelector('qrauth-sign-in').way = 'phone'; });
  await page.getByRole('button', { name: 'Use a code instead' }).click();
  await page.getByTestId('offline-user').waitFor();
  assert.deepEqual(await page.evaluate(() => window.ways), ['code'], 'told only what the person chose');
  await page.evaluate(() => { document.querySelector('qrauth-sign-in').way = 'password'; });

  await page.getByTestId('password-user').fill(elements.user);
  await page.getByTestId('password').fill(elements.password);
  await page.getByTestId('password-submit').click();
  await page.waitForURL(/signed-in\.html$/);
  const detail = JSON.parse(await page.evaluate(() => sessionStorage.getItem('signedIn')));
  assert.deepEqual(detail, { user: elements.user, method: 'password' });
  const session = await page.evaluate(async () => (await fetch('/api/v1/session')).json());
  assert.equal(session.user, elements.user, 'the server set its session cookie');
  assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), []);
  await context.close();
});

test('a login the page asked for before the element was defined (`created`) is its first QR: one login, not two', async () => {
  // A classic script before the elements' module, as a page that starts the request early.
  writeFileSync(join(example.dir, 'early.js'), "document.querySelector('qrauth-sign-in').created = fetch('/api/v1/logins', { method: 'POST', credentials: 'omit' });\n");
  writeFileSync(join(example.dir, 'early.html'), readFileSync(join(example.dir, 'index.html'), 'utf8')
    .replace('</body>', '<script src="./early.js"></script>\n</body>'));
  const context = await browser.newContext();
  const page = await context.newPage();
  const made = [];
  page.on('response', async (r) => {
    if (new URL(r.url()).pathname === '/api/v1/logins' && r.request().method() === 'POST') made.push(await r.json());
  });
  await page.goto(`${origin}/early.html`);
  await page.locator('qrauth-sign-in [data-state="waiting"]').waitFor();
  assert.equal(made.length, 1, 'the element made no login of its own');
  assert.equal(await page.getByTestId('open-token').getAttribute('href'), made[0].qrText);
  await context.close();
});
