// The authz filter's remote JWKS (jwksUri) in the harness: fetched through an http call to the
// configured cluster, requests wait for it, refreshed on a timer, kept when a fetch fails,
// refetched once (rate-limited) for an unknown kid.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { SharedStore, loadPlugin, type Plugin } from '../../host/harness/index.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { jwks, makeKey, seedJwtRules, token, type TestKey } from '../../host/fixtures/jwt.ts';

const wasm = join(repoRoot, 'build/authz.wasm');
const NOW_MS = Date.UTC(2026, 0, 1);
const NOW = NOW_MS / 1000;

let a: TestKey, b: TestKey, c: TestKey;
before(async () => {
  [a, b, c] = await Promise.all([makeKey('RS256', 'key-a'), makeKey('ES256', 'key-b'), makeKey('PS256', 'key-c')]);
});

async function plugin(ext: Record<string, unknown> = {}, sharedStore?: SharedStore): Promise<Plugin> {
  const jwtRules = seedJwtRules().map((r) => ({ ...r, asmesh: { ...(r.asmesh as object), ...ext } }));
  return loadPlugin(wasm, {
    config: { jwtRules },
    nowMs: NOW_MS,
    clusters: ['jwks'],
    pluginName: 'authz',
    rootId: 'authz',
    vmId: 'authz',
    sharedStore,
  });
}

/** Two VMs of one plugin (as Envoy's workers with --concurrency 2): one vm_id, one shared store. */
async function twoWorkers(ext: Record<string, unknown> = {}): Promise<[Plugin, Plugin]> {
  const store = new SharedStore('authz');
  return [await plugin(ext, store), await plugin(ext, store)];
}

const fetches = (...ps: Plugin[]) => ps.reduce((n, p) => n + (p.metric('asmesh_authz_jwks_fetches_total') ?? 0), 0);
const status = async (p: Plugin, t: string) => (await p.http(get(t))).response.status;

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

test('shared JWKS: two VMs, one fetch per refresh; the other VM waits for it and uses the shared keys', async () => {
  const [w1, w2] = await twoWorkers({ jwksRefreshSeconds: 300 });
  await w1.tick(1); // w1's first tick: takes the lease, fetches
  await w2.tick(1); // w2 sees the lease: no fetch, polls
  assert.equal(w2.pendingHttpCalls().length, 0, 'the second VM does not fetch');
  const waiting = await w2.http(get(await token(a, { nowSec: NOW })));
  assert.ok(waiting.paused, "a request on the second VM waits for the first VM's fetch");
  await answer(w1, jwks(a));
  await w2.tick(100); // poll: the keys are in shared data
  assert.equal((await waiting.completion!).response.status, 200);
  assert.equal(fetches(w1, w2), 1);
  assert.equal(w2.metric('asmesh_authz_jwks_shared_updates_total'), 1);
  assert.ok(w2.logsAt('info').some((l) => l === 'authz: jwks https://www.googleapis.com/oauth2/v3/certs: 1 keys from shared data'));
  assert.equal(await status(w1, await token(a, { nowSec: NOW, payload: { sub: 'w1' } })), 200);

  // The refresh period ends on both (their clocks move together): one fetch, a rotated key.
  for (let period = 1; period <= 3; period++) {
    const [first, second] = period % 2 === 1 ? [w2, w1] : [w1, w2]; // either VM's timer may fire first
    await first.tick(300_000);
    await second.tick(300_000);
    assert.equal(second.pendingHttpCalls().length, 0, `period ${period}: only the first VM fetches`);
    const next = period % 2 === 1 ? b : a;
    await answer(first, jwks(next));
    await second.tick(100);
    await first.tick(100);
    assert.equal(fetches(w1, w2), 1 + period, `period ${period}: one fetch`);
    const t = await token(next, { nowSec: NOW, payload: { sub: `period-${period}` } });
    assert.equal(await status(w1, t), 200, `period ${period}: VM 1 accepts the rotated key`);
    assert.equal(await status(w2, t), 200, `period ${period}: VM 2 accepts the rotated key`);
  }
  assert.equal(w1.pendingHttpCalls().length + w2.pendingHttpCalls().length, 0);
});

test('shared JWKS: an unknown kid on a VM whose timer has not fired yet uses the keys another VM refreshed, without fetching', async () => {
  const [w1, w2] = await twoWorkers({ jwksRefreshSeconds: 300, kidRefetchSeconds: 30 });
  await w1.tick(1);
  await answer(w1, jwks(a));
  await w2.tick(1); // adopts from shared data
  assert.equal(fetches(w1, w2), 1);
  // Only w1's clock reaches its refresh (w2 lags behind, as worker timers do): the key rotates.
  await w1.tick(300_000);
  await answer(w1, jwks(a, b));
  w2.advance(60_000);
  const r = await w2.http(get(await token(b, { nowSec: NOW })));
  assert.equal(r.response.status, 200, 'the new key came from shared data');
  assert.equal(fetches(w1, w2), 2);
  assert.equal(w2.pendingHttpCalls().length, 0);
  // A kid nobody has: w2 refetches (rate-limited from the last shared fetch); w1 then takes it over.
  w2.advance(31_000);
  w1.advance(31_000);
  const rc = await w2.http(get(await token(c, { nowSec: NOW })));
  assert.ok(rc.paused);
  await answer(w2, jwks(a, b, c));
  assert.equal((await rc.completion!).response.status, 200);
  assert.equal(await status(w1, await token(c, { nowSec: NOW, payload: { sub: 'on w1' } })), 200);
  assert.equal(fetches(w1, w2), 3, 'w1 took the refetched keys from shared data');
});

