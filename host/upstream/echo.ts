// Upstream test services: answer with who they are and what they received.
// The same EchoService answers in-process (the harness runner) and behind a Node http server (Envoy).
//
// Default answer: 200, header `x-served-by: <identity>` (e.g. `service_b/v1`), JSON body
// `{served_by, method, path, headers, body}`. Request header `x-echo-status: <code>` sets the status;
// `x-echo-delay-ms: <ms>` delays the answer. `setRoute(path, handler)` overrides a path (e.g. /jwks.json).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoRequest {
  method: string;
  /** Path with query string, as received. */
  path: string;
  /** Lower-case names; a repeated header's values joined with ','. */
  headers: Record<string, string>;
  body: string;
}

export interface EchoReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}
export type RouteHandler = (req: EchoRequest) => EchoReply | Promise<EchoReply>;

/** What Envoy's clusters in envoy/sidecar.yaml are served by in tests. */
export const CLUSTER_IDENTITIES: Record<string, string> = {
  'outbound|80|v1|service_b': 'service_b/v1',
  'outbound|80|v2|service_b': 'service_b/v2',
  'outbound|80||service_b': 'service_b',
  jwks: 'jwks',
};

/** The default echo answer of a service called `identity`. Pure. */
export function echoReply(identity: string, req: EchoRequest): EchoReply {
  const wanted = Number(req.headers['x-echo-status']);
  const status = Number.isInteger(wanted) && wanted >= 200 && wanted <= 599 ? wanted : 200;
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-served-by': identity },
    body: JSON.stringify({ served_by: identity, method: req.method, path: req.path, headers: req.headers, body: req.body }),
  };
}

export class EchoService {
  /** Every request received, in order. */
  readonly requests: EchoRequest[] = [];
  private readonly routes = new Map<string, RouteHandler>();

  constructor(readonly identity: string) {}

  /** Answers `path` (without query string) with `handler` instead of the echo. */
  setRoute(path: string, handler: RouteHandler | EchoReply): void {
    this.routes.set(path, typeof handler === 'function' ? handler : () => handler);
  }
  clearRoute(path: string): void {
    this.routes.delete(path);
  }

  async handle(req: EchoRequest): Promise<EchoReply> {
    this.requests.push(req);
    const delay = Number(req.headers['x-echo-delay-ms']);
    if (Number.isFinite(delay) && delay > 0) await new Promise((r) => setTimeout(r, Math.min(delay, 30_000)));
    const route = this.routes.get(req.path.split('?')[0]!);
    return route !== undefined ? await route(req) : echoReply(this.identity, req);
  }
}

function headersOf(msg: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < msg.rawHeaders.length; i += 2) {
    const name = msg.rawHeaders[i]!.toLowerCase();
    const value = msg.rawHeaders[i + 1]!;
    out[name] = name in out ? `${out[name]},${value}` : value;
  }
  return out;
}

/** An EchoService behind a Node http server on loopback. */
export class EchoServer {
  private constructor(
    readonly service: EchoService,
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(identity: string | EchoService, opts: { host?: string; port?: number } = {}): Promise<EchoServer> {
    const service = typeof identity === 'string' ? new EchoService(identity) : identity;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const request: EchoRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: headersOf(req),
          body: Buffer.concat(chunks).toString('utf8'),
        };
        service.handle(request).then(
          (reply) => {
            const headers = { ...reply.headers };
            if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-length'))
              headers['content-length'] = String(Buffer.byteLength(reply.body));
            res.writeHead(reply.status, headers);
            res.end(reply.body);
          },
          (error: Error) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(`echo handler failed: ${error.message}`);
          },
        );
      });
    });
    server.keepAliveTimeout = 60_000;
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    return new EchoServer(service, server, host, (server.address() as AddressInfo).port);
  }

  get identity(): string {
    return this.service.identity;
  }
  get requests(): EchoRequest[] {
    return this.service.requests;
  }
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }
  setRoute(path: string, handler: RouteHandler | EchoReply): void {
    this.service.setRoute(path, handler);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** One EchoServer per sidecar cluster (CLUSTER_IDENTITIES), keyed by cluster name. */
export class Upstreams {
  private constructor(readonly servers: Map<string, EchoServer>) {}

  static async start(clusters: Record<string, string> = CLUSTER_IDENTITIES): Promise<Upstreams> {
    const servers = new Map<string, EchoServer>();
    try {
      for (const [cluster, identity] of Object.entries(clusters)) servers.set(cluster, await EchoServer.start(identity));
    } catch (error) {
      await Promise.all([...servers.values()].map((s) => s.close()));
      throw error;
    }
    return new Upstreams(servers);
  }

  get(cluster: string): EchoServer {
    const server = this.servers.get(cluster);
    if (server === undefined) throw new Error(`no upstream for cluster ${cluster}`);
    return server;
  }

  /** For the launcher: cluster name -> loopback port. */
  endpoints(): Record<string, { host: string; port: number }> {
    return Object.fromEntries([...this.servers].map(([c, s]) => [c, { host: s.host, port: s.port }]));
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.close()));
  }
}
