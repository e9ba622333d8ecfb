// Memory shared with the host: out-parameter slots and buffers the host allocates for returns.

/** Scratch slots the host writes out-parameters into (pointer + size, or a u64). One call at a time. */
export const RETURN_PTR: usize = memory.data(8);
export const RETURN_SIZE: usize = memory.data(8);
export const RETURN_U64: usize = memory.data(8);

/** Called by the host (proxy_on_memory_allocate / malloc) for buffers it returns to us. */
export function allocateForHost(size: usize): usize {
  return heap.alloc(size == 0 ? 1 : size);
}

/** Copies a host-allocated buffer out of RETURN_PTR/RETURN_SIZE into a managed ArrayBuffer, then frees it. */
export function takeReturnedBuffer(): ArrayBuffer {
  const ptr = load<usize>(RETURN_PTR);
  const size = load<u32>(RETURN_SIZE);
  const out = new ArrayBuffer(<i32>size);
  if (ptr != 0) {
    if (size > 0) memory.copy(changetype<usize>(out), ptr, size);
    heap.free(ptr);
  }
  return out;
}

/** Frees a host-allocated buffer in RETURN_PTR unread. */
export function discardReturnedBuffer(): void {
  const ptr = load<usize>(RETURN_PTR);
  if (ptr != 0) heap.free(ptr);
  store<usize>(RETURN_PTR, 0);
}

/** Resets the return slots so a host that writes nothing is read as empty. */
export function clearReturnSlots(): void {
  store<usize>(RETURN_PTR, 0);
  store<u32>(RETURN_SIZE, 0);
}

/** Pointer to the bytes of an ArrayBuffer (valid while the buffer is reachable). */
// @ts-ignore: decorator
@inline export function bufferPtr(buf: ArrayBuffer): usize {
  return changetype<usize>(buf);
}
