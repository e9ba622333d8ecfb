// What the dashboard shows, computed from PromQL at one evaluation time (so a test can ask
// Prometheus the same questions at the same instant): the topology (workloads, calls with RPS,
// error rate, p50/p90/p99, mTLS), per-service time series, SLO status, recent access-log lines.
import { promAlerts, promQuery, promRange, type PromSample } from '../observe/prometheus.ts';
import { ALERT_NAME } from '../slo/rules.ts';

export const RATE_WINDOW = '1m';
export const SLO_WINDOWS = ['5m', '1h', '6h', '1d', '3d'];

export interface Node {
  id: string;
  workload: string;
  namespace: string;
}
export interface Edge {
  source: string;
  destination: string;
  service: string;
  rps: number;
  errorRate: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** mutual_tls when every call used it, none when none did, else mixed. */
  mtls: 'mutual_tls' | 'none' | 'mixed';
}
export interface ServiceSeries {
  service: string;
  rps: [number, number][];
  errors: [number, number][];
  p99: [number, number][];
}
export interface SloStatus {
  slo: string;
  service: string;
  sli: string;
  target: number;
  window: string;
  sliNow: number | null;
  budgetLeft: number | null;
  burn: Record<string, number | null>;
  firing: { severity: string; long_window: string; short_window: string; burn_rate: string }[];
}
export interface LogLine {
  sidecar: string;
  [field: string]: unknown;
}
export interface DashboardState {
  time: number;
  source: string;
  note: string;
  rateWindow: string;
  nodes: Node[];
  edges: Edge[];
  services: ServiceSeries[];
  slos: SloStatus[];
  logs: LogLine[];
}

// Calls without traffic in the rate window are left out (as Kiali does for its time window).
const nodeId = (workload: string, namespace: string) => `${workload}.${namespace}`;
const DEST = 'reporter="destination"';
const EDGE_BY = 'source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, destination_service';

/** The queries behind each edge number (the Chromium test asks Prometheus the same). */
export const EDGE_QUERIES = {
  rps: `sum by (${EDGE_BY}, connection_security_policy) (rate(istio_requests_total{${DEST}}[${RATE_WINDOW}])) > 0`,
  errors: `sum by (${EDGE_BY}) (rate(istio_requests_total{${DEST},response_code=~"5.."}[${RATE_WINDOW}]))`,
  quantile: (q: number) =>
    `histogram_quantile(${q}, sum by (le, ${EDGE_BY}) (rate(istio_request_duration_milliseconds_bucket{${DEST}}[${RATE_WINDOW}])))`,
};

const edgeKey = (m: Record<string, string>) =>
  `${nodeId(m.source_workload, m.source_workload_namespace)}>${nodeId(m.destination_workload, m.destination_workload_namespace)}>${m.destination_service}`;
const finite = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);

