// Our series against what Istio's own stats filter would emit for the same traffic, in real Envoy 1.40.
// Istio's filter (istio/proxy source/extensions/filters/http/istio_stats/istio_stats.cc) does not run
// in stock Envoy, so `istioLabels` below restates its label computation for the cases this traffic
// exercises (no Istio cluster metadata, plaintext, peer metadata from the exchange); label names and
// values as istio.io "Istio Standard Metrics" documents them, and its histogram buckets (Istio sets no
// histogram_bucket_settings unless the sidecar.istio.io/statsHistogramBuckets annotation asks:
// Envoy's defaults). Accepted differences are in docs/DESIGN.md ("telemetry").
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { select, total, prometheusWhen, peerHeader, NODE_PRODUCTPAGE, SLEEP, RATINGS, type Peer, STATS_FLUSH_MS } from './helpers.ts';

/** The tags of Istio's stats filter for HTTP (its all_tags_ list, 25 names). */
const ISTIO_TAGS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_cluster',
  'request_protocol',
  'response_flags',
  'connection_security_policy',
  'response_code',
  'grpc_response_status',
].sort();

/** Envoy's default histogram buckets (what Istio's histograms use by default), then +Inf. */
const ENVOY_DEFAULT_BUCKETS = [
  '0.5',
  '1',
  '5',
  '10',
  '25',
  '50',
  '100',
  '250',
  '500',
  '1000',
  '2500',
  '5000',
  '10000',
  '30000',
  '60000',
  '300000',
  '600000',
  '1800000',
  '3600000',
  '+Inf',
];

interface Node {
  WORKLOAD_NAME: string;
  NAMESPACE: string;
  CLUSTER_ID: string;
  LABELS: Record<string, string>;
}
const NODE_SLEEP: Node = {
  WORKLOAD_NAME: 'sleep',
  NAMESPACE: 'default',
  CLUSTER_ID: 'Kubernetes',
  LABELS: { app: 'sleep', version: 'v1' },
};

/**
 * Istio's canonical service/revision of a workload as its injector labels the pod (istio/istio
 * pkg/config/labels CanonicalService): the stats filter then reads service.istio.io/canonical-name/-revision.
 */
function canonical(labels: Record<string, string>, workload: string): [string, string] {
  const first = (keys: string[], fallback: string) => keys.map((k) => labels[k]).find((v) => v !== undefined) ?? fallback;
  return [
    first(['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app'], workload),
    first(['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version'], 'latest'),
  ];
}

interface Request {
  host: string;
  code: number;
  grpc: string | null;
  flags: string;
}

/** istio_stats.cc populatePeerInfo + log for a plaintext request without Istio cluster metadata. */
function istioLabels(reporter: 'source' | 'destination', node: Node, peer: Peer | null, r: Request): Record<string, string> {
  const [localService, localRevision] = canonical(node.LABELS, node.WORKLOAD_NAME);
  const local = {
    workload: node.WORKLOAD_NAME,
    namespace: node.NAMESPACE,
    app: node.LABELS.app ?? '',
    version: node.LABELS.version ?? '',
    cluster: node.CLUSTER_ID,
    service: localService,
    revision: localRevision,
  };
  const or = (v: string | undefined, d: string) => (v === undefined || v === '' ? d : v);
  const remote = {
    workload: or(peer?.workload, 'unknown'),
    namespace: or(peer?.namespace, 'unknown'),
    app: or(peer?.app, 'unknown'),
    version: or(peer?.version, 'unknown'),
    cluster: or(peer?.cluster, 'unknown'),
    service: or(peer?.service, 'unknown'),
    revision: or(peer?.revision, 'latest'),
  };
  const [src, dst] = reporter === 'destination' ? [remote, local] : [local, remote];
  return {
    reporter,
    source_workload: src.workload,
    source_workload_namespace: src.namespace,
    source_principal: 'unknown',
    source_app: src.app,
    source_version: src.version,
    source_canonical_service: src.service,
    source_canonical_revision: src.revision,
    source_cluster: src.cluster,
    destination_workload: dst.workload,
    destination_workload_namespace: dst.namespace,
    destination_principal: 'unknown',
    destination_app: dst.app,
    destination_version: dst.version,
    // Without cluster metadata: the Host header (no port here) for both.
    destination_service: r.host,
    destination_service_name: r.host,
    // Destination reporter: its own namespace; source reporter: the peer's.
    destination_service_namespace: reporter === 'destination' ? node.NAMESPACE : remote.namespace,
    destination_canonical_service: dst.service,
    destination_canonical_revision: dst.revision,
    destination_cluster: dst.cluster,
    request_protocol: r.grpc === null ? 'http' : 'grpc',
    response_flags: r.flags,
    // Plaintext: none on the server side; a client sidecar never sets it (unknown).
    connection_security_policy: reporter === 'destination' ? 'none' : 'unknown',
    response_code: String(r.code),
    grpc_response_status: r.grpc ?? '',
  };
}

