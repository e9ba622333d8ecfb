// asmesh translate: every Istio resource of the seed (test/istio/, copies of ../shared/istio/)
// becomes the expected plugin configuration and Envoy config, and Envoy accepts the result.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { InputErrors } from '../../host/cli/errors.ts';
import { localizePaths } from '../../host/cli/envoy.ts';
import { makeMeshCerts } from '../../host/cli/certs.ts';
import { translate, type TranslateResult } from '../../host/cli/translate.ts';
import { statsTags } from '../../filters/manifest.ts';
import type { JsonObject } from '../../host/cli/istio.ts';
import { validateBootstrap } from '../../host/envoy/launcher.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { passthroughWasm } from './passthrough.ts';
import { istioDir, sharedIstioDir, vendoredIstioDir } from '../../host/fixtures/istio.ts';

const dir = istioDir;
const shared = sharedIstioDir;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const read = (f: string) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') });
const specOf = (f: string) => (parse(readFileSync(join(dir, f), 'utf8')) as JsonObject).spec as JsonObject;

function clusters(r: TranslateResult): JsonObject[] {
  return (r.envoy.static_resources as JsonObject).clusters as JsonObject[];
}
function cluster(r: TranslateResult, name: string): JsonObject {
  const c = clusters(r).find((x) => x.name === name);
  assert.ok(
    c,
    `no cluster ${name} in ${clusters(r)
      .map((x) => x.name)
      .join(', ')}`,
  );
  return c;
}
function listener(r: TranslateResult, name: string): JsonObject {
  return ((r.envoy.static_resources as JsonObject).listeners as JsonObject[]).find((l) => l.name === name)!;
}
function wasmConfigs(l: JsonObject): Record<string, unknown> {
  const hcm = ((l.filter_chains as JsonObject[])[0].filters as JsonObject[])[0].typed_config as JsonObject;
  const out: Record<string, unknown> = {};
  for (const f of hcm.http_filters as JsonObject[]) {
    const cfg = (f.typed_config as JsonObject).config as JsonObject | undefined;
    if (cfg) out[String(f.name)] = JSON.parse(String((cfg.configuration as JsonObject).value));
    else out[String(f.name)] = null;
  }
  return out;
}

test('the vendored Istio files are the shared ones, verbatim', (t) => {
  if (!existsSync(shared)) return t.skip(`${shared} not present on this machine`);
  for (const f of readdirSync(shared).filter((x) => x.endsWith('.yaml'))) {
    assert.equal(readFileSync(join(vendoredIstioDir, f), 'utf8'), readFileSync(join(shared, f), 'utf8'), f);
  }
});

test('every shared Istio file translates on its own', () => {
  assert.equal(files.length, 7);
  for (const f of files) {
    const r = translate([read(f)]);
    assert.ok(r.envoy.static_resources, f);
  }
});

test('VirtualService steering: the spec verbatim plus the cluster template, clusters per subset', () => {
  const r = translate([read('virtualservice-steering.yaml'), read('destinationrule-subsets.yaml')]);
  assert.deepEqual(r.steering, {
    ...specOf('virtualservice-steering.yaml'),
    asmesh: { clusterName: 'outbound|{port}|{subset}|{host}', namespace: 'default', port: 80 },
  });
  assert.deepEqual(r.clusters.slice(0, 3).sort(), ['outbound|80|v1|service_b', 'outbound|80|v2|service_b', 'outbound|80||service_b']);
  const out = listener(r, 'outbound');
  assert.deepEqual(Object.keys(wasmConfigs(out)), ['asmesh.steering', 'asmesh.telemetry', 'envoy.filters.http.router']);
  assert.deepEqual(wasmConfigs(out)['asmesh.steering'], r.steering);
  const hcm = ((out.filter_chains as JsonObject[])[0].filters as JsonObject[])[0].typed_config as JsonObject;
  const vh = ((hcm.route_config as JsonObject).virtual_hosts as JsonObject[])[0];
  assert.deepEqual(
    (vh.routes as JsonObject[]).map((x) => x.route),
    [
      { cluster_header: 'x-asmesh-cluster', timeout: '0s', max_grpc_timeout: '0s' },
      { cluster: 'outbound|80||service_b', timeout: '0s', max_grpc_timeout: '0s' },
    ],
  );
  // No DestinationRule policy: plain clusters, no TLS (no PeerAuthentication).
  assert.equal(cluster(r, 'outbound|80|v2|service_b').circuit_breakers, undefined);
  assert.equal(cluster(r, 'outbound|80|v2|service_b').transport_socket, undefined);
  assert.equal(r.mtls, 'PERMISSIVE');
});