export async function prometheusState(url: string, time: number, logs: LogLine[]): Promise<DashboardState> {
  const q = (e: string) => promQuery(url, e, time);
  const [rps, errors, p50, p90, p99] = await Promise.all([
    q(EDGE_QUERIES.rps),
    q(EDGE_QUERIES.errors),
    q(EDGE_QUERIES.quantile(0.5)),
    q(EDGE_QUERIES.quantile(0.9)),
    q(EDGE_QUERIES.quantile(0.99)),
  ]);
  const byKey = (s: PromSample[]) => new Map(s.map((x) => [edgeKey(x.metric), x.value]));
  const [err, q50, q90, q99] = [byKey(errors), byKey(p50), byKey(p90), byKey(p99)];
  const edges = new Map<string, Edge & { mtlsRps: number }>();
  const nodes = new Map<string, Node>();
  for (const s of rps) {
    const m = s.metric;
    const key = edgeKey(m);
    for (const [w, ns] of [
      [m.source_workload, m.source_workload_namespace],
      [m.destination_workload, m.destination_workload_namespace],
    ])
      nodes.set(nodeId(w, ns), { id: nodeId(w, ns), workload: w, namespace: ns });
    const e = edges.get(key) ?? {
      source: nodeId(m.source_workload, m.source_workload_namespace),
      destination: nodeId(m.destination_workload, m.destination_workload_namespace),
      service: m.destination_service,
      rps: 0,
      errorRate: 0,
      p50: finite(q50.get(key)),
      p90: finite(q90.get(key)),
      p99: finite(q99.get(key)),
      mtls: 'none' as Edge['mtls'],
      mtlsRps: 0,
    };
    e.rps += s.value;
    if (m.connection_security_policy === 'mutual_tls') e.mtlsRps += s.value;
    edges.set(key, e);
  }
  const out = [...edges.entries()]
    .map(([key, { mtlsRps, ...e }]): Edge => ({
      ...e,
      errorRate: e.rps > 0 ? (err.get(key) ?? 0) / e.rps : 0,
      mtls: mtlsRps === e.rps ? 'mutual_tls' : mtlsRps === 0 ? 'none' : 'mixed',
    }))
    .sort((a, b) => (a.source + a.destination).localeCompare(b.source + b.destination));

  const start = time - 300;
  const r = (e: string) => promRange(url, e, start, time, 5);
  const [sRps, sErr, sP99] = await Promise.all([
    r(`sum by (destination_service) (rate(istio_requests_total{${DEST}}[30s]))`),
    r(`sum by (destination_service) (rate(istio_requests_total{${DEST},response_code=~"5.."}[30s]))`),
    r(`histogram_quantile(0.99, sum by (le, destination_service) (rate(istio_request_duration_milliseconds_bucket{${DEST}}[30s])))`),
  ]);
  const services = [...new Set(sRps.map((s) => s.metric.destination_service))].sort().map((service) => {
    const pick = (x: typeof sRps) =>
      (x.find((s) => s.metric.destination_service === service)?.values ?? []).filter(([, v]) => Number.isFinite(v));
    return { service, rps: pick(sRps), errors: pick(sErr), p99: pick(sP99) };
  });

  const [objectives, budget, alerts, ...ratios] = await Promise.all([
    q('slo:objective:ratio'),
    q('slo:error_budget_remaining:ratio'),
    promAlerts(url),
    ...SLO_WINDOWS.map((w) => q(`slo:sli_error:ratio_rate${w}`)),
  ]);
  const slos = objectives
    .map((o): SloStatus => {
      const slo = o.metric.slo;
      const ratio = (i: number) => finite(ratios[i].find((s) => s.metric.slo === slo)?.value);
      const allowed = 1 - o.value;
      const burn = Object.fromEntries(
        SLO_WINDOWS.map((w, i) => {
          const v = ratio(i);
          return [w, v === null ? null : v / allowed];
        }),
      );
      const now = ratio(0);
      return {
        slo,
        service: o.metric.service,
        sli: o.metric.sli,
        target: o.value,
        window: o.metric.window,
        sliNow: now === null ? null : 1 - now,
        budgetLeft: finite(budget.find((s) => s.metric.slo === slo)?.value),
        burn,
        firing: alerts
          .filter((a) => a.labels.alertname === ALERT_NAME && a.labels.slo === slo && a.state === 'firing')
          .map((a) => ({
            severity: a.labels.severity,
            long_window: a.labels.long_window,
            short_window: a.labels.short_window,
            burn_rate: a.labels.burn_rate,
          })),
      };
    })
    .sort((a, b) => a.slo.localeCompare(b.slo));
  return {
    time,
    source: 'prometheus',
    note: `Prometheus at ${url}`,
    rateWindow: RATE_WINDOW,
    nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)),
    edges: out,
    services,
    slos,
    logs,
  };
}

/** The telemetry filter's access-log lines in an Envoy log: `wasm log <plugin> <root> <vm>: {json}`. */
export function accessLogLines(sidecar: string, log: string, max = 200): LogLine[] {
  const out: LogLine[] = [];
  for (const line of log.split('\n')) {
    const m = /wasm log \S*telemetry\S* \S+ \S+: (\{.*\})\s*$/.exec(line);
    if (!m) continue;
    try {
      out.push({ sidecar, ...(JSON.parse(m[1]) as Record<string, unknown>) });
    } catch {
      /* not one of ours */
    }
  }
  return out.slice(-max);
}
