// Envoy's filter manager for one stream through a chain of filters (each in its own VM), as
// Envoy 1.40 with proxy-wasm-cpp-host iterates them (measured with test/fixtures/rust/probe). The one
// filter-iteration implementation: the chain (chain.ts) and plugin.http() (one filter, index.ts) run on it.
// - headers go through filters in order; a stop holds them, and cpp-host turns a filter's
//   StopIteration into StopAllIterationAndWatermark: data that follows is held at that filter, no
//   body callback runs, until it continues; then the next filters get the headers and the stopped
//   filter itself gets the held data first;
// - a body callback answering StopIterationAndBuffer keeps the data; the next call sees all of it;
//   trailers still reach that filter, and its continue (or trailers answering Continue) releases both;
// - bodies arrive as frames (HTTP/1: each chunk without end of stream, then an empty end-of-stream
//   frame; with trailers, the trailers end the stream);
// - a header map is readable only in its own callback and while its filter holds it;
// - a local reply from filter i goes back through the encoders of filters i..0; one sent while
//   encoding replaces the response for the filters still to encode;
// - a filter whose VM failed: fail closed (503 wasm_fail_stream) unless its failOpen skips it.
import { FAIL_STREAM, isGrpcRequest, localReplyHeaders } from './phases.ts';
import type { Plugin } from './index.ts';
import type { HeaderList, LocalReply, PropertyValue } from './state.ts';
import type { HttpStream } from './stream.ts';

export type BodyFrames = 'http1' | 'last-chunk';
type Side = 'request' | 'response';
type Outcome = { kind: 'open' } | { kind: 'local'; reply: LocalReply; filter: number; side: Side } | { kind: 'reset' };

/** A filter of the chain: its VM (the worker's) and its failure policy. */
export interface ManagedFilter {
  name: string;
  plugin: Plugin;
  /** Envoy's fail_open: a failed VM's filter is skipped instead of answering 503. */
  failOpen?: boolean;
}

/**
 * What moves a stopped stream on. The chain answers http/gRPC calls from its clusters and fires
 * timers itself; plugin.http() leaves that to the test and waits until a callback may have changed something.
 */
export type Driver =
  { kind: 'clusters'; answerCalls: (plugin: Plugin) => Promise<number> } | { kind: 'test'; waitForCallback: () => Promise<void> };

interface Slot {
  filter: number;
  /** Stopped on headers (StopAll): headers, data and trailers wait here. */
  stopAll: boolean;
  /** A body callback answered a stop: its data waits here. */
  buffering: boolean;
  /** The trailers callback answered a stop. */
  trailersStopped: boolean;
  headers: HeaderList;
  buffer: Uint8Array | null;
  trailers: HeaderList | null;
  /** The stream's end reached this filter. */
  eos: boolean;
}

const EMPTY = new Uint8Array(0);

