// `cargo xtask screenshots`: each page of the app, in the states people meet, at a phone's
// width (390 px) and a desktop's (1280 px), in light and dark, against a real `qrauth serve`.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { baseUrl, launchBrowser, openPage } from './support.mjs';

const out = process.env.SCREENSHOTS;
const user = process.env.QRAUTH_USER;
const password = process.env.QRAUTH_PASSWORD;
if (!out || !user || !password) {
  throw new Error('run this with `cargo xtask screenshots`');
}
await mkdir(out, { recursive: true });

const url = (p) => new URL(p, baseUrl).href;

/** The scan code inside the login QR's link, as a phone that opened it would read it. */
async function attachAsToken(page) {
  const link = await page.getByTestId('open-token').getAttribute('href');
  const scanCode = new URL(link).hash.replace(/^#scan=/, '');
  const response = await fetch(url('/api/v1/token/logins/attach'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scanCode }),
  });
  if (!response.ok) throw new Error(`attach: HTTP ${response.status}`);
}

const browser = await launchBrowser();
const problems = [];
try {
  for (const colorScheme of ['light', 'dark']) {
    for (const width of [390, 1280]) {
      const { page, problems: seen, close } = await openPage(browser, {
        viewport: { width, height: width < 600 ? 844 : 800 },
        colorScheme,
      });
      const shot = async (name) => {
        // No caret blinking into the picture.
        await page.evaluate(() => document.activeElement?.blur());
        const file = path.join(out, `${name}-${width}-${colorScheme}.png`);
        await page.screenshot({ path: file, fullPage: true });
        console.log(`wrote ${path.relative(process.cwd(), file)}`);
      };

      await page.goto(url('/'));
      await page.getByTestId('qr').waitFor();
      await page.getByTestId('health').filter({ hasText: 'Server ok' }).waitFor();
      await shot('sign-in-phone');

      await attachAsToken(page);
      await page.locator('[data-testid="login-status"][data-state="scanned"]').waitFor();
      await shot('sign-in-scanned');

      await page.getByTestId('way-code').click();
      await page.getByTestId('offline-user').fill(user);
      await page.getByTestId('offline-continue').click();
      await page.getByTestId('qr').waitFor();
      await page.getByTestId('code-input').pressSequentially('1234 5678 90');
      await shot('sign-in-code');

      await page.getByTestId('way-password').click();
      await page.getByTestId('password-user').fill(user);
      await shot('sign-in-password');
      await page.getByTestId('password').fill(password);
      await page.getByTestId('password-submit').click();
      await page.getByTestId('identity').waitFor();
      await shot('account');

      await page.getByTestId('activate').click();
      await page.getByTestId('activation-code').waitFor();
      await page.getByTestId('qr').waitFor();
      await shot('account-activation');

      await page.goto(url('/approve'));
      await page.getByTestId('payment-continue').click();
      await page.getByTestId('payment-details').waitFor();
      await page.getByTestId('qr').waitFor();
      await page.getByTestId('code-input').pressSequentially('1111-2222-3333-4444');
      await page.getByTestId('code-submit').click();
      await page.getByTestId('code-message').filter({ hasText: /./ }).waitFor();
      await shot('approval');

      problems.push(...seen.map((p) => `${width} ${colorScheme}: ${p}`));
      await close();
    }
  }
} finally {
  await browser.close();
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
