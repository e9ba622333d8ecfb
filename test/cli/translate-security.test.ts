// The istio.io security tasks (test/data/istio-samples, vendored with their licence) through asmesh
// translate, in real Envoy with the real filters: for each step of each task, the translated sidecars
// answer what the task's page says. "Explicit Deny" (authz-deny) and "JWT Token" (authz-jwt) on httpbin's
// inbound in namespace foo; "Mutual TLS Migration" with httpbin and sleep sidecars in foo and bar (sleep's
// outbound to httpbin's inbound, mTLS chosen by translate from the destination's PeerAuthentication) and a
// legacy client without a sidecar (plaintext straight to httpbin's inbound).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isMap, parseAllDocuments } from 'yaml';
import { translate } from '../../host/cli/translate.ts';
import { localizePaths } from '../../host/cli/envoy.ts';
import { issueCert, makeMeshCerts } from '../../host/cli/certs.ts';
import { launchEnvoy, send, type Envoy } from '../../host/envoy/launcher.ts';
import { EchoServer } from '../../host/upstream/echo.ts';
import type { JsonObject } from '../../host/cli/istio.ts';
import { repoRoot } from '../harness/fixtures.ts';

const samples = join(repoRoot, 'test/data/istio-samples');
const built = ['steering', 'authz', 'telemetry'].every((f) => existsSync(join(repoRoot, 'build', `${f}.wasm`)));
const work = join(repoRoot, '.tmp/test-translate-security');
type File = { name: string; text: string };

/** `kubectl apply -n ns -f path`: every document without a namespace gets `ns`. */
function applied(path: string, ns?: string): File {
  const text = readFileSync(join(samples, path), 'utf8');
  if (!ns) return { name: path, text };
  const docs = parseAllDocuments(text).filter((d) => isMap(d.contents));
  for (const d of docs) if (!d.getIn(['metadata', 'namespace'])) d.setIn(['metadata', 'namespace'], ns);
  return { name: `${path} (-n ${ns})`, text: docs.map((d) => d.toString()).join('---\n') };
}
const workloads = (ns: string) => [applied('httpbin/httpbin.yaml', ns), applied('sleep/sleep.yaml', ns)];
const token = (name: string) => readFileSync(join(samples, 'security/jwt', name), 'utf8').trim();

const envoys: Envoy[] = [];
const httpbin: Record<string, EchoServer> = {};
let certs: Record<string, string> = {};
let jwks: Server;
let jwksPort = 0;

