// bench:envoy: Envoy CPU time per request through the asmesh filters beside Envoy's native peers
// doing the same work and a Rust proxy-wasm filter making steering's decision (issue 20). Prints a
// table; never asserts.
// Every configuration runs in its own Envoy 1.40 (one worker, every thread pinned to CPU 0), all
// started up front; wrk (one thread, pinned to CPU 1, 10 keep-alive connections) loads them in turn,
// round after round (the order rotated each round), against direct_response routes (no upstream).
// Envoy CPU per request = (utime + stime) delta from /proc/<pid>/stat / requests answered.
// The machine is shared: absolute figures move with other load; the ratios, measured interleaved in
// one run, are what counts.
// Env: BENCH_ROUNDS (default 5), BENCH_SECONDS (per run, default 3), BENCH_CONNECTIONS (default 10),
// BENCH_ONLY (comma-separated substrings of row names; `none` is always kept); BENCH_BASELINE=<dir of .wasm files>
// adds each asmesh row again with those modules (`<row> @base`): a change's before/after in one run; several
// comma-separated dirs (`<row> @<dir name>`) compare a series of changes in one run. A dir holding
// as_empty.wasm (bench/as-empty built by that tree) adds `as empty x1` again with it.
// Run: npm run bench:envoy   (needs npm run build, Envoy (npm run envoy:install), wrk, cargo with wasm32-wasip1, Go for the pilot)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { MountedFilter } from '../host/envoy/config.ts';
import { repoRoot } from '../host/envoy/install.ts';
import { startEnvoy, type Envoy, type EnvoyOptions } from '../host/envoy/launcher.ts';
import {
  HOST,
  NODE,
  PATH,
  PEER_HEADER,
  TELEMETRY_LOG,
  TELEMETRY_ENVOY_LOG,
  TELEMETRY_ENVOY_FIELDS_LOG,
  TELEMETRY_NO_LOG,
  all,
  authzFilter,
  meshOf,
  STEERING_FILTER,
  type Edit,
  buildRustPeer,
  clusterHeaderRoutes,
  loopbackClusters,
  nativeAccessLog,
  nativeSteeringRoutes,
  pilotJwtFilters,
  rs256Token,
  rsaKey,
  rustEmpty,
  rustSteering,
  asEmpty,
  buildAsEmpty,
  withFilters,
} from './envoy-peers.ts';
import { haveWrk, wrkRequests, wrkRun } from './wrk.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? '5');
const seconds = Number(process.env.BENCH_SECONDS ?? '3');
const connections = Number(process.env.BENCH_CONNECTIONS ?? '10');
const only = (process.env.BENCH_ONLY ?? '').split(',').filter((s) => s !== '');
const ENVOY_CPU = 0;
const WRK_CPU = 1;
/** More distinct tokens than either cache holds (authz 1024, jwt_authn's jwt_cache_size 100): every request verifies. */
const NEW_TOKENS = 2000;

if (!haveWrk()) throw new Error('bench:envoy needs wrk (Debian: apt-get install -y wrk)');
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || '100');
const dir = join(repoRoot, '.tmp', 'bench-envoy');
mkdirSync(dir, { recursive: true });

const KID = 'bench-rsa';
const key = rsaKey(KID);
const cachedToken = [rs256Token(key, KID, 'user-1')];
const newTokens = Array.from({ length: NEW_TOKENS }, (_, i) => rs256Token(key, KID, `user-${i}`));
const authz = authzFilter(key);
const steering = STEERING_FILTER;
const jwtRbac = await pilotJwtFilters(key);
buildRustPeer();
const asEmptyWasm = await buildAsEmpty();

interface Row {
  name: string;
  /** The row its ratio is taken against (the native or Rust peer). */
  peer?: string;
  filters: MountedFilter[];
  edit: Edit;
  tokens: 'one' | 'new';
  /** Bodies expected for jason and alice (steering decides: v2/v1). */
  bodies: [string, string];
}

