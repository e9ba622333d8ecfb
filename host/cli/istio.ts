// Reads Istio resources (YAML, several documents per file allowed) and checks each field against
// what asmesh supports. Pure: no I/O beyond the text handed in.
import { parseAllDocuments } from 'yaml';
import { InputErrors } from './errors.ts';
import { JWT_RULE_FIELDS } from '../../filters/authz/fields.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export type Kind =
  'VirtualService' | 'DestinationRule' | 'RequestAuthentication' | 'AuthorizationPolicy' | 'PeerAuthentication' | 'Telemetry';
/** Kubernetes objects translate reads (ports, names, workload labels); Gateway is read and ignored (sidecars only). */
export type KubeKind = 'Service' | 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Pod' | 'ServiceAccount' | 'Namespace';

export interface Resource {
  file: string;
  /** `file` or `file: document N` (several documents): where messages about it point. */
  at: string;
  kind: Kind | KubeKind;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  spec: JsonObject;
}

/** At most this many YAML aliases per document (the yaml library's exhaustion guard, as Kubernetes' own limit). */
export const MAX_ALIASES = 100;

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

const TARGET_REF_NOTE = 'a sidecar ignores this resource (Istio attaches targetRef(s) policies to gateways and waypoints only)';

/** `selector: {matchLabels: {k: v}}` (every workload-scoped kind). */
function checkSelector(c: Checker, spec: JsonObject, field = 'selector'): void {
  const sel = spec[field];
  if (sel === undefined) return;
  if (!c.fields(sel, `spec.${field}`, ['matchLabels'])) return;
  if (sel.matchLabels === undefined) return;
  if (!isObject(sel.matchLabels)) return c.error(`spec.${field}.matchLabels`, 'must be a map of label: value');
  for (const [k, v] of Object.entries(sel.matchLabels))
    if (typeof v !== 'string') c.error(`spec.${field}.matchLabels.${k}`, 'must be a string');
}

function checkTargetRefs(c: Checker, spec: JsonObject): void {
  if (spec.targetRef !== undefined) c.warn('spec.targetRef', TARGET_REF_NOTE);
  if (spec.targetRefs !== undefined) c.warn('spec.targetRefs', TARGET_REF_NOTE);
  if ((spec.targetRef !== undefined || spec.targetRefs !== undefined) && spec.selector !== undefined)
    c.error('spec.selector', 'selector and targetRef(s) are mutually exclusive (Istio validation)');
}

function checkExportTo(c: Checker, spec: JsonObject): void {
  c.list(spec.exportTo, 'spec.exportTo').forEach((e, i) => {
    if (typeof e !== 'string' || e === '') c.error(`spec.exportTo[${i}]`, 'must be a namespace, ".", "*" or "~"');
  });
}

const HTTP_ROUTE_FIELDS = ['name', 'match', 'route', 'fault', 'headers', 'timeout', 'retries'];
const MATCH_FIELDS = ['name', 'headers', 'withoutHeaders', 'uri', 'method', 'authority', 'scheme', 'queryParams', 'ignoreUriCase', 'port'];
// A destination's headers: the filter applies them as pilot's weighted cluster operations (pilot-diff.test.ts).
const DESTINATION_FIELDS = ['destination', 'weight', 'headers'];

