// proxy_send_local_response: recorded now, applied after the callback returns (Envoy defers it
// and forces the callback's answer to a stop).
import { WasmResult } from './abi.ts';
import { decodePairs } from './headers.ts';
import type { HostState } from './state.ts';

export function localReplyImports(host: HostState) {
  const { mem } = host;
  return {
    proxy_send_local_response(
      status: number,
      detailsPtr: number,
      detailsSize: number,
      bodyPtr: number,
      bodySize: number,
      headersPtr: number,
      headersSize: number,
      grpcStatus: number,
    ): number {
      const stream = host.stream();
      if (stream === null) return WasmResult.Ok; // Envoy: no decoder callbacks, nothing is sent
      const headers = decodePairs(mem.bytes(headersPtr, headersSize));
      if (headers === null) return WasmResult.BadArgument;
      stream.localReply = {
        status: status >>> 0,
        details: mem.string(detailsPtr, detailsSize),
        body: mem.bytes(bodyPtr, bodySize),
        headers: headers.map(([k, v]) => [k.toLowerCase(), v]),
        // -1 (0xffffffff) means "no gRPC status"; the cast keeps other values.
        grpcStatus: (grpcStatus | 0) < 0 ? null : grpcStatus >>> 0,
      };
      return WasmResult.Ok;
    },
  };
}
