// Runs one stream callback with the maps and buffers Envoy exposes in that phase, and turns a
// trap into Envoy's failure policy.
import type { HostState, LocalReply } from './state.ts';
import { StreamState } from './state.ts';
import type { Vm } from './vm.ts';
import { VmFailure } from './vm.ts';

export type PhaseName =
  'request_headers' | 'request_body' | 'request_trailers' | 'response_headers' | 'response_body' | 'response_trailers';

export interface PhaseOutcome {
  status: number;
  localReply: LocalReply | null;
  failed: boolean;
}

const EXPORTS: Record<PhaseName, string> = {
  request_headers: 'proxy_on_request_headers',
  request_body: 'proxy_on_request_body',
  request_trailers: 'proxy_on_request_trailers',
  response_headers: 'proxy_on_response_headers',
  response_body: 'proxy_on_response_body',
  response_trailers: 'proxy_on_response_trailers',
};

/** Trailer callbacks take the trailer count only (no end_of_stream). */
const TRAILERS = new Set<PhaseName>(['request_trailers', 'response_trailers']);

/** Calls the phase's export. `arg` is the header count or body size. */
export function runPhase(vm: Vm, stream: StreamState, phase: PhaseName, arg: number, endOfStream: boolean): PhaseOutcome {
  stream.localReply = null;
  try {
    const status =
      (TRAILERS.has(phase) ? vm.call(EXPORTS[phase], stream.id, arg) : vm.call(EXPORTS[phase], stream.id, arg, endOfStream ? 1 : 0)) ?? 0;
    const localReply = stream.localReply;
    stream.localReply = null;
    return { status, localReply, failed: false };
  } catch (error) {
    if (error instanceof VmFailure) return { status: 0, localReply: null, failed: true };
    throw error;
  }
}

/**
 * Envoy's sendLocalReply headers as the encoders see them: :status, then content-length and
 * content-type text/plain when there is a body (a content-type of the filter's own replaces it), then
 * the filter's. An empty body has no content-length here (measured: the map is `:status` alone).
 */
export function localReplyHeaders(reply: LocalReply, grpcRequest = false): [string, string][] {
  if (grpcRequest) return grpcReplyHeaders(reply);
  const headers: [string, string][] = [[':status', String(reply.status)]];
  const own = reply.headers.find(([k]) => k === 'content-type');
  if (reply.body.length > 0) headers.push(['content-length', String(reply.body.length)], ['content-type', own?.[1] ?? 'text/plain']);
  return [...headers, ...reply.headers.filter(([k]) => !(reply.body.length > 0 && k === 'content-type'))];
}

/** Envoy's gRPC status for an HTTP status (Grpc::Utility::httpToGrpcStatus). */
export function grpcStatusOf(http: number): number {
  const map: Record<number, number> = { 400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14 };
  return map[http] ?? 2;
}

/** A request is gRPC when its content-type is application/grpc (Envoy's Grpc::Common::isGrpcRequestHeaders). */
export function isGrpcRequest(headers: [string, string][]): boolean {
  const type = headers.find(([k]) => k === 'content-type')?.[1] ?? '';
  return type === 'application/grpc' || type.startsWith('application/grpc+') || type.startsWith('application/grpc;');
}

/**
 * A local reply to a gRPC request: 200, gRPC content type, grpc-status (the filter's, else the HTTP
 * status mapped), grpc-message = the body, and no body (measured in Envoy 1.40).
 */
function grpcReplyHeaders(reply: LocalReply): [string, string][] {
  const headers: [string, string][] = [
    [':status', '200'],
    ['content-type', 'application/grpc'],
    ['grpc-status', String(reply.grpcStatus ?? grpcStatusOf(reply.status))],
  ];
  if (reply.body.length > 0) headers.push(['grpc-message', Buffer.from(reply.body).toString('utf8')]);
  return [...headers, ...reply.headers.filter(([k]) => k !== 'content-type')];
}

/** Envoy's fail-closed answer when the VM trapped or failed: 503, no body, details wasm_fail_stream. */
export const FAIL_STREAM: LocalReply = { status: 503, body: new Uint8Array(0), headers: [], details: 'wasm_fail_stream', grpcStatus: 14 };

export function createStream(vm: Vm, host: HostState, properties: StreamState['properties']): StreamState {
  const stream = new StreamState(host.nextContextId++, properties);
  host.streams.set(stream.id, stream);
  if (vm.failed) return stream;
  try {
    vm.call('proxy_on_context_create', stream.id, host.rootId);
  } catch (error) {
    if (!(error instanceof VmFailure)) throw error;
  }
  return stream;
}

/** proxy_on_log, proxy_on_done, proxy_on_delete (Envoy logs before it destroys the filter). */
export function endStream(vm: Vm, host: HostState, stream: StreamState): void {
  try {
    if (vm.failed) return;
    host.streams.set(stream.id, stream); // still visible to its own final callbacks
    stream.logging = true;
    vm.call('proxy_on_log', stream.id);
    const done = vm.call('proxy_on_done', stream.id);
    // on_done answering false defers deletion until proxy_done; the harness deletes anyway and records it.
    if (done === 0)
      host.logs.push({
        level: 'trace',
        message: `harness: context ${stream.id} deferred its deletion (proxy_on_done returned false)`,
        contextId: stream.id,
      });
    vm.call('proxy_on_delete', stream.id);
  } catch (error) {
    if (!(error instanceof VmFailure)) throw error;
  } finally {
    host.streams.delete(stream.id);
  }
}
