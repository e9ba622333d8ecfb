// `asmesh dashboard`: serves the dashboard page for a running mesh until Ctrl-C.
import { InputError } from '../cli/errors.ts';
import type { ScrapeTarget } from '../observe/prometheus.ts';
import { startDashboard } from './server.ts';

export const DASHBOARD_USAGE = `Usage: asmesh dashboard (--prometheus URL | --target NAME=ADMIN_URL...) [--port N]

Serves the mesh dashboard on 127.0.0.1: the service topology (workloads, calls with RPS, 5xx rate,
p50/p90/p99 and mTLS, from istio_requests_total and istio_request_duration_milliseconds,
reporter=destination), per-service panels, SLO status (from the rules of 'asmesh slo') and
firing alerts. With --prometheus it asks that Prometheus; else it scrapes each --target's
/stats/prometheus itself (no SLO status then). 'asmesh demo' starts one for its mesh.
  --prometheus URL           a Prometheus that scrapes the sidecars (e.g. http://127.0.0.1:9090)
  --target NAME=ADMIN_URL    a sidecar's Envoy admin (repeatable), e.g. productpage=http://127.0.0.1:15000
  --port N                   listen port (default: a free one)
  -h, --help                 this help`;

export async function dashboardCommand(
  opts: { prometheus?: string; targets: string[]; port?: number },
  write: (s: string) => void,
): Promise<number> {
  const targets: ScrapeTarget[] = opts.targets.map((t) => {
    const i = t.indexOf('=');
    let url: URL | null = null;
    try {
      url = new URL(t.slice(i + 1));
    } catch {
      /* reported below */
    }
    if (i <= 0 || url === null) throw new InputError(`--target: ${JSON.stringify(t)} is not NAME=ADMIN_URL`);
    return { admin: url.origin, pod: t.slice(0, i), namespace: 'default', app: t.slice(0, i), version: '' };
  });
  if (opts.prometheus) {
    try {
      new URL(opts.prometheus);
    } catch {
      throw new InputError(`--prometheus: ${JSON.stringify(opts.prometheus)} is not a URL`);
    }
  } else if (!targets.length)
    throw new InputError('dashboard: --prometheus URL or at least one --target NAME=ADMIN_URL (asmesh dashboard --help)');
  const d = await startDashboard({ prometheus: opts.prometheus, targets, port: opts.port });
  write(
    `dashboard: ${d.url} (${opts.prometheus ? `Prometheus ${opts.prometheus}` : `scraping ${targets.length} sidecars itself: no Prometheus`})\nCtrl-C to stop\n`,
  );
  await new Promise<void>((res) => {
    process.once('SIGINT', () => res());
    process.once('SIGTERM', () => res());
  });
  await d.close();
  return 0;
}
