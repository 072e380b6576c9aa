// An intermediate web application as PowerAuth's guide describes one (Web Flow's offline
// mode): a bank's page that asks the person to approve a payment with their token, written
// only against PowerAuth Server's REST methods. Nothing in it knows qrauth: point
// POWERAUTH_URL at a PowerAuth Server or at `qrauth serve --powerauth-clients FILE`.
//
//   POWERAUTH_URL=http://127.0.0.1:8081/powerauth POWERAUTH_CLIENT=token:secret node server.mjs
//
// It builds DATA (operation id, title, message, operation data, flags), asks for a payload
// signed for the token the person chose, shows it as a QR code, reads the 16 digits the token
// shows, builds the base string itself and asks PowerAuth whether the code is right.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import QRCode from 'qrcode';

const powerAuthUrl = process.env.POWERAUTH_URL?.replace(/\/+$/, '');
const client = process.env.POWERAUTH_CLIENT;
if (!powerAuthUrl || !client?.includes(':')) {
  console.error('Set POWERAUTH_URL (such as http://127.0.0.1:8081/powerauth) and POWERAUTH_CLIENT (token:secret).');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 8090);

/** The URI id every offline code signs (PowerAuth's Web Flow uses this one). */
const OFFLINE_URI_ID = '/operation/authorize/offline';

/** Payments waiting for a code, by operation id. A real bank keeps them in its database. */
const payments = new Map();

/** A PowerAuth Server REST method: `{"requestObject": …}` in, `responseObject` out. */
async function powerAuth(method, requestObject) {
  const response = await fetch(`${powerAuthUrl}/rest/${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(client).toString('base64')}`,
    },
    body: JSON.stringify({ requestObject }),
  });
  const body = await response.json().catch(() => null);
  if (body?.status !== 'OK') {
    const error = body?.responseObject ?? {};
    throw new Error(`${error.code ?? `HTTP ${response.status}`}: ${error.message ?? 'no answer'}`);
  }
  return body.responseObject;
}

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** Text for DATA's title and message lines (PowerAuth's QR docs): `\` and line breaks escaped. */
const lineText = (text) => text.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/\s+/g, ' ');

/** A text field of operation data: as a line, and `*` escaped, since it separates fields. */
const fieldText = (text) => lineText(text).replace(/\*/g, '\\*');

const today = () => new Date().toISOString().slice(0, 10).replace(/-/g, '');

function page(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><link rel="icon" href="data:,">
<title>${escapeHtml(title)} · Example Bank</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.75rem 0 .25rem}input,button{font:inherit;padding:.4rem}
.qr svg{width:18rem;height:18rem}.error{color:#a00}.ok{color:#060}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function paymentForm(problem = '') {
  return page(
    'New payment',
    `${problem ? `<p class="error" role="alert" data-testid="problem">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/payments">
<label for="user">Your user id</label><input id="user" name="user" required data-testid="user">
<label for="iban">To account (IBAN)</label><input id="iban" name="iban" required value="CZ6508000000192000145399" data-testid="iban">
<label for="amount">Amount</label><input id="amount" name="amount" required value="1250.00" data-testid="amount">
<label for="currency">Currency</label><input id="currency" name="currency" required value="CZK" maxlength="3" data-testid="currency">
<label for="note">Note for the payee</label><input id="note" name="note" value="" data-testid="note">
<p><button type="submit" data-testid="pay">Continue</button></p></form>`,
  );
}

/** The QR code of `text` as an SVG: its UTF-8 bytes in one byte-mode segment, as Web Flow's ZXing writes it. */
const qrSvg = (text) =>
  QRCode.toString([{ data: Buffer.from(text, 'utf8'), mode: 'byte' }], { type: 'svg', errorCorrectionLevel: 'L', margin: 4 });

