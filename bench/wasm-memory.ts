// bench:wasm-memory: a filter's Wasm linear memory (one VM) under a long run in the harness, for the
// cases whose live heap grows with traffic (issue 20, "Wasm memory per VM no worse"): authz with a new
// token per request (its 1024-entry cache fills and turns over), telemetry with a new label set per
// request (up to its 10,000-per-metric cap), mesh.wasm with both, steering. Prints a table; never asserts.
// Env: BENCH_REQUESTS (default 6000); BENCH_BASELINE=<dir of .wasm>[,<dir>...] measures those modules too.
// Run: npm run bench:wasm-memory   (needs npm run build)
import { basename, join } from 'node:path';
import { loadPlugin } from '../host/harness/index.ts';
import { repoRoot } from '../host/envoy/install.ts';
import { peerHeader } from '../host/fixtures/peers.ts';
import { HOST, NODE, PATH, STEERING, TELEMETRY_NO_LOG, authzConfig, rs256Token, rsaKey } from './envoy-peers.ts';

const requests = Number(process.env.BENCH_REQUESTS ?? '6000');
const dirs = [join(repoRoot, 'build'), ...(process.env.BENCH_BASELINE ?? '').split(',').filter((s) => s !== '')];
const checkpoints = [requests / 6, requests / 3, requests / 2, requests].map(Math.round);

const KID = 'bench-rsa';
const key = rsaKey(KID);
/** More distinct tokens than the cache holds (1024): the cache fills, then entries are replaced. */
const tokens = Array.from({ length: 3000 }, (_, i) => rs256Token(key, KID, `user-${i}`));
const peer = (i: number) =>
  peerHeader({ workload: `client-${i}`, namespace: 'default', app: 'client', version: 'v1', cluster: 'Kubernetes' });

interface Case {
  name: string;
  module: string;
  config: string | object;
  /** Request i's headers. */
  headers: (i: number) => Record<string, string>;
}
const base = (i: number) => ({ ':method': 'GET', ':path': PATH, ':authority': HOST, 'end-user': i % 2 ? 'alice' : 'jason' });
const CASES: Case[] = [
  { name: 'steering', module: 'steering', config: STEERING, headers: base },
  {
    name: 'authz, new token per request',
    module: 'authz',
    config: authzConfig(key),
    headers: (i) => ({ ...base(i), authorization: `Bearer ${tokens[i % tokens.length]}` }),
  },
  {
    name: 'telemetry, new label set per request',
    module: 'telemetry',
    config: TELEMETRY_NO_LOG.config as object,
    headers: (i) => ({ ...base(i), 'x-asmesh-peer': peer(i) }),
  },
  {
    name: 'mesh.wasm, both',
    module: 'mesh',
    config: { steering: STEERING, authz: authzConfig(key), telemetry: TELEMETRY_NO_LOG.config },
    headers: (i) => ({ ...base(i), authorization: `Bearer ${tokens[i % tokens.length]}`, 'x-asmesh-peer': peer(i) }),
  },
];

const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
console.log(`Wasm linear memory of one VM in the harness after n requests (n = ${checkpoints.join(', ')})`);
for (const c of CASES) {
  for (const dir of dirs) {
    const plugin = await loadPlugin(join(dir, `${c.module}.wasm`), { config: c.config, node: NODE });
    const out: string[] = [];
    const started = plugin.wasmMemoryBytes();
    for (let i = 0, k = 0; i < requests; i++) {
      const r = await plugin.http({ headers: c.headers(i) });
      if (r.response.status !== 200) throw new Error(`${c.name} @${basename(dir)}: request ${i} got ${r.response.status}`);
      if (i % 200 === 0) plugin.clearLogs();
      if (i + 1 === checkpoints[k]) {
        out.push(kib(plugin.wasmMemoryBytes()).padStart(10));
        k++;
      }
    }
    plugin.close();
    console.log(`${`${c.name} @${basename(dir)}`.padEnd(48)} ${kib(started).padStart(10)} ->${out.join('')}`);
  }
}
