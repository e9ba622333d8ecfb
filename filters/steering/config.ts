// The steering filter's configuration: the `spec` of an Istio VirtualService, plus an optional
// `asmesh` object. Parsed and validated once at configure time; immutable afterwards.
// Pure: no host calls. Errors are `<json-path>: <what>` (the adapter prefixes `steering: config `).
import { JsonKind, JsonValue, memberPath, indexPath } from '../../assembly/lib/json';
import { ConfigChecker, ConfigResult } from '../../assembly/lib/config';
import { parseDurationMs } from '../../assembly/lib/duration';
import { Regex } from '../../assembly/lib/regex';
import { StringMatcher, asciiLower } from '../../assembly/lib/matchers';
import { CLUSTER_HEADER, CLUSTER_TEMPLATE } from '../../assembly/lib/contracts';

export const DEFAULT_PORT: i32 = 80;
/** Istio's default namespace and DNS suffix (a sidecar's DNS domain is `<ns>.svc.cluster.local`). */
export const DEFAULT_NAMESPACE = 'default';
export const CLUSTER_DOMAIN = 'cluster.local';
const MAX_DELAY_MS: i64 = 3_600_000;
/** Istio's weight is an int32 (validation: never negative). */
export const MAX_WEIGHT: i64 = 2_147_483_647;
/** Envoy refuses weighted_clusters whose weights sum past a uint32 ("exceeds 4294967295"). */
export const MAX_TOTAL_WEIGHT: u64 = 4_294_967_295;

/** A named value matcher (a header, a query parameter). */
export class KeyMatch {
  constructor(
    public readonly name: string,
    public readonly matcher: StringMatcher,
  ) {}
}

/** One `match[]` block: every field present must match (AND). */
export class MatchBlock {
  name: string = '';
  uri: StringMatcher | null = null;
  scheme: StringMatcher | null = null;
  method: StringMatcher | null = null;
  authority: StringMatcher | null = null;
  headers: KeyMatch[] = [];
  withoutHeaders: KeyMatch[] = [];
  queryParams: KeyMatch[] = [];
  /** 0: any port. */
  port: i32 = 0;
}

export class HeaderValue {
  constructor(
    public readonly name: string,
    public readonly value: string,
  ) {}
}

/** `headers.request` / `headers.response`: set (replace), add (append), remove. */
export class HeaderOps {
  toSet: HeaderValue[] = [];
  toAdd: HeaderValue[] = [];
  toRemove: string[] = [];
  get empty(): bool {
    return this.toSet.length == 0 && this.toAdd.length == 0 && this.toRemove.length == 0;
  }
}

export class Destination {
  host: string = '';
  subset: string = '';
  /** 0: not given (the template uses asmesh.defaultPort). */
  port: i32 = 0;
  /** Istio's weight (absent: 0); only a route with several destinations reads it. */
  weight: u32 = 0;
  /** The Envoy cluster name, rendered from the template at configure time. */
  cluster: string = '';
  requestOps: HeaderOps | null = null;
  responseOps: HeaderOps | null = null;
}

export class Fault {
  /** 0: no abort. */
  abortStatus: i32 = 0;
  /** An abort's gRPC status (abort.grpcStatus; abortStatus is then 200, as Envoy's fault filter); -1: none. */
  abortGrpcStatus: i32 = -1;
  /** Per million, as Istio hands it to Envoy's fault filter (floor(percentage * 10000)); unset: 0. */
  abortPerMillion: u32 = 0;
  /** 0: no delay. */
  delayMs: u32 = 0;
  delayPerMillion: u32 = 0;
}

/**
 * The `:authority` hosts the VirtualService applies to: exactly the domains of the virtual host
 * Istio's pilot builds for it (lower case, compared after the port is stripped).
 */
export class HostSet {
  /** A VS host `*`. */
  any: bool = false;
  exact: Set<string> = new Set<string>();
  /** `*.example.com` as `.example.com` (Envoy: the `*` stands for at least one character). */
  suffixes: string[] = [];
}

