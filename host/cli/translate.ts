// `asmesh translate`: Istio resources -> the three plugin configurations + an Envoy bootstrap.
// Pure: takes file texts and options, returns data. The CLI (main.ts) does the I/O.
//
// The sidecar it renders has Istio's two listeners:
// - outbound (service -> mesh): steering and telemetry wasm filters, then the router; routes use
//   `cluster_header: x-asmesh-cluster` (set by steering), else the host's default cluster
//   `outbound|<port>||<host>`; clusters per DestinationRule subset with its connection pool
//   (circuit breakers) and outlier detection; mTLS to other sidecars when PeerAuthentication is STRICT
//   (or the DestinationRule asks for ISTIO_MUTUAL).
// - inbound (mesh -> local app): authz and telemetry, TLS with required client certificates when
//   STRICT, then the local app's cluster. Every sidecar thus runs all three filters, each where Istio
//   applies the resource (order in a chain as in DESIGN.md: steering, authz, telemetry).
import { Checker, isObject, parseResources, toDuration, type JsonObject, type Resource } from './istio.ts';
import { InputErrors } from './errors.ts';
import { ISTIO_LABELS, MESH_FILTERS, filterManifest, statsTags, type ListenerSide, type MeshFilterName } from '../../filters/manifest.ts';
import { ISTIO_PATH_HANDLING, endpointCluster, httpConnectionManager, socket, wasmFilterEntry } from '../envoy/config.ts';
import { CLUSTER_HEADER, CLUSTER_TEMPLATE } from '../../assembly/lib/contracts.ts';

export { ISTIO_PATH_HANDLING };

type FilterName = MeshFilterName;

export interface Workload {
  name: string;
  namespace: string;
  app: string;
  version: string;
  serviceAccount: string;
}

export interface TranslateOptions {
  workload?: Partial<Workload>;
  trustDomain?: string;
  /** Directory holding <filter>.wasm inside the sidecar (docker: /etc/asmesh/wasm). */
  wasmDir?: string;
  /** Directory holding cert.pem, key.pem, ca.pem (the workload certificate and the mesh CA). */
  certDir?: string;
  adminPort?: number;
  outboundPort?: number;
  inboundPort?: number;
  /** The local application the inbound listener forwards to. */
  app?: { address: string; port: number };
  /** Endpoint for a cluster, by cluster name; default: the subset's DNS name `<host>-<subset>` (or `<host>`) and the cluster port. */
  endpoints?: Record<string, { address: string; port: number }>;
  /** Port used for destinations that name none (Istio needs one; asmesh assumes 80). */
  defaultPort?: number;
  /** Filters to mount (default: all three). */
  filters?: FilterName[];
}

export interface TranslateResult {
  steering: JsonObject | null;
  authz: JsonObject | null;
  telemetry: JsonObject | null;
  envoy: JsonObject;
  mtls: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  clusters: string[];
  warnings: string[];
}

export function clusterName(host: string, subset: string, port: number): string {
  return CLUSTER_TEMPLATE.replace('{port}', String(port)).replace('{subset}', subset).replace('{host}', host);
}

/** Labels a Telemetry spec adds with tagOverrides (each needs its own stats_tags rule). */
function customLabels(telemetry: JsonObject | null): string[] {
  const out = new Set<string>();
  for (const m of (telemetry?.metrics as JsonObject[] | undefined) ?? []) {
    for (const o of (m.overrides as JsonObject[] | undefined) ?? []) {
      for (const [label, op] of Object.entries(isObject(o.tagOverrides) ? o.tagOverrides : {})) {
        if (!(ISTIO_LABELS as readonly string[]).includes(label) && !(isObject(op) && op.operation === 'REMOVE')) out.add(label);
      }
    }
  }
  return [...out];
}

/** The telemetry filter's configuration from an Istio Telemetry spec, for one side of the sidecar. */
function telemetryConfig(spec: JsonObject | null, side: ListenerSide): JsonObject {
  const cfg: JsonObject = { ...sideFields('telemetry', side) };
  if (spec?.metrics !== undefined) cfg.metrics = spec.metrics;
  const logs = (spec?.accessLogging as JsonObject[] | undefined) ?? [];
  if (logs.length) cfg.accessLog = { enabled: !logs.every((l) => l.disabled === true) };
  return cfg;
}

