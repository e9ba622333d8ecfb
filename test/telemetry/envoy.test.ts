// Telemetry filter in real Envoy 1.40: a source-mode sidecar (workload sleep) in front of a
// destination-mode sidecar (workload productpage-v1) in front of the echo upstreams, plus direct
// callers of the destination sidecar. Checks exact counters and histogram sample counts and label
// values on /stats/prometheus (through the stats_tags rules of envoy/sidecar.yaml), promtool (or
// the strict exposition parser), the JSON access log lines, and the peer header stripping.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { loadBootstrap } from '../../host/envoy/config.ts';
import { statsTags } from '../../filters/manifest.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import {
  parseExposition,
  select,
  total,
  prometheusWhen,
  peerHeader,
  checkExposition,
  destinationLabels,
  NODE_PRODUCTPAGE,
  SLEEP,
  RATINGS,
  ISTIO_NAME_LINT,
  STATS_FLUSH_MS,
} from './helpers.ts';

const NODE_SLEEP = { WORKLOAD_NAME: 'sleep', NAMESPACE: 'default', CLUSTER_ID: 'Kubernetes', LABELS: { app: 'sleep', version: 'v1' } };
const node = (metadata: object, id: string) => ({ id, cluster: id, metadata });

/** The filter's access log lines (JSON) from Envoy's log. */
function accessLog(envoy: Envoy): Record<string, unknown>[] {
  return envoy
    .logs()
    .split('\n')
    .map((l) => /wasm log telemetry telemetry telemetry: (\{.*\})$/.exec(l)?.[1])
    .filter((j): j is string => j !== undefined)
    .map((j) => JSON.parse(j) as Record<string, unknown>);
}

let upstreams: Upstreams;
let destination: Envoy;
let source: Envoy;

before(async () => {
  upstreams = await Upstreams.start();
  destination = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [{ name: 'telemetry', config: { reporter: 'destination' } }],
    upstreams: upstreams.endpoints(),
    node: node(NODE_PRODUCTPAGE, 'productpage'),
  });
  const port = Number(new URL(destination.listenerUrl).port);
  source = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [{ name: 'telemetry', config: { reporter: 'source' } }],
    upstreams: { 'outbound|80||service_b': { host: '127.0.0.1', port } },
    node: node(NODE_SLEEP, 'sleep'),
  });
});

after(async () => {
  await source?.stop();
  await destination?.stop();
  await upstreams?.close();
});

test('the shipped stats_tags rules are in envoy/sidecar.yaml and the rendered bootstrap', () => {
  const tags = (loadBootstrap().stats_config as { stats_tags: { tag_name: string }[] }).stats_tags.map((t) => t.tag_name);
  assert.ok(tags.includes('reporter') && tags.includes('source_workload') && tags.includes('connection_security_policy'));
  assert.equal(destination.bootstrap.stats_config.stats_tags.length, tags.length);
});

