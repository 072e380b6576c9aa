// A static file server for the package's browser tests: files of one folder, nothing more, as a
// developer would serve an example; with `api`, /api/ is passed to that qrauth server with the
// Host kept, as the README tells a dev proxy to.
import { createServer, request as forward } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

/**
 * Serves `root` on 127.0.0.1 (on `port`, any free one by default); resolves to `{ origin, close }`.
 * `headers` go with every file; with `app`, an address that names no file is the single-page
 * app's `index.html`.
 */
export async function serveSite(root, { headers = {}, api, app = false, port = 0 } = {}) {
  const server = createServer(async (incoming, response) => {
    const url = new URL(incoming.url, 'http://x');
    if (api && url.pathname.startsWith('/api/')) {
      const target = new URL(api);
      const out = forward({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
        response.writeHead(answer.statusCode, answer.headers);
        answer.pipe(response);
      });
      out.on('error', () => response.writeHead(502).end());
      incoming.pipe(out);
      return;
    }
    let path = normalize(decodeURIComponent(url.pathname));
    if (app && !extname(path)) path = '/index.html';
    else if (path.endsWith('/')) path += 'index.html';
    try {
      if (path.split('/').includes('..')) throw new Error('outside the site');
      const body = await readFile(join(root, path));
      response.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', ...headers });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
