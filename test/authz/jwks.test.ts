// The authz filter's remote JWKS (jwksUri) in the harness: fetched through an http call to the
// configured cluster, requests wait for it, refreshed on a timer, kept when a fetch fails,
// refetched once (rate-limited) for an unknown kid.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { loadPlugin, type Plugin } from '../../host/harness/index.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { jwks, makeKey, seedJwtRules, token, type TestKey } from './keys.ts';

const wasm = join(repoRoot, 'build/authz.wasm');
const NOW_MS = Date.UTC(2026, 0, 1);
const NOW = NOW_MS / 1000;

let a: TestKey, b: TestKey, c: TestKey;
before(async () => {
  [a, b, c] = await Promise.all([makeKey('RS256', 'key-a'), makeKey('ES256', 'key-b'), makeKey('PS256', 'key-c')]);
});

async function plugin(ext: Record<string, unknown> = {}): Promise<Plugin> {
  const jwtRules = seedJwtRules().map((r) => ({ ...r, asmesh: { ...(r.asmesh as object), ...ext } }));
  return loadPlugin(wasm, { config: { jwtRules }, nowMs: NOW_MS, clusters: ['jwks'], pluginName: 'authz', rootId: 'authz', vmId: 'authz' });
}

const get = (t: string) => ({ headers: { ':method': 'GET', ':path': '/info', ':authority': 'httpbin.foo', authorization: `Bearer ${t}` } });

async function answer(p: Plugin, body: string | null, status = 200) {
  const calls = p.pendingHttpCalls();
  assert.equal(calls.length, 1, 'one JWKS fetch pending');
  const call = calls[0]!;
  assert.equal(call.cluster, 'jwks');
  const h = new Map(call.headers);
  assert.equal(h.get(':path'), '/oauth2/v3/certs');
  assert.equal(h.get(':authority'), 'www.googleapis.com');
  assert.equal(h.get(':method'), 'GET');
  if (body === null) await p.failHttpCall(call.token);
  else await p.respondHttpCall(call.token, { status, headers: { 'content-type': 'application/json' }, body });
}

test('jwksUri: fetched on the first tick; a request arriving first waits for the keys', async () => {
  const p = await plugin();
  const t = await token(a, { nowSec: NOW });
  const r = await p.http(get(t));
  assert.ok(r.paused, 'the request waits for the JWKS');
  await answer(p, jwks(a));
  const done = await r.completion!;
  assert.equal(done.response.status, 200);
  assert.equal(p.metric('asmesh_authz_jwks_fetches_total'), 1);
  // The configure-time timer then finds the keys present and refreshes later, not now.
  await p.tick(1);
  assert.equal(p.pendingHttpCalls().length, 0);
});

test('jwksUri: refreshed on its timer; a failed refresh keeps the last good keys; key rotation', async () => {
  const p = await plugin({ jwksRefreshSeconds: 300, jwksRetrySeconds: 10 });
  await p.tick(1);
  await answer(p, jwks(a));
  assert.equal((await p.http(get(await token(a, { nowSec: NOW })))).response.status, 200);
  await p.tick(300_000);
  await answer(p, null); // refresh fails
  assert.equal(p.metric('asmesh_authz_jwks_fetch_failures_total'), 1);
  const t2 = await token(a, { nowSec: NOW, payload: { sub: 'after-failure' } });
  assert.equal((await p.http(get(t2))).response.status, 200, 'last good keys still used');
  await p.tick(10_000); // retry after jwksRetrySeconds
  await answer(p, 'not json');
  await p.tick(10_000);
  await answer(p, jwks(b), 200); // rotation: a is gone, b is in
  const rb = await p.http(get(await token(b, { nowSec: NOW })));
  assert.equal(rb.response.status, 200);
  const ra = await p.http(get(await token(a, { nowSec: NOW, payload: { sub: 'old key' } })));
  assert.equal(ra.response.status, 401);
  assert.equal(ra.response.bodyText, "Jwks doesn't have key to match kid or alg from Jwt");
  assert.equal(p.pendingHttpCalls().length, 0, 'unknown kid right after a fetch: no refetch (rate-limited)');
});

test('jwksUri: an unknown kid triggers one refetch, at most once per kidRefetchSeconds', async () => {
  const p = await plugin({ kidRefetchSeconds: 30 });
  await p.tick(1);
  await answer(p, jwks(a));
  p.advance(31_000);
  const r = await p.http(get(await token(b, { nowSec: NOW })));
  assert.ok(r.paused, 'waits for the refetch');
  await answer(p, jwks(a, b));
  assert.equal((await r.completion!).response.status, 200);
  // Another unknown kid right away: answered from the current keys, no second fetch.
  const rc = await p.http(get(await token(c, { nowSec: NOW })));
  assert.equal(rc.response.status, 401);
  assert.equal(rc.response.bodyText, "Jwks doesn't have key to match kid or alg from Jwt");
  assert.equal(p.pendingHttpCalls().length, 0);
});

test('jwksUri: keys never fetched: 401 Jwks remote fetch is failed, then recovers on retry', async () => {
  const p = await plugin({ jwksRetrySeconds: 5 });
  const t = await token(a, { nowSec: NOW });
  const r = await p.http(get(t));
  assert.ok(r.paused);
  await answer(p, '{"keys":[]}', 500);
  const failed = await r.completion!;
  assert.equal(failed.response.status, 401);
  assert.equal(failed.response.bodyText, 'Jwks remote fetch is failed');
  assert.equal((await p.http(get(t))).response.bodyText, 'Jwks remote fetch is failed', 'no new fetch before the retry time');
  await p.tick(5_000);
  await answer(p, jwks(a));
  assert.equal((await p.http(get(t))).response.status, 200);
});
