// Scenarios of the authz filter, run in the harness and in Envoy: the seed Istio
// RequestAuthentication and AuthorizationPolicy verbatim, tokens made here with jose (real RSA and
// EC keys, new per run), JWKS served by the `jwks` upstream and rotated, every rejection's 401.
// Peer principals (mTLS) are not in these scenarios: the rig's listener is plaintext, so the seed
// policy's principals/namespaces never match here; they are covered in test/authz/*.test.ts.
import { ISSUER, b64url, jwks, makeKey, rawToken, jwtOnlyPolicy, seedJwtRules, seedPolicy, token } from '../../host/fixtures/jwt.ts';
import type { Scenario, ScenarioStep } from './types.ts';

const now = Math.floor(Date.now() / 1000);
const [rsa, ec, ec384, rs384, rs512, ps256, other, rotated] = await Promise.all([
  makeKey('RS256', 'rsa-1'),
  makeKey('ES256', 'ec-1'),
  makeKey('ES384', 'ec384-1'),
  makeKey('RS384', 'rs384-1'),
  makeKey('RS512', 'rs512-1'),
  makeKey('PS256', 'ps256-1'),
  makeKey('RS256', 'other'),
  makeKey('ES256', 'rotated-1'),
]);
const JWKS_PATH = '/oauth2/v3/certs';
const keys = jwks(rsa, ec, ec384, rs384, rs512, ps256);
const jwksRoute = (body: string) => ({ cluster: 'jwks', path: JWKS_PATH, body });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const REALM = 'Bearer realm="http://service_b/info", error="invalid_token"';
// Envoy's jwt_authn answers 403 for a disallowed audience, 401 for every other failure.
const rejected = (name: string, tok: string, body: string): ScenarioStep => ({
  name,
  request: { path: '/info', headers: bearer(tok) },
  expect: {
    status: body === 'Audiences in Jwt are not allowed' ? 403 : 401,
    servedBy: null,
    body,
    responseHeaders: { 'www-authenticate': REALM },
  },
});

const seed = { name: 'authz' as const, config: { jwtRules: seedJwtRules(), policies: [seedPolicy()] } };
const jwtOnly = { name: 'authz' as const, config: { jwtRules: seedJwtRules(), policies: [jwtOnlyPolicy()] } };

const valid = await token(rsa, { nowSec: now });
const forged =
  valid.slice(0, valid.lastIndexOf('.') + 1) + (await token(rsa, { nowSec: now, payload: { sub: 'someone-else' } })).split('.')[2];