const routed: [string, string] = ['v2', 'v1'];
const plain: [string, string] = ['ok', 'ok'];
const ROWS: Row[] = [
  { name: 'none', filters: [], edit: clusterHeaderRoutes, tokens: 'one', bodies: plain },
  { name: 'steering', peer: 'native route match', filters: [steering], edit: clusterHeaderRoutes, tokens: 'one', bodies: routed },
  {
    name: 'rust steering peer',
    peer: 'native route match',
    filters: [],
    edit: all(clusterHeaderRoutes, rustSteering),
    tokens: 'one',
    bodies: routed,
  },
  { name: 'rust empty x1', peer: 'none', filters: [], edit: all(clusterHeaderRoutes, rustEmpty(1)), tokens: 'one', bodies: plain },
  // The AssemblyScript floor: asmesh's SDK with every callback its default (bench/as-empty).
  {
    name: 'as empty x1',
    peer: 'rust empty x1',
    filters: [],
    edit: all(clusterHeaderRoutes, asEmpty(asEmptyWasm)),
    tokens: 'one',
    bodies: plain,
  },
  { name: 'rust empty x3', peer: 'rust empty x1', filters: [], edit: all(clusterHeaderRoutes, rustEmpty(3)), tokens: 'one', bodies: plain },
  {
    name: 'rust empty x3, one VM',
    peer: 'rust empty x1',
    filters: [],
    edit: all(clusterHeaderRoutes, rustEmpty(3, true)),
    tokens: 'one',
    bodies: plain,
  },
  { name: 'native route match', filters: [], edit: nativeSteeringRoutes, tokens: 'one', bodies: routed },
  {
    name: 'authz, cached token',
    peer: 'native jwt+rbac, cached',
    filters: [authz],
    edit: clusterHeaderRoutes,
    tokens: 'one',
    bodies: plain,
  },
  { name: 'native jwt+rbac, cached', filters: [], edit: all(clusterHeaderRoutes, withFilters(jwtRbac)), tokens: 'one', bodies: plain },
  { name: 'authz, new token', peer: 'native jwt+rbac, new', filters: [authz], edit: clusterHeaderRoutes, tokens: 'new', bodies: plain },
  { name: 'native jwt+rbac, new', filters: [], edit: all(clusterHeaderRoutes, withFilters(jwtRbac)), tokens: 'new', bodies: plain },
  { name: 'telemetry, no log', peer: 'none', filters: [TELEMETRY_NO_LOG], edit: clusterHeaderRoutes, tokens: 'one', bodies: plain },
  {
    name: 'telemetry + log',
    peer: 'native JSON access log',
    filters: [TELEMETRY_LOG],
    edit: clusterHeaderRoutes,
    tokens: 'one',
    bodies: plain,
  },
  {
    name: 'telemetry + envoy log',
    peer: 'native JSON access log',
    filters: [TELEMETRY_ENVOY_LOG],
    edit: clusterHeaderRoutes,
    tokens: 'one',
    bodies: plain,
  },
  {
    // The Envoy writer without the filter-state fields: Envoy's formatter apart from the filter's set_property calls.
    name: 'telemetry + envoy log, Envoy fields only',
    peer: 'native JSON access log',
    filters: [TELEMETRY_ENVOY_FIELDS_LOG],
    edit: clusterHeaderRoutes,
    tokens: 'one',
    bodies: plain,
  },
  { name: 'native JSON access log', filters: [], edit: all(clusterHeaderRoutes, nativeAccessLog), tokens: 'one', bodies: plain },
  {
    name: 'all three (no log)',
    peer: 'native chain',
    filters: [steering, authz, TELEMETRY_NO_LOG],
    edit: clusterHeaderRoutes,
    tokens: 'one',
    bodies: routed,
  },
  {
    name: 'mesh.wasm (no log)',
    peer: 'all three (no log)',
    filters: [meshOf(steering, authz, TELEMETRY_NO_LOG)],
    edit: clusterHeaderRoutes,
    tokens: 'one',
    bodies: routed,
  },
  // A sidecar's listeners: outbound steering + telemetry, inbound authz + telemetry; each as one mesh.wasm.
  {
    name: 'outbound: steering + telemetry',
    filters: [steering, TELEMETRY_NO_LOG],
    edit: clusterHeaderRoutes,
    tokens: 'one',
    bodies: routed,
  },
  {
    name: 'outbound: mesh.wasm',
    peer: 'outbound: steering + telemetry',
    filters: [meshOf(steering, TELEMETRY_NO_LOG)],
    edit: clusterHeaderRoutes,
    tokens: 'one',
    bodies: routed,
  },
  { name: 'inbound: authz + telemetry', filters: [authz, TELEMETRY_NO_LOG], edit: clusterHeaderRoutes, tokens: 'one', bodies: plain },
  {
    name: 'inbound: mesh.wasm',
    peer: 'inbound: authz + telemetry',
    filters: [meshOf(authz, TELEMETRY_NO_LOG)],
    edit: clusterHeaderRoutes,
    tokens: 'one',
    bodies: plain,
  },
  { name: 'native chain', filters: [], edit: all(nativeSteeringRoutes, withFilters(jwtRbac)), tokens: 'one', bodies: routed },
];
const baselines = (process.env.BENCH_BASELINE ?? '').split(',').filter((s) => s !== '');
const rows: (Row & { wasmDir?: string })[] = ROWS.filter(
  (r) => r.name === 'none' || only.length === 0 || only.some((s) => r.name.includes(s)),
);
for (const baseline of baselines) {
  // One baseline: `@base`; several (a series of changes): `@<directory name>`.
  const tag = baselines.length === 1 ? 'base' : basename(baseline);
  for (const r of rows.filter((x) => x.filters.length > 0 && x.wasmDir === undefined))
    rows.push({ ...r, name: `${r.name} @${tag}`, wasmDir: baseline });
  // The AS floor of a baseline: its as_empty.wasm (bench/as-empty built with that tree's options), when it has one.
  const asRow = rows.find((r) => r.name === 'as empty x1');
  const asWasm = join(baseline, 'as_empty.wasm');
  if (asRow !== undefined && existsSync(asWasm))
    rows.push({ ...asRow, name: `${asRow.name} @${tag}`, edit: all(clusterHeaderRoutes, asEmpty(asWasm)), wasmDir: baseline });
}

