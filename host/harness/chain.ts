// An HTTP connection manager in front of Envoy's router: several filters, each in its own VM, in
// chain order; request phases in order, response phases in reverse; a local reply from filter i
// goes back through the encoders of filters i..0 only (Envoy 1.40, measured in
// test/envoy/chain.test.ts); the router's own replies go through all; every filter gets
// proxy_on_log with the stream's final maps. The router picks the cluster from `clusterHeader`
// (that route drops the header), else the default route's cluster.
import { randomUUID } from 'node:crypto';
import { loadPlugin, type Plugin, type PluginOptions } from './index.ts';
import { FAIL_STREAM, localReplyHeaders } from './phases.ts';
import type { HeaderList, LocalReply, PropertyValue } from './state.ts';
import type { HttpStream } from './stream.ts';
import { headerList, joinedHeaders, type HeaderInput } from './types.ts';

/** A request as a cluster's server receives it (HTTP/1.1: `host`, no pseudo-headers). */
export interface ClusterRequest {
  method: string;
  /** Path with query string. */
  path: string;
  /** Lower-case names; a repeated header's values joined with ','. */
  headers: Record<string, string>;
  body: string;
}
export interface ClusterReply { status: number; headers: Record<string, string>; body: string }
/** A cluster's server: answers routed requests and the filters' http calls alike. */
export type ClusterServer = (req: ClusterRequest) => ClusterReply | Promise<ClusterReply>;

export interface ChainFilter {
  name: string;
  /** The module: a file path or its bytes. */
  wasm: string | Uint8Array;
  config?: string | object;
  /** Further plugin options; plugin name, root id and vm id default to `name`. */
  options?: Omit<PluginOptions, 'config' | 'clusters' | 'node' | 'nowMs'>;
}

export interface RouterOptions {
  /** The default route's cluster. */
  defaultCluster: string;
  /** A first route with `cluster_header: <name>` and `request_headers_to_remove: [<name>]`. */
  clusterHeader?: string;
  /** The route timeout the router announces upstream (x-envoy-expected-rq-timeout-ms); Envoy's default 15 s. */
  timeoutMs?: number;
}

export interface ChainOptions {
  filters: ChainFilter[];
  router: RouterOptions;
  /** The clusters Envoy has, by name, each with its server. */
  clusters: Record<string, ClusterServer>;
  node?: PluginOptions['node'];
  /** The clock's start (default the wall clock, as Envoy's); it then moves only by ticks. */
  nowMs?: number;
  /** Stream attributes Envoy derives from the connection (e.g. `destination.port`). */
  streamProperties?: Record<string, PropertyValue>;
}

export interface ChainRequest {
  method?: string;     // default GET
  path?: string;       // default /
  authority?: string;  // default localhost
  headers?: HeaderInput;
  body?: string;
  /** Attributes of this stream on top of ChainOptions.streamProperties. */
  properties?: Record<string, PropertyValue>;
}

export interface ChainResponse {
  /** 0 when the stream was reset. */
  status: number;
  /** Without pseudo-headers, repeated ones joined with ','. */
  headers: Record<string, string>;
  headerList: HeaderList;
  body: string;
  /** The router's or a filter's own answer. */
  local: boolean;
  reset: boolean;
  /** What the upstream received, null when the request reached none. */
  upstream: (ClusterRequest & { cluster: string }) | null;
  /** Each callback that ran, with the filter and its answer. */
  phases: { filter: string; phase: string; status: number }[];
  /** clear_route_cache calls by all filters. */
  routeCacheClears: number;
}

type Stop = { kind: 'continue' } | { kind: 'local'; reply: LocalReply } | { kind: 'reset' } | { kind: 'stuck'; why: string };

