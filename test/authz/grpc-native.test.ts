// authz on gRPC against Istio's own translation: a workload whose port is GRPC gets from Istio's pilot an
// inbound HTTP connection manager with jwt_authn + rbac; one stock Envoy runs it and the same manager with
// the asmesh authz filter in their place, both to a real grpc-js server (HTTP/2 upstream, pilot's
// cluster). The same calls (JWT in `authorization` metadata: none, valid, forged, expired, unknown issuer,
// wrong audience, two tokens; unary and streaming; allowed and denied methods) go to both, over h2c:
// :status, content-type, grpc-status, grpc-message, www-authenticate, the grpc-js client's code and
// details and what the server received must be equal.
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { wasmFilterEntry } from '../../host/envoy/config.ts';
import { repoRoot } from '../../host/envoy/install.ts';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { inboundHttpManager, istioPilot, pilotBootstrap, workloadDocs } from '../../host/envoy/pilot.ts';
import { GrpcClient, SERVICE, startGrpcServer } from '../envoy/grpcjs.ts';
import { ISSUER, jwks, makeKey, token } from '../../host/fixtures/jwt.ts';

type Obj = Record<string, any>;
const PROXY = { namespace: 'foo', labels: { app: 'grpcsvc' }, ip: '10.0.0.10', serviceAccount: 'grpcsvc' };
const CLUSTER = 'inbound|9090||';

let envoy: Envoy;
let server: Awaited<ReturnType<typeof startGrpcServer>>;
let tokens: Record<string, string>;
let jwtRules: Obj[];
let policies: Obj[];
let inboundCluster: Obj;

function istioYaml(): string {
  const doc = (o: Obj) => JSON.stringify(o);
  return [
    ...workloadDocs({ ...PROXY, name: 'grpcsvc', host: 'grpc.example', port: { number: 9090, name: 'grpc', protocol: 'GRPC' } }).map(doc),
    doc({
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: { name: 'ra', namespace: 'foo' },
      spec: { selector: { matchLabels: { app: 'grpcsvc' } }, jwtRules },
    }),
    ...policies.map((p) => {
      const { name, ...spec } = p;
      return doc({
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name, namespace: 'foo' },
        spec: { selector: { matchLabels: { app: 'grpcsvc' } }, ...spec },
      });
    }),
  ].join('\n---\n');
}

before(async () => {
  const key = await makeKey('RS256', 'k1');
  const other = await makeKey('RS256', 'k1');
  const now = Math.floor(Date.now() / 1000);
  tokens = {
    user: await token(key, { nowSec: now, payload: { sub: 'user-1', aud: 'grpc' } }),
    admin: await token(key, { nowSec: now, payload: { sub: 'admin', aud: 'grpc' } }),
    noAud: await token(key, { nowSec: now, payload: { sub: 'user-1', aud: 'other' } }),
    expired: await token(key, { nowSec: now - 7200, expSeconds: 60, payload: { aud: 'grpc' } }),
    issuer: await token(key, { nowSec: now, payload: { iss: 'https://other.example', aud: 'grpc' } }),
    forged: await token(other, { nowSec: now, payload: { sub: 'admin', aud: 'grpc' } }),
  };
  jwtRules = [{ issuer: ISSUER, jwks: jwks(key), audiences: ['grpc'], forwardOriginalToken: true }];
  policies = [
    {
      name: 'callers',
      action: 'ALLOW',
      rules: [
        { from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }], to: [{ operation: { paths: ['/pkg.Svc/Unary', '/pkg.Svc/Bidi'] } }] },
        { from: [{ source: { requestPrincipals: [`${ISSUER}/admin`] } }], to: [{ operation: { paths: ['/pkg.Svc/*'] } }] },
      ],
    },
    { name: 'no-client-streams', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/pkg.Svc/ClientStream'] } }] }] },
  ];
  const pilot = await istioPilot(istioYaml(), PROXY);
  const native = inboundHttpManager(pilot, 9090).config;
  const names = (native.http_filters as Obj[]).map((f) => f.name);
  assert.ok(names.includes('envoy.filters.http.jwt_authn') && names.includes('envoy.filters.http.rbac'), `pilot's chain: ${names}`);
  const wasm = structuredClone(native);
  const at = names.findIndex((n) => n === 'envoy.filters.http.jwt_authn');
  wasm.http_filters = (native.http_filters as Obj[]).filter(
    (f) => f.name !== 'envoy.filters.http.jwt_authn' && f.name !== 'envoy.filters.http.rbac',
  );
  wasm.http_filters.splice(at, 0, wasmFilterEntry('authz', join(repoRoot, 'build', 'authz.wasm'), { jwtRules, policies }));
  server = await startGrpcServer('grpcsvc');
  const boot = pilotBootstrap(pilot, { listeners: { native, wasm }, upstreams: { [CLUSTER]: {} } });
  inboundCluster = (boot.config.static_resources.clusters as Obj[]).find((c) => c.name === CLUSTER)!;
  envoy = await startEnvoy({ config: boot.config, upstreams: { [CLUSTER]: { port: server.port } }, timeoutMs: 60_000 });
});

after(async () => {
  await envoy?.stop();
  await server?.close();
});

interface Raw {
  status: number;
  contentType: unknown;
  grpcStatus: unknown;
  grpcMessage: unknown;
  wwwAuthenticate: unknown;
  trailersOnly: boolean;
}

