// The sign-in page, `/`: the npm package's <qrauth-sign-in> in the app's frame (sign-in.html).
// No Leptos here: the element is a thin view over the same Rust as every qrauth page (the
// session, its words, the code field), so the page every visitor loads first carries nothing
// else. `cargo xtask dist` bundles this file, the element and the sign-in entry's JavaScript
// into one module, and the start-up script (boot.js) calls its default export with the wasm.
import { load } from '../../web/elements/elements.js';
import { describeServer } from '../../web/pkg/sign-in/qrauth_token_sign_in.js';

/** Where a person goes once signed in. */
const SIGNED_IN_PATH = '/account';

/** The way in that an address names: `/?with=code`, `/?with=password`, or the phone's `/`. */
function wayOf(address) {
  const way = new URLSearchParams(address.search).get('with');
  return way === 'code' || way === 'password' ? way : 'phone';
}

/**
 * Where an application's sign-in link asked to come back to once signed in: the authorization
 * endpoint of this server (`/oauth/authorize?…`), never an address of another site.
 */
function returnOf(address) {
  const target = new URLSearchParams(address.search).get('return');
  return target?.startsWith('/oauth/authorize?') ? target : null;
}

/** The address of a way in, keeping where to return. */
function addressOf(way) {
  const params = new URLSearchParams();
  if (way !== 'phone') params.set('with', way);
  const back = returnOf(location);
  if (back) params.set('return', back);
  const query = params.toString();
  return query ? `/?${query}` : '/';
}

/**
 * For an application's sign-in link: someone already signed in here goes straight back (the
 * application's navigation did not carry the SameSite=Strict cookie; this page's does), and
 * anyone else reads which application asks, by the name its operator registered.
 */
async function continueFor(back) {
  const session = await fetch('/api/v1/session');
  if (session.ok) {
    location.replace(back);
    return;
  }
  const clientId = new URLSearchParams(back.slice(back.indexOf('?'))).get('client_id');
  const client = await fetch(`/api/v1/oidc/clients/${encodeURIComponent(clientId ?? '')}`);
  if (!client.ok) return;
  const { name } = await client.json();
  const asking = document.createElement('p');
  asking.className = 'asked-by';
  asking.dataset.testid = 'asked-by';
  const strong = document.createElement('strong');
  strong.textContent = name;
  asking.append('Sign in to continue to ', strong, '.');
  document.querySelector('#sign-in-title').after(asking);
}

/**
 * Mounts the page while the wasm compiles, and resolves once it runs (rejecting when it does
 * not arrive, which boot.js says).
 */
export default async function start(wasm) {
  const loaded = load(wasm);
  if (location.pathname !== '/') {
    notFound();
  } else {
    mount();
  }
  await loaded;
  // When the page is idle, after the first QR (a timer fired before the login's answer was
  // read): the footer can wait.
  const idle = window.requestIdleCallback ?? ((work) => setTimeout(work, 200));
  idle(
    async () => {
      document.querySelector('[data-testid="health"]').textContent = await describeServer();
    },
    { timeout: 1000 },
  );
}

/** The ways in and the element, in the frame of sign-in.html. */
function mount() {
  const ways = [...document.querySelectorAll('a[data-way]')];
  const mark = (way) => {
    for (const link of ways) {
      if (link.dataset.way === way) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  };
  const signIn = document.createElement('qrauth-sign-in');
  const back = returnOf(location);
  signIn.setAttribute('signed-in-href', back ?? SIGNED_IN_PATH);
  if (back) continueFor(back);
  signIn.way = wayOf(location);
  // The login the start-up script asked for while the wasm loaded: the first QR. The script
  // keeps it too, to cancel it if the wasm does not arrive.
  signIn.created = window.qrauthFirstLogin;
  mark(signIn.way);

  // Another way in is another address, without loading the page again: the element leaves
  // the old way (cancelling its login) and the back button comes back to it.
  const go = (way) => {
    if (wayOf(location) !== way) history.pushState(null, '', addressOf(way));
    mark(way);
  };
  for (const link of ways) {
    link.addEventListener('click', (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      go(link.dataset.way);
      signIn.way = link.dataset.way;
    });
  }
  signIn.addEventListener('qrauth-way', (event) => go(event.detail.way));
  addEventListener('popstate', () => {
    signIn.way = wayOf(location);
    mark(signIn.way);
  });
  document.querySelector('[data-qrauth-sign-in]').replaceWith(signIn);
}

/** Any other path: the server sends this page for addresses it knows no page for. */
function notFound() {
  const title = document.createElement('h1');
  title.textContent = 'Page not found';
  const home = document.createElement('a');
  home.href = '/';
  home.textContent = 'Go to sign-in';
  const back = document.createElement('p');
  back.append(home);
  const card = document.createElement('section');
  card.className = 'card';
  card.dataset.testid = 'not-found';
  card.append(title, back);
  document.querySelector('main').replaceChildren(card);
}