interface Subset {
  name: string;
  policy: JsonObject | undefined;
}
interface Service {
  host: string;
  ports: Set<number>;
  subsets: Subset[];
  policy: JsonObject | undefined;
  file: string;
}

export function translate(files: { name: string; text: string }[], opts: TranslateOptions = {}): TranslateResult {
  const resources: Resource[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  for (const f of files) {
    try {
      const r = parseResources(f.name, f.text);
      resources.push(...r.resources);
      warnings.push(...r.warnings);
    } catch (e) {
      if (e instanceof InputErrors) errors.push(...e.errors);
      else throw e;
    }
  }
  if (errors.length) throw new InputErrors(errors);

  const byKind = (k: Resource['kind']) => resources.filter((r) => r.kind === k);
  const defaultPort = opts.defaultPort ?? 80;
  const wl: Workload = {
    name: opts.workload?.name ?? 'workload',
    namespace: opts.workload?.namespace ?? 'default',
    app: opts.workload?.app ?? opts.workload?.name ?? 'workload',
    version: opts.workload?.version ?? 'v1',
    serviceAccount: opts.workload?.serviceAccount ?? opts.workload?.name ?? 'default',
  };

  // steering: one VirtualService (the filter takes one spec).
  const vss = byKind('VirtualService');
  if (vss.length > 1) {
    throw new InputErrors([
      `${vss[1].file}: VirtualService ${vss[1].name}: a second VirtualService (first: ${vss[0].file}); the steering filter takes one, translate them separately or merge their http routes`,
    ]);
  }
  const services = new Map<string, Service>();
  const service = (host: string, file: string): Service => {
    let s = services.get(host);
    if (!s) services.set(host, (s = { host, ports: new Set(), subsets: [], policy: undefined, file }));
    return s;
  };
  let steering: JsonObject | null = null;
  let routeTimeout: string | undefined;
  let retryPolicy: JsonObject | undefined;
  if (vss.length === 1) {
    const vs = vss[0];
    const c = new Checker(vs.file);
    const spec = structuredClone(vs.spec) as JsonObject;
    const http = (spec.http as JsonObject[]) ?? [];
    // Envoy does timeouts and retries natively on the route; one value for the whole listener.
    http.forEach((h, i) => {
      if (h.timeout !== undefined) {
        const t = toDuration(h.timeout, `spec.http[${i}].timeout`, c);
        if (routeTimeout !== undefined && t !== routeTimeout)
          c.error(
            `spec.http[${i}].timeout`,
            `differs from an earlier http route's (${routeTimeout}); asmesh applies one timeout to all routes`,
          );
        routeTimeout = t;
        delete h.timeout;
      }
      if (h.retries !== undefined) {
        const r = h.retries as JsonObject;
        const policy: JsonObject = {
          retry_on: typeof r.retryOn === 'string' ? r.retryOn : 'connect-failure,refused-stream,unavailable,cancelled,5xx',
          num_retries: r.attempts as number,
        };
        const per = toDuration(r.perTryTimeout, `spec.http[${i}].retries.perTryTimeout`, c);
        if (per) policy.per_try_timeout = per;
        if (retryPolicy !== undefined && JSON.stringify(policy) !== JSON.stringify(retryPolicy))
          c.error(`spec.http[${i}].retries`, "differs from an earlier http route's; asmesh applies one retry policy to all routes");
        retryPolicy = policy;
        delete h.retries;
      }
      ((h.route as JsonObject[]) ?? []).forEach((d) => {
        const dest = d.destination as JsonObject;
        const port = isObject(dest.port) && typeof dest.port.number === 'number' ? dest.port.number : defaultPort;
        const s = service(String(dest.host), vs.file);
        s.ports.add(port);
        if (typeof dest.subset === 'string' && !s.subsets.some((x) => x.name === dest.subset))
          s.subsets.push({ name: dest.subset, policy: undefined });
      });
    });
    if (c.errors.length) throw new InputErrors(c.errors);
    const asmesh = isObject(spec.asmesh) ? spec.asmesh : {};
    // namespace: short hosts resolve in the VirtualService's (the proxy's comes from node metadata);
    // port: the service port, which `match.port` compares with as pilot's per-port listeners do.
    spec.asmesh = { clusterName: CLUSTER_TEMPLATE, namespace: vs.namespace, port: defaultPort, ...asmesh };
    steering = spec;
    for (const h of vs.spec.hosts as string[]) service(h, vs.file).ports.add(defaultPort);
  }

  // DestinationRules: subsets and their traffic policies.
  const drHosts = new Map<string, string>();
  for (const dr of byKind('DestinationRule')) {
    const host = String(dr.spec.host);
    if (drHosts.has(host))
      throw new InputErrors([`${dr.file}: spec.host: a second DestinationRule for ${host} (first: ${drHosts.get(host)})`]);
    drHosts.set(host, dr.file);
    const s = service(host, dr.file);
    if (s.ports.size === 0) s.ports.add(defaultPort);
    s.policy = dr.spec.trafficPolicy as JsonObject | undefined;
    for (const sub of (dr.spec.subsets as JsonObject[] | undefined) ?? []) {
      const existing = s.subsets.find((x) => x.name === sub.name);
      if (existing) existing.policy = sub.trafficPolicy as JsonObject | undefined;
      else s.subsets.push({ name: String(sub.name), policy: sub.trafficPolicy as JsonObject | undefined });
    }
  }
  // A VirtualService subset no DestinationRule defines: Istio answers 503 (no cluster); say so early.
  for (const s of services.values()) {
    if (!drHosts.has(s.host)) continue;
    const dr = byKind('DestinationRule').find((d) => d.spec.host === s.host)!;
    const defined = new Set(((dr.spec.subsets as JsonObject[] | undefined) ?? []).map((x) => x.name));
    for (const sub of s.subsets)
      if (!defined.has(sub.name))
        warnings.push(
          `${dr.file}: spec.subsets: no subset ${sub.name} (used by a VirtualService); its cluster gets the host's default endpoints`,
        );
  }

  // authz: every RequestAuthentication's rules, every AuthorizationPolicy as {name, ...spec}.
  const ras = byKind('RequestAuthentication');
  const aps = byKind('AuthorizationPolicy');
  let authz: JsonObject | null = null;
  const jwksClusters = new Map<string, { host: string; port: number; tls: boolean }>();
  if (ras.length || aps.length) {
    const jwtRules = ras.flatMap((r) => (r.spec.jwtRules as JsonObject[] | undefined) ?? []);
    for (const rule of jwtRules) {
      if (typeof rule.jwksUri !== 'string') continue;
      const asm = isObject(rule.asmesh) ? rule.asmesh : {};
      const u = new URL(rule.jwksUri);
      const tls = u.protocol === 'https:';
      const port = u.port ? Number(u.port) : tls ? 443 : 80;
      const name = typeof asm.jwksCluster === 'string' ? asm.jwksCluster : u.host; // the filter's default: the URI's authority
      jwksClusters.set(name, { host: u.hostname, port, tls });
    }
    authz = { jwtRules, policies: aps.map((a) => ({ name: a.name, ...a.spec })) };
  }

  // mTLS: the strictest PeerAuthentication wins (a single workload).
  const pas = byKind('PeerAuthentication');
  const modes = pas.map((p) => String((p.spec.mtls as JsonObject | undefined)?.mode ?? 'UNSET'));
  const mtls = modes.includes('STRICT') ? 'STRICT' : modes.includes('DISABLE') ? 'DISABLE' : 'PERMISSIVE';
  if (modes.includes('STRICT') && modes.includes('DISABLE'))
    warnings.push('PeerAuthentication: both STRICT and DISABLE given; STRICT applies');

  const tels = byKind('Telemetry');
  if (tels.length > 1)
    throw new InputErrors([`${tels[1].file}: Telemetry ${tels[1].name}: a second Telemetry resource (first: ${tels[0].file}); merge them`]);
  const telemetry: JsonObject | null = tels.length ? structuredClone(tels[0].spec) : null;

  const configs: Record<FilterName, JsonObject | null> = { steering, authz, telemetry };
  const envoy = renderBootstrap({
    services: [...services.values()],
    jwksClusters,
    mtls,
    wl,
    opts,
    configs,
    routeTimeout,
    retryPolicy,
    warnings,
  });
  const clusters = ((envoy.static_resources as JsonObject).clusters as JsonObject[]).map((c) => String(c.name));
  // The inbound (destination) side's configuration; the outbound listener's differs only in reporter.
  return { steering, authz, telemetry: telemetry && telemetryConfig(telemetry, 'inbound'), envoy, mtls, clusters, warnings };
}

/** The configuration fields a listener side sets for a filter (the manifest's `sides`). */
function sideFields(filter: FilterName, side: ListenerSide): JsonObject {
  return { ...(filterManifest(filter)!.sides[side] as JsonObject | undefined) };
}

function certs(certDir: string): JsonObject {
  return {
    tls_certificates: [{ certificate_chain: { filename: `${certDir}/cert.pem` }, private_key: { filename: `${certDir}/key.pem` } }],
  };
}

function validation(certDir: string, trustDomain: string): JsonObject {
  return {
    validation_context: {
      trusted_ca: { filename: `${certDir}/ca.pem` },
      match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: `spiffe://${trustDomain}/` } }],
    },
  };
}

