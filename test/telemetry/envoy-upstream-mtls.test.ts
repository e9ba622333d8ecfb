// Telemetry filter as a client-side (outbound) sidecar in real Envoy whose cluster speaks mTLS to the
// upstream: destination_principal is the upstream certificate's SPIFFE URI SAN, read in the log phase
// from Envoy's upstream.uri_san_peer_certificate, as Istio's stats filter takes it on the source reporter.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { makeCerts, type CertSet } from '../authz/certs.ts';
import { select, total, prometheusWhen, STATS_FLUSH_MS } from './helpers.ts';

const REVIEWS = 'spiffe://cluster.local/ns/default/sa/reviews';
const SLEEP = 'spiffe://cluster.local/ns/default/sa/sleep';
const NODE_SLEEP = { WORKLOAD_NAME: 'sleep', NAMESPACE: 'default', CLUSTER_ID: 'Kubernetes', LABELS: { app: 'sleep', version: 'v1' } };
const CLUSTER = 'outbound|80||service_b';

let certs: CertSet, server: Server, envoy: Envoy;
let clientSans: string[] = [];

before(async () => {
  certs = makeCerts({ reviews: REVIEWS, sleep: SLEEP });
  const reviews = certs.clients.reviews!;
  // The upstream workload: serves the reviews certificate and requires a client certificate from the CA.
  server = createServer(
    { cert: reviews.certPem, key: reviews.keyPem, ca: certs.ca.certPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      clientSans.push(peer.subjectaltname ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const sleep = certs.clients.sleep!;
  envoy = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [{ name: 'telemetry', config: { reporter: 'source' } }],
    upstreams: { [CLUSTER]: { host: '127.0.0.1', port } },
    node: { id: 'sleep', cluster: 'sleep', metadata: NODE_SLEEP },
    edit: (b) => {
      const cluster = b.static_resources.clusters.find((c: { name: string }) => c.name === CLUSTER);
      assert.ok(cluster, `bootstrap has cluster ${CLUSTER}`);
      cluster.transport_socket = {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          common_tls_context: {
            tls_certificates: [{ certificate_chain: { filename: sleep.cert }, private_key: { filename: sleep.key } }],
            validation_context: { trusted_ca: { filename: certs.ca.cert } },
          },
        },
      };
    },
  });
});

after(async () => {
  await envoy?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

test('Envoy, source reporter over an mTLS upstream: destination_principal = the upstream SPIFFE id', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await envoy.request('/info', { headers: { host: 'service_b' } });
    assert.equal(res.status, 200);
  }
  // The upstream saw Envoy's client certificate: the hop really was mutual TLS.
  assert.ok(clientSans.length === 3 && clientSans.every((s) => s.includes(SLEEP)), clientSans.join(';'));
  const { exp } = await prometheusWhen(envoy, (e) => total(e, 'istio_request_duration_milliseconds_count') === 3);
  assert.equal(total(exp, 'istio_request_duration_milliseconds_count', { reporter: 'source', destination_principal: REVIEWS }), 3);
  assert.equal(total(exp, 'istio_requests_total', { reporter: 'source', destination_principal: REVIEWS, response_code: '200' }), 3);
  // Istio's metrics reference: the source reporter's connection_security_policy is unknown.
  for (const s of select(exp, 'istio_requests_total')) assert.equal(s.labels.connection_security_policy, 'unknown');
});
