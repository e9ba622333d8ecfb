// The exports every proxy-wasm module of this SDK has: the ABI marker, the host's allocation entry, and
// the context lifecycle (create, VM start, configure, delete). A filter's index.ts re-exports this file and
// picks the stream callbacks it implements from callbacks.ts (exports.ts has them all). Each but the
// allocation entry is bracketed by enterCallback/leaveCallback (gc.ts: where the minimal runtime collects).
import { createContext, deleteContext, rootContext } from './context';
import { allocateForHost } from './memory';
import { COLLECT_NOW, enterCallback, leaveCallback } from './gc';

/** Marks the module as speaking ABI v0.2.1. */
export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_memory_allocate(size: usize): usize {
  return allocateForHost(size);
}

/** Older hosts allocate through malloc. */
export function malloc(size: usize): usize {
  return allocateForHost(size);
}

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  enterCallback();
  createContext(contextId, parentContextId);
  leaveCallback();
}

export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): bool {
  enterCallback();
  const root = rootContext(rootContextId);
  const ok = root === null ? true : root.onVmStart(vmConfigurationSize);
  leaveCallback(COLLECT_NOW);
  return ok;
}

export function proxy_on_configure(rootContextId: u32, pluginConfigurationSize: u32): bool {
  enterCallback();
  const root = rootContext(rootContextId);
  const ok = root === null ? false : root.onConfigure(pluginConfigurationSize);
  // Parsing the configuration leaves its garbage: collect it now.
  leaveCallback(COLLECT_NOW);
  return ok;
}

export function proxy_on_delete(contextId: u32): void {
  enterCallback();
  deleteContext(contextId);
  leaveCallback(1);
}