test('VirtualService canary: weights kept for the filter', () => {
  const r = translate([read('virtualservice-canary.yaml')]);
  const route = ((r.steering!.http as JsonObject[])[0].route as JsonObject[]).map((d) => [(d.destination as JsonObject).subset, d.weight]);
  assert.deepEqual(route, [
    ['v1', 95],
    ['v2', 5],
  ]);
});

test('DestinationRule circuit breaker: connection pool -> circuit_breakers, outlierDetection -> outlier_detection', () => {
  const r = translate([read('destinationrule-circuit-breaker.yaml')]);
  const c = cluster(r, 'outbound|80||httpbin');
  assert.deepEqual(c.circuit_breakers, { thresholds: [{ max_connections: 1, max_pending_requests: 1 }] });
  const opts = (c.typed_extension_protocol_options as JsonObject)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'] as JsonObject;
  assert.deepEqual(opts.common_http_protocol_options, { max_requests_per_connection: 1 });
  assert.deepEqual(c.outlier_detection, {
    consecutive_gateway_failure: 1,
    enforcing_consecutive_gateway_failure: 100,
    enforcing_consecutive_5xx: 0,
    interval: '1s',
    base_ejection_time: '180s',
    max_ejection_percent: 100,
  });
});

test("subset traffic policies override the DestinationRule's", () => {
  const text = `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: { name: b }
spec:
  host: b
  trafficPolicy:
    connectionPool: { tcp: { maxConnections: 10 } }
  subsets:
  - name: v1
  - name: v2
    trafficPolicy:
      connectionPool: { tcp: { maxConnections: 2 }, http: { http2MaxRequests: 5, idleTimeout: 1.5s } }
      outlierDetection: { consecutive5xxErrors: 3, interval: 500ms }
`;
  const r = translate([{ name: 'dr.yaml', text }]);
  assert.deepEqual(cluster(r, 'outbound|80|v1|b').circuit_breakers, { thresholds: [{ max_connections: 10 }] });
  assert.deepEqual(cluster(r, 'outbound|80|v2|b').circuit_breakers, { thresholds: [{ max_connections: 2, max_requests: 5 }] });
  assert.deepEqual(cluster(r, 'outbound|80|v2|b').outlier_detection, {
    consecutive_5xx: 3,
    enforcing_consecutive_5xx: 100,
    interval: '0.5s',
  });
  const opts = (cluster(r, 'outbound|80|v2|b').typed_extension_protocol_options as JsonObject)[
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
  ] as JsonObject;
  assert.deepEqual(opts.common_http_protocol_options, { idle_timeout: '1.5s' });
});

test('RequestAuthentication + AuthorizationPolicy -> authz {jwtRules, policies:[{name, ...spec}]} and a JWKS cluster', () => {
  // Both are in namespace foo: they apply to a workload there (and to none in default).
  const r = translate([read('requestauthentication-httpbin.yaml'), read('authorizationpolicy-httpbin.yaml')], {
    workload: { name: 'httpbin', namespace: 'foo' },
  });
  assert.equal(translate([read('requestauthentication-httpbin.yaml'), read('authorizationpolicy-httpbin.yaml')]).authz, null);
  assert.deepEqual(r.authz, {
    jwtRules: specOf('requestauthentication-httpbin.yaml').jwtRules,
    policies: [{ name: 'httpbin', ...specOf('authorizationpolicy-httpbin.yaml') }],
  });
  const jwks = cluster(r, 'www.googleapis.com');
  assert.equal(((jwks.transport_socket as JsonObject).typed_config as JsonObject).sni, 'www.googleapis.com');
  const inbound = listener(r, 'inbound');
  assert.deepEqual(Object.keys(wasmConfigs(inbound)), ['asmesh.authz', 'asmesh.telemetry', 'envoy.filters.http.router']);
  // The listener's copy adds the workload port it stands for (asmesh.port: no Service given, the app's 8080).
  assert.deepEqual(wasmConfigs(inbound)['asmesh.authz'], { ...r.authz, asmesh: { port: 8080 } });
});

