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

test('proxy_on_log reads the final request and response header maps (Envoy 1.40: on_log sees both), also after a local reply', async () => {
  const plugin = await probe();
  const mapsInLog = (logs: { message: string }[]) => {
    const messages = logs.map((l) => l.message);
    return messages[messages.indexOf('log') + 1];
  };
  const r = await plugin.http({ ...request(), upstream: { status: 201, headers: { 'x-a': '1', 'x-b': '2' }, body: 'ok' } });
  assert.equal(r.response.status, 201);
  // h0 = request headers (3 sent), h2 = response headers (:status + 2); both readable in on_log.
  assert.equal(mapsInLog(r.logs), 'maps h0=0/3 h1=0/0 h2=0/3 h3=0/0 b0=0/0 b1=0/0');
  const reply = await plugin.http(request({ 'x-probe': 'reply', 'x-probe-status': '403' }));
  assert.equal(reply.response.status, 403);
  assert.match(mapsInLog(reply.logs)!, /^maps h0=0\/5 h1=0\/0 h2=0\/[1-9]/);
});
