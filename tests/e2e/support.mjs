// Shared by the end-to-end tests: Debian's Chromium driven by playwright-core (from web/'s
// packages), and page objects that find things by data-testid.
import { blankPng, decodePng, pngToY4m } from '../../web/test/support/qr.mjs';

export { blankPng, decodePng, pngToY4m };
export { launchBrowser } from '../../web/test/support/browser.mjs';

/** The server under test, started by `cargo xtask test` on a free port. */
export const baseUrl = process.env.QRAUTH_URL;
if (!baseUrl) {
  throw new Error('QRAUTH_URL is not set: run the end-to-end tests with `cargo xtask test e2e`');
}

/**
 * Opens a page that records console errors, failed requests and CSP violations, so a test can
 * insist that a page loaded cleanly.
 */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return { page, problems, close: () => context.close() };
}

/** The user `cargo xtask test` made for the pages' tests (it never has a token). */
export const account = { user: process.env.QRAUTH_USER, password: process.env.QRAUTH_PASSWORD };

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

  async continueWithExamplePayment() {
    await this.page.getByTestId('payment-continue').click();
    await this.qr.waitFor();
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
