// A page written against the published types, as a frontend developer would write it. Checked
// with `tsc --noEmit`; a wrong name or shape here is a compile error.
import init, {
  SoftwareToken,
  formatCodeInput,
  normalizeCode,
  parseOfflinePayload,
  renderQrCanvas,
  renderQrSvg,
  type Activation,
  type CodeCheck,
  type DisplayField,
  type LoginRequest,
  type OfflineCode,
  type OfflineOperation,
} from 'qrauth-token';

export async function loginPage(qrText: string, box: HTMLElement, canvas: HTMLCanvasElement): Promise<void> {
  await init();
  box.innerHTML = renderQrSvg(qrText, { label: 'QR code to sign in', size: 240, errorCorrection: 'M' });
  renderQrCanvas(canvas, qrText, { size: 240 });
  renderQrCanvas(canvas, qrText);
}

export function onCodeInput(field: HTMLInputElement): string | null {
  const typed = formatCodeInput(field.value, field.selectionStart);
  field.value = typed.value;
  field.setSelectionRange(typed.caret, typed.caret);
  const check: CodeCheck = normalizeCode(field.value);
  if (check.error) {
    const reason: 'empty' | 'foreign_character' | 'too_few_digits' | 'too_many_digits' = check.error.code;
    return reason;
  }
  return check.canonical;
}

export function describe(field: DisplayField): string {
  switch (field.kind) {
    case 'amount':
      return `${field.amount} ${field.currency}`;
    case 'iban':
      return field.bic ? `${field.value} (${field.bic})` : field.value;
    default:
      return field.value;
  }
}

export async function token(activationCode: string, payload: string, link: string, pin: string): Promise<void> {
  const token = await SoftwareToken.open({ server: 'https://login.example.com', database: 'qrauth-token' });
  const activation: Activation = await token.activate({ code: activationCode, pin, pinAgain: pin, deviceName: 'Phone' });
  const fingerprint: string = activation.fingerprint;
  const all: Activation[] = await token.activations();
  const preview: OfflineOperation = parseOfflinePayload(payload);
  const review: OfflineOperation = await token.reviewOffline(activation.activationId, payload);
  const swap: boolean = review.flags.swapButtons && preview.keyType === 1;
  const code: OfflineCode = await token.computeOfflineCode(activation.activationId, payload, pin);
  const warning: string | null = code.warning;
  const login: LoginRequest = await token.attachLogin(link);
  const number: string | undefined = login.numberMatching ? '47' : undefined;
  const decision = await token.approveLogin(activation.activationId, login, pin, number);
  const state: 'APPROVED' | 'DENIED' = decision.state;
  const status = await token.refresh(activation.activationId);
  const removed: boolean = (await token.remove(activation.activationId)).removedOnServer;
  console.log(fingerprint, all.length, swap, code.code, warning, state, status.remainingAttempts, removed);
  try {
    await token.denyLogin(login);
  } catch (e) {
    console.log((e as Error & { code: string }).code);
  }
}

// A sign-in page on the entry `qrauth-token/sign-in`: the QR, its states, the end of the page.
import initSignIn, {
  startLogin,
  renderQrSvg as renderSignInQr,
  type Login,
  type LoginCompleted,
  type LoginState,
} from 'qrauth-token/sign-in';

export async function signInPage(box: HTMLElement, status: HTMLElement, leave: AbortSignal): Promise<LoginCompleted | null> {
  await initSignIn();
  const login: Login = await startLogin({ signal: leave, renewals: 2 });
  const draw = (current: Login) => {
    box.innerHTML = renderSignInQr(current.qrText, { label: 'QR code to sign in' });
  };
  draw(login);
  login.on('frame', (frame: string) => (box.innerHTML = renderSignInQr(frame, { label: 'QR code to sign in' })));
  login.on('renewed', draw);
  login.on('state', () => {
    const shown: string | null = login.number;
    const denial: 'on_token' | 'wrong_number' | null = login.denial;
    console.log(shown, denial);
  });
  login.on('error', (e) => {
    status.textContent = e.retryInMs === undefined ? e.message : `${e.message} Retrying in ${Math.ceil(e.retryInMs / 1000)} s.`;
  });
  const state = await new Promise<LoginState>((resolve) =>
    login.on('state', (s: LoginState) => (s === 'APPROVED' || s === 'DENIED' || s === 'CANCELED') && resolve(s)),
  );
  const seconds: number = Math.ceil(login.expiresInMs / 1000);
  status.textContent = `${state} with ${seconds} s left`;
  return state === 'APPROVED' ? login.complete() : null;
}

// The typed code and the page's words on the same entry, and the custom elements.
import {
  bindCodeInput,
  countdown,
  describeLogin,
  startCodeLogin,
  verifyCode,
  type CodeField,
  type QrauthError,
} from 'qrauth-token/sign-in';
import 'qrauth-token/elements';
import type { QrauthSignIn, SignedInDetail } from 'qrauth-token/elements';

export async function codePage(input: HTMLInputElement, status: HTMLElement, user: string, operationId: string) {
  const binding = bindCodeInput(input, {
    onInput: (field: CodeField) => (status.textContent = field.status),
    onComplete: (code: string) => console.log(code.length),
  });
  const login = await startCodeLogin({ user });
  status.textContent = `${countdown(login.expiresInMs).text} · ${describeLogin(login.operationId ? 'PENDING' : 'RECONNECTING').message}`;
  try {
    const done = await login.verify(binding.code ?? '');
    console.log(done.user, done.factors);
    await verifyCode(operationId, binding.code ?? '');
  } catch (e) {
    const failure = e as QrauthError;
    if (failure.code === 'code_wrong') console.log(failure.remainingAttempts);
  }
  binding.unbind();

  const element: QrauthSignIn = document.createElement('qrauth-sign-in');
  element.addEventListener('qrauth-signed-in', (event) => {
    const detail: SignedInDetail = event.detail;
    if (detail.method === 'qr') console.log(detail.idToken);
  });
  element.addEventListener('qrauth-error', (event) => console.log(event.detail.code, event.detail.transient));
  document.querySelector('qrauth-code-input')?.showError('no');
}
