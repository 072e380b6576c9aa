import { StrictMode, Suspense, lazy } from 'react';
import { createRoot } from 'react-dom/client';

import { SignIn } from './SignIn';

// The token is its own chunk (and its own wasm): the sign-in page never loads it.
const Token = lazy(() => import('./Token'));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <main>
      {window.location.pathname.startsWith('/token') ? (
        <Suspense fallback={<p>Loading the token…</p>}>
          <Token />
        </Suspense>
      ) : (
        <SignIn />
      )}
    </main>
  </StrictMode>,
);
