// gRPC callouts: proxy_grpc_call, proxy_grpc_stream, proxy_grpc_send, proxy_grpc_cancel,
// proxy_grpc_close. Like http calls they belong to the root context and wait for the test to
// answer them (Plugin.respondGrpcCall / respondGrpcStream). As Envoy 1.40 (measured with
// test/fixtures/rust/probe): the service names a cluster; one Envoy does not know is ParseFailure.
import { WasmResult } from './abi.ts';
import { decodePairs } from './headers.ts';
import type { GrpcCallRecord, HostState } from './state.ts';

export function grpcImports(host: HostState) {
  const { mem } = host;
  const start = (
    kind: 'call' | 'stream',
    servicePtr: number,
    serviceSize: number,
    namePtr: number,
    nameSize: number,
    methodPtr: number,
    methodSize: number,
    metadataPtr: number,
    metadataSize: number,
  ): GrpcCallRecord | WasmResult => {
    const cluster = mem.string(servicePtr, serviceSize);
    const metadata = decodePairs(mem.bytes(metadataPtr, metadataSize));
    if (metadata === null) return WasmResult.BadArgument;
    if (!host.clusters.has(cluster)) return WasmResult.ParseFailure;
    return {
      kind,
      token: host.nextHttpToken++,
      cluster,
      service: mem.string(namePtr, nameSize),
      method: mem.string(methodPtr, methodSize),
      metadata,
      messages: [],
      timeoutMs: 0,
      contextId: host.contextId(),
      localClosed: false,
    };
  };
  return {
    proxy_grpc_call(
      servicePtr: number,
      serviceSize: number,
      namePtr: number,
      nameSize: number,
      methodPtr: number,
      methodSize: number,
      metadataPtr: number,
      metadataSize: number,
      messagePtr: number,
      messageSize: number,
      timeoutMs: number,
      tokenPtr: number,
    ): number {
      const call = start('call', servicePtr, serviceSize, namePtr, nameSize, methodPtr, methodSize, metadataPtr, metadataSize);
      if (typeof call === 'number') return call;
      call.messages.push(mem.bytes(messagePtr, messageSize));
      call.timeoutMs = timeoutMs >>> 0;
      host.grpcCalls.set(call.token, call);
      mem.writeU32(tokenPtr, call.token);
      return WasmResult.Ok;
    },
    proxy_grpc_stream(
      servicePtr: number,
      serviceSize: number,
      namePtr: number,
      nameSize: number,
      methodPtr: number,
      methodSize: number,
      metadataPtr: number,
      metadataSize: number,
      tokenPtr: number,
    ): number {
      const stream = start('stream', servicePtr, serviceSize, namePtr, nameSize, methodPtr, methodSize, metadataPtr, metadataSize);
      if (typeof stream === 'number') return stream;
      host.grpcCalls.set(stream.token, stream);
      mem.writeU32(tokenPtr, stream.token);
      return WasmResult.Ok;
    },
    proxy_grpc_send(token: number, messagePtr: number, messageSize: number, endStream: number): number {
      const stream = host.grpcCalls.get(token >>> 0);
      if (stream === undefined || stream.kind !== 'stream') return WasmResult.NotFound;
      stream.messages.push(mem.bytes(messagePtr, messageSize));
      if (endStream !== 0) stream.localClosed = true;
      return WasmResult.Ok;
    },
    /** Cancel: no callback follows. */
    proxy_grpc_cancel(token: number): number {
      return host.grpcCalls.delete(token >>> 0) ? WasmResult.Ok : WasmResult.NotFound;
    },
    /** Close: a call is cancelled; a stream is half-closed (its answers still come). */
    proxy_grpc_close(token: number): number {
      const call = host.grpcCalls.get(token >>> 0);
      if (call === undefined) return WasmResult.NotFound;
      if (call.kind === 'call') host.grpcCalls.delete(call.token);
      else call.localClosed = true;
      return WasmResult.Ok;
    },
  };
}
