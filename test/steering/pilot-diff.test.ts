// The steering filter against Istio's own pilot, differentially, in one Envoy 1.40. A seeded corpus
// (pilot-corpus.ts) of ServiceEntries, DestinationRules and VirtualServices goes through pilot
// (host/envoy/pilot.ts: its stock-Envoy helpers); the outbound route configuration it pushes for port 80 serves a native
// listener, and each VirtualService gets a listener of its own where the steering filter runs with
// that VirtualService and the same route configuration, the VirtualService's virtual host reduced to
// what asmesh translate renders (the steered route, then the service's default route). The same
// requests go to both; where each went (status, cluster, headers the upstream received, response
// headers, local reply body) must agree, except for the accepted differences listed in ACCEPTED
// (each also in docs/DESIGN.md, "steering against Istio's pilot").
import assert from 'node:assert/strict';
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../host/envoy/install.ts';
import { send, startEnvoy, type Envoy, type HttpReply } from '../../host/envoy/launcher.ts';
import { istioPilot, outboundHttpManager, pilotBootstrap, type PilotConfig } from '../../host/envoy/pilot.ts';
import { BUCKET_HEADER, NAMESPACE, SERVICE_PORT, bucketValue, generateCorpus, type Corpus, type DiffRequest } from './pilot-corpus.ts';

const SEED = Number(process.env.STEERING_DIFF_SEED ?? 20261202);
const VS_COUNT = 24;
const REQUESTS_PER_VS = 130;
/** VirtualServices of gRPC services (method paths, metadata; gRPC requests), after the HTTP ones. */
const GRPC_VS_COUNT = 8;
/** VirtualServices whose weights total other than 100 (7, 250, 3, 1000, ...), after the gRPC ones. */
const WEIGHTED_VS_COUNT = 8;
const CLUSTER_HEADER = 'x-diff-cluster';

type Obj = Record<string, any>;

/** What a request produced, as compared. */
interface Outcome {
  status: number;
  /** The cluster the router sent it to (%UPSTREAM_CLUSTER%), null for a local reply. */
  cluster: string | null;
  upstreamHeaders: Record<string, string> | null;
  responseHeaders: Record<string, string>;
  /** A local reply's body. */
  body: string | null;
}

interface Difference {
  request: DiffRequest;
  native: Outcome;
  steering: Outcome;
  fields: string[];
}

/**
 * Differences accepted with their reason (docs/DESIGN.md has the same table): each maps both outcomes
 * to what is compared once the difference is set aside; a request differing in anything else is reported.
 */
const ACCEPTED: { name: string; why: string; normalize: (o: Outcome) => Outcome }[] = [
  {
    name: 'x-envoy-decorator-operation',
    why: "pilot's routes carry a tracing decorator (`<host>:<port>/*`), which Envoy echoes in this response header; the steered route has none",
    normalize: (o) => {
      const { 'x-envoy-decorator-operation': _, ...rest } = o.responseHeaders;
      return { ...o, responseHeaders: rest };
    },
  },
];

const IGNORED_UPSTREAM = /^(x-request-id|x-envoy-.*|x-forwarded-.*|content-length|x-diff-cluster|connection|transfer-encoding)$/;
const IGNORED_RESPONSE = /^(date|x-envoy-upstream-service-time|content-length|connection|keep-alive|transfer-encoding)$/;

/** Headers by name (sorted: the order of different names means nothing), a repeated one's values joined in order. */
function pick(headers: [string, string][], ignore: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) if (!ignore.test(k)) out[k] = k in out ? `${out[k]},${v}` : v;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function outcome(reply: HttpReply): Outcome {
  let upstream: { headers: Record<string, string> } | null = null;
  if (reply.headers['content-type'] === 'application/json') {
    try {
      upstream = JSON.parse(reply.body) as { headers: Record<string, string> };
    } catch {
      upstream = null;
    }
  }
  return {
    status: reply.status,
    cluster: upstream?.headers[CLUSTER_HEADER] ?? null,
    upstreamHeaders: upstream ? pick(Object.entries(upstream.headers), IGNORED_UPSTREAM) : null,
    responseHeaders: pick(reply.rawHeaders, IGNORED_RESPONSE),
    body: upstream ? null : reply.body,
  };
}

