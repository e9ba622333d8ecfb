// Signature checks in our own AssemblyScript crypto (assembly/lib/crypto), for hosts without
// Envoy's verify_signature and for RSA-PSS, which Envoy's function does not do.
import { Jwk, Jwt, JwtAlg, KeyType, algHashBits, algIsPss, algIsRsa } from '../../assembly/lib/jwt';
import { Curve, HashAlg, ecdsaVerify, rsaVerifyPkcs1v15, rsaVerifyPss } from '../../assembly/lib/crypto';

export function hashOf(alg: JwtAlg): HashAlg {
  const bits = algHashBits(alg);
  return bits == 256 ? HashAlg.SHA256 : bits == 384 ? HashAlg.SHA384 : HashAlg.SHA512;
}

export function softwareVerify(jwt: Jwt, key: Jwk): bool {
  const alg = jwt.alg;
  if (algIsRsa(alg)) {
    if (key.kty != KeyType.RSA) return false;
    if (algIsPss(alg)) return rsaVerifyPss(hashOf(alg), key.n, key.e, jwt.signingInput, jwt.signature);
    return rsaVerifyPkcs1v15(hashOf(alg), key.n, key.e, jwt.signingInput, jwt.signature);
  }
  if (key.kty != KeyType.EC) return false;
  if (alg == JwtAlg.ES256) return ecdsaVerify(Curve.P256, key.x, key.y, jwt.signingInput, jwt.signature, HashAlg.SHA256);
  if (alg == JwtAlg.ES384) return ecdsaVerify(Curve.P384, key.x, key.y, jwt.signingInput, jwt.signature, HashAlg.SHA384);
  return false;
}
