// JWT (JWS compact serialization) and JWKS parsing, with Envoy jwt_authn's status strings.
// Parsing only: signature checks and claim policy live with the caller. Pure: no host calls.
import { JsonValue, parseJsonAt, parseJson } from './json';
import { base64UrlDecode, base64UrlDecodeLenientRange } from './base64';
import { storeCodeUnits } from './strings';

/** Largest JWS accepted by parseJws (bytes of the compact form); parseJwt has no cap of its own. */
export const MAX_TOKEN_BYTES: i32 = 8192;

export enum JwtStatus {
  Ok,
  JwtMissed,
  JwtNotYetValid,
  JwtExpired,
  JwtBadFormat,
  JwtHeaderParseErrorBadBase64,
  JwtHeaderParseErrorBadJson,
  JwtHeaderBadAlg,
  JwtHeaderNotImplementedAlg,
  JwtHeaderBadKid,
  JwtPayloadParseErrorBadBase64,
  JwtPayloadParseErrorBadJson,
  JwtPayloadParseErrorIssNotString,
  JwtPayloadParseErrorSubNotString,
  JwtPayloadParseErrorIatNotInteger,
  JwtPayloadParseErrorNbfNotInteger,
  JwtPayloadParseErrorExpNotInteger,
  JwtPayloadParseErrorJtiNotString,
  JwtPayloadParseErrorAudNotString,
  JwtSignatureParseErrorBadBase64,
  JwtUnknownIssuer,
  JwtAudienceNotAllowed,
  JwtVerificationFail,
  JwtMultipleTokens,
  JwksParseError,
  JwksNoKeys,
  JwksBadKeys,
  JwksNoValidKeys,
  JwksKidAlgMismatch,
  JwksFetchFail,
}

/** Envoy's text for each status (the body of its 401 replies). */
export function jwtStatusString(s: JwtStatus): string {
  switch (s) {
    case JwtStatus.Ok:
      return 'OK';
    case JwtStatus.JwtMissed:
      return 'Jwt is missing';
    case JwtStatus.JwtNotYetValid:
      return 'Jwt not yet valid';
    case JwtStatus.JwtExpired:
      return 'Jwt is expired';
    case JwtStatus.JwtBadFormat:
      return 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections';
    case JwtStatus.JwtHeaderParseErrorBadBase64:
      return 'Jwt header is an invalid Base64url encoded';
    case JwtStatus.JwtHeaderParseErrorBadJson:
      return 'Jwt header is an invalid JSON';
    case JwtStatus.JwtHeaderBadAlg:
      return 'Jwt header [alg] field is required and must be a string';
    case JwtStatus.JwtHeaderNotImplementedAlg:
      return 'Jwt header [alg] is not supported';
    case JwtStatus.JwtHeaderBadKid:
      return 'Jwt header [kid] field is not a string';
    case JwtStatus.JwtPayloadParseErrorBadBase64:
      return 'Jwt payload is an invalid Base64url encoded';
    case JwtStatus.JwtPayloadParseErrorBadJson:
      return 'Jwt payload is an invalid JSON';
    case JwtStatus.JwtPayloadParseErrorIssNotString:
      return 'Jwt payload [iss] field is not a string';
    case JwtStatus.JwtPayloadParseErrorSubNotString:
      return 'Jwt payload [sub] field is not a string';
    case JwtStatus.JwtPayloadParseErrorIatNotInteger:
      return 'Jwt payload [iat] field is not an integer';
    case JwtStatus.JwtPayloadParseErrorNbfNotInteger:
      return 'Jwt payload [nbf] field is not an integer';
    case JwtStatus.JwtPayloadParseErrorExpNotInteger:
      return 'Jwt payload [exp] field is not an integer';
    case JwtStatus.JwtPayloadParseErrorJtiNotString:
      return 'Jwt payload [jti] field is not a string';
    case JwtStatus.JwtPayloadParseErrorAudNotString:
      return 'Jwt payload [aud] field is not a string or string list';
    case JwtStatus.JwtSignatureParseErrorBadBase64:
      return 'Jwt signature is an invalid Base64url encoded';
    case JwtStatus.JwtUnknownIssuer:
      return 'Jwt issuer is not configured';
    case JwtStatus.JwtAudienceNotAllowed:
      return 'Audiences in Jwt are not allowed';
    case JwtStatus.JwtVerificationFail:
      return 'Jwt verification fails';
    case JwtStatus.JwtMultipleTokens:
      return 'Found multiple Jwt tokens';
    case JwtStatus.JwksParseError:
      return 'Jwks is an invalid JSON';
    case JwtStatus.JwksNoKeys:
      return 'Jwks does not have [keys] field';
    case JwtStatus.JwksBadKeys:
      return '[keys] in Jwks is not an array';
    case JwtStatus.JwksNoValidKeys:
      return "Jwks doesn't have any valid public key";
    case JwtStatus.JwksKidAlgMismatch:
      return "Jwks doesn't have key to match kid or alg from Jwt";
    case JwtStatus.JwksFetchFail:
      return 'Jwks remote fetch is failed';
  }
  return '';
}

