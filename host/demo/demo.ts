// `npm run demo` / `asmesh demo`: starts the mesh (mesh.ts), drives the seed's scenarios through it,
// prints progress and a report, then keeps running until Ctrl-C (or exits with --once / DEMO_ONCE=1).
// Exit code with --once: 0 when every check passed and every filter was built, else 1.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { requireEnvoy } from '../cli/envoy.ts';
import { envoyRelease } from '../envoy/install.ts';
import { repoRoot } from '../paths.ts';
import { MESH_FILTERS, type MeshFilterName as FilterName } from '../../filters/manifest.ts';
import { prometheus, send, stats, startMesh, sum, type Mesh, type Reply } from './mesh.ts';
import { startObservability, startTraffic, type Observability } from '../dashboard/demo.ts';
import { runLive } from './live.ts';

/** Background traffic while the demo waits, so its dashboard moves. */
const DEMO_RPS = 4;

export interface Check {
  group: string;
  name: string;
  ok: boolean | null;
  detail: string;
}

const out = (s: string) => process.stdout.write(s + '\n');

function needs(mesh: Mesh, filter: FilterName, group: string, name: string): Check | null {
  return mesh.missing.includes(filter) ? { group, name, ok: null, detail: `not run: ${filter} filter not built` } : null;
}

/** A request from service_a to service_b (through service_a's sidecar). */
function viaA(
  mesh: Mesh,
  path: string,
  opts: { method?: string; token?: string | null; user?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? mesh.issuer.token() : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.user) headers['end-user'] = opts.user;
  return send(mesh.serviceA + path, { method: opts.method, headers, body: opts.method === 'POST' ? '{"demo":true}' : undefined });
}

const servedBy = (r: Reply) => String(r.headers['x-served-by'] ?? (r.status === 0 ? `error: ${r.error}` : `status ${r.status}`));

