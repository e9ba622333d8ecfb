// The demo, non-interactively, against real Envoy: `node dist/asmesh.mjs demo --once` (the bundle
// `npm run demo` runs), then its report is checked line by line.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { MESH_FILTERS } from '../../filters/manifest.ts';
import { until } from '../../host/until.ts';
import { envoyBinary } from '../../host/envoy/install.ts';
import { runScenarios } from '../../host/demo/demo.ts';
import { startMesh } from '../../host/demo/mesh.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { runChild, type ChildResult } from '../child.ts';

const FILTERS = MESH_FILTERS;
let envoyBin = '';

before(async () => {
  const b = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  envoyBin = await envoyBinary();
});

function runDemo(env: Record<string, string>): Promise<ChildResult> {
  return runChild(process.execPath, [join(repoRoot, 'dist/asmesh.mjs'), 'demo'], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    timeoutMs: 180_000,
  });
}

test('npm run demo --once: every scenario passes in real Envoy, and the report says what each sidecar saw', async () => {
  const missing = FILTERS.filter((f) => !existsSync(join(repoRoot, 'build', `${f}.wasm`)));
  const r = await runDemo({ DEMO_ONCE: '1', ENVOY_BIN: envoyBin });
  const report = r.stdout.slice(r.stdout.indexOf('=== asmesh demo report ==='));
  assert.ok(report.startsWith('=== asmesh demo report ==='), `no report:\n${r.stdout}\n${r.stderr}`);
  // Progress came first, with the three sidecars started.
  for (const s of ['sidecar_b_v1', 'sidecar_b_v2', 'sidecar_a'])
    assert.match(r.stdout, new RegExp(`\\[demo\\] started ${s} \\(Envoy: .*mTLS STRICT`));

  // Envoy-native features and mTLS do not depend on our filters.
  assert.match(report, /\[PASS\] plaintext to sidecar_b_v1 inbound is refused/);
  assert.match(report, /\[PASS\] timeout 2s \(VirtualService timeout\) on a 3 s answer: 504 after \d+ ms/);
  assert.match(report, /\[PASS\] retries \(attempts: 2, retryOn 5xx\) on a 503: 503; service_b saw 3 attempts; upstream_rq_retry \+2/);
  assert.match(report, /\[PASS\] outlier detection .*ejections_enforced_total \+[1-9]/);
  assert.match(report, /\[PASS\] circuit breaker .* [1-9]\d* rejected 503 x-envoy-overloaded/);

  for (const f of missing) assert.match(report, new RegExp(`${f} filter not built`));
  if (!missing.includes('steering')) {
    assert.match(report, /\[PASS\] end-user: jason -> service_b v2: service_b\/v2 20\n/);
    const m = /\[PASS\] 95\/5 over 400 requests: v1 (\d+), v2 (\d+) /.exec(report);
    assert.ok(m, report);
    assert.equal(Number(m[1]) + Number(m[2]), 400);
  }
  if (!missing.includes('authz')) {
    for (const line of [
      /\[PASS\] GET \/info, sa\/sleep, valid JWT: 200 from service_b\/v\d/,
      /\[PASS\] POST \/data, sa\/sleep, valid JWT: 200/,
      /\[PASS\] GET \/info, sa\/sleep, no JWT: 403 "RBAC: access denied"/,
      /\[PASS\] GET \/info, sa\/sleep, expired JWT: 401 "Jwt is expired"/,
      /\[PASS\] GET \/info, sa\/sleep, JWT signed by another key: 401 "Jwt verification fails"/,
      /\[PASS\] DELETE \/data, sa\/sleep, valid JWT: 403/,
      /\[PASS\] GET \/info from ns\/evil\/sa\/intruder \(mTLS\), valid JWT: 403 "RBAC: access denied"/,
    ])
      assert.match(report, line);
  }
  if (!missing.includes('telemetry')) {
    assert.match(
      report,
      /\[PASS\] sidecar_a counts every request it sent \(reporter=source\): istio_requests_total (\d+), requests sent \1\n/,
    );
    assert.match(report, /\[PASS\] service_b sidecars count every request they received/);
    assert.match(report, /\[PASS\] custom dimension end_user/);
    // Denied requests (authz answers 401/403 before telemetry's request phase) name their caller too.
    assert.match(
      report,
      /\[PASS\] destination labels name the caller of every request, served or denied \(source_workload, source_principal\): (\d+) from service_a \/ spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep \(expected \1\), of them (\d+) denied 401\/403 \(expected \2\)\n/,
    );
    if (!missing.includes('authz')) {
      assert.match(report, /of them [1-9]\d* denied 401\/403/);
      assert.match(report, /\[PASS\] the denied mTLS intruder is counted with its own principal: 1 with source_principal/);
    }
  }
  if (!missing.length) {
    // The live part: every sidecar follows the edited Istio YAML under load, no request fails, no restart.
    for (const [w1, w2] of [
      [95, 5],
      [50, 50],
      [0, 100],
    ])
      assert.match(
        report,
        new RegExp(
          `\\[PASS\\] canary ${w1}/${w2} under load: v2 \\d+ of \\d+ \\([\\d.]+%\\); (as started|applied in \\d+ ms \\(ecds outbound\\.steering\\)); failed requests 0\n`,
        ),
      );
    assert.match(
      report,
      /\[PASS\] DENY \/info\/beta \(AuthorizationPolicy added\) under load: applied in \d+ ms, first 403 \d+ ms after the save; .*failed requests 0\n/,
    );
    assert.match(
      report,
      /\[PASS\] workload certificates of service_b v1 and v2 rotated under load: sidecar_b_v1 (\w+) -> (?!\1)\w+ \(peer sees it\), .*failed requests 0\n/,
    );
    assert.match(
      report,
      /\[PASS\] no restart, every request answered: Envoy pids unchanged \([\d, ]+\); [1-9]\d* requests under load, 0 failed\n/,
    );
  }
  assert.match(report, /what each sidecar saw \(Envoy stats\), after \d+ requests from service_a:\n {2}sidecar_a +outbound: \d+ requests/);
  assert.match(report, /result: \d+ passed, 0 failed, \d+ not run\n/);
  assert.equal(r.code, missing.length ? 1 : 0, r.stderr);
  assert.doesNotMatch(r.stdout, /Ctrl-C to stop/);

  // Everything it started is gone: the admin ports answer no more.
  const admins = [...r.stdout.matchAll(/admin :(\d+)\)/g)].map((x) => Number(x[1]));
  assert.equal(admins.length, 3);
  for (const port of admins) await assert.rejects(fetch(`http://127.0.0.1:${port}/ready`), `admin :${port} still answers`);
});

