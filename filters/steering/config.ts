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
const MAX_DELAY_MS: i64 = 3_600_000;

/** A named value matcher (a header, a query parameter). */
export class KeyMatch {
  constructor(public readonly name: string, public readonly matcher: StringMatcher) {}
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
  constructor(public readonly name: string, public readonly value: string) {}
}

/** `headers.request` / `headers.response`: set (replace), add (append), remove. */
export class HeaderOps {
  toSet: HeaderValue[] = [];
  toAdd: HeaderValue[] = [];
  toRemove: string[] = [];
  get empty(): bool { return this.toSet.length == 0 && this.toAdd.length == 0 && this.toRemove.length == 0; }
}

export class Destination {
  host: string = '';
  subset: string = '';
  /** 0: not given (the template uses asmesh.defaultPort). */
  port: i32 = 0;
  weight: i32 = 100;
  /** The Envoy cluster name, rendered from the template at configure time. */
  cluster: string = '';
  requestOps: HeaderOps | null = null;
  responseOps: HeaderOps | null = null;
}

export class Fault {
  /** 0: no abort. */
  abortStatus: i32 = 0;
  abortPercent: f64 = 100;
  /** 0: no delay. */
  delayMs: u32 = 0;
  delayPercent: f64 = 100;
}

export class HttpRoute {
  /** `name`, or the index in `http[]` as text when unnamed (used in metrics and logs). */
  label: string = '';
  /** Its index in `http[]`, which is also its index in SteeringConfig.routes (and the filter's counters). */
  index: i32 = 0;
  /** Empty: matches every request. */
  matches: MatchBlock[] = [];
  destinations: Destination[] = [];
  fault: Fault | null = null;
  requestOps: HeaderOps | null = null;
  responseOps: HeaderOps | null = null;
}

export class SteeringConfig {
  hosts: string[] = [];
  routes: HttpRoute[] = [];
  clusterTemplate: string = CLUSTER_TEMPLATE;
  defaultPort: i32 = DEFAULT_PORT;
  /** Sticky key: a header name (lower case) or a cookie name; both empty: random choice. */
  stickyHeader: string = '';
  stickyCookie: string = '';
  /** Fields accepted but not enforced (e.g. `$.http[0].timeout`), for a warning at configure. */
  ignored: string[] = [];
}

// Fields Istio knows. The ones we cannot honour either fail (they change where or whether a
// request goes) or are ignored with a warning (they do not change the destination).
const SPEC_FIELDS = ['hosts', 'gateways', 'http', 'tls', 'tcp', 'exportTo', 'asmesh'];
const ROUTE_FIELDS = ['name', 'match', 'route', 'redirect', 'directResponse', 'delegate', 'rewrite', 'timeout', 'retries', 'fault', 'mirror', 'mirrors', 'mirrorPercentage', 'mirrorPercent', 'mirror_percent', 'corsPolicy', 'headers'];
const ROUTE_REJECTED = ['redirect', 'directResponse', 'delegate', 'rewrite'];
const ROUTE_IGNORED = ['timeout', 'retries', 'mirror', 'mirrors', 'mirrorPercentage', 'mirrorPercent', 'mirror_percent', 'corsPolicy'];
const MATCH_FIELDS = ['name', 'uri', 'scheme', 'method', 'authority', 'headers', 'port', 'sourceLabels', 'gateways', 'queryParams', 'ignoreUriCase', 'withoutHeaders', 'sourceNamespace', 'statPrefix'];
const MATCH_REJECTED = ['sourceLabels', 'gateways', 'sourceNamespace'];
const DEST_FIELDS = ['destination', 'weight', 'headers'];
const DEST_INNER_FIELDS = ['host', 'subset', 'port'];
const FAULT_FIELDS = ['delay', 'abort'];
const DELAY_FIELDS = ['fixedDelay', 'exponentialDelay', 'percentage', 'percent'];
const ABORT_FIELDS = ['httpStatus', 'grpcStatus', 'http2Error', 'percentage'];
const HEADERS_FIELDS = ['request', 'response'];
const OPS_FIELDS = ['set', 'add', 'remove'];
const STRING_MATCH_FIELDS = ['exact', 'prefix', 'regex'];
const ASMESH_FIELDS = ['clusterName', 'defaultPort', 'stickyKey'];
const STICKY_FIELDS = ['header', 'cookie'];

class Parser {
  c: ConfigChecker = new ConfigChecker();
  config: SteeringConfig = new SteeringConfig();

