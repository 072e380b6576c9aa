// The browser token when its storage fails or is shared, in real Chromium profiles on disk: a
// disk that fills up, a browser that refuses to keep site data, two tabs at once, a reload in
// the middle of a code. The token saves its counter before it shows a code, so it never shows
// one whose counter it did not save, and it says what went wrong. Its own user and token, so
// the token story in token.test.mjs is not disturbed.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  AccountPage,
  SignInPage,
  TokenPage,
  baseUrl,
  launchBrowser,
  openPage,
  openProfile,
  test,
} from './support.mjs';

const PIN = '8642';
const account = {
  user: process.env.QRAUTH_STORAGE_USER,
  password: process.env.QRAUTH_STORAGE_PASSWORD,
};
const mobile = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

let browser;
let phone;
let token;
before(async () => {
  browser = await launchBrowser();
  // 48 MB: room for Chromium's profile and the token, and little more.
  phone = await openProfile({ name: 'phone', diskMegabytes: 48, ...mobile });
  token = new TokenPage(phone.page);
});
after(async () => {
  await phone?.close();
  await browser?.close();
});

/** A payment for the user, as a bank's backend would create it. */
async function newPayment() {
  const response = await fetch(new URL('/api/v1/operations', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.QRAUTH_OPERATOR_TOKEN}` },
    body: JSON.stringify({
      type: 'payment',
      amount: '42.00',
      currency: 'EUR',
      iban: 'CZ6508000000192000145399',
      payee: 'Storage test',
      user: account.user,
    }),
  });
  assert.equal(response.status, 201);
  return response.json();
}

/** The server's verdict on a code typed for `operation`. */
async function verify(operation, code) {
  const response = await fetch(new URL(`/api/v1/operations/${operation.operationId}/verify`, baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  return response.json();
}

/** The counter the token has saved in IndexedDB, as the page sees it. */
function savedCounter(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('qrauth-token');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const read = open.result.transaction('activations').objectStore('activations').getAll();
          read.onerror = () => reject(read.error);
          read.onsuccess = () => {
            open.result.close();
            resolve(read.result[0]?.counter);
          };
        };
      }),
  );
}

/** The token on `page` reads `operation`'s payload and approves it with the PIN. */
async function startApproval(tokenPage, operation) {
  await tokenPage.open();
  await tokenPage.scanText(operation.payload);
  await tokenPage.review.waitFor();
  await tokenPage.page.getByTestId('pin').fill(PIN);
}

test('the token is activated in a browser profile on a small disk', async () => {
  const computer = await openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
  await new SignInPage(computer.page).signInWithPassword(account.user, account.password);
  const accountPage = new AccountPage(computer.page);
  await token.activateFrom(accountPage, PIN);
  assert.equal(await savedCounter(phone.page), 0);
  await computer.close();
});

test('a full disk: no code is shown, the token says why, and it works again once space is freed', async () => {
  const operation = await newPayment();
  const saved = await savedCounter(phone.page);
  await startApproval(token, operation);

  // Something else on the phone fills the disk: a database of the same site, in ever smaller
  // pieces until even a small write is refused.
  const filled = await phone.page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open('filler', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('blobs');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    // Random bytes, as Chromium compresses what it stores; getRandomValues fills 64 KiB at most.
    const random = (bytes) =>
      new Blob(Array.from({ length: Math.ceil(bytes / 65536) }, () => crypto.getRandomValues(new Uint8Array(Math.min(bytes, 65536)))));
    let key = 0;
    let bytes = 0;
    let refusal = 'never full';
    for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 9]) {
      for (let tries = 0; tries < 200; tries++) {
        const outcome = await new Promise((resolve) => {
          const tx = db.transaction('blobs', 'readwrite');
          tx.objectStore('blobs').put(random(size), key++);
          tx.oncomplete = () => resolve('saved');
          tx.onabort = () => resolve(tx.error?.name ?? 'aborted');
        });
        if (outcome !== 'saved') {
          refusal = outcome;
          break;
        }
        bytes += size;
      }
    }
    db.close();
    return { megabytes: bytes / (1 << 20), outcome: refusal };
  });
  assert.equal(filled.outcome, 'QuotaExceededError', `after ${filled.megabytes} MB`);

  await phone.page.getByTestId('approve').click();
  await phone.page.getByTestId('review-problem').filter({ hasText: "storage for this site is full, so no code was made" }).waitFor();
  assert.equal(await token.code.count(), 0, 'no code without a saved counter');
  assert.equal(await savedCounter(phone.page), saved, 'the counter did not move');

  // Space is freed: the same screen now gives a code, the counter is saved, the server takes it.
  await phone.page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const deletion = indexedDB.deleteDatabase('filler');
        deletion.onsuccess = resolve;
        deletion.onerror = () => reject(deletion.error);
      }),
  );
  await phone.page.getByTestId('pin').fill(PIN);
  await phone.page.getByTestId('approve').click();
  const code = (await token.shownCode()).join('');
  assert.equal(await savedCounter(phone.page), saved + 1);
  assert.equal((await verify(operation, code)).valid, true);
});

test('two tabs asking for codes at the same moment get different counters, and the token stays in step', async () => {
  const [first, second] = [await newPayment(), await newPayment()];
  const saved = await savedCounter(phone.page);
  const otherTab = await phone.page.context().newPage();
  const other = new TokenPage(otherTab);
  await startApproval(token, first);
  await startApproval(other, second);
  await Promise.all([phone.page.getByTestId('approve').click(), otherTab.getByTestId('approve').click()]);
  const codes = [(await token.shownCode()).join(''), (await other.shownCode()).join('')];
  assert.equal(await savedCounter(phone.page), saved + 2, 'each tab moved the counter once');
  assert.notEqual(codes[0], codes[1]);
  // Codes count forward (PowerAuth's counter with look-ahead): the first is always accepted;
  // the second too when its counter is the later one, and is refused when the other tab
  // happened to take the later counter, as a code older than one already used is.
  assert.equal((await verify(first, codes[0])).valid, true);
  const secondVerdict = await verify(second, codes[1]);
  await otherTab.close();
  // Whatever the order, the token and the server are in step: its next code is accepted.
  const next = secondVerdict.valid ? await newPayment() : second;
  await startApproval(token, next);
  await phone.page.getByTestId('approve').click();
  assert.equal((await verify(next, (await token.shownCode()).join(''))).valid, true);
});

test('a reload in the middle of a code loses no counter the server needs: the next code is accepted', async () => {
  for (const delay of [0, 5, 20, 60]) {
    const operation = await newPayment();
    const saved = await savedCounter(phone.page);
    await startApproval(token, operation);
    await phone.page.getByTestId('approve').click({ noWaitAfter: true });
    await new Promise((resolve) => setTimeout(resolve, delay));
    await phone.page.reload();
    await token.home.waitFor();
    const afterReload = await savedCounter(phone.page);
    assert.ok(afterReload === saved || afterReload === saved + 1, `reload after ${delay} ms: ${saved} → ${afterReload}`);

    // The scanned payment is not kept across the reload (nothing scanned enters the address
    // bar); scanning it again gives a code with a counter saved before it was shown.
    await startApproval(token, operation);
    await phone.page.getByTestId('approve').click();
    const code = (await token.shownCode()).join('');
    assert.equal(await savedCounter(phone.page), afterReload + 1);
    assert.equal((await verify(operation, code)).valid, true, `reload after ${delay} ms`);
  }
});

test('a browser that does not let sites keep data: the token says so and offers no way to a code', async () => {
  const blocked = await openProfile({ name: 'blocked phone', blockSiteData: true, ...mobile });
  const page = new TokenPage(blocked.page);
  await page.open();
  await blocked.page
    .getByTestId('token-storage-error')
    .filter({ hasText: 'does not let this page keep data' })
    .waitFor();
  assert.equal(await blocked.page.getByTestId('activation').count(), 0);
  await blocked.close();
});
