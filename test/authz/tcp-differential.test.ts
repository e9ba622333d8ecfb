// tcp_authz against Istio's own translation for a TCP port: seeded AuthorizationPolicy sets (ALLOW, DENY,
// AUDIT; principals, namespaces, ipBlocks, remoteIpBlocks, ports, destination.ip/port, connection.sni,
// source.* conditions, mixed with HTTP-only fields pilot drops or skips on TCP) go through Istio's pilot
// (tools/istio-pilot) for a workload whose Service port is `tcp-db`; ONE stock Envoy 1.40 runs, per set,
// pilot's inbound TCP chain (network rbac + tcp_proxy; pilot's mTLS transport socket for STRICT /
// PERMISSIVE sets) and the same chain with tcp_authz in place of the rbac filters. The same connections
// (a PROXY header sets the destination address the policies see; client certificates of several SPIFFE
// identities) go to both: echoed or closed must be equal, a closed connection's bytes must never reach
// the upstream, and rbac's `denied` count must equal tcp_authz's. Any difference fails the test.
// TCP_DIFF_SEED / TCP_DIFF_SETS / TCP_DIFF_CONNECTIONS change the corpus; TCP_DIFF_WASM_DIR another build.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { repoRoot } from '../../host/envoy/install.ts';
import { networkWasmFilterEntry } from '../../host/envoy/tcp.ts';
import { PilotInputError, inboundTcpChain, istioPilot, pilotBootstrap, workloadDocs, type PilotConfig } from '../../host/envoy/pilot.ts';
import { makePeerCerts, type Cert, type CertSet } from './certs.ts';
import {
  CONDITIONS,
  PEERS,
  PEER_NAMESPACES,
  PEER_PICKS,
  PEER_PRINCIPALS,
  PRINCIPALS,
  TD_MESHES,
  TD_PEER_PICKS,
  TD_PRINCIPALS,
  VALUES,
  field,
  meshYaml,
  prng,
  securityDocs,
  type Rng,
} from './corpus.ts';

type Obj = Record<string, any>;
const SEED = Number(process.env.TCP_DIFF_SEED ?? 20261202);
/** Plaintext sets, and as many mTLS sets (PeerAuthentication STRICT / PERMISSIVE). */
const SETS = Number(process.env.TCP_DIFF_SETS ?? 12);
/** Extra mTLS sets under a MeshConfig trustDomain td2.example with aliases (own generator, SEED + 1). */
const TD_SETS = Number(process.env.TCP_DIFF_TD_SETS ?? 4);
const CONNECTIONS = Number(process.env.TCP_DIFF_CONNECTIONS ?? 40);
const WASM_DIR = process.env.TCP_DIFF_WASM_DIR ?? join(repoRoot, 'build');
const PORT = 5432;
const PROXY = { namespace: 'foo', labels: { app: 'db' }, ip: '10.0.0.10', serviceAccount: 'db' };
const CLUSTER = `inbound|${PORT}||`;
/** Destinations the PROXY header names (Envoy's proxy_protocol restores them as the connection's local address). */
const DESTINATIONS = ['10.0.0.10:5432', '10.0.0.10:5432', '10.0.0.10:5433', '127.0.0.1:5432', '192.168.1.5:5433'];
const TCP_VALUES: Record<string, string[]> = {
  ports: ['5432', '5433'],
  ipBlocks: VALUES.ipBlocks!,
};
const TCP_CONDITIONS: [string, string[]][] = [
  ['destination.port', ['5432', '5433']],
  ['destination.ip', ['10.0.0.10', '127.0.0.1', '10.0.0.0/8', '192.168.0.0/16']],
  ['source.ip', ['127.0.0.1', '10.0.0.0/8']],
  ['remote.ip', ['127.0.0.0/8', '192.168.0.0/16']],
  ['connection.sni', ['*', 'svc.example', 'svc*']],
  ['source.principal', PEER_PRINCIPALS],
  ['source.namespace', PEER_NAMESPACES],
];
/** HTTP-only conditions (pilot: "is HTTP only" on TCP), from the HTTP corpus. */
const HTTP_CONDITIONS = CONDITIONS.filter(([k]) => k.startsWith('request.'));

interface PolicySet {
  index: number;
  policies: Obj[];
  mtls?: 'STRICT' | 'PERMISSIVE';
  /** MeshConfig trust domains (pilot's --mesh; tcp_authz's asmesh options). */
  mesh?: { trustDomain: string; trustDomainAliases: string[] };
}

