// The scenario runner's filter chain against Envoy's, with a fixture filter mounted three times
// (a, b, c): request phases in order, response phases in reverse, a local reply from one filter
// goes back through the encoders of that filter and those before it only (Envoy 1.40: the filters
// after it never see the response, but all get proxy_on_log); the router's own 503 goes through all.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { compileAs, repoRoot } from '../harness/fixtures.ts';
import { HarnessChain, runInEnvoy, runInHarness } from '../scenarios/runner.ts';
import { startEnvoy } from '../../host/envoy/launcher.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import type { Scenario } from '../scenarios/types.ts';

const outDir = join(repoRoot, '.tmp', 'envoy-fixtures');

/** Compiles the fixture (when changed) and mounts it under each name. */
async function compile(fixture: string, names: string[]): Promise<void> {
  await compileAs([`test/envoy/fixtures/${fixture}.ts`], `.tmp/envoy-fixtures/${fixture}.wasm`, [
    '--config',
    'asconfig.json',
    '--target',
    'example',
  ]);
  for (const name of names) copyFileSync(join(outDir, `${fixture}.wasm`), join(outDir, `${name}.wasm`));
}

before(async () => {
  await compile('replier', ['a', 'b', 'c']);
  await compile('headers', ['hdr', 'hdr2']);
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
      expect: {
        status: 418,
        servedBy: null,
        body: 'teapot from b',
        responseHeaders: { 'x-saw-a': '418', 'x-saw-b': '418', 'x-saw-c': null },
      },
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

test('filter chain semantics [harness]', async () => {
  await runInHarness(scenario, { wasmDir: outDir });
});
test('filter chain semantics [envoy]', async () => {
  await runInEnvoy(scenario, { wasmDir: outDir });
});

/** The header lines the `hdr` fixture logged, with per-request values (ids, dates, timings) masked. */
function headerLines(log: string): string[] {
  const lines = [...log.matchAll(/wasm log (hdr2?) hdr2? hdr2?: ((?:REQ|RESP|LOG-REQ|LOG-RESP) .*)/g)].map((m) =>
    `${m[1]} ${m[2]!}`
      .replace(/x-request-id=\S+/, 'x-request-id=*')
      .replace(/date=.*? GMT/, 'date=*')
      .replace(/x-envoy-upstream-service-time=\d+/, 'x-envoy-upstream-service-time=*'),
  );
  // Per filter, in order (the two filters' lines interleave differently in the two hosts).
  return [...lines.filter((l) => l.startsWith('hdr ')), ...lines.filter((l) => l.startsWith('hdr2 '))];
}

test('a filter sees the same request and response headers, in the same order, in the harness and in Envoy', async () => {
  // hdr, then replier `a` (answers 418 on `x-reply: a`), then hdr2: hdr's encoder sees a's local
  // reply; hdr2 never sees that request, but both log what the header maps hold in proxy_on_log.
  const mounted = [
    { name: 'hdr', config: '' },
    { name: 'a', config: 'a' },
    { name: 'hdr2', config: '' },
  ];
  const scenario = { name: 'headers', filters: mounted } as unknown as Scenario;
  const requests: { method: string; path: string; headers: Record<string, string>; body?: string }[] = [
    { method: 'POST', path: '/p?q=1', headers: { 'x-a': '1', 'user-agent': 'ua' }, body: 'hello' },
    { method: 'GET', path: '/', headers: { 'x-asmesh-cluster': 'outbound|80|v1|service_b', 'x-echo-status': '404' } },
    { method: 'GET', path: '/local', headers: { 'x-reply': 'a' } },
    { method: 'GET', path: '/nocluster', headers: { 'x-asmesh-cluster': 'nope' } },
  ];
  const chain = await HarnessChain.load(scenario, { wasmDir: outDir });
  for (const r of requests) await chain.request(r);
  const harness = headerLines(chain.logLines());
  chain.close();
  const upstreams = await Upstreams.start();
  const envoy = await startEnvoy({ wasmDir: outDir, filters: mounted, upstreams: upstreams.endpoints() });
  try {
    // One keep-alive connection, as the scenario runner sends (Envoy adds `connection: close` for a closing client).
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (const r of requests)
      await envoy.request(r.path, { method: r.method, headers: { host: 'service_b', ...r.headers }, body: r.body, agent });
    agent.destroy();
    await envoy.waitForLog(/(hdr2 hdr2 hdr2: LOG-RESP[\s\S]*){4}/);
    assert.equal(harness.filter((l) => l.startsWith('hdr ')).length, 16);
    assert.deepEqual(headerLines(envoy.logs()), harness);
  } finally {
    await envoy.stop();
    await upstreams.close();
  }
});
