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

  /** The memory's bytes, after checking that [ptr, ptr + size) lies inside them. */
  private checked(ptr: number, size: number): Uint8Array {
    const u8 = this.u8();
    if (ptr < 0 || size < 0 || ptr + size > u8.length) throw new OutOfBounds(`guest access ${ptr}+${size} out of bounds`);
    return u8;
  }

  private checkedView(ptr: number, size: number): DataView {
    this.checked(ptr, size);
    return this.view!;
  }

  /** A copy of guest bytes (the guest may free or reuse them after the call). */
  bytes(ptr: number, size: number): Uint8Array {
    return this.checked(ptr >>> 0, size >>> 0).slice(ptr >>> 0, (ptr >>> 0) + (size >>> 0));
  }

  string(ptr: number, size: number): string {
    return utf8.decode(this.checked(ptr >>> 0, size >>> 0).subarray(ptr >>> 0, (ptr >>> 0) + (size >>> 0)));
  }

  writeU32(ptr: number, value: number): void {
    this.checkedView(ptr >>> 0, 4).setUint32(ptr >>> 0, value >>> 0, true);
  }
  writeU64(ptr: number, value: bigint): void {
    this.checkedView(ptr >>> 0, 8).setBigUint64(ptr >>> 0, BigInt.asUintN(64, value), true);
  }
  writeBytes(ptr: number, data: Uint8Array): void {
    this.checked(ptr >>> 0, data.length).set(data, ptr >>> 0);
  }

  /** Allocates guest memory for `data` and stores (pointer, size) at the two out-parameters. */
  copyOut(data: Uint8Array | string, ptrPtr: number, sizePtr: number): void {
    // A string is encoded straight into the guest's allocation (its UTF-8 size is known beforehand).
    const size = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
    let pointer = 0;
    // cpp-host allocates nothing for an empty value and returns (0, 0).
    if (size > 0) {
      pointer = this.allocate!(size) >>> 0;
      if (typeof data !== 'string') this.writeBytes(pointer, data);
      else encoder.encodeInto(data, this.checked(pointer, size).subarray(pointer, pointer + size));
    }
    this.writeU32(ptrPtr, pointer);
    this.writeU32(sizePtr, size);
  }
}

// Typed structurally so the published .d.ts needs neither @types/node nor the DOM lib.
export const textEncoder: {
  encode(input?: string): Uint8Array;
  encodeInto(input: string, dest: Uint8Array): { read: number; written: number };
} = encoder;
export const textDecoder: { decode(input?: Uint8Array): string } = utf8;
export function toBytes(data: string | Uint8Array | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return typeof data === 'string' ? encoder.encode(data) : data;
}
