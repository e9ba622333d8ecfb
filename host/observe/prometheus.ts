// A real Prometheus (Debian package `prometheus`) for the demo and the tests: a scrape config for
// every sidecar's Envoy admin /stats/prometheus with Istio's relabelling (its `envoy-stats` job:
// pod and namespace labels from the workload), our SLO rules loaded, bound to loopback on a free
// port, its data under .tmp, stopped with the process that started it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from '../paths.ts';
import { until } from '../until.ts';

/** One scrape target: a sidecar's Envoy admin and the workload it fronts. */
export interface ScrapeTarget {
  admin: string;
  pod: string;
  namespace: string;
  app: string;
  version: string;
}

/** The Prometheus binary (PROMETHEUS, PATH, /usr/bin), or null when not installed. */
export function findPrometheus(): string | null {
  if (process.env.PROMETHEUS) return existsSync(process.env.PROMETHEUS) ? process.env.PROMETHEUS : null;
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin'])
    if (dir && existsSync(join(dir, 'prometheus'))) return join(dir, 'prometheus');
  return null;
}

/**
 * prometheus.yml for the sidecars. Kubernetes service discovery would give Istio's job the
 * `__meta_kubernetes_*` labels; static targets carry the same ones and the same relabel rules map
 * them to `namespace`, `pod`, `app`, `version`, so Istio's queries and dashboards see the same labels.
 */
export function scrapeConfig(targets: ScrapeTarget[], opts: { intervalSeconds: number; ruleFiles: string[] }) {
  const meta = (k: string) => `__meta_kubernetes_${k}`;
  return {
    global: {
      scrape_interval: `${opts.intervalSeconds}s`,
      evaluation_interval: `${opts.intervalSeconds}s`,
      scrape_timeout: `${opts.intervalSeconds}s`,
    },
    rule_files: opts.ruleFiles,
    scrape_configs: [
      {
        job_name: 'envoy-stats',
        metrics_path: '/stats/prometheus',
        static_configs: targets.map((t) => ({
          targets: [new URL(t.admin).host],
          labels: {
            [meta('namespace')]: t.namespace,
            [meta('pod_name')]: t.pod,
            [meta('pod_label_app')]: t.app,
            [meta('pod_label_version')]: t.version,
          },
        })),
        relabel_configs: [
          { source_labels: [meta('namespace')], action: 'replace', target_label: 'namespace' },
          { source_labels: [meta('pod_name')], action: 'replace', target_label: 'pod' },
          { source_labels: [meta('pod_label_app')], action: 'replace', target_label: 'app' },
          { source_labels: [meta('pod_label_version')], action: 'replace', target_label: 'version' },
        ],
      },
    ],
  };
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt?: string;
}

/** An instant query against the Prometheus HTTP API; vector results as samples, a scalar as one sample. */
export async function promQuery(url: string, expr: string, time?: number): Promise<PromSample[]> {
  const at = time === undefined ? '' : `&time=${time}`;
  const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}${at}`);
  const body = (await r.json()) as { status: string; error?: string; data: { resultType: string; result: any } };
  if (body.status !== 'success') throw new Error(`PromQL ${expr}: ${body.error}`);
  if (body.data.resultType === 'scalar') return [{ metric: {}, value: Number(body.data.result[1]) }];
  return (body.data.result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
    metric: s.metric,
    value: Number(s.value[1]),
  }));
}

/** A range query: each series with its [time, value] points. */
export async function promRange(
  url: string,
  expr: string,
  start: number,
  end: number,
  step: number,
): Promise<{ metric: Record<string, string>; values: [number, number][] }[]> {
  const r = await fetch(`${url}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${start}&end=${end}&step=${step}`);
  const body = (await r.json()) as {
    status: string;
    error?: string;
    data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  if (body.status !== 'success') throw new Error(`PromQL ${expr}: ${body.error}`);
  return body.data.result.map((s) => ({ metric: s.metric, values: s.values.map(([t, v]) => [t, Number(v)] as [number, number]) }));
}

export async function promAlerts(url: string): Promise<PromAlert[]> {
  const body = (await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } };
  return body.data.alerts;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export class Prometheus {
  constructor(
    readonly url: string,
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly log: string[],
  ) {}

  logs(): string {
    return this.log.join('');
  }

  /** An instant PromQL query (at `time`, Unix seconds, else now). */
  query(expr: string, time?: number): Promise<PromSample[]> {
    return promQuery(this.url, expr, time);
  }

  /** Firing and pending alerts. */
  alerts(): Promise<PromAlert[]> {
    return promAlerts(this.url);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((res) => this.child.once('exit', () => res()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let runs = 0;
/**
 * Starts Prometheus with the sidecars as targets and the rules (YAML text) loaded, on 127.0.0.1 and
 * the port it binds itself, data in .tmp/prometheus/<pid>-<n>/; resolves when /-/ready answers 200.
 */
export async function startPrometheus(opts: {
  targets: ScrapeTarget[];
  rules?: string;
  intervalSeconds?: number;
  binary?: string;
  timeoutMs?: number;
}): Promise<Prometheus> {
  const binary = opts.binary ?? findPrometheus();
  if (!binary) throw new Error('prometheus is not installed (apt-get install prometheus)');
  const dir = join(repoRoot, '.tmp', 'prometheus', `${process.pid}-${++runs}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  const ruleFiles: string[] = [];
  if (opts.rules) {
    writeFileSync(join(dir, 'rules.yaml'), opts.rules);
    ruleFiles.push(join(dir, 'rules.yaml'));
  }
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify(scrapeConfig(opts.targets, { intervalSeconds: opts.intervalSeconds ?? 1, ruleFiles }), { lineWidth: 0 }),
  );
  const log: string[] = [];
  // Prometheus binds port 0 and logs the port it got (info level: `msg="Listening on" address=127.0.0.1:N`).
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--storage.tsdb.retention.time=1d',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.stdout!.on('data', (d) => log.push(String(d)));
  child.stderr!.on('data', (d) => log.push(String(d)));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let prom: Prometheus | null = null;
  try {
    const port = await until(
      () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode} before it was ready`);
        return /msg="Listening on" address=127\.0\.0\.1:(\d+)/.exec(log.join(''))?.[1];
      },
      timeoutMs,
      'prometheus to log its listen address',
      50,
    );
    prom = new Prometheus(`http://127.0.0.1:${port}`, dir, child, log);
    const url = prom.url;
    await until(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode} before it was ready`);
        return fetch(`${url}/-/ready`).then(
          (r) => r.status === 200,
          () => false,
        );
      },
      timeoutMs,
      'prometheus /-/ready',
      100,
    );
    return prom;
  } catch (error) {
    if (prom !== null) await prom.stop();
    else if (child.exitCode === null) child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}:\n${log.join('')}`);
  }
}
