// bench:envoy's configurations: the asmesh filters' configurations, the native Envoy peers doing the
// same work (route header match; jwt_authn + rbac as Istio's pilot generates them, with jwt_cache_config;
// Envoy's JSON access log), the Rust peer filter (bench/rust-steering), the AssemblyScript floor (bench/as-empty), tokens and the request every
// configuration gets. Bench-only: nothing here is imported from test/.
import { ACCESS_LOG_DEFAULT_FIELDS, ACCESS_LOG_ENVOY_OPERATORS, ACCESS_LOG_FIELDS } from '../assembly/lib/accesslog_contract.ts';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { connectionManagers, wasmFilterEntry, type MountedFilter } from '../host/envoy/config.ts';
import { repoRoot } from '../host/envoy/install.ts';
import { HTTPBIN_WORKLOAD, inboundHttpManager, istioPilot } from '../host/envoy/pilot.ts';
import { compileAs } from '../host/fixtures/compile.ts';
import { SLEEP, peerHeader } from '../host/fixtures/peers.ts';

type Obj = Record<string, any>;

export const ISSUER = 'https://accounts.google.com';
export const V1 = 'outbound|80|v1|service_b';
export const V2 = 'outbound|80|v2|service_b';
/** Every request: GET /info, Host service_b, end-user jason/alice alternating, a bearer token, a peer header. */
export const PATH = '/info';
export const HOST = 'service_b';

/** Istio's sample virtualservice-steering.yaml spec: end-user jason -> v2, everyone else -> v1. */
export const STEERING = {
  hosts: ['service_b'],
  http: [
    { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'service_b', subset: 'v2' } }] },
    { route: [{ destination: { host: 'service_b', subset: 'v1' } }] },
  ],
};

/** A JWT-only AuthorizationPolicy: a verified token of ISSUER for GET /info* or POST /data. */
const POLICY_RULES = [
  {
    from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }],
    to: [{ operation: { methods: ['GET'], paths: ['/info*'] } }, { operation: { methods: ['POST'], paths: ['/data'] } }],
    when: [{ key: 'request.auth.claims[iss]', values: [ISSUER] }],
  },
];

// ------------------------------------------------------------------ tokens

export interface SigningKey {
  privateKey: KeyObject;
  jwks: string;
}

export function rsaKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, jwks: JSON.stringify({ keys: [{ ...jwk, kid }] }) };
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');

