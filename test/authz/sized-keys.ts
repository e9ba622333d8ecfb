// RSA keys of sizes around the authz filter's JWKS key-size rule, and RS256 tokens they sign.
// Keys outside the rule (fixtures/rsa-sizes/*.pem) were made with `openssl genpkey -algorithm RSA
// -pkeyopt rsa_keygen_bits:N [-pkeyopt rsa_keygen_pubexp:4294967297]`; the ones at its bounds are
// generated per run. jose refuses to sign with RSA under 2048 bits, so tokens are signed with node:crypto.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../harness/fixtures.ts';
import { rs256Jwt } from '../../host/demo/jwt.ts';
import { ISSUER } from '../../host/fixtures/jwt.ts';

export interface SizedKey {
  kid: string;
  priv: KeyObject;
  jwk: Record<string, unknown>;
  accepted: boolean;
  reason: string;
}

function sized(kid: string, priv: KeyObject, accepted: boolean, reason = ''): SizedKey {
  const jwk = { ...createPublicKey(priv).export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return { kid, priv, jwk, accepted, reason };
}

const pem = (name: string) => createPrivateKey(readFileSync(join(repoRoot, 'test/authz/fixtures/rsa-sizes', name), 'utf8'));

/** The vendored keys outside the rule, and generated ones at its bounds. */
export function sizedKeys(): SizedKey[] {
  return [
    sized('rsa-1024', pem('rsa-1024.pem'), false, 'RSA modulus of 1024 bits, outside 2048..4096'),
    sized('rsa-4104', pem('rsa-4104.pem'), false, 'RSA modulus of 4104 bits, outside 2048..4096'),
    sized('rsa-2048-e33', pem('rsa-2048-e33.pem'), false, 'RSA exponent of 33 bits, over 32'),
    sized('rsa-2048', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, true),
    sized('rsa-4096', generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey, true),
    sized('rsa-2048-e32', generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0xffffffff }).privateKey, true),
  ];
}

export function rs256(key: SizedKey, nowSec: number, sub = 'user-1', iss = ISSUER): string {
  return rs256Jwt({ alg: 'RS256', kid: key.kid, typ: 'JWT' }, { iss, sub, iat: nowSec, exp: nowSec + 3600 }, key.priv);
}