export class HttpRoute {
  /** `name`, or the index in `http[]` as text when unnamed (used in metrics and logs). */
  label: string = '';
  /** Its index in `http[]`, which is also its index in SteeringConfig.routes (and the filter's counters). */
  index: i32 = 0;
  /** Empty: matches every request. */
  matches: MatchBlock[] = [];
  destinations: Destination[] = [];
  /** The sum of the destinations' weights (several destinations: in [1, MAX_TOTAL_WEIGHT]). */
  totalWeight: u64 = 0;
  fault: Fault | null = null;
  requestOps: HeaderOps | null = null;
  responseOps: HeaderOps | null = null;
}

export class SteeringConfig {
  hosts: string[] = [];
  hostSet: HostSet = new HostSet();
  /** The namespace of the VirtualService: short host names resolve in it. */
  namespace: string = DEFAULT_NAMESPACE;
  /** This proxy's namespace: a service of this namespace is also reachable by its short name. */
  proxyNamespace: string = DEFAULT_NAMESPACE;
  /** The service port this listener serves (Istio: the outbound listener's port); 0: unknown. */
  servicePort: i32 = 0;
  /**
   * No http route can apply on servicePort (each has only `port` matches for other ports): pilot then
   * builds no virtual host from this VirtualService and the service keeps its default route.
   */
  inert: bool = false;
  routes: HttpRoute[] = [];
  clusterTemplate: string = CLUSTER_TEMPLATE;
  defaultPort: i32 = DEFAULT_PORT;
  /** Sticky key: a header name (lower case) or a cookie name; both empty: random choice. */
  stickyHeader: string = '';
  stickyCookie: string = '';
  /** Fields accepted but not enforced (e.g. `$.http[0].timeout`), for a warning at configure. */
  ignored: string[] = [];
  /**
   * Not the first steering filter of the chain (one per VirtualService, translate): an earlier one has
   * removed the client's x-asmesh-cluster, so one present here is an earlier filter's decision, kept.
   */
  chained: bool = false;
}

// Fields Istio knows. The ones we cannot honour either fail (they change where or whether a
// request goes) or are ignored with a warning (they do not change the destination).
const SPEC_FIELDS = ['hosts', 'gateways', 'http', 'tls', 'tcp', 'exportTo', 'asmesh'];
const ROUTE_FIELDS = [
  'name',
  'match',
  'route',
  'redirect',
  'directResponse',
  'delegate',
  'rewrite',
  'timeout',
  'retries',
  'fault',
  'mirror',
  'mirrors',
  'mirrorPercentage',
  'mirrorPercent',
  'mirror_percent',
  'corsPolicy',
  'headers',
];
const ROUTE_REJECTED = ['redirect', 'directResponse', 'delegate', 'rewrite'];
const ROUTE_IGNORED = ['timeout', 'retries', 'mirror', 'mirrors', 'mirrorPercentage', 'mirrorPercent', 'mirror_percent', 'corsPolicy'];
const MATCH_FIELDS = [
  'name',
  'uri',
  'scheme',
  'method',
  'authority',
  'headers',
  'port',
  'sourceLabels',
  'gateways',
  'queryParams',
  'ignoreUriCase',
  'withoutHeaders',
  'sourceNamespace',
  'statPrefix',
];
const MATCH_REJECTED = ['sourceLabels', 'gateways', 'sourceNamespace'];
const DEST_FIELDS = ['destination', 'weight', 'headers'];
const DEST_INNER_FIELDS = ['host', 'subset', 'port'];
const FAULT_FIELDS = ['delay', 'abort'];
const DELAY_FIELDS = ['fixedDelay', 'exponentialDelay', 'percentage', 'percent'];
const ABORT_FIELDS = ['httpStatus', 'grpcStatus', 'http2Error', 'percentage'];
/** gRPC status names by code, as Istio's grpc.SupportedGRPCStatus. */
const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];
const HEADERS_FIELDS = ['request', 'response'];
const OPS_FIELDS = ['set', 'add', 'remove'];
const STRING_MATCH_FIELDS = ['exact', 'prefix', 'regex'];
const ASMESH_FIELDS = ['clusterName', 'defaultPort', 'stickyKey', 'namespace', 'port', 'chained'];
const STICKY_FIELDS = ['header', 'cookie'];

