// Public API: load a proxy-wasm ABI v0.2.1 module and drive it the way Envoy 1.40 would.
import { readFile } from 'node:fs/promises';
import { WasmResult, type LogLevelName } from './abi.ts';
import { FilterManager, type BodyFrames } from './filter-manager.ts';
import { envoyImports } from './imports.ts';
import { textDecoder, textEncoder, toBytes } from './memory.ts';
import type { Metric } from './metrics.ts';
import { MetricStore, STAT_PREFIX } from './metrics.ts';
import type { ForeignFunction } from './foreign.ts';
import { renderPrometheus, type StatsTagRule } from './prometheus.ts';
import { SharedStore, type SharedEntry } from './shared-data.ts';
import { HostState, type PropertyValue } from './state.ts';
import { HttpStream } from './stream.ts';
import { TcpConnection } from './network.ts';
import type {
  GrpcReply,
  GrpcStreamReply,
  HeaderList,
  HttpRequestSpec,
  HttpResult,
  LogEntry,
  UpstreamResponse,
  PendingGrpcCall,
  PendingHttpCall,
} from './types.ts';
import { headerList, responseHeaderList } from './types.ts';
import { Vm, VmFailure } from './vm.ts';

export type { StatsTagRule } from './prometheus.ts';
export type * from './types.ts';
export { HttpStream } from './stream.ts';
export { TcpConnection, PeerType } from './network.ts';
export { encodePairs, decodePairs } from './headers.ts';
export { SharedStore } from './shared-data.ts';
export { MetricStore } from './metrics.ts';
export { loadChain, Chain, grpcReplyMessages, grpcTrailersOnly } from './chain.ts';
export type {
  GrpcRequest,
  GrpcServer,
  GrpcServerReply,
  ChainFilter,
  ChainOptions,
  ChainRequest,
  ChainResponse,
  ClusterReply,
  ClusterRequest,
  ClusterServer,
  RouterOptions,
} from './chain.ts';
export { headerList, joinedHeaders, responseHeaderList } from './types.ts';

export interface PluginOptions {
  config?: string | object;
  vmConfig?: string;
  rootId?: string;
  vmId?: string;
  pluginName?: string;
  node?: { id?: string; cluster?: string; metadata?: Record<string, unknown> };
  properties?: Record<string, PropertyValue>;
  clusters?: string[];
  failOpen?: boolean;
  nowMs?: number;
  /** Envoy's verify_signature (default on), and functions a test registers by name (as Envoy's registered foreign functions). */
  foreignFunctions?: { verifySignature?: boolean; functions?: Record<string, ForeignFunction> };
  /**
   * Shared data and queues of another plugin with the same vmId (from `plugin.sharedStore` or
   * `new SharedStore(vmId)`): as Envoy's VMs of one vm_id on several worker threads share them.
   */
  sharedStore?: SharedStore;
  /** The process's stats (from `new MetricStore()`): VMs given one store count into the same stats, as Envoy's VMs of a plugin do. */
  stats?: MetricStore;
  /** How plugin.http() delivers bodies by default; see HttpRequestSpec.bodyFrames. */
  bodyFrames?: BodyFrames;
}

export async function loadPlugin(wasm: string | Uint8Array, opts: PluginOptions = {}): Promise<Plugin> {
  const bytes = typeof wasm === 'string' ? new Uint8Array(await readFile(wasm)) : wasm;
  const plugin = new Plugin(opts);
  await plugin.start(bytes);
  return plugin;
}

function pluginProperties(opts: PluginOptions, names: { plugin: string; root: string; vm: string }): Record<string, PropertyValue> {
  const node = { id: opts.node?.id ?? '', cluster: opts.node?.cluster ?? '', metadata: (opts.node?.metadata ?? {}) as PropertyValue };
  return {
    plugin_name: names.plugin,
    plugin_root_id: names.root,
    plugin_vm_id: names.vm,
    'xds.node': node,
    ...opts.properties,
  };
}

