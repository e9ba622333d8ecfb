// Routes as comparable records, field by field: what asmesh's steering configuration encodes for each
// http route of a VirtualService (the filter's spec and translate's steered Envoy route) and what Istio's
// pilot puts in its RDS routes for the same VirtualService. Pilot emits one Envoy route per match block,
// so each side gives one record per (http route, match block). Used by translate-pilot.test.ts.
import type { JsonObject } from '../../host/cli/istio.ts';

type Obj = Record<string, any>;

/** One route, in terms both sides can be put in. */
export interface RouteFields {
  /** The path match (`prefix=/`, `path=/x`, `regex=...`) and `ci` when case-insensitive. */
  path: string;
  /** Header matches, sorted: `name:exact=v`, `name:prefix=v`, `name:regex=v`, `name:present`, `!` = inverted. */
  headers: string[];
  /** Query parameter matches, sorted, as headers. */
  query: string[];
  /** [cluster, weight] per destination; weight null for a single cluster. */
  clusters: [string, number | null][];
  /** Milliseconds; 0 = no timeout; null = Envoy's default (15 s). */
  timeoutMs: number | null;
  retries: Obj | null;
  delay: { ms: number; perMillion: number } | null;
  abort: { status: number; perMillion: number } | null;
  /** Header operations: `set name=v`, `add name=v`, `remove name`, sorted, at route level then per cluster. */
  requestHeaders: string[];
  responseHeaders: string[];
  rewrite: Obj | null;
  redirect: Obj | null;
  mirror: Obj | null;
  cors: Obj | null;
}

/** A duration (`7s`, `0.500s`, `500ms`) in milliseconds. */
export function durationMs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(h|m|s|ms)$/.exec(v);
  if (!m) throw new Error(`not a duration: ${v}`);
  return Math.round(Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[m[2] as 'h' | 'm' | 's' | 'ms']);
}

// --- asmesh: the steering spec as the filter reads it (filters/steering/config.ts) -------------------

function istioMatch(kind: string, name: string, sm: Obj, invert = false): string {
  const k = Object.keys(sm);
  const head = `${invert ? '!' : ''}${name}`;
  if (k.length === 0) return `${head}:present`;
  return `${head}:${k[0]}=${sm[k[0]!]}`;
}

function istioOps(h: Obj | undefined): string[] {
  if (!h) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(h.set ?? {})) if (v !== '') out.push(`set ${k.toLowerCase()}=${v}`);
  for (const [k, v] of Object.entries(h.add ?? {})) if (v !== '') out.push(`add ${k.toLowerCase()}=${v}`);
  for (const k of h.remove ?? []) out.push(`remove ${String(k).toLowerCase()}`);
  return out.sort();
}

function resolveFqdn(host: string, ns: string): string {
  return host.includes('.') || host === '*' ? host : `${host}.${ns}.svc.cluster.local`;
}

/** The filter's percentage: `percentage.value` x 10^4 per million (floor), the old `percent` x 10^4, else 0. */
function perMillion(f: Obj): number {
  if (f.percentage) return Math.floor((f.percentage.value ?? 0) * 10_000);
  if (typeof f.percent === 'number') return f.percent * 10_000;
  return 0;
}

function routeOps(h: Obj, dests: Obj[], side: 'request' | 'response', perCluster: (s: 'request' | 'response') => string[]): string[] {
  const own = istioOps(h.headers?.[side]);
  return dests.length === 1 ? [...own, ...perCluster(side)].sort() : [...own, ...perCluster(side)];
}

/**
 * asmesh's records for one VirtualService: `spec` as translate hands it to the steering filter (timeout,
 * retries moved out), `steered` translate's Envoy route that carries its steered requests.
 */
