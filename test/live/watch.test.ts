// The live sidecar (host/live/sidecar.ts) in real Envoy under steady keep-alive load: editing the
// Istio YAML moves the canary 95/5 -> 50/50 -> 0/100, a DENY policy takes effect, a bad edit is
// reported and the old configuration keeps serving; Envoy is never restarted and every request is
// answered (no 5xx, no reset).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LiveSidecar } from '../../host/live/sidecar.ts';
import { startServiceBSidecar } from '../../host/fixtures/live.ts';
import { Load, withinBinomial } from '../../host/live/load.ts';
import { EchoServer } from '../../host/upstream/echo.ts';
import { repoRoot } from '../../host/paths.ts';
import { until } from '../../host/until.ts';

const work = join(repoRoot, '.tmp', `live-watch-${process.pid}`);
const istio = join(work, 'istio');
let v1: EchoServer, v2: EchoServer, app: EchoServer, sidecar: LiveSidecar, out: Load, inb: Load;
let pid = 0;
const lines: string[] = [];

const canary = (w1: number, w2: number) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: service_b
spec:
  hosts: [service_b]
  http:
  - route:
    - destination: {host: service_b, subset: v1}
      weight: ${w1}
    - destination: {host: service_b, subset: v2}
      weight: ${w2}
`;
const subsets = readFileSync(join(repoRoot, 'test/istio/destinationrule-subsets.yaml'), 'utf8');
const deny = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-private
spec:
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/private*"]
`;

/** As an editor saves: a temp file renamed over the old one. */
function save(name: string, text: string): number {
  if (process.env.LIVE_DEBUG) console.error(new Date().toISOString(), 'save', name);
  writeFileSync(join(istio, `.${name}.swp`), text);
  const at = Date.now();
  renameSync(join(istio, `.${name}.swp`), join(istio, name));
  return at;
}

before(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(istio, { recursive: true });
  writeFileSync(join(istio, 'vs.yaml'), canary(95, 5));
  writeFileSync(join(istio, 'dr.yaml'), subsets);
  [v1, v2, app] = await Promise.all([EchoServer.start('service_b/v1'), EchoServer.start('service_b/v2'), EchoServer.start('app')]);
  sidecar = await startServiceBSidecar(
    istio,
    work,
    { app, v1, v2 },
    {
      log: (l) => {
        lines.push(l);
        if (process.env.LIVE_DEBUG) console.error(new Date().toISOString(), l);
      },
    },
  );
  pid = sidecar.envoy.pid;
  out = new Load({ url: sidecar.envoy.listeners.outbound!, host: 'service_b', concurrency: 4 });
  inb = new Load({ url: sidecar.envoy.listeners.inbound!, host: 'app', paths: ['/public', '/private'], concurrency: 2 });
});

after(async () => {
  await out?.stop();
  await inb?.stop();
  await sidecar?.stop();
  await Promise.all([v1?.close(), v2?.close(), app?.close()]);
  rmSync(work, { recursive: true, force: true });
});

/** Waits for the apply the file event started; returns its report. */
async function applied(count: number) {
  return until(() => sidecar.reports.length >= count && sidecar.reports[count - 1], 15_000, 'the watcher to apply the edit');
}

test('canary progression 95/5 -> 50/50 -> 0/100 by editing the VirtualService, split within a binomial bound', async () => {
  let n = sidecar.reports.length;
  for (const [w1, w2] of [
    [95, 5],
    [50, 50],
    [0, 100],
  ] as const) {
    if (w1 !== 95) {
      save('vs.yaml', canary(w1, w2));
      const r = await applied(++n);
      assert.ok(r.ok, r.errors.join('\n'));
      assert.deepEqual(
        r.applied.map((a) => `${a.kind} ${a.name}`),
        ['ecds outbound.steering'],
        'a weight change is one ECDS update',
      );
    }
    // Workers take the new filter config right after the main thread's update_success: measure from a little later.
    const from = Date.now() + 100;
    const window = await out.collect(from, 400);
    const k = window.filter((s) => s.servedBy === 'service_b/v2').length;
    assert.equal(window.filter((s) => !s.servedBy.startsWith('service_b/')).length, 0);
    assert.ok(withinBinomial(k, window.length, w2 / 100), `${w1}/${w2}: ${k} of ${window.length} to v2`);
  }
  assert.equal(sidecar.envoy.pid, pid);
  assert.deepEqual(out.failures(), []);
});

