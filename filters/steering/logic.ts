// The steering decision: which http route matches, which destination it picks (weighted, random or
// sticky), and which faults apply. Pure: the request is read through RequestView and randomness
// comes from RandomSource, so as-pect tests drive it without a host.
import { HttpRoute, MatchBlock, KeyMatch, Destination, SteeringConfig, HostSet } from './config';
import { MatchKind } from '../../assembly/lib/matchers';
import { StringMatcher, asciiLower } from '../../assembly/lib/matchers';
import { cookieValue, hostOfAuthority, pathWithoutQueryOrFragment, queryOf, queryParams } from '../../assembly/lib/http';

/** Read access to the request (header names lower case; pseudo-headers `:path`, `:method`, ...). */
export abstract class RequestView {
  /** The first value of a header, or null. */
  abstract header(name: string): string | null;
  /**
   * Every value of a header, in order, the first being header(name): a header sent twice has two
   * values (empty: absent). Envoy's header matchers take each value on its own: a matcher matches
   * when any value does (measured in Envoy 1.40, test/steering/native.test.ts).
   */
  headerValues(name: string): string[] {
    const v = this.header(name);
    return v === null ? [] : [v];
  }
  /** The header's value number `n` (0: the first), or null when it has fewer values. */
  headerValue(name: string, n: i32): string | null {
    if (n == 0) return this.header(name);
    const values = this.headerValues(name);
    return n < values.length ? values[n] : null;
  }
  /** The port the request arrived on (Envoy's `destination.port`: the listener's), 0 when unknown. */
  destinationPort(): i32 {
    return 0;
  }
}

export abstract class RandomSource {
  abstract next(): u64;
}

export class Decision {
  /** null: no http route matched (see notFound), or the authority is not one of `hosts`: the request passes untouched. */
  route: HttpRoute | null = null;
  /** The authority is one of the VirtualService's hosts but no route matched: Istio's virtual host answers 404. */
  notFound: bool = false;
  destination: Destination | null = null;
  /** The destination came from the sticky key's hash. */
  sticky: bool = false;
  /** 0: no abort. */
  abortStatus: i32 = 0;
  /** The abort's gRPC status; -1: none. */
  abortGrpcStatus: i32 = -1;
  /** 0: no delay. */
  delayMs: u32 = 0;
}

/** What the matchers look at, each derived at most once per request and only when a matcher asks. */
export class RequestFacts {
  authority: string | null = null;
  /** The authority's host, lower case, without port. */
  host: string = '';
  private fullPath: string | null = null;
  private path_: string | null = null;
  private query_: string | null = null;
  /** -1 until read: the request's destination port (the listener's, not the `:authority` port). */
  private destPort: i32 = -1;
  private params: Map<string, string> | null = null;

  constructor(public readonly req: RequestView) {
    const a = req.header(':authority');
    this.authority = a;
    if (a !== null) this.host = asciiLower(hostOfAuthority(a));
  }

  private get full(): string {
    const f = this.fullPath;
    if (f !== null) return f;
    const p = this.req.header(':path');
    const full = p === null ? '' : p;
    this.fullPath = full;
    return full;
  }

  /** `:path` without query or fragment. */
  get path(): string {
    const p = this.path_;
    if (p !== null) return p;
    const path = pathWithoutQueryOrFragment(this.full);
    this.path_ = path;
    return path;
  }

  /** `:path`'s query (after '?', before '#'). */
  get query(): string {
    const q = this.query_;
    if (q !== null) return q;
    const query = queryOf(this.full);
    this.query_ = query;
    return query;
  }

  /** The destination port (read once, only when a match block asks for it). */
  get port(): i32 {
    if (this.destPort < 0) {
      const p = this.req.destinationPort();
      this.destPort = p > 0 && p <= 65535 ? p : 0;
    }
    return this.destPort;
  }

  /** The first value of a query parameter (raw, as Envoy compares it: assembly/lib/http.ts), or null. */
  queryParam(name: string): string | null {
    let params = this.params;
    if (params === null) {
      params = queryParams(this.query);
      this.params = params;
    }
    return params.has(name) ? params.get(name) : null;
  }
}

/**
 * Whether the request's host (lower case, port stripped) is one of the domains of the VirtualService's
 * virtual host (config.ts addVirtualHostDomains): exact names, then `*.suffix` (at least one
 * character before the suffix, as Envoy's wildcard domains), or `*`.
 */
export function hostMatches(set: HostSet, host: string): bool {
  if (set.any) return true;
  if (set.exact.has(host)) return true;
  for (let i = 0; i < set.suffixes.length; i++) {
    const suffix = set.suffixes[i];
    if (host.length > suffix.length && host.endsWith(suffix)) return true;
  }
  return false;
}

/** A header matcher as Envoy's: true when any value of the header matches (absent: none does). */
export function headerMatches(k: KeyMatch, req: RequestView): bool {
  const first = req.header(k.name);
  if (first === null) return false;
  if (k.matcher.matches(first)) return true;
  // Only a first value that fails needs the others, each read on its own (most headers have one).
  for (let i = 1; ; i++) {
    const v = req.headerValue(k.name, i);
    if (v === null) return false;
    if (k.matcher.matches(v)) return true;
  }
  return false;
}

function headersMatch(list: KeyMatch[], req: RequestView): bool {
  for (let i = 0; i < list.length; i++) {
    if (!headerMatches(list[i], req)) return false;
  }
  return true;
}

