// The steering filter in real Envoy, for what the shared scenarios cannot observe: the delay as
// measured at the upstream, concurrent delayed requests, and labelled metrics in /stats/prometheus.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { statsTags } from '../../filters/manifest.ts';
import { send, startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { Upstreams, echoReply } from '../../host/upstream/echo.ts';
import { v1, v2, virtualServiceSpec } from '../../host/fixtures/steering.ts';

const DELAY_MS = 400;
const config = {
  hosts: ['service_b'],
  http: [
    {
      name: 'slow',
      match: [{ uri: { prefix: '/slow' } }],
      fault: { delay: { fixedDelay: `${DELAY_MS}ms`, percentage: { value: 100 } } },
      route: [{ destination: { host: 'service_b', subset: 'v1' } }],
    },
    ...(virtualServiceSpec('steering').http as unknown[]),
  ],
};

let upstreams: Upstreams;
let envoy: Envoy;
/** Upstream arrival time (ms) by x-probe header. */
const arrivals = new Map<string, number>();

before(async () => {
  upstreams = await Upstreams.start();
  for (const cluster of [v1, v2]) {
    const server = upstreams.get(cluster);
    for (const path of ['/slow', '/fast']) {
      server.setRoute(path, (req) => {
        arrivals.set(req.headers['x-probe'] ?? '', performance.now());
        return echoReply(server.identity, req);
      });
    }
  }
  envoy = await startEnvoy({ filters: [{ name: 'steering', config }], upstreams: upstreams.endpoints(), statsTags: statsTags() });
});

after(async () => {
  await envoy?.stop();
  await upstreams?.close();
});

async function timed(
  path: string,
  probe: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; servedBy: string; ms: number }> {
  const start = performance.now();
  const reply = await send(envoy.listenerUrl, path, { headers: { host: 'service_b', 'x-probe': probe, ...headers } });
  const arrived = arrivals.get(probe);
  assert.ok(arrived !== undefined, `${probe} never reached the upstream (status ${reply.status})`);
  return { status: reply.status, servedBy: reply.headers['x-served-by'] ?? '', ms: arrived - start };
}

test('fault delay: measured at the upstream, the delayed request arrives at least fixedDelay later; others are not held', async () => {
  const fast = await timed('/fast', 'fast-1');
  const slow = await timed('/slow', 'slow-1');
  assert.equal(fast.status, 200);
  assert.equal(fast.servedBy, 'service_b/v1');
  assert.equal(slow.status, 200);
  assert.equal(slow.servedBy, 'service_b/v1');
  assert.ok(slow.ms >= DELAY_MS - 1, `delayed request reached the upstream after ${slow.ms.toFixed(1)} ms, expected >= ${DELAY_MS}`);
  assert.ok(slow.ms < DELAY_MS + 2000, `delayed request took ${slow.ms.toFixed(1)} ms`);
  assert.ok(fast.ms < DELAY_MS, `undelayed request took ${fast.ms.toFixed(1)} ms to reach the upstream`);
});

test('fault delay: concurrent delayed requests each wait and all complete', async () => {
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => timed('/slow', `slow-c${i}`, i % 2 ? { 'end-user': 'jason' } : {})),
  );
  for (const r of results) {
    assert.equal(r.status, 200);
    assert.equal(r.servedBy, 'service_b/v1', 'the /slow route comes first, whoever the user is');
    assert.ok(r.ms >= DELAY_MS - 1, `arrived after ${r.ms.toFixed(1)} ms`);
  }
});

test('decision counters carry route and subset tags in /stats/prometheus (filters/manifest.ts statsTags)', async () => {
  await timed('/fast', 'jason-1', { 'end-user': 'jason' });
  const prom = await envoy.prometheus();
  assert.match(prom, /^asmesh_steering_decisions_total\{route="1",subset="v2"\} 1$/m);
  assert.match(prom, /^asmesh_steering_decisions_total\{route="slow",subset="v1"\} 7$/m);
  assert.match(prom, /^asmesh_steering_faults_total\{route="slow",fault="delay"\} 7$/m);
});