test('a DENY AuthorizationPolicy added takes effect within a second, /public still allowed', async () => {
  await inb.collect(Date.now(), 20);
  assert.ok(inb.samples.every((s) => s.status === 200));
  const n = sidecar.reports.length;
  const at = save('deny.yaml', deny);
  const r = await applied(n + 1);
  assert.ok(r.ok, r.errors.join('\n'));
  assert.deepEqual(
    r.applied.map((a) => `${a.kind} ${a.name}`),
    ['ecds inbound.authz'],
  );
  const first403 = await until(() => inb.samples.find((s) => s.start >= at && s.status === 403), 5000, 'a 403');
  const effect = first403.end - at;
  assert.ok(effect < 1000, `DENY took effect after ${effect} ms`);
  const settled = await inb.collect(first403.end + 100, 100);
  for (const s of settled) assert.equal(s.status, s.path === '/private' ? 403 : 200, `${s.path}: ${s.status}`);
  assert.equal(sidecar.envoy.pid, pid);
  assert.deepEqual(inb.failures(), []);
});

test('a bad edit is reported (file and field) and the old configuration keeps serving', async () => {
  const before = readFileSync(join(sidecar.xdsDir, 'ecds/outbound.steering/resources.json'), 'utf8');
  let n = sidecar.reports.length;
  // The filter rejects it (the harness pre-check runs its configure, as Envoy would).
  save('vs.yaml', canary(-5, 5)); // Istio: a weight is never negative (any positive total is fine)
  let r = await applied(++n);
  assert.equal(r.ok, false);
  assert.match(r.errors.join('\n'), /^vs\.yaml: the steering filter rejects its configuration: .*\$\.http\[0\]\.route\[0\]\.weight/m);
  assert.ok(lines.some((l) => /not applied .*last good configuration keeps serving/.test(l) && l.includes('weight')));
  // It does not translate (YAML).
  save('vs.yaml', 'kind: VirtualService\nspec: [unclosed\n');
  r = await applied(++n);
  assert.equal(r.ok, false);
  assert.match(r.errors.join('\n'), /^vs\.yaml/m);
  assert.equal(readFileSync(join(sidecar.xdsDir, 'ecds/outbound.steering/resources.json'), 'utf8'), before);
  const window = await out.collect(Date.now(), 200);
  assert.ok(
    window.every((s) => s.servedBy === 'service_b/v2'),
    'still 0/100',
  );
  save('vs.yaml', canary(0, 100));
  assert.ok((await applied(++n)).ok);
  assert.equal(sidecar.envoy.pid, pid);
  assert.deepEqual(out.failures(), []);
});

test('a change Envoy itself rejects: reported, the old files put back, still serving', async () => {
  const cds = join(sidecar.xdsDir, 'cds/clusters/resources.json');
  const before = readFileSync(cds, 'utf8');
  const n = sidecar.reports.length;
  // Translate passes a negative count through; Envoy's CDS refuses it (uint32).
  save('dr.yaml', subsets.replace('spec:\n', 'spec:\n  trafficPolicy:\n    connectionPool:\n      tcp:\n        maxConnections: -1\n'));
  const r = await applied(n + 1);
  assert.equal(r.ok, false);
  assert.match(r.errors.join('\n'), /^Envoy rejected cds\/clusters\/resources\.json: /m);
  assert.equal(readFileSync(cds, 'utf8'), before);
  save('dr.yaml', subsets);
  assert.ok((await applied(n + 2)).ok);
  await out.collect(Date.now(), 100);
  assert.equal(sidecar.envoy.pid, pid);
  assert.deepEqual(out.failures(), []);
});
