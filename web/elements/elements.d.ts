// Types of `qrauth-token/elements`: importing it defines <qrauth-sign-in> and <qrauth-code-input>.
import type { LoginCompleted, LoginState, QrauthError } from '../pkg/sign-in/qrauth_token_sign_in.js';

/** `qrauth-signed-in`'s `detail`: who signed in, and how. */
export type SignedInDetail =
  | (LoginCompleted & { method: 'qr' })
  | { user: string; factors: string; method: 'code' }
  | { user: string; method: 'password' };

/** The ways in of `<qrauth-sign-in>`: the QR, a typed code, a password. */
export type WayIn = 'phone' | 'code' | 'password';

/** The events of `<qrauth-sign-in>`. */
export interface QrauthSignInEventMap extends HTMLElementEventMap {
  /** Signed in: the server set its session cookie. A QR sign-in carries an `idToken` for the page's backend. */
  'qrauth-signed-in': CustomEvent<SignedInDetail>;
  /** The person chose another way in with the element's own buttons; `way` has changed already. */
  'qrauth-way': CustomEvent<{ way: WayIn }>;
  /** The phone denied the sign-in; "Start again" offers a new code. */
  'qrauth-denied': CustomEvent<{ loginId: string }>;
  /** The code expired and is not replaced by itself any more; "Get a new code" is shown. */
  'qrauth-expired': CustomEvent<{ loginId?: string; operationId?: string }>;
  /** The login's state changed. */
  'qrauth-state': CustomEvent<{ state: LoginState }>;
  /** A failure; the element shows it, and retries by itself when `transient`. */
  'qrauth-error': CustomEvent<QrauthError>;
}

/**
 * `<qrauth-sign-in server="https://login.example.com" way="phone" renewals="3">`: the QR to scan
 * with the qrauth token, its countdown and renewal, the login's state, a same-device link, a
 * typed code for when the phone cannot scan, and a password for a person with no token yet.
 */
export class QrauthSignIn extends HTMLElement {
  /** The `server` attribute: the qrauth server's origin, the page's own when empty. */
  readonly server: string;
  /** The `renewals` attribute: automatic renewals in a row, 3 by default. */
  readonly renewals: number;
  /** The `way` attribute: the way in shown, `phone` by default. */
  way: WayIn;
  /** A `fetch` of `POST /api/v1/logins` the page started early: the first QR login takes it, once. */
  created: Promise<Response> | undefined;
  addEventListener<K extends keyof QrauthSignInEventMap>(
    type: K,
    listener: (this: QrauthSignIn, event: QrauthSignInEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

/** The events of `<qrauth-code-input>`. */
export interface QrauthCodeInputEventMap extends HTMLElementEventMap {
  /** Sent with all 16 digits: `detail.code` is `12345678-90123456`. */
  'qrauth-code': CustomEvent<{ code: string }>;
}

/** `<qrauth-code-input label="Code from your token" action="Approve payment">`. */
export class QrauthCodeInput extends HTMLElement {
  /** The code to send, `12345678-90123456`, or null while digits are missing. */
  readonly code: string | null;
  /** True while the code is being checked. */
  busy: boolean;
  /** Says why the code was not accepted, beside the field. */
  showError(message: string): void;
  addEventListener<K extends keyof QrauthCodeInputEventMap>(
    type: K,
    listener: (this: QrauthCodeInput, event: QrauthCodeInputEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'qrauth-sign-in': QrauthSignIn;
    'qrauth-code-input': QrauthCodeInput;
  }
}
