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
import { Checker, isHttpStatus, isObject, parseResources, toDuration, type JsonObject, type Resource } from './istio.ts';
import {
  CLUSTER_DOMAIN,
  ROOT_NAMESPACE,
  attaches,
  destinationRule,
  modeForPort,
  peerAuthentication,
  resolveFqdn,
  servicesOf,
  servicesSelecting,
  subsetOf,
  targetPort,
  telemetries,
  virtualServices,
  workloadsOf,
  type MeshService,
  type MeshWorkload,
  type MtlsMode,
} from './mesh.ts';
import { InputErrors } from './errors.ts';
import {
  ISTIO_LABELS,
  MESH_FILTERS,
  NETWORK_FILTERS,
  filterManifest,
  statsTags,
  type FilterManifest,
  type ListenerSide,
  type MeshFilterName,
} from '../../filters/manifest.ts';
import { ISTIO_PATH_HANDLING, endpointCluster, httpConnectionManager, socket, wasmFilterEntry } from '../envoy/config.ts';
import { CLUSTER_HEADER, CLUSTER_TEMPLATE } from '../../assembly/lib/contracts.ts';
import {
  BLACKHOLE_CLUSTER,
  blackHoleCluster,
  denyAllFilter,
  listenerKind,
  portProtocol,
  tcpFilterChain,
  type TcpUpstream,
} from '../envoy/tcp.ts';
import type { MountedFilter } from '../envoy/config.ts';

export { ISTIO_PATH_HANDLING };

type FilterName = MeshFilterName;

export interface Workload {
  name: string;
  namespace: string;
  app: string;
  version: string;
  serviceAccount: string;
  labels?: Record<string, string>;
}

export interface TranslateOptions {
  workload?: Partial<Workload>;
  /** The workload's labels (--labels): picks it among the input's Deployments/Pods, or gives an ad-hoc one its labels. */
  labels?: Record<string, string>;
  /** Istio's root namespace (mesh config rootNamespace): its resources without a selector are mesh-wide. */
  rootNamespace?: string;
  /** Bind addresses (Istio: listeners 0.0.0.0, admin 127.0.0.1 (localhost)). */
  listenAddress?: string;
  adminAddress?: string;
  /** MeshConfig trustDomain (default cluster.local) and trustDomainAliases: the authz filter matches
   * principals in each (as pilot rewrites them), the mTLS chains accept each one's SPIFFE IDs. */
  trustDomain?: string;
  trustDomainAliases?: string[];
  /** Directory holding <filter>.wasm inside the sidecar (docker: /etc/asmesh/wasm). */
  wasmDir?: string;
  /** Directory holding cert.pem, key.pem, ca.pem (the workload certificate and the mesh CA). */
  certDir?: string;
  adminPort?: number;
  outboundPort?: number;
  inboundPort?: number;
  /** Bind port by listener name (`outbound_<port>`: default the Service port; `inbound_<port>`: default after inboundPort). */
  listenerPorts?: Record<string, number>;
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
  /** The first VirtualService's steering configuration (null: none applies). */
  steering: JsonObject | null;
  /** Every VirtualService's, one steering filter each in the outbound chain. */
  virtualServices: JsonObject[];
  workload: MeshWorkload;
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
  /** The registry name: the Kubernetes Service's FQDN, else the host as the resources write it. */
  host: string;
  fqdn: string;
  ports: Set<number>;
  subsets: Subset[];
  policy: JsonObject | undefined;
  file: string;
  /** The Kubernetes Service, when the input has it. */
  k8s?: MeshService;
  /** Envoy route settings of the VirtualService that routes it (timeout, retry_policy). */
  routeExtras?: JsonObject;
  /** mTLS mode of the destination's PeerAuthentication (auto mTLS when the DestinationRule sets no tls). */
  peerMode: MtlsMode;
}

/** The workload the sidecar fronts: a Deployment/Pod of the input picked by --workload/--namespace/--labels, else one given by flags. */
export function pickWorkload(resources: Resource[], opts: TranslateOptions): MeshWorkload {
  const found = workloadsOf(resources);
  const w = opts.workload ?? {};
  const ns = w.namespace;
  if (found.length && (w.name !== undefined || opts.labels !== undefined)) {
    const hits = found.filter(
      (x) =>
        (w.name === undefined || x.name === w.name) && (ns === undefined || x.namespace === ns) && subsetOf(opts.labels ?? null, x.labels),
    );
    if (hits.length === 1) {
      const h = hits[0];
      return { ...h, labels: { ...h.labels }, serviceAccount: w.serviceAccount ?? h.serviceAccount };
    }
    if (hits.length > 1 && w.name === undefined)
      throw new InputErrors([
        `--labels: ${hits.length} workloads match (${hits.map((x) => `${x.namespace}/${x.name}`).join(', ')}): add --workload`,
      ]);
    if (hits.length === 0 && w.name !== undefined)
      throw new InputErrors([
        `--workload: no Deployment/Pod ${w.name}${ns ? ` in namespace ${ns}` : ''} in the input (found: ${found.map((x) => `${x.namespace}/${x.name}`).join(', ')})`,
      ]);
  }
  const name = w.name ?? 'workload';
  return {
    name,
    namespace: ns ?? 'default',
    labels: opts.labels ?? { app: w.app ?? name, version: w.version ?? 'v1' },
    serviceAccount: w.serviceAccount ?? name,
    ports: [],
    at: null,
  };
}

/** Every workload of the input (`translate --all`); none: an error. */
export function listWorkloads(files: { name: string; text: string }[]): MeshWorkload[] {
  return workloadsOf(parseAll(files).resources);
}

