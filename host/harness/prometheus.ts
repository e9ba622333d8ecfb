// Metrics as Envoy's /stats/prometheus prints them. Tags are extracted with the same
// stats_tags rules as the Envoy config (TagExtractorImpl: the first capture group is removed
// from the name, the value is the second group when there is one, else the first). Stats in a
// registered custom namespace (wasmcustom) lose the namespace and get no `envoy_` prefix.
import type { Metric } from './metrics.ts';

export interface StatsTagRule {
  tagName: string;
  regex: string;
}

// Envoy's default histogram buckets (ms).
const BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
const CUSTOM_NAMESPACES = ['wasmcustom'];

export function extractTags(name: string, rules: StatsTagRule[]): { name: string; tags: [string, string][] } {
  const tags: [string, string][] = [];
  let rest = name;
  for (const rule of rules) {
    const match = new RegExp(rule.regex).exec(rest);
    if (match === null || match[1] === undefined) continue;
    const removed = match[1];
    tags.push([rule.tagName, match[2] ?? match[1]]);
    const at = match.index + match[0].indexOf(removed);
    rest = rest.slice(0, at) + rest.slice(at + removed.length);
  }
  return { name: rest, tags };
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

export function prometheusName(extracted: string): string {
  for (const ns of CUSTOM_NAMESPACES) {
    if (extracted.startsWith(ns + '.')) return sanitize(extracted.slice(ns.length + 1));
  }
  return 'envoy_' + sanitize(extracted);
}

function labels(tags: [string, string][], extra?: [string, string]): string {
  const all = extra ? [...tags, extra] : tags;
  if (all.length === 0) return '';
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return '{' + all.map(([k, v]) => `${sanitize(k)}="${escape(v)}"`).join(',') + '}';
}

export function renderPrometheus(stats: Map<string, Metric>, rules: StatsTagRule[]): string {
  const groups = new Map<string, { type: Metric['type']; series: { tags: [string, string][]; metric: Metric }[] }>();
  for (const [full, metric] of stats) {
    const { name, tags } = extractTags(full, rules);
    const prom = prometheusName(name);
    const group = groups.get(prom) ?? { type: metric.type, series: [] };
    group.series.push({ tags, metric });
    groups.set(prom, group);
  }
  let out = '';
  for (const prom of [...groups.keys()].sort()) {
    const group = groups.get(prom)!;
    out += `# TYPE ${prom} ${group.type}\n`;
    for (const { tags, metric } of group.series) {
      if (group.type !== 'histogram') {
        out += `${prom}${labels(tags)} ${metric.value}\n`;
        continue;
      }
      const samples = metric.samples ?? [];
      for (const le of BUCKETS) out += `${prom}_bucket${labels(tags, ['le', String(le)])} ${samples.filter((s) => s <= le).length}\n`;
      out += `${prom}_bucket${labels(tags, ['le', '+Inf'])} ${samples.length}\n`;
      out += `${prom}_sum${labels(tags)} ${samples.reduce((a, b) => a + b, 0)}\n`;
      out += `${prom}_count${labels(tags)} ${samples.length}\n`;
    }
  }
  return out;
}
