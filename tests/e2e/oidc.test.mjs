// qrauth as an OpenID Provider for a relying party that nobody here wrote: `openid-client`
// (certified by the OpenID Foundation) discovers the server, sends a browser to sign in, and
// validates the identity token itself. The browser signs in by QR with the browser token,
// passing the QR as a screenshot; the test listens at the relying party's callback, as the
// application would.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

import * as oidc from '../../web/test/support/openid-client.mjs';

import { AccountPage, SignInPage, TokenPage, baseUrl, launchBrowser, oidcAccount, openPage, test } from './support.mjs';

const PIN = '7315';

let browser;
let token;
let config;
let application;
/** Who waits for the next request at the application's callback. */
const arrivals = [];
before(async () => {
  // The application's callback, listening where it registered it.
  const callbackUrl = new URL(oidcAccount.redirectUri);
  application = createServer((request, response) => {
    arrivals.shift()?.(new URL(request.url, callbackUrl));
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><link rel="icon" href="data:,"><h1>Back at the application</h1>');
  });
  await new Promise((resolve) => application.listen(Number(callbackUrl.port), '127.0.0.1', resolve));
  browser = await launchBrowser();
  config = await oidc.discovery(
    new URL(baseUrl),
    oidcAccount.clientId,
    { id_token_signed_response_alg: 'ES256' },
    oidc.ClientSecretBasic(oidcAccount.clientSecret),
    { execute: [oidc.allowInsecureRequests] },
  );
  // The person's phone, with a token of their own.
  const phone = await openPage(browser, { name: 'phone', viewport: { width: 390, height: 844 } });
  token = new TokenPage(phone.page);
  const computer = await openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
  await new SignInPage(computer.page).signInWithPassword(oidcAccount.user, oidcAccount.password);
  const accountPage = new AccountPage(computer.page);
  await accountPage.identity.waitFor();
  await token.activateFrom(accountPage, PIN);
  await computer.close();
});
after(async () => {
  await browser?.close();
  application?.close();
});

/** An authorization request as the relying party makes one, with what it keeps to check the answer. */
async function authorizationRequest() {
  const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
  const expectedState = oidc.randomState();
  const expectedNonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: oidcAccount.redirectUri,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
  });
  return { url, checks: { pkceCodeVerifier, expectedState, expectedNonce } };
}

/** Opens `url` in `page` and resolves with the address the browser is sent back to. */
async function followToCallback(page, url, signIn) {
  const callback = new Promise((resolve) => {
    arrivals.push(resolve);
  });
  await page.goto(url.href);
  await signIn?.();
  return callback;
}

test('a relying party signs a person in by QR with the browser token, and validates the identity token', async () => {
  const { page: computer, problems } = await openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
  const { url, checks } = await authorizationRequest();
  const signInPage = new SignInPage(computer);
  const callback = await followToCallback(computer, url, async () => {
    // The sign-in page says which application asks, by the name its operator registered.
    await computer.getByTestId('asked-by').filter({ hasText: `Sign in to continue to ${oidcAccount.clientName}.` }).waitFor();
    await signInPage.waitForState('waiting');
    await token.open();
    assert.equal(await token.scanPicture(await signInPage.qr.screenshot()), '');
    await token.loginRequest.waitFor();
    await token.approveSignIn(await signInPage.shownNumber(), PIN);
  });
  assert.equal(callback.searchParams.get('iss'), new URL(baseUrl).origin);

  const tokens = await oidc.authorizationCodeGrant(config, callback, checks);
  const claims = tokens.claims();
  assert.equal(claims.sub, oidcAccount.user);
  assert.equal(claims.aud, oidcAccount.clientId);
  assert.deepEqual(claims.amr, ['swk', 'pin', 'mfa'], 'signed in by QR with the PIN');
  assert.ok(claims.auth_time <= claims.iat);
  const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.preferred_username, oidcAccount.user);

  // Signed in here now: the next application's request comes straight back with a code.
  const second = await authorizationRequest();
  const again = await followToCallback(computer, second.url);
  const more = await oidc.authorizationCodeGrant(config, again, second.checks);
  assert.equal(more.claims().sub, oidcAccount.user);

  // The same code a second time, as an attacker who caught it would: refused, and what it gave
  // is revoked.
  await assert.rejects(oidc.authorizationCodeGrant(config, again, second.checks), (e) => e.error === 'invalid_grant');
  await assert.rejects(oidc.fetchUserInfo(config, more.access_token, oidcAccount.user), (e) => e.status === 401);

  // RP-initiated logout ends the session here.
  const logout = oidc.buildEndSessionUrl(config, { id_token_hint: more.id_token });
  await computer.goto(logout.href);
  await computer.getByTestId('signed-out').waitFor();
  const third = await authorizationRequest();
  await computer.goto(third.url.href);
  await computer.getByTestId('asked-by').waitFor();
  // The sign-in page asks whether someone is signed in already; nobody is, which is a 401.
  const unexpected = problems.filter((p) => !p.endsWith('/api/v1/session') && !p.includes('status of 401'));
  assert.deepEqual(unexpected, []);
});

test('what the library refuses: a wrong nonce, a wrong PKCE verifier, a wrong client secret, an unregistered address', async () => {
  const { page: computer } = await openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
  await new SignInPage(computer).signInWithPassword(oidcAccount.user, oidcAccount.password);
  await new AccountPage(computer).identity.waitFor();

  const nonce = await authorizationRequest();
  const withNonce = await followToCallback(computer, nonce.url);
  await assert.rejects(
    oidc.authorizationCodeGrant(config, withNonce, { ...nonce.checks, expectedNonce: 'not-the-nonce' }),
    (e) => /"nonce" claim/.test(e.cause?.message),
  );

  const pkce = await authorizationRequest();
  const withPkce = await followToCallback(computer, pkce.url);
  await assert.rejects(
    oidc.authorizationCodeGrant(config, withPkce, { ...pkce.checks, pkceCodeVerifier: oidc.randomPKCECodeVerifier() }),
    (e) => e.error === 'invalid_grant',
  );

  const secret = await authorizationRequest();
  const withSecret = await followToCallback(computer, secret.url);
  const wrongSecret = new oidc.Configuration(
    config.serverMetadata(),
    oidcAccount.clientId,
    { id_token_signed_response_alg: 'ES256' },
    oidc.ClientSecretBasic('not-the-secret'),
  );
  oidc.allowInsecureRequests(wrongSecret);
  // RFC 6749 §5.2: 401 with a Basic challenge, since the client sent Authorization: Basic.
  const refused = await oidc.authorizationCodeGrant(wrongSecret, withSecret, secret.checks).then(
    () => assert.fail('a wrong client secret got tokens'),
    (e) => e,
  );
  assert.equal(refused.response?.status, 401);
  assert.equal(refused.cause?.[0]?.scheme, 'basic');
  assert.equal((await refused.response.json()).error, 'invalid_client');

  // An address the application did not register: a page, never a redirect there.
  const evil = await authorizationRequest();
  evil.url.searchParams.set('redirect_uri', new URL('/evil', oidcAccount.redirectUri).href);
  const response = await computer.goto(evil.url.href);
  assert.equal(response.status(), 400);
  assert.equal(new URL(computer.url()).host, new URL(baseUrl).host);
  await computer.getByTestId('oidc-refusal').waitFor();
});
