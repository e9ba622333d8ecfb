// Renders an Envoy bootstrap for tests from envoy/sidecar.yaml (or any bootstrap) by structure:
// loopback listener/admin addresses, cluster endpoints to the Node upstreams, wasm file names to
// build/, each mounted filter's configuration; unmounted asmesh wasm filters are dropped.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { chainOrder, type StatsTagRule } from '../../filters/manifest.ts';
import { repoRoot } from '../paths.ts';
import {
  ACCESS_LOG_DEFAULT_FIELDS,
  ACCESS_LOG_ENVOY_OPERATORS,
  ACCESS_LOG_FIELDS,
  ACCESS_LOG_STATE_PREFIX,
} from '../../assembly/lib/accesslog_contract.ts';

export const SIDECAR_YAML = join(repoRoot, 'envoy/sidecar.yaml');

export interface MountedFilter {
  name: string;
  /** JSON value (serialized) or a raw string passed verbatim. */
  config: unknown;
}

export interface RenderOptions {
  /** A bootstrap object, or a YAML file path; default envoy/sidecar.yaml. */
  config?: string | Record<string, unknown>;
  /** The asmesh filters to mount, with their configurations. Undefined: keep the file's filters as they are. */
  filters?: readonly MountedFilter[];
  /** Directory holding <filter>.wasm; default <repo>/build. */
  wasmDir?: string;
  /** Cluster name -> loopback endpoint. Clusters not listed keep their endpoints. */
  upstreams?: Record<string, { host?: string; port: number }>;
  /** Listener port; default 0 (Envoy picks, read back from the admin). */
  listenerPort?: number;
  /** Admin port; default 0. */
  adminPort?: number;
  /** Replaces bootstrap.node. */
  node?: Record<string, unknown>;
  /** Replaces stats_config.stats_tags (e.g. statsTags(customLabels) of filters/manifest.ts). */
  statsTags?: StatsTagRule[];
  /** Sets stats_flush_interval: Envoy merges histograms into /stats/prometheus only at a flush (default 5 s). */
  statsFlushMs?: number;
  /** Last chance to edit the rendered bootstrap. */
  edit?: (bootstrap: any) => void;
}

type Obj = Record<string, any>;

/** YAML for Envoy. Envoy reads YAML 1.1 (yaml-cpp): plain `yes`, `on`, `n`, `12:30` are booleans/numbers there,
 * so strings like them are quoted (a header value "yes" must not reach Envoy as `true`). */
export function envoyYaml(value: unknown): string {
  return stringify(value, { aliasDuplicateObjects: false, lineWidth: 0, version: '1.1' });
}

export function loadBootstrap(config: string | Record<string, unknown> = SIDECAR_YAML): Obj {
  if (typeof config === 'string') return parse(readFileSync(config, 'utf8')) as Obj;
  return structuredClone(config) as Obj;
}

const WASM_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
export const NETWORK_WASM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm';

/** The HttpConnectionManager configs of every listener. */
export function connectionManagers(bootstrap: Obj): Obj[] {
  const out: Obj[] = [];
  for (const listener of bootstrap.static_resources?.listeners ?? []) {
    for (const chain of listener.filter_chains ?? []) {
      for (const f of chain.filters ?? []) {
        if (f.name === 'envoy.filters.network.http_connection_manager') out.push(f.typed_config);
      }
    }
  }
  return out;
}

/** The asmesh filter name of an http_filters entry (`asmesh.<name>` with a Wasm typed_config), or null. */
export function asmeshFilterName(entry: Obj): string | null {
  if (typeof entry.name !== 'string' || !entry.name.startsWith('asmesh.')) return null;
  if (entry.typed_config?.['@type'] !== WASM_TYPE) return null;
  return entry.name.slice('asmesh.'.length);
}

/**
 * What Envoy hands a module from a Wasm PluginConfig (an http or network Wasm entry's `typed_config.config`,
 * or an ECDS resource's): the configuration text and the names, as the harness's plugin options.
 */
export function wasmPluginOptions(cfg: Obj | undefined): { config: string; rootId?: string; vmId?: string; pluginName?: string } {
  return { config: String(cfg?.configuration?.value ?? ''), rootId: cfg?.root_id, vmId: cfg?.vm_config?.vm_id, pluginName: cfg?.name };
}

/**
 * The path handling Istio gives every sidecar HCM (mesh pathNormalization BASE), which authz policies
 * rely on: `/a/../b` is `/b` before any filter sees it; `//` and `%2F` are kept (README: HCM settings).
 */
export const ISTIO_PATH_HANDLING = {
  normalize_path: true,
  merge_slashes: false,
  path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
} as const;

export const ROUTER_FILTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
} as const;

/**
 * An HTTP connection manager network filter with Istio's path handling; the router goes after `httpFilters`;
 * the access log telemetry's Envoy writer needs (telemetryAccessLogs) after `extra.access_log`.
 */
