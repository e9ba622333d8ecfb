// Telemetry against Envoy's own accounting and Istio's stats filter, in real Envoy 1.40, same run:
// - bytes: the access log's bytes_received / bytes_sent equal Envoy's %BYTES_RECEIVED% / %BYTES_SENT%
//   (body bytes), and what istio_request_bytes / istio_response_bytes record (access log fields
//   request_total_size / response_total_size) equals Envoy's request.total_size / response.total_size
//   (%REQUEST_HEADERS_BYTES% + %BYTES_RECEIVED%, %RESPONSE_HEADERS_BYTES% + %BYTES_SENT% +
//   %RESPONSE_TRAILERS_BYTES%), for HTTP/1.1 and HTTP/2, bodies, local replies; the wire bytes
//   Istio's filter records (%DOWNSTREAM_WIRE_BYTES_*%) are printed beside them (docs/DESIGN.md);
// - gRPC: grpc_response_status and the access log's grpc_status equal Envoy's %GRPC_STATUS_NUMBER%
//   for trailers, trailers-only answers and local replies of earlier filters (authz 403 and 401,
//   steering's fault abort); istio_request_messages_total / istio_response_messages_total equal
//   the counts of Envoy's grpc_stats filter (the source of Istio's) on the same requests.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, createServer, constants, type ClientHttp2Session, type Http2Server } from 'node:http2';
import { connectionManagers } from '../../host/envoy/config.ts';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { ISSUER, jwks, makeKey } from '../../host/fixtures/jwt.ts';
import {
  select,
  prometheusWhen,
  statsTags,
  peerHeader,
  nativeAccessLog,
  NATIVE_LOG_ARGS,
  NODE_PRODUCTPAGE,
  SLEEP,
  STATS_FLUSH_MS,
} from './helpers.ts';

const NATIVE_FIELDS = [
  'REQ(:PATH)',
  'RESPONSE_CODE',
  'GRPC_STATUS_NUMBER',
  'BYTES_RECEIVED',
  'BYTES_SENT',
  'REQUEST_HEADERS_BYTES',
  'RESPONSE_HEADERS_BYTES',
  'RESPONSE_TRAILERS_BYTES',
  'DOWNSTREAM_WIRE_BYTES_RECEIVED',
  'DOWNSTREAM_WIRE_BYTES_SENT',
  'FILTER_STATE(envoy.filters.http.grpc_stats)',
  'RESPONSE_FLAGS',
];
const LOG_FIELDS = [
  'path',
  'response_code',
  'grpc_status',
  'bytes_received',
  'bytes_sent',
  'request_total_size',
  'response_total_size',
  'response_flags',
];

/** gRPC message framing: 1 flag byte, 4 bytes big-endian length, payload. */
function frames(sizes: number[]): Buffer {
  return Buffer.concat(
    sizes.map((n) => {
      const b = Buffer.alloc(5 + n, 0x61);
      b[0] = 0;
      b.writeUInt32BE(n, 1);
      return b;
    }),
  );
}

