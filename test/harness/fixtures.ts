// Compiles the AssemblyScript fixture modules under test/fixtures/ into .tmp/fixtures/ once.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export async function fixture(name: string): Promise<Uint8Array> {
  const source = join(root, 'test/fixtures', `${name}.ts`);
  const out = join(root, '.tmp/fixtures', `${name}.wasm`);
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(dirname(out), { recursive: true });
    const asc = await import('assemblyscript/asc');
    // Our own (empty) asconfig: the repository's would route abort/trace/seed to the SDK runtime.
    const { error, stderr } = await asc.main([
      `test/fixtures/${name}.ts`, '--config', 'test/fixtures/asconfig.json', '--baseDir', root, '--outFile', `.tmp/fixtures/${name}.wasm`, '--runtime', 'stub',
      '--use', `abort=test/fixtures/${name}/probeAbort`, '--optimizeLevel', '1', '--exportStart', '_initialize',
    ], { stdout: asc.createMemoryStream(), stderr: asc.createMemoryStream() });
    if (error) throw new Error(`asc failed for ${name}: ${error.message}\n${stderr.toString()}`);
  }
  return new Uint8Array(readFileSync(out));
}

export const repoRoot = root;

/** The probe fixture's log messages that start with `prefix` (e.g. 'get rc='). */
export function lines(logs: { message: string }[], prefix: string): string[] {
  return logs.map((l) => l.message).filter((m) => m.startsWith(prefix));
}

/** The one log message starting with `prefix`; fails when there is not exactly one. */
export function line(logs: { message: string }[], prefix: string): string {
  const found = lines(logs, prefix);
  if (found.length !== 1) throw new Error(`expected one log line starting "${prefix}", got ${JSON.stringify(found)}\nall: ${logs.map((l) => l.message).join('\n')}`);
  return found[0]!;
}

import { loadPlugin, type Plugin, type PluginOptions, type HttpRequestSpec } from '../../host/harness/index.ts';

export async function probe(opts: PluginOptions = {}): Promise<Plugin> {
  return loadPlugin(await fixture('probe'), { config: 'probe-config', vmConfig: 'probe-vm', clusters: ['authz'], ...opts });
}

/** A GET whose `x-op` header picks what the probe does. */
export function request(op: string, headers: Record<string, string> = {}, extra: Partial<HttpRequestSpec> = {}): HttpRequestSpec {
  return { headers: { ':method': 'GET', ':path': '/probe', ':authority': 'example.test', 'x-op': op, ...headers }, ...extra };
}
