// Istio's own pilot as the test oracle: runs tools/istio-pilot (pilot's fake discovery server, offline)
// on Istio/Kubernetes YAML for one proxy and returns the Envoy resources istiod would push to it, then
// turns pieces of them into configuration stock Envoy 1.40 runs (what it lacks is stripped; see
// tools/istio-pilot/README.md and docs/DESIGN.md "Istio pilot oracle").
// Run directly (`node --import tsx host/envoy/pilot.ts build`) it builds the tool if needed and says how long it took.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './install.ts';

export const PILOT_SOURCE_DIR = join(repoRoot, 'tools', 'istio-pilot');
const TOOLS_DIR = join(repoRoot, '.tools');

type Obj = Record<string, any>;

/** The proxy pilot generates for (tools/istio-pilot flags). */
export interface ProxySpec {
  /** Default `default`. */
  namespace?: string;
  /** Workload labels: what RequestAuthentication/AuthorizationPolicy/Sidecar selectors match. */
  labels?: Record<string, string>;
  /** The proxy IP; a ServiceEntry/WorkloadEntry/Pod/EndpointSlice endpoint with this address makes it that workload
   * (its inbound listener then has a chain per endpoint port). Default 10.0.0.1. */
  ip?: string;
  /** Default `default`. */
  serviceAccount?: string;
  /** Default `sidecar`; `router` is a gateway. */
  type?: 'sidecar' | 'router';
  /** Default `Kubernetes`. */
  clusterId?: string;
  /** Default: the app label. */
  workloadName?: string;
}

/** What pilot pushes to the proxy: Envoy v3 resources as proto JSON with the .proto field names (Envoy's YAML names). */
export interface PilotConfig {
  listeners: Obj[];
  /** RDS RouteConfigurations (sidecar outbound: one per port, named `80`, `9080`, ...). */
  routes: Obj[];
  clusters: Obj[];
  /** EDS ClusterLoadAssignments of the EDS clusters. */
  endpoints: Obj[];
  /** ECDS TypedExtensionConfigs the listeners name in `config_discovery` (WasmPlugins), as istiod serves them. */
  extensions: Obj[];
  /** Istio validation warnings (not errors), `<file>: document <n> (<Kind> <ns/name>): <warning>`. */
  warnings: string[];
}

/** Mesh-wide settings: istiod's MeshConfig. */
export interface PilotOptions {
  /** MeshConfig YAML (the `mesh` key of the istio ConfigMap), applied over Istio's defaults (`--mesh`), e.g.
   * `pathNormalization: {normalization: MERGE_SLASHES}` or `outboundTrafficPolicy: {mode: REGISTRY_ONLY}`. */
  meshConfig?: string;
  /** istiod's environment (pilot/pkg/features), e.g. `{ PILOT_JWT_ENABLE_REMOTE_JWKS: 'envoy' }`: read once per run. */
  env?: Record<string, string>;
}

/** The Istio/Kubernetes documents: YAML text (multi-document), or files. */
export type PilotInput = string | { files: string[] };

/** Thrown when pilot refuses the input (exit 2): `message` is the tool's one line. */
export class PilotInputError extends Error {}

/** sha256 of the tool's go.mod, go.sum and *.go: the key of the built binary. */
export function pilotSourceHash(): string {
  const h = createHash('sha256');
  const files = readdirSync(PILOT_SOURCE_DIR)
    .filter((f) => f === 'go.mod' || f === 'go.sum' || f.endsWith('.go'))
    .sort();
  for (const f of files)
    h.update(`${f}\0`)
      .update(readFileSync(join(PILOT_SOURCE_DIR, f)))
      .update('\0');
  return h.digest('hex').slice(0, 16);
}

/** Where the binary for the current sources lives (.tools/istio-pilot-<hash>/istio-pilot). */
export function pilotBinaryPath(): string {
  return join(TOOLS_DIR, `istio-pilot-${pilotSourceHash()}`, 'istio-pilot');
}