export async function runScenarios(mesh: Mesh, progress: (s: string) => void): Promise<{ checks: Check[]; sent: number }> {
  const checks: Check[] = [];
  let sent = 0; // requests through service_a
  const add = (c: Check) => {
    checks.push(c);
    progress(`${c.ok === null ? 'SKIP' : c.ok ? 'PASS' : 'FAIL'} ${c.group}: ${c.name}: ${c.detail}`);
  };

  // mTLS STRICT: a client without a mesh certificate cannot reach a service_b sidecar.
  const plain = await send(`http://127.0.0.1:${mesh.sidecars.v1.inbound}/info`);
  add({
    group: 'mTLS',
    name: 'plaintext to sidecar_b_v1 inbound is refused',
    ok: plain.status === 0,
    detail: plain.status === 0 ? `connection failed (${plain.error})` : `got HTTP ${plain.status}`,
  });

  // Steering: end-user jason reaches v2.
  progress('steering: 20 requests with end-user: jason');
  const skipSteer = needs(mesh, 'steering', 'steering', 'end-user: jason -> service_b v2');
  if (skipSteer) add(skipSteer);
  else {
    const seen = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const r = await viaA(mesh, '/info', { user: 'jason' });
      sent++;
      seen.set(servedBy(r), (seen.get(servedBy(r)) ?? 0) + 1);
    }
    add({
      group: 'steering',
      name: 'end-user: jason -> service_b v2',
      ok: seen.get('service_b/v2') === 20,
      detail: [...seen].map(([k, v]) => `${k} ${v}`).join(', '),
    });
  }

  // Canary: 95/5.
  const N = 400;
  const skipCanary = needs(mesh, 'steering', 'canary', `95/5 over ${N} requests`);
  if (skipCanary) add(skipCanary);
  else {
    progress(`canary: ${N} requests without end-user`);
    let v1 = 0;
    let v2 = 0;
    let other = 0;
    for (let i = 0; i < N; i++) {
      const r = await viaA(mesh, `/info/${i}`);
      sent++;
      const s = servedBy(r);
      if (s === 'service_b/v1') v1++;
      else if (s === 'service_b/v2') v2++;
      else other++;
    }
    // Binomial(400, 0.05): mean 20, sd 4.36; 4 sd either side.
    const lo = 3;
    const hi = 37;
    add({
      group: 'canary',
      name: `95/5 over ${N} requests`,
      ok: other === 0 && v2 >= lo && v2 <= hi,
      detail: `v1 ${v1}, v2 ${v2}${other ? `, other ${other}` : ''} (v2 expected in [${lo}, ${hi}])`,
    });
  }

  // Authorization: the seed policy (principal sa/sleep or namespace test; GET /info*, POST /data; JWT from the issuer).
  progress('authz: allowed and denied requests');
  const authzCases: { name: string; run: () => Promise<Reply>; expect: number; viaA: boolean }[] = [
    { name: 'GET /info, sa/sleep, valid JWT', run: () => viaA(mesh, '/info'), expect: 200, viaA: true },
    { name: 'POST /data, sa/sleep, valid JWT', run: () => viaA(mesh, '/data', { method: 'POST' }), expect: 200, viaA: true },
    { name: 'GET /info, sa/sleep, no JWT', run: () => viaA(mesh, '/info', { token: null }), expect: 403, viaA: true },
    {
      name: 'GET /info, sa/sleep, expired JWT',
      run: () => viaA(mesh, '/info', { token: mesh.issuer.token({}, -3600) }),
      expect: 401,
      viaA: true,
    },
    {
      name: 'GET /info, sa/sleep, JWT signed by another key',
      run: () => viaA(mesh, '/info', { token: mesh.issuer.forged() }),
      expect: 401,
      viaA: true,
    },
    { name: 'DELETE /data, sa/sleep, valid JWT', run: () => viaA(mesh, '/data', { method: 'DELETE' }), expect: 403, viaA: true },
    { name: 'GET /admin, sa/sleep, valid JWT', run: () => viaA(mesh, '/admin'), expect: 403, viaA: true },
    {
      name: 'GET /info from ns/evil/sa/intruder (mTLS), valid JWT',
      expect: 403,
      viaA: false,
      run: () =>
        send(`https://127.0.0.1:${mesh.sidecars.v1.inbound}/info`, {
          headers: { authorization: `Bearer ${mesh.issuer.token()}`, host: 'service_b' },
          tls: mesh.identities.intruder,
        }),
    },
  ];
  let intruderRequests = 0;
  for (const c of authzCases) {
    const skip = needs(mesh, 'authz', 'authz', c.name);
    if (skip) {
      add(skip);
      continue;
    }
    const r = await c.run();
    if (c.viaA) sent++;
    else intruderRequests++;
    const body = r.status >= 400 ? ` "${r.body.trim().slice(0, 40)}"` : ` from ${servedBy(r)}`;
    add({
      group: 'authz',
      name: c.name,
      ok: r.status === c.expect,
      detail: `${r.status === 0 ? `error ${r.error}` : r.status}${body} (expected ${c.expect})`,
    });
  }

  // Telemetry read back from each sidecar's Prometheus endpoint.
  const skipTel = needs(mesh, 'telemetry', 'telemetry', 'istio_requests_total');
  if (skipTel) add(skipTel);
  else {
    progress('telemetry: reading /stats/prometheus of each sidecar');
    const a = await prometheus(mesh.sidecars.a.envoy, 'istio_requests_total');
    const b = [
      ...(await prometheus(mesh.sidecars.v1.envoy, 'istio_requests_total')),
      ...(await prometheus(mesh.sidecars.v2.envoy, 'istio_requests_total')),
    ];
    const total = (s: typeof a, f: (l: Record<string, string>) => boolean) => s.filter((x) => f(x.labels)).reduce((n, x) => n + x.value, 0);
    const source = total(a, (l) => l.reporter === 'source');
    add({
      group: 'telemetry',
      name: 'sidecar_a counts every request it sent (reporter=source)',
      ok: source === sent,
      detail: `istio_requests_total ${source}, requests sent ${sent}`,
    });
    const dest = total(b, (l) => l.reporter === 'destination');
    add({
      group: 'telemetry',
      name: 'service_b sidecars count every request they received (reporter=destination)',
      ok: dest === sent + intruderRequests,
      detail: `istio_requests_total ${dest}, expected ${sent + intruderRequests}`,
    });
    // Every request names its caller, also those authz answers itself (401/403): telemetry reads the
    // peer header and the peer certificate in proxy_on_log when authz ended the request, as Istio counts them.
    const SLEEP_SA = 'spiffe://cluster.local/ns/default/sa/sleep';
    const deniedViaA = checks.filter(
      (c) => c.group === 'authz' && c.ok && c.name.includes('sa/sleep') && /\(expected 40[13]\)/.test(c.detail),
    ).length;
    const fromA = total(b, (l) => l.reporter === 'destination' && l.source_workload === 'service_a' && l.source_principal === SLEEP_SA);
    const deniedFromA = total(
      b,
      (l) =>
        l.reporter === 'destination' &&
        /^40[13]$/.test(l.response_code ?? '') &&
        l.source_workload === 'service_a' &&
        l.source_workload_namespace === 'default' &&
        l.source_app === 'service_a' &&
        l.source_principal === SLEEP_SA,
    );
    add({
      group: 'telemetry',
      name: 'destination labels name the caller of every request, served or denied (source_workload, source_principal)',
      ok: fromA === sent && deniedFromA === deniedViaA,
      detail: `${fromA} from service_a / ${SLEEP_SA} (expected ${sent}), of them ${deniedFromA} denied 401/403 (expected ${deniedViaA})`,
    });
    const intruder = total(
      b,
      (l) =>
        l.reporter === 'destination' && l.response_code === '403' && l.source_principal === 'spiffe://cluster.local/ns/evil/sa/intruder',
    );
    add({
      group: 'telemetry',
      name: 'the denied mTLS intruder is counted with its own principal',
      ok: mesh.missing.includes('authz') || intruder === intruderRequests,
      detail: `${intruder} with source_principal spiffe://cluster.local/ns/evil/sa/intruder (expected ${intruderRequests})`,
    });
    const denied = total(b, (l) => l.reporter === 'destination' && l.response_code === '403');
    const expectDenied = checks.filter((c) => c.group === 'authz' && c.ok && /\(expected 403\)/.test(c.detail)).length;
    add({
      group: 'telemetry',
      name: 'denied requests appear with response_code 403',
      ok: mesh.missing.includes('authz') || denied === expectDenied,
      detail: `${denied} (authz denied ${expectDenied})`,
    });
    const jason = total(a, (l) => l.end_user === 'jason');
    const expectJason = mesh.missing.includes('steering') ? 0 : 20;
    add({
      group: 'telemetry',
      name: 'custom dimension end_user (Telemetry tagOverrides)',
      ok: jason === expectJason,
      detail: `istio_requests_total{end_user="jason"} ${jason} (expected ${expectJason})`,
    });
  }

  // Envoy-native resilience on service_b's clusters (from the DestinationRule and VirtualService).
  progress('resilience: timeout, retries, outlier detection, circuit breaker');
  const clusterStats = () =>
    stats(
      mesh.sidecars.a.admin,
      String.raw`^cluster\.outbound\|80\|.*\|service_b\.(upstream_rq_retry|upstream_rq_pending_overflow|outlier_detection\.ejections_enforced_total|upstream_rq_timeout)$`,
    );
  const before = await clusterStats();
  const slow = await viaA(mesh, '/info', { user: 'jason', headers: { 'x-echo-delay-ms': '3000' } });
  sent++;
  add({
    group: 'resilience',
    name: 'timeout 2s (VirtualService timeout) on a 3 s answer',
    ok: slow.status === 504 && slow.ms < 2900,
    detail: `${slow.status} after ${Math.round(slow.ms)} ms`,
  });
  const beforeRetry = await clusterStats();
  const echoBefore = mesh.echo.v1.requests.length + mesh.echo.v2.requests.length;
  const failing = await viaA(mesh, '/info', { user: 'jason', headers: { 'x-echo-status': '503' } });
  sent++;
  const attempts = mesh.echo.v1.requests.length + mesh.echo.v2.requests.length - echoBefore;
  const mid = await clusterStats();
  const retries = sum(mid, /upstream_rq_retry$/) - sum(beforeRetry, /upstream_rq_retry$/);
  add({
    group: 'resilience',
    name: 'retries (attempts: 2, retryOn 5xx) on a 503',
    ok: failing.status === 503 && attempts === 3 && retries === 2,
    detail: `${failing.status}; service_b saw ${attempts} attempts; upstream_rq_retry +${retries}`,
  });
  const ejections = sum(mid, /ejections_enforced_total$/) - sum(before, /ejections_enforced_total$/);
  add({
    group: 'resilience',
    name: 'outlier detection (consecutiveErrors: 1) ejects the failing host',
    ok: ejections >= 1,
    detail: `outlier_detection.ejections_enforced_total +${ejections}`,
  });
  const burst = await Promise.all(
    Array.from({ length: 20 }, () => viaA(mesh, '/info', { user: 'jason', headers: { 'x-echo-delay-ms': '300' } })),
  );
  sent += burst.length;
  const overloaded = burst.filter((r) => r.status === 503 && r.headers['x-envoy-overloaded'] === 'true').length;
  const okBurst = burst.filter((r) => r.status === 200).length;
  const after = await clusterStats();
  const overflow = sum(after, /upstream_rq_pending_overflow$/) - sum(mid, /upstream_rq_pending_overflow$/);
  add({
    group: 'resilience',
    name: 'circuit breaker (1 connection, 1 pending) under 20 concurrent requests',
    ok: overloaded > 0 && okBurst > 0 && overflow >= overloaded,
    detail: `${okBurst} answered 200, ${overloaded} rejected 503 x-envoy-overloaded; upstream_rq_pending_overflow +${overflow}`,
  });
  return { checks, sent };
}

