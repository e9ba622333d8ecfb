// The authz filter's configuration:
//   { "jwtRules": [ Istio JWTRule... ], "policies": [ { "name": ..., ...AuthorizationPolicy spec } ] }
// JWTRule extension: "asmesh": { "jwksCluster", "jwksRefreshSeconds", "jwksRetrySeconds",
// "kidRefetchSeconds", "jwksTimeoutMs" } (the cluster defaults to the jwksUri's authority). Parsed and validated once;
// pure: no host calls.
import { JsonKind, JsonValue, indexPath, memberPath } from '../../assembly/lib/json';
import { ConfigChecker } from '../../assembly/lib/config';
import { parseDurationMs } from '../../assembly/lib/duration';
import { Jwk, JwtStatus, jwtStatusString, parseJwks } from '../../assembly/lib/jwt';
import { Cidr, StringMatch } from './match';
import { Action, Condition, ConditionKey, IpField, Operation, Policy, Rule, Source, StringField } from './policy';

export class HeaderLocation {
  constructor(public name: string, public prefix: string) {}
}

export class ClaimToHeader {
  constructor(public header: string, public claim: string) {}
}

export class JwtRule {
  issuer: string = '';
  audiences: string[] = [];
  headers: HeaderLocation[] = [];
  params: string[] = [];
  forwardOriginalToken: bool = false;
  outputPayloadToHeader: string = '';
  claimToHeaders: ClaimToHeader[] = [];
  /** Keys given inline (`jwks`); null when the rule uses `jwksUri`. */
  inlineKeys: Jwk[] | null = null;
  /** Inline keys dropped by the key-size rule (parseJwks), for onConfigure's log. */
  inlineSkipped: string[] = [];
  jwksUri: string = '';
  jwksCluster: string = '';
  jwksAuthority: string = '';
  jwksPath: string = '/';
  jwksRefreshMs: u32 = 600_000;
  /** Time between retries after a failed fetch. */
  jwksRetryMs: u32 = 30_000;
  /** Least time since the last fetch before an unknown kid may trigger another one. */
  kidRefetchMs: u32 = 30_000;
  jwksTimeoutMs: u32 = 5_000;
  constructor(public index: i32) {}
}

export class AuthzConfig {
  jwtRules: JwtRule[] = [];
  policies: Policy[] = [];
  // What the policies read, so the adapter collects only that (each property read is a host call).
  needsHeaders: bool = false;
  /** source.address: ipBlocks, remoteIpBlocks, source.ip, remote.ip. */
  needsSourceIp: bool = false;
  /** destination.address: destination.ip. */
  needsDestIp: bool = false;
  /** destination.port: ports, destination.port. */
  needsDestPort: bool = false;
  /** connection.requested_server_name: connection.sni. */
  needsSni: bool = false;
  /** The peer certificate's URI SAN: principals, namespaces, source.principal, source.namespace. */
  needsPeer: bool = false;
}

export class AuthzConfigResult {
  constructor(public config: AuthzConfig | null, public error: string) {}
}

const RULE_FIELDS = ['issuer', 'audiences', 'jwks', 'jwksUri', 'fromHeaders', 'fromParams', 'forwardOriginalToken',
  'outputClaimToHeaders', 'outputPayloadToHeader', 'timeout', 'asmesh'];
const POLICY_FIELDS = ['name', 'action', 'rules', 'selector', 'targetRef', 'targetRefs', 'provider'];
const SOURCE_FIELDS = ['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces',
  'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts'];
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'];

export function parseAuthzConfig(bytes: ArrayBuffer): AuthzConfigResult {
  const c = new ConfigChecker();
  const root = c.parse(bytes);
  if (root === null || !c.object(root, ['jwtRules', 'policies'])) return new AuthzConfigResult(null, c.error);
  const config = new AuthzConfig();
  const rules = c.items(root, 'jwtRules');
  for (let i = 0; i < rules.length && !c.failed; i++) {
    const r = parseJwtRule(c, rules[i], i);
    if (r !== null) {
      for (let j = 0; j < config.jwtRules.length; j++) {
        if (config.jwtRules[j].issuer == r.issuer) { c.fail(memberPath(rules[i].path, 'issuer'), 'issuer "' + r.issuer + '" is already used by $.jwtRules[' + j.toString() + ']'); }
      }
      config.jwtRules.push(r);
    }
  }
  const policies = c.items(root, 'policies');
  for (let i = 0; i < policies.length && !c.failed; i++) {
    const p = parsePolicy(c, policies[i], config);
    if (p !== null) config.policies.push(p);
  }
  if (c.failed) return new AuthzConfigResult(null, c.error);
  return new AuthzConfigResult(config, '');
}

