// The entry `qrauth-token/sign-in` against a real `qrauth serve` (started by `cargo xtask test`
// with 5-second logins): a page's QR login from start to signed in, with a real token approving
// it, and everything a page does around it: leave (AbortSignal), StrictMode's double start,
// renewal on expiry with its bound, a server that refuses or answers garbage.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

import { describeLogin, describeServer, renderQrSvg, signInWithPassword, startLogin } from 'qrauth-token/sign-in';
import * as light from 'qrauth-token/qr';
import { SoftwareToken } from 'qrauth-token';

import { password, server, signedIn, user } from './support/account.mjs';

/** Resolves with the first value `login` emits on `event`, or rejects after `ms`. */
function next(login, event, ms = 15_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event in ${ms} ms`)), ms);
    const listener = (value) => {
      clearTimeout(timer);
      login.off(event, listener);
      resolve(value);
    };
    login.on(event, listener);
  });
}

/** Resolves when `login` reaches `state`. */
async function reaches(login, state) {
  while (login.state !== state) {
    await next(login, 'state');
  }
}

/** A frame of a sign-in QR without its step and MAC: the login's link. */
const linkOf = (frame) => frame.replace(/\.\d+\.[\w-]{11}$/, '');

/** A token of `user`, activated through the account page's API. */
async function activatedToken() {
  const offer = await (await signedIn())('/activations');
  assert.equal(offer.status, 201);
  const token = await SoftwareToken.open({ server, database: `sign-in-${process.pid}` });
  const activation = await token.activate({ code: offer.body.activationQr, pin: '2580', pinAgain: '2580' });
  return { token, activationId: activation.activationId };
}

test('a page signs in: the QR, SCANNED when the phone scans, APPROVED, then complete() with an identity token', async () => {
  const { token, activationId } = await activatedToken();
  const login = await startLogin({ server });
  assert.equal(login.state, 'PENDING');
  assert.match(login.qrText, /\/token#scan=/);
  assert.ok(login.expiresInMs > 3_000 && login.expiresInMs <= 5_000, `${login.expiresInMs} ms left`);
  assert.equal(renderQrSvg(login.qrText), light.renderQrSvg(login.qrText), 'the same QR as the light entry');
  const states = [];
  login.on('state', (state) => states.push(state));

  const request = await token.attachLogin(login.qrText);
  await reaches(login, 'SCANNED');
  await assert.rejects(login.complete(), (e) => e.code === 'login_not_approved');
  assert.match(login.number, /^\d\d$/, 'number matching: the page shows two digits once scanned');
  assert.equal(describeLogin('SCANNED', null, login).message, `Check your phone: type ${login.number} there, then approve.`);
  await assert.rejects(token.approveLogin(activationId, request, '2580', '1'), (e) => e.code === 'number_invalid');
  await token.approveLogin(activationId, request, '2580', login.number);
  await reaches(login, 'APPROVED');

  const done = await login.complete();
  assert.equal(Object.getPrototypeOf(done), Object.prototype);
  assert.equal(done.user, user);
  assert.equal(done.loginId, login.loginId);
  assert.equal(done.idToken.split('.').length, 3, 'a JWT');
  assert.deepEqual(states, ['SCANNED', 'APPROVED', 'COMPLETED']);
  await assert.rejects(login.renew(), (e) => e.code === 'login_ended');
});

test('the QR changes every second: each `frame` is the next step of the same login, and the one on screen attaches', async () => {
  const { token } = await activatedToken();
  const login = await startLogin({ server });
  const first = login.qrText;
  const frames = [await next(login, 'frame', 3_000), await next(login, 'frame', 3_000)];
  const step = (frame) => Number(frame.match(/\.(\d+)\.[\w-]{11}$/)[1]);
  assert.ok(step(first) <= 1, first);
  assert.equal(step(frames[1]), step(frames[0]) + 1, `${frames}`);
  for (const frame of frames) assert.equal(linkOf(frame), linkOf(first), 'the same login');
  assert.notEqual(frames[0], frames[1]);
  assert.equal(login.qrText, frames[1], 'qrText is the frame on screen');
  const request = await token.attachLogin(login.qrText);
  assert.equal(request.loginId, login.loginId);
  await reaches(login, 'SCANNED');
  await login.cancel();
});

test('extend() gives the code its lifetime again, as often as the server allows, then says so', async () => {
  const login = await startLogin({ server });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const before = login.expiresInMs;
  await login.extend();
  assert.ok(login.expiresInMs > before + 1_500, `${before} -> ${login.expiresInMs} ms left`);
  assert.ok(login.expiresInMs <= 5_000);
  // The server allows a login four lifetimes (20 s here): extending later runs into it.
  let refused;
  for (let i = 0; i < 12 && !refused; i++) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    refused = await login.extend().then(() => undefined, (e) => e);
  }
  assert.equal(refused?.code, 'login_extension_limit', `${refused}`);
  assert.equal(login.state, 'PENDING', 'the login itself goes on until it expires');
  await login.cancel();
  await assert.rejects(login.extend(), (e) => e.code === 'login_state_conflict');
});

test('an AbortSignal ends the login and cancels it on the server; aborted before, startLogin makes none', async () => {
  const controller = new AbortController();
  const login = await startLogin({ server, signal: controller.signal });
  const { token } = await activatedToken();
  controller.abort();
  await reaches(login, 'CANCELED');
  // The QR is worth nothing now: a phone that scans it is told so.
  await assert.rejects(token.attachLogin(login.qrText), (e) => /login/.test(e.code));

  const gone = new AbortController();
  gone.abort();
  await assert.rejects(startLogin({ server, signal: gone.signal }), (e) => e.code === 'aborted');
});

test("React StrictMode's mount, unmount, mount leaves one login: the first is cancelled", async () => {
  const first = new AbortController();
  const starting = startLogin({ server, signal: first.signal });
  first.abort(); // unmounted while the login was being made
  await assert.rejects(starting, (e) => e.code === 'aborted');
  const second = new AbortController();
  const login = await startLogin({ server, signal: second.signal });
  assert.equal(login.state, 'PENDING');
  second.abort();
  await reaches(login, 'CANCELED');
});

test('an expired login is renewed with a new QR, as many times as allowed, then `expired`; renew() starts again', async () => {
  const login = await startLogin({ server, renewals: 1 });
  const firstQr = login.qrText;
  const firstId = login.loginId;
  const renewed = await next(login, 'renewed', 12_000);
  assert.equal(renewed.loginId, login.loginId);
  assert.notEqual(login.loginId, firstId);
  assert.notEqual(login.qrText, firstQr);
  assert.equal(login.state, 'PENDING');
  await next(login, 'expired', 12_000);
  assert.equal(login.state, 'EXPIRED');
  await login.renew();
  await next(login, 'renewed');
  assert.equal(login.state, 'PENDING');
  await login.cancel();
  assert.equal(login.state, 'CANCELED');
  await login.cancel(); // a second cancel changes nothing
});

test('options and events are checked by name, and nothing is made when they are wrong', async () => {
  const refused = (options, pattern) =>
    assert.rejects(startLogin(options), (e) => e.code === 'invalid_options' && pattern.test(e.message));
  await refused({ sever: server }, /Unknown startLogin option “sever”/);
  await refused({ server, renewals: -1 }, /`renewals` must be a whole number/);
  await refused({ server, signal: 'stop' }, /`signal` must be an AbortSignal/);
  await refused({ server, created: { status: 201 } }, /`created` must be the Promise that `fetch` returned/);
  await refused('fast', /must be an object/);
  const login = await startLogin({ server });
  assert.throws(() => login.on('approved', () => {}), (e) => e.code === 'invalid_options' && /the events are state, error, frame, renewed, expired/.test(e.message));
  await login.cancel();
});

/** A server of the test's own that answers POST /logins as qrauth does, then GETs as `poll` says. */
async function fakeServer(poll, { answerLoginAfterMs = 0, onLoginAsked = () => {} } = {}) {
  let polls = 0;
  let cancels = 0;
  const http = createServer(async (request, response) => {
    if (request.method === 'POST') {
      onLoginAsked();
      await new Promise((resolve) => setTimeout(resolve, answerLoginAfterMs));
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({
        loginId: 'l1', pollSecret: 's', qrText: 'https://x/token#scan=abc.0.AAAAAAAAAAA', qrSecret: 'A'.repeat(43), state: 'PENDING',
        expiresAt: Date.now() + 60_000, expiresInMs: 60_000, pollIntervalMs: 100, longPollMaxSeconds: 0,
      }));
      return;
    }
    if (request.method === 'DELETE') {
      cancels += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ loginId: 'l1', state: 'CANCELED', expiresAt: 0, expiresInMs: 0 }));
      return;
    }
    polls += 1;
    poll(polls, response);
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${http.address().port}`,
    close: () => http.close(),
    polls: () => polls,
    cancels: () => cancels,
  };
}

