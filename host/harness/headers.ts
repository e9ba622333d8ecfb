// Header maps (proxy_*_header_map_*) and the pairs codec:
//   u32 count, then count × (u32 key size, u32 value size), then each key and value NUL-terminated.
import { MapType, WasmResult } from './abi.ts';
import { textDecoder, textEncoder } from './memory.ts';
import type { HeaderList, HostState } from './state.ts';
import { addHeader, removeHeader, setHeader } from './header-edits.ts';

export function encodePairs(pairs: [string, string | Uint8Array][]): Uint8Array {
  // UTF-8 sizes first, then each string encoded straight into its place (the NULs are the zero fill).
  let size = 4 + 8 * pairs.length;
  const sizes: number[] = new Array(2 * pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const [k, v] = pairs[i]!;
    sizes[2 * i] = Buffer.byteLength(k, 'utf8');
    sizes[2 * i + 1] = typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
    size += sizes[2 * i]! + sizes[2 * i + 1]! + 2;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, pairs.length, true);
  for (let i = 0; i < sizes.length; i++) view.setUint32(4 + 4 * i, sizes[i]!, true);
  let offset = 4 + 8 * pairs.length;
  for (let i = 0; i < pairs.length; i++) {
    const [k, v] = pairs[i]!;
    textEncoder.encodeInto(k, out.subarray(offset));
    offset += sizes[2 * i]! + 1;
    if (typeof v === 'string') textEncoder.encodeInto(v, out.subarray(offset));
    else out.set(v, offset);
    offset += sizes[2 * i + 1]! + 1;
  }
  return out;
}

/** Decodes pairs; null when the data is malformed (Envoy then answers BadArgument). */
export function decodePairs(data: Uint8Array): HeaderList | null {
  if (data.length === 0) return [];
  if (data.length < 4) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getUint32(0, true);
  let offset = 4 + 8 * count;
  if (offset > data.length) return null;
  const pairs: HeaderList = [];
  for (let i = 0; i < count; i++) {
    const keySize = view.getUint32(4 + 8 * i, true);
    const valueSize = view.getUint32(8 + 8 * i, true);
    if (offset + keySize + valueSize + 2 > data.length) return null;
    const key = textDecoder.decode(data.subarray(offset, offset + keySize));
    offset += keySize + 1;
    const value = textDecoder.decode(data.subarray(offset, offset + valueSize));
    offset += valueSize + 1;
    pairs.push([key, value]);
  }
  return pairs;
}

/** The map of `type` in the current phase, or null when Envoy has none (BadArgument). */
function mapOf(host: HostState, type: number): HeaderList | null | undefined {
  const stream = host.stream();
  switch (type) {
    case MapType.RequestHeaders:
      return stream?.requestHeaders ?? null;
    case MapType.RequestTrailers:
      return stream?.requestTrailers ?? null;
    case MapType.ResponseHeaders:
      return stream?.responseHeaders ?? null;
    case MapType.ResponseTrailers:
      return stream?.responseTrailers ?? null;
    case MapType.HttpCallResponseHeaders:
      return host.callResponse?.headers ?? null;
    case MapType.HttpCallResponseTrailers:
      return host.callResponse?.trailers ?? null;
    case MapType.GrpcReceiveInitialMetadata:
      return host.grpcReceive?.initialMetadata ?? null;
    case MapType.GrpcReceiveTrailingMetadata:
      return host.grpcReceive?.trailingMetadata ?? null;
    default:
      return undefined;
  }
}

/** Whether the filter may size or change map `type` now: a stream's own maps, outside proxy_on_log (Envoy's getMap). */
function isWritable(host: HostState, type: number): boolean {
  return type <= MapType.ResponseTrailers && host.stream()?.logging !== true;
}

export function headerImports(host: HostState) {
  const { mem } = host;
  const lower = (ptr: number, size: number) => mem.string(ptr, size).toLowerCase();
  return {
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      const map = mapOf(host, type);
      if (map === undefined) return WasmResult.BadArgument;
      // Envoy answers Ok with no pairs when the map does not exist (yet).
      mem.copyOut(map === null || map.length === 0 ? new Uint8Array(0) : encodePairs(map), ptrPtr, sizePtr);
      return WasmResult.Ok;
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      const map = mapOf(host, type);
      if (map === undefined || map === null || !isWritable(host, type)) return WasmResult.BadArgument;
      const pairs = decodePairs(mem.bytes(ptr, size));
      if (pairs === null) return WasmResult.BadArgument;
      // Envoy removes every existing header, then adds each pair (joining inline duplicates).
      map.length = 0;
      for (const [k, v] of pairs) addHeader(map, type, k.toLowerCase(), v);
      return WasmResult.Ok;
    },
    proxy_get_header_map_size(type: number, sizePtr: number): number {
      const map = mapOf(host, type);
      if (map === undefined || map === null || !isWritable(host, type)) return WasmResult.BadArgument;
      // Envoy answers HeaderMap::byteSize(): the sum of key and value lengths.
      mem.writeU32(
        sizePtr,
        map.reduce((n, [k, v]) => n + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8'), 0),
      );
      return WasmResult.Ok;
    },
    proxy_get_header_map_value(type: number, keyPtr: number, keySize: number, ptrPtr: number, sizePtr: number): number {
      const map = mapOf(host, type);
      if (map === undefined || map === null) return WasmResult.BadArgument;
      const key = lower(keyPtr, keySize);
      const entry = map.find(([k]) => k === key);
      if (entry === undefined) return WasmResult.NotFound;
      mem.copyOut(entry[1], ptrPtr, sizePtr);
      return WasmResult.Ok;
    },
    proxy_add_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      const map = mapOf(host, type);
      if (map === undefined || map === null || !isWritable(host, type)) return WasmResult.BadArgument;
      addHeader(map, type, lower(keyPtr, keySize), mem.string(valuePtr, valueSize));
      return WasmResult.Ok;
    },
    proxy_replace_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      const map = mapOf(host, type);
      if (map === undefined || map === null || !isWritable(host, type)) return WasmResult.BadArgument;
      setHeader(map, type, lower(keyPtr, keySize), mem.string(valuePtr, valueSize));
      return WasmResult.Ok;
    },
    proxy_remove_header_map_value(type: number, keyPtr: number, keySize: number): number {
      const map = mapOf(host, type);
      if (map === undefined || map === null || !isWritable(host, type)) return WasmResult.BadArgument;
      removeHeader(map, lower(keyPtr, keySize));
      return WasmResult.Ok;
    },
  };
}