function parseJwtRule(c: ConfigChecker, v: JsonValue, index: i32): JwtRule | null {
  if (!c.object(v, RULE_FIELDS)) return null;
  const r = new JwtRule(index);
  r.issuer = c.requiredStr(v, 'issuer');
  r.audiences = c.strings(v, 'audiences');
  r.forwardOriginalToken = c.bool(v, 'forwardOriginalToken', false);
  r.outputPayloadToHeader = c.str(v, 'outputPayloadToHeader').toLowerCase();
  const hs = c.items(v, 'fromHeaders');
  for (let i = 0; i < hs.length && !c.failed; i++) {
    if (!c.object(hs[i], ['name', 'prefix'])) return null;
    const name = c.requiredStr(hs[i], 'name');
    r.headers.push(new HeaderLocation(name.toLowerCase(), c.str(hs[i], 'prefix')));
  }
  const ps = c.strings(v, 'fromParams');
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].length == 0) { c.fail(indexPath(memberPath(v.path, 'fromParams'), i), 'must not be empty'); return null; }
    r.params.push(ps[i]);
  }
  if (r.headers.length == 0 && r.params.length == 0) {
    r.headers.push(new HeaderLocation('authorization', 'Bearer '));
    r.params.push('access_token');
  }
  const oc = c.items(v, 'outputClaimToHeaders');
  for (let i = 0; i < oc.length && !c.failed; i++) {
    if (!c.object(oc[i], ['header', 'claim'])) return null;
    r.claimToHeaders.push(new ClaimToHeader(c.requiredStr(oc[i], 'header').toLowerCase(), c.requiredStr(oc[i], 'claim')));
  }
  const jwks = c.optional(v, 'jwks', JsonKind.String);
  const uri = c.optional(v, 'jwksUri', JsonKind.String);
  if (c.failed) return null;
  if (jwks !== null && uri !== null) { c.fail(v.path, 'set either jwks or jwksUri, not both'); return null; }
  if (jwks === null && uri === null) { c.fail(v.path, 'jwks or jwksUri is required'); return null; }
  if (jwks !== null) {
    const parsed = parseJwks(String.UTF8.encode(jwks.str));
    if (parsed.status != JwtStatus.Ok) {
      c.fail(jwks.path, jwtStatusString(parsed.status) + (parsed.skipped.length > 0 ? ' (' + parsed.skipped.join('; ') + ')' : ''));
      return null;
    }
    r.inlineKeys = parsed.keys;
    r.inlineSkipped = parsed.skipped;
  }
  const ext = c.optional(v, 'asmesh', JsonKind.Object);
  if (ext !== null) {
    if (!c.object(ext, ['jwksCluster', 'jwksRefreshSeconds', 'jwksRetrySeconds', 'kidRefetchSeconds', 'jwksTimeoutMs'])) return null;
    r.jwksCluster = c.str(ext, 'jwksCluster');
    r.jwksRefreshMs = <u32>(c.int(ext, 'jwksRefreshSeconds', 600, 1, 86400) * 1000);
    r.jwksRetryMs = <u32>(c.int(ext, 'jwksRetrySeconds', 30, 1, 3600) * 1000);
    r.kidRefetchMs = <u32>(c.int(ext, 'kidRefetchSeconds', 30, 0, 3600) * 1000);
    r.jwksTimeoutMs = <u32>c.int(ext, 'jwksTimeoutMs', 5000, 1, 60000);
  }
  if (uri !== null) {
    const u = uri.str;
    let rest = '';
    if (u.startsWith('https://')) rest = u.substring(8);
    else if (u.startsWith('http://')) rest = u.substring(7);
    else { c.fail(uri.path, 'must start with http:// or https://'); return null; }
    const slash = rest.indexOf('/');
    r.jwksAuthority = slash >= 0 ? rest.substring(0, slash) : rest;
    r.jwksPath = slash >= 0 ? rest.substring(slash) : '/';
    if (r.jwksAuthority.length == 0) { c.fail(uri.path, 'has no host'); return null; }
    r.jwksUri = u;
    if (r.jwksCluster.length == 0) r.jwksCluster = r.jwksAuthority;
  }
  const timeout = c.optional(v, 'timeout', JsonKind.String);
  if (timeout !== null) {
    const ms = parseDurationMs(timeout.str);
    if (ms <= 0) { c.fail(timeout.path, 'expected a duration such as "5s"'); return null; }
    r.jwksTimeoutMs = <u32>ms;
  }
  return c.failed ? null : r;
}

