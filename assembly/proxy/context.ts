// Root, HTTP and network (TCP) contexts that filters extend, and the registry that maps context ids to them.
import {
  FilterDataStatus,
  FilterHeadersStatus,
  FilterStatus,
  FilterTrailersStatus,
  GrpcStatus,
  PeerType,
  StreamType,
  WasmResult,
} from './enums';
import { Pair } from './pairs';
import { sendLocalResponse, continueStream, closeStream } from './stream';
import { setTickPeriod } from './timers';
import { getPropertyString } from './properties';

/** One per plugin instance (Envoy: one per filter config per worker). Holds the validated config. */
export class RootContext {
  constructor(public readonly contextId: u32) {}

  /** The VM started; vmConfigurationSize bytes of VM configuration are available. */
  onVmStart(vmConfigurationSize: u32): bool {
    return true;
  }

  /** The plugin configuration arrived; return false to reject it (Envoy then refuses the config). */
  onConfigure(configurationSize: u32): bool {
    return true;
  }

  /** Called every tick period (see setTickPeriod). */
  onTick(): void {}

  onQueueReady(queueId: u32): void {}

  /** Return false to finish later (then call done()). */
  onDone(): bool {
    return true;
  }

  onDelete(): void {}

  /** A new HTTP stream; return null to let it pass without a filter context. */
  createHttpContext(contextId: u32): HttpContext | null {
    return null;
  }

  /** A new TCP connection (a network filter's plugin: `envoy.filters.network.wasm`); null lets it pass. */
  createNetworkContext(contextId: u32): NetworkContext | null {
    return null;
  }

  setTickPeriod(periodMs: u32): void {
    setTickPeriod(periodMs);
  }
}

/**
 * A composite filter running several filters' contexts on one stream (filters/mesh; each part has
 * the stream's context id): a part's resume and local reply go through it, so the parts after a
 * paused one run before Envoy continues.
 */
export abstract class HttpChain {
  /** `part` resumes the request it paused. */
  abstract resumeRequest(part: HttpContext): WasmResult;
  abstract resumeResponse(part: HttpContext): WasmResult;
  /** `part` is sending a local reply: the parts after it never see the request. */
  abstract localReply(part: HttpContext): void;
}

// Only a composite's build defines ASMESH_COMPOSITE (asconfig.json target `mesh`: `--use
// ASMESH_COMPOSITE=1`): elsewhere the hook is not compiled, so the separate filters do not pay for it.
let chain: HttpChain | null = null;

/** Every HTTP context of this module is a part of a composite: their resumes and local replies go to `c`. */
export function useHttpChain(c: HttpChain): void {
  // @ts-ignore: a composite built without the constant would resume Envoy past its later parts
  if (!isDefined(ASMESH_COMPOSITE)) ERROR('useHttpChain needs the build option --use ASMESH_COMPOSITE=1');
  chain = c;
}

/** One per HTTP stream. Per-request state lives here; configuration lives on the root. */
export class HttpContext {
  constructor(
    public readonly contextId: u32,
    public readonly root: RootContext,
  ) {}

  /** This stream's context of the plugin `root`: this one, or (a composite) its part of that root. */
  partOf(root: RootContext): HttpContext | null {
    return this.root === root ? this : null;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }
  onRequestTrailers(trailerCount: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }
  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }
  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }
  onResponseTrailers(trailerCount: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }
  /** The stream is complete: access logging happens here. */
  onLog(): void {}
  onDone(): bool {
    return true;
  }
  onDelete(): void {}

  /** Replies from the proxy; return a Stop status from the current callback afterwards. */
  sendLocalResponse(
    statusCode: u32,
    details: string,
    body: string,
    headers: Pair[] = [],
    grpcStatus: GrpcStatus = GrpcStatus.None,
  ): WasmResult {
    // @ts-ignore: defined by the composite's build only
    if (isDefined(ASMESH_COMPOSITE)) {
      const c = chain;
      if (c !== null) c.localReply(this);
    }
    return sendLocalResponse(statusCode, details, String.UTF8.encode(body), headers, grpcStatus);
  }

  /** Resumes a request paused by a Stop status (call with this context effective). */
  resumeRequest(): WasmResult {
    // @ts-ignore: defined by the composite's build only
    if (isDefined(ASMESH_COMPOSITE)) {
      const c = chain;
      if (c !== null) return c.resumeRequest(this);
    }
    return continueStream(StreamType.HttpRequest);
  }
  resumeResponse(): WasmResult {
    // @ts-ignore: defined by the composite's build only
    if (isDefined(ASMESH_COMPOSITE)) {
      const c = chain;
      if (c !== null) return c.resumeResponse(this);
    }
    return continueStream(StreamType.HttpResponse);
  }
  closeRequest(): WasmResult {
    return closeStream(StreamType.HttpRequest);
  }
}

