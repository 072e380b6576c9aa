// Shared by the end-to-end tests: Debian's Chromium driven by playwright-core (from web/'s
// packages), page objects that find things by data-testid, and the evidence a failed test
// leaves behind.
import { test as nodeTest } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchProfile } from '../../web/test/support/browser.mjs';

import { blankPng, decodePng, pngToY4m } from '../../web/test/support/qr.mjs';

export { blankPng, decodePng, pngToY4m };
export { launchBrowser } from '../../web/test/support/browser.mjs';

/** The server under test, started by `cargo xtask test` on a free port. */
export const baseUrl = process.env.QRAUTH_URL;
if (!baseUrl) {
  throw new Error('QRAUTH_URL is not set: run the end-to-end tests with `cargo xtask test e2e`');
}

/** How long a login lives on the server under test, in seconds. */
export const loginLifetime = Number(process.env.QRAUTH_LOGIN_LIFETIME ?? 120);

/** Browser contexts open now, each with its log, for the evidence of a failed test. */
const openContexts = new Set();

/**
 * Opens a page in a context of its own (`name` says whose: "computer", "phone") that records
 * everything its console says, its page errors and its failed requests. `problems` keeps the
 * errors among them, so a test can insist that a page loaded cleanly; the whole log is kept
 * if the test fails.
 */
export async function openPage(browser, { name = 'page', ...options } = {}) {
  const context = await browser.newContext(options);
  return watch(name, await context.newPage(), () => context.close());
}

/**
 * Like `openPage`, but the page is a browser of its own with a profile on disk, which is where
 * a phone keeps its token: with `diskMegabytes` on a tmpfs that size (so its storage can
 * really fill up), with `blockSiteData` with Chromium's setting "Don't allow sites to save
 * data" (so IndexedDB refuses to open). `page.context()` opens more tabs of the same browser.
 */
