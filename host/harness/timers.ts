// proxy_set_tick_period_milliseconds; the fake clock itself lives in HostState.
import { WasmResult } from './abi.ts';
import type { HostState } from './state.ts';

export function timerImports(host: HostState) {
  return {
    proxy_set_tick_period_milliseconds(periodMs: number): number {
      host.tickPeriodMs = periodMs >>> 0;
      host.nextTickMs = host.nowMs() + host.tickPeriodMs;
      return WasmResult.Ok;
    },
  };
}
