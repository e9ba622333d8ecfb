// Istio's tcp-echo sample (test/data/istio-samples/tcp-echo, with its curl client) through asmesh translate:
// the TCP listeners against what Istio's own pilot generates for the same YAML (outbound tcp_proxy per
// service port with the VirtualService's weighted clusters, inbound chains per port and mTLS mode, the
// allow-nothing deny), then the translated sidecars in stock Envoy: every config passes `envoy --mode
// validate`, bytes go curl -> tcp_proxy -> tcp-echo's sidecar (mTLS) -> a loopback echo server and back, and
// istio_tcp_* carry Istio's labels on both sides. Accepted differences: docs/DESIGN.md ("translate vs pilot").
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { enforcesAuthorization, mountNetworkFilters, translate, type TranslateOptions } from '../../host/cli/translate.ts';
import { FILTERS, type FilterManifest } from '../../filters/manifest.ts';
import { InputErrors } from '../../host/cli/errors.ts';
import { checkFilterConfigs } from '../../host/cli/filter-check.ts';
import { localizePaths } from '../../host/cli/envoy.ts';
import { makeMeshCerts } from '../../host/cli/certs.ts';
import { istioPilot, pilotBinaryPath } from '../../host/envoy/pilot.ts';
import { launchEnvoy, validateBootstrap, type Envoy } from '../../host/envoy/launcher.ts';
import { parseExposition, select, total } from '../../host/envoy/prometheus.ts';
import { until } from '../../host/until.ts';
import type { JsonObject } from '../../host/cli/istio.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { kubeDefaults, pilotPod } from './pilot-input.ts';

type Obj = Record<string, any>;
const samples = join(repoRoot, 'test/data/istio-samples');
const read = (p: string) => ({ name: p, text: readFileSync(join(samples, p), 'utf8') });
const SAMPLE = ['tcp-echo/tcp-echo-services.yaml', 'tcp-echo/tcp-echo-all-v1.yaml', 'curl/curl.yaml'].map(read);
const ECHO = 'tcp-echo.default.svc.cluster.local';

/** The sample's 80/20 shift (tcp-echo-20-v2.yaml) bound to the mesh instead of its ingress gateway: host tcp-echo, port 9000. */
function meshShift(weights: [number, number] = [80, 20]): { name: string; text: string } {
  const t = read('tcp-echo/tcp-echo-20-v2.yaml')
    .text.replace(/ {2}gateways:\n {2}- tcp-echo-gateway\n/, '')
    .replace('name: tcp-echo\n', 'name: tcp-echo-mesh\n')
    .replace('- "*"', '- tcp-echo')
    .replace('port: 31400', 'port: 9000')
    .replace('weight: 80', `weight: ${weights[0]}`)
    .replace('weight: 20', `weight: ${weights[1]}`);
  return { name: 'mesh-shift.yaml', text: t };
}
const STRICT = {
  name: 'strict.yaml',
  text: 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: default, namespace: istio-system }\nspec: { mtls: { mode: STRICT } }\n',
};
const ALLOW_NOTHING = read('security/allow-nothing.yaml');
const PORT_LEVEL = {
  name: 'port-level.yaml',
  text: 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: echo, namespace: default }\nspec: { selector: { matchLabels: { app: tcp-echo } }, mtls: { mode: STRICT }, portLevelMtls: { 9001: { mode: PERMISSIVE } } }\n',
};
/** The sample's DestinationRule with a connection pool (circuit breaker) and ISTIO_MUTUAL. */
const POOL = {
  name: 'pool.yaml',
  text: read('tcp-echo/tcp-echo-all-v1.yaml')
    .text.split('---')[1]
    .replace(
      '\n  host: tcp-echo\n',
      '\n  host: tcp-echo\n  trafficPolicy:\n    connectionPool: { tcp: { maxConnections: 7 } }\n    tls: { mode: ISTIO_MUTUAL }\n',
    ),
};

/** A workload with two HTTP ports and a TCP port, port-level mTLS for two of them. */
const MULTI_PORT = {
  name: 'db.yaml',
  text: `apiVersion: v1
kind: Service
metadata: { name: db, namespace: default }
spec:
  selector: { app: db }
  ports: [{ name: http, port: 80, targetPort: 8080 }, { name: grpc-admin, port: 81, targetPort: 8081 }, { name: tcp-data, port: 5432 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: db, namespace: default }
spec: { template: { metadata: { labels: { app: db } }, spec: { containers: [{ name: db, image: db }] } } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: db, namespace: default }
spec: { selector: { matchLabels: { app: db } }, mtls: { mode: PERMISSIVE }, portLevelMtls: { 8081: { mode: STRICT }, 5432: { mode: DISABLE } } }
`,
};

