// The authz filter's configuration:
//   { "jwtRules": [ Istio JWTRule... ], "policies": [ { "name": ..., ...AuthorizationPolicy spec } ],
//     "asmesh": { "maxTokenBytes": 65536, "rejectCrit": true,
//                 "trustDomain": "cluster.local", "trustDomainAliases": [], "port": 9000 } }
// (trustDomain / trustDomainAliases: the mesh's MeshConfig, applied to principals as pilot does.)
// JWTRule extension: "asmesh": { "jwksCluster", "jwksRefreshSeconds", "jwksRetrySeconds",
// "kidRefetchSeconds", "jwksTimeoutMs" } (the cluster defaults to the jwksUri's authority). Parsed and
// validated once, into what Istio's pilot would give Envoy's jwt_authn and rbac; pure: no host calls.
import { JsonKind, JsonValue, indexPath, memberPath } from '../../assembly/lib/json';
import { ConfigChecker, ConfigResult } from '../../assembly/lib/config';
import { JWT_RULE_FIELDS } from './fields';
import { parseDurationMs } from '../../assembly/lib/duration';
import { StringMatcher } from '../../assembly/lib/matchers';
import { Jwk, JwtStatus, jwtStatusString, parseJwks } from '../../assembly/lib/jwt';
import {
  Cidr,
  RequestPrincipalPattern,
  headerPattern,
  namespacePattern,
  pathTemplate,
  principalPattern,
  stringPattern,
  trustDomainPattern,
} from './match';
import {
  Action,
  Atom,
  ClaimAtom,
  FieldMatch,
  HeaderAtom,
  IpAtom,
  IpKind,
  PathAtom,
  PeerAtom,
  Policy,
  PortAtom,
  RequestPrincipalAtom,
  Rule,
  SniAtom,
} from './policy';
import { DEFAULT_TRUST_DOMAIN, TrustDomains, trustDomainError } from './trustdomain';

export class HeaderLocation {
  constructor(
    public name: string,
    public prefix: string,
  ) {}
}

export class ClaimToHeader {
  constructor(
    public header: string,
    public claim: string,
  ) {}
}

