// The Istio pilot oracle end to end: Istio's own pilot (tools/istio-pilot) generates the config of
// httpbin's sidecar in namespace foo for a small mesh; ONE stock Envoy 1.40 runs (a) pilot's inbound
// HTTP connection manager of httpbin's port 80 (jwt_authn + rbac from the RequestAuthentication and
// AuthorizationPolicy) in front of an echo upstream and (b) pilot's outbound port-9080 routes (the reviews
// VirtualService + DestinationRule subsets) with its clusters mapped onto echo upstreams. The requests'
// native decisions are what "as Istio does" means for the authz and steering differential tests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { send, startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import {
  PilotInputError,
  inboundHttpManager,
  istioPilot,
  outboundHttpManager,
  outboundRouteConfig,
  pilotBootstrap,
  type PilotConfig,
} from '../../host/envoy/pilot.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { jwks, makeKey, token, type TestKey } from '../../host/fixtures/jwt.ts';

const ISSUER = 'https://issuer.example';
const REMOTE_ISSUER = 'https://remote.example';
const REVIEWS = 'reviews.bar.svc.cluster.local';
const HTTPBIN_PROXY = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' }, ip: '10.0.0.10', serviceAccount: 'httpbin' };

function meshYaml(inlineJwks: string): string {
  return `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: httpbin, namespace: foo }
spec:
  hosts: [httpbin.foo.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8000, name: http, protocol: HTTP, targetPort: 80 }]
  workloadSelector: { labels: { app: httpbin } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: httpbin-1, namespace: foo }
spec: { address: 10.0.0.10, labels: { app: httpbin, version: v1 }, serviceAccount: httpbin }
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: httpbin, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  jwtRules:
  - issuer: ${ISSUER}
    jwks: ${JSON.stringify(inlineJwks)}
  - issuer: ${REMOTE_ISSUER}
    jwksUri: ${REMOTE_ISSUER}/jwks.json
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: httpbin, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ALLOW
  rules:
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/headers", "/get*"] } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews, namespace: bar }
spec:
  hosts: [${REVIEWS}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: reviews } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: reviews-v1, namespace: bar }
spec: { address: 10.0.1.1, labels: { app: reviews, version: v1 } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: reviews-v2, namespace: bar }
spec: { address: 10.0.1.2, labels: { app: reviews, version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: bar }
spec:
  host: ${REVIEWS}
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: bar }
spec:
  hosts: [${REVIEWS}]
  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: ${REVIEWS}, subset: v2 } }]
  - route: [{ destination: { host: ${REVIEWS}, subset: v1 } }]
`;
}

let key: TestKey;
let other: TestKey;
let pilot: PilotConfig;
let upstreams: Upstreams;
let envoy: Envoy;
const nowSec = () => Math.floor(Date.now() / 1000);

before(async () => {
  key = await makeKey('RS256', 'k1');
  other = await makeKey('RS256', 'k1'); // same kid, another key: a forgery
  pilot = await istioPilot(meshYaml(jwks(key)), HTTPBIN_PROXY);
  upstreams = await Upstreams.start({
    'inbound|80||': 'httpbin',
    [`outbound|9080|v1|${REVIEWS}`]: 'reviews/v1',
    [`outbound|9080|v2|${REVIEWS}`]: 'reviews/v2',
  });
  const boot = pilotBootstrap(pilot, {
    listeners: { inbound: inboundHttpManager(pilot, 80).config, outbound: outboundHttpManager(pilot, 9080).config },
    upstreams: upstreams.endpoints(),
  });
  envoy = await startEnvoy({ config: boot.config, upstreams: upstreams.endpoints() });
});

after(async () => {
  await envoy?.stop();
  await upstreams?.close();
});

const inbound = (path: string, headers: Record<string, string> = {}) =>
  send(envoy.listeners.inbound!, path, { headers: { host: 'httpbin.foo.svc.cluster.local', ...headers } });
const outbound = (host: string, headers: Record<string, string> = {}) =>
  send(envoy.listeners.outbound!, '/reviews/1', { headers: { host, ...headers } });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

test("inbound chain: pilot's jwt_authn and rbac, Istio's own filters stripped, HCM settings kept", () => {
  const { config: hcm, stripped } = inboundHttpManager(pilot, 80);
  assert.deepEqual(
    hcm.http_filters.map((f: { name: string }) => f.name),
    [
      'envoy.filters.http.jwt_authn',
      'envoy.filters.http.rbac',
      'envoy.filters.http.grpc_stats',
      'envoy.filters.http.fault',
      'envoy.filters.http.cors',
      'envoy.filters.http.router',
    ],
  );
  assert.ok(
    stripped.some((s) => s.includes('istio.metadata_exchange') && s.includes('io.istio.http.peer_metadata.Config')),
    stripped.join('\n'),
  );
  assert.equal(hcm.normalize_path, true);
  assert.equal(hcm.path_with_escaped_slashes_action, 'KEEP_UNCHANGED');
  assert.equal(hcm.forward_client_cert_details, 'APPEND_FORWARD');
  assert.equal(hcm.merge_slashes, undefined, 'mesh default pathNormalization BASE');
  const jwt = hcm.http_filters[0].typed_config;
  assert.equal(jwt.providers['origins-0'].local_jwks.inline_string, jwks(key), 'inline jwks copied verbatim');
  assert.deepEqual(jwt.providers['origins-0'].normalize_payload_in_metadata.space_delimited_claims, ['permission', 'scope']);
  assert.equal(jwt.bypass_cors_preflight, true);
  // jwksUri: pilot fetches it itself; offline the fetch fails and it inlines its fail-closed key.
  assert.match(jwt.providers['origins-1'].local_jwks.inline_string, /"n": "0xObjM0UvS_oaazjpEYlAbwctEJ4L8pH3/);
});

test('inbound: a valid token on an allowed path is served (200)', async () => {
  const r = await inbound('/headers', bearer(await token(key, { nowSec: nowSec(), payload: { iss: ISSUER } })));
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['x-served-by'], 'httpbin');
});