export async function openProfile({ name = 'page', diskMegabytes, blockSiteData = false, ...options }) {
  const dir = mkdtempSync(join(tmpdir(), 'qrauth-profile-'));
  if (blockSiteData) {
    mkdirSync(join(dir, 'Default'));
    const preferences = { profile: { default_content_setting_values: { cookies: 2 } } };
    writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify(preferences));
  }
  const context = await launchProfile(dir, {
    ...options,
    ...(diskMegabytes && {
      launcher: fileURLToPath(new URL('./small-disk-chromium.sh', import.meta.url)),
      env: { QRAUTH_SMALL_DISK: dir, QRAUTH_SMALL_DISK_MB: String(diskMegabytes) },
    }),
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return watch(name, page, async () => {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

/** Records what `page` logs; `close` ends its context. */
function watch(name, page, closeContext) {
  const problems = [];
  const log = [];
  const note = (line) => log.push(`${new Date().toISOString()} ${line}`);
  const problem = (line) => {
    problems.push(line);
    note(line);
  };
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    note(`console.${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problem(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problem(`request failed: ${request.url()}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problem(`HTTP ${response.status()}: ${response.url()}`);
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) note(`navigated to ${frame.url()}`);
  });
  const entry = { name, page, log, closeContext };
  openContexts.add(entry);
  const close = async () => {
    openContexts.delete(entry);
    await closeContext();
  };
  return { page, problems, close };
}

/**
 * `node:test`'s `test`, which, when the test fails, keeps a full-page screenshot and the log of
 * every open browser context in `$QRAUTH_E2E_EVIDENCE/<test name>/`, then closes the contexts
 * the test opened, so the next test starts clean.
 */
export function test(name, body) {
  return nodeTest(name, async (t) => {
    const before = new Set(openContexts);
    try {
      await body(t);
    } catch (error) {
      await keepEvidence(name);
      for (const entry of openContexts) {
        if (!before.has(entry)) {
          openContexts.delete(entry);
          await entry.closeContext().catch(() => {});
        }
      }
      throw error;
    }
  });
}

async function keepEvidence(testName) {
  const root = process.env.QRAUTH_E2E_EVIDENCE;
  if (!root) return;
  const dir = join(root, testName.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 80));
  mkdirSync(dir, { recursive: true });
  const taken = new Map();
  for (const { name, page, log } of openContexts) {
    const n = (taken.get(name) ?? 0) + 1;
    taken.set(name, n);
    const file = join(dir, n === 1 ? name : `${name}-${n}`);
    let screenshot = 'screenshot kept';
    try {
      await page.screenshot({ path: `${file}.png`, fullPage: true, timeout: 5000 });
    } catch (error) {
      screenshot = `no screenshot: ${error.message}`;
    }
    writeFileSync(`${file}.log`, [`page: ${page.url()}`, screenshot, ...log, ''].join('\n'));
  }
  console.error(`evidence of "${testName}" kept in ${dir}`);
}

/** `1:05`, as the countdowns show time left. */
/** A frame of the animated sign-in QR without its step and MAC: the login's own link. */
export const loginLinkOf = (frame) => frame.replace(/\.\d+\.[\w-]{11}$/, '');

/** The step of a frame of the animated sign-in QR (seconds since the login was made). */
export const frameStepOf = (frame) => Number(frame.match(/\.(\d+)\.[\w-]{11}$/)?.[1]);

export const clockFace = (seconds) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;

/** A login's state as its page polls it: with the poll secret, without waiting. */
export async function pollLogin({ loginId, pollSecret }) {
  const response = await fetch(new URL(`/api/v1/logins/${loginId}`, baseUrl), {
    headers: { authorization: `Bearer ${pollSecret}` },
  });
  return { status: response.status, ...(await response.json()) };
}

/** The answer to a request that `page` makes, with its cookies, as the page's own code would. */
export function fetchAsPage(page, path, body) {
  return page.evaluate(
    async ({ path, body }) => {
      const response = await fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
    { path, body },
  );
}

/** The user `cargo xtask test` made for the pages' tests (it never has a token). */
export const account = { user: process.env.QRAUTH_USER, password: process.env.QRAUTH_PASSWORD };

/** The user whose two tokens approve payments of the PowerAuth example application. */
export const powerAuthAccount = {
  user: process.env.QRAUTH_POWERAUTH_USER,
  password: process.env.QRAUTH_POWERAUTH_PASSWORD,
  client: process.env.QRAUTH_POWERAUTH_CLIENT,
};

/** The person who signs in to an OpenID Connect relying party, and that party's registration. */
export const oidcAccount = {
  user: process.env.QRAUTH_OIDC_USER,
  password: process.env.QRAUTH_OIDC_PASSWORD,
  clientName: process.env.QRAUTH_OIDC_CLIENT_NAME,
  clientId: process.env.QRAUTH_OIDC_CLIENT_ID,
  clientSecret: process.env.QRAUTH_OIDC_CLIENT_SECRET,
  redirectUri: process.env.QRAUTH_OIDC_REDIRECT_URI,
  app: {
    name: process.env.QRAUTH_OIDC_APP_NAME,
    port: process.env.QRAUTH_OIDC_APP_PORT,
    clientId: process.env.QRAUTH_OIDC_APP_CLIENT_ID,
    clientSecret: process.env.QRAUTH_OIDC_APP_CLIENT_SECRET,
  },
};

/** The user the token's tests activate tokens for. */
export const tokenAccount = {
  user: process.env.QRAUTH_TOKEN_USER,
  password: process.env.QRAUTH_TOKEN_PASSWORD,
};

/** What every page has: the server's health in the footer. */
class AppPage {
  constructor(page) {
    this.page = page;
    this.health = page.getByTestId('health');
    this.qr = page.getByTestId('qr');
    this.codeInput = page.getByTestId('code-input');
    this.codeStatus = page.getByTestId('code-status');
    this.codeMessage = page.getByTestId('code-message');
    this.codeSubmit = page.getByTestId('code-submit');
    this.countdown = page.getByTestId('countdown');
  }

  /** The QR code as a phone camera would see it: a screenshot, decoded by jsQR. */
  async scanQr() {
    return decodePng(await this.qr.screenshot());
  }

  /** Types a code key by key, as a person would. */
  async typeCode(text) {
    await this.codeInput.fill('');
    await this.codeInput.pressSequentially(text);
  }

  /**
   * Types a code, sends it and waits until the page has shown the server's answer: the response
   * reaching the browser is not enough, the page reads it afterwards, and until then its message
   * line is empty.
   */
  async sendCode(text) {
    await this.typeCode(text);
    const answered = this.page.waitForResponse((r) => r.url().endsWith('/verify'));
    await this.codeSubmit.click();
    await answered;
    // An approved code takes the field away, so a missing button is also done.
    await this.page.waitForFunction(
      () => document.querySelector('[data-testid="code-submit"]')?.textContent !== 'Checking…',
    );
  }
}

/** The sign-in page and its three ways in. */
export class SignInPage extends AppPage {
  constructor(page) {
    super(page);
    this.status = page.getByTestId('login-status');
    this.openToken = page.getByTestId('open-token');
    this.startAgain = page.getByTestId('start-again');
    this.unavailable = page.getByTestId('unavailable');
    this.offlineUser = page.getByTestId('offline-user');
    this.passwordUser = page.getByTestId('password-user');
    this.password = page.getByTestId('password');
    this.passwordProblem = page.getByTestId('password-problem');
  }

  async open(way = '') {
    await this.page.goto(new URL(way ? `/?with=${way}` : '/', baseUrl).href);
  }

  /** The next login the page makes (`POST /api/v1/logins`): id, poll secret, QR text. */
  async nextLogin(timeout = 5000) {
    const created = await this.page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/v1/logins' && r.request().method() === 'POST',
      { timeout },
    );
    return created.json();
  }

  /** Opens the QR sign-in and returns the login the page made once it waits for a phone. */
  async openLogin() {
    const login = this.nextLogin();
    await this.open();
    await this.waitForState('waiting');
    return login;
  }

  /** The two digits the page shows once a phone scanned (number matching). */
  async shownNumber() {
    const number = this.page.getByTestId('login-number');
    await number.waitFor();
    return (await number.textContent()).trim();
  }

  /** Waits until the login's status line is in `state` (waiting, scanned, denied...). */
  async waitForState(state, timeout = 5000) {
    await this.page.locator(`[data-testid="login-status"][data-state="${state}"]`).waitFor({ timeout });
  }

  async signInWithPassword(user, password) {
    await this.open('password');
    await this.passwordUser.fill(user);
    await this.password.fill(password);
    await this.page.getByTestId('password-submit').click();
  }

  async startOfflineLogin(user) {
    await this.open('code');
    await this.offlineUser.fill(user);
    await this.page.getByTestId('offline-continue').click();
    await this.qr.waitFor();
  }
}

/** The account page. */
export class AccountPage extends AppPage {
  constructor(page) {
    super(page);
    this.identity = page.getByTestId('identity');
    this.notSignedIn = page.getByTestId('not-signed-in');
    this.activate = page.getByTestId('activate');
    this.activationCode = page.getByTestId('activation-code');
    this.activationStatus = page.getByTestId('activation-status');
  }
}

/** The payment approval page. */
export class ApprovalPage extends AppPage {
  constructor(page) {
    super(page);
    this.details = page.getByTestId('payment-details');
    this.amount = page.getByTestId('detail-amount');
    this.account = page.getByTestId('detail-account');
    this.note = page.getByTestId('detail-note');
  }

  async open() {
    await this.page.goto(new URL('/approve', baseUrl).href);
  }

  /** Fills the payment form; fields left out keep the example payment's values. */
  async fillPayment(fields) {
    for (const [name, value] of Object.entries(fields)) {
      await this.page.getByTestId(name).fill(value);
    }
  }

  /** Continues to the QR and returns the operation the server made for it. */
  async continueWithExamplePayment() {
    const created = this.page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/v1/operations' && r.request().method() === 'POST',
    );
    await this.page.getByTestId('payment-continue').click();
    await this.qr.waitFor();
    return (await created).json();
  }
}

