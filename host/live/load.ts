// Steady keep-alive load on loopback for the live tests and the demo: `concurrency` clients, each
// sending its next request as soon as the previous one is answered, over a keep-alive agent (HTTPS
// with a client certificate when `tls` is given). Every request is recorded: when it started and
// ended, the status, which upstream served it (x-served-by), the peer certificate's serial, or the
// error (a reset, a refused connection, a timeout).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';

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
    for (let n = i; this.running; n++) this.samples.push(await this.once(paths[n % paths.length]!));
  }

  private once(path: string): Promise<Sample> {
    const start = Date.now();
    const u = new URL(this.opts.url);
    const done = (s: Partial<Sample>): Sample => ({ start, end: Date.now(), path, status: 0, servedBy: '', serial: '', error: '', ...s });
    return new Promise((resolve) => {
      const req = (this.opts.tls ? httpsRequest : httpRequest)(
        { host: u.hostname, port: u.port, path, agent: this.agent, headers: { host: this.opts.host }, timeout: 10_000 },
        (res: IncomingMessage) => {
          const serial = this.opts.tls ? ((res.socket as TLSSocket).getPeerCertificate?.().serialNumber ?? '') : '';
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
    const deadline = Date.now() + timeoutMs;
    while (this.since(from).length < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.since(from).length} of ${n} requests in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
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
