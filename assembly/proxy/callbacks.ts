// The callbacks a filter chooses: proxy-wasm-cpp-host (Envoy) does not call into the VM for one the module
// does not export (a headers callback then continues, a body or trailers callback continues, on_done is
// true, on_log does nothing), so a filter exports only those it implements and saves a VM call per event.
// A filter's index.ts names them:
//   export * from '../../assembly/proxy/entry';
//   export { proxy_on_request_headers } from '../../assembly/proxy/callbacks';
// scripts/check-imports.ts (host/wasm/filter-exports.ts) fails when a filter implements a callback it does not export.
// Each is bracketed by enterCallback/leaveCallback (gc.ts).
import { rootContext, httpContext, networkContext } from './context';
import { FilterDataStatus, FilterHeadersStatus, FilterStatus, FilterTrailersStatus, FilterMetadataStatus, PeerType } from './enums';
import { HttpCallResponse, takeHttpCallHandler } from './http_call';
import { takeDueTimers, tickPeriod } from './timers';
import { setEffectiveContext } from './stream';
import { currentTimeMilliseconds } from './log';
import { enterCallback, leaveCallback } from './gc';

let lastUserTickMs: u64 = 0;

export function proxy_on_tick(rootContextId: u32): void {
  enterCallback();
  onTick(rootContextId);
  leaveCallback(1);
}

function onTick(rootContextId: u32): void {
  const due = takeDueTimers();
  for (let i = 0; i < due.length; i++) {
    const handler = due[i];
    if (handler.contextId != 0) {
      // The stream may have ended while the timer waited.
      if (httpContext(handler.contextId) === null && networkContext(handler.contextId) === null) continue;
      setEffectiveContext(handler.contextId);
    }
    handler.onTimer();
  }
  const period = tickPeriod();
  if (period == 0) return;
  const now = currentTimeMilliseconds();
  if (now - lastUserTickMs + 1 < <u64>period) return;
  lastUserTickMs = now;
  const root = rootContext(rootContextId);
  if (root !== null) root.onTick();
}

export function proxy_on_queue_ready(rootContextId: u32, queueId: u32): void {
  enterCallback();
  const root = rootContext(rootContextId);
  if (root !== null) root.onQueueReady(queueId);
  leaveCallback(1);
}

export function proxy_on_done(contextId: u32): bool {
  enterCallback();
  const done = onDone(contextId);
  leaveCallback();
  return done;
}

function onDone(contextId: u32): bool {
  const http = httpContext(contextId);
  if (http !== null) return http.onDone();
  const network = networkContext(contextId);
  if (network !== null) return network.onDone();
  const root = rootContext(contextId);
  return root === null ? true : root.onDone();
}

export function proxy_on_log(contextId: u32): void {
  enterCallback();
  const http = httpContext(contextId);
  if (http !== null) http.onLog();
  else {
    const network = networkContext(contextId);
    if (network !== null) network.onLog();
  }
  leaveCallback();
}

export function proxy_on_request_headers(contextId: u32, headerCount: u32, endOfStream: u32): FilterHeadersStatus {
  enterCallback();
  const http = httpContext(contextId);
  const status = http === null ? FilterHeadersStatus.Continue : http.onRequestHeaders(headerCount, endOfStream != 0);
  leaveCallback();
  return status;
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: u32): FilterDataStatus {
  enterCallback();
  const http = httpContext(contextId);
  const status = http === null ? FilterDataStatus.Continue : http.onRequestBody(bodySize, endOfStream != 0);
  leaveCallback();
  return status;
}

export function proxy_on_request_trailers(contextId: u32, trailerCount: u32): FilterTrailersStatus {
  enterCallback();
  const http = httpContext(contextId);
  const status = http === null ? FilterTrailersStatus.Continue : http.onRequestTrailers(trailerCount);
  leaveCallback();
  return status;
}

export function proxy_on_request_metadata(contextId: u32, elementCount: u32): FilterMetadataStatus {
  return FilterMetadataStatus.Continue;
}

export function proxy_on_response_headers(contextId: u32, headerCount: u32, endOfStream: u32): FilterHeadersStatus {
  enterCallback();
  const http = httpContext(contextId);
  const status = http === null ? FilterHeadersStatus.Continue : http.onResponseHeaders(headerCount, endOfStream != 0);
  leaveCallback();
  return status;
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: u32): FilterDataStatus {
  enterCallback();
  const http = httpContext(contextId);
  const status = http === null ? FilterDataStatus.Continue : http.onResponseBody(bodySize, endOfStream != 0);
  leaveCallback();
  return status;
}

export function proxy_on_response_trailers(contextId: u32, trailerCount: u32): FilterTrailersStatus {
  enterCallback();
  const http = httpContext(contextId);
  const status = http === null ? FilterTrailersStatus.Continue : http.onResponseTrailers(trailerCount);
  leaveCallback();
  return status;
}

export function proxy_on_response_metadata(contextId: u32, elementCount: u32): FilterMetadataStatus {
  return FilterMetadataStatus.Continue;
}

export function proxy_on_http_call_response(contextId: u32, token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): void {
  enterCallback();
  onHttpCallResponse(token, headerCount, bodySize, trailerCount);
  leaveCallback(1);
}

function onHttpCallResponse(token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): void {
  const handler = takeHttpCallHandler(token);
  if (handler === null) return;
  if (handler.contextId != 0) {
    if (httpContext(handler.contextId) === null && networkContext(handler.contextId) === null) return;
    setEffectiveContext(handler.contextId);
  }
  handler.onResponse(new HttpCallResponse(token, headerCount, bodySize, trailerCount));
}

// TCP (network filter) callbacks; a connection without a network context passes through.
export function proxy_on_new_connection(contextId: u32): FilterStatus {
  enterCallback();
  const network = networkContext(contextId);
  const status = network === null ? FilterStatus.Continue : network.onNewConnection();
  leaveCallback();
  return status;
}
export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: u32): FilterStatus {
  enterCallback();
  const network = networkContext(contextId);
  const status = network === null ? FilterStatus.Continue : network.onDownstreamData(dataSize, endOfStream != 0);
  leaveCallback();
  return status;
}
export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: u32): FilterStatus {
  enterCallback();
  const network = networkContext(contextId);
  const status = network === null ? FilterStatus.Continue : network.onUpstreamData(dataSize, endOfStream != 0);
  leaveCallback();
  return status;
}
export function proxy_on_downstream_connection_close(contextId: u32, peerType: u32): void {
  enterCallback();
  const network = networkContext(contextId);
  if (network !== null) network.onDownstreamConnectionClose(<PeerType>peerType);
  leaveCallback();
}
export function proxy_on_upstream_connection_close(contextId: u32, peerType: u32): void {
  enterCallback();
  const network = networkContext(contextId);
  if (network !== null) network.onUpstreamConnectionClose(<PeerType>peerType);
  leaveCallback();
}

// gRPC callouts are not used by asmesh filters; responses to unknown tokens are ignored.
export function proxy_on_grpc_receive_initial_metadata(contextId: u32, token: u32, headerCount: u32): void {}
export function proxy_on_grpc_receive_trailing_metadata(contextId: u32, token: u32, trailerCount: u32): void {}
export function proxy_on_grpc_receive(contextId: u32, token: u32, messageSize: u32): void {}
export function proxy_on_grpc_close(contextId: u32, token: u32, statusCode: u32): void {}

export function proxy_on_foreign_function(rootContextId: u32, functionId: u32, dataSize: u32): void {}
