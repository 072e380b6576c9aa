// The package's SoftwareToken in Node against a real `qrauth serve` (started by `cargo xtask
// test`), with IndexedDB from fake-indexeddb: what it resolves to is what the README
// describes, plain objects whose fields a page reads, and its codes are the server's.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SoftwareToken } from 'qrauth-token';

import { server, signedIn, user } from './support/account.mjs';

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
