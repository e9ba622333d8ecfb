// The seed AuthorizationPolicy and RequestAuthentication verbatim in a real Envoy 1.40 whose
// listener requires mTLS (test certificates with SPIFFE URI SANs): principals and namespaces come
// from the peer certificate, JWTs are checked against a JWKS served by the `jwks` upstream.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { makeCerts, requireMtls, type Cert, type CertSet } from './certs.ts';
import { jwks, makeKey, seedJwtRules, seedPolicy, token, type TestKey } from '../../host/fixtures/jwt.ts';

let certs: CertSet, upstreams: Upstreams, envoy: Envoy, key: TestKey;
const now = Math.floor(Date.now() / 1000);

before(async () => {
  certs = makeCerts({
    sleep: 'spiffe://cluster.local/ns/default/sa/sleep',
    testns: 'spiffe://cluster.local/ns/test/sa/client',
    other: 'spiffe://cluster.local/ns/default/sa/other',
  });
  key = await makeKey('ES256', 'mtls-1');
  upstreams = await Upstreams.start();
  upstreams
    .get('jwks')
    .service.setRoute('/oauth2/v3/certs', { status: 200, headers: { 'content-type': 'application/json' }, body: jwks(key) });
  envoy = await startEnvoy({
    filters: [{ name: 'authz', config: { jwtRules: seedJwtRules(), policies: [seedPolicy()] } }],
    upstreams: upstreams.endpoints(),
    edit: (b) => requireMtls(b, certs),
  });
});

after(async () => {
  await envoy?.stop();
  await upstreams?.close();
});

function send(client: Cert, method: string, path: string, headers: Record<string, string> = {}) {
  return envoy.request(path, {
    method,
    headers: { host: 'service_b', ...headers },
    body: method === 'POST' ? 'x' : undefined,
    tls: { ca: certs.ca.certPem, cert: client.certPem, key: client.keyPem },
  });
}

test('Envoy + mTLS: the seed policy verbatim allows sleep and namespace test with a valid JWT, nothing else', async () => {
  const valid = await token(key, { nowSec: now });
  const bearer = { authorization: `Bearer ${valid}` };
  const { sleep, testns, other } = certs.clients as Record<string, Cert>;
  const cases: [Cert, string, string, Record<string, string>, number, string | RegExp][] = [
    [sleep!, 'GET', '/info', bearer, 200, /"path":"\/info"/],
    [sleep!, 'GET', '/info/extra?x=1', bearer, 200, /"path":"\/info\/extra\?x=1"/],
    [sleep!, 'POST', '/data', bearer, 200, /"method":"POST"/],
    [testns!, 'GET', '/info', bearer, 200, /"path":"\/info"/],
    [other!, 'GET', '/info', bearer, 403, 'RBAC: access denied'],
    [sleep!, 'GET', '/data', bearer, 403, 'RBAC: access denied'],
    [sleep!, 'GET', '/info', {}, 403, 'RBAC: access denied'],
    [
      sleep!,
      'GET',
      '/info',
      { authorization: `Bearer ${await token(key, { nowSec: now - 7200, expSeconds: 60 })}` },
      401,
      'Jwt is expired',
    ],
    [
      sleep!,
      'GET',
      '/info',
      { authorization: `Bearer ${await token(key, { nowSec: now, payload: { iss: 'https://x.example' } })}` },
      401,
      'Jwt issuer is not configured',
    ],
  ];
  for (const [client, method, path, headers, status, body] of cases) {
    const r = await send(client, method, path, headers);
    const what = `${method} ${path} as ${client.cert.split('/').pop()} with ${Object.keys(headers).join(',') || 'no token'}`;
    assert.equal(r.status, status, `${what}: ${r.body}`);
    if (typeof body === 'string') assert.equal(r.body, body, what);
    else assert.match(r.body, body, what);
    if (status === 401) assert.equal(r.headers['www-authenticate'], `Bearer realm="https://service_b${path}", error="invalid_token"`);
  }
  const stats = await envoy.stats();
  assert.equal(stats.get('wasmcustom.asmesh_authz_allowed_total'), 4);
  assert.equal(stats.get('wasmcustom.asmesh_authz_denied_total'), 3);
  assert.equal(stats.get('wasmcustom.asmesh_authz_unauthenticated_total'), 2);
});
