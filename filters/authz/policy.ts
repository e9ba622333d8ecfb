// AuthorizationPolicy model and evaluation as Envoy's rbac filter runs the policies Istio's pilot
// writes (pilot/pkg/security/authz/model): each field's values become one OR of matchers, its
// notValues one NOT(OR), a rule is the AND of them; DENY policies first, then ALLOW (no ALLOW
// policy: allow; otherwise one must match); AUDIT only reports. Pure: no host calls.
// Three-valued: an atom whose input the filter cannot see (the connection's address once Envoy took the
// client address from x-forwarded-for) is UNKNOWN; a DENY that may match denies, an ALLOW must match.
import { JsonValue, jsonAt } from '../../assembly/lib/json';
import { StringMatcher } from '../../assembly/lib/matchers';
import { pathWithoutQueryOrFragment } from '../../assembly/lib/http';
import { Cidr, RequestPrincipalPattern, anyCidrContains } from './match';

export const enum Action {
  Allow,
  Deny,
  Audit,
}

/** Kleene truth values of a match. */
export const NO: i32 = 0;
export const YES: i32 = 1;
export const UNKNOWN: i32 = 2;

/** One matcher of one value (Envoy: a permission or principal leaf). */
export abstract class Atom {
  abstract matches(req: RequestInfo): bool;
  /** True when the filter cannot see this atom's input for this request (then `matches` is not asked). */
  unknown(req: RequestInfo): bool {
    return false;
  }
}

/** A field's values (OR), or its notValues (NOT of the OR). */
export class FieldMatch {
  constructor(
    public atoms: Atom[],
    public negate: bool,
    /** An HTTP-only field (hosts, methods, paths, request principals, request.* conditions): pilot drops it on TCP. */
    public httpOnly: bool = false,
  ) {}

  matches(req: RequestInfo): bool {
    return this.truth(req) == YES;
  }

  truth(req: RequestInfo): i32 {
    let unknown = false;
    for (let i = 0; i < this.atoms.length; i++) {
      const a = this.atoms[i];
      if (a.unknown(req)) unknown = true;
      else if (a.matches(req)) return this.negate ? NO : YES;
    }
    return unknown ? UNKNOWN : this.negate ? YES : NO;
  }
}

function allMatch(fields: FieldMatch[], req: RequestInfo): i32 {
  let out = YES;
  for (let i = 0; i < fields.length; i++) {
    const t = fields[i].truth(req);
    if (t == NO) return NO;
    if (t == UNKNOWN) out = UNKNOWN;
  }
  return out;
}

/** A request header: any of its entries matches (Envoy's header map keeps each entry of a non-inline header). */
export class HeaderAtom extends Atom {
  constructor(
    public name: string,
    public m: StringMatcher,
  ) {
    super();
  }
  matches(req: RequestInfo): bool {
    if (this.name == ':authority') return this.m.matches(req.host);
    if (this.name == ':method') return this.m.matches(req.method);
    const names = req.headerNames;
    for (let i = 0; i < names.length; i++) {
      if (names[i] == this.name && this.m.matches(req.headerValues[i])) return true;
    }
    return false;
  }
}

/** Envoy's url_path: the path without query and fragment. */
export class PathAtom extends Atom {
  constructor(public m: StringMatcher) {
    super();
  }
  matches(req: RequestInfo): bool {
    return this.m.matches(pathWithoutQueryOrFragment(req.path));
  }
}

export class PortAtom extends Atom {
  constructor(public port: i32) {
    super();
  }
  matches(req: RequestInfo): bool {
    return req.destPort == this.port;
  }
}

export const enum IpKind {
  Source,
  Remote,
  Destination,
}

export class IpAtom extends Atom {
  constructor(
    public kind: IpKind,
    public cidr: Cidr,
  ) {
    super();
  }
  matches(req: RequestInfo): bool {
    const ip = this.kind == IpKind.Destination ? req.destIp : this.kind == IpKind.Remote ? req.remoteIp : req.sourceIp;
    return ip !== null && anyCidrContains([this.cidr], ip as string);
  }
  unknown(req: RequestInfo): bool {
    return this.kind == IpKind.Source && req.sourceIpUnknown;
  }
}

