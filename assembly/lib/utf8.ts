// UTF-8 helpers over bytes. Pure: no host calls.

/** -1 when `size` bytes at `ptr` are valid UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), else the offset of the first byte of the first bad sequence. */
export function utf8Valid(ptr: usize, size: i32): i32 {
  let i = 0;
  while (i < size) {
    const c = <u32>load<u8>(ptr + <usize>i);
    if (c < 0x80) {
      i++;
      continue;
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
    } else return i;
    if (i + need >= size) return i; // truncated sequence
    for (let k = 1; k <= need; k++) {
      const b = <u32>load<u8>(ptr + <usize>(i + k));
      if ((b & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

export function isValidUtf8(bytes: ArrayBuffer): bool {
  return utf8Valid(changetype<usize>(bytes), bytes.byteLength) < 0;
}

export function bytesEqual(a: ArrayBuffer, b: ArrayBuffer): bool {
  const n = a.byteLength;
  if (n != b.byteLength) return false;
  return memory.compare(changetype<usize>(a), changetype<usize>(b), <usize>n) == 0;
}
