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
    ['bindCodeInput', 'formatCodeInput', 'normalizeCode', 'renderQrCanvas', 'renderQrSvg'],
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

/** What `bindCodeInput` uses of an `<input>`: its value, caret, attributes and input events. */
class CodeField extends EventTarget {
  value = '';
  selectionStart = 0;
  attributes = new Map([['placeholder', 'Your code']]);
  hasAttribute(name) {
    return this.attributes.has(name);
  }
  setAttribute(name, value) {
    this.attributes.set(name, value);
  }
  setSelectionRange(start) {
    this.selectionStart = start;
  }
  type(value, caret = value.length) {
    this.value = value;
    this.selectionStart = caret;
    this.dispatchEvent(new Event('input'));
  }
}

test('bindCodeInput formats a field as the person types and tells the page, in every entry', () => {
  for (const entry of [light, full]) {
    const field = new CodeField();
    const heard = [];
    const completed = [];
    const binding = entry.bindCodeInput(field, {
      onInput: (state) => heard.push(state),
      onComplete: (code) => completed.push(code),
    });
    assert.equal(field.attributes.get('inputmode'), 'numeric');
    assert.equal(field.attributes.get('autocomplete'), 'one-time-code');
    assert.equal(field.attributes.get('placeholder'), 'Your code', "the page's own attributes stay");

    field.type('12x345', 3);
    assert.equal(field.value, '1234-5');
    assert.equal(field.selectionStart, 2, 'the caret stays after the same digit');
    assert.deepEqual(heard.at(-1), {
      value: '1234-5',
      missing: 11,
      complete: false,
      code: null,
      status: '“x” is not a digit and was left out.',
    });
    assert.equal(binding.code, null);

    field.type('1234 5678 9012 3456');
    field.type('1234-5678-9012-34567');
    assert.deepEqual(completed, ['12345678-90123456'], 'onComplete once, when the 16th digit arrives');
    assert.equal(binding.code, '12345678-90123456');
    assert.equal(binding.status, 'All 16 digits are there.');

    binding.unbind();
    field.type('1 2');
    assert.equal(field.value, '1 2', 'an unbound field is left as typed');
  }
});

test('a listener that throws does not break the field', () => {
  const field = new CodeField();
  const reported = [];
  const reportError = globalThis.reportError;
  globalThis.reportError = (error) => reported.push(error.message);
  try {
    light.bindCodeInput(field, {
      onInput: () => {
        throw new Error('the page broke');
      },
    });
    field.type('12345');
    assert.equal(field.value, '1234-5');
    assert.deepEqual(reported, ['the page broke']);
  } finally {
    globalThis.reportError = reportError;
  }
});

test('bindCodeInput refuses options it does not know, and binds nothing', () => {
  const refused = (options, pattern) => {
    const field = new CodeField();
    assert.throws(
      () => light.bindCodeInput(field, options),
      (e) => e instanceof Error && e.code === 'invalid_options' && pattern.test(e.message),
      String(options),
    );
    field.type('12345');
    assert.equal(field.value, '12345', 'the field is not bound');
  };
  refused('fast', /must be an object/);
  refused({ oninput: () => {} }, /Unknown bindCodeInput option “oninput”: the options are onInput, onComplete\./);
  refused({ onComplete: 'send' }, /`onComplete` must be a function/);
});