test('Envoy: a known mix through a source sidecar and direct callers gives exact metrics, labels, access logs; peer header stripped', async (t) => {
  const via = (status: number) =>
    source.request('/info', {
      headers: {
        host: 'service_b',
        'x-echo-status': String(status),
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
    });
  const direct = (status: number, peer?: string) =>
    destination.request('/data', {
      headers: { host: 'service_b', 'x-echo-status': String(status), ...(peer === undefined ? {} : { 'x-asmesh-peer': peer }) },
    });
  const echo = upstreams.get('outbound|80||service_b').service;
  const seenBefore = echo.requests.length;
  const mix: [string, number, number, (s: number) => Promise<{ status: number; headers: Record<string, string> }>][] = [
    ['sleep', 200, 3, via],
    ['sleep', 404, 2, via],
    ['sleep', 503, 1, via],
    ['ratings-v2', 200, 2, (s) => direct(s, peerHeader(RATINGS))],
    ['ratings-v2', 503, 1, (s) => direct(s, peerHeader(RATINGS))],
    ['unknown', 200, 1, (s) => direct(s)],
  ];
  for (const [who, status, n, send] of mix) {
    for (let i = 0; i < n; i++) {
      const reply = await send(status);
      assert.equal(reply.status, status);
      if (who === 'ratings-v2')
        assert.match(reply.headers['x-asmesh-peer'] ?? '', /^[A-Za-z0-9+/=]+$/, 'destination answers mesh callers with its identity');
      else assert.equal(reply.headers['x-asmesh-peer'], undefined, `${who}: no peer header reaches the client`);
    }
  }
  // The echo upstream saw 10 requests, none carrying the peer header.
  const seen = echo.requests.slice(seenBefore);
  assert.equal(seen.length, 10);
  for (const r of seen) assert.equal(r.headers['x-asmesh-peer'], undefined);

  // Destination sidecar: every series exact, counters and histogram sample counts.
  const { text, exp } = await prometheusWhen(
    destination,
    (e) => total(e, 'istio_request_duration_milliseconds_count') === 10 && total(e, 'istio_response_bytes_count') === 10,
  );
  for (const [who, status, n] of mix) {
    const match = { source_workload: who, response_code: String(status) };
    assert.equal(total(exp, 'istio_requests_total', match), n, JSON.stringify(match));
    assert.equal(select(exp, 'istio_requests_total', match).length, 1);
    for (const h of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
      assert.equal(total(exp, `${h}_count`, match), n, `${h} ${JSON.stringify(match)}`);
    }
  }
  assert.equal(total(exp, 'istio_requests_total'), 10);
  const [s404] = select(exp, 'istio_requests_total', { source_workload: 'sleep', response_code: '404' });
  assert.deepEqual(s404!.labels, destinationLabels(SLEEP, 404));
  assert.equal(select(exp, 'istio_requests_total', { source_workload: 'ratings-v2' })[0]!.labels.source_workload_namespace, 'test');
  // Request sizes as Envoy counts them (request.total_size): every request has some bytes.
  assert.equal(total(exp, 'istio_request_bytes_bucket', { le: '0.5' }), 0);
  // promtool parses the whole page; lint is checked on our families only (Envoy's own counters lack `_total`).
  const lints = checkExposition(t, text, (l) => /^(istio|asmesh)_/.test(l));
  if (lints !== null) assert.deepEqual(lints, [ISTIO_NAME_LINT]);
  else assert.ok(parseExposition(text));

  // Source sidecar: it learned the destination workload from the response's peer header.
  const src = await prometheusWhen(source, (e) => total(e, 'istio_request_duration_milliseconds_count') === 6);
  assert.equal(
    total(src.exp, 'istio_requests_total', {
      reporter: 'source',
      source_workload: 'sleep',
      destination_workload: 'productpage-v1',
      response_code: '200',
    }),
    3,
  );
  assert.equal(
    total(src.exp, 'istio_requests_total', { reporter: 'source', destination_workload: 'productpage-v1', response_code: '404' }),
    2,
  );
  assert.equal(
    total(src.exp, 'istio_requests_total', { reporter: 'source', destination_workload: 'productpage-v1', response_code: '503' }),
    1,
  );
  assert.equal(select(src.exp, 'istio_requests_total')[0]!.labels.destination_service_name, 'service_b');

  // Access log: one JSON line per request on each sidecar.
  const lines = accessLog(destination);
  assert.equal(lines.length, 10);
  const first = lines[0]!;
  assert.match(first.start_time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(first.start_time as string) - Date.now()) < 120_000);
  assert.equal(first.method, 'GET');
  assert.equal(first.path, '/info');
  assert.equal(first.protocol, 'HTTP/1.1');
  assert.equal(first.response_code, 200);
  assert.equal(first.response_flags, '-');
  assert.equal(first.upstream_cluster, 'outbound|80||service_b');
  assert.match(first.upstream_host as string, /^127\.0\.0\.1:\d+$/);
  assert.equal(first.source_workload, 'sleep');
  assert.equal(first.destination_workload, 'productpage-v1');
  assert.equal(first.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(first.span_id, '00f067aa0ba902b7');
  assert.equal(typeof first.request_id, 'string', 'Envoy generates x-request-id');
  // Body bytes, as Envoy's %BYTES_RECEIVED% / %BYTES_SENT% (test/telemetry/envoy-istio.test.ts compares them).
  assert.equal(first.bytes_received, 0);
  assert.ok((first.bytes_sent as number) > 0);
  assert.equal(typeof first.duration, 'number');
  assert.deepEqual(
    lines.map((l) => l.response_code),
    [200, 200, 200, 404, 404, 503, 200, 200, 503, 200],
  );
  const srcLines = accessLog(source);
  assert.equal(srcLines.length, 6);
  assert.equal(srcLines[0]!.destination_workload, 'productpage-v1');
});

test('Envoy: the cardinality cap folds new label sets into `other` and counts them', async () => {
  const envoy = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [{ name: 'telemetry', config: { maxLabelSets: 2, accessLog: { enabled: false } } }],
    upstreams: upstreams.endpoints(),
    node: node(NODE_PRODUCTPAGE, 'productpage'),
  });
  try {
    for (let i = 0; i < 5; i++) {
      const reply = await envoy.request('/', {
        headers: { host: 'service_b', 'x-asmesh-peer': peerHeader({ ...RATINGS, workload: `w${i}` }) },
      });
      assert.equal(reply.status, 200);
    }
    assert.equal(await envoy.metric('asmesh_telemetry_overflow_total'), 3);
    const { exp } = await prometheusWhen(envoy, (e) => total(e, 'istio_request_duration_milliseconds_count') === 5);
    assert.deepEqual(
      select(exp, 'istio_requests_total')
        .map((s) => `${s.labels.source_workload}=${s.value}`)
        .sort(),
      ['other=3', 'w0=1', 'w1=1'],
    );
    assert.equal(total(exp, 'istio_request_duration_milliseconds_count', { source_workload: 'other' }), 3);
    assert.equal(accessLog(envoy).length, 0);
  } finally {
    await envoy.stop();
  }
});

