// gRPC and HTTP/2 through steering, authz and telemetry in stock Envoy, with a real gRPC client and
// servers (@grpc/grpc-js over h2c, test/envoy/grpcjs.ts): steering routes by method path and by
// metadata to different HTTP/2 upstream clusters, authz reads the JWT from `authorization` metadata and
// Envoy turns its denials into gRPC statuses, telemetry labels each call (unary, server, client and
// bidi streams, trailers-only failures) once, against Envoy's own access log and grpc_stats filter in
// the same run. Also plain HTTP/2 and HTTP/1.1 clients to an h2c upstream. Runs once per HTTP/2 codec
// Envoy has (oghttp2, nghttp2: runtime envoy.reloadable_features.http2_use_oghttp2).
import assert from 'node:assert/strict';
import { connect, createServer, type Http2Server } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connectionManagers } from '../../host/envoy/config.ts';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { ISSUER, jwks, makeKey, token } from '../../host/fixtures/jwt.ts';
import { select, prometheusWhen, statsTags, nativeAccessLog, NATIVE_LOG_ARGS, STATS_FLUSH_MS } from '../telemetry/helpers.ts';
import { GrpcClient, startGrpcServer, SERVICE } from './grpcjs.ts';
import { until } from '../../host/until.ts';

type Obj = Record<string, any>;
const V1 = 'outbound|80|v1|service_b';
const V2 = 'outbound|80|v2|service_b';
const DEFAULT = 'outbound|80||service_b';

const toSubset = (subset?: string) => [{ destination: { host: 'service_b', ...(subset ? { subset } : {}) } }];
const STEERING = {
  hosts: ['service_b'],
  http: [
    { name: 'other', match: [{ uri: { exact: SERVICE.Other.path } }], route: toSubset('v2') },
    { name: 'canary', match: [{ uri: { prefix: '/pkg.Svc/' }, headers: { 'x-canary': { exact: 'yes' } } }], route: toSubset('v2') },
    { name: 'grpc', match: [{ uri: { prefix: '/pkg.Svc/' } }], route: toSubset('v1') },
    { name: 'http', route: toSubset() },
  ],
};

const NATIVE_FIELDS = [
  'REQ(X-CALL)',
  'REQ(:PATH)',
  'PROTOCOL',
  'UPSTREAM_CLUSTER',
  'RESPONSE_CODE',
  'GRPC_STATUS_NUMBER',
  'REQUEST_HEADERS_BYTES',
  'BYTES_RECEIVED',
  'RESPONSE_HEADERS_BYTES',
  'BYTES_SENT',
  'RESPONSE_TRAILERS_BYTES',
  'FILTER_STATE(envoy.filters.http.grpc_stats)',
];
const LOG_FIELDS = ['path', 'protocol', 'response_code', 'grpc_status', 'upstream_cluster', 'request_total_size', 'response_total_size'];

const h2Upstream = (): Obj => ({
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    explicit_http_config: { http2_protocol_options: {} },
  },
});