export class JwtRule {
  issuer: string = '';
  audiences: string[] = [];
  /** Token locations as Envoy's extractor orders them: headers by name + prefix, then params, then cookies (each sorted, once). */
  headers: HeaderLocation[] = [];
  params: string[] = [];
  cookies: string[] = [];
  /** Claims Envoy splits into words in the payload policies see: Istio's scope, permission plus spaceDelimitedClaims. */
  spaceDelimitedClaims: string[] = [];
  /** Headers removed from every request before verification (outputPayloadToHeader, outputClaimToHeaders). */
  outputHeaders: string[] = [];
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

/** Default token size cap: above the 60 KiB Envoy's default max_request_headers_kb lets through. */
export const DEFAULT_MAX_TOKEN_BYTES: i32 = 65536;

export class AuthzConfig {
  jwtRules: JwtRule[] = [];
  policies: Policy[] = [];
  /** Stricter than Envoy by choice: a longer token fails ("Jwt verification fails"). */
  maxTokenBytes: i32 = DEFAULT_MAX_TOKEN_BYTES;
  /** Stricter than Envoy by choice: a token with a `crit` header fails (no extension is understood). */
  rejectCrit: bool = true;
  /**
   * The workload port the listener stands for (`asmesh.port`), what `ports` / `destination.port` compare with
   * (pilot's rbac: the original destination's port). Unset (-1): the connection's local port, which is that
   * port only when the listener binds it (or restores it: original_dst, proxy_protocol).
   */
  port: i32 = -1;
  /** MeshConfig trustDomain then trustDomainAliases: principals match in each (pilot's rewrite). */
  trustDomains: TrustDomains = new TrustDomains();
  // What the policies read, so the adapter collects only that (each property read is a host call).
  needsHeaders: bool = false;
  /** :authority: hosts, notHosts (a `request.headers[:authority]` condition sets needsHeaders). */
  needsHost: bool = false;
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

const POLICY_FIELDS = ['name', 'action', 'rules', 'selector', 'targetRef', 'targetRefs', 'provider'];
const SOURCE_FIELDS = [
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
  'ipBlocks',
  'notIpBlocks',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
  'serviceAccounts',
  'notServiceAccounts',
  'trustDomains',
  'notTrustDomains',
];
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'];
// Both `when` sides (Istio's permission and principal conditions) are ANDed into the same rule here.

export function parseAuthzConfig(bytes: ArrayBuffer): ConfigResult<AuthzConfig> {
  const c = new ConfigChecker();
  const root = c.parse(bytes);
  if (root === null || !c.object(root, ['jwtRules', 'policies', 'asmesh'])) return new ConfigResult<AuthzConfig>(null, c.error);
  const config = new AuthzConfig();
  const ext = c.optional(root, 'asmesh', JsonKind.Object);
  if (ext !== null && c.object(ext, ['maxTokenBytes', 'rejectCrit', 'trustDomain', 'trustDomainAliases', 'port'])) {
    config.port = <i32>c.int(ext, 'port', -1, 1, 65535);
    config.maxTokenBytes = <i32>c.int(ext, 'maxTokenBytes', DEFAULT_MAX_TOKEN_BYTES, 1024, 1 << 24);
    config.rejectCrit = c.bool(ext, 'rejectCrit', true);
    config.trustDomains = parseTrustDomains(c, ext);
  }
  const rules = c.items(root, 'jwtRules');
  for (let i = 0; i < rules.length && !c.failed; i++) {
    const r = parseJwtRule(c, rules[i], i);
    if (r !== null) {
      for (let j = 0; j < config.jwtRules.length; j++) {
        if (config.jwtRules[j].issuer == r.issuer) {
          c.fail(memberPath(rules[i].path, 'issuer'), 'issuer "' + r.issuer + '" is already used by $.jwtRules[' + j.toString() + ']');
        }
      }
      config.jwtRules.push(r);
    }
  }
  const policies = c.items(root, 'policies');
  for (let i = 0; i < policies.length && !c.failed; i++) {
    const p = parsePolicy(c, policies[i], config);
    if (p !== null) config.policies.push(p);
  }
  if (c.failed) return new ConfigResult<AuthzConfig>(null, c.error);
  return new ConfigResult<AuthzConfig>(config, '');
}

function parseJwtRule(c: ConfigChecker, v: JsonValue, index: i32): JwtRule | null {
  if (!c.object(v, JWT_RULE_FIELDS)) return null;
  const r = new JwtRule(index);
  r.issuer = c.requiredStr(v, 'issuer');
  r.audiences = c.strings(v, 'audiences');
  r.forwardOriginalToken = c.bool(v, 'forwardOriginalToken', false);
  r.outputPayloadToHeader = c.str(v, 'outputPayloadToHeader').toLowerCase();
  const hs = c.items(v, 'fromHeaders');
  for (let i = 0; i < hs.length && !c.failed; i++) {
    if (!c.object(hs[i], ['name', 'prefix'])) return null;
    const name = c.requiredStr(hs[i], 'name').toLowerCase();
    const prefix = c.str(hs[i], 'prefix');
    let dup = false;
    for (let j = 0; j < r.headers.length; j++) dup = dup || (r.headers[j].name == name && r.headers[j].prefix == prefix);
    if (!dup) r.headers.push(new HeaderLocation(name, prefix));
  }
  const ps = c.strings(v, 'fromParams');
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].length == 0) {
      c.fail(indexPath(memberPath(v.path, 'fromParams'), i), 'must not be empty');
      return null;
    }
    if (!r.params.includes(ps[i])) r.params.push(ps[i]);
  }
  const cs = c.strings(v, 'fromCookies');
  for (let i = 0; i < cs.length; i++) {
    if (cs[i].length == 0) {
      c.fail(indexPath(memberPath(v.path, 'fromCookies'), i), 'must not be empty');
      return null;
    }
    if (!r.cookies.includes(cs[i])) r.cookies.push(cs[i]);
  }
  if (r.headers.length == 0 && r.params.length == 0 && r.cookies.length == 0) {
    r.headers.push(new HeaderLocation('authorization', 'Bearer '));
    r.params.push('access_token');
  }
  // Envoy keeps locations in sorted maps (header name + prefix, param, cookie): tokens are found in that order.
  r.headers.sort((a: HeaderLocation, b: HeaderLocation): i32 => compareBytes(a.name + a.prefix, b.name + b.prefix));
  r.params.sort((a: string, b: string): i32 => compareBytes(a, b));
  r.cookies.sort((a: string, b: string): i32 => compareBytes(a, b));
  const sd = c.strings(v, 'spaceDelimitedClaims');
  r.spaceDelimitedClaims = ['permission', 'scope'];
  for (let i = 0; i < sd.length; i++) if (!r.spaceDelimitedClaims.includes(sd[i])) r.spaceDelimitedClaims.push(sd[i]);
  const oc = c.items(v, 'outputClaimToHeaders');
  for (let i = 0; i < oc.length && !c.failed; i++) {
    if (!c.object(oc[i], ['header', 'claim'])) return null;
    r.claimToHeaders.push(new ClaimToHeader(c.requiredStr(oc[i], 'header').toLowerCase(), c.requiredStr(oc[i], 'claim')));
  }
  if (r.outputPayloadToHeader.length > 0) r.outputHeaders.push(r.outputPayloadToHeader);
  for (let i = 0; i < r.claimToHeaders.length; i++) r.outputHeaders.push(r.claimToHeaders[i].header);
  const jwks = c.optional(v, 'jwks', JsonKind.String);
  const uri = c.optional(v, 'jwksUri', JsonKind.String);
  if (c.failed) return null;
  if (jwks !== null && uri !== null) {
    c.fail(v.path, 'set either jwks or jwksUri, not both');
    return null;
  }
  if (jwks === null && uri === null) {
    c.fail(v.path, 'jwks or jwksUri is required');
    return null;
  }
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
    // Fractions of a second (down to 0.1 s) let a test see several periods in a few seconds.
    r.jwksRefreshMs = <u32>Math.round(c.number(ext, 'jwksRefreshSeconds', 600, 0.1, 86400) * 1000);
    r.jwksRetryMs = <u32>Math.round(c.number(ext, 'jwksRetrySeconds', 30, 0.1, 3600) * 1000);
    r.kidRefetchMs = <u32>Math.round(c.number(ext, 'kidRefetchSeconds', 30, 0, 3600) * 1000);
    r.jwksTimeoutMs = <u32>c.int(ext, 'jwksTimeoutMs', 5000, 1, 60000);
  }
  if (uri !== null) {
    const u = uri.str;
    let rest = '';
    if (u.startsWith('https://')) rest = u.substring(8);
    else if (u.startsWith('http://')) rest = u.substring(7);
    else {
      c.fail(uri.path, 'must start with http:// or https://');
      return null;
    }
    const slash = rest.indexOf('/');
    r.jwksAuthority = slash >= 0 ? rest.substring(0, slash) : rest;
    r.jwksPath = slash >= 0 ? rest.substring(slash) : '/';
    if (r.jwksAuthority.length == 0) {
      c.fail(uri.path, 'has no host');
      return null;
    }
    r.jwksUri = u;
    if (r.jwksCluster.length == 0) r.jwksCluster = r.jwksAuthority;
  }
  const timeout = c.optional(v, 'timeout', JsonKind.String);
  if (timeout !== null) {
    const ms = parseDurationMs(timeout.str);
    if (ms <= 0) {
      c.fail(timeout.path, 'expected a duration such as "5s"');
      return null;
    }
    r.jwksTimeoutMs = <u32>ms;
  }
  return c.failed ? null : r;
}

