// The QR decoder is its own wasm (crates/token, feature `js-scan`), beside the token page's: the
// page loads it with this when a person first scans (crates/app/src/token/scanner.rs).
export async function loadScanner(js, wasm) {
  const decoder = await import(js);
  await decoder.default({ module_or_path: wasm });
  return decoder;
}