export class Plugin {
  readonly configureFailed = false as const;
  readonly sharedData: Map<string, SharedEntry>;
  private readonly host: HostState;
  private readonly vm: Vm;
  private readonly store: MetricStore;
  /** This plugin's shared data and queues (pass as PluginOptions.sharedStore to share them). */
  readonly sharedStore: SharedStore;
  /** Streams of plugin.http() waiting for the test: woken after every callback the test causes. */
  private waiters: (() => void)[] = [];
  readonly names: { plugin: string; root: string; vm: string };

  constructor(private readonly opts: PluginOptions) {
    const config = opts.config === undefined ? '' : typeof opts.config === 'string' ? opts.config : JSON.stringify(opts.config);
    this.names = { plugin: opts.pluginName ?? opts.rootId ?? 'plugin', root: opts.rootId ?? '', vm: opts.vmId ?? '' };
    this.host = new HostState({
      vmConfig: textEncoder.encode(opts.vmConfig ?? ''),
      pluginConfig: textEncoder.encode(config),
      clusters: opts.clusters ?? [],
      nowMs: opts.nowMs ?? 0,
      properties: pluginProperties(opts, this.names),
    });
    this.vm = new Vm(this.host);
    if (opts.sharedStore !== undefined && opts.sharedStore.vmId !== this.names.vm) {
      throw new Error(
        `sharedStore belongs to vm_id "${opts.sharedStore.vmId}", not "${this.names.vm}": Envoy shares data only within one vm_id`,
      );
    }
    this.sharedStore = opts.sharedStore ?? new SharedStore(this.names.vm);
    this.store = opts.stats ?? new MetricStore();
    this.sharedData = this.sharedStore.data;
  }

  /** @internal */
  async start(wasm: Uint8Array): Promise<void> {
    const imports = envoyImports(this.host, {
      metrics: this.store,
      shared: this.sharedStore,
      verifySignature: this.opts.foreignFunctions?.verifySignature ?? true,
      foreign: this.opts.foreignFunctions?.functions,
      onResume: () => {}, // streams are poked after every callback
      onQueueReady: (queueId) => this.rootCall('proxy_on_queue_ready', queueId),
    });
    await this.vm.instantiate(wasm, imports);
    const root = this.host.rootId;
    const fail = (what: string) => {
      const lines = this.host.logs.map((l) => `[${l.level}] ${l.message}`).join('\n');
      throw new Error(`Wasm VM failed ${what} (plugin ${this.names.plugin})${lines ? '\n' + lines : ''}`);
    };
    try {
      this.vm.call('proxy_on_context_create', root, 0);
      if (this.vm.call('proxy_on_vm_start', root, this.host.vmConfig.length) === 0) fail('Failed to start base Wasm');
      this.host.configuring = true;
      const configured = this.vm.call('proxy_on_configure', root, this.host.pluginConfig.length);
      this.host.configuring = false;
      if (configured === 0) fail('Failed to configure base Wasm plugin');
    } catch (error) {
      if (error instanceof VmFailure) fail(`during start-up: ${error.message}`);
      throw error;
    }
  }

  get logs(): LogEntry[] {
    return this.host.logs;
  }
  logsAt(level: LogLevelName): string[] {
    return this.host.logs.filter((l) => l.level === level).map((l) => l.message);
  }
  /**
   * Log lines as Envoy prints them: `wasm log <plugin> <root_id> <vm_id>: <message>` from a stream's
   * callbacks, `wasm log <root_id> <vm_id>: <message>` from the root context's (measured in Envoy 1.40).
   */
  envoyLogLines(): string[] {
    const { plugin, root, vm } = this.names;
    const streamPrefix = `wasm log ${plugin} ${root} ${vm}:`;
    const rootPrefix = ['wasm log', root, vm].filter((s) => s !== '').join(' ') + ':';
    return this.host.logs.map(
      (l) => `[${l.level}] ${l.contextId === this.host.rootId || l.contextId === 0 ? rootPrefix : streamPrefix} ${l.message}`,
    );
  }
  /** True once a callback trapped: Envoy answers later streams by its failure policy. */
  get failed(): boolean {
    return this.vm.failed;
  }