class Parser {
  c: ConfigChecker = new ConfigChecker();
  config: SteeringConfig = new SteeringConfig();

  get failed(): bool {
    return this.c.failed;
  }

  constructor(private readonly nodeNamespace: string) {}

  parse(bytes: ArrayBuffer): ConfigResult<SteeringConfig> {
    const root = this.c.parse(bytes);
    if (root === null) return this.result();
    if (!this.c.object(root, SPEC_FIELDS)) return this.result();
    this.parseAsmesh(root);
    if (this.failed) return this.result();
    this.parseHosts(root);
    if (this.failed) return this.result();
    for (let k = 0; k < 2; k++) {
      const key = k == 0 ? 'tls' : 'tcp';
      const v = this.c.optional(root, key, JsonKind.Array);
      if (v !== null && v.items.length > 0) {
        this.c.fail(v.path, 'not supported by asmesh steering (HTTP routes only)');
        return this.result();
      }
    }
    if (root.has('gateways')) this.config.ignored.push(memberPath(root.path, 'gateways'));
    if (root.has('exportTo')) this.config.ignored.push(memberPath(root.path, 'exportTo'));
    const http = this.c.optional(root, 'http', JsonKind.Array);
    if (http !== null) {
      for (let i = 0; i < http.items.length && !this.failed; i++) this.parseRoute(http.items[i], i);
    }
    if (!this.failed) this.config.inert = noRouteOnPort(this.config);
    return this.result();
  }

  result(): ConfigResult<SteeringConfig> {
    if (this.failed) return new ConfigResult<SteeringConfig>(null, this.c.error);
    return new ConfigResult<SteeringConfig>(this.config, '');
  }

  parseAsmesh(root: JsonValue): void {
    // The proxy's namespace is the node's (Istio's NAMESPACE); the VirtualService's is asmesh.namespace,
    // each falling back on the other, then on `default`.
    if (this.nodeNamespace.length > 0) this.config.namespace = this.config.proxyNamespace = this.nodeNamespace;
    const a = root.get('asmesh');
    if (a === null) return;
    if (!this.c.object(a, ASMESH_FIELDS)) return;
    const cfg = this.config;
    cfg.servicePort = <i32>this.c.int(a, 'port', 0, 1, 65535);
    cfg.chained = this.c.bool(a, 'chained', false);
    cfg.defaultPort = <i32>this.c.int(a, 'defaultPort', cfg.servicePort > 0 ? cfg.servicePort : DEFAULT_PORT, 1, 65535);
    const ns = this.c.optional(a, 'namespace', JsonKind.String);
    if (ns !== null) {
      if (!isDnsLabel(ns.str)) {
        this.c.fail(ns.path, 'not a namespace name (a DNS label: a-z, 0-9, -)');
        return;
      }
      cfg.namespace = ns.str;
      if (this.nodeNamespace.length == 0) cfg.proxyNamespace = ns.str;
    }
    const tpl = this.c.optional(a, 'clusterName', JsonKind.String);
    if (tpl !== null) {
      const problem = templateProblem(tpl.str);
      if (problem.length > 0) {
        this.c.fail(tpl.path, problem);
        return;
      }
      cfg.clusterTemplate = tpl.str;
    }
    const sticky = a.get('stickyKey');
    if (sticky !== null) {
      if (!this.c.object(sticky, STICKY_FIELDS)) return;
      const h = this.c.optional(sticky, 'header', JsonKind.String);
      const k = this.c.optional(sticky, 'cookie', JsonKind.String);
      if (this.failed) return;
      if ((h === null) == (k === null)) {
        this.c.fail(sticky.path, 'set exactly one of header, cookie');
        return;
      }
      const v = (h !== null ? h : k) as JsonValue;
      if (v.str.length == 0) {
        this.c.fail(v.path, 'must not be empty');
        return;
      }
      if (h !== null) cfg.stickyHeader = asciiLower(h.str);
      else cfg.stickyCookie = v.str;
    }
  }

