// Debian's Chromium driven by playwright-core (never `playwright install`), shared by the
// package's example test and the end-to-end tests.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

// Without the networking flags Chromium keeps trying to reach Google's hosts, which this
// machine refuses.
const CHROMIUM_FLAGS = [
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Headless Chromium: `CHROMIUM` or Debian's `/usr/bin/chromium`, with `extraFlags`. */
export async function launchBrowser(extraFlags = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [...CHROMIUM_FLAGS, ...extraFlags],
    headless: true,
  });
}
