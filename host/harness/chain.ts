// An HTTP connection manager in front of Envoy's router: several filters, each in its own VM, in
// chain order; request phases in order, response phases in reverse; a local reply from filter i
// goes back through the encoders of filters i..0 only (Envoy 1.40, measured in
// test/envoy/chain.test.ts); the router's own replies go through all; every filter gets
// proxy_on_log with the stream's final maps. The router picks the cluster from `clusterHeader`
// (that route drops the header), else the default route's cluster.
import { randomUUID } from 'node:crypto';
import { loadPlugin, MetricStore, SharedStore, type Plugin, type PluginOptions } from './index.ts';
import { FilterManager, type BodyFrames } from './filter-manager.ts';
import { grpcStatusOf, isGrpcRequest } from './phases.ts';
import type { HeaderList, PropertyValue } from './state.ts';
import type { HttpStream } from './stream.ts';
import { headerList, joinedHeaders, type GrpcReply, type GrpcStreamReply, type HeaderInput } from './types.ts';

/** A request as a cluster's server receives it (HTTP/1.1: `host`, no pseudo-headers). */
export interface ClusterRequest {
  method: string;
  /** Path with query string. */
  path: string;
  /** Lower-case names; a repeated header's values joined with ','. */
  headers: Record<string, string>;
  body: string;
}
export interface ClusterReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}
/** A cluster's server: answers routed requests and the filters' http calls alike. */
export type ClusterServer = (req: ClusterRequest) => ClusterReply | Promise<ClusterReply>;

/** A gRPC request as a cluster's gRPC server receives it once the client ended its side. */
export interface GrpcRequest {
  service: string;
  method: string;
  metadata: HeaderList;
  /** The first message (a unary call's request). */
  message: Uint8Array;
  /** Every message the client sent (a stream's). */
  messages: Uint8Array[];
}
/**
 * A gRPC server's answer: status 0 (default) with `message` (a unary call's) or `messages`, initial and
 * trailing metadata it adds; another status fails the call (trailers-only when it sends nothing else).
 */
export type GrpcServerReply = GrpcReply & GrpcStreamReply;
/** A cluster's gRPC server: answers the filters' unary calls, and their streams once the filter ended its side. */
export type GrpcServer = (req: GrpcRequest) => GrpcServerReply | Promise<GrpcServerReply>;

export interface ChainFilter {
  name: string;
  /** The module: a file path or its bytes. */
  wasm: string | Uint8Array;
  config?: string | object;
  /** Further plugin options; plugin name, root id and vm id default to `name`. */
  options?: Omit<PluginOptions, 'config' | 'clusters' | 'node' | 'nowMs' | 'sharedStore' | 'stats'>;
}

export interface RouterOptions {
  /** The default route's cluster. */
  defaultCluster: string;
  /** A first route with `cluster_header: <name>` and `request_headers_to_remove: [<name>]`. */
  clusterHeader?: string;
  /** The route timeout the router announces upstream (x-envoy-expected-rq-timeout-ms); Envoy's default 15 s. */
  timeoutMs?: number;
  /** The listener's traffic_direction as `xds.listener_direction` (0 unspecified, 1 inbound, 2 outbound). */
  listenerDirection?: number;
}

export interface ChainOptions {
  filters: ChainFilter[];
  router: RouterOptions;
  /** The clusters Envoy has, by name, each with its server. */
  clusters: Record<string, ClusterServer>;
  /** Each cluster's endpoint as `upstream.address` (default 127.0.0.1:80). */
  clusterAddresses?: Record<string, string>;
  /** The downstream client's address as `source.address` (default 127.0.0.1:50000). */
  clientAddress?: string;
  /** HTTP/2 clusters serving gRPC, by name (they exist for the filters' gRPC calls). */
  grpcClusters?: Record<string, GrpcServer>;
  node?: PluginOptions['node'];
  /** The clock's start (default the wall clock, as Envoy's); it then moves only by ticks. */
  nowMs?: number;
  /** Stream attributes Envoy derives from the connection (e.g. `destination.port`). */
  streamProperties?: Record<string, PropertyValue>;
  /**
   * Worker threads (Envoy's --concurrency; default 1). Envoy 1.40 runs each filter in workers + 2 VMs
   * (measured: a base VM and the main thread's, then one per worker), each with its own proxy_on_vm_start
   * and proxy_on_configure, sharing shared data, queues and stats; requests go to a worker's VM.
   */
  workers?: number;
  /**
   * How bodies arrive: `http1` (default, as Envoy's HTTP/1 codec delivers them: each chunk without end
   * of stream, then an empty end-of-stream frame), or `last-chunk` (the last chunk ends the stream, as an
   * HTTP/2 DATA frame with END_STREAM does).
   */
  bodyFrames?: BodyFrames;
}

