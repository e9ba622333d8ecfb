// The authz filter in the harness: JWT verification (jose-made RSA and EC tokens) and Istio
// AuthorizationPolicy evaluation, with Envoy's verify_signature foreign function.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadPlugin, type Plugin, type PluginOptions } from '../../host/harness/index.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { makeCerts, peerAttributes, type CertSet } from './certs.ts';
import { ISSUER, b64url, jwks, makeKey, rawToken, seedPolicy, token, type TestKey } from '../../host/fixtures/jwt.ts';

const wasm = join(repoRoot, 'build/authz.wasm');
const NOW_MS = Date.UTC(2026, 0, 1);
const NOW = NOW_MS / 1000;
const SLEEP = 'spiffe://cluster.local/ns/default/sa/sleep';

const PEERS = {
  sleep: SLEEP,
  testns: 'spiffe://cluster.local/ns/test/sa/any',
  other: 'spiffe://cluster.local/ns/default/sa/other',
};
let certs: CertSet;
/** The connection attributes of an mTLS peer whose certificate has this URI SAN (one of PEERS). */
function peer(uri: string): Record<string, unknown> {
  const name = Object.entries(PEERS).find(([, u]) => u === uri)![0];
  return peerAttributes(certs.clients[name]!);
}

let rsa: TestKey, ec: TestKey, ec384: TestKey, rs384: TestKey, rs512: TestKey, ps256: TestKey, ps512: TestKey, other: TestKey;
before(async () => {
  certs = makeCerts(PEERS);
  [rsa, ec, ec384, rs384, rs512, ps256, ps512, other] = await Promise.all([
    makeKey('RS256', 'rsa-1'),
    makeKey('ES256', 'ec-1'),
    makeKey('ES384', 'ec384-1'),
    makeKey('RS384', 'rs384-1'),
    makeKey('RS512', 'rs512-1'),
    makeKey('PS256', 'ps256-1'),
    makeKey('PS512', 'ps512-1'),
    makeKey('RS256', 'other'),
  ]);
});

function inlineRules(extra: Record<string, unknown> = {}) {
  return [{ issuer: ISSUER, jwks: jwks(rsa, ec, ec384, rs384, rs512, ps256, ps512), ...extra }];
}

async function plugin(config: object, opts: PluginOptions = {}): Promise<Plugin> {
  return loadPlugin(wasm, { config, nowMs: NOW_MS, pluginName: 'authz', rootId: 'authz', vmId: 'authz', ...opts });
}

