// Shared by the end-to-end tests: Debian's Chromium driven by playwright-core (from web/'s
// packages), and page objects that find things by data-testid.
export { decodePng } from '../../web/test/support/qr.mjs';
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

/** The home page: server health, a QR code of the page's address, the code field. */
export class HomePage {
  constructor(page) {
    this.page = page;
    this.health = page.getByTestId('health');
    this.qr = page.getByTestId('page-qr');
    this.pageUrl = page.getByTestId('page-url');
    this.codeInput = page.getByTestId('code-input');
    this.codeStatus = page.getByTestId('code-status');
    this.codeNormalized = page.getByTestId('code-normalized');
  }

  async open(path = '/') {
    await this.page.goto(new URL(path, baseUrl).href);
    await this.codeInput.waitFor();
  }

  async typeCode(text) {
    await this.codeInput.fill('');
    await this.codeInput.pressSequentially(text);
  }
}
