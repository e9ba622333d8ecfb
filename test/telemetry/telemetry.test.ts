// Telemetry filter in the harness: Istio standard metrics with exact counts and labels, the
// Prometheus exposition through the shipped stats_tags rules, peer metadata exchange, custom
// dimensions, the cardinality cap, the JSON access log, and configuration errors.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { loadPlugin, type Plugin, type HttpRequestSpec } from '../../host/harness/index.ts';
import { JWT_PAYLOAD_STATE } from '../../assembly/lib/contracts.ts';
import {
  telemetryWasm,
  statsTags,
  parseExposition,
  select,
  total,
  peerHeader,
  checkExposition,
  destinationLabels,
  NODE_PRODUCTPAGE,
  SLEEP,
  RATINGS,
  ISTIO_NAME_LINT,
  type Peer,
} from './helpers.ts';

const AUTHORITY = 'productpage.default.svc.cluster.local:9080';

async function load(config: object = {}, metadata: object = NODE_PRODUCTPAGE): Promise<Plugin> {
  return loadPlugin(telemetryWasm, {
    config,
    pluginName: 'telemetry',
    rootId: 'telemetry',
    vmId: 'telemetry',
    node: { id: 'n', metadata: metadata as Record<string, unknown> },
    nowMs: Date.UTC(2026, 10, 25, 12, 0, 0, 250),
  });
}

function request(
  plugin: Plugin,
  opts: {
    peer?: Peer | string;
    status?: number;
    path?: string;
    delayMs?: number;
    headers?: Record<string, string>;
    properties?: HttpRequestSpec['properties'];
    body?: string;
    responseHeaders?: Record<string, string>;
    responseBody?: string;
  },
) {
  const headers: Record<string, string> = {
    ':method': 'GET',
    ':path': opts.path ?? '/info',
    ':authority': AUTHORITY,
    'user-agent': 'curl/8',
    'x-request-id': 'rid-1',
    ...opts.headers,
  };
  if (opts.peer !== undefined) headers['x-asmesh-peer'] = typeof opts.peer === 'string' ? opts.peer : peerHeader(opts.peer);
  return plugin.http({
    headers,
    properties: opts.properties,
    body: opts.body,
    upstream: () => {
      if (opts.delayMs) plugin.advance(opts.delayMs);
      return {
        status: opts.status ?? 200,
        headers: { 'content-type': 'text/plain', ...opts.responseHeaders },
        body: opts.responseBody ?? 'ok',
      };
    },
  });
}

/** Access log lines (the filter's info lines that are JSON objects). */
function accessLog(plugin: Plugin): Record<string, unknown>[] {
  return plugin
    .logsAt('info')
    .filter((m) => m.startsWith('{'))
    .map((m) => JSON.parse(m) as Record<string, unknown>);
}

test('build/telemetry.wasm exists (npm run build)', () => {
  assert.ok(existsSync(telemetryWasm), `${telemetryWasm} is missing: run npm run build (asmesh build telemetry)`);
});

