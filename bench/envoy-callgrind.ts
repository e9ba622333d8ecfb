// Instructions per request in Envoy itself, counted by callgrind: repeatable where CPU time is not (on a
// machine with steal time bench:envoy's medians move by ±7 %, more than a change of a few host or VM
// calls). Each configuration runs in Envoy 1.40 under valgrind with each directory's modules; callgrind
// counts only while BENCH_REQUESTS requests go through after a warm-up, and the table gives instructions
// per request (every thread: the worker's filter chain and Wasm, the main thread's timers) and the ratio
// to the first directory. Instructions are not time (a cache miss costs more than an add), so this
// complements bench:envoy for small changes; it does not replace it.
// Run: BENCH_DIRS=build,<dir of other .wasm> [BENCH_REQUESTS=300] [BENCH_ONLY=authz,...] npm run bench:envoy-callgrind
import { spawnSync } from 'node:child_process';
import { Agent } from 'node:http';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startEnvoy, type EnvoyOptions } from '../host/envoy/launcher.ts';
import { findEnvoy } from '../host/envoy/install.ts';
import { repoRoot } from '../host/paths.ts';
import type { MountedFilter } from '../host/envoy/config.ts';
import {
  HOST,
  NODE,
  PATH,
  PEER_HEADER,
  TELEMETRY_NO_LOG,
  TELEMETRY_LOG,
  TELEMETRY_ENVOY_LOG,
  TELEMETRY_ENVOY_FIELDS_LOG,
  nativeAccessLog,
  all,
  authzFilter,
  meshOf,
  STEERING_FILTER,
  type Edit,
  clusterHeaderRoutes,
  loopbackClusters,
  nativeSteeringRoutes,
  pilotJwtFilters,
  rs256Token,
  rsaKey,
  withFilters,
  buildRustPeer,
  buildAsEmpty,
  rustEmpty,
  rustSteering,
  asEmpty,
} from './envoy-peers.ts';

const dirs = (process.env.BENCH_DIRS ?? 'build').split(',').map((d) => resolve(d));
const requests = Number(process.env.BENCH_REQUESTS ?? 300);
const only = (process.env.BENCH_ONLY ?? '').split(',').filter((s) => s !== '');
if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('bench:envoy-callgrind needs valgrind (Debian package valgrind)');

const key = rsaKey('bench-rsa');
const token = rs256Token(key, 'bench-rsa', 'user-1');
const authz = authzFilter(key);
// One per request of a run (warm-up included), signed once: no token is seen twice by one Envoy.
const freshTokens = Array.from({ length: requests + 50 }, (_, i) => rs256Token(key, 'bench-rsa', `user-${i}`));
/** A row without `filters` runs no module: Envoy's native peer, measured once (its figure stands under the first directory). */
interface Row {
  name: string;
  filters?: MountedFilter[];
  routes: Edit;
  /** A new token on every request (each one verified), as bench:envoy's `new token` rows. */
  newTokens?: boolean;
  /** telemetry's own log line is an info line of Envoy's wasm component (written to /dev/null). */
  wasmInfo?: boolean;
}
const jwtRbac = await pilotJwtFilters(key);
buildRustPeer();
const asEmptyWasm = await buildAsEmpty();
const ROWS: Row[] = [
  { name: 'none', routes: clusterHeaderRoutes },
  { name: 'native route match', routes: nativeSteeringRoutes },
  { name: 'native jwt+rbac, cached', routes: all(clusterHeaderRoutes, withFilters(jwtRbac)) },
  { name: 'native chain', routes: all(nativeSteeringRoutes, withFilters(jwtRbac)) },
  // The per-filter floor: a Rust filter and asmesh's SDK (bench/as-empty) doing nothing; the Rust steering peer.
  { name: 'rust empty x1', routes: all(clusterHeaderRoutes, rustEmpty(1)) },
  { name: 'as empty x1', routes: all(clusterHeaderRoutes, asEmpty(asEmptyWasm)) },
  { name: 'rust steering peer', routes: all(clusterHeaderRoutes, rustSteering) },
  { name: 'steering', filters: [STEERING_FILTER], routes: clusterHeaderRoutes },
  { name: 'authz, cached token', filters: [authz], routes: clusterHeaderRoutes },
  { name: 'native jwt+rbac, new token', routes: all(clusterHeaderRoutes, withFilters(jwtRbac)), newTokens: true },
  { name: 'authz, new token', filters: [authz], routes: clusterHeaderRoutes, newTokens: true },
  { name: 'telemetry, no log', filters: [TELEMETRY_NO_LOG], routes: clusterHeaderRoutes },
  // The access log: Envoy's native JSON log (its peer, over `none`), the filter's line, Envoy's logger fed by the filter.
  { name: 'native JSON access log', routes: all(clusterHeaderRoutes, nativeAccessLog) },
  { name: 'telemetry + log', filters: [TELEMETRY_LOG], routes: clusterHeaderRoutes, wasmInfo: true },
  { name: 'telemetry + envoy log', filters: [TELEMETRY_ENVOY_LOG], routes: clusterHeaderRoutes },
  { name: 'telemetry + envoy log, Envoy fields', filters: [TELEMETRY_ENVOY_FIELDS_LOG], routes: clusterHeaderRoutes },
  {
    name: 'mesh.wasm (no log)',
    filters: [meshOf(STEERING_FILTER, authz, TELEMETRY_NO_LOG)],
    routes: clusterHeaderRoutes,
  },
  // The composite with one part each: what one module costs over the part's own filter.
  { name: 'mesh.wasm, steering only', filters: [meshOf(STEERING_FILTER)], routes: clusterHeaderRoutes },
  { name: 'mesh.wasm, authz only', filters: [meshOf(authz)], routes: clusterHeaderRoutes },
  { name: 'mesh.wasm, telemetry only', filters: [meshOf(TELEMETRY_NO_LOG)], routes: clusterHeaderRoutes },
];
const rows = ROWS.filter((r) => r.name === 'none' || only.length === 0 || only.some((o) => r.name.includes(o)));

