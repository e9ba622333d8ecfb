// The demo's token issuer: an RSA key made at start, its JWKS, and RS256 tokens (node:crypto only).
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export class Issuer {
  readonly privateKey: KeyObject;
  readonly jwks: string;
  constructor(readonly iss: string, readonly kid = 'asmesh-demo') {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.jwks = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] });
  }

  /** An RS256 token; `expiresIn` seconds from now (negative: already expired). */
  token(claims: Record<string, unknown> = {}, expiresIn = 3600, key: KeyObject = this.privateKey): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: this.kid }));
    const payload = b64url(JSON.stringify({ iss: this.iss, sub: 'demo-user', iat: now, exp: now + expiresIn, ...claims }));
    const sig = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), key);
    return `${header}.${payload}.${b64url(sig)}`;
  }

  /** A token signed by some other key, with our kid: a forgery. */
  forged(): string {
    const other = createPrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    return this.token({}, 3600, other);
  }
}
