// The peer of the app's sign-in page in the time-to-QR benchmark: the same API call, the QR
// drawn by node-qrcode, nothing else.
import { QRCode } from '/bench/peers.js';

const response = await fetch('/api/v1/logins', { method: 'POST' });
const login = await response.json();
const svg = await QRCode.toString(login.qrText, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
document.querySelector('[data-testid="qr"]').innerHTML = svg;
