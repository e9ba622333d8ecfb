// Drives one request through every phase the way Envoy's filter chain would, including pauses
// (a stop answered by a later proxy_continue_stream), local replies and the failure policy.
import { HeadersStatus } from './abi.ts';
import { textDecoder, toBytes } from './memory.ts';
import type { PhaseName, PhaseOutcome } from './phases.ts';
import { FAIL_STREAM, createStream, endStream, isGrpcRequest, localReplyHeaders, runPhase } from './phases.ts';
import type { HeaderList, HostState, LocalReply, StreamState } from './state.ts';
import type { HttpRequestSpec, HttpResult, PhaseStatus, UpstreamRequest, UpstreamResponse } from './types.ts';
import { headerList, responseHeaderList } from './types.ts';
import type { Vm } from './vm.ts';
import type { BodyFrames } from './filter-manager.ts';

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

type Step =
  | 'request_headers'
  | 'request_body'
  | 'request_body_end'
  | 'request_trailers'
  | 'upstream'
  | 'response_headers'
  | 'response_body'
  | 'response_body_end'
  | 'response_trailers'
  | 'end';
/** The StreamState field holding each phase's map or buffer. */
const PHASE_FIELD: Record<
  PhaseName,
  'requestHeaders' | 'requestBody' | 'requestTrailers' | 'responseHeaders' | 'responseBody' | 'responseTrailers'
> = {
  request_headers: 'requestHeaders',
  request_body: 'requestBody',
  request_trailers: 'requestTrailers',
  response_headers: 'responseHeaders',
  response_body: 'responseBody',
  response_trailers: 'responseTrailers',
};
/** A body Envoy delivers: present and not empty. */
function body(bytes: Uint8Array | null): boolean {
  return bytes !== null && bytes.length > 0;
}
const STEPS: Step[] = [
  'request_headers',
  'request_body',
  'request_body_end',
  'request_trailers',
  'upstream',
  'response_headers',
  'response_body',
  'response_body_end',
  'response_trailers',
  'end',
];
const EMPTY = new Uint8Array(0);
const UPSTREAM_STEP = STEPS.indexOf('upstream');

export class Exchange {
  readonly stream: StreamState;
  private step = 0;
  private waiting: 'request' | 'response' | null = null;
  private held = false; // a stop answered earlier on this side that no later Continue released
  private buffering = false; // the last body callback kept its data (StopIterationAndBuffer)
  private heldHeaders = false; // this side's headers were stopped: its body arrived meanwhile
  private bypass = false; // fail-open after a trap: the filter is skipped from then on
  private phases: PhaseStatus[] = [];
  private upstreamRequest: UpstreamRequest | null = null;
  private response: HttpResult['response'] | null = null;
  /** The request and response as they travel, whichever maps Envoy currently exposes to the filter. */
  private readonly data: {
    requestHeaders: HeaderList;
    requestBody: Uint8Array | null;
    requestTrailers: HeaderList | null;
    responseHeaders: HeaderList;
    responseBody: Uint8Array | null;
    responseTrailers: HeaderList | null;
  };
  private readonly logStart: number;
  private finished = false;
  private resolveCompletion!: (r: HttpResult) => void;
  readonly completion = new Promise<HttpResult>((resolve) => {
    this.resolveCompletion = resolve;
  });

  constructor(
    private readonly vm: Vm,
    private readonly host: HostState,
    private readonly spec: HttpRequestSpec,
    private readonly failOpen: boolean,
    private readonly onFinish: (e: Exchange) => void,
    private readonly frames: BodyFrames = 'http1',
  ) {
    this.logStart = host.logs.length;
    this.stream = createStream(vm, host, spec.properties ?? {});
    this.data = {
      requestHeaders: headerList(spec.headers),
      requestBody: spec.body === undefined ? null : toBytes(spec.body),
      requestTrailers: spec.trailers === undefined ? null : headerList(spec.trailers),
      responseHeaders: [],
      responseBody: null,
      responseTrailers: null,
    };
    if (vm.failed && !failOpen) this.reply(FAIL_STREAM, false);
    if (vm.failed) this.bypass = true;
  }

  get paused(): boolean {
    return this.waiting !== null;
  }

  /** Runs steps until the stream ends or the filter stops it. */
  advance(): void {
    while (!this.finished && this.waiting === null) {
      const step = STEPS[this.step++]!;
      this.run(step);
    }
  }

  /** Called after any callback: applies a continue, close or local reply aimed at this paused stream. */
  poke(): void {
    if (this.finished) return;
    const { stream } = this;
    if (stream.localReply !== null) {
      const reply = stream.localReply;
      stream.localReply = null;
      this.reply(reply, this.waiting === 'request' || this.step <= UPSTREAM_STEP);
      return;
    }
    if (stream.closeRequested) {
      this.reset();
      return;
    }
    const side = this.waiting === 'request' ? 0 : 1;
    if (this.waiting !== null && stream.continueRequested[side]) {
      stream.continueRequested = [false, false];
      this.waiting = null;
      this.held = false;
      this.advance();
    }
  }