function differingFields(a: Outcome, b: Outcome): string[] {
  const out: string[] = [];
  if (a.status !== b.status) out.push('status');
  if (a.cluster !== b.cluster) out.push('cluster');
  if (JSON.stringify(a.upstreamHeaders) !== JSON.stringify(b.upstreamHeaders)) out.push('upstreamHeaders');
  if (JSON.stringify(a.responseHeaders) !== JSON.stringify(b.responseHeaders)) out.push('responseHeaders');
  if (a.body !== b.body) out.push('body');
  return out;
}

// --- the Envoy configuration ----------------------------------------------------------------------

function steeredRoute(): Obj {
  return {
    name: 'asmesh-steered',
    match: { prefix: '/', headers: [{ name: 'x-asmesh-cluster', present_match: true }] },
    route: { cluster_header: 'x-asmesh-cluster', max_grpc_timeout: '0s' },
    request_headers_to_remove: ['x-asmesh-cluster'],
  };
}

/**
 * Both sides: the cluster a request went to reaches the upstream as a header, and pilot's weighted
 * picks come from BUCKET_HEADER (the filter hashes the same value to the same bucket).
 */
function instrument(rc: Obj): Obj {
  const out = structuredClone(rc);
  out.request_headers_to_add = [
    ...(out.request_headers_to_add ?? []),
    { header: { key: CLUSTER_HEADER, value: '%UPSTREAM_CLUSTER%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
  ];
  delete out.validate_clusters;
  for (const vh of out.virtual_hosts ?? []) {
    for (const r of vh.routes ?? []) if (r.route?.weighted_clusters) r.route.weighted_clusters.header_name = BUCKET_HEADER;
  }
  return out;
}

/** The steering listener of VirtualService `fqdn`: its virtual host as translate renders it; the others with the steered route first. */
function steeringRoutes(rc: Obj, fqdn: string): Obj {
  const out = instrument(rc);
  let found = false;
  for (const vh of out.virtual_hosts ?? []) {
    if (vh.name === `${fqdn}:${SERVICE_PORT}`) {
      found = true;
      vh.routes = [
        steeredRoute(),
        { name: 'default', match: { prefix: '/' }, route: { cluster: `outbound|${SERVICE_PORT}||${fqdn}`, max_grpc_timeout: '0s' } },
      ];
    } else vh.routes = [steeredRoute(), ...(vh.routes ?? [])];
  }
  if (!found) throw new Error(`pilot built no virtual host ${fqdn}:${SERVICE_PORT}`);
  return out;
}

function steeringFilter(spec: Obj): Obj {
  const config = {
    ...spec,
    asmesh: {
      namespace: NAMESPACE,
      port: SERVICE_PORT,
      clusterName: 'outbound|{port}|{subset}|{fqdn}',
      stickyKey: { header: BUCKET_HEADER },
    },
  };
  return {
    name: 'asmesh.steering',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
      config: {
        name: 'steering',
        root_id: 'steering',
        fail_open: false,
        configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: JSON.stringify(config) },
        vm_config: {
          vm_id: 'steering',
          runtime: 'envoy.wasm.runtime.v8',
          code: { local: { filename: join(repoRoot, 'build', 'steering.wasm') } },
        },
      },
    },
  };
}

/**
 * One Envoy (the oracle's pilotBootstrap): `native` with pilot's outbound connection manager for port 80
 * (its route inline), `vs<i>` the same with the steering filter before the router and the route
 * configuration of steeringRoutes; every cluster of pilot's but BlackHoleCluster served by the upstream.
 */
