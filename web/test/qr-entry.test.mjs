// The light entry `qrauth-token/qr`: what a sign-in page needs (QR codes, typed codes), and
// nothing of the token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import * as light from 'qrauth-token/qr';
import * as full from 'qrauth-token';
import { decodeSvg } from './support/qr.mjs';

test('each browser build called before init() says so with `init_required`, then works once loaded', async () => {
  for (const [module, wasm] of [
    ['../pkg/qr/qrauth_token_qr.js', '../pkg/qr/qrauth_token_qr_bg.wasm'],
    ['../pkg/sign-in/qrauth_token_sign_in.js', '../pkg/sign-in/qrauth_token_sign_in_bg.wasm'],
    ['../pkg/web/qrauth_token.js', '../pkg/web/qrauth_token_bg.wasm'],
  ]) {
    const web = await import(module);
    assert.throws(() => web.renderQrSvg('x'), (e) => e.code === 'init_required' && /call `await init\(\)`/.test(e.message), module);
    assert.throws(() => web.normalizeCode('1'), (e) => e.code === 'init_required', module);
    await web.default({ module_or_path: await readFile(new URL(wasm, import.meta.url)) });
    assert.equal(web.normalizeCode('1234 5678 9012 3456').canonical, '12345678-90123456', module);
  }
});

test('the light entry has the page helpers and none of the token', () => {
  assert.deepEqual(
    Object.keys(light).filter((name) => typeof light[name] === 'function' && name !== 'initSync').sort(),
    ['CodeBinding', 'bindCodeInput', 'formatCodeInput', 'normalizeCode', 'renderQrCanvas', 'renderQrSvg'],
  );
  assert.equal(light.SoftwareToken, undefined);
  assert.equal(light.parseOfflinePayload, undefined);
});

test('it answers as the whole package does', () => {
  for (const input of ['1234 5678 9012 3456', '1234-5678-9', '', '1234-5678-9O12-3456', '１２３４５６７８９０１２３４５６']) {
    assert.deepEqual(light.normalizeCode(input), full.normalizeCode(input), input);
  }
  for (const [value, caret] of [['12345', 5], ['1234-5678-90', 3], ['abc 12', undefined]]) {
    assert.deepEqual(light.formatCodeInput(value, caret), full.formatCodeInput(value, caret), value);
  }
  const text = 'Platba 1 250,00 Kč\\nPříjemce: Žluťoučký kůň 🔐';
  const svg = light.renderQrSvg(text, { label: 'QR code', margin: 2, size: 200 });
  assert.equal(svg, full.renderQrSvg(text, { label: 'QR code', margin: 2, size: 200 }));
  assert.deepEqual(decodeSvg(svg).bytes, Buffer.from(text, 'utf8'));
});

test('options of the wrong kind are refused by name, and change nothing', () => {
  const refused = (options, pattern) =>
    assert.throws(
      () => light.renderQrSvg('x', options),
      (e) => e instanceof Error && e.code === 'invalid_options' && pattern.test(e.message),
      JSON.stringify(options),
    );
  refused({ margin: 1.5 }, /`margin` must be a whole number/);
  refused({ size: -3 }, /`size` must be a whole number/);
  refused({ size: '200' }, /`size` must be a whole number/);
  refused({ dark: 0 }, /`dark` must be a string/);
  refused({ colour: '#000' }, /Unknown QR option “colour”/);
  refused('big', /must be an object/);
  assert.equal(light.renderQrSvg('x', { margin: null, label: undefined }), light.renderQrSvg('x'));
});

test('the browser build of the light entry initializes from its wasm bytes', async () => {
  const web = await import('../pkg/qr/qrauth_token_qr.js');
  const wasm = await readFile(new URL('../pkg/qr/qrauth_token_qr_bg.wasm', import.meta.url));
  await web.default({ module_or_path: wasm });
  assert.equal(web.normalizeCode('1234 5678 9012 3456').canonical, '12345678-90123456');
  assert.equal(web.renderQrSvg('hello'), light.renderQrSvg('hello'));
});