  get failed(): bool { return this.c.failed; }

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
      if (v !== null && v.items.length > 0) { this.c.fail(v.path, 'not supported by asmesh steering (HTTP routes only)'); return this.result(); }
    }
    if (root.has('gateways')) this.config.ignored.push(memberPath(root.path, 'gateways'));
    if (root.has('exportTo')) this.config.ignored.push(memberPath(root.path, 'exportTo'));
    const http = this.c.optional(root, 'http', JsonKind.Array);
    if (http !== null) {
      for (let i = 0; i < http.items.length && !this.failed; i++) this.parseRoute(http.items[i], i);
    }
    return this.result();
  }

  result(): ConfigResult<SteeringConfig> {
    if (this.failed) return new ConfigResult<SteeringConfig>(null, this.c.error);
    return new ConfigResult<SteeringConfig>(this.config, '');
  }

  parseAsmesh(root: JsonValue): void {
    const a = root.get('asmesh');
    if (a === null) return;
    if (!this.c.object(a, ASMESH_FIELDS)) return;
    const cfg = this.config;
    cfg.defaultPort = <i32>this.c.int(a, 'defaultPort', DEFAULT_PORT, 1, 65535);
    const tpl = this.c.optional(a, 'clusterName', JsonKind.String);
    if (tpl !== null) {
      const problem = templateProblem(tpl.str);
      if (problem.length > 0) { this.c.fail(tpl.path, problem); return; }
      cfg.clusterTemplate = tpl.str;
    }
    const sticky = a.get('stickyKey');
    if (sticky !== null) {
      if (!this.c.object(sticky, STICKY_FIELDS)) return;
      const h = this.c.optional(sticky, 'header', JsonKind.String);
      const k = this.c.optional(sticky, 'cookie', JsonKind.String);
      if (this.failed) return;
      if ((h === null) == (k === null)) { this.c.fail(sticky.path, 'set exactly one of header, cookie'); return; }
      const v = (h !== null ? h : k) as JsonValue;
      if (v.str.length == 0) { this.c.fail(v.path, 'must not be empty'); return; }
      if (h !== null) cfg.stickyHeader = asciiLower(h.str);
      else cfg.stickyCookie = v.str;
    }
  }

  parseHosts(root: JsonValue): void {
    const hosts = this.c.required(root, 'hosts', JsonKind.Array);
    if (hosts === null) return;
    if (hosts.items.length == 0) { this.c.fail(hosts.path, 'must list at least one host'); return; }
    for (let i = 0; i < hosts.items.length; i++) {
      const h = hosts.items[i];
      if (!this.c.kind(h, JsonKind.String)) return;
      if (h.str.length == 0) { this.c.fail(h.path, 'must not be empty'); return; }
      this.config.hosts.push(asciiLower(h.str));
    }
  }

  parseRoute(v: JsonValue, index: i32): void {
    if (!this.c.object(v, ROUTE_FIELDS)) return;
    for (let i = 0; i < ROUTE_REJECTED.length; i++) {
      const f = v.get(ROUTE_REJECTED[i]);
      if (f !== null) { this.c.fail(f.path, 'not supported by asmesh steering'); return; }
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
    if (dests.items.length == 0) { this.c.fail(dests.path, 'must list at least one destination'); return; }
    let sum: i32 = 0;
    let anyWeight = false;
    for (let i = 0; i < dests.items.length && !this.failed; i++) {
      const d = this.parseDestination(dests.items[i]);
      if (d === null) return;
      if (dests.items[i].has('weight')) anyWeight = true;
      else d.weight = 0;
      sum += d.weight;
      route.destinations.push(d);
    }
    if (this.failed) return;
    if (route.destinations.length == 1 && !anyWeight) route.destinations[0].weight = 100;
    else if (sum != 100) { this.c.fail(dests.path, 'weights sum to ' + sum.toString() + ', not 100'); return; }
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
      if (f !== null) { this.c.fail(f.path, 'not supported by asmesh steering'); return null; }
    }
    const m = new MatchBlock();
    m.name = this.c.str(v, 'name');
    const ignoreCase = this.c.bool(v, 'ignoreUriCase', false);
    if (this.failed) return null;
    const uri = v.get('uri');
    if (uri !== null) m.uri = this.stringMatch(uri, false, ignoreCase, false);
    const scheme = v.get('scheme');
    if (scheme !== null) m.scheme = this.stringMatch(scheme, false, false, false);
    const method = v.get('method');
    if (method !== null) m.method = this.stringMatch(method, false, false, false);
    const authority = v.get('authority');
    if (authority !== null) m.authority = this.stringMatch(authority, false, false, false);
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
      if (key.length == 0) { this.c.fail(v.path, 'empty name'); return out; }
      const value = v.get(key) as JsonValue;
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
    if (v.keys.length > 1) { this.c.fail(v.path, 'set only one of exact, prefix, regex'); return null; }
    const kind = v.keys[0];
    const s = this.c.required(v, kind, JsonKind.String);
    if (s === null) return null;
    if (kind == 'exact') return StringMatcher.exact(s.str, ignoreCase);
    if (kind == 'prefix') {
      if (noPrefix) { this.c.fail(s.path, 'prefix is not supported for query parameters (Istio: exact or regex)'); return null; }
      return StringMatcher.prefix(s.str, ignoreCase);
    }
    const r = Regex.compile(s.str);
    if (r.regex === null) { this.c.fail(s.path, 'invalid regex: ' + r.error); return null; }
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
    d.weight = <i32>this.c.int(v, 'weight', 100, 0, 100);
    const headers = v.get('headers');
    if (headers !== null) {
      if (!this.c.object(headers, HEADERS_FIELDS)) return null;
      d.requestOps = this.parseOps(headers.get('request'));
      d.responseOps = this.parseOps(headers.get('response'));
    }
    d.cluster = renderCluster(this.config.clusterTemplate, d.host, d.subset, d.port > 0 ? d.port : this.config.defaultPort);
    return this.failed ? null : d;
  }

  percentage(v: JsonValue): f64 {
    const p = v.get('percentage');
    if (p !== null) {
      if (!this.c.object(p, ['value'])) return 0;
      return this.c.number(p, 'value', 100, 0, 100);
    }
    if (v.has('percent')) return <f64>this.c.int(v, 'percent', 100, 0, 100);
    return 100; // Istio: no percentage means every request
  }

  parseFault(v: JsonValue): Fault | null {
    if (!this.c.object(v, FAULT_FIELDS)) return null;
    const f = new Fault();
    const delay = v.get('delay');
    if (delay !== null) {
      if (!this.c.object(delay, DELAY_FIELDS)) return null;
      const exp = delay.get('exponentialDelay');
      if (exp !== null) { this.c.fail(exp.path, 'not supported by asmesh steering'); return null; }
      const fixed = this.c.required(delay, 'fixedDelay', JsonKind.String);
      if (fixed === null) return null;
      const ms = parseDurationMs(fixed.str);
      if (ms < 0) { this.c.fail(fixed.path, 'invalid duration "' + fixed.str + '" (e.g. "5s", "0.5s", "100ms")'); return null; }
      if (ms < 1 || ms > MAX_DELAY_MS) { this.c.fail(fixed.path, 'must be between 1ms and 1h'); return null; }
      f.delayMs = <u32>ms;
      f.delayPercent = this.percentage(delay);
    }
    const abort = v.get('abort');
    if (abort !== null) {
      if (!this.c.object(abort, ABORT_FIELDS)) return null;
      const grpc = abort.get('grpcStatus');
      if (grpc !== null) { this.c.fail(grpc.path, 'not supported by asmesh steering (use httpStatus)'); return null; }
      const h2 = abort.get('http2Error');
      if (h2 !== null) { this.c.fail(h2.path, 'not supported by asmesh steering (use httpStatus)'); return null; }
      if (!abort.has('httpStatus')) { this.c.fail(memberPath(abort.path, 'httpStatus'), 'required'); return null; }
      f.abortStatus = <i32>this.c.int(abort, 'httpStatus', 0, 200, 599);
      f.abortPercent = this.percentage(abort);
    }
    if (delay === null && abort === null) { this.c.fail(v.path, 'set delay or abort'); return null; }
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
      const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || '!#$%&\'*+-.^_`|~'.includes(String.fromCharCode(c));
      if (!ok) return this.c.fail(v.path, 'invalid header name "' + s + '"');
    }
    if (asciiLower(s) == CLUSTER_HEADER) return this.c.fail(v.path, 'x-asmesh-cluster is written by the filter itself');
    return true;
  }

  headerValues(v: JsonValue | null): HeaderValue[] {
    const out = new Array<HeaderValue>();
    if (v === null) return out;
    if (!this.c.kind(v, JsonKind.Object)) return out;
    for (let i = 0; i < v.keys.length; i++) {
      const key = v.keys[i];
      const value = v.get(key) as JsonValue;
      const nameProbe = new JsonValue(JsonKind.String, v.path);
      nameProbe.str = key;
      if (!this.headerName(nameProbe)) return out;
      if (!this.c.kind(value, JsonKind.String)) return out;
      for (let j = 0; j < value.str.length; j++) {
        const c = value.str.charCodeAt(j);
        if (c == 0 || c == 0x0a || c == 0x0d) { this.c.fail(value.path, 'header value contains NUL, CR or LF'); return out; }
      }
      out.push(new HeaderValue(asciiLower(key), value.str));
    }
    return out;
  }
}

/** Why a cluster-name template is unusable ('' when fine): only {host}, {subset}, {port}. */
export function templateProblem(t: string): string {
  if (t.length == 0) return 'must not be empty';
  let i = 0;
  while (i < t.length) {
    const open = t.indexOf('{', i);
    if (open < 0) break;
    const close = t.indexOf('}', open);
    if (close < 0) return 'unclosed { in template';
    const name = t.substring(open + 1, close);
    if (name != 'host' && name != 'subset' && name != 'port') return 'unknown placeholder {' + name + '} (use {host}, {subset}, {port})';
    i = close + 1;
  }
  return '';
}

export function renderCluster(template: string, host: string, subset: string, port: i32): string {
  return template.replaceAll('{host}', host).replaceAll('{subset}', subset).replaceAll('{port}', port.toString());
}

export function parseSteeringConfig(bytes: ArrayBuffer): ConfigResult<SteeringConfig> {
  return new Parser().parse(bytes);
}