/** connection.sni: the requested server name ('' without TLS). */
export class SniAtom extends Atom {
  constructor(public m: StringMatcher) {
    super();
  }
  matches(req: RequestInfo): bool {
    return this.m.matches(req.sni);
  }
}

/**
 * principals, namespaces, source.*: rbac's `authenticated` principal: any URI SAN of the peer
 * certificate, then any DNS SAN, then its subject (none without mTLS: no match).
 */
export class PeerAtom extends Atom {
  constructor(public m: StringMatcher) {
    super();
  }
  matches(req: RequestInfo): bool {
    const ids = req.peerIds;
    if (ids === null) return false;
    for (let i = 0; i < ids.length; i++) if (this.m.matches(ids[i])) return true;
    return false;
  }
}

/**
 * A claim of the verified JWT, as Envoy's metadata matcher on the jwt_authn payload: a string value,
 * or any string item of a list (a space-delimited claim is the list of its words). Numbers,
 * booleans, objects never match.
 */
export class ClaimAtom extends Atom {
  constructor(
    public path: string[],
    public m: StringMatcher,
  ) {
    super();
  }
  matches(req: RequestInfo): bool {
    const auth = req.auth;
    if (auth === null) return false;
    const v = jsonAt(auth.claims, this.path);
    if (v === null) return false;
    if (v.isString()) {
      if (!auth.spaceDelimited(this.path)) return this.m.matches(v.str);
      const words = v.str.split(' ');
      for (let i = 0; i < words.length; i++) if (words[i].length > 0 && this.m.matches(words[i])) return true;
      return false;
    }
    if (!v.isArray()) return false;
    const items = v.items;
    for (let i = 0; i < items.length; i++) if (items[i].isString() && this.m.matches(items[i].str)) return true;
    return false;
  }
}

/** requestPrincipals / request.auth.principal: the payload's `iss` and `sub` (strings) both match. */
export class RequestPrincipalAtom extends Atom {
  constructor(public p: RequestPrincipalPattern) {
    super();
  }
  matches(req: RequestInfo): bool {
    const auth = req.auth;
    if (auth === null) return false;
    const iss = auth.claims.get('iss');
    const sub = auth.claims.get('sub');
    return iss !== null && iss.isString() && this.p.iss.matches(iss.str) && sub !== null && sub.isString() && this.p.sub.matches(sub.str);
  }
}

export class Rule {
  /** One AND list per `from` entry; none: any source. */
  from: FieldMatch[][] = [];
  /** One AND list per `to` entry; none: any operation. */
  to: FieldMatch[][] = [];
  /** `when` conditions, ANDed into every source and operation (Istio does the same). */
  when: FieldMatch[] = [];

  truth(req: RequestInfo): i32 {
    const w = allMatch(this.when, req);
    if (w == NO) return NO;
    const t = anyOf(this.to, req);
    if (t == NO) return NO;
    const f = anyOf(this.from, req);
    if (f == NO) return NO;
    return w == UNKNOWN || t == UNKNOWN || f == UNKNOWN ? UNKNOWN : YES;
  }
}

function anyOf(lists: FieldMatch[][], req: RequestInfo): i32 {
  if (lists.length == 0) return YES;
  let out = NO;
  for (let i = 0; i < lists.length; i++) {
    const t = allMatch(lists[i], req);
    if (t == YES) return YES;
    if (t == UNKNOWN) out = UNKNOWN;
  }
  return out;
}

export class Policy {
  rules: Rule[] = [];
  constructor(
    public name: string,
    public action: Action,
  ) {}

  /** A policy without rules matches nothing (Istio: an ALLOW without rules denies everything). */
  matches(req: RequestInfo): bool {
    return this.truth(req) == YES;
  }

  truth(req: RequestInfo): i32 {
    let out = NO;
    for (let i = 0; i < this.rules.length; i++) {
      const t = this.rules[i].truth(req);
      if (t == YES) return YES;
      if (t == UNKNOWN) out = UNKNOWN;
    }
    return out;
  }
}

function withoutHttpOnly(fields: FieldMatch[]): FieldMatch[] {
  return fields.filter((f: FieldMatch) => !f.httpOnly);
}

function hasHttpOnly(rule: Rule): bool {
  if (rule.when.some((f: FieldMatch) => f.httpOnly)) return true;
  const lists = rule.from.concat(rule.to);
  for (let i = 0; i < lists.length; i++) if (lists[i].some((f: FieldMatch) => f.httpOnly)) return true;
  return false;
}

