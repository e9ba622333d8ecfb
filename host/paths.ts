// Where asmesh itself is installed: the directory of the package.json named asmesh above this file
// (works from host/**/*.ts run by tsx and from the bundled dist/asmesh.mjs alike).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, sep } from 'node:path';
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

/**
 * An installed package (inside node_modules, which npm replaces on every install) keeps what it makes
 * (the Envoy it installs, Envoy's run files) in the user's cache directory instead of its own folder.
 */
export const installedPackage = repoRoot.split(sep).includes('node_modules');

/** Where asmesh writes its own files: the checkout, or for an installed package $XDG_CACHE_HOME/asmesh (~/.cache/asmesh). */
export const stateRoot = installedPackage ? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'asmesh') : repoRoot;