const node = (metadata: Node, id: string) => ({ id, cluster: id, metadata });
let upstreams: Upstreams;
let destination: Envoy;
let source: Envoy;

before(async () => {
  upstreams = await Upstreams.start();
  destination = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [{ name: 'telemetry', config: { accessLog: { enabled: false } } }],
    upstreams: upstreams.endpoints(),
    node: node(NODE_PRODUCTPAGE, 'productpage'),
  });
  source = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [{ name: 'telemetry', config: { reporter: 'source', accessLog: { enabled: false } } }],
    upstreams: { 'outbound|80||service_b': { host: '127.0.0.1', port: Number(new URL(destination.listenerUrl).port) } },
    node: node(NODE_SLEEP, 'sleep'),
  });
});

after(async () => {
  await source?.stop();
  await destination?.stop();
  await upstreams?.close();
});

test("Envoy: the same traffic gives the series Istio's stats filter would: its 25 label names, its values, its buckets", async () => {
  const { service: _s, revision: _r, ...ratingsWithoutCanonical } = RATINGS;
  // [who sends, peer announced, status, gRPC content type, times]
  const mix: [Envoy, Peer | null, number, boolean, number][] = [
    [destination, SLEEP, 200, false, 2],
    [destination, ratingsWithoutCanonical, 404, false, 1],
    [destination, null, 503, false, 1],
    [destination, SLEEP, 200, true, 1],
    [source, null, 200, false, 2],
    [source, null, 503, false, 1],
  ];
  const expected = { destination: new Map<string, number>(), source: new Map<string, number>() };
  const add = (m: Map<string, number>, labels: Record<string, string>, n: number) => {
    const key = JSON.stringify(Object.entries(labels).sort());
    m.set(key, (m.get(key) ?? 0) + n);
  };
  for (const [via, peer, code, grpc, n] of mix) {
    for (let i = 0; i < n; i++) {
      const headers: Record<string, string> = { host: 'service_b', 'x-echo-status': String(code) };
      if (peer !== null) headers['x-asmesh-peer'] = peerHeader(peer);
      if (grpc) headers['content-type'] = 'application/grpc';
      assert.equal((await via.request('/info', { method: grpc ? 'POST' : 'GET', headers })).status, code);
    }
    // The echo answers JSON without grpc-status: Envoy infers UNKNOWN (2) from HTTP 200.
    const r = { host: 'service_b', code, grpc: grpc ? '2' : null, flags: '-' };
    if (via === destination) add(expected.destination, istioLabels('destination', NODE_PRODUCTPAGE, peer, r), n);
    else {
      // Through the source sidecar: the destination sidecar sees the source's identity, the source learns the destination's.
      add(
        expected.source,
        istioLabels(
          'source',
          NODE_SLEEP,
          {
            workload: 'productpage-v1',
            namespace: 'default',
            app: 'productpage',
            version: 'v1',
            cluster: 'Kubernetes',
            service: 'productpage',
            revision: 'v1',
          },
          r,
        ),
        n,
      );
      add(
        expected.destination,
        istioLabels(
          'destination',
          NODE_PRODUCTPAGE,
          {
            ...NODE_SLEEP.LABELS,
            workload: 'sleep',
            namespace: 'default',
            cluster: 'Kubernetes',
            service: 'sleep',
            revision: 'v1',
          } as Peer,
          r,
        ),
        n,
      );
    }
  }
  for (const [envoy, want] of [
    [destination, expected.destination],
    [source, expected.source],
  ] as const) {
    const count = [...want.values()].reduce((a, b) => a + b, 0);
    const { exp } = await prometheusWhen(
      envoy,
      (e) => total(e, 'istio_request_duration_milliseconds_count') === count && total(e, 'istio_response_bytes_count') === count,
    );
    const got = new Map(select(exp, 'istio_requests_total').map((s) => [JSON.stringify(Object.entries(s.labels).sort()), s.value]));
    assert.deepEqual(got, want);
    for (const s of select(exp, 'istio_requests_total')) assert.deepEqual(Object.keys(s.labels).sort(), ISTIO_TAGS);
    for (const h of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
      const buckets = select(exp, `${h}_bucket`);
      const first = JSON.stringify(
        Object.entries(buckets[0]!.labels)
          .filter(([k]) => k !== 'le')
          .sort(),
      );
      assert.deepEqual(
        buckets
          .filter(
            (b) =>
              JSON.stringify(
                Object.entries(b.labels)
                  .filter(([k]) => k !== 'le')
                  .sort(),
              ) === first,
          )
          .map((b) => b.labels.le),
        ENVOY_DEFAULT_BUCKETS,
        h,
      );
      assert.equal(total(exp, `${h}_count`), count);
    }
    // Message counters only for gRPC requests (their counts against Envoy's grpc_stats: envoy-istio.test.ts).
    for (const s of [...select(exp, 'istio_request_messages_total'), ...select(exp, 'istio_response_messages_total')])
      assert.equal(s.labels.request_protocol, 'grpc');
  }
});
