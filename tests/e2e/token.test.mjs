// The browser token (`/token`) with the pages, as two people would use them: one browser
// context is the computer that shows QR codes, the other the phone that reads them. QR codes
// pass between them only as screenshots, decoded by the token's own decoder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  AccountPage,
  ApprovalPage,
  SignInPage,
  TokenPage,
  blankPng,
  pngToY4m,
  launchBrowser,
  openPage,
  tokenAccount,
} from './support.mjs';

const PIN = '2580';

let browser;
let phone;
let token;
before(async () => {
  browser = await launchBrowser();
  phone = await openPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  token = new TokenPage(phone.page);
});
after(async () => {
  await browser?.close();
});

/** Signs in with the password on a fresh computer. */
async function signedInComputer() {
  const computer = await openPage(browser, { viewport: { width: 1280, height: 900 } });
  await new SignInPage(computer.page).signInWithPassword(tokenAccount.user, tokenAccount.password);
  await new AccountPage(computer.page).identity.waitFor();
  return computer;
}

/** The payment payload of the approval page, as the server sent it. */
let paymentPayload;

test('the token activates from a picture of the activation QR, and both show one fingerprint', async () => {
  const computer = await signedInComputer();
  const accountPage = new AccountPage(computer.page);
  await accountPage.activate.click();
  await accountPage.qr.waitFor();

  await token.open();
  await phone.page.getByTestId('no-activations').waitFor();
  assert.equal(await token.scanPicture(await accountPage.qr.screenshot()), '');
  await phone.page.getByTestId('activation-scanned').waitFor();

  await token.activateWithPin(PIN, '2581');
  await phone.page.getByTestId('activate-problem').filter({ hasText: 'The two PINs differ' }).waitFor();
  await token.activateWithPin('12');
  await phone.page.getByTestId('activate-problem').filter({ hasText: 'this one has 2' }).waitFor();
  await token.activateWithPin(PIN);

  await token.fingerprint.waitFor();
  const onToken = (await token.fingerprint.textContent()).trim();
  assert.match(onToken, /^\d{4} \d{4}$/);
  const onPage = computer.page.getByTestId('fingerprint');
  await onPage.waitFor({ timeout: 5000 });
  assert.equal((await onPage.textContent()).trim(), onToken);

  await token.backHome();
  await token.activations.first().waitFor();
  assert.equal(await token.activations.count(), 1);
  assert.equal(await phone.page.getByTestId('activation-user').textContent(), tokenAccount.user);
  assert.equal(await phone.page.getByTestId('activation-fingerprint').textContent(), onToken);
  await phone.page.getByTestId('activation-state').filter({ hasText: 'Active.' }).waitFor();
  assert.deepEqual(computer.problems, []);
  await computer.close();
});

test('a payment read from a screenshot of the approval page is shown as written, byte for byte, and its code approves it', async () => {
  const computer = await signedInComputer();
  const approval = new ApprovalPage(computer.page);
  await approval.open();
  const payee = 'Zuzana Čermáková';
  const note = 'Nájem * prosinec \\ byt 4';
  await approval.fillPayment({ payee, note, amount: '1250.00', currency: 'EUR' });
  const created = computer.page.waitForResponse(
    (r) => r.url().endsWith('/api/v1/operations') && r.request().method() === 'POST',
  );
  await approval.continueWithExamplePayment();
  paymentPayload = (await (await created).json()).payload;
  assert.ok(paymentPayload.includes('\\*') && paymentPayload.includes('\\\\'), 'the note is escaped in the payload');

  // The whole window, as a person would photograph or screenshot it.
  assert.equal(await token.scanPicture(await computer.page.screenshot()), '');
  await token.review.waitFor();
  assert.equal(await token.scannedText.textContent(), paymentPayload, 'decoded byte for byte');
  assert.equal(await phone.page.getByTestId('operation-title').textContent(), `Payment to ${payee}`);
  assert.equal(await phone.page.getByTestId('detail-amount').textContent(), '1250.00 EUR');
  assert.equal(await phone.page.getByTestId('detail-account').textContent(), 'CZ65 0800 0000 1920 0014 5399');
  assert.equal(await phone.page.getByTestId('detail-note').textContent(), note);
  assert.match(await phone.page.getByTestId('detail-date').textContent(), /^\d{4}-\d{2}-\d{2}$/);

  await token.approveWithPin(PIN);
  const groups = await token.shownCode();
  assert.equal(groups.length, 4);
  groups.forEach((group) => assert.match(group, /^\d{4}$/));

  await approval.typeCode(groups.join(' '));
  await approval.codeSubmit.click();
  await computer.page.getByTestId('approval-result').filter({ hasText: 'Payment approved.' }).waitFor();

  await token.backHome();
  assert.deepEqual(computer.problems, []);
  await computer.close();
});

