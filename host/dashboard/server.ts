// `asmesh dashboard` and the demo's dashboard: an HTTP server on loopback serving the page and
// /api/state (from Prometheus, or from the sidecars scraped directly when there is none).
// `?time=<unix seconds>` evaluates at that instant instead of now (tests compare with Prometheus).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PAGE } from './page.ts';
import { prometheusState, type DashboardState, type LogLine } from './state.ts';
import { DirectScraper } from './scrape.ts';
import type { ScrapeTarget } from '../observe/prometheus.ts';

export interface DashboardOptions {
  /** Prometheus base URL; without it the dashboard scrapes `targets` itself. */
  prometheus?: string;
  targets?: ScrapeTarget[];
  /** Recent access-log lines (the sidecars' logs), newest last. */
  logs?: () => LogLine[];
  port?: number;
  host?: string;
}

export interface Dashboard {
  url: string;
  server: Server;
  state(time?: number): Promise<DashboardState>;
  close(): Promise<void>;
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const scraper = opts.prometheus ? null : new DirectScraper(opts.targets ?? []);
  scraper?.start();
  const state = (time?: number): Promise<DashboardState> => {
    const logs = opts.logs?.() ?? [];
    if (opts.prometheus) return prometheusState(opts.prometheus, time ?? Date.now() / 1000, logs);
    return Promise.resolve(scraper!.state(logs));
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(PAGE);
      return;
    }
    if (url.pathname === '/api/state') {
      const t = url.searchParams.get('time');
      state(t === null ? undefined : Number(t)).then(
        (s) => {
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(s));
        },
        (e: Error) => {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: e.message }));
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((res) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => res()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    state,
    close: () =>
      new Promise<void>((res) => {
        scraper?.stop();
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
