// Runs a NetworkScenario in the harness (the connection's callbacks in the order Envoy 1.40 makes them,
// measured in test/harness/network.test.ts, with an echo upstream simulated) and in Envoy (a TCP
// listener rendered by host/envoy/tcp.ts: the network filter, then tcp_proxy to a Node echo server;
// mTLS when a connection presents a client identity), and checks the same expectations in both.
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { configString, downstreamMtlsSocket, loadBootstrap } from '../../host/envoy/config.ts';
import { repoRoot } from '../../host/envoy/install.ts';
import { runEnvoyExpectingFailure, startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { tcpListener } from '../../host/envoy/tcp.ts';
import { decodeStatName } from '../../host/envoy/prometheus.ts';
import { issueCert, makeCa } from '../../host/cli/certs.ts';
import { loadPlugin, PeerType, type Plugin } from '../../host/harness/index.ts';
import type { NetworkScenario, ScenarioConnection, TcpMetricExpectation } from './types.ts';
import { until } from '../../host/until.ts';

export const DEFAULT_TCP_CLUSTER = 'outbound|9000||echo.default.svc.cluster.local';
const DEFAULT_SERVER_IDENTITY = 'spiffe://cluster.local/ns/default/sa/server';
const STAT_PREFIX = 'wasmcustom.';

/** Checks expectations against a host's metrics (name without `wasmcustom.` -> value). */
export function checkTcpMetrics(what: string, metrics: Map<string, number>, expectations: TcpMetricExpectation[]): void {
  for (const e of expectations) {
    let sum = 0;
    let series = 0;
    for (const [stat, value] of metrics) {
      const { name, labels } = decodeStatName(stat);
      if (name !== e.name) continue;
      if (!Object.entries(e.labels ?? {}).every(([k, v]) => labels[k] === v)) continue;
      sum += value;
      series++;
    }
    const where = `${what}: ${e.name}${e.labels ? JSON.stringify(e.labels) : ''}`;
    assert.equal(sum, e.value, `${where} (series: ${[...metrics.keys()].filter((k) => k.endsWith(e.name)).join(' | ')})`);
    if (e.series !== undefined) assert.equal(series, e.series, `${where}: series`);
  }
}

function sidecarNode(): NetworkScenario['node'] {
  return loadBootstrap().node;
}

function reportingIntervalMs(scenario: NetworkScenario): number {
  const config = scenario.filter.config as { reportingIntervalMs?: number } | undefined;
  return config?.reportingIntervalMs ?? 5000;
}

// ---------------------------------------------------------------- harness

function harnessMetrics(plugin: Plugin): Map<string, number> {
  return new Map([...plugin.metrics()].map(([k, m]) => [k, m.value]));
}

export async function runNetworkInHarness(scenario: NetworkScenario): Promise<Map<string, number>> {
  const name = scenario.filter.name;
  const load = () =>
    loadPlugin(join(repoRoot, 'build', `${name}.wasm`), {
      pluginName: name,
      rootId: name,
      vmId: name,
      config: configString(scenario.filter.config),
      node: scenario.node ?? sidecarNode(),
    });
  if (scenario.configError !== undefined) {
    await assert.rejects(load(), (error: Error) => {
      assert.match(error.message, scenario.configError!);
      return true;
    });
    return new Map();
  }
  const plugin = await load();
  const certs = scenario.connections.some((c) => c.clientIdentity !== undefined)
    ? makeTcpCerts(scenario.serverIdentity ?? DEFAULT_SERVER_IDENTITY)
    : null;
  try {
    for (const [i, spec] of scenario.connections.entries()) {
      const mtls = spec.clientIdentity !== undefined;
      const c = plugin.connection({
        'xds.cluster_name': scenario.cluster ?? DEFAULT_TCP_CLUSTER,
        // A loopback client, as the Envoy run's.
        'source.address': `127.0.0.1:${40000 + i}`,
        'source.port': BigInt(40000 + i),
        'connection.mtls': mtls,
        ...(mtls
          ? {
              'connection.uri_san_peer_certificate': spec.clientIdentity!,
              'connection.uri_san_local_certificate': scenario.serverIdentity ?? DEFAULT_SERVER_IDENTITY,
              'connection.peer_certificate': readFileSync(certs!.client(spec.clientIdentity!).cert, 'utf8'),
              'connection.subject_peer_certificate': 'O=asmesh demo',
            }
          : {}),
      });
      for (const chunk of spec.chunks) {
        const up = c.downstreamData(chunk);
        if (spec.denied) {
          assert.equal(c.closed, true, 'the filter closed the connection');
          assert.equal(up.status, 1, 'StopIteration: the bytes stay');
          break;
        }
        assert.equal(c.closed, false, 'the filter closed an allowed connection');
        c.upstreamData(up.data);
      }
      if (spec.whileOpen !== undefined) {
        await plugin.tick(reportingIntervalMs(scenario));
        checkTcpMetrics('while open [harness]', harnessMetrics(plugin), spec.whileOpen);
      }
      // The client ends; tcp_proxy passes it on; the echo server ends; Envoy closes both (measured order).
      c.downstreamData('', true);
      c.upstreamData('', true);
      c.closeUpstream(PeerType.Unknown);
      c.closeDownstream(PeerType.Local);
      c.complete();
      assert.equal(c.failed, false, 'the filter trapped');
    }
    const metrics = harnessMetrics(plugin);
    checkTcpMetrics('[harness]', metrics, scenario.metrics);
    return metrics;
  } finally {
    plugin.close();
  }
}

// ---------------------------------------------------------------- envoy

interface Certs {
  ca: string;
  server: { cert: string; key: string };
  client(identity: string): { cert: string; key: string };
}

function makeTcpCerts(serverIdentity: string): Certs {
  const dir = join(repoRoot, '.tmp', 'tcp-certs', String(process.pid));
  makeCa(dir, '/CN=asmesh tcp test CA');
  const issue = (name: string, san: string) => {
    const wd = issueCert(dir, name, san);
    return { cert: join(wd, 'cert.pem'), key: join(wd, 'key.pem') };
  };
  let n = 0;
  return {
    ca: join(dir, 'ca.pem'),
    server: issue('server', `IP:127.0.0.1,URI:${serverIdentity}`),
    client: (identity) => issue(`client-${++n}`, `URI:${identity}`),
  };
}

/** Sends each chunk and waits for its echo; then (after `hold`) ends and waits for the close. */
async function converse(socket: Socket, chunks: string[], hold: () => Promise<void>): Promise<void> {
  let got = '';
  let want = '';
  let wake: (() => void) | null = null;
  socket.on('data', (d) => {
    got += d.toString();
    if (got.length >= want.length) wake?.();
  });
  const closed = new Promise<void>((resolve, reject) => {
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  for (const chunk of chunks) {
    want += chunk;
    const echoed = new Promise<void>((r) => (wake = r));
    socket.write(chunk);
    if (got.length < want.length) await echoed;
  }
  assert.equal(got, want, 'echo');
  await hold();
  socket.end();
  await closed;
}

/** Sends `chunk` and expects the connection closed with nothing back (and tcp_proxy's upstream got nothing). */
async function refused(socket: Socket, chunk: string): Promise<void> {
  let got = '';
  socket.on('data', (d) => (got += d.toString()));
  await new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    socket.on('error', () => {});
    socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', () => socket.write(chunk));
  });
  assert.equal(got, '', 'a denied connection got bytes back');
}

async function envoyMetrics(envoy: Envoy): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [k, v] of await envoy.stats()) if (k.startsWith(STAT_PREFIX)) out.set(k.slice(STAT_PREFIX.length), v);
  return out;
}

