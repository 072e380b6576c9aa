// <qrauth-sign-in> and <qrauth-code-input>: QR sign-in as two HTML elements, for any framework
// or none. This file holds only the elements' DOM; the session (creating, following, renewing,
// cancelling and completing logins), the code field's formatting and every word the elements
// show come from the wasm of `qrauth-token/sign-in`, the same code as the qrauth app's pages.
//
// No inline styles or scripts: the styles are a constructable stylesheet (allowed by a CSP of
// `style-src 'self'`), and the QR is SVG markup made by `renderQrSvg`, with no style attributes.
import init, {
  backoffMs,
  bindCodeInput,
  countdown,
  describeLogin,
  describeNoCode,
  renderQrSvg,
  signInWithPassword,
  startCodeLogin,
  startLogin,
} from '../pkg/sign-in/qrauth_token_sign_in.js';

let loading;
/**
 * Loads the elements' wasm, once for the page (asked for again after a failure). The elements
 * call it themselves; a page that knows where the wasm is (a bundler's asset URL, a preload)
 * calls it first with wasm-bindgen's init options, `{ module_or_path }`.
 */
export function load(options) {
  loading ??= init(options).catch((error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Said when the wasm did not arrive (no wasm words can say it); the qrauth app says the same. */
const NOT_LOADED = 'The sign-in could not be loaded: part of it did not arrive, the connection may have dropped. Check it and try again.';

/**
 * Resolves when `button` is clicked (with the click) or `signal` aborted (with nothing); the
 * button is shown after `after` meanwhile.
 */
function clicked(button, after, signal) {
  after.after(button);
  return new Promise((resolve) => {
    button.addEventListener('click', resolve, { once: true });
    signal.addEventListener('abort', () => resolve(), { once: true });
  }).finally(() => button.remove());
}

/** How many times in a row an expired code is replaced without a click, unless `renewals` says. */
const AUTOMATIC_RENEWALS = 3;

const CSS = `
:host {
  display: block;
  font: var(--qrauth-font, inherit);
  color: var(--qrauth-text, inherit);
  --_accent: var(--qrauth-accent, #1f5fbf);
  --_muted: var(--qrauth-muted, #5b6470);
  --_error: var(--qrauth-error, #b3261e);
  --_radius: var(--qrauth-radius, 8px);
}
:host([hidden]) { display: none; }
.qr { position: relative; width: var(--qrauth-qr-size, 240px); max-width: 100%; aspect-ratio: 1; }
.qr svg { display: block; width: 100%; height: 100%; }
.qr.expired svg, .qr.ended svg { opacity: 0.15; }
.overlay { position: absolute; inset: 0; display: grid; place-items: center; }
.overlay[hidden], [hidden] { display: none; }
.countdown, .hint, .same-device { color: var(--_muted); }
.number { font-size: 2.5em; font-weight: 700; font-variant-numeric: tabular-nums; letter-spacing: 0.1em; margin: 0.25em 0; }
.status[data-state="denied"], .status[data-state="failed"], .error { color: var(--_error); }
button.primary {
  font: inherit; padding: 0.5em 1em; border: 0; border-radius: var(--_radius);
  background: var(--_accent); color: var(--qrauth-on-accent, #fff); cursor: pointer;
}
button.primary:disabled { opacity: 0.6; cursor: default; }
button.link { font: inherit; padding: 0; border: 0; background: none; color: var(--_accent); text-decoration: underline; cursor: pointer; }
a { color: var(--_accent); }
label { display: block; font-weight: 600; margin: 0.75em 0 0.25em; }
input {
  font: inherit; font-variant-numeric: tabular-nums; padding: 0.5em; width: 100%; max-width: 22em;
  box-sizing: border-box; border: 1px solid var(--_muted); border-radius: var(--_radius);
}
input[aria-invalid="true"] { border-color: var(--_error); }
form > * + button { margin-top: 0.75em; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap;
}
`;

let sheet;
/** One stylesheet for every element on the page. */
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
}

/** An element with attributes (`part`, `class`, ...) and children (nodes or text). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children);
  return element;
}

/** A shadow root with the shared styles. */
function shadow(host) {
  const root = host.attachShadow({ mode: 'open', delegatesFocus: true });
  root.adoptedStyleSheets = [styles()];
  return root;
}

/** Waits `ms`, or less when `signal` is aborted first. */
function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * A code that expires on screen: the QR, the countdown and what screen readers hear, and on
 * expiry a "Get a new code" button when no automatic renewal comes.
 */
class ExpiringQr {
  constructor(label) {
    this.label = label;
    this.picture = h('div', { class: 'qr', part: 'qr', 'data-testid': 'qr' });
    this.renew = h('button', { type: 'button', class: 'primary', part: 'button renew' }, 'Get a new code');
    this.overlay = h('div', { class: 'overlay', hidden: true }, this.renew);
    this.picture.append(this.overlay);
    this.timer = h('p', { class: 'countdown', part: 'countdown', role: 'timer', 'aria-live': 'off', 'data-testid': 'countdown' });
    // More time for a person who needs it (WCAG 2.2.1): offered in the last 30 seconds.
    this.more = h('button', { type: 'button', class: 'link', part: 'button more-time', hidden: true, 'data-testid': 'more-time' }, 'More time');
    this.spoken = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
    this.nodes = [this.picture, this.timer, this.more, this.spoken];
    this.more.addEventListener('click', async () => {
      this.more.disabled = true;
      try {
        await this.extend();
        // The countdown shows the new time at once, not at its next second.
        this.stop();
        this.tick();
        this.spoken.textContent = `More time: the code now ${countdown(this.source.expiresInMs).text.toLowerCase()}.`;
      } catch (e) {
        this.spoken.textContent = e.message;
        this.extend = undefined;
      } finally {
        this.more.disabled = false;
      }
      this.more.hidden = true;
    });
  }

  /** Offers "More time" near the end, which calls `extend` (a Promise). */
  offerMoreTime(extend) {
    this.extend = extend;
  }

  /** Shows `text` living for `source.expiresInMs`, counted down until `stop()` or a new `show`. */
  show(text, source) {
    this.stop();
    this.source = source;
    this.picture.querySelector('svg')?.remove();
    this.picture.insertAdjacentHTML('afterbegin', renderQrSvg(text, { label: this.label }));
    this.picture.classList.remove('expired');
    this.overlay.hidden = true;
    const tick = () => {
      const now = countdown(source.expiresInMs);
      this.timer.textContent = now.text;
      // Rewritten only when the words change, so a screen reader speaks a few times (and a
      // "More time" message stays until the next of them).
      if (this.announced !== now.announcement) {
        this.announced = now.announcement;
        this.spoken.textContent = now.announcement;
      }
      this.picture.classList.toggle('expired', now.seconds === 0);
      this.more.hidden = !this.extend || now.seconds === 0 || now.seconds > 30 || this.more.disabled;
      if (now.seconds > 0) this.ticking = setTimeout(tick, now.nextInMs);
    };
    this.tick = tick;
    tick();
  }

  /**
   * The next frame of an animated QR (`frame` events): the picture alone is swapped, at the
   * same size, so nothing moves; the countdown goes on.
   */
  redraw(text) {
    this.picture.querySelector('svg')?.remove();
    this.picture.insertAdjacentHTML('afterbegin', renderQrSvg(text, { label: this.label }));
  }

  /** The code has ended for good (a denied login): dimmed, no countdown. */
  ended(yes) {
    this.picture.classList.toggle('ended', yes);
  }

  /** Expired and not renewed by itself: the button asks for a new code. */
  waitForClick() {
    this.overlay.hidden = false;
  }

  stop() {
    clearTimeout(this.ticking);
  }
}

/** The ways in that `way` names. */
const WAYS = ['phone', 'code', 'password'];

/**
 * `<qrauth-sign-in>`: a QR to scan with the qrauth token, its countdown and renewal, what the
 * login is doing, a same-device link, a typed code for when the phone cannot scan, and a
 * password for people who have no token yet.
 *
 * Attributes: `server` (the qrauth server's origin; the page's own by default), `way` (`phone`,
 * the default, `code` or `password`: the way in shown), `renewals` (automatic renewals in a
 * row, 3 by default), `signed-in-href` (where to go once signed in). Property `created`: a
 * `fetch` of `POST /api/v1/logins` that the page started before the element loaded, taken as
 * its first login. Events, all bubbling out of the shadow root: `qrauth-signed-in` (`detail`:
 * who signed in and `method`; with an `idToken` for a QR sign-in; `preventDefault()` stays on
 * the page), `qrauth-way` (`detail.way`: the person chose another way in), `qrauth-denied`,
 * `qrauth-expired`, `qrauth-state` (`detail.state`), `qrauth-error` (`detail`: the error).
 * Every part a test needs has a `data-testid`, the same as in qrauth's own sign-in page.
 */
export class QrauthSignIn extends HTMLElement {
  static observedAttributes = ['server', 'renewals', 'way'];

  #root = shadow(this);
  /** Ends everything the current view started: requests, timers, the login. */
  #running;
  #created;

  constructor() {
    super();
    // Set on the element before its class was defined: an own property that hides the setter.
    if (Object.hasOwn(this, 'created')) {
      const created = this.created;
      delete this.created;
      this.created = created;
    }
  }

  connectedCallback() {
    if (!this.#running) this.#show();
  }

  disconnectedCallback() {
    this.#stop();
  }

  attributeChangedCallback(_name, old, value) {
    if (this.#running && old !== value) this.#show();
  }

  get server() {
    return this.getAttribute('server') ?? '';
  }

  get renewals() {
    const n = Number(this.getAttribute('renewals'));
    return this.hasAttribute('renewals') && Number.isInteger(n) && n >= 0 ? n : AUTOMATIC_RENEWALS;
  }

  /** The way in shown: `phone`, `code` or `password`. */
  get way() {
    const way = this.getAttribute('way');
    return WAYS.includes(way) ? way : 'phone';
  }

  set way(way) {
    this.setAttribute('way', way);
  }

  /** The page's own `POST /api/v1/logins`, started early; the first QR login takes it, once. */
  get created() {
    return this.#created;
  }

  set created(request) {
    this.#created = request;
  }

  #show() {
    if (this.way === 'code') this.#code();
    else if (this.way === 'password') this.#password();
    else this.#phone();
  }

  /** The person chose another way in: the page may follow (its address, its own links). */
  #choose(way) {
    this.way = way;
    this.#emit('qrauth-way', { way });
  }

  #stop() {
    this.#running?.abort();
    this.#running = undefined;
  }

  /** A new view: what the previous one started ends, and its signal ends with the view. */
  #view(...nodes) {
    this.#stop();
    this.#running = new AbortController();
    this.#root.replaceChildren(...nodes);
    return this.#running.signal;
  }

  /** Fires `name`; false when a listener called `preventDefault()`. */
  #emit(name, detail) {
    return this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable: true }));
  }

  /** Signed in: tells the page, then goes to `signed-in-href` unless a listener prevents it. */
  #signedIn(detail) {
    const href = this.getAttribute('signed-in-href');
    if (this.#emit('qrauth-signed-in', detail) && href) window.location.assign(href);
  }

  /** Scan with the phone. */
  async #phone() {
    const code = new ExpiringQr("QR code to sign in: scan it with your phone's camera");
    const status = h('p', { class: 'status', part: 'status', role: 'status', 'data-testid': 'login-status' }, 'Getting a code…');
    // Number matching: once a phone scans, the two digits to type there (the status says them too).
    const number = h('p', { class: 'number', part: 'number', hidden: true, 'aria-hidden': 'true', 'data-testid': 'login-number' });
    const again = h('button', { type: 'button', class: 'primary', part: 'button start-again', hidden: true, 'data-testid': 'start-again' }, 'Start again');
    const link = h('a', { part: 'same-device-link', 'data-testid': 'open-token' }, 'Open the token on this device');
    const sameDevice = h('p', { class: 'same-device', part: 'same-device', hidden: true }, 'Already on your phone? ', link);
    const useCode = h('button', { type: 'button', class: 'link', part: 'use-code' }, 'Use a code instead');
    const body = h('div', { part: 'scan', hidden: true }, ...code.nodes);
    const signal = this.#view(body, number, status, again, sameDevice, h('p', { class: 'hint', part: 'hint' }, "Can't scan? ", useCode));
    signal.addEventListener('abort', () => code.stop());
    useCode.addEventListener('click', () => this.#choose('code'));

    const say = (progress) => {
      status.dataset.state = progress.name;
      status.textContent = progress.message;
      again.hidden = !progress.ended;
      code.ended(progress.ended);
    };
    let created = this.#created;
    this.#created = undefined;
    const start = () => {
      const options = { server: this.server, signal, renewals: this.renewals, created };
      created = undefined;
      return startLogin(options);
    };
    const login = await this.#first(start, signal, status);
    if (!login) return;
    const draw = () => {
      code.show(login.qrText, login);
      link.href = login.qrText;
      body.hidden = false;
      sameDevice.hidden = false;
      say(describeLogin(login.state, null, login));
    };
    draw();
    login.on('renewed', draw);
    code.offerMoreTime(() => login.extend());
    // The QR changes every second, so that a photo of it is worth nothing a few seconds later.
    // Not motion: the modules change in place, with no transition, so reduced motion changes
    // nothing here (docs/app.md, "The QR is animated").
    login.on('frame', (text) => {
      code.redraw(text);
      link.href = text;
    });
    login.on('state', async (state) => {
      say(describeLogin(state, null, login));
      number.textContent = login.number ?? '';
      number.hidden = !login.number;
      this.#emit('qrauth-state', { state });
      if (state === 'DENIED') this.#emit('qrauth-denied', { loginId: login.loginId });
      if (state !== 'APPROVED') return;
      try {
        const done = await login.complete();
        this.#signedIn({ ...done, method: 'qr' });
      } catch (e) {
        if (signal.aborted) return;
        say(describeLogin(login.state, e.message));
        this.#emit('qrauth-error', e);
      }
    });
    login.on('error', (e) => {
      say(e.retryInMs === undefined ? describeLogin(login.state, e.message) : describeLogin('RECONNECTING'));
      this.#emit('qrauth-error', e);
    });
    login.on('expired', () => {
      code.waitForClick();
      this.#emit('qrauth-expired', { loginId: login.loginId });
    });
    const renew = () => login.renew().catch((e) => say(describeLogin(login.state, e.message)));
    code.renew.addEventListener('click', renew);
    again.addEventListener('click', renew);
  }

  /**
   * The first code of a view: asked for until the server gives one, with back-off while it is
   * down or busy (or at once on "Try again"); a refusal for good waits for "Try again".
   * Undefined when the view is left. While it fails, `status` is named `unavailable`.
   */
  async #first(make, signal, status) {
    const line = status.dataset.testid;
    const failed = (text) => {
      status.dataset.state = 'failed';
      status.dataset.testid = 'unavailable';
      status.textContent = text;
    };
    const retried = (until) => clicked(h('button', { type: 'button', class: 'primary', part: 'button retry' }, 'Try again'), status, until);
    const again = () => {
      delete status.dataset.state;
      if (line) status.dataset.testid = line;
      else delete status.dataset.testid;
      status.textContent = 'Getting a code…';
    };
    for (let failures = 1; !signal.aborted; failures++) {
      try {
        await load();
      } catch (e) {
        failed(NOT_LOADED);
        this.#emit('qrauth-error', Object.assign(e instanceof Error ? e : new Error(String(e)), { code: 'load_failed' }));
        await retried(signal);
        again();
        failures = 0;
        continue;
      }
      try {
        return await make();
      } catch (e) {
        if (signal.aborted) return undefined;
        failed(describeNoCode(e));
        this.#emit('qrauth-error', e);
        if (!e.transient) {
          await retried(signal);
          failures = 0;
        } else {
          // Tried again after a back-off by itself, or at once when the person asks.
          const wait = new AbortController();
          signal.addEventListener('abort', () => wait.abort(), { once: true });
          const asked = retried(wait.signal).then((click) => {
            if (click) failures = 0;
          });
          await Promise.race([pause(Math.max(backoffMs(failures), e.retryAfterMs ?? 0), wait.signal), asked]);
          wait.abort();
          await asked;
        }
        again();
      }
    }
    return undefined;
  }

  /** The user name field of the code and password forms: what password managers fill in. */
  #userName(id) {
    return [
      h('label', { for: id }, 'User name'),
      h('input', { id, part: 'input user', autocomplete: 'username', autocapitalize: 'off', spellcheck: 'false', 'data-testid': id }),
    ];
  }

  /** Use a code instead: the user's name, then the login operation's QR and the typed code. */
  #code() {
    const [label, name] = this.#userName('offline-user');
    const problem = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { part: 'user-form', novalidate: true },
      h('p', {}, 'Your token makes a code from a QR code, even without a network on the phone.'),
      label, name, problem,
      h('button', { type: 'submit', class: 'primary', part: 'button continue', 'data-testid': 'offline-continue' }, 'Continue'));
    const back = h('button', { type: 'button', class: 'link', part: 'use-phone' }, 'Scan with your phone instead');
    this.#view(form, h('p', { class: 'hint', part: 'hint' }, back));
    back.addEventListener('click', () => this.#choose('phone'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const user = name.value.trim();
      if (user) this.#codeFor(user);
      else {
        problem.textContent = 'Type your user name.';
        name.focus();
      }
    });
    name.focus();
  }

  async #codeFor(user) {
    const code = new ExpiringQr('QR code to sign in: scan it with the qrauth token');
    const status = h('p', { class: 'status', part: 'status', role: 'status' }, 'Getting a code…');
    const field = h('qrauth-code-input', {
      action: 'Sign in',
      part: 'code-input',
      exportparts: 'label: code-label, input: code-field, status: code-status, message: code-message, button: code-button',
    });
    const change = h('button', { type: 'button', class: 'link', part: 'change-user', 'data-testid': 'offline-change-user' }, 'Not you?');
    const body = h('div', { part: 'code', hidden: true }, ...code.nodes,
      h('ol', { part: 'steps' },
        h('li', {}, 'Open the qrauth token and scan this code.'),
        h('li', {}, 'Check what the token shows, then enter your PIN.'),
        h('li', {}, 'Type the 16 digits it gives you here.')),
      field);
    const signal = this.#view(h('p', { part: 'for-user' }, 'Signing in as ', h('strong', { 'data-testid': 'offline-for' }, user), ' · ', change), status, body);
    signal.addEventListener('abort', () => code.stop());
    change.addEventListener('click', () => this.#code());

    let renewed = 0;
    let login;
    const show = async (make) => {
      login = await this.#first(make, signal, status);
      if (!login) return;
      status.textContent = '';
      body.hidden = false;
      code.show(login.qrText, login);
      // With the server's proximity check the payload changes every step: redraw it in place.
      unfollow?.();
      unfollow = login.followPayload((text) => code.redraw(text));
      clearTimeout(expiry);
      expiry = setTimeout(expired, login.expiresInMs);
    };
    let expiry;
    let unfollow;
    signal.addEventListener('abort', () => unfollow?.());
    const expired = () => {
      if (renewed < this.renewals) {
        renewed += 1;
        show(() => startCodeLogin({ server: this.server, user }));
      } else {
        code.waitForClick();
        this.#emit('qrauth-expired', { operationId: login.operationId });
      }
    };
    signal.addEventListener('abort', () => clearTimeout(expiry));
    code.renew.addEventListener('click', () => {
      renewed = 0;
      show(() => startCodeLogin({ server: this.server, user }));
    });
    field.addEventListener('qrauth-code', async (event) => {
      field.busy = true;
      try {
        const done = await login.verify(event.detail.code);
        this.#signedIn({ ...done, method: 'code' });
      } catch (e) {
        if (!signal.aborted) field.showError(e.message);
      } finally {
        field.busy = false;
      }
    });
    await show(() => startCodeLogin({ server: this.server, user }));
    if (login) field.focus();
  }

  /** A password: the first sign-in of a person who has no token yet. */
  #password() {
    const [label, user] = this.#userName('password-user');
    const password = h('input', { id: 'password', type: 'password', part: 'input password', autocomplete: 'current-password', 'data-testid': 'password' });
    const problem = h('p', { class: 'error', role: 'alert', part: 'problem', 'data-testid': 'password-problem' });
    const submit = h('button', { type: 'submit', class: 'primary', part: 'button sign-in', 'data-testid': 'password-submit' }, 'Sign in');
    const form = h('form', { part: 'password-form', novalidate: true },
      h('p', {}, 'For the first sign-in, before you have a token.'),
      label, user, h('label', { for: 'password' }, 'Password'), password, problem, submit);
    const signal = this.#view(form);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (submit.disabled) return;
      submit.disabled = true;
      submit.textContent = 'Signing in…';
      problem.textContent = '';
      try {
        await load();
        const done = await signInWithPassword({ server: this.server, user: user.value, password: password.value });
        if (!signal.aborted) this.#signedIn({ ...done, method: 'password' });
      } catch (e) {
        if (signal.aborted) return;
        problem.textContent = e.message;
        this.#emit('qrauth-error', e);
      } finally {
        submit.disabled = false;
        submit.textContent = 'Sign in';
      }
    });
  }
}

