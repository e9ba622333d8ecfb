// Workload certificates and the trust bundle rotated in a running Envoy (SDS from files) under
// steady mTLS load: the watcher renews at half-life, the peer sees the new serial on new handshakes,
// keep-alive connections go on, no request fails; `asmesh ca rotate` makes the new CA trusted
// beside the old one (the overlap), `retire` ends it.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { initCa, issueWorkloadCert, retireCa, rotateCa, trustBundle } from '../../host/cli/certs.ts';
import { LiveSidecar } from '../../host/live/sidecar.ts';
import { Load, probe, type LoadOptions } from '../../host/live/load.ts';
import { EchoServer } from '../../host/upstream/echo.ts';
import { repoRoot } from '../../host/paths.ts';
import { until } from '../../host/until.ts';

// Long enough that Envoy is up and serving well before the half-life renewal.
const LIFETIME_S = 16;
const work = join(repoRoot, '.tmp', `live-certs-${process.pid}`);
const ca = join(work, 'ca');
let app: EchoServer, sidecar: LiveSidecar, pid: number, keepAlive: Load, fresh: Load, target: LoadOptions;
const client = () => {
  const c = issueWorkloadCert(ca, 'spiffe://cluster.local/ns/default/sa/client', 3600);
  return { cert: c.cert, key: c.key, ca: trustBundle(ca) };
};

before(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'istio'), { recursive: true });
  writeFileSync(join(work, 'istio', 'pa.yaml'), readFileSync(join(repoRoot, 'test/istio/peerauthentication-strict.yaml'), 'utf8'));
  initCa(ca);
  app = await EchoServer.start('app');
  sidecar = await LiveSidecar.start({
    istioDir: join(work, 'istio'),
    xdsDir: join(work, 'xds'),
    wasmDir: join(repoRoot, 'build'),
    loopback: true,
    caDir: ca,
    certLifetimeSeconds: LIFETIME_S,
    translate: {
      workload: { name: 'app', namespace: 'foo', serviceAccount: 'app' },
      adminPort: 0,
      outboundPort: 0,
      inboundPort: 0,
      app: { address: '127.0.0.1', port: app.port },
    },
  });
  pid = sidecar.envoy.pid;
  target = { url: sidecar.envoy.listeners.inbound!.replace('http:', 'https:'), host: 'app', tls: client() };
  keepAlive = new Load({ ...target, concurrency: 2 });
  fresh = new Load({ ...target, concurrency: 1, keepAlive: false });
});

after(async () => {
  await keepAlive?.stop();
  await fresh?.stop();
  await sidecar?.stop();
  await app?.close();
  rmSync(work, { recursive: true, force: true });
});

test('the workload certificate is SPIFFE, short-lived, renewed at half-life with no failed request; the peer sees the new serial', async () => {
  const first = sidecar.certificate!;
  const x = new X509Certificate(first.cert);
  assert.equal(x.subjectAltName, 'URI:spiffe://cluster.local/ns/foo/sa/app');
  assert.ok(Math.abs(first.notAfter.getTime() - first.notBefore.getTime() - LIFETIME_S * 1000) <= 2000);
  const early = await fresh.collect(Date.now(), 10);
  assert.ok(
    early.every((s) => s.status === 200 && s.serial === first.serial),
    JSON.stringify({ first: first.serial, early }),
  );
  // The half-life timer renews it (no call from here).
  const renewed = await until(
    () => sidecar.certificate!.serial !== first.serial && sidecar.certificate!,
    LIFETIME_S * 1000,
    'the half-life renewal',
  );
  assert.ok(Date.now() < first.notAfter.getTime(), 'renewed before expiry');
  const report = await until(() => sidecar.reports.find((r) => r.trigger.includes(renewed.serial) && r.ok), 5000, 'the SDS update');
  assert.deepEqual(
    report.applied.map((a) => `${a.kind} ${a.name}`),
    ['sds default'],
  );
  const seen = await until(() => fresh.samples.find((s) => s.serial === renewed.serial), 5000, 'a handshake with the new certificate');
  assert.equal(seen.status, 200);
  await keepAlive.collect(Date.now(), 50);
  assert.equal(sidecar.envoy.pid, pid);
  assert.deepEqual([...keepAlive.failures(), ...fresh.failures()], []);
});

test('CA rotation: the new CA is trusted beside the old (overlap), the leaf moves to it, retire ends the overlap', async () => {
  // `fresh` trusts the old CA only: stop it before the leaf moves to the new one.
  await fresh.stop();
  assert.deepEqual(fresh.failures(), []);
  const oldClient = target.tls!;
  const n = sidecar.reports.length;
  rotateCa(ca);
  const report = await until(() => sidecar.reports.slice(n).find((r) => r.trigger === 'trust bundle'), 5000, 'the bundle update');
  assert.ok(report.ok, report.errors.join('\n'));
  assert.deepEqual(
    report.applied.map((a) => `${a.kind} ${a.name}`),
    ['sds ROOTCA'],
  );
  // A peer with a certificate of the new CA is accepted; one of the old CA still is (the overlap).
  const newClient = client();
  assert.equal((await probe({ ...target, tls: newClient }, '/')).status, 200);
  assert.equal((await probe({ ...target, tls: { ...oldClient, ca: trustBundle(ca) } }, '/')).status, 200);
  // The next renewal is signed by the new CA; a peer trusting the bundle sees it.
  const renewal = await sidecar.renewCertificate();
  assert.ok(renewal.ok, renewal.errors.join('\n'));
  const leaf = new X509Certificate(sidecar.certificate!.cert);
  assert.ok(leaf.checkIssued(new X509Certificate(readFileSync(join(ca, 'ca.pem'), 'utf8'))));
  const seen = await probe({ ...target, tls: newClient }, '/');
  assert.equal(seen.status, 200);
  assert.equal(seen.serial, sidecar.certificate!.serial);
  // Retired: the old CA's client certificate is refused at the handshake.
  const m = sidecar.reports.length;
  retireCa(ca);
  await until(() => sidecar.reports.slice(m).find((r) => r.trigger === 'trust bundle' && r.ok), 5000, 'the retire update');
  const refused = await probe({ ...target, tls: { ...oldClient, ca: trustBundle(ca) } }, '/');
  assert.notEqual(refused.error, '', `old CA client got ${refused.status}`);
  assert.equal((await probe({ ...target, tls: newClient }, '/')).status, 200);
  assert.equal(sidecar.envoy.pid, pid);
  // The steady load's client trusts only the old CA: its keep-alive connections outlive both rotations.
  assert.deepEqual(keepAlive.failures(), []);
});