export enum JwtAlg {
  RS256,
  RS384,
  RS512,
  PS256,
  PS384,
  PS512,
  ES256,
  ES384,
  HS256,
  HS384,
  HS512,
  ES512,
  EdDSA,
  Unsupported,
}

/** Algorithms Envoy's parser knows (others answer "not supported"): ours plus HMAC, ES512 and EdDSA, which no JWKS key we keep can match. */
export function algFromName(name: string): JwtAlg {
  if (name == 'RS256') return JwtAlg.RS256;
  if (name == 'RS384') return JwtAlg.RS384;
  if (name == 'RS512') return JwtAlg.RS512;
  if (name == 'PS256') return JwtAlg.PS256;
  if (name == 'PS384') return JwtAlg.PS384;
  if (name == 'PS512') return JwtAlg.PS512;
  if (name == 'ES256') return JwtAlg.ES256;
  if (name == 'ES384') return JwtAlg.ES384;
  if (name == 'HS256') return JwtAlg.HS256;
  if (name == 'HS384') return JwtAlg.HS384;
  if (name == 'HS512') return JwtAlg.HS512;
  if (name == 'ES512') return JwtAlg.ES512;
  if (name == 'EdDSA') return JwtAlg.EdDSA;
  return JwtAlg.Unsupported;
}

export function algIsRsa(a: JwtAlg): bool {
  return a <= JwtAlg.PS512;
}
export function algIsPss(a: JwtAlg): bool {
  return a >= JwtAlg.PS256 && a <= JwtAlg.PS512;
}
export function algIsEc(a: JwtAlg): bool {
  return a == JwtAlg.ES256 || a == JwtAlg.ES384;
}

/** 256, 384 or 512: the SHA-2 size an algorithm uses. */
export function algHashBits(a: JwtAlg): i32 {
  switch (a) {
    case JwtAlg.RS384:
    case JwtAlg.PS384:
    case JwtAlg.ES384:
    case JwtAlg.HS384:
      return 384;
    case JwtAlg.RS512:
    case JwtAlg.PS512:
    case JwtAlg.HS512:
    case JwtAlg.ES512:
      return 512;
  }
  return 256;
}

export class Jwt {
  alg: JwtAlg = JwtAlg.Unsupported;
  algName: string = '';
  kid: string | null = null;
  header: JsonValue | null = null;
  payload: JsonValue | null = null;
  /** The payload segment as sent (base64url), for outputPayloadToHeader. */
  payloadB64: string = '';
  /** The payload segment decoded (the JSON text of a JWT's claims). */
  payloadBytes: ArrayBuffer = new ArrayBuffer(0);
  iss: string = '';
  sub: string = '';
  audiences: string[] = [];
  azp: string | null = null;
  /** 0 when absent. */
  exp: i64 = 0;
  nbf: i64 = 0;
  iat: i64 = 0;
  /** `crit` header entries (none is understood, so any makes the token invalid). */
  crit: string[] = [];
  /** ASCII bytes of `header.payload`. */
  signingInput: ArrayBuffer = new ArrayBuffer(0);
  signature: ArrayBuffer = new ArrayBuffer(0);
}

export class JwtParse {
  constructor(
    public jwt: Jwt | null,
    public status: JwtStatus,
  ) {}
}

function fail(s: JwtStatus): JwtParse {
  return new JwtParse(null, s);
}