function tcpRule(r: Rng, mtls: boolean): Obj {
  const rule: Obj = {};
  if (r.chance(0.7)) {
    rule.from = Array.from({ length: 1 + r.int(2) }, () => {
      const source: Obj = {};
      const names = ['principals', 'namespaces', 'ipBlocks', 'remoteIpBlocks', 'requestPrincipals'];
      for (const f of new Set(r.some(mtls ? [...names, 'principals', 'namespaces'] : names, 2))) {
        if (f === 'requestPrincipals') field(r, source, f, PRINCIPALS);
        else if (f === 'principals') field(r, source, f, PEER_PRINCIPALS);
        else if (f === 'namespaces') field(r, source, f, PEER_NAMESPACES);
        else field(r, source, f, TCP_VALUES.ipBlocks!);
      }
      return { source };
    });
  }
  if (r.chance(0.6)) {
    rule.to = Array.from({ length: 1 + r.int(2) }, () => {
      const operation: Obj = {};
      for (const f of r.some(['ports', 'ports', 'ports', 'hosts', 'methods', 'paths'], 2))
        field(r, operation, f, TCP_VALUES[f] ?? VALUES[f]!);
      return { operation };
    });
  }
  if (r.chance(0.6)) {
    rule.when = r
      .some([...TCP_CONDITIONS, ...TCP_CONDITIONS, ...TCP_CONDITIONS, ...HTTP_CONDITIONS], 2)
      .map(([key, values]) => (r.chance(0.75) ? { key, values: r.some(values, 2) } : { key, notValues: r.some(values, 2) }));
  }
  return rule;
}

function policySet(r: Rng, index: number, mtls: boolean): PolicySet {
  const policies = Array.from({ length: 1 + r.int(3) }, (_, i) => ({
    name: `p${i}`,
    action: r.pick(['ALLOW', 'ALLOW', 'DENY', 'DENY', 'AUDIT']),
    rules: Array.from({ length: r.chance(0.05) ? 0 : 1 + r.int(2) }, () => tcpRule(r, mtls)),
  }));
  return mtls ? { index, policies, mtls: r.pick(['STRICT', 'PERMISSIVE'] as const) } : { index, policies };
}

/** A trust domain set: rules on principals / trustDomains / source.principal in the mesh's domains and others. */
function trustDomainSet(r: Rng, index: number, mesh: NonNullable<PolicySet['mesh']>): PolicySet {
  const rule = (): Obj => {
    const source: Obj = {};
    if (r.chance(0.2)) field(r, source, 'trustDomains', ['td2.example', 'old.example', 'cluster.local', 'other.td']);
    else if (r.chance(0.75)) field(r, source, 'principals', TD_PRINCIPALS);
    else {
      const key = 'source.principal';
      return { when: [r.chance(0.5) ? { key, values: r.some(TD_PRINCIPALS, 2) } : { key, notValues: r.some(TD_PRINCIPALS, 2) }] };
    }
    return { from: [{ source }] };
  };
  const policies = Array.from({ length: 1 + r.int(2) }, (_, i) => ({
    name: `p${i}`,
    action: r.pick(['ALLOW', 'ALLOW', 'DENY']),
    rules: Array.from({ length: 1 + r.int(2) }, rule),
  }));
  return { index, policies, mtls: r.pick(['STRICT', 'PERMISSIVE'] as const), mesh };
}