function parseAll(files: { name: string; text: string }[]): { resources: Resource[]; warnings: string[] } {
  const resources: Resource[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  if (files.length === 0) throw new InputErrors(['no input files']);
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
  if (resources.length === 0) throw new InputErrors([`${files.map((f) => f.name).join(', ')}: no resources`]);
  return { resources, warnings };
}

/** Istio's default retry_on (pilot's retry.ConvertPolicy, also for a policy without retryOn). */
const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

/**
 * An Istio HTTPRetry as pilot's retry.ConvertPolicy turns it into an Envoy retry_policy: attempts 0
 * disables retries (none); status codes in retryOn become retriable_status_codes; the previous-hosts
 * predicate and 5 host selection attempts always.
 */
export function retryPolicy(r: JsonObject, path: string, c: Checker): JsonObject | null {
  if (r.attempts === 0) return null;
  const policy: JsonObject = { retry_on: DEFAULT_RETRY_ON, num_retries: r.attempts as number };
  if (typeof r.retryOn === 'string') {
    const parts = r.retryOn
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    const codes = parts.filter(isHttpStatus).map(Number);
    let on = parts.filter((x) => !isHttpStatus(x)).join(',');
    if (codes.length > 0 && !on.includes('retriable-status-codes')) on += ',retriable-status-codes';
    policy.retry_on = on;
    if (codes.length > 0) policy.retriable_status_codes = codes;
  }
  const per = toDuration(r.perTryTimeout, `${path}.perTryTimeout`, c);
  if (per) policy.per_try_timeout = per;
  policy.retry_host_predicate = [
    {
      name: 'envoy.retry_host_predicates.previous_hosts',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
    },
  ];
  policy.host_selection_retry_max_attempts = '5';
  return policy;
}

/**
 * Envoy route settings (timeout, retry_policy) of one VirtualService's http routes; removed from the
 * filter's copy. One Envoy route carries every steered request of the VirtualService, so its http routes
 * must agree (a route without one is a different value: pilot gives it timeout 0s / Istio's default retries).
 */
function routeSettings(http: JsonObject[], c: Checker): JsonObject {
  const values = http.map((h, i) => ({
    timeout: h.timeout === undefined ? undefined : toDuration(h.timeout, `spec.http[${i}].timeout`, c),
    retries: h.retries === undefined ? undefined : retryPolicy(h.retries as JsonObject, `spec.http[${i}].retries`, c),
  }));
  http.forEach((h) => {
    delete h.timeout;
    delete h.retries;
  });
  const out: JsonObject = {};
  const [first] = values;
  if (!first) return out;
  values.forEach((v, i) => {
    if (i === 0) return;
    if (v.timeout !== first.timeout)
      c.error(
        `spec.http[${i}].timeout`,
        `${v.timeout ?? 'unset'} differs from spec.http[0]'s (${first.timeout ?? 'unset'}); asmesh applies one timeout to a VirtualService's routes`,
      );
    if (JSON.stringify(v.retries) !== JSON.stringify(first.retries))
      c.error(`spec.http[${i}].retries`, "differs from spec.http[0]'s; asmesh applies one retry policy to a VirtualService's routes");
  });
  if (first.timeout) out.timeout = first.timeout;
  if (first.retries) out.retry_policy = first.retries;
  return out;
}

export function translate(files: { name: string; text: string }[], opts: TranslateOptions = {}): TranslateResult {
  const { resources, warnings } = parseAll(files);
  const byKind = (k: Resource['kind']) => resources.filter((r) => r.kind === k);
  const defaultPort = opts.defaultPort ?? 80;
  const root = opts.rootNamespace ?? ROOT_NAMESPACE;
  const mw = pickWorkload(resources, opts);
  const wl: Workload = {
    name: mw.name,
    namespace: mw.namespace,
    app: mw.labels.app ?? mw.name,
    version: mw.labels.version ?? 'v1',
    serviceAccount: mw.serviceAccount,
    labels: mw.labels,
  };
  const k8sServices = servicesOf(resources);
  const byFqdn = new Map(k8sServices.map((s) => [s.fqdn, s]));
  const pas = byKind('PeerAuthentication');
  const drs = byKind('DestinationRule');
  const allWorkloads = workloadsOf(resources);

  // Outbound: every Service of the mesh (Istio without a Sidecar resource), every host a VirtualService
  // routes or names, every DestinationRule host; ports from the Service, else the destinations', else assumed.
  const services = new Map<string, Service>();
  const service = (host: string, namespace: string, file: string): Service => {
    const fqdn = resolveFqdn(host.toLowerCase(), namespace);
    let s = services.get(fqdn);
    if (!s) {
      const k8s = byFqdn.get(fqdn);
      // The destination's own PeerAuthentication: its namespace (and the workloads its selector picks).
      const workloads = k8s ? allWorkloads.filter((w) => servicesSelecting([k8s], w).length > 0) : [];
      const hostNs = k8s?.namespace ?? (fqdn.endsWith(`.svc.${CLUSTER_DOMAIN}`) ? fqdn.split('.')[1] : namespace);
      const modes = (workloads.length ? workloads : [{ namespace: hostNs, labels: {} }]).map((w) => peerAuthentication(pas, w, root));
      const peerMode: MtlsMode = modes.every((m) => m.mode === 'STRICT')
        ? 'STRICT'
        : modes.some((m) => m.mode === 'DISABLE')
          ? 'DISABLE'
          : 'PERMISSIVE';
      s = {
        host: k8s ? fqdn : host,
        fqdn,
        ports: new Set(k8s?.ports.map((p) => p.port)),
        subsets: [],
        policy: undefined,
        file,
        k8s,
        peerMode,
      };
      services.set(fqdn, s);
    }
    return s;
  };
  // Outbound TCP listeners: one per TCP port of each Service (pilot: one per service port); a port two
  // Services share goes to the first (pilot without cluster IPs: a listener conflict, one service wins).
  const tcpOutbound = new Map<number, { s: Service; portName: string }>();
  for (const k of k8sServices) {
    const s = service(k.fqdn, k.namespace, k.at);
    k.ports.forEach((p, i) => {
      const kind = listenerKind(portProtocol(p), 'outbound');
      if (kind === 'tcp') {
        const taken = tcpOutbound.get(p.port);
        if (taken)
          warnings.push(
            `${k.at}: spec.ports[${i}] (${p.name ?? p.port}): TCP port ${p.port} is also ${taken.s.fqdn}'s: its outbound listener goes there (Istio without cluster IPs: a listener conflict)`,
          );
        else tcpOutbound.set(p.port, { s, portName: p.name ?? String(p.port) });
      } else if (kind !== 'http')
        // No sniffing here, no UDP proxying: say so for those ports.
        warnings.push(
          `${k.at}: spec.ports[${i}] (${p.name ?? p.port}): Istio serves it as ${kind === 'sniff' ? "sniffed HTTP or TCP; asmesh's outbound listener routes it as HTTP" : 'no listener (UDP); asmesh neither'}`,
        );
    });
  }
  /** VirtualService `tcp` routes by host FQDN (the first VirtualService of a host, as its http routes). */
  const tcpRoutes = new Map<string, { vs: Resource; routes: JsonObject[]; used: Set<number> }>();

  const vsErrors: string[] = [];
  const steering: JsonObject[] = [];
  const visible = virtualServices(byKind('VirtualService'), wl.namespace, warnings);
  for (const { vs, hosts } of visible) {
    const c = new Checker(vs.at);
    const spec = structuredClone(vs.spec) as JsonObject;
    if (Array.isArray(spec.tcp)) {
      const entry = { vs, routes: spec.tcp as JsonObject[], used: new Set<number>() };
      for (const h of hosts) tcpRoutes.set(h, entry);
      delete spec.tcp; // TCP routes are tcp_proxy's (the outbound TCP listeners), not steering's
      if (spec.http === undefined) continue;
    }
    const http = (spec.http as JsonObject[]) ?? [];
    const extras = routeSettings(http, c);
    http.forEach((h, i) =>
      ((h.route as JsonObject[]) ?? []).forEach((d, j) => {
        const dest = d.destination as JsonObject;
        const s = service(String(dest.host), vs.namespace, vs.at);
        if (s.host !== dest.host) dest.host = s.host; // the registry name: the cluster the filter renders exists
        if (isObject(dest.port) && typeof dest.port.number === 'number') s.ports.add(dest.port.number);
        else if (s.k8s && s.k8s.ports.length === 1)
          dest.port = { number: s.k8s.ports[0].port }; // Istio: the Service's only port
        else if (s.k8s && s.k8s.ports.length > 1)
          c.error(`spec.http[${i}].route[${j}].destination.port`, `required: ${s.fqdn} has ${s.k8s.ports.length} ports (Istio validation)`);
        else {
          s.ports.add(defaultPort);
          warnings.push(
            `${vs.at}: spec.http[${i}].route[${j}].destination: no Service ${s.fqdn} in the input: port ${defaultPort} assumed`,
          );
        }
        if (typeof dest.subset === 'string' && !s.subsets.some((x) => x.name === dest.subset))
          s.subsets.push({ name: dest.subset, policy: undefined });
      }),
    );
    vsErrors.push(...c.errors);
    const first = service(hosts[0], vs.namespace, vs.at);
    const port = first.k8s?.ports[0]?.port ?? defaultPort;
    for (const h of hosts) {
      const s = service(h, vs.namespace, vs.at);
      if (s.ports.size === 0) {
        s.ports.add(defaultPort);
        warnings.push(`${vs.at}: spec.hosts: no Service ${s.fqdn} in the input: port ${defaultPort} assumed`);
      }
      if (Object.keys(extras).length) s.routeExtras = extras;
    }
    if (hosts.length < ((vs.spec.hosts as string[]) ?? []).length) spec.hosts = hosts;
    const asmesh = isObject(spec.asmesh) ? spec.asmesh : {};
    // namespace: short hosts resolve in the VirtualService's (the proxy's comes from node metadata);
    // port: the service port, which `match.port` compares with as pilot's per-port listeners do.
    spec.asmesh = { clusterName: CLUSTER_TEMPLATE, namespace: vs.namespace, port, ...asmesh };
    // Every steering filter after the first keeps the first's decision (filters/steering/config.ts `chained`).
    if (steering.length > 0) (spec.asmesh as JsonObject).chained = true;
    steering.push(spec);
  }
  if (vsErrors.length) throw new InputErrors(vsErrors);
  const outboundTcp = outboundTcpListeners(tcpOutbound, tcpRoutes, service, opts, warnings);

  // DestinationRules: a host no other resource names gets its clusters too (its DestinationRule sets them up).
  for (const dr of drs) {
    const h = String(dr.spec.host);
    if (h.includes('*')) continue;
    const fqdn = resolveFqdn(h.toLowerCase(), dr.namespace);
    if (!services.has(fqdn) && destinationRule([dr], wl.namespace, fqdn, dr.namespace, [], root)) {
      const s = service(h, dr.namespace, dr.at);
      if (s.ports.size === 0) {
        s.ports.add(defaultPort);
        warnings.push(`${dr.at}: spec.host: no Service ${fqdn} in the input: port ${defaultPort} assumed`);
      }
    }
  }
  for (const s of services.values()) {
    const dr = destinationRule(
      byKind('DestinationRule'),
      wl.namespace,
      s.fqdn,
      s.k8s?.namespace ?? s.fqdn.split('.')[1] ?? null,
      warnings,
      root,
    );
    if (!dr) continue;
    s.policy = dr.trafficPolicy;
    s.file = dr.from[0].at;
    for (const sub of dr.subsets) {
      const existing = s.subsets.find((x) => x.name === sub.name);
      if (existing) existing.policy = sub.trafficPolicy as JsonObject | undefined;
      else s.subsets.push({ name: String(sub.name), policy: sub.trafficPolicy as JsonObject | undefined });
    }
    // A VirtualService subset no DestinationRule defines: Istio answers 503 (no cluster); say so early.
    const defined = new Set(dr.subsets.map((x) => x.name));
    for (const sub of s.subsets)
      if (!defined.has(sub.name))
        warnings.push(
          `${dr.from[0].at}: spec.subsets: no subset ${sub.name} (used by a VirtualService); its cluster gets the host's default endpoints`,
        );
  }

  // Inbound: the policies that attach to this workload (root namespace, its namespace, selector; never targetRefs).
  const ras = byKind('RequestAuthentication').filter((r) => attaches(r, mw, root));
  const aps = byKind('AuthorizationPolicy').filter((r) => attaches(r, mw, root));
  for (const r of [...byKind('RequestAuthentication'), ...byKind('AuthorizationPolicy')])
    if ((r.namespace === wl.namespace || r.namespace === root) && !attaches(r, mw, root))
      warnings.push(`${r.at}: ${r.kind} ${r.namespace}/${r.name}: does not apply to ${wl.namespace}/${wl.name} (selector or targetRefs)`);
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
    const policy = (a: Resource) => {
      const { selector: _s, targetRef: _t, targetRefs: _ts, ...spec } = a.spec;
      return { name: a.name, ...spec };
    };
    authz = { jwtRules, policies: aps.map(policy) };
    const trustDomain = opts.trustDomain ?? 'cluster.local';
    const aliases = opts.trustDomainAliases ?? [];
    if (trustDomain !== 'cluster.local' || aliases.length > 0)
      authz.asmesh = { trustDomain, ...(aliases.length > 0 ? { trustDomainAliases: aliases } : {}) };
  }

  // Inbound: a listener per port the workload serves (pilot: a virtualInbound chain per port), each with
  // the workload's PeerAuthentication mode for that port. The first HTTP port is the `inbound` listener.
  const ports = inboundPorts(k8sServices, mw);
  const httpPorts = ports.filter((p) => p.kind === 'http');
  const tcpPorts = ports.filter((p) => p.kind === 'tcp');
  const app = opts.app ?? { address: '127.0.0.1', port: httpPorts[0]?.target ?? tcpPorts[0]?.target ?? 8080 };
  const peer = peerAuthentication(pas, mw, root);
  const inbound: InboundPort[] = [];
  if (httpPorts.length > 0 || tcpPorts.length === 0)
    inbound.push({
      name: 'inbound',
      bind: opts.inboundPort ?? 15006,
      cluster: `inbound|${app.port}||`,
      endpoint: app,
      workloadPort: httpPorts[0]?.target ?? app.port,
      kind: 'http',
      mode: modeForPort(peer, app.port),
    });
  for (const p of [...httpPorts.slice(1), ...tcpPorts]) {
    const name = `inbound_${p.target}`;
    const cluster = `inbound|${p.target}||`;
    if (inbound.some((x) => x.cluster === cluster)) continue;
    const endpoint = opts.endpoints?.[cluster] ?? { address: app.address, port: p.target };
    // Bind: --inbound-port, then the next ports (15007, ...); 0 (ephemeral) for all when --inbound-port is 0.
    const base = opts.inboundPort ?? 15006;
    const bind = opts.listenerPorts?.[name] ?? (base === 0 ? 0 : base + inbound.length);
    inbound.push({ name, bind, cluster, endpoint, workloadPort: p.target, kind: p.kind, mode: modeForPort(peer, p.target) });
  }
  const mtls = inbound[0].mode;
  for (const [port, m] of peer.perPort)
    if (!inbound.some((x) => x.endpoint.port === port))
      warnings.push(`PeerAuthentication: portLevelMtls ${port}: ${m} not rendered (the workload serves no port ${port})`);

  // Telemetry: the ones that apply, later overriding: metrics concatenated, the last accessLogging.
  const tels = telemetries(byKind('Telemetry'), mw, root);
  let telemetry: JsonObject | null = null;
  for (const t of tels) {
    const spec = structuredClone(t.spec) as JsonObject;
    delete spec.selector;
    telemetry ??= {};
    if (spec.metrics !== undefined)
      telemetry.metrics = [...((telemetry.metrics as JsonObject[] | undefined) ?? []), ...(spec.metrics as JsonObject[])];
    if (spec.accessLogging !== undefined) telemetry.accessLogging = spec.accessLogging;
    if (spec.asmesh !== undefined) telemetry.asmesh = spec.asmesh;
  }

  // Network filters (TCP listeners): each one the manifest places on that side, when `always` or a resource of
  // one of its istioKinds applies there (as the HTTP filters are chosen).
  const applied: Record<ListenerSide, Set<string>> = {
    inbound: new Set([...ras, ...aps, ...tels].map((r) => r.kind)),
    outbound: new Set([...visible.map((v) => v.vs), ...tels].map((r) => r.kind)),
  };
  const entries = NETWORK_FILTERS.map((n) => filterManifest(n)!);
  const network = {
    inbound: mountNetworkFilters(entries, 'inbound', applied.inbound, authz),
    outbound: mountNetworkFilters(entries, 'outbound', applied.outbound, authz),
  };
  const tcpInbound = inbound.filter((p) => p.kind === 'tcp');
  // Fail closed: an AuthorizationPolicy applies but no network filter enforces AuthorizationPolicy, so the TCP
  // ports deny every connection (network RBAC without a policy, tcp_proxy to BlackHoleCluster): never more
  // permissive than Istio (equal for allow-nothing and DENY-all, stricter for an ALLOW that matches).
  const denyTcp = aps.length > 0 && tcpInbound.length > 0 && !enforcesAuthorization(entries, network.inbound);
  if (denyTcp)
    warnings.push(
      `${aps.map((a) => `${a.at}: AuthorizationPolicy ${a.namespace}/${a.name}`).join(', ')}: no network filter enforces AuthorizationPolicy (filters/manifest.ts): TCP port(s) ${tcpInbound.map((p) => p.endpoint.port).join(', ')} deny every connection (fail closed)`,
    );
  if (telemetry?.metrics !== undefined && (tcpInbound.length > 0 || outboundTcp.length > 0))
    warnings.push(
      `${tels.map((t) => t.at).join(', ')}: Telemetry spec.metrics: not applied to TCP listeners (tcp_telemetry reports Istio's TCP metrics as they are)`,
    );

  const configs: Configs = { steering, authz, telemetry };
  const envoy = renderBootstrap({
    services: [...services.values()],
    jwksClusters,
    wl,
    opts: { ...opts, app },
    configs,
    warnings,
    inbound,
    outboundTcp,
    network,
    denyTcp,
  });
  const clusters = ((envoy.static_resources as JsonObject).clusters as JsonObject[]).map((c) => String(c.name));
  // Two listeners on one address: Envoy refuses to start; say which, and how to move one.
  const bound = new Map<string, string>();
  for (const l of (envoy.static_resources as JsonObject).listeners as JsonObject[]) {
    const a = (l.address as JsonObject).socket_address as JsonObject;
    const key = `${a.address}:${a.port_value}`;
    if (a.port_value !== 0 && bound.has(key))
      throw new InputErrors([
        `listeners ${bound.get(key)} and ${l.name} both bind ${key}: move one with --listener-port ${l.name}=PORT (or --outbound-port/--inbound-port)`,
      ]);
    bound.set(key, String(l.name));
  }
  // The inbound (destination) side's configuration; the outbound listener's differs only in reporter.
  return {
    steering: steering[0] ?? null,
    virtualServices: steering,
    authz,
    telemetry: telemetry && telemetryConfig(telemetry, 'inbound'),
    envoy,
    mtls,
    clusters,
    warnings,
    workload: mw,
  };
}