function goCommand(): string {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error('tools/istio-pilot needs Go (1.26+) on PATH: `go` was not found or failed; install it from https://go.dev/dl/');
  }
  return 'go';
}

/**
 * The tool's binary, built when missing or stale (`go build` in tools/istio-pilot: modules come from the Go
 * module proxy, verified by the committed go.sum; about 5 min cold, seconds warm). Old builds are removed.
 */
export function ensurePilotBinary(log: (line: string) => void = () => {}): { path: string; built: boolean; ms: number } {
  const path = pilotBinaryPath();
  if (existsSync(path)) return { path, built: false, ms: 0 };
  const go = goCommand();
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const t0 = Date.now();
  log(`building tools/istio-pilot -> ${path}`);
  const r = spawnSync(go, ['build', '-mod=readonly', '-o', tmp, '.'], {
    cwd: PILOT_SOURCE_DIR,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`go build of tools/istio-pilot failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  renameSync(tmp, path); // atomic: a concurrent build of the same sources writes the same file
  for (const old of readdirSync(TOOLS_DIR)) {
    if (old.startsWith('istio-pilot-') && join(TOOLS_DIR, old) !== dir) rmSync(join(TOOLS_DIR, old), { recursive: true, force: true });
  }
  return { path, built: true, ms: Date.now() - t0 };
}

export function pilotArgs(proxy: ProxySpec = {}): string[] {
  const args: string[] = [];
  if (proxy.namespace !== undefined) args.push('--namespace', proxy.namespace);
  if (proxy.labels !== undefined)
    args.push(
      '--labels',
      Object.entries(proxy.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    );
  if (proxy.ip !== undefined) args.push('--ip', proxy.ip);
  if (proxy.serviceAccount !== undefined) args.push('--service-account', proxy.serviceAccount);
  if (proxy.type !== undefined) args.push('--type', proxy.type);
  if (proxy.clusterId !== undefined) args.push('--cluster-id', proxy.clusterId);
  if (proxy.workloadName !== undefined) args.push('--workload-name', proxy.workloadName);
  return args;
}

/** One HTTP workload pilot builds inbound chains for: httpbin in namespace foo at 10.0.0.10, port 80
 * (`svc.example`), as a ServiceEntry + WorkloadEntry, and the proxy that is it. */
export const HTTPBIN_WORKLOAD = {
  yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: httpbin, namespace: foo }
spec:
  hosts: [svc.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: httpbin } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: httpbin-1, namespace: foo }
spec: { address: 10.0.0.10, labels: { app: httpbin } }
`,
  proxy: { namespace: 'foo', labels: { app: 'httpbin' }, ip: '10.0.0.10' } satisfies ProxySpec,
};

/** A workload as pilot's input: a MESH_INTERNAL ServiceEntry selecting it and its WorkloadEntry (name `<name>-1`). */
export function workloadDocs(w: {
  name: string;
  namespace: string;
  host: string;
  port: { number: number; name: string; protocol: string };
  ip: string;
  labels: Record<string, string>;
  serviceAccount?: string;
}): Obj[] {
  const selector = { app: w.labels.app ?? w.name };
  return [
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: w.name, namespace: w.namespace },
      spec: { hosts: [w.host], location: 'MESH_INTERNAL', resolution: 'STATIC', ports: [w.port], workloadSelector: { labels: selector } },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntry',
      metadata: { name: `${w.name}-1`, namespace: w.namespace },
      spec: { address: w.ip, labels: w.labels, ...(w.serviceAccount !== undefined && { serviceAccount: w.serviceAccount }) },
    },
  ];
}

/**
 * The Envoy configuration Istio's pilot generates for `proxy` from `input`. Rejects with PilotInputError
 * (the tool's one-line message) when Istio refuses the input: bad YAML, a validation failure.
 */
