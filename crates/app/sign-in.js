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

const addressOf = (way) => (way === 'phone' ? '/' : `/?with=${way}`);

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
  signIn.setAttribute('signed-in-href', SIGNED_IN_PATH);
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