interface ServedPort {
  /** The workload's (target) port. */
  target: number;
  /** The Service port (the per-port listener's default bind port). */
  port: number;
  /** http: an HTTP connection manager (also for ports Istio sniffs); tcp: tcp_proxy (docs/DESIGN.md "Protocols and ports"). */
  kind: 'http' | 'tcp';
}

/** One inbound listener: name, bind port, the local app's cluster and endpoint, its kind and mTLS mode. */
interface InboundPort {
  name: string;
  bind: number;
  cluster: string;
  endpoint: { address: string; port: number };
  /** The workload port it stands for: what AuthorizationPolicy `ports` / `destination.port` compare with. */
  workloadPort: number;
  kind: 'http' | 'tcp';
  mode: MtlsMode;
}

/** One outbound TCP listener (pilot's `0.0.0.0_<port>`): tcp_proxy to the Service's cluster or a `tcp` route's. */
interface OutboundTcp {
  name: string;
  bind: number;
  upstream: TcpUpstream;
  statPrefix: string;
}

/** The ports the workload serves: its Services' target ports (Kubernetes; the kind by Istio's port naming), else its container ports (HTTP). */
function inboundPorts(services: MeshService[], wl: MeshWorkload): ServedPort[] {
  const out = new Map<number, ServedPort>();
  for (const s of servicesSelecting(services, wl))
    for (const p of s.ports) {
      const t = targetPort(p, wl);
      if (t === null || out.has(t)) continue;
      out.set(t, { target: t, port: p.port, kind: listenerKind(portProtocol(p), 'inbound') === 'tcp' ? 'tcp' : 'http' });
    }
  if (out.size === 0) for (const p of wl.ports) out.set(p.port, { target: p.port, port: p.port, kind: 'http' });
  return [...out.values()];
}