function isB64UrlChars(token: string, start: i32, end: i32): bool {
  for (let i = start; i < end; i++) {
    const c = token.charCodeAt(i);
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f;
    if (!ok) return false;
  }
  return true;
}

function readTime(v: JsonValue | null): i64 {
  // -1: not an integer; 0: absent.
  if (v === null) return 0;
  if (!v.isNumber()) return -1;
  if (v.isInteger) return v.int < 0 ? -1 : v.int;
  // Envoy accepts whole doubles (e.g. 1.7e9).
  const n = v.number;
  if (n < 0 || n != Math.floor(n) || n > 9.2e18) return -1;
  return <i64>n;
}

/**
 * Parses a compact JWT as Envoy's JWT library does, in its check order: the token split at '.'
 * with empty parts skipped must give three parts; each is base64url as absl reads it
 * (base64UrlDecodeLenient); header, then payload claims, then signature. The signing input is
 * `header.payload` of those parts. Does not verify anything. The parts are read in place (no copy
 * of the token per part: a new token's parse was ~200k of Envoy's instructions per request).
 */
export function parseJwt(token: string): JwtParse {
  // The non-empty segments between dots, as ranges of the token (an empty one is skipped).
  const p = changetype<usize>(token);
  const n = token.length;
  const at = new StaticArray<i32>(6);
  let count = 0;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i == n || load<u16>(p + ((<usize>i) << 1)) == 0x2e) {
      if (i > start) {
        if (count < 3) {
          unchecked((at[count * 2] = start));
          unchecked((at[count * 2 + 1] = i));
        }
        count++;
      }
      start = i + 1;
    }
  }
  if (count != 3) return fail(JwtStatus.JwtBadFormat);
  const jwt = new Jwt();
  const hb = base64UrlDecodeLenientRange(token, at[0], at[1]);
  if (hb === null) return fail(JwtStatus.JwtHeaderParseErrorBadBase64);
  const st = parseHeader(jwt, hb);
  if (st != JwtStatus.Ok) return fail(st);
  jwt.payloadB64 = token.substring(at[2], at[3]);
  const pb = base64UrlDecodeLenientRange(token, at[2], at[3]);
  if (pb === null) return fail(JwtStatus.JwtPayloadParseErrorBadBase64);
  const cs = parseClaims(jwt, pb);
  if (cs != JwtStatus.Ok) return fail(cs);
  const sig = base64UrlDecodeLenientRange(token, at[4], at[5]);
  if (sig === null) return fail(JwtStatus.JwtSignatureParseErrorBadBase64);
  jwt.signature = sig;
  jwt.signingInput = signingInput(token, at[0], at[1], at[2], at[3]);
  return new JwtParse(jwt, JwtStatus.Ok);
}

/**
 * The bytes `header.payload` of a token's two first segments (ranges of its code units), as
 * String.UTF8.encode would give them: both decoded as base64url, so every code unit is ASCII.
 */
function signingInput(token: string, h0: i32, h1: i32, p0: i32, p1: i32): ArrayBuffer {
  const out = new ArrayBuffer(h1 - h0 + 1 + p1 - p0);
  const o = changetype<usize>(out);
  storeCodeUnits(token, h0, h1, o);
  store<u8>(o + <usize>(h1 - h0), 0x2e);
  storeCodeUnits(token, p0, p1, o + <usize>(h1 - h0 + 1));
  return out;
}

function parseHeader(jwt: Jwt, hb: ArrayBuffer): JwtStatus {
  const hj = parseJson(hb);
  if (hj.value === null || !(hj.value as JsonValue).isObject()) return JwtStatus.JwtHeaderParseErrorBadJson;
  const header = hj.value as JsonValue;
  jwt.header = header;
  const alg = header.get('alg');
  if (alg === null || !alg.isString()) return JwtStatus.JwtHeaderBadAlg;
  jwt.algName = alg.str;
  jwt.alg = algFromName(alg.str);
  if (jwt.alg == JwtAlg.Unsupported) return JwtStatus.JwtHeaderNotImplementedAlg;
  const kid = header.get('kid');
  if (kid !== null) {
    if (!kid.isString()) return JwtStatus.JwtHeaderBadKid;
    jwt.kid = kid.str;
  }
  // Envoy ignores `crit`; it is kept for the caller's stricter choice (a non-list counts as one entry).
  const crit = header.get('crit');
  if (crit !== null) {
    if (!crit.isArray()) jwt.crit.push('');
    else for (let i = 0; i < crit.items.length; i++) jwt.crit.push(crit.items[i].isString() ? crit.items[i].str : '');
  }
  return JwtStatus.Ok;
}