function istioYaml(set: PolicySet): string {
  const docs = workloadDocs({ ...PROXY, name: 'db', host: 'db.example', port: { number: PORT, name: 'tcp-db', protocol: 'TCP' } });
  docs.push(...securityDocs('db', set.mtls, set.policies));
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

interface Conn {
  destination: string;
  peer?: string;
}

/** What a client saw: `echo` (its bytes came back), `closed` (closed first), `refused` (TLS handshake failed), `timeout`. */
type Outcome = 'echo' | 'closed' | 'refused' | 'timeout';

function tryConnection(port: number, c: Conn, payload: string, cert: Cert | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    const raw = connect(port, '127.0.0.1');
    let sock: Socket = raw;
    let secure = false;
    let got = '';
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      raw.destroy();
      resolve(o);
    };
    // A safety net only: every outcome but a hang arrives as an event.
    const timer = setTimeout(() => finish('timeout'), 20_000);
    raw.on('error', () => finish(secure || c.peer === undefined ? 'closed' : 'refused'));
    raw.once('connect', () => {
      const [dIp, dPort] = c.destination.split(':');
      raw.write(`PROXY TCP4 127.0.0.1 ${dIp} ${raw.localPort} ${dPort}\r\n`);
      if (c.peer !== undefined) {
        sock = tlsConnect({
          socket: raw,
          servername: PEERS[c.peer]!.sni,
          rejectUnauthorized: false,
          ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
        });
        sock.once('secureConnect', () => {
          secure = true;
          sock.write(payload);
        });
      } else sock.write(payload);
      sock.on('data', (d: Buffer) => {
        got += d.toString();
        if (got === payload) finish('echo');
      });
      sock.on('error', () => finish(secure || c.peer === undefined ? 'closed' : 'refused'));
      sock.on('close', () => finish(secure || c.peer === undefined ? 'closed' : 'refused'));
    });
  });
}

let envoy: Envoy;
let upstream: Server;
let upstreamText = '';
let pilotRefused = 0;
let certs: CertSet;
const sets: { set: PolicySet; conns: Conn[] }[] = [];

before(async () => {
  const r = prng(SEED);
  upstream = createServer((s) => {
    s.on('data', (d) => {
      upstreamText += d.toString();
      s.write(d);
    });
    s.on('error', () => {});
    s.on('end', () => s.end());
  });
  await new Promise<void>((res) => upstream.listen(0, '127.0.0.1', res));
  const upPort = (upstream.address() as { port: number }).port;
  certs = makePeerCerts(
    Object.fromEntries(Object.entries(PEERS).flatMap(([n, p]) => (p.san === null ? [] : [[n, { san: p.san, subject: p.subject }]]))),
  );
  const files = { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert };
  const tcpListeners: Record<string, Obj[]> = {};
  const transportSockets: Record<string, Obj> = {};
  let first: PilotConfig | null = null;
  const generated = [
    ...Array.from({ length: SETS * 2 }, (_, i) => policySet(r, i, false)),
    ...Array.from({ length: SETS * 2 }, (_, i) => policySet(r, SETS * 2 + i, true)),
  ];
  // Their own generator, so the other sets' corpus stays as it was.
  const rt = prng(SEED + 1);
  const td = Array.from({ length: TD_SETS * 2 }, (_, i) => trustDomainSet(rt, SETS * 4 + i, TD_MESHES[i % TD_MESHES.length]!));
  const quota = (s: PolicySet) => (s.mesh !== undefined ? 2 : s.mtls === undefined ? 0 : 1);
  const want = [SETS, SETS, TD_SETS];
  const have = [0, 0, 0];
  for (let i = 0; i < generated.length + td.length; i += 2) {
    const batch = [...generated, ...td].slice(i, i + 2).filter((s) => have[quota(s)]! < want[quota(s)]!);
    const pilots = await Promise.all(
      batch.map((s) =>
        istioPilot(istioYaml(s), PROXY, s.mesh === undefined ? {} : { meshConfig: meshYaml(s.mesh) }).catch((e: unknown) => {
          if (e instanceof PilotInputError) {
            pilotRefused++;
            return null;
          }
          throw e;
        }),
      ),
    );
    for (const [j, pilot] of pilots.entries()) {
      const set = batch[j]!;
      if (pilot === null || have[quota(set)]! >= want[quota(set)]!) continue;
      have[quota(set)]!++;
      first ??= pilot;
      const chain = inboundTcpChain(pilot, PORT, set.mtls === undefined ? undefined : files);
      const native = chain.config;
      const entry = networkWasmFilterEntry('tcp_authz', join(WASM_DIR, 'tcp_authz.wasm'), {
        policies: set.policies,
        ...(set.mesh === undefined ? {} : { asmesh: set.mesh }),
      });
      entry.typed_config.config.vm_config.vm_id = `tcp_authz-${set.index}`;
      const at = native.findIndex((f) => f.name === 'envoy.filters.network.rbac');
      const wasm = native.filter((f) => f.name !== 'envoy.filters.network.rbac');
      wasm.splice(at < 0 ? 0 : at, 0, entry);
      tcpListeners[`native-${set.index}`] = native;
      tcpListeners[`wasm-${set.index}`] = wasm;
      if (chain.transportSocket !== undefined) {
        transportSockets[`native-${set.index}`] = chain.transportSocket;
        transportSockets[`wasm-${set.index}`] = chain.transportSocket;
      }
      const conns = Array.from({ length: CONNECTIONS }, () => ({
        destination: r.pick(DESTINATIONS),
        ...(set.mtls === undefined ? {} : { peer: set.mesh === undefined ? r.pick(PEER_PICKS) : rt.pick(TD_PEER_PICKS) }),
      }));
      sets.push({ set, conns });
    }
  }
  assert.ok(first !== null, 'pilot accepted no policy set');
  const upstreams = { [CLUSTER]: { host: '127.0.0.1', port: upPort } };
  const proxyProtocol = {
    name: 'envoy.filters.listener.proxy_protocol',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol' },
  };
  const boot = pilotBootstrap(first, { listeners: {}, tcpListeners, transportSockets, upstreams, listenerFilters: [proxyProtocol] });
  envoy = await startEnvoy({ config: boot.config, wasmDir: WASM_DIR, upstreams, timeoutMs: 60_000 });
});