function checkVirtualService(c: Checker, spec: JsonObject): void {
  if (!c.fields(spec, 'spec', ['hosts', 'http', 'tcp', 'gateways', 'exportTo', 'asmesh'])) return;
  checkExportTo(c, spec);
  const gateways = c.list(spec.gateways, 'spec.gateways');
  gateways.forEach((g, i) => {
    if (typeof g !== 'string') c.error(`spec.gateways[${i}]`, 'must be a string');
  });
  if (gateways.length > 0 && !gateways.includes('mesh'))
    c.warn('spec.gateways', 'no "mesh": the VirtualService applies to gateways only, no sidecar gets it');
  else if (gateways.some((g) => g !== 'mesh'))
    c.warn('spec.gateways', 'asmesh renders sidecars: only "mesh" is used, the gateways are ignored');
  const hosts = c.list(spec.hosts, 'spec.hosts');
  if (hosts.length === 0) c.error('spec.hosts', 'required');
  hosts.forEach((h, i) => {
    if (typeof h !== 'string') c.error(`spec.hosts[${i}]`, 'must be a string');
    else if (h === '*' && (gateways.length === 0 || gateways.includes('mesh')))
      c.error(`spec.hosts[${i}]`, 'wildcard host * is not allowed for virtual services bound to the mesh gateway (Istio validation)');
  });
  const http = c.list(spec.http, 'spec.http');
  if (spec.http === undefined && spec.tcp === undefined) c.error('spec.http', 'required (or spec.tcp; asmesh routes HTTP and TCP)');
  checkTcpRoutes(c, spec);
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
    if (route.timeout !== undefined) checkDuration(route.timeout, `${p}.timeout`, c);
    if (route.retries !== undefined && c.fields(route.retries, `${p}.retries`, ['attempts', 'perTryTimeout', 'retryOn'])) {
      checkRetries(route.retries, `${p}.retries`, c);
    }
  });
}

/** VirtualService `tcp` routes: match on `port` only (asmesh's TCP listeners are per port, no source or subnet
 * matching), destinations with weights as Istio validates them (validateTCPRoute, validateRouteDestinations). */
function checkTcpRoutes(c: Checker, spec: JsonObject): void {
  c.list(spec.tcp, 'spec.tcp').forEach((route, i) => {
    const p = `spec.tcp[${i}]`;
    if (!c.fields(route, p, ['match', 'route'])) return;
    c.list(route.match, `${p}.match`).forEach((m, j) => {
      if (!c.fields(m, `${p}.match[${j}]`, ['port'])) return;
      if (m.port !== undefined && (!Number.isInteger(m.port) || (m.port as number) < 1 || (m.port as number) > 65535))
        c.error(`${p}.match[${j}].port`, 'must be a port number');
    });
    const dests = c.list(route.route, `${p}.route`);
    if (dests.length === 0) c.error(`${p}.route`, 'required (TCP route is required)');
    let total = 0;
    dests.forEach((d, j) => {
      const dp = `${p}.route[${j}]`;
      if (!c.fields(d, dp, DESTINATION_FIELDS)) return;
      if (c.fields(d.destination, `${dp}.destination`, ['host', 'subset', 'port']) && typeof d.destination.host !== 'string')
        c.error(`${dp}.destination.host`, 'required');
      if (
        isObject(d.destination) &&
        d.destination.port !== undefined &&
        !(isObject(d.destination.port) && Number.isInteger(d.destination.port.number))
      )
        c.error(`${dp}.destination.port`, 'must be {number: N}');
      if (d.weight !== undefined && (!Number.isInteger(d.weight) || (d.weight as number) < 0))
        c.error(`${dp}.weight`, 'must be a non-negative integer');
      else total += (d.weight as number | undefined) ?? 0;
    });
    if (dests.length > 1 && total === 0) c.error(`${p}.route`, 'total destination weight = 0 (Istio validation)');
  });
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
  if (
    tp.tls !== undefined &&
    c.fields(tp.tls, `${p}.tls`, [
      'mode',
      'sni',
      'caCertificates',
      'clientCertificate',
      'privateKey',
      'subjectAltNames',
      'insecureSkipVerify',
    ])
  ) {
    const mode = String(tp.tls.mode ?? 'DISABLE');
    if (!['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'].includes(mode))
      c.error(`${p}.tls.mode`, `${JSON.stringify(tp.tls.mode)} not supported (DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL)`);
    if (mode === 'MUTUAL')
      for (const k of ['clientCertificate', 'privateKey'])
        if (typeof tp.tls[k] !== 'string') c.error(`${p}.tls.${k}`, 'required for MUTUAL (a file path)');
    if (mode === 'ISTIO_MUTUAL')
      for (const k of ['caCertificates', 'clientCertificate', 'privateKey'])
        if (tp.tls[k] !== undefined) c.error(`${p}.tls.${k}`, 'must not be set for ISTIO_MUTUAL (Istio validation)');
    for (const k of ['sni', 'caCertificates', 'clientCertificate', 'privateKey'])
      if (tp.tls[k] !== undefined && typeof tp.tls[k] !== 'string') c.error(`${p}.tls.${k}`, 'must be a string');
    c.list(tp.tls.subjectAltNames, `${p}.tls.subjectAltNames`).forEach((n, i) => {
      if (typeof n !== 'string') c.error(`${p}.tls.subjectAltNames[${i}]`, 'must be a string');
    });
    if (tp.tls.insecureSkipVerify !== undefined && typeof tp.tls.insecureSkipVerify !== 'boolean')
      c.error(`${p}.tls.insecureSkipVerify`, 'must be a boolean');
  }
}

