// The dashboard in headless Chromium during demo traffic: the demo mesh (three Envoy sidecars with
// our filters), a real Prometheus scraping them with the demo's SLO rules, the dashboard on top.
// Asserts the topology's nodes and edges, the numbers drawn against Prometheus's own answers at the
// same instant (PromQL written here, not the dashboard's), the access log with trace ids and its
// service and status filters; then breaks the availability SLO with steering's fault injection (a
// VirtualService fault abort on half of the requests, pushed live into service_a's sidecar) and
// asserts it turns red while Prometheus fires its burn-rate alerts. Saves a screenshot
// (.tmp/test-dashboard/dashboard.png; docs/dashboard.png is one). Last, the embedded default
// without Prometheus (the dashboard scraping the sidecars itself).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { meshTargets, startObservability, startTraffic, type Observability } from '../../host/dashboard/demo.ts';
import { startDashboard } from '../../host/dashboard/server.ts';
import { startMesh, type Mesh } from '../../host/demo/mesh.ts';
import { envoyBinary } from '../../host/envoy/install.ts';
import { findPrometheus } from '../../host/observe/prometheus.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { until } from '../../host/until.ts';
import { dumpDom, elements, findChromium, screenshot } from './chromium.ts';

const work = join(repoRoot, '.tmp/test-dashboard');
let mesh: Mesh;
let obs: Observability;
let traffic: ReturnType<typeof startTraffic>;

before(async () => {
  assert.ok(findChromium(), 'chromium is required: apt-get install chromium (.ci/run does)');
  assert.ok(findPrometheus(), 'prometheus is required: apt-get install prometheus (.ci/run does)');
  await envoyBinary();
  mkdirSync(work, { recursive: true });
  mesh = await startMesh({ root: repoRoot, work, progress: () => {} });
  obs = await startObservability(mesh, { root: repoRoot, progress: () => {}, intervalSeconds: 1 });
  traffic = startTraffic(mesh, 10);
});

after(async () => {
  await traffic?.stop();
  await obs?.stop();
  await mesh?.stop();
});

