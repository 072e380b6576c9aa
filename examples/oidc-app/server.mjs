// A web application that lets only signed-in people in, through OpenID Connect with
// openid-client (certified by the OpenID Foundation), and qrauth as the provider: people sign
// in by QR with their phone, by an offline code or with a password, on qrauth's page, and come
// back here. Nothing here knows qrauth beyond its address and this application's registration
// (`qrauth client add "My app" --redirect-uri http://127.0.0.1:8092/callback
// --post-logout-redirect-uri http://127.0.0.1:8092/`).
//
//   QRAUTH_ISSUER=http://127.0.0.1:8081 CLIENT_ID=… CLIENT_SECRET=… PORT=8092 node server.mjs
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import * as oidc from 'openid-client';

const issuer = process.env.QRAUTH_ISSUER;
const clientId = process.env.CLIENT_ID;
const clientSecret = process.env.CLIENT_SECRET;
if (!issuer || !clientId || !clientSecret) {
  console.error('Set QRAUTH_ISSUER (such as http://127.0.0.1:8081), CLIENT_ID and CLIENT_SECRET.');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 8092);

// http is for this machine only; behind https, drop allowInsecureRequests.
const insecure = issuer.startsWith('http://') ? { execute: [oidc.allowInsecureRequests] } : undefined;
const config = await oidc.discovery(
  new URL(issuer),
  clientId,
  { id_token_signed_response_alg: 'ES256' },
  oidc.ClientSecretBasic(clientSecret),
  insecure,
);

/** Signed-in people and sign-ins under way, by this application's own cookie. */
const sessions = new Map();
const pending = new Map();

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const cookieOf = (request, name) =>
  request.headers.cookie
    ?.split(';')
    .map((pair) => pair.trim().split('='))
    .find(([key]) => key === name)?.[1];

/** How the person signed in, from the identity token's `amr` (RFC 8176). */
function describeAmr(amr = []) {
  if (amr.includes('otp')) return 'an offline code from their token';
  if (amr.includes('swk')) return amr.includes('user') ? 'their phone, with biometry' : 'their phone, with its PIN';
  if (amr.includes('pwd')) return 'a password';
  return 'an unknown method';
}

function page(title, body) {
  return `<!doctype html><html lang="en"><meta charset="utf-8"><link rel="icon" href="data:,">
<title>${escapeHtml(title)} · My app</title><main><h1>${escapeHtml(title)}</h1>${body}</main></html>`;
}

const server = createServer(async (request, response) => {
  const here = new URL(request.url, `http://127.0.0.1:${port}`);
  const send = (status, html, headers = {}) => {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
    response.end(html);
  };
  const go = (location, headers = {}) => {
    response.writeHead(302, { location, ...headers });
    response.end();
  };
  try {
    if (here.pathname === '/') {
      const session = sessions.get(cookieOf(request, 'app_session'));
      if (!session) return go('/login');
      return send(
        200,
        page(
          'My app',
          `<p data-testid="greeting">Hello, ${escapeHtml(session.claims.sub)}.</p>
<p data-testid="how">You signed in with ${escapeHtml(describeAmr(session.claims.amr))}.</p>
<p><a href="/logout" data-testid="logout">Sign out</a></p>`,
        ),
      );
    }
    if (here.pathname === '/login') {
      const checks = {
        pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
        expectedState: oidc.randomState(),
        expectedNonce: oidc.randomNonce(),
      };
      const id = randomBytes(16).toString('hex');
      pending.set(id, checks);
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: new URL('/callback', here).href,
        scope: 'openid profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
        code_challenge_method: 'S256',
        state: checks.expectedState,
        nonce: checks.expectedNonce,
      });
      return go(url.href, { 'set-cookie': `app_pending=${id}; HttpOnly; SameSite=Lax; Path=/` });
    }
    if (here.pathname === '/callback') {
      const id = cookieOf(request, 'app_pending');
      const checks = pending.get(id);
      if (!checks) return go('/login');
      pending.delete(id);
      const tokens = await oidc.authorizationCodeGrant(config, here, checks);
      const session = randomBytes(16).toString('hex');
      sessions.set(session, { claims: tokens.claims(), idToken: tokens.id_token });
      return go('/', { 'set-cookie': `app_session=${session}; HttpOnly; SameSite=Lax; Path=/` });
    }
    if (here.pathname === '/logout') {
      const id = cookieOf(request, 'app_session');
      const session = sessions.get(id);
      sessions.delete(id);
      const ended = 'app_session=; Max-Age=0; Path=/';
      if (!session) return go('/', { 'set-cookie': ended });
      const end = oidc.buildEndSessionUrl(config, {
        id_token_hint: session.idToken,
        post_logout_redirect_uri: new URL('/', here).href,
      });
      return go(end.href, { 'set-cookie': ended });
    }
    send(404, page('Not found', '<p><a href="/">Home</a></p>'));
  } catch (error) {
    console.error(error);
    send(502, page('Sign-in failed', `<p data-testid="problem">${escapeHtml(error.message)}</p><p><a href="/login">Try again</a></p>`));
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
