// Signature checks: Envoy's `verify_signature` foreign function first (RSA PKCS#1 v1.5 and ECDSA,
// DER key and signature), our AssemblyScript crypto when the host lacks it, and always for PS*.
import { SignatureCheck, verifySignature } from '../../assembly/proxy';
import { Jwk, Jwt, KeyType, algHashBits, algIsPss, algIsEc, JwtAlg } from '../../assembly/lib/jwt';
import { SignatureChecker } from './authn';
import { Curve, ecSpkiDer, ecdsaP1363ToDer, rsaSpkiDer } from '../../assembly/lib/crypto';
import { softwareVerify } from './soft';

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
    const check = verifySignature(hash, spki as ArrayBuffer, sig as ArrayBuffer, jwt.signingInput);
    if (check == SignatureCheck.Unavailable) {
      this.foreign = 2;
      return this.soft(jwt, key);
    }
    this.foreign = 1;
    this.foreignCalls++;
    return check == SignatureCheck.Valid;
  }

  soft(jwt: Jwt, key: Jwk): bool {
    this.softwareCalls++;
    return softwareVerify(jwt, key);
  }
}