function checkDestinationRule(c: Checker, spec: JsonObject): void {
  if (!c.fields(spec, 'spec', ['host', 'subsets', 'trafficPolicy', 'exportTo'])) return;
  checkExportTo(c, spec);
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
  if (!c.fields(spec, 'spec', ['jwtRules', 'selector', 'targetRef', 'targetRefs'])) return;
  checkSelector(c, spec);
  checkTargetRefs(c, spec);
  c.list(spec.jwtRules, 'spec.jwtRules').forEach((r, i) => {
    const p = `spec.jwtRules[${i}]`;
    if (!c.fields(r, p, JWT_RULE_FIELDS)) return;
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
  if (!c.fields(spec, 'spec', ['action', 'rules', 'selector', 'targetRef', 'targetRefs'])) return;
  checkSelector(c, spec);
  checkTargetRefs(c, spec);
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
  if (!c.fields(spec, 'spec', ['mtls', 'selector', 'portLevelMtls'])) return;
  checkSelector(c, spec);
  const mode = (v: unknown, p: string) => {
    if (v !== undefined && c.fields(v, p, ['mode'])) {
      if (v.mode !== undefined && !['STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET'].includes(String(v.mode)))
        c.error(`${p}.mode`, `${JSON.stringify(v.mode)} not supported`);
    }
  };
  mode(spec.mtls, 'spec.mtls');
  if (spec.portLevelMtls !== undefined) {
    if (!isObject(spec.portLevelMtls)) return c.error('spec.portLevelMtls', 'must be a map of port: {mode}');
    // Istio validation: port-level settings need a workload selector.
    if (!isObject(spec.selector) || !isObject(spec.selector.matchLabels) || Object.keys(spec.selector.matchLabels).length === 0)
      c.error('spec.portLevelMtls', 'requires a non-empty selector (Istio validation)');
    for (const [port, v] of Object.entries(spec.portLevelMtls)) {
      if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) c.error(`spec.portLevelMtls.${port}`, 'not a port number');
      mode(v, `spec.portLevelMtls.${port}`);
    }
  }
}

function checkTelemetry(c: Checker, spec: JsonObject): void {
  if (!c.fields(spec, 'spec', ['metrics', 'accessLogging', 'asmesh', 'selector', 'targetRef', 'targetRefs'])) return;
  checkSelector(c, spec);
  checkTargetRefs(c, spec);
  const providers = (v: unknown, p: string) =>
    c.list(v, p).forEach((pr, k) => {
      if (!c.fields(pr, `${p}[${k}]`, ['name'])) return;
      if (pr.name !== 'prometheus')
        c.error(`${p}[${k}].name`, `${JSON.stringify(pr.name)} not supported (asmesh reports to prometheus only)`);
    });
  c.list(spec.metrics, 'spec.metrics').forEach((m, i) => {
    const p = `spec.metrics[${i}]`;
    if (!c.fields(m, p, ['providers', 'overrides'])) return;
    providers(m.providers, `${p}.providers`);
    c.list(m.overrides, `${p}.overrides`).forEach((o, j) => c.fields(o, `${p}.overrides[${j}]`, ['match', 'disabled', 'tagOverrides']));
  });
  c.list(spec.accessLogging, 'spec.accessLogging').forEach((a, i) => {
    if (!c.fields(a, `spec.accessLogging[${i}]`, ['providers', 'disabled', 'filter'])) return;
    c.list(a.providers, `spec.accessLogging[${i}].providers`).forEach((pr, k) => {
      if (isObject(pr) && pr.name !== 'envoy')
        c.warn(
          `spec.accessLogging[${i}].providers[${k}].name`,
          `${JSON.stringify(pr.name)}: asmesh's telemetry filter writes its own access log (Istio's "envoy" provider)`,
        );
    });
  });
}

const CHECKS: Record<Kind, (c: Checker, spec: JsonObject) => void> = {
  VirtualService: checkVirtualService,
  DestinationRule: checkDestinationRule,
  RequestAuthentication: checkRequestAuthentication,
  AuthorizationPolicy: checkAuthorizationPolicy,
  PeerAuthentication: checkPeerAuthentication,
  Telemetry: checkTelemetry,
};

const KUBE_API: Record<KubeKind, string> = {
  Service: 'v1',
  Pod: 'v1',
  ServiceAccount: 'v1',
  Namespace: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
};
/** Kinds read and ignored, with why (a sidecar's config does not depend on them). */
const IGNORED_KINDS: Record<string, string> = {
  Gateway: 'ignored: asmesh renders sidecars, not gateways',
};

function checkService(c: Checker, spec: JsonObject): void {
  c.list(spec.ports, 'spec.ports').forEach((p, i) => {
    if (!isObject(p)) return c.error(`spec.ports[${i}]`, 'must be an object');
    if (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535)
      c.error(`spec.ports[${i}].port`, 'required port number');
    if (p.targetPort !== undefined && typeof p.targetPort !== 'number' && typeof p.targetPort !== 'string')
      c.error(`spec.ports[${i}].targetPort`, 'must be a number or a port name');
  });
  if (spec.selector !== undefined && !isObject(spec.selector)) c.error('spec.selector', 'must be a map of label: value');
}

function labelsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) out[k] = String(x);
  return out;
}

