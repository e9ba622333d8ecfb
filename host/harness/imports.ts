// Every import Envoy links, assembled from the per-area modules.
import { WasmResult } from './abi.ts';
import { OutOfBounds } from './memory.ts';
import { bufferImports } from './buffers.ts';
import { configurationImports } from './configuration.ts';
import { foreignImports, type ForeignFunction } from './foreign.ts';
import { grpcImports } from './grpc.ts';
import { headerImports } from './headers.ts';
import { httpCallImports } from './http-calls.ts';
import { localReplyImports } from './local-reply.ts';
import { logImports } from './log.ts';
import type { MetricStore } from './metrics.ts';
import { metricImports } from './metrics.ts';
import { propertyImports } from './properties.ts';
import type { SharedStore } from './shared-data.ts';
import { sharedDataImports } from './shared-data.ts';
import type { HostState } from './state.ts';
import { streamControlImports } from './stream-control.ts';
import { timerImports } from './timers.ts';
import type { ImportTable } from './vm.ts';
import { wasiImports } from './wasi.ts';

export interface ImportHooks {
  metrics: MetricStore;
  shared: SharedStore;
  verifySignature: boolean;
  foreign?: Record<string, ForeignFunction>;
  onResume(contextId: number): void;
  onQueueReady(queueId: number): void;
}

export function envoyImports(host: HostState, hooks: ImportHooks): ImportTable {
  const env = {
    ...logImports(host),
    ...headerImports(host),
    ...bufferImports(host),
    ...propertyImports(host),
    ...localReplyImports(host),
    ...streamControlImports(host, hooks.onResume),
    ...metricImports(host, hooks.metrics),
    ...httpCallImports(host),
    ...grpcImports(host),
    ...timerImports(host),
    ...sharedDataImports(host, hooks.shared, hooks.onQueueReady),
    ...foreignImports(host, { verifySignature: hooks.verifySignature, functions: hooks.foreign }),
    ...configurationImports(host),
  };
  // A guest pointer outside memory is InvalidMemoryAccess, as cpp-host's getMemory/setWord checks.
  for (const [name, fn] of Object.entries(env)) {
    (env as Record<string, unknown>)[name] = (...args: never[]) => {
      try {
        return (fn as (...a: never[]) => unknown)(...args);
      } catch (error) {
        if (error instanceof OutOfBounds) return WasmResult.InvalidMemoryAccess;
        throw error;
      }
    };
  }
  const wasi = wasiImports(host);
  return { env, wasi_snapshot_preview1: wasi, wasi_unstable: wasi } as unknown as ImportTable;
}
