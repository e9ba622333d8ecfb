// AuthorizationPolicy model and evaluation, as Istio does it: DENY policies first, then ALLOW
// (no ALLOW policy: allow; otherwise one must match); AUDIT only reports. Pure: no host calls.
import { JsonValue, jsonAt, scalarText } from '../../assembly/lib/json';
import { StringMatch, Cidr, anyMatches, anyCidrContains } from './match';

export const enum Action { Allow, Deny, Audit }

/** A field with values and notValues (both optional: null when absent). */
export class StringField {
  constructor(public values: StringMatch[] | null, public notValues: StringMatch[] | null) {}

  /** `input` null: the attribute is absent (values never match it; notValues are satisfied). */
  matches(input: string | null): bool {
    if (this.values !== null) {
      if (input === null || !anyMatches(this.values as StringMatch[], input)) return false;
    }
    if (this.notValues !== null && input !== null) {
      if (anyMatches(this.notValues as StringMatch[], input)) return false;
    }
    return true;
  }

  /** Several candidate values (e.g. a list claim): values match if any does; notValues fail if any does. */
  matchesAny(inputs: string[] | null): bool {
    if (this.values !== null) {
      if (inputs === null) return false;
      let hit = false;
      for (let i = 0; i < inputs.length && !hit; i++) hit = anyMatches(this.values as StringMatch[], inputs[i]);
      if (!hit) return false;
    }
    if (this.notValues !== null && inputs !== null) {
      for (let i = 0; i < inputs.length; i++) if (anyMatches(this.notValues as StringMatch[], inputs[i])) return false;
    }
    return true;
  }
}

export class IpField {
  constructor(public values: Cidr[] | null, public notValues: Cidr[] | null) {}

  matches(ip: string | null): bool {
    if (this.values !== null) {
      if (ip === null || !anyCidrContains(this.values as Cidr[], ip)) return false;
    }
    if (this.notValues !== null && ip !== null) {
      if (anyCidrContains(this.notValues as Cidr[], ip)) return false;
    }
    return true;
  }
}

export class Source {
  principals: StringField | null = null;
  requestPrincipals: StringField | null = null;
  namespaces: StringField | null = null;
  ipBlocks: IpField | null = null;
  remoteIpBlocks: IpField | null = null;

  matches(req: RequestInfo): bool {
    if (this.principals !== null && !(this.principals as StringField).matches(req.principal)) return false;
    if (this.requestPrincipals !== null) {
      const auth = req.auth;
      if (!(this.requestPrincipals as StringField).matches(auth === null ? null : auth.principal)) return false;
    }
    if (this.namespaces !== null && !(this.namespaces as StringField).matches(req.namespace)) return false;
    if (this.ipBlocks !== null && !(this.ipBlocks as IpField).matches(req.sourceIp)) return false;
    if (this.remoteIpBlocks !== null && !(this.remoteIpBlocks as IpField).matches(req.remoteIp)) return false;
    return true;
  }
}

export class Operation {
  hosts: StringField | null = null;
  ports: StringField | null = null;
  methods: StringField | null = null;
  paths: StringField | null = null;

  matches(req: RequestInfo): bool {
    if (this.hosts !== null) {
      const f = this.hosts as StringField;
      // Istio matches the authority with and without its port.
      const host = req.host;
      const hostNoPort = hostWithoutPort(host);
      if (!(f.matches(host) || (hostNoPort != host && f.matches(hostNoPort)))) return false;
      if (f.notValues !== null && hostNoPort != host && anyMatches(f.notValues as StringMatch[], hostNoPort)) return false;
    }
    if (this.ports !== null && !(this.ports as StringField).matches(req.destPort)) return false;
    if (this.methods !== null && !(this.methods as StringField).matches(req.method)) return false;
    if (this.paths !== null && !(this.paths as StringField).matches(req.pathNoQuery())) return false;
    return true;
  }
}

export function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.substring(0, end + 1) : host;
  }
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') == colon ? host.substring(0, colon) : host;
}

export const enum ConditionKey {
  Claims, AuthPrincipal, AuthAudiences, AuthPresenter, Header, SourceIp, RemoteIp, SourceNamespace,
  SourcePrincipal, DestinationIp, DestinationPort, ConnectionSni,
}

export class Condition {
  /** claim path for Claims (`[a][b]` → ['a','b']); header name for Header. */
  arg: string[] = [];
  values: StringField | null = null;
  ips: IpField | null = null;
  constructor(public key: ConditionKey, public keyText: string) {}

