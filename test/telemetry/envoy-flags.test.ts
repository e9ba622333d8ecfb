// Response flags in real Envoy 1.40: requests that make Envoy set real flags (no healthy upstream,
// connection failure, retries exhausted, no route, upstream timeout, circuit breaker overflow,
// downstream disconnect, no cluster, fault injection, upstream connection termination, upstream
// protocol error, stream idle timeout, upstream max stream duration, local rate limit; retries
// exhausted after UF, UC and UT, where Envoy prints the flags in the order it set them). For each, the telemetry filter's `response_flags` label and access log field
// must equal what Envoy's own access log prints for `%RESPONSE_FLAGS%` on the same request.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { connectionManagers } from '../../host/envoy/config.ts';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { until } from '../../host/until.ts';
import {
  parseExposition,
  select,
  checkExposition,
  nativeAccessLog,
  NATIVE_LOG_ARGS,
  NODE_PRODUCTPAGE,
  ISTIO_NAME_LINT,
  STATS_FLUSH_MS,
} from './helpers.ts';

const NATIVE = /^NATIVE (\S+) (\S+)$/;

/** A TCP upstream that does `behave` with each connection (hang, close on data, answer garbage). */
async function tcpUpstream(behave: (s: Socket) => void): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    behave(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

/** Port 0: nothing can listen there, so a connect is refused (ECONNREFUSED) and no other process can take it meanwhile. */
const CLOSED_PORT = 0;

const staticCluster = (name: string, port: number | null, extra: object = {}) => ({
  name,
  type: 'STATIC',
  connect_timeout: '1s',
  ...extra,
  load_assignment: {
    cluster_name: name,
    endpoints:
      port === null ? [] : [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
  },
});

let upstreams: Upstreams;
let envoy: Envoy;
const tcp: Awaited<ReturnType<typeof tcpUpstream>>[] = [];

before(async () => {
  upstreams = await Upstreams.start();
  const echo = upstreams.endpoints()['outbound|80||service_b']!;
  const hang = await tcpUpstream(() => {});
  const closer = await tcpUpstream((s) => s.on('data', () => s.destroy()));
  const garbage = await tcpUpstream((s) => s.on('data', () => s.end('NOT HTTP AT ALL\r\n\r\n')));
  tcp.push(hang, closer, garbage);
  const route = (path: string, r: object, extra: object = {}) => ({ match: { path }, route: r, ...extra });
  envoy = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [{ name: 'telemetry', config: { reporter: 'destination' } }],
    node: { id: 'productpage', cluster: 'productpage', metadata: NODE_PRODUCTPAGE },
    args: NATIVE_LOG_ARGS,
    edit: (b) => {
      const hcm = connectionManagers(b)[0]!;
      hcm.access_log = nativeAccessLog('NATIVE %REQ(:PATH)% %RESPONSE_FLAGS%\n');
      hcm.route_config = {
        name: 'flags',
        virtual_hosts: [
          {
            name: 'flags',
            domains: ['*'],
            routes: [
              route('/ok', { cluster: 'echo' }),
              route('/uh', { cluster: 'empty' }),
              route('/uf', { cluster: 'closed' }),
              route('/urx', { cluster: 'closed', retry_policy: { retry_on: 'connect-failure', num_retries: 1 } }),
              route('/urx-uc', { cluster: 'closer', retry_policy: { retry_on: 'reset', num_retries: 1 } }),
              route('/urx-ut', {
                cluster: 'hang',
                timeout: '5s',
                retry_policy: { retry_on: '5xx', num_retries: 1, per_try_timeout: '0.2s' },
              }),
              route('/ut', { cluster: 'hang', timeout: '0.3s' }),
              route('/uo', { cluster: 'overflow' }),
              route('/dc', { cluster: 'hang', timeout: '30s' }),
              route('/nc', { cluster_header: 'x-no-such-header' }),
              route('/fault', { cluster: 'echo' }),
              route('/uc', { cluster: 'closer' }),
              route('/upe', { cluster: 'garbage' }),
              route('/si', { cluster: 'hang', timeout: '30s', idle_timeout: '0.2s' }),
              route('/msd', { cluster: 'hang', timeout: '30s', max_stream_duration: { max_stream_duration: '0.2s' } }),
              route('/umsdr', { cluster: 'hang-capped', timeout: '30s' }),
              route(
                '/rl',
                { cluster: 'echo' },
                {
                  typed_per_filter_config: {
                    'envoy.filters.http.local_ratelimit': {
                      '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
                      stat_prefix: 'rl',
                      token_bucket: { max_tokens: 1, tokens_per_fill: 1, fill_interval: '60s' },
                      filter_enabled: { default_value: { numerator: 100 }, runtime_key: 'rl_enabled' },
                      filter_enforced: { default_value: { numerator: 100 }, runtime_key: 'rl_enforced' },
                    },
                  },
                },
              ),
            ],
          },
        ],
      };
      // Fault injection (DI, FI) for requests carrying x-fault, before the router.
      const routerAt = hcm.http_filters.findIndex((f: { name: string }) => f.name === 'envoy.filters.http.router');
      // Local rate limit (RL), configured only on /rl's route.
      hcm.http_filters.splice(
        routerAt,
        0,
        {
          name: 'envoy.filters.http.local_ratelimit',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
            stat_prefix: 'rl',
          },
        },
        {
          name: 'envoy.filters.http.fault',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
            headers: [{ name: 'x-fault', present_match: true }],
            delay: { fixed_delay: '0.01s', percentage: { numerator: 100 } },
            abort: { http_status: 418, percentage: { numerator: 100 } },
          },
        },
      );
      b.static_resources.clusters = [
        staticCluster('echo', echo.port),
        staticCluster('empty', null),
        staticCluster('closed', CLOSED_PORT),
        staticCluster('hang', hang.port),
        staticCluster('overflow', echo.port, { circuit_breakers: { thresholds: [{ max_pending_requests: 0 }] } }),
        staticCluster('closer', closer.port),
        staticCluster('garbage', garbage.port),
        staticCluster('hang-capped', hang.port, {
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              common_http_protocol_options: { max_stream_duration: '0.2s' },
              explicit_http_config: { http_protocol_options: {} },
            },
          },
        }),
      ];
    },
  });
});