const listeners = (envoy: JsonObject): Obj[] => (envoy.static_resources as Obj).listeners;
const tcpProxy = (chain: Obj): Obj | undefined =>
  chain.filters.find((f: Obj) => f.name === 'envoy.filters.network.tcp_proxy')?.typed_config;
const upstreamOf = (tp: Obj) => ({ cluster: tp.cluster, weighted: tp.weighted_clusters?.clusters, statPrefix: tp.stat_prefix });

async function pilotFor(files: { text: string }[], name: string, labels: Record<string, string>, sa: string, ports: number[]) {
  const text = files.map((f) => kubeDefaults(f.text)).join('---\n') + pilotPod(name, labels, sa, ports);
  return istioPilot(text, { namespace: 'default', labels, ip: '10.0.0.1', serviceAccount: sa, workloadName: name });
}

test("tcp-echo: translate's TCP listeners and clusters equal pilot's (outbound per port, weights, inbound per port, mTLS, allow-nothing)", async (t) => {
  if (!existsSync(pilotBinaryPath())) return t.skip(`${pilotBinaryPath()} not built (npm run pilot:build)`);
  // curl's outbound: a tcp_proxy listener per TCP port of tcp-echo; 9000 shifted 80/20 by the VirtualService, 9001 not matched.
  const input = [SAMPLE[0], SAMPLE[2], POOL, meshShift()];
  const ours = translate(input, { workload: { name: 'curl' } });
  const pilot = await pilotFor(input, 'curl', { app: 'curl' }, 'curl', [80]);
  const pilotTcp = pilot.listeners.filter((l) => l.name.startsWith('0.0.0.0_') && l.filter_chains.every((c: Obj) => tcpProxy(c)));
  assert.deepEqual(pilotTcp.map((l) => l.name).sort(), ['0.0.0.0_9000', '0.0.0.0_9001']);
  for (const pl of pilotTcp) {
    const port = Number(pl.name.split('_')[1]);
    const mine = listeners(ours.envoy).find((l) => l.name === `outbound_${port}`);
    assert.ok(mine, `no outbound_${port}`);
    assert.deepEqual(upstreamOf(tcpProxy(mine.filter_chains[0])!), upstreamOf(tcpProxy(pl.filter_chains[0])!), `port ${port}`);
  }
  assert.equal(
    tcpProxy(listeners(ours.envoy).find((l) => l.name === 'outbound_9000')!.filter_chains[0])!.stat_prefix,
    'tcp-echo-mesh.default',
  );
  const outbound = (names: string[]) => names.filter((n) => n.startsWith('outbound|')).sort();
  assert.deepEqual(outbound(ours.clusters), outbound(pilot.clusters.map((c) => String(c.name))));
  // The DestinationRule's connection pool and tls apply to the TCP clusters, as pilot's.
  for (const name of [`outbound|9000|v2|${ECHO}`, `outbound|9001||${ECHO}`]) {
    const mine = ((ours.envoy.static_resources as Obj).clusters as Obj[]).find((c) => c.name === name)!;
    const theirs = pilot.clusters.find((c) => c.name === name)!;
    assert.equal(mine.circuit_breakers.thresholds[0].max_connections, 7, name);
    assert.equal(theirs.circuit_breakers.thresholds[0].max_connections, 7, name);
    assert.equal(mine.transport_socket?.name, 'envoy.transport_sockets.tls', name);
    assert.ok(
      (theirs.transport_socket_matches ?? [theirs.transport_socket]).some(
        (m: Obj) => m?.transport_socket?.name === 'envoy.transport_sockets.tls' || m?.name === 'envoy.transport_sockets.tls',
      ),
      `${name}: pilot's ${JSON.stringify(theirs.transport_socket_matches ?? theirs.transport_socket)}`,
    );
  }
  // No HTTP route for the TCP-only service (pilot's route configs have none either).
  assert.ok(!pilot.routes.some((r) => JSON.stringify(r).includes(ECHO)));
  assert.ok(!JSON.stringify(listeners(ours.envoy).find((l) => l.name === 'outbound')).includes(ECHO));

  // tcp-echo-v1's inbound: per TCP port, the chains pilot's virtualInbound has for it (transport protocols, cluster, RBAC deny).
  const v1 = { app: 'tcp-echo', version: 'v1' };
  for (const [what, extra] of [
    ['PERMISSIVE', []],
    ['STRICT', [STRICT]],
    ['STRICT + allow-nothing', [STRICT, ALLOW_NOTHING]],
    ['STRICT, port 9001 PERMISSIVE', [PORT_LEVEL]],
  ] as const) {
    const files = [...SAMPLE, ...extra];
    const ours = translate(files, { workload: { name: 'tcp-echo-v1' } });
    const pilot = await pilotFor(files, 'tcp-echo-v1', v1, 'default', [9000, 9001]);
    const vi = pilot.listeners.find((l) => l.name === 'virtualInbound')!;
    for (const port of [9000, 9001]) {
      const theirs = (vi.filter_chains as Obj[]).filter((c) => c.filter_chain_match?.destination_port === port);
      const mine = listeners(ours.envoy).find((l) => l.name === `inbound_${port}`)!.filter_chains as Obj[];
      const shape = (chains: Obj[], transport: (c: Obj) => string) => ({
        transports: [...new Set(chains.map(transport))].sort(),
        clusters: [...new Set(chains.map((c) => tcpProxy(c)?.cluster))],
        rbac: [
          ...new Set(
            chains.map((c) => {
              // tcp_authz (pilot's network rbac as a Wasm filter): an ALLOW-only configuration whose policies have no rules denies all.
              const wasm = c.filters.find((f: Obj) => f.name === 'asmesh.tcp_authz');
              if (wasm !== undefined) {
                const ps = JSON.parse(wasm.typed_config.config.configuration.value).policies as Obj[];
                return ps.every((p) => (p.action ?? 'ALLOW') === 'ALLOW' && (p.rules ?? []).length === 0) ? 'deny all' : JSON.stringify(ps);
              }
              const r = c.filters.find((f: Obj) => f.name === 'envoy.filters.network.rbac')?.typed_config.rules;
              if (r === undefined) return 'none';
              // Pilot's allow-nothing is one policy that matches nothing (permission not any); ours has none.
              const never = (p: Obj) => JSON.stringify(p.permissions) === '[{"not_rule":{"any":true}}]';
              const live = Object.values((r.policies ?? {}) as Record<string, Obj>).filter((p) => !never(p));
              return (r.action ?? 'ALLOW') === 'ALLOW' && live.length === 0 ? 'deny all' : JSON.stringify(r);
            }),
          ),
        ],
      });
      const ourShape = shape(mine, (c) => (c.transport_socket ? 'tls' : 'raw_buffer'));
      const pilotShape = shape(theirs, (c) => c.filter_chain_match.transport_protocol ?? 'raw_buffer');
      if (what.includes('allow-nothing'))
        assert.ok(
          mine.every((c) => c.filters[0].name === 'asmesh.tcp_authz'),
          `${what}: port ${port}: tcp_authz first, as pilot's rbac`,
        );
      assert.deepEqual(ourShape, pilotShape, `${what}: port ${port}`);
    }
    assert.ok(!listeners(ours.envoy).some((l) => l.name === 'inbound'), `${what}: no HTTP port, no HTTP inbound listener`);
  }
});

