// Grafana's part of a dashboard, for tests: its template variables resolved against a Prometheus
// as Grafana does on load (query variables in order, `query_result(...)` rendered and cut by the
// variable's regex, `label_values(...)`, custom lists, the saved selection kept when still offered,
// else the first option; All = every option), and a panel's PromQL with them substituted by the
// Prometheus data source's rules (multi/All values regex-escaped and joined as `(a|b)`).
import type { PromSample } from '../../host/observe/prometheus.ts';

type Obj = Record<string, any>;
export type Query = (expr: string) => Promise<PromSample[]>;

export interface Variable {
  name: string;
  type: string;
  query: string;
  regex: string;
  multi: boolean;
  includeAll: boolean;
  allValue: string | null;
  current: string[] | null;
  sort: number;
}
/** A variable's value: one string, or several (multi / All). */
export type Values = Record<string, string | string[]>;

export interface Target {
  panel: string;
  refId: string;
  expr: string;
  hidden: boolean;
  /** Grafana asks Prometheus for one instant (tables, stats marked instant), else a range (a graph). */
  instant: boolean;
}

export function variables(dashboard: Obj): Variable[] {
  return ((dashboard.templating?.list ?? []) as Obj[])
    .filter((v) => v.type !== 'datasource')
    .map((v) => {
      const cur = v.current?.value;
      return {
        name: v.name,
        type: v.type,
        query: typeof v.query === 'string' ? v.query : (v.query?.query ?? ''),
        regex: v.regex ?? '',
        multi: !!v.multi,
        includeAll: !!v.includeAll,
        allValue: v.allValue ?? null,
        current: cur === undefined || cur === null ? null : Array.isArray(cur) ? cur : [cur],
        sort: v.sort ?? 0,
      };
    });
}

/** Every query target of every panel (rows' nested panels included). */
export function targets(dashboard: Obj): Target[] {
  const out: Target[] = [];
  const walk = (panels: Obj[]) => {
    for (const p of panels) {
      for (const t of (p.targets ?? []) as Obj[])
        if (t.expr) out.push({ panel: p.title, refId: t.refId ?? '', expr: t.expr, hidden: !!t.hide, instant: !!t.instant && !t.range });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels ?? []);
  return out;
}

// Grafana's Prometheus data source (interpolateQueryExpr): a plain variable is inserted as is
// (backslashes and quotes escaped); a multi-value or All variable's values are regex-escaped and
// joined into a group.
const regularEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
const regexEscape = (s: string) => s.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');

function format(v: Variable, value: string | string[]): string {
  if (!v.multi && !v.includeAll) return regularEscape(Array.isArray(value) ? value.join(',') : value);
  if (typeof value === 'string') return value === v.allValue ? value : regexEscape(value);
  const escaped = value.map(regexEscape);
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

/** `text` with `$name`, `${name}` and `[[name]]` replaced (longest names first), `$__rate_interval` as given. */
export function interpolate(text: string, vars: Variable[], values: Values, rateInterval: string): string {
  let out = text.replaceAll('$__rate_interval', rateInterval).replaceAll('${__rate_interval}', rateInterval);
  for (const v of [...vars].sort((a, b) => b.name.length - a.name.length)) {
    if (!(v.name in values)) continue;
    const s = format(v, values[v.name]!);
    out = out.replaceAll(`\${${v.name}}`, s).replaceAll(`[[${v.name}]]`, s).replaceAll(`$${v.name}`, s);
  }
  return out;
}

// query_result(): each sample as Grafana renders it, `name{k="v",...} value timestamp_ms`.
const rendered = (s: PromSample) => {
  const { __name__ = '', ...labels } = s.metric;
  return `${__name__}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}} ${s.value} 0`;
};

/** The options a variable offers, given the values of the variables before it. */
export async function options(v: Variable, vars: Variable[], values: Values, query: Query, rateInterval: string): Promise<string[]> {
  if (v.type === 'custom')
    return v.query
      .split(/(?<!\\),/)
      .map((s) => s.trim())
      .filter(Boolean);
  if (v.type !== 'query') throw new Error(`variable ${v.name}: type ${v.type} not emulated`);
  const q = interpolate(v.query, vars, values, rateInterval);
  let texts: string[];
  const lv = /^label_values\((.*),\s*(\w+)\)$/s.exec(q);
  const qr = /^query_result\((.*)\)$/s.exec(q.trim());
  if (lv) texts = (await query(`count by (${lv[2]}) (${lv[1]})`)).map((s) => s.metric[lv[2]!] ?? '').filter(Boolean);
  else if (qr) texts = (await query(qr[1]!)).map(rendered);
  else throw new Error(`variable ${v.name}: query ${q} not emulated`);
  let out = texts;
  if (v.regex) {
    const m = /^\/(.*)\/([gimsuy]*)$/s.exec(v.regex);
    const re = m ? new RegExp(m[1]!, m[2]!.replace('g', '')) : new RegExp(v.regex);
    out = texts.flatMap((t) => {
      const x = re.exec(t);
      return x ? [x[1] ?? x[0]] : [];
    });
  }
  out = [...new Set(out)];
  if (v.sort === 1 || v.sort === 5) out.sort();
  if (v.sort === 2 || v.sort === 6) out.sort().reverse();
  return out;
}

/** What Grafana selects on load: the saved selection where it is still offered (All stays All), else the first option. */
export function selected(v: Variable, opts: string[]): string | string[] {
  const cur = v.current ?? [];
  if (v.includeAll && cur.includes('$__all')) return v.allValue ?? opts;
  const kept = cur.filter((c) => opts.includes(c));
  if (kept.length) return v.multi ? kept : kept[0]!;
  return v.multi ? opts.slice(0, 1) : (opts[0] ?? '');
}

/**
 * Every selection a user can make of the single-valued variables (each option in turn; the ones
 * after it re-resolved, as Grafana refreshes dependants), multi-value variables as saved and with
 * every option selected. Each with the variables' values.
 */
export async function selections(vars: Variable[], query: Query, rateInterval: string): Promise<Values[]> {
  let acc: Values[] = [{}];
  for (const v of vars) {
    const next: Values[] = [];
    for (const values of acc) {
      const opts = await options(v, vars, values, query, rateInterval);
      const picks: (string | string[])[] = v.multi && !v.includeAll ? [selected(v, opts), opts] : v.multi ? [selected(v, opts)] : opts;
      if (!picks.length) picks.push(selected(v, opts));
      const seen = new Set<string>();
      for (const p of picks) {
        const key = JSON.stringify(p);
        if (seen.has(key)) continue;
        seen.add(key);
        next.push({ ...values, [v.name]: p });
      }
    }
    acc = next;
  }
  return acc;
}