  /** The VM failed while this stream waited: Envoy's failure policy applies. */
  failStream(): void {
    if (this.finished) return;
    if (!this.failOpen) return this.reply(FAIL_STREAM, false);
    this.bypass = true;
    this.waiting = null;
    this.held = false;
    this.advance();
  }

  private run(step: Step): void {
    const { stream, data } = this;
    switch (step) {
      case 'request_headers':
        this.heldHeaders = false;
        stream.requestHeaders = stream.attributes.requestHeaders = data.requestHeaders;
        return this.phase(
          'request_headers',
          data.requestHeaders.length,
          !body(data.requestBody) && data.requestTrailers === null,
          'request',
        );
      case 'request_body':
        if (!body(data.requestBody)) return;
        stream.requestBody = data.requestBody;
        return this.phase('request_body', data.requestBody!.length, this.lastFrameEnds(data.requestTrailers), 'request');
      case 'request_body_end':
        if (!body(data.requestBody) || this.lastFrameEnds(data.requestTrailers) || data.requestTrailers !== null) return;
        return this.endFrame('request_body', 'request');
      case 'request_trailers':
        if (data.requestTrailers === null) return;
        stream.requestTrailers = stream.attributes.requestTrailers = data.requestTrailers;
        return this.phase('request_trailers', data.requestTrailers.length, true, 'request');
      case 'upstream':
        if (this.held) {
          this.waiting = 'request';
          this.step--;
          this.held = false;
          return;
        }
        return this.callUpstream();
      case 'response_headers':
        this.heldHeaders = false;
        this.buffering = false;
        stream.responseHeaders = stream.attributes.responseHeaders = data.responseHeaders;
        return this.phase(
          'response_headers',
          data.responseHeaders.length,
          !body(data.responseBody) && data.responseTrailers === null,
          'response',
        );
      case 'response_body':
        if (!body(data.responseBody)) return;
        stream.responseBody = data.responseBody;
        return this.phase('response_body', data.responseBody!.length, this.lastFrameEnds(data.responseTrailers), 'response');
      case 'response_body_end':
        if (!body(data.responseBody) || this.lastFrameEnds(data.responseTrailers) || data.responseTrailers !== null) return;
        return this.endFrame('response_body', 'response');
      case 'response_trailers':
        if (data.responseTrailers === null) return;
        stream.responseTrailers = stream.attributes.responseTrailers = data.responseTrailers;
        return this.phase('response_trailers', data.responseTrailers.length, true, 'response');
      case 'end':
        if (this.held) {
          this.waiting = 'response';
          this.step--;
          this.held = false;
          return;
        }
        this.response = {
          status: Number(data.responseHeaders.find(([k]) => k === ':status')?.[1] ?? 0),
          headers: data.responseHeaders,
          body: data.responseBody ?? new Uint8Array(0),
          bodyText: '',
          local: false,
        };
        return this.finish();
    }
  }

  /**
   * Whether the body's one data frame ends the stream: no trailers follow, and frames are not HTTP/1's
   * (data, then an empty end) or the whole body arrived while the filter held the headers (Envoy
   * then hands it over in one frame with the end of stream).
   */
  private lastFrameEnds(trailers: HeaderList | null): boolean {
    return trailers === null && (this.frames === 'last-chunk' || this.heldHeaders);
  }

  /** HTTP/1's empty end-of-stream frame: the buffer holds what the filter kept, else nothing (what it adds is appended). */
  private endFrame(name: 'request_body' | 'response_body', side: 'request' | 'response'): void {
    const { stream, data } = this;
    const key = side === 'request' ? 'requestBody' : 'responseBody';
    const kept = this.buffering;
    const before = data[key]!;
    stream[key] = kept ? before : EMPTY;
    this.phase(name, stream[key]!.length, true, side, kept ? null : before);
  }

