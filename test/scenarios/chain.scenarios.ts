// Scenarios of the three filters in one chain (steering, authz, telemetry): what one filter's pause
// or local reply does to the others, as Envoy's filter chain does it. test/mesh runs them through
// filters/mesh too, which must do the same in one filter.
import { ISSUER, jwks, jwtOnlyPolicy, makeKey, seedJwtRules, token } from '../../host/fixtures/jwt.ts';
import { ISTIO_LABELS } from '../../filters/manifest.ts';
import { NODE_PRODUCTPAGE, destinationLabels, requestCountTags } from '../telemetry/helpers.ts';
import type { Scenario } from './types.ts';

const now = Math.floor(Date.now() / 1000);
const [oldKey, newKey] = await Promise.all([makeKey('RS256', 'chain-old'), makeKey('RS256', 'chain-new')]);
const jwksRoute = (body: string) => ({ cluster: 'jwks', path: '/oauth2/v3/certs', body });
/** A request with a bearer token and a (malformed) peer header, which telemetry strips on the request path. */
const withToken = async (key: Awaited<ReturnType<typeof makeKey>>) => ({
  path: '/info',
  headers: { authorization: `Bearer ${await token(key, { nowSec: now })}`, 'x-asmesh-peer': '%%%' },
});

const LOG = 'wasm log telemetry telemetry telemetry: ';
const logged = (path: string, status: number) =>
  new RegExp(`${LOG}\\{"start_time":"[^"]+","method":"GET","path":"${path}","protocol":"HTTP/1.1","response_code":${status},`);

/** A VirtualService route `faulty` to v1 with `fault`, setting response header x-r. */
function steering(fault: Record<string, unknown> | null) {
  return {
    name: 'steering' as const,
    config: {
      hosts: ['service_b'],
      http: [
        {
          name: 'faulty',
          ...(fault === null ? {} : { fault }),
          headers: { response: { set: { 'x-r': 'route' } } },
          route: [{ destination: { host: 'service_b', subset: 'v1' } }],
        },
      ],
    },
  };
}
const denyPath = (path: string) => ({
  name: 'authz' as const,
  config: { jwtRules: [], policies: [{ name: 'deny', action: 'DENY', rules: [{ to: [{ operation: { paths: [path] } }] }] }] },
});
const telemetry = { name: 'telemetry' as const, config: {} };

export const scenarios: Scenario[] = [
  {
    name: 'authz waiting for a JWKS refetch holds telemetry; once it allows, telemetry runs on the request (strips the peer header)',
    filters: [
      steering(null),
      {
        name: 'authz',
        config: {
          jwtRules: seedJwtRules().map((r) => ({ ...r, asmesh: { jwksCluster: 'jwks', kidRefetchSeconds: 0 } })),
          policies: [jwtOnlyPolicy()],
        },
      },
      telemetry,
    ],
    routes: [jwksRoute(jwks(oldKey))],
    steps: [
      {
        name: 'known key',
        request: await withToken(oldKey),
        expect: { status: 200, servedBy: 'service_b/v1', upstreamHeaders: { 'x-asmesh-peer': null }, responseHeaders: { 'x-r': 'route' } },
      },
      {
        name: 'a new kid: authz pauses for the refetch, then the chain goes on',
        routes: [jwksRoute(jwks(newKey))],
        request: await withToken(newKey),
        expect: { status: 200, servedBy: 'service_b/v1', upstreamHeaders: { 'x-asmesh-peer': null }, responseHeaders: { 'x-r': 'route' } },
      },
    ],
    metrics: { asmesh_authz_jwks_fetches_total: 2 },
    logs: [logged('/info', 200)],
  },
  {
    name: 'a steering delay holds authz and telemetry until it ends; then authz allows or denies and telemetry counts',
    filters: [steering({ delay: { fixedDelay: '0.05s', percentage: { value: 100 } } }), denyPath('/deny'), telemetry],
    steps: [
      { request: { path: '/info' }, expect: { status: 200, servedBy: 'service_b/v1', responseHeaders: { 'x-r': 'route' } } },
      {
        request: { path: '/deny' },
        expect: { status: 403, servedBy: null, body: 'RBAC: access denied', responseHeaders: { 'x-r': 'route' } },
      },
    ],
    metrics: { 'route=faulty;fault=delay;asmesh_steering_faults_total': 2, asmesh_authz_denied_total: 1 },
    logs: [logged('/info', 200), logged('/deny', 403)],
  },
  {
    name: 'a steering abort: authz never sees the request, the reply goes back through steering, telemetry counts and logs it',
    filters: [steering({ abort: { httpStatus: 503, percentage: { value: 100 } } }), denyPath('/*'), telemetry],
    steps: [{ request: { path: '/info' }, repeat: 2, expect: { status: 503, servedBy: null, responseHeaders: { 'x-r': 'route' } } }],
    metrics: { 'route=faulty;fault=abort;asmesh_steering_faults_total': 2, asmesh_authz_denied_total: 0, asmesh_authz_allowed_total: 0 },
    logs: [logged('/info', 503)],
  },
  {
    name: 'an authz 403 after steering decided: the reply goes back through steering (its response headers), telemetry logs it',
    filters: [steering(null), denyPath('/deny'), telemetry],
    steps: [
      { request: { path: '/deny' }, expect: { status: 403, servedBy: null, responseHeaders: { 'x-r': 'route' } } },
      { request: { path: '/ok' }, expect: { status: 200, servedBy: 'service_b/v1', responseHeaders: { 'x-r': 'route' } } },
    ],
    metrics: { 'route=faulty;subset=v1;asmesh_steering_decisions_total': 2, asmesh_authz_denied_total: 1 },
    logs: [logged('/deny', 403), logged('/ok', 200)],
  },
  {
    // Each filter reads the request as the ones before it left it: in mesh.wasm one read of the request
    // headers is shared by the parts, with their writes applied (assembly/proxy/shared_reads.ts).
    name: "telemetry's tags see the request as steering and authz left it: authz's claim header (the client's copy gone), no token",
    filters: [
      steering(null),
      {
        name: 'authz',
        config: {
          jwtRules: [{ issuer: ISSUER, jwks: jwks(oldKey), outputClaimToHeaders: [{ header: 'x-user', claim: 'sub' }] }],
          policies: [jwtOnlyPolicy()],
        },
      },
      {
        name: 'telemetry',
        config: requestCountTags(
          {
            user: { value: "request.headers['x-user']" },
            token: { value: "request.headers['authorization']" },
            cluster: { value: "request.headers['x-asmesh-cluster']" },
          },
          { accessLog: { enabled: false } },
        ),
      },
    ],
    node: { id: 'productpage', cluster: 'productpage', metadata: NODE_PRODUCTPAGE },
    steps: [
      {
        request: {
          path: '/info',
          headers: { authorization: `Bearer ${await token(oldKey, { nowSec: now })}`, 'x-user': 'spoofed', 'x-asmesh-cluster': 'spoofed' },
        },
        expect: { status: 200, servedBy: 'service_b/v1', upstreamHeaders: { 'x-user': 'user-1', authorization: null } },
      },
    ],
    metrics: {
      [ISTIO_LABELS.map((l) => `${l}=${destinationLabels(null, 200)[l]};`).join('') +
      'user=user-1;token=unknown;cluster=outbound|80|v1|service_b;istio_requests_total']: 1,
    },
  },
];