export function httpConnectionManager(statPrefix: string, routeConfig: Obj, httpFilters: Obj[], extra: Obj = {}): Obj {
  const logs = telemetryAccessLogs(httpFilters);
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: statPrefix,
      codec_type: 'AUTO',
      ...ISTIO_PATH_HANDLING,
      route_config: routeConfig,
      http_filters: [...httpFilters, structuredClone(ROUTER_FILTER)],
      ...extra,
      ...(logs.length > 0 ? { access_log: [...(extra.access_log ?? []), ...logs] } : {}),
    },
  };
}

/** A cluster of one endpoint: STATIC for an IPv4 address, else STRICT_DNS. */
export function endpointCluster(name: string, address: string, port: number): Obj {
  return {
    name,
    type: /^[\d.]+$/.test(address) ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: '5s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(address, port) } }] }] },
  };
}

export function socket(address: string, port: number): Obj {
  return { socket_address: { address, port_value: port } };
}

export interface FilterBootstrapOptions {
  /** The chain, in order: each a proxy-wasm module with its plugin configuration (text passed verbatim). */
  filters: { name: string; wasm: string; config: string }[];
  /** Where the route sends requests. */
  upstream: { address: string; port: number };
  /** Listener and admin ports on 127.0.0.1 (0: Envoy picks). */
  port: number;
  adminPort: number;
}

