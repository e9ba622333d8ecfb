// Properties (Envoy attributes): request.*, source.*, connection.*, xds.*, plugin_name, ...
// A path is a list of segments, sent NUL-separated. Values come serialized as Envoy does:
// strings raw, integers as 8-byte little-endian, booleans as one byte, maps as pairs.
import { proxy_get_property, proxy_set_property } from './hostcalls';
import { WasmResult } from './enums';
import { RETURN_PTR, RETURN_SIZE, clearReturnSlots, takeReturnedBuffer } from './memory';
import { Pair, decodePairs } from './pairs';

function encodePath(path: string[]): ArrayBuffer {
  return String.UTF8.encode(path.join('\0'));
}

/** Raw bytes of a property, or null when absent. */
export function getProperty(path: string[]): ArrayBuffer | null {
  const encoded = encodePath(path);
  clearReturnSlots();
  const result = proxy_get_property(changetype<usize>(encoded), encoded.byteLength, RETURN_PTR, RETURN_SIZE);
  if (result != WasmResult.Ok) return null;
  return takeReturnedBuffer();
}

export function getPropertyString(path: string[]): string | null {
  const bytes = getProperty(path);
  return bytes === null ? null : String.UTF8.decode(bytes);
}

/** Integer properties (e.g. request.size, response.code); null when absent or not 8 bytes. */
export function getPropertyInt64(path: string[]): i64 {
  const bytes = getProperty(path);
  if (bytes === null || bytes.byteLength != 8) return i64.MIN_VALUE;
  return load<i64>(changetype<usize>(bytes));
}

/** True when getPropertyInt64 found no value. */
// @ts-ignore: decorator
@inline export function isMissingInt(value: i64): bool {
  return value == i64.MIN_VALUE;
}

export function getPropertyBool(path: string[]): bool {
  const bytes = getProperty(path);
  return bytes !== null && bytes.byteLength >= 1 && load<u8>(changetype<usize>(bytes)) != 0;
}

/** Map-valued properties (e.g. xds.node.metadata fields that are maps, request.headers). */
export function getPropertyPairs(path: string[]): Pair[] | null {
  const bytes = getProperty(path);
  return bytes === null ? null : decodePairs(bytes);
}

/**
 * A property path encoded once (e.g. a module-level constant): a read costs the host call and its
 * value's bytes, read in place from the host's buffer (no path encoding, no copy); a write, the host call.
 */
export class Property {
  private readonly encoded: ArrayBuffer;
  constructor(path: string[]) {
    this.encoded = encodePath(path);
  }

  /** Asks the host; true when it returned a value (RETURN_PTR / RETURN_SIZE, to be released). */
  private fetch(): bool {
    clearReturnSlots();
    return proxy_get_property(changetype<usize>(this.encoded), this.encoded.byteLength, RETURN_PTR, RETURN_SIZE) == WasmResult.Ok;
  }

  bytes(): ArrayBuffer | null {
    return this.fetch() ? takeReturnedBuffer() : null;
  }

  string(): string | null {
    if (!this.fetch()) return null;
    const ptr = load<usize>(RETURN_PTR);
    const s = ptr == 0 ? '' : String.UTF8.decodeUnsafe(ptr, <usize>load<u32>(RETURN_SIZE));
    release(ptr);
    return s;
  }

  /** As getPropertyInt64: i64.MIN_VALUE (isMissingInt) when absent or not 8 bytes. */
  int64(): i64 {
    if (!this.fetch()) return i64.MIN_VALUE;
    const ptr = load<usize>(RETURN_PTR);
    const v = ptr != 0 && load<u32>(RETURN_SIZE) == 8 ? load<i64>(ptr) : i64.MIN_VALUE;
    release(ptr);
    return v;
  }

  set(value: ArrayBuffer): WasmResult {
    return setEncoded(this.encoded, value);
  }

  bool(): bool {
    if (!this.fetch()) return false;
    const ptr = load<usize>(RETURN_PTR);
    const v = ptr != 0 && load<u32>(RETURN_SIZE) >= 1 && load<u8>(ptr) != 0;
    release(ptr);
    return v;
  }
}

function release(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

export function setProperty(path: string[], value: ArrayBuffer): WasmResult {
  return setEncoded(encodePath(path), value);
}

function setEncoded(encoded: ArrayBuffer, value: ArrayBuffer): WasmResult {
  return <WasmResult>proxy_set_property(changetype<usize>(encoded), encoded.byteLength, changetype<usize>(value), value.byteLength);
}