  /** A metric by the name the filter defined (without `wasmcustom.`), or by its full stat name. */
  metric(name: string): number | undefined {
    return (this.store.stats.get(STAT_PREFIX + name) ?? this.store.stats.get(name))?.value;
  }
  metrics(): Map<string, Metric> {
    return new Map([...this.store.stats].map(([k, v]) => [k.slice(STAT_PREFIX.length), { ...v }]));
  }
  prometheus(statsTags: StatsTagRule[] = []): string {
    return renderPrometheus(this.store.stats, statsTags);
  }

  /**
   * One request through this filter alone, on the chain's filter manager (filter-manager.ts): the
   * upstream is `req.upstream`. When the filter stops and waits for the test (an http/gRPC call to
   * answer, a tick), the result is `paused` and `completion` settles once the stream ends.
   */
  async http(req: HttpRequestSpec): Promise<HttpResult> {
    const logStart = this.host.logs.length;
    const stream = this.stream({ properties: req.properties });
    let onWait!: () => void;
    const waits = new Promise<'waiting'>((resolve) => (onWait = () => resolve('waiting')));
    const run = new FilterManager(
      [{ name: this.names.plugin, plugin: this, failOpen: this.opts.failOpen ?? false }],
      [stream],
      req.bodyFrames ?? this.opts.bodyFrames ?? 'http1',
      {
        kind: 'test',
        waitForCallback: () => {
          onWait();
          return new Promise<void>((resolve) => this.waiters.push(resolve));
        },
      },
    );
    let upstreamRequest: HttpResult['upstreamRequest'] = null;
    const result = (response: HttpResult['response'] | null): HttpResult => ({
      contextId: stream.contextId,
      phases: run.phases.map(({ phase, status }) => ({ phase, status })),
      upstreamRequest,
      response: response ?? { status: 0, headers: [], body: new Uint8Array(0), bodyText: '', local: false },
      routeCacheClears: stream.routeCacheClears,
      logs: this.host.logs.slice(logStart),
    });
    const flow = (async (): Promise<HttpResult> => {
      const headers = headerList(req.headers);
      await run.decode(
        headers,
        req.body === undefined ? [] : [toBytes(req.body)],
        req.trailers === undefined ? null : headerList(req.trailers),
      );
      if (run.outcome.kind === 'local') await run.encodeLocal(run.outcome.reply, 0);
      else if (!run.reset) {
        const sent = run.upstreamRequest;
        upstreamRequest = {
          headers: sent.headers.map(([k, v]) => [k, v]),
          body: sent.body,
          bodyText: textDecoder.decode(sent.body),
          trailers: sent.trailers ?? [],
        };
        const answer: UpstreamResponse =
          typeof req.upstream === 'function'
            ? req.upstream(upstreamRequest)
            : (req.upstream ?? { status: 200, headers: { 'content-type': 'text/plain' }, body: sent.body });
        const body = answer.body === undefined ? [] : [toBytes(answer.body)];
        const trailers = answer.trailers === undefined ? null : headerList(answer.trailers);
        await run.encode(responseHeaderList(answer.status ?? 200, answer.headers), body, 0, false, trailers);
      }
      if (run.reset) {
        run.finish(headers, []);
        const reset = {
          status: 0,
          headers: [],
          body: new Uint8Array(0),
          bodyText: '',
          details: 'wasm_fail_stream',
          local: false,
          reset: true,
        };
        return result(reset);
      }
      const { headers: responseHeaders, body, local } = run.clientResponse;
      // proxy_on_log reads the request as it went upstream (or as the filter left it) and the response as sent.
      run.finish(upstreamRequest?.headers ?? run.requestHeaders, responseHeaders);
      const status = local ? run.localReply!.status : Number(responseHeaders.find(([k]) => k === ':status')?.[1] ?? 0);
      const details = local ? { details: run.localReply!.details } : {};
      return result({ status, headers: responseHeaders, body, bodyText: textDecoder.decode(body), ...details, local });
    })();
    const first = await Promise.race([flow, waits]);
    if (first !== 'waiting') return first;
    return { ...result(null), paused: true, completion: flow };
  }

