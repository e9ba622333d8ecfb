// Base64 (RFC 4648 section 4) and base64url (section 5). Decoders return null on any bad input
// (wrong alphabet, bad length, non-zero padding bits) so a malformed token never traps.
// Pure: no host calls.
import { isAsciiSpace, joinStrings } from './strings';

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function sextet(c: u32, url: bool): i32 {
  if (c >= 0x41 && c <= 0x5a) return <i32>c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return <i32>c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return <i32>c - 0x30 + 52;
  if (url) {
    if (c == 0x2d) return 62;
    if (c == 0x5f) return 63;
  } else {
    if (c == 0x2b) return 62;
    if (c == 0x2f) return 63;
  }
  return -1;
}

/** Decodes `size` bytes of base64 text at `ptr`. Padding: required for standard base64,
 * optional (but must be right when present) for base64url. */
export function base64DecodeAt(ptr: usize, size: i32, url: bool): ArrayBuffer | null {
  let n = size;
  let padding = 0;
  while (n > 0 && load<u8>(ptr + <usize>(n - 1)) == 0x3d) {
    n--;
    padding++;
  }
  if (padding > 2) return null;
  if (padding > 0 && size % 4 != 0) return null;
  if (!url && size % 4 != 0) return null;
  const rem = n % 4;
  if (rem == 1) return null;
  const outLen = (n / 4) * 3 + (rem == 0 ? 0 : rem - 1);
  const out = new ArrayBuffer(outLen);
  const o = changetype<usize>(out);
  let acc: u32 = 0;
  let bits = 0;
  let w = 0;
  for (let i = 0; i < n; i++) {
    const v = sextet(<u32>load<u8>(ptr + <usize>i), url);
    if (v < 0) return null;
    acc = (acc << 6) | (<u32>v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      store<u8>(o + <usize>w, <u8>(acc >> (<u32>bits)));
      w++;
    }
  }
  // Leftover bits must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1 << (<u32>bits)) - 1)) != 0) return null;
  return out;
}

export function base64Decode(text: string): ArrayBuffer | null {
  const b = String.UTF8.encode(text);
  return base64DecodeAt(changetype<usize>(b), b.byteLength, false);
}

export function base64UrlDecode(text: string): ArrayBuffer | null {
  const b = String.UTF8.encode(text);
  return base64DecodeAt(changetype<usize>(b), b.byteLength, true);
}

function encode(data: ArrayBuffer, alphabet: string, pad: bool): string {
  const p = changetype<usize>(data);
  const n = data.byteLength;
  const parts = new Array<string>();
  let out = '';
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = ((<u32>load<u8>(p + <usize>i)) << 16) | ((<u32>load<u8>(p + <usize>i + 1)) << 8) | (<u32>load<u8>(p + <usize>i + 2));
    out += alphabet.charAt(v >> 18) + alphabet.charAt((v >> 12) & 63) + alphabet.charAt((v >> 6) & 63) + alphabet.charAt(v & 63);
    if (out.length >= 1024) {
      parts.push(out);
      out = '';
    }
  }
  const rem = n - i;
  if (rem == 1) {
    const v = (<u32>load<u8>(p + <usize>i)) << 16;
    out += alphabet.charAt(v >> 18) + alphabet.charAt((v >> 12) & 63) + (pad ? '==' : '');
  } else if (rem == 2) {
    const v = ((<u32>load<u8>(p + <usize>i)) << 16) | ((<u32>load<u8>(p + <usize>i + 1)) << 8);
    out += alphabet.charAt(v >> 18) + alphabet.charAt((v >> 12) & 63) + alphabet.charAt((v >> 6) & 63) + (pad ? '=' : '');
  }
  parts.push(out);
  return joinStrings(parts);
}

export function base64Encode(data: ArrayBuffer): string {
  return encode(data, STD, true);
}
export function base64UrlEncode(data: ArrayBuffer): string {
  return encode(data, URL, false);
}

/**
 * base64url as Envoy's JWT library reads a token segment (absl::WebSafeBase64Unescape): whitespace
 * anywhere is skipped, '=' or '.' start the padding (0 or exactly the missing count), non-zero
 * padding bits are accepted, one leftover character is an error. null on bad input.
 */
export function base64UrlDecodeLenient(text: string): ArrayBuffer | null {
  return base64UrlDecodeLenientRange(text, 0, text.length);
}

/**
 * base64UrlDecodeLenient of code units [start, end) of `s`, read in place (a token's segment without
 * cutting it out): a code unit above 0x7f is as invalid as its UTF-8 bytes were.
 */
export function base64UrlDecodeLenientRange(s: string, start: i32, end: i32): ArrayBuffer | null {
  // sextet(c, true) of each ASCII code unit (-1 outside the alphabet) as a table read in the loops:
  // branches per character were 5 % of a new token's Envoy instructions, and a function for the
  // lookup was not inlined (≈ 10k more per token).
  // prettier-ignore
  const urlSextet = memory.data<i8>([
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
  ]);
  const p = changetype<usize>(s);
  // The output's size from the characters before the padding, so it is allocated once.
  let count = 0;
  for (let i = start; i < end; i++) {
    const c = <u32>load<u16>(p + ((<usize>i) << 1));
    if (c < 0x80 && load<i8>(urlSextet + <usize>c) >= 0) count++;
    else if (c == 0x3d || c == 0x2e || !isAsciiSpace(c)) break;
  }
  const out = new ArrayBuffer((count * 6) >> 3);
  const o = changetype<usize>(out);
  let w = 0;
  let acc: u32 = 0;
  let state = 0;
  let i = start;
  for (; i < end; i++) {
    const c = <u32>load<u16>(p + ((<usize>i) << 1));
    const v = c < 0x80 ? <i32>load<i8>(urlSextet + <usize>c) : -1;
    if (v >= 0) {
      acc = (acc << 6) | (<u32>v);
      if (++state == 4) {
        store<u8>(o + <usize>w, <u8>(acc >> 16));
        store<u8>(o + <usize>w + 1, <u8>(acc >> 8));
        store<u8>(o + <usize>w + 2, <u8>acc);
        w += 3;
        state = 0;
        acc = 0;
      }
    } else if (isAsciiSpace(c)) {
      continue;
    } else if (c == 0x3d || c == 0x2e) {
      break;
    } else return null;
  }
  let expected = 0;
  if (state == 1) return null;
  if (state == 2) {
    store<u8>(o + <usize>w, <u8>(acc >> 4));
    w += 1;
    expected = 2;
  }
  if (state == 3) {
    store<u8>(o + <usize>w, <u8>(acc >> 10));
    store<u8>(o + <usize>w + 1, <u8>(acc >> 2));
    w += 2;
    expected = 1;
  }
  let equals = 0;
  for (; i < end; i++) {
    const c = <u32>load<u16>(p + ((<usize>i) << 1));
    if (c == 0x3d || c == 0x2e) equals++;
    else if (!isAsciiSpace(c)) return null;
  }
  if (equals != 0 && equals != expected) return null;
  return out;
}
