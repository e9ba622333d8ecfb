// Counting gRPC messages in a body stream, as Envoy's grpc_stats filter does for Istio's
// istio_request_messages_total / istio_response_messages_total (its FrameInspector counts a message
// when the first byte of its 5-byte prefix arrives: 1 flag byte, 4 bytes big-endian length). Pure:
// the adapter reads only the prefix bytes of each chunk, never the payloads.
export const GRPC_PREFIX_BYTES: i32 = 5;

export class GrpcFrames {
  /** Messages started so far. */
  messages: u64 = 0;
  private payloadLeft: u64 = 0;
  private prefixHave: i32 = 0;
  private length: u64 = 0;

  /**
   * From `pos` in a chunk of `size` bytes, skips what is left of the current payload; returns
   * where the next prefix bytes start, or `size` when this chunk holds none.
   */
  skip(pos: u32, size: u32): u32 {
    if (this.prefixHave > 0 || pos >= size) return pos;
    const left = <u64>(size - pos);
    if (this.payloadLeft >= left) {
      this.payloadLeft -= left;
      return size;
    }
    const at = pos + <u32>this.payloadLeft;
    this.payloadLeft = 0;
    return at;
  }

  /** How many prefix bytes to read at a position `skip` returned. */
  get prefixWanted(): i32 {
    return GRPC_PREFIX_BYTES - this.prefixHave;
  }

  /** Takes prefix bytes read at `pos` (at most prefixWanted); returns the position after them. */
  prefix(bytes: Uint8Array, pos: u32): u32 {
    for (let i = 0; i < bytes.length; i++) {
      if (this.prefixHave == 0) this.messages++;
      else this.length = (this.length << 8) | (<u64>bytes[i]);
      this.prefixHave++;
      if (this.prefixHave == GRPC_PREFIX_BYTES) {
        this.payloadLeft = this.length;
        this.length = 0;
        this.prefixHave = 0;
      }
    }
    return pos + <u32>bytes.length;
  }
}