test('Envoy: custom dimensions reach /stats/prometheus with one more stats_tags rule; removed labels are gone; a disabled metric is absent', async (t) => {
  const rules = statsTags(['user_tier']);
  const envoy = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [
      {
        name: 'telemetry',
        config: {
          accessLog: { enabled: false },
          metrics: [
            {
              overrides: [
                {
                  tagOverrides: {
                    user_tier: { value: "request.headers['x-tier']" },
                    destination_cluster: { value: "'east'" },
                    source_cluster: { operation: 'REMOVE' },
                  },
                },
                { match: { metric: 'REQUEST_SIZE' }, disabled: true },
              ],
            },
          ],
        },
      },
    ],
    upstreams: upstreams.endpoints(),
    node: node(NODE_PRODUCTPAGE, 'productpage'),
    statsTags: rules,
  });
  try {
    for (const tier of ['gold', 'gold', 'silver;x=y']) {
      assert.equal(
        (await envoy.request('/', { headers: { host: 'service_b', 'x-tier': tier, 'x-asmesh-peer': peerHeader(RATINGS) } })).status,
        200,
      );
    }
    const { text, exp } = await prometheusWhen(envoy, (e) => total(e, 'istio_response_bytes_count') === 3);
    assert.equal(total(exp, 'istio_requests_total', { user_tier: 'gold' }), 2);
    assert.equal(total(exp, 'istio_requests_total', { user_tier: 'silver_x_y' }), 1);
    assert.equal(total(exp, 'istio_request_duration_milliseconds_count', { user_tier: 'gold' }), 2);
    const [gold] = select(exp, 'istio_requests_total', { user_tier: 'gold' });
    assert.equal(gold!.labels.destination_cluster, 'east');
    assert.equal('source_cluster' in gold!.labels, false);
    assert.equal(gold!.labels.source_workload, 'ratings-v2');
    assert.equal(exp.types.has('istio_request_bytes'), false);
    const lints = checkExposition(t, text, (l) => /^(istio|asmesh)_/.test(l));
    if (lints !== null) assert.deepEqual(lints, [ISTIO_NAME_LINT]);
  } finally {
    await envoy.stop();
  }
});
