import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The API through the dev server, with the Host kept (no `changeOrigin`): the sign-in QR's link
// then points at this site's own /token page, which is the React token below.
const qrauth = process.env.QRAUTH_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  server: { proxy: { '/api': qrauth } },
});
