// The steering filter's cost. Prints numbers; never asserts.
// 1. Harness: per-request time of the steering filter (three configurations) beside the example
//    filter (which does almost nothing), so the difference is the steering work itself.
// 2. Envoy: requests per second through Envoy with the steering filter (virtualservice-steering)
//    beside Envoy doing the same header match natively (route match on end-user: jason), same
//    upstreams, same client (Node http, keep-alive agent), each for BENCH_SECONDS (default 5).
// Run: npm run bench:steering   (needs npm run build and the Envoy binary: npm run envoy:install)
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectionManagers } from '../host/envoy/config.ts';
import { repoRoot } from '../host/envoy/install.ts';
import { startEnvoy, type Envoy } from '../host/envoy/launcher.ts';
import { loadPlugin } from '../host/harness/index.ts';
import { Upstreams } from '../host/upstream/echo.ts';
import { closedLoopLoad, type LoadResult } from './load.ts';
import { regexAndQuery, v1, v2, virtualServiceSpec } from '../host/fixtures/steering.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? '5');
const harnessSeconds = Number(process.env.BENCH_HARNESS_SECONDS ?? '2');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '16');

// ------------------------------------------------------------------ harness

type Headers = Record<string, string>;
const base: Headers = {
  ':method': 'GET',
  ':path': '/reviews/1',
  ':authority': 'service_b',
  ':scheme': 'http',
  'user-agent': 'bench',
  accept: '*/*',
};

async function harnessRate(wasm: string, config: string | object, requests: Headers[]): Promise<number> {
  const plugin = await loadPlugin(join(repoRoot, 'build', wasm), { config, pluginName: 'bench', rootId: 'bench', vmId: 'bench' });
  const run = async (ms: number) => {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < ms) {
      for (let i = 0; i < 500; i++) await plugin.http({ headers: requests[i % requests.length]! });
      plugin.clearLogs();
      n += 500;
    }
    return n / ((performance.now() - start) / 1000);
  };
  await run(300);
  return run(harnessSeconds * 1000);
}

const users: Headers[] = [{ ...base, 'end-user': 'jason' }, { ...base, 'end-user': 'alice' }, base];
const regexRequests: Headers[] = [
  { ...base, ':path': '/api/v2/users/42' },
  { ...base, ':path': '/api/v1/users?page=1&version=v2' },
  { ...base, 'x-user': 'Beta-ann-77' },
  { ...base, 'x-user': 'gamma' },
];
const baseline = await harnessRate('example.wasm', { header: 'x-asmesh-example', value: 'hello' }, users);
const rows: [string, number][] = [
  ['virtualservice-steering (header exact)', await harnessRate('steering.wasm', virtualServiceSpec('steering'), users)],
  ['virtualservice-canary (95/5 random)', await harnessRate('steering.wasm', virtualServiceSpec('canary'), users)],
  ['regex + query params (3 routes)', await harnessRate('steering.wasm', regexAndQuery, regexRequests)],
];
console.log(`harness (${harnessSeconds} s each): request lifecycles per second, and the steering work over the example filter`);
console.log(
  `  ${'example filter (baseline)'.padEnd(42)} ${Math.round(baseline).toLocaleString('en').padStart(9)}/s  ${(1e6 / baseline).toFixed(2).padStart(6)} us`,
);
console.log("  (the canary row pays the harness's random_get, node crypto.randomFillSync per call; in Envoy it is a libc call)");
for (const [name, rate] of rows) {
  console.log(
    `  ${name.padEnd(42)} ${Math.round(rate).toLocaleString('en').padStart(9)}/s  ${(1e6 / rate).toFixed(2).padStart(6)} us  (+${(1e6 / rate - 1e6 / baseline).toFixed(2)} us)`,
  );
}

// ------------------------------------------------------------------ envoy

function load(envoy: Envoy): Promise<LoadResult> {
  const users = [
    { host: 'service_b', 'end-user': 'jason' },
    { host: 'service_b', 'end-user': 'alice' },
  ];
  return closedLoopLoad({
    url: envoy.listenerUrl,
    path: '/reviews/1',
    seconds,
    concurrency,
    headers: (i) => users[i % 2]!,
    check: (status, h, i) => status === 200 && h['x-served-by'] === (i % 2 === 0 ? 'service_b/v2' : 'service_b/v1'),
  });
}

/** Envoy's own route: end-user: jason -> v2, everyone else -> v1 (what the filter does, natively). */
function nativeRoutes(bootstrap: any): void {
  for (const hcm of connectionManagers(bootstrap)) {
    hcm.route_config.virtual_hosts[0].routes = [
      { match: { prefix: '/', headers: [{ name: 'end-user', string_match: { exact: 'jason' } }] }, route: { cluster: v2 } },
      { match: { prefix: '/' }, route: { cluster: v1 } },
    ];
  }
}

const logArgs = ['-l', 'warn'];
const upstreams = await Upstreams.start();
const results: [string, Awaited<ReturnType<typeof load>>][] = [];
try {
  for (const [name, opts] of [
    ['Envoy + steering filter (wasm, V8)', { filters: [{ name: 'steering', config: virtualServiceSpec('steering') }] }],
    ['Envoy native header-match route', { filters: [], edit: nativeRoutes }],
  ] as const) {
    const envoy = await startEnvoy({ ...opts, upstreams: upstreams.endpoints(), logArgs });
    try {
      results.push([name, await load(envoy)]);
    } finally {
      await envoy.stop();
    }
  }
} finally {
  await upstreams.close();
}
console.log(
  `envoy (--concurrency 1, ${concurrency} keep-alive connections, ${seconds} s each, jason/alice alternating, Node echo upstreams):`,
);
for (const [name, r] of results) {
  console.log(
    `  ${name.padEnd(38)} ${Math.round(r.rps).toLocaleString('en').padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (${r.n} requests, ${r.wrong} misrouted)`,
  );
}
const [withFilter, native] = [results[0]![1], results[1]![1]];
console.log(`  steering filter / native: ${((withFilter.rps / native.rps) * 100).toFixed(1)}% of the native rate`);
