// Envoy's filter manager for one stream through a chain of filters (each in its own VM), as
// Envoy 1.40 with proxy-wasm-cpp-host iterates them (measured with test/fixtures/rust/probe):
// - headers go through filters in order; a stop holds them, and cpp-host turns a filter's
//   StopIteration into StopAllIterationAndWatermark: data that follows is held at that filter, no
//   body callback runs, until it continues; then the next filters get the headers and the stopped
//   filter itself gets the held data first;
// - a body callback answering StopIterationAndBuffer keeps the data; the next call sees all of it;
// - bodies arrive as frames (HTTP/1: each chunk without end of stream, then an empty end-of-stream frame);
// - a header map is readable only in its own callback and while its filter holds it;
// - a local reply from filter i goes back through the encoders of filters i..0; one sent while
//   encoding replaces the response for the filters still to encode.
import { FAIL_STREAM, isGrpcRequest, localReplyHeaders } from './phases.ts';
import type { Plugin } from './index.ts';
import type { HeaderList, LocalReply } from './state.ts';
import type { HttpStream } from './stream.ts';

export type BodyFrames = 'http1' | 'last-chunk';
type Side = 'request' | 'response';
type Outcome = { kind: 'open' } | { kind: 'local'; reply: LocalReply; filter: number; side: Side } | { kind: 'reset' };

interface Slot {
  filter: number;
  /** Stopped on headers (StopAll): headers and data wait here. */
  stopAll: boolean;
  /** A body callback answered a stop: its data waits here. */
  buffering: boolean;
  headers: HeaderList;
  buffer: Uint8Array | null;
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
  upstreamRequest: { headers: HeaderList; body: Uint8Array } = { headers: [], body: EMPTY };
  /** The request header map (as the filters left it). */
  requestHeaders: HeaderList = [];
  clientResponse: { headers: HeaderList; body: Uint8Array; local: boolean } = { headers: [], body: EMPTY, local: false };
  private side: Side = 'request';
  private slots: Slot[] = [];
  private complete = false;

  constructor(
    private readonly plugins: { name: string; plugin: Plugin }[],
    private readonly streams: HttpStream[],
    private readonly frames: BodyFrames,
    private readonly answerCalls: (plugin: Plugin) => Promise<number>,
  ) {}

  /** The request from the client: headers, then its body chunks. */
  async decode(headers: HeaderList, chunks: Uint8Array[]): Promise<void> {
    this.begin(
      'request',
      this.streams.map((_, i) => i),
    );
    this.requestHeaders = headers;
    this.feed(headers, chunks, this.frames);
    await this.pump();
  }

  /** A response through the encoders of filters `from`..0. */
  async encode(headers: HeaderList, chunks: Uint8Array[], from: number, local: boolean): Promise<void> {
    const order: number[] = [];
    for (let i = from; i >= 0; i--) order.push(i);
    this.begin('response', order);
    this.outcome = { kind: 'open' };
    this.clientResponse = { headers, body: EMPTY, local };
    // request.* attributes follow the request header map: gone once it went upstream (Envoy 1.40).
    for (const stream of this.streams) stream.state.attributes.requestHeaders = stream.state.requestHeaders;
    // Envoy's own replies send the body in one frame that ends the stream.
    this.feed(headers, chunks, local ? 'last-chunk' : this.frames);
    await this.pump();
    const o = this.outcome as Outcome;
    if (o.kind === 'local' && o.side === 'response') {
      this.outcome = { kind: 'open' };
      await this.encodeLocal(o.reply, o.filter - 1);
    }
  }

  encodeLocal(reply: LocalReply, from: number): Promise<void> {
    for (const stream of this.streams) stream.state.properties['response.code_details'] = reply.details;
    const grpc = isGrpcRequest(this.requestHeaders);
    return this.encode(localReplyHeaders(reply, grpc), reply.body.length > 0 && !grpc ? [reply.body] : [], from, true);
  }

  private begin(side: Side, order: number[]): void {
    this.side = side;
    this.complete = false;
    this.slots = order.map((filter) => ({ filter, stopAll: false, buffering: false, headers: [], buffer: null, eos: false }));
  }