test('a page that leaves while its login is being made cancels the login the server made', async () => {
  const leave = new AbortController();
  const fake = await fakeServer(() => {}, { answerLoginAfterMs: 200, onLoginAsked: () => leave.abort() });
  try {
    await assert.rejects(startLogin({ server: fake.url, signal: leave.signal }), (e) => e.code === 'aborted');
    assert.equal(fake.cancels(), 1, 'the login made after the page left is cancelled, not left behind');
    assert.equal(fake.polls(), 0);
  } finally {
    fake.close();
  }
});

test('5xx, 429 with Retry-After and garbage are retried with back-off and reported; an unknown state is an error, never signed in', async () => {
  const fake = await fakeServer((n, response) => {
    if (n === 1) {
      response.writeHead(503, { 'content-type': 'text/html' });
      response.end('<h1>Bad gateway</h1>');
    } else if (n === 2) {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      response.end(JSON.stringify({ error: { code: 'rate_limited', message: 'Too many requests.' } }));
    } else {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ loginId: 'l1', state: 'SIGNED_IN_FOR_SURE', expiresAt: 0, expiresInMs: 1000 }));
    }
  });
  try {
    const login = await startLogin({ server: fake.url });
    const errors = [];
    const ended = new Promise((resolve) => login.on('error', (e) => (errors.push(e), e.retryInMs === undefined && resolve())));
    await ended;
    assert.equal(errors.length, 3, errors.map((e) => e.message).join(' / '));
    assert.equal(errors[0].code, 'server_answer_invalid');
    assert.ok(errors[0].retryInMs > 0);
    assert.equal(errors[1].code, 'rate_limited');
    assert.ok(errors[1].retryInMs >= 1000, `waits as Retry-After asks: ${errors[1].retryInMs} ms`);
    assert.equal(errors[2].code, 'login_state_unknown');
    assert.match(errors[2].message, /SIGNED_IN_FOR_SURE/);
    assert.equal(login.state, 'PENDING', 'an unknown state is not taken for another');
    await assert.rejects(login.complete(), (e) => e.code === 'login_not_approved');
    const polls = fake.polls();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(fake.polls(), polls, 'nothing more is asked once the login ended');
  } finally {
    fake.close();
  }
});

