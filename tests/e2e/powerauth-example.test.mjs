// examples/powerauth-web, an intermediate application written only against PowerAuth Server's
// REST methods, run unchanged against `qrauth serve --powerauth-clients`: a person with two
// browser tokens approves a payment on the bank's page with either, choosing which by its
// name. The bank's page and the tokens pass QR codes only as screenshots.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import {
  AccountPage,
  SignInPage,
  TokenPage,
  baseUrl,
  launchBrowser,
  openPage,
  powerAuthAccount,
  test,
} from './support.mjs';

const PIN = '4862';
const WRONG_PIN = '4863';

let browser;
let example;
before(async () => {
  browser = await launchBrowser();
  example = await startExample();
});
after(async () => {
  example?.stop();
  await browser?.close();
});

/** Starts the example on a free port, against this server's PowerAuth methods. */
async function startExample() {
  const child = spawn(process.execPath, ['server.mjs'], {
    cwd: fileURLToPath(new URL('../../examples/powerauth-web/', import.meta.url)),
    env: {
      ...process.env,
      POWERAUTH_URL: new URL('/powerauth', baseUrl).href,
      POWERAUTH_CLIENT: powerAuthAccount.client,
      PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let printed = '';
    child.stdout.on('data', (chunk) => {
      printed += chunk;
      const listening = /listening on (\S+)/.exec(printed);
      if (listening) resolve(listening[1]);
    });
    child.on('exit', (code) => reject(new Error(`the example exited with ${code}: ${printed}`)));
  });
  return { url, stop: () => child.kill() };
}

/** A phone (or a laptop) with a browser token of its own, activated as `deviceName`. */
async function deviceWithToken(deviceName) {
  const device = await openPage(browser, { name: deviceName, viewport: { width: 390, height: 844 } });
  const computer = await openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
  await new SignInPage(computer.page).signInWithPassword(powerAuthAccount.user, powerAuthAccount.password);
  const accountPage = new AccountPage(computer.page);
  await accountPage.identity.waitFor();
  const token = new TokenPage(device.page);
  await token.activateFrom(accountPage, PIN, deviceName);
  await computer.close();
  return token;
}

/** The bank's page: a new payment of 1250.00 CZK from the person. */
async function newPayment(bank) {
  await bank.goto(example.url);
  await bank.getByTestId('user').fill(powerAuthAccount.user);
  await bank.getByTestId('note').fill('Nájem * prosinec');
  await bank.getByTestId('pay').click();
}

/** `token` reads the bank page's QR, shows the payment, and gives its code for `pin`. */
async function codeFrom(token, bank, pin) {
  await token.open();
  const problem = await token.scanPicture(await bank.getByTestId('qr').screenshot());
  assert.equal(problem, '');
  await token.review.waitFor();
  assert.equal(await token.page.getByTestId('detail-amount').textContent(), '1250.00 CZK');
  assert.equal(await token.page.getByTestId('detail-note').textContent(), 'Nájem * prosinec');
  await token.approveWithPin(pin);
  return (await token.shownCode()).join('-');
}

async function confirm(bank, code) {
  await bank.getByTestId('code').fill(code);
  await bank.getByTestId('confirm').click();
}

test('a payment on a bank page written for PowerAuth is approved with either of two browser tokens', async () => {
  const phone = await deviceWithToken('Phone');
  const laptop = await deviceWithToken('Laptop');
  const { page: bank, problems } = await openPage(browser, { name: 'bank', viewport: { width: 1280, height: 900 } });

  // Two tokens: the bank asks which, by name, newest first.
  await newPayment(bank);
  const choices = bank.getByTestId('token-choice');
  await choices.first().waitFor();
  assert.equal(await choices.count(), 2);
  const labels = await bank.locator('label:has([data-testid="token-choice"])').allTextContents();
  assert.match(labels[0], /Laptop, activated \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  assert.match(labels[1], /Phone, activated/);

  // The older token, the phone: its code approves.
  await bank.getByLabel(/Phone/).check();
  await bank.getByTestId('use-token').click();
  await bank.getByTestId('qr').waitFor();
  await confirm(bank, await codeFrom(phone, bank, PIN));
  await bank.getByTestId('result').filter({ hasText: 'Payment approved.' }).waitFor();

  // The newer one, the laptop: a wrong PIN is a wrong code there, counted against the laptop;
  // its right code then approves.
  await newPayment(bank);
  await bank.getByLabel(/Laptop/).check();
  await bank.getByTestId('use-token').click();
  await bank.getByTestId('qr').waitFor();
  await confirm(bank, await codeFrom(laptop, bank, WRONG_PIN));
  await bank.getByTestId('problem').filter({ hasText: 'That code is not right. 4 attempts left.' }).waitFor();
  assert.equal(await laptop.standing(), 'Active. 4 wrong codes in a row block it.');
  assert.equal(await phone.standing(), 'Active. 5 wrong codes in a row block it.');
  await confirm(bank, await codeFrom(laptop, bank, PIN));
  await bank.getByTestId('result').filter({ hasText: 'Payment approved.' }).waitFor();
  assert.deepEqual(problems, []);
});