/**
 * The outbound TCP listeners, one per TCP service port: tcp_proxy to the first `tcp` route of the host's
 * VirtualService whose match is empty or names the port, else to the Service's cluster. As pilot's
 * buildOutboundNetworkFilters: one destination = its cluster (stat prefix the cluster); several = weighted
 * clusters without the weight-0 ones (stat prefix `<vs name>.<namespace>`); a destination without a port
 * takes its Service's only port, else the listener's.
 */
function outboundTcpListeners(
  tcpOutbound: Map<number, { s: Service }>,
  tcpRoutes: Map<string, { vs: Resource; routes: JsonObject[]; used: Set<number> }>,
  service: (host: string, namespace: string, file: string) => Service,
  opts: TranslateOptions,
  warnings: string[],
): OutboundTcp[] {
  const out: OutboundTcp[] = [];
  for (const [port, { s }] of [...tcpOutbound].sort((a, b) => a[0] - b[0])) {
    const name = `outbound_${port}`;
    const bind = opts.listenerPorts?.[name] ?? port;
    const entry = tcpRoutes.get(s.fqdn);
    const i =
      entry?.routes.findIndex((r) => {
        const ms = (r.match as JsonObject[] | undefined) ?? [];
        return ms.length === 0 || ms.some((m) => m.port === undefined || m.port === port);
      }) ?? -1;
    if (!entry || i < 0) {
      out.push({ name, bind, upstream: clusterName(s.host, '', port), statPrefix: clusterName(s.host, '', port) });
      continue;
    }
    entry.used.add(i);
    const dests = (entry.routes[i].route as JsonObject[]).map((d, j) => {
      const dest = d.destination as JsonObject;
      const ds = service(String(dest.host), entry.vs.namespace, entry.vs.at);
      let dp = port;
      if (isObject(dest.port) && typeof dest.port.number === 'number') dp = dest.port.number;
      else if (ds.k8s?.ports.length === 1) dp = ds.k8s.ports[0].port;
      else if (!ds.k8s)
        warnings.push(
          `${entry.vs.at}: spec.tcp[${i}].route[${j}].destination: no Service ${ds.fqdn} in the input: port ${port} assumed (the listener's, as pilot)`,
        );
      ds.ports.add(dp);
      const subset = typeof dest.subset === 'string' ? dest.subset : '';
      if (subset && !ds.subsets.some((x) => x.name === subset)) ds.subsets.push({ name: subset, policy: undefined });
      return { name: clusterName(ds.host, subset, dp), weight: typeof d.weight === 'number' ? d.weight : 0 };
    });
    if (dests.length === 1) out.push({ name, bind, upstream: dests[0].name, statPrefix: dests[0].name });
    else
      out.push({
        name,
        bind,
        upstream: dests.filter((d) => d.weight > 0),
        statPrefix: `${entry.vs.name}.${entry.vs.namespace}`,
      });
  }
  for (const e of new Set(tcpRoutes.values()))
    e.routes.forEach((_, i) => {
      if (!e.used.has(i))
        warnings.push(`${e.vs.at}: spec.tcp[${i}]: no TCP Service port (named tcp-*, ...) of its hosts takes it: not rendered`);
    });
  return out;
}

