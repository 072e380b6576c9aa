// The account page's side of the Node tests: a password sign-in on the qrauth server that
// `cargo xtask test` started (QRAUTH_URL, QRAUTH_USER, QRAUTH_PASSWORD).
import assert from 'node:assert/strict';

export const server = process.env.QRAUTH_URL;
export const user = process.env.QRAUTH_USER;
export const password = process.env.QRAUTH_PASSWORD;
if (!server || !user || !password) {
  throw new Error('QRAUTH_URL, QRAUTH_USER and QRAUTH_PASSWORD are not set: run `cargo xtask test node`');
}

/**
 * A user of one test file's own (QRAUTH_<NAME>_USER and _PASSWORD), so that tokens activated by
 * the other files, which may run at the same time, never become the newest token of its user,
 * which signs the user's offline operations.
 */
export function account(name) {
  const [user, password] = [process.env[`QRAUTH_${name}_USER`], process.env[`QRAUTH_${name}_PASSWORD`]];
  if (!user || !password) throw new Error(`QRAUTH_${name}_USER and _PASSWORD are not set: run \`cargo xtask test node\``);
  return { user, password };
}

/**
 * Signs in with the password (of `account`, the main test user by default) on `at` (the test
 * server by default); resolves to a POST with the session cookie: `(path, body) => { status, body }`.
 */
export async function signedIn(account = { user, password }, at = server) {
  const server = at;
  const session = await fetch(`${server}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(account),
  });
  assert.equal(session.status, 200);
  const cookie = session.headers.get('set-cookie').split(';')[0];
  return async (path, body = {}) => {
    const response = await fetch(`${server}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
}
