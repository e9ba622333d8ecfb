// Wycheproof vectors through the authz filter's signature layer, both paths: Envoy's
// verify_signature (the harness implements it with node:crypto; the filter sends DER keys and
// DER ECDSA signatures) and our AssemblyScript crypto (the fallback for hosts without it).
// RSA PKCS#1 v1.5 2048 SHA-256, ECDSA P-256 SHA-256 in P1363 form, and JSON Web Signature tests.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { loadPlugin, type Plugin } from '../../host/harness/index.ts';
import { verifyProbe } from '../../host/fixtures/verify-probe.ts';
import { agrees, ecdsaVectors, jwsVectors, load, rsaVectors } from './probe-vectors.ts';

let plugin: Plugin;
before(async () => {
  plugin = await loadPlugin(await verifyProbe());
});

async function probe(headers: Record<string, string>): Promise<{ body: string; foreign: number; software: number }> {
  const r = await plugin.http({ headers: { ':method': 'GET', ':path': '/', ':authority': 'probe', ...headers } });
  const h = new Map(r.response.headers);
  return { body: r.response.bodyText, foreign: Number(h.get('x-foreign-calls')), software: Number(h.get('x-software-calls')) };
}

for (const mode of ['foreign', 'software'] as const) {
  describe(`wycheproof through the ${mode === 'foreign' ? 'verify_signature foreign function' : 'AssemblyScript crypto'} path`, () => {
    test('RSA PKCS#1 v1.5, 2048-bit, SHA-256', async () => {
      let count = 0;
      for (const v of rsaVectors()) {
        const r = await probe({ 'x-mode': mode, ...v.headers });
        assert.ok(agrees(v.result, r.body === 'valid'), `tcId ${v.tcId} (${v.comment}): expected ${v.result}, got ${r.body}`);
        if (mode === 'software') assert.equal(r.foreign, 0);
        count++;
      }
      assert.ok(count > 200, `${count} vectors`);
    });

    test('ECDSA P-256, SHA-256, P1363 signatures', async () => {
      let count = 0;
      for (const v of ecdsaVectors()) {
        const r = await probe({ 'x-mode': mode, ...v.headers });
        assert.ok(agrees(v.result, r.body === 'valid'), `tcId ${v.tcId} (${v.comment}): expected ${v.result}, got ${r.body}`);
        count++;
      }
      assert.ok(count > 200, `${count} vectors`);
    });

    test('JSON Web Signature tests (RS*, PS*, ES256 groups with a public key)', async () => {
      let count = 0;
      const { vectors, skipped } = jwsVectors();
      const mismatched: number[] = [];
      for (const v of vectors) {
        const r = await probe({ 'x-mode': mode, ...v.headers });
        if (v.algMismatch) {
          // Like Envoy's jwt_verify_lib, a JWK's own `alg` must equal the token's (RFC 7520's PS384
          // example is signed with a key Wycheproof labels PS256).
          assert.equal(r.body, "Jwks doesn't have key to match kid or alg from Jwt", `${v.group} tcId ${v.tcId}`);
          mismatched.push(v.tcId);
          continue;
        }
        assert.ok(agrees(v.result, r.body === 'OK'), `${v.group} tcId ${v.tcId} (${v.comment}): expected ${v.result}, got ${r.body}`);
        count++;
      }
      assert.ok(count > 300, `${count} vectors (skipped ${skipped.join(', ')})`);
      assert.deepEqual(mismatched, [346, 350]); // RFC 7520 figure 20, with and without key_ops
    });
  });
}

test('the foreign path is used when the host has verify_signature, except for PS*', async () => {
  const file = load('test/authz/vectors/json_web_signature_test.json');
  const ps = file.testGroups.find((g: { public?: { alg?: string } }) => g.public?.alg === 'PS256');
  const rs = file.testGroups.find((g: { public?: { alg?: string } }) => g.public?.alg === 'RS256');
  const jwksOf = (g: { public: unknown }) => JSON.stringify({ keys: [g.public] });
  const r1 = await probe({ 'x-mode': 'foreign', 'x-jws': rs.tests[0].jws, 'x-jwks': jwksOf(rs) });
  assert.deepEqual([r1.body, r1.foreign, r1.software], ['OK', 1, 0]);
  const r2 = await probe({ 'x-mode': 'foreign', 'x-jws': ps.tests[0].jws, 'x-jwks': jwksOf(ps) });
  assert.deepEqual([r2.body, r2.foreign, r2.software], ['OK', 0, 1]);
});

test('without verify_signature (host answers NotFound) the AssemblyScript path takes over', async () => {
  const bare = await loadPlugin(await verifyProbe(), { foreignFunctions: { verifySignature: false } });
  const file = load('test/authz/vectors/json_web_signature_test.json');
  const es = file.testGroups.find((g: { public?: { alg?: string } }) => g.public?.alg === 'ES256');
  const r = await bare.http({
    headers: {
      ':method': 'GET',
      ':path': '/',
      ':authority': 'p',
      'x-mode': 'foreign',
      'x-jws': es.tests[0].jws,
      'x-jwks': JSON.stringify({ keys: [es.public] }),
    },
  });
  const h = new Map(r.response.headers);
  assert.deepEqual([r.response.bodyText, h.get('x-foreign-calls'), h.get('x-software-calls')], ['OK', '0', '1']);
});
