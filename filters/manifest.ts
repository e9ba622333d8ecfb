// The filter manifest: what every tool needs to know about each filter, in one place (as Envoy
// registers its filters in one factory registry). Read by translate, the Envoy renderer, the
// scenarios, the demo, scripts/gen-envoy.ts (envoy/sidecar.yaml's and envoy/stats-tags.yaml's
// stats_tags) and the tests; the build compiles every filters/<name>/index.ts and
// test/manifest.test.ts checks folders and entries agree.
// A new filter = its folder filters/<name>/ + one entry here. Plain TypeScript (Node side), not AssemblyScript.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ISTIO_LABELS } from '../assembly/lib/contracts.ts';
export type ListenerSide = 'outbound' | 'inbound';

export interface FilterManifest {
  /** filters/<name>/, build/<name>.wasm; in Envoy the filter `asmesh.<name>` with root_id = vm_id = name. */
  readonly name: string;
  /**
   * Where Envoy mounts it: `http` (default), an http filter of the HTTP connection manager
   * (envoy.filters.http.wasm); `network`, a network filter of TCP listeners, before tcp_proxy
   * (envoy.filters.network.wasm; host/envoy/tcp.ts renders those chains). translate mounts a network filter by
   * `sides`/`istioKinds`/`always` as the http ones and configures it with its side's fields plus `policies` for
   * AuthorizationPolicy, `jwtRules` for RequestAuthentication (host/cli/translate.ts `networkFilterConfig`); while
   * none takes AuthorizationPolicy, a TCP port a policy applies to denies every connection.
   */
  readonly layer?: 'http' | 'network';
  /**
   * The listeners `asmesh translate` mounts it on (Istio: VirtualServices apply on the caller's side,
   * authorization on the callee's), each with the configuration fields that side sets. None: never mounted by translate.
   */
  readonly sides: Readonly<Partial<Record<ListenerSide, Readonly<Record<string, unknown>>>>>;
  /** The Istio kinds whose resources configure it; translate mounts it only when one is given, unless `always`. */
  readonly istioKinds: readonly string[];
  /** Mounted even without a configuring resource (telemetry reports every request). */
  readonly always?: boolean;
  /** The configuration it accepts when no resource configures it. */
  readonly defaultConfig: Readonly<Record<string, unknown>>;
  /** Istio WasmPlugin phase (README: mount in an Istio sidecar). */
  readonly wasmPluginPhase: 'UNSPECIFIED_PHASE' | 'AUTHN' | 'AUTHZ' | 'STATS';
  /**
   * Labels it encodes in its metric names as `label=value;...;<metric>` (assembly/lib/stats.ts): each
   * gets a stats_tags rule (statsTagRule) so /stats/prometheus shows `<metric>{label="value"}`.
   */
  readonly statsTags: readonly string[];
}

/** Istio's standard metric labels, as telemetry encodes them (assembly/lib/contracts.ts, shared with the filter). */
export { ISTIO_LABELS };

/** Every filter, in chain order (Envoy and harness alike): a filter earlier here runs earlier. */
export const FILTERS = [
  {
    name: 'example',
    sides: {},
    istioKinds: [],
    defaultConfig: { header: 'x-asmesh-example', value: 'hello' },
    wasmPluginPhase: 'UNSPECIFIED_PHASE',
    statsTags: [],
  },
  {
    name: 'steering',
    sides: { outbound: {} },
    istioKinds: ['VirtualService'],
    defaultConfig: { hosts: [], http: [] },
    wasmPluginPhase: 'UNSPECIFIED_PHASE',
    statsTags: ['route', 'subset', 'fault'],
  },
  {
    name: 'authz',
    sides: { inbound: {} },
    istioKinds: ['RequestAuthentication', 'AuthorizationPolicy'],
    defaultConfig: { jwtRules: [], policies: [] },
    wasmPluginPhase: 'AUTHZ',
    statsTags: [],
  },
  {
    name: 'telemetry',
    sides: { outbound: { reporter: 'source' }, inbound: { reporter: 'destination' } },
    istioKinds: ['Telemetry'],
    always: true,
    defaultConfig: { reporter: 'destination' },
    wasmPluginPhase: 'STATS',
    statsTags: ISTIO_LABELS,
  },
  {
    name: 'tcp_telemetry',
    layer: 'network',
    sides: { outbound: { reporter: 'source' }, inbound: { reporter: 'destination' } },
    istioKinds: ['Telemetry'],
    always: true,
    defaultConfig: { reporter: 'destination' },
    wasmPluginPhase: 'STATS',
    // Istio's TCP metrics have the standard labels but response_code and grpc_response_status.
    statsTags: ISTIO_LABELS.filter((l) => l !== 'response_code' && l !== 'grpc_response_status'),
  },
] as const satisfies readonly FilterManifest[];

