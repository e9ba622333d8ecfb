// Stream control: local replies, resuming or closing a paused stream, effective context.
import { proxy_send_local_response, proxy_continue_stream, proxy_close_stream, proxy_set_effective_context, proxy_done } from './hostcalls';
import { GrpcStatus, StreamType, WasmResult } from './enums';
import { Pair, encodePairs } from './pairs';

/**
 * Sends a response from the proxy instead of the upstream. Envoy defers it until the current
 * callback returns; the callback should then return a Stop status.
 */
export function sendLocalResponse(
  statusCode: u32,
  details: string,
  body: ArrayBuffer,
  headers: Pair[],
  grpcStatus: GrpcStatus = GrpcStatus.None,
): WasmResult {
  const detailBytes = String.UTF8.encode(details);
  const headerBytes = encodePairs(headers);
  return <WasmResult>(
    proxy_send_local_response(
      statusCode,
      changetype<usize>(detailBytes),
      detailBytes.byteLength,
      changetype<usize>(body),
      body.byteLength,
      changetype<usize>(headerBytes),
      headerBytes.byteLength,
      <i32>grpcStatus,
    )
  );
}

export function continueStream(streamType: StreamType): WasmResult {
  return <WasmResult>proxy_continue_stream(streamType);
}

export function closeStream(streamType: StreamType): WasmResult {
  return <WasmResult>proxy_close_stream(streamType);
}

/** Makes later host calls apply to another context (e.g. an HTTP stream from a root callback). */
export function setEffectiveContext(contextId: u32): WasmResult {
  return <WasmResult>proxy_set_effective_context(contextId);
}

/** Tells the host that a context which returned false from onDone has finished. */
export function done(): WasmResult {
  return <WasmResult>proxy_done();
}