  /** A network (TCP) filter context: the test plays the client and the upstream. */
  connection(properties: Record<string, PropertyValue> = {}): TcpConnection {
    return new TcpConnection(this.vm, this.host, properties);
  }

  stream(req: Partial<HttpRequestSpec> = {}): HttpStream {
    return new HttpStream(this.vm, this.host, req.properties ?? {});
  }

  pendingHttpCalls(): PendingHttpCall[] {
    return [...this.host.pendingCalls.values()].map((c) => ({ ...c }));
  }

  async respondHttpCall(
    token: number,
    resp: {
      status: number;
      headers?: Record<string, string> | [string, string][];
      body?: string | Uint8Array;
      trailers?: Record<string, string>;
    },
  ): Promise<void> {
    this.deliverHttpCall(
      token,
      { headers: responseHeaderList(resp.status, resp.headers), body: toBytes(resp.body), trailers: headerList(resp.trailers) },
      null,
    );
  }

  /** The call failed (reset, timeout, no healthy upstream): delivered as (0, 0, 0). */
  async failHttpCall(token: number): Promise<void> {
    // Envoy: status BrokenConnection with message "reset" while the callback runs.
    this.deliverHttpCall(
      token,
      { headers: [], body: new Uint8Array(0), trailers: [] },
      { code: WasmResult.BrokenConnection, message: 'reset' },
    );
  }

  private deliverHttpCall(
    token: number,
    response: NonNullable<HostState['callResponse']>,
    status: { code: number; message: string } | null,
  ): void {
    const call = this.host.pendingCalls.get(token);
    if (call === undefined) throw new Error(`no pending http call with token ${token}`);
    this.host.pendingCalls.delete(token);
    // A failed call has no response: its maps and body are absent (NotFound / BadArgument).
    this.host.callResponse = status === null ? response : null;
    if (status !== null) this.host.lastStatus = status;
    try {
      this.rootCall('proxy_on_http_call_response', token, response.headers.length, response.body.length, response.trailers.length);
    } finally {
      this.host.callResponse = null;
      this.host.lastStatus = { code: this.host.lastStatus.code, message: '' };
    }
  }

  /** The items waiting in a shared queue (of this plugin's vm_id unless `vmId`), oldest first; undefined when no VM registered it. */
  sharedQueue(name: string, vmId = this.names.vm): Uint8Array[] | undefined {
    const id = this.sharedStore.queueId(vmId, name);
    return id === undefined ? undefined : [...this.sharedStore.queues.get(id)!.items];
  }

  /** Enqueues `data` on a shared queue this plugin's VM registered, as another VM would: proxy_on_queue_ready follows. */
  enqueueSharedQueue(name: string, data: string | Uint8Array): void {
    const id = this.sharedStore.queueId(this.names.vm, name);
    if (id === undefined) throw new Error(`no shared queue ${name} registered by vm_id ${this.names.vm}`);
    const queue = this.sharedStore.queues.get(id)!;
    queue.items.push(toBytes(data));
    (queue.notify ?? ((q: number) => this.rootCall('proxy_on_queue_ready', q)))(id);
  }

  /** gRPC calls and streams the filter started that are still open. */
  pendingGrpcCalls(): PendingGrpcCall[] {
    return [...this.host.grpcCalls.values()].map((c) => ({
      ...c,
      metadata: c.metadata.map(([k, v]) => [k, v]),
      messages: [...c.messages],
    }));
  }

  /**
   * Answers a unary gRPC call: status 0 (default) delivers the message (proxy_on_grpc_receive); any
   * other status fails the call (proxy_on_grpc_close, proxy_get_status gives the message).
   */
  async respondGrpcCall(token: number, reply: GrpcReply = {}): Promise<void> {
    const call = this.host.grpcCalls.get(token);
    if (call === undefined || call.kind !== 'call') throw new Error(`no pending gRPC call with token ${token}`);
    this.host.grpcCalls.delete(token);
    const status = reply.status ?? 0;
    if (status === 0) this.grpcCallback('proxy_on_grpc_receive', token, { message: toBytes(reply.message) });
    else this.grpcClose(token, status, reply.statusMessage ?? '');
  }

