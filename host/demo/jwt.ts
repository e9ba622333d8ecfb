// The demo's token issuer: an RSA key made at start, its JWKS, and RS256 tokens (node:crypto only).
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A compact RS256 JWS of `header` and `payload`, signed with an RSA private key. */
export function rs256Jwt(header: object, payload: object, key: KeyObject): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(sign('RSA-SHA256', Buffer.from(input), key))}`;
}

export class Issuer {
  readonly privateKey: KeyObject;
  readonly jwks: string;
  constructor(
    readonly iss: string,
    readonly kid = 'asmesh-demo',
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.jwks = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] });
  }

  /** An RS256 token; `expiresIn` seconds from now (negative: already expired). */
  token(claims: Record<string, unknown> = {}, expiresIn = 3600, key: KeyObject = this.privateKey): string {
    const now = Math.floor(Date.now() / 1000);
    return rs256Jwt(
      { alg: 'RS256', typ: 'JWT', kid: this.kid },
      { iss: this.iss, sub: 'demo-user', iat: now, exp: now + expiresIn, ...claims },
      key,
    );
  }

  /** A token signed by some other key, with our kid: a forgery. */
  forged(): string {
    const other = createPrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    return this.token({}, 3600, other);
  }
}
