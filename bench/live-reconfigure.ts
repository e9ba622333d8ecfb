// One live sidecar (host/live/sidecar.ts), 100 reconfigurations through its file watcher under steady
// light keep-alive load: each one saves mesh.yaml with new canary weights, a changed
// AuthorizationPolicy and a changed Telemetry override, so steering, authz and telemetry (both sides)
// each get a new configuration by ECDS per step. Prints, at 0, 10, ..., 100 reconfigurations, Envoy's
// RSS, its heap (admin /memory), the Wasm VMs alive (Envoy's wasm stats) and the resident Wasm linear
// memories (count, committed and resident KiB, read from /proc/<pid>/smaps: Envoy's stats do not
// give a VM's memory); then the apply latency percentiles and the failed requests.
//   npm run bench:live-reconfigure [-- --steps 100]
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServiceBSidecar } from '../host/fixtures/live.ts';
import { Load } from '../host/live/load.ts';
import { EchoServer } from '../host/upstream/echo.ts';
import { repoRoot } from '../host/paths.ts';
import { until } from '../host/until.ts';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '100' }, every: { type: 'string', default: '10' } } });
const STEPS = Number(values.steps);
const EVERY = Number(values.every);
const work = join(repoRoot, '.tmp', `bench-live-${process.pid}`);
const istio = join(work, 'istio');

const mesh = (i: number) => {
  const w2 = (i * 37) % 101;
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: service_b }
spec:
  hosts: [service_b]
  http:
  - route:
    - { destination: { host: service_b, subset: v1 }, weight: ${100 - w2} }
    - { destination: { host: service_b, subset: v2 }, weight: ${w2} }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-private }
spec:
  action: DENY
  rules:
  - to: [{ operation: { paths: ["/private", "/private-${i}"] } }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh }
spec:
  metrics:
  - providers: [{ name: prometheus }]
    overrides:
    - match: { metric: REQUEST_DURATION }
      tagOverrides: { step: { value: "'${i % 2 ? 'odd' : 'even'}'" } }