test('inbound: a forged token is rejected by jwt_authn (401)', async () => {
  const r = await inbound('/headers', bearer(await token(other, { nowSec: nowSec(), payload: { iss: ISSUER } })));
  assert.equal(r.status, 401);
  assert.equal(r.body, 'Jwt verification fails');
});

test('inbound: an expired token is rejected (401)', async () => {
  const r = await inbound('/headers', bearer(await token(key, { nowSec: nowSec() - 7200, expSeconds: 60, payload: { iss: ISSUER } })));
  assert.equal(r.status, 401);
  assert.equal(r.body, 'Jwt is expired');
});

test('inbound: a token of the jwksUri issuer fails (401): offline pilot inlined keys nobody holds', async () => {
  const r = await inbound('/headers', bearer(await token(key, { nowSec: nowSec(), payload: { iss: REMOTE_ISSUER } })));
  assert.equal(r.status, 401);
});

test('inbound: rbac denies a path the policy does not allow (403), and a request without a token (403)', async () => {
  const t = await token(key, { nowSec: nowSec(), payload: { iss: ISSUER } });
  const denied = await inbound('/status/200', bearer(t));
  assert.equal(denied.status, 403);
  assert.equal(denied.body, 'RBAC: access denied');
  assert.equal((await inbound('/headers')).status, 403);
  assert.equal((await inbound('/get/anything', bearer(t))).status, 200, 'prefix /get*');
});

test('inbound: rbac sees the normalized path (normalize_path: /get/../status/200 is /status/200)', async () => {
  const t = await token(key, { nowSec: nowSec(), payload: { iss: ISSUER } });
  // send() writes the path bytes as given (no client-side normalization).
  assert.equal((await inbound('/get/../status/200', bearer(t))).status, 403);
  const ok = await inbound('/get/./x/../headers', bearer(t));
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).path, '/get/headers');
});

test('outbound: the header match routes to subset v2, the rest to v1', async () => {
  const v2 = await outbound(REVIEWS, { 'end-user': 'jason' });
  assert.equal(v2.status, 200, v2.body);
  assert.equal(v2.headers['x-served-by'], 'reviews/v2');
  assert.equal((await outbound(REVIEWS, { 'end-user': 'paul' })).headers['x-served-by'], 'reviews/v1');
  assert.equal((await outbound(REVIEWS)).headers['x-served-by'], 'reviews/v1');
});

test("outbound: the virtual host's domains are exactly what pilot emits, and only they reach reviews", async () => {
  const rc = outboundRouteConfig(pilot, 9080).config;
  const vh = rc.virtual_hosts.find((v: { name: string }) => v.name === `${REVIEWS}:9080`);
  assert.deepEqual(vh.domains, [REVIEWS, `${REVIEWS}.`, 'reviews.bar', 'reviews.bar.svc']);
  assert.equal(rc.ignore_port_in_host_matching, true);
  for (const host of [...vh.domains, 'reviews.bar:9080', 'REVIEWS.BAR']) {
    assert.equal((await outbound(host)).headers['x-served-by'], 'reviews/v1', host);
  }
  // A short name of another namespace is no domain: allow_any -> PassthroughCluster (no endpoints here: 503).
  const other = await outbound('reviews');
  assert.equal(other.status, 503);
  assert.equal(other.headers['x-served-by'], undefined);
});

test('MeshConfig: pathNormalization MERGE_SLASHES gives the inbound HCM merge_slashes; unknown fields are refused', async () => {
  const merged = await istioPilot(meshYaml(jwks(key)), HTTPBIN_PROXY, {
    meshConfig: 'pathNormalization: { normalization: MERGE_SLASHES }\n',
  });
  const hcm = inboundHttpManager(merged, 80).config;
  assert.equal(hcm.merge_slashes, true);
  assert.equal(hcm.normalize_path, true);
  await assert.rejects(
    istioPilot(meshYaml(jwks(key)), HTTPBIN_PROXY, { meshConfig: 'pathNormalisation: {}\n' }),
    (e: Error) => e instanceof PilotInputError && /mesh\.yaml: .*unknown field "pathNormalisation"/.test(e.message),
  );
});

test('bad input is a PilotInputError with one line naming file, document and object', async () => {
  const cases: [string, RegExp][] = [
    // Istio's validation: `_` is not a DNS label.
    [
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: b }\nspec: { hosts: [service_b], ports: [{ number: 80, name: http, protocol: HTTP }] }\n',
      /^istio-pilot: -: document 1 \(ServiceEntry b\): configuration is invalid: domain name "service_b" invalid/,
    ],
    // Unknown fields are refused (pilot's own conversion would drop a misspelt `macth` silently).
    [
      '---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: r, namespace: bar }\nspec: { hosts: [r.bar], http: [{ macth: [], route: [{ destination: { host: r.bar } }] }] }\n',
      /^istio-pilot: -: document 1 \(VirtualService bar\/r\): spec: .*unknown field "macth"/,
    ],
    ['kind: [\n', /^istio-pilot: -: document 1: error converting YAML to JSON/],
    ['apiVersion: v1\nkind: Bogus\nmetadata: { name: z }\n', /^istio-pilot: -: document 1 \(Bogus z\): no kind "Bogus" is registered/],
  ];
  for (const [yaml, message] of cases) {
    await assert.rejects(
      istioPilot(yaml),
      (e: Error) => e instanceof PilotInputError && message.test(e.message) && !e.message.includes('\n'),
      yaml,
    );
  }
});
