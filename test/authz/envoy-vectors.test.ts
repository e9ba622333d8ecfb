// Wycheproof vectors through Envoy 1.40's own verify_signature (BoringSSL) and through our
// AssemblyScript crypto running in Envoy's V8: the authz signature layer (verify probe plugin)
// mounted in a real Envoy, one request per vector.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { after, before, test } from 'node:test';
import { send, startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { verifyProbe } from '../../host/fixtures/verify-probe.ts';
import { agrees, ecdsaVectors, jwsVectors, rsaVectors } from './probe-vectors.ts';
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

for (const mode of ['foreign', 'software'] as const) {
  test(`Envoy: Wycheproof RSA PKCS#1 v1.5 2048/SHA-256 and ECDSA P-256/SHA-256 (P1363) via ${mode === 'foreign' ? 'Envoy verify_signature' : 'AssemblyScript crypto in V8'}`, async () => {
    let n = 0;
    for (const v of rsaVectors()) {
      const r = await probe({ 'x-mode': mode, ...v.headers });
      assert.ok(agrees(v.result, r.body === 'valid'), `RSA tcId ${v.tcId} (${v.comment}): expected ${v.result}, got ${r.body}`);
      if (mode === 'foreign' && r.body === 'valid') assert.equal(r.foreign, 1, 'answered by Envoy');
      n++;
    }
    for (const v of ecdsaVectors()) {
      const r = await probe({ 'x-mode': mode, ...v.headers });
      assert.ok(agrees(v.result, r.body === 'valid'), `ECDSA tcId ${v.tcId} (${v.comment}): expected ${v.result}, got ${r.body}`);
      n++;
    }
    assert.ok(n > 500, `${n} vectors`);
  });
}

test("Envoy: Wycheproof JSON Web Signature tests (RS*, PS*, ES256 with a public key) through the filter's key selection and Envoy verify_signature", async () => {
  let n = 0;
  const mismatched: number[] = [];
  for (const v of jwsVectors().vectors) {
    const r = await probe({ 'x-mode': 'foreign', ...v.headers });
    if (v.algMismatch) {
      mismatched.push(v.tcId);
      continue;
    }
    assert.ok(agrees(v.result, r.body === 'OK'), `${v.group} tcId ${v.tcId} (${v.comment}): expected ${v.result}, got ${r.body}`);
    n++;
  }
  assert.deepEqual(mismatched, [346, 350]);
  assert.ok(n > 300, `${n} vectors`);
});
