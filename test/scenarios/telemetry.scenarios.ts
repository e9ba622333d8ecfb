// Scenarios of the telemetry filter, run in the harness and in Envoy: exact Istio counters per
// label set (by their encoded stat names, see filters/telemetry/labels.ts), the peer header
// exchange and stripping, access log lines, the cardinality cap, and rejected configurations.
// Prometheus output, histogram counts and promtool are checked in test/telemetry/envoy.test.ts.
import { ISTIO_LABELS } from '../../filters/manifest.ts';
import { ISSUER, jwks, makeKey, token } from '../../host/fixtures/jwt.ts';
import {
  peerHeader,
  destinationLabels,
  requestCountTags,
  NODE_PRODUCTPAGE,
  SLEEP,
  RATINGS,
  type IstioLabels,
  type Peer,
} from '../telemetry/helpers.ts';
import type { Scenario } from './types.ts';

/** The stat name the filter defines for `metric` with these labels (standard ones first, then `extra`). */
function stat(metric: string, labels: IstioLabels, extra: [string, string][] = []): string {
  return [...ISTIO_LABELS.map((l) => `${l}=${labels[l]};`), ...extra.map(([k, v]) => `${k}=${v};`)].join('') + metric;
}

const PRODUCTPAGE_NODE = { id: 'productpage', cluster: 'productpage', metadata: NODE_PRODUCTPAGE };

const destination = [{ name: 'telemetry' as const, config: { reporter: 'destination' } }];
const call = (peer: Peer | null, status: number) => ({
  path: '/info',
  headers: { 'x-echo-status': String(status), ...(peer === null ? {} : { 'x-asmesh-peer': peerHeader(peer) }) },
});
const LOG = 'wasm log telemetry telemetry telemetry: ';

const rsa = await makeKey('RS256', 'rsa-1');
const nowSec = Math.floor(Date.now() / 1000);
const admin = await token(rsa, { nowSec, payload: { group: 'admins', level: 3, org: { team: 'payments' }, roles: ['admin', 'ops'] } });
const expired = await token(rsa, { nowSec: nowSec - 7200, expSeconds: 3600, payload: { group: 'admins' } });