/** The first NUL's offset, or -1 (YAML text never holds one; a binary file does). */
function nulAt(text: string): number {
  return text.indexOf('\0');
}

/**
 * Parses one file's text into resources; throws InputErrors, one line per problem naming the file,
 * the document (when there are several) and the field. Never throws anything else for any text.
 */
export function parseResources(file: string, text: string): { resources: Resource[]; warnings: string[] } {
  const c = new Checker(file);
  const resources: Resource[] = [];
  const nul = nulAt(text);
  if (nul >= 0) throw new InputErrors([`${file}: a NUL byte at offset ${nul}: not YAML text`]);
  if (text.trim() === '') throw new InputErrors([`${file}: empty: no YAML documents`]);
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs)) throw new InputErrors([`${file}: not a YAML stream`]);
  docs.forEach((doc, index) => {
    const where = docs.length > 1 ? `${file}: document ${index + 1}` : file;
    if (doc.errors.length || doc.warnings.length) {
      // Unknown tags are warnings to the yaml library; a tag asmesh cannot interpret is an error here.
      for (const e of [...doc.errors, ...doc.warnings]) c.errors.push(`${where}: YAML: ${e.message.split('\n')[0]}`);
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (e) {
      const m = (e as Error).message.split('\n')[0];
      c.errors.push(`${where}: YAML: ${/Excessive alias count/.test(m) ? `more than ${MAX_ALIASES} alias expansions` : m}`);
      return;
    }
    if (value === null || value === undefined) return; // empty document
    if (!isObject(value)) {
      c.errors.push(`${where}: not a resource (expected a mapping with apiVersion, kind, metadata, spec)`);
      return;
    }
    const kind = value.kind;
    const meta = isObject(value.metadata) ? value.metadata : {};
    const name = String(meta.name ?? '');
    const namespace = String(meta.namespace ?? 'default');
    const api = String(value.apiVersion ?? '');
    if (typeof kind === 'string' && kind in IGNORED_KINDS && api.startsWith('networking.istio.io/')) {
      c.warnings.push(`${where}: ${kind} ${name}: ${IGNORED_KINDS[kind]}`);
      return;
    }
    const sub = new Checker(where);
    if (typeof kind === 'string' && kind in KUBE_API) {
      if (api !== KUBE_API[kind as KubeKind]) {
        c.errors.push(`${where}: apiVersion: ${JSON.stringify(api)} is not ${KUBE_API[kind as KubeKind]} for ${kind}`);
        return;
      }
      const spec = value.spec ?? {};
      if (!isObject(spec)) sub.error('spec', 'must be an object');
      else if (kind === 'Service') checkService(sub, spec);
      c.errors.push(...sub.errors);
      if (sub.errors.length === 0)
        resources.push({
          file,
          at: where,
          kind: kind as KubeKind,
          name,
          namespace,
          labels: labelsOf(meta.labels),
          spec: spec as JsonObject,
        });
      return;
    }
    if (typeof kind !== 'string' || !(kind in CHECKS)) {
      c.errors.push(
        `${where}: kind: ${JSON.stringify(kind ?? null)} not supported (${[...Object.keys(CHECKS), ...Object.keys(KUBE_API)].join(', ')})`,
      );
      return;
    }
    if (!api.startsWith(API_GROUPS[kind as Kind] + '/')) {
      c.errors.push(`${where}: apiVersion: ${JSON.stringify(api)} is not ${API_GROUPS[kind as Kind]}/* for ${kind}`);
      return;
    }
    const spec = value.spec ?? {};
    if (!isObject(spec)) sub.error('spec', 'must be an object');
    else CHECKS[kind as Kind](sub, spec);
    c.errors.push(...sub.errors);
    c.warnings.push(...sub.warnings);
    if (sub.errors.length === 0) {
      resources.push({ file, at: where, kind: kind as Kind, name, namespace, labels: labelsOf(meta.labels), spec: spec as JsonObject });
    }
  });
  if (c.errors.length) throw new InputErrors(c.errors);
  return { resources, warnings: c.warnings };
}