export function asmeshRoutes(spec: JsonObject, steered: JsonObject): RouteFields[] {
  const asm = spec.asmesh as Obj;
  const template = String(asm.clusterName);
  const cluster = (d: Obj) =>
    template
      .replaceAll('{fqdn}', resolveFqdn(String(d.destination.host).toLowerCase(), asm.namespace))
      .replaceAll('{host}', d.destination.host)
      .replaceAll('{subset}', d.destination.subset ?? '')
      .replaceAll('{port}', String(d.destination.port?.number ?? asm.defaultPort ?? asm.port));
  const action = steered.route as Obj;
  const out: RouteFields[] = [];
  for (const h of (spec.http as Obj[]) ?? []) {
    const dests = h.route as Obj[];
    const clusters: [string, number | null][] =
      dests.length === 1 ? [[cluster(dests[0]!), null]] : dests.filter((d) => (d.weight ?? 0) > 0).map((d) => [cluster(d), d.weight]);
    // Several destinations: each one's operations ride on its weighted cluster (Envoy applies the chosen one's).
    const perCluster = (side: 'request' | 'response') =>
      dests.length === 1
        ? istioOps(dests[0]!.headers?.[side])
        : dests.filter((d) => (d.weight ?? 0) > 0).flatMap((d) => istioOps(d.headers?.[side]).map((o) => `${cluster(d)}: ${o}`));
    const common = {
      clusters,
      timeoutMs: action.timeout === undefined ? null : durationMs(action.timeout),
      retries: action.retry_policy ?? null,
      delay: h.fault?.delay ? { ms: durationMs(h.fault.delay.fixedDelay), perMillion: perMillion(h.fault.delay) } : null,
      abort: h.fault?.abort ? { status: h.fault.abort.httpStatus, perMillion: perMillion(h.fault.abort) } : null,
      // One destination: pilot puts its operations on the route with the route's.
      requestHeaders: routeOps(h, dests, 'request', perCluster),
      responseHeaders: routeOps(h, dests, 'response', perCluster),
      // Rejected by the filter's check (rewrite, redirect) or by translate (mirror, corsPolicy): never encoded.
      rewrite: null,
      redirect: null,
      mirror: null,
      cors: null,
    };
    for (const m of (h.match as Obj[] | undefined)?.length ? (h.match as Obj[]) : [{}]) {
      const uri = m.uri as Obj | undefined;
      const kind = uri ? Object.keys(uri)[0] : undefined;
      let path = kind === undefined ? 'prefix=/' : `${kind === 'exact' ? 'path' : kind}=${uri![kind]}`;
      if (m.ignoreUriCase && kind !== 'regex') path += ' ci';
      const headers = [
        ...Object.entries((m.headers as Obj) ?? {}).map(([k, v]) => istioMatch('header', k.toLowerCase(), v)),
        ...Object.entries((m.withoutHeaders as Obj) ?? {}).map(([k, v]) => istioMatch('header', k.toLowerCase(), v, true)),
        ...(['method', 'authority', 'scheme'] as const).filter((f) => m[f]).map((f) => istioMatch('header', `:${f}`, m[f])),
      ].sort();
      const query = Object.entries((m.queryParams as Obj) ?? {})
        .map(([k, v]) => istioMatch('query', k, v))
        .sort();
      out.push({ path, headers, query, ...common });
      // First match wins: nothing after a catch-all is reachable (pilot emits nothing after one).
      if (path === 'prefix=/' && headers.length === 0 && query.length === 0) return out;
    }
  }
  return out;
}

// --- pilot: its Envoy routes ------------------------------------------------------------------------

function envoyStringMatch(name: string, sm: Obj | undefined, invert: boolean): string {
  const head = `${invert ? '!' : ''}${name}`;
  if (!sm) return `${head}:present`;
  if (sm.exact !== undefined) return `${head}:exact=${sm.exact}`;
  if (sm.prefix !== undefined) return `${head}:prefix=${sm.prefix}`;
  if (sm.safe_regex) return `${head}:regex=${sm.safe_regex.regex}`;
  return `${head}:${JSON.stringify(sm)}`;
}