test("RequestAuthentication: every jwtRules field authz honours passes through (the filter's own field list), others are errors", () => {
  const ra = (extra: string) => ({
    name: 'ra.yaml',
    text: `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: { name: ra, namespace: default }\nspec: { jwtRules: [{ issuer: i, jwksUri: "https://idp.example/jwks", ${extra} }] }\n`,
  });
  const rule = { fromCookies: ['session'], spaceDelimitedClaims: ['perms'], timeout: '3s' };
  const r = translate([ra('fromCookies: [session], spaceDelimitedClaims: [perms], timeout: 3s')]);
  assert.deepEqual(r.authz?.jwtRules, [{ issuer: 'i', jwksUri: 'https://idp.example/jwks', ...rule }]);
  assert.deepEqual(errorsOf('ra.yaml', ra('fromBody: x').text), ['ra.yaml: spec.jwtRules[0].fromBody: not supported']);
});

test('trust domain and aliases -> authz asmesh.trustDomain(Aliases), one SAN prefix per trust domain on mTLS chains', () => {
  const inputs = [read('authorizationpolicy-httpbin.yaml'), read('peerauthentication-strict.yaml')];
  const workload = { name: 'httpbin', namespace: 'foo' };
  assert.equal(translate(inputs, { workload }).authz!.asmesh, undefined);
  const r = translate(inputs, { workload, trustDomain: 'td2.example', trustDomainAliases: ['old.example'] });
  assert.deepEqual(r.authz!.asmesh, { trustDomain: 'td2.example', trustDomainAliases: ['old.example'] });
  assert.deepEqual(wasmConfigs(listener(r, 'inbound'))['asmesh.authz'], { ...r.authz, asmesh: { ...r.authz!.asmesh, port: 8080 } });
  const chain = (listener(r, 'inbound').filter_chains as JsonObject[])[0];
  const tls = ((chain.transport_socket as JsonObject).typed_config as JsonObject).common_tls_context as JsonObject;
  assert.deepEqual((tls.validation_context as JsonObject).match_typed_subject_alt_names, [
    { san_type: 'URI', matcher: { prefix: 'spiffe://td2.example/' } },
    { san_type: 'URI', matcher: { prefix: 'spiffe://old.example/' } },
  ]);
});

test('PeerAuthentication STRICT (namespace foo): inbound requires client certificates there; callers of foo use mTLS', () => {
  const r = translate([read('peerauthentication-strict.yaml'), read('destinationrule-subsets.yaml')], { workload: { namespace: 'foo' } });
  assert.equal(r.mtls, 'STRICT');
  const chains = listener(r, 'inbound').filter_chains as JsonObject[];
  assert.equal(chains.length, 1);
  assert.equal(((chains[0].transport_socket as JsonObject).typed_config as JsonObject).require_client_certificate, true);
  // service_b is in default (no PeerAuthentication there): plaintext, as Istio's auto mTLS towards a non-STRICT destination without sidecar labels.
  assert.equal(cluster(r, 'outbound|80|v1|service_b').transport_socket, undefined);
  // A caller of a service in foo uses mTLS (the destination is STRICT).
  const svc = 'apiVersion: v1\nkind: Service\nmetadata: { name: httpbin, namespace: foo }\nspec: { ports: [{ name: http, port: 8000 }] }\n';
  const caller = translate([read('peerauthentication-strict.yaml'), { name: 'svc.yaml', text: svc }]);
  const up = (cluster(caller, 'outbound|8000||httpbin.foo.svc.cluster.local').transport_socket as JsonObject).typed_config as JsonObject;
  assert.match(String(up['@type']), /UpstreamTlsContext$/);
  // A workload in default: PERMISSIVE, both plaintext and mTLS accepted (TLS inspector, one chain each).
  const plain = translate([read('peerauthentication-strict.yaml'), read('destinationrule-subsets.yaml')]);
  assert.equal(plain.mtls, 'PERMISSIVE');
  const inbound = listener(plain, 'inbound');
  assert.deepEqual(
    (inbound.filter_chains as JsonObject[]).map((c) => [c.filter_chain_match, c.transport_socket !== undefined]),
    [
      [{ transport_protocol: 'tls' }, true],
      [{ transport_protocol: 'raw_buffer' }, false],
    ],
  );
  assert.equal((inbound.listener_filters as JsonObject[])[0].name, 'envoy.filters.listener.tls_inspector');
});