test('interactive demo: prints the URLs to try, answers them, and stops on SIGINT', async () => {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/asmesh.mjs'), 'demo'], {
    cwd: repoRoot,
    env: { ...process.env, ENVOY_BIN: envoyBin, DEMO_ONCE: '' },
  });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', () => {});
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  try {
    await until(
      () => stdout.includes('Ctrl-C to stop.'),
      180_000,
      () => `the demo to say Ctrl-C to stop; it said:\n${stdout}`,
      100,
    );
    assert.match(stdout, /The mesh keeps running\. Try:/);
    const url = /curl (http:\/\/127\.0\.0\.1:\d+\/info) +# 403: no JWT/.exec(stdout);
    assert.ok(url, stdout);
    const denied = await fetch(url[1]);
    assert.equal(denied.status, existsSync(join(repoRoot, 'build/authz.wasm')) ? 403 : 200);
  } finally {
    child.kill('SIGINT');
  }
  const built = FILTERS.every((f) => existsSync(join(repoRoot, 'build', `${f}.wasm`)));
  assert.equal(await exited, built ? 0 : 1, stdout);
  assert.match(stdout, /\[demo\] stopping/);
});

test('a filter that is not built: the demo says so, runs without it, and does not fake its checks', async () => {
  // A package root whose build/ lacks steering.wasm (the other files are the real ones).
  const root = join(repoRoot, '.tmp/test-demo-missing');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'build'), { recursive: true });
  symlinkSync(join(repoRoot, 'envoy'), join(root, 'envoy'));
  for (const f of ['authz', 'telemetry']) copyFileSync(join(repoRoot, 'build', `${f}.wasm`), join(root, 'build', `${f}.wasm`));
  const progress: string[] = [];
  const mesh = await startMesh({ root, work: join(root, 'work'), progress: (s) => progress.push(s) });
  try {
    assert.deepEqual(mesh.missing, ['steering']);
    assert.ok(
      progress.includes('steering filter not built (build/steering.wasm missing): its sidecars run without it'),
      progress.join('\n'),
    );
    const { checks } = await runScenarios(mesh, () => {});
    const steering = checks.filter((c) => c.group === 'steering' || c.group === 'canary');
    assert.deepEqual(
      steering.map((c) => [c.ok, c.detail]),
      [
        [null, 'not run: steering filter not built'],
        [null, 'not run: steering filter not built'],
      ],
    );
    // Without steering, Envoy's own default route serves everything (v1), and authz still decides.
    assert.equal(checks.find((c) => c.name === 'GET /info, sa/sleep, valid JWT')?.ok, true);
    assert.match(checks.find((c) => c.name === 'GET /info, sa/sleep, valid JWT')!.detail, /from service_b\/v1/);
    assert.equal(checks.find((c) => c.name === 'GET /info, sa/sleep, no JWT')?.ok, true);
    assert.equal(checks.find((c) => c.name.startsWith('custom dimension'))?.ok, true);
  } finally {
    await mesh.stop();
  }
});