/** An RS256 token of ISSUER for subject `sub`, valid for an hour. */
export function rs256Token(key: SigningKey, kid: string, sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64url(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' }))}.${b64url(JSON.stringify({ iss: ISSUER, sub, iat: now, exp: now + 3600 }))}`;
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

/** Telemetry's peer header (x-asmesh-peer): the calling workload's metadata, base64 JSON. */
export const PEER_HEADER = peerHeader(SLEEP);
export const NODE = {
  id: 'bench',
  cluster: 'bench',
  metadata: {
    WORKLOAD_NAME: 'productpage-v1',
    NAMESPACE: 'default',
    CLUSTER_ID: 'Kubernetes',
    LABELS: { app: 'productpage', version: 'v1' },
  },
};

// ------------------------------------------------------------------ asmesh filters

export function authzConfig(key: SigningKey): Obj {
  return { jwtRules: [{ issuer: ISSUER, jwks: key.jwks }], policies: [{ name: 'jwt-only', action: 'ALLOW', rules: POLICY_RULES }] };
}

export const STEERING_FILTER: MountedFilter = { name: 'steering', config: STEERING };
export const authzFilter = (key: SigningKey): MountedFilter => ({ name: 'authz', config: authzConfig(key) });
/** mesh.wasm holding these filters as its parts, each part configured as the filter is. */
export function meshOf(...parts: MountedFilter[]): MountedFilter {
  return { name: 'mesh', config: Object.fromEntries(parts.map((p) => [p.name, p.config])) };
}

export const TELEMETRY_NO_LOG: MountedFilter = { name: 'telemetry', config: { accessLog: { enabled: false } } };
export const TELEMETRY_LOG: MountedFilter = { name: 'telemetry', config: {} };
/** The same default fields written by Envoy's file access logger from the filter's filter state, to /dev/null as nativeAccessLog's. */
export const TELEMETRY_ENVOY_LOG: MountedFilter = { name: 'telemetry', config: { accessLog: { writer: 'envoy', path: '/dev/null' } } };
/** The same with only the fields Envoy's command operators give (no filter state). */
export const TELEMETRY_ENVOY_FIELDS_LOG: MountedFilter = {
  name: 'telemetry',
  config: {
    accessLog: {
      writer: 'envoy',
      path: '/dev/null',
      fields: ACCESS_LOG_FIELDS.filter((_, i) => i < ACCESS_LOG_DEFAULT_FIELDS && ACCESS_LOG_ENVOY_OPERATORS[i] !== ''),
    },
  },
};

/**
 * Every STRICT_DNS cluster made STATIC on 127.0.0.1 (same names and ports): the routes answer directly, so
 * no cluster is ever connected to, but Envoy waits for each DNS cluster's first resolution before it is
 * ready, and with some 40 Envoys refreshing unresolvable names every 5 s this machine's resolver timed out
 * and the 41st Envoy was not ready in 30 s.
 */
export function loopbackClusters(bootstrap: Obj): void {
  for (const cluster of bootstrap.static_resources?.clusters ?? []) {
    if (cluster.type !== 'STRICT_DNS' && cluster.type !== 'LOGICAL_DNS') continue;
    cluster.type = 'STATIC';
    for (const group of cluster.load_assignment?.endpoints ?? [])
      for (const lb of group.lb_endpoints ?? []) {
        const address = lb.endpoint?.address?.socket_address;
        if (address !== undefined) address.address = '127.0.0.1';
      }
  }
}

// ------------------------------------------------------------------ routes

export type Edit = (bootstrap: Obj) => void;
/** One bootstrap edit made of several, applied in order. */
export const all =
  (...edits: Edit[]): Edit =>
  (b) => {
    for (const e of edits) e(b);
  };

const reply = (body: string) => ({ status: 200, body: { inline_string: body } });

function setRoutes(bootstrap: Obj, routes: Obj[]): void {
  for (const hcm of connectionManagers(bootstrap)) for (const vh of hcm.route_config?.virtual_hosts ?? []) vh.routes = routes;
}

/** direct_response routes on the cluster steering wrote (answers `v1`/`v2`), else `ok`: no upstream, the proxy alone is measured. */
export function clusterHeaderRoutes(bootstrap: Obj): void {
  const on = (cluster: string, body: string) => ({
    match: { prefix: '/', headers: [{ name: 'x-asmesh-cluster', string_match: { exact: cluster } }] },
    direct_response: reply(body),
  });
  setRoutes(bootstrap, [on(V2, 'v2'), on(V1, 'v1'), { match: { prefix: '/' }, direct_response: reply('ok') }]);
}

/** Envoy's own route match doing steering's decision: end-user jason -> `v2`, everyone else -> `v1`. */
export function nativeSteeringRoutes(bootstrap: Obj): void {
  setRoutes(bootstrap, [
    { match: { prefix: '/', headers: [{ name: 'end-user', string_match: { exact: 'jason' } }] }, direct_response: reply('v2') },
    { match: { prefix: '/' }, direct_response: reply('v1') },
  ]);
}

function insertBeforeRouter(bootstrap: Obj, entries: Obj[]): void {
  for (const hcm of connectionManagers(bootstrap)) {
    const filters = hcm.http_filters as Obj[];
    filters.splice(
      filters.findIndex((f) => f.name === 'envoy.filters.http.router'),
      0,
      ...structuredClone(entries),
    );
  }
}

// ------------------------------------------------------------------ native jwt_authn + rbac from pilot

/** The jwt_authn and rbac http filters Istio's pilot generates for RequestAuthentication + AuthorizationPolicy
 * (same issuer, JWKS and rules as authzConfig), each provider given jwt_cache_config (Envoy's verified-token cache). */
export async function pilotJwtFilters(key: SigningKey): Promise<Obj[]> {
  const yaml = `${HTTPBIN_WORKLOAD.yaml}---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: foo }
spec: ${JSON.stringify({ selector: { matchLabels: { app: 'httpbin' } }, jwtRules: [{ issuer: ISSUER, jwks: key.jwks }] })}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: jwt-only, namespace: foo }
spec: ${JSON.stringify({ selector: { matchLabels: { app: 'httpbin' } }, action: 'ALLOW', rules: POLICY_RULES })}
`;
  const pilot = await istioPilot(yaml, HTTPBIN_WORKLOAD.proxy);
  const hcm = inboundHttpManager(pilot, 80).config;
  const wanted = ['envoy.filters.http.jwt_authn', 'envoy.filters.http.rbac'];
  const out = (hcm.http_filters as Obj[]).filter((f) => wanted.includes(f.name));
  if (out.length !== 2) throw new Error(`pilot generated ${out.map((f) => f.name).join(', ')}, not jwt_authn + rbac`);
  for (const provider of Object.values(out[0]!.typed_config.providers as Obj)) provider.jwt_cache_config ??= { jwt_cache_size: 100 };
  return out;
}

export const withFilters = (entries: Obj[]) => (b: Obj) => insertBeforeRouter(b, entries);

// ------------------------------------------------------------------ Envoy's JSON access log

/** Envoy's file access logger with a JSON format like telemetry's default fields, written to /dev/null. */
export function nativeAccessLog(bootstrap: Obj): void {
  const json_format = {
    start_time: '%START_TIME%',
    method: '%REQ(:METHOD)%',
    path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
    protocol: '%PROTOCOL%',
    response_code: '%RESPONSE_CODE%',
    response_flags: '%RESPONSE_FLAGS%',
    bytes_received: '%BYTES_RECEIVED%',
    bytes_sent: '%BYTES_SENT%',
    duration: '%DURATION%',
    upstream_cluster: '%UPSTREAM_CLUSTER%',
    upstream_host: '%UPSTREAM_HOST%',
    source_workload: '%REQ(X-ASMESH-PEER)%',
    source_principal: '%DOWNSTREAM_PEER_URI_SAN%',
    destination_workload: '%DOWNSTREAM_LOCAL_ADDRESS%',
    destination_principal: '%DOWNSTREAM_LOCAL_URI_SAN%',
    user_agent: '%REQ(USER-AGENT)%',
    request_id: '%REQ(X-REQUEST-ID)%',
    trace_id: '%TRACE_ID%',
    span_id: '%REQ(X-B3-SPANID)%',
  };
  for (const hcm of connectionManagers(bootstrap)) {
    hcm.access_log = [
      {
        name: 'envoy.access_loggers.file',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
          path: '/dev/null',
          log_format: { json_format },
        },
      },
    ];
  }
}

// ------------------------------------------------------------------ the Rust peer

const RUST_CRATE = join(repoRoot, 'bench', 'rust-steering');
const RUST_TARGET = join(repoRoot, '.tmp', 'bench-rust');
export const RUST_WASM = join(RUST_TARGET, 'wasm32-wasip1', 'release', 'rust_steering.wasm');

/** Builds bench/rust-steering (cargo, wasm32-wasip1, release; incremental) and returns the .wasm path. */
export function buildRustPeer(): string {
  const r = spawnSync('cargo', ['build', '--release', '--quiet', '--target', 'wasm32-wasip1', '--target-dir', RUST_TARGET], {
    cwd: RUST_CRATE,
    stdio: 'inherit',
  });
  if (r.status !== 0 || !existsSync(RUST_WASM))
    throw new Error('cargo build of bench/rust-steering failed (rustup target add wasm32-wasip1 where missing)');
  return RUST_WASM;
}

/** A bench module `bench.<name>` (not an asmesh filter) mounted first in every connection manager, where steering goes. */
const firstFilter =
  (name: string, wasm: string) =>
  (bootstrap: Obj): void => {
    const entry = wasmFilterEntry(name, wasm, '');
    entry.name = `bench.${name}`;
    for (const hcm of connectionManagers(bootstrap)) (hcm.http_filters as Obj[]).unshift(entry);
  };

/** The Rust peer mounted where steering goes (first http filter). */
export const rustSteering = firstFilter('rust_steering', RUST_WASM);

/** `n` Rust filters doing nothing (the crate with configuration `empty`), each in its own VM (as asmesh's three
 * filters are) unless `oneVm`: the per-filter Wasm floor. */
export const rustEmpty =
  (n: number, oneVm = false) =>
  (bootstrap: Obj): void => {
    const entries = Array.from({ length: n }, (_, i) => {
      const entry = wasmFilterEntry(`rust_empty_${i}`, RUST_WASM, 'empty');
      entry.name = `bench.rust_empty_${i}`;
      entry.typed_config.config.root_id = '';
      if (oneVm) entry.typed_config.config.vm_config.vm_id = 'rust_empty';
      return entry;
    });
    for (const hcm of connectionManagers(bootstrap)) (hcm.http_filters as Obj[]).unshift(...entries);
  };

// ------------------------------------------------------------------ the AssemblyScript floor

/** bench/as-empty built with this tree's asconfig.json options (runtime included) and SDK. */
export const AS_EMPTY_WASM = join(repoRoot, '.tmp', 'bench-envoy', 'as_empty.wasm');

/** Builds bench/as-empty (when it, the SDK or asconfig.json changed) and returns the .wasm path. */
export async function buildAsEmpty(): Promise<string> {
  const sdk = readdirSync(join(repoRoot, 'assembly', 'proxy')).map((f) => `assembly/proxy/${f}`);
  await compileAs(['bench/as-empty/index.ts', 'asconfig.json', ...sdk], AS_EMPTY_WASM.slice(repoRoot.length + 1), [
    '--config',
    'asconfig.json',
  ]);
  return AS_EMPTY_WASM;
}

/** One AssemblyScript filter doing nothing (bench/as-empty, the module at `wasm`), first http filter. */
export const asEmpty = (wasm: string) => firstFilter('as_empty', wasm);