function cpuTicks(pid: number): number {
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}

interface Running {
  row: Row;
  envoy: Envoy;
  request: string[];
  us: number[];
  rps: number[];
  errors: number;
  /** Envoy's resident memory after the runs. */
  rss: number;
}

const running: Running[] = [];
try {
  for (const row of rows) {
    const opts: EnvoyOptions = {
      filters: row.filters,
      edit: all(loopbackClusters, row.edit),
      wasmDir: row.wasmDir,
      node: NODE,
      // Telemetry's access log is an info line of the wasm component; Envoy writes its log to /dev/null.
      logArgs: ['-l', 'warn', '--component-log-level', 'wasm:info', '--log-path', '/dev/null'],
    };
    const envoy = await startEnvoy(opts);
    running.push({
      row,
      envoy,
      request: wrkRequests(dir, row.tokens, row.tokens === 'one' ? cachedToken : newTokens, PEER_HEADER, HOST, PATH),
      us: [],
      rps: [],
      errors: 0,
      rss: 0,
    });
    const pin = spawnSync('taskset', ['-a', '-p', '-c', String(ENVOY_CPU), String(envoy.pid)], { encoding: 'utf8' });
    if (pin.status !== 0) throw new Error(`taskset failed: ${pin.stderr}`);
    // Each configuration answers as expected (the decision made, the token accepted).
    for (const [i, user] of ['jason', 'alice'].entries()) {
      const r = await envoy.request(PATH, {
        headers: { host: HOST, 'end-user': user, authorization: `Bearer ${cachedToken[0]}`, 'x-asmesh-peer': PEER_HEADER },
      });
      if (r.status !== 200 || r.body !== row.bodies[i]) throw new Error(`${row.name}: ${user} got ${r.status} ${r.body}`);
    }
  }
  // Warm-up (V8 tiers Wasm up; caches fill), then the measured rounds, each in a rotated order.
  for (const r of running) await wrkRun(r.envoy.listenerUrl, 1, connections, WRK_CPU, r.request);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < running.length; k++) {
      const r = running[(k + round) % running.length]!;
      const before = cpuTicks(r.envoy.pid);
      const w = await wrkRun(r.envoy.listenerUrl, seconds, connections, WRK_CPU, r.request);
      const ticks = cpuTicks(r.envoy.pid) - before;
      // A run starved by other load on the machine is dropped (and counted).
      if (w.requests < 100) {
        r.errors++;
        continue;
      }
      r.us.push(((ticks / clockTicks) * 1e6) / w.requests);
      r.rps.push(w.rps);
      r.errors += w.errors;
    }
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }
} finally {
  for (const r of running) r.rss = rssOrZero(r.envoy.pid);
  await Promise.all(running.map((r) => r.envoy.stop()));
}

function rssOrZero(pid: number): number {
  try {
    return rssMb(pid);
  } catch {
    return 0;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const byName = new Map(running.map((r) => [r.row.name, median(r.us)]));
const none = byName.get('none')!;
console.log(
  `Envoy 1.40, 1 worker pinned to CPU ${ENVOY_CPU}; wrk -t1 -c${connections} pinned to CPU ${WRK_CPU}; ${rounds} interleaved rounds of ${seconds} s; GET ${PATH}, direct_response routes.`,
);
console.log('Envoy CPU per request from /proc/<pid>/stat (utime+stime / requests). Shared machine: absolute figures move, ratios count.');
console.log(
  `${'configuration'.padEnd(34)} ${'us/req'.padStart(7)} ${'min-max'.padStart(13)} ${'+us'.padStart(6)} ${'x none'.padStart(6)} ${'x peer'.padStart(6)}  ${'peer'.padEnd(30)} ${'RPS'.padStart(7)} ${'RSS MB'.padStart(6)} err`,
);
for (const r of running) {
  const m = median(r.us);
  const peer = r.row.peer === undefined ? undefined : byName.get(r.row.peer);
  if (r.us.length === 0) {
    console.log(`${r.row.name.padEnd(34)} no run completed`);
    continue;
  }
  const ratio = peer === undefined ? '' : (m / peer).toFixed(2);
  console.log(
    `${r.row.name.padEnd(34)} ${m.toFixed(1).padStart(7)} ${`${Math.min(...r.us).toFixed(1)}-${Math.max(...r.us).toFixed(1)}`.padStart(13)} ${(m - none).toFixed(1).padStart(6)} ${(m / none).toFixed(2).padStart(6)} ${ratio.padStart(6)}  ${(r.row.peer ?? '').padEnd(30)} ${Math.round(median(r.rps)).toString().padStart(7)} ${r.rss.toFixed(0).padStart(6)} ${r.errors}`,
  );
}
