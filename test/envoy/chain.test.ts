// The scenario runner's filter chain against Envoy's, with a fixture filter mounted three times
// (a, b, c): request phases in order, response phases in reverse, a local reply from one filter
// goes back through the encoders of that filter and those before it only (Envoy 1.40: the filters
// after it never see the response, but all get proxy_on_log); the router's own 503 goes through all.
import { mkdirSync, statSync, existsSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { repoRoot } from '../../host/envoy/install.ts';
import { runInEnvoy, runInHarness } from '../scenarios/runner.ts';
import type { Scenario } from '../scenarios/types.ts';

const outDir = join(repoRoot, '.tmp', 'envoy-fixtures');

before(async () => {
  const source = join(repoRoot, 'test/envoy/fixtures/replier.ts');
  const out = join(outDir, 'a.wasm');
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(outDir, { recursive: true });
    const asc = await import('assemblyscript/asc');
    const { error, stderr } = await asc.main(['test/envoy/fixtures/replier.ts', '--config', 'asconfig.json', '--target', 'example', '--outFile', join(outDir, 'replier.wasm')],
      { stdout: asc.createMemoryStream(), stderr: asc.createMemoryStream() });
    if (error) throw new Error(`asc failed: ${error.message}\n${stderr.toString()}`);
    for (const name of ['a', 'b', 'c']) copyFileSync(join(outDir, 'replier.wasm'), join(outDir, `${name}.wasm`));
  }
});

const filters = ['a', 'b', 'c'].map((name) => ({ name, config: name })) as unknown as Scenario['filters'];
const scenario: Scenario = {
  name: 'chain',
  filters,
  steps: [
    {
      name: 'upstream answer: encoders c, b, a',
      request: { path: '/' },
      expect: { status: 200, servedBy: 'service_b', responseHeaders: { 'x-saw-a': '200', 'x-saw-b': '200', 'x-saw-c': '200' } },
    },
    {
      name: 'local reply from b: encoders b, a only',
      request: { path: '/', headers: { 'x-reply': 'b' } },
      expect: { status: 418, servedBy: null, body: 'teapot from b', responseHeaders: { 'x-saw-a': '418', 'x-saw-b': '418', 'x-saw-c': null } },
    },
    {
      name: 'local reply from a: encoder a only',
      request: { path: '/', headers: { 'x-reply': 'a' } },
      expect: { status: 418, body: 'teapot from a', responseHeaders: { 'x-saw-a': '418', 'x-saw-b': null, 'x-saw-c': null } },
    },
    {
      name: 'router 503 (unknown cluster): all encoders',
      request: { path: '/', headers: { 'x-asmesh-cluster': 'nope' } },
      expect: { status: 503, servedBy: null, responseHeaders: { 'x-saw-a': '503', 'x-saw-b': '503', 'x-saw-c': '503' } },
    },
  ],
  // proxy_on_log reaches every filter on every request, even one the request never reached.
  logs: [/(c c c: c: log[\s\S]*){4}/, /(b b b: b: log[\s\S]*){4}/],
};

test('filter chain semantics [harness]', async () => { await runInHarness(scenario, { wasmDir: outDir }); });
test('filter chain semantics [envoy]', async () => { await runInEnvoy(scenario, { wasmDir: outDir }); });
