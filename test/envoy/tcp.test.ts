// host/envoy/tcp.ts: Istio's port-protocol rule against Istio's pilot itself (which listener chains the
// sidecar gets for each Service port), and the rendered TCP chain's shape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { istioPilot } from '../../host/envoy/pilot.ts';
import { listenerKind, portProtocol, tcpFilterChain, type ListenerKind, type ServicePortSpec } from '../../host/envoy/tcp.ts';

const PORTS: ServicePortSpec[] = [
  { name: 'tcp-db', port: 5432 },
  { name: 'http-web', port: 8080 },
  { name: 'HTTP-upper', port: 8082 },
  { name: 'http2', port: 8083 },
  { name: 'grpc-api', port: 9090 },
  { name: 'grpc-web-ui', port: 9091 },
  { name: 'redis', port: 6379 },
  { name: 'mongo-x', port: 27018 },
  { name: 'web2', port: 8081, appProtocol: 'kubernetes.io/h2c' },
  { name: 'ws', port: 8084, appProtocol: 'kubernetes.io/ws' },
  { name: 'wss', port: 8085, appProtocol: 'kubernetes.io/wss' },
  { name: 'http-but-tcp', port: 7001, appProtocol: 'tcp' },
  { name: 'tcp-but-http', port: 7002, appProtocol: 'http' },
  { name: 'other', port: 7000 },
  { name: 'plain', port: 3306 },
  { name: 'smtp-ish', port: 25 },
  { name: 'tls-x', port: 8443 },
  { name: 'https', port: 8444 },
  { name: 'dns', port: 5353, protocol: 'UDP' },
];

function serviceYaml(ports: ServicePortSpec[]): string {
  const lines = ports.map(
    (p) =>
      `  - { name: ${p.name}, port: ${p.port}, targetPort: ${p.port}${p.protocol ? `, protocol: ${p.protocol}` : ''}${
        p.appProtocol ? `, appProtocol: ${JSON.stringify(p.appProtocol)}` : ''
      } }`,
  );
  return `apiVersion: v1
kind: Service
metadata: { name: db, namespace: default }
spec:
  selector: { app: db }
  ports:
${lines.join('\n')}
---
apiVersion: v1
kind: Pod
metadata: { name: db-1, namespace: default, labels: { app: db } }
spec: { serviceAccountName: db, containers: [{ name: db, image: db }] }
status: { podIP: 10.0.0.20, phase: Running, conditions: [{ type: Ready, status: "True" }] }
`;
}

/** What pilot's virtualInbound serves a port's plaintext traffic with. */
function pilotKind(listener: any, port: number): ListenerKind {
  const plain = (listener.filter_chains as any[]).filter(
    (c) => c.filter_chain_match?.destination_port === port && (c.filter_chain_match.transport_protocol ?? 'raw_buffer') === 'raw_buffer',
  );
  if (plain.length === 0) return 'none';
  const names = new Set(plain.flatMap((c) => (c.filters as any[]).map((f) => f.name)));
  const http = names.has('envoy.filters.network.http_connection_manager');
  const tcp = names.has('envoy.filters.network.tcp_proxy');
  return http && tcp ? 'sniff' : http ? 'http' : 'tcp';
}

test("portProtocol + listenerKind = the inbound chains Istio's pilot gives each Service port", async () => {
  const cfg = await istioPilot(serviceYaml(PORTS), { ip: '10.0.0.20', labels: { app: 'db' }, serviceAccount: 'db' });
  const vi = cfg.listeners.find((l: any) => l.name === 'virtualInbound');
  assert.ok(vi, 'pilot generated virtualInbound');
  const ours = Object.fromEntries(PORTS.map((p) => [`${p.name}:${p.port}`, listenerKind(portProtocol(p))]));
  const istio = Object.fromEntries(PORTS.map((p) => [`${p.name}:${p.port}`, pilotKind(vi, p.port)]));
  assert.deepEqual(ours, istio);
  // Each kind is exercised.
  assert.deepEqual([...new Set(Object.values(istio))].sort(), ['http', 'sniff', 'tcp']);
  // Outbound (a client's sidecar): a listener per port but the UDP one.
  const client = await istioPilot(serviceYaml(PORTS), { ip: '10.0.0.99', labels: { app: 'client' } });
  for (const p of PORTS) {
    const has = client.listeners.some((l: any) => l.name === `0.0.0.0_${p.port}`);
    assert.equal(has, listenerKind(portProtocol(p), 'outbound') !== 'none', `outbound listener for ${p.name}:${p.port}`);
  }
});

