// Compiles AssemblyScript test modules with asc into .tmp/ when their sources changed; the fixture
// modules under test/fixtures/ go to .tmp/fixtures/.
import { repoRoot } from '../../host/envoy/install.ts';
import { compileAs } from '../../host/fixtures/compile.ts';

export { compileAs, repoRoot };

export function fixture(name: string): Promise<Uint8Array> {
  // Our own (empty) asconfig: the repository's would route abort/trace/seed to the SDK runtime.
  return compileAs([`test/fixtures/${name}.ts`], `.tmp/fixtures/${name}.wasm`, [
    '--config',
    'test/fixtures/asconfig.json',
    '--runtime',
    'stub',
    '--use',
    `abort=test/fixtures/${name}/probeAbort`,
    '--optimizeLevel',
    '1',
    '--exportStart',
    '_initialize',
  ]);
}

/** The probe fixture's log messages that start with `prefix` (e.g. 'get rc='). */
export function lines(logs: { message: string }[], prefix: string): string[] {
  return logs.map((l) => l.message).filter((m) => m.startsWith(prefix));
}

/** The one log message starting with `prefix`; fails when there is not exactly one. */
export function line(logs: { message: string }[], prefix: string): string {
  const found = lines(logs, prefix);
  if (found.length !== 1)
    throw new Error(
      `expected one log line starting "${prefix}", got ${JSON.stringify(found)}\nall: ${logs.map((l) => l.message).join('\n')}`,
    );
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