before(async () => {
  if (!built) return;
  const dir = join(work, 'certs');
  certs = makeMeshCerts(
    dir,
    ['foo', 'bar'].flatMap((ns) => [
      { name: `httpbin-${ns}`, namespace: ns, serviceAccount: 'httpbin' },
      { name: `sleep-${ns}`, namespace: ns, serviceAccount: 'sleep' },
    ]),
  );
  for (const ns of ['foo', 'bar']) httpbin[ns] = await EchoServer.start(`httpbin.${ns}`);
  // The JWT task's jwksUri (raw.githubusercontent.com) served here: its vendored jwks.json over HTTPS.
  const jwksDir = issueCert(dir, 'jwks', 'DNS:raw.githubusercontent.com');
  const body = readFileSync(join(samples, 'security/jwt/jwks.json'));
  jwks = createServer({ cert: readFileSync(join(jwksDir, 'cert.pem')), key: readFileSync(join(jwksDir, 'key.pem')) }, (req, res) => {
    const ok = req.url === '/istio/istio/master/security/tools/jwt/samples/jwks.json';
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
    res.end(ok ? body : '');
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  jwksPort = (jwks.address() as AddressInfo).port;
});

after(async () => {
  for (const e of envoys) await e.stop();
  for (const e of Object.values(httpbin)) await e.close();
  await new Promise((r) => (jwks ? jwks.close(r) : r(null)));
});

/** One translated sidecar in Envoy (loopback, ephemeral ports) for workload `name` in `ns`. */
async function sidecar(files: File[], name: string, ns: string, endpoints: Record<string, { address: string; port: number }> = {}) {
  const app = name === 'httpbin' ? { address: '127.0.0.1', port: httpbin[ns]!.port } : { address: '127.0.0.1', port: 9 };
  const r = translate(files, {
    workload: { name, namespace: ns },
    listenAddress: '127.0.0.1',
    adminPort: 0,
    outboundPort: 0,
    inboundPort: 0,
    app,
    endpoints: { 'raw.githubusercontent.com': { address: '127.0.0.1', port: jwksPort }, ...endpoints },
  });
  const envoy = await launchEnvoy(
    localizePaths(r.envoy, { wasmDir: join(repoRoot, 'build'), certDir: certs[`${name}-${ns}`]! }) as JsonObject,
  );
  envoys.push(envoy);
  return { envoy, inbound: envoy.listeners.inbound!, outbound: envoy.listeners.outbound!, mtls: r.mtls };
}

/** The status of one request, or 0 when the connection failed (curl's 000). */
async function status(url: string, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<number> {
  try {
    return (await send(url, path, { method: opts.method, headers: opts.headers, body: opts.method === 'POST' ? '' : undefined })).status;
  } catch {
    return 0;
  }
}

test('authz-deny ("Explicit Deny"): every step as the task page says, on the translated httpbin sidecar in Envoy', async (t) => {
  if (!built) return t.skip('build/*.wasm not built (npm run build)');
  const hb = (...policies: string[]) =>
    sidecar([...workloads('foo'), ...policies.map((p) => applied(`security/authz-deny/${p}.yaml`))], 'httpbin', 'foo');
  const step1 = await hb('deny-method-get');
  assert.equal(await status(step1.inbound, '/get'), 403, 'GET denied');
  assert.equal(await status(step1.inbound, '/post', { method: 'POST' }), 200, 'POST allowed');
  const step2 = await hb('deny-method-get-x-token');
  assert.equal(await status(step2.inbound, '/get', { headers: { 'x-token': 'admin' } }), 200, 'GET x-token admin');
  assert.equal(await status(step2.inbound, '/get', { headers: { 'x-token': 'guest' } }), 403, 'GET x-token guest');
  const step3 = await hb('deny-method-get-x-token', 'allow-path-ip');
  assert.equal(await status(step3.inbound, '/ip', { headers: { 'x-token': 'guest' } }), 403, 'DENY beats ALLOW');
  assert.equal(await status(step3.inbound, '/ip', { headers: { 'x-token': 'admin' } }), 200, '/ip admin');
  assert.equal(await status(step3.inbound, '/get', { headers: { 'x-token': 'admin' } }), 403, 'not /ip: no ALLOW matches');
});

test('authz-jwt ("JWT Token"): every step as the task page says (JWKS from the jwksUri, tokens from istio/istio)', async (t) => {
  if (!built) return t.skip('build/*.wasm not built (npm run build)');
  const demo = token('demo.jwt');
  const groups = token('groups-scope.jwt');
  const hb = (...files: string[]) =>
    sidecar([...workloads('foo'), ...files.map((p) => applied(`security/authz-jwt/${p}.yaml`))], 'httpbin', 'foo');
  const bearer = (tok: string) => ({ headers: { authorization: `Bearer ${tok}` } });
  const step1 = await hb('jwt-example');
  assert.equal(await status(step1.inbound, '/headers', bearer('invalidToken')), 401, 'an invalid JWT');
  assert.equal(await status(step1.inbound, '/headers'), 200, 'no JWT, no policy');
  const step2 = await hb('jwt-example', 'require-jwt');
  assert.equal(await status(step2.inbound, '/headers', bearer(demo)), 200, 'a valid JWT');
  assert.equal(await status(step2.inbound, '/headers'), 403, 'no JWT');
  const step3 = await hb('jwt-example', 'require-jwt-groups');
  assert.equal(await status(step3.inbound, '/headers', bearer(groups)), 200, 'groups claim has group1');
  assert.equal(await status(step3.inbound, '/headers', bearer(demo)), 403, 'no groups claim');
});

test('mtls-migration ("Mutual TLS Migration"): PERMISSIVE, STRICT in foo, STRICT mesh-wide; sidecar clients always 200, legacy refused where STRICT', async (t) => {
  if (!built) return t.skip('build/*.wasm not built (npm run build)');
  const pa = 'security/mtls-migration/peer-authentication-strict.yaml';
  const steps: { name: string; files: File[]; legacy: Record<string, number>; modes: Record<string, string> }[] = [
    { name: 'no PeerAuthentication', files: [], legacy: { foo: 200, bar: 200 }, modes: { foo: 'PERMISSIVE', bar: 'PERMISSIVE' } },
    { name: 'STRICT in foo', files: [applied(pa, 'foo')], legacy: { foo: 0, bar: 200 }, modes: { foo: 'STRICT', bar: 'PERMISSIVE' } },
    { name: 'STRICT mesh-wide', files: [applied(pa, 'istio-system')], legacy: { foo: 0, bar: 0 }, modes: { foo: 'STRICT', bar: 'STRICT' } },
  ];
  for (const step of steps) {
    const files = [...workloads('foo'), ...workloads('bar'), ...step.files];
    const hb: Record<string, Awaited<ReturnType<typeof sidecar>>> = {};
    for (const ns of ['foo', 'bar']) hb[ns] = await sidecar(files, 'httpbin', ns);
    const endpoints = Object.fromEntries(
      ['foo', 'bar'].map((ns) => {
        const u = new URL(hb[ns]!.inbound);
        return [`outbound|8000||httpbin.${ns}.svc.cluster.local`, { address: u.hostname, port: Number(u.port) }];
      }),
    );
    const sleep: Record<string, Awaited<ReturnType<typeof sidecar>>> = {};
    for (const ns of ['foo', 'bar']) sleep[ns] = await sidecar(files, 'sleep', ns, endpoints);
    for (const to of ['foo', 'bar']) {
      assert.equal(hb[to]!.mtls, step.modes[to], `${step.name}: httpbin.${to} inbound mode`);
      for (const from of ['foo', 'bar']) {
        const reply = await send(sleep[from]!.outbound, '/ip', { headers: { host: `httpbin.${to}:8000` } });
        assert.equal(reply.status, 200, `${step.name}: sleep.${from} to httpbin.${to}: ${reply.body}`);
        // Over mTLS exactly when the destination is STRICT (auto mTLS): httpbin sees sleep's identity in XFCC.
        const xfcc = String((JSON.parse(reply.body) as { headers: Record<string, string> }).headers['x-forwarded-client-cert'] ?? '');
        if (step.modes[to] === 'STRICT')
          assert.match(xfcc, new RegExp(`URI=spiffe://cluster\\.local/ns/${from}/sa/sleep`), `${step.name}: ${from} -> ${to}`);
        else assert.equal(xfcc, '', `${step.name}: sleep.${from} to httpbin.${to} is plaintext`);
      }
      assert.equal(await status(hb[to]!.inbound, '/ip'), step.legacy[to], `${step.name}: sleep.legacy to httpbin.${to}`);
    }
    for (const e of [...Object.values(hb), ...Object.values(sleep)]) await e.envoy.stop();
  }
});
