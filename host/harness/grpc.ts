// gRPC callouts. The harness has no gRPC services: like Envoy with no such cluster/service,
// starting a call or stream answers BadArgument (cluster unknown); tokens it never issued are NotFound.
import { WasmResult } from './abi.ts';
import type { HostState } from './state.ts';

export function grpcImports(_host: HostState) {
  const unknownService = (): number => WasmResult.BadArgument;
  const unknownToken = (): number => WasmResult.NotFound;
  return {
    proxy_grpc_call: unknownService,
    proxy_grpc_stream: unknownService,
    proxy_grpc_send: unknownToken,
    proxy_grpc_cancel: unknownToken,
    proxy_grpc_close: unknownToken,
  };
}