function req(method: string, path: string, headers: Record<string, string> = {}, properties: Record<string, unknown> = {}) {
  return {
    headers: { ':method': method, ':path': path, ':authority': 'httpbin.foo', ':scheme': 'http', ...headers },
    properties: {
      'source.address': '10.0.0.7:43210',
      'destination.address': '10.0.0.9:8080',
      'destination.port': 8080n,
      ...properties,
    } as never,
  };
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const header = (r: { response: { headers: [string, string][] } }, name: string) => r.response.headers.find(([k]) => k === name)?.[1];

describe('authz: seed AuthorizationPolicy verbatim', () => {
  test('GET /info* and POST /data from sleep or namespace test with a Google-issued JWT; everything else 403', async () => {
    const p = await plugin({ jwtRules: inlineRules(), policies: [seedPolicy()] });
    const t = await token(rsa, { nowSec: NOW });
    const sleep = peer(SLEEP);
    const testNs = peer('spiffe://cluster.local/ns/test/sa/any');
    const cases: [string, string, Record<string, string>, Record<string, unknown>, number][] = [
      ['GET', '/info', bearer(t), sleep, 200],
      ['GET', '/info/x?y=1', bearer(t), sleep, 200],
      ['POST', '/data', bearer(t), sleep, 200],
      ['GET', '/info', bearer(t), testNs, 200],
      ['GET', '/data', bearer(t), sleep, 403],
      ['POST', '/data/x', bearer(t), sleep, 403],
      ['DELETE', '/info', bearer(t), sleep, 403],
      ['GET', '/info', bearer(t), peer('spiffe://cluster.local/ns/default/sa/other'), 403],
      ['GET', '/info', bearer(t), {}, 403],
      ['GET', '/info', {}, sleep, 403],
    ];
    for (const [method, path, h, props, status] of cases) {
      const r = await p.http(req(method, path, h, props));
      assert.equal(r.response.status, status, `${method} ${path} ${JSON.stringify(props)} ${Object.keys(h)}`);
      if (status === 403) {
        assert.equal(r.response.bodyText, 'RBAC: access denied');
        assert.equal(r.upstreamRequest, null);
      } else {
        // forwardOriginalToken is false by default: the token is removed before the upstream.
        assert.equal(
          r.upstreamRequest!.headers.find(([k]) => k === 'authorization'),
          undefined,
        );
      }
    }
    assert.equal(p.metric('asmesh_authz_allowed_total'), 4);
    assert.equal(p.metric('asmesh_authz_denied_total'), 6);
  });

  test('a token from another issuer is rejected with 401 even where the policy would not apply', async () => {
    const p = await plugin({ jwtRules: inlineRules(), policies: [seedPolicy()] });
    const t = await token(rsa, { nowSec: NOW, payload: { iss: 'https://evil.example' } });
    const r = await p.http(req('GET', '/info', bearer(t), peer(SLEEP)));
    assert.equal(r.response.status, 401);
    assert.equal(r.response.bodyText, 'Jwt issuer is not configured');
    assert.equal(header(r, 'www-authenticate'), 'Bearer realm="http://httpbin.foo/info", error="invalid_token"');
  });
});

describe('authz: JWT verification', () => {
  const algs = () => [rsa, ec, ec384, rs384, rs512, ps256, ps512];
  for (const foreign of [true, false]) {
    // The AssemblyScript fallback is wired when assembly/lib/crypto's RSA/ECDSA verifiers land.
    test(`RS256, RS384, RS512, PS256, PS512, ES256, ES384 verify${foreign ? '' : ' without verify_signature (AssemblyScript crypto)'}`, async () => {
      const p = await plugin({ jwtRules: inlineRules() }, { foreignFunctions: { verifySignature: foreign } });
      for (const key of algs()) {
        const tok = await token(key, { nowSec: NOW });
        const r = await p.http(req('GET', '/x', bearer(tok)));
        assert.equal(r.response.status, 200, `${key.alg}: ${r.response.bodyText}`);
        // A signature of another key of the same type fails.
        const forged =
          tok.slice(0, tok.lastIndexOf('.') + 1) +
          (await token(key === rsa ? rs384 : key, { nowSec: NOW, payload: { sub: 'x' } })).split('.')[2];
        const bad = await p.http(req('GET', '/x', bearer(forged)));
        assert.equal(bad.response.status, 401, key.alg);
        assert.equal(bad.response.bodyText, 'Jwt verification fails', key.alg);
      }
    });
  }

  test('no token: the request goes on without a principal; the token header is forwarded when asked', async () => {
    const p = await plugin({
      jwtRules: inlineRules({
        forwardOriginalToken: true,
        outputPayloadToHeader: 'x-jwt-payload',
        outputClaimToHeaders: [
          { header: 'x-sub', claim: 'sub' },
          { header: 'x-role', claim: 'realm.role' },
        ],
      }),
    });
    const none = await p.http(req('GET', '/x'));
    assert.equal(none.response.status, 200);
    const t = await token(ec, { nowSec: NOW, payload: { sub: 'alice', realm: { role: 'admin' } } });
    const r = await p.http(req('GET', '/x', bearer(t)));
    assert.equal(r.response.status, 200);
    const up = new Map(r.upstreamRequest!.headers);
    assert.equal(up.get('authorization'), `Bearer ${t}`);
    assert.equal(up.get('x-sub'), 'alice');
    assert.equal(up.get('x-role'), 'admin');
    assert.equal(JSON.parse(Buffer.from(up.get('x-jwt-payload')!, 'base64url').toString()).sub, 'alice');
  });

  test('fromHeaders with prefix and fromParams', async () => {
    const p = await plugin({
      jwtRules: inlineRules({ fromHeaders: [{ name: 'x-token', prefix: 'Tok ' }], fromParams: ['jwt'] }),
      policies: [{ name: 'need-jwt', action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] }],
    });
    const t = await token(rsa, { nowSec: NOW });
    assert.equal((await p.http(req('GET', '/x', { 'x-token': `Tok ${t}` }))).response.status, 200);
    assert.equal((await p.http(req('GET', `/x?a=1&jwt=${t}`))).response.status, 200);
    // The default Authorization location is not read when locations are configured.
    assert.equal((await p.http(req('GET', '/x', bearer(t)))).response.status, 403);
  });

  for (const foreign of [true, false])
    test(`every rejection answers Envoy's status (403 for the audience, else 401), www-authenticate and text${foreign ? '' : ' (AssemblyScript crypto)'}`, async () => {
      const p = await plugin({ jwtRules: inlineRules({ audiences: ['httpbin'] }) }, { foreignFunctions: { verifySignature: foreign } });
      const ok = { aud: 'httpbin' };
      const hs = rawToken({ alg: 'HS256', typ: 'JWT' }, { iss: ISSUER, aud: 'httpbin', exp: NOW + 600 }, b64url('x'.repeat(32)));
      const cases: [string, string][] = [
        [await token(rsa, { nowSec: NOW, payload: { ...ok, exp: NOW - 61 } }), 'Jwt is expired'],
        [await token(rsa, { nowSec: NOW, payload: { ...ok, nbf: NOW + 61 } }), 'Jwt not yet valid'],
        [await token(rsa, { nowSec: NOW, payload: { ...ok, iss: 'https://other' } }), 'Jwt issuer is not configured'],
        [await token(rsa, { nowSec: NOW, payload: { aud: 'other' } }), 'Audiences in Jwt are not allowed'],
        [await token(rsa, { nowSec: NOW, payload: { aud: ['a', 'b'] } }), 'Audiences in Jwt are not allowed'],
        [await token(other, { nowSec: NOW, payload: ok }), "Jwks doesn't have key to match kid or alg from Jwt"],
        // Envoy skips empty parts: `header.payload.` has two.
        [
          rawToken({ alg: 'none' }, { iss: ISSUER, aud: 'httpbin' }, ''),
          'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
        ],
        [rawToken({ alg: 'none' }, { iss: ISSUER, aud: 'httpbin' }, 'AA'), 'Jwt header [alg] is not supported'],
        [hs, "Jwks doesn't have key to match kid or alg from Jwt"],
        // An ES256 header naming an RSA key: alg does not fit the key.
        [
          rawToken({ alg: 'ES256', kid: 'rsa-1' }, { iss: ISSUER, aud: 'httpbin' }, b64url('s'.repeat(64))),
          "Jwks doesn't have key to match kid or alg from Jwt",
        ],
        [rawToken({ alg: 'RS256', kid: 'rsa-1', crit: ['exp'], exp: 1 }, { iss: ISSUER, aud: 'httpbin' }), 'Jwt verification fails'],
        ['abc.def', 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections'],
        ['a.b.c.d', 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections'],
        ['e30!.e30.c2ln', 'Jwt header is an invalid Base64url encoded'],
        [`${b64url('{"alg":')}.e30.c2ln`, 'Jwt header is an invalid JSON'],
        [`${b64url('{"alg":"RS256","alg":"RS256"}')}.e30.c2ln`, 'Jwt header is an invalid JSON'],
        [rawToken({ alg: 7 }, {}), 'Jwt header [alg] field is required and must be a string'],
        [rawToken({ alg: 'RS256', kid: 3 }, {}), 'Jwt header [kid] field is not a string'],
        [`${b64url('{"alg":"RS256"}')}.%%%.c2ln`, 'Jwt payload is an invalid Base64url encoded'],
        [`${b64url('{"alg":"RS256"}')}.${b64url('[1')}.c2ln`, 'Jwt payload is an invalid JSON'],
        [rawToken({ alg: 'RS256' }, { iss: 5 }), 'Jwt payload [iss] field is not a string'],
        [rawToken({ alg: 'RS256' }, { iss: ISSUER, exp: 'soon' }), 'Jwt payload [exp] field is not an integer'],
        [rawToken({ alg: 'RS256' }, { iss: ISSUER, aud: [1] }), 'Jwt payload [aud] field is not a string or string list'],
        [rawToken({ alg: 'RS256' }, { iss: ISSUER }, 'a*b'), 'Jwt signature is an invalid Base64url encoded'],
        // Over the default 64 KiB cap (a stricter choice): refused before parsing.
        [`${rawToken({ alg: 'RS256', kid: 'rsa-1' }, { iss: ISSUER, aud: 'httpbin', pad: 'x'.repeat(70000) })}`, 'Jwt verification fails'],
      ];
      for (const [tok, body] of cases) {
        const r = await p.http(req('GET', '/path?q=1', bearer(tok)));
        const code = body === 'Audiences in Jwt are not allowed' ? 403 : 401;
        assert.equal(r.response.status, code, `${body}: ${tok.slice(0, 60)} got ${r.response.bodyText}`);
        assert.equal(r.response.bodyText, body, tok.slice(0, 80));
        assert.equal(header(r, 'www-authenticate'), 'Bearer realm="http://httpbin.foo/path?q=1", error="invalid_token"');
        assert.equal(r.upstreamRequest, null);
      }
      // Inside the 60 s skew both ways: accepted.
      for (const payload of [
        { ...ok, exp: NOW - 59 },
        { ...ok, nbf: NOW + 59 },
      ]) {
        const r = await p.http(req('GET', '/x', bearer(await token(rsa, { nowSec: NOW, payload }))));
        assert.equal(r.response.status, 200, JSON.stringify(payload));
      }
    });

  test("several issuers: each token is checked against its own issuer's keys", async () => {
    const p = await plugin({ jwtRules: [...inlineRules(), { issuer: 'https://other.example', jwks: jwks(other) }] });
    const mine = await token(other, { nowSec: NOW, payload: { iss: 'https://other.example' } });
    assert.equal((await p.http(req('GET', '/x', bearer(mine)))).response.status, 200);
    // Signed by a key of the first issuer but claiming the second: no key of the second matches.
    const cross = await token(rsa, { nowSec: NOW, payload: { iss: 'https://other.example' } });
    const r = await p.http(req('GET', '/x', bearer(cross)));
    assert.equal(r.response.status, 401);
    assert.equal(r.response.bodyText, "Jwks doesn't have key to match kid or alg from Jwt");
  });

  test('verified tokens are cached until they expire', async () => {
    const p = await plugin({ jwtRules: inlineRules() });
    const t = await token(rsa, { nowSec: NOW, expSeconds: 120 });
    for (let i = 0; i < 3; i++) assert.equal((await p.http(req('GET', '/x', bearer(t)))).response.status, 200);
    assert.equal(p.metric('asmesh_authz_jwt_cache_hits_total'), 2);
    p.advance(120_000 + 61_000);
    const r = await p.http(req('GET', '/x', bearer(t)));
    assert.equal(r.response.status, 401);
    assert.equal(r.response.bodyText, 'Jwt is expired');
  });
});

describe('authz: policy evaluation', () => {
  async function decide(policies: object[], request: ReturnType<typeof req>, rules = inlineRules()) {
    const p = await plugin({ jwtRules: rules, policies });
    return (await p.http(request)).response.status;
  }

  test('DENY before ALLOW; no ALLOW policy allows; AUDIT only logs; ALLOW without rules denies all', async () => {
    const allowAll = { name: 'all', action: 'ALLOW', rules: [{}] };
    const denyDelete = { name: 'no-delete', action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] };
    const audit = { name: 'audit-get', action: 'AUDIT', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] };
    assert.equal(await decide([denyDelete], req('GET', '/')), 200);
    assert.equal(await decide([denyDelete, allowAll], req('DELETE', '/')), 403);
    assert.equal(await decide([allowAll, denyDelete], req('DELETE', '/')), 403);
    assert.equal(await decide([{ name: 'none', action: 'ALLOW' }], req('GET', '/')), 403);
    assert.equal(await decide([{ name: 'none', action: 'DENY' }], req('GET', '/')), 200);
    const p = await plugin({ policies: [audit] });
    const r = await p.http(req('GET', '/'));
    assert.equal(r.response.status, 200);
    assert.ok(r.logs.some((l) => l.message === 'authz: audit policy audit-get matched'));
  });

  test('operations: hosts (the whole authority, any case), ports, methods, paths exact/prefix/suffix/*, and not forms', async () => {
    const allow = (operation: object) => [{ name: 'p', action: 'ALLOW', rules: [{ to: [{ operation }] }] }];
    assert.equal(await decide(allow({ hosts: ['HTTPBIN.foo'] }), req('GET', '/')), 200);
    // Istio matches :authority as sent: a host without the port does not match it with one.
    assert.equal(await decide(allow({ hosts: ['httpbin.foo'] }), req('GET', '/', { ':authority': 'httpbin.foo:8000' })), 403);
    assert.equal(await decide(allow({ hosts: ['httpbin.foo:8000'] }), req('GET', '/', { ':authority': 'httpbin.foo:8000' })), 200);
    assert.equal(await decide(allow({ hosts: ['*.foo'] }), req('GET', '/')), 200);
    assert.equal(await decide(allow({ notHosts: ['httpbin.*'] }), req('GET', '/')), 403);
    assert.equal(await decide(allow({ ports: ['8080'] }), req('GET', '/')), 200);
    assert.equal(await decide(allow({ ports: ['9090'] }), req('GET', '/')), 403);
    assert.equal(await decide(allow({ notPorts: ['8080'] }), req('GET', '/')), 403);
    assert.equal(await decide(allow({ paths: ['/a'] }), req('GET', '/a?x=1')), 200);
    assert.equal(await decide(allow({ paths: ['/a'] }), req('GET', '/ab')), 403);
    assert.equal(await decide(allow({ paths: ['*.png'] }), req('GET', '/i/x.png')), 200);
    assert.equal(await decide(allow({ paths: ['*'] }), req('GET', '/anything')), 200);
    assert.equal(await decide(allow({ notPaths: ['/admin*'] }), req('GET', '/admin/x')), 403);
    assert.equal(await decide(allow({ methods: ['GET'], notPaths: ['/admin*'] }), req('GET', '/x')), 200);
    assert.equal(await decide(allow({ notMethods: ['GET'] }), req('GET', '/x')), 403);
  });

  test('sources: principals, requestPrincipals, namespaces, ipBlocks, remoteIpBlocks and not forms', async () => {
    const allow = (source: object) => [{ name: 'p', action: 'ALLOW', rules: [{ from: [{ source }] }] }];
    const t = await token(rsa, { nowSec: NOW, payload: { sub: 'bob' } });
    const mtls = peer(SLEEP);
    assert.equal(await decide(allow({ principals: ['cluster.local/ns/default/sa/*'] }), req('GET', '/', {}, mtls)), 200);
    assert.equal(await decide(allow({ notPrincipals: ['*/sa/sleep'] }), req('GET', '/', {}, mtls)), 403);
    assert.equal(await decide(allow({ principals: ['*'] }), req('GET', '/')), 403);
    assert.equal(await decide(allow({ namespaces: ['default'] }), req('GET', '/', {}, mtls)), 200);
    // A client certificate Envoy says was presented but the filter cannot read: denied, whatever the policy.
    const unreadable = { 'connection.mtls': true, 'connection.uri_san_peer_certificate': SLEEP };
    assert.equal(await decide(allow({ notPrincipals: ['x/ns/y/sa/z'] }), req('GET', '/', {}, unreadable)), 403);
    assert.equal(
      await decide(allow({ namespaces: ['default'] }), req('GET', '/', {}, { ...mtls, 'connection.peer_certificate': 'x' })),
      403,
    );
    assert.equal(await decide(allow({ notNamespaces: ['default'] }), req('GET', '/', {}, mtls)), 403);
    assert.equal(await decide(allow({ requestPrincipals: [`${ISSUER}/bob`] }), req('GET', '/', bearer(t))), 200);
    assert.equal(await decide(allow({ requestPrincipals: [`${ISSUER}/alice`] }), req('GET', '/', bearer(t))), 403);
    assert.equal(await decide(allow({ requestPrincipals: ['*'] }), req('GET', '/')), 403);
    assert.equal(await decide(allow({ notRequestPrincipals: ['*'] }), req('GET', '/')), 200);
    assert.equal(await decide(allow({ ipBlocks: ['10.0.0.0/24'] }), req('GET', '/')), 200);
    assert.equal(await decide(allow({ ipBlocks: ['10.0.1.0/24', '10.0.0.8'] }), req('GET', '/')), 403);
    assert.equal(await decide(allow({ notIpBlocks: ['10.0.0.7'] }), req('GET', '/')), 403);
    assert.equal(await decide(allow({ ipBlocks: ['fd00::/8'] }), req('GET', '/', {}, { 'source.address': '[fd00::1]:5000' })), 200);
    assert.equal(await decide(allow({ remoteIpBlocks: ['10.0.0.7/32'] }), req('GET', '/')), 200);
    assert.equal(await decide(allow({ notRemoteIpBlocks: ['10.0.0.0/8'] }), req('GET', '/')), 403);
  });

  test('when: nested and list claims, auth principal/audiences/presenter, headers, ips, namespace, port, sni', async () => {
    const when = (key: string, values: string[], notValues?: string[]) => [
      { name: 'p', action: 'ALLOW', rules: [{ when: [{ key, values, ...(notValues ? { notValues } : {}) }] }] },
    ];
    const whenNot = (key: string, notValues: string[]) => [{ name: 'p', action: 'ALLOW', rules: [{ when: [{ key, notValues }] }] }];
    const t = await token(rsa, {
      nowSec: NOW,
      payload: { sub: 'bob', aud: ['api', 'web'], azp: 'cli', groups: ['dev', 'ops'], realm: { role: { name: 'admin' } }, n: 7 },
    });
    const r = (h: Record<string, string> = {}, props: Record<string, unknown> = {}) => req('GET', '/', { ...bearer(t), ...h }, props);
    assert.equal(await decide(when('request.auth.claims[groups]', ['ops']), r()), 200);
    assert.equal(await decide(when('request.auth.claims[groups]', ['qa']), r()), 403);
    assert.equal(await decide(when('request.auth.claims[realm][role][name]', ['adm*']), r()), 200);
    assert.equal(await decide(when('request.auth.claims[realm][role]', ['admin']), r()), 403);
    // Istio's metadata matcher compares strings only: the number 7 is not "7".
    assert.equal(await decide(when('request.auth.claims[n]', ['7']), r()), 403);
    assert.equal(await decide(whenNot('request.auth.claims[groups]', ['dev']), r()), 403);
    assert.equal(await decide(when('request.auth.principal', [`${ISSUER}/bob`]), r()), 200);
    assert.equal(await decide(when('request.auth.audiences', ['web']), r()), 200);
    assert.equal(await decide(when('request.auth.presenter', ['cli']), r()), 200);
    assert.equal(await decide(when('request.auth.claims[iss]', [ISSUER]), req('GET', '/')), 403);
    assert.equal(await decide(when('request.headers[X-Env]', ['prod']), r({ 'x-env': 'prod' })), 200);
    assert.equal(await decide(when('request.headers[x-env]', ['prod']), r()), 403);
    assert.equal(await decide(when('source.ip', ['10.0.0.0/16']), r()), 200);
    assert.equal(await decide(when('remote.ip', ['10.0.0.7']), r()), 200);
    assert.equal(await decide(when('destination.ip', ['10.0.0.9']), r()), 200);
    assert.equal(await decide(when('destination.port', ['8080']), r()), 200);
    assert.equal(await decide(when('destination.port', ['80']), r()), 403);
    assert.equal(await decide(when('source.namespace', ['default']), r({}, peer(SLEEP))), 200);
    assert.equal(await decide(when('source.principal', ['cluster.local/ns/default/sa/sleep']), r({}, peer(SLEEP))), 200);
    assert.equal(
      await decide(when('connection.sni', ['httpbin.foo.svc']), r({}, { 'connection.requested_server_name': 'httpbin.foo.svc' })),
      200,
    );
    assert.equal(await decide(when('connection.sni', ['x']), r()), 403);
  });
});