const errorsOf = (files: { name: string; text: string }[], opts: TranslateOptions = {}): string[] => {
  try {
    translate(files, opts);
  } catch (e) {
    if (e instanceof InputErrors) return e.errors;
    throw e;
  }
  assert.fail('expected InputErrors');
};

test('tcp routes: a field asmesh does not honour, weights Istio rejects, a listener address twice: errors naming file and field', () => {
  const shift = meshShift();
  const bad = {
    ...shift,
    text: shift.text.replace('  - match:\n    - port: 9000\n', '  - match:\n    - port: 9000\n      sourceLabels: { app: curl }\n'),
  };
  assert.deepEqual(errorsOf([...SAMPLE, bad]), ['mesh-shift.yaml: spec.tcp[0].match[0].sourceLabels: not supported']);
  assert.deepEqual(errorsOf([...SAMPLE, meshShift([0, 0])]), [
    'mesh-shift.yaml: spec.tcp[0].route: total destination weight = 0 (Istio validation)',
  ]);
  assert.deepEqual(errorsOf(SAMPLE, { workload: { name: 'curl' }, listenerPorts: { outbound_9001: 15001 } }), [
    'listeners outbound and outbound_9001 both bind 0.0.0.0:15001: move one with --listener-port outbound_9001=PORT (or --outbound-port/--inbound-port)',
  ]);
  const wild = { ...shift, text: shift.text.replace('- tcp-echo\n', '- "*"\n') };
  assert.deepEqual(errorsOf([...SAMPLE, wild]), [
    'mesh-shift.yaml: spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway (Istio validation)',
  ]);
  // A policy applies: tcp_authz (the manifest's network filter for AuthorizationPolicy) enforces it, no fail-closed deny.
  const r = translate([...SAMPLE, ALLOW_NOTHING], { workload: { name: 'tcp-echo-v1' } });
  assert.ok(!r.warnings.some((w) => w.includes('no network filter enforces AuthorizationPolicy')), r.warnings.join('\n'));
});

