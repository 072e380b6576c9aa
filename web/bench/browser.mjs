// The figures measured in headless Chromium, each beside its peer in the same page and run.
// `cargo xtask bench` serves the app and web/bench/ with `qrauth serve`, then runs this with:
// QRAUTH_URL, QRAUTH_USER, QRAUTH_PASSWORD, BENCH_PAYLOAD (spec §13.2's worked example),
// BENCH_SERVER_PUBLIC (its key), BENCH_OUT (where the JSON goes), CHROMIUM.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { launchBrowser } from '../test/support/browser.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through \`cargo xtask bench\``);
  return value;
};
const base = env('QRAUTH_URL');
const payload = env('BENCH_PAYLOAD');
const serverPublic = env('BENCH_SERVER_PUBLIC');

const browser = await launchBrowser();
const results = {};
try {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(new URL('/bench/bench.html', base).href);

  results.qr = await page.evaluate(async ({ payload }) => {
    const token = await import('/bench/pkg/qrauth_token.js');
    await token.default();
    const { QRCode, qrcodeGenerator } = await import('/bench/peers.js');
    qrcodeGenerator.stringToBytes = qrcodeGenerator.stringToBytesFuncs['UTF-8'];
    const ways = {
      qrauth: () => token.renderQrSvg(payload, { errorCorrection: 'M' }),
      'node-qrcode': () => {
        let svg;
        QRCode.toString(payload, { type: 'svg', errorCorrectionLevel: 'M' }, (error, out) => {
          if (error) throw error;
          svg = out;
        });
        return svg;
      },
      'qrcode-generator': () => {
        const code = qrcodeGenerator(0, 'M');
        code.addData(payload, 'Byte');
        code.make();
        return code.createSvgTag();
      },
    };
    // Turns taken in rounds, so that a slow moment of the machine falls on all of them.
    const times = Object.fromEntries(Object.keys(ways).map((name) => [name, []]));
    for (let round = 0; round < 30; round++) {
      for (const [name, render] of Object.entries(ways)) {
        const start = performance.now();
        for (let i = 0; i < 10; i++) {
          if (!render().startsWith('<svg')) throw new Error(`${name} drew no SVG`);
        }
        times[name].push((performance.now() - start) / 10);
      }
    }
    const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
    return Object.fromEntries(Object.entries(times).map(([name, xs]) => [name, median(xs)]));
  }, { payload });

  results.crypto = await page.evaluate(
    async ({ user, password, payload, serverPublic }) => {
      const token = await import('/bench/pkg/qrauth_token.js');
      await token.default();
      const post = async (path, body) => {
        const response = await fetch(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
        return response.json();
      };
      await post('/api/v1/session', { user, password });
      const offer = await post('/api/v1/activations', {});
      const software = await token.SoftwareToken.open({ database: `bench-${Date.now()}` });
      const activation = await software.activate({ code: offer.activationQr, pin: '2580', pinAgain: '2580' });
      const operation = await post('/api/v1/operations', {
        type: 'payment',
        amount: '1250.00',
        currency: 'EUR',
        iban: 'CZ65 0800 0000 1920 0014 5399',
        note: 'Rent',
      });
      const id = activation.activationId;

      // WebCrypto doing the same work: ECDSA P-256 verify of the worked example, and the PIN
      // key (PBKDF2-HMAC-SHA1, 10 000 rounds, AES-128 of one block) then the two-component
      // HMAC chain (six HMAC-SHA256).
      const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const lines = payload.split('\n');
      const signatureLine = lines.at(-1);
      const signed = new TextEncoder().encode(`${lines.slice(0, -1).join('\n')}\n${signatureLine[0]}`);
      const der = bytes(signatureLine.slice(1));
      const raw = (() => {
        // DER SEQUENCE { INTEGER r, INTEGER s } → r || s, 32 bytes each.
        const out = new Uint8Array(64);
        let at = 2;
        for (const half of [0, 32]) {
          const length = der[at + 1];
          const value = der.slice(at + 2, at + 2 + length);
          const trimmed = value.slice(Math.max(0, value.length - 32));
          out.set(trimmed, half + 32 - trimmed.length);
          at += 2 + length;
        }
        return out;
      })();
      const publicKey = await crypto.subtle.importKey(
        'raw', bytes(serverPublic), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'],
      );
      const webCryptoVerify = async () => {
        const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, publicKey, raw, signed);
        if (!ok) throw new Error('WebCrypto did not verify the worked example');
      };
      const hmac = async (key, data) => {
        const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
        return new Uint8Array(await crypto.subtle.sign('HMAC', k, data));
      };
      const salt = new Uint8Array(16).fill(7);
      const possession = new Uint8Array(16).fill(1);
      const ctr = new Uint8Array(16).fill(9);
      const message = new TextEncoder().encode(payload);
      const webCryptoCode = async () => {
        const pin = await crypto.subtle.importKey('raw', new TextEncoder().encode('2580'), 'PBKDF2', false, ['deriveBits']);
        const pinKey = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-1', salt, iterations: 10000 }, pin, 128);
        const aes = await crypto.subtle.importKey('raw', pinKey, 'AES-CBC', false, ['encrypt']);
        const knowledge = new Uint8Array(
          await crypto.subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, aes, salt),
        ).slice(0, 16);
        const first = await hmac(await hmac(possession, ctr), message);
        let key = await hmac(knowledge, ctr);
        key = await hmac(await hmac(knowledge, ctr), key);
        const second = await hmac(key, message);
        return first[31] ^ second[31];
      };

      // The median of `samples`, each the mean of `batch` runs: the page's clock moves in steps
      // of 0.1 ms, coarser than one WebCrypto verification.
      const time = async (run, samples, batch) => {
        const xs = [];
        for (let i = 0; i < samples; i++) {
          const start = performance.now();
          for (let j = 0; j < batch; j++) await run();
          xs.push((performance.now() - start) / batch);
        }
        return xs.sort((a, b) => a - b)[xs.length >> 1];
      };
      return {
        wasmVerify: await time(() => software.reviewOffline(id, operation.payload), 15, 10),
        webCryptoVerify: await time(webCryptoVerify, 15, 10),
        wasmPinToCode: await time(() => software.computeOfflineCode(id, operation.payload, '2580'), 15, 1),
        webCryptoPinToCode: await time(webCryptoCode, 15, 5),
      };
    },
    { user: env('QRAUTH_USER'), password: env('QRAUTH_PASSWORD'), payload, serverPublic },
  );
  await context.close();

  // From navigation to a QR on screen, each visit in a fresh context (nothing cached).
  const firstQr = async (path) => {
    const fresh = await browser.newContext();
    // The same watch on both pages: the document and every shadow root made in it (the
    // sign-in page's QR is drawn inside <qrauth-sign-in>), from the first byte of the page.
    await fresh.addInitScript(() => {
      const roots = [document];
      const observer = new MutationObserver(() => {
        if (roots.some((root) => root.querySelector('[data-testid="qr"] svg'))) {
          window.qrShownAt ??= performance.now();
          observer.disconnect();
        }
      });
      const watch = (root) => observer.observe(root, { childList: true, subtree: true });
      const attach = Element.prototype.attachShadow;
      Element.prototype.attachShadow = function (init) {
        const root = attach.call(this, init);
        roots.push(root);
        watch(root);
        return root;
      };
      watch(document);
    });
    const visit = await fresh.newPage();
    await visit.goto(new URL(path, base).href);
    await visit.waitForFunction(() => window.qrShownAt, null, { timeout: 20000 });
    const shownAt = await visit.evaluate(() => window.qrShownAt);
    await fresh.close();
    return shownAt;
  };
  // What a new visitor downloads: every file the first load fetches (API answers excluded),
  // each body gzip -9, once the page shows what it is for.
  const pageWeight = async (path, shown) => {
    const fresh = await browser.newContext();
    const visit = await fresh.newPage();
    const files = [];
    visit.on('response', (response) => {
      if (!new URL(response.url()).pathname.startsWith('/api/')) files.push(response);
    });
    await visit.goto(new URL(path, base).href);
    await visit.locator(shown).first().waitFor({ timeout: 20000 });
    await visit.waitForLoadState('networkidle');
    const weights = {};
    for (const response of files) {
      const body = await response.body().catch(() => Buffer.alloc(0));
      weights[new URL(response.url()).pathname] = gzipSync(body, { level: 9 }).length;
    }
    await fresh.close();
    return { total: Object.values(weights).reduce((a, b) => a + b, 0), files: weights };
  };
  results.weight = {
    signIn: await pageWeight('/', '[data-testid="qr"] svg'),
    token: await pageWeight('/token', '[data-testid="token-home"]'),
    plain: await pageWeight('/bench/plain.html', '[data-testid="qr"] svg'),
  };

  const visits = { app: [], plain: [] };
  for (let round = 0; round < 15; round++) {
    visits.app.push(await firstQr('/'));
    visits.plain.push(await firstQr('/bench/plain.html'));
  }
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  results.firstQr = { app: median(visits.app), plain: median(visits.plain) };
  results.chromium = browser.version();
} finally {
  await browser.close();
}
writeFileSync(env('BENCH_OUT'), JSON.stringify(results, null, 2));
console.log(JSON.stringify(results));
