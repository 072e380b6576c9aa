// web/examples/react (Vite + React + TypeScript) as a developer gets it: the packed package and
// the example's dependencies installed by npm, type-checked and built by `npm run build`, the
// build served with the CSP qrauth sends and /api/ passed to the real `qrauth serve`. Driven in
// Chromium: a QR sign-in approved by a token, and the example's own browser token approving
// another page's sign-in from its `#scan=` link.
import 'fake-indexeddb/auto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { SoftwareToken } from 'qrauth-token';
import { startLogin } from 'qrauth-token/sign-in';

import { account, server as api, signedIn } from './support/account.mjs';
import { launchBrowser } from './support/browser.mjs';
import { installedExample } from './support/packed.mjs';
import { serveSite } from './support/site.mjs';

const person = account('REACT');
let example;
let site;
let browser;

before(async () => {
  example = installedExample('react');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: example.dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const csp = (await fetch(`${api}/api/v1/health`)).headers.get('content-security-policy');
  site = await serveSite(join(example.dir, 'dist'), { headers: { 'content-security-policy': csp }, api, app: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await site?.close();
  example?.remove();
});

/** A new activation code of the example's user, from the account page's API. */
async function activationCode() {
  const offer = await (await signedIn(person))('/activations');
  assert.equal(offer.status, 201);
  return offer.body.activationQr;
}

async function visit(path) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  const wasm = [];
  page.on('request', (r) => r.url().endsWith('.wasm') && wasm.push(new URL(r.url()).pathname));
  await page.goto(site.origin + path);
  return { context, page, problems, wasm };
}

test('the React sign-in page shows the QR and its countdown, and signs in once a token approves', async () => {
  const token = await SoftwareToken.open({ server: api, database: `react-${process.pid}` });
  const { activationId } = await token.activate({ code: await activationCode(), pin: '1357', pinAgain: '1357' });
  const { context, page, problems, wasm } = await visit('/');
  await page.getByRole('img', { name: "QR code to sign in: scan it with your phone's camera" }).waitFor();
  assert.match(await page.getByRole('timer').textContent(), /^Expires in 0:0[1-5]$/);
  assert.equal(await page.getByRole('status').textContent(), "Scan the code with your phone's camera.");
  let request;
  for (let tries = 0; !request; tries++) {
    const link = await page.getByRole('link', { name: 'Open the token on this device' }).getAttribute('href');
    assert.ok(link.startsWith(`${site.origin}/token#scan=`), link);
    request = await token.attachLogin(link).catch((e) => (tries < 3 ? null : Promise.reject(e)));
  }
  const scanned = page.getByRole('status').filter({ hasText: /^Check your phone: type \d\d there, then approve\.$/ });
  await scanned.waitFor();
  const number = (await scanned.textContent()).match(/\d\d/)[0];
  await token.approveLogin(activationId, request, '1357', number);
  await page.getByRole('status').filter({ hasText: `Signed in as ${person.user}.` }).waitFor();
  assert.equal(wasm.length, 1, `the sign-in page loads only the sign-in entry's wasm: ${wasm}`);
  assert.match(wasm[0], /qrauth_token_sign_in_bg/);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the React token page activates, then approves another page's sign-in opened from its #scan= link", async () => {
  const { context, page, problems } = await visit('/token');
  await page.getByLabel('Activation code').fill(await activationCode());
  await page.getByLabel('New PIN').fill('2468');
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.getByRole('status').filter({ hasText: 'This browser is now your token.' }).waitFor();

  // Another page's login, made through the same site: its link opens this token page. Logins
  // live 5 s here; one that expired on the way is renewed, and its new link opened.
  const login = await startLogin({ server: site.origin, renewals: 5 });
  const approved = new Promise((resolve) => login.on('state', (state) => state === 'APPROVED' && resolve()));
  const status = page.getByRole('status');
  for (let tries = 0; ; tries++) {
    await page.goto(login.qrText);
    await page.getByText(/^Sign in to .+ from .+\(.+\)\?$/).or(status.filter({ hasText: /expired/i })).waitFor();
    assert.ok(!page.url().includes('#scan='), 'the link is taken out of the address');
    if (await page.getByRole('button', { name: 'Approve' }).isVisible()) {
      // The number the other page shows once scanned, as its login tells it.
      for (let waited = 0; login.state === 'PENDING' && waited < 5_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      await page.getByLabel('Number on the sign-in page').fill(login.number ?? '');
      await page.getByLabel('PIN', { exact: true }).fill('2468');
      await page.getByRole('button', { name: 'Approve' }).click();
      await status.filter({ hasText: /Approved: the page signs you in\.|expired/i }).waitFor();
      if (/Approved/.test(await status.textContent())) break;
    }
    assert.ok(tries < 3, `still expired after ${tries} tries: ${await status.textContent()}`);
  }
  await approved;
  assert.equal((await login.complete()).user, person.user);
  assert.deepEqual(problems, []);
  await context.close();
});