test('destination reporter: a known mix of requests from two callers gives exact counters, histogram counts and labels', async (t) => {
  const plugin = await load();
  const mix: [Peer | undefined, number, number][] = [
    [SLEEP, 200, 3],
    [SLEEP, 404, 2],
    [SLEEP, 503, 1],
    [RATINGS, 200, 2],
    [RATINGS, 503, 1],
    [undefined, 200, 1],
  ];
  for (const [peer, status, n] of mix) for (let i = 0; i < n; i++) await request(plugin, { peer, status, delayMs: 25 });
  const text = plugin.prometheus(statsTags());
  const exp = parseExposition(text);
  assert.equal(exp.types.get('istio_requests_total'), 'counter');
  assert.equal(exp.types.get('istio_request_duration_milliseconds'), 'histogram');
  assert.equal(exp.types.get('istio_request_bytes'), 'histogram');
  assert.equal(exp.types.get('istio_response_bytes'), 'histogram');
  for (const [peer, status, n] of mix) {
    const match = { source_workload: peer?.workload ?? 'unknown', response_code: String(status) };
    assert.equal(total(exp, 'istio_requests_total', match), n, JSON.stringify(match));
    assert.equal(select(exp, 'istio_requests_total', match).length, 1);
    for (const h of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
      assert.equal(total(exp, h + '_count', match), n, `${h} ${JSON.stringify(match)}`);
    }
  }
  assert.equal(total(exp, 'istio_requests_total'), 10);
  // Every request took 25 ms of the fake clock: in the le=25 bucket, not in le=10.
  assert.equal(total(exp, 'istio_request_duration_milliseconds_bucket', { le: '25' }), 10);
  assert.equal(total(exp, 'istio_request_duration_milliseconds_bucket', { le: '10' }), 0);
  assert.equal(total(exp, 'istio_request_duration_milliseconds_sum'), 250);

  const [sleep404] = select(exp, 'istio_requests_total', { source_workload: 'sleep', response_code: '404' });
  assert.deepEqual(sleep404!.labels, destinationLabels(SLEEP, 404, { host: 'productpage.default.svc.cluster.local', name: 'productpage' }));
  const [ratings] = select(exp, 'istio_requests_total', { source_workload: 'ratings-v2', response_code: '503' });
  assert.equal(ratings!.labels.source_workload_namespace, 'test');
  assert.equal(ratings!.labels.source_app, 'ratings');
  assert.equal(ratings!.labels.source_version, 'v2');
  const [anonymous] = select(exp, 'istio_requests_total', { source_workload: 'unknown' });
  assert.equal(anonymous!.labels.source_app, 'unknown');
  // Byte sizes: headers + body as the harness counts them (Envoy reports request/response.total_size).
  assert.ok(total(exp, 'istio_response_bytes_sum') > 10 * 2);
  // promtool parses it; its only lint beyond Envoy's missing HELP lines is Istio's own metric name.
  const lints = checkExposition(t, text);
  if (lints !== null) assert.deepEqual(lints, [ISTIO_NAME_LINT]);
});

test('destination reporter: the peer header is stripped before the upstream and answered only to mesh callers', async () => {
  const plugin = await load();
  const r = await request(plugin, { peer: SLEEP });
  assert.equal(
    r.upstreamRequest!.headers.find(([k]) => k === 'x-asmesh-peer'),
    undefined,
  );
  const answer = r.response.headers.find(([k]) => k === 'x-asmesh-peer');
  assert.ok(answer, 'the response announces the destination workload');
  assert.deepEqual(JSON.parse(Buffer.from(answer[1], 'base64').toString()), {
    workload: 'productpage-v1',
    namespace: 'default',
    app: 'productpage',
    version: 'v1',
    cluster: 'Kubernetes',
    service: 'productpage',
    revision: 'v1',
  });
  const plain = await request(plugin, {});
  assert.equal(
    plain.response.headers.find(([k]) => k === 'x-asmesh-peer'),
    undefined,
  );
  // A malformed peer header is stripped too, and the caller stays unknown.
  const bad = await request(plugin, { peer: 'not base64 !!' });
  assert.equal(
    bad.upstreamRequest!.headers.find(([k]) => k === 'x-asmesh-peer'),
    undefined,
  );
  assert.equal(
    bad.response.headers.find(([k]) => k === 'x-asmesh-peer'),
    undefined,
  );
  const notJson = await request(plugin, { peer: Buffer.from('[1,2]').toString('base64') });
  assert.equal(
    notJson.upstreamRequest!.headers.find(([k]) => k === 'x-asmesh-peer'),
    undefined,
  );
  const exp = parseExposition(plugin.prometheus(statsTags()));
  assert.equal(total(exp, 'istio_requests_total', { source_workload: 'sleep' }), 1);
  assert.equal(total(exp, 'istio_requests_total', { source_workload: 'unknown' }), 3);
});

