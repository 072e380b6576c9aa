// The main flows through a real load balancer: haproxy, round-robin with no sticky sessions, in
// front of three `qrauth serve` on one PostgreSQL database (`cargo xtask test e2e` starts them
// and sets QRAUTH_URL to the balancer). Every request of a page or of the token may reach any
// instance, so a login made on one is scanned, approved, long-polled and completed on others.
// One story in order, as in tests/e2e/token.test.mjs: the token activated first is the one the
// later tests use.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  AccountPage,
  ApprovalPage,
  SignInPage,
  TokenPage,
  fetchAsPage,
  launchBrowser,
  openPage,
  test,
  tokenAccount,
} from '../e2e/support.mjs';

const PIN = '1379';
const stats = process.env.QRAUTH_BALANCER_STATS;

let browser;
let phone;
let token;
before(async () => {
  browser = await launchBrowser();
  phone = await openPage(browser, { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true });
  token = new TokenPage(phone.page);
});
after(async () => {
  await browser?.close();
});

/** Requests each instance has answered, from haproxy's statistics (CSV column 7). */
async function servedByEach() {
  const csv = await (await fetch(`${stats};csv`)).text();
  return csv
    .split('\n')
    .map((line) => line.split(','))
    .filter(([proxy, server]) => proxy === 'qrauth' && /^qrauth\d+$/.test(server))
    .map((cells) => Number(cells[7]));
}

async function computer() {
  return openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
}

test('the token activates and signs a page in by QR, whichever instance each request reaches', async () => {
  const before = await servedByEach();
  assert.equal(before.length, 3, 'three instances behind the balancer');

  const account = await computer();
  await new SignInPage(account.page).signInWithPassword(tokenAccount.user, tokenAccount.password);
  const accountPage = new AccountPage(account.page);
  await accountPage.identity.waitFor();
  await token.activateFrom(accountPage, PIN);
  const onPage = account.page.getByTestId('fingerprint');
  await onPage.waitFor({ timeout: 5000 });
  assert.equal((await onPage.textContent()).trim(), (await token.fingerprint.textContent()).trim());
  await token.backHome();
  await account.close();

  const visitor = await computer();
  const signIn = new SignInPage(visitor.page);
  await signIn.open();
  await signIn.waitForState('waiting');
  assert.equal(await token.scanPicture(await signIn.qr.screenshot()), '');
  await token.loginRequest.waitFor();
  await signIn.waitForState('scanned', 3000);
  assert.equal(await phone.page.getByTestId('login-address').textContent(), '127.0.0.1');
  // The number the page shows comes from the instance that answers its poll; the token's
  // approval, checked on another, must match it.
  const number = await signIn.shownNumber();
  const approvedAt = Date.now();
  await token.approveSignIn(number, PIN);
  await token.notice.filter({ hasText: 'Sign-in approved' }).waitFor();
  await new AccountPage(visitor.page)
    .identity.filter({ hasText: `Signed in as ${tokenAccount.user}` })
    .waitFor();
  assert.ok(Date.now() - approvedAt < 3000, 'the page signs in within three seconds of the approval');
  assert.deepEqual(visitor.problems, []);
  await visitor.close();

  const served = (await servedByEach()).map((n, i) => n - before[i]);
  assert.ok(
    served.every((n) => n >= 3),
    `round-robin gives every instance a share of the requests: ${served}`,
  );
});

test('an offline payment: its QR made on one instance, its code checked on another, accepted once', async () => {
  const payer = await computer();
  await new SignInPage(payer.page).signInWithPassword(tokenAccount.user, tokenAccount.password);
  await new AccountPage(payer.page).identity.waitFor();
  const approval = new ApprovalPage(payer.page);
  await approval.open();
  await approval.fillPayment({ payee: 'Zuzana Čermáková', amount: '1250.00', currency: 'CZK' });
  const operation = await approval.continueWithExamplePayment();

  await token.open();
  assert.equal(await token.scanPicture(await payer.page.screenshot()), '');
  await token.review.waitFor();
  assert.equal(await token.scannedText.textContent(), operation.payload);
  await token.approveWithPin(PIN);
  const code = (await token.shownCode()).join(' ');
  await approval.sendCode(code);
  await payer.page.getByTestId('approval-result').filter({ hasText: 'Payment approved.' }).waitFor();
  assert.deepEqual(payer.problems, []);

  // The same code again, three times at once, spread by the balancer: refused by all.
  const path = `/api/v1/operations/${operation.operationId}/verify`;
  const again = await Promise.all([1, 2, 3].map(() => fetchAsPage(payer.page, path, { code })));
  assert.deepEqual(
    again.map((reply) => [reply.status, reply.body.error?.code]),
    Array(3).fill([409, 'operation_already_approved']),
  );
  assert.equal(await token.standing(), 'Active. 5 wrong codes in a row block it.');
  await payer.close();
});