/** The network filters (manifest entries, `layer: 'network'`) one side mounts: those with the side, `always` or configured by an applied kind. */
export function mountNetworkFilters(
  entries: readonly FilterManifest[],
  side: ListenerSide,
  appliedKinds: ReadonlySet<string>,
  authz: JsonObject | null,
): MountedFilter[] {
  return entries
    .filter((f) => f.sides[side] !== undefined && (f.always === true || f.istioKinds.some((k) => appliedKinds.has(k))))
    .map((f) => ({ name: f.name, config: networkFilterConfig(f, side, authz) }));
}

/**
 * A filter configuration for the listener of one workload port: the filters that take AuthorizationPolicy get
 * `asmesh.port` = that port, as pilot's rbac compares `ports` / `destination.port` with the original destination's
 * port, while translate's inbound listeners bind 15006, 15007, ... (without it a DENY on ports never matched).
 */
export function forWorkloadPort(filter: string, config: JsonObject, port: number): JsonObject {
  if (!filterManifest(filter)?.istioKinds.includes('AuthorizationPolicy')) return config;
  return { ...config, asmesh: { ...(isObject(config.asmesh) ? config.asmesh : {}), port } };
}

/** Does a mounted network filter take AuthorizationPolicy (else translate denies the TCP ports a policy applies to)? */
export function enforcesAuthorization(entries: readonly FilterManifest[], mounted: readonly MountedFilter[]): boolean {
  return mounted.some((m) => entries.find((f) => f.name === m.name)?.istioKinds.includes('AuthorizationPolicy') === true);
}

