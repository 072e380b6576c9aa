// The start of every page, inlined by trunk into each page's HTML (Trunk.toml's
// pattern_script): it loads the page's bundle, and says so when that fails, where a page would
// otherwise stay blank. The server's CSP allows exactly this script by its hash. A classic
// script, not a module: it runs as soon as the parser reaches it, before the stylesheet has
// arrived (a module would wait for the whole document and its styles), so the first login and
// the bundle are asked for at once.
(async () => {
  const script = document.currentScript;
  const bundle = {
    js: script.dataset.qrauthBundle,
    wasm: script.dataset.qrauthWasm,
    integrity: script.dataset.qrauthWasmIntegrity ?? '',
  };

  // The sign-in page's first request goes out now, while the wasm downloads and compiles, not
  // after: the page hands the `fetch` to <qrauth-sign-in> as its first login
  // (crates/app/sign-in.js, the element's `created`). It is the same request the element makes:
  // no cookies, no body. Its body is read as soon as it arrives, while the main thread is free,
  // into a Response the element reads at once: left to the element, the read waited behind
  // the page's first layout and paint.
  const signingIn = location.pathname === '/' && !new URLSearchParams(location.search).has('with');
  if (signingIn) {
    window.qrauthFirstLogin = fetch('/api/v1/logins', { method: 'POST', credentials: 'omit' }).then(
      async (answer) =>
        new Response(await answer.text(), { status: answer.status, statusText: answer.statusText, headers: answer.headers }),
    );
  }

  try {
    // The wasm compiles while the bundle's JavaScript loads and the document is parsed, rather
    // than once the JavaScript asks for it; fetched here rather than preloaded, so that its
    // integrity is checked (`cargo xtask dist` moves it here from trunk's preload).
    const compiled = WebAssembly.compileStreaming(fetch(bundle.wasm, { integrity: bundle.integrity }));
    const imported = import(bundle.js);
    // Both are awaited below, maybe after they failed.
    compiled.catch(() => {});
    imported.catch(() => {});
    // The page mounts into the body: wait until the parser has written it.
    if (document.readyState === 'loading') {
      await new Promise((parsed) => document.addEventListener('DOMContentLoaded', parsed, { once: true }));
    }
    const { default: init } = await imported;
    await init({ module_or_path: await compiled });
  } catch (error) {
    console.error('qrauth: the page could not be loaded:', error);
    abandonFirstLogin();
    showFailure();
  }

  // A login nobody will see is cancelled, so that its QR is worth nothing.
  async function abandonFirstLogin() {
    const started = window.qrauthFirstLogin;
    delete window.qrauthFirstLogin;
    try {
      const answer = await started;
      const login = answer?.ok && (await answer.json());
      if (login?.loginId) {
        await fetch(`/api/v1/logins/${encodeURIComponent(login.loginId)}`, {
          method: 'DELETE',
          credentials: 'omit',
          headers: { Authorization: `Bearer ${login.pollSecret}` },
        });
      }
    } catch {
      // The network is what failed; the login expires by itself.
    }
  }

  function showFailure() {
    const card = document.createElement('section');
    card.className = 'card load-failed';
    card.setAttribute('role', 'alert');
    card.dataset.testid = 'load-failed';
    const title = document.createElement('h1');
    title.textContent = 'The page could not be loaded';
    const why = document.createElement('p');
    why.textContent = 'Part of it did not arrive: the connection may have dropped. Check it and try again.';
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'primary';
    retry.dataset.testid = 'load-retry';
    retry.textContent = 'Try again';
    retry.addEventListener('click', () => location.reload());
    card.append(title, why, retry);
    document.body.replaceChildren(card);
    retry.focus();
  }
})();