`;
};

function save(text: string): void {
  writeFileSync(join(istio, '.mesh.yaml.swp'), text);
  renameSync(join(istio, '.mesh.yaml.swp'), join(istio, 'mesh.yaml'));
}

const kib = (n: number) => `${Math.round(n / 1024)}`;

/**
 * The Wasm linear memories in Envoy's address space: V8 reserves each as one mapping of several GiB
 * (the memory plus its guard region, ---p) whose committed head (the memory's current pages) is the
 * rw-p mapping just before the rest. Their count, committed size and resident KiB.
 */
function wasmMemories(pid: number): { count: number; sizeKib: number; rssKib: number } {
  const maps: { perms: string; start: bigint; end: bigint; size: number; rss: number }[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const h = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(line);
    if (h) maps.push({ perms: h[3]!, start: BigInt(`0x${h[1]}`), end: BigInt(`0x${h[2]}`), size: 0, rss: 0 });
    const m = /^(Size|Rss):\s+(\d+) kB$/.exec(line);
    if (m && maps.length) maps.at(-1)![m[1] === 'Size' ? 'size' : 'rss'] = Number(m[2]);
  }
  const out = { count: 0, sizeKib: 0, rssKib: 0 };
  for (let i = 0; i + 1 < maps.length; i++) {
    const [head, guard] = [maps[i]!, maps[i + 1]!];
    if (head.perms === 'rw-p' && guard.perms === '---p' && head.end === guard.start && guard.size >= 4 * 1024 * 1024) {
      out.count++;
      out.sizeKib += head.size;
      out.rssKib += head.rss;
    }
  }
  return out;
}

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

async function main(): Promise<void> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(istio, { recursive: true });
  writeFileSync(join(istio, 'dr.yaml'), readFileSync(join(repoRoot, 'test/istio/destinationrule-subsets.yaml'), 'utf8'));
  writeFileSync(join(istio, 'mesh.yaml'), mesh(0));
  const [v1, v2, app] = await Promise.all([EchoServer.start('service_b/v1'), EchoServer.start('service_b/v2'), EchoServer.start('app')]);
  const sidecar = await startServiceBSidecar(istio, work, { app, v1, v2 });
  const pid = sidecar.envoy.pid;
  const out = new Load({ url: sidecar.envoy.listeners.outbound!, host: 'service_b', concurrency: 2 });
  const inb = new Load({ url: sidecar.envoy.listeners.inbound!, host: 'app', paths: ['/public', '/private'], concurrency: 1 });
  const rows: string[][] = [];
  const sample = async (step: number) => {
    const mem = JSON.parse((await sidecar.envoy.admin('/memory')).body) as Record<string, string>;
    const stats = await sidecar.envoy.stats();
    const vms = [...stats].filter(([k]) => /^wasm\.envoy\.wasm\.runtime\.[^.]+\.active$/.test(k)).reduce((a, [, v]) => a + v, 0);
    const created = [...stats].filter(([k]) => /^wasm\.envoy\.wasm\.runtime\.[^.]+\.created$/.test(k)).reduce((a, [, v]) => a + v, 0);
    const w = wasmMemories(pid);
    rows.push([
      String(step),
      kib(rss(pid)),
      kib(Number(mem.allocated)),
      kib(Number(mem.heap_size)),
      `${vms} (${created})`,
      `${w.count}`,
      `${w.sizeKib}`,
      `${w.rssKib}`,
      String(out.samples.length + inb.samples.length),
    ]);
  };
  await out.collect(Date.now(), 200);
  await sample(0);
  const applyMs: number[] = [];
  const notApplied: string[] = [];
  for (let i = 1; i <= STEPS; i++) {
    const n = sidecar.reports.length;
    const at = Date.now();
    save(mesh(i));
    const r = await until(() => sidecar.reports.length > n && sidecar.reports.at(-1), 20_000, `reconfiguration ${i}`);
    if (!r.ok) notApplied.push(`${i}: ${r.errors.join('; ')}`);
    // From the save to the last ECDS update_success (the watcher's debounce included).
    applyMs.push(Date.now() - at);
    if (i % EVERY === 0) await sample(i);
  }
  await out.stop();
  await inb.stop();
  const samples = [...out.samples, ...inb.samples];
  const failed = out.failures().length + inb.failures().length;
  const pidSame = sidecar.envoy.pid === pid;
  await sidecar.stop();
  await Promise.all([v1.close(), v2.close(), app.close()]);
  rmSync(work, { recursive: true, force: true });

  const head = [
    'reconfigs',
    'Envoy RSS KiB',
    'heap allocated KiB',
    'heap size KiB',
    'Wasm VMs active (created)',
    'Wasm memories',
    'Wasm committed KiB',
    'Wasm resident KiB',
    'requests',
  ];
  const table = [head, ...rows];
  const width = head.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  for (const r of table) console.log(r.map((v, c) => v.padStart(width[c]!)).join('  '));
  const sorted = [...applyMs].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  console.log(
    `\napply latency (save -> Envoy took every changed file, ms, n=${sorted.length}): p50 ${pct(50)}  p90 ${pct(90)}  p99 ${pct(99)}  max ${sorted.at(-1)}`,
  );
  console.log(
    `requests ${samples.length}, failed (error, reset or 5xx) ${failed}; not applied ${notApplied.length}; Envoy pid unchanged: ${pidSame}`,
  );
  for (const l of notApplied) console.log(`  not applied ${l}`);
  const first = Number(rows[0]![1]);
  const last = Number(rows.at(-1)![1]);
  console.log(`Envoy RSS ${first} -> ${last} KiB over ${STEPS} reconfigurations (${(((last - first) / first) * 100).toFixed(1)}%)`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
