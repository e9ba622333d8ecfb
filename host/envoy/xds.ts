// Filesystem xDS: a static bootstrap (as `asmesh translate` writes it) split into a bootstrap with
// only `dynamic_resources` plus the resource files Envoy watches (path_config_source with
// watched_directory): listeners (LDS), clusters (CDS), route configurations (RDS), each asmesh Wasm
// filter's configuration (ECDS, as Istio's WasmPlugin is delivered) and the TLS secrets (SDS).
// Each resource file sits alone in its own directory, so replacing one (write temp + rename, as
// Envoy requires for watched directories) reloads only that subscription. docs/DESIGN.md "Live mesh".
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chainOrder, filterManifest, MESH_FILTERS, type ListenerSide } from '../../filters/manifest.ts';
import { asmeshFilterName, wasmFilterEntry } from './config.ts';

type Obj = Record<string, any>;

const TYPE = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  extension: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  wasm: 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
} as const;

/** SDS secret names, as Istio's sidecars name them. */
export const SECRET_CERT = 'default';
export const SECRET_ROOTS = 'ROOTCA';

/** The kind of a resource file, with the admin stats prefix of its subscription (docs/DESIGN.md: measured in Envoy 1.40). */
export type XdsKind = 'cds' | 'lds' | 'rds' | 'ecds' | 'sds';

export interface XdsFile {
  kind: XdsKind;
  /** Path relative to the xDS directory: <kind>/<name>/resources.json. */
  path: string;
  /** The resource name (the listener set, cluster set, route configuration, filter config or secret). */
  name: string;
  /** The DiscoveryResponse Envoy reads. */
  content: Obj;
  /** Envoy's counters for this subscription: `<statPrefix>.update_success`, `.update_rejected`. */
  statPrefix: string;
}

export interface DynamicSidecar {
  bootstrap: Obj;
  files: XdsFile[];
}

export interface DynamicOptions {
  /** Mount every manifest filter on its listener sides (its default configuration when no resource configures it), so
   * adding the first policy or VirtualService is an ECDS update, not a listener change. Default true. */
  stableChain?: boolean;
  /** The filters that may be mounted (translate's `filters`); default every manifest filter. */
  filters?: readonly string[];
}

function pathSource(dir: string, file: XdsFile): Obj {
  const path = join(dir, file.path);
  return { path_config_source: { path, watched_directory: { path: dirname(path) } }, resource_api_version: 'V3' };
}

function response(resources: Obj[]): Obj {
  return { resources };
}

function hcms(listener: Obj): Obj[] {
  return (listener.filter_chains ?? []).flatMap((chain: Obj) =>
    (chain.filters ?? []).filter((f: Obj) => f.name === 'envoy.filters.network.http_connection_manager').map((f: Obj) => f.typed_config),
  );
}

function tlsContexts(socket: Obj | undefined): Obj | null {
  const t = socket?.typed_config;
  return t?.common_tls_context ?? null;
}

/** Replaces inline certificates and trusted CA with SDS secrets (Istio's `default` and `ROOTCA`), keeping the SAN matchers. */
function useSds(common: Obj, source: (name: string) => Obj): void {
  if (common.tls_certificates) {
    delete common.tls_certificates;
    common.tls_certificate_sds_secret_configs = [{ name: SECRET_CERT, sds_config: source(SECRET_CERT) }];
  }
  if (common.validation_context) {
    const { trusted_ca: _ca, ...rest } = common.validation_context as Obj;
    delete common.validation_context;
    common.combined_validation_context = {
      default_validation_context: rest,
      validation_context_sds_secret_config: { name: SECRET_ROOTS, sds_config: source(SECRET_ROOTS) },
    };
  }
}

/** Filters whose default configuration is neutral (authz with no policy allows, as Istio; telemetry reports).
 * Steering has none (it rejects a configuration without hosts): the first VirtualService changes the listener. */
const NEUTRAL: readonly string[] = ['authz', 'telemetry'];

/** The stable chain: every manifest filter of this side, the translated entry when there is one, else its default. */
function stableFilters(hcm: Obj, side: ListenerSide, allowed: readonly string[]): void {
  const filters: Obj[] = hcm.http_filters ?? [];
  // Entries by filter: steering has one per VirtualService (`asmesh.steering`, `asmesh.steering.2`, ...).
  const present = new Map<string, Obj[]>();
  for (const e of filters) {
    const name = asmeshFilterName(e)?.split('.')[0];
    if (name !== undefined) present.set(name, [...(present.get(name) ?? []), e]);
  }
  const template = filters.find((e) => asmeshFilterName(e) !== null);
  if (template === undefined) return;
  const wasmDir = dirname(template.typed_config.config.vm_config.code.local.filename);
  const mounted = chainOrder(
    MESH_FILTERS.filter(
      (f) => filterManifest(f)!.sides[side] !== undefined && (present.has(f) || (NEUTRAL.includes(f) && allowed.includes(f))),
    ).map((name) => ({
      name,
      entries: present.get(name) ?? [
        wasmFilterEntry(name, join(wasmDir, `${name}.wasm`), {
          ...filterManifest(name)!.defaultConfig,
          ...filterManifest(name)!.sides[side],
        }),
      ],
    })),
  ).flatMap((m) => m.entries);
  const others = filters.filter((e) => asmeshFilterName(e) === null);
  hcm.http_filters = [...mounted, ...others];
}

