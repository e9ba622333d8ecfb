// Memory cost of the telemetry filter's label sets in real Envoy 1.40, and whether the cap
// (maxLabelSets, default 10,000 per metric per worker) holds it flat. Prints numbers; never asserts.
// Run: npm run bench:telemetry-cardinality
//
// Two Envoys (--concurrency 1, loopback, direct_response route so no upstream), one after the other:
// the telemetry filter (default config: destination reporter, cap 10,000) and a baseline without it.
// Both receive the same requests: request i carries a peer header whose workload is `client-<i>`, so
// it is a new label set (source_workload) for the filter. Requests are sent in steps so that, after
// each, N distinct label sets have been sent in total (BENCH_STEPS, default 0,1000,10000,20000,30000);
// after each step (and a stats flush) the bench reads Envoy's admin /memory (tcmalloc's allocated and
// heap_size), the process's RSS (/proc/<pid>/status: this includes the Wasm VM's linear memory,
// which V8 maps itself and tcmalloc does not see), the filter's counters (one per label set, plus the
// overflow series and asmesh_telemetry_overflow_total) and the overflow count; all stats are counted
// after the last step. Beside it, the filter's Wasm linear memory after the same requests in the harness.
// Takes about 70 s.
// BENCH_CONNECTIONS (default 16) keep-alive clients; BENCH_WASM_DIR (default build) the .wasm files measured.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import { connectionManagers } from '../host/envoy/config.ts';
import { startEnvoy, type Envoy, type EnvoyOptions } from '../host/envoy/launcher.ts';
import { loadPlugin } from '../host/harness/index.ts';
import { NODE_PRODUCTPAGE, peerHeader } from '../host/fixtures/peers.ts';

const steps = (process.env.BENCH_STEPS ?? '0,1000,10000,20000,30000').split(',').map(Number);
const connections = Number(process.env.BENCH_CONNECTIONS ?? '16');
const wasmDir = process.env.BENCH_WASM_DIR ?? 'build';
const node = { id: 'bench', cluster: 'bench', metadata: NODE_PRODUCTPAGE };
const FLUSH_MS = 1000;

function edit(bootstrap: any): void {
  for (const hcm of connectionManagers(bootstrap)) {
    for (const vh of hcm.route_config?.virtual_hosts ?? [])
      vh.routes = [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'ok' } } }];
  }
  // Histograms merge on each stats flush: flush often so every step is measured after one.
  bootstrap.stats_flush_interval = `${FLUSH_MS / 1000}s`;
}

const peerOf = (i: number) =>
  peerHeader({ workload: `client-${i}`, namespace: 'default', app: 'client', version: 'v1', cluster: 'Kubernetes' });

/** Sends requests from..to-1 (request i with label set i) on `connections` keep-alive connections. */
async function sendRange(url: string, from: number, to: number): Promise<number> {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let next = from;
  let failed = 0;
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { host: target.hostname, port: target.port, path: '/bench', agent, headers: { 'x-asmesh-peer': peerOf(i) } },
        (res) => {
          if (res.statusCode !== 200) failed++;
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end();
    });
  const worker = async () => {
    while (next < to) await one(next++);
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    agent.destroy();
  }
  return failed;
}

interface Sample {
  n: number;
  allocated: number;
  heap: number;
  rss: number;
  counters: number;
  overflow: number;
  failed: number;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) * 1024;
}

/** Stat lines (`name: value`) of an admin /stats query. */
async function statLines(envoy: Envoy, query: string): Promise<string[]> {
  return (await envoy.admin(`/stats${query}`)).body.split('\n').filter((l) => l.includes(': '));
}

// Memory is read before the stats: a full /stats (40,000 histograms rendered with quantiles) costs
// ~50 MB of transient tcmalloc heap that heap_size and RSS keep afterwards; so every step counts only
// the filter's counters (one per label set and the overflow counter), and the full count comes last.
async function sample(envoy: Envoy, n: number, failed: number): Promise<Sample> {
  await new Promise((r) => setTimeout(r, FLUSH_MS + 300));
  const mem = JSON.parse((await envoy.admin('/memory')).body) as { allocated: string; heap_size: string };
  const rss = rssBytes(envoy.child.pid!);
  const counters = await statLines(envoy, '?type=Counters&filter=^wasmcustom\\.');
  const overflow = counters.find((l) => l.startsWith('wasmcustom.asmesh_telemetry_overflow_total:'));
  return {
    n,
    failed,
    allocated: Number(mem.allocated),
    heap: Number(mem.heap_size),
    rss,
    counters: counters.length,
    overflow: overflow === undefined ? 0 : Number(overflow.split(': ')[1]),
  };
}