function bootstrap(pilot: PilotConfig, corpus: Corpus, upstreamPort: number): { config: Obj; upstreams: Record<string, { port: number }> } {
  const hcm = outboundHttpManager(pilot, SERVICE_PORT).config;
  const listeners: Record<string, Obj> = { native: { ...structuredClone(hcm), route_config: instrument(hcm.route_config) } };
  corpus.virtualServices.forEach((spec, i) => {
    const h = structuredClone(hcm);
    const routerAt = (h.http_filters as Obj[]).findIndex((f) => f.name === 'envoy.filters.http.router');
    h.http_filters.splice(routerAt, 0, steeringFilter(spec));
    listeners[`vs${i}`] = { ...h, stat_prefix: `vs${i}`, route_config: steeringRoutes(hcm.route_config, corpus.services[i]!.fqdn) };
  });
  const upstreams = Object.fromEntries(
    pilot.clusters
      .map((c) => String(c.name))
      .filter((n) => n !== 'BlackHoleCluster')
      .map((n) => [n, { port: upstreamPort }]),
  );
  const config = pilotBootstrap(pilot, { listeners, upstreams }).config;
  config.node = {
    id: 'sidecar~10.0.0.1~client.default~default.svc.cluster.local',
    cluster: 'client.default',
    metadata: { NAMESPACE, WORKLOAD_NAME: 'client' },
  };
  return { config, upstreams };
}

// --- the run ----------------------------------------------------------------------------------------

/** The upstream: echoes the request headers in a JSON body, and answers with the x-resp-* headers it was sent. */
function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    const headers: Record<string, string> = {};
    const reply: [string, string][] = [['content-type', 'application/json']];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i]!.toLowerCase();
      const v = req.rawHeaders[i + 1]!;
      headers[k] = k in headers ? `${headers[k]},${v}` : v;
      if (k.startsWith('x-resp-')) reply.push([k, `upstream-${v}`]);
    }
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ headers });
      res.writeHead(200, [...reply, ['content-length', String(Buffer.byteLength(body))]].flat() as unknown as Record<string, string>);
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let corpus: Corpus;
let envoy: Envoy;
let upstream: Server;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

before(async () => {
  corpus = generateCorpus(SEED, VS_COUNT, REQUESTS_PER_VS, GRPC_VS_COUNT, WEIGHTED_VS_COUNT);
  const pilot = await istioPilot(corpus.yaml, { namespace: NAMESPACE });
  upstream = await startUpstream();
  const { config, upstreams } = bootstrap(pilot, corpus, (upstream.address() as AddressInfo).port);
  envoy = await startEnvoy({ config, upstreams, timeoutMs: 60_000 });
});

after(async () => {
  agent.destroy();
  await envoy?.stop();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
});

async function run(url: string, r: DiffRequest, bucket: string): Promise<Outcome> {
  const headers: [string, string][] = [['host', r.authority], ...r.headers, [BUCKET_HEADER, bucket]];
  return outcome(await send(url, r.path, { method: r.method, headers, agent }));
}

function describe(d: Difference): string {
  const r = d.request;
  return (
    `vs${r.vs} ${r.method} ${r.authority}${r.path} ${JSON.stringify(r.headers)} differs in ${d.fields.join(', ')}\n` +
    `  pilot:    ${JSON.stringify(d.native)}\n  steering: ${JSON.stringify(d.steering)}\n  vs: ${JSON.stringify(corpus.virtualServices[r.vs])}`
  );
}