describe('authz: configuration errors name the JSON path', () => {
  const cases: [object, RegExp][] = [
    [{ policies: [{ name: 'p', action: 'CUSTOM' }] }, /authz: config \$\.policies\[0\]\.action: "CUSTOM" is not supported/],
    [{ policies: [{ action: 'ALLOW' }] }, /authz: config \$\.policies\[0\]\.name: required/],
    [
      { policies: [{ name: 'p', rules: [{ when: [{ key: 'request.bogus', values: ['x'] }] }] }] },
      /authz: config \$\.policies\[0\]\.rules\[0\]\.when\[0\]\.key: unknown key "request.bogus"/,
    ],
    [
      { policies: [{ name: 'p', rules: [{ from: [{ source: { ipBlocks: ['10.0.0.300'] } }] }] }] },
      /\$\.policies\[0\]\.rules\[0\]\.from\[0\]\.source\.ipBlocks\[0\]: "10.0.0.300" is not an IP address/,
    ],
    [
      { policies: [{ name: 'p', rules: [{ to: [{ operation: { ports: ['http'] } }] }] }] },
      /\$\.policies\[0\]\.rules\[0\]\.to\[0\]\.operation\.ports\[0\]: "http" is not a port/,
    ],
    [
      { policies: [{ name: 'p', rules: [{ to: [{ operation: { method: ['GET'] } }] }] }] },
      /\$\.policies\[0\]\.rules\[0\]\.to\[0\]\.operation: unknown field "method"/,
    ],
    [{ jwtRules: [{ issuer: 'x' }] }, /\$\.jwtRules\[0\]: jwks or jwksUri is required/],
    [{ jwtRules: [{ issuer: 'x', jwks: '{"keys": 1}' }] }, /\$\.jwtRules\[0\]\.jwks: \[keys\] in Jwks is not an array/],
    [{ jwtRules: [{ issuer: 'x', jwksUri: 'ftp://x/y' }] }, /\$\.jwtRules\[0\]\.jwksUri: must start with http/],
    [{ jwtRules: [{ jwksUri: 'https://x/y' }] }, /\$\.jwtRules\[0\]\.issuer: required/],
    [{ jwtRule: [] }, /authz: config \$: unknown field "jwtRule"/],
  ];
  for (const [config, error] of cases) {
    test(`rejects ${JSON.stringify(config).slice(0, 90)}`, async () => {
      await assert.rejects(plugin(config), error);
    });
  }
});

