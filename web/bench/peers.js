// The peers, bundled for the page by esbuild (`cargo xtask bench`).
export { default as QRCode } from 'qrcode';
export { default as qrcodeGenerator } from 'qrcode-generator';