async function run(opts: EnvoyOptions): Promise<{ samples: Sample[]; stats: number; filterStats: number }> {
  const envoy = await startEnvoy({ ...opts, node, edit, logArgs: ['-l', 'warning'] });
  try {
    const url = `${envoy.listenerUrl}/bench`;
    const out: Sample[] = [];
    let sent = 0;
    for (const n of steps) {
      const failed = n > sent ? await sendRange(url, sent, n) : 0;
      sent = Math.max(sent, n);
      out.push(await sample(envoy, n, failed));
    }
    const all = await statLines(envoy, '');
    return { samples: out, stats: all.length, filterStats: all.filter((l) => l.startsWith('wasmcustom.')).length };
  } finally {
    await envoy.stop();
  }
}

/** The filter's Wasm linear memory after each step, in the harness (the same requests; Envoy's RSS includes it). */
async function harnessMemory(): Promise<number[]> {
  const plugin = await loadPlugin(`${wasmDir}/telemetry.wasm`, { config: {}, pluginName: 'b', rootId: 'b', vmId: 'b', node });
  const out: number[] = [];
  let sent = 0;
  for (const n of steps) {
    for (; sent < n; sent++) {
      await plugin.http({
        headers: {
          ':method': 'GET',
          ':path': '/bench',
          ':authority': 'productpage.default.svc.cluster.local:9080',
          'x-asmesh-peer': peerOf(sent),
        },
      });
      if (sent % 200 === 0) plugin.clearLogs();
    }
    out.push(plugin.wasmMemoryBytes());
  }
  plugin.close();
  return out;
}

const started = Date.now();
const linear = await harnessMemory();
const telemetryRun = await run({ filters: [{ name: 'telemetry', config: {} }], wasmDir: resolve(wasmDir) });
const baselineRun = await run({ filters: [] });
const withFilter = telemetryRun.samples;
const baseline = baselineRun.samples;

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
const kb = (b: number) => `${b >= 0 ? '+' : ''}${(b / 1024).toFixed(0)} kB`;
console.log(
  `Envoy 1.40, --concurrency 1, telemetry filter default config (maxLabelSets 10000), direct_response route, ${connections} keep-alive connections; request i carries label set i`,
);
console.log(
  'label sets | telemetry: allocated  heap_size      RSS  filter counters  overflow | baseline (no filter): allocated  heap_size      RSS | harness: Wasm linear memory',
);
for (let i = 0; i < steps.length; i++) {
  const t = withFilter[i]!;
  const b = baseline[i]!;
  const bad = t.failed + b.failed > 0 ? `  (non-200: ${t.failed} / ${b.failed})` : '';
  console.log(
    `${String(t.n).padStart(10)} | ${mb(t.allocated).padStart(20)} ${mb(t.heap).padStart(10)} ${mb(t.rss).padStart(8)} ${String(t.counters).padStart(16)} ${String(t.overflow).padStart(9)} | ` +
      `${mb(b.allocated).padStart(31)} ${mb(b.heap).padStart(10)} ${mb(b.rss).padStart(8)} | ${mb(linear[i]!).padStart(27)}${bad}`,
  );
}
console.log(
  `stats after the last step: telemetry ${telemetryRun.stats} (${telemetryRun.filterStats} wasmcustom.*), baseline ${baselineRun.stats}`,
);
// Per label set below the cap: the filter run's growth minus the baseline's, from 0 to the largest step <= 10,000.
const z = steps.indexOf(0);
const capAt = steps.filter((n) => n > 0 && n <= 10000).pop();
if (z >= 0 && capAt !== undefined) {
  const i = steps.indexOf(capAt);
  const per = (f: (s: Sample) => number) => (f(withFilter[i]!) - f(withFilter[z]!) - (f(baseline[i]!) - f(baseline[z]!))) / capAt / 1024;
  console.log(
    `per label set (0 -> ${capAt}, minus baseline): allocated ${per((s) => s.allocated).toFixed(2)} kB, heap_size ${per((s) => s.heap).toFixed(2)} kB, ` +
      `RSS ${per((s) => s.rss).toFixed(2)} kB, Wasm linear memory ${((linear[i]! - linear[z]!) / capAt / 1024).toFixed(2)} kB (each label set: 1 counter + 3 histograms)`,
  );
}
// Beyond the cap: growth between successive steps past 10,000 (should be flat, as the baseline's).
for (let i = 1; i < steps.length; i++) {
  if (steps[i - 1]! < 10000) continue;
  const d = (r: Sample[], f: (s: Sample) => number) => f(r[i]!) - f(r[i - 1]!);
  console.log(
    `beyond the cap ${steps[i - 1]} -> ${steps[i]}: telemetry allocated ${kb(d(withFilter, (s) => s.allocated))}, heap_size ${kb(d(withFilter, (s) => s.heap))}, ` +
      `RSS ${kb(d(withFilter, (s) => s.rss))}, Wasm linear memory ${kb(linear[i]! - linear[i - 1]!)}; baseline allocated ${kb(d(baseline, (s) => s.allocated))}, RSS ${kb(d(baseline, (s) => s.rss))}`,
  );
}
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