test(`steering and Istio's pilot route the same ${(VS_COUNT + GRPC_VS_COUNT + WEIGHTED_VS_COUNT) * REQUESTS_PER_VS} requests over ${VS_COUNT} HTTP, ${GRPC_VS_COUNT} gRPC and ${WEIGHTED_VS_COUNT} weighted (totals ≠ 100) VirtualServices alike (seed ${SEED})`, async () => {
  const differences: Difference[] = [];
  const byAccepted = new Map<string, number>();
  const kinds = new Map<string, number>();
  const count = (k: string) => kinds.set(k, (kinds.get(k) ?? 0) + 1);
  let next = 0;
  const worker = async () => {
    while (next < corpus.requests.length) {
      const i = next++;
      const r = corpus.requests[i]!;
      const total = corpus.totals[r.vs]!;
      const bucket = bucketValue(total, i % total);
      const native = await run(envoy.listeners.native!, r, bucket);
      const steering = await run(envoy.listeners[`vs${r.vs}`]!, r, bucket);
      // What pilot's side did, to show the corpus covers each outcome.
      // (%UPSTREAM_CLUSTER% prints pilot's alt_stat_name: the cluster name and ';'.)
      const cluster = native.cluster?.replace(/;$/, '') ?? null;
      count(
        cluster === null
          ? `local ${native.status}`
          : cluster.startsWith('outbound|80||')
            ? 'default cluster'
            : cluster.includes('|80|v')
              ? 'subset'
              : cluster,
      );
      if (total !== 100 && cluster !== null && cluster.includes('|80|'))
        count(`weighted ${cluster.includes('|80|v') ? 'subset' : 'other'}`);
      if (r.vs >= VS_COUNT && r.vs < VS_COUNT + GRPC_VS_COUNT) count(`grpc ${cluster === null ? `local ${native.status}` : 'upstream'}`);
      const aborted = native.responseHeaders['grpc-message'] === 'fault filter abort' || native.body === 'fault filter abort';
      if (aborted) count(`abort ${native.status} grpc-status ${native.responseHeaders['grpc-status'] ?? '-'}`);
      const fields = differingFields(native, steering);
      if (fields.length === 0) continue;
      const d: Difference = { request: r, native, steering, fields };
      const accepted = ACCEPTED.find((a) => differingFields(a.normalize(native), a.normalize(steering)).length === 0);
      if (accepted) byAccepted.set(accepted.name, (byAccepted.get(accepted.name) ?? 0) + 1);
      else differences.push(d);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  console.log(`# ${corpus.requests.length} requests; pilot's side: ${JSON.stringify(Object.fromEntries([...kinds].sort()))}`);
  console.log(`# accepted differences: ${JSON.stringify(Object.fromEntries(byAccepted))}; unlisted: ${differences.length}`);
  assert.equal(
    differences.length,
    0,
    `${differences.length} unlisted differences; the first:\n${differences.slice(0, 8).map(describe).join('\n')}`,
  );
  // The corpus must keep exercising every outcome (a generator change could make the comparison trivial).
  for (const [kind, least] of [
    ['subset', 500],
    ['default cluster', 100],
    ['local 404', 50],
    ['PassthroughCluster', 100],
  ] as const) {
    assert.ok((kinds.get(kind) ?? 0) >= least, `only ${kinds.get(kind) ?? 0} requests ended as ${kind}`);
  }
  assert.ok(
    [...kinds.keys()].some((k) => /^local (418|429|503)$/.test(k)),
    'no fault abort in the corpus',
  );
  // Totals other than 100: requests of the weighted VirtualServices spread over their subsets.
  assert.ok((kinds.get('weighted subset') ?? 0) >= 400, `only ${kinds.get('weighted subset') ?? 0} weighted requests reached a subset`);
  // gRPC: calls reaching an upstream, gRPC-ified local replies, and aborts with a gRPC status (HTTP 200).
  assert.ok((kinds.get('grpc upstream') ?? 0) >= 300, `only ${kinds.get('grpc upstream') ?? 0} gRPC requests reached an upstream`);
  assert.ok(
    [...kinds.keys()].some((k) => /^abort 200 grpc-status (?!0$)[0-9]+$/.test(k)),
    'no abort with a gRPC status in the corpus',
  );
});