const prom = () => obs.prometheus!;
const one = async (expr: string, time: number) => {
  const r = await prom().query(expr, time);
  assert.ok(r.length <= 1, expr);
  return r[0]?.value;
};
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: dashboard ${a}, Prometheus ${b}`);

test('topology, edge numbers and SLO status in Chromium agree with Prometheus; the access log shows trace ids', async () => {
  const A = 'service_a.default';
  const V1 = 'service_b-v1.default';
  const V2 = 'service_b-v2.default';
  // An instant whose scrapes are all in (2.5 s ago, scrapes every 1 s) at which both subsets have
  // served traffic (jason and the 5% canary reach v2) and the histograms are flushed: the page
  // evaluates there (?time=), so does the test.
  const time = await until(
    async () => {
      const at = Math.round(Date.now()) / 1000 - 2.5;
      const calls = await prom().query(
        'sum by (destination_workload) (rate(istio_requests_total{reporter="destination",source_workload="service_a"}[1m])) > 0',
        at,
      );
      const p50 = await prom().query(
        'histogram_quantile(0.5, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[1m])))',
        at,
      );
      const sli = await prom().query('slo:sli_error:ratio_rate5m{slo="service_b-availability"}', at);
      return calls.length === 2 && p50[0]?.value >= 0 && Number.isFinite(sli[0]?.value) ? at : null;
    },
    60_000,
    'traffic to v1 and v2 and duration histograms in Prometheus',
    500,
  );
  const dom = await dumpDom(`${obs.dashboard.url}?time=${time}`);

  assert.ok(Number(/data-renders="(\d+)"/.exec(dom)?.[1]) >= 2, 'the page re-polled and redrew');
  assert.equal(Number(/<body[^>]* data-time="([^"]+)"/.exec(dom)?.[1]), time);
  const nodes = elements(dom, 'g', 'node')
    .map((n) => n['data-id'])
    .sort();
  assert.deepEqual(nodes, [A, V1, V2]);
  const edges = elements(dom, 'g', 'edge');
  assert.deepEqual(edges.map((e) => `${e['data-source']}>${e['data-destination']}`).sort(), [`${A}>${V1}`, `${A}>${V2}`]);

  for (const e of edges) {
    const sel = `reporter="destination",source_workload="service_a",destination_workload="${e['data-destination'].replace('.default', '')}"`;
    const rps = (await one(`sum(rate(istio_requests_total{${sel}}[1m]))`, time))!;
    close(Number(e['data-rps']), rps, `${e['data-destination']} rps`);
    assert.ok(rps > 0);
    const bad = (await one(`sum(rate(istio_requests_total{${sel},response_code=~"5.."}[1m]))`, time)) ?? 0;
    close(Number(e['data-error-rate']), bad / rps, `${e['data-destination']} error rate`);
    for (const [q, attr] of [
      [0.5, 'data-p50'],
      [0.9, 'data-p90'],
      [0.99, 'data-p99'],
    ] as const) {
      const v = await one(`histogram_quantile(${q}, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${sel}}[1m])))`, time);
      if (v === undefined || Number.isNaN(v)) assert.equal(e[attr], 'null', attr);
      else close(Number(e[attr]), v, `${e['data-destination']} ${attr}`);
    }
    // STRICT mTLS: every call carried mutual_tls.
    assert.equal(await one(`count(istio_requests_total{${sel},connection_security_policy!="mutual_tls"})`, time), undefined);
    assert.equal(e['data-mtls'], 'mutual_tls');
    // The drawn label is the same number, rounded.
    const label = new RegExp(`data-destination="${e['data-destination']}"[^>]*>.*?<tspan class="rps">([^<]+)</tspan>`).exec(dom)?.[1];
    assert.equal(label, `${rps.toFixed(2)} rps`);
  }

  const slos = elements(dom, 'div', 'slo');
  assert.deepEqual(slos.map((s) => s['data-slo']).sort(), ['service_b-availability', 'service_b-latency']);
  const avail = slos.find((s) => s['data-slo'] === 'service_b-availability')!;
  assert.ok(avail.class.split(' ').includes('ok'), avail.class);
  assert.equal(avail['data-firing'], '0');
  const sli = 1 - (await one('slo:sli_error:ratio_rate5m{slo="service_b-availability"}', time))!;
  close(Number(avail['data-sli-now']), sli, 'availability SLI');
  const budget = (await one('slo:error_budget_remaining:ratio{slo="service_b-availability"}', time))!;
  close(Number(avail['data-budget-left']), budget, 'availability error budget left');
  assert.ok(budget > 0 && budget <= 1, String(budget));

  const rows = elements(dom, 'tr', 'log');
  assert.ok(rows.length > 10, `${rows.length} access-log rows`);
  assert.ok(
    rows.every((r) => /^[0-9a-f]{32}$/.test(r['data-trace-id'])),
    'every line has its W3C trace id',
  );
  assert.ok(rows.every((r) => r['data-status'] === '200'));
  // The service filter (preselected by ?service=): only lines to or from service_b-v2, fewer than all.
  const v2 = elements(await dumpDom(`${obs.dashboard.url}?time=${time}&service=service_b-v2`), 'tr', 'log');
  assert.ok(v2.length > 0 && v2.length < rows.length, `${v2.length} of ${rows.length} rows`);
  assert.ok(v2.every((r) => r['data-source'] === 'service_b-v2' || r['data-destination'] === 'service_b-v2'));
});

/** The demo VirtualService with a fault abort (503 on `percent` % of requests) on every route, saved where the sidecars watch. */
async function injectFault(percent: number) {
  const file = join(mesh.istioDir, 'virtualservice.yaml');
  const vs = parse(readFileSync(file, 'utf8'));
  for (const route of vs.spec.http) route.fault = { abort: { percentage: { value: percent }, httpStatus: 503 } };
  const live = mesh.sidecars.a.live;
  const before = live.reports.length;
  writeFileSync(`${file}.swp`, stringify(vs));
  renameSync(`${file}.swp`, file);
  // The watcher reports every event (the .swp write is one that changes nothing); wait for the steering push.
  const report = await until(
    () => live.reports.slice(before).find((r) => !r.ok || r.applied.some((a) => a.kind === 'ecds' && a.name.includes('steering'))),
    20_000,
    'sidecar_a applied the fault',
  );
  assert.ok(report.ok, report.errors.join('; '));
}

test("breaking the availability SLO with steering's fault injection (abort 503 on 50%, pushed into service_a's sidecar): the SLO turns red and Prometheus fires the burn-rate page", async (t) => {
  await injectFault(50);
  const page = await until(
    async () =>
      (await prom().alerts()).find(
        (a) => a.state === 'firing' && a.labels.slo === 'service_b-availability' && a.labels.long_window === '1h',
      ),
    60_000,
    'the 1h/5m page firing',
  );
  assert.equal(page.labels.severity, 'page');
  assert.equal(page.labels.alertname, 'SLOErrorBudgetBurn');
  const dom = await dumpDom(obs.dashboard.url);
  const avail = elements(dom, 'div', 'slo').find((s) => s['data-slo'] === 'service_b-availability')!;
  assert.ok(avail.class.split(' ').includes('bad'), avail.class);
  assert.ok(Number(avail['data-firing']) >= 1);
  assert.match(dom, /BREACHING<\/span> <b>service_b-availability<\/b>/);
  assert.match(dom, /<span class="alert">page 1h\/5m &gt; 14\.4x<\/span>/);
  // The aborts happen in service_a's sidecar: they reach neither service_b nor its sidecar, so the
  // edges (reporter destination) stay clean while the client-side SLI counts them.
  // (Envoy's FI response flag stays unset: a Wasm local reply cannot set it, docs/DESIGN.md.)
  const faults = (await one('sum(istio_requests_total{reporter="source",response_code="503"})', Date.now() / 1000))!;
  assert.ok(faults > 0, 'fault-injected 503s reported by the source');
  assert.equal(await one('sum(istio_requests_total{reporter="destination",response_code="503"})', Date.now() / 1000), undefined);
  // The access log filtered on 503: only 503 lines, all service_a's sidecar's, no upstream reached.
  const only503 = elements(await dumpDom(`${obs.dashboard.url}?status=503`), 'tr', 'log');
  assert.ok(only503.length > 0 && only503.every((r) => r['data-status'] === '503'), `${only503.length} rows`);
  assert.ok(
    only503.every((r) => r['data-sidecar'] === 'sidecar_a' && r['data-destination'] === 'unknown'),
    JSON.stringify(only503[0]),
  );
  const file = join(work, 'dashboard.png');
  await screenshot(obs.dashboard.url, file);
  assert.equal(readFileSync(file).subarray(1, 4).toString(), 'PNG');
  t.diagnostic(`screenshot: ${file}`);
});

test('without Prometheus the dashboard scrapes the sidecars itself and says so: same topology, no SLO status', async () => {
  const d = await startDashboard({ targets: meshTargets(mesh) });
  try {
    const s = await until(
      async () => {
        const x = await d.state();
        return x.edges.length === 2 ? x : null;
      },
      30_000,
      'two edges from direct scraping',
      500,
    );
    assert.equal(s.source, 'scrape');
    assert.match(s.note, /^no Prometheus: the dashboard scrapes 3 sidecars itself/);
    assert.deepEqual(
      s.nodes.map((n) => n.id),
      ['service_a.default', 'service_b-v1.default', 'service_b-v2.default'],
    );
    for (const e of s.edges) {
      assert.equal(e.source, 'service_a.default');
      assert.equal(e.mtls, 'mutual_tls');
      assert.ok(e.rps > 0 && e.errorRate >= 0 && e.errorRate <= 1, JSON.stringify(e));
    }
    assert.deepEqual(s.slos, []);
  } finally {
    await d.close();
  }
});
