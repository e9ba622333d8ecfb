// Envoy's `verify_signature` foreign function speaks protobuf: VerifySignatureArguments in
// { 1 hash_function, 2 public_key (DER SubjectPublicKeyInfo), 3 signature, 4 text }, and
// VerifySignatureResult out { 1 result (bool), 2 error }. A minimal codec for just those two
// messages. Pure: no host calls, so as-pect tests it.

/** Writes one length-delimited field at `at`; returns the position after it. */
function writeBytesField(at: usize, field: u32, data: ArrayBuffer): usize {
  store<u8>(at++, <u8>((field << 3) | 2));
  let v = <u32>data.byteLength;
  while (v >= 0x80) {
    store<u8>(at++, <u8>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  store<u8>(at++, <u8>v);
  memory.copy(at, changetype<usize>(data), data.byteLength);
  return at + data.byteLength;
}

export function encodeVerifySignatureArguments(
  hashFunction: string,
  publicKeyDer: ArrayBuffer,
  signature: ArrayBuffer,
  text: ArrayBuffer,
): ArrayBuffer {
  // Written into one buffer with room for the four tags and lengths (6 bytes each at most), then cut
  // to size: two allocations per verification (a byte-by-byte array grew and copied).
  const hash = String.UTF8.encode(hashFunction);
  const buf = new ArrayBuffer(hash.byteLength + publicKeyDer.byteLength + signature.byteLength + text.byteLength + 24);
  const base = changetype<usize>(buf);
  let at = writeBytesField(base, 1, hash);
  at = writeBytesField(at, 2, publicKeyDer);
  at = writeBytesField(at, 3, signature);
  at = writeBytesField(at, 4, text);
  return buf.slice(0, <i32>(at - base));
}

/** True only for a well-formed VerifySignatureResult whose `result` is true. */
export function decodeVerifySignatureResult(data: ArrayBuffer): bool {
  const p = changetype<usize>(data);
  const n = data.byteLength;
  let i = 0;
  let ok = false;
  while (i < n) {
    const tag = load<u8>(p + <usize>i);
    i++;
    const wire = tag & 7;
    if (wire == 0) {
      let v: u64 = 0;
      let shift: u64 = 0;
      let done = false;
      while (i < n && !done) {
        const b = load<u8>(p + <usize>i);
        i++;
        v |= (<u64>(b & 0x7f)) << shift;
        shift += 7;
        done = (b & 0x80) == 0;
        if (!done && shift > 63) return false;
      }
      if (!done) return false;
      if (tag >> 3 == 1) ok = v == 1;
    } else if (wire == 2) {
      let len: i32 = 0;
      let shift: i32 = 0;
      let done = false;
      while (i < n && !done) {
        const b = load<u8>(p + <usize>i);
        i++;
        len |= (<i32>(b & 0x7f)) << shift;
        shift += 7;
        done = (b & 0x80) == 0;
        if (!done && shift > 28) return false;
      }
      if (!done || len < 0 || i + len > n) return false;
      i += len;
    } else return false;
  }
  return ok;
}
