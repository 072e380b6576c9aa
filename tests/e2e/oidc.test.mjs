// qrauth as an OpenID Provider for relying parties that nobody here wrote: `openid-client`
// (certified by the OpenID Foundation) discovers the server and validates the identity tokens
// itself. examples/oidc-app, protected with it, lets in a person who signs in by QR with the
// browser token (the QR passed as a screenshot); the test also drives the library directly,
// listening at a second client's callback as its application would, to try what must fail.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

import * as oidc from '../../web/test/support/openid-client.mjs';

import { AccountPage, SignInPage, TokenPage, baseUrl, launchBrowser, oidcAccount, openPage, test } from './support.mjs';

const PIN = '7315';

let browser;
let token;
let config;
let application;
let exampleApp;
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
  exampleApp = await startExampleApp();
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
  exampleApp?.kill();
});

/** examples/oidc-app on its registered port, against this server. */
async function startExampleApp() {
  const child = spawn(process.execPath, ['server.mjs'], {
    cwd: fileURLToPath(new URL('../../examples/oidc-app/', import.meta.url)),
    env: {
      ...process.env,
      QRAUTH_ISSUER: new URL(baseUrl).origin,
      CLIENT_ID: oidcAccount.app.clientId,
      CLIENT_SECRET: oidcAccount.app.clientSecret,
      PORT: oidcAccount.app.port,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    let printed = '';
    child.stdout.on('data', (chunk) => {
      printed += chunk;
      if (printed.includes('listening on')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the example exited with ${code}: ${printed}`)));
  });
  return child;
}

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

test('an application protected with openid-client lets in a person who signs in by QR with the browser token', async () => {
  const { page: computer, problems } = await openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
  const signInPage = new SignInPage(computer);
  const appUrl = `http://127.0.0.1:${oidcAccount.app.port}/`;
  await computer.goto(appUrl);
  // At qrauth's sign-in page, which says which application asks, by its registered name.
  await computer.getByTestId('asked-by').filter({ hasText: `Sign in to continue to ${oidcAccount.app.name}.` }).waitFor();
  await signInPage.waitForState('waiting');
  await token.open();
  assert.equal(await token.scanPicture(await signInPage.qr.screenshot()), '');
  await token.loginRequest.waitFor();
  await token.approveSignIn(await signInPage.shownNumber(), PIN);

  // Back at the application, which validated the identity token with openid-client.
  await computer.getByTestId('greeting').filter({ hasText: `Hello, ${oidcAccount.user}.` }).waitFor();
  assert.equal(new URL(computer.url()).href, appUrl);
  assert.equal(await computer.getByTestId('how').textContent(), 'You signed in with their phone, with its PIN.');

  // Signing out of the application ends the session at qrauth too: the application's next
  // sign-in asks again.
  await computer.getByTestId('logout').click();
  await computer.getByTestId('asked-by').waitFor();
  // The sign-in page asks whether someone is signed in already; nobody is, which is a 401.
  const unexpected = problems.filter((p) => !p.endsWith('/api/v1/session') && !p.includes('status of 401'));
  assert.deepEqual(unexpected, []);
});

test('a relying party gets an identity token it validates; a code used twice revokes what it gave', async () => {
  const { page: computer } = await openPage(browser, { name: 'computer', viewport: { width: 1280, height: 900 } });
  await new SignInPage(computer).signInWithPassword(oidcAccount.user, oidcAccount.password);
  await new AccountPage(computer).identity.waitFor();

  const { url, checks } = await authorizationRequest();
  const callback = await followToCallback(computer, url);
  assert.equal(callback.searchParams.get('iss'), new URL(baseUrl).origin);
  const tokens = await oidc.authorizationCodeGrant(config, callback, checks);
  const claims = tokens.claims();
  assert.equal(claims.sub, oidcAccount.user);
  assert.equal(claims.aud, oidcAccount.clientId);
  assert.deepEqual(claims.amr, ['pwd']);
  assert.ok(claims.auth_time <= claims.iat);
  const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.preferred_username, oidcAccount.user);

  // The same code a second time, as an attacker who caught it would: refused, and what it gave
  // is revoked.
  await assert.rejects(oidc.authorizationCodeGrant(config, callback, checks), (e) => e.error === 'invalid_grant');
  await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, oidcAccount.user), (e) => e.status === 401);

  // RP-initiated logout ends the session here.
  await computer.goto(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token }).href);
  await computer.getByTestId('signed-out').waitFor();
  await computer.goto((await authorizationRequest()).url.href);
  await computer.getByTestId('asked-by').waitFor();
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
