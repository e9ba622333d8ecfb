import assert from 'node:assert/strict';
import { test } from 'node:test';
import { line, lines, probe, request } from './fixtures.ts';

test('http call: recorded, answered on the ROOT context, request paused until the filter continues', async () => {
  const plugin = await probe();
  const paused = await plugin.http(request('http-call', { 'x-cluster': 'authz' }));
  assert.equal(line(paused.logs, 'http_call rc='), 'http_call rc=0 token=1');
  assert.equal(paused.paused, true);
  assert.equal(paused.upstreamRequest, null);
  const calls = plugin.pendingHttpCalls();
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]!.headers, [
    [':method', 'POST'],
    [':path', '/check'],
    [':authority', 'authz'],
  ]);
  assert.equal(Buffer.from(calls[0]!.body).toString(), 'payload');
  assert.equal(calls[0]!.cluster, 'authz');
  assert.equal(calls[0]!.timeoutMs, 500);

  await plugin.respondHttpCall(1, { status: 200, headers: { 'x-r': '1' }, body: 'ok!' });
  const done = await paused.completion!;
  const logs = done.logs;
  assert.equal(line(logs, 'http_call_response'), 'http_call_response context=1 root=yes token=1 headers=2 body=3 trailers=0');
  assert.equal(line(logs, 'call_status='), 'call_status=200 body_rc=0 body=ok!');
  assert.equal(line(logs, 'add_after rc='), 'add_after rc=0');
  assert.equal(line(logs, 'continue rc='), 'continue rc=0');
  assert.equal(done.paused, undefined);
  assert.equal(done.response.status, 200);
  assert.deepEqual(
    done.upstreamRequest!.headers.find(([k]) => k === 'x-auth'),
    ['x-auth', '200'],
  );
  assert.equal(plugin.pendingHttpCalls().length, 0);
});

test('a failed call is delivered as (0, 0, 0) with status BrokenConnection "reset"', async () => {
  const plugin = await probe();
  const paused = await plugin.http(request('http-call', { 'x-cluster': 'authz' }));
  await plugin.failHttpCall(1);
  const done = await paused.completion!;
  assert.equal(line(done.logs, 'http_call_response'), 'http_call_response context=1 root=yes token=1 headers=0 body=0 trailers=0');
  assert.equal(line(done.logs, 'status code='), 'status code=11 message=reset');
  assert.equal(line(done.logs, 'call_status='), 'call_status=none body_rc=1 body=');
});

test('unknown cluster and missing :path are BadArgument; no call is made', async () => {
  const plugin = await probe();
  let r = await plugin.http(request('http-call', { 'x-cluster': 'nowhere' }));
  assert.equal(line(r.logs, 'http_call rc='), 'http_call rc=2 token=0');
  assert.equal(r.paused, undefined);
  r = await plugin.http(request('http-call', { 'x-cluster': 'authz', 'x-no-path': '1' }));
  assert.equal(line(r.logs, 'http_call rc='), 'http_call rc=2 token=0');
  assert.equal(plugin.pendingHttpCalls().length, 0);
});

test('responding to an unknown token throws', async () => {
  const plugin = await probe();
  await assert.rejects(plugin.respondHttpCall(42, { status: 200 }), /no pending http call with token 42/);
});

test('tokens increase per call', async () => {
  const plugin = await probe();
  await plugin.http(request('http-call', { 'x-cluster': 'authz' }));
  await plugin.http(request('http-call', { 'x-cluster': 'authz' }));
  assert.deepEqual(
    plugin.pendingHttpCalls().map((c) => c.token),
    [1, 2],
  );
  assert.deepEqual(lines(plugin.logs, 'http_call rc='), ['http_call rc=0 token=1', 'http_call rc=0 token=2']);
});