const built = ['tcp_telemetry', 'telemetry'].every((f) => existsSync(join(repoRoot, 'build', `${f}.wasm`)));
const servers: Server[] = [];
const envoys: Envoy[] = [];
after(async () => {
  for (const e of envoys) await e.stop();
  for (const s of servers) await new Promise((r) => s.close(r));
});

/** Istio's tcp-echo server: answers each connection's bytes prefixed with its id ("one", "two"), then ends. */
async function echoServer(id: string): Promise<{ port: number; connections: () => number; bytes: () => number }> {
  let n = 0;
  let bytes = 0;
  const s = createServer((sock) => {
    n++;
    let first = true;
    sock.on('data', (d) => {
      bytes += d.length;
      sock.write(first ? Buffer.concat([Buffer.from(`${id} `), d]) : d);
      first = false;
    });
    sock.on('end', () => sock.end());
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  servers.push(s);
  return { port: (s.address() as { port: number }).port, connections: () => n, bytes: () => bytes };
}

/** Writes `data` on an open connection (plaintext, or TLS with a client certificate), waits for `expect`, then closes. */
function talk(url: string, data: string, expect: string, tlsCerts?: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const opts = { host: u.hostname, port: Number(u.port) };
    const sock = tlsCerts
      ? tlsConnect({
          ...opts,
          cert: readFileSync(join(tlsCerts, 'cert.pem')),
          key: readFileSync(join(tlsCerts, 'key.pem')),
          ca: readFileSync(join(tlsCerts, 'ca.pem')),
          checkServerIdentity: () => undefined, // a SPIFFE URI SAN, no DNS name
        })
      : connect(opts.port, opts.host);
    sock.once(tlsCerts ? 'secureConnect' : 'connect', () => sock.write(data));
    let got = '';
    sock.on('data', (d) => {
      got += d.toString();
      if (got.length >= expect.length) sock.end();
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(got));
  });
}

/** Sends `data`, half-closes, returns what came back before the close (and whether the peer reset it). */
function exchange(url: string, data: string): Promise<string> {
  return exchangeOrReset(url, data).then(({ got, reset }) => (reset ? `(reset after ${JSON.stringify(got)})` : got));
}
/** Without the half-close an allowed connection stays open: it is cut after 5 s, so a wrong allow fails, not hangs. */
function exchangeOrReset(url: string, data: string, halfClose = true): Promise<{ got: string; reset: boolean }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname, () => (halfClose ? sock.end(data) : sock.write(data)));
    const cut = setTimeout(() => sock.destroy(), 5000);
    const got: Buffer[] = [];
    let reset = false;
    sock.on('data', (d) => got.push(d));
    sock.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? (reset = true) : reject(e)));
    sock.on('close', () => {
      clearTimeout(cut);
      resolve({ got: Buffer.concat(got).toString(), reset });
    });
  });
}

const LOOPBACK: TranslateOptions = {
  listenAddress: '127.0.0.1',
  adminPort: 0,
  outboundPort: 0,
  inboundPort: 0,
  listenerPorts: { outbound_9000: 0, outbound_9001: 0 },
};

