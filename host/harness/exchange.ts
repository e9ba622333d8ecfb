// Drives one request through every phase the way Envoy's filter chain would, including pauses
// (a stop answered by a later proxy_continue_stream), local replies and the failure policy.
import { DataStatus, HeadersStatus } from './abi.ts';
import { textDecoder, toBytes } from './memory.ts';
import type { PhaseName, PhaseOutcome } from './phases.ts';
import { FAIL_STREAM, createStream, endStream, localReplyHeaders, runPhase } from './phases.ts';
import type { HostState, LocalReply, StreamState } from './state.ts';
import type { HttpRequestSpec, HttpResult, PhaseStatus, UpstreamRequest, UpstreamResponse } from './types.ts';
import { headerList } from './types.ts';
import type { Vm } from './vm.ts';

type Step = 'request_headers' | 'request_body' | 'request_trailers' | 'upstream' | 'response_headers' | 'response_body' | 'response_trailers' | 'end';
const STEPS: Step[] = ['request_headers', 'request_body', 'request_trailers', 'upstream', 'response_headers', 'response_body', 'response_trailers', 'end'];

export class Exchange {
  readonly stream: StreamState;
  private step = 0;
  private waiting: 'request' | 'response' | null = null;
  private held = false; // a stop answered earlier on this side that no later Continue released
  private bypass = false; // fail-open after a trap: the filter is skipped from then on
  private phases: PhaseStatus[] = [];
  private upstreamRequest: UpstreamRequest | null = null;
  private response: HttpResult['response'] | null = null;
  private requestBody: Uint8Array | null;
  private responseBody: Uint8Array | null = null;
  private responseTrailers: [string, string][] | null = null;
  private readonly logStart: number;
  private finished = false;
  private resolveCompletion!: (r: HttpResult) => void;
  readonly completion = new Promise<HttpResult>((resolve) => { this.resolveCompletion = resolve; });

  constructor(private readonly vm: Vm, private readonly host: HostState, private readonly spec: HttpRequestSpec,
    private readonly failOpen: boolean, private readonly onFinish: (e: Exchange) => void) {
    this.logStart = host.logs.length;
    this.stream = createStream(vm, host, spec.properties ?? {});
    this.requestBody = spec.body === undefined ? null : toBytes(spec.body);
    if (vm.failed && !failOpen) this.reply(FAIL_STREAM, false);
    if (vm.failed) this.bypass = true;
  }

