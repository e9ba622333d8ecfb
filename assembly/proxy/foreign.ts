// Envoy foreign functions: host features beyond the ABI (clear_route_cache, verify_signature, ...).
import { proxy_call_foreign_function } from './hostcalls';
import { WasmResult } from './enums';
import { RETURN_PTR, RETURN_SIZE, clearReturnSlots, takeReturnedBuffer } from './memory';

/** Result of a foreign-function call: the host status and, when Ok, its returned bytes. */
export class ForeignResult {
  constructor(public status: WasmResult, public data: ArrayBuffer) {}
  get ok(): bool { return this.status == WasmResult.Ok; }
}

export function callForeignFunction(name: string, args: ArrayBuffer): ForeignResult {
  const nameBytes = String.UTF8.encode(name);
  clearReturnSlots();
  const status = <WasmResult>proxy_call_foreign_function(
    changetype<usize>(nameBytes), nameBytes.byteLength,
    changetype<usize>(args), args.byteLength,
    RETURN_PTR, RETURN_SIZE,
  );
  const data = status == WasmResult.Ok ? takeReturnedBuffer() : new ArrayBuffer(0);
  return new ForeignResult(status, data);
}

/**
 * Asks Envoy to select the route again after the filter changed request headers.
 * Envoy 1.33+ no longer always does it by itself. Returns false when the host lacks the function.
 */
export function clearRouteCache(): bool {
  return callForeignFunction('clear_route_cache', new ArrayBuffer(0)).ok;
}
