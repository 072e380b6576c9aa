// The browser token (`/token`) with the pages, as two people would use them: one browser
// context is the computer that shows QR codes, the other the phone that reads them. QR codes
// pass between them only as screenshots, decoded by the token's own decoder. The tests are one
// story in order: the phone activated in the first is the one every later test uses, and the
// last blocks it.
import { before, after } from 'node:test';
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
  clockFace,
  fetchAsPage,
  launchBrowser,
  loginLifetime,
  loginLinkOf,
  openPage,
  pngToY4m,
  pollLogin,
  test,
  tokenAccount,
} from './support.mjs';

const PIN = '2580';

let browser;
let phone;
let token;
before(async () => {
  browser = await launchBrowser();
  phone = await openPage(browser, {
    name: 'phone',
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
  token = new TokenPage(phone.page);
});
after(async () => {
  await browser?.close();
});

/** Signs in with the password on a fresh computer. */
async function signedInComputer() {
  const computer = await openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
  await new SignInPage(computer.page).signInWithPassword(tokenAccount.user, tokenAccount.password);
  await new AccountPage(computer.page).identity.waitFor();
  return computer;
}

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
  const operation = await approval.continueWithExamplePayment();
  const paymentPayload = operation.payload;
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

  const code = groups.join(' ');
  await approval.sendCode(code);
  await computer.page.getByTestId('approval-result').filter({ hasText: 'Payment approved.' }).waitFor();
  assert.deepEqual(computer.problems, []);

  // The same code a second time, for the same payment: a code is accepted once.
  const again = await fetchAsPage(computer.page, `/api/v1/operations/${operation.operationId}/verify`, { code });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'operation_already_approved');
  // And typed for the next payment, as someone who watched it being typed would: it is a wrong
  // code there, and counts as one.
  await computer.page.getByTestId('approve-another').click();
  await approval.continueWithExamplePayment();
  await approval.sendCode(code);
  await approval.codeMessage.filter({ hasText: 'That code is not right. 4 attempts left.' }).waitFor();
  assert.equal(await token.standing(), 'Active. 4 wrong codes in a row block it.');
  await computer.close();
});

test('bad input changes nothing: a forged payment in the token, a garbled code on the page', async () => {
  const computer = await signedInComputer();
  const approval = new ApprovalPage(computer.page);
  await approval.open();
  const operation = await approval.continueWithExamplePayment();
  const before = await token.standing();
  const verifications = [];
  computer.page.on('request', (r) => r.url().endsWith('/verify') && verifications.push(r.url()));

  // The payment's amount changed after the server signed it.
  const forged = operation.payload.replace('*A1250.00EUR*', '*A9250.00EUR*');
  assert.notEqual(forged, operation.payload);
  await token.scanText(forged);
  await token.refusal.filter({ hasText: 'its signature does not verify' }).waitFor();
  assert.equal(await token.code.count(), 0, 'no code for a forged payment');

  // A code with a letter in it, pasted: the page says what is wrong and sends nothing.
  await approval.codeInput.fill('1234-5678-9O12-345');
  assert.equal(await approval.codeStatus.textContent(), '“O” is not a digit and was left out.');
  await approval.codeSubmit.click();
  await approval.codeMessage.filter({ hasText: '“O” is not a digit and was left out.' }).waitFor();
  assert.deepEqual(verifications, [], 'nothing reached the server');
  assert.equal(await token.standing(), before, 'no attempt was counted');

  // The payment itself is untouched: its real QR still gets a code that approves it.
  assert.equal(await token.scanPicture(await approval.qr.screenshot()), '');
  await token.review.waitFor();
  await token.approveWithPin(PIN);
  await approval.sendCode((await token.shownCode()).join(''));
  await computer.page.getByTestId('approval-result').filter({ hasText: 'Payment approved.' }).waitFor();
  assert.equal(await token.standing(), 'Active. 5 wrong codes in a row block it.', 'a right code resets the count');
  assert.deepEqual(computer.problems, []);
  await computer.close();
});