describe('authz: malformed input never traps', () => {
  test('2000 mutated and hostile tokens: each answered 401 (or 200 when the signed parts are unchanged), the VM never fails', async () => {
    const p = await plugin({
      jwtRules: inlineRules(),
      policies: [{ name: 'jwt', action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] }],
    });
    const good = await token(rsa, { nowSec: NOW });
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ %"{}[]:,\\';
    const hostile = [
      rawToken({ alg: ['RS256'] }, {}),
      rawToken({ alg: 'RS256', kid: 'rsa-1' }, { iss: ISSUER, exp: 1e400 }),
      rawToken({ alg: 'RS256', kid: 'rsa-1' }, { iss: ISSUER, exp: -5 }),
      rawToken({ alg: 'RS256', kid: 'rsa-1' }, { iss: ISSUER, nbf: 9.9e18 }),
      `${b64url('['.repeat(100) + ']'.repeat(100))}.e30.c2ln`,
      `${b64url('{"alg":"RS256"}')}.${b64url('{"a":' + '['.repeat(70) + ']'.repeat(70) + '}')}.c2ln`,
      `${b64url('{"alg":"RS256","kid":"rsa-1"}')}.${b64url(`{"iss":"${ISSUER}"}`)}.${'A'.repeat(400)}`,
      `${b64url('{"alg":"ES256","kid":"ec-1"}')}.${b64url(`{"iss":"${ISSUER}"}`)}.${b64url('\0'.repeat(64))}`,
      `${b64url('{"alg":"ES256","kid":"ec-1"}')}.${b64url(`{"iss":"${ISSUER}"}`)}.${b64url('\xff'.repeat(64))}`,
      `${b64url('{"alg":"RS256","kid":"rsa-1"}')}.${b64url(`{"iss":"${ISSUER}"}`)}.${b64url('\xff'.repeat(256))}`,
      `${Buffer.from([0xff, 0xfe, 0x22]).toString('base64url')}.e30.c2ln`,
      '.',
      '..',
      '....',
      'Bearer',
      ' ',
    ];
    const tokens = [...hostile];
    for (let i = 0; i < 2000 - hostile.length; i++) {
      const chars = good.split('');
      const edits = 1 + rnd(4);
      for (let e = 0; e < edits; e++) {
        const at = rnd(chars.length);
        const op = rnd(3);
        if (op === 0) chars[at] = alphabet[rnd(alphabet.length)]!;
        else if (op === 1) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[rnd(alphabet.length)]!);
      }
      tokens.push(chars.join(''));
    }
    let ok = 0;
    for (const t of tokens) {
      const r = await p.http(req('GET', '/x', { authorization: `Bearer ${t}` }));
      assert.ok(
        r.response.status === 401 || r.response.status === 403 || r.response.status === 200,
        `${r.response.status} for ${t.slice(0, 80)}`,
      );
      if (r.response.status === 200) {
        ok++;
        // Envoy's reading skips whitespace and padding in the signature and empty parts: an accepted
        // token signs the very header and payload of the good one.
        const parts = (s: string) => s.split('.').filter((x) => x.length > 0);
        assert.deepEqual(parts(t).slice(0, 2), parts(good).slice(0, 2), `accepted ${t}`);
      }
      assert.equal(p.failed, false, `VM failed on ${t.slice(0, 120)}`);
    }
    assert.ok(ok < 200, `${ok} mutated tokens still verified`);
  });
});

test('authz: memory stays bounded with many distinct tokens (token cache is bounded)', async () => {
  const p = await plugin({ jwtRules: inlineRules() });
  const tokens = await Promise.all(
    Array.from({ length: 3000 }, (_, i) => token(ec, { nowSec: NOW, payload: { sub: `user-${i}`, pad: 'x'.repeat(200) } })),
  );
  for (let i = 0; i < 1500; i++) assert.equal((await p.http(req('GET', '/x', bearer(tokens[i]!)))).response.status, 200);
  p.clearLogs();
  const after1500 = p.wasmMemoryBytes();
  for (let i = 1500; i < 3000; i++) assert.equal((await p.http(req('GET', '/x', bearer(tokens[i]!)))).response.status, 200);
  p.clearLogs();
  const after3000 = p.wasmMemoryBytes();
  assert.ok(after3000 <= after1500 * 1.25, `memory grew from ${after1500} to ${after3000} bytes`);
});