async function showQr(payment, problem = '') {
  const svg = await qrSvg(payment.offlineData);
  return page(
    'Approve the payment',
    `<p>Scan this code with your token (${escapeHtml(payment.tokenName)}), check the payment there, and type the 16 digits it shows.</p>
<div class="qr" data-testid="qr">${svg}</div>
${problem ? `<p class="error" role="alert" data-testid="problem">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/payments/${payment.operationId}/verify">
<label for="code">Code from your token</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required data-testid="code" placeholder="1234-5678-9012-3456">
<p><button type="submit" data-testid="confirm">Confirm</button></p></form>`,
  );
}

function tokenChoice(payment, activations) {
  const options = activations
    .map(
      (a, i) => `<p><label><input type="radio" name="activationId" value="${escapeHtml(a.activationId)}" ${i === 0 ? 'checked' : ''} data-testid="token-choice">
${escapeHtml(a.activationName ?? 'Unnamed token')}, activated ${escapeHtml((a.timestampActivated ?? a.timestampCreated).slice(0, 16).replace('T', ' '))} UTC</label></p>`,
    )
    .join('');
  return page(
    'Which token?',
    `<p>You have ${activations.length} tokens. Approve with:</p>
<form method="post" action="/payments/${payment.operationId}/token">${options}
<p><button type="submit" data-testid="use-token">Continue</button></p></form>`,
  );
}

/** Signs the payment's DATA for one token and shows its QR. */
async function signFor(payment, activation) {
  const created = await powerAuth('v3/signature/offline/personalized/create', {
    activationId: activation.activationId,
    data: payment.data,
  });
  Object.assign(payment, {
    activationId: activation.activationId,
    tokenName: activation.activationName ?? 'your token',
    offlineData: created.offlineData,
    nonce: created.nonce,
  });
  return showQr(payment);
}

async function createPayment(form) {
  const user = form.get('user')?.trim();
  const iban = form.get('iban')?.replace(/\s+/g, '').toUpperCase();
  const amount = form.get('amount')?.trim();
  const currency = form.get('currency')?.trim().toUpperCase();
  const note = form.get('note')?.trim() ?? '';
  if (!user || !/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban ?? '') || !/^\d+(\.\d{1,2})?$/.test(amount ?? '') || !/^[A-Z]{3}$/.test(currency ?? '')) {
    return paymentForm('Fill in the user, an IBAN, an amount such as 1250.00 and a currency such as CZK.');
  }
  const operationId = randomUUID();
  // Operation data, template 1 (a payment): amount, account, no reference, due date, and the
  // note if any; each field has its place.
  const operationData = `A1*A${amount}${currency}*I${iban}**D${today()}${note ? `*N${fieldText(note)}` : ''}`;
  const message = lineText(`Pay ${amount} ${currency} to ${iban}`);
  // B: the token may use biometry instead of the PIN.
  const data = [operationId, 'Payment', message, operationData, 'B'].join('\n');
  const payment = { operationId, user, operationData, data, allowBiometry: true };
  payments.set(operationId, payment);

  const { activations } = await powerAuth('v3/activation/list', { userId: user });
  const active = activations.filter((a) => a.activationStatus === 'ACTIVE');
  payment.choices = active;
  if (active.length === 0) return paymentForm(`${user} has no active token.`);
  if (active.length === 1) return signFor(payment, active[0]);
  return tokenChoice(payment, active);
}

async function chooseToken(payment, form) {
  const chosen = payment.choices.find((a) => a.activationId === form.get('activationId'));
  if (!chosen) return tokenChoice(payment, payment.choices);
  return signFor(payment, chosen);
}

async function verifyCode(payment, form) {
  // The token shows 4x4 digits; PowerAuth takes 8-8.
  const digits = (form.get('code') ?? '').replace(/\D/g, '');
  if (digits.length !== 16) {
    return showQr(payment, `Type the 16 digits your token shows; that was ${digits.length}.`);
  }
  const signature = `${digits.slice(0, 8)}-${digits.slice(8)}`;
  const b64 = (text) => Buffer.from(text, 'utf8').toString('base64');
  const data = [
    'POST',
    b64(OFFLINE_URI_ID),
    payment.nonce,
    b64(`${payment.operationId}&${payment.operationData}`),
  ].join('&');
  const verdict = await powerAuth('v3/signature/offline/verify', {
    activationId: payment.activationId,
    data,
    signature,
    allowBiometry: payment.allowBiometry,
  });
  // As Web Flow does: the code must also come from the payment's own user.
  if (verdict.signatureValid && verdict.userId === payment.user) {
    payments.delete(payment.operationId);
    return page('Payment approved', `<p class="ok" role="status" data-testid="result">Payment approved.</p><p><a href="/">New payment</a></p>`);
  }
  if (verdict.activationStatus === 'BLOCKED') {
    payments.delete(payment.operationId);
    return page('Token blocked', `<p class="error" role="alert" data-testid="result">Your token is blocked after too many wrong codes.</p>`);
  }
  return showQr(payment, `That code is not right. ${verdict.remainingAttempts} attempts left.`);
}

async function readForm(request) {
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

const server = createServer(async (request, response) => {
  const send = (status, html) => {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html);
  };
  try {
    const url = new URL(request.url, 'http://localhost');
    const [, first, id, action] = url.pathname.split('/');
    if (request.method === 'GET' && url.pathname === '/') return send(200, paymentForm());
    if (request.method === 'POST' && first === 'payments') {
      const form = await readForm(request);
      if (!id) return send(200, await createPayment(form));
      const payment = payments.get(id);
      if (!payment) return send(404, page('No such payment', '<p><a href="/">New payment</a></p>'));
      if (action === 'token') return send(200, await chooseToken(payment, form));
      if (action === 'verify') return send(200, await verifyCode(payment, form));
    }
    send(404, page('Not found', '<p><a href="/">New payment</a></p>'));
  } catch (error) {
    console.error(error);
    send(502, page('Something went wrong', `<p class="error" role="alert" data-testid="problem">${escapeHtml(error.message)}</p>`));
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