/**
 * The policies as pilot builds them for a TCP filter chain (network rbac; builder forTCP, model
 * checkError): an ALLOW rule with an HTTP-only field is skipped (a smaller allow), a DENY or AUDIT rule
 * loses its HTTP-only fields (a wider deny). A policy left without rules matches nothing, as pilot's: an
 * ALLOW one still makes every connection need another ALLOW.
 */
export function tcpPolicies(policies: Policy[]): Policy[] {
  const out = new Array<Policy>();
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    const q = new Policy(p.name, p.action);
    for (let j = 0; j < p.rules.length; j++) {
      const r = p.rules[j];
      if (p.action == Action.Allow) {
        if (!hasHttpOnly(r)) q.rules.push(r);
        continue;
      }
      const t = new Rule();
      t.when = withoutHttpOnly(r.when);
      const froms = r.from;
      const tos = r.to;
      for (let k = 0; k < froms.length; k++) t.from.push(withoutHttpOnly(froms[k]));
      for (let k = 0; k < tos.length; k++) t.to.push(withoutHttpOnly(tos[k]));
      q.rules.push(t);
    }
    out.push(q);
  }
  return out;
}

/** The verified JWT of a request: its payload as Envoy's jwt_authn puts it in the metadata. */
export class AuthInfo {
  constructor(
    public claims: JsonValue,
    /** Top-level claims Envoy splits into a list of words (Istio: scope, permission + spaceDelimitedClaims). */
    public spaceDelimitedClaims: string[],
  ) {}

  spaceDelimited(path: string[]): bool {
    return path.length == 1 && this.spaceDelimitedClaims.includes(path[0]);
  }
}

/**
 * The empty list a request's lists start with (rbac's header, peer and audit lists; jwt_authn's removed
 * header values): shared, never written (each allocation on a request's path is ~1 % of authz's instructions).
 */
export const NO_STRINGS: string[] = [];

/** What policies look at. The adapter fills it from headers and properties. */
export class RequestInfo {
  method: string = '';
  path: string = '';
  host: string = '';
  /** Request header entries in order (lower-case names), each entry on its own (filled only for policies that match headers). */
  headerNames: string[] = NO_STRINGS;
  headerValues: string[] = NO_STRINGS;
  /** The connection's address (ipBlocks, source.ip: rbac's direct_remote_ip). */
  sourceIp: string | null = null;
  /** The connection's address is not visible: Envoy put the client address from x-forwarded-for in its place. */
  sourceIpUnknown: bool = false;
  /** The client address Envoy's HCM derived (remoteIpBlocks, remote.ip: rbac's remote_ip). */
  remoteIp: string | null = null;
  destIp: string | null = null;
  destPort: i32 = -1;
  sni: string = '';
  /** The peer certificate's names as rbac tries them: URI SANs, DNS SANs, subject (RFC 2253); none without
   * mTLS; null when a client certificate was presented but cannot be read (every request is denied). */
  peerIds: string[] | null = NO_STRINGS;
  auth: AuthInfo | null = null;

  addHeader(name: string, value: string): void {
    if (this.headerNames === NO_STRINGS) {
      this.headerNames = [];
      this.headerValues = [];
    }
    this.headerNames.push(name);
    this.headerValues.push(value);
  }
}

export class Decision {
  constructor(
    public allowed: bool,
    public policy: string,
    public audited: string[],
  ) {}
}

export function evaluate(policies: Policy[], req: RequestInfo): Decision {
  let audited = NO_STRINGS;
  // Fail closed: an unreadable peer certificate could make a DENY or a notPrincipals miss.
  if (req.peerIds === null) return new Decision(false, '', audited);
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    if (p.action == Action.Audit && p.matches(req)) {
      if (audited === NO_STRINGS) audited = [];
      audited.push(p.name);
    }
  }
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    // A DENY that may match (UNKNOWN) denies: never more permissive than Envoy.
    if (p.action == Action.Deny && p.truth(req) != NO) return new Decision(false, p.name, audited);
  }
  let anyAllow = false;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    if (p.action != Action.Allow) continue;
    anyAllow = true;
    if (p.matches(req)) return new Decision(true, p.name, audited);
  }
  return new Decision(!anyAllow, '', audited);
}
