// Telemetry filter in real Envoy with mTLS (test certificates from test/authz/certs.ts): the
// client certificate's SPIFFE URI SAN becomes source_principal, connection_security_policy is
// mutual_tls, and two clients with different identities get separate series.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { makeCerts, requireMtls, type Cert, type CertSet } from '../authz/certs.ts';
import { select, total, prometheusWhen, NODE_PRODUCTPAGE, STATS_FLUSH_MS } from './helpers.ts';

let certs: CertSet, upstreams: Upstreams, envoy: Envoy;

before(async () => {
  certs = makeCerts({ sleep: 'spiffe://cluster.local/ns/default/sa/sleep', ratings: 'spiffe://cluster.local/ns/test/sa/ratings' });
  upstreams = await Upstreams.start();
  envoy = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [{ name: 'telemetry', config: { reporter: 'destination' } }],
    upstreams: upstreams.endpoints(),
    node: { id: 'productpage', cluster: 'productpage', metadata: NODE_PRODUCTPAGE },
    edit: (b) => requireMtls(b, certs),
  });
});

after(async () => {
  await envoy?.stop();
  await upstreams?.close();
});

async function send(client: Cert, status: number): Promise<number> {
  const tls = { ca: certs.ca.certPem, cert: client.certPem, key: client.keyPem };
  return (await envoy.request('/info', { headers: { host: 'service_b', 'x-echo-status': String(status) }, tls })).status;
}

test('Envoy + mTLS: principals from the peer certificate, connection_security_policy mutual_tls, exact counts', async () => {
  const { sleep, ratings } = certs.clients as Record<string, Cert>;
  for (let i = 0; i < 3; i++) assert.equal(await send(sleep!, 200), 200);
  assert.equal(await send(sleep!, 503), 503);
  for (let i = 0; i < 2; i++) assert.equal(await send(ratings!, 404), 404);
  const { exp } = await prometheusWhen(envoy, (e) => total(e, 'istio_request_duration_milliseconds_count') === 6);
  const sleepSan = 'spiffe://cluster.local/ns/default/sa/sleep';
  assert.equal(total(exp, 'istio_requests_total', { source_principal: sleepSan, response_code: '200' }), 3);
  assert.equal(total(exp, 'istio_requests_total', { source_principal: sleepSan, response_code: '503' }), 1);
  assert.equal(
    total(exp, 'istio_requests_total', { source_principal: 'spiffe://cluster.local/ns/test/sa/ratings', response_code: '404' }),
    2,
  );
  assert.equal(total(exp, 'istio_request_duration_milliseconds_count', { source_principal: sleepSan }), 4);
  for (const s of select(exp, 'istio_requests_total')) {
    assert.equal(s.labels.connection_security_policy, 'mutual_tls');
    // The test server certificate has no URI SAN (only IP and DNS names).
    assert.equal(s.labels.destination_principal, 'unknown');
    assert.equal(s.labels.destination_workload, 'productpage-v1');
  }
});
