import assert from 'node:assert/strict';
import { test } from 'node:test';
import { line, probe, request } from './fixtures.ts';

test('a local reply is deferred, stops the request even if the callback continues, and passes the encoder path', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('local'));
  assert.equal(line(r.logs, 'local rc='), 'local rc=0');
  assert.equal(r.upstreamRequest, null);
  assert.deepEqual(r.response, {
    status: 403,
    local: true,
    details: 'probe_denied',
    body: r.response.body,
    bodyText: 'denied by probe',
    headers: [
      [':status', '403'],
      ['content-length', '15'],
      ['content-type', 'text/plain'],
      ['x-why', 'probe'],
      ['x-probe', 'seen'],
    ],
  });
  // Envoy sends the local reply through this filter's encoder callbacks.
  assert.deepEqual(
    r.phases.map((p) => p.phase),
    ['request_headers', 'response_headers', 'response_body'],
  );
  // The replying filter still reads the request headers there (Envoy 1.40, test/scenarios/rust.scenarios.ts).
  assert.equal(line(r.logs, 'response_headers'), 'response_headers count=4 eos=0 status=403 request_map=present');
});

test('local reply sent from an http call response (root context, effective stream) completes a paused request', async () => {
  const plugin = await probe();
  const paused = await plugin.http(request('http-call', { 'x-cluster': 'authz' }));
  assert.equal(paused.paused, true);
  const [call] = plugin.pendingHttpCalls();
  await plugin.failHttpCall(call!.token);
  const done = await paused.completion!;
  assert.equal(done.response.status, 503);
  assert.equal(done.response.bodyText, 'authz down');
  assert.equal(done.response.details, 'authz_unavailable');
  assert.equal(done.upstreamRequest, null);
});