/** A compact JWS whose payload is any bytes (not read as JWT claims): header, signing input, signature. */
export function parseJws(token: string): JwtParse {
  return parseCompact(token);
}

function parseCompact(token: string): JwtParse {
  if (token.length > MAX_TOKEN_BYTES) return fail(JwtStatus.JwtVerificationFail);
  const d1 = token.indexOf('.');
  const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
  if (d1 < 0 || d2 < 0 || token.indexOf('.', d2 + 1) >= 0) return fail(JwtStatus.JwtBadFormat);
  const jwt = new Jwt();
  // Header.
  if (!isB64UrlChars(token, 0, d1)) return fail(JwtStatus.JwtHeaderParseErrorBadBase64);
  const hb = base64UrlDecode(token.substring(0, d1));
  if (hb === null || hb.byteLength == 0) return fail(JwtStatus.JwtHeaderParseErrorBadBase64);
  const hs = parseHeader(jwt, hb);
  if (hs != JwtStatus.Ok) return fail(hs);
  // Payload.
  if (!isB64UrlChars(token, d1 + 1, d2)) return fail(JwtStatus.JwtPayloadParseErrorBadBase64);
  jwt.payloadB64 = token.substring(d1 + 1, d2);
  const pb = base64UrlDecode(jwt.payloadB64);
  if (pb === null) return fail(JwtStatus.JwtPayloadParseErrorBadBase64);
  jwt.payloadBytes = pb;
  // Signature.
  if (!isB64UrlChars(token, d2 + 1, token.length)) return fail(JwtStatus.JwtSignatureParseErrorBadBase64);
  const sig = base64UrlDecode(token.substring(d2 + 1));
  if (sig === null || sig.byteLength == 0) return fail(JwtStatus.JwtSignatureParseErrorBadBase64);
  jwt.signature = sig;
  jwt.signingInput = String.UTF8.encode(token.substring(0, d2));
  return new JwtParse(jwt, JwtStatus.Ok);
}

function parseClaims(jwt: Jwt, pb: ArrayBuffer): JwtStatus {
  jwt.payloadBytes = pb;
  const pj = parseJsonAt(changetype<usize>(pb), pb.byteLength);
  if (pj.value === null || !(pj.value as JsonValue).isObject()) return JwtStatus.JwtPayloadParseErrorBadJson;
  const payload = pj.value as JsonValue;
  jwt.payload = payload;
  const iss = payload.get('iss');
  if (iss !== null) {
    if (!iss.isString()) return JwtStatus.JwtPayloadParseErrorIssNotString;
    jwt.iss = iss.str;
  }
  const sub = payload.get('sub');
  if (sub !== null) {
    if (!sub.isString()) return JwtStatus.JwtPayloadParseErrorSubNotString;
    jwt.sub = sub.str;
  }
  jwt.iat = readTime(payload.get('iat'));
  if (jwt.iat < 0) return JwtStatus.JwtPayloadParseErrorIatNotInteger;
  jwt.nbf = readTime(payload.get('nbf'));
  if (jwt.nbf < 0) return JwtStatus.JwtPayloadParseErrorNbfNotInteger;
  jwt.exp = readTime(payload.get('exp'));
  if (jwt.exp < 0) return JwtStatus.JwtPayloadParseErrorExpNotInteger;
  const jti = payload.get('jti');
  if (jti !== null && !jti.isString()) return JwtStatus.JwtPayloadParseErrorJtiNotString;
  const aud = payload.get('aud');
  if (aud !== null) {
    if (aud.isString()) jwt.audiences.push(aud.str);
    else if (aud.isArray()) {
      for (let i = 0; i < aud.items.length; i++) {
        const a = aud.items[i];
        if (!a.isString()) return JwtStatus.JwtPayloadParseErrorAudNotString;
        jwt.audiences.push(a.str);
      }
    } else return JwtStatus.JwtPayloadParseErrorAudNotString;
  }
  const azp = payload.get('azp');
  if (azp !== null && azp.isString()) jwt.azp = azp.str;
  return JwtStatus.Ok;
}

