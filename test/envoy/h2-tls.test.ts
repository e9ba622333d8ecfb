// HTTP/2 over TLS (ALPN h2) with a client certificate: a grpc-js client presenting a SPIFFE identity
// through steering, authz and telemetry in Envoy, to a grpc-js server on an HTTP/2 cluster. The TLS
// listener offers h2 and http/1.1 by ALPN: the gRPC call negotiates h2, an HTTPS HTTP/1.1 client on the
// same port is served too. authz allows by the peer principal (mTLS), telemetry reports mutual_tls.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, test } from 'node:test';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { makeCerts, requireMtls, type CertSet } from '../authz/certs.ts';
import { select, prometheusWhen, statsTags, STATS_FLUSH_MS } from '../telemetry/helpers.ts';
import { GrpcClient, SERVICE, startGrpcServer } from './grpcjs.ts';

const BUYER = 'spiffe://cluster.local/ns/shop/sa/buyer';
const OTHER = 'spiffe://cluster.local/ns/shop/sa/other';
const V1 = 'outbound|80|v1|service_b';

let envoy: Envoy;
let certs: CertSet;
let server: Awaited<ReturnType<typeof startGrpcServer>>;

before(async () => {
  certs = makeCerts({ buyer: BUYER, other: OTHER });
  server = await startGrpcServer('service_b/v1');
  envoy = await startEnvoy({
    filters: [
      { name: 'steering', config: { hosts: ['service_b'], http: [{ route: [{ destination: { host: 'service_b', subset: 'v1' } }] }] } },
      {
        name: 'authz',
        config: {
          jwtRules: [],
          policies: [
            { name: 'buyer', action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/buyer'] } }] }] },
          ],
        },
      },
      { name: 'telemetry', config: { reporter: 'destination' } },
    ],
    upstreams: { [V1]: { port: server.port }, 'outbound|80||service_b': { port: server.port }, jwks: { port: server.port } },
    statsTags: statsTags().map((r) => ({ tag_name: r.tagName, regex: r.regex })),
    statsFlushMs: STATS_FLUSH_MS,
    edit: (b) => {
      requireMtls(b, certs);
      for (const l of b.static_resources.listeners)
        for (const c of l.filter_chains) c.transport_socket.typed_config.common_tls_context.alpn_protocols = ['h2', 'http/1.1'];
      const cluster = b.static_resources.clusters.find((c: { name: string }) => c.name === V1);
      cluster.typed_extension_protocol_options = {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicit_http_config: { http2_protocol_options: {} },
        },
      };
    },
  });
});

after(async () => {
  await envoy?.stop();
  await server?.close();
});

function client(name: 'buyer' | 'other'): GrpcClient {
  const c = certs.clients[name]!;
  const creds = grpc.credentials.createSsl(Buffer.from(certs.ca.certPem), Buffer.from(c.keyPem), Buffer.from(c.certPem));
  return new GrpcClient(new URL(envoy.listenerUrl).host, 'service_b', creds, { 'grpc.ssl_target_name_override': 'service_b' });
}

test('gRPC over TLS (ALPN h2) with a client certificate: allowed by peer principal, others PERMISSION_DENIED; telemetry mutual_tls', async () => {
  const buyer = client('buyer');
  const other = client('other');
  try {
    assert.deepEqual(await buyer.unary(SERVICE.Unary.path, 'tls'), { code: 0, details: '', messages: ['service_b/v1:tls'] });
    assert.deepEqual(await buyer.bidi(['a', 'b']), { code: 0, details: '', messages: ['service_b/v1:a', 'service_b/v1:b'] });
    const denied = await other.unary(SERVICE.Unary.path, 'tls');
    assert.deepEqual([denied.code, denied.details], [7, 'RBAC: access denied']);
  } finally {
    buyer.close();
    other.close();
  }
  const { exp } = await prometheusWhen(envoy, (e) => select(e, 'istio_requests_total', { request_protocol: 'grpc' }).length >= 2);
  const series = select(exp, 'istio_requests_total', { request_protocol: 'grpc' });
  const byStatus = Object.fromEntries(series.map((s) => [s.labels.grpc_response_status, s]));
  assert.equal(byStatus['0']?.value, 2);
  assert.equal(byStatus['7']?.value, 1);
  for (const s of series) assert.equal(s.labels.connection_security_policy, 'mutual_tls');
  assert.equal(byStatus['0']?.labels.source_principal, BUYER);
  assert.equal(byStatus['7']?.labels.source_principal, OTHER);
});

test('the same TLS port serves an HTTPS HTTP/1.1 client (no h2 in its ALPN)', async () => {
  const c = certs.clients.buyer!;
  const reply = await envoy.request('/h1', {
    headers: { host: 'service_b', 'content-type': 'application/grpc' },
    tls: { cert: c.certPem, key: c.keyPem, ca: certs.ca.certPem },
  });
  // Through to the grpc-js server: a gRPC request over HTTP/1.1 reaches it as HTTP/2, and it answers UNIMPLEMENTED (12) for /h1.
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['grpc-status'], '12');
});
