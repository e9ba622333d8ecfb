// The module's linear memory as the host sees it: reads of guest (ptr, size) arguments and
// writes of out-parameters. Host-allocated returns go through proxy_on_memory_allocate (or
// malloc), as proxy-wasm-cpp-host's copyToPointerSize does.

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

export class OutOfBounds extends Error {}

export class GuestMemory {
  memory: WebAssembly.Memory | null = null;
  allocate: ((size: number) => number) | null = null;
  private view: DataView | null = null;
  private bytesCache: Uint8Array | null = null;

  private u8(): Uint8Array {
    const buffer = this.memory!.buffer;
    // Memory growth detaches the old buffer; refresh the cached views then.
    if (this.bytesCache === null || this.bytesCache.buffer !== buffer) {
      this.bytesCache = new Uint8Array(buffer);
      this.view = new DataView(buffer);
    }
    return this.bytesCache;
  }

  private dv(): DataView { this.u8(); return this.view!; }

  private check(ptr: number, size: number): void {
    if (ptr < 0 || size < 0 || ptr + size > this.u8().length) throw new OutOfBounds(`guest access ${ptr}+${size} out of bounds`);
  }

  /** A copy of guest bytes (the guest may free or reuse them after the call). */
  bytes(ptr: number, size: number): Uint8Array {
    this.check(ptr >>> 0, size >>> 0);
    return this.u8().slice(ptr >>> 0, (ptr >>> 0) + (size >>> 0));
  }

  string(ptr: number, size: number): string {
    this.check(ptr >>> 0, size >>> 0);
    return utf8.decode(this.u8().subarray(ptr >>> 0, (ptr >>> 0) + (size >>> 0)));
  }

  writeU32(ptr: number, value: number): void { this.check(ptr >>> 0, 4); this.dv().setUint32(ptr >>> 0, value >>> 0, true); }
  writeU64(ptr: number, value: bigint): void { this.check(ptr >>> 0, 8); this.dv().setBigUint64(ptr >>> 0, BigInt.asUintN(64, value), true); }
  writeBytes(ptr: number, data: Uint8Array): void { this.check(ptr >>> 0, data.length); this.u8().set(data, ptr >>> 0); }

  /** Allocates guest memory for `data` and stores (pointer, size) at the two out-parameters. */
  copyOut(data: Uint8Array | string, ptrPtr: number, sizePtr: number): void {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    let pointer = 0;
    // cpp-host allocates nothing for an empty value and returns (0, 0).
    if (bytes.length > 0) {
      pointer = this.allocate!(bytes.length) >>> 0;
      this.writeBytes(pointer, bytes);
    }
    this.writeU32(ptrPtr, pointer);
    this.writeU32(sizePtr, bytes.length);
  }
}

export const textEncoder = encoder;
export const textDecoder = utf8;
export function toBytes(data: string | Uint8Array | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return typeof data === 'string' ? encoder.encode(data) : data;
}
