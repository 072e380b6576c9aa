// The package's SoftwareToken in Node against a real `qrauth serve` (started by `cargo xtask
// test`), with IndexedDB from fake-indexeddb: what it resolves to is what the README
// describes, plain objects whose fields a page reads, and its codes are the server's.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SoftwareToken } from 'qrauth-token';

const server = process.env.QRAUTH_URL;
const user = process.env.QRAUTH_USER;
const password = process.env.QRAUTH_PASSWORD;
if (!server || !user || !password) {
  throw new Error('QRAUTH_URL, QRAUTH_USER and QRAUTH_PASSWORD are not set: run `cargo xtask test node`');
}

/** The account page's side: requests with the session cookie of a password sign-in. */
async function signedIn() {
  const session = await fetch(`${server}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  assert.equal(session.status, 200);
  const cookie = session.headers.get('set-cookie').split(';')[0];
  return async (path, body) => {
    const response = await fetch(`${server}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
}

test('activate, activations and computeOfflineCode resolve to plain objects, and the code is accepted', async () => {
  const account = await signedIn();
  const offer = await account('/activations', {});
  assert.equal(offer.status, 201);

  const token = await SoftwareToken.open({ server, database: `node-${process.pid}` });
  const activation = await token.activate({ code: offer.body.activationQr, pin: '2580', pinAgain: '2580' });
  assert.equal(Object.getPrototypeOf(activation), Object.prototype, 'a plain object, not a Map');
  assert.equal(typeof activation.activationId, 'string');
  assert.equal(activation.user, user);
  assert.match(activation.fingerprint, /^\d{8}$/);
  assert.equal(activation.unconfirmed, 0);
  assert.deepEqual(JSON.parse(JSON.stringify(activation)), activation, 'survives JSON as it is');

  const listed = await token.activations();
  assert.deepEqual(listed.map((a) => a.activationId), [activation.activationId]);

  const payment = await account('/operations', {
    type: 'payment',
    amount: '12.50',
    currency: 'EUR',
    iban: 'CZ65 0800 0000 1920 0014 5399',
  });
  assert.equal(payment.status, 201);
  const code = await token.computeOfflineCode(activation.activationId, payment.body.payload, '2580');
  assert.equal(Object.getPrototypeOf(code), Object.prototype);
  assert.match(code.code, /^\d{4}-\d{4}-\d{4}-\d{4}$/);
  assert.match(code.canonical, /^\d{8}-\d{8}$/);
  assert.equal(code.unconfirmed, 1);

  const verified = await account(`/operations/${payment.body.operationId}/verify`, { code: code.canonical });
  assert.equal(verified.status, 200);
  assert.equal(verified.body.valid, true);
});