function parsePolicy(c: ConfigChecker, v: JsonValue, config: AuthzConfig): Policy | null {
  if (!c.object(v, POLICY_FIELDS)) return null;
  const name = c.requiredStr(v, 'name');
  const actionText = c.str(v, 'action', 'ALLOW');
  let action = Action.Allow;
  if (actionText == 'ALLOW') action = Action.Allow;
  else if (actionText == 'DENY') action = Action.Deny;
  else if (actionText == 'AUDIT') action = Action.Audit;
  else { c.fail(memberPath(v.path, 'action'), '"' + actionText + '" is not supported (ALLOW, DENY, AUDIT)'); return null; }
  if (v.has('provider')) { c.fail(memberPath(v.path, 'provider'), 'CUSTOM providers are not supported'); return null; }
  const policy = new Policy(name, action);
  const rules = c.items(v, 'rules');
  for (let i = 0; i < rules.length && !c.failed; i++) {
    const rv = rules[i];
    if (!c.object(rv, ['from', 'to', 'when'])) return null;
    const rule = new Rule();
    const froms = c.items(rv, 'from');
    for (let j = 0; j < froms.length && !c.failed; j++) {
      if (!c.object(froms[j], ['source'])) return null;
      const s = c.required(froms[j], 'source', JsonKind.Object);
      if (s === null) return null;
      const src = parseSource(c, s);
      if (src !== null) {
        if (src.ipBlocks !== null || src.remoteIpBlocks !== null) config.needsSourceIp = true;
        if (src.principals !== null || src.namespaces !== null) config.needsPeer = true;
        rule.from.push(src);
      }
    }
    const tos = c.items(rv, 'to');
    for (let j = 0; j < tos.length && !c.failed; j++) {
      if (!c.object(tos[j], ['operation'])) return null;
      const o = c.required(tos[j], 'operation', JsonKind.Object);
      if (o === null) return null;
      const op = parseOperation(c, o);
      if (op !== null) {
        if (op.ports !== null) config.needsDestPort = true;
        rule.to.push(op);
      }
    }
    const whens = c.items(rv, 'when');
    for (let j = 0; j < whens.length && !c.failed; j++) {
      const cond = parseCondition(c, whens[j]);
      if (cond !== null) {
        const key = cond.key;
        if (key == ConditionKey.Header) config.needsHeaders = true;
        else if (key == ConditionKey.SourceIp || key == ConditionKey.RemoteIp) config.needsSourceIp = true;
        else if (key == ConditionKey.DestinationIp) config.needsDestIp = true;
        else if (key == ConditionKey.DestinationPort) config.needsDestPort = true;
        else if (key == ConditionKey.ConnectionSni) config.needsSni = true;
        else if (key == ConditionKey.SourcePrincipal || key == ConditionKey.SourceNamespace) config.needsPeer = true;
        rule.when.push(cond);
      }
    }
    policy.rules.push(rule);
  }
  return c.failed ? null : policy;
}

function matchers(c: ConfigChecker, v: JsonValue, key: string, ignoreCase: bool): StringMatch[] | null {
  if (!v.has(key)) return null;
  const list = c.strings(v, key);
  if (c.failed || list.length == 0) return null;
  const out = new Array<StringMatch>();
  for (let i = 0; i < list.length; i++) out.push(StringMatch.parse(list[i], ignoreCase));
  return out;
}

function stringField(c: ConfigChecker, v: JsonValue, key: string, notKey: string, ignoreCase: bool = false): StringField | null {
  const values = matchers(c, v, key, ignoreCase);
  const notValues = matchers(c, v, notKey, ignoreCase);
  if (values === null && notValues === null) return null;
  return new StringField(values, notValues);
}

function cidrs(c: ConfigChecker, v: JsonValue, key: string): Cidr[] | null {
  if (!v.has(key)) return null;
  const list = c.strings(v, key);
  if (c.failed || list.length == 0) return null;
  const out = new Array<Cidr>();
  const arr = v.get(key) as JsonValue;
  for (let i = 0; i < list.length; i++) {
    const cidr = Cidr.parse(list[i]);
    if (cidr === null) { c.fail(arr.items[i].path, '"' + list[i] + '" is not an IP address or CIDR block'); return null; }
    out.push(cidr);
  }
  return out;
}

function ipField(c: ConfigChecker, v: JsonValue, key: string, notKey: string): IpField | null {
  const values = cidrs(c, v, key);
  const notValues = cidrs(c, v, notKey);
  if (values === null && notValues === null) return null;
  return new IpField(values, notValues);
}

function parseSource(c: ConfigChecker, v: JsonValue): Source | null {
  if (!c.object(v, SOURCE_FIELDS)) return null;
  if (v.has('serviceAccounts') || v.has('notServiceAccounts')) {
    c.fail(memberPath(v.path, v.has('serviceAccounts') ? 'serviceAccounts' : 'notServiceAccounts'), 'not supported: use principals');
    return null;
  }
  const s = new Source();
  s.principals = stringField(c, v, 'principals', 'notPrincipals');
  s.requestPrincipals = stringField(c, v, 'requestPrincipals', 'notRequestPrincipals');
  s.namespaces = stringField(c, v, 'namespaces', 'notNamespaces');
  s.ipBlocks = ipField(c, v, 'ipBlocks', 'notIpBlocks');
  s.remoteIpBlocks = ipField(c, v, 'remoteIpBlocks', 'notRemoteIpBlocks');
  return c.failed ? null : s;
}