export async function loadChain(opts: ChainOptions): Promise<Chain> {
  const plugins: { name: string; plugin: Plugin }[] = [];
  const nowMs = opts.nowMs ?? Date.now();
  for (const f of opts.filters) {
    const plugin = await loadPlugin(f.wasm, {
      pluginName: f.name, rootId: f.name, vmId: f.name, ...f.options,
      config: f.config ?? '', node: opts.node, clusters: Object.keys(opts.clusters), nowMs,
    });
    plugins.push({ name: f.name, plugin });
  }
  return new Chain(plugins, opts);
}

export class Chain {
  /** @internal use loadChain */
  constructor(readonly plugins: { name: string; plugin: Plugin }[], private readonly opts: ChainOptions) {}

  /** Answers every pending http call of every filter from its cluster's server, until none are left. */
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
      const server = this.opts.clusters[call.cluster];
      if (server === undefined) { await plugin.failHttpCall(call.token); continue; }
      const h = joinedHeaders(call.headers);
      const headers: Record<string, string> = { host: h[':authority'] ?? '' };
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) headers[k] = v;
      const reply = await server({ method: h[':method'] ?? 'GET', path: h[':path'] ?? '/', headers, body: Buffer.from(call.body).toString('utf8') });
      await plugin.respondHttpCall(call.token, { status: reply.status, headers: withLength(reply), body: reply.body });
    }
    return calls.length;
  }

  /** Waits for a stopped filter: answers its http calls and fires its timers until it continues, replies or is stuck. */
  private async resolve(i: number, s: HttpStream, status: number, side: 0 | 1, isHeaders: boolean, endOfStream: boolean): Promise<Stop> {
    const { plugin, name } = this.plugins[i]!;
    for (let spins = 0; ; spins++) {
      if (s.failed || plugin.failed) return { kind: 'local', reply: FAIL_STREAM };
      const reply = s.localReply ?? s.state.localReply;
      if (reply !== null) { s.localReply = null; s.state.localReply = null; return { kind: 'local', reply }; }
      if (s.state.closeRequested) return { kind: 'reset' };
      if (status === 0 || (isHeaders && status === 2)) return { kind: 'continue' };
      if (s.state.continueRequested[side]) { s.state.continueRequested = [false, false]; return { kind: 'continue' }; }
      // StopIteration on headers with more data to come: the data is still delivered to this filter.
      if (isHeaders && status === 1 && !endOfStream) return { kind: 'continue' };
      if (spins > 1000) return { kind: 'stuck', why: `${name} stopped the stream and never continued` };
      if (plugin.pendingHttpCalls().length > 0) { await this.answerCalls(plugin); continue; }
      if (plugin.tickPeriodMs > 0) { await plugin.tick(); continue; }
      return { kind: 'stuck', why: `${name} stopped the stream (status ${status}) with no http call or timer pending` };
    }
  }

  /** One request from a downstream HTTP/1.1 client; throws when a filter stops the stream for good. */
  async request(req: ChainRequest): Promise<ChainResponse> {
    const { router } = this.opts;
    const clusterHeader = router.clusterHeader;
    const timeout = String(router.timeoutMs ?? 15000);
    const streams = this.plugins.map(({ plugin }) => plugin.stream({ properties: { ...this.opts.streamProperties, ...req.properties } }));
    const phases: ChainResponse['phases'] = [];
    const phase = (i: number, name: string, status: number): number => { phases.push({ filter: this.plugins[i]!.name, phase: name, status }); return status; };
    // Envoy keeps filter state per stream, shared by every filter of the chain (each in its own VM):
    // a proxy_set_property of one filter is what proxy_get_property of a later one reads.
    const filterState = streams[0]?.state.filterState;
    if (filterState !== undefined) for (const s of streams) s.state.filterState = filterState;
    // What Envoy's HCM hands the filters for an HTTP/1.1 request.
    let headers: [string, string][] = [
      [':authority', req.authority ?? 'localhost'], [':path', req.path ?? '/'], [':method', req.method ?? 'GET'], [':scheme', 'http'],
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
      let status = phase(i, 'request_headers', s.requestHeadersPhase(headers, body === null));
      stop = await this.resolve(i, s, status, 0, true, body === null);
      headers = s.state.requestHeaders ?? headers;
      if (stop.kind === 'continue' && body !== null) {
        status = phase(i, 'request_body', s.requestBodyPhase(body, true));
        stop = await this.resolve(i, s, status, 0, false, true);
        body = s.state.requestBody ?? body;
      }
      s.state.requestHeaders = s.state.requestBody = null;
    }

    let response: { headers: [string, string][]; body: Uint8Array | null; local: boolean } | null = null;
    let upstream: ChainResponse['upstream'] = null;
    // Encoder filters run in reverse order. A local reply from filter i goes through the encoder
    // callbacks of filters i..0 only: Envoy 1.40 does not run encoders of filters that never decoded
    // (measured: they get proxy_on_log only). The router's own replies go through all filters.
    let startAt = streams.length - 1;
    if (stop.kind === 'stuck') throw new Error(`harness: ${stop.why}`);
    if (stop.kind === 'reset') return this.finish(streams, headers, [], resetResponse(phases));
    if (stop.kind === 'local') {
      startAt = decoded - 1;
      response = localResponse(stop.reply);
    } else {
      const h = joinedHeaders(headers);
      const steered = clusterHeader !== undefined && h[clusterHeader] !== undefined;
      const cluster = steered ? h[clusterHeader!]! : router.defaultCluster;
      const server = this.opts.clusters[cluster];
      if (server === undefined) {
        // Envoy's router: cluster_header names no cluster -> 503, no body, response flag NC (bit 24 of
        // response.flags, measured in test/telemetry/envoy-flags.test.ts).
        response = localResponse({ status: 503, body: new Uint8Array(0), headers: [], details: 'cluster_not_found', grpcStatus: null });
        for (const st of streams) st.state.properties['response.flags'] = 1 << 24;
      } else {
        const upHeaders: Record<string, string> = { host: h[':authority'] ?? '' };
        // The steered route drops the cluster header before the upstream (request_headers_to_remove).
        for (const [k, v] of headers) if (!k.startsWith(':') && !(steered && k === clusterHeader)) upHeaders[k] = k in upHeaders ? `${upHeaders[k]},${v}` : v;
        upHeaders['x-envoy-expected-rq-timeout-ms'] ??= timeout;
        const sent = { method: h[':method'] ?? 'GET', path: h[':path'] ?? '/', headers: upHeaders, body: body === null ? '' : Buffer.from(body).toString('utf8') };
        upstream = { cluster, ...sent };
        const reply = await server(sent);
        // As Envoy's filters see a Node upstream's answer: the server's headers, then Node's date and
        // connection, then the router's x-envoy-upstream-service-time (measured in Envoy 1.40).
        response = {
          headers: [[':status', String(reply.status)], ...Object.entries(withLength(reply)).map(([k, v]) => [k.toLowerCase(), v] as [string, string]),
            ['date', new Date().toUTCString()], ['connection', 'keep-alive'], ['x-envoy-upstream-service-time', '0']],
          body: Buffer.from(reply.body), local: false,
        };
      }
    }

    for (let i = startAt; i >= 0; i--) {
      const s = streams[i]!;
      const hasBody = response.body !== null && response.body.length > 0;
      s.state.attributes.responseHeaders = response.headers;
      let status = phase(i, 'response_headers', s.responseHeadersPhase(response.headers, !hasBody));
      let r = await this.resolve(i, s, status, 1, true, !hasBody);
      if (r.kind === 'continue') response.headers = s.state.responseHeaders ?? response.headers;
      if (r.kind === 'continue' && hasBody) {
        status = phase(i, 'response_body', s.responseBodyPhase(response.body!, true));
        r = await this.resolve(i, s, status, 1, false, true);
        if (r.kind === 'continue') response.body = s.state.responseBody ?? response.body;
      }
      s.state.responseHeaders = s.state.responseBody = null;
      if (r.kind === 'stuck') throw new Error(`harness: ${r.why}`);
      if (r.kind === 'reset') return this.finish(streams, headers, [], resetResponse(phases));
      if (r.kind === 'local') response = localResponse(r.reply); // continues through the remaining encoder filters
    }
    const joined = joinedHeaders(response.headers);
    // What Envoy's header maps hold in proxy_on_log (measured, test/envoy/chain.test.ts): the request as
    // the router sent it (it adds x-envoy-expected-rq-timeout-ms), the response as the client got it
    // (hop-by-hop connection removed, date when the answer was local, server: envoy last).
    // The steered route's request_headers_to_remove applies to the request itself once forwarded.
    const logRequest: [string, string][] = upstream !== null
      ? [...headers.filter(([k]) => k !== clusterHeader), ['x-envoy-expected-rq-timeout-ms', timeout]]
      : headers;
    const logResponse: [string, string][] = response.headers.filter(([k]) => k !== 'connection');
    if (!logResponse.some(([k]) => k === 'date')) logResponse.push(['date', new Date().toUTCString()]);
    logResponse.push(['server', 'envoy']);
    const out: ChainResponse = {
      status: Number(joined[':status'] ?? 0), headerList: response.headers,
      headers: Object.fromEntries(Object.entries(joined).filter(([k]) => !k.startsWith(':'))),
      body: Buffer.from(response.body ?? new Uint8Array(0)).toString('utf8'), local: response.local, reset: false, upstream,
      phases, routeCacheClears: 0,
    };
    return this.finish(streams, logRequest, logResponse, out, body?.length ?? 0, response.body?.length ?? 0);
  }

  /** proxy_on_log/done/delete for every filter, even those the request never reached (as Envoy does). */
  private finish(streams: HttpStream[], request: [string, string][], response: [string, string][], result: ChainResponse,
    requestBodyBytes = 0, responseBodyBytes = 0): ChainResponse {
    // Envoy's sizes: body bytes, and total = body + header map byte size (names and values).
    const mapBytes = (list: [string, string][]) => list.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    const sizes = {
      'request.size': requestBodyBytes, 'request.total_size': requestBodyBytes + mapBytes(request),
      'response.size': responseBodyBytes, 'response.total_size': responseBodyBytes + mapBytes(response),
    };
    for (const s of streams) {
      result.routeCacheClears += s.routeCacheClears;
      Object.assign(s.state.properties, sizes);
      // In proxy_on_log Envoy shows every filter the stream's final maps, also to a filter the request never reached.
      s.state.attributes.requestHeaders = s.state.requestHeaders = request.map(([k, v]) => [k, v]);
      s.state.attributes.responseHeaders = s.state.responseHeaders = response.length > 0 ? response.map(([k, v]) => [k, v]) : null;
      s.complete();
    }
    return result;
  }

  /** A metric by the name a filter defined (the first filter that has it). */
  metric(name: string): number | undefined {
    for (const { plugin } of this.plugins) {
      const v = plugin.metric(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** Every filter's log lines as Envoy prints them, filter after filter. */
  logLines(): string { return this.plugins.flatMap(({ plugin }) => plugin.envoyLogLines()).join('\n'); }

  close(): void { for (const { plugin } of this.plugins) plugin.close(); }
}

function resetResponse(phases: ChainResponse['phases']): ChainResponse {
  return { status: 0, headers: {}, headerList: [], body: '', local: false, reset: true, upstream: null, phases, routeCacheClears: 0 };
}

function localResponse(reply: LocalReply): { headers: [string, string][]; body: Uint8Array | null; local: boolean } {
  return { headers: localReplyHeaders(reply), body: reply.body.length > 0 ? reply.body : null, local: true };
}

function withLength(reply: ClusterReply): Record<string, string> {
  const headers = { ...reply.headers };
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) headers['content-length'] = String(Buffer.byteLength(reply.body));
  return headers;
}