  get paused(): boolean { return this.waiting !== null; }

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
      const reply = stream.localReply; stream.localReply = null;
      this.reply(reply, this.waiting === 'request' || this.step <= STEPS.indexOf('upstream'));
      return;
    }
    if (stream.closeRequested) { this.reset(); return; }
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
    this.bypass = true; this.waiting = null; this.held = false;
    this.advance();
  }

  private run(step: Step): void {
    const { stream, spec } = this;
    switch (step) {
      case 'request_headers': {
        stream.requestHeaders = headerList(spec.headers);
        const eos = this.requestBody === null && spec.trailers === undefined;
        return this.phase('request_headers', stream.requestHeaders.length, eos, 'request');
      }
      case 'request_body': {
        if (this.requestBody === null) return;
        stream.requestBody = this.requestBody;
        return this.phase('request_body', this.requestBody.length, spec.trailers === undefined, 'request');
      }
      case 'request_trailers': {
        if (spec.trailers === undefined) return;
        stream.requestTrailers = headerList(spec.trailers);
        return this.phase('request_trailers', stream.requestTrailers.length, true, 'request');
      }
      case 'upstream': {
        if (this.held) { this.waiting = 'request'; this.step--; this.held = false; return; }
        return this.callUpstream();
      }
      case 'response_headers': {
        const eos = this.responseBody === null && this.responseTrailers === null;
        return this.phase('response_headers', stream.responseHeaders!.length, eos, 'response');
      }
      case 'response_body': {
        if (this.responseBody === null) return;
        stream.responseBody = this.responseBody;
        return this.phase('response_body', this.responseBody.length, this.responseTrailers === null, 'response');
      }
      case 'response_trailers': {
        if (this.responseTrailers === null) return;
        stream.responseTrailers = this.responseTrailers;
        return this.phase('response_trailers', this.responseTrailers.length, true, 'response');
      }
      case 'end': {
        if (this.held) { this.waiting = 'response'; this.step--; this.held = false; return; }
        this.response = {
          status: Number(stream.responseHeaders?.find(([k]) => k === ':status')?.[1] ?? 0),
          headers: stream.responseHeaders ?? [], body: stream.responseBody ?? new Uint8Array(0),
          bodyText: '', local: false,
        };
        return this.finish();
      }
    }
  }

  private phase(name: PhaseName, arg: number, endOfStream: boolean, side: 'request' | 'response'): void {
    if (this.bypass) return;
    const outcome: PhaseOutcome = runPhase(this.vm, this.stream, name, arg, endOfStream);
    this.phases.push({ phase: name, status: outcome.status });
    if (outcome.failed) {
      if (this.failOpen) { this.bypass = true; this.held = false; return; }
      return this.reply(FAIL_STREAM, false);
    }
    if (outcome.localReply !== null) return this.reply(outcome.localReply, side === 'request');
    if (this.stream.closeRequested) return this.reset();
    const stopAll = name.endsWith('headers') && (outcome.status === HeadersStatus.StopAllIterationAndBuffer || outcome.status === HeadersStatus.StopAllIterationAndWatermark);
    if (outcome.status === HeadersStatus.Continue || outcome.status === HeadersStatus.ContinueAndEndStream && name.endsWith('headers')) {
      this.held = false;
      return;
    }
    // A continue requested inside the same callback releases the stop at once.
    if (this.stream.continueRequested[side === 'request' ? 0 : 1]) { this.stream.continueRequested = [false, false]; this.held = false; return; }
    if (stopAll || endOfStream) { this.waiting = side; this.held = false; return; }
    // StopIteration with more data to come: Envoy keeps delivering it (buffering bodies).
    this.held = true;
    if (name.endsWith('body') && outcome.status === DataStatus.StopIterationNoBuffer) this.held = true;
  }

  private callUpstream(): void {
    const { stream, spec } = this;
    this.upstreamRequest = {
      headers: stream.requestHeaders!.map(([k, v]) => [k, v]),
      body: stream.requestBody ?? new Uint8Array(0),
      bodyText: textDecoder.decode(stream.requestBody ?? new Uint8Array(0)),
      trailers: stream.requestTrailers ?? [],
    };
    stream.requestBody = null;
    const answer: UpstreamResponse = typeof spec.upstream === 'function' ? spec.upstream(this.upstreamRequest)
      : spec.upstream ?? { status: 200, headers: { 'content-type': 'text/plain' }, body: this.upstreamRequest.body };
    const headers = headerList(answer.headers).filter(([k]) => k !== ':status');
    stream.responseHeaders = [[':status', String(answer.status ?? 200)], ...headers];
    this.responseBody = answer.body === undefined || toBytes(answer.body).length === 0 ? null : toBytes(answer.body);
    this.responseTrailers = answer.trailers === undefined ? null : headerList(answer.trailers);
  }

  /** Sends a local reply. From the request path it still passes through this filter's encoder callbacks, as in Envoy. */
  private reply(reply: LocalReply, viaEncoder: boolean): void {
    const { stream } = this;
    stream.responseHeaders = localReplyHeaders(reply);
    stream.responseBody = reply.body.length > 0 ? reply.body : null;
    stream.requestBody = null;
    if (viaEncoder && !this.vm.failed && !this.bypass) {
      const headersOutcome = runPhase(this.vm, stream, 'response_headers', stream.responseHeaders.length, stream.responseBody === null);
      this.phases.push({ phase: 'response_headers', status: headersOutcome.status });
      if (stream.responseBody !== null && !headersOutcome.failed) {
        const bodyOutcome = runPhase(this.vm, stream, 'response_body', stream.responseBody.length, true);
        this.phases.push({ phase: 'response_body', status: bodyOutcome.status });
      }
    }
    this.response = {
      status: reply.status, headers: stream.responseHeaders, body: stream.responseBody ?? new Uint8Array(0), bodyText: '',
      details: reply.details, local: true,
    };
    this.finish();
  }

  private reset(): void {
    this.response = { status: 0, headers: [], body: new Uint8Array(0), bodyText: '', local: false, reset: true };
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
      contextId: this.stream.id, phases: this.phases, upstreamRequest: this.upstreamRequest, response,
      routeCacheClears: this.stream.routeCacheClears, logs: this.host.logs.slice(this.logStart),
    };
    if (!this.finished) { result.paused = true; result.completion = this.completion; }
    return result;
  }
}
