// Wycheproof vectors through the authz filter's signature layer, both paths: Envoy's
// verify_signature (the harness implements it with node:crypto; the filter sends DER keys and
// DER ECDSA signatures) and our AssemblyScript crypto (the fallback for hosts without it).
// RSA PKCS#1 v1.5 2048 SHA-256, ECDSA P-256 SHA-256 in P1363 form, and JSON Web Signature tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadPlugin, type Plugin } from '../../host/harness/index.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { verifyProbe } from './probe.ts';

const load = (path: string) => JSON.parse(readFileSync(join(repoRoot, path), 'utf8'));
const b64u = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

let plugin: Plugin;
before(async () => { plugin = await loadPlugin(await verifyProbe()); });

async function probe(headers: Record<string, string>): Promise<{ body: string; foreign: number; software: number }> {
  const r = await plugin.http({ headers: { ':method': 'GET', ':path': '/', ':authority': 'probe', ...headers } });
  const h = new Map(r.response.headers);
  return { body: r.response.bodyText, foreign: Number(h.get('x-foreign-calls')), software: Number(h.get('x-software-calls')) };
}

// Wycheproof "acceptable" results may go either way; valid must verify, invalid must not.
function agrees(result: string, ok: boolean): boolean {
  return result === 'acceptable' || (result === 'valid') === ok;
}

for (const mode of ['foreign', 'software'] as const) {
  describe(`wycheproof through the ${mode === 'foreign' ? 'verify_signature foreign function' : 'AssemblyScript crypto'} path`, () => {
    test('RSA PKCS#1 v1.5, 2048-bit, SHA-256', async () => {
      const file = load('test/vectors/wycheproof/rsa_signature_2048_sha256_test.json');
      let count = 0;
      for (const group of file.testGroups) {
        const jwk = group.keyJwk ?? {};
        const n = jwk.n ?? b64u(group.publicKey.modulus.replace(/^00/, ''));
        const e = jwk.e ?? b64u(group.publicKey.publicExponent);
        for (const t of group.tests) {
          const r = await probe({ 'x-mode': mode, 'x-alg': 'RS256', 'x-n': n, 'x-e': e, 'x-msg': b64u(t.msg), 'x-sig': b64u(t.sig) });
          assert.ok(agrees(t.result, r.body === 'valid'), `tcId ${t.tcId} (${t.comment}): expected ${t.result}, got ${r.body}`);
          if (mode === 'software') assert.equal(r.foreign, 0);
          count++;
        }
      }
      assert.ok(count > 200, `${count} vectors`);
    });

    test('ECDSA P-256, SHA-256, P1363 signatures', async () => {
      const file = load('test/vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json');
      let count = 0;
      for (const group of file.testGroups) {
        const x = b64u(group.publicKey.wx.replace(/^00/, '').padStart(64, '0'));
        const y = b64u(group.publicKey.wy.replace(/^00/, '').padStart(64, '0'));
        for (const t of group.tests) {
          const r = await probe({ 'x-mode': mode, 'x-alg': 'ES256', 'x-crv': 'P-256', 'x-x': x, 'x-y': y, 'x-msg': b64u(t.msg), 'x-sig': b64u(t.sig) });
          assert.ok(agrees(t.result, r.body === 'valid'), `tcId ${t.tcId} (${t.comment}): expected ${t.result}, got ${r.body}`);
          count++;
        }
      }
      assert.ok(count > 200, `${count} vectors`);
    });

    test('JSON Web Signature tests (RS*, PS*, ES256 groups with a public key)', async () => {
      const file = load('test/authz/vectors/json_web_signature_test.json');
      let count = 0;
      const skipped: string[] = [];
      const mismatched: number[] = [];
      for (const group of file.testGroups) {
        const pub = group.public;
        // HMAC groups carry only a secret key; ES521 is not among the algorithms the filter takes.
        if (pub === undefined || pub.alg === 'ES512' || pub.crv === 'P-521') { skipped.push(`${group.comment}:${group.tests.length}`); continue; }
        for (const t of group.tests) {
          if (typeof t.jws !== 'string') { skipped.push(`${group.comment}#${t.tcId} (JSON serialization)`); continue; }
          const r = await probe({ 'x-mode': mode, 'x-jws': t.jws, 'x-jwks': JSON.stringify({ keys: [pub] }) });
          const alg = (() => { try { return JSON.parse(Buffer.from(t.jws.split('.')[0], 'base64url').toString()).alg; } catch { return undefined; } })();
          if (t.result === 'valid' && pub.alg !== undefined && alg !== pub.alg) {
            // Like Envoy's jwt_verify_lib, a JWK's own `alg` must equal the token's (RFC 7520's PS384
            // example is signed with a key Wycheproof labels PS256).
            assert.equal(r.body, "Jwks doesn't have key to match kid or alg from Jwt", `${group.comment} tcId ${t.tcId}`);
            mismatched.push(t.tcId);
            continue;
          }
          assert.ok(agrees(t.result, r.body === 'OK'), `${group.comment} tcId ${t.tcId} (${t.comment}): expected ${t.result}, got ${r.body}`);
          count++;
        }
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
  const r = await bare.http({ headers: { ':method': 'GET', ':path': '/', ':authority': 'p', 'x-mode': 'foreign', 'x-jws': es.tests[0].jws, 'x-jwks': JSON.stringify({ keys: [es.public] }) } });
  const h = new Map(r.response.headers);
  assert.deepEqual([r.response.bodyText, h.get('x-foreign-calls'), h.get('x-software-calls')], ['OK', '0', '1']);
});
