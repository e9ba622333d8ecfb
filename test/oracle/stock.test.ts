// Pilot's config for a Kubernetes workload (Service + Pod + EndpointSlice), with a Telemetry resource
// (Istio's stats filter, a stdout access log), for an ingress gateway (`type: router`) and for a
// VirtualService/DestinationRule using most of the steering API: the stock pieces load in Envoy 1.40
// (`--mode validate`) and what was stripped is Istio's own extensions only.
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
  const pilot = await istioPilot(MESH, {
    namespace: 'foo',
    labels: { app: 'productpage', version: 'v1' },
    ip: '10.0.2.1',
    serviceAccount: 'productpage',
  });
  const inbound = inboundHttpManager(pilot, 9080);
  const outbound = outboundHttpManager(pilot, 9080);
  assert.deepEqual(
    inbound.config.http_filters.map((f: { name: string }) => f.name),
    [
      'envoy.filters.http.rbac',
      'envoy.filters.http.grpc_stats',
      'envoy.filters.http.fault',
      'envoy.filters.http.cors',
      'envoy.filters.http.router',
    ],
  );
  const removed = [...inbound.stripped, ...outbound.stripped]
    .filter((s) => !s.includes('access_log'))
    .map((s) => s.split(' ')[1]!.replace(/:$/, ''));
  assert.deepEqual([...new Set(removed)].sort(), ['istio.alpn', 'istio.metadata_exchange', 'istio.stats']);
  assert.equal(
    outbound.config.access_log[0].typed_config['@type'],
    'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
  );
  assert.equal(outbound.config.route_config.name, '9080');
  const boot = pilotBootstrap(pilot, {
    listeners: { inbound: inbound.config, outbound: outbound.config },
    upstreams: { 'inbound|9080||': {} },
  });
  const r = await validateConfig({ config: boot.config });
  assert.ok(r.ok, r.output.slice(-2000));
  assert.throws(() => pilotBootstrap(pilot, { listeners: {}, upstreams: { 'outbound|80||nope': {} } }), /not a cluster pilot generated/);
});

test('ingress gateway (type router): its HTTP route for the Gateway server loads in stock Envoy', async () => {
  const pilot = await istioPilot(MESH, { type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' }, ip: '10.0.9.9' });
  const gw = outboundHttpManager(pilot, 8080);
  assert.deepEqual(
    gw.config.route_config.virtual_hosts.map((v: { domains: string[] }) => v.domains),
    [['bookinfo.example.com']],
  );
  const r = await validateConfig({ config: pilotBootstrap(pilot, { listeners: { gateway: gw.config } }).config });
  assert.ok(r.ok, r.output.slice(-2000));
});

const STEERING = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews, namespace: bar }
spec:
  hosts: [reviews.bar.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints: [{ address: 10.0.1.1, labels: { version: v1 } }, { address: 10.0.1.2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: bar }
spec:
  host: reviews.bar.svc.cluster.local
  trafficPolicy:
    connectionPool: { tcp: { maxConnections: 10 }, http: { http1MaxPendingRequests: 5, maxRequestsPerConnection: 2 } }
    outlierDetection: { consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 30s }
    loadBalancer: { consistentHash: { httpHeaderName: end-user } }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 }, trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: bar }
spec:
  hosts: [reviews.bar.svc.cluster.local]
  http:
  - match: [{ uri: { prefix: /fault }, queryParams: { q: { regex: "a+" } } }]
    fault: { abort: { httpStatus: 418, percentage: { value: 100 } }, delay: { fixedDelay: 1s, percentage: { value: 50 } } }
    route: [{ destination: { host: reviews.bar.svc.cluster.local, subset: v1 } }]
  - match: [{ headers: { end-user: { exact: jason } }, ignoreUriCase: true, uri: { exact: /Reviews } }]
    headers: { request: { set: { x-canary: "yes" } }, response: { remove: [x-internal] } }
    route: [{ destination: { host: reviews.bar.svc.cluster.local, subset: v2 } }]
    timeout: 2s
    retries: { attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,reset" }
    corsPolicy: { allowOrigins: [{ exact: https://example.com }], allowMethods: [GET] }
  - route:
    - { destination: { host: reviews.bar.svc.cluster.local, subset: v1 }, weight: 95 }
    - { destination: { host: reviews.bar.svc.cluster.local, subset: v2 }, weight: 5 }
    mirror: { host: reviews.bar.svc.cluster.local, subset: v2 }
`;

test('steering API (fault, weights, retries, CORS, header ops, DestinationRule policies): routes and clusters load in stock Envoy', async () => {
  const pilot = await istioPilot(STEERING, { namespace: 'bar', labels: { app: 'ratings' }, ip: '10.0.3.1' });
  const outbound = outboundHttpManager(pilot, 9080);
  const vh = outbound.config.route_config.virtual_hosts[0];
  assert.equal(vh.routes.length, 3);
  assert.ok(vh.routes[0].typed_per_filter_config['envoy.filters.http.fault'], 'fault as per-route config');
  assert.deepEqual(
    vh.routes[2].route.weighted_clusters.clusters.map((c: { name: string; weight: number }) => [c.name, c.weight]),
    [
      ['outbound|9080|v1|reviews.bar.svc.cluster.local', 95],
      ['outbound|9080|v2|reviews.bar.svc.cluster.local', 5],
    ],
  );
  const boot = pilotBootstrap(pilot, { listeners: { outbound: outbound.config } });
  const v2 = boot.config.static_resources.clusters.find(
    (c: { name: string }) => c.name === 'outbound|9080|v2|reviews.bar.svc.cluster.local',
  );
  assert.equal(v2.lb_policy, undefined, 'subset ROUND_ROBIN (Envoy default)');
  assert.ok(v2.outlier_detection);
  const r = await validateConfig({ config: boot.config });
  assert.ok(r.ok, r.output.slice(-2000));
});
