// Envoy's `verify_signature` foreign function speaks protobuf: VerifySignatureArguments in
// { 1 hash_function, 2 public_key (DER SubjectPublicKeyInfo), 3 signature, 4 text }, and
// VerifySignatureResult out { 1 result (bool), 2 error }. A minimal codec for just those two
// messages. Pure: no host calls, so as-pect tests it.

function pushVarint(out: Array<u8>, v: u32): void {
  while (v >= 0x80) {
    out.push(<u8>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push(<u8>v);
}

function pushBytesField(out: Array<u8>, field: u32, data: ArrayBuffer): void {
  pushVarint(out, (field << 3) | 2);
  pushVarint(out, <u32>data.byteLength);
  const p = changetype<usize>(data);
  for (let i = 0; i < data.byteLength; i++) out.push(load<u8>(p + <usize>i));
}

export function encodeVerifySignatureArguments(
  hashFunction: string,
  publicKeyDer: ArrayBuffer,
  signature: ArrayBuffer,
  text: ArrayBuffer,
): ArrayBuffer {
  const out = new Array<u8>();
  pushBytesField(out, 1, String.UTF8.encode(hashFunction));
  pushBytesField(out, 2, publicKeyDer);
  pushBytesField(out, 3, signature);
  pushBytesField(out, 4, text);
  const buf = new ArrayBuffer(out.length);
  memory.copy(changetype<usize>(buf), out.dataStart, <usize>out.length);
  return buf;
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