after(async () => {
  await envoy?.stop();
  await new Promise<void>((res) => (upstream ? upstream.close(() => res()) : res()));
});

test(`tcp_authz and pilot's network rbac accept and close alike (seed ${SEED}, ${SETS} + ${SETS} mTLS + ${TD_SETS} trust domain policy sets x ${CONNECTIONS} connections)`, async () => {
  const differences: string[] = [];
  const outcomes = new Map<string, number>();
  const closedPayloads: string[] = [];
  let total = 0;
  await Promise.all(
    sets.map(async ({ set, conns }) => {
      const port = (side: string) => Number(new URL(envoy.listeners[`${side}-${set.index}`]!).port);
      for (const [i, c] of conns.entries()) {
        const cert = c.peer === undefined ? undefined : certs.clients[c.peer];
        const pn = `[native:${set.index}:${i}]\n`;
        const pw = `[wasm:${set.index}:${i}]\n`;
        const a = await tryConnection(port('native'), c, pn, cert);
        const b = await tryConnection(port('wasm'), c, pw, cert);
        total++;
        const kind = `${set.mesh ? 'td ' : ''}${set.mtls ?? 'plain'} ${a}`;
        outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
        if (a !== 'echo') closedPayloads.push(pn);
        if (b !== 'echo') closedPayloads.push(pw);
        if (a !== b && differences.length < 30)
          differences.push(
            `set ${set.index} (${set.mtls ?? 'plaintext'}) connection ${i} ${JSON.stringify(c)}\n  policies: ${JSON.stringify(set.policies)}\n  pilot : ${a}\n  asmesh: ${b}`,
          );
        else if (a !== b) differences.push('');
      }
    }),
  );
  const stats = await envoy.stats();
  const nativeDenied = stats.get('tcp.rbac.denied') ?? 0;
  const oursDenied = stats.get('wasmcustom.asmesh_tcp_authz_denied_total') ?? 0;
  const leaked = closedPayloads.filter((p) => upstreamText.includes(p));
  console.log(
    `tcp authz differential (${WASM_DIR}): ${total} connections x 2 listeners over ${sets.length} policy sets (${sets.filter((s) => s.set.mtls).length} mTLS, ${sets.filter((s) => s.set.mesh).length} under trust domain aliases; pilot refused ${pilotRefused}); pilot's outcomes ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}; denied: rbac ${nativeDenied}, tcp_authz ${oursDenied}; closed connections whose bytes reached the upstream ${leaked.length}; differences ${differences.length}`,
  );
  for (const want of ['plain echo', 'plain closed', 'echo', 'closed'])
    assert.ok(
      [...outcomes.keys()].some((k) => k.endsWith(want) && (want.startsWith('plain') || !k.startsWith('plain'))),
      `the corpus has no ${want.startsWith('plain') ? want : `mTLS ${want}`} connection`,
    );
  assert.equal(differences.length, 0, `${differences.length} differences from Istio:\n${differences.filter((d) => d).join('\n')}`);
  assert.deepEqual(leaked, [], "a closed connection's bytes reached the upstream");
  assert.ok(nativeDenied > 0, 'rbac denied no connection');
  assert.equal(oursDenied, nativeDenied, "tcp_authz's denied = rbac's denied");
});
