// A closed-loop HTTP load on loopback for the Envoy benchmarks: `concurrency` keep-alive clients,
// each sending its next request when the last answered, for a bounded time after a short warm-up.
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { HttpRequestSpec, Plugin } from '../host/harness/index.ts';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  wrong: number;
  n: number;
}

export interface LoadOptions {
  url: string;
  path: string;
  seconds: number;
  concurrency: number;
  warmupMs?: number;
  /** Headers of the i-th request. */
  headers(i: number): Record<string, string>;
  /** Whether the answer is the one expected (counted in `wrong` otherwise). */
  check(status: number, headers: Record<string, string | string[] | undefined>, i: number): boolean;
}

export async function closedLoopLoad(opts: LoadOptions): Promise<LoadResult> {
  const target = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies: number[] = [];
  let wrong = 0;
  const send = (i: number) =>
    new Promise<boolean>((resolve, reject) => {
      const req = httpRequest({ host: target.hostname, port: target.port, path: opts.path, headers: opts.headers(i), agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(opts.check(res.statusCode ?? 0, res.headers, i)));
      });
      req.on('error', reject);
      req.end();
    });
  const worker = async (id: number, until: number) => {
    for (let i = id; performance.now() < until; i++) {
      const t0 = performance.now();
      const ok = await send(i);
      latencies.push(performance.now() - t0);
      if (!ok) wrong++;
    }
  };
  const run = (until: number) => Promise.all(Array.from({ length: opts.concurrency }, (_, i) => worker(i, until)));
  try {
    await run(performance.now() + (opts.warmupMs ?? 500));
    latencies.length = 0;
    wrong = 0;
    const start = performance.now();
    await run(start + opts.seconds * 1000);
    const elapsed = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    return { rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), wrong, n: latencies.length };
  } finally {
    agent.destroy();
  }
}

/** Request lifecycles through a harness plugin for `ms`, in batches of `batch` (the logs cleared after each). */
export async function harnessLoop(
  plugin: Plugin,
  request: HttpRequestSpec,
  ms: number,
  batch: number,
): Promise<{ n: number; elapsed: number }> {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    for (let i = 0; i < batch; i++) await plugin.http(request);
    plugin.clearLogs();
    n += batch;
  }
  return { n, elapsed: performance.now() - start };
}
