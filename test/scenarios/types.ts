// Shared scenarios: a request in, the expected outcome out, checked in the harness and in Envoy.
// Files test/scenarios/<filter>.scenarios.ts export `scenarios: Scenario[]`; test/scenarios/scenarios.test.ts
// runs each one as `<name> [harness]` and `<name> [envoy]`.
import type { GrpcHandler } from '../../host/upstream/grpc.ts';

import type { FilterName } from '../../filters/manifest.ts';

export interface ScenarioFilter {
  /** An asmesh filter, or a fixture module `<name>.wasm` in the scenario's `wasmDir`. */
  name: FilterName | (string & {});
  /** The plugin configuration: a JSON value (serialized) or a string passed verbatim. */
  config: unknown;
}

export interface ScenarioRequest {
  method?: string; // default GET
  path?: string; // default /
  authority?: string; // default service_b
  headers?: Record<string, string> | [string, string][];
  body?: string;
}

/** A header expectation: exact value, pattern, or null = must be absent. */
export type HeaderExpectation = string | RegExp | null;

export interface ScenarioExpect {
  status?: number;
  /** `x-served-by` of the response (`service_b/v1`, `service_b/v2`, `service_b` for the default cluster), null for a local reply. */
  servedBy?: string | null;
  /** Headers the upstream received (checked only for the listed names). */
  upstreamHeaders?: Record<string, HeaderExpectation>;
  /** Response headers the client received (checked only for the listed names). */
  responseHeaders?: Record<string, HeaderExpectation>;
  /** Response body: exact text or pattern. */
  body?: string | RegExp;
}

/** A fixed answer of an upstream cluster for one path (e.g. the JWKS at /jwks.json on cluster `jwks`). */
export interface StaticRoute {
  cluster: string;
  path: string;
  status?: number; // default 200
  headers?: Record<string, string>; // default content-type application/json
  body: string;
}

/** What one request produced, in either host. */
export interface StepResult {
  host: 'harness' | 'envoy';
  status: number;
  servedBy: string | null;
  /** Lower-case names; null when the request reached no upstream. */
  upstreamHeaders: Record<string, string> | null;
  upstreamPath: string | null;
  responseHeaders: Record<string, string>;
  body: string;
}

export interface ScenarioStep {
  name?: string;
  request: ScenarioRequest;
  expect: ScenarioExpect;
  /** Send the request this many times (each checked against `expect`); default 1. */
  repeat?: number;
  /** Routes set on the upstreams before this step (e.g. a rotated JWKS). */
  routes?: StaticRoute[];
  /** Extra checks over every result of this step (e.g. a distribution); throw to fail. */
  check?: (results: StepResult[]) => void;
}

export interface Scenario {
  name: string;
  /** Mounted filters; chained in the order example, steering, authz, telemetry whatever the order here. */
  filters: ScenarioFilter[];
  steps?: ScenarioStep[];
  /** The configuration must be rejected: the harness load fails and Envoy exits non-zero, both logging a line matching this. */
  configError?: RegExp;
  /** Metric values after the steps, by the filter's name (without `wasmcustom.`). */
  metrics?: Record<string, number>;
  /** Log lines expected (as Envoy prints them: `wasm log <plugin> <root_id> <vm_id>: <message>`). */
  logs?: RegExp[];
  /**
   * The filters' log lines, as `<plugin>: <message>` in the order logged, that match `match`: exactly
   * `expect` in both hosts (what Envoy 1.40 logged, measured), filter after filter.
   */
  logLines?: {
    match: RegExp;
    expect: string[];
    /** Compare as sets of lines (e.g. worker threads logging at once). */
    unordered?: boolean;
    /** Replaced in each line before comparing (values that differ per run: ports, times, ids). */
    mask?: [RegExp, string][];
  };
  /** gRPC clusters (HTTP/2) the filters call, each with its unary handler: an in-process server in the harness, a Node HTTP/2 server in Envoy. */
  grpcClusters?: Record<string, GrpcHandler>;
  /** Worker threads: Envoy's --concurrency, the harness chain's `workers` (default 1). */
  workers?: number;
  /** Where the filters' `<name>.wasm` files are (default build/): fixture modules. */
  wasmDir?: string;
  /** Upstream routes set before the first step. */
  routes?: StaticRoute[];
  /** Envoy bootstrap `node` (xds.node) for this scenario; default the sidecar's. */
  node?: { id?: string; cluster?: string; metadata?: Record<string, unknown> };
  /**
   * The listener port: Envoy listens on it, the harness reports it as `destination.port` (default: the
   * port envoy/sidecar.yaml declares in the harness, one the kernel picks in Envoy).
   */
  listenerPort?: number;
  /** Runs in one host only, with the reason (the other host reports it as skipped with this reason). */
  only?: { host: 'harness' | 'envoy'; why: string };
}

/** One TCP connection of a NetworkScenario, to an upstream that echoes every byte and ends when the client ends. */
export interface ScenarioConnection {
  /** What the client sends, chunk after chunk (each echoed back before the next). */
  chunks: string[];
  /** The client presents a certificate with this URI SAN (a SPIFFE id): the listener then requires mTLS. */
  clientIdentity?: string;
  /** The filter closes the connection at its first chunk (an authz deny): nothing is echoed, nothing reaches the upstream. */
  denied?: boolean;
  /** Before ending, stay open one reporting interval (the network filter's `reportingIntervalMs`), then expect these metrics. */
  whileOpen?: TcpMetricExpectation[];
}

/** The sum of metric `name` over its series whose labels include `labels`; `series`: how many such series. */
export interface TcpMetricExpectation {
  name: string;
  labels?: Record<string, string>;
  value: number;
  series?: number;
}

/**
 * A network-filter scenario: TCP connections through a listener with one asmesh network filter, then
 * tcp_proxy to an echo upstream; checked in the harness (the connection's callbacks in Envoy's measured
 * order) and in Envoy, with the same expectations. Files export them as `networkScenarios`.
 */
export interface NetworkScenario {
  name: string;
  /** One network filter (filters/manifest.ts layer `network`) and its configuration. */
  filter: ScenarioFilter;
  /** tcp_proxy's cluster (the filter's `xds.cluster_name`); default `outbound|9000||echo.default.svc.cluster.local`. */
  cluster?: string;
  /** The listener's certificate URI SAN, for connections with a clientIdentity (default spiffe://cluster.local/ns/default/sa/server). */
  serverIdentity?: string;
  /** The filter must refuse its configuration (harness: loading fails; Envoy: does not start) with a log matching this. */
  configError?: RegExp;
  /** Made one after the other. */
  connections: ScenarioConnection[];
  /** After every connection closed. */
  metrics: TcpMetricExpectation[];
  /** Envoy bootstrap `node`; default the sidecar's. */
  node?: { id?: string; cluster?: string; metadata?: Record<string, unknown> };
}
