// Where asmesh itself is installed (works from host/cli/*.ts run by tsx and from the bundled dist/asmesh.mjs).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from './errors.ts';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'asmesh') return dir;
      } catch { /* keep looking */ }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the asmesh package root (package.json named asmesh)');
    dir = up;
  }
}

/** Envoy: ENVOY_BIN, else `envoy` on PATH, else the copy `npm run envoy:install` puts under .envoy/. */
export function findEnvoy(): string | null {
  if (process.env.ENVOY_BIN) {
    if (!existsSync(process.env.ENVOY_BIN)) throw new InputError(`ENVOY_BIN=${process.env.ENVOY_BIN}: no such file`);
    return process.env.ENVOY_BIN;
  }
  for (const p of (process.env.PATH ?? '').split(':')) {
    if (p && existsSync(join(p, 'envoy'))) return join(p, 'envoy');
  }
  // .envoy/<version>/envoy/_bin/envoy (the rig's pip --target install)
  const local = join(packageRoot(), '.envoy');
  if (existsSync(local)) {
    for (const v of readdirSync(local)) {
      const candidate = join(local, v, 'envoy', '_bin', 'envoy');
      if (existsSync(candidate)) return candidate;
    }
  }
  return null;
}
