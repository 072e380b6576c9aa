// The npm build of qrauth-token, loaded the way a user's code loads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { normalizeCode, renderQrSvg } from 'qrauth-token';
import { decodeSvg } from './support/qr.mjs';

test('normalizeCode reads a code typed with spaces, dashes or pasted', () => {
  for (const input of ['1234 5678 9012 3456', '1234-5678-9012-3456', ' 12345678-90123456\n', '１２３４５６７８９０１２３４５６']) {
    assert.deepEqual(normalizeCode(input), {
      ok: true,
      canonical: '12345678-90123456',
      display: '1234-5678-9012-3456',
      grouped: '1234-5678-9012-3456',
      missing: 0,
      error: null,
    }, input);
  }
});

test('normalizeCode says how many digits are missing, or what does not belong', () => {
  assert.deepEqual(normalizeCode('1234 5678 9'), {
    ok: false,
    canonical: null,
    display: null,
    grouped: '1234-5678-9',
    missing: 7,
    error: { code: 'too_few_digits', message: 'The code has 9 of 16 digits: 7 digits missing.' },
  });
  assert.equal(normalizeCode('').error.code, 'empty');
  assert.equal(normalizeCode('1234567890123456789').error.code, 'too_many_digits');
  const foreign = normalizeCode('1234-5678-9O12-3456');
  assert.equal(foreign.error.code, 'foreign_character');
  assert.match(foreign.error.message, /“O” \(character 12\) is not a digit/);
});

test('renderQrSvg encodes the exact UTF-8 bytes in byte mode', () => {
  for (const text of [
    'https://example.com/token#scan=Zm9vYmFy',
    'Platba 1 250,00 Kč\\nPříjemce: Žluťoučký kůň \\* 🔐',
    '日本語のタイトル',
  ]) {
    const svg = renderQrSvg(text, { label: 'QR code' });
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /role="img" aria-label="QR code"/);
    const decoded = decodeSvg(svg);
    assert.deepEqual(decoded.bytes, Buffer.from(text, 'utf8'), text);
    assert.deepEqual([...new Set(decoded.modes)], ['byte'], text);
  }
});

test('renderQrSvg applies margin, colours and size', () => {
  const svg = renderQrSvg('hello', { margin: 2, dark: '#123456', light: '#fafafa', size: 200, errorCorrection: 'H' });
  assert.match(svg, /viewBox="0 0 25 25"/); // version 1: 21 modules + 2 x 2
  assert.match(svg, /width="200" height="200"/);
  assert.match(svg, /<rect width="25" height="25" fill="#fafafa"\/>/);
  assert.match(svg, /<path fill="#123456"/);
  assert.equal(decodeSvg(svg).text, 'hello');
});

test('renderQrSvg throws Errors with a stable code', () => {
  const throwsWith = (code, fn) =>
    assert.throws(fn, (e) => e instanceof Error && e.code === code && e.message.length > 10);
  throwsWith('qr_invalid_colour', () => renderQrSvg('x', { dark: 'red' }));
  throwsWith('qr_invalid_margin', () => renderQrSvg('x', { margin: 1000 }));
  throwsWith('qr_invalid_size', () => renderQrSvg('x', { size: 0 }));
  throwsWith('qr_invalid_error_correction', () => renderQrSvg('x', { errorCorrection: 'Z' }));
  throwsWith('invalid_options', () => renderQrSvg('x', { colour: '#000' }));
  throwsWith('qr_too_long', () => renderQrSvg('a'.repeat(2332)));
  assert.doesNotThrow(() => renderQrSvg('a'.repeat(2331)));
});

test('the browser build initializes from the wasm bytes and gives the same answers', async () => {
  const web = await import('../pkg/web/qrauth_token.js');
  const wasm = await readFile(new URL('../pkg/web/qrauth_token_bg.wasm', import.meta.url));
  await web.default({ module_or_path: wasm });
  assert.equal(web.normalizeCode('1234 5678 9012 3456').canonical, '12345678-90123456');
  assert.equal(web.renderQrSvg('hello'), renderQrSvg('hello'));
});
