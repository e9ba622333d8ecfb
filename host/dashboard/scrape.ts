// The dashboard without Prometheus: it scrapes the sidecars' /stats/prometheus itself every 2 s,
// keeps 5 minutes of snapshots in memory and computes what state.ts asks Prometheus for (rates as
// counter deltas, quantiles with Prometheus's histogram_quantile). No rules run here, so the SLO
// panel stays empty and says so.
import { histogramQuantile, parseSamples, type Sample } from '../observe/exposition.ts';
import type { ScrapeTarget } from '../observe/prometheus.ts';
import { RATE_WINDOW, type DashboardState, type Edge, type LogLine, type Node, type ServiceSeries } from './state.ts';

interface Snapshot {
  t: number;
  samples: Sample[];
}
const KEEP_S = 300;
const WINDOW_S = 60;

const key = (l: Record<string, string>, names: string[]) => names.map((n) => l[n] ?? '').join('\u0000');
const EDGE = [
  'source_workload',
  'source_workload_namespace',
  'destination_workload',
  'destination_workload_namespace',
  'destination_service',
];

export class DirectScraper {
  private snapshots: Snapshot[] = [];
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly targets: ScrapeTarget[],
    private readonly everyMs = 2000,
  ) {}

  start(): void {
    const tick = async () => {
      await this.scrape().catch(() => {});
      if (this.timer !== null) this.timer = setTimeout(tick, this.everyMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async scrape(): Promise<void> {
    const t = Date.now() / 1000;
    const texts = await Promise.all(
      this.targets.map((x) =>
        fetch(`${x.admin}/stats/prometheus`).then(
          (r) => r.text(),
          () => '',
        ),
      ),
    );
    const samples = texts
      .flatMap((text, i) =>
        parseSamples(text, 'istio_').map((s) => ({ ...s, labels: { ...s.labels, pod: this.targets[i].pod } as Record<string, string> })),
      )
      .filter((s) => s.labels.reporter === 'destination');
    this.snapshots.push({ t, samples });
    while (this.snapshots.length > 2 && this.snapshots[0].t < t - KEEP_S) this.snapshots.shift();
  }

  /** Per-second increase of each series between two snapshots (a series new in `b` counts from 0). */
  private rates(a: Snapshot, b: Snapshot, name: string, filter: (l: Record<string, string>) => boolean = () => true): Sample[] {
    const before = new Map(a.samples.filter((s) => s.name === name).map((s) => [JSON.stringify(s.labels), s.value]));
    const dt = b.t - a.t;
    return b.samples
      .filter((s) => s.name === name && filter(s.labels))
      .map((s) => ({ ...s, value: Math.max(0, s.value - (before.get(JSON.stringify(s.labels)) ?? 0)) / dt }));
  }

  private static sumBy(samples: Sample[], names: string[]): Map<string, { labels: Record<string, string>; value: number }> {
    const out = new Map<string, { labels: Record<string, string>; value: number }>();
    for (const s of samples) {
      const k = key(s.labels, names);
      const e = out.get(k) ?? { labels: Object.fromEntries(names.map((n) => [n, s.labels[n] ?? ''])), value: 0 };
      e.value += s.value;
      out.set(k, e);
    }
    return out;
  }

  private quantiles(a: Snapshot, b: Snapshot, by: string[], qs: number[]): Map<string, (number | null)[]> {
    const buckets = new Map<string, Map<number, number>>();
    for (const s of this.rates(a, b, 'istio_request_duration_milliseconds_bucket')) {
      const k = key(s.labels, by);
      const m = buckets.get(k) ?? new Map<number, number>();
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      m.set(le, (m.get(le) ?? 0) + s.value);
      buckets.set(k, m);
    }
    return new Map([...buckets].map(([k, m]) => [k, qs.map((q) => histogramQuantile(q, [...m]))]));
  }

  state(logs: LogLine[]): DashboardState {
    const snaps = this.snapshots;
    const last = snaps[snaps.length - 1];
    const note = `no Prometheus: the dashboard scrapes ${this.targets.length} sidecars itself every ${this.everyMs / 1000} s (embedded default); SLO status needs Prometheus and the SLO rules`;
    const base: DashboardState = {
      time: last?.t ?? Date.now() / 1000,
      source: 'scrape',
      note,
      rateWindow: RATE_WINDOW,
      nodes: [],
      edges: [],
      services: [],
      slos: [],
      logs,
    };
    if (snaps.length < 2) return base;
    const first = snaps.find((s) => s.t >= last.t - WINDOW_S - 0.5) ?? snaps[0];
    const from = first === last ? snaps[snaps.length - 2] : first;
    const requests = this.rates(from, last, 'istio_requests_total');
    const total = DirectScraper.sumBy(requests, [...EDGE, 'connection_security_policy']);
    const errors = DirectScraper.sumBy(
      requests.filter((s) => /^5/.test(s.labels.response_code ?? '')),
      EDGE,
    );
    const q = this.quantiles(from, last, EDGE, [0.5, 0.9, 0.99]);
    const nodes = new Map<string, Node>();
    const edges = new Map<string, Edge & { m: number }>();
    for (const { labels: l, value } of total.values()) {
      if (value === 0) continue;
      const src = `${l.source_workload}.${l.source_workload_namespace}`;
      const dst = `${l.destination_workload}.${l.destination_workload_namespace}`;
      nodes.set(src, { id: src, workload: l.source_workload, namespace: l.source_workload_namespace });
      nodes.set(dst, { id: dst, workload: l.destination_workload, namespace: l.destination_workload_namespace });
      const k = key(l, EDGE);
      const [p50, p90, p99] = q.get(k) ?? [null, null, null];
      const e = edges.get(k) ?? {
        source: src,
        destination: dst,
        service: l.destination_service,
        rps: 0,
        errorRate: 0,
        p50,
        p90,
        p99,
        mtls: 'none',
        m: 0,
      };
      e.rps += value;
      if (l.connection_security_policy === 'mutual_tls') e.m += value;
      edges.set(k, e);
    }
    const edgeList = [...edges.entries()].map(([k, { m, ...e }]): Edge => ({
      ...e,
      errorRate: (errors.get(k)?.value ?? 0) / e.rps,
      mtls: m === e.rps ? 'mutual_tls' : m === 0 ? 'none' : 'mixed',
    }));
    // Per service: one point per snapshot pair ~30 s apart.
    const series = new Map<string, ServiceSeries>();
    for (let i = 1; i < snaps.length; i++) {
      const b = snaps[i];
      const a = snaps.find((s) => s.t >= b.t - 30.5) ?? snaps[i - 1];
      const from = a === b ? snaps[i - 1] : a;
      const r = this.rates(from, b, 'istio_requests_total');
      const byService = DirectScraper.sumBy(r, ['destination_service']);
      const errs = DirectScraper.sumBy(
        r.filter((s) => /^5/.test(s.labels.response_code ?? '')),
        ['destination_service'],
      );
      const p99 = this.quantiles(from, b, ['destination_service'], [0.99]);
      for (const [k, { value }] of byService) {
        const s = series.get(k) ?? { service: k, rps: [], errors: [], p99: [] };
        s.rps.push([b.t, value]);
        s.errors.push([b.t, errs.get(k)?.value ?? 0]);
        const p = p99.get(k)?.[0];
        if (p !== null && p !== undefined) s.p99.push([b.t, p]);
        series.set(k, s);
      }
    }
    return {
      ...base,
      nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)),
      edges: edgeList,
      services: [...series.values()].sort((a, b) => a.service.localeCompare(b.service)),
    };
  }
}