  parseHosts(root: JsonValue): void {
    const hosts = this.c.required(root, 'hosts', JsonKind.Array);
    if (hosts === null) return;
    if (hosts.items.length == 0) {
      this.c.fail(hosts.path, 'must list at least one host');
      return;
    }
    for (let i = 0; i < hosts.items.length; i++) {
      const h = hosts.items[i];
      if (!this.c.kind(h, JsonKind.String)) return;
      if (h.str.length == 0) {
        this.c.fail(h.path, 'must not be empty');
        return;
      }
      const host = asciiLower(h.str);
      this.config.hosts.push(host);
      addVirtualHostDomains(this.config.hostSet, resolveFqdn(host, this.config.namespace), this.config.proxyNamespace);
    }
  }

  parseRoute(v: JsonValue, index: i32): void {
    if (!this.c.object(v, ROUTE_FIELDS)) return;
    for (let i = 0; i < ROUTE_REJECTED.length; i++) {
      const f = v.get(ROUTE_REJECTED[i]);
      if (f !== null) {
        this.c.fail(f.path, 'not supported by asmesh steering');
        return;
      }
    }
    for (let i = 0; i < ROUTE_IGNORED.length; i++) {
      if (v.has(ROUTE_IGNORED[i])) this.config.ignored.push(memberPath(v.path, ROUTE_IGNORED[i]));
    }
    const route = new HttpRoute();
    route.index = index;
    const name = this.c.optional(v, 'name', JsonKind.String);
    route.label = name !== null && name.str.length > 0 ? name.str : index.toString();
    const match = this.c.optional(v, 'match', JsonKind.Array);
    if (match !== null) {
      for (let i = 0; i < match.items.length && !this.failed; i++) {
        const m = this.parseMatch(match.items[i]);
        if (m !== null) route.matches.push(m);
      }
    }
    if (this.failed) return;
    const dests = this.c.required(v, 'route', JsonKind.Array);
    if (dests === null) return;
    if (dests.items.length == 0) {
      this.c.fail(dests.path, 'must list at least one destination');
      return;
    }
    // Istio's rule (pkg/config/validation validateHTTPRouteDestinations): each weight >= 0, absent = 0;
    // several destinations must not all weigh 0. Pilot then emits weighted_clusters of the non-zero ones
    // (Envoy picks proportionally to their total, which must fit a uint32); a single destination's weight
    // is never read (pilot emits a plain cluster).
    let sum: u64 = 0;
    for (let i = 0; i < dests.items.length && !this.failed; i++) {
      const d = this.parseDestination(dests.items[i]);
      if (d === null) return;
      sum += d.weight;
      route.destinations.push(d);
    }
    if (this.failed) return;
    if (route.destinations.length > 1) {
      if (sum == 0) {
        this.c.fail(dests.path, 'total destination weight = 0 (Istio rejects it)');
        return;
      }
      if (sum > MAX_TOTAL_WEIGHT) {
        this.c.fail(dests.path, 'weights sum to ' + sum.toString() + ', more than 4294967295 (Envoy rejects the route)');
        return;
      }
    }
    route.totalWeight = sum;
    const fault = v.get('fault');
    if (fault !== null) route.fault = this.parseFault(fault);
    const headers = v.get('headers');
    if (headers !== null) {
      if (!this.c.object(headers, HEADERS_FIELDS)) return;
      route.requestOps = this.parseOps(headers.get('request'));
      route.responseOps = this.parseOps(headers.get('response'));
    }
    if (!this.failed) this.config.routes.push(route);
  }