export type FilterName = (typeof FILTERS)[number]['name'];
export const FILTER_NAMES: readonly FilterName[] = FILTERS.map((f) => f.name);
function layerOf(f: FilterManifest): 'http' | 'network' {
  return f.layer ?? 'http';
}
/** The http filters `asmesh translate` mounts on a sidecar's HTTP listeners (those with a listener side), in chain order. */
export const MESH_FILTERS = FILTERS.filter((f) => Object.keys(f.sides).length > 0 && layerOf(f) === 'http').map((f) => f.name) as (
  'steering' | 'authz' | 'telemetry'
)[];
export type MeshFilterName = (typeof MESH_FILTERS)[number];
/** The network filters mounted on a sidecar's TCP listeners, before tcp_proxy, in chain order. */
export const NETWORK_FILTERS = FILTERS.filter((f) => layerOf(f) === 'network').map((f) => f.name) as 'tcp_telemetry'[];

export function filterManifest(name: string): FilterManifest | undefined {
  return (FILTERS as readonly FilterManifest[]).find((f) => f.name === name);
}

/** The filters a project (asmesh itself, or one of `asmesh build --project`) has: its folders filters/<name>/index.ts, sorted. */
export function filterFolders(projectDir: string): string[] {
  const dir = join(projectDir, 'filters');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => existsSync(join(dir, n, 'index.ts')))
        .sort()
    : [];
}

/** The one check of filter names given to build: a line naming the first unknown one, or null. */
export function unknownFilter(names: readonly string[], known: readonly string[]): string | null {
  const name = names.find((n) => !known.includes(n));
  return name === undefined ? null : `no filter ${name} (filters/<name>/index.ts): known: ${known.join(', ') || 'none'}`;
}

/** Position in the chain; unknown names go last. */
function chainIndex(name: string): number {
  const i = FILTER_NAMES.indexOf(name as FilterName);
  return i < 0 ? FILTERS.length : i;
}

/** Sorts mounted filters into chain order (unknown names last, stable). */
export function chainOrder<T extends { name: string }>(filters: readonly T[]): T[] {
  return filters
    .map((f, i) => ({ f, i }))
    .sort((a, b) => chainIndex(a.f.name) - chainIndex(b.f.name) || a.i - b.i)
    .map(({ f }) => f);
}

export interface StatsTagRule {
  tag_name: string;
  regex: string;
}

/** The stats_tags rule for one label of the `label=value;...;<metric>` encoding. */
export function statsTagRule(label: string): StatsTagRule {
  return { tag_name: label, regex: `[.;](${label}=([^;]*);)` };
}

/** Every filter's stats_tags rules (the single source of envoy/sidecar.yaml's, envoy/stats-tags.yaml's and translate's), then `extraLabels`'. */
export function statsTags(extraLabels: readonly string[] = []): StatsTagRule[] {
  const labels = new Set<string>(FILTERS.flatMap((f) => f.statsTags as readonly string[]));
  for (const l of extraLabels) labels.add(l);
  return [...labels].map(statsTagRule);
}
