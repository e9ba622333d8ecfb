// proxy_define_metric, proxy_increment_metric, proxy_record_metric, proxy_get_metric.
// Envoy encodes the type in the low 2 bits of the id and steps ids by 4; stats are named
// `wasmcustom.<name>` (its custom stat namespace).
import { MetricType, WasmResult } from './abi.ts';
import type { HostState } from './state.ts';

export type MetricKind = 'counter' | 'gauge' | 'histogram';
export interface Metric {
  type: MetricKind;
  value: number;
  samples?: number[];
}

const KINDS: MetricKind[] = ['counter', 'gauge', 'histogram'];
export const STAT_PREFIX = 'wasmcustom.';

export class MetricStore {
  /** By full stat name (with the wasmcustom. prefix). */
  readonly stats = new Map<string, Metric>();
  private readonly ids = new Map<number, string>();
  private nextId = [MetricType.Counter, MetricType.Gauge, MetricType.Histogram] as number[];

  define(type: number, name: string): number {
    const kind = KINDS[type]!;
    const full = STAT_PREFIX + name;
    if (!this.stats.has(full))
      this.stats.set(full, kind === 'histogram' ? { type: kind, value: 0, samples: [] } : { type: kind, value: 0 });
    const id = this.nextId[type]!;
    this.nextId[type] = id + 4;
    this.ids.set(id, full);
    return id;
  }

  byId(id: number): Metric | undefined {
    const name = this.ids.get(id);
    return name === undefined ? undefined : this.stats.get(name);
  }
}

export function metricImports(host: HostState, store: MetricStore) {
  const { mem } = host;
  return {
    proxy_define_metric(type: number, namePtr: number, nameSize: number, idPtr: number): number {
      if (type > MetricType.Histogram) return WasmResult.BadArgument;
      mem.writeU32(idPtr, store.define(type, mem.string(namePtr, nameSize)));
      return WasmResult.Ok;
    },
    proxy_increment_metric(id: number, offset: bigint): number {
      if ((id & 3) === MetricType.Histogram || (id & 3) === 3) return WasmResult.BadArgument;
      const metric = store.byId(id >>> 0);
      if (metric === undefined) return WasmResult.NotFound;
      const delta = Number(offset);
      if (metric.type === 'counter') {
        if (delta <= 0) return WasmResult.BadArgument; // counters only go up
        metric.value += delta;
      } else {
        metric.value += delta;
      }
      return WasmResult.Ok;
    },
    proxy_record_metric(id: number, value: bigint): number {
      const metric = store.byId(id >>> 0);
      if (metric === undefined) return WasmResult.NotFound;
      const v = Number(BigInt.asUintN(64, value));
      if (metric.type === 'counter')
        metric.value += v; // Envoy adds the value to a counter
      else if (metric.type === 'gauge') metric.value = v;
      else {
        metric.samples!.push(v);
        metric.value = metric.samples!.length;
      }
      return WasmResult.Ok;
    },
    proxy_get_metric(id: number, valuePtr: number): number {
      if ((id & 3) === MetricType.Histogram || (id & 3) === 3) return WasmResult.BadArgument;
      const metric = store.byId(id >>> 0);
      if (metric === undefined) return WasmResult.NotFound;
      mem.writeU64(valuePtr, BigInt(metric.value));
      return WasmResult.Ok;
    },
  };
}
