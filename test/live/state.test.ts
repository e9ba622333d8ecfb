// What the filters keep across a configuration push (ECDS) in a running Envoy: after the
// AuthorizationPolicy, the VirtualService and the Telemetry resource are edited (each filter gets a new
// configuration, a new root context in the same VM), (a) the jwksUri keys are kept: no refetch at the
// JWKS server, tokens still accepted; (b) sticky users stay on the subset their hash gives; (c) the
// telemetry counters go on counting from where they were (not reset).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LiveSidecar } from '../../host/live/sidecar.ts';
import { startServiceBSidecar } from '../../host/fixtures/live.ts';
import { request } from 'node:http';
import { EchoServer } from '../../host/upstream/echo.ts';
import { repoRoot } from '../../host/paths.ts';
import { until } from '../../host/until.ts';
import { jwks, makeKey, token, ISSUER, type TestKey } from '../../host/fixtures/jwt.ts';

const work = join(repoRoot, '.tmp', `live-state-${process.pid}`);
const istio = join(work, 'istio');
let v1: EchoServer, v2: EchoServer, app: EchoServer, jwksServer: EchoServer, sidecar: LiveSidecar, key: TestKey;
let fetches = 0;

const ra = `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt }
spec:
  jwtRules:
  - issuer: "${ISSUER}"
    jwksUri: "http://jwks.test/keys"
`;
const ap = (paths: string[]) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: require-jwt }
spec:
  action: ALLOW
  rules:
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ${JSON.stringify(paths)} } }]
`;
const vs = (extraRoute: boolean) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: service_b }
spec:
  hosts: [service_b]
  asmesh: { stickyKey: { header: x-user } }
  http:
${
  extraRoute
    ? `  - match: [{ headers: { x-canary: { exact: "1" } } }]
    route: [{ destination: { host: service_b, subset: v2 } }]
`
    : ''
}  - route:
    - { destination: { host: service_b, subset: v1 }, weight: 50 }
    - { destination: { host: service_b, subset: v2 }, weight: 50 }
`;
const tel = (durationTag: boolean) => `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh }
spec:
  metrics:
  - providers: [{ name: prometheus }]
${
  durationTag
    ? `    overrides:
    - match: { metric: REQUEST_DURATION }
      tagOverrides: { user: { value: "request.headers['x-user']" } }
`
    : ''
}`;

function save(name: string, text: string): void {
  writeFileSync(join(istio, `.${name}.swp`), text);
  renameSync(join(istio, `.${name}.swp`), join(istio, name));
}

before(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(istio, { recursive: true });
  key = await makeKey('ES256', 'k1');
  writeFileSync(join(istio, 'ra.yaml'), ra);
  writeFileSync(join(istio, 'ap.yaml'), ap(['/info']));
  writeFileSync(join(istio, 'vs.yaml'), vs(false));
  writeFileSync(join(istio, 'dr.yaml'), readFileSync(join(repoRoot, 'test/istio/destinationrule-subsets.yaml'), 'utf8'));
  writeFileSync(join(istio, 'tel.yaml'), tel(false));
  [v1, v2, app, jwksServer] = await Promise.all([
    EchoServer.start('service_b/v1'),
    EchoServer.start('service_b/v2'),
    EchoServer.start('app'),
    EchoServer.start('jwks'),
  ]);
  jwksServer.setRoute('/keys', () => {
    fetches++;
    return { status: 200, headers: { 'content-type': 'application/json' }, body: jwks(key) };
  });
  sidecar = await startServiceBSidecar(istio, work, { app, v1, v2, extra: { 'jwks.test': jwksServer } });
});

after(async () => {
  await sidecar?.stop();
  await Promise.all([v1?.close(), v2?.close(), app?.close(), jwksServer?.close()]);
  rmSync(work, { recursive: true, force: true });
});

const USERS = Array.from({ length: 40 }, (_, i) => `user-${i}`);