test('tcp-echo in Envoy: every sidecar validates; curl -> tcp-echo v2 over mTLS through tcp_proxy; istio_tcp_* with Istio labels; allow-nothing closes', async (t) => {
  if (!built) return t.skip('build/*.wasm not built (npm run build)');
  const certs = makeMeshCerts(join(repoRoot, '.tmp/test-translate-tcp/certs'), [
    { name: 'curl', namespace: 'default', serviceAccount: 'curl' },
    { name: 'echo', namespace: 'default', serviceAccount: 'default' },
  ]);
  const wasmDir = join(repoRoot, 'build');
  // STRICT mesh-wide, the sample's shift at 0/100 (weight 0 dropped, as pilot: every connection to v2).
  const mesh = [...SAMPLE, meshShift([0, 100]), STRICT];
  for (const [name, files] of [
    ['curl', mesh],
    ['tcp-echo-v1', mesh],
    ['tcp-echo-v2', mesh],
    ['tcp-echo-v1', [...SAMPLE, ALLOW_NOTHING]],
    ['curl', [...SAMPLE, meshShift()]],
    ['db', [MULTI_PORT]],
  ] as const) {
    const v = await validateBootstrap(localizePaths(translate([...files], { workload: { name } }).envoy, { wasmDir, certDir: certs.curl }));
    assert.equal(v.ok, true, `${name}: ${v.output}`);
  }
  const one = await echoServer('one');
  const two = await echoServer('two');
  const sidecar = async (name: string, files: { name: string; text: string }[], certDir: string, opts: TranslateOptions) => {
    const r = translate(files, { ...LOOPBACK, workload: { name }, ...opts });
    const e = await launchEnvoy(localizePaths(r.envoy, { wasmDir, certDir }) as JsonObject);
    envoys.push(e);
    return e;
  };
  const app = (port: number) => ({ 'inbound|9000||': { address: '127.0.0.1', port }, 'inbound|9001||': { address: '127.0.0.1', port } });
  const v1 = await sidecar('tcp-echo-v1', mesh, certs.echo, { endpoints: app(one.port) });
  const v2 = await sidecar('tcp-echo-v2', mesh, certs.echo, { endpoints: app(two.port) });
  const at = (e: Envoy, l: string) => {
    const u = new URL(e.listeners[l]!);
    return { address: u.hostname, port: Number(u.port) };
  };
  const curl = await sidecar('curl', mesh, certs.curl, {
    endpoints: {
      [`outbound|9000|v1|${ECHO}`]: at(v1, 'inbound_9000'),
      [`outbound|9000|v2|${ECHO}`]: at(v2, 'inbound_9000'),
      [`outbound|9001||${ECHO}`]: at(v1, 'inbound_9001'),
    },
  });
  for (let i = 0; i < 3; i++) assert.equal(await exchange(curl.listeners['outbound_9000']!, `hello ${i}\n`), `two hello ${i}\n`);
  assert.equal(await exchange(curl.listeners['outbound_9001']!, 'port 9001\n'), 'one port 9001\n');
  assert.equal(one.connections() + two.connections(), 4);

  // Server side (tcp-echo-v2, reporter destination): the caller's identity from its certificate.
  const settled = async (e: Envoy, closed: number) =>
    until(
      async () => {
        const exp = parseExposition(await e.prometheus());
        return total(exp, 'istio_tcp_connections_closed_total') >= closed && exp;
      },
      15_000,
      'istio_tcp_connections_closed_total',
    );
  const server = await settled(v2, 3);
  const [opened] = select(server, 'istio_tcp_connections_opened_total');
  assert.equal(opened.value, 3);
  const labels = { ...opened.labels };
  assert.deepEqual(
    {
      reporter: labels.reporter,
      source_principal: labels.source_principal,
      source_workload_namespace: labels.source_workload_namespace,
      destination_workload: labels.destination_workload,
      destination_app: labels.destination_app,
      destination_version: labels.destination_version,
      destination_principal: labels.destination_principal,
      connection_security_policy: labels.connection_security_policy,
      request_protocol: labels.request_protocol,
    },
    {
      reporter: 'destination',
      source_principal: 'spiffe://cluster.local/ns/default/sa/curl',
      source_workload_namespace: 'default',
      destination_workload: 'tcp-echo-v2',
      destination_app: 'tcp-echo',
      destination_version: 'v2',
      destination_principal: 'spiffe://cluster.local/ns/default/sa/default',
      connection_security_policy: 'mutual_tls',
      request_protocol: 'tcp',
    },
  );
  const sent = 'hello 0\n'.length * 3;
  assert.equal(total(server, 'istio_tcp_received_bytes_total'), sent);
  assert.equal(total(server, 'istio_tcp_sent_bytes_total'), sent + 'two '.length * 3);
  assert.equal(total(server, 'istio_tcp_connections_closed_total'), 3);
  // Client side (curl, reporter source): the destination service from tcp_proxy's cluster, per port's cluster.
  const client = await settled(curl, 4);
  const bySvc = select(client, 'istio_tcp_connections_opened_total', { reporter: 'source', destination_service: ECHO });
  assert.equal(
    bySvc.reduce((n, s) => n + s.value, 0),
    4,
    JSON.stringify(bySvc.map((s) => s.labels)),
  );
  assert.ok(bySvc.every((s) => s.labels.source_workload === 'curl' && s.labels.destination_service_name === 'tcp-echo'));
  assert.equal(total(client, 'istio_tcp_received_bytes_total'), sent + 'port 9001\n'.length);

  // PERMISSIVE (no PeerAuthentication): the TLS inspector picks the plaintext or the mTLS chain; both carry the bytes.
  const permissive = await sidecar('tcp-echo-v1', SAMPLE, certs.echo, { endpoints: app(one.port) });
  assert.equal(await talk(permissive.listeners['inbound_9000']!, 'plain\n', 'one plain\n'), 'one plain\n');
  assert.equal(await talk(permissive.listeners['inbound_9000']!, 'mtls\n', 'one mtls\n', certs.curl), 'one mtls\n');
  const p = await settled(permissive, 2);
  const policies = select(p, 'istio_tcp_connections_opened_total').map(
    (x) => `${x.labels.connection_security_policy} ${x.labels.source_principal}`,
  );
  assert.deepEqual(policies.sort(), ['mutual_tls spiffe://cluster.local/ns/default/sa/curl', 'none unknown']);

  // allow-nothing on tcp-echo-v1 (PERMISSIVE, plaintext): tcp_authz closes the connection at its first bytes, none reach
  // the app (tcp_proxy has dialled it already, as under Istio's network rbac, which also decides at the first data).
  const before = one.bytes();
  const denied = await sidecar('tcp-echo-v1', [...SAMPLE, ALLOW_NOTHING], certs.echo, { endpoints: app(one.port) });
  // (Kept open: a FIN while the TLS inspector still reads closes it there already.)
  assert.equal((await exchangeOrReset(denied.listeners['inbound_9000']!, 'let me in\n', false)).got, '');
  assert.equal(one.bytes(), before);
  const stats = await denied.stats();
  assert.equal(stats.get('wasmcustom.asmesh_tcp_authz_denied_total'), 1);
  assert.equal(stats.get('wasmcustom.asmesh_tcp_authz_allowed_total'), 0);

  // A DENY on workload port 9001: its listener (bound to 15007, not 9001) closes, 9000's carries the bytes, as
  // pilot's rbac compares ports with the original destination (translate's asmesh.port).
  const denyPort = {
    name: 'deny-9001.yaml',
    text: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: deny-9001, namespace: default }\nspec: { selector: { matchLabels: { app: tcp-echo } }, action: DENY, rules: [{ to: [{ operation: { ports: ["9001"] } }] }] }\n',
  };
  const byPort = await sidecar('tcp-echo-v1', [...SAMPLE, denyPort], certs.echo, { endpoints: app(one.port) });
  assert.equal(await talk(byPort.listeners['inbound_9000']!, 'port 9000\n', 'one port 9000\n'), 'one port 9000\n');
  const beforeDeny = one.bytes();
  assert.equal((await exchangeOrReset(byPort.listeners['inbound_9001']!, 'port 9001\n', false)).got, '');
  assert.equal(one.bytes(), beforeDeny);
  const portStats = await byPort.stats();
  assert.equal(portStats.get('wasmcustom.asmesh_tcp_authz_denied_total'), 1);
  assert.equal(portStats.get('wasmcustom.asmesh_tcp_authz_allowed_total'), 1);
});

