// Header maps (request/response headers and trailers, http-call response headers), byte-level first.
import {
  proxy_get_header_map_value,
  proxy_add_header_map_value,
  proxy_replace_header_map_value,
  proxy_remove_header_map_value,
  proxy_get_header_map_pairs,
  proxy_set_header_map_pairs,
  proxy_get_header_map_size,
} from './hostcalls';
import { MapType, WasmResult } from './enums';
import { RETURN_PTR, RETURN_SIZE, clearReturnSlots, takeReturnedBuffer } from './memory';
import { HeaderEdit, Pair, PairsIndex, encodePairs, decodePairs } from './pairs';
import { dropRead, keepRead, noteWrite, sharedRead } from './shared_reads';

export class HeaderMap {
  constructor(public readonly mapType: MapType) {}

  /** First value of a header as bytes, or null when absent (or the map does not exist now). */
  getBytes(name: ArrayBuffer): ArrayBuffer | null {
    clearReturnSlots();
    const result = proxy_get_header_map_value(this.mapType, changetype<usize>(name), name.byteLength, RETURN_PTR, RETURN_SIZE);
    if (result != WasmResult.Ok) return null;
    return takeReturnedBuffer();
  }

  get(name: string): string | null {
    const value = this.getBytes(String.UTF8.encode(name));
    return value === null ? null : String.UTF8.decode(value);
  }

  has(name: string): bool {
    return this.getBytes(String.UTF8.encode(name)) !== null;
  }

  addBytes(name: ArrayBuffer, value: ArrayBuffer): WasmResult {
    const result = <WasmResult>(
      proxy_add_header_map_value(this.mapType, changetype<usize>(name), name.byteLength, changetype<usize>(value), value.byteLength)
    );
    if (isDefined(ASMESH_COMPOSITE)) noteWrite(this.mapType, result, HeaderEdit.Add, name, value);
    return result;
  }

  add(name: string, value: string): WasmResult {
    return this.addBytes(String.UTF8.encode(name), String.UTF8.encode(value));
  }

  /** Sets a header, replacing every existing value (adds it when absent). */
  replaceBytes(name: ArrayBuffer, value: ArrayBuffer): WasmResult {
    const result = <WasmResult>(
      proxy_replace_header_map_value(this.mapType, changetype<usize>(name), name.byteLength, changetype<usize>(value), value.byteLength)
    );
    if (isDefined(ASMESH_COMPOSITE)) noteWrite(this.mapType, result, HeaderEdit.Replace, name, value);
    return result;
  }

  replace(name: string, value: string): WasmResult {
    return this.replaceBytes(String.UTF8.encode(name), String.UTF8.encode(value));
  }

  removeBytes(name: ArrayBuffer): WasmResult {
    const result = <WasmResult>proxy_remove_header_map_value(this.mapType, changetype<usize>(name), name.byteLength);
    if (isDefined(ASMESH_COMPOSITE)) noteWrite(this.mapType, result, HeaderEdit.Remove, name, name);
    return result;
  }

  remove(name: string): WasmResult {
    return this.removeBytes(String.UTF8.encode(name));
  }

  /** Every header in order, as bytes; empty when the map does not exist now. */
  pairs(): Pair[] {
    const buf = this.pairsBuffer();
    if (buf === null) return new Array<Pair>();
    const decoded = decodePairs(buf);
    return decoded === null ? new Array<Pair>() : decoded;
  }

  /** The whole map in the ABI's pairs format (see pairs.ts), null when the map does not exist now. */
  pairsBuffer(): ArrayBuffer | null {
    clearReturnSlots();
    const result = proxy_get_header_map_pairs(this.mapType, RETURN_PTR, RETURN_SIZE);
    return result == WasmResult.Ok ? takeReturnedBuffer() : null;
  }

  /** The whole map read once, looked up in place (empty when the map does not exist now). */
  snapshot(): PairsIndex {
    if (isDefined(ASMESH_COMPOSITE)) {
      const copy = sharedRead(this.mapType);
      if (copy !== null) return copy;
    }
    const buf = this.pairsBuffer();
    const index = new PairsIndex(buf === null ? new ArrayBuffer(0) : buf);
    if (isDefined(ASMESH_COMPOSITE)) {
      if (buf !== null) keepRead(this.mapType, index);
    }
    return index;
  }

  /** Every value of a header, in order (a header sent twice has two); empty when absent. */
  values(name: string): string[] {
    return this.snapshot().values(name);
  }

  /** Replaces the whole map. */
  setPairs(pairs: Pair[]): WasmResult {
    const buf = encodePairs(pairs);
    const result = <WasmResult>proxy_set_header_map_pairs(this.mapType, changetype<usize>(buf), buf.byteLength);
    if (isDefined(ASMESH_COMPOSITE)) {
      dropRead(this.mapType);
    }
    return result;
  }

  /** Serialized size of the map in bytes, as the host reports it (-1 when unavailable). */
  byteSize(): i64 {
    store<u32>(RETURN_SIZE, 0);
    const result = proxy_get_header_map_size(this.mapType, RETURN_SIZE);
    return result == WasmResult.Ok ? <i64>load<u32>(RETURN_SIZE) : -1;
  }
}

export const requestHeaders = new HeaderMap(MapType.HttpRequestHeaders);
export const requestTrailers = new HeaderMap(MapType.HttpRequestTrailers);
export const responseHeaders = new HeaderMap(MapType.HttpResponseHeaders);
export const responseTrailers = new HeaderMap(MapType.HttpResponseTrailers);
export const httpCallResponseHeaders = new HeaderMap(MapType.HttpCallResponseHeaders);
export const httpCallResponseTrailers = new HeaderMap(MapType.HttpCallResponseTrailers);
