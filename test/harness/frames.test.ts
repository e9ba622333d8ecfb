// plugin.http() delivers bodies and honours stops as Envoy 1.40 does (measured with the same Rust
// probe through the scenario runner, test/scenarios/rust.scenarios.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPlugin } from '../../host/harness/index.ts';
import { repoRoot } from './fixtures.ts';

const probe = () =>
  loadPlugin(join(repoRoot, 'test/fixtures/rust/wasm/probe.wasm'), {
    pluginName: 'probe',
    rootId: 'probe',
    vmId: 'probe',
    clusters: ['c'],
  });
const request = (extra: Record<string, string> = {}) => ({
  headers: { ':method': 'POST', ':path': '/p', ':authority': 'a', ...extra },
  body: 'hello',
});
const bodyLines = (logs: { message: string }[]) =>
  logs.map((l) => l.message).filter((m) => /^(request_body|continue|http_call_response)/.test(m));

test('a body arrives as HTTP/1 frames by default: the data, then an empty end-of-stream frame; a test may choose one frame', async () => {
  const plugin = await probe();
  assert.deepEqual(bodyLines((await plugin.http(request())).logs), ['request_body size=5 eos=0', 'request_body size=0 eos=1']);
  assert.deepEqual(bodyLines((await plugin.http({ ...request(), bodyFrames: 'last-chunk' })).logs), ['request_body size=5 eos=1']);
  // StopIterationAndBuffer on the data: the end frame sees everything kept.
  assert.deepEqual(bodyLines((await plugin.http(request({ 'x-probe': 'buffer-body' }))).logs), [
    'request_body size=5 eos=0',
    'request_body size=5 eos=1',
  ]);
});

test('StopIteration on request headers holds the body until the filter continues (cpp-host: StopAllIterationAndWatermark)', async () => {
  const plugin = await probe();
  const r = await plugin.http(request({ 'x-probe': 'stop-headers', 'x-probe-cluster': 'c' }));
  assert.equal(r.paused, true);
  assert.deepEqual(bodyLines(r.logs), []);
  assert.equal(r.upstreamRequest, null);
  await plugin.respondHttpCall(plugin.pendingHttpCalls()[0]!.token, { status: 200 });
  const done = await r.completion!;
  assert.deepEqual(bodyLines(done.logs), [
    'http_call_response headers=true body=false trailers=0',
    'continue rc=0/0',
    'request_body size=5 eos=1',
  ]);
  assert.equal(done.upstreamRequest?.bodyText, 'hello');
});