test('a sign-in QR read by the token shows who asks; a wrong PIN is refused, the right one signs the page in', async () => {
  const computer = await openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
  const signIn = new SignInPage(computer.page);
  await signIn.open();
  await signIn.waitForState('waiting');

  assert.equal(await token.scanPicture(await signIn.qr.screenshot()), '');
  await token.loginRequest.waitFor();
  await signIn.waitForState('scanned', 3000);
  assert.match(await phone.page.getByTestId('login-browser').textContent(), /^Chrome \d+ on Linux$/);
  assert.equal(await phone.page.getByTestId('login-address').textContent(), '127.0.0.1');
  assert.notEqual((await phone.page.getByTestId('login-service').textContent()).trim(), '');

  // Number matching: the page shows two digits, and says to type them on the phone.
  const number = await signIn.shownNumber();
  assert.match(number, /^\d\d$/);
  assert.equal(await signIn.status.textContent(), `Check your phone: type ${number} there, then approve.`);
  await token.approveSignIn(number, '0000');
  await token.loginProblem.filter({ hasText: 'Wrong PIN' }).waitFor();
  assert.equal(new URL(computer.page.url()).pathname, '/', 'a wrong PIN signs nobody in');

  const approvedAt = Date.now();
  await token.approveSignIn(number, PIN);
  await token.notice.filter({ hasText: 'Sign-in approved' }).waitFor();
  await new AccountPage(computer.page).identity.filter({ hasText: `Signed in as ${tokenAccount.user}` }).waitFor();
  assert.ok(Date.now() - approvedAt < 3000, 'the page signs in within three seconds of the approval');
  await computer.close();
});

test('a sign-in code left to expire is renewed by the page; the late scan is refused, the new code signs in', async () => {
  const computer = await openPage(browser, { name: 'computer' });
  const signIn = new SignInPage(computer.page);
  const first = await signIn.openLogin();
  assert.ok(first.expiresInMs <= loginLifetime * 1000);
  const late = await signIn.qr.screenshot();

  // Nobody scans: the login expires on the server and the page shows a new code by itself.
  const second = await signIn.nextLogin((loginLifetime + 10) * 1000);
  assert.notEqual(second.loginId, first.loginId);
  await signIn.waitForState('waiting');
  assert.equal(loginLinkOf(await signIn.openToken.getAttribute('href')), loginLinkOf(second.qrText));
  const counting = [loginLifetime, loginLifetime - 1, loginLifetime - 2].map((s) => `Expires in ${clockFace(s)}`);
  assert.ok(counting.includes(await signIn.countdown.textContent()), 'the countdown starts again');

  // The expired login, polled as its page would: expired, and nothing else can happen to it.
  const expired = await pollLogin(first);
  assert.equal(expired.status, 200);
  assert.equal(expired.state, 'EXPIRED');
  assert.equal(await token.scanPicture(late), '');
  await token.loginProblem.filter({ hasText: 'This sign-in code has expired: the page shows a new one.' }).waitFor();
  assert.equal((await pollLogin(first)).state, 'EXPIRED', 'the late scan changed nothing');
  assert.equal((await pollLogin(second)).state, 'PENDING', 'nor the new login');
  await token.backHome();

  assert.equal(await token.scanPicture(await signIn.qr.screenshot()), '');
  await token.loginRequest.waitFor();
  const number = await signIn.shownNumber();
  const approvedAt = Date.now();
  await token.approveSignIn(number, PIN);
  await new AccountPage(computer.page).identity.filter({ hasText: `Signed in as ${tokenAccount.user}` }).waitFor();
  assert.ok(Date.now() - approvedAt < 3000, 'the page signs in within three seconds of the approval');
  assert.deepEqual(computer.problems, []);
  await computer.close();
});

test('a screenshot of the sign-in QR taken 10 s earlier is refused and says why; the QR on the screen works', async () => {
  const computer = await openPage(browser, { name: 'computer' });
  const signIn = new SignInPage(computer.page);
  const login = await signIn.openLogin();
  const screenshot = await signIn.qr.screenshot();
  await computer.page.waitForTimeout(10_000);

  // What a victim sent "scan to verify your account" would scan: refused, the login untouched.
  assert.equal(await token.scanPicture(screenshot), '');
  await token.loginProblem
    .filter({ hasText: 'This code is from a picture or a screenshot: scan the code on the screen itself.' })
    .waitFor();
  assert.equal((await pollLogin(login)).state, 'PENDING', 'the refused scan changed nothing');
  assert.equal(await signIn.status.getAttribute('data-state'), 'waiting');
  await token.backHome();

  assert.equal(await token.scanPicture(await signIn.qr.screenshot()), '');
  await token.loginRequest.waitFor();
  await signIn.waitForState('scanned', 3000);
  await phone.page.getByTestId('deny').click();
  await signIn.waitForState('denied', 3000);
  assert.deepEqual(computer.problems, []);
  await computer.close();
});