  matches(req: RequestInfo): bool {
    switch (this.key) {
      case ConditionKey.Claims: {
        const auth = req.auth;
        return (this.values as StringField).matchesAny(auth === null ? null : claimStrings(auth.claims, this.arg));
      }
      case ConditionKey.AuthPrincipal: {
        const auth = req.auth;
        return (this.values as StringField).matches(auth === null ? null : auth.principal);
      }
      case ConditionKey.AuthAudiences: {
        const auth = req.auth;
        return (this.values as StringField).matchesAny(auth === null ? null : auth.audiences);
      }
      case ConditionKey.AuthPresenter: {
        const auth = req.auth;
        return (this.values as StringField).matches(auth === null ? null : auth.presenter);
      }
      case ConditionKey.Header: return (this.values as StringField).matches(req.header(this.arg[0]));
      case ConditionKey.SourceIp: return (this.ips as IpField).matches(req.sourceIp);
      case ConditionKey.RemoteIp: return (this.ips as IpField).matches(req.remoteIp);
      case ConditionKey.DestinationIp: return (this.ips as IpField).matches(req.destIp);
      case ConditionKey.SourceNamespace: return (this.values as StringField).matches(req.namespace);
      case ConditionKey.SourcePrincipal: return (this.values as StringField).matches(req.principal);
      case ConditionKey.DestinationPort: return (this.values as StringField).matches(req.destPort);
      case ConditionKey.ConnectionSni: return (this.values as StringField).matches(req.sni);
    }
    return false;
  }
}

/** A claim at a nested path as strings: a string, each string of a list, or a scalar's text. */
export function claimStrings(claims: JsonValue | null, path: string[]): string[] | null {
  const v = jsonAt(claims, path);
  if (v === null) return null;
  if (!v.isArray()) {
    const text = scalarText(v);
    return text === null ? null : [text];
  }
  const out = new Array<string>();
  const items = v.items;
  for (let i = 0; i < items.length; i++) {
    const text = scalarText(items[i]);
    if (text !== null) out.push(text);
  }
  return out;
}

export class Rule {
  from: Source[] = [];
  to: Operation[] = [];
  when: Condition[] = [];

  matches(req: RequestInfo): bool {
    if (this.from.length > 0) {
      let hit = false;
      for (let i = 0; i < this.from.length && !hit; i++) hit = this.from[i].matches(req);
      if (!hit) return false;
    }
    if (this.to.length > 0) {
      let hit = false;
      for (let i = 0; i < this.to.length && !hit; i++) hit = this.to[i].matches(req);
      if (!hit) return false;
    }
    for (let i = 0; i < this.when.length; i++) if (!this.when[i].matches(req)) return false;
    return true;
  }
}

export class Policy {
  rules: Rule[] = [];
  constructor(public name: string, public action: Action) {}

  /** A policy without rules matches nothing (Istio: an ALLOW without rules denies everything). */
  matches(req: RequestInfo): bool {
    for (let i = 0; i < this.rules.length; i++) if (this.rules[i].matches(req)) return true;
    return false;
  }
}

/** The verified JWT of a request. */
export class AuthInfo {
  constructor(
    public principal: string,
    public claims: JsonValue,
    public audiences: string[],
    public presenter: string | null,
  ) {}
}

/** What policies look at. The adapter fills it from headers and properties. */
export class RequestInfo {
  method: string = '';
  path: string = '';
  host: string = '';
  /** Request headers, lower-case names; repeated headers joined with ','. */
  headers: Map<string, string> = new Map<string, string>();
  sourceIp: string | null = null;
  remoteIp: string | null = null;
  destIp: string | null = null;
  destPort: string | null = null;
  sni: string | null = null;
  /** Peer principal `<td>/ns/<ns>/sa/<sa>` from the certificate's URI SAN; null without mTLS. */
  principal: string | null = null;
  namespace: string | null = null;
  auth: AuthInfo | null = null;

  header(name: string): string | null {
    return this.headers.has(name) ? this.headers.get(name) : null;
  }

  pathNoQuery(): string {
    const q = this.path.indexOf('?');
    const h = this.path.indexOf('#');
    let end = this.path.length;
    if (q >= 0) end = q;
    if (h >= 0 && h < end) end = h;
    return end == this.path.length ? this.path : this.path.substring(0, end);
  }

  /** Sets principal and namespace from a `spiffe://td/ns/x/sa/y` URI SAN. */
  setPeerUriSan(uri: string): void {
    if (!uri.startsWith('spiffe://')) return;
    const p = uri.substring(9);
    this.principal = p;
    const ns = p.indexOf('/ns/');
    if (ns >= 0) {
      const rest = p.substring(ns + 4);
      const slash = rest.indexOf('/');
      this.namespace = slash >= 0 ? rest.substring(0, slash) : rest;
    }
  }
}

export class Decision {
  constructor(public allowed: bool, public policy: string, public audited: string[]) {}
}

export function evaluate(policies: Policy[], req: RequestInfo): Decision {
  const audited = new Array<string>();
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    if (p.action == Action.Audit && p.matches(req)) audited.push(p.name);
  }
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    if (p.action == Action.Deny && p.matches(req)) return new Decision(false, p.name, audited);
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
