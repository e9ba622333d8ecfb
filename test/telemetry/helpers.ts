// Helpers for telemetry tests: the shipped stats_tags rules, a Prometheus text-format parser
// that also validates the exposition (used when promtool is absent), and peer headers.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statsTags as manifestStatsTags, type ISTIO_LABELS } from '../../filters/manifest.ts';
import { repoRoot } from '../../host/envoy/install.ts';
import type { Envoy } from '../../host/envoy/launcher.ts';
import { until } from '../../host/until.ts';
import { findPromtool } from '../../host/slo/command.ts';
import { parseExposition, type Exposition } from '../../host/envoy/prometheus.ts';

export { parseExposition, select, total, type Exposition, type Sample } from '../../host/envoy/prometheus.ts';
import type { Peer } from '../../host/fixtures/peers.ts';
export { NODE_PRODUCTPAGE, RATINGS, SLEEP, peerHeader, type Peer } from '../../host/fixtures/peers.ts';
import type { StatsTagRule } from '../../host/harness/index.ts';

export const telemetryWasm = join(repoRoot, 'build/telemetry.wasm');
/** The stats flush interval telemetry's Envoy tests run with (`statsFlushMs`), so histograms show up soon. */
export const STATS_FLUSH_MS = 200;

/** The filters' stats_tags rules (filters/manifest.ts), plus rules for custom labels, in the harness's shape. */
export function statsTags(extraLabels: string[] = []): StatsTagRule[] {
  return manifestStatsTags(extraLabels).map((r) => ({ tagName: r.tag_name, regex: r.regex }));
}

/** Istio's 25 standard labels of one series (the filter's order: ISTIO_LABELS of filters/manifest.ts). */
export type IstioLabels = Record<(typeof ISTIO_LABELS)[number], string>;

/**
 * The labels a destination sidecar on NODE_PRODUCTPAGE without mTLS reports for a request from `peer`
 * (null: no peer header) to `service` (Envoy's tests call service_b; the harness's authority names productpage).
 */
export function destinationLabels(peer: Peer | null, code: number, service = { host: 'service_b', name: 'service_b' }): IstioLabels {
  return {
    reporter: 'destination',
    source_workload: peer?.workload ?? 'unknown',
    source_workload_namespace: peer?.namespace ?? 'unknown',
    source_principal: 'unknown',
    source_app: peer?.app ?? 'unknown',
    source_version: peer?.version ?? 'unknown',
    source_canonical_service: peer?.service ?? 'unknown',
    source_canonical_revision: peer?.revision ?? 'latest',
    source_cluster: peer?.cluster ?? 'unknown',
    destination_workload: 'productpage-v1',
    destination_workload_namespace: 'default',
    destination_principal: 'unknown',
    destination_app: 'productpage',
    destination_version: 'v1',
    destination_service: service.host,
    destination_service_name: service.name,
    destination_service_namespace: 'default',
    // NODE_PRODUCTPAGE has no service.istio.io labels: Istio's fallbacks give app and version.
    destination_canonical_service: 'productpage',
    destination_canonical_revision: 'v1',
    destination_cluster: 'Kubernetes',
    request_protocol: 'http',
    response_code: String(code),
    grpc_response_status: '',
    response_flags: '-',
    connection_security_policy: 'none',
  };
}

/** A telemetry configuration whose REQUEST_COUNT gets `tagOverrides` (Istio's Telemetry metrics overrides), plus `rest`. */
export function requestCountTags(tagOverrides: Record<string, object>, rest: object = {}): object {
  return { metrics: [{ overrides: [{ match: { metric: 'REQUEST_COUNT' }, tagOverrides }] }], ...rest };
}

/**
 * Envoy's own access log on stdout, one `format` line per request (e.g. `NATIVE %REQ(:PATH)% %RESPONSE_FLAGS%\n`),
 * for comparing with the filter's in the same run. Start Envoy with NATIVE_LOG_ARGS: the stdout log is
 * flushed like a file log (every 10 s by default).
 */
export function nativeAccessLog(format: string): object[] {
  return [
    {
      name: 'envoy.access_loggers.stdout',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
        log_format: { text_format_source: { inline_string: format } },
      },
    },
  ];
}
export const NATIVE_LOG_ARGS = ['--file-flush-interval-msec', '50'];

/** Polls /stats/prometheus until `ready` holds: Envoy merges histograms only at its stats flush (tests set STATS_FLUSH_MS). */
export function prometheusWhen(
  envoy: Envoy,
  ready: (e: Exposition) => boolean,
  timeoutMs = 15_000,
): Promise<{ text: string; exp: Exposition }> {
  let text = '';
  return until(
    async () => {
      text = await envoy.prometheus();
      const exp = parseExposition(text);
      return ready(exp) && { text, exp };
    },
    timeoutMs,
    () =>
      `the expected state of /stats/prometheus; its istio lines:\n${text
        .split('\n')
        .filter((l) => l.includes('istio'))
        .join('\n')}`,
    50,
  );
}

/**
 * promtool's path when installed (Debian package `prometheus`), else null. `PROMTOOL=<path>` names
 * another one; `PROMTOOL=none` forces the strict-parser fallback (to see that path run).
 */
export function promtool(): string | null {
  return process.env.PROMTOOL === 'none' ? null : findPromtool();
}

/** The part of node:test's TestContext used here. */
interface Diagnostics {
  diagnostic(message: string): void;
}

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
    t.diagnostic(
      `exposition (${exp.samples.length} samples) checked by the strict parser only: no promtool (not installed, Debian package prometheus, or PROMTOOL=none)`,
    );
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