/** Splits a static sidecar bootstrap into a dynamic one and its resource files under `dir` (absolute). */
export function dynamicSidecar(staticBootstrap: Obj, dir: string, opts: DynamicOptions = {}): DynamicSidecar {
  const b = structuredClone(staticBootstrap);
  const files: XdsFile[] = [];
  const add = (kind: XdsKind, name: string, resources: Obj[], statPrefix: string): XdsFile => {
    // A listener's chains (PERMISSIVE: tls and plaintext) share its route config and filter configs: one file each.
    const existing = files.find((f) => f.kind === kind && f.name === name);
    if (existing) return existing;
    const file = {
      kind,
      name,
      path: join(kind, name.replace(/[^A-Za-z0-9_.-]/g, '_'), 'resources.json'),
      content: response(resources),
      statPrefix,
    };
    files.push(file);
    return file;
  };
  const secretSource = (name: string) =>
    pathSource(dir, { kind: 'sds', name, path: join('sds', name, 'resources.json'), content: {}, statPrefix: '' });
  const listeners: Obj[] = b.static_resources?.listeners ?? [];
  const clusters: Obj[] = b.static_resources?.clusters ?? [];
  for (const listener of listeners) {
    const side: ListenerSide = listener.traffic_direction === 'INBOUND' ? 'inbound' : 'outbound';
    for (const chain of listener.filter_chains ?? []) {
      const common = tlsContexts(chain.transport_socket);
      if (common) useSds(common, secretSource);
    }
    for (const hcm of hcms(listener)) {
      if (opts.stableChain ?? true) stableFilters(hcm, side, opts.filters ?? MESH_FILTERS);
      if (hcm.route_config) {
        const rc = hcm.route_config;
        const name = `${listener.name}`;
        rc.name = name;
        const f = add('rds', name, [{ '@type': TYPE.route, ...rc }], `http.${hcm.stat_prefix}.rds.${name}`);
        delete hcm.route_config;
        hcm.rds = { route_config_name: name, config_source: pathSource(dir, f) };
      }
      hcm.http_filters = (hcm.http_filters as Obj[]).map((entry) => {
        const filter = asmeshFilterName(entry);
        if (filter === null) return entry;
        const name = `${listener.name}.${filter}`;
        const f = add(
          'ecds',
          name,
          [{ '@type': TYPE.extension, name, typed_config: entry.typed_config }],
          `extension_config_discovery.http_filter.${name}`,
        );
        return { name, config_discovery: { config_source: pathSource(dir, f), type_urls: [TYPE.wasm] } };
      });
    }
  }
  for (const cluster of clusters) {
    const common = tlsContexts(cluster.transport_socket);
    if (common?.tls_certificates || common?.validation_context?.trusted_ca) useSds(common, secretSource);
  }
  const lds = add(
    'lds',
    'listeners',
    listeners.map((l) => ({ '@type': TYPE.listener, ...l })),
    'listener_manager.lds',
  );
  const cds = add(
    'cds',
    'clusters',
    clusters.map((c) => ({ '@type': TYPE.cluster, ...c })),
    'cluster_manager.cds',
  );
  delete b.static_resources;
  b.dynamic_resources = { lds_config: pathSource(dir, lds), cds_config: pathSource(dir, cds) };
  // CDS first, as Istio pushes: a listener or steering config naming a new cluster finds it.
  files.sort((x, y) => ORDER.indexOf(x.kind) - ORDER.indexOf(y.kind));
  return { bootstrap: b, files };
}

const ORDER: XdsKind[] = ['sds', 'cds', 'lds', 'rds', 'ecds'];

/** The SDS files of a workload certificate and a trust bundle (PEM texts). */
export function secretFiles(cert: { cert: string; key: string } | null, roots: string | null): XdsFile[] {
  const out: XdsFile[] = [];
  const secret = (name: string, body: Obj): XdsFile => ({
    kind: 'sds',
    name,
    path: join('sds', name, 'resources.json'),
    content: response([{ '@type': TYPE.secret, name, ...body }]),
    statPrefix: `sds.${name}`,
  });
  if (cert)
    out.push(
      secret(SECRET_CERT, {
        tls_certificate: { certificate_chain: { inline_string: cert.cert }, private_key: { inline_string: cert.key } },
      }),
    );
  if (roots) out.push(secret(SECRET_ROOTS, { validation_context: { trusted_ca: { inline_string: roots } } }));
  return out;
}

/** The text Envoy reads for a file. */
export function fileText(file: XdsFile): string {
  return JSON.stringify(file.content, null, 1) + '\n';
}

/** Replaces `dir/file.path` atomically (temp file in the same directory, then rename); false when its text is unchanged. */
export function writeXdsFile(dir: string, file: XdsFile): boolean {
  const path = join(dir, file.path);
  const text = fileText(file);
  try {
    if (readFileSync(path, 'utf8') === text) return false;
  } catch {
    /* not written yet */
  }
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.resources.json.${process.pid}.tmp`);
  writeFileSync(temp, text);
  renameSync(temp, path);
  return true;
}
