// DER encodings Envoy's verify_signature needs: SubjectPublicKeyInfo for RSA and EC keys, and
// ECDSA signatures as SEQUENCE { r, s } (JWS sends them as r||s). Pure: no host calls.

function pushLen(out: u8[], len: i32): void {
  if (len < 0x80) { out.push(<u8>len); return; }
  if (len < 0x100) { out.push(0x81); out.push(<u8>len); return; }
  out.push(0x82); out.push(<u8>(len >> 8)); out.push(<u8>(len & 0xff));
}

function tlv(tag: u8, body: u8[]): u8[] {
  const out = new Array<u8>();
  out.push(tag);
  pushLen(out, body.length);
  for (let i = 0; i < body.length; i++) out.push(body[i]);
  return out;
}

function cat(a: u8[], b: u8[]): u8[] {
  const out = a.slice(0);
  for (let i = 0; i < b.length; i++) out.push(b[i]);
  return out;
}

function bytesOf(buf: ArrayBuffer, start: i32, end: i32): u8[] {
  const out = new Array<u8>();
  const p = changetype<usize>(buf);
  for (let i = start; i < end; i++) out.push(load<u8>(p + <usize>i));
  return out;
}

/** A non-negative INTEGER from big-endian bytes (minimal, with a 0x00 when the top bit is set). */
function derUint(b: u8[]): u8[] {
  let i = 0;
  while (i < b.length - 1 && b[i] == 0) i++;
  const body = new Array<u8>();
  if (b.length == 0) body.push(0);
  else if ((b[i] & 0x80) != 0) body.push(0);
  for (let j = i; j < b.length; j++) body.push(b[j]);
  return tlv(0x02, body);
}

function toBuffer(a: u8[]): ArrayBuffer {
  const out = new ArrayBuffer(a.length);
  const p = changetype<usize>(out);
  for (let i = 0; i < a.length; i++) store<u8>(p + <usize>i, a[i]);
  return out;
}

const RSA_ALG: u8[] = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
const EC_OID: u8[] = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256_OID: u8[] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID: u8[] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

export function rsaSpki(n: ArrayBuffer, e: ArrayBuffer): ArrayBuffer {
  const rsaKey = tlv(0x30, cat(derUint(bytesOf(n, 0, n.byteLength)), derUint(bytesOf(e, 0, e.byteLength))));
  const bits = new Array<u8>();
  bits.push(0);
  const body = tlv(0x03, cat(bits, rsaKey));
  return toBuffer(tlv(0x30, cat(RSA_ALG, body)));
}

export function ecSpki(crv: string, x: ArrayBuffer, y: ArrayBuffer): ArrayBuffer {
  const alg = tlv(0x30, cat(EC_OID, crv == 'P-384' ? P384_OID : P256_OID));
  const point = new Array<u8>();
  point.push(0);
  point.push(4);
  const bits = tlv(0x03, cat(cat(point, bytesOf(x, 0, x.byteLength)), bytesOf(y, 0, y.byteLength)));
  return toBuffer(tlv(0x30, cat(alg, bits)));
}

/** r||s (each half of the buffer) → DER SEQUENCE { INTEGER r, INTEGER s }. */
export function p1363ToDer(sig: ArrayBuffer): ArrayBuffer {
  const half = sig.byteLength / 2;
  return toBuffer(tlv(0x30, cat(derUint(bytesOf(sig, 0, half)), derUint(bytesOf(sig, half, sig.byteLength)))));
}