function parseOperation(c: ConfigChecker, v: JsonValue): Operation | null {
  if (!c.object(v, OPERATION_FIELDS)) return null;
  const o = new Operation();
  o.hosts = stringField(c, v, 'hosts', 'notHosts', true);
  o.ports = stringField(c, v, 'ports', 'notPorts');
  o.methods = stringField(c, v, 'methods', 'notMethods');
  o.paths = stringField(c, v, 'paths', 'notPaths');
  if (o.ports !== null) {
    checkPorts(c, v, 'ports');
    checkPorts(c, v, 'notPorts');
  }
  return c.failed ? null : o;
}

function checkPorts(c: ConfigChecker, v: JsonValue, key: string): void {
  const arr = v.get(key);
  if (arr === null) return;
  for (let i = 0; i < arr.items.length; i++) {
    const p = arr.items[i].str;
    let ok = p.length > 0 && p.length <= 5;
    for (let j = 0; j < p.length && ok; j++) ok = p.charCodeAt(j) >= 48 && p.charCodeAt(j) <= 57;
    if (ok) ok = I32.parseInt(p) <= 65535;
    if (!ok) { c.fail(arr.items[i].path, '"' + p + '" is not a port'); return; }
  }
}

/** `[a][b]` → ['a', 'b']; null when malformed. */
function bracketPath(s: string): string[] | null {
  const out = new Array<string>();
  let i = 0;
  while (i < s.length) {
    if (s.charCodeAt(i) != 0x5b) return null;
    const end = s.indexOf(']', i);
    if (end < 0 || end == i + 1) return null;
    out.push(s.substring(i + 1, end));
    i = end + 1;
  }
  return out.length > 0 ? out : null;
}

function parseCondition(c: ConfigChecker, v: JsonValue): Condition | null {
  if (!c.object(v, ['key', 'values', 'notValues'])) return null;
  const keyV = c.required(v, 'key', JsonKind.String);
  if (keyV === null) return null;
  const key = keyV.str;
  let cond: Condition | null = null;
  let ip = false;
  if (key.startsWith('request.auth.claims')) {
    const path = bracketPath(key.substring(19));
    if (path === null) { c.fail(keyV.path, 'expected request.auth.claims[name] or [name][nested]'); return null; }
    cond = new Condition(ConditionKey.Claims, key);
    cond.arg = path;
  } else if (key.startsWith('request.headers')) {
    const path = bracketPath(key.substring(15));
    if (path === null || path.length != 1) { c.fail(keyV.path, 'expected request.headers[name]'); return null; }
    cond = new Condition(ConditionKey.Header, key);
    cond.arg = [path[0].toLowerCase()];
  } else if (key == 'request.auth.principal') cond = new Condition(ConditionKey.AuthPrincipal, key);
  else if (key == 'request.auth.audiences') cond = new Condition(ConditionKey.AuthAudiences, key);
  else if (key == 'request.auth.presenter') cond = new Condition(ConditionKey.AuthPresenter, key);
  else if (key == 'source.ip') { cond = new Condition(ConditionKey.SourceIp, key); ip = true; }
  else if (key == 'remote.ip') { cond = new Condition(ConditionKey.RemoteIp, key); ip = true; }
  else if (key == 'destination.ip') { cond = new Condition(ConditionKey.DestinationIp, key); ip = true; }
  else if (key == 'source.namespace') cond = new Condition(ConditionKey.SourceNamespace, key);
  else if (key == 'source.principal') cond = new Condition(ConditionKey.SourcePrincipal, key);
  else if (key == 'destination.port') cond = new Condition(ConditionKey.DestinationPort, key);
  else if (key == 'connection.sni') cond = new Condition(ConditionKey.ConnectionSni, key);
  else { c.fail(keyV.path, 'unknown key "' + key + '"'); return null; }
  const cd = cond as Condition;
  if (ip) {
    cd.ips = ipField(c, v, 'values', 'notValues');
    if (cd.ips === null && !c.failed) c.fail(v.path, 'values or notValues is required');
  } else {
    cd.values = stringField(c, v, 'values', 'notValues');
    if (cd.values === null && !c.failed) c.fail(v.path, 'values or notValues is required');
    if (cd.key == ConditionKey.DestinationPort && !c.failed) { checkPorts(c, v, 'values'); checkPorts(c, v, 'notValues'); }
  }
  return c.failed ? null : cd;
}