  /** Delivers what a gRPC stream's server sends, in order: initial metadata, messages, trailing metadata, then the close when `status` is given. */
  async respondGrpcStream(token: number, reply: GrpcStreamReply): Promise<void> {
    const call = this.host.grpcCalls.get(token);
    if (call === undefined || call.kind !== 'stream') throw new Error(`no open gRPC stream with token ${token}`);
    if (reply.initialMetadata !== undefined)
      this.grpcCallback('proxy_on_grpc_receive_initial_metadata', token, { initialMetadata: headerList(reply.initialMetadata) });
    for (const message of reply.messages ?? []) this.grpcCallback('proxy_on_grpc_receive', token, { message: toBytes(message) });
    if (reply.trailingMetadata !== undefined)
      this.grpcCallback('proxy_on_grpc_receive_trailing_metadata', token, { trailingMetadata: headerList(reply.trailingMetadata) });
    if (reply.status !== undefined) {
      this.host.grpcCalls.delete(token);
      this.grpcClose(token, reply.status, reply.statusMessage ?? '');
    }
  }

  private grpcCallback(
    name: string,
    token: number,
    data: { initialMetadata?: HeaderList; trailingMetadata?: HeaderList; message?: Uint8Array },
  ): void {
    this.host.grpcReceive = {
      initialMetadata: data.initialMetadata ?? null,
      trailingMetadata: data.trailingMetadata ?? null,
      message: data.message ?? null,
    };
    const arg = data.message?.length ?? data.initialMetadata?.length ?? data.trailingMetadata?.length ?? 0;
    try {
      this.rootCall(name, token, arg);
    } finally {
      this.host.grpcReceive = null;
    }
  }

  private grpcClose(token: number, status: number, message: string): void {
    const saved = this.host.lastStatus;
    this.host.lastStatus = { code: status, message };
    try {
      this.rootCall('proxy_on_grpc_close', token, status);
    } finally {
      this.host.lastStatus = { code: saved.code, message: '' };
    }
  }

  /** Advances the fake clock and fires proxy_on_tick for each tick period that elapsed. */
  async tick(ms?: number): Promise<void> {
    const step = ms ?? this.host.tickPeriodMs;
    const target = this.host.nowMs() + step;
    while (this.host.tickPeriodMs > 0 && this.host.nextTickMs <= target && !this.vm.failed) {
      this.host.nowNs = BigInt(this.host.nextTickMs) * 1_000_000n;
      this.host.nextTickMs += this.host.tickPeriodMs;
      this.rootCall('proxy_on_tick');
    }
    this.host.nowNs = BigInt(target) * 1_000_000n;
  }

  /** Moves the fake clock without firing timers. */
  advance(ms: number): void {
    this.host.nowNs += BigInt(Math.round(ms)) * 1_000_000n;
  }

  /** The module's linear memory size: a filter that leaks grows it request after request. */
  wasmMemoryBytes(): number {
    return this.host.mem.memory?.buffer.byteLength ?? 0;
  }

  /** Forgets the log lines kept so far (long runs would otherwise hold every line). */
  clearLogs(): void {
    this.host.logs.length = 0;
  }

  get tickPeriodMs(): number {
    return this.host.tickPeriodMs;
  }
  nowMs(): number {
    return this.host.nowMs();
  }
  /** The fake clock in nanoseconds. */
  nowNs(): bigint {
    return this.host.nowNs;
  }

  close(): void {
    this.wake();
    if (!this.vm.failed) {
      try {
        this.vm.call('proxy_on_done', this.host.rootId);
        this.vm.call('proxy_on_delete', this.host.rootId);
      } catch (error) {
        if (!(error instanceof VmFailure)) throw error;
      }
    }
  }

  private rootCall(name: string, ...args: number[]): void {
    try {
      this.vm.call(name, this.host.rootId, ...args);
    } catch (error) {
      if (!(error instanceof VmFailure)) throw error;
    }
    this.pokeAll();
  }

  /** Paused streams of plugin.http() look at what the last callback asked for (continue, close, local reply, a failed VM). */
  private pokeAll(): void {
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

export { textDecoder as utf8Decoder };
