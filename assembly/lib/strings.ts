// String helpers for hot paths. Pure: no host calls.

/**
 * Concatenates `parts` with one allocation. (Array<string>#join falls back to repeated
 * concatenation when the module is built with shrinkLevel >= 1, as ours are: quadratic.)
 */
export function joinStrings(parts: string[]): string {
  let total: usize = 0;
  for (let i = 0; i < parts.length; i++) total += <usize>parts[i].length;
  if (total == 0) return '';
  const out = changetype<string>(__new(total << 1, idof<string>()));
  let at = changetype<usize>(out);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const bytes = (<usize>p.length) << 1;
    memory.copy(at, changetype<usize>(p), bytes);
    at += bytes;
  }
  return out;
}

/**
 * Code units [start, end) of `s` stored at `dst`, one byte each (a unit's low byte): the UTF-8 of
 * an ASCII range without encoding it. Returns the OR of the units: 0x80 or more when one was not
 * ASCII (and its byte is then not its UTF-8).
 */
export function storeCodeUnits(s: string, start: i32, end: i32, dst: usize): u32 {
  const p = changetype<usize>(s);
  let all: u32 = 0;
  for (let i = start; i < end; i++) {
    const c = <u32>load<u16>(p + ((<usize>i) << 1));
    all |= c;
    store<u8>(dst + <usize>(i - start), <u8>c);
  }
  return all;
}

/** ASCII white space: space, \t, \n, \v, \f, \r. */
export function isAsciiSpace(c: u32): bool {
  return c == 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** The value of one hex digit (`0-9a-fA-F`), or -1. */
export function hexDigitValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}