/** Byte order of ASCII names (Envoy's std::map keys). */
function compareBytes(a: string, b: string): i32 {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parsePolicy(c: ConfigChecker, v: JsonValue, config: AuthzConfig): Policy | null {
  if (!c.object(v, POLICY_FIELDS)) return null;
  const name = c.requiredStr(v, 'name');
  const actionText = c.str(v, 'action', 'ALLOW');
  let action = Action.Allow;
  if (actionText == 'ALLOW') action = Action.Allow;
  else if (actionText == 'DENY') action = Action.Deny;
  else if (actionText == 'AUDIT') action = Action.Audit;
  else {
    c.fail(memberPath(v.path, 'action'), '"' + actionText + '" is not supported (ALLOW, DENY, AUDIT)');
    return null;
  }
  if (v.has('provider')) {
    c.fail(memberPath(v.path, 'provider'), 'CUSTOM providers are not supported');
    return null;
  }
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
      const src = parseSource(c, s, config);
      if (src !== null) rule.from.push(src);
    }
    const tos = c.items(rv, 'to');
    for (let j = 0; j < tos.length && !c.failed; j++) {
      if (!c.object(tos[j], ['operation'])) return null;
      const o = c.required(tos[j], 'operation', JsonKind.Object);
      if (o === null) return null;
      const op = parseOperation(c, o, config);
      if (op !== null) rule.to.push(op);
    }
    const whens = c.items(rv, 'when');
    for (let j = 0; j < whens.length && !c.failed; j++) parseCondition(c, whens[j], config, rule.when);
    policy.rules.push(rule);
  }
  return c.failed ? null : policy;
}

