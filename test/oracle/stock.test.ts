// Pilot's config for a Kubernetes workload (Service + Pod + EndpointSlice), with a Telemetry resource
// (Istio's stats filter, a stdout access log) and for an ingress gateway (`type: router`): the stock
// pieces load in Envoy 1.40 (`--mode validate`) and what was stripped is Istio's own extensions only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../host/envoy/launcher.ts';
import { inboundHttpManager, istioPilot, outboundHttpManager, pilotBootstrap } from '../../host/envoy/pilot.ts';

const MESH = `
apiVersion: v1
kind: Service
metadata: { name: productpage, namespace: foo }
spec:
  selector: { app: productpage }
  clusterIP: 10.96.0.20
  ports: [{ name: http, port: 9080, targetPort: 9080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: productpage-1, namespace: foo, labels: { app: productpage, version: v1 } }
spec: { serviceAccountName: productpage, containers: [{ name: app, image: productpage }] }
status: { podIP: 10.0.2.1, podIPs: [{ ip: 10.0.2.1 }], phase: Running, conditions: [{ type: Ready, status: "True" }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: productpage-1, namespace: foo, labels: { kubernetes.io/service-name: productpage } }
addressType: IPv4
endpoints: [{ addresses: [10.0.2.1], conditions: { ready: true }, targetRef: { kind: Pod, name: productpage-1, namespace: foo } }]
ports: [{ name: http, port: 9080, protocol: TCP }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: productpage, namespace: foo }
spec:
  selector: { matchLabels: { app: productpage } }
  rules: [{ to: [{ operation: { methods: [GET] } }] }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  metrics: [{ providers: [{ name: prometheus }] }]
  accessLogging: [{ providers: [{ name: envoy }] }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: bookinfo, namespace: foo }
spec:
  hosts: [bookinfo.example.com]
  gateways: [istio-system/gw]
  http: [{ route: [{ destination: { host: productpage.foo.svc.cluster.local, port: { number: 9080 } } }] }]
`;

test('Kubernetes workload with Telemetry: inbound and outbound HCMs load in stock Envoy', async () => {
  const pilot = await istioPilot(MESH, { namespace: 'foo', labels: { app: 'productpage', version: 'v1' }, ip: '10.0.2.1', serviceAccount: 'productpage' });
  const inbound = inboundHttpManager(pilot, 9080);
  const outbound = outboundHttpManager(pilot, 9080);
  assert.deepEqual(inbound.config.http_filters.map((f: { name: string }) => f.name),
    ['envoy.filters.http.rbac', 'envoy.filters.http.grpc_stats', 'envoy.filters.http.fault', 'envoy.filters.http.cors', 'envoy.filters.http.router']);
  const removed = [...inbound.stripped, ...outbound.stripped].filter((s) => !s.includes('access_log')).map((s) => s.split(' ')[1]!.replace(/:$/, ''));
  assert.deepEqual([...new Set(removed)].sort(), ['istio.alpn', 'istio.metadata_exchange', 'istio.stats']);
  assert.equal(outbound.config.access_log[0].typed_config['@type'], 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog');
  assert.equal(outbound.config.route_config.name, '9080');
  const boot = pilotBootstrap(pilot, { listeners: { inbound: inbound.config, outbound: outbound.config }, upstreams: { 'inbound|9080||': {} } });
  const r = await validateConfig({ config: boot.config });
  assert.ok(r.ok, r.output.slice(-2000));
  assert.throws(() => pilotBootstrap(pilot, { listeners: {}, upstreams: { 'outbound|80||nope': {} } }), /not a cluster pilot generated/);
});

test('ingress gateway (type router): its HTTP route for the Gateway server loads in stock Envoy', async () => {
  const pilot = await istioPilot(MESH, { type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' }, ip: '10.0.9.9' });
  const gw = outboundHttpManager(pilot, 8080);
  assert.deepEqual(gw.config.route_config.virtual_hosts.map((v: { domains: string[] }) => v.domains), [['bookinfo.example.com']]);
  const r = await validateConfig({ config: pilotBootstrap(pilot, { listeners: { gateway: gw.config } }).config });
  assert.ok(r.ok, r.output.slice(-2000));
});
