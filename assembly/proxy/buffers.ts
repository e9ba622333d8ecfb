// Buffers: bodies, configuration, http-call responses.
import { proxy_get_buffer_bytes, proxy_set_buffer_bytes, proxy_get_buffer_status } from './hostcalls';
import { BufferType, WasmResult } from './enums';
import { RETURN_PTR, RETURN_SIZE, clearReturnSlots, takeReturnedBuffer } from './memory';

/** Bytes [start, start+maxSize) of a buffer; null when the buffer does not exist now. */
export function getBufferBytes(bufferType: BufferType, start: u32, maxSize: u32): ArrayBuffer | null {
  clearReturnSlots();
  const result = proxy_get_buffer_bytes(bufferType, start, maxSize, RETURN_PTR, RETURN_SIZE);
  if (result == WasmResult.Ok) return takeReturnedBuffer();
  if (result == WasmResult.NotFound || result == WasmResult.Empty) return new ArrayBuffer(0);
  return null;
}

/** Replaces size bytes at start with data (start 0, size = current length replaces everything). */
export function setBufferBytes(bufferType: BufferType, start: u32, size: u32, data: ArrayBuffer): WasmResult {
  return <WasmResult>proxy_set_buffer_bytes(bufferType, start, size, changetype<usize>(data), data.byteLength);
}

/** Current length of a buffer, or -1 when unavailable. */
export function getBufferLength(bufferType: BufferType): i64 {
  store<u32>(RETURN_PTR, 0);
  store<u32>(RETURN_SIZE, 0);
  const result = proxy_get_buffer_status(bufferType, RETURN_PTR, RETURN_SIZE);
  return result == WasmResult.Ok ? <i64>load<u32>(RETURN_PTR) : -1;
}

/** The plugin configuration (Envoy: the filter's `configuration`), as bytes. */
export function pluginConfiguration(size: u32): ArrayBuffer {
  const bytes = getBufferBytes(BufferType.PluginConfiguration, 0, size);
  return bytes === null ? new ArrayBuffer(0) : bytes;
}

/** The VM configuration (Envoy: vm_config.configuration), as bytes. */
export function vmConfiguration(size: u32): ArrayBuffer {
  const bytes = getBufferBytes(BufferType.VmConfiguration, 0, size);
  return bytes === null ? new ArrayBuffer(0) : bytes;
}
