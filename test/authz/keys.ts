// Test keys and tokens made with jose (real RSA and EC keys, generated per run), and the seed
// Istio resources converted from YAML for the authz filter's configuration.
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload, type CryptoKey } from 'jose';

export const ISSUER = 'https://accounts.google.com';

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function makeKey(alg: string, kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 } as never);
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

export function jwks(...keys: TestKey[]): string {
  return JSON.stringify({ keys: keys.map((k) => k.jwk) });
}

export interface TokenOptions {
  payload?: JWTPayload & Record<string, unknown>;
  header?: Record<string, unknown>;
  expSeconds?: number;
  nowSec: number;
}

export async function token(key: TestKey, opts: TokenOptions): Promise<string> {
  const payload = { iss: ISSUER, sub: 'user-1', ...opts.payload };
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...opts.header });
  if (payload.iat === undefined) jwt.setIssuedAt(opts.nowSec);
  if (payload.exp === undefined) jwt.setExpirationTime(opts.nowSec + (opts.expSeconds ?? 3600));
  return jwt.sign(key.privateKey);
}

export const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** A token built by hand (no signature check by jose): header and payload as given. */
export function rawToken(header: unknown, payload: unknown, signature = 'c2ln'): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${signature}`;
}

export { istioSpec } from '../istio.ts';
import { istioSpec } from '../istio.ts';

/** Seed AuthorizationPolicy as the filter's `policies` entry. */
export function seedPolicy(): Record<string, unknown> {
  return { name: 'httpbin', ...istioSpec('authorizationpolicy-httpbin.yaml') };
}

/** The seed rules' policy for a plaintext client: a Google-issued JWT, GET /info* or POST /data. */
export function jwtOnlyPolicy(): Record<string, unknown> {
  return {
    name: 'jwt-only',
    action: 'ALLOW',
    rules: [
      {
        from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }],
        to: [{ operation: { methods: ['GET'], paths: ['/info*'] } }, { operation: { methods: ['POST'], paths: ['/data'] } }],
        when: [{ key: 'request.auth.claims[iss]', values: [ISSUER] }],
      },
    ],
  };
}

/** Seed RequestAuthentication rules, jwksUri served by cluster `jwks`. */
export function seedJwtRules(): Record<string, unknown>[] {
  const rules = istioSpec('requestauthentication-httpbin.yaml').jwtRules as Record<string, unknown>[];
  return rules.map((r) => ({ ...r, asmesh: { jwksCluster: 'jwks' } }));
}
