// Fault injection as users see it, in real Envoy 1.40, same run (docs/DESIGN.md "Faults"): steering's
// own fault (a Wasm local reply / timer) against Envoy's fault filter driven by the headers a filter
// before it could set (`x-envoy-fault-abort-request`, `x-envoy-fault-abort-grpc-request`,
// `x-envoy-fault-delay-request`, header_abort/header_delay config). Measured per request: Envoy's
// %RESPONSE_FLAGS% and %RESPONSE_CODE_DETAILS%, the telemetry filter's response_flags label, the fault
// filter's stats (aborts_injected, delays_injected), the status a client gets.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectionManagers } from '../../host/envoy/config.ts';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { select, prometheusWhen, statsTags, nativeAccessLog, NATIVE_LOG_ARGS, NODE_PRODUCTPAGE, STATS_FLUSH_MS } from './helpers.ts';

let upstreams: Upstreams;
let envoy: Envoy;

before(async () => {
  upstreams = await Upstreams.start();
  const to = { route: [{ destination: { host: 'service_b', subset: 'v1' } }] };
  envoy = await startEnvoy({
    statsFlushMs: STATS_FLUSH_MS,
    filters: [
      {
        name: 'steering',
        config: {
          hosts: ['service_b'],
          http: [
            { match: [{ uri: { exact: '/wasm-abort' } }], fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }, ...to },
            { match: [{ uri: { exact: '/wasm-delay' } }], fault: { delay: { fixedDelay: '0.2s', percentage: { value: 100 } } }, ...to },
            to,
          ],
        },
      },
      {
        name: 'telemetry',
        config: {
          accessLog: { fields: ['path', 'response_code', 'response_flags'] },
          metrics: [{ overrides: [{ tagOverrides: { rpc: { value: 'request.url_path' } } }] }],
        },
      },
    ],
    node: { id: 'productpage', cluster: 'productpage', metadata: NODE_PRODUCTPAGE },
    upstreams: upstreams.endpoints(),
    statsTags: statsTags(['rpc']).map((r) => ({ tag_name: r.tagName, regex: r.regex })),
    args: NATIVE_LOG_ARGS,
    edit: (b) => {
      const hcm = connectionManagers(b)[0]!;
      hcm.access_log = nativeAccessLog('NATIVE %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\n');
      // Envoy's fault filter, controlled by request headers only, just before the router.
      const router = hcm.http_filters.findIndex((f: { name: string }) => f.name === 'envoy.filters.http.router');
      hcm.http_filters.splice(router, 0, {
        name: 'envoy.filters.http.fault',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
          abort: { header_abort: {}, percentage: { numerator: 100, denominator: 'HUNDRED' } },
          delay: { header_delay: {}, percentage: { numerator: 100, denominator: 'HUNDRED' } },
        },
      });
    },
  });
});

after(async () => {
  await envoy?.stop();
  await upstreams?.close();
});

test("Envoy: steering's Wasm fault leaves flag - and no fault stats; the header-driven fault filter gives FI/DI, its stats and details", async (t) => {
  const cases: [string, Record<string, string>, number][] = [
    ['/wasm-abort', {}, 503],
    ['/envoy-abort', { 'x-envoy-fault-abort-request': '503' }, 503],
    ['/wasm-delay', {}, 200],
    ['/envoy-delay', { 'x-envoy-fault-delay-request': '200' }, 200],
  ];
  for (const [path, headers, status] of cases) {
    assert.equal((await envoy.request(path, { headers: { host: 'service_b', ...headers } })).status, status, path);
  }
  await envoy.waitForLog(/NATIVE \/envoy-delay /, 10_000);
  const native = new Map(
    envoy
      .logs()
      .split('\n')
      .filter((l) => l.startsWith('NATIVE '))
      .map((l) => {
        const [, path, code, flags, details] = l.split(' ');
        return [path!, { code, flags, details }];
      }),
  );
  const { exp } = await prometheusWhen(envoy, (e) => select(e, 'istio_requests_total').length >= cases.length);
  const label = (path: string) => select(exp, 'istio_requests_total', { rpc: path })[0]?.labels.response_flags;
  for (const [path] of cases) t.diagnostic(`${path}: Envoy ${JSON.stringify(native.get(path))}, telemetry response_flags ${label(path)}`);
  assert.deepEqual(native.get('/wasm-abort'), { code: '503', flags: '-', details: 'fault_filter_abort' });
  assert.equal(label('/wasm-abort'), '-');
  assert.deepEqual(native.get('/envoy-abort'), { code: '503', flags: 'FI', details: 'fault_filter_abort' });
  assert.equal(label('/envoy-abort'), 'FI');
  assert.equal(native.get('/wasm-delay')!.flags, '-');
  assert.equal(label('/wasm-delay'), '-');
  assert.equal(native.get('/envoy-delay')!.flags, 'DI');
  assert.equal(label('/envoy-delay'), 'DI');
  // The fault filter leaves its control header on the request it forwards after a delay: a route
  // must remove it (request_headers_to_remove) so services never see it.
  const delayed = upstreams.get('outbound|80|v1|service_b').service.requests.find((r) => r.path === '/envoy-delay');
  assert.equal(delayed?.headers['x-envoy-fault-delay-request'], '200');
  // Envoy's fault stats count only its own faults.
  const stats = await envoy.stats();
  assert.equal(stats.get('http.outbound.fault.aborts_injected'), 1);
  assert.equal(stats.get('http.outbound.fault.delays_injected'), 1);
});