let meshFiles = 0;
export async function istioPilot(input: PilotInput, proxy: ProxySpec = {}, opts: PilotOptions = {}): Promise<PilotConfig> {
  const binary = ensurePilotBinary().path;
  const files = typeof input === 'string' ? ['-'] : input.files;
  const args = pilotArgs(proxy);
  let meshFile: string | undefined;
  if (opts.meshConfig !== undefined) {
    const dir = join(repoRoot, '.tmp', 'pilot');
    mkdirSync(dir, { recursive: true });
    meshFile = join(dir, `${process.pid}-${++meshFiles}-mesh.yaml`);
    writeFileSync(meshFile, opts.meshConfig);
    args.push('--mesh', meshFile);
  }
  try {
    return await runPilot(binary, [...args, ...files], typeof input === 'string' ? input : '', opts.env);
  } finally {
    if (meshFile !== undefined) rmSync(meshFile, { force: true });
  }
}

async function runPilot(binary: string, args: string[], stdin: string, env?: Record<string, string>): Promise<PilotConfig> {
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env === undefined ? process.env : { ...process.env, ...env } });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.end(stdin);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const stderr = Buffer.concat(err).toString('utf8').trim();
  if (code === 2) throw new PilotInputError(stderr);
  if (code !== 0) throw new Error(`istio-pilot exited ${code}: ${stderr}`);
  return JSON.parse(Buffer.concat(out).toString('utf8')) as PilotConfig;
}

// ---- Pieces of pilot's config that stock Envoy 1.40 runs ----------------------------------------------------

/** A piece of pilot's config made runnable by stock Envoy, and what was removed from it (`<where>: <what> (<why>)`). */
export interface Stock<T> {
  config: T;
  stripped: string[];
}

/** Type URLs of Istio's own extensions (istio/proxy), which stock Envoy does not register. */
const ISTIO_ONLY_TYPES: [RegExp, string][] = [
  [/^io\.istio\./, "Istio's proxy extension (peer metadata)"],
  [/^istio\./, "Istio's proxy extension"],
  [/^envoy\.tcp\.metadataexchange\./, "Istio's proxy extension (metadata exchange)"],
  [/^stats\.PluginConfig$/, "Istio's proxy extension (standard metrics)"],
  [/^envoy\.extensions\.filters\.(http|network)\.peer_metadata\./, 'Envoy contrib extension, not in the stock build'],
];

