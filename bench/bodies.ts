// bench:bodies: Envoy's memory while large bodies stream through the three asmesh filters, beside the
// same Envoy without them. Prints a table; never asserts (test/envoy/bodies.test.ts checks the bodies
// arrive intact and unbuffered). Two Envoys (one worker each) serve the same upload+download rounds in
// turn, each round moving BENCH_MIB MiB each way per request; after each round the table shows each
// Envoy's VmRSS and VmHWM (/proc/<pid>/status). A filter that kept bodies (or leaked per request)
// would make the asmesh column grow with the bytes moved; flat columns, side by side, say it does not.
// Wasm linear memory is inside Envoy's RSS (V8): Envoy exports no stat of it, so a second table runs
// each filter's module in the harness (the same .wasm) and prints its linear memory after N requests
// with BENCH_MIB MiB gRPC-framed bodies each way (the harness hands a body over in one frame).
// Env: BENCH_ROUNDS (default 6), BENCH_MIB (default 32), BENCH_REQUESTS (per round, default 4).
// Run: npm run bench:bodies   (needs npm run build and Envoy)
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { MountedFilter } from '../host/envoy/config.ts';
import { repoRoot } from '../host/envoy/install.ts';
import { loadPlugin } from '../host/harness/index.ts';
import { startEnvoy, type Envoy } from '../host/envoy/launcher.ts';

/** Envoy's default per-connection buffer limit (1 MiB), stated in the bootstrap. */
export const BUFFER_LIMIT = 1 << 20;

/** The three filters as a body sees them: steering routes, authz decides on headers, telemetry counts and logs. */
export const ASMESH_CHAIN: MountedFilter[] = [
  { name: 'steering', config: { hosts: ['service_b'], http: [{ route: [{ destination: { host: 'service_b' } }] }] } },
  {
    name: 'authz',
    config: { jwtRules: [], policies: [{ name: 'writes', action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] }] },
  },
  { name: 'telemetry', config: { reporter: 'source', accessLog: { fields: ['path', 'response_code', 'bytes_received', 'bytes_sent'] } } },
];

function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** POSTs `mib` MiB in 64 KiB writes and reads `mib` MiB back; returns the bytes the upstream got. */
function transfer(envoy: Envoy, mib: number): Promise<number> {
  const url = new URL(envoy.listenerUrl);
  const piece = Buffer.alloc(64 * 1024, 0x61);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/bodies',
        headers: { host: 'service_b', 'transfer-encoding': 'chunked', 'x-download': String(mib << 20) },
      },
      (res) => {
        let got = 0;
        res.on('data', (c: Buffer) => (got += c.length));
        res.on('end', () => (got === mib << 20 ? resolve(Number(res.headers['x-upload-bytes'])) : reject(new Error(`got ${got} bytes`))));
      },
    );
    req.on('error', reject);
    let left = mib * 16;
    const write = () => {
      while (left > 0) {
        left--;
        if (!req.write(piece)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

/** Each filter's Wasm linear memory (harness, same module) after 0..n requests with `mib` MiB bodies each way. */
async function harnessTable(mib: number, counts: number[]): Promise<string[]> {
  const message = Buffer.alloc((mib << 20) + 5, 0x63);
  message[0] = 0;
  message.writeUInt32BE(mib << 20, 1);
  const rows = [`| filter | ${counts.map((n) => `after ${n}`).join(' | ')} |`, `|---|${counts.map(() => '---').join('|')}|`];
  for (const f of ASMESH_CHAIN) {
    const plugin = await loadPlugin(join(repoRoot, 'build', `${f.name}.wasm`), { config: f.config as object, bodyFrames: 'last-chunk' });
    const cells: string[] = [];
    let done = 0;
    for (const n of counts) {
      for (; done < n; done++) {
        await plugin.http({
          headers: { ':method': 'POST', ':path': '/pkg.Svc/Unary', ':authority': 'service_b', 'content-type': 'application/grpc' },
          body: message,
          upstream: { status: 200, headers: { 'content-type': 'application/grpc' }, body: message, trailers: { 'grpc-status': '0' } },
        });
        plugin.clearLogs();
      }
      cells.push(`${(plugin.wasmMemoryBytes() / 1024).toFixed(0)} KiB`);
    }
    rows.push(`| ${f.name} | ${cells.join(' | ')} |`);
  }
  return rows;
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? '6');
  const mib = Number(process.env.BENCH_MIB ?? '32');
  const requests = Number(process.env.BENCH_REQUESTS ?? '4');
  const piece = Buffer.alloc(64 * 1024, 0x62);
  const upstream: Server = createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'x-upload-bytes': String(n) });
      let left = Number(req.headers['x-download'] ?? 0) / piece.length;
      const write = () => {
        while (left > 0) {
          left--;
          if (!res.write(piece)) return void res.once('drain', write);
        }
        res.end();
      };
      write();
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as { port: number }).port;
  const ups = {
    'outbound|80||service_b': { port },
    'outbound|80|v1|service_b': { port },
    'outbound|80|v2|service_b': { port },
    jwks: { port },
  };
  const limit = (b: any) => {
    for (const l of b.static_resources.listeners) l.per_connection_buffer_limit_bytes = BUFFER_LIMIT;
    for (const c of b.static_resources.clusters) c.per_connection_buffer_limit_bytes = BUFFER_LIMIT;
  };
  const envoys: [string, Envoy][] = [
    ['asmesh', await startEnvoy({ filters: ASMESH_CHAIN, upstreams: ups, edit: limit, logArgs: ['-l', 'warn'] })],
    ['none', await startEnvoy({ filters: [], upstreams: ups, edit: limit, logArgs: ['-l', 'warn'] })],
  ];
  try {
    const rows: string[] = [
      `| moved each way (MiB) | ${envoys.map(([n]) => `${n} RSS MiB | ${n} HWM MiB`).join(' | ')} | asmesh - none RSS |`,
    ];
    rows.push(`|---|${envoys.map(() => '---|---').join('|')}|---|`);
    const row = (moved: number) => {
      const m = envoys.map(([, e]) => memoryOf(e.pid));
      rows.push(
        `| ${moved} | ${m.map((x) => `${x.rss.toFixed(1)} | ${x.hwm.toFixed(1)}`).join(' | ')} | ${(m[0]!.rss - m[1]!.rss).toFixed(1)} |`,
      );
    };
    row(0);
    for (let r = 1; r <= rounds; r++) {
      // Interleaved: each round moves the same bytes through both, in alternating order.
      const order = r % 2 === 0 ? envoys : [...envoys].reverse();
      for (const [name, e] of order) {
        for (let i = 0; i < requests; i++) {
          const got = await transfer(e, mib);
          if (got !== mib << 20) throw new Error(`${name}: upstream got ${got} bytes`);
        }
      }
      row(r * requests * mib);
    }
    console.log(
      `bench:bodies: ${requests} x ${mib} MiB up + down per round, chunked, 64 KiB writes, buffer limit ${BUFFER_LIMIT >> 20} MiB`,
    );
    for (const r of rows) console.log(r);
    console.log(`\nWasm linear memory per filter (harness, same .wasm), requests with ${mib} MiB gRPC bodies each way:`);
    for (const r of await harnessTable(mib, [0, 1, 10, 40])) console.log(r);
  } finally {
    for (const [, e] of envoys) await e.stop();
    upstream.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
