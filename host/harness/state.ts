// State the host keeps for one plugin (one VM, one root context) and for each HTTP stream.
import type { LogLevelName } from './abi.ts';
import { GuestMemory } from './memory.ts';
import type { PendingGrpcCall, PendingHttpCall } from './types.ts';

export type HeaderList = [string, string][];
export type PropertyValue = string | number | bigint | boolean | Uint8Array | null | PropertyValue[] | { [key: string]: PropertyValue };

export interface LogEntry {
  level: LogLevelName;
  message: string;
  contextId: number;
}

export interface LocalReply {
  status: number;
  body: Uint8Array;
  headers: HeaderList;
  details: string;
  grpcStatus: number | null;
}

/** An http call the filter made, not yet answered (the public shape, kept by the host as is). */
export type HttpCallRecord = PendingHttpCall;

/** A gRPC call or stream the filter opened, not yet closed. */
export type GrpcCallRecord = PendingGrpcCall;

/** What a phase callback sees: the maps and buffers Envoy exposes at that point of the stream. */
export class StreamState {
  requestHeaders: HeaderList | null = null;
  requestTrailers: HeaderList | null = null;
  responseHeaders: HeaderList | null = null;
  responseTrailers: HeaderList | null = null;
  requestBody: Uint8Array | null = null; // only during proxy_on_request_body
  responseBody: Uint8Array | null = null; // only during proxy_on_response_body
  downstreamData: Uint8Array | null = null; // network contexts: only during proxy_on_downstream_data
  upstreamData: Uint8Array | null = null; // network contexts: only during proxy_on_upstream_data
  localReply: LocalReply | null = null; // deferred until the callback returns
  continueRequested: [boolean, boolean] = [false, false]; // request, response
  closeRequested = false;
  /** Network contexts: the filter closed the connection (proxy_close_stream Downstream/Upstream). */
  connectionClosed = false;
  routeCacheClears = 0;
  /** In proxy_on_log: Envoy's maps are then read-only and unsized (size and write calls answer BadArgument). */
  logging = false;
  /** The stream's maps for attributes (request.*, response.*), which outlive their phase. */
  attributes: {
    requestHeaders: HeaderList | null;
    responseHeaders: HeaderList | null;
    requestTrailers: HeaderList | null;
    responseTrailers: HeaderList | null;
  } = { requestHeaders: null, responseHeaders: null, requestTrailers: null, responseTrailers: null };
  filterState = new Map<string, Uint8Array>();
  constructor(
    readonly id: number,
    readonly properties: Record<string, PropertyValue>,
  ) {}
}

/** Everything shared by the plugin's contexts; the import modules read and write it. */
export class HostState {
  readonly mem = new GuestMemory();
  rootId = 1;
  nextContextId = 2;
  currentContextId = 0;
  effectiveContextId = 0;
  streams = new Map<number, StreamState>();
  logs: LogEntry[] = [];
  logLevel = 0; // trace: the harness records everything
  nowNs: bigint;
  tickPeriodMs = 0;
  nextTickMs = 0;
  vmConfig: Uint8Array;
  pluginConfig: Uint8Array;
  clusters: Set<string>;
  pluginProperties: Record<string, PropertyValue>;
  rootFilterState = new Map<string, Uint8Array>();
  doneCalled = new Set<number>();
  /** PluginConfiguration is readable only inside proxy_on_configure (Envoy's temp_plugin_). */
  configuring = false;
  /** Data handed to the guest only while a callback runs (http call response, ...). */
  callResponse: { headers: HeaderList; body: Uint8Array; trailers: HeaderList } | null = null;
  lastStatus: { code: number; message: string } = { code: 0, message: '' };
  pendingCalls = new Map<number, HttpCallRecord>();
  grpcCalls = new Map<number, GrpcCallRecord>();
  /** What a gRPC callback exposes while it runs: metadata maps and the received message. */
  grpcReceive: { initialMetadata: HeaderList | null; trailingMetadata: HeaderList | null; message: Uint8Array | null } | null = null;
  nextHttpToken = 1;
  afterCallback: (() => void)[] = [];
  constructor(opts: {
    vmConfig: Uint8Array;
    pluginConfig: Uint8Array;
    clusters: string[];
    nowMs: number;
    properties: Record<string, PropertyValue>;
  }) {
    this.vmConfig = opts.vmConfig;
    this.pluginConfig = opts.pluginConfig;
    this.clusters = new Set(opts.clusters);
    this.nowNs = BigInt(Math.round(opts.nowMs)) * 1_000_000n;
    this.pluginProperties = opts.properties;
  }

  /** The context host calls act on: the effective context if the guest set one, else the current one. */
  contextId(): number {
    return this.effectiveContextId || this.currentContextId;
  }
  stream(): StreamState | null {
    return this.streams.get(this.contextId()) ?? null;
  }
  nowMs(): number {
    return Number(this.nowNs / 1_000_000n);
  }
}