/** The message type of an extension's typed_config (a TypedStruct's own type_url), without the type.googleapis.com/ prefix. */
export function extensionType(entry: Obj): string {
  const tc = entry.typed_config ?? {};
  let url: string = tc['@type'] ?? '';
  if (/(udpa\.type\.v1|xds\.type\.v3)\.TypedStruct$/.test(url)) url = tc.type_url ?? '';
  return url.replace(/^.*\//, '');
}

/** Why stock Envoy cannot load this filter/extension entry, or null when it can. */
export function istioOnly(entry: Obj): string | null {
  const type = extensionType(entry);
  for (const [re, why] of ISTIO_ONLY_TYPES) if (re.test(type)) return `${type}: ${why}`;
  if (typeof entry.name === 'string' && entry.name.startsWith('istio.')) return `${type || 'no type'}: Istio's proxy extension`;
  return null;
}

function stripList(list: Obj[] | undefined, where: string, stripped: string[]): Obj[] | undefined {
  if (list === undefined) return undefined;
  return list.filter((e, i) => {
    const why = istioOnly(e);
    if (why !== null) stripped.push(`${where}[${i}] ${e.name}: ${why}`);
    return why === null;
  });
}

function stripPerFilterConfig(holder: Obj, where: string, stripped: string[]): void {
  const pfc = holder.typed_per_filter_config as Obj | undefined;
  if (pfc === undefined) return;
  for (const [name, cfg] of Object.entries(pfc)) {
    const why = istioOnly({ name, typed_config: cfg });
    if (why !== null) {
      stripped.push(`${where}.typed_per_filter_config.${name}: ${why}`);
      delete pfc[name];
    }
  }
}

const FILE_ACCESS_LOG = /envoy\.extensions\.access_loggers\.(file|stream)\.v3\./;

/** An HCM's settings kept, its http_filters minus Istio's own extensions, tracing without a collector, file access logs only. */
function stockHttpManager(hcm: Obj, where: string, stripped: string[]): Obj {
  const out = structuredClone(hcm);
  out.http_filters = stripList(out.http_filters, `${where}.http_filters`, stripped);
  if (out.tracing?.provider !== undefined) {
    stripped.push(`${where}.tracing.provider ${out.tracing.provider.name}: its collector cluster is not part of the test`);
    delete out.tracing.provider;
  }
  if (out.access_log !== undefined) {
    out.access_log = (out.access_log as Obj[])
      .filter((a, i) => {
        const ok = FILE_ACCESS_LOG.test(extensionType(a));
        if (!ok)
          stripped.push(
            `${where}.access_log[${i}] ${a.name}: ${extensionType(a)}: only file/stdout access logs are kept (others need a collector)`,
          );
        return ok;
      })
      .map((a, i) => {
        // The launcher's stdout is a socket pair, which open('/dev/stdout') refuses (ENXIO): write through Envoy's own stdout.
        const tc = a.typed_config;
        const stream = { '/dev/stdout': 'Stdout', '/dev/stderr': 'Stderr' }[tc.path as string];
        if (!extensionType(a).endsWith('FileAccessLog') || stream === undefined) return a;
        stripped.push(`${where}.access_log[${i}] ${a.name}: path ${tc.path} -> ${stream}AccessLog (same format; lines in the Envoy log)`);
        const { path: _path, '@type': _type, ...format } = tc;
        return {
          name: `envoy.access_loggers.${stream.toLowerCase()}`,
          typed_config: { '@type': `type.googleapis.com/envoy.extensions.access_loggers.stream.v3.${stream}AccessLog`, ...format },
        };
      });
  }
  if (out.route_config !== undefined) out.route_config = stockRouteConfig(out.route_config, `${where}.route_config`, stripped);
  return out;
}

function stockRouteConfig(rc: Obj, where: string, stripped: string[]): Obj {
  const out = structuredClone(rc);
  stripPerFilterConfig(out, where, stripped);
  for (const vh of out.virtual_hosts ?? []) {
    stripPerFilterConfig(vh, `${where}.virtual_hosts[${vh.name}]`, stripped);
    for (const [i, r] of (vh.routes ?? []).entries()) stripPerFilterConfig(r, `${where}.virtual_hosts[${vh.name}].routes[${i}]`, stripped);
  }
  return out;
}

const HCM = 'envoy.filters.network.http_connection_manager';

function listener(cfg: PilotConfig, name: string): Obj {
  const l = cfg.listeners.find((x) => x.name === name);
  if (l === undefined) throw new Error(`pilot generated no listener ${name} (listeners: ${cfg.listeners.map((x) => x.name).join(', ')})`);
  return l;
}

function hcmOf(chain: Obj): Obj | undefined {
  return (chain.filters as Obj[] | undefined)?.find((f) => f.name === HCM)?.typed_config;
}

/** PEM files standing in for the certificates Istio's SDS serves (`default` = the workload's, `ROOTCA`). */
export interface MtlsFiles {
  cert: string;
  key: string;
  ca: string;
}

/** An inbound HTTP connection manager, and for an mTLS chain its transport socket (TLS, client certificates required). */
export interface InboundHttp extends Stock<Obj> {
  transportSocket?: Obj;
}

/**
 * The inbound HTTP connection manager pilot gives the workload for `port` (the endpoint / target port):
 * the HCM of virtualInbound's plaintext (`raw_buffer`) chain for that destination port, with its settings
 * (normalize_path, path_with_escaped_slashes_action, forward_client_cert_details, ...), its inline route
 * to `inbound|<port>||` and its http_filters (jwt_authn, rbac, ...) minus Istio's own extensions.
 * With `mtls`, the HCM of the `tls` chain instead (PeerAuthentication STRICT/PERMISSIVE) and that chain's
 * DownstreamTlsContext, its SDS secrets (`default`, `ROOTCA`) replaced by the given files and everything
 * else kept (require_client_certificate, the SAN match of the trust domain, TLS versions, ciphers, ALPN).
 * Throws when there is no such chain.
 */
export function inboundHttpManager(cfg: PilotConfig, port: number, mtls?: MtlsFiles): InboundHttp {
  const vi = listener(cfg, 'virtualInbound');
  const chains = (vi.filter_chains as Obj[]).filter((c) => c.filter_chain_match?.destination_port === port && hcmOf(c) !== undefined);
  const want = mtls === undefined ? 'raw_buffer' : 'tls';
  const chain = chains.find((c) => (c.filter_chain_match.transport_protocol ?? 'raw_buffer') === want);
  if (chain === undefined) {
    const ports = [
      ...new Set((vi.filter_chains as Obj[]).map((c) => c.filter_chain_match?.destination_port).filter((p) => p !== undefined)),
    ];
    throw new Error(
      chains.length > 0
        ? `virtualInbound has no ${want} HTTP chain for port ${port} (${mtls === undefined ? 'PeerAuthentication STRICT? pass mtls files' : 'no PeerAuthentication STRICT/PERMISSIVE?'})`
        : `virtualInbound has no HTTP chain for port ${port} (ports: ${ports.join(', ') || 'none'}; is --ip an endpoint of a service with that target port?)`,
    );
  }
  const stripped: string[] = [];
  for (const [i, f] of (chain.filters as Obj[]).entries()) {
    if (f.name !== HCM && istioOnly(f) !== null) stripped.push(`virtualInbound[${port}].filters[${i}] ${f.name}: ${istioOnly(f)}`);
  }
  const out: InboundHttp = { config: stockHttpManager(hcmOf(chain)!, `virtualInbound[${port}]`, stripped), stripped };
  if (mtls !== undefined) out.transportSocket = fileTlsContext(chain.transport_socket, mtls, `virtualInbound[${port}]`, stripped);
  return out;
}

const TCP_PROXY = 'envoy.filters.network.tcp_proxy';

/** An inbound TCP chain's network filters (rbac..., tcp_proxy) and, for an mTLS chain, its transport socket. */
export interface InboundTcp extends Stock<Obj[]> {
  transportSocket?: Obj;
}

/**
 * The inbound TCP chain pilot gives the workload for `port` (a Service port whose protocol is TCP): the
 * network filters of virtualInbound's plaintext (`raw_buffer`) tcp_proxy chain for that destination port
 * (network rbac from AuthorizationPolicy, tcp_proxy to `inbound|<port>||`) minus Istio's own extensions
 * (metadata exchange, stats). With `mtls`, the `tls` chain's filters and its transport socket (as inboundHttpManager).
 */
export function inboundTcpChain(cfg: PilotConfig, port: number, mtls?: MtlsFiles): InboundTcp {
  const vi = listener(cfg, 'virtualInbound');
  const want = mtls === undefined ? 'raw_buffer' : 'tls';
  // PERMISSIVE: the tls chain without Istio's ALPN passes the application's own TLS through; the mTLS one
  // terminates TLS (a DownstreamTlsContext) and is matched by Istio's ALPN. Take the one that terminates mTLS.
  const candidates = (vi.filter_chains as Obj[]).filter(
    (c) =>
      c.filter_chain_match?.destination_port === port &&
      (c.filter_chain_match.transport_protocol ?? 'raw_buffer') === want &&
      hcmOf(c) === undefined &&
      (c.filters as Obj[] | undefined)?.some((f) => f.name === TCP_PROXY) &&
      (mtls === undefined || c.transport_socket !== undefined),
  );
  const chain = candidates.find((c) => c.filter_chain_match.application_protocols === undefined) ?? candidates[0];
  if (chain === undefined) throw new Error(`virtualInbound has no ${want} TCP chain for port ${port} (a tcp-* Service port there?)`);
  const stripped: string[] = [];
  const filters = stripList(structuredClone(chain.filters as Obj[]), `virtualInbound[${port}].filters`, stripped)!;
  const out: InboundTcp = { config: filters, stripped };
  if (mtls !== undefined) out.transportSocket = fileTlsContext(chain.transport_socket, mtls, `virtualInbound[${port}]`, stripped);
  return out;
}

/** A DownstreamTlsContext transport socket with Istio's SDS secrets replaced by files. */
function fileTlsContext(socket: Obj | undefined, files: MtlsFiles, where: string, stripped: string[]): Obj {
  if (socket?.typed_config?.common_tls_context === undefined) throw new Error(`${where}: the tls chain has no DownstreamTlsContext`);
  const out = structuredClone(socket);
  const ctx = out.typed_config.common_tls_context as Obj;
  if (ctx.tls_certificate_sds_secret_configs !== undefined) {
    stripped.push(`${where}.transport_socket: SDS secret ${ctx.tls_certificate_sds_secret_configs[0]?.name} -> ${files.cert}`);
    delete ctx.tls_certificate_sds_secret_configs;
  }
  ctx.tls_certificates = [{ certificate_chain: { filename: files.cert }, private_key: { filename: files.key } }];
  const combined = ctx.combined_validation_context as Obj | undefined;
  if (combined !== undefined) {
    stripped.push(`${where}.transport_socket: SDS secret ${combined.validation_context_sds_secret_config?.name} -> ${files.ca}`);
    delete ctx.combined_validation_context;
    ctx.validation_context = { ...(combined.default_validation_context ?? {}), trusted_ca: { filename: files.ca } };
  }
  return out;
}

/** The outbound RouteConfiguration pilot names `route` (a sidecar's port: `80`, `9080`; or e.g. `host:port`). */
export function outboundRouteConfig(cfg: PilotConfig, route: number | string): Stock<Obj> {
  const name = String(route);
  const rc = cfg.routes.find((r) => r.name === name);
  if (rc === undefined)
    throw new Error(`pilot generated no route configuration ${name} (routes: ${cfg.routes.map((r) => r.name).join(', ')})`);
  const stripped: string[] = [];
  return { config: stockRouteConfig(rc, `routes[${name}]`, stripped), stripped };
}

/**
 * The outbound HTTP connection manager of listener `0.0.0.0_<port>` (or the listener named `listenerName`),
 * its RDS reference replaced by the RouteConfiguration pilot generated for it, inline.
 */
export function outboundHttpManager(cfg: PilotConfig, port: number, listenerName = `0.0.0.0_${port}`): Stock<Obj> {
  const l = listener(cfg, listenerName);
  const chain = (l.filter_chains as Obj[]).find((c) => hcmOf(c) !== undefined);
  if (chain === undefined) throw new Error(`listener ${listenerName} has no HTTP connection manager (a TCP service?)`);
  const stripped: string[] = [];
  const hcm = stockHttpManager(hcmOf(chain)!, listenerName, stripped);
  if (hcm.rds !== undefined) {
    const route = outboundRouteConfig(cfg, hcm.rds.route_config_name);
    stripped.push(...route.stripped);
    delete hcm.rds;
    hcm.route_config = route.config;
  }
  return { config: hcm, stripped };
}

/**
 * Pilot's clusters as stock Envoy runs them: EDS and ORIGINAL_DST clusters become STATIC without endpoints
 * (the launcher's `upstreams` then point the ones a test serves at loopback: Envoy has no ADS here, and an
 * ORIGINAL_DST cluster would send the request back to the listener itself); Istio's mTLS transport sockets
 * (certificates from Istio's SDS) and Istio's own upstream filters are removed.
 */
export function stockClusters(cfg: PilotConfig): Stock<Obj[]> {
  const stripped: string[] = [];
  const clusters = cfg.clusters.map((c) => {
    const out = structuredClone(c);
    const where = `clusters[${c.name}]`;
    if (out.type === 'EDS' || out.type === 'ORIGINAL_DST') {
      stripped.push(`${where}.type ${out.type}: STATIC with the test's endpoints (no ADS / no original destination here)`);
      out.type = 'STATIC';
      delete out.eds_cluster_config;
      delete out.cleanup_interval;
      delete out.original_dst_lb_config;
      if (out.lb_policy === 'CLUSTER_PROVIDED') delete out.lb_policy;
      out.load_assignment = { cluster_name: c.name, endpoints: [] };
    }
    if (out.transport_socket_matches !== undefined) {
      stripped.push(`${where}.transport_socket_matches: Istio mTLS with SDS certificates (plaintext to the test's upstreams)`);
      delete out.transport_socket_matches;
    }
    if (JSON.stringify(out.transport_socket ?? {}).includes('sds_config')) {
      stripped.push(`${where}.transport_socket: TLS with SDS certificates (plaintext to the test's upstreams)`);
      delete out.transport_socket;
    }
    out.filters = stripList(out.filters, `${where}.filters`, stripped);
    if (out.filters?.length === 0) delete out.filters;
    return out;
  });
  return { config: clusters, stripped };
}

export interface PilotBootstrapOptions {
  /** Listener name -> HTTP connection manager (e.g. inboundHttpManager(...).config); each gets its own loopback port. */
  listeners: Record<string, Obj>;
  /** Listener name -> the network filters of a TCP chain (e.g. inboundTcpChain(...).config), each on its own loopback port. */
  tcpListeners?: Record<string, Obj[]>;
  /** Listener name -> its chain's transport socket (e.g. inboundHttpManager(cfg, port, mtls).transportSocket). */
  transportSockets?: Record<string, Obj>;
  /** Listener filters of every listener (e.g. proxy_protocol, so a test chooses the addresses policies see). */
  listenerFilters?: Obj[];
  /** The cluster names the test serves (keys of startEnvoy's `upstreams`): each must be a cluster pilot generated. */
  upstreams?: Record<string, unknown>;
}

/**
 * A static bootstrap for startEnvoy({config, upstreams}) with the given connection managers as listeners and
 * all of pilot's clusters (stockClusters). Throws when an upstream names a cluster pilot did not generate.
 */
export function pilotBootstrap(cfg: PilotConfig, opts: PilotBootstrapOptions): Stock<Obj> {
  const clusters = stockClusters(cfg);
  const names = new Set(clusters.config.map((c) => c.name as string));
  for (const name of Object.keys(opts.upstreams ?? {})) {
    if (!names.has(name)) throw new Error(`upstream ${name} is not a cluster pilot generated (clusters: ${[...names].join(', ')})`);
  }
  const chains: [string, Obj[]][] = [
    ...Object.entries(opts.listeners).map(([name, hcm]): [string, Obj[]] => [name, [{ name: HCM, typed_config: hcm }]]),
    ...Object.entries(opts.tcpListeners ?? {}),
  ];
  const listeners = chains.map(([name, filters]) => ({
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    ...(opts.listenerFilters ? { listener_filters: opts.listenerFilters } : {}),
    filter_chains: [{ filters, ...(opts.transportSockets?.[name] ? { transport_socket: opts.transportSockets[name] } : {}) }],
  }));
  return {
    config: {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: { listeners, clusters: clusters.config },
    },
    stripped: clusters.stripped,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] !== 'build') {
    console.error('usage: node --import tsx host/envoy/pilot.ts build');
    process.exit(2);
  }
  try {
    const r = ensurePilotBinary((line) => console.log(line));
    const size = (readFileSync(r.path).length / 1e6).toFixed(0);
    console.log(
      r.built
        ? `istio-pilot: built in ${(r.ms / 1000).toFixed(1)} s (${size} MB): ${r.path}`
        : `istio-pilot: up to date (${size} MB): ${r.path}`,
    );
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
