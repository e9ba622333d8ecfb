// Envoy's /stats/prometheus text, parsed: for the tests and the demo (one parser of the exposition).
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

/**
 * A filter's stat name `l1=v1;...;ln=vn;<metric>` (assembly/lib/stats.ts encodeMetricName, `wasmcustom.`
 * already cut) as the metric and its labels, as the stats_tags rules of filters/manifest.ts read it.
 */
export function decodeStatName(stat: string): { name: string; labels: Record<string, string> } {
  const parts = stat.split(';');
  const labels: Record<string, string> = {};
  for (const p of parts.slice(0, -1)) {
    const eq = p.indexOf('=');
    labels[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return { name: parts.at(-1)!, labels };
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Parses Prometheus text format 0.0.4 strictly: names and label names valid, label values
 * properly quoted and escaped, numeric values, TYPE before samples, no duplicate series, one
 * TYPE per family, histogram buckets cumulative with +Inf equal to _count. Throws on violations.
 */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('exposition must end with a newline');
  for (const [n, line] of lines.slice(0, -1).entries()) {
    const where = `line ${n + 1}: ${line}`;
    if (line.startsWith('#')) {
      const m = /^# (TYPE|HELP) (\S+) ?(.*)$/.exec(line);
      if (m === null) continue; // comment
      if (!NAME.test(m[2]!)) throw new Error(`bad metric name in ${where}`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!)) throw new Error(`bad type in ${where}`);
        if (types.has(m[2]!)) throw new Error(`second TYPE for ${m[2]} in ${where}`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    if (line.trim() === '') continue;
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
    const name = line.slice(0, i);
    if (!NAME.test(name)) throw new Error(`bad metric name in ${where}`);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        const eq = line.indexOf('=', i);
        const lname = line.slice(i, eq);
        if (!LABEL.test(lname)) throw new Error(`bad label name "${lname}" in ${where}`);
        if (lname in labels) throw new Error(`duplicate label ${lname} in ${where}`);
        if (line[eq + 1] !== '"') throw new Error(`unquoted label value in ${where}`);
        let j = eq + 2;
        let value = '';
        for (;;) {
          const c = line[j];
          if (c === undefined) throw new Error(`unterminated label value in ${where}`);
          if (c === '"') break;
          if (c === '\\') {
            const e = line[j + 1];
            if (e === 'n') value += '\n';
            else if (e === '\\' || e === '"') value += e;
            else throw new Error(`bad escape in ${where}`);
            j += 2;
            continue;
          }
          value += c;
          j++;
        }
        labels[lname] = value;
        i = j + 1;
        if (line[i] === ',') i++;
        else if (line[i] !== '}') throw new Error(`expected , or } in ${where}`);
      }
      i++;
    }
    if (line[i] !== ' ') throw new Error(`expected a space before the value in ${where}`);
    const parts = line.slice(i + 1).split(' ');
    const value = parts[0] === '+Inf' ? Infinity : parts[0] === '-Inf' ? -Infinity : parts[0] === 'NaN' ? NaN : Number(parts[0]);
    if (parts[0] === '' || (Number.isNaN(value) && parts[0] !== 'NaN') || parts.length > 2) throw new Error(`bad value in ${where}`);
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(family)) throw new Error(`sample before its TYPE in ${where}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`duplicate series in ${where}`);
    seen.add(key);
    samples.push({ name, labels, value });
  }
  // Histograms: buckets non-decreasing, +Inf bucket equals _count. Indexed once: an exposition
  // at the cardinality cap has hundreds of thousands of samples.
  const labelKey = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort());
  const counts = new Map<string, Sample>();
  const buckets = new Map<string, Sample[]>();
  for (const s of samples) {
    if (s.name.endsWith('_count')) counts.set(s.name.slice(0, -'_count'.length) + labelKey(s.labels), s);
    if (!s.name.endsWith('_bucket')) continue;
    const { le, ...rest } = s.labels;
    if (le === undefined) throw new Error(`${s.name} without le`);
    const k = s.name.slice(0, -'_bucket'.length) + labelKey(rest);
    const list = buckets.get(k);
    if (list === undefined) buckets.set(k, [s]);
    else list.push(s);
  }
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    for (const [k, series] of buckets) {
      if (!k.startsWith(family + '[')) continue;
      let prev = -1;
      for (const b of series) {
        if (b.value < prev) throw new Error(`${family} buckets not cumulative`);
        prev = b.value;
      }
      const inf = series.find((b) => b.labels.le === '+Inf');
      const count = counts.get(k);
      if (inf === undefined || count === undefined || inf.value !== count.value)
        throw new Error(`${family}: +Inf bucket differs from _count for ${k.slice(family.length)}`);
    }
  }
  return { types, samples };
}

/** Samples of `name` whose labels include `match`. */
export function select(exp: Exposition, name: string, match: Record<string, string> = {}): Sample[] {
  return exp.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

export function total(exp: Exposition, name: string, match: Record<string, string> = {}): number {
  return select(exp, name, match).reduce((a, s) => a + s.value, 0);
}