test('source reporter: destination_principal is the upstream peer certificate URI SAN, not the downstream one', async () => {
  const plugin = await load({ reporter: 'source' }, { WORKLOAD_NAME: 'sleep', NAMESPACE: 'default' });
  await request(plugin, {
    headers: { ':authority': 'reviews:9080' },
    properties: {
      'xds.cluster_name': 'outbound|9080||reviews.bookinfo.svc.cluster.local',
      // The app's connection to its sidecar, were it TLS, names the app, not the server.
      'connection.mtls': true,
      'connection.uri_san_peer_certificate': 'spiffe://cluster.local/ns/default/sa/sleep',
      'upstream.uri_san_peer_certificate': 'spiffe://cluster.local/ns/bookinfo/sa/reviews',
    },
  });
  const [s] = select(parseExposition(plugin.prometheus(statsTags())), 'istio_requests_total');
  assert.equal(s!.labels.destination_principal, 'spiffe://cluster.local/ns/bookinfo/sa/reviews');
  assert.equal(s!.labels.connection_security_policy, 'unknown');
  assert.equal(accessLog(plugin)[0]!.destination_principal, 'spiffe://cluster.local/ns/bookinfo/sa/reviews');
});

test('source reporter: adds our identity to requests, learns the destination from the response and strips it', async () => {
  const plugin = await load(
    { reporter: 'source' },
    { WORKLOAD_NAME: 'sleep', NAMESPACE: 'default', CLUSTER_ID: 'Kubernetes', LABELS: { app: 'sleep', version: 'v1' } },
  );
  const properties = { 'xds.cluster_name': 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local', 'upstream.address': '10.0.0.7:9080' };
  const r = await request(plugin, {
    headers: { ':authority': 'reviews:9080' },
    properties,
    responseHeaders: {
      'x-asmesh-peer': peerHeader({ workload: 'reviews-v1', namespace: 'bookinfo', app: 'reviews', version: 'v1', cluster: 'east' }),
    },
  });
  const sent = r.upstreamRequest!.headers.find(([k]) => k === 'x-asmesh-peer');
  assert.ok(sent);
  // The node's metadata above, as the SLEEP fixture states it (service and revision from app and version).
  assert.deepEqual(JSON.parse(Buffer.from(sent[1], 'base64').toString()), SLEEP);
  assert.equal(
    r.response.headers.find(([k]) => k === 'x-asmesh-peer'),
    undefined,
  );
  const exp = parseExposition(plugin.prometheus(statsTags()));
  const [s] = select(exp, 'istio_requests_total');
  assert.equal(s!.value, 1);
  assert.equal(s!.labels.reporter, 'source');
  assert.equal(s!.labels.source_workload, 'sleep');
  assert.equal(s!.labels.destination_workload, 'reviews-v1');
  assert.equal(s!.labels.destination_workload_namespace, 'bookinfo');
  assert.equal(s!.labels.destination_cluster, 'east');
  assert.equal(s!.labels.destination_service, 'reviews.bookinfo.svc.cluster.local');
  assert.equal(s!.labels.destination_service_name, 'reviews');
  assert.equal(s!.labels.destination_service_namespace, 'bookinfo');
  assert.equal(s!.labels.connection_security_policy, 'unknown');
  // A plaintext upstream (no upstream.uri_san_peer_certificate): the server's identity is unknown.
  assert.equal(s!.labels.destination_principal, 'unknown');
  // Istio's defaults for a peer that announced no canonical service/revision; ours from the node's labels.
  assert.equal(s!.labels.destination_canonical_service, 'unknown');
  assert.equal(s!.labels.destination_canonical_revision, 'latest');
  assert.equal(s!.labels.source_canonical_service, 'sleep');
  assert.equal(s!.labels.source_canonical_revision, 'v1');
  const [line] = accessLog(plugin);
  assert.equal(line!.upstream_cluster, 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local');
  assert.equal(line!.upstream_host, '10.0.0.7:9080');
  assert.equal(line!.destination_workload, 'reviews-v1');
});

test('mTLS: principals from the certificates, connection_security_policy mutual_tls; gRPC status and response flags', async () => {
  const plugin = await load();
  await request(plugin, {
    peer: SLEEP,
    headers: { 'content-type': 'application/grpc' },
    responseHeaders: { 'grpc-status': '14' },
    properties: {
      'connection.mtls': true,
      'connection.uri_san_peer_certificate': 'spiffe://cluster.local/ns/default/sa/sleep',
      'connection.uri_san_local_certificate': 'spiffe://cluster.local/ns/default/sa/productpage',
      'response.flags': 2 | 32, // UH | UF
    },
  });
  const exp = parseExposition(plugin.prometheus(statsTags()));
  const [s] = select(exp, 'istio_requests_total');
  assert.equal(s!.labels.source_principal, 'spiffe://cluster.local/ns/default/sa/sleep');
  assert.equal(s!.labels.destination_principal, 'spiffe://cluster.local/ns/default/sa/productpage');
  assert.equal(s!.labels.connection_security_policy, 'mutual_tls');
  assert.equal(s!.labels.request_protocol, 'grpc');
  assert.equal(s!.labels.grpc_response_status, '14');
  assert.equal(s!.labels.response_flags, 'UH,UF');
  const [line] = accessLog(plugin);
  assert.equal(line!.response_flags, 'UH,UF');
  assert.equal(line!.source_principal, 'spiffe://cluster.local/ns/default/sa/sleep');
});

test('custom dimensions: upsert from request/response headers, a JWT claim and a constant; remove a label; disable a metric', async () => {
  const config = {
    metrics: [
      {
        providers: [{ name: 'prometheus' }],
        overrides: [
          {
            match: { metric: 'ALL_METRICS', mode: 'CLIENT_AND_SERVER' },
            tagOverrides: {
              user_tier: { operation: 'UPSERT', value: "request.headers['x-tier']" },
              cache: { value: 'response.headers["x-cache"]' },
              subject: { value: "request.auth.claims['sub']" },
              mesh: { value: "'asmesh'" },
              destination_cluster: { value: "'overridden'" },
              source_cluster: { operation: 'REMOVE' },
            },
          },
          { match: { metric: 'REQUEST_SIZE' }, disabled: true },
          { match: { metric: 'REQUEST_COUNT', mode: 'CLIENT' }, tagOverrides: { client_only: { value: "'x'" } } },
          { match: { metric: 'REQUEST_COUNT' }, tagOverrides: { method: { value: 'request.method' } } },
        ],
      },
    ],
  };
  const plugin = await load(config);
  await request(plugin, {
    peer: SLEEP,
    headers: { 'x-tier': 'gold;reporter=evil' },
    responseHeaders: { 'x-cache': 'HIT' },
    properties: { [JWT_PAYLOAD_STATE]: JSON.stringify({ sub: 'alice@example.com', iss: 'https://issuer' }) },
  });
  await request(plugin, { peer: SLEEP });
  const extra = ['user_tier', 'cache', 'subject', 'mesh', 'client_only', 'method'];
  const exp = parseExposition(plugin.prometheus(statsTags(extra)));
  assert.equal(exp.types.has('istio_request_bytes'), false, 'REQUEST_SIZE is disabled');
  const series = select(exp, 'istio_requests_total');
  assert.equal(series.length, 2);
  const [gold] = select(exp, 'istio_requests_total', { cache: 'HIT' });
  // `;` and `=` cannot break out of a label value.
  assert.equal(gold!.labels.user_tier, 'gold_reporter_evil');
  assert.equal(gold!.labels.reporter, 'destination');
  assert.equal(gold!.labels.subject, 'alice@example.com');
  assert.equal(gold!.labels.mesh, 'asmesh');
  assert.equal(gold!.labels.destination_cluster, 'overridden');
  assert.equal(gold!.labels.method, 'GET');
  assert.equal('source_cluster' in gold!.labels, false);
  assert.equal('client_only' in gold!.labels, false, 'CLIENT mode does not apply to a destination reporter');
  const [plain] = select(exp, 'istio_requests_total', { cache: 'unknown' });
  assert.equal(plain!.labels.user_tier, 'unknown');
  assert.equal(plain!.labels.subject, 'unknown');
  const [duration] = select(exp, 'istio_request_duration_milliseconds_count', { cache: 'HIT' });
  assert.equal(duration!.value, 1);
  assert.equal('method' in duration!.labels, false, 'the method override applies to REQUEST_COUNT only');
});

test('cardinality cap: past maxLabelSets, label sets fold into `other` and are counted', async () => {
  const plugin = await load({ maxLabelSets: 3, accessLog: { enabled: false } });
  for (let i = 0; i < 7; i++) await request(plugin, { peer: { ...SLEEP, workload: `w${i}` } });
  await request(plugin, { peer: { ...SLEEP, workload: 'w1' } }); // known: not folded
  const exp = parseExposition(plugin.prometheus(statsTags()));
  const series = select(exp, 'istio_requests_total');
  assert.equal(series.length, 4);
  assert.deepEqual(series.map((s) => s.labels.source_workload).sort(), ['other', 'w0', 'w1', 'w2']);
  const [other] = select(exp, 'istio_requests_total', { source_workload: 'other' });
  assert.equal(other!.value, 4);
  assert.equal(other!.labels.reporter, 'destination');
  assert.equal(other!.labels.destination_workload, 'other');
  assert.equal(total(exp, 'istio_requests_total', { source_workload: 'w1' }), 2);
  assert.equal(total(exp, 'istio_request_duration_milliseconds_count', { source_workload: 'other' }), 4);
  assert.equal(plugin.metric('asmesh_telemetry_overflow_total'), 4);
  assert.equal(accessLog(plugin).length, 0, 'access log disabled');
});

test('cardinality cap holds memory: 2,000 label sets in at most 16 MB of Wasm memory, then flat for 4,000 more past the cap', async () => {
  // Each label set keeps its stat key and metric ids, not Counter/Histogram objects with their names
  // (those took 32 MB here). bench:telemetry-cardinality measures the same in Envoy.
  const plugin = await load({ maxLabelSets: 2000, accessLog: { enabled: false } });
  const send = async (from: number, to: number) => {
    for (let i = from; i < to; i++) await request(plugin, { peer: { ...SLEEP, workload: `client-${i}` } });
  };
  await send(0, 2000);
  const atCap = plugin.wasmMemoryBytes();
  assert.ok(atCap <= 16 * 1048576, `Wasm memory at the cap: ${atCap} bytes`);
  await send(2000, 6000);
  assert.equal(plugin.wasmMemoryBytes(), atCap, 'no growth past the cap');
  assert.equal(plugin.metric('asmesh_telemetry_overflow_total'), 4000);
  // The metric values themselves (the exposition of 2,001 label sets is ~90 MB to render and parse).
  const series = [...plugin.metrics()];
  const requests = series.filter(([name]) => name.endsWith(';istio_requests_total'));
  assert.equal(requests.length, 2001);
  assert.deepEqual(
    requests.filter(([name]) => name.includes(';source_workload=other;')).map(([, m]) => m.value),
    [4000],
  );
  const last = series.filter(
    ([name]) => name.includes(';source_workload=client-1999;') && name.endsWith(';istio_request_duration_milliseconds'),
  );
  assert.deepEqual(
    last.map(([, m]) => m.value),
    [1],
  );
});

test('access log: one JSON line per request with the default fields, trace ids from traceparent and b3', async () => {
  const plugin = await load();
  await request(plugin, {
    peer: SLEEP,
    status: 404,
    path: '/reviews/1?x=1',
    delayMs: 42,
    body: 'hello',
    headers: { ':method': 'POST', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  });
  await request(plugin, { headers: { 'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7', 'x-b3-spanid': 'e457b5a2e4d86bd1' } });
  await request(plugin, { headers: { b3: '80f198ee56343ba8-05e3ac9a4f6e3b90-1' } });
  await request(plugin, { headers: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' } });
  const lines = accessLog(plugin);
  assert.equal(lines.length, 4);
  const first = lines[0]!;
  assert.deepEqual(Object.keys(first), [
    'start_time',
    'method',
    'path',
    'protocol',
    'response_code',
    'response_flags',
    'bytes_received',
    'bytes_sent',
    'duration',
    'upstream_cluster',
    'upstream_host',
    'source_workload',
    'source_principal',
    'destination_workload',
    'destination_principal',
    'user_agent',
    'request_id',
    'trace_id',
    'span_id',
  ]);
  assert.equal(first.start_time, '2026-11-25T12:00:00.250Z');
  assert.equal(first.method, 'POST');
  assert.equal(first.path, '/reviews/1?x=1');
  assert.equal(first.protocol, 'HTTP/1.1');
  assert.equal(first.response_code, 404);
  assert.equal(first.response_flags, '-');
  assert.equal(first.duration, 42);
  assert.ok((first.bytes_received as number) >= 5);
  assert.equal(first.source_workload, 'sleep');
  assert.equal(first.destination_workload, 'productpage-v1');
  assert.equal(first.user_agent, 'curl/8');
  assert.equal(first.request_id, 'rid-1');
  assert.equal(first.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(first.span_id, '00f067aa0ba902b7');
  assert.equal(lines[1]!.trace_id, '80f198ee56343ba864fe8b2a57d3eff7');
  assert.equal(lines[1]!.span_id, 'e457b5a2e4d86bd1');
  assert.equal(lines[2]!.trace_id, '80f198ee56343ba8');
  assert.equal(lines[2]!.span_id, '05e3ac9a4f6e3b90');
  assert.equal(lines[3]!.trace_id, null, 'an all-zero trace id is invalid');
});

test('access log: configurable fields, and values with quotes and control characters stay valid JSON', async () => {
  const plugin = await load({
    accessLog: { fields: ['method', 'authority', 'user_agent', 'reporter', 'response_code_details', 'source_namespace'] },
  });
  await request(plugin, { peer: SLEEP, headers: { 'user-agent': 'evil "agent"\\\u0001' } });
  const [line] = accessLog(plugin);
  assert.deepEqual(line, {
    method: 'GET',
    authority: AUTHORITY,
    user_agent: 'evil "agent"\\\u0001',
    reporter: 'destination',
    response_code_details: null,
    source_namespace: 'default',
  });
});

test('bad configurations fail configure with a line naming the JSON path', async () => {
  const cases: [object | string, RegExp][] = [
    [{ reporter: 'client' }, /telemetry: config \$\.reporter: expected "source" or "destination", got "client"/],
    [{ maxLabelSets: 0 }, /telemetry: config \$\.maxLabelSets: 0 is outside \[1, 1000000\]/],
    [{ bogus: 1 }, /telemetry: config \$: unknown field "bogus"/],
    ['{"reporter":', /telemetry: config \$: invalid JSON/],
    [
      { metrics: [{ overrides: [{ match: { metric: 'TCP_OPENED_CONNECTIONS' } }] }] },
      /telemetry: config \$\.metrics\[0\]\.overrides\[0\]\.match\.metric: unsupported metric "TCP_OPENED_CONNECTIONS"/,
    ],
    [
      { metrics: [{ overrides: [{ match: { mode: 'BOTH' } }] }] },
      /\$\.metrics\[0\]\.overrides\[0\]\.match\.mode: expected CLIENT_AND_SERVER, CLIENT or SERVER, got "BOTH"/,
    ],
    [
      { metrics: [{ overrides: [{}, { tagOverrides: { x: { value: 'request.size + 1' } } }] }] },
      /\$\.metrics\[0\]\.overrides\[1\]\.tagOverrides\.x\.value: unsupported expression "request\.size \+ 1"/,
    ],
    [
      { metrics: [{ overrides: [{ tagOverrides: { 'bad-name': { value: "'v'" } } }] }] },
      /\$\.metrics\[0\]\.overrides\[0\]\.tagOverrides\.bad-name: invalid label name "bad-name"/,
    ],
    [
      { metrics: [{ overrides: [{ tagOverrides: { x: { operation: 'UPSERT' } } }] }] },
      /\$\.metrics\[0\]\.overrides\[0\]\.tagOverrides\.x\.value: required/,
    ],
    [
      { metrics: [{ overrides: [{ tagOverrides: { x: { operation: 'DELETE' } } }] }] },
      /\$\.metrics\[0\]\.overrides\[0\]\.tagOverrides\.x\.operation: expected UPSERT or REMOVE, got "DELETE"/,
    ],
    [{ accessLog: { fields: ['method', 'nope'] } }, /\$\.accessLog\.fields\[1\]: unknown access log field "nope"/],
    [{ accessLog: { enabled: 'yes' } }, /\$\.accessLog\.enabled: expected boolean, got string/],
    [{ accessLog: { writer: 'native' } }, /\$\.accessLog\.writer: expected "wasm" or "envoy", got "native"/],
    [{ accessLog: { writer: 'envoy', path: '' } }, /\$\.accessLog\.path: must not be empty/],
    [{ accessLog: { writer: 'envoy', path: 3 } }, /\$\.accessLog\.path: expected string, got number/],
  ];
  for (const [config, error] of cases) {
    await assert.rejects(load(config as object), error, JSON.stringify(config));
  }
});
