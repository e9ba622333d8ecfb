// The RequestAuthentication jwtRules fields authz honours: its configure check and translate's Istio check both
// read this list (plain TypeScript, so the CLI imports it too).

export const JWT_RULE_FIELDS: string[] = [
  'issuer',
  'audiences',
  'jwks',
  'jwksUri',
  'fromHeaders',
  'fromParams',
  'fromCookies',
  'forwardOriginalToken',
  'outputClaimToHeaders',
  'outputPayloadToHeader',
  'timeout',
  'spaceDelimitedClaims',
  'asmesh',
];