/** An h2c gRPC server: `/pkg.Svc/<method>` answers `x-reply` messages with grpc-status `x-grpc-status` (trailers), or trailers-only. */
async function grpcServer(): Promise<{ server: Http2Server; port: number }> {
  const server = createServer();
  server.on('stream', (stream, headers) => {
    stream.on('data', () => {});
    stream.on('end', () => {
      const status = String(headers['x-grpc-status'] ?? '0');
      if (headers['x-trailers-only'] === '1') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': status }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': status }));
      const sizes = String(headers['x-reply'] ?? '')
        .split(',')
        .filter((s) => s !== '')
        .map(Number);
      stream.end(frames(sizes));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

interface H2Reply {
  status: number;
  headers: Record<string, unknown>;
  trailers: Record<string, unknown>;
  body: Buffer;
}

function h2(session: ClientHttp2Session, headers: Record<string, string>, body?: Buffer): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let response: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    req.on('response', (h) => {
      response = h;
    });
    req.on('trailers', (t) => {
      trailers = t;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(response[':status']), headers: response, trailers, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

let upstreams: Upstreams;
let grpc: Awaited<ReturnType<typeof grpcServer>>;
let envoy: Envoy;
let session: ClientHttp2Session;
let badToken: string;

before(async () => {
  upstreams = await Upstreams.start();
  grpc = await grpcServer();
  const rsa = await makeKey('RS256', 'rsa-1');
  badToken = 'eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.eyJpc3MiOiJ4In0.c2ln';
  const route = (prefix: string, subset: string) => ({
    match: [{ uri: { prefix } }],
    route: [{ destination: { host: 'service_b', subset } }],
  });
  envoy = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [
      {
        name: 'steering',
        config: {
          hosts: ['service_b'],
          http: [
            {
              match: [{ uri: { exact: '/pkg.Svc/Abort' } }],
              fault: { abort: { httpStatus: 503, percentage: { value: 100 } } },
              route: [{ destination: { host: 'service_b' } }],
            },
            route('/http/', 'v1'),
            { route: [{ destination: { host: 'service_b' } }] },
          ],
        },
      },
      {
        name: 'authz',
        config: {
          jwtRules: [{ issuer: ISSUER, jwks: jwks(rsa) }],
          policies: [{ name: 'deny', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/pkg.Svc/Denied', '/http/denied'] } }] }] }],
        },
      },
      {
        name: 'telemetry',
        config: {
          accessLog: { fields: LOG_FIELDS },
          metrics: [{ overrides: [{ tagOverrides: { rpc: { value: 'request.url_path' } } }] }],
        },
      },
    ],
    node: { id: 'productpage', cluster: 'productpage', metadata: NODE_PRODUCTPAGE },
    upstreams: { ...upstreams.endpoints(), 'outbound|80||service_b': { host: '127.0.0.1', port: grpc.port } },
    statsTags: [...statsTags(['rpc']).map((r) => ({ tag_name: r.tagName, regex: r.regex }))],
    args: NATIVE_LOG_ARGS,
    edit: (b) => {
      const hcm = connectionManagers(b)[0]!;
      hcm.access_log = nativeAccessLog(`NATIVE ${NATIVE_FIELDS.map((f) => `%${f}%`).join('\t')}\n`);
      // Envoy's gRPC message counter, first in the chain (Istio's stats filter reads its filter state).
      hcm.http_filters.unshift({
        name: 'envoy.filters.http.grpc_stats',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig', emit_filter_state: true },
      });
      const cluster = b.static_resources.clusters.find((c: { name: string }) => c.name === 'outbound|80||service_b');
      cluster.typed_extension_protocol_options = {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicit_http_config: { http2_protocol_options: {} },
        },
      };
    },
  });
  session = connect(envoy.listenerUrl);
});

after(async () => {
  session?.close();
  await envoy?.stop();
  grpc?.server.close();
  await upstreams?.close();
});

/** Envoy's NATIVE lines and our access log lines, by path. */
async function logsByPath(paths: string[]): Promise<Map<string, { native: Record<string, string>; ours: Record<string, unknown> }>> {
  const out = new Map<string, { native: Record<string, string>; ours: Record<string, unknown> }>();
  await envoy.waitForLog(new RegExp(`NATIVE ${paths[paths.length - 1]!.replace(/[.?]/g, '\\$&')}\t`), 10_000);
  const lines = envoy.logs().split('\n');
  for (const l of lines) {
    if (!l.startsWith('NATIVE ')) continue;
    const values = l.slice(7).split('\t');
    const native = Object.fromEntries(NATIVE_FIELDS.map((f, i) => [f, values[i]!]));
    out.set(native['REQ(:PATH)']!, { native, ours: {} });
  }
  for (const l of lines) {
    const m = /wasm log telemetry telemetry telemetry: (\{.*\})$/.exec(l);
    if (m === null) continue;
    const ours = JSON.parse(m[1]!) as Record<string, unknown>;
    const entry = out.get(ours.path as string);
    if (entry !== undefined) entry.ours = ours;
  }
  for (const p of paths) assert.ok(out.get(p)?.ours.path === p, `both access logs have ${p}`);
  return out;
}

/** Our byte fields against Envoy's own for the same request. */
function checkBytes(p: string, n: Record<string, string>, ours: Record<string, unknown>): void {
  const num = (k: string) => Number(n[k]);
  assert.equal(ours.bytes_received, num('BYTES_RECEIVED'), `${p}: bytes_received`);
  assert.equal(ours.bytes_sent, num('BYTES_SENT'), `${p}: bytes_sent`);
  assert.equal(ours.request_total_size, num('REQUEST_HEADERS_BYTES') + num('BYTES_RECEIVED'), `${p}: request_total_size`);
  assert.equal(
    ours.response_total_size,
    num('RESPONSE_HEADERS_BYTES') + num('BYTES_SENT') + num('RESPONSE_TRAILERS_BYTES'),
    `${p}: response_total_size`,
  );
}

const GRPC = { ':method': 'POST', ':authority': 'service_b', 'content-type': 'application/grpc', te: 'trailers' };

test("Envoy: gRPC status (trailers, trailers-only, local replies of authz and steering), message counts and bytes (trailers) equal Envoy's own", async (t) => {
  // Envoy answers a gRPC request's local reply with :status 200 and grpc-status (trailers-only).
  const cases: [string, Record<string, string>, number[], string][] = [
    ['/pkg.Svc/Ok', { 'x-reply': '3,0,70000' }, [10, 20000, 0], '0'],
    ['/pkg.Svc/NotFound', { 'x-grpc-status': '5', 'x-reply': '1' }, [1], '5'],
    ['/pkg.Svc/TrailersOnly', { 'x-grpc-status': '3', 'x-trailers-only': '1' }, [4, 4], '3'],
    ['/pkg.Svc/Denied', {}, [1], '7'],
    ['/pkg.Svc/BadToken', { authorization: `Bearer ${badToken}` }, [1], '16'],
    ['/pkg.Svc/Abort', {}, [2], '14'],
  ];
  for (const [path, headers, sizes, grpcStatus] of cases) {
    const reply = await h2(session, { ...GRPC, ':path': path, 'x-asmesh-peer': peerHeader(SLEEP), ...headers }, frames(sizes));
    assert.equal(reply.status, 200, path);
    assert.equal(reply.trailers['grpc-status'] ?? reply.headers['grpc-status'], grpcStatus, path);
  }
  const logs = await logsByPath(cases.map(([p]) => p));
  const { exp } = await prometheusWhen(
    envoy,
    (e) => select(e, 'istio_request_messages_total').length >= 3 && select(e, 'istio_requests_total').length >= cases.length,
  );
  for (const [path] of cases) {
    const { native, ours } = logs.get(path)!;
    t.diagnostic(
      `${path}: Envoy code ${native.RESPONSE_CODE} grpc ${native.GRPC_STATUS_NUMBER} flags ${native.RESPONSE_FLAGS} grpc_stats ${native['FILTER_STATE(envoy.filters.http.grpc_stats)']}; ours ${JSON.stringify(ours)}`,
    );
    assert.equal(String(ours.response_code), native.RESPONSE_CODE, `${path}: response_code`);
    checkBytes(path, native, ours);
    assert.notEqual(native.GRPC_STATUS_NUMBER, '-', `${path}: Envoy has a gRPC status`);
    assert.equal(String(ours.grpc_status), native.GRPC_STATUS_NUMBER, `${path}: access log grpc_status`);
    const [series] = select(exp, 'istio_requests_total', { rpc: path });
    assert.equal(series?.labels.grpc_response_status, native.GRPC_STATUS_NUMBER, `${path}: grpc_response_status`);
    assert.equal(series?.labels.request_protocol, 'grpc');
    assert.equal(series?.labels.response_code, native.RESPONSE_CODE);
    // Istio's filter counts messages only when grpc_stats left its filter state (it saw a message).
    const state = native['FILTER_STATE(envoy.filters.http.grpc_stats)']!;
    const [rq] = select(exp, 'istio_request_messages_total', { rpc: path });
    const [rs] = select(exp, 'istio_response_messages_total', { rpc: path });
    if (state === '-') {
      assert.equal(rq, undefined, `${path}: no request messages series`);
      assert.equal(rs, undefined, `${path}: no response messages series`);
      continue;
    }
    const counts = JSON.parse(state) as { requestMessageCount?: string; responseMessageCount?: string };
    assert.equal(rq?.value, Number(counts.requestMessageCount ?? 0), `${path}: request messages`);
    assert.equal(rs?.value, Number(counts.responseMessageCount ?? 0), `${path}: response messages`);
  }
  // The statuses Envoy gives local replies: PERMISSION_DENIED, UNAUTHENTICATED, UNAVAILABLE.
  assert.deepEqual(
    ['/pkg.Svc/Denied', '/pkg.Svc/BadToken', '/pkg.Svc/Abort'].map((p) => logs.get(p)!.native.GRPC_STATUS_NUMBER),
    ['7', '16', '14'],
  );
});

test('Envoy: HTTP/1.1 and HTTP/2: bytes_received/bytes_sent equal %BYTES_RECEIVED%/%BYTES_SENT%; the byte metrics equal request/response.total_size', async (t) => {
  const paths: string[] = [];
  const h1 = async (path: string, method: string, body?: string) => {
    paths.push(path);
    return envoy.request(path, { method, body, headers: { host: 'service_b', 'x-asmesh-peer': peerHeader(SLEEP) } });
  };
  assert.equal((await h1('/http/get', 'GET')).status, 200);
  assert.equal((await h1('/http/post', 'POST', 'x'.repeat(3000))).status, 200);
  assert.equal((await h1('/http/get?q=1', 'GET')).status, 200);
  assert.equal((await h1('/http/denied', 'POST', 'yy')).status, 403);
  for (const [path, body] of [
    ['/http/h2-post', Buffer.alloc(5000, 0x62)],
    ['/http/h2-get', undefined],
  ] as const) {
    paths.push(path);
    const reply = await h2(
      session,
      { ':method': body ? 'POST' : 'GET', ':path': path, ':authority': 'service_b', 'x-asmesh-peer': peerHeader(SLEEP) },
      body,
    );
    assert.equal(reply.status, 200);
  }
  const logs = await logsByPath(paths);
  const rows: string[] = ['path | BYTES_RECEIVED | BYTES_SENT | request.total_size | response.total_size | Istio wire rx | Istio wire tx'];
  for (const p of paths) {
    const { native: n, ours } = logs.get(p)!;
    checkBytes(p, n, ours);
    // Not gRPC: no status, for Envoy (-) as for us (null).
    assert.equal(ours.grpc_status, null, `${p}: grpc_status`);
    assert.equal(n.GRPC_STATUS_NUMBER, '-', `${p}: %GRPC_STATUS_NUMBER%`);
    rows.push(
      `${p} | ${n.BYTES_RECEIVED} | ${n.BYTES_SENT} | ${String(ours.request_total_size)} | ${String(ours.response_total_size)} | ${n.DOWNSTREAM_WIRE_BYTES_RECEIVED} | ${n.DOWNSTREAM_WIRE_BYTES_SENT}`,
    );
  }
  for (const r of rows) t.diagnostic(r);
});