/**
 * One per TCP connection through a network filter. Data callbacks see the bytes that arrived now
 * (downstreamData / upstreamData of network.ts); a size-0 callback with endOfStream is that peer's end.
 */
export class NetworkContext {
  constructor(
    public readonly contextId: u32,
    public readonly root: RootContext,
  ) {}

  onNewConnection(): FilterStatus {
    return FilterStatus.Continue;
  }
  /** Bytes from the client. */
  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    return FilterStatus.Continue;
  }
  /** Bytes from the upstream, on their way to the client. */
  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    return FilterStatus.Continue;
  }
  onDownstreamConnectionClose(peer: PeerType): void {}
  onUpstreamConnectionClose(peer: PeerType): void {}
  /** The connection is complete: access logging happens here. */
  onLog(): void {}
  onDone(): bool {
    return true;
  }
  onDelete(): void {}

  /** Resumes a connection paused by StopIteration (call with this context effective). */
  resumeDownstream(): WasmResult {
    return continueStream(StreamType.Downstream);
  }
  resumeUpstream(): WasmResult {
    return continueStream(StreamType.Upstream);
  }
  /** Closes the client connection. */
  closeDownstream(): WasmResult {
    return closeStream(StreamType.Downstream);
  }
  closeUpstream(): WasmResult {
    return closeStream(StreamType.Upstream);
  }
}

/** Builds the root context of a plugin; registered by the filter's index.ts. */
export type RootFactory = (contextId: u32) => RootContext;

const factories = new Map<string, RootFactory>();
const roots = new Map<u32, RootContext>();
const https = new Map<u32, HttpContext>();
const networks = new Map<u32, NetworkContext>();

/** Registers the root context for `rootId` (Envoy's root_id). "" matches any root id. */
export function registerRootContext(factory: RootFactory, rootId: string = ''): void {
  factories.set(rootId, factory);
}

function factoryFor(): RootFactory | null {
  if (factories.size == 1) return factories.values()[0];
  const rootId = getPropertyString(['plugin_root_id']);
  if (rootId !== null && factories.has(rootId)) return factories.get(rootId);
  if (factories.has('')) return factories.get('');
  return null;
}

export function createContext(contextId: u32, parentContextId: u32): void {
  if (parentContextId == 0) {
    const factory = factoryFor();
    if (factory === null) return;
    roots.set(contextId, factory(contextId));
    return;
  }
  if (!roots.has(parentContextId)) return;
  // proxy_on_context_create does not say which kind of stream it is: a plugin's root makes one kind.
  const root = roots.get(parentContextId);
  const http = root.createHttpContext(contextId);
  if (http !== null) {
    https.set(contextId, http);
    return;
  }
  const network = root.createNetworkContext(contextId);
  if (network !== null) networks.set(contextId, network);
}

export function rootContext(contextId: u32): RootContext | null {
  return roots.has(contextId) ? roots.get(contextId) : null;
}

export function httpContext(contextId: u32): HttpContext | null {
  return https.has(contextId) ? https.get(contextId) : null;
}

/** The stream `contextId`'s context of the plugin `root` (a composite filter's part of it), or null. */
export function httpContextOf(contextId: u32, root: RootContext): HttpContext | null {
  const http = httpContext(contextId);
  return http === null ? null : http.partOf(root);
}

export function networkContext(contextId: u32): NetworkContext | null {
  return networks.has(contextId) ? networks.get(contextId) : null;
}

export function deleteContext(contextId: u32): void {
  if (https.has(contextId)) {
    https.get(contextId).onDelete();
    https.delete(contextId);
  } else if (networks.has(contextId)) {
    networks.get(contextId).onDelete();
    networks.delete(contextId);
  } else if (roots.has(contextId)) {
    roots.get(contextId).onDelete();
    roots.delete(contextId);
  }
}

/** Live HTTP contexts, for leak checks in tests. */
export function liveHttpContextCount(): i32 {
  return https.size;
}

/** Live network contexts, for leak checks in tests. */
export function liveNetworkContextCount(): i32 {
  return networks.size;
}