/** The subset each user is sent to (one request each). */
async function assignments(): Promise<string[]> {
  const out: string[] = [];
  for (const u of USERS) {
    const s = await probeWith(sidecar.envoy.listeners.outbound!, 'service_b', '/', { 'x-user': u });
    assert.equal(s.status, 200);
    out.push(s.servedBy);
  }
  return out;
}

/** One request with extra headers, on its own connection. */
function probeWith(url: string, host: string, path: string, headers: Record<string, string>) {
  const u = new URL(url);
  return new Promise<{ status: number; servedBy: string }>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { host, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, servedBy: String(res.headers['x-served-by'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Envoy's value of the inbound request counter: the telemetry filter's istio_requests_total series of the inbound side. */
async function inboundRequests(): Promise<number> {
  let n = 0;
  for (const m of (await sidecar.envoy.prometheus()).matchAll(/^istio_requests_total\{([^}]*)\} (\d+)$/gm))
    if (m[1]!.includes('reporter="destination"')) n += Number(m[2]);
  return n;
}

test('after an ECDS push of all three filters: JWKS kept (no refetch), sticky users stay, counters go on', async () => {
  const t = await token(key, { nowSec: Math.floor(Date.now() / 1000) });
  const auth = { authorization: `Bearer ${t}` };
  let sent = 0;
  const inbound = (path: string, headers: Record<string, string>) => {
    sent++;
    return probeWith(sidecar.envoy.listeners.inbound!, 'app', path, headers);
  };
  // The filter fetches at start; a first request may wait for it.
  await until(async () => (await inbound('/info', auth)).status === 200, 10_000, 'a token accepted');
  assert.equal((await inbound('/info', {})).status, 403, 'no token: denied');
  assert.equal(fetches, 1, 'one JWKS fetch');
  const sticky = await assignments();
  assert.ok(sticky.includes('service_b/v1') && sticky.includes('service_b/v2'), `both subsets: ${sticky}`);
  assert.deepEqual(await assignments(), sticky, 'sticky before the push');
  for (let i = 0; i < 5; i++) assert.equal((await inbound('/info', auth)).status, 200);
  const counted = await inboundRequests();
  assert.equal(counted, sent, 'every inbound request counted');
  sent = 0;

  const n = sidecar.reports.length;
  save('ap.yaml', ap(['/info', '/other']));
  save('vs.yaml', vs(true));
  save('tel.yaml', tel(true));
  const r = await until(() => sidecar.reports.length > n && sidecar.reports.at(-1)!.ok && sidecar.reports.at(-1), 15_000, 'the push');
  const pushed = sidecar.reports.slice(n).flatMap((x) => x.applied.map((a) => `${a.kind} ${a.name}`));
  for (const f of ['inbound.authz', 'outbound.steering', 'inbound.telemetry', 'outbound.telemetry'])
    assert.ok(pushed.includes(`ecds ${f}`), `${f} pushed: ${pushed} (${r.trigger})`);
  // The new configuration serves (the new route) ...
  assert.equal(
    (await probeWith(sidecar.envoy.listeners.outbound!, 'service_b', '/', { 'x-user': 'user-0', 'x-canary': '1' })).servedBy,
    'service_b/v2',
  );
  await until(async () => (await inbound('/other', auth)).status === 200, 5000, '/other allowed by the new policy');
  // ... (a) with the keys it had: tokens accepted, and the JWKS server not asked again.
  for (let i = 0; i < 5; i++) assert.equal((await inbound('/info', auth)).status, 200);
  assert.equal(fetches, 1, 'no JWKS refetch after the push');
  // (b) every sticky user where the hash put them.
  assert.deepEqual(await assignments(), sticky);
  // (c) the series go on: the requests since the push added to the count before it (not reset).
  assert.equal(await inboundRequests(), counted + sent, `counted ${counted} before the push, ${sent} sent since`);
});
