// The demo's observability: Prometheus (when installed) scraping the three sidecars with the demo's
// SLO rules, the dashboard on top of it (or scraping the sidecars itself), and a trickle of traffic
// so the dashboard moves while the demo runs.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPrometheus, startPrometheus, type Prometheus, type ScrapeTarget } from '../observe/prometheus.ts';
import { sloRulesYaml } from '../slo/rules.ts';
import { parseSloFile } from '../slo/spec.ts';
import { SIDECARS, send, type Mesh } from '../demo/mesh.ts';
import { startDashboard, type Dashboard } from './server.ts';
import { accessLogLines } from './state.ts';

export interface Observability {
  prometheus: Prometheus | null;
  dashboard: Dashboard;
  stop(): Promise<void>;
}

export function meshTargets(mesh: Mesh): ScrapeTarget[] {
  return (
    [
      ['sidecar_a', mesh.sidecars.a],
      ['sidecar_b_v1', mesh.sidecars.v1],
      ['sidecar_b_v2', mesh.sidecars.v2],
    ] as const
  ).map(([k, s]) => ({
    admin: s.admin,
    pod: SIDECARS[k].name,
    namespace: 'default',
    app: SIDECARS[k].app,
    version: SIDECARS[k].version,
  }));
}

export async function startObservability(
  mesh: Mesh,
  opts: { root: string; progress: (s: string) => void; intervalSeconds?: number; port?: number },
): Promise<Observability> {
  const targets = meshTargets(mesh);
  let prometheus: Prometheus | null = null;
  if (findPrometheus()) {
    const slo = join(opts.root, 'envoy/demo/slo.yaml');
    prometheus = await startPrometheus({
      targets,
      rules: sloRulesYaml(parseSloFile(slo, readFileSync(slo, 'utf8')), 'envoy/demo/slo.yaml'),
      intervalSeconds: opts.intervalSeconds ?? 1,
    });
    opts.progress(
      `started Prometheus ${prometheus.url} (scraping ${targets.length} sidecars every ${opts.intervalSeconds ?? 1} s, SLO rules of envoy/demo/slo.yaml)`,
    );
  } else {
    opts.progress('Prometheus not installed (apt-get install prometheus): the dashboard scrapes the sidecars itself, without SLO rules');
  }
  const sidecars = [mesh.sidecars.a, mesh.sidecars.v1, mesh.sidecars.v2];
  const dashboard = await startDashboard({
    prometheus: prometheus?.url,
    targets,
    port: opts.port,
    logs: () =>
      sidecars
        .flatMap((s) => accessLogLines(s.name, s.envoy.logs()))
        .sort((a, b) => String(a.start_time).localeCompare(String(b.start_time)))
        .slice(-200),
  });
  opts.progress(`dashboard: ${dashboard.url}`);
  return {
    prometheus,
    dashboard,
    stop: async () => {
      await dashboard.close();
      await prometheus?.stop();
    },
  };
}

/** Background requests through service_a (`perSecond`, one in 20 as end-user jason, each with a traceparent) until stopped. */
export function startTraffic(
  mesh: Mesh,
  perSecond = 4,
  headers: () => Record<string, string> = () => ({}),
): { stop(): Promise<void>; sent: () => number } {
  let stopped = false;
  let sent = 0;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      // A W3C trace context per request, so the access log lines carry trace ids.
      const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
      const h: Record<string, string> = { authorization: `Bearer ${mesh.issuer.token()}`, traceparent, ...headers() };
      if (sent % 20 === 0) h['end-user'] = 'jason';
      await send(`${mesh.serviceA}/info`, { headers: h });
      sent++;
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / perSecond - (Date.now() - started))));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
    sent: () => sent,
  };
}
