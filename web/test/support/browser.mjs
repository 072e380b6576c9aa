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

const executable = () => process.env.CHROMIUM || '/usr/bin/chromium';

/** Headless Chromium: `CHROMIUM` or Debian's `/usr/bin/chromium`, with `extraFlags`. */
export async function launchBrowser(extraFlags = []) {
  return chromium.launch({
    executablePath: executable(),
    args: [...CHROMIUM_FLAGS, ...extraFlags],
    headless: true,
  });
}

/**
 * Headless Chromium with a profile of its own in `userDataDir` (a context that is a whole
 * browser, as a phone is): `options` are Playwright's context options, `launcher` a program
 * that starts Chromium in its place (it finds the real one in `QRAUTH_CHROMIUM`), `env` more
 * environment for it.
 */
export async function launchProfile(userDataDir, { launcher, env = {}, ...options } = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: launcher ?? executable(),
    args: CHROMIUM_FLAGS,
    headless: true,
    env: { ...process.env, QRAUTH_CHROMIUM: executable(), ...env },
    ...options,
  });
}
