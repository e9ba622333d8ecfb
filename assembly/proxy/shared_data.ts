// Shared data (key/value with compare-and-swap, shared by all VMs of a plugin) and shared queues.
import {
  proxy_get_shared_data,
  proxy_set_shared_data,
  proxy_register_shared_queue,
  proxy_resolve_shared_queue,
  proxy_dequeue_shared_queue,
  proxy_enqueue_shared_queue,
} from './hostcalls';
import { WasmResult } from './enums';
import { RETURN_PTR, RETURN_SIZE, RETURN_U64, clearReturnSlots, takeReturnedBuffer } from './memory';

export class SharedValue {
  constructor(
    public value: ArrayBuffer,
    public cas: u32,
  ) {}
}

/** The value and its CAS token, or null when the key is absent. */
export function getSharedData(key: string): SharedValue | null {
  const keyBytes = String.UTF8.encode(key);
  clearReturnSlots();
  store<u32>(RETURN_U64, 0);
  const result = proxy_get_shared_data(changetype<usize>(keyBytes), keyBytes.byteLength, RETURN_PTR, RETURN_SIZE, RETURN_U64);
  if (result != WasmResult.Ok) return null;
  const cas = load<u32>(RETURN_U64);
  return new SharedValue(takeReturnedBuffer(), cas);
}

/** Sets a value; cas 0 always writes, otherwise CasMismatch when someone wrote in between. */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32 = 0): WasmResult {
  const keyBytes = String.UTF8.encode(key);
  return <WasmResult>(
    proxy_set_shared_data(changetype<usize>(keyBytes), keyBytes.byteLength, changetype<usize>(value), value.byteLength, cas)
  );
}

/** Registers a queue owned by this VM; returns its id or u32.MAX_VALUE. */
export function registerSharedQueue(name: string): u32 {
  const bytes = String.UTF8.encode(name);
  const result = proxy_register_shared_queue(changetype<usize>(bytes), bytes.byteLength, RETURN_U64);
  return result == WasmResult.Ok ? load<u32>(RETURN_U64) : u32.MAX_VALUE;
}

export function resolveSharedQueue(vmId: string, name: string): u32 {
  const vm = String.UTF8.encode(vmId);
  const bytes = String.UTF8.encode(name);
  const result = proxy_resolve_shared_queue(changetype<usize>(vm), vm.byteLength, changetype<usize>(bytes), bytes.byteLength, RETURN_U64);
  return result == WasmResult.Ok ? load<u32>(RETURN_U64) : u32.MAX_VALUE;
}

/** The next message, or null when the queue is empty or unknown. */
export function dequeueSharedQueue(queueId: u32): ArrayBuffer | null {
  clearReturnSlots();
  const result = proxy_dequeue_shared_queue(queueId, RETURN_PTR, RETURN_SIZE);
  return result == WasmResult.Ok ? takeReturnedBuffer() : null;
}

export function enqueueSharedQueue(queueId: u32, value: ArrayBuffer): WasmResult {
  return <WasmResult>proxy_enqueue_shared_queue(queueId, changetype<usize>(value), value.byteLength);
}
