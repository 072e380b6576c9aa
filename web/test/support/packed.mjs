// The package as a user gets it: `npm pack` of web/, and an example copied out of web/examples
// with the tarball installed into it by npm, as `npm install qrauth-token` would.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A copy of `web/examples/<example>` with the packed package (and the example's own
 * dependencies) installed; resolves to `{ dir, remove }`.
 */
export function installedExample(example, { offline = false } = {}) {
  const work = mkdtempSync(join(tmpdir(), `qrauth-${example}-`));
  const dir = join(work, 'app');
  cpSync(join(web, 'examples', example), dir, { recursive: true });
  execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: web, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', ...(offline ? ['--offline'] : []), join(work, tarball)], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { dir, remove: () => rmSync(work, { recursive: true, force: true }) };
}