function wasmFilter(filter: FilterName, config: JsonObject | null, wasmDir: string, side: ListenerSide): JsonObject {
  if (filter === 'telemetry') config = telemetryConfig(config, side);
  return wasmFilterEntry(filter, `${wasmDir}/${filter}.wasm`, config ?? filterManifest(filter)!.defaultConfig);
}

function mergePolicy(base: JsonObject | undefined, over: JsonObject | undefined): JsonObject {
  // Istio: a subset's trafficPolicy overrides the DestinationRule's field by field (top level).
  return { ...(base ?? {}), ...(over ?? {}) };
}

function clusterFromPolicy(
  name: string,
  policy: JsonObject,
  endpoint: { address: string; port: number },
  upstreamTls: JsonObject | null,
  c: Checker,
  at: string,
): JsonObject {
  const cluster: JsonObject = {
    name,
    type: /^[\d.]+$/.test(endpoint.address) ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: '10s',
    lb_policy: 'ROUND_ROBIN',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(endpoint.address, endpoint.port) } }] }],
    },
  };
  const cp = isObject(policy.connectionPool) ? policy.connectionPool : {};
  const tcp = isObject(cp.tcp) ? cp.tcp : {};
  const http = isObject(cp.http) ? cp.http : {};
  const thresholds: JsonObject = {};
  if (typeof tcp.maxConnections === 'number') thresholds.max_connections = tcp.maxConnections;
  if (typeof http.http1MaxPendingRequests === 'number') thresholds.max_pending_requests = http.http1MaxPendingRequests;
  if (typeof http.http2MaxRequests === 'number') thresholds.max_requests = http.http2MaxRequests;
  if (typeof http.maxRetries === 'number') thresholds.max_retries = http.maxRetries;
  if (Object.keys(thresholds).length) cluster.circuit_breakers = { thresholds: [thresholds] };
  const ct = toDuration(tcp.connectTimeout, `${at}.connectionPool.tcp.connectTimeout`, c);
  if (ct) cluster.connect_timeout = ct;
  const common: JsonObject = {};
  if (typeof http.maxRequestsPerConnection === 'number' && http.maxRequestsPerConnection > 0)
    common.max_requests_per_connection = http.maxRequestsPerConnection;
  const idle = toDuration(http.idleTimeout, `${at}.connectionPool.http.idleTimeout`, c);
  if (idle) common.idle_timeout = idle;
  if (Object.keys(common).length) {
    cluster.typed_extension_protocol_options = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        common_http_protocol_options: common,
        explicit_http_config: { http_protocol_options: {} },
      },
    };
  }
  if (isObject(policy.outlierDetection)) {
    const od = policy.outlierDetection;
    const out: JsonObject = {};
    // Istio: consecutiveErrors (deprecated) counts gateway errors (502, 503, 504) only.
    if (typeof od.consecutiveErrors === 'number') {
      out.consecutive_gateway_failure = od.consecutiveErrors;
      out.enforcing_consecutive_gateway_failure = 100;
      out.enforcing_consecutive_5xx = 0;
    }
    if (typeof od.consecutiveGatewayErrors === 'number') {
      out.consecutive_gateway_failure = od.consecutiveGatewayErrors;
      out.enforcing_consecutive_gateway_failure = 100;
    }
    if (typeof od.consecutive5xxErrors === 'number') {
      out.consecutive_5xx = od.consecutive5xxErrors;
      out.enforcing_consecutive_5xx = od.consecutive5xxErrors > 0 ? 100 : 0;
    }
    const interval = toDuration(od.interval, `${at}.outlierDetection.interval`, c);
    if (interval) out.interval = interval;
    const base = toDuration(od.baseEjectionTime, `${at}.outlierDetection.baseEjectionTime`, c);
    if (base) out.base_ejection_time = base;
    if (typeof od.maxEjectionPercent === 'number') out.max_ejection_percent = od.maxEjectionPercent;
    cluster.outlier_detection = out;
    if (typeof od.minHealthPercent === 'number') cluster.common_lb_config = { healthy_panic_threshold: { value: od.minHealthPercent } };
  }
  if (isObject(policy.loadBalancer) && typeof policy.loadBalancer.simple === 'string') {
    const lb: Record<string, string> = {
      ROUND_ROBIN: 'ROUND_ROBIN',
      LEAST_REQUEST: 'LEAST_REQUEST',
      RANDOM: 'RANDOM',
      UNSPECIFIED: 'ROUND_ROBIN',
    };
    cluster.lb_policy = lb[policy.loadBalancer.simple] ?? 'ROUND_ROBIN';
  }
  const tlsMode = isObject(policy.tls) ? policy.tls.mode : undefined;
  const wantTls = tlsMode === 'ISTIO_MUTUAL' || (tlsMode !== 'DISABLE' && upstreamTls !== null);
  if (wantTls && upstreamTls) cluster.transport_socket = upstreamTls;
  return cluster;
}

