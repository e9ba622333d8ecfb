import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPlugin } from '../../host/harness/index.ts';
import { repoRoot } from './fixtures.ts';

const wasm = join(repoRoot, 'build/example.wasm');
const config = { header: 'x-asmesh-example', value: 'hello' };
const get = (path: string) => ({ headers: { ':method': 'GET', ':path': path, ':authority': 'example.test' } });

test('build/example.wasm exists (npm run build)', () => {
  assert.ok(existsSync(wasm), `${wasm} is missing: run npm run build`);
});

test('example filter: adds the configured response header, logs once per request, counts requests', async () => {
  const plugin = await loadPlugin(wasm, { config, pluginName: 'example', rootId: 'example', vmId: 'example' });
  const r = await plugin.http(get('/a'));
  assert.equal(r.response.status, 200);
  assert.deepEqual(
    r.response.headers.find(([k]) => k === 'x-asmesh-example'),
    ['x-asmesh-example', 'hello'],
  );
  assert.deepEqual(
    r.logs.map((l) => `${l.level} ${l.message}`),
    ['info example: request /a'],
  );
  assert.deepEqual(r.upstreamRequest!.headers, [
    [':method', 'GET'],
    [':path', '/a'],
    [':authority', 'example.test'],
  ]);
  await plugin.http(get('/b'));
  assert.equal(plugin.metric('asmesh_example_requests_total'), 2);
  assert.match(plugin.prometheus(), /# TYPE asmesh_example_requests_total counter\nasmesh_example_requests_total 2\n/);
  assert.deepEqual(plugin.envoyLogLines().slice(-1), ['[info] wasm log example example example: example: request /b']);
});

test('example filter: a bad configuration fails the load with its error line', async () => {
  await assert.rejects(loadPlugin(wasm, { config: { value: 'x' } }), /example: config \$\.header: required/);
});

test('example filter: the header is also added to an upstream error response', async () => {
  const plugin = await loadPlugin(wasm, { config });
  const r = await plugin.http({ ...get('/c'), upstream: { status: 503, body: 'down' } });
  assert.equal(r.response.status, 503);
  assert.equal(r.response.bodyText, 'down');
  assert.deepEqual(
    r.response.headers.find(([k]) => k === 'x-asmesh-example'),
    ['x-asmesh-example', 'hello'],
  );
});

test('example filter: wasm linear memory does not grow with requests (nothing kept per request)', async () => {
  const plugin = await loadPlugin(wasm, { config });
  for (let i = 0; i < 200; i++) await plugin.http(get('/warm'));
  const before = plugin.wasmMemoryBytes();
  for (let i = 0; i < 5000; i++) {
    await plugin.http(get(`/r${i}`));
    if (i % 500 === 0) plugin.clearLogs();
  }
  assert.equal(plugin.wasmMemoryBytes(), before);
  assert.equal(plugin.metric('asmesh_example_requests_total'), 5200);
});