/** `trustDomain` (default cluster.local) and `trustDomainAliases`, each a valid trust domain. */
function parseTrustDomains(c: ConfigChecker, ext: JsonValue): TrustDomains {
  const domains = [DEFAULT_TRUST_DOMAIN];
  const td = c.optional(ext, 'trustDomain', JsonKind.String);
  if (td !== null) {
    const e = trustDomainError(td.str);
    if (e !== null) c.fail(td.path, e);
    domains[0] = td.str;
  }
  const aliases = c.strings(ext, 'trustDomainAliases');
  for (let i = 0; i < aliases.length && !c.failed; i++) {
    const e = trustDomainError(aliases[i]);
    if (e !== null) c.fail(((ext.get('trustDomainAliases') as JsonValue).items[i] as JsonValue).path, e);
    domains.push(aliases[i]);
  }
  return new TrustDomains(domains);
}

/** What a value of a field is matched against (and how Istio translates it). */
const enum Field {
  Host,
  Method,
  Path,
  Port,
  Header,
  Claim,
  RequestPrincipal,
  Principal,
  Namespace,
  TrustDomain,
  SourceIp,
  RemoteIp,
  DestIp,
  Sni,
}

/** Fields pilot's generators refuse for a TCP chain ("is HTTP only"). */
function isHttpOnly(kind: Field): bool {
  return (
    kind == Field.Host ||
    kind == Field.Method ||
    kind == Field.Path ||
    kind == Field.Header ||
    kind == Field.Claim ||
    kind == Field.RequestPrincipal
  );
}

/** One value of a field as the matcher Istio's pilot writes for it; null (after c.fail) when invalid. */
function atom(c: ConfigChecker, field: Field, value: string, path: string, arg: string[], config: AuthzConfig): Atom | null {
  switch (field) {
    case Field.Host:
      config.needsHost = true;
      return new HeaderAtom(':authority', headerPattern(value, true));
    case Field.Method:
      return new HeaderAtom(':method', headerPattern(value, false));
    case Field.Path: {
      if (value.includes('{*}') || value.includes('{**}')) {
        const t = pathTemplate(value);
        if (t.m === null) {
          c.fail(path, 'path template: ' + t.error);
          return null;
        }
        return new PathAtom(t.m as StringMatcher);
      }
      return new PathAtom(stringPattern(value));
    }
    case Field.Port:
    case Field.DestIp:
    case Field.SourceIp:
    case Field.RemoteIp:
      break;
    case Field.Header:
      config.needsHeaders = true;
      return new HeaderAtom(arg[0], headerPattern(value, false));
    case Field.Claim:
      return new ClaimAtom(arg, stringPattern(value));
    case Field.RequestPrincipal:
      return new RequestPrincipalAtom(RequestPrincipalPattern.parse(value));
    case Field.Sni:
      config.needsSni = true;
      return new SniAtom(stringPattern(value));
    default: {
      config.needsPeer = true;
      const m =
        field == Field.Principal ? principalPattern(value) : field == Field.Namespace ? namespacePattern(value) : trustDomainPattern(value);
      if (m === null) {
        c.fail(path, 'pattern too large');
        return null;
      }
      return new PeerAtom(m);
    }
  }
  if (field == Field.Port) {
    let ok = value.length > 0 && value.length <= 5;
    for (let j = 0; j < value.length && ok; j++) ok = value.charCodeAt(j) >= 48 && value.charCodeAt(j) <= 57;
    if (ok) ok = I32.parseInt(value) <= 65535;
    if (!ok) {
      c.fail(path, '"' + value + '" is not a port');
      return null;
    }
    config.needsDestPort = true;
    return new PortAtom(I32.parseInt(value));
  }
  const cidr = Cidr.parse(value);
  if (cidr === null) {
    c.fail(path, '"' + value + '" is not an IP address or CIDR block');
    return null;
  }
  if (field == Field.DestIp) {
    config.needsDestIp = true;
    return new IpAtom(IpKind.Destination, cidr);
  }
  config.needsSourceIp = true;
  return new IpAtom(field == Field.RemoteIp ? IpKind.Remote : IpKind.Source, cidr);
}

