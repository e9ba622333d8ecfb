// Steady keep-alive load on loopback for the live tests and the demo: `concurrency` clients, each
// sending its next request as soon as the previous one is answered, over a keep-alive agent (HTTPS
// with a client certificate when `tls` is given). Every request is recorded: when it started and
// ended, the status, which upstream served it (x-served-by), the peer certificate's serial, or the
// error (a reset, a refused connection, a timeout).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { until } from '../until.ts';

export interface Sample {
  start: number;
  end: number;
  path: string;
  status: number;
  servedBy: string;
  serial: string;
  error: string;
}

export interface LoadOptions {
  url: string;
  host: string;
  /** Paths sent in turn. */
  paths?: string[];
  concurrency?: number;
  /** HTTPS with this client certificate, trusting `ca` (the SPIFFE server name is not a host name: chain checked, name not). */
  tls?: { cert: string; key: string; ca: string };
  /** Default true; false: a new connection (and TLS handshake) per request. */
  keepAlive?: boolean;
  /** Sent with every request (besides host). */
  headers?: Record<string, string>;
}

/** One request (on `agent`'s connections, or a new one); never throws: errors are in the sample. */
export function probe(opts: LoadOptions, path: string, agent: HttpAgent | false = false): Promise<Sample> {
  const start = Date.now();
  const u = new URL(opts.url);
  const done = (s: Partial<Sample>): Sample => ({ start, end: Date.now(), path, status: 0, servedBy: '', serial: '', error: '', ...s });
  return new Promise((resolve) => {
    const tls = opts.tls ? { ...opts.tls, checkServerIdentity: () => undefined } : {};
    const req = (opts.tls ? httpsRequest : httpRequest)(
      { host: u.hostname, port: u.port, path, agent, headers: { ...opts.headers, host: opts.host }, timeout: 10_000, ...tls },
      (res: IncomingMessage) => {
        const serial = opts.tls ? ((res.socket as TLSSocket).getPeerCertificate?.().serialNumber ?? '') : '';
        res.resume();
        res.on('end', () => resolve(done({ status: res.statusCode ?? 0, servedBy: String(res.headers['x-served-by'] ?? ''), serial })));
        res.on('error', (e) => resolve(done({ error: e.message })));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(done({ error: (e as NodeJS.ErrnoException).code ?? e.message })));
    req.end();
  });
}

export class Load {
  readonly samples: Sample[] = [];
  private running = true;
  private readonly agent: HttpAgent;
  private readonly loops: Promise<void>[] = [];

  constructor(private readonly opts: LoadOptions) {
    this.agent = opts.tls
      ? new HttpsAgent({ keepAlive: true, maxSockets: opts.concurrency ?? 4, ...opts.tls, checkServerIdentity: () => undefined })
      : new HttpAgent({ keepAlive: true, maxSockets: opts.concurrency ?? 4 });
    for (let i = 0; i < (opts.concurrency ?? 4); i++) this.loops.push(this.loop(i));
  }

  private async loop(i: number): Promise<void> {
    const paths = this.opts.paths ?? ['/'];
    const agent = this.opts.keepAlive === false ? false : this.agent;
    for (let n = i; this.running; n++) this.samples.push(await probe(this.opts, paths[n % paths.length]!, agent));
  }

  /** Samples that started at or after `from` (and before `to`). */
  since(from: number, to = Infinity): Sample[] {
    return this.samples.filter((s) => s.start >= from && s.start < to);
  }

  /** Requests not answered, or answered 5xx. */
  failures(from = 0): Sample[] {
    return this.since(from).filter((s) => s.error !== '' || s.status >= 500 || s.status === 0);
  }

  /** Waits until `n` samples started after `from` have ended. */
  async collect(from: number, n: number, timeoutMs = 20_000): Promise<Sample[]> {
    await until(
      () => this.since(from).length >= n,
      timeoutMs,
      () => `${n} requests (${this.since(from).length} ended)`,
      20,
    );
    return this.since(from).slice(0, n);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
  }
}

/** Whether `k` of `n` is within `z` standard deviations of `p` (exact at p = 0 or 1). */
export function withinBinomial(k: number, n: number, p: number, z = 4.5): boolean {
  return Math.abs(k - n * p) <= z * Math.sqrt(n * p * (1 - p)) + 1e-9;
}
