// Signature checks: Envoy's `verify_signature` foreign function first (RSA PKCS#1 v1.5 and ECDSA,
// DER key and signature), our AssemblyScript crypto when the host lacks it, and always for PS*.
import { callForeignFunction, WasmResult } from '../../assembly/proxy';
import { Jwk, Jwt, KeyType, algHashBits, algIsPss, algIsEc, JwtAlg } from '../../assembly/lib/jwt';
import { SignatureChecker } from './authn';
import { Curve, ecSpkiDer, ecdsaP1363ToDer, rsaSpkiDer } from '../../assembly/lib/crypto';
import { softwareVerify } from './soft';

function pushVarint(out: u8[], v: u32): void {
  while (v >= 0x80) { out.push(<u8>((v & 0x7f) | 0x80)); v >>= 7; }
  out.push(<u8>v);
}

function pushField(out: u8[], field: u32, data: ArrayBuffer): void {
  pushVarint(out, (field << 3) | 2);
  pushVarint(out, <u32>data.byteLength);
  const p = changetype<usize>(data);
  for (let i = 0; i < data.byteLength; i++) out.push(load<u8>(p + <usize>i));
}

/** VerifySignatureArguments { 1 hash_function, 2 public_key, 3 signature, 4 text }. */
export function encodeVerifyArgs(hash: string, key: ArrayBuffer, sig: ArrayBuffer, text: ArrayBuffer): ArrayBuffer {
  const out = new Array<u8>();
  pushField(out, 1, String.UTF8.encode(hash));
  pushField(out, 2, key);
  pushField(out, 3, sig);
  pushField(out, 4, text);
  const buf = new ArrayBuffer(out.length);
  for (let i = 0; i < out.length; i++) store<u8>(changetype<usize>(buf) + <usize>i, out[i]);
  return buf;
}

/** VerifySignatureResult { 1 result (bool) , 2 error }: true only for result = 1. */
export function decodeVerifyResult(data: ArrayBuffer): bool {
  const p = changetype<usize>(data);
  const n = data.byteLength;
  let i = 0;
  let ok = false;
  while (i < n) {
    const tag = load<u8>(p + <usize>i); i++;
    const wire = tag & 7;
    if (wire == 0) {
      let v: u64 = 0; let shift: u64 = 0;
      while (i < n) {
        const b = load<u8>(p + <usize>i); i++;
        v |= (<u64>(b & 0x7f)) << shift; shift += 7;
        if ((b & 0x80) == 0) break;
        if (shift > 63) return false;
      }
      if ((tag >> 3) == 1) ok = v == 1;
    } else if (wire == 2) {
      let len: i32 = 0; let shift: i32 = 0;
      while (i < n) {
        const b = load<u8>(p + <usize>i); i++;
        len |= (<i32>(b & 0x7f)) << shift; shift += 7;
        if ((b & 0x80) == 0) break;
        if (shift > 28) return false;
      }
      i += len;
    } else return false;
  }
  return ok;
}

export class HostSignatureChecker extends SignatureChecker {
  /** 0 unknown, 1 the host has verify_signature, 2 it does not. */
  foreign: i32 = 0;
  foreignCalls: i64 = 0;
  softwareCalls: i64 = 0;
  /** Skip the host even if it has the function (for benchmarks of the fallback). */
  forceSoftware: bool = false;

  check(jwt: Jwt, key: Jwk): bool {
    const alg = jwt.alg;
    if (algIsPss(alg) || this.foreign == 2 || this.forceSoftware) return this.soft(jwt, key);
    if (algIsEc(alg)) {
      const size = alg == JwtAlg.ES256 ? 64 : 96;
      if (jwt.signature.byteLength != size) return false;
    }
    let spki = key.spki;
    if (spki === null) {
      spki = key.kty == KeyType.RSA ? rsaSpkiDer(key.n, key.e) : ecSpkiDer(key.crv == 'P-384' ? Curve.P384 : Curve.P256, key.x, key.y);
      if (spki === null) return false;
      key.spki = spki;
    }
    const sig = algIsEc(alg) ? ecdsaP1363ToDer(jwt.signature) : jwt.signature;
    if (sig === null) return false;
    const hash = 'sha' + algHashBits(alg).toString();
    const r = callForeignFunction('verify_signature', encodeVerifyArgs(hash, spki as ArrayBuffer, sig as ArrayBuffer, jwt.signingInput));
    if (r.status == WasmResult.NotFound) {
      this.foreign = 2;
      return this.soft(jwt, key);
    }
    this.foreign = 1;
    this.foreignCalls++;
    if (!r.ok) return false;
    return decodeVerifyResult(r.data);
  }

  soft(jwt: Jwt, key: Jwk): bool {
    this.softwareCalls++;
    return softwareVerify(jwt, key);
  }
}
