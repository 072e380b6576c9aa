// The main flows through a real load balancer: haproxy, round-robin with no sticky sessions, in
// front of three `qrauth serve` on one PostgreSQL database (`cargo xtask test e2e` starts them
// and sets QRAUTH_URL to the balancer), which check the proximity of offline codes (spec §4.6)
// with a TOTP step of QRAUTH_PROXIMITY_STEP seconds. Every request of a page or of the token may reach any
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
const proximityStep = Number(process.env.QRAUTH_PROXIMITY_STEP) * 1000;

/** The lines of an offline payload before its TOTP: what the operation is. */
const dataOf = (payload) => payload.split('\n').slice(0, 5).join('\n');
const totpOf = (payload) => payload.split('\n')[5];

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
  // The QR of the step it was read in: the operation's lines, then the step's TOTP.
  const scanned = await token.scannedText.textContent();
  assert.equal(dataOf(scanned), dataOf(operation.payload));
  assert.match(totpOf(scanned), /^\d{8}$/);
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

test('with the proximity check, a code made from a QR two steps old is refused; the QR the page shows now approves', async () => {
  const payer = await computer();
  await new SignInPage(payer.page).signInWithPassword(tokenAccount.user, tokenAccount.password);
  await new AccountPage(payer.page).identity.waitFor();
  const approval = new ApprovalPage(payer.page);
  await approval.open();
  await approval.fillPayment({ payee: 'Jan Novák', amount: '99.00', currency: 'EUR' });
  const operation = await approval.continueWithExamplePayment();
  assert.ok(operation.payloadChangesInMs > 0 && operation.payloadChangesInMs <= proximityStep);

  // A picture of the QR, read by the token and turned into a code; typed two steps later.
  const picture = await payer.page.screenshot();
  await token.open();
  assert.equal(await token.scanPicture(picture), '');
  await token.review.waitFor();
  const old = await token.scannedText.textContent();
  await token.approveWithPin(PIN);
  const late = (await token.shownCode()).join(' ');
  await token.backHome();
  await payer.page.waitForTimeout(2 * proximityStep + 500);
  await approval.sendCode(late);
  await approval.codeMessage.filter({ hasText: 'That code is not right. 4 attempts left.' }).waitFor();

  // The page has drawn the QR of each step since: read now, its code approves.
  await token.open();
  assert.equal(await token.scanPicture(await payer.page.screenshot()), '');
  await token.review.waitFor();
  const now = await token.scannedText.textContent();
  assert.equal(dataOf(now), dataOf(old));
  assert.notEqual(totpOf(now), totpOf(old), 'a later step');
  await token.approveWithPin(PIN);
  await approval.sendCode((await token.shownCode()).join(' '));
  await payer.page.getByTestId('approval-result').filter({ hasText: 'Payment approved.' }).waitFor();
  assert.deepEqual(payer.problems, []);
  await token.backHome();
  await payer.close();
});
