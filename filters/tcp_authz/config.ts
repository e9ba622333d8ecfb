// The TCP authz filter's configuration: the authz filter's JSON (filters/authz/config.ts: policies,
// asmesh.trustDomain / trustDomainAliases; jwtRules are checked but mean nothing on TCP), parsed by
// authz's parser, then the policies pilot would build for a TCP chain (policy.ts tcpPolicies).
import { ConfigResult } from '../../assembly/lib/config';
import { AuthzConfig, parseAuthzConfig } from '../authz/config';
import { tcpPolicies } from '../authz/policy';

export function parseTcpAuthzConfig(bytes: ArrayBuffer): ConfigResult<AuthzConfig> {
  const parsed = parseAuthzConfig(bytes);
  if (parsed.config === null) return parsed;
  const config = parsed.config as AuthzConfig;
  config.policies = tcpPolicies(config.policies);
  return new ConfigResult<AuthzConfig>(config, '');
}
