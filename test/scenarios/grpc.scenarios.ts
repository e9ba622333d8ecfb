// gRPC requests (content-type application/grpc, `/pkg.Svc/Method` paths, metadata as headers) through
// steering, authz and telemetry, in the harness and in Envoy: routing by method path and by metadata,
// authz's and steering's local replies as Envoy turns them into gRPC answers (200, grpc-status,
// grpc-message, no body). The runner speaks HTTP/1.1 to Envoy, which treats a request as gRPC by its
// content type whatever the protocol; h2c with real grpc-js clients and servers: test/envoy/grpc.test.ts.
import { ISSUER, jwks, makeKey, token } from '../authz/keys.ts';
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
