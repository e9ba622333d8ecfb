// Istio's bookinfo (test/data/istio-samples, verbatim) through asmesh translate, in real Envoy with the
// real filters: every workload's sidecar passes `envoy --mode validate`, and the sidecars do what the
// istio.io tasks describe: request routing (reviews v2 for end-user jason), fault injection (ratings
// abort for jason), HTTP authorization (allow-nothing + productpage-viewer: GET on productpage only).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { translate } from '../../host/cli/translate.ts';
import { localizePaths } from '../../host/cli/envoy.ts';
import { makeMeshCerts } from '../../host/cli/certs.ts';
import { launchEnvoy, send, validateBootstrap, type Envoy } from '../../host/envoy/launcher.ts';
import { EchoServer } from '../../host/upstream/echo.ts';
import type { JsonObject } from '../../host/cli/istio.ts';
import { repoRoot } from '../harness/fixtures.ts';

const samples = join(repoRoot, 'test/data/istio-samples');
const file = (p: string) => ({ name: p, text: readFileSync(join(samples, p), 'utf8') });
const FILES = [
  'bookinfo/platform/kube/bookinfo.yaml',
  'bookinfo/networking/destination-rule-all.yaml',
  'bookinfo/networking/virtual-service-reviews-test-v2.yaml',
  'bookinfo/networking/virtual-service-ratings-test-abort.yaml',
  'security/allow-nothing.yaml',
  'security/productpage-viewer.yaml',
].map(file);
const WORKLOADS = ['details-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'productpage-v1'];
const built = ['steering', 'authz', 'telemetry'].every((f) => existsSync(join(repoRoot, 'build', `${f}.wasm`)));
const work = join(repoRoot, '.tmp/test-translate-bookinfo');
const certDir = () => makeMeshCerts(join(work, 'certs'), [{ name: 'w', namespace: 'default', serviceAccount: 'bookinfo' }]).w;

test('every bookinfo workload translates and its sidecar passes envoy --mode validate (real filters)', async (t) => {
  if (!built) return t.skip('build/*.wasm not built (npm run build)');
  const certs = certDir();
  for (const name of WORKLOADS) {
    const r = translate(FILES, { workload: { name } });
    const v = await validateBootstrap(localizePaths(r.envoy, { wasmDir: join(repoRoot, 'build'), certDir: certs }));
    assert.equal(v.ok, true, `${name}: ${v.output}`);
  }
});

const echoes: EchoServer[] = [];
const envoys: Envoy[] = [];
after(async () => {
  for (const e of envoys) await e.stop();
  for (const e of echoes) await e.close();
});
let servers: Record<string, EchoServer> = {};
before(async () => {
  if (!built) return;
  for (const id of ['productpage', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1', 'details-v1']) {
    const e = await EchoServer.start(id);
    echoes.push(e);
    servers[id] = e;
  }
});

/** One bookinfo sidecar in Envoy: loopback, ephemeral ports; each outbound cluster to the echo server of its subset. */
async function sidecar(name: string, app: string, files = FILES): Promise<{ outbound: string; inbound: string; envoy: Envoy }> {
  const ep = (id: string) => ({ address: '127.0.0.1', port: servers[id].port });
  const endpoints: Record<string, { address: string; port: number }> = {};
  for (const svc of ['reviews', 'ratings', 'details', 'productpage'])
    for (const v of ['', 'v1', 'v2', 'v3']) {
      const id = svc === 'productpage' ? 'productpage' : `${svc}-${v || 'v1'}`;
      if (servers[id]) endpoints[`outbound|9080|${v}|${svc}.default.svc.cluster.local`] = ep(id);
    }
  const r = translate(files, {
    workload: { name },
    listenAddress: '127.0.0.1',
    adminPort: 0,
    outboundPort: 0,
    inboundPort: 0,
    app: ep(app),
    endpoints,
  });
  const envoy = await launchEnvoy(localizePaths(r.envoy, { wasmDir: join(repoRoot, 'build'), certDir: certDir() }) as JsonObject);
  envoys.push(envoy);
  return { outbound: envoy.listeners.outbound!, inbound: envoy.listeners.inbound!, envoy };
}

const servedBy = (body: string) => (JSON.parse(body) as { served_by: string }).served_by;

test('request routing: productpage -> reviews goes to v2 for end-user jason, v1 for everyone else', async (t) => {
  if (!built) return t.skip('build/*.wasm not built (npm run build)');
  const pp = await sidecar('productpage-v1', 'productpage');
  const jason = await send(pp.outbound, '/reviews/0', { headers: { host: 'reviews:9080', 'end-user': 'jason' } });
  assert.equal(jason.status, 200, jason.body);
  assert.equal(servedBy(jason.body), 'reviews-v2');
  for (const user of ['alice', '']) {
    const other = await send(pp.outbound, '/reviews/0', {
      headers: user ? { host: 'reviews:9080', 'end-user': user } : { host: 'reviews' },
    });
    assert.equal(servedBy(other.body), 'reviews-v1', user);
  }
  // details has no VirtualService: its default route (the Service's cluster).
  assert.equal(
    servedBy((await send(pp.outbound, '/details/0', { headers: { host: 'details.default.svc.cluster.local:9080' } })).body),
    'details-v1',
  );
  // HTTP authorization on productpage's inbound: allow-nothing + productpage-viewer = GET only.
  assert.equal((await send(pp.inbound, '/productpage')).status, 200);
  const post = await send(pp.inbound, '/productpage', { method: 'POST', body: 'x' });
  assert.equal(post.status, 403);
});

test('fault injection: reviews-v2 -> ratings is aborted with 500 for jason; ratings itself denies everything (allow-nothing)', async (t) => {
  if (!built) return t.skip('build/*.wasm not built (npm run build)');
  const rv = await sidecar('reviews-v2', 'reviews-v2');
  const jason = await send(rv.outbound, '/ratings/0', { headers: { host: 'ratings:9080', 'end-user': 'jason' } });
  assert.equal(jason.status, 500);
  const other = await send(rv.outbound, '/ratings/0', { headers: { host: 'ratings:9080', 'end-user': 'alice' } });
  assert.equal(other.status, 200);
  assert.equal(servedBy(other.body), 'ratings-v1');
  const ratings = await sidecar('ratings-v1', 'ratings-v1');
  assert.equal((await send(ratings.inbound, '/ratings/0')).status, 403);
});

// bookinfo's ratings-test-delay: a 7 s fixed delay (percentage 100) for end-user jason, as the istio.io
// fault-injection task runs it. 7 s is the sample's own value, kept: the two requests run at once, so the
// test waits ~7 s once; asserted by the filter's fault counter and a lower bound on jason's time only.
test('fault injection (delay): reviews-v2 -> ratings is delayed 7 s for jason only (steering fault counter, elapsed >= 7 s)', async (t) => {
  if (!built) return t.skip('build/*.wasm not built (npm run build)');
  const files = FILES.map((f) =>
    f.name.endsWith('ratings-test-abort.yaml') ? file('bookinfo/networking/virtual-service-ratings-test-delay.yaml') : f,
  );
  const rv = await sidecar('reviews-v2', 'reviews-v2', files);
  const delays = async () => (await rv.envoy.metric('route=0;fault=delay;asmesh_steering_faults_total')) ?? 0;
  const timed = async (user: string) => {
    const start = performance.now();
    const reply = await send(rv.outbound, '/ratings/0', { headers: { host: 'ratings:9080', 'end-user': user } });
    return { reply, ms: performance.now() - start };
  };
  const alice = await timed('alice');
  assert.equal(alice.reply.status, 200);
  assert.equal(servedBy(alice.reply.body), 'ratings-v1');
  assert.equal(await delays(), 0, 'no delay for alice');
  const [jason, other] = await Promise.all([timed('jason'), timed('')]);
  assert.equal(jason.reply.status, 200, jason.reply.body);
  assert.equal(servedBy(jason.reply.body), 'ratings-v1');
  assert.ok(jason.ms >= 7000 - 1, `jason's request took ${jason.ms.toFixed(0)} ms`);
  assert.equal(other.reply.status, 200);
  assert.equal(await delays(), 1, 'one delay: jason');
  const decisions = await rv.envoy.stats();
  assert.equal(decisions.get('wasmcustom.route=0;subset=v1;asmesh_steering_decisions_total'), 1);
  assert.equal(decisions.get('wasmcustom.route=1;subset=v1;asmesh_steering_decisions_total'), 2);
});