/** The browser token, `/token`: a phone or a second browser. */
export class TokenPage {
  constructor(page) {
    this.page = page;
    this.home = page.getByTestId('token-home');
    this.notice = page.getByTestId('token-notice');
    this.activations = page.getByTestId('activation');
    this.scanProblem = page.getByTestId('scan-problem');
    this.review = page.getByTestId('offline-review');
    this.scannedText = page.getByTestId('scanned-text');
    this.refusal = page.getByTestId('refusal');
    this.code = page.getByTestId('code');
    this.loginRequest = page.getByTestId('login-request');
    this.loginProblem = page.getByTestId('login-problem');
    this.fingerprint = page.getByTestId('token-fingerprint');
    this.activationState = page.getByTestId('activation-state');
  }

  /** Opens the token's home and returns what the server says of its one activation. */
  async standing() {
    await this.open();
    const checked = this.activationState.filter({ hasText: /^(Active|Blocked|Removed|Not checked)/ });
    await checked.waitFor();
    return checked.textContent();
  }

  async open(hash = '') {
    await this.page.goto(new URL(`/token${hash}`, baseUrl).href);
  }

  /**
   * Gives the scanner a picture, as a person choosing a screenshot from their gallery, and
   * waits until the scanner has moved on (it read a code) or says why not; returns why not.
   */
  async scanPicture(png, name = 'qr.png') {
    await this.page.getByTestId('token-scan').click();
    await this.page.getByTestId('scan-picture').setInputFiles({ name, mimeType: 'image/png', buffer: png });
    const problem = this.page.locator('[data-testid="scan-problem"]:not(:empty)');
    await Promise.race([
      this.page.getByTestId('token-scan-screen').waitFor({ state: 'detached' }),
      problem.waitFor(),
    ]);
    return (await problem.count()) ? problem.textContent() : '';
  }

