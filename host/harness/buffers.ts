// proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes.
import { BufferType, WasmResult } from './abi.ts';
import type { HostState, StreamState } from './state.ts';

interface Slot {
  get(): Uint8Array | null;
  set?(data: Uint8Array): void;
  unset?: boolean;
}

const EMPTY = new Uint8Array(0);
/** Envoy wraps a missing stream buffer as an empty one: reads answer Ok with nothing, writes Unimplemented. */
const ABSENT: Slot = { get: () => EMPTY, unset: true };

function slotOf(host: HostState, type: number): Slot | null {
  const stream = host.stream();
  const bodySlot = (key: 'requestBody' | 'responseBody' | 'downstreamData' | 'upstreamData'): Slot => {
    if (stream === null || stream[key] === null) return ABSENT;
    return {
      get: () => stream[key],
      set: (data) => {
        (stream as StreamState)[key] = data;
      },
    };
  };
  switch (type) {
    case BufferType.HttpRequestBody:
      return bodySlot('requestBody');
    case BufferType.HttpResponseBody:
      return bodySlot('responseBody');
    case BufferType.DownstreamData:
      return bodySlot('downstreamData');
    case BufferType.UpstreamData:
      return bodySlot('upstreamData');
    case BufferType.HttpCallResponseBody:
      return host.callResponse === null ? null : { get: () => host.callResponse!.body };
    case BufferType.VmConfiguration:
      return { get: () => host.vmConfig };
    case BufferType.PluginConfiguration:
      return host.configuring ? { get: () => host.pluginConfig } : null;
    case BufferType.GrpcReceiveBuffer:
      return host.grpcReceive?.message == null ? ABSENT : { get: () => host.grpcReceive!.message };
    default:
      return ABSENT; // call data: none here
  }
}

/** Envoy's BufferWrapper::copyFrom: prepend, replace all, or append; anything else is BadArgument. */
function splice(buffer: Uint8Array, start: number, length: number, data: Uint8Array): Uint8Array | null {
  if (start === 0 && length === 0) return concat(data, buffer);
  if (start === 0 && length >= buffer.length) return data.slice();
  if (start >= buffer.length) return concat(buffer, data);
  return null;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function bufferImports(host: HostState) {
  const { mem } = host;
  return {
    proxy_get_buffer_bytes(type: number, start: number, maxSize: number, ptrPtr: number, sizePtr: number): number {
      if (type > BufferType.CallData) return WasmResult.BadArgument;
      const buffer = slotOf(host, type)?.get() ?? null;
      if (buffer === null) return WasmResult.NotFound;
      start >>>= 0;
      maxSize >>>= 0;
      // cpp-host: a start past the end reads nothing (Ok, pointer 0, size 0).
      mem.copyOut(buffer.subarray(start, Math.min(buffer.length, start + maxSize)), ptrPtr, sizePtr);
      return WasmResult.Ok;
    },
    proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number): number {
      if (type > BufferType.CallData) return WasmResult.BadArgument;
      const buffer = slotOf(host, type)?.get() ?? null;
      if (buffer === null) return WasmResult.NotFound;
      mem.writeU32(lengthPtr, buffer.length);
      mem.writeU32(flagsPtr, 0); // cpp-host always reports flags 0
      return WasmResult.Ok;
    },
    proxy_set_buffer_bytes(type: number, start: number, size: number, ptr: number, dataSize: number): number {
      if (type > BufferType.CallData) return WasmResult.BadArgument;
      const slot = slotOf(host, type);
      const buffer = slot?.get() ?? null;
      if (slot === null || buffer === null) return WasmResult.NotFound;
      if (slot.unset) return WasmResult.Unimplemented; // proxy_wasm::BufferBase::copyFrom
      if (slot.set === undefined) return WasmResult.BadArgument; // Envoy: immutable buffers
      const next = splice(buffer, start >>> 0, size >>> 0, mem.bytes(ptr, dataSize));
      if (next === null) return WasmResult.BadArgument;
      slot.set(next);
      return WasmResult.Ok;
    },
  };
}