// Envoy started through a wrapper that runs it under callgrind.
const work = join(repoRoot, '.tmp', 'envoy-callgrind');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
// Found without envoyBinary(), which would cache the real binary for the launcher.
const envoy = findEnvoy()?.path;
if (envoy === undefined) throw new Error('bench:envoy-callgrind needs Envoy: npm run envoy:install (or ENVOY_BIN)');
const wrapper = join(work, 'envoy.sh');
writeFileSync(
  wrapper,
  `#!/bin/sh\nexec valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file="$ASMESH_CALLGRIND_OUT" ${envoy} "$@"\n`,
);
chmodSync(wrapper, 0o755);
process.env.ENVOY_BIN = wrapper;

const control = (pid: number, ...args: string[]) => {
  const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
  // callgrind_control exits 0 also when the pid is not a valgrind process: it then says so.
  if (r.status !== 0 || /no .*found|not found/i.test(r.stdout + r.stderr))
    throw new Error(`callgrind_control ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
};

/** Instructions per request of one configuration with one directory's modules. */
async function measure(row: Row, dir: string, index: number): Promise<number> {
  const out = join(work, `${index}.out`);
  process.env.ASMESH_CALLGRIND_OUT = out;
  const opts: EnvoyOptions = {
    filters: row.filters ?? [],
    edit: all(loopbackClusters, row.routes),
    wasmDir: dir,
    node: NODE,
    logArgs: ['-l', 'warn', ...(row.wasmInfo ? ['--component-log-level', 'wasm:info'] : []), '--log-path', '/dev/null'],
    timeoutMs: 600_000,
  };
  const running = await startEnvoy(opts);
  try {
    let sent = 0;
    const headers = () => ({
      host: HOST,
      'end-user': 'jason',
      authorization: `Bearer ${row.newTokens ? freshTokens[sent++ % freshTokens.length] : token}`,
      'x-asmesh-peer': PEER_HEADER,
    });
    // One kept-alive connection, as wrk's: the connection's own setup is not counted per request.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const r = await running.request(PATH, { headers: headers(), agent, timeoutMs: 60_000 });
        if (r.status !== 200) throw new Error(`${row.name}: got ${r.status} ${r.body}`);
      }
    };
    await send(50);
    control(running.pid, '-z');
    await send(requests);
    control(running.pid, '-d');
    agent.destroy();
  } finally {
    await running.stop();
  }
  // The dump callgrind_control -d wrote (the first: `<out>.1`); `<out>` itself is written at exit.
  const dump = join(work, `${index}.out.1`);
  if (!existsSync(dump)) throw new Error(`no callgrind dump for ${row.name}: ${dump}`);
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(dump, 'utf8'));
  if (totals === null) throw new Error(`no totals in ${dump}`);
  return Number(totals[1]) / requests;
}

console.log(`Envoy 1.40 under callgrind; ${requests} requests after 50 warm-up; GET ${PATH}, direct_response routes.`);
console.log(
  `${'configuration'.padEnd(36)}${dirs.map((d) => d.split('/').pop()!.padStart(14)).join('')}  ratio to ${dirs[0]!.split('/').pop()}`,
);
let index = 0;
for (const row of rows) {
  const counts: number[] = [];
  for (const dir of row.filters === undefined ? dirs.slice(0, 1) : dirs) counts.push(await measure(row, dir, index++));
  const ratios = counts.slice(1).map((c) => (c / counts[0]!).toFixed(3));
  console.log(`${row.name.padEnd(36)}${counts.map((c) => Math.round(c).toString().padStart(14)).join('')}  ${ratios.join(' ')}`);
}
