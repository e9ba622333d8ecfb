// UTF-8 helpers over bytes. Pure: no host calls.

/** The code point of the sequence utf8SequenceAt last decoded. */
export let utf8CodePoint: u32 = 0;

/** The length of the UTF-8 sequence at offset `i` (< `size`) of the `size` bytes at `ptr` (with `decode`, its code
 * point in utf8CodePoint); 0 when it is not valid RFC 3629 UTF-8 (an overlong, a surrogate, above U+10FFFF, truncated).
 * Inlined: a constant `decode` = false leaves only the validation. */
// @ts-ignore: decorator
@inline
export function utf8SequenceAt(ptr: usize, size: i32, i: i32, decode: bool): i32 {
  const c = <u32>load<u8>(ptr + <usize>i);
  if (c < 0x80) {
    if (decode) utf8CodePoint = c;
    return 1;
  }
  let need = 0;
  let min: u32 = 0;
  let cp: u32 = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    need = 1;
    cp = c & 0x1f;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    cp = c & 0x0f;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    cp = c & 0x07;
    min = 0x10000;
  } else return 0;
  if (i + need >= size) return 0; // truncated sequence
  for (let k = 1; k <= need; k++) {
    const b = <u32>load<u8>(ptr + <usize>(i + k));
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  if (decode) utf8CodePoint = cp;
  return need + 1;
}

/** -1 when `size` bytes at `ptr` are valid UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), else the offset of the first byte of the first bad sequence. */
export function utf8Valid(ptr: usize, size: i32): i32 {
  let i = 0;
  while (i < size) {
    const n = utf8SequenceAt(ptr, size, i, false);
    if (n == 0) return i;
    i += n;
  }
  return -1;
}

export function isValidUtf8(bytes: ArrayBuffer): bool {
  return utf8Valid(changetype<usize>(bytes), bytes.byteLength) < 0;
}
