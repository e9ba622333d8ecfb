// Wycheproof vectors through Envoy 1.40's own verify_signature (BoringSSL) and through our
// AssemblyScript crypto running in Envoy's V8: the authz signature layer (verify probe plugin)
// mounted in a real Envoy, one request per vector.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { after, before, test } from 'node:test';
import { send, startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { verifyProbe } from './probe.ts';

const load = (path: string) => JSON.parse(readFileSync(join(repoRoot, path), 'utf8'));
const b64u = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
let envoy: Envoy;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

before(async () => {
  await verifyProbe();
  // The launcher mounts <wasmDir>/authz.wasm for the authz filter: here, the probe.
  const dir = join(repoRoot, '.tmp/authz/envoy-probe');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(repoRoot, '.tmp/authz/verify-probe.wasm'), join(dir, 'authz.wasm'));
  envoy = await startEnvoy({ filters: [{ name: 'authz', config: {} }], wasmDir: dir, logArgs: ['-l', 'warn'] });
});

after(async () => {
  agent.destroy();
  await envoy?.stop();
});

async function probe(headers: Record<string, string>) {
  const r = await send(envoy.listenerUrl, '/', { headers: { host: 'probe', ...headers }, agent });
  assert.equal(r.status, 200, r.body);
  return { body: r.body, foreign: Number(r.headers['x-foreign-calls']), software: Number(r.headers['x-software-calls']) };
}

const agrees = (result: string, ok: boolean) => result === 'acceptable' || (result === 'valid') === ok;

for (const mode of ['foreign', 'software'] as const) {
  test(`Envoy: Wycheproof RSA PKCS#1 v1.5 2048/SHA-256 and ECDSA P-256/SHA-256 (P1363) via ${mode === 'foreign' ? 'Envoy verify_signature' : 'AssemblyScript crypto in V8'}`, async () => {
    let n = 0;
    const rsa = load('test/vectors/wycheproof/rsa_signature_2048_sha256_test.json');
    for (const group of rsa.testGroups) {
      const jwk = group.keyJwk ?? {};
      const key = { 'x-n': jwk.n ?? b64u(group.publicKey.modulus.replace(/^00/, '')), 'x-e': jwk.e ?? b64u(group.publicKey.publicExponent) };
      for (const t of group.tests) {
        const r = await probe({ 'x-mode': mode, 'x-alg': 'RS256', ...key, 'x-msg': b64u(t.msg), 'x-sig': b64u(t.sig) });
        assert.ok(agrees(t.result, r.body === 'valid'), `RSA tcId ${t.tcId} (${t.comment}): expected ${t.result}, got ${r.body}`);
        if (mode === 'foreign' && r.body === 'valid') assert.equal(r.foreign, 1, 'answered by Envoy');
        n++;
      }
    }
    const ec = load('test/vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json');
    for (const group of ec.testGroups) {
      const key = { 'x-crv': 'P-256', 'x-x': b64u(group.publicKey.wx.replace(/^00/, '').padStart(64, '0')), 'x-y': b64u(group.publicKey.wy.replace(/^00/, '').padStart(64, '0')) };
      for (const t of group.tests) {
        const r = await probe({ 'x-mode': mode, 'x-alg': 'ES256', ...key, 'x-msg': b64u(t.msg), 'x-sig': b64u(t.sig) });
        assert.ok(agrees(t.result, r.body === 'valid'), `ECDSA tcId ${t.tcId} (${t.comment}): expected ${t.result}, got ${r.body}`);
        n++;
      }
    }
    assert.ok(n > 500, `${n} vectors`);
  });
}

test('Envoy: Wycheproof JSON Web Signature tests (RS*, PS*, ES256 with a public key) through the filter\'s key selection and Envoy verify_signature', async () => {
  const file = load('test/authz/vectors/json_web_signature_test.json');
  let n = 0;
  const mismatched: number[] = [];
  for (const group of file.testGroups) {
    const pub = group.public;
    if (pub === undefined || pub.crv === 'P-521') continue;
    for (const t of group.tests) {
      if (typeof t.jws !== 'string') continue;
      const r = await probe({ 'x-mode': 'foreign', 'x-jws': t.jws, 'x-jwks': JSON.stringify({ keys: [pub] }) });
      let alg: unknown;
      try { alg = JSON.parse(Buffer.from(t.jws.split('.')[0], 'base64url').toString()).alg; } catch { alg = undefined; }
      if (t.result === 'valid' && pub.alg !== undefined && alg !== pub.alg) { mismatched.push(t.tcId); continue; }
      assert.ok(agrees(t.result, r.body === 'OK'), `${group.comment} tcId ${t.tcId} (${t.comment}): expected ${t.result}, got ${r.body}`);
      n++;
    }
  }
  assert.deepEqual(mismatched, [346, 350]);
  assert.ok(n > 300, `${n} vectors`);
});
