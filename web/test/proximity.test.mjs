// The proximity check of offline operations (spec §4.6) with the package's token and its
// `CodeLogin`, against a second \`qrauth serve\` that \`cargo xtask test\` starts with
// \`--offline-proximity 2\` (QRAUTH_PROXIMITY_URL): payloads carry the TOTP of their 2-second
// step, the QR is drawn anew each step, and a code is taken for the current or previous step.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SoftwareToken, parseOfflinePayload } from 'qrauth-token';
import { startCodeLogin } from 'qrauth-token/sign-in';

import { account, signedIn } from './support/account.mjs';

const server = process.env.QRAUTH_PROXIMITY_URL;
const person = account('PROXIMITY');
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const totpOf = (payload) => payload.split('\n')[5];

test('a payment is approved with the code of the QR on screen; a code made from a QR two steps old is refused', async () => {
  const post = await signedIn(person, server);
  const offer = await post('/activations');
  const token = await SoftwareToken.open({ server, database: `proximity-${process.pid}` });
  const { activationId } = await token.activate({ code: offer.body.activationQr, pin: '2580', pinAgain: '2580' });
  const payment = await post('/operations', { type: 'payment', amount: '12.50', currency: 'EUR', iban: 'CZ65 0800 0000 1920 0014 5399' });
  assert.equal(payment.status, 201);
  const { operationId, payload: old } = payment.body;
  assert.match(totpOf(old), /^\d{8}$/, 'the TOTP line after the flags');
  assert.ok(payment.body.payloadChangesInMs > 0 && payment.body.payloadChangesInMs <= 2_000);
  assert.equal(parseOfflinePayload(old).title, 'Payment', 'a payload the token reads as any other');

  await pause(4_200);
  const shown = await (await fetch(`${server}/api/v1/operations/${operationId}`)).json();
  assert.notEqual(totpOf(shown.payload), totpOf(old), 'the QR of a later step');
  const late = await token.computeOfflineCode(activationId, old, '2580');
  const refused = await post(`/operations/${operationId}/verify`, { code: late.canonical });
  assert.deepEqual([refused.body.valid, refused.body.remainingAttempts], [false, 4], 'a wrong code, counted');

  const right = await token.computeOfflineCode(activationId, shown.payload, '2580');
  const verified = await post(`/operations/${operationId}/verify`, { code: right.canonical });
  assert.equal(verified.body.valid, true);
});

test('a typed-code sign-in follows the payload step by step, and stops when asked', async () => {
  const login = await startCodeLogin({ user: person.user, server });
  const first = login.qrText;
  const seen = [];
  const stop = login.followPayload((text) => seen.push(text));
  while (seen.length < 2) await pause(100);
  assert.notEqual(totpOf(seen[0]), totpOf(first));
  assert.notEqual(totpOf(seen[1]), totpOf(seen[0]));
  assert.equal(login.qrText, seen[1], 'qrText is the payload on screen');
  stop();
  await pause(2_500);
  assert.equal(seen.length, 2, 'nothing after stop');
});
