// One RSA key-size rule for both signature paths (Envoy's verify_signature and our AssemblyScript
// RSA): JWKS keys with a modulus outside 2048..4096 bits or an exponent over 32 bits are dropped
// when the JWKS is parsed, with a log line, so a token they signed gets the same 401 on both paths
// (without the rule, BoringSSL/node:crypto would verify these tokens and our RSA would refuse them).
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPlugin } from '../../host/harness/index.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { ISSUER } from '../../host/fixtures/jwt.ts';
import { rs256, sizedKeys } from './sized-keys.ts';

const wasm = join(repoRoot, 'build/authz.wasm');
const NOW = Math.floor(Date.UTC(2026, 0, 1) / 1000);

const keys = sizedKeys();
const jwksDoc = JSON.stringify({ keys: keys.map((k) => k.jwk) });

for (const host of [true, false]) {
  const path = host ? "Envoy's verify_signature (harness: node:crypto)" : 'AssemblyScript RSA';
  test(`key sizes, ${path}: keys outside 2048..4096 bits / 32-bit exponents are dropped with a log line; their tokens get 401`, async () => {
    const p = await loadPlugin(wasm, {
      config: { jwtRules: [{ issuer: ISSUER, jwks: jwksDoc }] },
      nowMs: NOW * 1000,
      foreignFunctions: { verifySignature: host },
    });
    assert.deepEqual(
      p.logsAt('warn'),
      keys
        .map((k, i) => [k, i] as const)
        .filter(([k]) => !k.accepted)
        .map(([k, i]) => `authz: jwks of issuer ${ISSUER}: dropped key ${i} (kid ${k.kid}): ${k.reason}`),
    );
    for (const k of keys) {
      const t = rs256(k, NOW);
      const [input, sig] = [t.slice(0, t.lastIndexOf('.')), t.slice(t.lastIndexOf('.') + 1)];
      assert.ok(
        verify('sha256', Buffer.from(input), createPublicKey(k.priv), Buffer.from(sig, 'base64url')),
        `${k.kid}: the token is genuine`,
      );
      const r = await p.http({ headers: { ':method': 'GET', ':path': '/', ':authority': 'x', authorization: `Bearer ${t}` } });
      if (k.accepted) assert.equal(r.response.status, 200, `${k.kid}: ${r.response.bodyText}`);
      else {
        assert.equal(r.response.status, 401, k.kid);
        assert.equal(r.response.bodyText, "Jwks doesn't have key to match kid or alg from Jwt", k.kid);
      }
    }
  });
}

test('key sizes: an inline JWKS with only refused keys fails configure, naming each reason', async () => {
  const small = keys.filter((k) => !k.accepted);
  await assert.rejects(
    loadPlugin(wasm, { config: { jwtRules: [{ issuer: ISSUER, jwks: JSON.stringify({ keys: small.map((k) => k.jwk) }) }] } }),
    (e: Error) => {
      assert.match(
        e.message,
        new RegExp(
          `authz: config \\$\\.jwtRules\\[0\\]\\.jwks: Jwks doesn't have any valid public key \\(${small.map((k, i) => `key ${i} \\(kid ${k.kid}\\): ${k.reason}`).join('; ')}\\)`,
        ),
      );
      return true;
    },
  );
});

test('key sizes: a fetched JWKS (jwksUri) drops the same keys, with a log line', async () => {
  const p = await loadPlugin(wasm, {
    config: { jwtRules: [{ issuer: ISSUER, jwksUri: 'https://keys.example/jwks.json', asmesh: { jwksCluster: 'jwks' } }] },
    nowMs: NOW * 1000,
    clusters: ['jwks'],
  });
  await p.tick(1);
  const [call] = p.pendingHttpCalls();
  await p.respondHttpCall(call!.token, { status: 200, body: jwksDoc });
  const dropped = p.logsAt('warn').filter((l) => l.includes('dropped'));
  assert.equal(dropped.length, 3);
  assert.equal(
    dropped[0],
    'authz: jwks https://keys.example/jwks.json: dropped key 0 (kid rsa-1024): RSA modulus of 1024 bits, outside 2048..4096',
  );
  assert.ok(p.logsAt('info').includes('authz: jwks https://keys.example/jwks.json: 3 keys'));
  assert.equal(
    (await p.http({ headers: { ':method': 'GET', ':path': '/', ':authority': 'x', authorization: `Bearer ${rs256(keys[0]!, NOW)}` } }))
      .response.status,
    401,
  );
  assert.equal(
    (await p.http({ headers: { ':method': 'GET', ':path': '/', ':authority': 'x', authorization: `Bearer ${rs256(keys[3]!, NOW)}` } }))
      .response.status,
    200,
  );
});