/** An h2c (HTTP/2 cleartext) echo: the protocol and path it received. */
async function h2cEcho(): Promise<{ server: Http2Server; port: number }> {
  const server = createServer();
  server.on('stream', (stream, headers) => {
    let n = 0;
    stream.on('data', (c: Buffer) => (n += c.length));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-served-by': 'service_b' });
      stream.end(JSON.stringify({ protocol: 'h2c', path: headers[':path'], bytes: n }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

interface NativeLine {
  [field: string]: string;
}

for (const codec of ['oghttp2', 'nghttp2'] as const) {
  describe(`gRPC and HTTP/2 in Envoy, ${codec} codec`, () => {
    let envoy: Envoy;
    let client: GrpcClient;
    let servers: Awaited<ReturnType<typeof startGrpcServer>>[];
    let echo: Awaited<ReturnType<typeof h2cEcho>>;
    let user: string;
    let admin: string;
    let forged: string;
    let calls = 0;
    const call = () => `${codec}-${++calls}`;

    before(async () => {
      const rsa = await makeKey('RS256', 'rsa-1');
      const now = Math.floor(Date.now() / 1000);
      user = await token(rsa, { nowSec: now, payload: { sub: 'user-1' } });
      admin = await token(rsa, { nowSec: now, payload: { sub: 'admin' } });
      forged = user.slice(0, user.lastIndexOf('.') + 1) + admin.split('.')[2];
      servers = await Promise.all(['service_b/v1', 'service_b/v2'].map((id) => startGrpcServer(id)));
      echo = await h2cEcho();
      const authz = {
        jwtRules: [{ issuer: ISSUER, jwks: jwks(rsa) }],
        policies: [
          {
            name: 'grpc',
            action: 'ALLOW',
            rules: [
              {
                from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }],
                to: [{ operation: { paths: ['/pkg.Svc/Unary', '/pkg.Svc/ServerStream', '/pkg.Svc/ClientStream', '/pkg.Svc/Bidi'] } }],
              },
              { from: [{ source: { requestPrincipals: [`${ISSUER}/admin`] } }], to: [{ operation: { paths: [SERVICE.Other.path] } }] },
              { to: [{ operation: { paths: ['/h2/*'] } }] },
            ],
          },
        ],
      };
      envoy = await startEnvoy({
        filters: [
          { name: 'steering', config: STEERING },
          { name: 'authz', config: authz },
          {
            name: 'telemetry',
            config: {
              reporter: 'source',
              accessLog: { fields: LOG_FIELDS },
              metrics: [{ overrides: [{ tagOverrides: { call: { value: "request.headers['x-call']" } } }] }],
            },
          },
        ],
        upstreams: {
          [V1]: { port: servers[0]!.port },
          [V2]: { port: servers[1]!.port },
          [DEFAULT]: { port: echo.port },
          jwks: { port: echo.port },
        },
        statsTags: statsTags(['call']).map((r) => ({ tag_name: r.tagName, regex: r.regex })),
        statsFlushMs: STATS_FLUSH_MS,
        args: NATIVE_LOG_ARGS,
        edit: (b) => {
          b.layered_runtime = {
            layers: [{ name: 'codec', static_layer: { 'envoy.reloadable_features.http2_use_oghttp2': codec === 'oghttp2' } }],
          };
          const hcm = connectionManagers(b)[0]!;
          hcm.access_log = nativeAccessLog(`NATIVE ${NATIVE_FIELDS.map((f) => `%${f}%`).join('\t')}\n`);
          // Envoy's gRPC message counter (what Istio's stats filter reads), first in the chain.
          hcm.http_filters.unshift({
            name: 'envoy.filters.http.grpc_stats',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig',
              emit_filter_state: true,
            },
          });
          for (const c of b.static_resources.clusters as Obj[]) {
            if ([V1, V2, DEFAULT].includes(c.name)) c.typed_extension_protocol_options = h2Upstream();
          }
        },
      });
      const runtime = JSON.parse((await envoy.admin('/runtime')).body) as { entries: Record<string, { final_value: string }> };
      assert.equal(runtime.entries['envoy.reloadable_features.http2_use_oghttp2']?.final_value, String(codec === 'oghttp2'));
      client = new GrpcClient(new URL(envoy.listenerUrl).host, 'service_b');
    });

    after(async () => {
      client?.close();
      await envoy?.stop();
      for (const s of servers ?? []) await s.close();
      await new Promise<void>((r) => (echo ? echo.server.close(() => r()) : r()));
    });

    /** The NATIVE access log line of each call id, once Envoy has written them. */
    async function nativeLines(ids: string[]): Promise<Map<string, NativeLine>> {
      const out = new Map<string, NativeLine>();
      const read = () => {
        for (const l of envoy.logs().split('\n')) {
          if (!l.startsWith('NATIVE ')) continue;
          const values = l.slice(7).split('\t');
          out.set(values[0]!, Object.fromEntries(NATIVE_FIELDS.map((f, i) => [f, values[i]!])));
        }
        return ids.every((id) => out.has(id));
      };
      await until(read, 10_000, 'the native access log lines').catch(() => {});
      for (const id of ids) assert.ok(out.has(id), `Envoy logged call ${id}`);
      return out;
    }

    test('steering: by method path and by metadata, to different HTTP/2 upstream clusters', async () => {
      const cases: [string, string, Record<string, string>, string][] = [
        ['Unary', SERVICE.Unary.path, {}, 'service_b/v1'],
        ['Other (uri exact)', SERVICE.Other.path, {}, 'service_b/v2'],
        ['Unary x-canary: yes (header)', SERVICE.Unary.path, { 'x-canary': 'yes' }, 'service_b/v2'],
        ['Unary x-canary: no', SERVICE.Unary.path, { 'x-canary': 'no' }, 'service_b/v1'],
      ];
      for (const [name, path, md, served] of cases) {
        const seen = servers.map((s) => s.seen.length);
        const r = await client.unary(path, 'hi', { authorization: `Bearer ${admin}`, 'x-call': call(), ...md });
        assert.deepEqual(r, { code: 0, details: '', messages: [`${served}:hi`] }, name);
        const at = served.endsWith('v1') ? 0 : 1;
        const fresh = servers[at]!.seen.slice(seen[at]);
        assert.equal(fresh.length, 1, `${name}: one call reached ${served}`);
        assert.equal(fresh[0]!.path, path);
        // steering's cluster header is for Envoy's router only.
        assert.equal(fresh[0]!.metadata['x-asmesh-cluster'], undefined);
        assert.equal(servers[1 - at]!.seen.length, seen[1 - at], `${name}: the other subset saw nothing`);
      }
    });

    test("authz: token from metadata; denials are gRPC statuses as Envoy's jwt_authn + rbac give them", async () => {
      const before = servers.map((s) => s.seen.length);
      const cases: [string, () => Promise<{ code: number; details: string }>, number, string][] = [
        ['no token', () => client.unary(SERVICE.Unary.path, 'x', { 'x-call': call() }), 7, 'RBAC: access denied'],
        [
          'forged token',
          () => client.unary(SERVICE.Unary.path, 'x', { authorization: `Bearer ${forged}`, 'x-call': call() }),
          16,
          'Jwt verification fails',
        ],
        [
          'user on Other',
          () => client.unary(SERVICE.Other.path, 'x', { authorization: `Bearer ${user}`, 'x-call': call() }),
          7,
          'RBAC: access denied',
        ],
        ['server stream, no token', () => client.serverStream('abc', { 'x-call': call() }), 7, 'RBAC: access denied'],
        [
          'bidi, forged token',
          () => client.bidi(['a', 'b'], { authorization: `Bearer ${forged}`, 'x-call': call() }),
          16,
          'Jwt verification fails',
        ],
      ];
      for (const [name, run, code, details] of cases) {
        const r = await run();
        assert.equal(r.code, code, `${name}: status`);
        assert.equal(r.details, details, `${name}: grpc-message`);
      }
      assert.deepEqual(
        servers.map((s) => s.seen.length),
        before,
        'no denied call reached a server',
      );
    });

    test('telemetry: each call (unary, streams, trailers-only) counted once, protocol grpc, status and message counts as Envoy', async () => {
      const auth = { authorization: `Bearer ${user}` };
      const ids: string[] = [];
      const id = () => {
        const c = call();
        ids.push(c);
        return { ...auth, 'x-call': c };
      };
      const results = [
        await client.unary(SERVICE.Unary.path, 'one', id()),
        await client.serverStream('abcd', id()),
        await client.clientStream(['a', 'b', 'c'], id()),
        await client.bidi(['a', 'b', 'c', 'd', 'e'], id()),
        // Fails before any message: a trailers-only answer (grpc-status in the headers).
        await client.unary(SERVICE.Unary.path, 'x', { ...id(), 'x-fail': '5' }),
        await client.serverStream('abc', { ...id(), 'x-fail': '9' }),
        await client.clientStream(['a'], { ...id(), 'x-fail': '3' }),
        // Denied by authz: Envoy's local reply, also trailers-only.
        await client.unary(SERVICE.Other.path, 'x', id()),
      ];
      assert.deepEqual(
        results.map((r) => [r.code, r.messages.length]),
        [
          [0, 1],
          [0, 4],
          [0, 1],
          [0, 5],
          [5, 0],
          [9, 0],
          [3, 0],
          [7, 0],
        ],
      );
      const native = await nativeLines(ids);
      const { exp } = await prometheusWhen(
        envoy,
        (e) =>
          ids.every((c) => select(e, 'istio_requests_total', { call: c }).length > 0) &&
          // Envoy merges histograms at a stats flush: wait until each call's is in.
          ids.every((c) =>
            ['istio_request_bytes_count', 'istio_response_bytes_count', 'istio_request_duration_milliseconds_count'].every(
              (h) => (select(e, h, { call: c })[0]?.value ?? 0) > 0,
            ),
          ),
      );
      const ours: Obj[] = [];
      for (const l of envoy.logs().split('\n')) {
        const m = /wasm log telemetry telemetry telemetry: (\{.*\})$/.exec(l);
        if (m !== null) ours.push(JSON.parse(m[1]!) as Obj);
      }
      for (const c of ids) {
        const n = native.get(c)!;
        const where = `${c} ${n['REQ(:PATH)']}`;
        assert.equal(n.PROTOCOL, 'HTTP/2', `${where}: downstream HTTP/2`);
        const series = select(exp, 'istio_requests_total', { call: c });
        assert.equal(series.length, 1, `${where}: one series`);
        assert.equal(series[0]!.value, 1, `${where}: counted once`);
        const labels = series[0]!.labels;
        assert.equal(labels.request_protocol, 'grpc', where);
        assert.equal(labels.response_code, n.RESPONSE_CODE, `${where}: response_code`);
        assert.notEqual(n.GRPC_STATUS_NUMBER, '-', `${where}: Envoy has a gRPC status`);
        assert.equal(labels.grpc_response_status, n.GRPC_STATUS_NUMBER, `${where}: grpc_response_status`);
        for (const h of ['istio_request_bytes_count', 'istio_response_bytes_count', 'istio_request_duration_milliseconds_count'])
          assert.equal(select(exp, h, { call: c })[0]?.value, 1, `${where}: ${h}`);
        // Istio's filter records messages only when grpc_stats left its filter state (it saw a message).
        const state = n['FILTER_STATE(envoy.filters.http.grpc_stats)']!;
        const [rq] = select(exp, 'istio_request_messages_total', { call: c });
        const [rs] = select(exp, 'istio_response_messages_total', { call: c });
        if (state === '-') {
          assert.equal(rq, undefined, `${where}: no request messages series`);
          assert.equal(rs, undefined, `${where}: no response messages series`);
        } else {
          const counts = JSON.parse(state) as { requestMessageCount?: string; responseMessageCount?: string };
          assert.equal(rq?.value, Number(counts.requestMessageCount ?? 0), `${where}: request messages`);
          assert.equal(rs?.value, Number(counts.responseMessageCount ?? 0), `${where}: response messages`);
        }
      }
      // Bytes: what the byte histograms record (the access log's *_total_size) equals Envoy's own counts.
      const byPath = ours.filter((o) => o.path?.startsWith('/pkg.Svc/'));
      for (const c of ids) {
        const n = native.get(c)!;
        const num = (k: string) => Number(n[k]);
        const rq = num('REQUEST_HEADERS_BYTES') + num('BYTES_RECEIVED');
        const rs = num('RESPONSE_HEADERS_BYTES') + num('BYTES_SENT') + num('RESPONSE_TRAILERS_BYTES');
        assert.ok(
          byPath.some((o) => o.path === n['REQ(:PATH)'] && o.request_total_size === rq && o.response_total_size === rs),
          `${c}: an access log line with request_total_size ${rq}, response_total_size ${rs}`,
        );
      }
      // The streams' counts as sent (grpc_stats agrees, above).
      const msgs = (c: string, m: string) => select(exp, m, { call: c })[0]?.value;
      assert.deepEqual(
        ids.slice(0, 4).map((c) => [msgs(c, 'istio_request_messages_total'), msgs(c, 'istio_response_messages_total')]),
        [
          [1, 1],
          [1, 4],
          [3, 1],
          [5, 5],
        ],
      );
      // Trailers-only failures carry the status in the response headers: Envoy's %GRPC_STATUS_NUMBER% reads them.
      assert.deepEqual(
        ids.slice(4).map((c) => native.get(c)!.GRPC_STATUS_NUMBER),
        ['5', '9', '3', '7'],
      );
    });

    test('non-HTTP bytes on the HTTP port (what a sniffed port served as HTTP gets): refused, nothing reaches an upstream', async () => {
      const seen = servers.map((s) => s.seen.length);
      const url = new URL(envoy.listenerUrl);
      // A TLS ClientHello's first bytes, then a Redis-style command: neither HTTP/1.x nor the h2 preface.
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = tcpConnect(Number(url.port), url.hostname);
        const chunks: Buffer[] = [];
        sock.on('data', (c: Buffer) => chunks.push(c));
        sock.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
        sock.on('error', reject);
        sock.write(Buffer.from('\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03*3\r\n$3\r\nSET\r\n', 'latin1'));
      });
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/, `Envoy's answer: ${JSON.stringify(answer.slice(0, 80))}`);
      assert.deepEqual(
        servers.map((s) => s.seen.length),
        seen,
      );
    });

    test('plain HTTP/2 (h2c) and HTTP/1.1 clients to an h2c upstream, through the three filters', async () => {
      const session = connect(envoy.listenerUrl);
      try {
        const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = session.request({ ':method': 'POST', ':path': '/h2/x', ':authority': 'service_b', 'x-call': call() });
          let status = 0;
          const chunks: Buffer[] = [];
          req.on('response', (h) => (status = Number(h[':status'])));
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
          req.on('error', reject);
          req.end(Buffer.alloc(1000, 0x61));
        });
        assert.equal(reply.status, 200);
        assert.deepEqual(JSON.parse(reply.body), { protocol: 'h2c', path: '/h2/x', bytes: 1000 });
      } finally {
        session.close();
      }
      const h1 = await envoy.request('/h2/y', { method: 'POST', body: 'b'.repeat(500), headers: { host: 'service_b', 'x-call': call() } });
      assert.equal(h1.status, 200);
      assert.deepEqual(JSON.parse(h1.body), { protocol: 'h2c', path: '/h2/y', bytes: 500 });
      const denied = await envoy.request('/nope', { headers: { host: 'service_b' } });
      assert.equal(denied.status, 403);
      assert.equal(denied.body, 'RBAC: access denied');
      const lines = await nativeLines([`${codec}-${calls - 1}`, `${codec}-${calls}`]);
      assert.deepEqual(
        [...lines.entries()]
          .filter(([k]) => k === `${codec}-${calls - 1}` || k === `${codec}-${calls}`)
          .map(([, l]) => [l.PROTOCOL, l.UPSTREAM_CLUSTER]),
        [
          ['HTTP/2', DEFAULT],
          ['HTTP/1.1', DEFAULT],
        ],
      );
    });
  });
}
