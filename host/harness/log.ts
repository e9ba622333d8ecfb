// proxy_log, proxy_get_log_level, proxy_get_current_time_nanoseconds.
import { LOG_LEVELS, WasmResult } from './abi.ts';
import type { HostState } from './state.ts';

export function logImports(host: HostState) {
  return {
    proxy_log(level: number, ptr: number, size: number): number {
      const name = LOG_LEVELS[level];
      if (name === undefined) return WasmResult.BadArgument;
      host.logs.push({ level: name, message: host.mem.string(ptr, size), contextId: host.contextId() });
      return WasmResult.Ok;
    },
    proxy_get_log_level(levelPtr: number): number {
      host.mem.writeU32(levelPtr, host.logLevel);
      return WasmResult.Ok;
    },
    proxy_get_current_time_nanoseconds(timePtr: number): number {
      host.mem.writeU64(timePtr, host.nowNs);
      return WasmResult.Ok;
    },
  };
}
