// The app's pages as served by `qrauth serve --static dist`, in headless Chromium, against the
// real server. (The token's side of each flow comes with the token page.)
import { before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  AccountPage,
  ApprovalPage,
  SignInPage,
  TokenPage,
  account,
  baseUrl,
  clockFace,
  frameStepOf,
  launchBrowser,
  loginLifetime,
  loginLinkOf,
  openPage,
  test,
} from './support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const api = (path, body) =>
  fetch(new URL(`/api/v1${path}`, baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('the sign-in QR opens the token, and the page follows the login as the phone acts', async () => {
  const { page, problems, close } = await openPage(browser, { name: 'computer', colorScheme: 'dark' });
  const signIn = new SignInPage(page);
  await signIn.open();
  await signIn.waitForState('waiting');
  const health = await (await fetch(new URL('/api/v1/health', baseUrl))).json();
  await signIn.health.filter({ hasText: `Server ok · qrauth ${health.version}` }).waitFor();

  // What a phone camera reads is the same-device link, in byte mode, even in dark mode: the
  // frame of the second, the login's link with the step and its MAC.
  const before = await signIn.openToken.getAttribute('href');
  const decoded = await signIn.scanQr();
  const link = await signIn.openToken.getAttribute('href');
  assert.match(link, new RegExp(`^${baseUrl}/token#scan=[A-Za-z0-9_-]+\\.\\d+\\.[A-Za-z0-9_-]{11}$`));
  assert.ok([before, link].includes(decoded.text), `${decoded.text}: the QR is the link of its second`);
  assert.deepEqual([...new Set(decoded.modes)], ['byte']);

  // The QR changes every second in place: the next frame of the same login, nothing moves.
  const box = await signIn.qr.boundingBox();
  await page.waitForTimeout(1_100);
  const next = await signIn.scanQr();
  assert.equal(loginLinkOf(next.text), loginLinkOf(link));
  assert.ok(frameStepOf(next.text) > frameStepOf(decoded.text), `${next.text} after ${decoded.text}`);
  assert.deepEqual(await signIn.qr.boundingBox(), box, 'no layout shift');
  const svg = signIn.qr.locator('svg');
  assert.equal(await svg.getAttribute('role'), 'img');
  assert.match(await svg.getAttribute('aria-label'), /^QR code to sign in/);
  const shown = await signIn.countdown.textContent();
  const lifetime = [0, 1, 2, 3, 4].map((late) => `Expires in ${clockFace(loginLifetime - late)}`);
  assert.ok(lifetime.includes(shown), `${shown}: the server's login lifetime, counted down`);

  // The phone scans: the page's long-poll wakes.
  const scanCode = new URL(link).hash.slice('#scan='.length);
  const attached = await api('/token/logins/attach', { scanCode });
  assert.equal(attached.status, 200);
  const { loginId } = await attached.json();
  const scannedAt = Date.now();
  await signIn.waitForState('scanned');
  assert.ok(Date.now() - scannedAt < 3000, 'the page saw the scan within 3 s');
  assert.equal(await signIn.status.textContent(), `Check your phone: type ${await signIn.shownNumber()} there, then approve.`);

  // The phone denies: the page says so and offers to start again.
  assert.equal((await api(`/token/logins/${loginId}/deny`, { scanCode })).status, 200);
  await signIn.waitForState('denied');
  assert.equal(await signIn.status.textContent(), 'The sign-in was denied on the phone.');
  await signIn.startAgain.click();
  await signIn.waitForState('waiting');
  assert.notEqual(loginLinkOf(await signIn.openToken.getAttribute('href')), loginLinkOf(link), 'a new login, a new code');

  assert.deepEqual(problems, [], 'no errors, failed requests or CSP violations');
  await close();
});

test('leaving a login cancels it, so its QR is worth nothing later', async () => {
  const { page, close } = await openPage(browser, { name: 'computer' });
  const signIn = new SignInPage(page);
  await signIn.open();
  await signIn.waitForState('waiting');
  const scanCode = new URL(await signIn.openToken.getAttribute('href')).hash.slice('#scan='.length);
  await page.getByTestId('way-password').click();
  await signIn.passwordUser.waitFor();
  // The cancellation is sent as the page leaves; give it a moment.
  let status;
  for (let i = 0; i < 20 && status !== 409; i++) {
    status = (await api('/token/logins/attach', { scanCode })).status;
    if (status !== 409) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 409, 'a cancelled login cannot be scanned');
  await close();
});

test('password sign-in, the account page and a token activation code', async () => {
  const { page, problems, close } = await openPage(browser, { name: 'computer', viewport: { width: 390, height: 844 } });
  const signIn = new SignInPage(page);
  await signIn.signInWithPassword(account.user, 'not the password');
  await signIn.passwordProblem.filter({ hasText: 'The user name or password is not right.' }).waitFor();

  await signIn.signInWithPassword(account.user, account.password);
  const accountPage = new AccountPage(page);
  await accountPage.identity.filter({ hasText: `Signed in as ${account.user}` }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/account');

  await accountPage.activate.click();
  await accountPage.activationCode.waitFor();
  const code = (await accountPage.activationCode.textContent()).trim();
  assert.match(code, /^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/);
  const decoded = await accountPage.scanQr();
  assert.ok(decoded.text.startsWith(`${code}#`), `${decoded.text} carries the code and its signature`);
  assert.equal(await accountPage.activationStatus.textContent(), 'Waiting for the token…');

  // The wrong password's 401 (its request and Chromium's console line) is expected; nothing else.
  assert.deepEqual(
    problems.filter((p) => !p.includes('/api/v1/session') && !p.includes('status of 401')),
    [],
  );
  await close();
});

test('the approval page shows the payment, its QR, and what the server says about a code', async () => {
  const { page, problems, close } = await openPage(browser, { name: 'computer' });
  await new SignInPage(page).signInWithPassword(account.user, account.password);
  await new AccountPage(page).identity.waitFor();
  const approval = new ApprovalPage(page);
  await approval.open();
  await approval.continueWithExamplePayment();
  assert.equal(await approval.amount.textContent(), '1250.00 EUR');
  assert.equal(await approval.account.textContent(), 'CZ65 0800 0000 1920 0014 5399');
  assert.equal(await approval.note.textContent(), 'Rent for December');

  const decoded = await approval.scanQr();
  const lines = decoded.text.split('\n');
  assert.equal(lines.length, 7, 'an offline payload of seven lines');
  assert.match(lines[3], /^A1\*A1250\.00EUR\*ICZ6508000000192000145399/);
  assert.deepEqual([...new Set(decoded.modes)], ['byte']);

  await approval.typeCode('1234 5678');
  await approval.codeStatus.filter({ hasText: '8 digits missing.' }).waitFor();
  await approval.codeSubmit.click();
  await approval.codeMessage.filter({ hasText: '8 digits missing.' }).waitFor();
  await approval.typeCode('1234 5678 9012 3456');
  assert.equal(await approval.codeInput.inputValue(), '1234-5678-9012-3456');
  await approval.codeSubmit.click();
  // This user has no token yet: the server checks the code against nothing and says so.
  await approval.codeMessage.filter({ hasText: 'there is no active token for this account' }).waitFor();
  assert.deepEqual(problems, []);
  await close();
});

test('offline sign-in shows a login QR for the user name and takes the typed code', async () => {
  const { page, problems, close } = await openPage(browser, { name: 'computer' });
  const signIn = new SignInPage(page);
  await signIn.startOfflineLogin(account.user);
  const decoded = await signIn.scanQr();
  const lines = decoded.text.split('\n');
  assert.equal(lines.length, 7);
  assert.match(lines[3], /^A2/, 'a login operation');
  await signIn.typeCode('0000-0000-0000-0000');
  await signIn.codeSubmit.click();
  await signIn.codeMessage.filter({ hasText: 'That code is not right' }).waitFor();
  assert.deepEqual(problems, []);
  await close();
});

test('pages for signed-in people say so to others; unknown paths say not found', async () => {
  const { page, close } = await openPage(browser, { name: 'computer' });
  await page.goto(new URL('/account', baseUrl).href);
  await new AccountPage(page).notSignedIn.waitFor();
  await page.goto(new URL('/approve', baseUrl).href);
  await new AccountPage(page).notSignedIn.waitFor();
  await page.goto(new URL('/no/such/page', baseUrl).href);
  await page.getByTestId('not-found').waitFor();
  await close();
});

test('every app route is the app, and the page cannot be framed', async () => {
  const response = await fetch(new URL('/approve', baseUrl));
  assert.equal(response.status, 200);
  const csp = response.headers.get('content-security-policy');
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.equal(response.headers.get('x-frame-options'), 'DENY');
  assert.equal(response.headers.get('cache-control'), 'no-cache');

  // trunk's hashed files may be cached for a year; the page that names them may not.
  const html = await response.text();
  const script = /data-qrauth-bundle="([^"]+)"/.exec(html)[1];
  const asset = await fetch(new URL(script, baseUrl));
  assert.equal(asset.status, 200);
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
});

test('the page says so when the server cannot be reached, and recovers', async () => {
  const { page, close } = await openPage(browser, { name: 'computer' });
  await page.route('**/api/v1/**', (route) => route.abort('connectionrefused'));
  const signIn = new SignInPage(page);
  await signIn.open();
  await signIn.health.filter({ hasText: 'Server unavailable: the server cannot be reached' }).waitFor();
  await signIn.unavailable.filter({ hasText: 'No code: the server cannot be reached.' }).waitFor();
  await page.unroute('**/api/v1/**');
  await page.getByRole('button', { name: 'Try again' }).click();
  await signIn.waitForState('waiting');
  await close();
});

test('while polling fails the page says it is reconnecting, then carries on', async () => {
  const { page, close } = await openPage(browser, { name: 'computer' });
  // The login is made; every status request fails until the network comes back.
  const failPolls = (route) =>
    route.request().method() === 'GET' ? route.abort('connectionrefused') : route.continue();
  await page.route('**/api/v1/logins/*', failPolls);
  const signIn = new SignInPage(page);
  await signIn.open();
  await signIn.waitForState('reconnecting');
  assert.equal(
    await signIn.status.textContent(),
    'Reconnecting… the server cannot be reached right now.',
  );
  await page.unroute('**/api/v1/logins/*', failPolls);
  // The next attempt comes after a back-off of at most a few seconds.
  await signIn.waitForState('waiting', 10000);
  await close();
});

test('the token page is its own bundle: links, reloads and the back button cross between them', async () => {
  const { page, problems, close } = await openPage(browser, { name: 'computer' });
  const loaded = [];
  page.on('request', (request) => {
    if (request.url().endsWith('.wasm')) loaded.push(new URL(request.url()).pathname);
  });
  const signIn = new SignInPage(page);
  await signIn.open();
  await signIn.waitForState('waiting');
  assert.equal(loaded.length, 1);
  assert.match(loaded[0], /^\/qrauth-sign-in-[0-9a-f]+_bg\.wasm$/, 'the sign-in page loads no token code');

  // "Open the token on this device" is a link into the other bundle, with the sign-in link.
  await signIn.openToken.click();
  await tokenScreen(page).waitFor();
  assert.equal(new URL(page.url()).pathname, '/token');
  assert.match(loaded.at(-1), /^\/qrauth-token-page-[0-9a-f]+_bg\.wasm$/);

  // The masthead's link goes back to the sign-in bundle; back and forward cross again.
  await page.getByRole('link', { name: 'qrauth' }).click();
  await signIn.waitForState('waiting');
  // `commit`: a page the browser keeps in its back-forward cache fires no new `load`.
  await page.goBack({ waitUntil: 'commit' });
  await page.waitForURL((url) => url.pathname === '/token', { waitUntil: 'commit' });
  await tokenScreen(page).waitFor();
  await page.goForward({ waitUntil: 'commit' });
  await page.waitForURL((url) => url.pathname === '/', { waitUntil: 'commit' });
  await signIn.waitForState('waiting');
  await page.reload();
  await signIn.waitForState('waiting');
  // Leaving a document cuts its long-poll short; nothing else may go wrong.
  assert.deepEqual(problems.filter((p) => !p.startsWith('request failed: ')), []);
  await close();
});

/** Whatever the token page shows first: its home, or what it made of a sign-in link. */
const tokenScreen = (page) =>
  page.getByTestId('token-home').or(page.getByTestId('login-request')).or(page.getByTestId('login-refused'));

test('a bundle that does not arrive says so and offers a retry that works', async () => {
  const { page, close } = await openPage(browser, { name: 'computer' });
  // The connection drops while the wasm downloads: only its first bytes arrive.
  let cut = true;
  await page.route('**/*_bg.wasm', async (route) => {
    if (!cut) return route.continue();
    const whole = await route.fetch();
    const body = await whole.body();
    await route.fulfill({ response: whole, body: body.subarray(0, body.length >> 2) });
  });
  const cancelled = page.waitForRequest((r) => r.method() === 'DELETE' && r.url().includes('/api/v1/logins/'));
  await page.goto(new URL('/', baseUrl).href);
  const failed = page.getByTestId('load-failed');
  await failed.waitFor();
  assert.equal(await failed.getAttribute('role'), 'alert');
  assert.match(await failed.textContent(), /The page could not be loaded.*Check it and try again/);
  // The login that the page asked for while it loaded is cancelled: nobody will see its QR.
  await cancelled;
  cut = false;
  await page.getByTestId('load-retry').click();
  await new SignInPage(page).waitForState('waiting');
  await close();
});

test('a bundle altered on the way is refused by its integrity hash, not run', async () => {
  const { page, problems, close } = await openPage(browser, { name: 'computer' });
  // One byte of the wasm changed in transit, as a tampering proxy or a bad cache would: a
  // wasm that still compiles, had the start-up script not checked its hash, would run.
  await page.route('**/*_bg.wasm', async (route) => {
    const whole = await route.fetch();
    const body = Buffer.from(await whole.body());
    body[body.length - 16] ^= 0x01;
    await route.fulfill({ response: whole, body });
  });
  for (const path of ['/', '/token']) {
    await page.goto(new URL(path, baseUrl).href);
    const failed = page.getByTestId('load-failed');
    await failed.waitFor();
    assert.match(await failed.textContent(), /The page could not be loaded/);
  }
  assert.ok(
    problems.some((line) => /integrity/i.test(line)),
    `the browser says why: ${problems.join('\n')}`,
  );
  await close();
});

test('the token page loads its QR reader when a person first scans; one that does not arrive is said so, and the next try loads it', async () => {
  const { page, close } = await openPage(browser, { name: 'computer' });
  const wasm = [];
  page.on('request', (request) => {
    if (request.url().endsWith('.wasm')) wasm.push(new URL(request.url()).pathname);
  });
  const signIn = new SignInPage(page);
  await signIn.open();
  await signIn.waitForState('waiting');
  const picture = await signIn.qr.screenshot();
  const token = new TokenPage(page);
  await token.open();
  await token.home.waitFor();
  assert.ok(!wasm.some((path) => path.startsWith('/qrauth-scan-')), 'no reader before a scan');

  let cut = true;
  await page.route('**/qrauth-scan-*_bg.wasm', (route) => (cut ? route.abort('connectionreset') : route.continue()));
  assert.match(await token.scanPicture(picture), /^The QR reader could not be loaded: the connection may have dropped/);
  cut = false;
  await page.getByTestId('scan-picture').setInputFiles({ name: 'qr.png', mimeType: 'image/png', buffer: picture });
  await page.getByTestId('token-scan-screen').waitFor({ state: 'detached' });
  assert.match(wasm.at(-1), /^\/qrauth-scan-[0-9a-f]{16}_bg\.wasm$/, 'read by the reader loaded on the second try');
  await close();
});
