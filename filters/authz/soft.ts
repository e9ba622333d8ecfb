// Signature checks in our own AssemblyScript crypto (assembly/lib/crypto), for hosts without
// Envoy's verify_signature and for RSA-PSS, which Envoy's function does not do.
import { Jwk, Jwt } from '../../assembly/lib/jwt';

export function softwareVerify(jwt: Jwt, key: Jwk): bool {
  // Wired to assembly/lib/crypto once its RSA/ECDSA verifiers land; until then nothing verifies.
  return false;
}