test('a server that cannot be reached rejects startLogin with `network`', async () => {
  const closed = await fakeServer(() => {});
  closed.close();
  await assert.rejects(startLogin({ server: closed.url }), (e) => e.code === 'network');
});

test('a login the page asked for before the wasm loaded (`created`) is the first one, read as the package reads its own', async () => {
  const asked = await fetch(`${server}/api/v1/logins`, { method: 'POST', credentials: 'omit' });
  const made = await asked.clone().json();
  const login = await startLogin({ server, created: Promise.resolve(asked) });
  assert.equal(login.loginId, made.loginId);
  assert.equal(linkOf(login.qrText), linkOf(made.qrText));
  assert.equal(login.state, 'PENDING');
  await login.cancel();
  assert.equal(login.state, 'CANCELED');

  const answered = (status, body) => Promise.resolve(new Response(body, { status, headers: { 'content-type': 'application/json' } }));
  await assert.rejects(
    startLogin({ server, created: answered(429, '{"error":{"code":"rate_limited","message":"Too many logins."}}') }),
    (e) => e.code === 'rate_limited' && e.transient === true && /Too many logins/.test(e.message),
  );
  await assert.rejects(startLogin({ server, created: answered(201, 'not json') }), (e) => e.code === 'server_answer_invalid');
  await assert.rejects(startLogin({ server, created: Promise.reject(new TypeError('fetch failed')) }), (e) => e.code === 'network');
});

test('signInWithPassword signs in, and says what is wrong in the words of the sign-in page', async () => {
  assert.deepEqual(await signInWithPassword({ server, user, password }), { user });
  await assert.rejects(
    signInWithPassword({ server, user, password: 'not the password' }),
    (e) => e.code === 'invalid_credentials' && e.message === 'The user name or password is not right.',
  );
  await assert.rejects(
    signInWithPassword({ server, user: '  ', password }),
    (e) => e.code === 'invalid_options' && e.message === 'Type your user name and password.',
  );
  await assert.rejects(signInWithPassword({ server, user, pasword: password }), (e) => e.code === 'invalid_options' && /“pasword”/.test(e.message));
});

test('describeServer says what the footer of every qrauth page says', async () => {
  const { version } = await (await fetch(`${server}/api/v1/health`)).json();
  assert.equal(await describeServer(server), `Server ok · qrauth ${version}`);
  assert.equal(await describeServer('http://127.0.0.1:9'), 'Server unavailable: the server cannot be reached');
});