  parseMatch(v: JsonValue): MatchBlock | null {
    if (!this.c.object(v, MATCH_FIELDS)) return null;
    for (let i = 0; i < MATCH_REJECTED.length; i++) {
      const f = v.get(MATCH_REJECTED[i]);
      if (f !== null) {
        this.c.fail(f.path, 'not supported by asmesh steering');
        return null;
      }
    }
    const m = new MatchBlock();
    m.name = this.c.str(v, 'name');
    const ignoreCase = this.c.bool(v, 'ignoreUriCase', false);
    if (this.failed) return null;
    const uri = v.get('uri');
    // `{}` (no match type) is Istio's catch-all: prefix `/` for uri, present_match for the others.
    if (uri !== null) m.uri = this.stringMatch(uri, true, ignoreCase, false);
    const scheme = v.get('scheme');
    if (scheme !== null) m.scheme = this.stringMatch(scheme, true, false, false);
    const method = v.get('method');
    if (method !== null) m.method = this.stringMatch(method, true, false, false);
    const authority = v.get('authority');
    if (authority !== null) m.authority = this.stringMatch(authority, true, false, false);
    if (this.failed) return null;
    m.headers = this.keyMatches(v.get('headers'), false);
    m.withoutHeaders = this.keyMatches(v.get('withoutHeaders'), false);
    m.queryParams = this.keyMatches(v.get('queryParams'), true);
    m.port = <i32>this.c.int(v, 'port', 0, 1, 65535);
    return this.failed ? null : m;
  }

  keyMatches(v: JsonValue | null, query: bool): KeyMatch[] {
    const out = new Array<KeyMatch>();
    if (v === null) return out;
    if (!this.c.kind(v, JsonKind.Object)) return out;
    for (let i = 0; i < v.keys.length && !this.failed; i++) {
      const key = v.keys[i];
      if (key.length == 0) {
        this.c.fail(v.path, 'empty name');
        return out;
      }
      const value = v.get(key) as JsonValue;
      // Istio matches `@request.auth.claims...` against the JWT's claims, not a header.
      if (!query && key.startsWith('@')) {
        this.c.fail(value.path, 'JWT claim matches are not supported by asmesh steering');
        return out;
      }
      const matcher = this.stringMatch(value, true, false, query);
      if (matcher !== null) out.push(new KeyMatch(query ? key : asciiLower(key), matcher));
    }
    return out;
  }

  /** An Istio StringMatch: exactly one of exact, prefix, regex; `{}` means presence where allowed. */
  stringMatch(v: JsonValue, emptyIsPresence: bool, ignoreCase: bool, noPrefix: bool): StringMatcher | null {
    if (!this.c.object(v, STRING_MATCH_FIELDS)) return null;
    if (v.keys.length == 0) {
      if (emptyIsPresence) return StringMatcher.present();
      this.c.fail(v.path, 'set one of exact, prefix, regex');
      return null;
    }
    if (v.keys.length > 1) {
      this.c.fail(v.path, 'set only one of exact, prefix, regex');
      return null;
    }
    const kind = v.keys[0];
    const s = this.c.required(v, kind, JsonKind.String);
    if (s === null) return null;
    // Istio's validation: an empty prefix or regex is an error (Envoy would refuse an empty prefix too).
    if (kind != 'exact' && s.str.length == 0) {
      this.c.fail(s.path, 'must not be empty (Istio rejects an empty ' + kind + ')');
      return null;
    }
    if (kind == 'exact') return StringMatcher.exact(s.str, ignoreCase);
    if (kind == 'prefix') {
      if (noPrefix) {
        this.c.fail(s.path, 'prefix is not supported for query parameters (Istio: exact or regex)');
        return null;
      }
      return StringMatcher.prefix(s.str, ignoreCase);
    }
    const r = Regex.compile(s.str);
    if (r.regex === null) {
      this.c.fail(s.path, 'invalid regex: ' + r.error);
      return null;
    }
    return StringMatcher.regex(r.regex as Regex);
  }

