// proxy_get_property / proxy_set_property. A path is a list of segments separated by NUL
// (e.g. "request\0headers\0x-id"); the harness looks it up by its dotted form. Values are
// serialized as Envoy serializes CEL values: strings and bytes raw, integers 8-byte little-endian,
// doubles 8-byte IEEE, booleans 1 byte, maps (and lists) as header pairs.
import { WasmResult } from './abi.ts';
import { encodePairs } from './headers.ts';
import { textEncoder } from './memory.ts';
import type { HeaderList, HostState, PropertyValue, StreamState } from './state.ts';
import { joinedHeaders } from './types.ts';

function headerMap(list: HeaderList | null): PropertyValue | undefined {
  return list === null ? undefined : joinedHeaders(list);
}

/** The first value of `key` in a header list. */
function firstValue(list: HeaderList | null, key: string): string | undefined {
  if (list === null) return undefined;
  for (const [k, v] of list) if (k === key) return v;
  return undefined;
}

/** Attributes Envoy derives from the stream itself. */
function streamAttribute(stream: StreamState, name: string): PropertyValue | undefined {
  const { attributes } = stream;
  const req = attributes.requestHeaders;
  switch (name) {
    case 'request.headers':
      return headerMap(req);
    case 'request.path':
      return firstValue(req, ':path');
    case 'request.url_path':
      return firstValue(req, ':path')?.split('?')[0];
    case 'request.query': {
      const p = firstValue(req, ':path');
      return p === undefined ? undefined : p.includes('?') ? p.slice(p.indexOf('?') + 1) : '';
    }
    case 'request.host':
      return firstValue(req, ':authority');
    case 'request.scheme':
      return firstValue(req, ':scheme');
    case 'request.method':
      return firstValue(req, ':method');
    case 'request.referer':
      return firstValue(req, 'referer');
    case 'request.useragent':
      return firstValue(req, 'user-agent');
    case 'request.id':
      return firstValue(req, 'x-request-id');
    case 'request.protocol':
      return 'HTTP/1.1';
    case 'request.trailers':
      return headerMap(attributes.requestTrailers);
    case 'response.headers':
      return headerMap(attributes.responseHeaders);
    case 'response.trailers':
      return headerMap(attributes.responseTrailers);
    case 'response.code': {
      const s = firstValue(attributes.responseHeaders, ':status');
      return s === undefined ? undefined : Number(s);
    }
    default:
      return undefined;
  }
}

function descend(root: PropertyValue | undefined, rest: string[]): PropertyValue | undefined {
  let value = root;
  for (const segment of rest) {
    if (value === null || value === undefined || typeof value !== 'object' || value instanceof Uint8Array) return undefined;
    value = Array.isArray(value) ? value[Number(segment)] : value[segment];
  }
  return value;
}

/** Finds a dotted path in a flat table whose keys may themselves contain dots (e.g. "xds.node"). */
function lookup(table: Record<string, PropertyValue>, segments: string[]): PropertyValue | undefined {
  for (let i = segments.length; i > 0; i--) {
    const key = segments.slice(0, i).join('.');
    if (key in table) return descend(table[key], segments.slice(i));
  }
  return undefined;
}

export function resolveProperty(host: HostState, segments: string[]): PropertyValue | Uint8Array | undefined {
  const stream = host.stream();
  const dotted = segments.join('.');
  if (segments[0] === 'filter_state' && segments.length === 2) {
    return (stream?.filterState ?? host.rootFilterState).get(segments[1]!);
  }
  if (stream !== null) {
    const fromTest = lookup(stream.properties, segments);
    if (fromTest !== undefined) return fromTest;
    // Envoy's header map answers `host` with :authority (measured: request.headers.host in Envoy 1.40).
    if (segments.length === 3 && segments[0] === 'request' && segments[1] === 'headers' && segments[2] === 'host') {
      const host = firstValue(stream.attributes.requestHeaders, 'host') ?? firstValue(stream.attributes.requestHeaders, ':authority');
      if (host !== undefined) return host;
    }
    for (let i = segments.length; i > 0; i--) {
      const derived = streamAttribute(stream, segments.slice(0, i).join('.'));
      if (derived !== undefined) return descend(derived, segments.slice(i));
    }
  }
  const fromPlugin = lookup(host.pluginProperties, segments);
  if (fromPlugin !== undefined) return fromPlugin;
  // Envoy falls back to filter state written by proxy_set_property (key "wasm.<path>").
  return (stream?.filterState ?? host.rootFilterState).get('wasm.' + dotted);
}

export function serializeProperty(value: PropertyValue): Uint8Array | null {
  if (value === null) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return textEncoder.encode(value);
  if (typeof value === 'boolean') return Uint8Array.of(value ? 1 : 0);
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigInt64(0, BigInt(value), true);
    return out;
  }
  if (typeof value === 'number') {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setFloat64(0, value, true);
    return out;
  }
  const pairs: [string, Uint8Array][] = [];
  const entries: [string, PropertyValue][] = Array.isArray(value) ? value.map((v) => [String(v), '']) : Object.entries(value);
  for (const [k, v] of entries) {
    const serialized = serializeProperty(v);
    if (serialized === null) return null;
    pairs.push([k, serialized]);
  }
  return encodePairs(pairs);
}

export function propertyImports(host: HostState) {
  const { mem } = host;
  const segmentsOf = (ptr: number, size: number) =>
    mem
      .string(ptr, size)
      .split('\0')
      .filter((s, i, all) => s !== '' || i < all.length - 1);
  return {
    proxy_get_property(pathPtr: number, pathSize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const value = resolveProperty(host, segmentsOf(pathPtr, pathSize));
      if (value === undefined) return WasmResult.NotFound;
      const bytes = serializeProperty(value);
      if (bytes === null) return WasmResult.SerializationFailure;
      mem.copyOut(bytes, valuePtrPtr, valueSizePtr);
      return WasmResult.Ok;
    },
    proxy_set_property(pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
      const stream = host.stream();
      if (stream === null) return WasmResult.NotFound; // Envoy: no stream info on a root context
      // Envoy keys it `wasm.` + the raw path: segments stay NUL-separated, so only a one-segment path
      // reads back (as itself or filter_state `wasm.<path>`; measured, test/envoy/filter-state.test.ts).
      stream.filterState.set('wasm.' + segmentsOf(pathPtr, pathSize).join('\0'), mem.bytes(valuePtr, valueSize));
      return WasmResult.Ok;
    },
  };
}
