// Runs a Scenario in the harness (filters chained as Envoy chains them, upstream simulated by the
// same EchoService logic) and in Envoy (envoy/sidecar.yaml via the launcher, real Node upstreams),
// and checks the outcome against the scenario's expectation.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { chainOrder } from '../../filters/manifest.ts';
import { CLUSTER_HEADER } from '../../assembly/lib/contracts.ts';
import { loadBootstrap } from '../../host/envoy/config.ts';
import { repoRoot } from '../../host/envoy/install.ts';
import { runEnvoyExpectingFailure, send, startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { loadPlugin, type HttpStream, type Plugin } from '../../host/harness/index.ts';
import { FAIL_STREAM, localReplyHeaders } from '../../host/harness/phases.ts';
import { headerList, joinedHeaders } from '../../host/harness/types.ts';
import type { LocalReply } from '../../host/harness/state.ts';
import { CLUSTER_IDENTITIES, EchoService, Upstreams, type EchoReply, type EchoRequest } from '../../host/upstream/echo.ts';
import type { HeaderExpectation, Scenario, ScenarioRequest, ScenarioStep, StaticRoute, StepResult } from './types.ts';

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


function sidecarNode(): Scenario['node'] {
  return loadBootstrap().node;
}

/** The port envoy/sidecar.yaml's listener declares (the rig binds port 0 unless a scenario sets listenerPort). */
function sidecarListenerPort(): number {
  return Number(loadBootstrap().static_resources?.listeners?.[0]?.address?.socket_address?.port_value ?? 15001);
}

// ---------------------------------------------------------------- harness

type Stop = { kind: 'continue' } | { kind: 'local'; reply: LocalReply } | { kind: 'reset' } | { kind: 'stuck'; why: string };

/** The filter chain in the harness: one Plugin per filter, each in its own VM, as in Envoy. */
export class HarnessChain {
  readonly services = new Map<string, EchoService>();
  /** Stream properties Envoy derives from the connection: the listener's port as `destination.port`. */
  private streamProperties: Record<string, bigint> = { 'destination.port': BigInt(sidecarListenerPort()) };

  private constructor(readonly plugins: { name: string; plugin: Plugin }[]) {
    for (const [cluster, identity] of Object.entries(CLUSTER_IDENTITIES)) this.services.set(cluster, new EchoService(identity));
  }

  static async load(scenario: Scenario, opts: RunOptions = {}): Promise<HarnessChain> {
    const plugins: { name: string; plugin: Plugin }[] = [];
    for (const f of chainOrder(scenario.filters)) {
      const plugin = await loadPlugin(join(opts.wasmDir ?? join(repoRoot, 'build'), `${f.name}.wasm`), {
        config: typeof f.config === 'string' ? f.config : JSON.stringify(f.config ?? {}),
        pluginName: f.name, rootId: f.name, vmId: f.name,
        node: scenario.node ?? sidecarNode(), clusters: Object.keys(CLUSTER_IDENTITIES),
        // Envoy's clock is the wall clock: the harness clock starts there too (then moves only by ticks).
        nowMs: Date.now(),
      });
      plugins.push({ name: f.name, plugin });
    }
    const chain = new HarnessChain(plugins);
    if (scenario.listenerPort !== undefined) chain.streamProperties = { 'destination.port': BigInt(scenario.listenerPort) };
    return chain;
  }

  setRoutes(routes: StaticRoute[] = []): void {
    for (const r of routes) this.service(r.cluster).setRoute(r.path, staticReply(r));
  }

  service(cluster: string): EchoService {
    const s = this.services.get(cluster);
    if (s === undefined) throw new Error(`no upstream for cluster ${cluster}`);
    return s;
  }

  /** Answers every pending http call of every plugin from the simulated clusters, until none are left. */
  async settle(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      let answered = 0;
      for (const { plugin } of this.plugins) answered += await this.answerCalls(plugin);
      if (answered === 0) return;
    }
    throw new Error('http calls keep coming after 100 rounds');
  }

  private async answerCalls(plugin: Plugin): Promise<number> {
    const calls = plugin.pendingHttpCalls();
    for (const call of calls) {
      const service = this.services.get(call.cluster);
      if (service === undefined) { await plugin.failHttpCall(call.token); continue; }
      const h = joinedHeaders(call.headers);
      const headers: Record<string, string> = { host: h[':authority'] ?? '' };
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) headers[k] = v;
      const reply = await service.handle({ method: h[':method'] ?? 'GET', path: h[':path'] ?? '/', headers, body: Buffer.from(call.body).toString('utf8') });
      await plugin.respondHttpCall(call.token, { status: reply.status, headers: withLength(reply), body: reply.body });
    }
    return calls.length;
  }

  /** Waits for a stopped filter: answers its http calls and fires its timers until it continues, replies or is stuck. */
  private async resolve(i: number, s: HttpStream, status: number, side: 0 | 1, isHeaders: boolean, endOfStream: boolean): Promise<Stop> {
    const { plugin } = this.plugins[i]!;
    for (let spins = 0; ; spins++) {
      if (s.failed || plugin.failed) return { kind: 'local', reply: FAIL_STREAM };
      const reply = s.localReply ?? s.state.localReply;
      if (reply !== null) { s.localReply = null; s.state.localReply = null; return { kind: 'local', reply }; }
      if (s.state.closeRequested) return { kind: 'reset' };
      if (status === 0 || (isHeaders && status === 2)) return { kind: 'continue' };
      if (s.state.continueRequested[side]) { s.state.continueRequested = [false, false]; return { kind: 'continue' }; }
      // StopIteration on headers with more data to come: the data is still delivered to this filter.
      if (isHeaders && status === 1 && !endOfStream) return { kind: 'continue' };
      if (spins > 1000) return { kind: 'stuck', why: `${this.plugins[i]!.name} stopped the stream and never continued` };
      if (plugin.pendingHttpCalls().length > 0) { await this.answerCalls(plugin); continue; }
      if (plugin.tickPeriodMs > 0) { await plugin.tick(); continue; }
      return { kind: 'stuck', why: `${this.plugins[i]!.name} stopped the stream (status ${status}) with no http call or timer pending` };
    }
  }

  async request(req: ScenarioRequest): Promise<StepResult> {
    const streams = this.plugins.map(({ plugin }) => plugin.stream({ properties: { ...this.streamProperties } }));
    // Envoy keeps filter state per stream, shared by every filter of the chain (each in its own VM):
    // a proxy_set_property of one filter is what proxy_get_property of a later one reads.
    const filterState = streams[0]?.state.filterState;
    if (filterState !== undefined) for (const s of streams) s.state.filterState = filterState;
    // What Envoy's HCM hands the filters for an HTTP/1.1 request.
    let headers: [string, string][] = [
      [':authority', req.authority ?? 'service_b'], [':path', req.path ?? '/'], [':method', req.method ?? 'GET'], [':scheme', 'http'],
      ...headerList(req.headers).filter(([k]) => k !== 'host'),
    ];
    if (req.body !== undefined && !headers.some(([k]) => k === 'content-length')) headers.push(['content-length', String(Buffer.byteLength(req.body))]);
    headers.push(['x-forwarded-proto', 'http'], ['x-request-id', randomUUID()]);
    let body: Uint8Array | null = req.body !== undefined && req.body.length > 0 ? Buffer.from(req.body) : null;
    let stop: Stop = { kind: 'continue' };
    let decoded = 0; // filters whose request phases ran

    for (let i = 0; i < streams.length && stop.kind === 'continue'; i++) {
      decoded = i + 1;
      const s = streams[i]!;
      s.state.attributes.requestHeaders = headers;
      let status = s.requestHeadersPhase(headers, body === null);
      stop = await this.resolve(i, s, status, 0, true, body === null);
      headers = s.state.requestHeaders ?? headers;
      if (stop.kind === 'continue' && body !== null) {
        status = s.requestBodyPhase(body, true);
        stop = await this.resolve(i, s, status, 0, false, true);
        body = s.state.requestBody ?? body;
      }
      s.state.requestHeaders = s.state.requestBody = null;
    }

    let response: { headers: [string, string][]; body: Uint8Array | null } | null = null;
    let upstream: EchoRequest | null = null;
    // Encoder filters run in reverse order. A local reply from filter i goes through the encoder
    // callbacks of filters i..0 only: Envoy 1.40 does not run encoders of filters that never decoded
    // (measured: they get proxy_on_log only). The router's own replies go through all filters.
    let startAt = streams.length - 1;
    if (stop.kind === 'stuck') throw new Error(`harness: ${stop.why}`);
    if (stop.kind === 'reset') return this.finish(streams, headers, [], { host: 'harness', status: 0, servedBy: null, upstreamHeaders: null, upstreamPath: null, responseHeaders: {}, body: '' });
    if (stop.kind === 'local') {
      startAt = decoded - 1;
      response = localResponse(stop.reply);
    } else {
      const h = joinedHeaders(headers);
      const cluster = h[CLUSTER_HEADER] ?? DEFAULT_CLUSTER;
      const service = this.services.get(cluster);
      if (service === undefined) {
        // Envoy's router: cluster_header names no cluster -> 503, no body, response flag NC (bit 24 of
        // response.flags, measured in test/telemetry/envoy-flags.test.ts).
        response = localResponse({ status: 503, body: new Uint8Array(0), headers: [], details: 'cluster_not_found', grpcStatus: null });
        for (const st of streams) st.state.properties['response.flags'] = 1 << 24;
      } else {
        const upHeaders: Record<string, string> = { host: h[':authority'] ?? '' };
        // The steered route drops the cluster header before the upstream (envoy/sidecar.yaml).
        for (const [k, v] of headers) if (!k.startsWith(':') && !(k === CLUSTER_HEADER && h[CLUSTER_HEADER] !== undefined)) upHeaders[k] = k in upHeaders ? `${upHeaders[k]},${v}` : v;
        upHeaders['x-envoy-expected-rq-timeout-ms'] ??= '15000';
        upstream = { method: h[':method'] ?? 'GET', path: h[':path'] ?? '/', headers: upHeaders, body: body === null ? '' : Buffer.from(body).toString('utf8') };
        const reply = await service.handle(upstream);
        // As Envoy's filters see a Node upstream's answer: the echo's headers, then Node's date and
        // connection, then the router's x-envoy-upstream-service-time (measured in Envoy 1.40).
        response = {
          headers: [[':status', String(reply.status)], ...Object.entries(withLength(reply)).map(([k, v]) => [k.toLowerCase(), v] as [string, string]),
            ['date', new Date().toUTCString()], ['connection', 'keep-alive'], ['x-envoy-upstream-service-time', '0']],
          body: Buffer.from(reply.body),
        };
      }
    }

    for (let i = startAt; i >= 0; i--) {
      const s = streams[i]!;
      const hasBody = response.body !== null && response.body.length > 0;
      s.state.attributes.responseHeaders = response.headers;
      let status = s.responseHeadersPhase(response.headers, !hasBody);
      let r = await this.resolve(i, s, status, 1, true, !hasBody);
      if (r.kind === 'continue') response.headers = s.state.responseHeaders ?? response.headers;
      if (r.kind === 'continue' && hasBody) {
        status = s.responseBodyPhase(response.body!, true);
        r = await this.resolve(i, s, status, 1, false, true);
        if (r.kind === 'continue') response.body = s.state.responseBody ?? response.body;
      }
      s.state.responseHeaders = s.state.responseBody = null;
      if (r.kind === 'stuck') throw new Error(`harness: ${r.why}`);
      if (r.kind === 'reset') return this.finish(streams, headers, [], { host: 'harness', status: 0, servedBy: null, upstreamHeaders: null, upstreamPath: null, responseHeaders: {}, body: '' });
      if (r.kind === 'local') response = localResponse(r.reply); // continues through the remaining encoder filters
    }
    const responseHeaders = joinedHeaders(response.headers);
    // What Envoy's header maps hold in proxy_on_log (measured, test/envoy/chain.test.ts): the request as
    // the router sent it (it adds x-envoy-expected-rq-timeout-ms), the response as the client got it
    // (hop-by-hop connection removed, date when the answer was local, server: envoy last).
    // The steered route's request_headers_to_remove applies to the request itself once forwarded.
    const forwarded = headers.filter(([k]) => k !== CLUSTER_HEADER);
    const logRequest: [string, string][] = upstream !== null ? [...forwarded, ['x-envoy-expected-rq-timeout-ms', '15000']] : headers;
    const logResponse: [string, string][] = response.headers.filter(([k]) => k !== 'connection');
    if (!logResponse.some(([k]) => k === 'date')) logResponse.push(['date', new Date().toUTCString()]);
    logResponse.push(['server', 'envoy']);
    return this.finish(streams, logRequest, logResponse, {
      host: 'harness', status: Number(responseHeaders[':status'] ?? 0), servedBy: responseHeaders['x-served-by'] ?? null,
      upstreamHeaders: upstream?.headers ?? null, upstreamPath: upstream?.path ?? null,
      responseHeaders: Object.fromEntries(Object.entries(responseHeaders).filter(([k]) => !k.startsWith(':'))),
      body: Buffer.from(response.body ?? new Uint8Array(0)).toString('utf8'),
    }, body?.length ?? 0, response.body?.length ?? 0);
  }

  /** proxy_on_log/done/delete for every filter, even those the request never reached (as Envoy does). */
  private finish(streams: HttpStream[], request: [string, string][], response: [string, string][], result: StepResult,
    requestBodyBytes = 0, responseBodyBytes = 0): StepResult {
    // Envoy's sizes: body bytes, and total = body + header map byte size (names and values).
    const mapBytes = (list: [string, string][]) => list.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    const sizes = {
      'request.size': requestBodyBytes, 'request.total_size': requestBodyBytes + mapBytes(request),
      'response.size': responseBodyBytes, 'response.total_size': responseBodyBytes + mapBytes(response),
    };
    for (const s of streams) {
      Object.assign(s.state.properties, sizes);
      // In proxy_on_log Envoy shows every filter the stream's final maps, also to a filter the request never reached.
      s.state.attributes.requestHeaders = s.state.requestHeaders = request.map(([k, v]) => [k, v]);
      s.state.attributes.responseHeaders = s.state.responseHeaders = response.length > 0 ? response.map(([k, v]) => [k, v]) : null;
      s.complete();
    }
    return result;
  }

  metric(name: string): number | undefined {
    for (const { plugin } of this.plugins) {
      const v = plugin.metric(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  logLines(): string { return this.plugins.flatMap(({ plugin }) => plugin.envoyLogLines()).join('\n'); }

  close(): void { for (const { plugin } of this.plugins) plugin.close(); }
}

function localResponse(reply: LocalReply): { headers: [string, string][]; body: Uint8Array | null } {
  return { headers: localReplyHeaders(reply), body: reply.body.length > 0 ? reply.body : null };
}

function withLength(reply: EchoReply): Record<string, string> {
  const headers = { ...reply.headers };
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) headers['content-length'] = String(Buffer.byteLength(reply.body));
  return headers;
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
    host: 'envoy', status: reply.status, servedBy: reply.headers['x-served-by'] ?? null,
    upstreamHeaders: upstream?.headers ?? null, upstreamPath: upstream?.path ?? null, responseHeaders: reply.headers, body: reply.body,
  };
}

