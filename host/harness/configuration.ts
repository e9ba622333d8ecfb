// proxy_get_configuration (pre-0.2 hosts' way to read the plugin configuration; Envoy still links it).
import { WasmResult } from './abi.ts';
import type { HostState } from './state.ts';

export function configurationImports(host: HostState) {
  return {
    proxy_get_configuration(ptrPtr: number, sizePtr: number): number {
      host.mem.copyOut(host.pluginConfig, ptrPtr, sizePtr);
      return WasmResult.Ok;
    },
    proxy_clear_route_cache(): number {
      const stream = host.stream();
      if (stream !== null) stream.routeCacheClears++;
      return WasmResult.Ok;
    },
  };
}
