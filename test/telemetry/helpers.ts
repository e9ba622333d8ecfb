// Helpers for telemetry tests: the shipped stats_tags rules, a Prometheus text-format parser
// that also validates the exposition (used when promtool is absent), and peer headers.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ISTIO_LABELS } from '../../host/cli/translate.ts';
import { repoRoot } from '../../host/envoy/install.ts';
import type { Envoy } from '../../host/envoy/launcher.ts';
import type { StatsTagRule } from '../../host/harness/index.ts';

export const telemetryWasm = join(repoRoot, 'build/telemetry.wasm');

/** The stats_tags rules shipped in envoy/stats-tags.yaml, plus rules for custom labels. */
export function statsTags(extraLabels: string[] = []): StatsTagRule[] {
  const doc = parse(readFileSync(join(repoRoot, 'envoy/stats-tags.yaml'), 'utf8')) as { stats_tags: { tag_name: string; regex: string }[] };
  const rules = doc.stats_tags.map((r) => ({ tagName: r.tag_name, regex: r.regex }));
  for (const l of extraLabels) rules.push({ tagName: l, regex: `[.;](${l}=([^;]*);)` });
  return rules;
}

export const NODE_PRODUCTPAGE = {
  WORKLOAD_NAME: 'productpage-v1', NAMESPACE: 'default', CLUSTER_ID: 'Kubernetes',
  LABELS: { app: 'productpage', version: 'v1' },
};

/** A peer header's workload; `service`/`revision` are Istio's canonical service and revision (absent: unknown/latest). */
export interface Peer { workload: string; namespace: string; app: string; version: string; cluster: string; service?: string; revision?: string }
export const peerHeader = (p: Peer) => Buffer.from(JSON.stringify(p)).toString('base64');
export const SLEEP: Peer = { workload: 'sleep', namespace: 'default', app: 'sleep', version: 'v1', cluster: 'Kubernetes', service: 'sleep', revision: 'v1' };
export const RATINGS: Peer = { workload: 'ratings-v2', namespace: 'test', app: 'ratings', version: 'v2', cluster: 'Kubernetes', service: 'ratings', revision: 'v2' };

/** Istio's 25 standard labels of one series (the filter's order: ISTIO_LABELS of host/cli/translate.ts). */
export type IstioLabels = Record<(typeof ISTIO_LABELS)[number], string>;

/**
 * The labels a destination sidecar on NODE_PRODUCTPAGE without mTLS reports for a request from `peer`
 * (null: no peer header) to `service` (Envoy's tests call service_b; the harness's authority names productpage).
 */
export function destinationLabels(peer: Peer | null, code: number, service = { host: 'service_b', name: 'service_b' }): IstioLabels {
  return {
    reporter: 'destination',
    source_workload: peer?.workload ?? 'unknown', source_workload_namespace: peer?.namespace ?? 'unknown', source_principal: 'unknown',
    source_app: peer?.app ?? 'unknown', source_version: peer?.version ?? 'unknown',
    source_canonical_service: peer?.service ?? 'unknown', source_canonical_revision: peer?.revision ?? 'latest', source_cluster: peer?.cluster ?? 'unknown',
    destination_workload: 'productpage-v1', destination_workload_namespace: 'default', destination_principal: 'unknown',
    destination_app: 'productpage', destination_version: 'v1', destination_service: service.host,
    destination_service_name: service.name, destination_service_namespace: 'default',
    // NODE_PRODUCTPAGE has no service.istio.io labels: Istio's fallbacks give app and version.
    destination_canonical_service: 'productpage', destination_canonical_revision: 'v1', destination_cluster: 'Kubernetes',
    request_protocol: 'http', response_code: String(code), grpc_response_status: '', response_flags: '-',
    connection_security_policy: 'none',
  };
}

/**
 * Envoy's own access log on stdout, one `format` line per request (e.g. `NATIVE %REQ(:PATH)% %RESPONSE_FLAGS%\n`),
 * for comparing with the filter's in the same run. Start Envoy with NATIVE_LOG_ARGS: the stdout log is
 * flushed like a file log (every 10 s by default).
 */