/**
 * A network filter's configuration: its side's fields (filters/manifest.ts `sides`), plus what translate derives
 * from its istioKinds, as the HTTP filter of those kinds gets it: AuthorizationPolicy = `policies` (and authz's
 * `asmesh` trust domains), RequestAuthentication = `jwtRules`. Telemetry adds nothing (tcp_telemetry takes none).
 */
function networkFilterConfig(f: FilterManifest, side: ListenerSide, authz: JsonObject | null): JsonObject {
  const cfg: JsonObject = { ...(f.sides[side] as JsonObject | undefined) };
  if (authz && f.istioKinds.includes('AuthorizationPolicy')) {
    cfg.policies = authz.policies;
    if (authz.asmesh !== undefined) cfg.asmesh = authz.asmesh;
  }
  if (authz && f.istioKinds.includes('RequestAuthentication')) cfg.jwtRules = authz.jwtRules;
  return cfg;
}

type Configs = { steering: JsonObject[]; authz: JsonObject | null; telemetry: JsonObject | null };

/** The configuration fields a listener side sets for a filter (the manifest's `sides`). */
function sideFields(filter: FilterName, side: ListenerSide): JsonObject {
  return { ...(filterManifest(filter)!.sides[side] as JsonObject | undefined) };
}

function certs(certDir: string): JsonObject {
  return {
    tls_certificates: [{ certificate_chain: { filename: `${certDir}/cert.pem` }, private_key: { filename: `${certDir}/key.pem` } }],
  };
}

function validation(certDir: string, trustDomains: string[]): JsonObject {
  return {
    validation_context: {
      trusted_ca: { filename: `${certDir}/ca.pem` },
      match_typed_subject_alt_names: trustDomains.map((td) => ({ san_type: 'URI', matcher: { prefix: `spiffe://${td}/` } })),
    },
  };
}

function wasmFilter(filter: FilterName, config: JsonObject | null, wasmDir: string, side: ListenerSide): JsonObject {
  if (filter === 'telemetry') config = telemetryConfig(config, side);
  return wasmFilterEntry(filter, `${wasmDir}/${filter}.wasm`, config ?? filterManifest(filter)!.defaultConfig);
}

/** A filter's entries: steering one per VirtualService (the first `asmesh.steering`, the next `asmesh.steering.2`, ...). */
function wasmFilters(filter: FilterName, configs: Configs, wasmDir: string, side: ListenerSide): JsonObject[] {
  if (filter !== 'steering') return [wasmFilter(filter, configs[filter], wasmDir, side)];
  return configs.steering.map((cfg, i) => {
    const e = wasmFilter(filter, cfg, wasmDir, side);
    if (i > 0) e.name = `${e.name}.${i + 1}`;
    return e;
  });
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
  istioMutual: JsonObject,
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
  // DestinationRule tls; none: Istio's auto mTLS, here mTLS when the destination's PeerAuthentication is STRICT (upstreamTls).
  const tls = isObject(policy.tls) ? policy.tls : null;
  const mode = tls ? String(tls.mode ?? 'DISABLE') : null;
  if (mode === null) {
    if (upstreamTls) cluster.transport_socket = upstreamTls;
  } else if (mode === 'ISTIO_MUTUAL') {
    cluster.transport_socket = upstreamTls ?? istioMutual;
  } else if (mode === 'SIMPLE' || mode === 'MUTUAL') {
    const common: JsonObject = {};
    if (mode === 'MUTUAL')
      common.tls_certificates = [
        { certificate_chain: { filename: String(tls!.clientCertificate) }, private_key: { filename: String(tls!.privateKey) } },
      ];
    if (typeof tls!.caCertificates === 'string') {
      const v: JsonObject = { trusted_ca: { filename: tls!.caCertificates } };
      const sans = (tls!.subjectAltNames as string[] | undefined) ?? [];
      if (sans.length) v.match_typed_subject_alt_names = sans.map((n) => ({ san_type: 'DNS', matcher: { exact: n } }));
      common.validation_context = v;
    } else if (tls!.insecureSkipVerify !== true) {
      // Istio: no caCertificates = the system's CA bundle (VERIFY_CERTIFICATE_AT_CLIENT default true).
      common.validation_context = { trusted_ca: { filename: '/etc/ssl/certs/ca-certificates.crt' } };
    }
    const upstream: JsonObject = {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      common_tls_context: common,
    };
    if (typeof tls!.sni === 'string') upstream.sni = tls!.sni;
    cluster.transport_socket = { name: 'envoy.transport_sockets.tls', typed_config: upstream };
  }
  return cluster;
}