test('VirtualService timeout and retries become Envoy route settings (removed from the filter config)', () => {
  const text = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: b }
spec:
  hosts: [b]
  http:
  - route: [{ destination: { host: b, subset: v1 } }]
    timeout: 2s
    retries: { attempts: 3, perTryTimeout: 500ms, retryOn: 5xx }
`;
  const r = translate([{ name: 'vs.yaml', text }]);
  assert.equal((r.steering!.http as JsonObject[])[0].timeout, undefined);
  const hcm = ((listener(r, 'outbound').filter_chains as JsonObject[])[0].filters as JsonObject[])[0].typed_config as JsonObject;
  const routes = ((hcm.route_config as JsonObject).virtual_hosts as JsonObject[])[0].routes as JsonObject[];
  for (const route of routes) {
    assert.equal((route.route as JsonObject).timeout, '2s');
    assert.equal((route.route as JsonObject).max_grpc_timeout, '2s'); // pilot: the route timeout caps grpc-timeout
    assert.deepEqual((route.route as JsonObject).retry_policy, {
      retry_on: '5xx',
      num_retries: 3,
      per_try_timeout: '0.5s',
      ...PILOT_RETRY_EXTRAS,
    });
  }
});

/** What pilot's retry.ConvertPolicy adds to every retry policy. */
const PILOT_RETRY_EXTRAS = {
  retry_host_predicate: [
    {
      name: 'envoy.retry_host_predicates.previous_hosts',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
    },
  ],
  host_selection_retry_max_attempts: '5',
};

test("retries as pilot's ConvertPolicy, validated as Istio; one timeout and retry policy per VirtualService", () => {
  const vs = (http: string) => [
    {
      name: 'vs.yaml',
      text: `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: b }\nspec:\n  hosts: [b]\n  http:\n${http}`,
    },
  ];
  const route = (http: string) => {
    const r = translate(vs(http));
    const hcm = ((listener(r, 'outbound').filter_chains as JsonObject[])[0].filters as JsonObject[])[0].typed_config as JsonObject;
    return (((hcm.route_config as JsonObject).virtual_hosts as JsonObject[])[0].routes as JsonObject[])[0].route as JsonObject;
  };
  const R = '  - route: [{ destination: { host: b } }]\n';
  // Status codes become retriable_status_codes (+ retriable-status-codes); no retryOn: Istio's default set.
  assert.deepEqual(route(`${R}    retries: { attempts: 2, retryOn: "gateway-error,503,connect-failure" }\n`).retry_policy, {
    retry_on: 'gateway-error,connect-failure,retriable-status-codes',
    num_retries: 2,
    retriable_status_codes: [503],
    ...PILOT_RETRY_EXTRAS,
  });
  assert.deepEqual(route(`${R}    retries: { attempts: 1 }\n`).retry_policy, {
    retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
    num_retries: 1,
    ...PILOT_RETRY_EXTRAS,
  });
  // attempts 0 disables retries; no timeout: 0s (pilot's; Envoy's default would be 15 s).
  const off = route(`${R}    retries: { attempts: 0 }\n`);
  assert.equal(off.retry_policy, undefined);
  assert.equal(off.timeout, '0s');
  const bad = (http: string) => {
    try {
      translate(vs(http));
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };
  assert.match(
    bad(`${R}    retries: { attempts: 2, retryOn: "5xx,sometimes" }\n`),
    /spec\.http\[0\]\.retries\.retryOn: "sometimes" is not a valid retryOn policy/,
  );
  assert.match(bad(`${R}    retries: { attempts: -1 }\n`), /spec\.http\[0\]\.retries\.attempts: required: an integer >= 0/);
  assert.match(bad(`${R}    retries: { attempts: 0, retryOn: 5xx }\n`), /attempts are set to 0 \(disabled\)/);
  assert.match(bad(`${R}    timeout: 0.5ms\n`), /spec\.http\[0\]\.timeout: duration must be greater than 1ms/);
  assert.match(bad(`${R}    timeout: 1500us\n`), /spec\.http\[0\]\.timeout: only durations to ms precision/);
  // One Envoy route carries the VirtualService's steered requests: its http routes must agree.
  assert.match(
    bad(`  - match: [{ uri: { prefix: /a } }]\n    route: [{ destination: { host: b } }]\n    timeout: 2s\n${R}`),
    /spec\.http\[1\]\.timeout: unset differs from spec\.http\[0\]'s \(2s\)/,
  );
  assert.match(
    bad(`  - match: [{ uri: { prefix: /a } }]\n    route: [{ destination: { host: b } }]\n${R}    retries: { attempts: 3 }\n`),
    /spec\.http\[1\]\.retries: differs from spec\.http\[0\]'s/,
  );
});

test('Telemetry: its metrics go to the telemetry filter, reporter per side, a stats_tags rule per custom label', () => {
  const text = `apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata: { name: t }
