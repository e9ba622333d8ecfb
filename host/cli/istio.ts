// Reads Istio resources (YAML, several documents per file allowed) and checks each field against
// what asmesh supports. Pure: no I/O beyond the text handed in.
import { parseAllDocuments } from 'yaml';
import { InputErrors } from './errors.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export type Kind =
  'VirtualService' | 'DestinationRule' | 'RequestAuthentication' | 'AuthorizationPolicy' | 'PeerAuthentication' | 'Telemetry';

export interface Resource {
  file: string;
  kind: Kind;
  name: string;
  namespace: string;
  spec: JsonObject;
}

const API_GROUPS: Record<Kind, string> = {
  VirtualService: 'networking.istio.io',
  DestinationRule: 'networking.istio.io',
  RequestAuthentication: 'security.istio.io',
  AuthorizationPolicy: 'security.istio.io',
  PeerAuthentication: 'security.istio.io',
  Telemetry: 'telemetry.istio.io',
};

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects problems as `file: path: what`, plus warnings for fields accepted with a caveat. */
export class Checker {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  constructor(readonly file: string) {}
  error(path: string, what: string): void {
    this.errors.push(`${this.file}: ${path}: ${what}`);
  }
  warn(path: string, what: string): void {
    this.warnings.push(`${this.file}: ${path}: ${what}`);
  }

  /** Fields not in `supported` are errors (or warnings when listed in `ignored`). */
  fields(obj: unknown, path: string, supported: string[], ignored: Record<string, string> = {}): obj is JsonObject {
    if (!isObject(obj)) {
      this.error(path, 'must be an object');
      return false;
    }
    for (const key of Object.keys(obj)) {
      if (supported.includes(key)) continue;
      if (key in ignored) this.warn(`${path}.${key}`, ignored[key]);
      else this.error(`${path}.${key}`, 'not supported');
    }
    return true;
  }

  list(v: unknown, path: string): Json[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.error(path, 'must be a list');
      return [];
    }
    return v;
  }
}

const SELECTOR_NOTE = 'ignored: the resource applies to the workload of the generated sidecar';

const HTTP_ROUTE_FIELDS = ['name', 'match', 'route', 'fault', 'headers', 'timeout', 'retries'];
const MATCH_FIELDS = ['name', 'headers', 'withoutHeaders', 'uri', 'method', 'authority', 'scheme', 'queryParams', 'ignoreUriCase', 'port'];
const DESTINATION_FIELDS = ['destination', 'weight'];

function checkVirtualService(c: Checker, spec: JsonObject): void {
  if (!c.fields(spec, 'spec', ['hosts', 'http', 'gateways', 'asmesh'], { exportTo: 'ignored: asmesh has no namespaces to export to' }))
    return;
  const gateways = c.list(spec.gateways, 'spec.gateways');
  gateways.forEach((g, i) => {
    if (g !== 'mesh') c.error(`spec.gateways[${i}]`, `gateway ${JSON.stringify(g)} not supported (only "mesh")`);
  });
  const hosts = c.list(spec.hosts, 'spec.hosts');
  if (hosts.length === 0) c.error('spec.hosts', 'required');
  hosts.forEach((h, i) => {
    if (typeof h !== 'string') c.error(`spec.hosts[${i}]`, 'must be a string');
  });
  const http = c.list(spec.http, 'spec.http');
  if (spec.http === undefined) c.error('spec.http', 'required (asmesh steers HTTP only)');
  http.forEach((route, i) => {
    const p = `spec.http[${i}]`;
    if (!c.fields(route, p, HTTP_ROUTE_FIELDS)) return;
    c.list(route.match, `${p}.match`).forEach((m, j) => c.fields(m, `${p}.match[${j}]`, MATCH_FIELDS));
    const dests = c.list(route.route, `${p}.route`);
    if (dests.length === 0) c.error(`${p}.route`, 'required');
    dests.forEach((d, j) => {
      const dp = `${p}.route[${j}]`;
      if (!c.fields(d, dp, DESTINATION_FIELDS)) return;
      if (c.fields(d.destination, `${dp}.destination`, ['host', 'subset', 'port']) && typeof d.destination.host !== 'string') {
        c.error(`${dp}.destination.host`, 'required');
      }
    });
    if (route.retries !== undefined && c.fields(route.retries, `${p}.retries`, ['attempts', 'perTryTimeout', 'retryOn'])) {
      if (typeof route.retries.attempts !== 'number') c.error(`${p}.retries.attempts`, 'required number');
    }
  });
  if (spec.tcp !== undefined || spec.tls !== undefined) {
    /* already reported by fields() */
  }
}

