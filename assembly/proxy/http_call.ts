// HTTP callouts: the host sends a request to an Envoy cluster and later calls
// proxy_on_http_call_response on the root context with the call's token.
import { proxy_http_call } from './hostcalls';
import { BufferType, WasmResult } from './enums';
import { RETURN_U64 } from './memory';
import { Pair, encodePairs } from './pairs';
import { getBufferBytes } from './buffers';
import { httpCallResponseHeaders, httpCallResponseTrailers } from './headers';

/** The response to a callout. `failed` when the host reports no response (reset, timeout, no cluster). */
export class HttpCallResponse {
  constructor(
    public readonly token: u32,
    public readonly headerCount: u32,
    public readonly bodySize: u32,
    public readonly trailerCount: u32,
  ) {}

  get failed(): bool {
    return this.headerCount == 0 && this.bodySize == 0 && this.trailerCount == 0;
  }

  /** `:status` as a number, 0 when missing or not numeric. */
  status(): u32 {
    const status = httpCallResponseHeaders.get(':status');
    if (status === null) return 0;
    const parsed = I32.parseInt(status, 10);
    return isNaN(parsed) || parsed < 0 ? 0 : <u32>parsed;
  }

  headers(): Pair[] {
    return httpCallResponseHeaders.pairs();
  }

  header(name: string): string | null {
    return httpCallResponseHeaders.get(name);
  }

  trailers(): Pair[] {
    return httpCallResponseTrailers.pairs();
  }

  body(): ArrayBuffer {
    const bytes = getBufferBytes(BufferType.HttpCallResponseBody, 0, this.bodySize);
    return bytes === null ? new ArrayBuffer(0) : bytes;
  }
}

/** Receives a callout's response. `contextId` (if not 0) becomes the effective context first. */
export abstract class HttpCallHandler {
  contextId: u32 = 0;
  abstract onResponse(response: HttpCallResponse): void;
}

const pendingCalls = new Map<u32, HttpCallHandler>();

/**
 * Starts a callout to `cluster`. Headers must include :method, :path and :authority.
 * Returns the token, or u32.MAX_VALUE when the host refused (the handler is not kept then).
 */
export function httpCall(
  cluster: string,
  headers: Pair[],
  body: ArrayBuffer,
  trailers: Pair[],
  timeoutMs: u32,
  handler: HttpCallHandler,
): u32 {
  const clusterBytes = String.UTF8.encode(cluster);
  const headerBytes = encodePairs(headers);
  const trailerBytes = encodePairs(trailers);
  store<u32>(RETURN_U64, 0);
  const result = proxy_http_call(
    changetype<usize>(clusterBytes),
    clusterBytes.byteLength,
    changetype<usize>(headerBytes),
    headerBytes.byteLength,
    changetype<usize>(body),
    body.byteLength,
    changetype<usize>(trailerBytes),
    trailerBytes.byteLength,
    timeoutMs,
    RETURN_U64,
  );
  if (result != WasmResult.Ok) return u32.MAX_VALUE;
  const token = load<u32>(RETURN_U64);
  pendingCalls.set(token, handler);
  return token;
}

/** Number of callouts waiting for a response (for tests and leak checks). */
export function pendingHttpCallCount(): i32 {
  return pendingCalls.size;
}

/** Takes the handler of a finished call; null when unknown. */
export function takeHttpCallHandler(token: u32): HttpCallHandler | null {
  if (!pendingCalls.has(token)) return null;
  const handler = pendingCalls.get(token);
  pendingCalls.delete(token);
  return handler;
}