/** Istio duration ("1s", "3m", "100ms", "1.5s", "1h") as an Envoy/protobuf duration string ("180s"). */
/** What Envoy's retry_on (x-envoy-retry-on, x-envoy-retry-grpc-on) takes: Istio's supportedRetryOnPolicies. */
const RETRY_ON = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'envoy-ratelimited',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

/** An HTTP status code Go's http.StatusText knows (Istio's test for a retryOn status code). */
export function isHttpStatus(s: string): boolean {
  if (!/^[0-9]+$/.test(s)) return false;
  const n = Number(s);
  return (
    (n >= 100 && n <= 103) ||
    (n >= 200 && n <= 208) ||
    n === 226 ||
    (n >= 300 && n <= 308 && n !== 306) ||
    (n >= 400 && n <= 418) ||
    n === 421 ||
    n === 422 ||
    n === 423 ||
    n === 424 ||
    n === 425 ||
    n === 426 ||
    n === 428 ||
    n === 429 ||
    n === 431 ||
    n === 451 ||
    (n >= 500 && n <= 508) ||
    n === 510 ||
    n === 511
  );
}

/** Istio's ValidateHTTPRetry (pkg/config/validation/agent). */
function checkRetries(r: JsonObject, p: string, c: Checker): void {
  if (typeof r.attempts !== 'number' || !Number.isInteger(r.attempts) || r.attempts < 0)
    return c.error(`${p}.attempts`, 'required: an integer >= 0 (0 disables retries)');
  if (r.attempts === 0 && (r.perTryTimeout !== undefined || r.retryOn !== undefined))
    c.error(p, 'http retry policy configured when attempts are set to 0 (disabled) (Istio validation)');
  if (r.perTryTimeout !== undefined) checkDuration(r.perTryTimeout, `${p}.perTryTimeout`, c);
  if (r.retryOn !== undefined) {
    if (typeof r.retryOn !== 'string') return c.error(`${p}.retryOn`, 'must be a string');
    for (const part of r.retryOn.split(','))
      if (!RETRY_ON.has(part) && !isHttpStatus(part)) c.error(`${p}.retryOn`, `${JSON.stringify(part)} is not a valid retryOn policy`);
  }
}

/** Istio's ValidateDuration: at least 1ms, millisecond precision. */
function checkDuration(v: Json, path: string, c: Checker): void {
  const d = toDuration(v, path, c);
  if (d === undefined) return;
  const ns = Math.round(Number(d.slice(0, -1)) * 1e9);
  if (ns < 1e6) c.error(path, 'duration must be greater than 1ms (Istio validation)');
  else if (ns % 1e6 !== 0) c.error(path, 'only durations to ms precision are supported (Istio validation)');
}

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
