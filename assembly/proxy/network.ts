// The data of a TCP connection, for network contexts: what arrived in the current
// onDownstreamData / onUpstreamData callback, readable and replaceable without raw pointers.
import { BufferType, WasmResult } from './enums';
import { getBufferBytes, getBufferLength, setBufferBytes } from './buffers';

export class ConnectionData {
  constructor(public readonly bufferType: BufferType) {}

  /** Bytes [start, start+maxSize) of the data of this callback (all from start by default); null when the host has none. */
  bytes(start: u32 = 0, maxSize: u32 = u32.MAX_VALUE): ArrayBuffer | null {
    if (maxSize == u32.MAX_VALUE) {
      const n = this.length();
      maxSize = n <= <i64>start ? 0 : <u32>(n - <i64>start);
    }
    return getBufferBytes(this.bufferType, start, maxSize);
  }

  /** Its length now, or -1 outside a data callback. */
  length(): i64 {
    return getBufferLength(this.bufferType);
  }

  // Envoy's buffer writes are whole-buffer replace, prepend or append (BufferWrapper::copyFrom).
  /** Replaces all of it: the next filter sees `data` instead. */
  set(data: ArrayBuffer): WasmResult {
    const n = this.length();
    return setBufferBytes(this.bufferType, 0, n <= 0 ? u32.MAX_VALUE : <u32>n, data);
  }
  prepend(data: ArrayBuffer): WasmResult {
    return setBufferBytes(this.bufferType, 0, 0, data);
  }
  append(data: ArrayBuffer): WasmResult {
    const n = this.length();
    return setBufferBytes(this.bufferType, n < 0 ? 0 : <u32>n, 0, data);
  }
}

/** Bytes from the client, in onDownstreamData. */
export const downstreamData = new ConnectionData(BufferType.DownstreamData);
/** Bytes from the upstream, in onUpstreamData. */
export const upstreamData = new ConnectionData(BufferType.UpstreamData);