function concat(a: Uint8Array | null, b: Uint8Array): Uint8Array {
  if (a === null || a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export class FilterManager {
  readonly phases: { filter: string; phase: string; status: number }[] = [];
  outcome: Outcome = { kind: 'open' };
  /** The request as it left the last filter (for the router). */
  upstreamRequest: { headers: HeaderList; body: Uint8Array; trailers: HeaderList | null } = { headers: [], body: EMPTY, trailers: null };
  /** The request header map (as the filters left it). */
  requestHeaders: HeaderList = [];
  clientResponse: { headers: HeaderList; body: Uint8Array; trailers: HeaderList | null; local: boolean } = {
    headers: [],
    body: EMPTY,
    trailers: null,
    local: false,
  };
  /** The last local reply sent to the client (a filter's, the router's or the failure policy's). */
  localReply: LocalReply | null = null;
  private side: Side = 'request';
  private slots: Slot[] = [];
  private complete = false;

  constructor(
    private readonly plugins: ManagedFilter[],
    private readonly streams: HttpStream[],
    private readonly frames: BodyFrames,
    private readonly driver: Driver,
  ) {}

  /** The request from the client: headers, then its body chunks, then its trailers. */
  async decode(headers: HeaderList, chunks: Uint8Array[], trailers: HeaderList | null = null): Promise<void> {
    this.begin(
      'request',
      this.streams.map((_, i) => i),
    );
    this.requestHeaders = headers;
    this.feed(headers, chunks, trailers, this.frames);
    await this.pump();
  }

  /** A response through the encoders of filters `from`..0. */
  async encode(headers: HeaderList, chunks: Uint8Array[], from: number, local: boolean, trailers: HeaderList | null = null): Promise<void> {
    const order: number[] = [];
    for (let i = from; i >= 0; i--) order.push(i);
    this.begin('response', order);
    this.outcome = { kind: 'open' };
    this.clientResponse = { headers, body: EMPTY, trailers: null, local };
    // request.* attributes follow the request header map: gone once it went upstream (Envoy 1.40).
    for (const stream of this.streams) stream.state.attributes.requestHeaders = stream.state.requestHeaders;
    // Envoy's own replies send the body in one frame that ends the stream.
    this.feed(headers, chunks, trailers, local ? 'last-chunk' : this.frames);
    await this.pump();
    const o = this.outcome as Outcome;
    if (o.kind === 'local' && o.side === 'response') {
      this.outcome = { kind: 'open' };
      await this.encodeLocal(o.reply, o.filter - 1);
    }
  }

  encodeLocal(reply: LocalReply, from: number): Promise<void> {
    this.localReply = reply;
    for (const stream of this.streams) {
      stream.state.properties['response.code_details'] = reply.details;
      stream.state.requestBody = stream.state.requestTrailers = null;
    }
    const grpc = isGrpcRequest(this.requestHeaders);
    return this.encode(localReplyHeaders(reply, grpc), reply.body.length > 0 && !grpc ? [reply.body] : [], from, true);
  }

  /**
   * proxy_on_log, proxy_on_done, proxy_on_delete for every filter, also those the request never
   * reached (as Envoy does); in proxy_on_log each sees the stream's final maps and `properties`.
   * Answers the clear_route_cache calls of all filters.
   */
  finish(request: HeaderList, response: HeaderList, properties: Record<string, PropertyValue> = {}): number {
    let routeCacheClears = 0;
    for (const s of this.streams) {
      routeCacheClears += s.routeCacheClears;
      Object.assign(s.state.properties, properties);
      s.state.attributes.requestHeaders = s.state.requestHeaders = request.map(([k, v]) => [k, v]);
      s.state.attributes.responseHeaders = s.state.responseHeaders = response.length > 0 ? response.map(([k, v]) => [k, v]) : null;
      s.complete();
    }
    return routeCacheClears;
  }

  private begin(side: Side, order: number[]): void {
    this.side = side;
    this.complete = false;
    this.slots = order.map((filter) => ({
      filter,
      stopAll: false,
      buffering: false,
      trailersStopped: false,
      headers: [],
      buffer: null,
      trailers: null,
      eos: false,
    }));
  }

  private feed(headers: HeaderList, chunks: Uint8Array[], trailers: HeaderList | null, frames: BodyFrames): void {
    const data = chunks.filter((c) => c.length > 0);
    const endsWithData = trailers === null;
    this.headersAt(0, headers, data.length === 0 && endsWithData);
    data.forEach((chunk, n) => this.dataAt(0, chunk, endsWithData && frames === 'last-chunk' && n === data.length - 1));
    if (data.length > 0 && frames === 'http1' && endsWithData) this.dataAt(0, EMPTY, true);
    if (trailers !== null) this.trailersAt(0, trailers);
  }

  get reset(): boolean {
    return this.outcome.kind === 'reset';
  }
  private get open(): boolean {
    return this.outcome.kind === 'open';
  }

  /** A filter that runs no callbacks: its VM failed and its failure policy is fail open. */
  private skipped(filter: number): boolean {
    return this.plugins[filter]!.plugin.failed && this.plugins[filter]!.failOpen === true;
  }

  /** After a callback: a trap, a local reply or a reset ends the normal flow. False when it did. */
  private settled(pos: number): boolean {
    const slot = this.slots[pos]!;
    const stream = this.streams[slot.filter]!;
    if ((stream.failed || this.plugins[slot.filter]!.plugin.failed) && !this.skipped(slot.filter)) {
      this.outcome = { kind: 'local', reply: FAIL_STREAM, filter: slot.filter, side: this.side };
    } else if ((stream.localReply ?? stream.state.localReply) !== null) {
      const reply = (stream.localReply ?? stream.state.localReply)!;
      stream.localReply = null;
      stream.state.localReply = null;
      this.outcome = { kind: 'local', reply, filter: slot.filter, side: this.side };
    } else if (stream.state.closeRequested) {
      this.outcome = { kind: 'reset' };
    }
    return this.open;
  }

  /** Runs one callback of the filter at `pos`, unless its failed VM answers (fail closed) or is skipped (fail open: Continue). */
  private run(pos: number, phase: string, callback: (stream: HttpStream) => number): number | null {
    const filter = this.slots[pos]!.filter;
    if (this.skipped(filter)) return 0;
    if (this.plugins[filter]!.plugin.failed) {
      this.settled(pos);
      return null;
    }
    const status = callback(this.streams[filter]!);
    // A trapped callback of a fail-open filter counts as Continue.
    const effective = this.skipped(filter) ? 0 : status;
    this.phases.push({ filter: this.plugins[filter]!.name, phase, status });
    return this.settled(pos) ? effective : null;
  }

  private headersAt(pos: number, headers: HeaderList, eos: boolean): void {
    for (let p = pos; p < this.slots.length && this.open; p++) {
      const slot = this.slots[p]!;
      const status = this.run(p, `${this.side}_headers`, (s) => s.runHeaders(this.side, headers, eos));
      if (status === null) return;
      if (status === 0 || status === 2) {
        this.streams[slot.filter]!.dropMap(this.side);
        continue;
      }
      // StopIteration, StopAllIterationAndBuffer/Watermark: cpp-host makes each a StopAll.
      slot.stopAll = true;
      slot.headers = headers;
      slot.eos = eos;
      return;
    }
    if (!this.open) return;
    if (this.side === 'request') this.upstreamRequest = { headers, body: EMPTY, trailers: null };
    else this.clientResponse.headers = headers;
    if (eos) this.complete = true;
  }

  private dataAt(pos: number, data: Uint8Array, eos: boolean): void {
    for (let p = pos; p < this.slots.length && this.open; p++) {
      const slot = this.slots[p]!;
      if (slot.stopAll) {
        slot.buffer = concat(slot.buffer, data);
        slot.eos ||= eos;
        return;
      }
      if (slot.buffering) {
        data = concat(slot.buffer, data);
        slot.buffer = null;
      }
      let out = data;
      const status = this.run(p, `${this.side}_body`, (s) => {
        const r = s.runBody(this.side, data, eos);
        out = r.data;
        return r.status;
      });
      if (status === null) return;
      if (status === 0) {
        slot.buffering = false;
        data = out;
        continue;
      }
      slot.buffering = true;
      slot.buffer = out;
      slot.eos = eos;
      return;
    }
    if (!this.open) return;
    if (this.side === 'request') this.upstreamRequest.body = concat(this.upstreamRequest.body, data);
    else this.clientResponse.body = concat(this.clientResponse.body, data);
    if (eos) this.complete = true;
  }

  private trailersAt(pos: number, trailers: HeaderList): void {
    for (let p = pos; p < this.slots.length && this.open; p++) {
      const slot = this.slots[p]!;
      if (slot.stopAll) {
        slot.trailers = trailers;
        return;
      }
      const status = this.run(p, `${this.side}_trailers`, (s) => s.runTrailers(this.side, trailers));
      if (status === null) return;
      if (status !== 0) {
        slot.trailersStopped = true;
        slot.trailers = trailers;
        return;
      }
      this.streams[slot.filter]!.dropMap(this.side, true);
      // Continue on trailers releases the data the filter buffered, before the trailers.
      if (this.releaseBuffered(p)) return;
    }
    if (!this.open) return;
    if (this.side === 'request') this.upstreamRequest.trailers = trailers;
    else this.clientResponse.trailers = trailers;
    this.complete = true;
  }

  /** Sends on the data the filter at `pos` buffered; true when a later filter stopped it (so trailers wait there). */
  private releaseBuffered(pos: number): boolean {
    const slot = this.slots[pos]!;
    if (!slot.buffering) return false;
    slot.buffering = false;
    const held = slot.buffer ?? EMPTY;
    slot.buffer = null;
    if (held.length === 0) return false;
    this.dataAt(pos + 1, held, false);
    return !this.open || this.slots.slice(pos + 1).some((s) => s.stopAll || s.buffering);
  }

  /** The filter at `pos` continued (proxy_continue_stream). */
  private continueAt(pos: number): void {
    const slot = this.slots[pos]!;
    const trailers = slot.trailers;
    slot.trailers = null;
    if (slot.stopAll) {
      const held = slot.buffer;
      slot.buffer = null;
      slot.stopAll = false;
      this.headersAt(pos + 1, slot.headers, slot.eos && held === null && trailers === null);
      // The stopped filter itself gets the data held while it stopped (Envoy: CanStartFromCurrent).
      if (held !== null) this.dataAt(pos, held, slot.eos);
      if (trailers !== null) this.trailersAt(pos, trailers);
    } else if (slot.trailersStopped) {
      slot.trailersStopped = false;
      if (!this.releaseBuffered(pos)) this.trailersAt(pos + 1, trailers!);
      else this.slots.find((s, i) => i > pos && (s.stopAll || s.buffering))!.trailers = trailers;
    } else if (slot.buffering) {
      slot.buffering = false;
      const held = slot.buffer;
      slot.buffer = null;
      this.dataAt(pos + 1, held ?? EMPTY, slot.eos);
    }
  }

  private waiting(slot: Slot): boolean {
    return slot.stopAll || slot.buffering || slot.trailersStopped;
  }

  /** Until this side completes: applies continues, local replies and resets the filters asked for; the driver answers calls and timers. */
  private async pump(): Promise<void> {
    const sideIndex = this.side === 'request' ? 0 : 1;
    for (let spins = 0; this.open && !this.complete; spins++) {
      let progressed = false;
      for (let p = 0; p < this.slots.length && !progressed; p++) {
        const slot = this.slots[p]!;
        const state = this.streams[slot.filter]!.state;
        if (!this.waiting(slot)) {
          // A root callback may have answered for this stream (local reply, close) or failed its VM.
          if (!this.settled(p)) return;
          state.continueRequested[sideIndex] = false;
          continue;
        }
        if (this.skipped(slot.filter)) {
          // Its VM failed while it held the stream; fail open lets the stream go on.
          this.continueAt(p);
          progressed = true;
        } else if (!this.settled(p)) {
          return;
        } else if (state.continueRequested[sideIndex]) {
          state.continueRequested = [false, false];
          this.continueAt(p);
          progressed = true;
        }
      }
      if (progressed) continue;
      if (this.driver.kind === 'test') {
        await this.driver.waitForCallback();
        continue;
      }
      const stopped = this.slots.filter((s) => this.waiting(s)).map((s) => this.plugins[s.filter]!);
      const calling = this.plugins.find(
        ({ plugin }) => plugin.pendingHttpCalls().length > 0 || plugin.pendingGrpcCalls().some((c) => c.kind === 'call' || c.localClosed),
      );
      if (spins < 1000 && calling !== undefined) {
        await this.driver.answerCalls(calling.plugin);
        continue;
      }
      const ticking = stopped.find(({ plugin }) => plugin.tickPeriodMs > 0);
      if (spins < 1000 && ticking !== undefined) {
        await ticking.plugin.tick();
        continue;
      }
      const who = stopped[0]?.name ?? 'a filter';
      throw new Error(
        `harness: ${who} stopped the stream (${this.side}) and nothing is pending that could continue it (no http call, no timer)`,
      );
    }
  }
}
