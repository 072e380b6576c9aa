// `bindCodeInput`, appended by `cargo xtask npm` to the module of each entry of the package
// (`qrauth-token`, `qrauth-token/sign-in`, `qrauth-token/qr`), where `formatCodeInput` and
// `normalizeCode` are that entry's own exports. The field's rules (groups of four, the caret, the
// status line, the code) are theirs, in Rust; this only wires them to an <input>: done in wasm,
// the closures and the class for it were a sixth of the light entry.
function bindCodeInput(input, options) {
  const refuse = (message) => {
    throw Object.assign(new Error(message), { code: 'invalid_options' });
  };
  const names = ['onInput', 'onComplete'];
  const given = options ?? {};
  if (!(given instanceof Object)) refuse('The bindCodeInput options must be an object.');
  for (const key of Object.keys(given)) {
    if (!names.includes(key)) {
      refuse(`Unknown bindCodeInput option “${key}”: the options are ${names.join(', ')}.`);
    }
  }
  const [onInput, onComplete] = names.map((name) => {
    const listener = given[name] ?? null;
    if (listener !== null && typeof listener !== 'function') {
      refuse(`Invalid bindCodeInput options: \`${name}\` must be a function.`);
    }
    return listener;
  });
  // A listener that throws must not break the field; its error still reaches the console.
  const tell = (listener, value) => {
    try {
      listener(value);
    } catch (error) {
      globalThis.reportError?.(error);
    }
  };
  for (const [name, value] of [
    ['inputmode', 'numeric'],
    ['autocomplete', 'one-time-code'],
    ['autocapitalize', 'off'],
    ['spellcheck', 'false'],
    ['placeholder', '1234-5678-9012-3456'],
  ]) {
    if (!input.hasAttribute(name)) input.setAttribute(name, value);
  }
  let wasComplete = formatCodeInput(input.value).complete;
  const edited = () => {
    const field = formatCodeInput(input.value, input.selectionStart ?? undefined);
    input.value = field.value;
    try {
      input.setSelectionRange(field.caret, field.caret);
    } catch {
      // An input type without a caret (a number field) keeps the browser's.
    }
    const { value, missing, complete, code, status } = field;
    if (onInput) tell(onInput, { value, missing, complete, code, status });
    if (onComplete && code !== null && !wasComplete) tell(onComplete, code);
    wasComplete = complete;
  };
  input.addEventListener('input', edited);
  return {
    get code() {
      return normalizeCode(input.value).canonical;
    },
    get status() {
      return formatCodeInput(input.value).status;
    },
    unbind() {
      input.removeEventListener('input', edited);
    },
  };
}