spec:
  metrics:
  - overrides:
    - match: { metric: REQUEST_COUNT }
      tagOverrides: { user: { value: "request.headers['end-user']" } }
`;
  const r = translate([{ name: 't.yaml', text }]);
  const metrics = parse(text).spec.metrics;
  assert.deepEqual(r.telemetry, { reporter: 'destination', metrics });
  assert.deepEqual(wasmConfigs(listener(r, 'outbound'))['asmesh.telemetry'], { reporter: 'source', metrics });
  assert.deepEqual(wasmConfigs(listener(r, 'inbound'))['asmesh.telemetry'], { reporter: 'destination', metrics });
  const tags = (r.envoy.stats_config as JsonObject).stats_tags as JsonObject[];
  assert.deepEqual(tags.at(-1), { tag_name: 'user', regex: '[.;](user=([^;]*);)' });
  assert.deepEqual(tags, statsTags(['user']), "every filter's rules (filters/manifest.ts), then the custom label's");
  // Without a Telemetry resource each side still reports, with the default metrics.
  const plain = translate([read('destinationrule-subsets.yaml')]);
  assert.equal(plain.telemetry, null);
  assert.deepEqual(wasmConfigs(listener(plain, 'outbound'))['asmesh.telemetry'], { reporter: 'source' });
});

function errorsOf(name: string, text: string): string[] {
  try {
    translate([{ name, text }]);
  } catch (e) {
    assert.ok(e instanceof InputErrors, String(e));
    return e.errors;
  }
  assert.fail('expected InputErrors');
}

test('unsupported fields are errors naming file and field', () => {
  const vs = readFileSync(join(dir, 'virtualservice-steering.yaml'), 'utf8').replace(
    '  - route:\n',
    '  - mirror: { host: shadow }\n    route:\n',
  );
  assert.deepEqual(errorsOf('vs.yaml', vs), ['vs.yaml: spec.http[1].mirror: not supported']);
  assert.deepEqual(errorsOf('se.yaml', 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nspec: {}\n'), [
    'se.yaml: kind: "ServiceEntry" not supported (VirtualService, DestinationRule, RequestAuthentication, AuthorizationPolicy, PeerAuthentication, Telemetry, Service, Pod, ServiceAccount, Namespace, Deployment, StatefulSet, DaemonSet, ReplicaSet)',
  ]);
  assert.deepEqual(
    errorsOf(
      'dr.yaml',
      'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nspec:\n  host: b\n  trafficPolicy:\n    portLevelSettings: []\n    outlierDetection: { interval: soon }\n',
    ),
    [
      'dr.yaml: spec.trafficPolicy.portLevelSettings: not supported',
      'dr.yaml: spec.trafficPolicy.outlierDetection.interval: "soon" is not a duration (e.g. 1s, 100ms, 3m)',
    ],
  );
  assert.deepEqual(
    errorsOf('ap.yaml', 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nspec: { action: CUSTOM, provider: { name: x } }\n'),
    ['ap.yaml: spec.provider: not supported', 'ap.yaml: spec.action: "CUSTOM" not supported (ALLOW, DENY or AUDIT)'],
  );
  assert.match(errorsOf('bad.yaml', 'kind: [\n')[0], /^bad\.yaml: YAML: /);
  // Two documents in one file: the document is named.
  const two =
    readFileSync(join(dir, 'destinationrule-subsets.yaml'), 'utf8') +
    '---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nspec: { hosts: [a], http: [{ route: [{ destination: { host: a } }] }], tls: [] }\n';
  assert.deepEqual(errorsOf('two.yaml', two), ['two.yaml: document 2: spec.tls: not supported']);
});

test('Envoy accepts the translated bootstrap (envoy --mode validate, all seed resources, stand-in filters)', async () => {
  const r = translate(
    [
      'virtualservice-steering.yaml',
      'destinationrule-subsets.yaml',
      'destinationrule-circuit-breaker.yaml',
      'requestauthentication-httpbin.yaml',
      'authorizationpolicy-httpbin.yaml',
      'peerauthentication-strict.yaml',
    ].map(read),
    { workload: { name: 'service_a' } },
  );
  const work = join(repoRoot, '.tmp/test-cli-translate');
  mkdirSync(join(work, 'wasm'), { recursive: true });
  // A stand-in that accepts any configuration: this checks Envoy's side of the config (listeners,
  // TLS, clusters, circuit breakers, routes); the real filters' check of their configs is below.
  const probe = await passthroughWasm();
  for (const f of ['steering', 'authz', 'telemetry']) writeFileSync(join(work, 'wasm', `${f}.wasm`), probe);
  const certDir = makeMeshCerts(join(work, 'certs'), [{ name: 'w', namespace: 'default', serviceAccount: 'sleep' }]).w;
  const v = await validateBootstrap(localizePaths(r.envoy, { wasmDir: join(work, 'wasm'), certDir }));
  assert.equal(v.ok, true, v.output);
});

test('the real filters accept the translated configurations (envoy --mode validate)', async (t) => {
  const missing = ['steering', 'authz', 'telemetry'].filter((f) => !existsSync(join(repoRoot, 'build', `${f}.wasm`)));
  if (missing.length) return t.skip(`not built yet: ${missing.map((f) => `build/${f}.wasm`).join(', ')}`);
  const work = join(repoRoot, '.tmp/test-cli-translate');
  const certDir = makeMeshCerts(join(work, 'certs'), [{ name: 'w', namespace: 'default', serviceAccount: 'sleep' }]).w;
  for (const f of files) {
    const v = await validateBootstrap(localizePaths(translate([read(f)]).envoy, { wasmDir: join(repoRoot, 'build'), certDir }));
    assert.equal(v.ok, true, `${f} alone: ${v.output}`);
  }
  for (const vs of ['virtualservice-steering.yaml', 'virtualservice-canary.yaml']) {
    const r = translate(
      [
        vs,
        'destinationrule-subsets.yaml',
        'requestauthentication-httpbin.yaml',
        'authorizationpolicy-httpbin.yaml',
        'peerauthentication-strict.yaml',
      ].map(read),
    );
    const v = await validateBootstrap(localizePaths(r.envoy, { wasmDir: join(repoRoot, 'build'), certDir }));
    assert.equal(v.ok, true, `${vs}: ${v.output}`);
  }
});