/** `key` → OR of its values, `notKey` → NOT(OR) of its values, appended to `out` (absent or empty: nothing). */
function field(
  c: ConfigChecker,
  v: JsonValue,
  key: string,
  notKey: string,
  kind: Field,
  out: FieldMatch[],
  config: AuthzConfig,
  arg: string[] = [],
): void {
  for (let n = 0; n < 2 && !c.failed; n++) {
    const k = n == 0 ? key : notKey;
    if (!v.has(k)) continue;
    const list = c.strings(v, k);
    if (c.failed || list.length == 0) continue;
    const arr = v.get(k) as JsonValue;
    const atoms = new Array<Atom>();
    for (let i = 0; i < list.length; i++) {
      // Principals and trust domains: one per mesh trust domain, as pilot rewrites them (values and notValues).
      const values =
        kind == Field.Principal
          ? config.trustDomains.expand([list[i]])
          : kind == Field.TrustDomain
            ? config.trustDomains.expandDomains([list[i]])
            : [list[i]];
      for (let j = 0; j < values.length; j++) {
        const a = atom(c, kind, values[j], arr.items[i].path, arg, config);
        if (a === null) return;
        atoms.push(a);
      }
    }
    out.push(new FieldMatch(atoms, n == 1, isHttpOnly(kind)));
  }
}

function parseSource(c: ConfigChecker, v: JsonValue, config: AuthzConfig): FieldMatch[] | null {
  if (!c.object(v, SOURCE_FIELDS)) return null;
  if (v.has('serviceAccounts') || v.has('notServiceAccounts')) {
    c.fail(memberPath(v.path, v.has('serviceAccounts') ? 'serviceAccounts' : 'notServiceAccounts'), 'not supported: use principals');
    return null;
  }
  const out = new Array<FieldMatch>();
  field(c, v, 'principals', 'notPrincipals', Field.Principal, out, config);
  field(c, v, 'requestPrincipals', 'notRequestPrincipals', Field.RequestPrincipal, out, config);
  field(c, v, 'namespaces', 'notNamespaces', Field.Namespace, out, config);
  field(c, v, 'trustDomains', 'notTrustDomains', Field.TrustDomain, out, config);
  field(c, v, 'ipBlocks', 'notIpBlocks', Field.SourceIp, out, config);
  field(c, v, 'remoteIpBlocks', 'notRemoteIpBlocks', Field.RemoteIp, out, config);
  return c.failed ? null : out;
}

function parseOperation(c: ConfigChecker, v: JsonValue, config: AuthzConfig): FieldMatch[] | null {
  if (!c.object(v, OPERATION_FIELDS)) return null;
  const out = new Array<FieldMatch>();
  field(c, v, 'hosts', 'notHosts', Field.Host, out, config);
  field(c, v, 'ports', 'notPorts', Field.Port, out, config);
  field(c, v, 'methods', 'notMethods', Field.Method, out, config);
  field(c, v, 'paths', 'notPaths', Field.Path, out, config);
  return c.failed ? null : out;
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

function parseCondition(c: ConfigChecker, v: JsonValue, config: AuthzConfig, out: FieldMatch[]): void {
  if (!c.object(v, ['key', 'values', 'notValues'])) return;
  const keyV = c.required(v, 'key', JsonKind.String);
  if (keyV === null) return;
  const key = keyV.str;
  let kind = Field.Claim;
  let arg: string[] = [];
  if (key.startsWith('request.auth.claims')) {
    const path = bracketPath(key.substring(19));
    if (path === null) {
      c.fail(keyV.path, 'expected request.auth.claims[name] or [name][nested]');
      return;
    }
    arg = path;
  } else if (key.startsWith('request.headers')) {
    const path = bracketPath(key.substring(15));
    if (path === null || path.length != 1) {
      c.fail(keyV.path, 'expected request.headers[name]');
      return;
    }
    kind = Field.Header;
    arg = [path[0].toLowerCase()];
  } else if (key == 'request.auth.principal') kind = Field.RequestPrincipal;
  else if (key == 'request.auth.audiences') arg = ['aud'];
  else if (key == 'request.auth.presenter') arg = ['azp'];
  else if (key == 'source.ip') kind = Field.SourceIp;
  else if (key == 'remote.ip') kind = Field.RemoteIp;
  else if (key == 'destination.ip') kind = Field.DestIp;
  else if (key == 'source.namespace') kind = Field.Namespace;
  else if (key == 'source.principal') kind = Field.Principal;
  else if (key == 'source.trustDomain') kind = Field.TrustDomain;
  else if (key == 'destination.port') kind = Field.Port;
  else if (key == 'connection.sni') kind = Field.Sni;
  else {
    c.fail(keyV.path, 'unknown key "' + key + '"');
    return;
  }
  const before = out.length;
  field(c, v, 'values', 'notValues', kind, out, config, arg);
  if (!c.failed && out.length == before) c.fail(v.path, 'values or notValues is required');
}