test("translate's filter check loads the TCP chains' network filters too: a configuration tcp_telemetry rejects is named", async (t) => {
  if (!built) return t.skip('build/*.wasm not built (npm run build)');
  const r = translate(SAMPLE, { workload: { name: 'tcp-echo-v1' } });
  assert.deepEqual(await checkFilterConfigs(r.envoy, join(repoRoot, 'build')), { errors: [], unchecked: [] });
  const bad = structuredClone(r.envoy) as Obj;
  const entry = bad.static_resources.listeners.find((l: Obj) => l.name === 'inbound_9000').filter_chains[0].filters[0];
  assert.equal(entry.name, 'asmesh.tcp_telemetry');
  entry.typed_config.config.configuration.value = '{"reporter":"sideways"}';
  const { errors } = await checkFilterConfigs(bad, join(repoRoot, 'build'));
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /^listener inbound_9000: asmesh\.tcp_telemetry: the filter rejects its configuration: .*reporter.*sideways/);
});

test('inbound: a listener per port the workload serves, each with its PeerAuthentication port mode (as pilot per port); the first HTTP port is `inbound`', async () => {
  const r = translate([MULTI_PORT], { workload: { name: 'db' } });
  const inbound = listeners(r.envoy).filter((l) => l.traffic_direction === 'INBOUND');
  assert.deepEqual(
    inbound.map((l) => ({
      name: l.name,
      port: l.address.socket_address.port_value,
      chains: l.filter_chains.map((c: Obj) => `${c.transport_socket ? 'tls' : 'plain'} ${c.filters.at(-1).name.split('.').at(-1)}`),
    })),
    [
      { name: 'inbound', port: 15006, chains: ['tls http_connection_manager', 'plain http_connection_manager'] },
      { name: 'inbound_8081', port: 15007, chains: ['tls http_connection_manager'] },
      { name: 'inbound_5432', port: 15008, chains: ['plain tcp_proxy'] },
    ],
  );
  assert.deepEqual(
    r.clusters.filter((c) => c.startsWith('inbound|')),
    ['inbound|8080||', 'inbound|8081||', 'inbound|5432||'],
  );
  assert.equal(r.mtls, 'PERMISSIVE');
  assert.ok(!r.warnings.some((w) => w.includes('portLevelMtls')), r.warnings.join('\n'));
  if (!existsSync(pilotBinaryPath())) return;
  // Pilot: per destination_port, the same transports and the same terminal filter.
  const pilot = await pilotFor([MULTI_PORT], 'db', { app: 'db' }, 'default', [8080, 8081, 5432]);
  const vi = pilot.listeners.find((l) => l.name === 'virtualInbound')!;
  const kind = (c: Obj) => (c.filters as Obj[]).at(-1)!.name.split('.').at(-1);
  for (const [listener, port] of [
    ['inbound', 8080],
    ['inbound_8081', 8081],
    ['inbound_5432', 5432],
  ] as const) {
    const theirs = (vi.filter_chains as Obj[]).filter((c) => c.filter_chain_match?.destination_port === port);
    const mine = listeners(r.envoy).find((l) => l.name === listener)!.filter_chains as Obj[];
    const set = (xs: string[]) => [...new Set(xs)].sort();
    assert.deepEqual(
      { transports: set(mine.map((c) => (c.transport_socket ? 'tls' : 'raw_buffer'))), kinds: set(mine.map(kind)) },
      { transports: set(theirs.map((c) => c.filter_chain_match.transport_protocol ?? 'raw_buffer')), kinds: set(theirs.map(kind)) },
      `port ${port}`,
    );
  }
});