export function nativeAccessLog(format: string): object[] {
  return [{
    name: 'envoy.access_loggers.stdout',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
      log_format: { text_format_source: { inline_string: format } },
    },
  }];
}
export const NATIVE_LOG_ARGS = ['--file-flush-interval-msec', '50'];

export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface Exposition { types: Map<string, string>; samples: Sample[] }

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
            if (e === 'n') value += '\n'; else if (e === '\\' || e === '"') value += e; else throw new Error(`bad escape in ${where}`);
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
    if (list === undefined) buckets.set(k, [s]); else list.push(s);
  }
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    for (const [k, series] of buckets) {
      if (!k.startsWith(family + '[')) continue;
      let prev = -1;
      for (const b of series) { if (b.value < prev) throw new Error(`${family} buckets not cumulative`); prev = b.value; }
      const inf = series.find((b) => b.labels.le === '+Inf');
      const count = counts.get(k);
      if (inf === undefined || count === undefined || inf.value !== count.value) throw new Error(`${family}: +Inf bucket differs from _count for ${k.slice(family.length)}`);
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

/** Polls /stats/prometheus until `ready` holds: Envoy merges histograms only at its stats flush (5 s). */
export async function prometheusWhen(envoy: Envoy, ready: (e: Exposition) => boolean, timeoutMs = 15_000): Promise<{ text: string; exp: Exposition }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await envoy.prometheus();
    const exp = parseExposition(text);
    if (ready(exp)) return { text, exp };
    if (Date.now() > deadline) throw new Error(`/stats/prometheus did not reach the expected state:\n${text.split('\n').filter((l) => l.includes('istio')).join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * promtool's path when installed (Debian package `prometheus`), else null. `PROMTOOL=<path>` names
 * another one; `PROMTOOL=none` forces the strict-parser fallback (to see that path run).
 */
export function promtool(): string | null {
  const env = process.env.PROMTOOL;
  if (env === 'none') return null;
  if (env !== undefined && env !== '') return existsSync(env) ? env : null;
  for (const p of ['/usr/bin/promtool', '/usr/local/bin/promtool']) if (existsSync(p)) return p;
  return null;
}

/** The part of node:test's TestContext used here. */
interface Diagnostics { diagnostic(message: string): void }

/**
 * Validates an exposition and says in the test output which checker did: always the strict parser
 * (parseExposition, throws on a violation), plus `promtool check metrics` when installed. Returns
 * promtool's lint lines that `keep` selects, or null when promtool is absent (the diagnostic line
 * then says only the strict parser checked), so nothing is skipped silently.
 */
export function checkExposition(t: Diagnostics, text: string, keep: (line: string) => boolean = () => true): string[] | null {
  const exp = parseExposition(text);
  const tool = promtool();
  if (tool === null) {
    t.diagnostic(`exposition (${exp.samples.length} samples) checked by the strict parser only: no promtool (not installed, Debian package prometheus, or PROMTOOL=none)`);
    return null;
  }
  const lints = promtoolCheck(text).filter(keep);
  t.diagnostic(`exposition (${exp.samples.length} samples) checked by ${tool} check metrics and the strict parser`);
  return lints;
}

/** promtool's lint of Istio's standard name (real Istio's output has it too). */
export const ISTIO_NAME_LINT = 'istio_request_duration_milliseconds use base unit "seconds" instead of "milliseconds"';

/**
 * Runs `promtool check metrics` on the text. A parse error (exit 1) throws. Lint problems (exit 3)
 * are returned, except "no help text": Envoy's /stats/prometheus prints no HELP lines at all, so
 * every Envoy metric (Istio's own proxies' too) has that one.
 */
export function promtoolCheck(text: string): string[] {
  const tool = promtool();
  if (tool === null) throw new Error('promtool is not installed');
  const file = join(mkdtempSync(join(tmpdir(), 'asmesh-prom-')), 'metrics.txt');
  writeFileSync(file, text);
  const run = spawnSync('sh', ['-c', `"${tool}" check metrics < "${file}" 2>&1`], { encoding: 'utf8' });
  if (run.status !== 0 && run.status !== 3) throw new Error(`promtool check metrics failed (${run.status}): ${run.stdout}`);
  return run.stdout.split('\n').filter((l) => l.trim() !== '' && !l.endsWith(' no help text'));
}