  parseDestination(v: JsonValue): Destination | null {
    if (!this.c.object(v, DEST_FIELDS)) return null;
    const inner = this.c.required(v, 'destination', JsonKind.Object);
    if (inner === null) return null;
    if (!this.c.object(inner, DEST_INNER_FIELDS)) return null;
    const d = new Destination();
    d.host = this.c.requiredStr(inner, 'host');
    d.subset = this.c.str(inner, 'subset');
    if (this.failed) return null;
    const port = inner.get('port');
    if (port !== null) {
      if (!this.c.object(port, ['number'])) return null;
      d.port = <i32>this.c.int(port, 'number', 0, 1, 65535);
      if (this.failed) return null;
    }
    d.weight = <u32>this.c.int(v, 'weight', 0, 0, MAX_WEIGHT);
    const headers = v.get('headers');
    if (headers !== null) {
      if (!this.c.object(headers, HEADERS_FIELDS)) return null;
      d.requestOps = this.parseOps(headers.get('request'));
      d.responseOps = this.parseOps(headers.get('response'));
    }
    d.cluster = renderCluster(
      this.config.clusterTemplate,
      d.host,
      resolveFqdn(asciiLower(d.host), this.config.namespace),
      d.subset,
      d.port > 0 ? d.port : this.config.defaultPort,
    );
    return this.failed ? null : d;
  }

  /**
   * A fault's share of requests per million, as Istio translates it for Envoy's fault filter:
   * `percentage.value` -> floor(value * 10000) per million; delay's old `percent` -> percent per
   * hundred; neither -> 0 (Istio: an unspecified percentage injects nothing).
   */
  perMillion(v: JsonValue, legacy: bool): u32 {
    const p = v.get('percentage');
    if (p !== null) {
      if (!this.c.object(p, ['value'])) return 0;
      return <u32>Math.floor(this.c.number(p, 'value', 0, 0, 100) * 10000);
    }
    if (legacy && v.has('percent')) return <u32>this.c.int(v, 'percent', 0, 0, 100) * 10000;
    return 0;
  }

  parseFault(v: JsonValue): Fault | null {
    if (!this.c.object(v, FAULT_FIELDS)) return null;
    const f = new Fault();
    const delay = v.get('delay');
    if (delay !== null) {
      if (!this.c.object(delay, DELAY_FIELDS)) return null;
      const exp = delay.get('exponentialDelay');
      if (exp !== null) {
        this.c.fail(exp.path, 'not supported by asmesh steering');
        return null;
      }
      const fixed = this.c.required(delay, 'fixedDelay', JsonKind.String);
      if (fixed === null) return null;
      const ms = parseDurationMs(fixed.str);
      if (ms < 0) {
        this.c.fail(fixed.path, 'invalid duration "' + fixed.str + '" (e.g. "5s", "0.5s", "100ms")');
        return null;
      }
      if (ms < 1 || ms > MAX_DELAY_MS) {
        this.c.fail(fixed.path, 'must be between 1ms and 1h');
        return null;
      }
      f.delayMs = <u32>ms;
      f.delayPerMillion = this.perMillion(delay, true);
    }
    const abort = v.get('abort');
    if (abort !== null) {
      if (!this.c.object(abort, ABORT_FIELDS)) return null;
      const h2 = abort.get('http2Error');
      if (h2 !== null) {
        this.c.fail(h2.path, 'not supported by asmesh steering (use httpStatus or grpcStatus)');
        return null;
      }
      if (abort.has('grpcStatus')) {
        if (abort.has('httpStatus')) {
          this.c.fail(abort.path, 'set one of httpStatus, grpcStatus');
          return null;
        }
        const name = this.c.str(abort, 'grpcStatus');
        const code = GRPC_STATUS_NAMES.indexOf(name);
        if (code < 0) {
          if (!this.failed) this.c.fail(memberPath(abort.path, 'grpcStatus'), 'not a gRPC status name (e.g. UNAVAILABLE)');
          return null;
        }
        // Envoy's fault filter answers a gRPC abort with HTTP 200 and the gRPC status.
        f.abortStatus = 200;
        f.abortGrpcStatus = code;
      } else if (!abort.has('httpStatus')) {
        this.c.fail(memberPath(abort.path, 'httpStatus'), 'required (or grpcStatus)');
        return null;
      } else f.abortStatus = <i32>this.c.int(abort, 'httpStatus', 0, 200, 599);
      f.abortPerMillion = this.perMillion(abort, false);
    }
    if (delay === null && abort === null) {
      this.c.fail(v.path, 'set delay or abort');
      return null;
    }
    return this.failed ? null : f;
  }