test('inbound: authz and tcp_authz compare `ports` with the workload port each listener stands for (asmesh.port), not its bind port', async (t) => {
  const deny = {
    name: 'deny-ports.yaml',
    text: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: deny-ports, namespace: default }\nspec: { selector: { matchLabels: { app: db } }, action: DENY, rules: [{ to: [{ operation: { ports: ["8081", "5432"] } }] }] }\n',
  };
  const r = translate([MULTI_PORT, deny], { workload: { name: 'db' } });
  const config = (entry: Obj) => JSON.parse(entry.typed_config.config.configuration.value);
  const ports = listeners(r.envoy)
    .filter((l) => l.traffic_direction === 'INBOUND')
    .map((l) => ({
      name: l.name,
      bind: l.address.socket_address.port_value,
      // Every chain's authz entry (the HCM's http filter, or the TCP chain's network filter).
      ports: (l.filter_chains as Obj[]).map((c) => {
        const hcm = c.filters.find((f: Obj) => f.name === 'envoy.filters.network.http_connection_manager');
        const entries: Obj[] = hcm ? hcm.typed_config.http_filters : c.filters;
        return config(entries.find((f) => f.name === 'asmesh.authz' || f.name === 'asmesh.tcp_authz')!).asmesh.port;
      }),
    }));
  assert.deepEqual(ports, [
    { name: 'inbound', bind: 15006, ports: [8080, 8080] },
    { name: 'inbound_8081', bind: 15007, ports: [8081] },
    { name: 'inbound_5432', bind: 15008, ports: [5432] },
  ]);
  // The rest of authz's configuration is the workload's, on every listener.
  assert.deepEqual(r.authz?.policies, [
    { name: 'deny-ports', action: 'DENY', rules: [{ to: [{ operation: { ports: ['8081', '5432'] } }] }] },
  ]);
  if (!built) return t.skip('build/*.wasm not built (npm run build)');
  assert.deepEqual(await checkFilterConfigs(r.envoy, join(repoRoot, 'build')), { errors: [], unchecked: [] });
});