/**
 * Istio withoutHeaders (Envoy invert_match): the block fails when any listed header matches. Istio
 * also sets treat_missing_header_as_empty (except for presence matches): a missing header is matched
 * as the empty value, so `withoutHeaders: {x: {prefix: ""}}` fails a request without `x`.
 */
function withoutHeadersMatch(list: KeyMatch[], req: RequestView): bool {
  for (let i = 0; i < list.length; i++) {
    const k = list[i];
    if (req.header(k.name) === null) {
      if (k.matcher.kind != MatchKind.Present && k.matcher.matches('')) return false;
    } else if (headerMatches(k, req)) return false;
  }
  return true;
}

function fieldMatches(m: StringMatcher | null, value: string | null): bool {
  return m === null || m.matches(value);
}

/**
 * Whether one match block takes the request. `servicePort` (when known) stands for the listener port
 * pilot compares `port` with; else the request's destination port.
 */
export function blockMatches(m: MatchBlock, facts: RequestFacts, servicePort: i32 = 0): bool {
  const req = facts.req;
  if (m.port != 0 && m.port != (servicePort > 0 ? servicePort : facts.port)) return false;
  // Each pseudo-header is read only when a matcher looks at it.
  if (m.method !== null && !fieldMatches(m.method, req.header(':method'))) return false;
  if (m.scheme !== null && !fieldMatches(m.scheme, req.header(':scheme'))) return false;
  if (!fieldMatches(m.authority, facts.authority)) return false;
  if (m.uri !== null && !fieldMatches(m.uri, facts.path)) return false;
  if (!headersMatch(m.headers, req)) return false;
  if (!withoutHeadersMatch(m.withoutHeaders, req)) return false;
  for (let i = 0; i < m.queryParams.length; i++) {
    const q = m.queryParams[i];
    if (!q.matcher.matches(facts.queryParam(q.name))) return false;
  }
  return true;
}

export function routeMatches(route: HttpRoute, facts: RequestFacts, servicePort: i32 = 0): bool {
  if (route.matches.length == 0) return true;
  for (let i = 0; i < route.matches.length; i++) {
    if (blockMatches(route.matches[i], facts, servicePort)) return true;
  }
  return false;
}

/** FNV-1a (64-bit) over the UTF-8 bytes of a string. */
export function fnv1a64(s: string): u64 {
  const bytes = String.UTF8.encode(s);
  const base = changetype<usize>(bytes);
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < bytes.byteLength; i++) {
    h ^= <u64>load<u8>(base + i);
    h *= 0x100000001b3;
  }
  return h;
}

/** The sticky key's value for this request, or null (no key configured, or absent/empty). */
export function stickyValue(cfg: SteeringConfig, req: RequestView): string | null {
  let v: string | null = null;
  if (cfg.stickyHeader.length > 0) v = req.header(cfg.stickyHeader);
  else if (cfg.stickyCookie.length > 0) {
    // The cookie may come in several `cookie` headers: the first one holding the name wins.
    v = cookieValue(req.headerValues('cookie'), cfg.stickyCookie);
  }
  if (v !== null && v.length == 0) return null;
  return v;
}

/**
 * Picks a destination by weight for a bucket in [0, total weight), as Envoy's weighted_clusters: the
 * first whose running sum of weights passes the bucket (a weight-0 destination is never picked).
 */
export function pickByBucket(dests: Destination[], bucket: u64): Destination {
  let cum: u64 = 0;
  for (let i = 0; i < dests.length; i++) {
    cum += dests[i].weight;
    if (bucket < cum) return dests[i];
  }
  return dests[dests.length - 1];
}

/** True for perMillion of a million requests (Envoy's fault filter: random % 1e6 < numerator). */
export function draw(perMillion: u32, rng: RandomSource): bool {
  if (perMillion >= 1_000_000) return true;
  if (perMillion == 0) return false;
  return <u32>(rng.next() % 1_000_000) < perMillion;
}

/**
 * Decides one request. Randomness is drawn in this order: the weighted choice (only when a route
 * has more than one destination and no sticky value), the delay, the abort (each only when its
 * share is strictly between 0 and a million per million).
 */
export function decide(cfg: SteeringConfig, req: RequestView, rng: RandomSource): Decision {
  const d = new Decision();
  if (cfg.inert) return d;
  const facts = new RequestFacts(req);
  if (!hostMatches(cfg.hostSet, facts.host)) return d;
  for (let i = 0; i < cfg.routes.length; i++) {
    const route = cfg.routes[i];
    if (!routeMatches(route, facts, cfg.servicePort)) continue;
    d.route = route;
    const dests = route.destinations;
    if (dests.length == 1) d.destination = dests[0];
    else {
      const key = stickyValue(cfg, req);
      // Envoy's weighted_clusters: a random value modulo the total weight.
      let bucket: u64;
      if (key !== null) {
        bucket = fnv1a64(key) % route.totalWeight;
        d.sticky = true;
      } else bucket = rng.next() % route.totalWeight;
      d.destination = pickByBucket(dests, bucket);
    }
    const fault = route.fault;
    if (fault !== null) {
      if (fault.delayMs > 0 && draw(fault.delayPerMillion, rng)) d.delayMs = fault.delayMs;
      if (fault.abortStatus > 0 && draw(fault.abortPerMillion, rng)) {
        d.abortStatus = fault.abortStatus;
        d.abortGrpcStatus = fault.abortGrpcStatus;
      }
    }
    return d;
  }
  d.notFound = true;
  return d;
}