  private phase(
    name: PhaseName,
    arg: number,
    endOfStream: boolean,
    side: 'request' | 'response',
    appendTo: Uint8Array | null = null,
  ): void {
    if (this.bypass) return;
    const { stream, data } = this;
    const outcome: PhaseOutcome = runPhase(this.vm, stream, name, arg, endOfStream);
    this.phases.push({ phase: name, status: outcome.status });
    // The filter may have replaced the body buffer (or, in an end frame after a Continue, added to it).
    const key = name === 'request_body' ? 'requestBody' : name === 'response_body' ? 'responseBody' : null;
    if (key !== null && stream[key] !== null) data[key] = appendTo === null ? stream[key] : concatBytes(appendTo, stream[key]!);
    if (key !== null) this.buffering = outcome.status !== 0 && !endOfStream;
    if (outcome.failed) {
      if (this.failOpen) {
        this.bypass = true;
        this.held = false;
        return;
      }
      return this.reply(FAIL_STREAM, false);
    }
    if (outcome.localReply !== null) return this.reply(outcome.localReply, side === 'request');
    if (stream.closeRequested) return this.reset();
    const isHeaders = name.endsWith('headers');
    if (outcome.status === HeadersStatus.Continue || (isHeaders && outcome.status === HeadersStatus.ContinueAndEndStream)) {
      // Envoy forgets a phase's map once the filter lets it continue.
      stream[PHASE_FIELD[name]] = null;
      this.held = false;
      return;
    }
    // A continue requested inside the same callback releases the stop at once.
    if (stream.continueRequested[side === 'request' ? 0 : 1]) {
      stream.continueRequested = [false, false];
      this.held = false;
      return;
    }
    // cpp-host turns StopIteration on headers into StopAllIterationAndWatermark: nothing more is
    // delivered until the filter continues (measured, test/scenarios/rust.scenarios.ts).
    if (isHeaders) this.heldHeaders = true;
    if (isHeaders || endOfStream) {
      this.waiting = side;
      this.held = false;
      return;
    }
    // A body stop with more data to come: Envoy keeps delivering data and holds what it has.
    this.held = true;
  }

  private callUpstream(): void {
    const { stream, spec, data } = this;
    const sentBody = data.requestBody ?? new Uint8Array(0);
    this.upstreamRequest = {
      headers: data.requestHeaders.map(([k, v]) => [k, v]),
      body: sentBody,
      bodyText: textDecoder.decode(sentBody),
      trailers: data.requestTrailers ?? [],
    };
    stream.requestHeaders = stream.requestBody = stream.requestTrailers = null;
    const answer: UpstreamResponse =
      typeof spec.upstream === 'function'
        ? spec.upstream(this.upstreamRequest)
        : (spec.upstream ?? { status: 200, headers: { 'content-type': 'text/plain' }, body: sentBody });
    data.responseHeaders = responseHeaderList(answer.status ?? 200, answer.headers);
    data.responseBody = answer.body === undefined ? null : toBytes(answer.body);
    data.responseTrailers = answer.trailers === undefined ? null : headerList(answer.trailers);
  }

  /** Sends a local reply. From the request path it still passes through this filter's encoder callbacks, as in Envoy. */
  private reply(reply: LocalReply, viaEncoder: boolean): void {
    const { stream } = this;
    // The replying filter still reads the request headers in its encoder callbacks (measured in Envoy 1.40).
    stream.requestBody = stream.requestTrailers = null;
    const grpc = isGrpcRequest(this.data.requestHeaders);
    const headers = localReplyHeaders(reply, grpc);
    stream.responseHeaders = stream.attributes.responseHeaders = headers;
    stream.responseBody = reply.body.length > 0 && !grpc ? reply.body : null;
    if (viaEncoder && !this.vm.failed && !this.bypass) {
      const headersOutcome = runPhase(this.vm, stream, 'response_headers', stream.responseHeaders.length, stream.responseBody === null);
      this.phases.push({ phase: 'response_headers', status: headersOutcome.status });
      if (stream.responseBody !== null && !headersOutcome.failed) {
        const bodyOutcome = runPhase(this.vm, stream, 'response_body', stream.responseBody.length, true);
        this.phases.push({ phase: 'response_body', status: bodyOutcome.status });
      }
    }
    this.response = {
      status: reply.status,
      headers,
      body: stream.responseBody ?? new Uint8Array(0),
      bodyText: '',
      details: reply.details,
      local: true,
    };
    this.finish();
  }

  private reset(): void {
    this.response = {
      status: 0,
      headers: [],
      body: new Uint8Array(0),
      bodyText: '',
      details: 'wasm_fail_stream',
      local: false,
      reset: true,
    };
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.waiting = null;
    endStream(this.vm, this.host, this.stream);
    this.onFinish(this);
    this.resolveCompletion(this.result());
  }

  result(): HttpResult {
    const response = this.response ?? { status: 0, headers: [], body: new Uint8Array(0), bodyText: '', local: false };
    response.bodyText = textDecoder.decode(response.body);
    const result: HttpResult = {
      contextId: this.stream.id,
      phases: this.phases,
      upstreamRequest: this.upstreamRequest,
      response,
      routeCacheClears: this.stream.routeCacheClears,
      logs: this.host.logs.slice(this.logStart),
    };
    if (!this.finished) {
      result.paused = true;
      result.completion = this.completion;
    }
    return result;
  }
}