export const scenarios: Scenario[] = [
  {
    name: 'seed RequestAuthentication + AuthorizationPolicy verbatim: no peer principal over plaintext, so 403; bad tokens 401',
    filters: [seed],
    routes: [jwksRoute(keys)],
    steps: [
      {
        name: 'valid JWT, no mTLS principal',
        request: { path: '/info', headers: bearer(valid) },
        expect: { status: 403, servedBy: null, body: 'RBAC: access denied' },
      },
      { name: 'no JWT', request: { path: '/info' }, expect: { status: 403, servedBy: null, body: 'RBAC: access denied' } },
      rejected('forged signature', forged, 'Jwt verification fails'),
      rejected(
        'other issuer',
        await token(rsa, { nowSec: now, payload: { iss: 'https://issuer.example' } }),
        'Jwt issuer is not configured',
      ),
    ],
    // Envoy runs one VM per worker plus the main thread's: they share the fetched JWKS (shared
    // data), so the jwks upstream is asked once, as in the harness's single VM.
    metrics: { asmesh_authz_denied_total: 2, asmesh_authz_unauthenticated_total: 2, asmesh_authz_jwks_fetches_total: 1 },
  },
  {
    // PS256 goes through our AssemblyScript RSA-PSS (Envoy's verify_signature does PKCS#1 v1.5 only).
    name: 'JWKS from the jwks upstream: RS256/384/512, PS256 and ES256/384 tokens pass the JWT policy; forwardOriginalToken keeps the token',
    filters: [jwtOnly],
    routes: [jwksRoute(keys)],
    steps: [
      ...(await Promise.all(
        [rsa, rs384, rs512, ps256, ec, ec384].map(async (k): Promise<ScenarioStep> => ({
          name: k.alg,
          request: { path: '/info/x', headers: bearer(await token(k, { nowSec: now })) },
          expect: { status: 200, servedBy: 'service_b', upstreamHeaders: { authorization: /^Bearer ey/ } },
        })),
      )),
      {
        name: 'POST /data',
        request: { method: 'POST', path: '/data', headers: bearer(valid), body: 'x' },
        expect: { status: 200, servedBy: 'service_b' },
      },
      {
        name: 'GET /data is not allowed',
        request: { path: '/data', headers: bearer(valid) },
        expect: { status: 403, body: 'RBAC: access denied' },
      },
      { name: 'no token', request: { path: '/info' }, expect: { status: 403, body: 'RBAC: access denied' } },
      {
        name: 'cached token again',
        request: { path: '/info', headers: bearer(valid) },
        expect: { status: 200, servedBy: 'service_b' },
        repeat: 3,
      },
    ],
    // The RS256 step's token equals `valid` (PKCS#1 v1.5 is deterministic): 5 cache hits after it.
    metrics: { asmesh_authz_allowed_total: 10, asmesh_authz_denied_total: 2, asmesh_authz_jwt_cache_hits_total: 5 },
  },
  {
    name: "every JWT rejection answers 401 with www-authenticate and Envoy's text",
    filters: [{ name: 'authz', config: { jwtRules: [{ issuer: ISSUER, jwks: keys, audiences: ['httpbin'] }] } }],
    steps: [
      rejected('nbf beyond the skew', await token(rsa, { nowSec: now, payload: { aud: 'httpbin', nbf: now + 3600 } }), 'Jwt not yet valid'),
      rejected('audience', await token(rsa, { nowSec: now, payload: { aud: 'other' } }), 'Audiences in Jwt are not allowed'),
      rejected('issuer', await token(rsa, { nowSec: now, payload: { aud: 'httpbin', iss: 'https://x' } }), 'Jwt issuer is not configured'),
      rejected(
        'unknown kid',
        await token(other, { nowSec: now, payload: { aud: 'httpbin' } }),
        "Jwks doesn't have key to match kid or alg from Jwt",
      ),
      rejected(
        'bad signature',
        forged.replace(valid.split('.')[1]!, b64url(JSON.stringify({ iss: ISSUER, aud: 'httpbin', sub: 'x' }))),
        'Jwt verification fails',
      ),
      // `header.payload.` (empty signature) is two parts once Envoy skips empty ones.
      rejected(
        'alg none',
        rawToken({ alg: 'none' }, { iss: ISSUER, aud: 'httpbin' }, ''),
        'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
      ),
      rejected(
        'alg none with a signature',
        rawToken({ alg: 'none' }, { iss: ISSUER, aud: 'httpbin' }),
        'Jwt header [alg] is not supported',
      ),
      rejected(
        'HS256 against JWKS keys',
        rawToken({ alg: 'HS256' }, { iss: ISSUER, aud: 'httpbin' }, b64url('k'.repeat(32))),
        "Jwks doesn't have key to match kid or alg from Jwt",
      ),
      rejected(
        'alg does not fit the key',
        rawToken({ alg: 'ES256', kid: 'rsa-1' }, { iss: ISSUER, aud: 'httpbin' }, b64url('s'.repeat(64))),
        "Jwks doesn't have key to match kid or alg from Jwt",
      ),
      rejected(
        'crit',
        rawToken({ alg: 'RS256', kid: 'rsa-1', crit: ['x-custom'], 'x-custom': 1 }, { iss: ISSUER, aud: 'httpbin' }),
        'Jwt verification fails',
      ),
      rejected('two sections', 'abc.def', 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections'),
      rejected('header base64', 'e30!.e30.c2ln', 'Jwt header is an invalid Base64url encoded'),
      rejected('header JSON', `${b64url('{"alg":')}.e30.c2ln`, 'Jwt header is an invalid JSON'),
      rejected('payload JSON', `${b64url('{"alg":"RS256"}')}.${b64url('[1')}.c2ln`, 'Jwt payload is an invalid JSON'),
      rejected(
        'a forged 8 KiB token',
        rawToken({ alg: 'RS256', kid: 'rsa-1' }, { iss: ISSUER, aud: 'httpbin', pad: 'x'.repeat(8200) }),
        'Jwt verification fails',
      ),
      {
        name: 'valid',
        request: { path: '/info', headers: bearer(await token(ec, { nowSec: now, payload: { aud: ['x', 'httpbin'] } })) },
        expect: { status: 200, servedBy: 'service_b', upstreamHeaders: { authorization: null } },
      },
    ],
    metrics: { asmesh_authz_unauthenticated_total: 15, asmesh_authz_allowed_total: 1 },
  },
  {
    name: 'an expired JWT answers 401 Jwt is expired',
    filters: [{ name: 'authz', config: { jwtRules: [{ issuer: ISSUER, jwks: keys }] } }],
    steps: [rejected('expired', await token(rsa, { nowSec: now - 7200, expSeconds: 3600 }), 'Jwt is expired')],
  },
  {
    name: 'JWKS rotation: an unknown kid refetches the JWKS from the upstream; the retired key stops working',
    filters: [
      {
        name: 'authz',
        config: {
          jwtRules: seedJwtRules().map((r) => ({ ...r, asmesh: { jwksCluster: 'jwks', kidRefetchSeconds: 0 } })),
          policies: [jwtOnlyPolicy()],
        },
      },
    ],
    routes: [jwksRoute(jwks(rsa))],
    steps: [
      { name: 'old key', request: { path: '/info', headers: bearer(valid) }, expect: { status: 200, servedBy: 'service_b' } },
      {
        name: 'new key after rotation',
        routes: [jwksRoute(jwks(rotated))],
        request: { path: '/info', headers: bearer(await token(rotated, { nowSec: now })) },
        expect: { status: 200, servedBy: 'service_b' },
      },
      rejected(
        'a new token of the retired key',
        await token(rsa, { nowSec: now, payload: { sub: 'new' } }),
        "Jwks doesn't have key to match kid or alg from Jwt",
      ),
    ],
  },
  {
    name: 'a bad policy configuration is rejected with its JSON path',
    filters: [
      { name: 'authz', config: { policies: [{ name: 'p', rules: [{ to: [{ operation: { paths: ['/a'], method: ['GET'] } }] }] }] } },
    ],
    configError: /authz: config \$\.policies\[0\]\.rules\[0\]\.to\[0\]\.operation: unknown field "method"/,
  },
];