export async function runInEnvoy(scenario: Scenario, opts: RunOptions = {}): Promise<void> {
  if (scenario.configError !== undefined) {
    const failure = await runEnvoyExpectingFailure({ filters: envoyFilters(scenario), node: scenario.node, wasmDir: opts.wasmDir });
    assert.equal(failure.ready, false, `Envoy accepted the configuration; expected a rejection matching ${scenario.configError}`);
    assert.notEqual(failure.code, 0, 'Envoy exit code');
    assert.match(failure.log, scenario.configError);
    return;
  }
  const upstreams = await Upstreams.start();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let envoy: Envoy | null = null;
  try {
    for (const r of scenario.routes ?? []) upstreams.get(r.cluster).setRoute(r.path, staticReply(r));
    envoy = await startEnvoy({ filters: envoyFilters(scenario), upstreams: upstreams.endpoints(), node: scenario.node, wasmDir: opts.wasmDir, listenerPort: scenario.listenerPort });
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
    for (const pattern of scenario.logs ?? []) await envoy.waitForLog(pattern, 2000).catch(() => assert.match(envoy!.logs(), pattern, 'log line [envoy]'));
  } catch (error) {
    if (envoy !== null && error instanceof Error) error.message += `\n--- envoy log (last 40 lines) ---\n${envoy.logs().split('\n').slice(-40).join('\n')}`;
    throw error;
  } finally {
    agent.destroy();
    await envoy?.stop();
    await upstreams.close();
  }
}