after(async () => {
  await envoy?.stop();
  await upstreams?.close();
  for (const t of tcp) {
    for (const s of t.sockets) s.destroy();
    t.server.close();
  }
});

/** Envoy's own `%RESPONSE_FLAGS%` by path. */
function nativeFlags(): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of envoy.logs().split('\n')) {
    const m = NATIVE.exec(l.trim());
    if (m !== null) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** The filter's access log lines by path. */
function filterLog(): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const l of envoy.logs().split('\n')) {
    const j = /wasm log telemetry telemetry telemetry: (\{.*\})$/.exec(l)?.[1];
    if (j === undefined) continue;
    const o = JSON.parse(j) as Record<string, unknown>;
    out.set(String(o.path), o);
  }
  return out;
}

/** A request whose client closes the connection after `ms` without waiting for the answer. */
function abortAfter(path: string, ms: number): Promise<void> {
  const url = new URL(envoy.listenerUrl);
  return new Promise((resolve) => {
    const s = connect(Number(url.port), url.hostname, () => {
      s.write(`GET ${path} HTTP/1.1\r\nhost: service_b\r\n\r\n`);
      setTimeout(() => {
        s.destroy();
        resolve();
      }, ms);
    });
    s.on('error', () => resolve());
  });
}

function waitFor<T>(what: string, get: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  return until(get, timeoutMs, () => `${what}\n--- envoy log ---\n${envoy.logs().slice(-4000)}`, 50);
}

// path -> [status the client sees (null: client hung up), the flags Envoy documents for the case]
const CASES: [string, number | null, string, Record<string, string>?][] = [
  ['/ok', 200, '-'],
  ['/uh', 503, 'UH'],
  ['/uf', 503, 'UF'],
  ['/urx', 503, 'URX,UF'],
  ['/urx-uc', 503, 'URX,UC'],
  ['/urx-ut', 504, 'URX,UT'],
  ['/ut', 504, 'UT'],
  ['/uo', 503, 'UO'],
  ['/dc', null, 'DC'],
  ['/nr', 404, 'NR'],
  ['/nc', 503, 'NC'],
  ['/fault', 418, 'DI,FI', { 'x-fault': '1' }],
  ['/uc', 503, 'UC'],
  ['/upe', 502, 'UPE'],
  ['/si', 504, 'SI'],
  // A route's max_stream_duration ends the stream with 504 and no flag in Envoy 1.40 (not DT).
  ['/msd', 504, '-'],
  ['/umsdr', 504, 'UMSDR'],
  ['/rl?n=1', 200, '-'],
  ['/rl?n=2', 429, 'RL'],
];

test("Envoy: response_flags label and access log field equal Envoy's own %RESPONSE_FLAGS% for real flags", async (t) => {
  for (const [path, status, , headers] of CASES) {
    if (status === null) {
      await abortAfter(path, 200);
      continue;
    }
    const reply = await envoy.request(path, { headers: { host: 'service_b', ...headers } });
    assert.equal(reply.status, status, `${path}: status`);
  }
  const native = await waitFor('every native access log line', () => {
    const n = nativeFlags();
    return CASES.every(([p]) => n.has(p)) ? n : undefined;
  });
  const logged = await waitFor('every filter access log line', () => {
    const n = filterLog();
    return CASES.every(([p]) => n.has(p)) ? n : undefined;
  });
  const text = await envoy.prometheus();
  const exp = parseExposition(text);
  const seen: string[] = [];
  for (const [path, , documented] of CASES) {
    const envoyFlags = native.get(path)!;
    // Envoy's own output for the case is what the documentation says (the case is the right case).
    assert.equal(envoyFlags, documented, `${path}: Envoy's %RESPONSE_FLAGS%`);
    assert.equal(logged.get(path)!.response_flags, envoyFlags, `${path}: the filter's access log response_flags`);
    seen.push(envoyFlags);
  }
  // Each flag set appears as a response_flags label value, counting its requests.
  const count = (pairs: [string, number][]) => {
    const m = new Map<string, number>();
    for (const [k, n] of pairs) m.set(k, (m.get(k) ?? 0) + n);
    return [...m.entries()].sort();
  };
  assert.deepEqual(
    count(select(exp, 'istio_requests_total').map((s) => [s.labels.response_flags!, s.value])),
    count(seen.map((f) => [f, 1])),
  );
  // Label values with `,` (URX,UF) keep the page valid.
  const lints = checkExposition(t, text, (l) => /^(istio|asmesh)_/.test(l));
  if (lints !== null) assert.deepEqual(lints, [ISTIO_NAME_LINT]);
});
