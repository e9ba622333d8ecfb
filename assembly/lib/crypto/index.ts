// asmesh crypto library (pure AssemblyScript, no host calls): SHA-2, big integers, RSA
// (PKCS#1 v1.5, PSS) and ECDSA (P-256, P-384) verification, DER encoders for Envoy's
// `verify_signature` foreign function.
export * from './sha2';
export * from './bigint';
export * from './rsa';
export * from './ecdsa';
export * from './der';
