// A real Prometheus (Debian `prometheus`) scraping a real Envoy running the telemetry filter: our
// scrape config (Istio's envoy-stats job and relabelling) and SLO rules, PromQL over our series.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { findPrometheus, startPrometheus, type Prometheus } from '../../host/observe/prometheus.ts';
import { sloRulesYaml } from '../../host/slo/rules.ts';
import { parseSloFile } from '../../host/slo/spec.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { NODE_PRODUCTPAGE } from '../telemetry/helpers.ts';
import { until } from '../../host/until.ts';

let upstreams: Upstreams;
let envoy: Envoy;
let prom: Prometheus;

before(async () => {
  assert.ok(findPrometheus(), 'prometheus is required: apt-get install prometheus (.ci/run does)');
  upstreams = await Upstreams.start();
  envoy = await startEnvoy({
    statsFlushMs: 200,
    filters: [{ name: 'telemetry', config: { reporter: 'destination' } }],
    upstreams: upstreams.endpoints(),
    node: { id: 'productpage', cluster: 'productpage', metadata: NODE_PRODUCTPAGE },
  });
  const slo = join(repoRoot, 'envoy/demo/slo.yaml');
  prom = await startPrometheus({
    targets: [{ admin: envoy.adminUrl, pod: 'productpage-v1-0', namespace: 'default', app: 'productpage', version: 'v1' }],
    // The demo's objectives, counted where this one Envoy reports: as the server (reporter destination).
    rules: sloRulesYaml(
      parseSloFile(slo, readFileSync(slo, 'utf8')).map((o) => ({ ...o, reporter: 'destination' as const })),
      'envoy/demo/slo.yaml',
    ),
    intervalSeconds: 1,
  });
});

after(async () => {
  await prom?.stop();
  await envoy?.stop();
  await upstreams?.close();
});

const send = async (status: number, n: number) => {
  for (let i = 0; i < n; i++)
    assert.equal((await envoy.request('/data', { headers: { host: 'service_b', 'x-echo-status': String(status) } })).status, status);
};
const value = async (expr: string) => (await prom.query(expr))[0]?.value;

test('Prometheus scrapes the sidecar: istio_requests_total with Istio labels and the scrape target relabelled; SLO rules evaluate', async () => {
  await send(200, 1);
  await send(503, 1);
  const sel = 'reporter="destination",destination_service="service_b"';
  // Both series exist in Prometheus (scraped once at least) before the counted traffic.
  await until(async () => (await prom.query(`istio_requests_total{${sel}}`)).length === 2, 20_000, 'both series scraped');
  await send(200, 8);
  await send(503, 2);
  await until(async () => (await value(`sum(istio_requests_total{${sel}})`)) === 12, 20_000, 'all 12 requests scraped');

  const [s] = await prom.query(`istio_requests_total{${sel},response_code="503"}`);
  assert.equal(s.value, 3);
  for (const [k, v] of Object.entries({
    job: 'envoy-stats',
    namespace: 'default',
    pod: 'productpage-v1-0',
    app: 'productpage',
    version: 'v1',
    destination_workload: 'productpage-v1',
    destination_app: 'productpage',
    destination_version: 'v1',
    destination_workload_namespace: 'default',
    source_workload: 'unknown',
    request_protocol: 'http',
    connection_security_policy: 'none',
  }))
    assert.equal(s.metric[k], v, k);
  assert.equal(s.metric.instance, new URL(envoy.adminUrl).host);

  // Histograms (after Envoy's stats flush): the bucket the latency SLO reads exists, counts match.
  await until(async () => (await value(`sum(istio_request_duration_milliseconds_count{${sel}})`)) === 12, 20_000, 'duration histogram');
  assert.equal(await value(`sum(istio_request_duration_milliseconds_bucket{${sel},le="250"})`), 12);
  assert.equal(await value(`sum(istio_request_duration_milliseconds_bucket{${sel},le="+Inf"})`), 12);

  // The SLO's recording rules over the counted traffic: 2 of 10 answered 503 in the last minute.
  const ratio = await until(
    async () => {
      const v = await value('slo:sli_error:ratio_rate5m{slo="service_b-availability"}');
      return v !== undefined && Math.abs(v - 0.2) < 1e-9 ? v : null;
    },
    20_000,
    'slo:sli_error:ratio_rate5m = 0.2',
  );
  assert.ok(Math.abs(ratio - 0.2) < 1e-9);
  const latency = await until(() => value('slo:sli_error:ratio_rate5m{slo="service_b-latency"}'), 20_000, 'latency SLI');
  assert.equal(latency, 0);
  // 20% errors burn the 99.9% budget 200x: the fast page fires (no `for`, so at the next evaluation).
  const firing = await until(
    async () => {
      const a = (await prom.alerts()).filter((x) => x.labels.slo === 'service_b-availability' && x.state === 'firing');
      return a.length === 4 ? a : null;
    },
    20_000,
    'four burn-rate alerts firing',
  );
  assert.deepEqual(firing.map((a) => a.labels.long_window).sort(), ['1d', '1h', '3d', '6h']);
});
