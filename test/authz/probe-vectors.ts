// The Wycheproof vectors the verify probe (host/fixtures/verify-probe.ts) is sent, in the harness
// (vectors.test.ts) and in Envoy (envoy-vectors.test.ts): one set of probe headers per vector and
// its expected result. `x-mode` (foreign or software) is the caller's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../harness/fixtures.ts';

export const load = (path: string): any => JSON.parse(readFileSync(join(repoRoot, path), 'utf8'));
const b64u = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

/** Wycheproof "acceptable" results may go either way; valid must verify, invalid must not. */
export function agrees(result: string, ok: boolean): boolean {
  return result === 'acceptable' || (result === 'valid') === ok;
}

export interface ProbeVector {
  headers: Record<string, string>;
  result: string;
  tcId: number;
  comment: string;
}

/** RSA PKCS#1 v1.5 2048-bit SHA-256 (RS256): key as JWK n/e. */
export function rsaVectors(): ProbeVector[] {
  const out: ProbeVector[] = [];
  for (const group of load('test/vectors/wycheproof/rsa_signature_2048_sha256_test.json').testGroups) {
    const jwk = group.keyJwk ?? {};
    const key = { 'x-n': jwk.n ?? b64u(group.publicKey.modulus.replace(/^00/, '')), 'x-e': jwk.e ?? b64u(group.publicKey.publicExponent) };
    for (const t of group.tests)
      out.push({
        headers: { 'x-alg': 'RS256', ...key, 'x-msg': b64u(t.msg), 'x-sig': b64u(t.sig) },
        result: t.result,
        tcId: t.tcId,
        comment: t.comment,
      });
  }
  return out;
}

/** ECDSA P-256 SHA-256 with P1363 signatures (ES256): key as JWK x/y. */
export function ecdsaVectors(): ProbeVector[] {
  const out: ProbeVector[] = [];
  for (const group of load('test/vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json').testGroups) {
    const key = {
      'x-crv': 'P-256',
      'x-x': b64u(group.publicKey.wx.replace(/^00/, '').padStart(64, '0')),
      'x-y': b64u(group.publicKey.wy.replace(/^00/, '').padStart(64, '0')),
    };
    for (const t of group.tests)
      out.push({
        headers: { 'x-alg': 'ES256', ...key, 'x-msg': b64u(t.msg), 'x-sig': b64u(t.sig) },
        result: t.result,
        tcId: t.tcId,
        comment: t.comment,
      });
  }
  return out;
}

export interface JwsVector extends ProbeVector {
  group: string;
  /** A valid token whose header alg differs from its JWK's own `alg` (the filter, like Envoy, refuses the key). */
  algMismatch: boolean;
}

/**
 * JSON Web Signature tests with a public key (RS*, PS*, ES256): the token and a JWKS of that key.
 * Skipped: HMAC groups (only a secret key), ES512/P-521 (not among the filter's algorithms), JSON serializations.
 */
export function jwsVectors(): { vectors: JwsVector[]; skipped: string[] } {
  const vectors: JwsVector[] = [];
  const skipped: string[] = [];
  for (const group of load('test/authz/vectors/json_web_signature_test.json').testGroups) {
    const pub = group.public;
    if (pub === undefined || pub.alg === 'ES512' || pub.crv === 'P-521') {
      skipped.push(`${group.comment}:${group.tests.length}`);
      continue;
    }
    for (const t of group.tests) {
      if (typeof t.jws !== 'string') {
        skipped.push(`${group.comment}#${t.tcId} (JSON serialization)`);
        continue;
      }
      let alg: unknown;
      try {
        alg = JSON.parse(Buffer.from(t.jws.split('.')[0], 'base64url').toString()).alg;
      } catch {
        alg = undefined;
      }
      vectors.push({
        headers: { 'x-jws': t.jws, 'x-jwks': JSON.stringify({ keys: [pub] }) },
        result: t.result,
        tcId: t.tcId,
        comment: t.comment,
        group: group.comment,
        algMismatch: t.result === 'valid' && pub.alg !== undefined && alg !== pub.alg,
      });
    }
  }
  return { vectors, skipped };
}