/** One unary call on a raw HTTP/2 stream: the response as it is on the wire. */
function rawCall(session: ClientHttp2Session, path: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': 'POST',
      ':path': path,
      ':authority': 'grpc.example:9090',
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    let h: Obj = {};
    let t: Obj = {};
    let ended = false;
    req.on('response', (x, flags) => {
      h = x;
      ended = (flags & 1) === 1;
    });
    req.on('trailers', (x) => (t = x));
    req.on('data', () => {});
    req.on('end', () =>
      resolve({
        status: Number(h[':status']),
        contentType: h['content-type'],
        grpcStatus: t['grpc-status'] ?? h['grpc-status'],
        grpcMessage: t['grpc-message'] ?? h['grpc-message'],
        wwwAuthenticate: h['www-authenticate'],
        trailersOnly: ended || t['grpc-status'] === undefined,
      }),
    );
    req.on('error', reject);
    const msg = Buffer.from('\0\0\0\0\x02hi', 'latin1');
    req.end(msg);
  });
}

test('pilot gives a GRPC port an HTTP/2 inbound cluster (the grpc-js server needs it)', () => {
  const opts = inboundCluster.typed_extension_protocol_options?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  assert.ok(opts?.explicit_http_config?.http2_protocol_options !== undefined || opts?.use_downstream_protocol_config !== undefined);
});

test("authz on gRPC calls answers as pilot's jwt_authn + rbac (status, grpc-status, grpc-message, what the server got)", async () => {
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const cases: [string, string, Record<string, string>][] = [
    ['no token', SERVICE.Unary.path, {}],
    ['user Unary', SERVICE.Unary.path, bearer(tokens.user!)],
    ['user Other (not allowed)', SERVICE.Other.path, bearer(tokens.user!)],
    ['admin Other', SERVICE.Other.path, bearer(tokens.admin!)],
    ['admin ClientStream (DENY)', SERVICE.ClientStream.path, bearer(tokens.admin!)],
    ['forged', SERVICE.Unary.path, bearer(tokens.forged!)],
    ['expired', SERVICE.Unary.path, bearer(tokens.expired!)],
    ['unknown issuer', SERVICE.Unary.path, bearer(tokens.issuer!)],
    ['wrong audience', SERVICE.Unary.path, bearer(tokens.noAud!)],
    ['not a JWT', SERVICE.Unary.path, bearer('garbage')],
    ['token in x-token (not read)', SERVICE.Unary.path, { 'x-token': tokens.user! }],
    ['Basic scheme', SERVICE.Unary.path, { authorization: `Basic ${tokens.user}` }],
    ['upstream fails after auth', SERVICE.Unary.path, { ...bearer(tokens.user!), 'x-fail': '8' }],
  ];
  const sessions = { native: connect(envoy.listeners.native!), wasm: connect(envoy.listeners.wasm!) };
  const clients = {
    native: new GrpcClient(new URL(envoy.listeners.native!).host, 'grpc.example:9090'),
    wasm: new GrpcClient(new URL(envoy.listeners.wasm!).host, 'grpc.example:9090'),
  };
  const codes = new Set<string>();
  try {
    for (const [name, path, md] of cases) {
      const seen: Record<string, unknown> = {};
      for (const side of ['native', 'wasm'] as const) {
        const n = server.seen.length;
        const raw = await rawCall(sessions[side], path, md);
        const js = await clients[side].unary(path, 'hi', md);
        const stream = await clients[side].bidi(['a', 'b'], md);
        const got = server.seen.slice(n).map((s) => ({ path: s.path, authorization: s.metadata.authorization ?? null }));
        seen[side] = { raw, js: { code: js.code, details: js.details, messages: js.messages.length }, bidi: stream.code, got };
      }
      assert.deepEqual(seen.wasm, seen.native, `${name}: asmesh (actual) vs pilot's jwt_authn + rbac (expected)`);
      codes.add(`${(seen.native as Obj).raw.status}/${(seen.native as Obj).raw.grpcStatus}`);
      // Every failure (a denial, or the server's error before any message) is a trailers-only answer.
      const raw = (seen.native as Obj).raw as Raw;
      assert.equal(raw.trailersOnly, raw.grpcStatus !== '0', `${name}: trailers-only iff it failed`);
    }
  } finally {
    for (const s of Object.values(sessions)) s.close();
    for (const c of Object.values(clients)) c.close();
  }
  // The corpus has Envoy's gRPC local replies for both filters: UNAUTHENTICATED, PERMISSION_DENIED, and allowed calls.
  for (const c of ['200/16', '200/7', '200/0']) assert.ok(codes.has(c), `some call answered ${c} (${[...codes]})`);
});

test('streaming calls through both: server and client streams allowed or denied alike', async () => {
  const md = { authorization: `Bearer ${tokens.admin}` };
  const out: Record<string, unknown> = {};
  for (const side of ['native', 'wasm'] as const) {
    const c = new GrpcClient(new URL(envoy.listeners[side]!).host, 'grpc.example:9090');
    try {
      out[side] = [
        await c.serverStream('abcd', md),
        await c.clientStream(['a', 'b'], md),
        await c.serverStream('ab', { authorization: `Bearer ${tokens.user}` }),
      ].map((r) => ({ code: r.code, details: r.details, messages: r.messages }));
    } finally {
      c.close();
    }
  }
  assert.deepEqual(out.wasm, out.native);
  assert.deepEqual(
    (out.native as { code: number }[]).map((r) => r.code),
    [0, 7, 7],
  );
});