test('a sign-in QR read by the token shows who asks; a wrong PIN is refused, the right one signs the page in', async () => {
  const computer = await openPage(browser, { viewport: { width: 1280, height: 900 } });
  const signIn = new SignInPage(computer.page);
  await signIn.open();
  await signIn.waitForState('waiting');

  assert.equal(await token.scanPicture(await signIn.qr.screenshot()), '');
  await token.loginRequest.waitFor();
  await signIn.waitForState('scanned', 3000);
  assert.match(await phone.page.getByTestId('login-browser').textContent(), /^Chrome \d+ on Linux$/);
  assert.equal(await phone.page.getByTestId('login-address').textContent(), '127.0.0.1');
  assert.notEqual((await phone.page.getByTestId('login-service').textContent()).trim(), '');

  await token.approveWithPin('0000');
  await token.loginProblem.filter({ hasText: 'Wrong PIN' }).waitFor();
  assert.equal(new URL(computer.page.url()).pathname, '/', 'a wrong PIN signs nobody in');

  const approvedAt = Date.now();
  await token.approveWithPin(PIN);
  await token.notice.filter({ hasText: 'Sign-in approved' }).waitFor();
  await new AccountPage(computer.page).identity.filter({ hasText: `Signed in as ${tokenAccount.user}` }).waitFor();
  assert.ok(Date.now() - approvedAt < 3000, 'the page signs in within three seconds of the approval');
  await computer.close();
});

test('denying from a #scan= link ends the login; what is not for the token is refused with its reason', async () => {
  const computer = await openPage(browser);
  const signIn = new SignInPage(computer.page);
  await signIn.open();
  await signIn.waitForState('waiting');
  const link = await signIn.openToken.getAttribute('href');

  await phone.page.goto(link);
  await token.loginRequest.waitFor();
  assert.equal(new URL(phone.page.url()).hash, '', 'the scan code leaves the address bar');
  await phone.page.getByTestId('deny').click();
  await token.notice.filter({ hasText: 'Sign-in denied' }).waitFor();
  await signIn.waitForState('denied', 3000);

  // The same link again: that login is over.
  await phone.page.goto(link);
  await phone.page.getByTestId('login-refused').waitFor();
  assert.notEqual((await token.loginProblem.textContent()).trim(), '');
  await token.backHome();

  // A payment whose amount was changed after signing.
  assert.ok(paymentPayload, 'the payment test ran first');
  const forged = paymentPayload.replace('*A1250.00EUR*', '*A9250.00EUR*');
  assert.notEqual(forged, paymentPayload);
  await token.scanText(forged);
  await token.refusal.filter({ hasText: 'its signature does not verify' }).waitFor();
  assert.equal(await token.code.count(), 0, 'no code for a forged payment');
  await token.backHome();

  await token.scanText('https://example.com/not-a-qrauth-link');
  await token.scanProblem.filter({ hasText: 'This is not a qrauth code' }).waitFor();
  await token.backHome();

  assert.match(await token.scanPicture(blankPng(200, 200), 'blank.png'), /^No QR code was found/);
  await token.page.getByTestId('scan-picture').setInputFiles({
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('not a picture'),
  });
  await token.scanProblem.filter({ hasText: 'not a picture the browser can open' }).waitFor();
  await token.backHome();
  await computer.close();
});

test('the camera reads a sign-in QR from a live picture and goes to that login', async () => {
  const computer = await openPage(browser);
  const signIn = new SignInPage(computer.page);
  await signIn.open();
  await signIn.waitForState('waiting');

  // Chromium's fake camera plays this file: the sign-in page's QR held in front of the lens.
  const dir = mkdtempSync(join(tmpdir(), 'qrauth-camera-'));
  const video = join(dir, 'qr.y4m');
  writeFileSync(video, pngToY4m(await signIn.qr.screenshot()));
  const withCamera = await launchBrowser([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`,
  ]);
  try {
    const cameraPhone = await openPage(withCamera, { permissions: ['camera'] });
    // Keeps every camera stream the page opens, to see afterwards that it was stopped.
    await cameraPhone.page.addInitScript(() => {
      const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      window.cameraStreams = [];
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        const stream = await open(constraints);
        window.cameraStreams.push(stream);
        return stream;
      };
    });
    const cameraToken = new TokenPage(cameraPhone.page);
    await cameraToken.open();
    await cameraPhone.page.getByTestId('token-scan').click();
    await cameraPhone.page.getByTestId('scan-camera').click();
    await cameraPhone.page.getByTestId('camera-view').waitFor();
    await cameraToken.loginRequest.waitFor({ timeout: 10000 });
    await signIn.waitForState('scanned', 3000);
    const tracks = await cameraPhone.page.evaluate(() =>
      window.cameraStreams.flatMap((stream) => stream.getTracks().map((track) => track.readyState)),
    );
    assert.deepEqual(tracks, ['ended'], 'one camera opened, and released once the code was read');
    await cameraPhone.page.getByTestId('deny').click();
    await signIn.waitForState('denied', 3000);
    assert.deepEqual(cameraPhone.problems, []);
  } finally {
    await withCamera.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await computer.close();
});