  parseOps(v: JsonValue | null): HeaderOps | null {
    if (v === null) return null;
    if (!this.c.object(v, OPS_FIELDS)) return null;
    const ops = new HeaderOps();
    ops.toSet = this.headerValues(v.get('set'));
    ops.toAdd = this.headerValues(v.get('add'));
    const remove = this.c.optional(v, 'remove', JsonKind.Array);
    if (remove !== null) {
      for (let i = 0; i < remove.items.length; i++) {
        const item = remove.items[i];
        if (!this.c.kind(item, JsonKind.String)) return null;
        // Istio drops removes of `host` and pseudo-headers (Envoy cannot remove them).
        if (item.str.startsWith(':') || asciiLower(item.str) == 'host') continue;
        if (!this.headerName(item)) return null;
        ops.toRemove.push(asciiLower(item.str));
      }
    }
    return this.failed || ops.empty ? null : ops;
  }

  headerName(v: JsonValue): bool {
    const s = v.str;
    if (s.length == 0) return this.c.fail(v.path, 'empty header name');
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      // RFC 9110 token characters; pseudo-headers and x-asmesh-cluster are off limits.
      const ok =
        (c >= 0x30 && c <= 0x39) ||
        (c >= 0x41 && c <= 0x5a) ||
        (c >= 0x61 && c <= 0x7a) ||
        "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c));
      if (!ok) return this.c.fail(v.path, 'invalid header name "' + s + '"');
    }
    if (asciiLower(s) == CLUSTER_HEADER) return this.c.fail(v.path, 'x-asmesh-cluster is written by the filter itself');
    if (asciiLower(s) == 'host') return this.c.fail(v.path, 'host (Istio: an authority rewrite) is not supported by asmesh steering');
    return true;
  }

  headerValues(v: JsonValue | null): HeaderValue[] {
    const out = new Array<HeaderValue>();
    if (v === null) return out;
    if (!this.c.kind(v, JsonKind.Object)) return out;
    for (let i = 0; i < v.keys.length; i++) {
      const key = v.keys[i];
      const value = v.get(key) as JsonValue;
      const nameProbe = new JsonValue(JsonKind.String, memberPath(v.path, key));
      nameProbe.str = key;
      if (key == ':authority') {
        this.c.fail(nameProbe.path, ':authority (Istio: an authority rewrite) is not supported by asmesh steering');
        return out;
      }
      if (!this.headerName(nameProbe)) return out;
      if (!this.c.kind(value, JsonKind.String)) return out;
      for (let j = 0; j < value.str.length; j++) {
        const c = value.str.charCodeAt(j);
        if (c == 0 || c == 0x0a || c == 0x0d) {
          this.c.fail(value.path, 'header value contains NUL, CR or LF');
          return out;
        }
      }
      // Envoy reads `%` in a header value as a substitution formatter (%REQ(..)%, ...), which asmesh does not evaluate.
      if (value.str.includes('%')) {
        this.c.fail(value.path, 'a % (an Envoy formatter) is not supported by asmesh steering');
        return out;
      }
      // Envoy drops a header to set or add whose value is empty (keep_empty_value is false in pilot's routes).
      if (value.str.length == 0) continue;
      out.push(new HeaderValue(asciiLower(key), value.str));
    }
    return out;
  }
}

