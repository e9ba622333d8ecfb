// Metrics: defined once (at configure), then incremented/recorded per request by id.
// Envoy names them `wasmcustom.<name>`.
import { proxy_define_metric, proxy_increment_metric, proxy_record_metric, proxy_get_metric } from './hostcalls';
import { MetricType, WasmResult } from './enums';
import { RETURN_U64 } from './memory';

/** Defines a metric; returns its id, or u32.MAX_VALUE when the host refuses. */
export function defineMetric(metricType: MetricType, name: string): u32 {
  const bytes = String.UTF8.encode(name);
  store<u32>(RETURN_U64, u32.MAX_VALUE);
  const result = proxy_define_metric(metricType, changetype<usize>(bytes), bytes.byteLength, RETURN_U64);
  return result == WasmResult.Ok ? load<u32>(RETURN_U64) : u32.MAX_VALUE;
}

/** Adds `by` to the counter or gauge `id` (from defineMetric); for filters that keep many ids and not their names. */
export function incrementMetric(id: u32, by: i64): WasmResult {
  return <WasmResult>proxy_increment_metric(id, by);
}

/** Records `value` in the histogram `id` (from defineMetric), or sets the gauge `id`. */
export function recordMetric(id: u32, value: u64): WasmResult {
  return <WasmResult>proxy_record_metric(id, value);
}

abstract class Metric {
  readonly id: u32;
  constructor(
    metricType: MetricType,
    public readonly name: string,
  ) {
    this.id = defineMetric(metricType, name);
  }
  get defined(): bool {
    return this.id != u32.MAX_VALUE;
  }
  value(): u64 {
    store<u64>(RETURN_U64, 0);
    proxy_get_metric(this.id, RETURN_U64);
    return load<u64>(RETURN_U64);
  }
}

export class Counter extends Metric {
  constructor(name: string) {
    super(MetricType.Counter, name);
  }
  increment(by: i64 = 1): WasmResult {
    return <WasmResult>proxy_increment_metric(this.id, by);
  }
}

export class Gauge extends Metric {
  constructor(name: string) {
    super(MetricType.Gauge, name);
  }
  set(value: u64): WasmResult {
    return <WasmResult>proxy_record_metric(this.id, value);
  }
  add(offset: i64): WasmResult {
    return <WasmResult>proxy_increment_metric(this.id, offset);
  }
}

export class Histogram extends Metric {
  constructor(name: string) {
    super(MetricType.Histogram, name);
  }
  record(value: u64): WasmResult {
    return <WasmResult>proxy_record_metric(this.id, value);
  }
}
