// promtool unit tests (`promtool test rules`) for the generated SLO rules: synthetic Istio series
// whose error share is a chosen multiple of the budget, evaluated by Prometheus's own rule engine.
// The expected firing set of each case follows from the SRE workbook's thresholds (burn rates
// 14.4, 6, 3, 1 for a 30d window): each alert fires in some case and stays quiet in another.
import { ALERT_NAME, BURN_PAIRS, burnRate, sloRules } from '../../host/slo/rules.ts';
import type { Objective } from '../../host/slo/spec.ts';

/** Requests per minute in every synthetic series. */
const PER_MINUTE = 1000;
const END = 3 * 24 * 60; // minutes of data: the slowest pair's 3d window

/** Minutes at the end with a sample every minute; before them one sample an hour keeps 3 days
 * of history for the long windows at a fraction of promtool's work. */
const DENSE = 8 * 60;

/** Counter samples in promtool's notation, one per minute ('_' = none): segments of
 * [minutes, increase per minute] covering END + 1 minutes. */
function counter(segments: [number, number][]): string {
  const out: string[] = [];
  let value = 0;
  for (const [minutes, inc] of segments) {
    for (let i = 0; i < minutes; i++) {
      const m = out.length;
      if (m > 0) value += inc;
      out.push(m >= END - DENSE || m % 60 === 0 ? String(Math.round(value * 1000) / 1000) : '_');
    }
  }
  if (out.length !== END + 1) throw new Error(`profile covers ${out.length} minutes, not ${END + 1}`);
  return out.join(' ');
}

/** Bad requests per minute over time: [minutes, bad per minute] segments summing to END + 1 samples. */
type Profile = [number, number][];

function series(o: Objective, bad: Profile): { series: string; values: string }[] {
  const sel = `reporter="${o.reporter}",destination_service="${o.service}"`;
  const good = bad.map(([m, b]) => [m, PER_MINUTE - b] as [number, number]);
  const all = bad.map(([m]) => [m, PER_MINUTE] as [number, number]);
  if (o.sli === 'availability') {
    return [
      { series: `istio_requests_total{${sel},response_code="200"}`, values: counter(good) },
      { series: `istio_requests_total{${sel},response_code="503"}`, values: counter(bad) },
    ];
  }
  return [
    { series: `istio_request_duration_milliseconds_bucket{${sel},le="${o.thresholdMs}"}`, values: counter(good) },
    { series: `istio_request_duration_milliseconds_bucket{${sel},le="+Inf"}`, values: counter(all) },
    { series: `istio_request_duration_milliseconds_count{${sel}}`, values: counter(all) },
  ];
}

export interface BurnCase {
  name: string;
  profile: (budgetPerMinute: number) => Profile;
  at: number;
  fires: string[];
}

/** A steady burn of `rate` x the budget for the whole 3 days: pairs whose threshold is below it fire. */
function steady(rate: number): BurnCase {
  return {
    name: `steady burn ${rate}x`,
    at: END,
    profile: (b) => [[END + 1, b * rate]],
    fires: BURN_PAIRS.filter((p) => burnRate(p, 30 * 86400) < rate).map((p) => p.long),
  };
}

/** 60 minutes of 30x then clean: 50 minutes in, the fast page fires; 20 minutes after, its 1h window still
 * burns over 14.4x but the 5m window is clean, so it has stopped (the short window's job). */
const burst = (at: number, fires: string[]): BurnCase => ({
  name: `30x burst for 60m, evaluated ${at === 4290 ? 'during it' : '20m after it ended'}`,
  at,
  fires,
  profile: (b) => [
    [4240, 0],
    [60, b * 30],
    [END + 1 - 4300, 0],
  ],
});

export const CASES: BurnCase[] = [steady(20), steady(10), steady(4), steady(2), steady(0.5), burst(4290, ['1h']), burst(4320, [])];

/** The promtool test file for the objectives (whose rules are in `rulesFile`). */
export function promtoolTests(objectives: Objective[], rulesFile: string) {
  const rules = sloRules(objectives)
    .groups.flatMap((g) => g.rules)
    .filter((r) => r.alert === ALERT_NAME);
  return {
    rule_files: [rulesFile],
    evaluation_interval: '30m',
    tests: CASES.map((c) => ({
      name: c.name,
      interval: '1m',
      input_series: objectives.flatMap((o) => series(o, c.profile(Math.round(PER_MINUTE * (1 - o.target) * 1e6) / 1e6))),
      alert_rule_test: [
        {
          eval_time: `${c.at}m`,
          alertname: ALERT_NAME,
          exp_alerts: rules
            .filter((r) => c.fires.includes(r.labels!.long_window))
            .map((r) => ({ exp_labels: r.labels, exp_annotations: r.annotations })),
        },
      ],
      // The budget left over the 30d window: 1 - (share of bad requests / budget).
      promql_expr_test:
        c.name === 'steady burn 0.5x'
          ? objectives.map((o) => ({
              expr: `(slo:error_budget_remaining:ratio{slo="${o.name}"} > bool 0.49) * (slo:error_budget_remaining:ratio{slo="${o.name}"} < bool 0.51)`,
              eval_time: `${c.at}m`,
              exp_samples: [{ labels: `{service="${o.service}", sli="${o.sli}", slo="${o.name}", window="${o.window}"}`, value: 1 }],
            }))
          : undefined,
    })),
  };
}