export async function runNetworkInEnvoy(scenario: NetworkScenario): Promise<Map<string, number>> {
  if (scenario.configError !== undefined) {
    const failure = await runEnvoyExpectingFailure({
      filters: [],
      node: scenario.node,
      edit: (b) => {
        b.static_resources.listeners.push(
          tcpListener({
            name: 'tcp_plain',
            port: 0,
            filters: [scenario.filter],
            wasmDir: join(repoRoot, 'build'),
            cluster: 'c',
            statPrefix: 'p',
          }),
        );
      },
    });
    assert.equal(failure.ready, false, `Envoy accepted the configuration; expected a rejection matching ${scenario.configError}`);
    assert.notEqual(failure.code, 0, 'Envoy exit code');
    assert.match(failure.log, scenario.configError);
    return new Map();
  }
  let upstreamBytes = 0;
  const upstream = createServer((s) => {
    s.on('data', (d: Buffer) => (upstreamBytes += d.length));
    s.pipe(s);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const upPort = (upstream.address() as AddressInfo).port;
  const cluster = scenario.cluster ?? DEFAULT_TCP_CLUSTER;
  const serverIdentity = scenario.serverIdentity ?? DEFAULT_SERVER_IDENTITY;
  const certs = scenario.connections.some((c) => c.clientIdentity !== undefined) ? makeTcpCerts(serverIdentity) : null;
  const listener = (name: string, tls: boolean) =>
    tcpListener({
      name,
      port: 0,
      filters: [scenario.filter],
      wasmDir: join(repoRoot, 'build'),
      cluster,
      statPrefix: name,
      transportSocket: tls ? downstreamMtlsSocket({ cert: certs!.server.cert, key: certs!.server.key, ca: certs!.ca }) : undefined,
    });
  let envoy: Envoy | null = null;
  try {
    envoy = await startEnvoy({
      filters: [],
      node: scenario.node,
      edit: (b) => {
        b.static_resources.clusters.push({
          name: cluster,
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: cluster,
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: upPort } } } }] }],
          },
        });
        b.static_resources.listeners.push(listener('tcp_plain', false));
        if (certs !== null) b.static_resources.listeners.push(listener('tcp_mtls', true));
      },
    });
    // tcp_telemetry counts closes (Envoy runs its close callbacks after the client saw the close); other filters do not.
    const telemetry = scenario.filter.name === 'tcp_telemetry';
    const closedBefore = async () => (telemetry ? sumOf(await envoyMetrics(envoy!), 'istio_tcp_connections_closed_total') : 0);
    for (const spec of scenario.connections) {
      const done = (await closedBefore()) + 1;
      let socket: Socket;
      if (spec.clientIdentity !== undefined) {
        const port = Number(new URL(envoy.listeners['tcp_mtls']!).port);
        const client = certs!.client(spec.clientIdentity);
        socket = tlsConnect({
          host: '127.0.0.1',
          port,
          cert: readFileSync(client.cert),
          key: readFileSync(client.key),
          ca: readFileSync(certs!.ca),
          checkServerIdentity: () => undefined,
        });
      } else {
        socket = connect(Number(new URL(envoy.listeners['tcp_plain']!).port), '127.0.0.1');
      }
      const upstreamBefore = upstreamBytes;
      if (spec.denied) {
        await refused(socket, spec.chunks[0]!);
        assert.equal(upstreamBytes, upstreamBefore, "a denied connection's bytes reached the upstream");
      } else
        await converse(socket, spec.chunks, async () => {
          if (spec.whileOpen === undefined) return;
          // Envoy ticks every reporting interval from configure: within two intervals one has passed.
          const whileOpen = spec.whileOpen;
          const reported = async () => {
            checkTcpMetrics('while open [envoy]', await envoyMetrics(envoy!), whileOpen);
            return true;
          };
          await until(() => reported().catch(() => false), 2 * reportingIntervalMs(scenario) + 2000, 'the open connection reported').catch(
            () => {},
          );
          await reported();
        });
      // Envoy's close callbacks run after the client saw the close.
      if (telemetry) await until(async () => (await closedBefore()) >= done, 2000, 'the close counted').catch(() => {});
    }
    const metrics = await envoyMetrics(envoy);
    checkTcpMetrics('[envoy]', metrics, scenario.metrics);
    if (!telemetry) return metrics;
    // Envoy's own byte counters for the same connections agree with the filter's.
    const stats = await envoy.stats();
    const envoyRx = sumStats(stats, /^tcp\.tcp_(plain|mtls)\.downstream_cx_rx_bytes_total$/);
    const envoyTx = sumStats(stats, /^tcp\.tcp_(plain|mtls)\.downstream_cx_tx_bytes_total$/);
    assert.equal(sumOf(metrics, 'istio_tcp_received_bytes_total'), envoyRx, "received bytes = tcp_proxy's downstream_cx_rx_bytes_total");
    assert.equal(sumOf(metrics, 'istio_tcp_sent_bytes_total'), envoyTx, "sent bytes = tcp_proxy's downstream_cx_tx_bytes_total");
    return metrics;
  } catch (error) {
    if (envoy !== null && error instanceof Error)
      error.message += `\n--- envoy log (last 30 lines) ---\n${envoy.logs().split('\n').slice(-30).join('\n')}`;
    throw error;
  } finally {
    await envoy?.stop();
    upstream.close();
  }
}

function sumOf(metrics: Map<string, number>, name: string): number {
  let sum = 0;
  for (const [k, v] of metrics) if (k.endsWith(`;${name}`) || k === name) sum += v;
  return sum;
}

function sumStats(stats: Map<string, number>, re: RegExp): number {
  let sum = 0;
  for (const [k, v] of stats) if (re.test(k)) sum += v;
  return sum;
}