/** A bootstrap for custom filters: one listener on loopback, the filters, the router to one upstream cluster. */
export function filterBootstrap(opts: FilterBootstrapOptions): Obj {
  const route = {
    name: 'upstream',
    virtual_hosts: [{ name: 'any', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream' } }] }],
  };
  const filters = opts.filters.map((f) => wasmFilterEntry(f.name, resolve(f.wasm), f.config));
  return {
    admin: { address: socket('127.0.0.1', opts.adminPort) },
    static_resources: {
      listeners: [
        {
          name: 'listener',
          address: socket('127.0.0.1', opts.port),
          filter_chains: [{ filters: [httpConnectionManager('listener', route, filters)] }],
        },
      ],
      clusters: [endpointCluster('upstream', opts.upstream.address, opts.upstream.port)],
    },
  };
}

/** The one builder of an asmesh Wasm http filter entry (vm_id = root_id = name, V8, fail_open false): renderer and translate. */
export function wasmFilterEntry(name: string, filename: string, config: unknown): Obj {
  return {
    name: `asmesh.${name}`,
    typed_config: {
      '@type': WASM_TYPE,
      config: {
        name,
        root_id: name,
        fail_open: false,
        configuration: pluginConfiguration(config),
        vm_config: { vm_id: name, runtime: 'envoy.wasm.runtime.v8', code: { local: { filename } } },
      },
    },
  };
}

function pluginConfiguration(config: unknown): Obj {
  return { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: configString(config) };
}

export function configString(config: unknown): string {
  return typeof config === 'string' ? config : JSON.stringify(config ?? {});
}

const FILE_LOG_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const STDOUT_LOG_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';

/** The telemetry configuration of an http_filters entry (telemetry itself, or mesh.wasm's member), or null. */
function telemetryConfigOf(entry: Obj): Obj | null {
  const name = asmeshFilterName(entry);
  if (name !== 'telemetry' && name !== 'mesh') return null;
  let config: Obj;
  try {
    config = JSON.parse(wasmPluginOptions(entry.typed_config.config).config || '{}') as Obj;
  } catch {
    return null; // the filter rejects it at configure
  }
  const t = name === 'mesh' ? config?.telemetry : config;
  return typeof t === 'object' && t !== null ? t : null;
}

/**
 * The one generator of the Envoy access log for telemetry's `accessLog.writer: "envoy"` (renderer and translate):
 * Envoy's file access logger (`accessLog.path`; absent: its stdout logger) with a json_format of the configured fields, in order, each Envoy's command operator
 * or the filter state the filter sets (assembly/lib/accesslog_contract.ts ACCESS_LOG_ENVOY_OPERATORS). [] for the wasm writer.
 */
export function telemetryAccessLogs(httpFilters: readonly Obj[]): Obj[] {
  const out: Obj[] = [];
  for (const entry of httpFilters) {
    const log = telemetryConfigOf(entry)?.accessLog;
    if (log?.writer !== 'envoy' || log.enabled === false) continue;
    const fields: string[] = Array.isArray(log.fields) ? log.fields : ACCESS_LOG_FIELDS.slice(0, ACCESS_LOG_DEFAULT_FIELDS);
    const json_format: Record<string, string> = {};
    for (const field of fields) {
      const at = ACCESS_LOG_FIELDS.indexOf(field);
      if (at < 0) continue; // the filter rejects the configuration
      json_format[field] = ACCESS_LOG_ENVOY_OPERATORS[at] || `%FILTER_STATE(wasm.${ACCESS_LOG_STATE_PREFIX}${field}:PLAIN)%`;
    }
    const log_format = { json_format };
    out.push(
      typeof log.path === 'string'
        ? { name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_LOG_TYPE, path: log.path, log_format } }
        : { name: 'envoy.access_loggers.stdout', typed_config: { '@type': STDOUT_LOG_TYPE, log_format } },
    );
  }
  return out;
}

function wasmFileName(dir: string, filename: string): string {
  return join(dir, filename.split('/').pop()!);
}

export function renderBootstrap(opts: RenderOptions = {}): Obj {
  const b = loadBootstrap(opts.config);
  const wasmDir = opts.wasmDir ?? join(repoRoot, 'build');

  b.admin ??= {};
  b.admin.address = { socket_address: { address: '127.0.0.1', port_value: opts.adminPort ?? 0 } };
  for (const listener of b.static_resources?.listeners ?? []) {
    listener.address = { socket_address: { address: '127.0.0.1', port_value: opts.listenerPort ?? 0 } };
  }
  if (opts.node !== undefined) b.node = opts.node;
  if (opts.statsFlushMs !== undefined) b.stats_flush_interval = `${opts.statsFlushMs / 1000}s`;
  if (opts.statsTags !== undefined) {
    b.stats_config ??= {};
    b.stats_config.stats_tags = opts.statsTags;
  }

  for (const hcm of connectionManagers(b)) {
    const filters: Obj[] = hcm.http_filters ?? [];
    const kept: Obj[] = [];
    const existing = new Map<string, Obj>();
    for (const entry of filters) {
      const name = asmeshFilterName(entry);
      if (name === null) {
        kept.push(entry);
        continue;
      }
      existing.set(name, entry);
      // Rewrite the file name even when filters are left as they are.
      const local = entry.typed_config.config?.vm_config?.code?.local;
      if (local?.filename) local.filename = wasmFileName(wasmDir, local.filename);
    }
    let mounted: Obj[];
    if (opts.filters === undefined) {
      mounted = filters.filter((e) => asmeshFilterName(e) !== null);
    } else {
      mounted = chainOrder(opts.filters).map((f) => {
        const entry = existing.get(f.name) ?? wasmFilterEntry(f.name, join(wasmDir, `${f.name}.wasm`), f.config);
        entry.typed_config.config.configuration = pluginConfiguration(f.config);
        return entry;
      });
    }
    // asmesh filters go before the other http filters (the router is last).
    const routerAt = kept.findIndex((e) => e.name === 'envoy.filters.http.router');
    const before = routerAt < 0 ? kept : kept.slice(0, routerAt);
    const after = routerAt < 0 ? [] : kept.slice(routerAt);
    hcm.http_filters = [...before, ...mounted, ...after];
    const logs = telemetryAccessLogs(mounted);
    if (logs.length > 0) hcm.access_log = [...(hcm.access_log ?? []), ...logs];
  }

  for (const cluster of b.static_resources?.clusters ?? []) {
    const endpoint = opts.upstreams?.[cluster.name];
    if (endpoint === undefined) continue;
    cluster.type = 'STATIC';
    cluster.load_assignment = {
      cluster_name: cluster.name,
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: endpoint.host ?? '127.0.0.1', port_value: endpoint.port } } } },
          ],
        },
      ],
    };
  }
  opts.edit?.(b);
  return b;
}

/** The wasm files a rendered bootstrap loads. */
export function wasmFiles(bootstrap: Obj): string[] {
  const out: string[] = [];
  for (const hcm of connectionManagers(bootstrap)) {
    for (const entry of hcm.http_filters ?? []) {
      const file = entry.typed_config?.config?.vm_config?.code?.local?.filename;
      if (entry.typed_config?.['@type'] === WASM_TYPE && typeof file === 'string') out.push(file);
    }
  }
  // Network wasm filters (TCP chains, host/envoy/tcp.ts).
  for (const listener of bootstrap.static_resources?.listeners ?? []) {
    for (const chain of listener.filter_chains ?? []) {
      for (const f of chain.filters ?? []) {
        const file = f.typed_config?.config?.vm_config?.code?.local?.filename;
        if (f.typed_config?.['@type'] === NETWORK_WASM_TYPE && typeof file === 'string') out.push(file);
      }
    }
  }
  return out;
}

/** A downstream TLS transport socket that requires a client certificate signed by `ca` (PEM files). */
export function downstreamMtlsSocket(files: { cert: string; key: string; ca: string }): Record<string, unknown> {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      require_client_certificate: true,
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { filename: files.cert }, private_key: { filename: files.key } }],
        validation_context: { trusted_ca: { filename: files.ca } },
      },
    },
  };
}
