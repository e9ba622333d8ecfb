// When garbage is collected. With `--runtime minimal` (TCMS: no shadow stack, no write barrier)
// AssemblyScript collects only when the module calls __collect, and __collect sees the globals only,
// never the Wasm stack: so it runs at the end of an outermost exported callback, where no Wasm frame
// holds a reference. Every export but the host's allocation entry counts its depth (a host call can
// call back into the module). With the incremental runtime this file does nothing.
//
// How often: each collection measures the garbage it freed per event (a stream's end, a tick, a
// callout's answer) since the last one and sets the next interval to fill a quarter of the linear
// memory at that rate, so a heap holding a large cache is marked less often (half the memory let the
// heap ratchet up as it grew: authz 32 MB where the incremental collector kept 8); a heap that grew
// anyway (a burst) is collected at the next safe point.
import { OBJECT, TOTAL_OVERHEAD } from 'rt/common';

/** ASC_RUNTIME's value for `--runtime minimal` (std/assembly/shared/runtime.ts). */
// @ts-ignore: decorator
@inline const MINIMAL: i32 = 1;
// @ts-ignore: decorator
@inline const MIN_INTERVAL: i32 = 16;
// @ts-ignore: decorator
@inline const MAX_INTERVAL: i32 = 4096;

/** The work of a callback after which to collect at once (configuration parsing leaves its garbage). */
// @ts-ignore: decorator
@inline export const COLLECT_NOW: i32 = MAX_INTERVAL;

let depth: i32 = 0;
let events: i32 = 0;
let interval: i32 = MIN_INTERVAL;
let pagesAtCollect: i32 = 0;
let freedBytes: usize = 0;

/** An exported callback starts. */
// @ts-ignore: decorator
@inline export function enterCallback(): void {
  if (ASC_RUNTIME == MINIMAL) depth++;
}

/**
 * An exported callback ends after `work` events (a stream's end, a tick or a callout's answer 1;
 * a configuration COLLECT_NOW): collect when the interval has passed or the heap grew since the
 * last collection, and no outer callback is running.
 */
// @ts-ignore: decorator
@inline export function leaveCallback(work: i32 = 0): void {
  if (ASC_RUNTIME != MINIMAL || --depth != 0) return;
  events += work;
  if (events >= interval || memory.size() > pagesAtCollect) collect();
}

function collect(): void {
  freedBytes = 0;
  __collect();
  const quarter = (<u64>memory.size() << 14) * <u64>max(events, 1);
  interval = freedBytes == 0 ? MAX_INTERVAL : <i32>min<u64>(max<u64>(quarter / <u64>freedBytes, MIN_INTERVAL), MAX_INTERVAL);
  events = 0;
  pagesAtCollect = memory.size();
}

/** The runtime calls this for each object it frees (std/assembly/rt/tcms.ts): counts the bytes. */
// @ts-ignore: decorator
@global export function __finalize(ptr: usize): void {
  freedBytes += <usize>changetype<OBJECT>(ptr - TOTAL_OVERHEAD).rtSize + TOTAL_OVERHEAD;
}