export const enum KeyType {
  RSA,
  EC,
}

/** A public key from a JWKS (RSA or EC P-256/P-384); other key types are skipped. */
export class Jwk {
  kty: KeyType = KeyType.RSA;
  kid: string | null = null;
  /** The key's `alg`, or null when it does not name one. */
  alg: string | null = null;
  /** EC curve: 'P-256' or 'P-384'. */
  crv: string = '';
  n: ArrayBuffer = new ArrayBuffer(0);
  e: ArrayBuffer = new ArrayBuffer(0);
  x: ArrayBuffer = new ArrayBuffer(0);
  y: ArrayBuffer = new ArrayBuffer(0);
  /** DER SubjectPublicKeyInfo, filled by the caller when it needs one (e.g. for Envoy's verify_signature). */
  spki: ArrayBuffer | null = null;

  /** Can this key check a token signed with `alg` (Envoy's kid/alg selection)? */
  fits(alg: JwtAlg): bool {
    if (this.kty == KeyType.RSA) {
      if (!algIsRsa(alg)) return false;
    } else {
      if (alg == JwtAlg.ES256 && this.crv != 'P-256') return false;
      if (alg == JwtAlg.ES384 && this.crv != 'P-384') return false;
      if (!algIsEc(alg)) return false;
    }
    const own = this.alg;
    return own === null || own == algName(alg);
  }
}

export function algName(a: JwtAlg): string {
  switch (a) {
    case JwtAlg.RS256:
      return 'RS256';
    case JwtAlg.RS384:
      return 'RS384';
    case JwtAlg.RS512:
      return 'RS512';
    case JwtAlg.PS256:
      return 'PS256';
    case JwtAlg.PS384:
      return 'PS384';
    case JwtAlg.PS512:
      return 'PS512';
    case JwtAlg.ES256:
      return 'ES256';
    case JwtAlg.ES384:
      return 'ES384';
    case JwtAlg.HS256:
      return 'HS256';
    case JwtAlg.HS384:
      return 'HS384';
    case JwtAlg.HS512:
      return 'HS512';
    case JwtAlg.ES512:
      return 'ES512';
    case JwtAlg.EdDSA:
      return 'EdDSA';
  }
  return '';
}

export class JwksParse {
  /** Why each refused key was dropped (`key <i> (kid <kid>): <reason>`), for the caller's log. */
  skipped: string[] = [];
  constructor(
    public keys: Jwk[],
    public status: JwtStatus,
  ) {}
}

/**
 * RSA key sizes accepted from a JWKS, for both signature paths (Envoy's verify_signature, which
 * BoringSSL would let take 1024 bits up to 16384 bits and 33-bit exponents, and our AssemblyScript
 * RSA): modulus 2048..4096 bits (RFC 7518 3.3's floor; the ceiling bounds a hostile JWKS's cost),
 * public exponent odd, >= 3 and < 2^32. Keys outside are dropped when the JWKS is parsed, so both
 * paths see the same keys.
 */
export const JWKS_RSA_MIN_BITS: i32 = 2048;
export const JWKS_RSA_MAX_BITS: i32 = 4096;
export const JWKS_RSA_MAX_EXPONENT_BYTES: i32 = 4;

/** Bits of a big-endian unsigned number (leading zero bytes already stripped). */
function bitLengthBE(b: ArrayBuffer): i32 {
  if (b.byteLength == 0) return 0;
  const top = <u32>load<u8>(changetype<usize>(b));
  return (b.byteLength - 1) * 8 + (32 - <i32>clz<u32>(top));
}

/** Null when the RSA key is acceptable, else why not. */
export function rsaKeyProblem(n: ArrayBuffer, e: ArrayBuffer): string | null {
  const bits = bitLengthBE(n);
  if (bits < JWKS_RSA_MIN_BITS || bits > JWKS_RSA_MAX_BITS) {
    return 'RSA modulus of ' + bits.toString() + ' bits, outside ' + JWKS_RSA_MIN_BITS.toString() + '..' + JWKS_RSA_MAX_BITS.toString();
  }
  const elen = e.byteLength;
  const p = changetype<usize>(e);
  if (elen > JWKS_RSA_MAX_EXPONENT_BYTES) return 'RSA exponent of ' + bitLengthBE(e).toString() + ' bits, over 32';
  if ((load<u8>(p + <usize>(elen - 1)) & 1) == 0) return 'RSA exponent is even';
  if (elen == 1 && load<u8>(p) < 3) return 'RSA exponent below 3';
  return null;
}