  /** Pastes text into the scanner. */
  async scanText(text) {
    await this.page.getByTestId('token-scan').click();
    await this.page.locator('.paste summary').click();
    await this.page.getByTestId('scan-text').fill(text);
    await this.page.getByTestId('scan-read').click();
  }

  /**
   * Activates a token from the account page as a person would: asks for an activation there,
   * gives the token a screenshot of its QR, names it `deviceName` when given, chooses `pin`,
   * and waits for the fingerprint.
   */
  async activateFrom(accountPage, pin, deviceName) {
    await accountPage.activate.click();
    await accountPage.qr.waitFor();
    await this.open();
    const problem = await this.scanPicture(await accountPage.qr.screenshot());
    if (problem) throw new Error(`the activation QR was not read: ${problem}`);
    if (deviceName) await this.page.getByTestId('device-name').fill(deviceName);
    await this.activateWithPin(pin);
    await this.fingerprint.waitFor();
  }

  /** On the activation screen: chooses the PIN and activates. */
  async activateWithPin(pin, again = pin) {
    await this.page.getByTestId('new-pin').fill(pin);
    await this.page.getByTestId('new-pin-again').fill(again);
    await this.page.getByTestId('activate-submit').click();
  }

  /** On a review or a login: types the PIN and approves. */
  async approveWithPin(pin) {
    await this.page.getByTestId('pin').fill(pin);
    await this.page.getByTestId('approve').click();
  }

  /** Approves a sign-in: the number the sign-in page shows (number matching), then the PIN. */
  async approveSignIn(number, pin) {
    await this.page.getByTestId('login-number').fill(number);
    await this.approveWithPin(pin);
  }

  /** The 16 digits shown, as the groups the screen shows. */
  async shownCode() {
    await this.code.waitFor();
    return this.code.locator('.code-group').allTextContents();
  }

  async backHome() {
    await this.page.getByTestId('token-back').click();
    await this.home.waitFor();
  }
}