export interface ChainRequest {
  method?: string; // default GET
  path?: string; // default /
  authority?: string; // default localhost
  headers?: HeaderInput;
  /** The body, or its chunks as they arrive. */
  body?: string | string[];
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

export async function loadChain(opts: ChainOptions): Promise<Chain> {
  const vms: { name: string; plugins: Plugin[] }[] = [];
  const nowMs = opts.nowMs ?? Date.now();
  const workers = opts.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers: ${workers} is not a positive integer`);
  for (const f of opts.filters) {
    const vmId = f.options?.vmId ?? f.name;
    const shared = { sharedStore: new SharedStore(vmId), stats: new MetricStore() };
    const plugins: Plugin[] = [];
    for (let vm = 0; vm < workers + 2; vm++) {
      plugins.push(
        await loadPlugin(f.wasm, {
          pluginName: f.name,
          rootId: f.name,
          vmId,
          ...f.options,
          ...shared,
          config: f.config ?? '',
          node: opts.node,
          clusters: [...Object.keys(opts.clusters), ...Object.keys(opts.grpcClusters ?? {})],
          nowMs,
        }),
      );
    }
    vms.push({ name: f.name, plugins });
  }
  return new Chain(vms, opts);
}

export class Chain {
  /** Each filter's VM on the first worker, which serves the requests. */
  readonly plugins: { name: string; plugin: Plugin }[];
  private connections = 0;

  /** @internal use loadChain */
  constructor(
    /** Each filter's VMs: the base VM, the main thread's, then one per worker. */
    readonly vms: { name: string; plugins: Plugin[] }[],
    private readonly opts: ChainOptions,
  ) {
    this.plugins = vms.map(({ name, plugins }) => ({ name, plugin: plugins[2]! }));
  }

  /** Answers every pending http call of every filter from its cluster's server, until none are left. */
  async settle(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      let answered = 0;
      for (const { plugins } of this.vms) for (const plugin of plugins) answered += await this.answerCalls(plugin);
      if (answered === 0) return;
    }
    throw new Error('http calls keep coming after 100 rounds');
  }

  private async answerCalls(plugin: Plugin): Promise<number> {
    // Calls, and streams whose filter ended its side (the server answers once the client is done).
    const grpc = plugin.pendingGrpcCalls().filter((c) => c.kind === 'call' || c.localClosed);
    for (const call of grpc) {
      const server = this.opts.grpcClusters?.[call.cluster];
      const request = {
        service: call.service,
        method: call.method,
        metadata: call.metadata,
        message: call.messages[0]!,
        messages: call.messages,
      };
      // A cluster that does not speak gRPC (HTTP/1 here) fails the call INTERNAL (measured in Envoy 1.40).
      const reply: GrpcServerReply =
        server === undefined ? { status: 13 } : await server({ ...request, message: request.message ?? new Uint8Array(0) });
      if (call.kind === 'call') await plugin.respondGrpcCall(call.token, reply);
      else await plugin.respondGrpcStream(call.token, grpcStreamAnswer(reply));
    }
    const calls = plugin.pendingHttpCalls();
    for (const call of calls) {
      const server = this.opts.clusters[call.cluster];
      if (server === undefined) {
        await plugin.failHttpCall(call.token);
        continue;
      }
      const h = joinedHeaders(call.headers);
      const headers: Record<string, string> = { host: h[':authority'] ?? '' };
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) headers[k] = v;
      // Envoy's async client marks the request internal and announces its timeout (measured in Envoy 1.40).
      headers['x-envoy-internal'] = 'true';
      if (call.timeoutMs > 0) headers['x-envoy-expected-rq-timeout-ms'] = String(call.timeoutMs);
      const reply = await server({
        method: h[':method'] ?? 'GET',
        path: h[':path'] ?? '/',
        headers,
        body: Buffer.from(call.body).toString('utf8'),
      });
      await plugin.respondHttpCall(call.token, { status: reply.status, headers: withLength(reply), body: reply.body });
    }
    return calls.length + grpc.length;
  }

  /** One request from a downstream HTTP/1.1 client; throws when a filter stops the stream for good. */
  async request(req: ChainRequest): Promise<ChainResponse> {
    const { router } = this.opts;
    const clusterHeader = router.clusterHeader;
    const timeout = String(router.timeoutMs ?? 15000);
    const given = { ...this.opts.streamProperties, ...req.properties };
    const connection = ++this.connections;
    const client = this.opts.clientAddress ?? '127.0.0.1:50000';
    const listener = `127.0.0.1:${String(given['destination.port'] ?? 15001)}`;
    // What Envoy derives from the connection and the stream (measured in Envoy 1.40); the test's properties win.
    const start: Record<string, PropertyValue> = {
      'source.address': client,
      'source.port': BigInt(client.slice(client.lastIndexOf(':') + 1)),
      'destination.address': listener,
      'destination.port': BigInt(listener.slice(listener.lastIndexOf(':') + 1)),
      'connection.id': BigInt(connection),
      'connection.mtls': false,
      'connection.requested_server_name': '',
      'request.time': this.plugins[0]?.plugin.nowNs() ?? 0n,
      'response.flags': 0n,
      'xds.route_name': '',
      'xds.listener_direction': BigInt(this.opts.router.listenerDirection ?? 0),
      'upstream.transport_failure_reason': '',
    };
    const streams = this.plugins.map(({ plugin }) => plugin.stream({ properties: { ...start, ...given } }));
    /** Sets a derived attribute on every filter's stream unless the test gave it. */
    const derive = (key: string, value: PropertyValue) => {
      if (!(key in given)) for (const s of streams) s.state.properties[key] = value;
    };
    // Envoy keeps filter state per stream, shared by every filter of the chain (each in its own VM):
    // a proxy_set_property of one filter is what proxy_get_property of a later one reads.
    const filterState = streams[0]?.state.filterState;
    if (filterState !== undefined) for (const s of streams) s.state.filterState = filterState;
    // What Envoy's HCM hands the filters for an HTTP/1.1 request.
    const headers: [string, string][] = [
      [':authority', req.authority ?? 'localhost'],
      [':path', req.path ?? '/'],
      [':method', req.method ?? 'GET'],
      [':scheme', 'http'],
      ...headerList(req.headers).filter(([k]) => k !== 'host'),
    ];
    const chunks = (req.body === undefined ? [] : Array.isArray(req.body) ? req.body : [req.body])
      .filter((c) => c.length > 0)
      .map((c) => Buffer.from(c));
    const bodyBytes = chunks.reduce((n, c) => n + c.length, 0);
    if (req.body !== undefined && !headers.some(([k]) => k === 'content-length')) headers.push(['content-length', String(bodyBytes)]);
    headers.push(['x-forwarded-proto', 'http'], ['x-request-id', randomUUID()]);
    // request.size is the content-length from the start (Envoy 1.40), the bytes received at the end.
    const length = headers.find(([k]) => k === 'content-length')?.[1];
    if (length !== undefined) derive('request.size', Number(length));

    const filters = this.plugins.map((p, i) => ({ ...p, failOpen: this.opts.filters[i]?.options?.failOpen }));
    const run = new FilterManager(filters, streams, this.opts.bodyFrames ?? 'http1', {
      kind: 'clusters',
      answerCalls: (plugin) => this.answerCalls(plugin),
    });
    await run.decode(headers, chunks);
    let upstream: ChainResponse['upstream'] = null;
    let sent: { headers: HeaderList; body: Uint8Array } = { headers, body: new Uint8Array(0) };
    if (run.reset) return this.finish(run, headers, [], resetResponse(run.phases));
    if (run.outcome.kind === 'local') {
      await run.encodeLocal(run.outcome.reply, run.outcome.filter);
    } else {
      sent = run.upstreamRequest;
      const h = joinedHeaders(sent.headers);
      const steered = clusterHeader !== undefined && h[clusterHeader] !== undefined;
      const cluster = steered ? h[clusterHeader!]! : router.defaultCluster;
      const server = this.opts.clusters[cluster];
      if (server === undefined) {
        // Envoy's router: cluster_header names no cluster -> 503, no body, response flag NC (bit 24 of
        // response.flags, measured in test/telemetry/envoy-flags.test.ts). It goes through every encoder.
        derive('response.flags', 1 << 24);
        await run.encodeLocal(
          { status: 503, body: new Uint8Array(0), headers: [], details: 'cluster_not_found', grpcStatus: null },
          streams.length - 1,
        );
      } else {
        const upHeaders: Record<string, string> = { host: h[':authority'] ?? '' };
        // The steered route drops the cluster header before the upstream (request_headers_to_remove).
        for (const [k, v] of sent.headers)
          if (!k.startsWith(':') && !(steered && k === clusterHeader)) upHeaders[k] = k in upHeaders ? `${upHeaders[k]},${v}` : v;
        upHeaders['x-envoy-expected-rq-timeout-ms'] ??= timeout;
        const request = {
          method: h[':method'] ?? 'GET',
          path: h[':path'] ?? '/',
          headers: upHeaders,
          body: Buffer.from(sent.body).toString('utf8'),
        };
        upstream = { cluster, ...request };
        const reply = await server(request);
        // As Envoy's filters see a Node upstream's answer: the server's headers, then Node's date and
        // connection, then the router's x-envoy-upstream-service-time (measured in Envoy 1.40).
        const replyHeaders: [string, string][] = [
          [':status', String(reply.status)],
          ...Object.entries(withLength(reply)).map(([k, v]) => [k.toLowerCase(), v] as [string, string]),
          ['date', new Date().toUTCString()],
          ['connection', 'keep-alive'],
          ['x-envoy-upstream-service-time', '0'],
        ];
        derive('response.code_details', 'via_upstream');
        derive('xds.cluster_name', cluster);
        derive('xds.cluster_metadata', '');
        const address = this.opts.clusterAddresses?.[cluster] ?? '127.0.0.1:80';
        derive('upstream.address', address);
        derive('upstream.port', BigInt(address.slice(address.lastIndexOf(':') + 1)));
        await run.encode(replyHeaders, reply.body.length > 0 ? [Buffer.from(reply.body)] : [], streams.length - 1, false);
      }
    }
    if (run.reset) return this.finish(run, headers, [], resetResponse(run.phases));
    const response = run.clientResponse;
    const joined = joinedHeaders(response.headers);
    // What Envoy's header maps hold in proxy_on_log (measured, test/envoy/chain.test.ts): the request as
    // the router sent it (it adds x-envoy-expected-rq-timeout-ms), the response as the client got it
    // (hop-by-hop connection removed, date when the answer was local, server: envoy last).
    // The steered route's request_headers_to_remove applies to the request itself once forwarded.
    const logRequest: [string, string][] =
      upstream !== null
        ? [...sent.headers.filter(([k]) => k !== clusterHeader), ['x-envoy-expected-rq-timeout-ms', timeout]]
        : run.requestHeaders;
    const logResponse: [string, string][] = response.headers.filter(([k]) => k !== 'connection');
    // A gRPC local reply (headers only) gets its content-length: 0 in the map itself (measured: 7 entries in proxy_on_log).
    if (
      response.local &&
      response.body.length === 0 &&
      isGrpcRequest(run.requestHeaders) &&
      !logResponse.some(([k]) => k === 'content-length')
    )
      logResponse.push(['content-length', '0']);
    if (!logResponse.some(([k]) => k === 'date')) logResponse.push(['date', new Date().toUTCString()]);
    logResponse.push(['server', 'envoy']);
    // response.grpc_status: grpc-status when the answer has one, else the HTTP status mapped (Envoy 1.40: 200 gives 2, UNKNOWN).
    derive(
      'response.grpc_status',
      BigInt(joined['grpc-status'] !== undefined ? Number(joined['grpc-status']) : grpcStatusOf(Number(joined[':status'] ?? 0))),
    );
    derive('request.duration', 0n);
    // The HTTP/1 codec adds content-length: 0 to an answer without a body (not 204/304/1xx); no filter sees it.
    const status = Number(joined[':status'] ?? 0);
    if (
      joined['content-length'] === undefined &&
      joined['transfer-encoding'] === undefined &&
      response.body.length === 0 &&
      status >= 200 &&
      status !== 204 &&
      status !== 304
    )
      joined['content-length'] = '0';
    const out: ChainResponse = {
      status,
      headerList: response.headers,
      headers: Object.fromEntries(Object.entries(joined).filter(([k]) => !k.startsWith(':'))),
      body: Buffer.from(response.body).toString('utf8'),
      local: response.local,
      reset: false,
      upstream,
      phases: run.phases,
      routeCacheClears: 0,
    };
    return this.finish(run, logRequest, logResponse, out, upstream === null ? 0 : sent.body.length, response.body.length);
  }

  /** Envoy's sizes for proxy_on_log, then the filter manager's finish (final maps, on_log/done/delete for every filter). */
  private finish(
    run: FilterManager,
    request: [string, string][],
    response: [string, string][],
    result: ChainResponse,
    requestBodyBytes = 0,
    responseBodyBytes = 0,
  ): ChainResponse {
    // Envoy's sizes: body bytes, and total = body + header map byte size (names and values).
    const mapBytes = (list: [string, string][]) => list.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    result.routeCacheClears = run.finish(request, response, {
      'request.size': requestBodyBytes,
      'request.total_size': requestBodyBytes + mapBytes(request),
      'response.size': responseBodyBytes,
      'response.total_size': responseBodyBytes + mapBytes(response),
    });
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

  /** Every filter's log lines as Envoy prints them, filter after filter, VM after VM. */
  logLines(): string {
    return this.vms.flatMap(({ plugins }) => plugins.flatMap((p) => p.envoyLogLines())).join('\n');
  }

  /** Advances every VM's clock, firing the timers that are due (each VM's root context ticks on its own). */
  async tick(ms: number): Promise<void> {
    for (const { plugins } of this.vms) for (const plugin of plugins) await plugin.tick(ms);
  }

  close(): void {
    for (const { plugins } of this.vms) for (const plugin of plugins) plugin.close();
  }
}

function resetResponse(phases: ChainResponse['phases']): ChainResponse {
  return { status: 0, headers: {}, headerList: [], body: '', local: false, reset: true, upstream: null, phases, routeCacheClears: 0 };
}

/** The messages a gRPC server sends: `messages`, else `message`, else one empty message when the status is OK. */
export function grpcReplyMessages(reply: GrpcServerReply): (string | Uint8Array)[] {
  return reply.messages ?? (reply.message === undefined ? ((reply.status ?? 0) === 0 ? [''] : []) : [reply.message]);
}

/** A failure with nothing else to send goes out trailers-only (the status in the response headers). */
export function grpcTrailersOnly(reply: GrpcServerReply): boolean {
  return (reply.status ?? 0) !== 0 && grpcReplyMessages(reply).length === 0 && reply.initialMetadata === undefined;
}

/**
 * A gRPC server's answer as Envoy's async gRPC client hands it to a stream's filter (measured in Envoy
 * 1.40 with test/fixtures/rust/sdk-examples' stream example): initial metadata = the response headers
 * (Node's date, then the router's x-envoy-upstream-service-time), each message, trailing metadata = the
 * trailers, then the close, whose status message is the server's followed by `{via_upstream}`
 * (`via_upstream` alone without one). A trailers-only failure gives empty initial metadata and the
 * response headers as trailing metadata.
 */
function grpcStreamAnswer(reply: GrpcServerReply): GrpcStreamReply {
  const status = reply.status ?? 0;
  const fromEnvoy: HeaderList = [
    ['date', new Date().toUTCString()],
    ['x-envoy-upstream-service-time', '0'],
  ];
  const statusMessage = reply.statusMessage ? `${reply.statusMessage}{via_upstream}` : 'via_upstream';
  const trailers: HeaderList = [
    ['grpc-status', String(status)],
    ...(reply.statusMessage ? ([['grpc-message', reply.statusMessage]] as HeaderList) : []),
    ...headerList(reply.trailingMetadata),
  ];
  const head: HeaderList = [
    [':status', '200'],
    ['content-type', 'application/grpc'],
  ];
  if (grpcTrailersOnly(reply))
    return { initialMetadata: [], trailingMetadata: [...head, ...trailers, ...fromEnvoy], status, statusMessage };
  return {
    initialMetadata: [...head, ...headerList(reply.initialMetadata), ...fromEnvoy],
    messages: grpcReplyMessages(reply),
    trailingMetadata: trailers,
    status,
    statusMessage,
  };
}

function withLength(reply: ClusterReply): Record<string, string> {
  const headers = { ...reply.headers };
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-length'))
    headers['content-length'] = String(Buffer.byteLength(reply.body));
  return headers;
}