test('portProtocol: prefixes, grpc-web, appProtocol first, well-known ports', () => {
  assert.equal(portProtocol({ name: 'grpc-web', port: 1 }), 'GRPC-Web');
  assert.equal(portProtocol({ name: 'GRPC-x', port: 1 }), 'GRPC');
  assert.equal(portProtocol({ name: 'tcp', port: 1, appProtocol: 'kubernetes.io/h2c' }), 'HTTP2');
  assert.equal(portProtocol({ port: 27017 }), 'TCP');
  assert.equal(portProtocol({ port: 8080 }), 'UnsupportedProtocol');
  assert.equal(portProtocol({ name: 'http', port: 53, protocol: 'udp' }), 'UDP');
});

test('tcpFilterChain: the network filters, then tcp_proxy last; an http filter is refused', () => {
  const chain = tcpFilterChain({
    filters: [{ name: 'tcp_telemetry', config: { reporter: 'destination' } }],
    wasmDir: '/w',
    cluster: 'inbound|5432||',
    statPrefix: 'inbound_5432',
  });
  assert.deepEqual(
    chain.filters.map((f: any) => f.name),
    ['asmesh.tcp_telemetry', 'envoy.filters.network.tcp_proxy'],
  );
  assert.equal(chain.filters[0].typed_config.config.vm_config.code.local.filename, '/w/tcp_telemetry.wasm');
  assert.equal(chain.filters[1].typed_config.cluster, 'inbound|5432||');
  assert.throws(
    () => tcpFilterChain({ filters: [{ name: 'telemetry', config: {} }], wasmDir: '/w', cluster: 'c', statPrefix: 's' }),
    /telemetry is not a network filter/,
  );
});

test('tcpFilterChain orders tcp_authz before tcp_telemetry, as pilot puts network rbac before istio.stats', async () => {
  const yaml = `${serviceYaml([{ name: 'tcp-db', port: 5432 }])}---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-bar, namespace: default }
spec:
  selector: { matchLabels: { app: db } }
  action: DENY
  rules: [{ from: [{ source: { namespaces: [bar] } }] }]
`;
  const cfg = await istioPilot(
    yaml,
    { ip: '10.0.0.20', labels: { app: 'db' }, serviceAccount: 'db' },
    { meshConfig: 'defaultProviders: { metrics: [prometheus] }\n' },
  );
  const vi = cfg.listeners.find((l: any) => l.name === 'virtualInbound')!;
  const plain = (vi.filter_chains as any[]).find(
    (c) => c.filter_chain_match?.destination_port === 5432 && (c.filter_chain_match.transport_protocol ?? 'raw_buffer') === 'raw_buffer',
  );
  const istio = (plain.filters as any[])
    .map((f) => f.name as string)
    .filter((n) => ['envoy.filters.network.rbac', 'istio.stats', 'envoy.filters.network.tcp_proxy'].includes(n));
  assert.deepEqual(istio, ['envoy.filters.network.rbac', 'istio.stats', 'envoy.filters.network.tcp_proxy']);
  const ours = tcpFilterChain({
    filters: [
      { name: 'tcp_telemetry', config: { reporter: 'destination' } },
      { name: 'tcp_authz', config: { policies: [] } },
    ],
    wasmDir: '/w',
    cluster: 'inbound|5432||',
    statPrefix: 'inbound_5432',
  }).filters.map((f: any) => f.name);
  assert.deepEqual(ours, ['asmesh.tcp_authz', 'asmesh.tcp_telemetry', 'envoy.filters.network.tcp_proxy']);
});
