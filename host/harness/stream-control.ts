// proxy_continue_stream, proxy_close_stream (and the legacy proxy_continue_request/response),
// proxy_set_effective_context, proxy_done.
import { StreamType, WasmResult } from './abi.ts';
import type { HostState } from './state.ts';

export function streamControlImports(host: HostState, onResume: (contextId: number) => void) {
  const resume = (type: number): number => {
    const stream = host.stream();
    if (type !== StreamType.Request && type !== StreamType.Response) return WasmResult.BadArgument;
    if (stream === null) return WasmResult.Ok; // Envoy: no callbacks, nothing to continue
    stream.continueRequested[type] = true;
    // Envoy's continueStream drops its request map pointers, whichever side continues.
    stream.requestHeaders = null;
    stream.requestBody = null;
    stream.requestTrailers = null;
    // The stream resumes after the callback returns, as Envoy's continueDecoding is posted.
    host.afterCallback.push(() => onResume(stream.id));
    return WasmResult.Ok;
  };
  return {
    proxy_continue_stream: resume,
    proxy_continue_request: () => resume(StreamType.Request),
    proxy_continue_response: () => resume(StreamType.Response),
    proxy_close_stream(type: number): number {
      const stream = host.stream();
      if (type > StreamType.Upstream) return WasmResult.BadArgument;
      if (stream === null) return WasmResult.Ok;
      // Downstream/Upstream close a TCP connection (Envoy: connection().close(FlushWrite)); TcpConnection reads it.
      if (type > StreamType.Response) {
        stream.connectionClosed = true;
        return WasmResult.Ok;
      }
      stream.closeRequested = true;
      host.afterCallback.push(() => onResume(stream.id));
      return WasmResult.Ok;
    },
    proxy_set_effective_context(contextId: number): number {
      // cpp-host: an id the VM does not know is BadArgument.
      if (contextId !== host.rootId && !host.streams.has(contextId)) return WasmResult.BadArgument;
      host.effectiveContextId = contextId;
      return WasmResult.Ok;
    },
    proxy_done(): number {
      // Only meaningful after proxy_on_done returned false; the harness records it.
      host.doneCalled.add(host.contextId());
      return WasmResult.Ok;
    },
  };
}
