// The token's page helpers and errors in the Node build: offline payloads, the code field as
// the person types, and what SoftwareToken says where it cannot keep a token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { SoftwareToken, formatCodeInput, parseOfflinePayload, renderQrSvg } from 'qrauth-token';
import { decodeSvg } from './support/qr.mjs';

/** An offline payload signed the way the server signs one (ECDSA P-256, SHA-256, DER). */
function signedPayload({ title, message, data, flags = '', keyType = '1' }) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signed = `5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6\n${title}\n${message}\n${data}\n${flags}\n${randomBytes(16).toString('base64')}\n${keyType}`;
  return signed + sign('sha256', Buffer.from(signed, 'utf8'), privateKey).toString('base64');
}

const payment = signedPayload({
  title: 'Platba – Žluťoučký kůň',
  message: 'Zaplaťte 1 250,00 €\\nza nájem',
  data: 'A1*A1250.00EUR*ICZ6508000000192000145399,GIBACZPX**D20261122*NNájem \\* leden',
  flags: 'BXFC',
});

test('parseOfflinePayload shows a payment as a person reads it', () => {
  assert.deepEqual(parseOfflinePayload(payment), {
    operationId: '5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6',
    title: 'Platba – Žluťoučký kůň',
    message: 'Zaplaťte 1 250,00 €\nza nájem',
    template: 'A1',
    fields: [
      { kind: 'amount', amount: '1250.00', currency: 'EUR', value: '1250.00 EUR' },
      { kind: 'iban', iban: 'CZ6508000000192000145399', bic: 'GIBACZPX', value: 'CZ65 0800 0000 1920 0014 5399' },
      { kind: 'date', value: '2026-11-22' },
      { kind: 'note', value: 'Nájem * leden' },
    ],
    flags: { biometryAllowed: true, swapButtons: true, fraudWarning: true, callWarning: true },
    keyType: 1,
  });
  const login = parseOfflinePayload(signedPayload({ title: 'Sign in', message: 'to qrauth', data: 'A2', keyType: '0' }));
  assert.equal(login.keyType, 0);
  assert.deepEqual(login.fields, []);
  assert.deepEqual(login.flags, { biometryAllowed: false, swapButtons: false, fraudWarning: false, callWarning: false });
});

test('a payment payload goes through renderQrSvg and back byte for byte', () => {
  const decoded = decodeSvg(renderQrSvg(payment, { errorCorrection: 'M' }));
  assert.deepEqual(decoded.bytes, Buffer.from(payment, 'utf8'));
  assert.deepEqual(parseOfflinePayload(decoded.bytes.toString('utf8')), parseOfflinePayload(payment));
});

test('parseOfflinePayload refuses what is not a payload, each with its own code', () => {
  const refuses = (code, text) =>
    assert.throws(() => parseOfflinePayload(text), (e) => e instanceof Error && e.code === code && e.message.length > 20, code);
  refuses('payload_too_few_lines', 'https://example.com/token#scan=abc');
  refuses('payload_unknown_key_type', payment.replace(/\n1(?=[^\n]*$)/, '\n7'));
  refuses('payload_malformed_signature', payment.replace(/[^\n]{8}$/, '!!!!!!!!'));
  refuses('payload_invalid_nonce', payment.replace(/\n[^\n]{24}\n(?=[^\n]*$)/, '\nshort\n'));
  refuses('payload_invalid_operation_data', signedPayload({ title: 't', message: 'm', data: 'A1*Anot-an-amount' }));
});

test('formatCodeInput groups digits as they are typed and keeps the caret after the same digit', () => {
  const cases = [
    // [value, caret, expected value, expected caret, missing]
    ['', 0, '', 0, 16],
    ['1', 1, '1', 1, 15],
    ['1234', 4, '1234', 4, 12],
    ['12345', 5, '1234-5', 6, 11],
    ['1234 5678 9012 3456', 19, '1234-5678-9012-3456', 19, 0],
    ['1234567890123456', 16, '1234-5678-9012-3456', 19, 0],
    ['12345678901234567890', 20, '1234-5678-9012-3456', 19, 0],
    ['1234-5678-9', 2, '1234-5678-9', 2, 7],
    ['12a34', 5, '1234', 4, 12],
    ['1234-5x', 6, '1234-5', 6, 11],
  ];
  for (const [value, caret, expected, expectedCaret, missing] of cases) {
    const { code, status, ...field } = formatCodeInput(value, caret);
    assert.deepEqual(field, { value: expected, caret: expectedCaret, missing, complete: missing === 0 }, JSON.stringify(value));
    assert.equal(code, missing === 0 ? expected.replaceAll('-', '').replace(/^(\d{8})/, '$1-') : null, JSON.stringify(value));
    assert.equal(typeof status, 'string');
  }
  assert.equal(formatCodeInput('12345').caret, 6, 'the caret defaults to the end');
  // The caret is the field's selectionStart, in UTF-16 units: after the emoji is 4 units in.
  assert.deepEqual(formatCodeInput('12🔐34', 4), {
    value: '1234',
    caret: 2,
    missing: 12,
    complete: false,
    code: null,
    status: '“🔐” is not a digit and was left out.',
  });
});

test('SoftwareToken says why it cannot keep a token where there is no IndexedDB', async () => {
  await assert.rejects(SoftwareToken.open({ server: 'http://127.0.0.1:9' }), (e) => e instanceof Error && e.code === 'storage_unavailable');
  await assert.rejects(SoftwareToken.open({ sever: 'typo' }), (e) => e.code === 'invalid_options' && /sever/.test(e.message));
  await assert.rejects(SoftwareToken.open(), (e) => e.code === 'invalid_options' && /origin/.test(e.message));
});

test('the TypeScript usage example type-checks against the published types', () => {
  const web = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(`${web}node_modules/.bin/tsc`, ['--noEmit', '-p', 'test/types'], { cwd: web, stdio: 'inherit' });
});