test('a number typed wrong on the token denies the sign-in, and the token and the page both say why', async () => {
  const computer = await openPage(browser, { name: 'computer' });
  const signIn = new SignInPage(computer.page);
  const login = await signIn.openLogin();
  assert.equal(await token.scanPicture(await signIn.qr.screenshot()), '');
  await token.loginRequest.waitFor();
  const number = await signIn.shownNumber();

  // Two digits are asked for before anything is sent.
  await token.approveSignIn('4', PIN);
  await token.loginProblem.filter({ hasText: 'Type the two digits the sign-in page shows, then approve.' }).waitFor();
  assert.equal((await pollLogin(login)).state, 'SCANNED');

  await token.approveSignIn(number === '42' ? '43' : '42', PIN);
  await token.notice
    .filter({ hasText: 'Sign-in refused: the number you typed is not the one on the sign-in page.' })
    .waitFor();
  await signIn.waitForState('denied', 3000);
  assert.equal(
    await signIn.status.textContent(),
    'The number typed on the phone was not the one shown here, so the sign-in was refused.',
  );
  const denied = await pollLogin(login);
  assert.deepEqual([denied.state, denied.denial], ['DENIED', 'wrong_number']);
  assert.equal(new URL(computer.page.url()).pathname, '/', 'nobody was signed in');
  assert.deepEqual(computer.problems, []);
  await computer.close();
});

test('denying from a #scan= link ends the login; what is not for the token is refused with its reason', async () => {
  const computer = await openPage(browser, { name: 'computer' });
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

test('offline sign-in by user name: the token reads the login QR and its code signs the page in', async () => {
  const computer = await openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
  const signIn = new SignInPage(computer.page);
  await signIn.startOfflineLogin(tokenAccount.user);

  assert.equal(await token.scanPicture(await signIn.qr.screenshot()), '');
  await token.review.waitFor();
  assert.equal(await phone.page.getByTestId('operation-title').textContent(), 'Sign in');
  assert.match(
    await phone.page.getByTestId('operation-message').textContent(),
    new RegExp(`^Sign in to .+ as ${tokenAccount.user}$`),
  );
  await token.approveWithPin(PIN);
  const groups = await token.shownCode();
  // Typed as people copy a code they read: in two halves of eight, with a dash.
  await signIn.sendCode(`${groups[0]}${groups[1]}-${groups[2]}${groups[3]}`);
  await new AccountPage(computer.page).identity.filter({ hasText: `Signed in as ${tokenAccount.user}` }).waitFor();
  assert.deepEqual(computer.problems, []);
  await token.backHome();
  await computer.close();
});

test('the camera reads a sign-in QR from a live picture and goes to that login', async () => {
  const computer = await openPage(browser, { name: 'computer' });
  const signIn = new SignInPage(computer.page);
  await signIn.open();
  await signIn.waitForState('waiting');

  // Chromium's fake camera plays this file: the sign-in page's QR held in front of the lens,
  // written when the camera opens, since a frame of the QR is good for a few seconds only.
  const dir = mkdtempSync(join(tmpdir(), 'qrauth-camera-'));
  const video = join(dir, 'qr.y4m');
  writeFileSync(video, pngToY4m(blankPng(200, 200)));
  const withCamera = await launchBrowser([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`,
  ]);
  try {
    const cameraPhone = await openPage(withCamera, { name: 'camera-phone', permissions: ['camera'] });
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
    writeFileSync(video, pngToY4m(await signIn.qr.screenshot()));
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


test('five wrong codes block the token, and the approval page and the token both say so', async () => {
  assert.equal(await token.standing(), 'Active. 5 wrong codes in a row block it.');
  const computer = await signedInComputer();
  const approval = new ApprovalPage(computer.page);
  await approval.open();
  const operation = await approval.continueWithExamplePayment();
  assert.equal(await token.scanPicture(await approval.qr.screenshot()), '');
  await token.approveWithPin(PIN);
  const right = (await token.shownCode()).join('');
  // The right code with its last digit mistyped, five times.
  const mistyped = right.slice(0, -1) + ((Number(right.at(-1)) + 1) % 10);
  const said = [];
  for (let i = 0; i < 5; i++) {
    await approval.sendCode(mistyped);
    said.push(await approval.codeMessage.textContent());
  }
  assert.deepEqual(said, [
    'That code is not right. 4 attempts left.',
    'That code is not right. 3 attempts left.',
    'That code is not right. 2 attempts left.',
    'That code is not right. 1 attempt left before your token is blocked.',
    'Too many wrong codes: your token is blocked. Activate a new token, or ask for this one to be unblocked.',
  ]);
  assert.ok(await approval.codeInput.isDisabled(), 'the page takes no more codes');
  assert.ok(await approval.codeSubmit.isDisabled());

  // Even the right code is refused now.
  const answer = await fetchAsPage(computer.page, `/api/v1/operations/${operation.operationId}/verify`, { code: right });
  assert.equal(answer.status, 200);
  assert.equal(answer.body.valid, false);
  assert.equal(answer.body.activationStatus, 'BLOCKED');
  assert.equal(
    await token.standing(),
    'Blocked after too many wrong codes: remove it and activate again.',
  );
  await computer.close();
});