/**
 * `<qrauth-code-input>`: the field for the 16 digits a token gives, grouped as they are typed,
 * with what is missing, and a button. Fires `qrauth-code` (`detail.code`: `12345678-90123456`)
 * when sent with all 16 digits; `showError(message)` says what the server said, `busy` shows it
 * is being checked. Attributes: `label`, `action` (the button's words), `disabled`.
 */
export class QrauthCodeInput extends HTMLElement {
  static observedAttributes = ['label', 'action', 'disabled'];

  #root = shadow(this);
  #label = h('label', { for: 'code', part: 'label' });
  #input = h('input', { id: 'code', part: 'input', type: 'text', maxlength: '40', 'aria-describedby': 'status message', 'data-testid': 'code-input' });
  #status = h('p', { id: 'status', class: 'hint', part: 'status', 'aria-live': 'polite', 'data-testid': 'code-status' });
  #message = h('p', { id: 'message', class: 'error', part: 'message', role: 'alert', 'data-testid': 'code-message' });
  #button = h('button', { type: 'submit', class: 'primary', part: 'button', 'data-testid': 'code-submit' });
  #busy = false;
  #binding;

  constructor() {
    super();
    const form = h('form', { part: 'form', novalidate: true }, this.#label, this.#input, this.#status, this.#message, this.#button);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#send();
    });
    this.#root.append(form);
    this.#render();
  }

  async connectedCallback() {
    try {
      await load();
    } catch {
      this.#message.textContent = NOT_LOADED;
      return;
    }
    if (this.#binding || !this.isConnected) return;
    this.#binding = bindCodeInput(this.#input, {
      onInput: (field) => {
        this.#status.textContent = field.status;
        this.#message.textContent = '';
        this.#input.setAttribute('aria-invalid', 'false');
      },
    });
    this.#status.textContent = this.#binding.status;
  }

  disconnectedCallback() {
    this.#binding?.unbind();
    this.#binding = undefined;
  }

  attributeChangedCallback() {
    this.#render();
  }

  /** The code to send, `12345678-90123456`, or null while digits are missing. */
  get code() {
    return this.#binding?.code ?? null;
  }

  /** True while the code is being checked: the button says so and nothing is sent twice. */
  get busy() {
    return this.#busy;
  }

  set busy(value) {
    this.#busy = Boolean(value);
    this.#render();
  }

  /** Says why the code was not accepted, beside the field. */
  showError(message) {
    this.#message.textContent = String(message);
    this.#input.setAttribute('aria-invalid', 'true');
    this.#input.focus();
  }

  focus(options) {
    this.#input.focus(options);
  }

  #render() {
    const disabled = this.hasAttribute('disabled');
    this.#label.textContent = this.getAttribute('label') ?? 'Code from your token';
    this.#button.textContent = this.#busy ? 'Checking…' : (this.getAttribute('action') ?? 'Send code');
    this.#button.disabled = this.#busy || disabled;
    this.#input.disabled = disabled;
  }

  #send() {
    if (this.#busy || !this.#binding) return;
    const code = this.#binding.code;
    if (!code) {
      this.showError(this.#binding.status);
      return;
    }
    this.dispatchEvent(new CustomEvent('qrauth-code', { detail: { code }, bubbles: true, composed: true }));
  }
}

if (!customElements.get('qrauth-code-input')) customElements.define('qrauth-code-input', QrauthCodeInput);
if (!customElements.get('qrauth-sign-in')) customElements.define('qrauth-sign-in', QrauthSignIn);