function checkTrafficPolicy(c: Checker, tp: unknown, p: string): void {
  if (!c.fields(tp, p, ['connectionPool', 'outlierDetection', 'loadBalancer', 'tls'])) return;
  if (tp.connectionPool !== undefined && c.fields(tp.connectionPool, `${p}.connectionPool`, ['tcp', 'http'])) {
    const cp = tp.connectionPool;
    if (cp.tcp !== undefined && c.fields(cp.tcp, `${p}.connectionPool.tcp`, ['maxConnections', 'connectTimeout'])) {
      toDuration(cp.tcp.connectTimeout, `${p}.connectionPool.tcp.connectTimeout`, c);
    }
    if (
      cp.http !== undefined &&
      c.fields(cp.http, `${p}.connectionPool.http`, [
        'http1MaxPendingRequests',
        'http2MaxRequests',
        'maxRequestsPerConnection',
        'maxRetries',
        'idleTimeout',
      ])
    ) {
      toDuration(cp.http.idleTimeout, `${p}.connectionPool.http.idleTimeout`, c);
    }
  }
  if (
    tp.outlierDetection !== undefined &&
    c.fields(tp.outlierDetection, `${p}.outlierDetection`, [
      'consecutiveErrors',
      'consecutive5xxErrors',
      'consecutiveGatewayErrors',
      'interval',
      'baseEjectionTime',
      'maxEjectionPercent',
      'minHealthPercent',
    ])
  ) {
    for (const k of ['interval', 'baseEjectionTime']) toDuration(tp.outlierDetection[k], `${p}.outlierDetection.${k}`, c);
  }
  if (tp.loadBalancer !== undefined && c.fields(tp.loadBalancer, `${p}.loadBalancer`, ['simple'])) {
    if (!['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'UNSPECIFIED'].includes(String(tp.loadBalancer.simple))) {
      c.error(`${p}.loadBalancer.simple`, `${JSON.stringify(tp.loadBalancer.simple)} not supported`);
    }
  }
  if (tp.tls !== undefined && c.fields(tp.tls, `${p}.tls`, ['mode'])) {
    if (!['DISABLE', 'ISTIO_MUTUAL'].includes(String(tp.tls.mode)))
      c.error(`${p}.tls.mode`, `${JSON.stringify(tp.tls.mode)} not supported (DISABLE or ISTIO_MUTUAL)`);
  }
}

function checkDestinationRule(c: Checker, spec: JsonObject): void {
  if (!c.fields(spec, 'spec', ['host', 'subsets', 'trafficPolicy'], { exportTo: 'ignored: asmesh has no namespaces to export to' })) return;
  if (typeof spec.host !== 'string' || spec.host === '') c.error('spec.host', 'required');
  if (spec.trafficPolicy !== undefined) checkTrafficPolicy(c, spec.trafficPolicy, 'spec.trafficPolicy');
  const seen = new Set<string>();
  c.list(spec.subsets, 'spec.subsets').forEach((s, i) => {
    const p = `spec.subsets[${i}]`;
    if (!c.fields(s, p, ['name', 'labels', 'trafficPolicy'])) return;
    if (typeof s.name !== 'string' || s.name === '') c.error(`${p}.name`, 'required');
    else if (seen.has(s.name)) c.error(`${p}.name`, `duplicate subset ${s.name}`);
    else seen.add(s.name);
    if (s.trafficPolicy !== undefined) checkTrafficPolicy(c, s.trafficPolicy, `${p}.trafficPolicy`);
  });
}

function checkRequestAuthentication(c: Checker, spec: JsonObject): void {
  if (!c.fields(spec, 'spec', ['jwtRules'], { selector: SELECTOR_NOTE })) return;
  c.list(spec.jwtRules, 'spec.jwtRules').forEach((r, i) => {
    const p = `spec.jwtRules[${i}]`;
    if (
      !c.fields(r, p, [
        'issuer',
        'audiences',
        'jwks',
        'jwksUri',
        'fromHeaders',
        'fromParams',
        'forwardOriginalToken',
        'outputClaimToHeaders',
        'outputPayloadToHeader',
        'asmesh',
      ])
    )
      return;
    if (typeof r.issuer !== 'string') c.error(`${p}.issuer`, 'required');
    if (r.jwks === undefined && r.jwksUri === undefined) c.error(p, 'one of jwks or jwksUri is required');
    if (r.jwksUri !== undefined) {
      try {
        const u = new URL(String(r.jwksUri));
        if (u.protocol !== 'http:' && u.protocol !== 'https:') c.error(`${p}.jwksUri`, 'must be an http or https URL');
      } catch {
        c.error(`${p}.jwksUri`, 'not a URL');
      }
    }
  });
}

function checkAuthorizationPolicy(c: Checker, spec: JsonObject): void {
  if (!c.fields(spec, 'spec', ['action', 'rules'], { selector: SELECTOR_NOTE })) return;
  if (spec.action !== undefined && !['ALLOW', 'DENY', 'AUDIT'].includes(String(spec.action))) {
    c.error('spec.action', `${JSON.stringify(spec.action)} not supported (ALLOW, DENY or AUDIT)`);
  }
  c.list(spec.rules, 'spec.rules').forEach((r, i) => {
    const p = `spec.rules[${i}]`;
    if (!c.fields(r, p, ['from', 'to', 'when'])) return;
    c.list(r.from, `${p}.from`).forEach((f, j) => c.fields(f, `${p}.from[${j}]`, ['source']));
    c.list(r.to, `${p}.to`).forEach((t, j) => c.fields(t, `${p}.to[${j}]`, ['operation']));
    c.list(r.when, `${p}.when`).forEach((w, j) => c.fields(w, `${p}.when[${j}]`, ['key', 'values', 'notValues']));
  });
}

function checkPeerAuthentication(c: Checker, spec: JsonObject): void {
  if (!c.fields(spec, 'spec', ['mtls'], { selector: SELECTOR_NOTE })) return;
  if (spec.mtls !== undefined && c.fields(spec.mtls, 'spec.mtls', ['mode'])) {
    if (!['STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET'].includes(String(spec.mtls.mode)))
      c.error('spec.mtls.mode', `${JSON.stringify(spec.mtls.mode)} not supported`);
  }
}

function checkTelemetry(c: Checker, spec: JsonObject): void {
  if (!c.fields(spec, 'spec', ['metrics', 'accessLogging', 'asmesh'], { selector: SELECTOR_NOTE })) return;
  c.list(spec.metrics, 'spec.metrics').forEach((m, i) => {
    const p = `spec.metrics[${i}]`;
    if (!c.fields(m, p, ['providers', 'overrides'])) return;
    c.list(m.overrides, `${p}.overrides`).forEach((o, j) => c.fields(o, `${p}.overrides[${j}]`, ['match', 'disabled', 'tagOverrides']));
  });
  c.list(spec.accessLogging, 'spec.accessLogging').forEach((a, i) =>
    c.fields(a, `spec.accessLogging[${i}]`, ['providers', 'disabled', 'filter']),
  );
}

const CHECKS: Record<Kind, (c: Checker, spec: JsonObject) => void> = {
  VirtualService: checkVirtualService,
  DestinationRule: checkDestinationRule,
  RequestAuthentication: checkRequestAuthentication,
  AuthorizationPolicy: checkAuthorizationPolicy,
  PeerAuthentication: checkPeerAuthentication,
  Telemetry: checkTelemetry,
};

/** Parses one file's text into resources; throws InputErrors naming the file and field. */
export function parseResources(file: string, text: string): { resources: Resource[]; warnings: string[] } {
  const c = new Checker(file);
  const resources: Resource[] = [];
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new InputErrors([`${file}: not a YAML stream`]);
  docs.forEach((doc, index) => {
    const at = docs.length > 1 ? `document ${index + 1}: ` : '';
    if (doc.errors.length) {
      for (const e of doc.errors) c.errors.push(`${file}: ${at}YAML: ${e.message.split('\n')[0]}`);
      return;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) return; // empty document
    if (!isObject(value)) {
      c.errors.push(`${file}: ${at}not an Istio resource (expected a mapping with kind and spec)`);
      return;
    }
    const kind = value.kind;
    if (typeof kind !== 'string' || !(kind in CHECKS)) {
      c.errors.push(`${file}: ${at}kind: ${JSON.stringify(kind ?? null)} not supported (${Object.keys(CHECKS).join(', ')})`);
      return;
    }
    const api = String(value.apiVersion ?? '');
    if (!api.startsWith(API_GROUPS[kind as Kind] + '/')) {
      c.errors.push(`${file}: ${at}apiVersion: ${JSON.stringify(api)} is not ${API_GROUPS[kind as Kind]}/* for ${kind}`);
      return;
    }
    const meta = isObject(value.metadata) ? value.metadata : {};
    const spec = value.spec ?? {};
    const sub = new Checker(at ? `${file}: ${at.slice(0, -2)}` : file);
    if (!isObject(spec)) sub.error('spec', 'must be an object');
    else CHECKS[kind as Kind](sub, spec);
    c.errors.push(...sub.errors);
    c.warnings.push(...sub.warnings);
    if (sub.errors.length === 0) {
      resources.push({
        file,
        kind: kind as Kind,
        name: String(meta.name ?? ''),
        namespace: String(meta.namespace ?? 'default'),
        spec: spec as JsonObject,
      });
    }
  });
  if (c.errors.length) throw new InputErrors(c.errors);
  return { resources, warnings: c.warnings };
}

/** Istio duration ("1s", "3m", "100ms", "1.5s", "1h") as an Envoy/protobuf duration string ("180s"). */
export function toDuration(v: Json | undefined, path: string, c: Checker): string | undefined {
  if (v === undefined) return undefined;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)$/.exec(v) : null;
  if (!m) {
    c.error(path, `${JSON.stringify(v)} is not a duration (e.g. 1s, 100ms, 3m)`);
    return undefined;
  }
  const scale: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, µs: 1e3, ns: 1 };
  const nanos = Math.round(Number(m[1]) * scale[m[2]]);
  const secs = Math.floor(nanos / 1e9);
  const frac = nanos % 1e9;
  return frac === 0 ? `${secs}s` : `${secs}.${String(frac).padStart(9, '0').replace(/0+$/, '')}s`;
}