test('shared JWKS: an unknown kid while another VM is fetching waits for that fetch (even within kidRefetchSeconds)', async () => {
  const [w1, w2] = await twoWorkers({ jwksRefreshSeconds: 20, kidRefetchSeconds: 30 });
  await w1.tick(1);
  await answer(w1, jwks(a));
  await w2.tick(1);
  await w1.tick(20_000); // w1's refresh is under way (rotation to a, b)
  w2.advance(20_000); // w2's last keys are 20 s old: an unknown kid alone would not refetch (30 s)
  const r = await w2.http(get(await token(b, { nowSec: NOW })));
  assert.ok(r.paused, "waits for the other VM's fetch instead of a 401");
  assert.equal(w2.pendingHttpCalls().length, 0);
  await answer(w1, jwks(a, b));
  await w2.tick(100);
  assert.equal((await r.completion!).response.status, 200);
  assert.equal(fetches(w1, w2), 2);
});

test('shared JWKS: a failed refresh keeps the last good keys on every VM and holds the other VMs off until the retry; a VM that took the lease and vanished is replaced after the timeout', async () => {
  const [w1, w2] = await twoWorkers({ jwksRefreshSeconds: 300, jwksRetrySeconds: 10, jwksTimeoutMs: 2000 });
  await w1.tick(1);
  await answer(w1, jwks(a));
  await w2.tick(1);
  await w1.tick(300_000);
  await w2.tick(300_000); // w1 holds the lease
  await answer(w1, null);
  const t = await token(a, { nowSec: NOW, payload: { sub: 'after failure' } });
  assert.equal(await status(w1, t), 200);
  assert.equal(await status(w2, t), 200);
  await w2.tick(100); // w2's poll: the fetch failed, so w2 waits for the retry time as w1 does
  assert.equal(w2.pendingHttpCalls().length, 0, 'one failure is not retried once per VM');
  assert.equal(fetches(w1, w2), 2);
  await w2.tick(9_900); // retry time: w2's timer fires first, takes the lease, fetches
  assert.equal(w2.pendingHttpCalls().length, 1);
  await w1.tick(10_000);
  assert.equal(w1.pendingHttpCalls().length, 0, 'w1 sees the lease');
  assert.equal(fetches(w1, w2), 3, 'one retry for both VMs');
  // w2 never answers (its worker is gone): w1 polls until the lease is stale (2 s timeout + 1 s), then fetches.
  await w1.tick(2_800);
  assert.equal(w1.pendingHttpCalls().length, 0, 'lease still live: w1 polls');
  await w1.tick(300);
  assert.equal(w1.pendingHttpCalls().length, 1, 'stale lease: w1 fetches');
  await answer(w1, jwks(b));
  assert.equal(await status(w1, await token(b, { nowSec: NOW })), 200);
});

test("shared JWKS: keys never fetched and the other VM's fetch failed: 401 Jwks remote fetch is failed on both, no fetch per VM", async () => {
  const [w1, w2] = await twoWorkers({ jwksRetrySeconds: 5 });
  await w1.tick(1);
  await w2.tick(1); // polls
  const tk = await token(a, { nowSec: NOW });
  const waiting = await w2.http(get(tk));
  assert.ok(waiting.paused);
  await answer(w1, '{"keys":[]}', 500);
  await w2.tick(100);
  assert.equal((await waiting.completion!).response.bodyText, 'Jwks remote fetch is failed');
  assert.equal((await w2.http(get(tk))).response.bodyText, 'Jwks remote fetch is failed');
  assert.equal((await w1.http(get(tk))).response.bodyText, 'Jwks remote fetch is failed');
  assert.equal(fetches(w1, w2), 1);
  await w1.tick(5_000);
  await answer(w1, jwks(a));
  await w2.tick(4_900);
  assert.equal(fetches(w1, w2), 2);
  assert.equal(await status(w2, tk), 200);
});

test('shared JWKS: the lease is taken by CAS; a late answer to a stale lease and the new fetch both publish, and every VM ends on the last one', async () => {
  const [w1, w2] = await twoWorkers({ jwksRefreshSeconds: 300, jwksTimeoutMs: 1000 });
  await w1.tick(1); // w1's lease
  await w2.tick(1); // w2 polls
  assert.equal(w2.pendingHttpCalls().length, 0);
  await w2.tick(2_100); // w2 polls until w1's lease (taken at +1 ms) is stale after 1 s timeout + 1 s margin
  assert.equal(w2.pendingHttpCalls().length, 1);
  const key = 'asmesh.authz.jwks.v1 https://www.googleapis.com/oauth2/v3/certs';
  const lease = (p: Plugin) => Buffer.from(p.sharedData.get(key)!.value).readBigUInt64LE(8);
  assert.equal(lease(w1), BigInt(NOW_MS + 2_001), "w2's lease replaced w1's");
  await answer(w1, jwks(a)); // w1's late answer: published, w2's lease stays
  assert.equal(lease(w1), BigInt(NOW_MS + 2_001));
  await answer(w2, jwks(b)); // w2's answer comes last: published over it, lease freed
  assert.equal(lease(w1), 0n);
  await w1.tick(300_100);
  await w2.tick(300_100 - 2_200);
  assert.equal(fetches(w1, w2), 2, 'no refetch: the shared keys were fresh');
  const tb = await token(b, { nowSec: NOW });
  assert.equal(await status(w1, tb), 200);
  assert.equal(await status(w2, tb), 200);
});

test('harness: a shared store is only for plugins of its vm_id', async () => {
  await assert.rejects(
    loadPlugin(wasm, { config: { jwtRules: seedJwtRules() }, vmId: 'other', sharedStore: new SharedStore('authz') }),
    /Envoy shares data only within one vm_id/,
  );
});