function renderBootstrap(args: {
  services: Service[];
  jwksClusters: Map<string, { host: string; port: number; tls: boolean }>;
  mtls: string;
  wl: Workload;
  opts: TranslateOptions;
  configs: Record<FilterName, JsonObject | null>;
  routeTimeout?: string;
  retryPolicy?: JsonObject;
  warnings: string[];
}): JsonObject {
  const { services, opts, wl, configs } = args;
  const c = new Checker('DestinationRule');
  const wasmDir = opts.wasmDir ?? '/etc/asmesh/wasm';
  const certDir = opts.certDir ?? '/etc/asmesh/certs';
  const trustDomain = opts.trustDomain ?? 'cluster.local';
  // steering and authz are mounted only when a resource configures them (no VirtualService: nothing
  // to steer; no policy: Istio allows everything); telemetry always reports.
  const filters = (opts.filters ?? [...MESH_FILTERS]).filter((f) => filterManifest(f)!.always === true || configs[f] !== null);
  for (const f of opts.filters ?? MESH_FILTERS) {
    if (!filters.includes(f)) args.warnings.push(`no ${filterManifest(f)!.istioKinds.join(' or ')}: the ${f} filter is not mounted`);
  }
  const strict = args.mtls === 'STRICT';
  const upstreamTls: JsonObject | null = strict
    ? {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          common_tls_context: { ...certs(certDir), ...validation(certDir, trustDomain) },
        },
      }
    : null;
  const endpointFor = (name: string, host: string, subset: string, port: number) =>
    opts.endpoints?.[name] ?? { address: subset ? `${host}-${subset}` : host, port };

  const clusters: JsonObject[] = [];
  const virtualHosts: JsonObject[] = [];
  const routeExtras: JsonObject = {};
  if (args.routeTimeout) routeExtras.timeout = args.routeTimeout;
  if (args.retryPolicy) routeExtras.retry_policy = args.retryPolicy;
  // Taken when steering wrote the cluster; services never see the header.
  const steeredRoute = (): JsonObject => ({
    name: 'asmesh-steered',
    match: { prefix: '/', headers: [{ name: CLUSTER_HEADER, present_match: true }] },
    route: { cluster_header: CLUSTER_HEADER, ...routeExtras },
    request_headers_to_remove: [CLUSTER_HEADER],
  });
  for (const s of services) {
    for (const port of [...s.ports].sort((a, b) => a - b)) {
      const def = clusterName(s.host, '', port);
      clusters.push(
        clusterFromPolicy(def, s.policy ?? {}, endpointFor(def, s.host, '', port), upstreamTls, c, `${s.file}: spec.trafficPolicy`),
      );
      s.subsets.forEach((sub, i) => {
        const name = clusterName(s.host, sub.name, port);
        clusters.push(
          clusterFromPolicy(
            name,
            mergePolicy(s.policy, sub.policy),
            endpointFor(name, s.host, sub.name, port),
            upstreamTls,
            c,
            `${s.file}: spec.subsets[${i}].trafficPolicy`,
          ),
        );
      });
    }
    const port = Math.min(...s.ports);
    virtualHosts.push({
      name: s.host,
      domains: [s.host, `${s.host}:*`],
      routes: [
        steeredRoute(),
        { name: 'default', match: { prefix: '/' }, route: { cluster: clusterName(s.host, '', port), ...routeExtras } },
      ],
    });
  }
  if (c.errors.length) throw new InputErrors(c.errors);
  // Requests for hosts the mesh does not know: still let steering pick a cluster, else 404 (Istio: BlackHole/passthrough).
  virtualHosts.push({
    name: 'catch_all',
    domains: ['*'],
    routes: [steeredRoute()],
  });
  for (const [name, j] of args.jwksClusters) {
    const ep = opts.endpoints?.[name] ?? { address: j.host, port: j.port };
    const cl: JsonObject = { ...endpointCluster(name, ep.address, ep.port), dns_lookup_family: 'V4_ONLY' };
    if (j.tls)
      cl.transport_socket = {
        name: 'envoy.transport_sockets.tls',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: j.host },
      };
    clusters.push(cl);
  }
  const app = opts.app ?? { address: '127.0.0.1', port: 8080 };
  const inboundCluster = `inbound|${app.port}||`;
  clusters.push(endpointCluster(inboundCluster, app.address, app.port));

  // Each filter on the listener sides its manifest entry names (in chain order).
  const httpFilters = (side: ListenerSide) =>
    filters.filter((f) => filterManifest(f)!.sides[side] !== undefined).map((f) => wasmFilter(f, configs[f], wasmDir, side));
  const hcm = (statPrefix: ListenerSide, routeConfig: JsonObject, forwardCert: boolean): JsonObject =>
    httpConnectionManager(
      statPrefix,
      routeConfig,
      httpFilters(statPrefix),
      forwardCert ? { forward_client_cert_details: 'SANITIZE_SET', set_current_client_cert_details: { uri: true } } : {},
    ) as JsonObject;
  const inboundChain: JsonObject = {
    filters: [
      hcm(
        'inbound',
        {
          name: 'inbound',
          virtual_hosts: [
            { name: 'inbound', domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: inboundCluster } }] },
          ],
        },
        strict,
      ),
    ],
  };
  if (strict) {
    inboundChain.transport_socket = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        require_client_certificate: true,
        common_tls_context: { ...certs(certDir), ...validation(certDir, trustDomain) },
      },
    };
  }
  const meta: JsonObject = {
    WORKLOAD_NAME: wl.name,
    NAMESPACE: wl.namespace,
    CLUSTER_ID: 'Kubernetes',
    SERVICE_ACCOUNT: wl.serviceAccount,
    LABELS: { app: wl.app, version: wl.version },
  };
  return {
    node: {
      id: `sidecar~${wl.name}~${wl.name}.${wl.namespace}~${wl.namespace}.svc.cluster.local`,
      cluster: `${wl.app}.${wl.namespace}`,
      metadata: meta,
    },
    admin: { address: socket('0.0.0.0', opts.adminPort ?? 15000) },
    stats_config: { stats_tags: statsTags(customLabels(configs.telemetry)) as unknown as JsonObject[] },
    static_resources: {
      listeners: [
        {
          name: 'outbound',
          traffic_direction: 'OUTBOUND',
          address: socket('0.0.0.0', opts.outboundPort ?? 15001),
          filter_chains: [{ filters: [hcm('outbound', { name: 'outbound', virtual_hosts: virtualHosts }, false)] }],
        },
        {
          name: 'inbound',
          traffic_direction: 'INBOUND',
          address: socket('0.0.0.0', opts.inboundPort ?? 15006),
          filter_chains: [inboundChain],
        },
      ],
      clusters,
    },
  };
}