test('network filters come from the manifest: tcp_authz mounts itself on inbound with the policies and lifts the deny', () => {
  const network = (FILTERS as readonly FilterManifest[]).filter((f) => f.layer === 'network');
  const authz = { jwtRules: [], policies: [{ name: 'allow-nothing' }], asmesh: { trustDomain: 'td' } };
  const applied = new Set(['AuthorizationPolicy']);
  // Without an entry that takes AuthorizationPolicy (tcp_telemetry only), translate denies.
  const telemetryOnly = network.filter((f) => !f.istioKinds.includes('AuthorizationPolicy'));
  const without = mountNetworkFilters(telemetryOnly, 'inbound', applied, authz);
  assert.deepEqual(without, [{ name: 'tcp_telemetry', config: { reporter: 'destination' } }]);
  assert.equal(enforcesAuthorization(telemetryOnly, without), false);
  // The manifest's tcp_authz: mounted first (the manifest's chain order, as pilot's rbac before istio.stats),
  // configured with the policies, no deny.
  const mounted = mountNetworkFilters(network, 'inbound', applied, authz);
  assert.deepEqual(mounted, [
    { name: 'tcp_authz', config: { policies: [{ name: 'allow-nothing' }], asmesh: { trustDomain: 'td' } } },
    { name: 'tcp_telemetry', config: { reporter: 'destination' } },
  ]);
  assert.equal(enforcesAuthorization(network, mounted), true);
  // No policy applies: not mounted (Istio allows everything); never on outbound (no side).
  assert.deepEqual(
    mountNetworkFilters(network, 'inbound', new Set(), null).map((f) => f.name),
    ['tcp_telemetry'],
  );
  assert.deepEqual(
    mountNetworkFilters(network, 'outbound', applied, authz).map((f) => f.name),
    ['tcp_telemetry'],
  );
});

test('tcp routes and ports translate does not render are warnings naming them; a VirtualService with http and tcp gives steering its http only', () => {
  const shift = meshShift();
  const elsewhere = { ...shift, text: shift.text.replace('- port: 9000', '- port: 9002') };
  const w1 = translate([...SAMPLE, elsewhere], { workload: { name: 'curl' } }).warnings;
  assert.ok(
    w1.includes('mesh-shift.yaml: spec.tcp[0]: no TCP Service port (named tcp-*, ...) of its hosts takes it: not rendered'),
    w1.join('\n'),
  );
  // Two Services with TCP port 9000: the first keeps outbound_9000.
  const other = {
    name: 'other.yaml',
    text: 'apiVersion: v1\nkind: Service\nmetadata: { name: other, namespace: default }\nspec: { ports: [{ name: tcp, port: 9000 }] }\n',
  };
  const r2 = translate([...SAMPLE, other], { workload: { name: 'curl' } });
  assert.ok(
    r2.warnings.includes(
      "other.yaml: spec.ports[0] (tcp): TCP port 9000 is also tcp-echo.default.svc.cluster.local's: its outbound listener goes there (Istio without cluster IPs: a listener conflict)",
    ),
    r2.warnings.join('\n'),
  );
  assert.equal(tcpProxy(listeners(r2.envoy).find((l) => l.name === 'outbound_9000')!.filter_chains[0])!.cluster, `outbound|9000||${ECHO}`);
  // Telemetry metric overrides do not reach tcp_telemetry: said so.
  const tel = {
    name: 'tel.yaml',
    text: 'apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: t, namespace: istio-system }\nspec: { metrics: [{ providers: [{ name: prometheus }], overrides: [{ tagOverrides: { request_protocol: { operation: REMOVE } } }] }] }\n',
  };
  assert.ok(
    translate([...SAMPLE, tel], { workload: { name: 'curl' } }).warnings.includes(
      "tel.yaml: Telemetry spec.metrics: not applied to TCP listeners (tcp_telemetry reports Istio's TCP metrics as they are)",
    ),
  );
  // http + tcp in one VirtualService: steering's copy has no `tcp`; the TCP listener has the route.
  const both = {
    ...shift,
    text: shift.text
      .replace('spec:\n', 'spec:\n  http:\n  - route:\n    - destination: { host: curl }\n')
      .replace('- tcp-echo\n', '- tcp-echo\n  - curl\n'),
  };
  const r3 = translate([...SAMPLE, both], { workload: { name: 'curl' } });
  assert.equal(r3.virtualServices.length, 1);
  assert.equal(r3.virtualServices[0].tcp, undefined);
  assert.equal(
    tcpProxy(listeners(r3.envoy).find((l) => l.name === 'outbound_9000')!.filter_chains[0])!.stat_prefix,
    'tcp-echo-mesh.default',
  );
});
