// proxy_http_call and proxy_get_status. Envoy owns the call on the ROOT context (exports.cc
// http_call uses root_context()), so the response arrives as proxy_on_http_call_response(rootId, ...).
import { WasmResult } from './abi.ts';
import { decodePairs } from './headers.ts';
import type { HostState } from './state.ts';

export function httpCallImports(host: HostState) {
  const { mem } = host;
  return {
    proxy_http_call(
      uriPtr: number,
      uriSize: number,
      headersPtr: number,
      headersSize: number,
      bodyPtr: number,
      bodySize: number,
      trailersPtr: number,
      trailersSize: number,
      timeoutMs: number,
      tokenPtr: number,
    ): number {
      const cluster = mem.string(uriPtr, uriSize);
      const headers = decodePairs(mem.bytes(headersPtr, headersSize));
      const trailers = decodePairs(mem.bytes(trailersPtr, trailersSize));
      if (headers === null || trailers === null) return WasmResult.BadArgument;
      if ((timeoutMs | 0) < 0) return WasmResult.BadArgument;
      if (!host.clusters.has(cluster)) return WasmResult.BadArgument;
      const names = new Set(headers.map(([k]) => k.toLowerCase()));
      for (const required of [':method', ':path', ':authority']) if (!names.has(required)) return WasmResult.BadArgument;
      const token = host.nextHttpToken++;
      host.pendingCalls.set(token, {
        token,
        cluster,
        headers: headers.map(([k, v]) => [k.toLowerCase(), v]),
        body: mem.bytes(bodyPtr, bodySize),
        trailers,
        timeoutMs: timeoutMs >>> 0,
        contextId: host.contextId(),
      });
      mem.writeU32(tokenPtr, token);
      return WasmResult.Ok;
    },
    proxy_get_status(codePtr: number, messagePtrPtr: number, messageSizePtr: number): number {
      mem.writeU32(codePtr, host.lastStatus.code);
      mem.copyOut(host.lastStatus.message, messagePtrPtr, messageSizePtr);
      return WasmResult.Ok;
    },
  };
}
