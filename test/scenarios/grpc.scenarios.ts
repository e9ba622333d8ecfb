// gRPC requests (content-type application/grpc, `/pkg.Svc/Method` paths, metadata as headers) through
// steering, authz and telemetry, in the harness and in Envoy: routing by method path and by metadata,
// authz's and steering's local replies as Envoy turns them into gRPC answers (200, grpc-status,
// grpc-message, no body). The runner speaks HTTP/1.1 to Envoy, which treats a request as gRPC by its
// content type whatever the protocol; h2c with real grpc-js clients and servers: test/envoy/grpc.test.ts.
import { ISSUER, jwks, makeKey, token } from '../../host/fixtures/jwt.ts';
import { ISTIO_LABELS } from '../../filters/manifest.ts';
import { destinationLabels, peerHeader, NODE_PRODUCTPAGE, SLEEP, type IstioLabels } from '../telemetry/helpers.ts';
import type { Scenario, ScenarioRequest } from './types.ts';

const now = Math.floor(Date.now() / 1000);
const key = await makeKey('RS256', 'grpc-1');
const user = await token(key, { nowSec: now, payload: { sub: 'user-1' } });
const admin = await token(key, { nowSec: now, payload: { sub: 'admin' } });
const forged = user.slice(0, user.lastIndexOf('.') + 1) + admin.split('.')[2];

const to = (subset?: string) => [{ destination: { host: 'service_b', ...(subset ? { subset } : {}) } }];
const filters: Scenario['filters'] = [
  {
    name: 'steering',
    config: {
      hosts: ['service_b'],
      http: [
        {
          match: [{ uri: { exact: '/pkg.Svc/Abort' } }],
          fault: { abort: { httpStatus: 503, percentage: { value: 100 } } },
          route: to(),
        },
        { match: [{ uri: { exact: '/pkg.Svc/Other' } }], route: to('v2') },
        { match: [{ uri: { prefix: '/pkg.Svc/' }, headers: { 'x-canary': { exact: 'yes' } } }], route: to('v2') },
        { match: [{ uri: { prefix: '/pkg.Svc/' } }], route: to('v1') },
      ],
    },
  },
  {
    name: 'authz',
    config: {
      jwtRules: [{ issuer: ISSUER, jwks: jwks(key) }],
      policies: [
        {
          name: 'grpc',
          action: 'ALLOW',
          rules: [
            {
              from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }],
              to: [{ operation: { paths: ['/pkg.Svc/Unary', '/pkg.Svc/Abort'] } }],
            },
            { from: [{ source: { requestPrincipals: [`${ISSUER}/admin`] } }], to: [{ operation: { paths: ['/pkg.Svc/Other'] } }] },
          ],
        },
      ],
    },
  },
  { name: 'telemetry', config: { reporter: 'source' } },
];

/** A unary call as gRPC sends it: POST, application/grpc, te: trailers, one 5-byte-prefixed message. */
const call = (path: string, metadata: Record<string, string> = {}): ScenarioRequest => ({
  method: 'POST',
  path,
  headers: { 'content-type': 'application/grpc', te: 'trailers', ...metadata },
  body: '\0\0\0\0\x02hi',
});
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const grpcReply = (status: string, message: string) => ({
  status: 200,
  servedBy: null,
  body: '',
  responseHeaders: { 'content-type': 'application/grpc', 'grpc-status': status, 'grpc-message': message },
});

export const scenarios: Scenario[] = [
  {
    name: 'gRPC: steering by method path and metadata; authz and fault denials as gRPC statuses',
    filters,
    steps: [
      { name: 'Unary -> v1', request: call('/pkg.Svc/Unary', bearer(user)), expect: { status: 200, servedBy: 'service_b/v1' } },
      {
        name: 'Unary, x-canary: yes -> v2',
        request: call('/pkg.Svc/Unary', { ...bearer(user), 'x-canary': 'yes' }),
        expect: { status: 200, servedBy: 'service_b/v2', upstreamHeaders: { 'x-canary': 'yes', 'x-asmesh-cluster': null } },
      },
      { name: 'Other (admin) -> v2', request: call('/pkg.Svc/Other', bearer(admin)), expect: { status: 200, servedBy: 'service_b/v2' } },
      { name: 'no token: PERMISSION_DENIED', request: call('/pkg.Svc/Unary'), expect: grpcReply('7', 'RBAC: access denied') },
      {
        name: 'user on Other: PERMISSION_DENIED',
        request: call('/pkg.Svc/Other', bearer(user)),
        expect: grpcReply('7', 'RBAC: access denied'),
      },
      {
        name: 'forged token: UNAUTHENTICATED',
        request: call('/pkg.Svc/Unary', bearer(forged)),
        expect: {
          ...grpcReply('16', 'Jwt verification fails'),
          responseHeaders: {
            ...grpcReply('16', '').responseHeaders,
            'grpc-message': 'Jwt verification fails',
            'www-authenticate': /^Bearer realm=/,
          },
        },
      },
      {
        name: 'fault abort 503: UNAVAILABLE',
        request: call('/pkg.Svc/Abort', bearer(user)),
        expect: grpcReply('14', 'fault filter abort'),
      },
    ],
    metrics: { asmesh_authz_denied_total: 2, asmesh_authz_unauthenticated_total: 1 },
  },
];

/** The stat name telemetry defines for `metric` with these labels (filters/telemetry/labels.ts). */
const stat = (metric: string, labels: IstioLabels) => ISTIO_LABELS.map((l) => `${l}=${labels[l]};`).join('') + metric;
const grpcLabels = (code: number, grpc: string): IstioLabels => ({
  ...destinationLabels(SLEEP, code),
  request_protocol: 'grpc',
  grpc_response_status: grpc,
});
const fromSleep = (path: string, extra: Record<string, string> = {}) => call(path, { 'x-asmesh-peer': peerHeader(SLEEP), ...extra });

scenarios.push({
  name: 'gRPC telemetry (destination): request_protocol grpc, grpc_response_status from the answer or inferred from HTTP, authz denial 7',
  filters: [
    {
      name: 'authz',
      config: {
        jwtRules: [],
        policies: [{ name: 'deny', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/pkg.Svc/Denied'] } }] }] }],
      },
    },
    { name: 'telemetry', config: { reporter: 'destination' } },
  ],
  node: { id: 'productpage', cluster: 'productpage', metadata: NODE_PRODUCTPAGE },
  steps: [
    // The echo answers without grpc-status: Envoy infers it from the HTTP status (200 -> 2 UNKNOWN, 503 -> 14, 404 -> 12).
    { request: fromSleep('/pkg.Svc/Unary'), repeat: 2, expect: { status: 200, servedBy: 'service_b' } },
    { request: fromSleep('/pkg.Svc/Unary', { 'x-echo-status': '503' }), expect: { status: 503 } },
    { request: fromSleep('/pkg.Svc/Unary', { 'x-echo-status': '404' }), expect: { status: 404 } },
    { request: fromSleep('/pkg.Svc/Denied'), expect: grpcReply('7', 'RBAC: access denied') },
  ],
  metrics: {
    [stat('istio_requests_total', grpcLabels(200, '2'))]: 2,
    // authz's 403 as Envoy's gRPC local reply: HTTP 200, PERMISSION_DENIED.
    [stat('istio_requests_total', grpcLabels(200, '7'))]: 1,
    [stat('istio_requests_total', grpcLabels(503, '14'))]: 1,
    [stat('istio_requests_total', grpcLabels(404, '12'))]: 1,
  },
});
