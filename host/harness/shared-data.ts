// Shared data (key → value + CAS) and shared queues, both scoped to the VM as in Envoy. Envoy
// keeps both per vm_id for the whole process: the VMs of one plugin on every worker (and the main
// thread) see the same data. Plugins given one SharedStore (PluginOptions.sharedStore) do the same.
import { WasmResult } from './abi.ts';
import type { HostState } from './state.ts';

export interface SharedEntry {
  value: Uint8Array;
  cas: number;
}

export class SharedStore {
  readonly data = new Map<string, SharedEntry>();
  readonly queues = new Map<number, { vmId: string; name: string; items: Uint8Array[]; notify?: (queueId: number) => void }>();
  private nextCas = 1;
  private nextQueueId = 1;
  constructor(readonly vmId: string) {}

  set(key: string, value: Uint8Array, cas: number): WasmResult {
    const entry = this.data.get(key);
    // cas 0 writes unconditionally; otherwise it must match the stored value's cas.
    if (entry !== undefined && cas !== 0 && cas !== entry.cas) return WasmResult.CasMismatch;
    this.data.set(key, { value, cas: this.nextCas++ });
    return WasmResult.Ok;
  }

  queueId(vmId: string, name: string): number | undefined {
    for (const [id, q] of this.queues) if (q.vmId === vmId && q.name === name) return id;
    return undefined;
  }

  register(name: string): number {
    const existing = this.queueId(this.vmId, name);
    if (existing !== undefined) return existing;
    const id = this.nextQueueId++;
    this.queues.set(id, { vmId: this.vmId, name, items: [] });
    return id;
  }
}

export function sharedDataImports(host: HostState, store: SharedStore, onQueueReady: (queueId: number) => void) {
  const { mem } = host;
  return {
    proxy_get_shared_data(keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number, casPtr: number): number {
      const entry = store.data.get(mem.string(keyPtr, keySize));
      if (entry === undefined) return WasmResult.NotFound;
      mem.copyOut(entry.value, valuePtrPtr, valueSizePtr);
      mem.writeU32(casPtr, entry.cas);
      return WasmResult.Ok;
    },
    proxy_set_shared_data(keyPtr: number, keySize: number, valuePtr: number, valueSize: number, cas: number): number {
      return store.set(mem.string(keyPtr, keySize), mem.bytes(valuePtr, valueSize), cas >>> 0);
    },
    proxy_register_shared_queue(namePtr: number, nameSize: number, idPtr: number): number {
      const id = store.register(mem.string(namePtr, nameSize));
      // proxy_on_queue_ready goes to the VM that registered the queue (the last one to do so).
      store.queues.get(id)!.notify = onQueueReady;
      mem.writeU32(idPtr, id);
      return WasmResult.Ok;
    },
    proxy_resolve_shared_queue(vmIdPtr: number, vmIdSize: number, namePtr: number, nameSize: number, idPtr: number): number {
      const vmId = mem.string(vmIdPtr, vmIdSize) || store.vmId;
      const id = store.queueId(vmId, mem.string(namePtr, nameSize));
      if (id === undefined) return WasmResult.NotFound;
      mem.writeU32(idPtr, id);
      return WasmResult.Ok;
    },
    proxy_dequeue_shared_queue(queueId: number, valuePtrPtr: number, valueSizePtr: number): number {
      const queue = store.queues.get(queueId >>> 0);
      if (queue === undefined) return WasmResult.NotFound;
      const item = queue.items.shift();
      if (item === undefined) return WasmResult.Empty;
      mem.copyOut(item, valuePtrPtr, valueSizePtr);
      return WasmResult.Ok;
    },
    proxy_enqueue_shared_queue(queueId: number, valuePtr: number, valueSize: number): number {
      const queue = store.queues.get(queueId >>> 0);
      if (queue === undefined) return WasmResult.NotFound;
      queue.items.push(mem.bytes(valuePtr, valueSize));
      // Envoy posts proxy_on_queue_ready to the VM's dispatcher: after the current callback.
      const notify = queue.notify ?? onQueueReady;
      host.afterCallback.push(() => notify(queueId >>> 0));
      return WasmResult.Ok;
    },
  };
}