function envoyOps(add: Obj[] | undefined, remove: string[] | undefined, prefix = ''): string[] {
  const out: string[] = [];
  for (const a of add ?? []) {
    // append_action's default (omitted) is APPEND_IF_EXISTS_OR_ADD; the deprecated `append` defaults to true.
    const op = a.append_action === 'OVERWRITE_IF_EXISTS_OR_ADD' || a.append === false || a.append?.value === false ? 'set' : 'add';
    out.push(`${prefix}${op} ${a.header.key}=${a.header.value}`);
  }
  for (const r of remove ?? []) out.push(`${prefix}remove ${r}`);
  return out.sort();
}

function envoyPercent(p: Obj | undefined): number {
  if (!p) return 1_000_000;
  const scale = { HUNDRED: 10_000, TEN_THOUSAND: 100, MILLION: 1 }[(p.denominator ?? 'HUNDRED') as 'HUNDRED'];
  return (p.numerator ?? 0) * scale;
}

/** Pilot's records for the routes of one virtual host. */
export function pilotRoutes(routes: JsonObject[]): RouteFields[] {
  return routes.map((r: Obj) => {
    const m = r.match as Obj;
    let path = m.path !== undefined ? `path=${m.path}` : m.prefix !== undefined ? `prefix=${m.prefix}` : `regex=${m.safe_regex?.regex}`;
    // case_sensitive does not apply to safe_regex (Envoy).
    if (m.case_sensitive === false && !m.safe_regex) path += ' ci';
    const headers = ((m.headers as Obj[]) ?? [])
      .map((h) => envoyStringMatch(h.name, h.present_match ? undefined : h.string_match, h.invert_match === true))
      .sort();
    const query = ((m.query_parameters as Obj[]) ?? [])
      .map((q) => envoyStringMatch(q.name, q.present_match ? undefined : q.string_match, false))
      .sort();
    const a = (r.route ?? {}) as Obj;
    const weighted = (a.weighted_clusters?.clusters ?? []) as Obj[];
    const clusters: [string, number | null][] = a.cluster ? [[a.cluster, null]] : weighted.map((c) => [c.name, c.weight]);
    const fault = r.typed_per_filter_config?.['envoy.filters.http.fault'] as Obj | undefined;
    const cors = r.typed_per_filter_config?.['envoy.filters.http.cors'] ?? a.cors ?? null;
    const rewrite = a.prefix_rewrite ?? a.regex_rewrite ?? a.host_rewrite_literal ?? a.path_rewrite_policy;
    return {
      path,
      headers,
      query,
      clusters,
      timeoutMs: a.timeout === undefined ? null : durationMs(a.timeout),
      retries: a.retry_policy ?? null,
      delay: fault?.delay ? { ms: durationMs(fault.delay.fixed_delay), perMillion: envoyPercent(fault.delay.percentage) } : null,
      abort: fault?.abort ? { status: fault.abort.http_status, perMillion: envoyPercent(fault.abort.percentage) } : null,
      requestHeaders: [
        ...envoyOps(r.request_headers_to_add, r.request_headers_to_remove),
        ...weighted.flatMap((c) => envoyOps(c.request_headers_to_add, c.request_headers_to_remove, `${c.name}: `)),
      ],
      responseHeaders: [
        ...envoyOps(r.response_headers_to_add, r.response_headers_to_remove),
        ...weighted.flatMap((c) => envoyOps(c.response_headers_to_add, c.response_headers_to_remove, `${c.name}: `)),
      ],
      rewrite: rewrite === undefined ? null : { rewrite },
      redirect: r.redirect ?? null,
      mirror: a.request_mirror_policies?.length ? a.request_mirror_policies : null,
      cors,
    };
  });
}

/** JSON with object keys sorted (the order of an Envoy message's fields means nothing). */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Obj)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The fields in which two records differ. */
export function differingFields(a: RouteFields, b: RouteFields): (keyof RouteFields)[] {
  return (Object.keys(a) as (keyof RouteFields)[]).filter((k) => canonical(a[k]) !== canonical(b[k]));
}