async function sidecarViews(mesh: Mesh): Promise<string[]> {
  const lines: string[] = [];
  for (const s of [mesh.sidecars.a, mesh.sidecars.v1, mesh.sidecars.v2]) {
    const m = await stats(s.admin, String.raw`^http\.(inbound|outbound)\.downstream_rq_(total|[2-5]xx)$`);
    const v = (k: string) => m.get(k) ?? 0;
    lines.push(
      `  ${s.name.padEnd(13)} outbound: ${v('http.outbound.downstream_rq_total')} requests (2xx ${v('http.outbound.downstream_rq_2xx')}, 4xx ${v('http.outbound.downstream_rq_4xx')}, 5xx ${v('http.outbound.downstream_rq_5xx')}); ` +
        `inbound: ${v('http.inbound.downstream_rq_total')} (2xx ${v('http.inbound.downstream_rq_2xx')}, 4xx ${v('http.inbound.downstream_rq_4xx')}, 5xx ${v('http.inbound.downstream_rq_5xx')})`,
    );
  }
  lines.push(`  service_b v1 received ${mesh.echo.v1.requests.length} requests, v2 ${mesh.echo.v2.requests.length}`);
  return lines;
}

export async function runDemo(opts: { once: boolean }): Promise<number> {
  const root = repoRoot;
  const progress = (s: string) => out(`[demo] ${s}`);
  const bin = requireEnvoy(true);
  const work = join(root, '.tmp', `demo-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  progress(`Envoy ${envoyRelease(bin)} at ${bin}`);
  const mesh = await startMesh({ root, work, progress });
  let code = 1;
  let obs: Observability | null = null;
  try {
    const { checks, sent } = await runScenarios(mesh, progress);
    // The live progression after the counted scenarios (its load would move their exact counts).
    if (mesh.missing.length)
      checks.push({ group: 'live', name: 'live progression', ok: null, detail: `not run: ${mesh.missing.join(', ')} not built` });
    else checks.push(...(await runLive(mesh, progress)));
    // Prometheus and the dashboard start after the checks, so the checks run on the same quiet mesh as --once
    // (one interactive run with them starting beside the checks exited 1; which check failed was not kept);
    // Prometheus's first scrape still sees every counter the scenarios moved.
    if (!opts.once) obs = await startObservability(mesh, { root, progress });
    const failed = checks.filter((c) => c.ok === false).length;
    const skipped = checks.filter((c) => c.ok === null).length;
    out('');
    out('=== asmesh demo report ===');
    out(`filters: ${MESH_FILTERS.map((f) => `${f} ${mesh.missing.includes(f) ? 'NOT BUILT' : 'ok'}`).join(', ')}`);
    for (const f of mesh.missing) out(`${f} filter not built: run npm run build (its checks did not run)`);
    let group = '';
    for (const c of checks) {
      if (c.group !== group) out(`${(group = c.group)}:`);
      out(`  [${c.ok === null ? 'SKIP' : c.ok ? 'PASS' : 'FAIL'}] ${c.name}: ${c.detail}`);
    }
    out(`what each sidecar saw (Envoy stats), after ${sent} requests from service_a:`);
    for (const l of await sidecarViews(mesh)) out(l);
    out(`result: ${checks.length - failed - skipped} passed, ${failed} failed, ${skipped} not run`);
    code = failed === 0 && skipped === 0 ? 0 : 1;
    if (!opts.once) {
      const t = mesh.issuer.token();
      out('');
      out('The mesh keeps running. Try:');
      out(`  curl -H 'end-user: jason' -H 'authorization: Bearer ${t}' ${mesh.serviceA}/info`);
      out(`  curl -H 'authorization: Bearer ${t}' ${mesh.serviceA}/info     # 95% v1, 5% v2`);
      out(`  curl ${mesh.serviceA}/info                                      # 403: no JWT`);
      out(`  curl -X POST -H 'authorization: Bearer ${t}' ${mesh.serviceA}/data`);
      for (const s of [mesh.sidecars.a, mesh.sidecars.v1, mesh.sidecars.v2])
        out(`  ${s.name}: ${s.admin}/stats/prometheus  ${s.admin}/clusters`);
      if (obs?.prometheus)
        out(
          `  Prometheus: ${obs.prometheus.url}/graph?g0.expr=${encodeURIComponent('sum by (destination_workload, response_code) (rate(istio_requests_total{reporter="destination"}[1m]))')}`,
        );
      out(`Dashboard (live; the demo sends ${DEMO_RPS} requests/s): ${obs!.dashboard.url}`);
      out('Ctrl-C to stop.');
      const traffic = startTraffic(mesh, DEMO_RPS);
      await new Promise<void>((res) => {
        process.once('SIGINT', () => res());
        process.once('SIGTERM', () => res());
      });
      await traffic.stop();
      out('[demo] stopping');
    }
  } finally {
    await obs?.stop();
    await mesh.stop();
    if (code === 0) rmSync(work, { recursive: true, force: true });
  }
  return code;
}
