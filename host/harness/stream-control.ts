// proxy_continue_stream, proxy_close_stream (and the legacy proxy_continue_request/response),
// proxy_set_effective_context, proxy_done.
import { StreamType, WasmResult } from './abi.ts';
import type { HostState } from './state.ts';

export function streamControlImports(host: HostState, onResume: (contextId: number) => void) {
  const resume = (type: number): number => {
    const stream = host.stream();
    if (stream === null) return WasmResult.NotFound;
    if (type !== StreamType.Request && type !== StreamType.Response) return WasmResult.BadArgument;
    stream.continueRequested[type] = true;
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
      if (stream === null) return WasmResult.NotFound;
      if (type !== StreamType.Request && type !== StreamType.Response) return WasmResult.BadArgument;
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
