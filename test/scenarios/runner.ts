// Runs a Scenario in the harness (filters chained as Envoy chains them, upstream simulated by the
// same EchoService logic) and in Envoy (envoy/sidecar.yaml via the launcher, real Node upstreams),
// and checks the outcome against the scenario's expectation.
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { chainOrder } from '../../filters/manifest.ts';
import { CLUSTER_HEADER } from '../../assembly/lib/contracts.ts';
import { configString, loadBootstrap } from '../../host/envoy/config.ts';
import { repoRoot } from '../../host/envoy/install.ts';
import { runEnvoyExpectingFailure, send, startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { headerList, loadChain, type Chain } from '../../host/harness/index.ts';
import { GrpcServer, grpcCluster } from '../../host/upstream/grpc.ts';
import { CLUSTER_IDENTITIES, EchoService, Upstreams, type EchoReply, type EchoRequest } from '../../host/upstream/echo.ts';
import type { HeaderExpectation, Scenario, ScenarioRequest, ScenarioStep, StaticRoute, StepResult } from './types.ts';
import { until } from '../../host/until.ts';

export const DEFAULT_CLUSTER = 'outbound|80||service_b';

// ---------------------------------------------------------------- expectations

function checkHeaders(what: string, actual: Record<string, string> | null, expected: Record<string, HeaderExpectation>): void {
  for (const [name, want] of Object.entries(expected)) {
    const got = actual?.[name.toLowerCase()];
    if (want === null) assert.equal(got, undefined, `${what} ${name}: expected absent, got ${JSON.stringify(got)}`);
    else if (want instanceof RegExp) assert.match(got ?? '<absent>', want, `${what} ${name}`);
    else assert.equal(got, want, `${what} ${name}`);
  }
}

export function checkStep(step: ScenarioStep, r: StepResult): void {
  const e = step.expect;
  const where = `${step.name ?? `${step.request.method ?? 'GET'} ${step.request.path ?? '/'}`} [${r.host}]`;
  if (e.status !== undefined) assert.equal(r.status, e.status, `${where}: status (body ${JSON.stringify(r.body.slice(0, 200))})`);
  if (e.servedBy !== undefined) assert.equal(r.servedBy, e.servedBy, `${where}: served by`);
  if (e.upstreamHeaders !== undefined) {
    assert.ok(r.upstreamHeaders !== null, `${where}: the request reached no upstream`);
    checkHeaders(`${where}: upstream header`, r.upstreamHeaders, e.upstreamHeaders);
  }
  if (e.responseHeaders !== undefined) checkHeaders(`${where}: response header`, r.responseHeaders, e.responseHeaders);
  if (e.body instanceof RegExp) assert.match(r.body, e.body, `${where}: body`);
  else if (e.body !== undefined) assert.equal(r.body, e.body, `${where}: body`);
}

/** `<plugin>: <message>` of each filter log line matching the scenario's logLines.match, filter after filter in chain order. */
function filterLines(scenario: Scenario, log: string): string[] {
  // Stream contexts log as `wasm log <plugin> <root_id> <vm_id>: `, the root context as `wasm log <root_id> <vm_id>: `.
  const lines = [...log.matchAll(/wasm log ([^\s:]+)(?: [^\s:]+){1,2}: (.*)$/gm)]
    .map((m) => `${m[1]}: ${m[2]}`)
    .filter((l) => scenario.logLines!.match.test(l));
  return chainOrder(scenario.filters).flatMap((f) => lines.filter((l) => l.startsWith(`${f.name}: `)));
}

function checkLogLines(scenario: Scenario, log: string, host: 'harness' | 'envoy'): void {
  const { expect, unordered, mask = [] } = scenario.logLines!;
  const masked = filterLines(scenario, log).map((l) => mask.reduce((line, [re, by]) => line.replace(re, by), l));
  const sorted = (lines: string[]) => (unordered ? [...lines].sort() : lines);
  assert.deepEqual(sorted(masked), sorted(expect), `log lines [${host}]`);
}

function sidecarNode(): Scenario['node'] {
  return loadBootstrap().node;
}

/** The port envoy/sidecar.yaml's listener declares (the rig binds port 0 unless a scenario sets listenerPort). */
function sidecarListenerPort(): number {
  return Number(loadBootstrap().static_resources?.listeners?.[0]?.address?.socket_address?.port_value ?? 15001);
}

// ---------------------------------------------------------------- harness

/** The scenario's filter chain in the harness, with the sidecar's router and its clusters' echo servers. */
export class HarnessChain {
  private constructor(
    readonly chain: Chain,
    readonly services: Map<string, EchoService>,
  ) {}

  static async load(scenario: Scenario, opts: RunOptions = {}): Promise<HarnessChain> {
    const services = new Map(Object.entries(CLUSTER_IDENTITIES).map(([cluster, identity]) => [cluster, new EchoService(identity)]));
    const wasmDir = scenario.wasmDir ?? opts.wasmDir ?? join(repoRoot, 'build');
    const chain = await loadChain({
      filters: chainOrder(scenario.filters).map((f) => ({
        name: f.name,
        wasm: join(wasmDir, `${f.name}.wasm`),
        config: configString(f.config),
      })),
      router: { clusterHeader: CLUSTER_HEADER, defaultCluster: DEFAULT_CLUSTER },
      clusters: Object.fromEntries([...services].map(([cluster, service]) => [cluster, (req) => service.handle(req)])),
      node: scenario.node ?? sidecarNode(),
      // The listener's port as `destination.port`, as Envoy derives it from the connection.
      streamProperties: { 'destination.port': BigInt(scenario.listenerPort ?? sidecarListenerPort()) },
      workers: scenario.workers,
      grpcClusters: scenario.grpcClusters,
    });
    return new HarnessChain(chain, services);
  }

  setRoutes(routes: StaticRoute[] = []): void {
    for (const r of routes) this.service(r.cluster).setRoute(r.path, staticReply(r));
  }

  service(cluster: string): EchoService {
    const s = this.services.get(cluster);
    if (s === undefined) throw new Error(`no upstream for cluster ${cluster}`);
    return s;
  }

  settle(): Promise<void> {
    return this.chain.settle();
  }

  async request(req: ScenarioRequest): Promise<StepResult> {
    const r = await this.chain.request({ ...req, authority: req.authority ?? 'service_b' });
    return {
      host: 'harness',
      status: r.status,
      servedBy: r.headers['x-served-by'] ?? null,
      upstreamHeaders: r.upstream?.headers ?? null,
      upstreamPath: r.upstream?.path ?? null,
      responseHeaders: r.headers,
      body: r.body,
    };
  }

  metric(name: string): number | undefined {
    return this.chain.metric(name);
  }
  logLines(): string {
    return this.chain.logLines();
  }
  close(): void {
    this.chain.close();
  }
}

function staticReply(r: StaticRoute): EchoReply {
  return { status: r.status ?? 200, headers: r.headers ?? { 'content-type': 'application/json' }, body: r.body };
}

export interface RunOptions {
  /** Where <filter>.wasm files are; default build/. */
  wasmDir?: string;
}

export async function runInHarness(scenario: Scenario, opts: RunOptions = {}): Promise<void> {
  if (scenario.configError !== undefined) {
    await assert.rejects(HarnessChain.load(scenario, opts), (error: Error) => {
      assert.match(error.message, scenario.configError!);
      return true;
    });
    return;
  }
  const chain = await HarnessChain.load(scenario, opts);
  try {
    chain.setRoutes(scenario.routes);
    await chain.settle();
    for (const step of scenario.steps ?? []) {
      chain.setRoutes(step.routes);
      await chain.settle();
      const results: StepResult[] = [];
      for (let n = 0; n < (step.repeat ?? 1); n++) {
        const r = await chain.request(step.request);
        checkStep(step, r);
        results.push(r);
      }
      step.check?.(results);
    }
    for (const [name, value] of Object.entries(scenario.metrics ?? {})) {
      assert.equal(chain.metric(name), value, `metric ${name} [harness]`);
    }
    const lines = chain.logLines();
    for (const pattern of scenario.logs ?? []) assert.match(lines, pattern, `log line [harness]`);
    if (scenario.logLines !== undefined) checkLogLines(scenario, lines, 'harness');
  } finally {
    chain.close();
  }
}

// ---------------------------------------------------------------- envoy

function envoyFilters(scenario: Scenario) {
  return chainOrder(scenario.filters).map((f) => ({ name: f.name, config: f.config }));
}

async function envoyRequest(envoy: Envoy, upstreams: Upstreams, req: ScenarioRequest, agent: Agent): Promise<StepResult> {
  const seen = new Map([...upstreams.servers].map(([c, s]) => [c, s.requests.length]));
  const headers: [string, string][] = [['host', req.authority ?? 'service_b'], ...headerList(req.headers).filter(([k]) => k !== 'host')];
  const reply = await send(envoy.listenerUrl, req.path ?? '/', { method: req.method ?? 'GET', headers, body: req.body, agent });
  // The request the upstream received: the newest one on a service cluster (not the JWKS server).
  let upstream: EchoRequest | null = null;
  for (const [cluster, server] of upstreams.servers) {
    if (cluster === 'jwks') continue;
    const fresh = server.requests.slice(seen.get(cluster) ?? 0);
    if (fresh.length > 0) upstream = fresh.at(-1)!;
  }
  return {
    host: 'envoy',
    status: reply.status,
    servedBy: reply.headers['x-served-by'] ?? null,
    upstreamHeaders: upstream?.headers ?? null,
    upstreamPath: upstream?.path ?? null,
    responseHeaders: reply.headers,
    body: reply.body,
  };
}

export async function runInEnvoy(scenario: Scenario, opts: RunOptions = {}): Promise<void> {
  if (scenario.configError !== undefined) {
    const failure = await runEnvoyExpectingFailure({
      filters: envoyFilters(scenario),
      node: scenario.node,
      wasmDir: scenario.wasmDir ?? opts.wasmDir,
    });
    assert.equal(failure.ready, false, `Envoy accepted the configuration; expected a rejection matching ${scenario.configError}`);
    assert.notEqual(failure.code, 0, 'Envoy exit code');
    assert.match(failure.log, scenario.configError);
    return;
  }
  const upstreams = await Upstreams.start();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let envoy: Envoy | null = null;
  const grpcServers: GrpcServer[] = [];
  try {
    const grpcClusters: Record<string, unknown>[] = [];
    for (const [name, handler] of Object.entries(scenario.grpcClusters ?? {})) {
      const server = await GrpcServer.start(handler);
      grpcServers.push(server);
      grpcClusters.push(grpcCluster(name, server.port));
    }
    for (const r of scenario.routes ?? []) upstreams.get(r.cluster).setRoute(r.path, staticReply(r));
    envoy = await startEnvoy({
      filters: envoyFilters(scenario),
      upstreams: upstreams.endpoints(),
      node: scenario.node,
      wasmDir: scenario.wasmDir ?? opts.wasmDir,
      listenerPort: scenario.listenerPort,
      concurrency: scenario.workers,
      edit: (b) => {
        b.static_resources.clusters.push(...grpcClusters);
      },
    });
    for (const step of scenario.steps ?? []) {
      for (const r of step.routes ?? []) upstreams.get(r.cluster).setRoute(r.path, staticReply(r));
      const results: StepResult[] = [];
      for (let n = 0; n < (step.repeat ?? 1); n++) {
        const r = await envoyRequest(envoy, upstreams, step.request, agent);
        checkStep(step, r);
        results.push(r);
      }
      step.check?.(results);
    }
    const stats = await envoy.stats();
    for (const [name, value] of Object.entries(scenario.metrics ?? {})) {
      assert.equal(stats.get(`wasmcustom.${name}`), value, `metric ${name} [envoy]`);
    }
    for (const pattern of scenario.logs ?? [])
      await envoy.waitForLog(pattern, 2000).catch(() => assert.match(envoy!.logs(), pattern, 'log line [envoy]'));
    if (scenario.logLines !== undefined) {
      const want = scenario.logLines.expect.length;
      // Envoy writes its log asynchronously: wait for as many matching lines as expected (or time out and compare).
      await until(() => filterLines(scenario, envoy!.logs()).length >= want, 2000, 'the log lines').catch(() => {});
      checkLogLines(scenario, envoy.logs(), 'envoy');
    }
  } catch (error) {
    if (envoy !== null && error instanceof Error)
      error.message += `\n--- envoy log (last 40 lines) ---\n${envoy.logs().split('\n').slice(-40).join('\n')}`;
    throw error;
  } finally {
    agent.destroy();
    await envoy?.stop();
    await upstreams.close();
    for (const server of grpcServers) await server.close();
  }
}
