// One phase at a time, for fine-grained tests: each call runs one callback and answers its status.
import { textEncoder, toBytes } from './memory.ts';
import { createStream, endStream, runPhase, type PhaseName } from './phases.ts';
import type { HeaderList, HostState, LocalReply, PropertyValue, StreamState } from './state.ts';
import { headerList, type HeaderInput } from './types.ts';
import type { Vm } from './vm.ts';

export class HttpStream {
  readonly state: StreamState;
  /** The local reply the last callback sent, if any. */
  localReply: LocalReply | null = null;
  /** True when the last callback trapped. */
  failed = false;

  constructor(
    private readonly vm: Vm,
    private readonly host: HostState,
    properties: Record<string, PropertyValue>,
  ) {
    this.state = createStream(vm, host, properties);
  }

  get contextId(): number {
    return this.state.id;
  }
  get requestHeaders(): HeaderList | null {
    return this.state.requestHeaders;
  }
  get responseHeaders(): HeaderList | null {
    return this.state.responseHeaders;
  }
  get requestBody(): Uint8Array | null {
    return this.state.requestBody;
  }
  get responseBody(): Uint8Array | null {
    return this.state.responseBody;
  }
  get routeCacheClears(): number {
    return this.state.routeCacheClears;
  }

  requestHeadersPhase(headers: HeaderInput, endOfStream = false): number {
    this.state.requestHeaders = headerList(headers);
    return this.phase('request_headers', this.state.requestHeaders.length, endOfStream);
  }
  requestBodyPhase(body: string | Uint8Array, endOfStream = true): number {
    const chunk = toBytes(body);
    // A buffered body grows with each chunk, as Envoy's decoding buffer does.
    this.state.requestBody = concat(this.state.requestBody, chunk);
    return this.phase('request_body', this.state.requestBody.length, endOfStream);
  }
  requestTrailersPhase(trailers: HeaderInput): number {
    this.state.requestTrailers = headerList(trailers);
    return this.phase('request_trailers', this.state.requestTrailers.length, true);
  }
  responseHeadersPhase(headers: HeaderInput, endOfStream = false): number {
    this.state.responseHeaders = headerList(headers);
    return this.phase('response_headers', this.state.responseHeaders.length, endOfStream);
  }
  responseBodyPhase(body: string | Uint8Array, endOfStream = true): number {
    this.state.responseBody = concat(this.state.responseBody, toBytes(body));
    return this.phase('response_body', this.state.responseBody.length, endOfStream);
  }
  responseTrailersPhase(trailers: HeaderInput): number {
    this.state.responseTrailers = headerList(trailers);
    return this.phase('response_trailers', this.state.responseTrailers.length, true);
  }
  /** @internal The chain's: a headers callback on this very list (the filter's edits land in it). */
  runHeaders(side: 'request' | 'response', list: HeaderList, endOfStream: boolean): number {
    if (side === 'request') this.state.requestHeaders = this.state.attributes.requestHeaders = list;
    else this.state.responseHeaders = this.state.attributes.responseHeaders = list;
    return this.phase(side === 'request' ? 'request_headers' : 'response_headers', list.length, endOfStream);
  }

  /** @internal The chain's: a body callback with `data` as the buffer; answers the status and the buffer as the filter left it. */
  runBody(side: 'request' | 'response', data: Uint8Array, endOfStream: boolean): { status: number; data: Uint8Array } {
    const key = side === 'request' ? 'requestBody' : 'responseBody';
    this.state[key] = data;
    const status = this.phase(side === 'request' ? 'request_body' : 'response_body', data.length, endOfStream);
    const out = this.state[key] ?? data;
    this.state[key] = null;
    return { status, data: out };
  }

  /** @internal The chain's: a trailers callback on this very list. */
  runTrailers(side: 'request' | 'response', list: HeaderList): number {
    if (side === 'request') this.state.requestTrailers = this.state.attributes.requestTrailers = list;
    else this.state.responseTrailers = this.state.attributes.responseTrailers = list;
    return this.phase(side === 'request' ? 'request_trailers' : 'response_trailers', list.length, true);
  }

  /** @internal Envoy forgets a header (or trailer) map once its filter lets it through. */
  dropMap(side: 'request' | 'response', trailers = false): void {
    if (trailers) {
      if (side === 'request') this.state.requestTrailers = null;
      else this.state.responseTrailers = null;
    } else if (side === 'request') this.state.requestHeaders = null;
    else this.state.responseHeaders = null;
  }

  /** proxy_on_log, proxy_on_done, proxy_on_delete. */
  complete(): void {
    endStream(this.vm, this.host, this.state);
  }

  private phase(name: PhaseName, arg: number, endOfStream: boolean): number {
    const outcome = runPhase(this.vm, this.state, name, arg, endOfStream);
    this.localReply = outcome.localReply;
    this.failed = outcome.failed;
    return outcome.status;
  }
}

function concat(a: Uint8Array | null, b: Uint8Array): Uint8Array {
  if (a === null || a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export const utf8 = textEncoder;
