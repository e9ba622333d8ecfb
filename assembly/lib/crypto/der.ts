// DER encoders for Envoy's `verify_signature` foreign function, which takes a DER
// SubjectPublicKeyInfo (RFC 5280 / RFC 3279 / RFC 5480) and, for ECDSA, a DER Ecdsa-Sig-Value.
import { Curve, curveByteLength } from './ecdsa';

const RSA_ALG_ID: StaticArray<u8> = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
const P256_ALG_ID: StaticArray<u8> = [
  0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
];
const P384_ALG_ID: StaticArray<u8> = [
  0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
];

function lengthSize(len: i32): i32 {
  return len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4;
}

function tlvSize(contentLen: i32): i32 {
  return 1 + lengthSize(contentLen) + contentLen;
}

/** Writes tag and length at `p`; returns the position of the content. */
function header(p: usize, tag: u8, len: i32): usize {
  store<u8>(p, tag);
  p++;
  if (len < 0x80) {
    store<u8>(p, <u8>len);
    return p + 1;
  }
  const n = lengthSize(len) - 1;
  store<u8>(p, <u8>(0x80 | n));
  for (let i = 0; i < n; i++) store<u8>(p + 1 + <usize>i, <u8>(len >>> ((<u32>(n - 1 - i)) << 3)));
  return p + 1 + <usize>n;
}

/** The number of zero bytes the big-endian value at (p, len) starts with. */
function leadingZeros(p: usize, len: i32): i32 {
  let start = 0;
  while (start < len && load<u8>(p + <usize>start) == 0) start++;
  return start;
}

/** Content length of a DER INTEGER holding the unsigned big-endian value at (p, len). */
function integerContentLen(p: usize, len: i32): i32 {
  const start = leadingZeros(p, len);
  if (start == len) return 1;
  return len - start + ((load<u8>(p + <usize>start) & 0x80) != 0 ? 1 : 0);
}

/** Writes a DER INTEGER for the unsigned value at (src, len); returns the end position. */
function writeInteger(p: usize, src: usize, len: i32): usize {
  const content = integerContentLen(src, len);
  let q = header(p, 0x02, content);
  const start = leadingZeros(src, len);
  const significant = len - start;
  if (content > significant) {
    store<u8>(q, 0);
    q++;
  }
  memory.copy(q, src + <usize>start, <usize>significant);
  return q + <usize>significant;
}

function writeBytes(p: usize, bytes: StaticArray<u8>): usize {
  memory.copy(p, changetype<usize>(bytes), <usize>bytes.length);
  return p + <usize>bytes.length;
}

/**
 * A SubjectPublicKeyInfo for `algId` whose BIT STRING (no unused bits) holds `keyLen` bytes; the
 * caller writes them at keyAt(out, keyLen), the end of the buffer.
 */
function spki(algId: StaticArray<u8>, keyLen: i32): ArrayBuffer {
  const bitStringContent = 1 + keyLen;
  const spkiContent = algId.length + tlvSize(bitStringContent);
  const out = new ArrayBuffer(tlvSize(spkiContent));
  let p = header(changetype<usize>(out), 0x30, spkiContent);
  p = writeBytes(p, algId);
  p = header(p, 0x03, bitStringContent);
  store<u8>(p, 0); // no unused bits
  return out;
}

function keyAt(out: ArrayBuffer, keyLen: i32): usize {
  return changetype<usize>(out) + <usize>(out.byteLength - keyLen);
}

/** SubjectPublicKeyInfo of an RSA key (rsaEncryption, NULL parameters) from JWK n and e bytes. */
export function rsaSpkiDer(n: ArrayBuffer, e: ArrayBuffer): ArrayBuffer {
  const np = changetype<usize>(n);
  const ep = changetype<usize>(e);
  const keySeqContent = tlvSize(integerContentLen(np, n.byteLength)) + tlvSize(integerContentLen(ep, e.byteLength));
  const keyLen = tlvSize(keySeqContent);
  const out = spki(RSA_ALG_ID, keyLen);
  let p = header(keyAt(out, keyLen), 0x30, keySeqContent);
  p = writeInteger(p, np, n.byteLength);
  writeInteger(p, ep, e.byteLength);
  return out;
}

/** Copies the big-endian value (src, len) right-aligned into `width` bytes at p; false if too long. */
function writeFixed(p: usize, src: usize, len: i32, width: i32): bool {
  const start = leadingZeros(src, len);
  const significant = len - start;
  if (significant > width) return false;
  memory.fill(p, 0, <usize>(width - significant));
  memory.copy(p + <usize>(width - significant), src + <usize>start, <usize>significant);
  return true;
}

/** SubjectPublicKeyInfo of an EC key (id-ecPublicKey, named curve, uncompressed point); null if x or y is too long. */
export function ecSpkiDer(curve: Curve, x: ArrayBuffer, y: ArrayBuffer): ArrayBuffer | null {
  if (curve != Curve.P256 && curve != Curve.P384) return null;
  const width = curveByteLength(curve);
  const algId = curve == Curve.P256 ? P256_ALG_ID : P384_ALG_ID;
  const keyLen = 1 + 2 * width;
  const out = spki(algId, keyLen);
  let p = keyAt(out, keyLen);
  store<u8>(p, 4); // uncompressed point
  p++;
  if (!writeFixed(p, changetype<usize>(x), x.byteLength, width)) return null;
  if (!writeFixed(p + <usize>width, changetype<usize>(y), y.byteLength, width)) return null;
  return out;
}

/** DER Ecdsa-Sig-Value SEQUENCE { r INTEGER, s INTEGER } from a P1363 r || s signature; null if its length is odd or zero. */
export function ecdsaP1363ToDer(sig: ArrayBuffer): ArrayBuffer | null {
  const len = sig.byteLength;
  if (len == 0 || (len & 1) != 0) return null;
  const half = len >> 1;
  const sp = changetype<usize>(sig);
  const content = tlvSize(integerContentLen(sp, half)) + tlvSize(integerContentLen(sp + <usize>half, half));
  const out = new ArrayBuffer(tlvSize(content));
  let p = header(changetype<usize>(out), 0x30, content);
  p = writeInteger(p, sp, half);
  writeInteger(p, sp + <usize>half, half);
  return out;
}
