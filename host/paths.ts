// Where asmesh itself is installed: the directory of the package.json named asmesh above this file
// (works from host/**/*.ts run by tsx and from the bundled dist/asmesh.mjs alike).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'asmesh') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the asmesh package root (package.json named asmesh)');
    dir = up;
  }
}

export const repoRoot = findPackageRoot();