/** Why a cluster-name template is unusable ('' when fine): only {host}, {fqdn}, {subset}, {port}. */
export function templateProblem(t: string): string {
  if (t.length == 0) return 'must not be empty';
  let i = 0;
  while (i < t.length) {
    const open = t.indexOf('{', i);
    if (open < 0) break;
    const close = t.indexOf('}', open);
    if (close < 0) return 'unclosed { in template';
    const name = t.substring(open + 1, close);
    if (name != 'host' && name != 'fqdn' && name != 'subset' && name != 'port')
      return 'unknown placeholder {' + name + '} (use {host}, {fqdn}, {subset}, {port})';
    i = close + 1;
  }
  return '';
}

export function renderCluster(template: string, host: string, fqdn: string, subset: string, port: i32): string {
  return template
    .replaceAll('{host}', host)
    .replaceAll('{fqdn}', fqdn)
    .replaceAll('{subset}', subset)
    .replaceAll('{port}', port.toString());
}

/** A namespace name: an RFC 1123 DNS label. */
export function isDnsLabel(s: string): bool {
  if (s.length == 0 || s.length > 63) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c == 0x2d && i > 0 && i < s.length - 1);
    if (!ok) return false;
  }
  return true;
}

/** Istio's ResolveShortnameToFQDN: a name without a dot is `<name>.<namespace>.svc.cluster.local`. */
export function resolveFqdn(host: string, namespace: string): string {
  if (host == '*' || host.includes('.') || host.includes(':')) return host;
  return host + '.' + namespace + '.svc.' + CLUSTER_DOMAIN;
}

/**
 * Adds the domains of the virtual host pilot builds for one VirtualService host (resolved to its FQDN)
 * seen from a proxy in `proxyNamespace` (pilot's generateVirtualHostDomains with the port ignored, as sidecars' route configs
 * set ignore_port_in_host_matching): the FQDN and its absolute form `fqdn.`; for a Kubernetes
 * service (`name.ns.svc.cluster.local`) in the proxy's namespace also `name`, `name.ns.svc`,
 * `name.ns`; in another namespace `name.ns` and `name.ns.svc`. The host is taken to be a service in
 * the registry (a Kubernetes Service or a ServiceEntry host), as a VirtualService's host normally is.
 */
export function addVirtualHostDomains(set: HostSet, fqdn: string, proxyNamespace: string): void {
  if (fqdn == '*') {
    set.any = true;
    return;
  }
  if (fqdn.startsWith('*.')) {
    set.suffixes.push(fqdn.substring(1));
    return;
  }
  set.exact.add(fqdn);
  set.exact.add(fqdn + '.');
  const svcSuffix = '.svc.' + CLUSTER_DOMAIN;
  if (!fqdn.endsWith(svcSuffix)) return;
  const ih = fqdn.length - svcSuffix.length;
  const dot = fqdn.indexOf('.');
  if (dot <= 0 || dot + 1 >= ih) return; // `name.svc.cluster.local`: no namespace, no short forms
  const name = fqdn.substring(0, dot);
  const ns = fqdn.substring(dot + 1, ih);
  const nameNs = fqdn.substring(0, ih);
  if (ns == proxyNamespace) set.exact.add(name);
  set.exact.add(nameNs + '.svc');
  set.exact.add(nameNs);
}

/** Whether, on a known service port, every http route is limited to other ports (see SteeringConfig.inert). */
function noRouteOnPort(cfg: SteeringConfig): bool {
  if (cfg.servicePort == 0) return false;
  for (let i = 0; i < cfg.routes.length; i++) {
    const r = cfg.routes[i];
    if (r.matches.length == 0) return false;
    for (let j = 0; j < r.matches.length; j++) {
      const p = r.matches[j].port;
      if (p == 0 || p == cfg.servicePort) return false;
    }
  }
  return true;
}

/**
 * Parses a plugin configuration. `nodeNamespace` is the proxy's namespace from Envoy's node metadata
 * (`NAMESPACE`, as Istio's proxies carry it), used when the configuration names none ('' : unknown).
 */
export function parseSteeringConfig(bytes: ArrayBuffer, nodeNamespace: string = ''): ConfigResult<SteeringConfig> {
  return new Parser(nodeNamespace).parse(bytes);
}
