// Public types of the harness API.
import type { HeaderList, LogEntry, PropertyValue } from './state.ts';

export type { HeaderList, LogEntry, PropertyValue };
export type HeaderInput = Record<string, string> | [string, string][];

export interface UpstreamRequest {
  headers: HeaderList;
  body: Uint8Array;
  bodyText: string;
  trailers: HeaderList;
}
export interface UpstreamResponse {
  status?: number;
  headers?: HeaderInput;
  body?: string | Uint8Array;
  trailers?: HeaderInput;
}

export interface HttpRequestSpec {
  headers: HeaderInput;
  body?: string | Uint8Array;
  trailers?: HeaderInput;
  /** Per-request attributes, e.g. 'source.address', 'connection.uri_san_peer_certificate'. */
  properties?: Record<string, PropertyValue>;
  /**
   * How bodies arrive: `http1` (default, as Envoy's HTTP/1 codec: the data without end of stream, then
   * an empty end-of-stream frame) or `last-chunk` (the data frame ends the stream, as HTTP/2 can).
   */
  bodyFrames?: 'http1' | 'last-chunk';
  /** What the upstream answers; default 200 echoing the request body. */
  upstream?: UpstreamResponse | ((req: UpstreamRequest) => UpstreamResponse);
}

export interface PhaseStatus {
  phase: string;
  status: number;
}

export interface HttpResponse {
  status: number;
  headers: HeaderList;
  body: Uint8Array;
  bodyText: string;
  details?: string;
  local: boolean;
  /** The stream was reset (proxy_close_stream): the client got no response. */
  reset?: boolean;
}

export interface HttpResult {
  contextId: number;
  phases: PhaseStatus[];
  upstreamRequest: UpstreamRequest | null;
  response: HttpResponse;
  routeCacheClears: number;
  logs: LogEntry[];
  /** The filter stopped and has not continued yet; `completion` settles when it does. */
  paused?: boolean;
  completion?: Promise<HttpResult>;
}

export interface PendingHttpCall {
  token: number;
  cluster: string;
  headers: HeaderList;
  body: Uint8Array;
  trailers: HeaderList;
  timeoutMs: number;
  /** The context that asked (the response still goes to the root context, as in Envoy). */
  contextId: number;
}

export interface PendingGrpcCall {
  kind: 'call' | 'stream';
  token: number;
  cluster: string;
  service: string;
  method: string;
  metadata: HeaderList;
  /** The call's request message, or the messages sent on the stream so far. */
  messages: Uint8Array[];
  timeoutMs: number;
  contextId: number;
  /** The filter closed its side (proxy_grpc_close on a stream, or a send with end of stream). */
  localClosed: boolean;
}

/** A unary gRPC answer: status 0 with a message, or a failure status. */
export interface GrpcReply {
  status?: number;
  message?: string | Uint8Array;
  statusMessage?: string;
}
export interface GrpcStreamReply {
  initialMetadata?: HeaderInput;
  messages?: (string | Uint8Array)[];
  trailingMetadata?: HeaderInput;
  /** Closes the stream (proxy_on_grpc_close) with this status. */
  status?: number;
  statusMessage?: string;
}

export function headerList(input: HeaderInput | undefined): HeaderList {
  if (input === undefined) return [];
  const entries = Array.isArray(input) ? input : Object.entries(input);
  const out: HeaderList = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) out[i] = [entries[i]![0].toLowerCase(), entries[i]![1]];
  return out;
}

/** A header list as one map, repeated headers joined with ',' (as Envoy joins them). */
export function joinedHeaders(list: HeaderList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of list) out[k] = k in out ? `${out[k]},${v}` : v;
  return out;
}

/** A response's headers as Envoy delivers them: `:status` first, then the given ones without their own `:status`. */
export function responseHeaderList(status: number, input: HeaderInput | undefined): HeaderList {
  const out: HeaderList = [[':status', String(status)]];
  for (const entry of headerList(input)) if (entry[0] !== ':status') out.push(entry);
  return out;
}