  private feed(headers: HeaderList, chunks: Uint8Array[], frames: BodyFrames): void {
    const data = chunks.filter((c) => c.length > 0);
    this.headersAt(0, headers, data.length === 0);
    data.forEach((chunk, n) => this.dataAt(0, chunk, frames === 'last-chunk' && n === data.length - 1));
    if (data.length > 0 && frames === 'http1') this.dataAt(0, EMPTY, true);
  }

  get reset(): boolean {
    return this.outcome.kind === 'reset';
  }
  private get open(): boolean {
    return this.outcome.kind === 'open';
  }

  /** After a callback: a trap, a local reply or a reset ends the normal flow. False when it did. */
  private settled(pos: number): boolean {
    const slot = this.slots[pos]!;
    const stream = this.streams[slot.filter]!;
    if (stream.failed || this.plugins[slot.filter]!.plugin.failed) {
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

  private skipped(filter: number): boolean {
    return this.plugins[filter]!.plugin.failed;
  }

  private record(filter: number, phase: string, status: number): void {
    this.phases.push({ filter: this.plugins[filter]!.name, phase, status });
  }

  private headersAt(pos: number, headers: HeaderList, eos: boolean): void {
    for (let p = pos; p < this.slots.length && this.open; p++) {
      const slot = this.slots[p]!;
      if (this.skipped(slot.filter)) continue;
      const stream = this.streams[slot.filter]!;
      const status = stream.runHeaders(this.side, headers, eos);
      this.record(slot.filter, `${this.side}_headers`, status);
      if (!this.settled(p)) return;
      if (status === 0 || status === 2) {
        stream.dropMap(this.side);
        continue;
      }
      // StopIteration, StopAllIterationAndBuffer/Watermark: cpp-host makes each a StopAll.
      slot.stopAll = true;
      slot.headers = headers;
      slot.eos = eos;
      return;
    }
    if (!this.open) return;
    if (this.side === 'request') this.upstreamRequest = { headers, body: EMPTY };
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
      if (this.skipped(slot.filter)) continue;
      if (slot.buffering) {
        data = concat(slot.buffer, data);
        slot.buffer = null;
      }
      const { status, data: out } = this.streams[slot.filter]!.runBody(this.side, data, eos);
      this.record(slot.filter, `${this.side}_body`, status);
      if (!this.settled(p)) return;
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

  /** The filter at `pos` continued (proxy_continue_stream). */
  private continueAt(pos: number): void {
    const slot = this.slots[pos]!;
    const held = slot.buffer;
    slot.buffer = null;
    if (slot.stopAll) {
      slot.stopAll = false;
      this.headersAt(pos + 1, slot.headers, slot.eos && held === null);
      // The stopped filter itself gets the data held while it stopped (Envoy: CanStartFromCurrent).
      if (held !== null) this.dataAt(pos, held, slot.eos);
    } else if (slot.buffering) {
      slot.buffering = false;
      this.dataAt(pos + 1, held ?? EMPTY, slot.eos);
    }
  }

  /** Until this side completes: applies continues, local replies and resets the filters asked for, answers their http calls, fires their timers. */
  private async pump(): Promise<void> {
    const sideIndex = this.side === 'request' ? 0 : 1;
    for (let spins = 0; this.open && !this.complete; spins++) {
      let progressed = false;
      for (let p = 0; p < this.slots.length && !progressed; p++) {
        const slot = this.slots[p]!;
        const state = this.streams[slot.filter]!.state;
        if (!this.settled(p)) return;
        const waiting = slot.stopAll || slot.buffering;
        if (state.continueRequested[sideIndex] && waiting) {
          state.continueRequested = [false, false];
          this.continueAt(p);
          progressed = true;
        } else if (!waiting) state.continueRequested[sideIndex] = false;
      }
      if (progressed) continue;
      const stopped = this.slots.filter((s) => s.stopAll || s.buffering).map((s) => this.plugins[s.filter]!);
      const calling = this.plugins.find(
        ({ plugin }) => plugin.pendingHttpCalls().length > 0 || plugin.pendingGrpcCalls().some((c) => c.kind === 'call' || c.localClosed),
      );
      if (spins < 1000 && calling !== undefined) {
        await this.answerCalls(calling.plugin);
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