export const scenarios: Scenario[] = [
  {
    name: 'destination: a known mix from two callers and an anonymous one gives exact counters per label set; the peer header is stripped',
    filters: destination,
    node: PRODUCTPAGE_NODE,
    steps: [
      {
        request: call(SLEEP, 200),
        repeat: 3,
        expect: {
          status: 200,
          servedBy: 'service_b',
          upstreamHeaders: { 'x-asmesh-peer': null },
          responseHeaders: { 'x-asmesh-peer': /^[A-Za-z0-9+/]+=*$/ },
        },
      },
      { request: call(SLEEP, 404), repeat: 2, expect: { status: 404, upstreamHeaders: { 'x-asmesh-peer': null } } },
      { request: call(SLEEP, 503), expect: { status: 503, upstreamHeaders: { 'x-asmesh-peer': null } } },
      { request: call(RATINGS, 200), repeat: 2, expect: { status: 200, upstreamHeaders: { 'x-asmesh-peer': null } } },
      { request: call(RATINGS, 503), expect: { status: 503, upstreamHeaders: { 'x-asmesh-peer': null } } },
      {
        name: 'no peer header: none is answered',
        request: call(null, 200),
        expect: { status: 200, responseHeaders: { 'x-asmesh-peer': null } },
      },
      {
        name: 'a malformed peer header is stripped too',
        request: { path: '/info', headers: { 'x-asmesh-peer': '%%%' } },
        expect: { status: 200, upstreamHeaders: { 'x-asmesh-peer': null }, responseHeaders: { 'x-asmesh-peer': null } },
      },
    ],
    metrics: {
      [stat('istio_requests_total', destinationLabels(SLEEP, 200))]: 3,
      [stat('istio_requests_total', destinationLabels(SLEEP, 404))]: 2,
      [stat('istio_requests_total', destinationLabels(SLEEP, 503))]: 1,
      [stat('istio_requests_total', destinationLabels(RATINGS, 200))]: 2,
      [stat('istio_requests_total', destinationLabels(RATINGS, 503))]: 1,
      [stat('istio_requests_total', destinationLabels(null, 200))]: 2,
      asmesh_telemetry_overflow_total: 0,
    },
    // upstream_cluster/upstream_host come from Envoy's xds.cluster_name and upstream.address, which the
    // harness chain does not simulate; test/telemetry/envoy.test.ts checks them in Envoy.
    logs: [
      new RegExp(
        `${LOG}\\{"start_time":"\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z","method":"GET","path":"/info","protocol":"HTTP/1.1","response_code":404,"response_flags":"-","bytes_received":\\d+,"bytes_sent":\\d+,"duration":\\d+,"upstream_cluster":`,
      ),
      new RegExp(
        `${LOG}\\{.*"source_workload":"ratings-v2","source_principal":"unknown","destination_workload":"productpage-v1","destination_principal":"unknown"`,
      ),
    ],
  },
  {
    // Envoy's router answers a cluster_header that names no cluster with 503 and sets response flag NC
    // (test/telemetry/envoy-flags.test.ts compares more flags with Envoy's own %RESPONSE_FLAGS%).
    name: 'response flags: a request steered to a missing cluster is a 503 with response_flags NC (label and access log)',
    filters: destination,
    node: PRODUCTPAGE_NODE,
    steps: [
      {
        request: { path: '/info', headers: { 'x-asmesh-cluster': 'outbound|80|v9|service_b', 'x-asmesh-peer': peerHeader(SLEEP) } },
        repeat: 2,
        expect: { status: 503, servedBy: null },
      },
      { request: call(SLEEP, 503), expect: { status: 503, servedBy: 'service_b' } },
    ],
    metrics: {
      [stat('istio_requests_total', { ...destinationLabels(SLEEP, 503), response_flags: 'NC' })]: 2,
      [stat('istio_requests_total', destinationLabels(SLEEP, 503))]: 1,
    },
    logs: [
      new RegExp(
        `${LOG}\\{"start_time":"[^"]+","method":"GET","path":"/info","protocol":"HTTP/1.1","response_code":503,"response_flags":"NC",`,
      ),
      new RegExp(
        `${LOG}\\{"start_time":"[^"]+","method":"GET","path":"/info","protocol":"HTTP/1.1","response_code":503,"response_flags":"-",`,
      ),
    ],
  },
  {
    name: 'source: our identity goes to the upstream in x-asmesh-peer; the destination stays unknown without an answer',
    filters: [{ name: 'telemetry', config: { reporter: 'source' } }],
    node: {
      id: 'sleep',
      cluster: 'sleep',
      metadata: { WORKLOAD_NAME: 'sleep', NAMESPACE: 'default', CLUSTER_ID: 'Kubernetes', LABELS: { app: 'sleep', version: 'v1' } },
    },
    steps: [
      {
        request: { path: '/x' },
        repeat: 2,
        expect: { status: 200, upstreamHeaders: { 'x-asmesh-peer': peerHeader(SLEEP) }, responseHeaders: { 'x-asmesh-peer': null } },
      },
    ],
    metrics: {
      [stat('istio_requests_total', {
        ...destinationLabels(null, 200),
        reporter: 'source',
        source_workload: 'sleep',
        source_workload_namespace: 'default',
        source_app: 'sleep',
        source_version: 'v1',
        source_canonical_service: 'sleep',
        source_canonical_revision: 'v1',
        source_cluster: 'Kubernetes',
        destination_workload: 'unknown',
        destination_workload_namespace: 'unknown',
        destination_app: 'unknown',
        destination_version: 'unknown',
        destination_canonical_service: 'unknown',
        destination_canonical_revision: 'latest',
        destination_cluster: 'unknown',
        destination_service_namespace: 'unknown',
        connection_security_policy: 'unknown',
      })]: 2,
    },
  },
  {
    name: 'custom dimensions: a request header label, a removed label, a disabled metric',
    filters: [
      {
        name: 'telemetry',
        config: requestCountTags(
          { user_tier: { value: "request.headers['x-tier']" }, source_cluster: { operation: 'REMOVE' } },
          { accessLog: { enabled: false } },
        ),
      },
    ],
    node: PRODUCTPAGE_NODE,
    steps: [{ request: { path: '/t', headers: { 'x-tier': 'gold;x=y', 'x-asmesh-peer': peerHeader(SLEEP) } }, expect: { status: 200 } }],
    metrics: {
      [stat('istio_requests_total', destinationLabels(SLEEP, 200))
        .replace('source_cluster=Kubernetes;', '')
        .replace('istio_requests_total', 'user_tier=gold_x_y;istio_requests_total')]: 1,
    },
  },
  {
    name: 'cardinality cap: two label sets, then three more requests fold into `other`',
    filters: [{ name: 'telemetry', config: { maxLabelSets: 2 } }],
    node: PRODUCTPAGE_NODE,
    steps: [0, 1, 2, 3, 4].map((i) => ({ request: call({ ...SLEEP, workload: `w${i}` }, 200), expect: { status: 200 } })),
    metrics: {
      asmesh_telemetry_overflow_total: 3,
      [stat('istio_requests_total', { ...destinationLabels(SLEEP, 200), source_workload: 'w0' })]: 1,
      [stat(
        'istio_requests_total',
        Object.fromEntries(ISTIO_LABELS.map((l) => [l, l === 'reporter' ? 'destination' : 'other'])) as IstioLabels,
      )]: 3,
    },
  },
  {
    name: 'a request an earlier filter answers (authz 403) is still counted and logged',
    filters: [
      { name: 'authz', config: { jwtRules: [], policies: [{ name: 'deny-all', action: 'DENY', rules: [{}] }] } },
      { name: 'telemetry', config: {} },
    ],
    node: PRODUCTPAGE_NODE,
    steps: [{ request: { path: '/denied' }, repeat: 2, expect: { status: 403, servedBy: null } }],
    metrics: { [stat('istio_requests_total', destinationLabels(null, 403))]: 2 },
    logs: [
      new RegExp(
        `${LOG}\\{"start_time":"[^"]+","method":"GET","path":"/denied","protocol":"HTTP/1.1","response_code":403,"response_flags":"-","bytes_received":\\d+,"bytes_sent":[1-9]`,
      ),
    ],
  },
  {
    // Istio counts what its RBAC/jwt_authn filters reject with the caller's identity: so does telemetry,
    // reading the (unstripped) peer header in proxy_on_log. A verified token's claims become labels
    // through filter state asmesh.jwt_payload that authz sets: top-level, nested (Istio's
    // request.auth.claims[a][b]) and list claims (items joined with ',').
    name: "authz + telemetry: claim labels (top-level, nested, list) from the verified JWT; 401 and 403 counted with the caller's identity",
    filters: [
      {
        name: 'authz',
        config: {
          jwtRules: [{ issuer: ISSUER, jwks: jwks(rsa) }],
          policies: [{ name: 'jwt-only', action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }] }] }],
        },
      },
      {
        name: 'telemetry',
        config: requestCountTags({
          user_group: { value: "request.auth.claims['group']" },
          user_level: { value: "request.auth.claims['level']" },
          user_team: { value: 'request.auth.claims[org][team]' },
          user_roles: { value: 'request.auth.claims.roles' },
        }),
      },
    ],
    node: PRODUCTPAGE_NODE,
    steps: [
      {
        name: 'verified token',
        request: { path: '/info', headers: { authorization: `Bearer ${admin}`, 'x-asmesh-peer': peerHeader(SLEEP) } },
        repeat: 2,
        expect: { status: 200, servedBy: 'service_b', upstreamHeaders: { 'x-asmesh-peer': null } },
      },
      {
        name: 'no token: 403',
        request: { path: '/info', headers: { 'x-asmesh-peer': peerHeader(RATINGS) } },
        repeat: 3,
        expect: { status: 403, servedBy: null, body: 'RBAC: access denied' },
      },
      {
        name: 'expired token: 401',
        request: { path: '/info', headers: { authorization: `Bearer ${expired}`, 'x-asmesh-peer': peerHeader(SLEEP) } },
        expect: { status: 401, servedBy: null, body: 'Jwt is expired' },
      },
      { name: 'no peer header: 403 from an unknown caller', request: { path: '/info' }, expect: { status: 403 } },
    ],
    metrics: {
      [stat('istio_requests_total', destinationLabels(SLEEP, 200), [
        ['user_group', 'admins'],
        ['user_level', '3'],
        ['user_team', 'payments'],
        ['user_roles', 'admin,ops'],
      ])]: 2,
      [stat('istio_requests_total', destinationLabels(RATINGS, 403), [
        ['user_group', 'unknown'],
        ['user_level', 'unknown'],
        ['user_team', 'unknown'],
        ['user_roles', 'unknown'],
      ])]: 3,
      [stat('istio_requests_total', destinationLabels(SLEEP, 401), [
        ['user_group', 'unknown'],
        ['user_level', 'unknown'],
        ['user_team', 'unknown'],
        ['user_roles', 'unknown'],
      ])]: 1,
      [stat('istio_requests_total', destinationLabels(null, 403), [
        ['user_group', 'unknown'],
        ['user_level', 'unknown'],
        ['user_team', 'unknown'],
        ['user_roles', 'unknown'],
      ])]: 1,
      asmesh_authz_allowed_total: 2,
      asmesh_authz_denied_total: 4,
      asmesh_authz_unauthenticated_total: 1,
    },
    logs: [
      new RegExp(
        `${LOG}\\{"start_time":"[^"]+","method":"GET","path":"/info","protocol":"HTTP/1.1","response_code":401,.*"source_workload":"sleep"`,
      ),
      new RegExp(
        `${LOG}\\{"start_time":"[^"]+","method":"GET","path":"/info","protocol":"HTTP/1.1","response_code":403,.*"source_workload":"ratings-v2"`,
      ),
    ],
  },
  {
    name: "the Envoy access log writer: the same counters, and no line logged by the filter (Envoy's access logger writes it)",
    filters: [{ name: 'telemetry', config: { reporter: 'destination', accessLog: { writer: 'envoy' } } }],
    node: PRODUCTPAGE_NODE,
    steps: [{ request: call(SLEEP, 200), repeat: 2, expect: { status: 200, upstreamHeaders: { 'x-asmesh-peer': null } } }],
    metrics: { [stat('istio_requests_total', destinationLabels(SLEEP, 200))]: 2, asmesh_telemetry_overflow_total: 0 },
    logLines: { match: /^telemetry: \{/, expect: [] },
  },
  {
    name: 'a bad access log writer is rejected with its JSON path',
    filters: [{ name: 'telemetry', config: { accessLog: { writer: 'native' } } }],
    configError: /telemetry: config \$\.accessLog\.writer: expected "wasm" or "envoy", got "native"/,
  },
  {
    name: 'a bad reporter is rejected with its JSON path',
    filters: [{ name: 'telemetry', config: { reporter: 'client' } }],
    configError: /telemetry: config \$\.reporter: expected "source" or "destination", got "client"/,
  },
  {
    name: 'an unsupported tag override expression is rejected with its JSON path',
    filters: [{ name: 'telemetry', config: { metrics: [{ overrides: [{ tagOverrides: { x: { value: 'size(request.headers)' } } }] }] } }],
    configError:
      /telemetry: config \$\.metrics\[0\]\.overrides\[0\]\.tagOverrides\.x\.value: unsupported expression "size\(request\.headers\)"/,
  },
];