function renderBootstrap(args: {
  services: Service[];
  jwksClusters: Map<string, { host: string; port: number; tls: boolean }>;
  wl: Workload;
  opts: TranslateOptions;
  configs: Configs;
  warnings: string[];
  inbound: InboundPort[];
  outboundTcp: OutboundTcp[];
  network: Record<ListenerSide, MountedFilter[]>;
  denyTcp: boolean;
}): JsonObject {
  const { services, opts, wl, configs } = args;
  const c = new Checker('DestinationRule');
  const wasmDir = opts.wasmDir ?? '/etc/asmesh/wasm';
  const certDir = opts.certDir ?? '/etc/asmesh/certs';
  const trustDomains = [opts.trustDomain ?? 'cluster.local', ...(opts.trustDomainAliases ?? [])];
  const listen = opts.listenAddress ?? '0.0.0.0';
  // steering and authz are mounted only when a resource configures them (no VirtualService: nothing
  // to steer; no policy: Istio allows everything); telemetry always reports.
  const present = (f: FilterName) => (f === 'steering' ? configs.steering.length > 0 : configs[f] !== null);
  const filters = (opts.filters ?? [...MESH_FILTERS]).filter((f) => filterManifest(f)!.always === true || present(f));
  for (const f of opts.filters ?? MESH_FILTERS) {
    if (!filters.includes(f))
      args.warnings.push(`no ${filterManifest(f)!.istioKinds.join(' or ')} applies: the ${f} filter is not mounted`);
  }
  const istioMutual: JsonObject = {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      common_tls_context: { ...certs(certDir), ...validation(certDir, trustDomains) },
    },
  };
  const endpointFor = (name: string, host: string, subset: string, port: number) => {
    if (opts.endpoints?.[name]) return opts.endpoints[name];
    const dot = host.indexOf('.');
    const address = !subset ? host : dot < 0 ? `${host}-${subset}` : `${host.slice(0, dot)}-${subset}${host.slice(dot)}`;
    return { address, port };
  };

  const clusters: JsonObject[] = [];
  const virtualHosts: JsonObject[] = [];
  // As pilot's routes: no timeout unless the VirtualService sets one (0s; Envoy's own default is 15 s), and
  // a gRPC call's grpc-timeout is its deadline, capped by the route timeout (0s: no cap).
  const withGrpcTimeout = (extras: JsonObject): JsonObject => ({
    ...extras,
    timeout: extras.timeout ?? '0s',
    max_grpc_timeout: extras.timeout ?? '0s',
  });
  // Taken when steering wrote the cluster; services never see the header.
  const steeredRoute = (extras: JsonObject = {}): JsonObject => ({
    name: 'asmesh-steered',
    match: { prefix: '/', headers: [{ name: CLUSTER_HEADER, present_match: true }] },
    route: { cluster_header: CLUSTER_HEADER, ...withGrpcTimeout(extras) },
    request_headers_to_remove: [CLUSTER_HEADER],
  });
  const usedDomains = new Set<string>(['*']);
  for (const s of services) {
    const upstreamTls = s.peerMode === 'STRICT' ? istioMutual : null;
    for (const port of [...s.ports].sort((a, b) => a - b)) {
      const def = clusterName(s.host, '', port);
      clusters.push(
        clusterFromPolicy(
          def,
          s.policy ?? {},
          endpointFor(def, s.host, '', port),
          upstreamTls,
          istioMutual,
          c,
          `${s.file}: spec.trafficPolicy`,
        ),
      );
      s.subsets.forEach((sub, i) => {
        const name = clusterName(s.host, sub.name, port);
        clusters.push(
          clusterFromPolicy(
            name,
            mergePolicy(s.policy, sub.policy),
            endpointFor(name, s.host, sub.name, port),
            upstreamTls,
            istioMutual,
            c,
            `${s.file}: spec.subsets[${i}].trafficPolicy`,
          ),
        );
      });
    }
    // A Service with TCP ports only has no virtual host (pilot: no HTTP route for it); its TCP listeners carry it.
    const httpPorts = s.k8s?.ports.filter((p) => listenerKind(portProtocol(p), 'outbound') !== 'tcp').map((p) => p.port);
    if (httpPorts !== undefined && httpPorts.length === 0) continue;
    const port = Math.min(...(httpPorts ?? s.ports));
    const extras = s.routeExtras ?? {};
    const domains = virtualHostDomains(s, wl.namespace, port).filter((d) => !usedDomains.has(d));
    domains.forEach((d) => usedDomains.add(d));
    if (!domains.length) continue;
    virtualHosts.push({
      name: s.host,
      domains,
      routes: [
        steeredRoute(extras),
        { name: 'default', match: { prefix: '/' }, route: { cluster: clusterName(s.host, '', port), ...withGrpcTimeout(extras) } },
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
  for (const p of args.inbound) clusters.push(endpointCluster(p.cluster, p.endpoint.address, p.endpoint.port));
  if (args.denyTcp) clusters.push(blackHoleCluster());

  // Each filter on the listener sides its manifest entry names (in chain order).
  const httpFilters = (side: ListenerSide, workloadPort?: number) =>
    filters
      .filter((f) => filterManifest(f)!.sides[side] !== undefined)
      .flatMap((f) => {
        // steering's configs are per VirtualService (an array) and take no workload port.
        const c = configs[f];
        const own =
          workloadPort === undefined || c === null || Array.isArray(c) ? configs : { ...configs, [f]: forWorkloadPort(f, c, workloadPort) };
        return wasmFilters(f, own, wasmDir, side);
      });
  const hcm = (statPrefix: ListenerSide, routeConfig: JsonObject, forwardCert: boolean, workloadPort?: number): JsonObject =>
    httpConnectionManager(
      statPrefix,
      routeConfig,
      httpFilters(statPrefix, workloadPort),
      forwardCert ? { forward_client_cert_details: 'SANITIZE_SET', set_current_client_cert_details: { uri: true } } : {},
    ) as JsonObject;
  const inboundHcm = (p: InboundPort, tls: boolean) =>
    hcm(
      'inbound',
      {
        name: 'inbound',
        virtual_hosts: [
          { name: 'inbound', domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: p.cluster } }] },
        ],
      },
      tls,
      p.workloadPort,
    );
  const downstreamTls: JsonObject = {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      require_client_certificate: true,
      common_tls_context: { ...certs(certDir), ...validation(certDir, trustDomains) },
    },
  };
  // A TCP port's chain: the network filters, the fail-closed deny when a policy applies that none enforces, tcp_proxy.
  const tcpChain = (p: InboundPort): JsonObject =>
    tcpFilterChain({
      filters: args.network.inbound.map((f) => ({ ...f, config: forWorkloadPort(f.name, f.config as JsonObject, p.workloadPort) })),
      wasmDir,
      cluster: args.denyTcp ? BLACKHOLE_CLUSTER : p.cluster,
      statPrefix: p.cluster,
      nativeFilters: args.denyTcp ? [denyAllFilter(`${p.name}.`)] : [],
    });
  // STRICT: mTLS only; DISABLE: plaintext only; PERMISSIVE: both, told apart by the TLS inspector as
  // Istio's inbound chains are (filter_chain_match transport_protocol "tls" / "raw_buffer").
  const inboundListener = (p: InboundPort): JsonObject => {
    const chain = (tls: boolean): JsonObject => (p.kind === 'tcp' ? tcpChain(p) : { filters: [inboundHcm(p, tls)] });
    const l: JsonObject = {
      name: p.name,
      traffic_direction: 'INBOUND',
      address: socket(listen, p.bind),
      filter_chains:
        p.mode === 'STRICT'
          ? [{ ...chain(true), transport_socket: downstreamTls }]
          : p.mode === 'DISABLE'
            ? [chain(false)]
            : [
                { name: 'mtls', filter_chain_match: { transport_protocol: 'tls' }, ...chain(true), transport_socket: downstreamTls },
                { name: 'plaintext', filter_chain_match: { transport_protocol: 'raw_buffer' }, ...chain(false) },
              ],
    };
    if (p.mode === 'PERMISSIVE')
      l.listener_filters = [
        {
          name: 'envoy.filters.listener.tls_inspector',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' },
        },
      ];
    return l;
  };
  const outboundTcp = args.outboundTcp.map((o) => ({
    name: o.name,
    traffic_direction: 'OUTBOUND',
    address: socket(listen, o.bind),
    filter_chains: [tcpFilterChain({ filters: args.network.outbound, wasmDir, cluster: o.upstream, statPrefix: o.statPrefix })],
  }));
  const meta: JsonObject = {
    WORKLOAD_NAME: wl.name,
    NAMESPACE: wl.namespace,
    CLUSTER_ID: 'Kubernetes',
    SERVICE_ACCOUNT: wl.serviceAccount,
    LABELS: wl.labels ?? { app: wl.app, version: wl.version },
  };
  return {
    node: {
      id: `sidecar~${wl.name}~${wl.name}.${wl.namespace}~${wl.namespace}.svc.cluster.local`,
      cluster: `${wl.app}.${wl.namespace}`,
      metadata: meta,
    },
    admin: { address: socket(opts.adminAddress ?? '127.0.0.1', opts.adminPort ?? 15000) },
    stats_config: { stats_tags: statsTags(customLabels(configs.telemetry)) as unknown as JsonObject[] },
    static_resources: {
      listeners: [
        {
          name: 'outbound',
          traffic_direction: 'OUTBOUND',
          address: socket(listen, opts.outboundPort ?? 15001),
          filter_chains: [{ filters: [hcm('outbound', { name: 'outbound', virtual_hosts: virtualHosts }, false)] }],
        },
        ...outboundTcp,
        ...args.inbound.map(inboundListener),
      ],
      clusters,
    },
  };
}

/**
 * The virtual host domains of a service (pilot's generateVirtualHostDomains, ports ignored as sidecars'
 * route configs do): the FQDN, and for a Kubernetes Service `name.ns.svc`, `name.ns`, and `name` in the
 * proxy's namespace; each also with `:*`. A host no Service defines: itself.
 */
function virtualHostDomains(s: Service, proxyNamespace: string, port: number): string[] {
  void port;
  const names = [s.host];
  if (s.k8s) {
    names.push(`${s.host}.`, `${s.k8s.name}.${s.k8s.namespace}.svc`, `${s.k8s.name}.${s.k8s.namespace}`);
    if (s.k8s.namespace === proxyNamespace) names.push(s.k8s.name);
  }
  return names.flatMap((n) => [n, `${n}:*`]);
}