function b64Field(k: JsonValue, name: string): ArrayBuffer | null {
  const v = k.get(name);
  if (v === null || !v.isString()) return null;
  const d = base64UrlDecode(v.str);
  if (d === null || d.byteLength == 0) return null;
  return d;
}

/** Strips leading zero bytes (JWKS `n` sometimes carries one). */
function unsigned(b: ArrayBuffer): ArrayBuffer {
  const p = changetype<usize>(b);
  let i = 0;
  while (i < b.byteLength - 1 && load<u8>(p + i) == 0) i++;
  return i == 0 ? b : b.slice(i);
}

/** Parses a JWKS document. Keys that are malformed or of another type are skipped, as Envoy does. */
export function parseJwks(bytes: ArrayBuffer): JwksParse {
  const r = parseJson(bytes);
  if (r.value === null || !(r.value as JsonValue).isObject()) return new JwksParse([], JwtStatus.JwksParseError);
  const root = r.value as JsonValue;
  const keysV = root.get('keys');
  if (keysV === null) return new JwksParse([], JwtStatus.JwksNoKeys);
  if (!keysV.isArray()) return new JwksParse([], JwtStatus.JwksBadKeys);
  const keys = new Array<Jwk>();
  const skipped = new Array<string>();
  for (let i = 0; i < keysV.items.length; i++) {
    const k = keysV.items[i];
    if (!k.isObject()) continue;
    const kty = k.get('kty');
    if (kty === null || !kty.isString()) continue;
    const jwk = new Jwk();
    const kid = k.get('kid');
    if (kid !== null) {
      if (!kid.isString()) continue;
      jwk.kid = kid.str;
    }
    const alg = k.get('alg');
    if (alg !== null) {
      if (!alg.isString()) continue;
      jwk.alg = alg.str;
    }
    const use = k.get('use');
    if (use !== null && (!use.isString() || use.str != 'sig')) continue;
    // key_ops, when present, must allow "verify" (RFC 7517 4.3).
    const ops = k.get('key_ops');
    if (ops !== null) {
      if (!ops.isArray()) continue;
      let verify = false;
      for (let j = 0; j < ops.items.length; j++) if (ops.items[j].isString() && ops.items[j].str == 'verify') verify = true;
      if (!verify) continue;
    }
    if (kty.str == 'RSA') {
      const own = jwk.alg;
      if (own !== null && !(own.startsWith('RS') || own.startsWith('PS'))) continue;
      const n = b64Field(k, 'n');
      const e = b64Field(k, 'e');
      if (n === null || e === null) continue;
      jwk.kty = KeyType.RSA;
      jwk.n = unsigned(n);
      jwk.e = unsigned(e);
      const problem = rsaKeyProblem(jwk.n, jwk.e);
      if (problem !== null) {
        const kidName = jwk.kid;
        skipped.push('key ' + i.toString() + (kidName !== null ? ' (kid ' + kidName + ')' : '') + ': ' + problem);
        continue;
      }
    } else if (kty.str == 'EC') {
      const own = jwk.alg;
      if (own !== null && !own.startsWith('ES')) continue;
      const crv = k.get('crv');
      if (crv === null || !crv.isString()) continue;
      const size = crv.str == 'P-256' ? 32 : crv.str == 'P-384' ? 48 : 0;
      if (size == 0) continue;
      if (own !== null && ((own == 'ES256' && size != 32) || (own == 'ES384' && size != 48) || (own != 'ES256' && own != 'ES384')))
        continue;
      const x = b64Field(k, 'x');
      const y = b64Field(k, 'y');
      if (x === null || y === null || x.byteLength != size || y.byteLength != size) continue;
      jwk.kty = KeyType.EC;
      jwk.crv = crv.str;
      jwk.x = x;
      jwk.y = y;
    } else continue;
    keys.push(jwk);
  }
  const result = new JwksParse(keys, keys.length == 0 ? JwtStatus.JwksNoValidKeys : JwtStatus.Ok);
  result.skipped = skipped;
  return result;
}
