// The ABI's pairs format for header maps, metadata and map-valued properties:
//   u32 count, then count x (u32 keySize, u32 valueSize), then each key and value followed by a NUL.
// Pure: no host calls, so as-pect tests it directly.

/** One header (or map entry) as raw bytes. */
export class Pair {
  constructor(
    public key: ArrayBuffer,
    public value: ArrayBuffer,
  ) {}

  static fromStrings(key: string, value: string): Pair {
    return new Pair(String.UTF8.encode(key), String.UTF8.encode(value));
  }

  get keyString(): string {
    return String.UTF8.decode(this.key);
  }

  get valueString(): string {
    return String.UTF8.decode(this.value);
  }
}

/** Serializes pairs into one buffer the host can read. */
export function encodePairs(pairs: Pair[]): ArrayBuffer {
  let size: i32 = 4 + pairs.length * 8;
  for (let i = 0; i < pairs.length; i++) {
    size += pairs[i].key.byteLength + 1 + pairs[i].value.byteLength + 1;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, pairs.length);
  let sizes = base + 4;
  let data = base + 4 + <usize>pairs.length * 8;
  for (let i = 0; i < pairs.length; i++) {
    const key = pairs[i].key;
    const value = pairs[i].value;
    store<u32>(sizes, key.byteLength);
    store<u32>(sizes + 4, value.byteLength);
    sizes += 8;
    memory.copy(data, changetype<usize>(key), key.byteLength);
    data += key.byteLength;
    store<u8>(data++, 0);
    memory.copy(data, changetype<usize>(value), value.byteLength);
    data += value.byteLength;
    store<u8>(data++, 0);
  }
  return out;
}

/**
 * Walks a pairs buffer entry by entry without copying, checking every size against the buffer's end.
 * An empty buffer has no entries; a truncated or inconsistent one sets `bad` (never a trap).
 */
class PairsReader {
  bad: bool = false;
  key: usize = 0;
  keySize: usize = 0;
  value: usize = 0;
  valueSize: usize = 0;
  private remaining: usize = 0;
  private sizes: usize = 0;
  private data: usize = 0;
  private end: usize = 0;

  constructor(buf: ArrayBuffer) {
    const total = <usize>buf.byteLength;
    const base = changetype<usize>(buf);
    const count: usize = total < 4 ? 0 : <usize>load<u32>(base);
    if (total == 0) {
      // no entries
    } else if (total < 4 || count > (total - 4) / 8) {
      this.bad = true;
    } else {
      this.remaining = count;
      this.sizes = base + 4;
      this.data = base + 4 + count * 8;
      this.end = base + total;
    }
  }

  /** Moves to the next entry (key, keySize, value, valueSize); false at the end or when `bad`. */
  next(): bool {
    if (this.remaining == 0) return false;
    this.remaining--;
    const keySize = <usize>load<u32>(this.sizes);
    const valueSize = <usize>load<u32>(this.sizes + 4);
    this.sizes += 8;
    // Summed in 64 bits: a 32-bit sum of two u32 sizes may wrap.
    if (<u64>keySize + <u64>valueSize + 2 > <u64>(this.end - this.data)) {
      this.bad = true;
      this.remaining = 0;
      return false;
    }
    this.key = this.data;
    this.keySize = keySize;
    this.value = this.data + keySize + 1;
    this.valueSize = valueSize;
    this.data += keySize + 1 + valueSize + 1;
    return true;
  }
}

function copyOut(ptr: usize, size: usize): ArrayBuffer {
  const out = new ArrayBuffer(<i32>size);
  memory.copy(changetype<usize>(out), ptr, size);
  return out;
}

/** Parses the pairs format. A truncated or inconsistent buffer yields null, never a trap. */
export function decodePairs(buf: ArrayBuffer): Pair[] | null {
  const r = new PairsReader(buf);
  const result = new Array<Pair>();
  while (r.next()) result.push(new Pair(copyOut(r.key, r.keySize), copyOut(r.value, r.valueSize)));
  return r.bad ? null : result;
}

/**
 * The values of every entry named `key` in a pairs buffer, in order, without decoding the other
 * entries (a header sent several times has several). A truncated or inconsistent buffer yields null.
 */
export function pairValues(buf: ArrayBuffer, key: ArrayBuffer): ArrayBuffer[] | null {
  const r = new PairsReader(buf);
  const result = new Array<ArrayBuffer>();
  const keyBase = changetype<usize>(key);
  const want = <usize>key.byteLength;
  while (r.next()) {
    if (r.keySize == want && memory.compare(r.key, keyBase, want) == 0) result.push(copyOut(r.value, r.valueSize));
  }
  return r.bad ? null : result;
}

/** pairValues for a header name, each value decoded as UTF-8; empty when absent or the buffer is inconsistent. */
export function pairStringValues(buf: ArrayBuffer, name: string): string[] {
  const out = new Array<string>();
  const values = pairValues(buf, String.UTF8.encode(name));
  if (values === null) return out;
  for (let i = 0; i < values.length; i++) out.push(String.UTF8.decode(values[i]));
  return out;
}

/**
 * The first value of each of `keys` in a pairs buffer (null when absent), and the total size of
 * every key and value (Envoy's header map byte size). Values are decoded as UTF-8 on first `get`
 * only; `valueIs` compares one with raw bytes without decoding it. A truncated or inconsistent
 * buffer reads as an empty map: no values, size 0.
 */
export class PairsLookup {
  byteSize: i64 = 0;
  private readonly buf: ArrayBuffer | null;
  // Per wanted key: its value's offset in `buf` (-1: absent) and size, then the decoded value.
  private readonly spans: StaticArray<i32>;
  private readonly decoded: StaticArray<string | null>;

  constructor(buf: ArrayBuffer | null, keys: ArrayBuffer[]) {
    this.buf = buf;
    this.spans = new StaticArray<i32>(keys.length << 1);
    this.decoded = new StaticArray<string | null>(keys.length);
    for (let k = 0; k < keys.length; k++) unchecked((this.spans[k << 1] = -1));
    if (buf !== null) this.read(buf, keys);
  }

  private read(buf: ArrayBuffer, keys: ArrayBuffer[]): void {
    const r = new PairsReader(buf);
    const base = changetype<usize>(buf);
    let size: i64 = 0;
    while (r.next()) {
      size += <i64>r.keySize + <i64>r.valueSize;
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k];
        // Every slot of a key listed twice gets its first value.
        if (
          unchecked(this.spans[k << 1]) < 0 &&
          <usize>key.byteLength == r.keySize &&
          memory.compare(r.key, changetype<usize>(key), r.keySize) == 0
        ) {
          unchecked((this.spans[k << 1] = <i32>(r.value - base)));
          unchecked((this.spans[(k << 1) + 1] = <i32>r.valueSize));
        }
      }
    }
    if (r.bad) {
      for (let k = 0; k < keys.length; k++) unchecked((this.spans[k << 1] = -1));
    } else {
      this.byteSize = size;
    }
  }

  has(i: i32): bool {
    return this.spans[i << 1] >= 0;
  }

  get(i: i32): string | null {
    const at = this.spans[i << 1];
    if (at < 0) return null;
    let s = unchecked(this.decoded[i]);
    if (s === null) {
      s = String.UTF8.decodeUnsafe(changetype<usize>(this.buf) + <usize>at, <usize>unchecked(this.spans[(i << 1) + 1]));
      unchecked((this.decoded[i] = s));
    }
    return s;
  }

  /** Whether key i is present with exactly these bytes as its value. */
  valueIs(i: i32, bytes: ArrayBuffer): bool {
    const at = this.spans[i << 1];
    const size = unchecked(this.spans[(i << 1) + 1]);
    if (at < 0 || size != bytes.byteLength) return false;
    return memory.compare(changetype<usize>(this.buf) + <usize>at, changetype<usize>(bytes), <usize>size) == 0;
  }

  /** A copy of key i's raw value (null when absent). */
  valueBytes(i: i32): ArrayBuffer | null {
    const at = this.spans[i << 1];
    return at < 0 ? null : copyOut(changetype<usize>(this.buf) + <usize>at, <usize>unchecked(this.spans[(i << 1) + 1]));
  }
}

/** Whether `size` bytes at `ptr` are `s` in UTF-8, without allocating when `s` is ASCII (header names are). */
function bytesEqualString(ptr: usize, size: usize, s: string): bool {
  const n = <usize>s.length;
  const sp = changetype<usize>(s);
  for (let i: usize = 0; i < n; i++) {
    const c = <u32>load<u16>(sp + (i << 1));
    if (c >= 0x80) return String.UTF8.decodeUnsafe(ptr, size) == s;
    if (i >= size || <u32>load<u8>(ptr + i) != c) return false;
  }
  return size == n;
}

/**
 * A pairs buffer (one host call for a whole header map) read in place: entries by position, looked
 * up by name without decoding the others; only the values asked for are decoded. The buffer is
 * checked once: a truncated or inconsistent one reads as an empty map (`bad`), never a trap.
 */
export class PairsIndex {
  count: i32 = 0;
  bad: bool = false;
  // The entry `seek` last moved to: its index and where its key and value are.
  private at: i32 = -1;
  private key: usize = 0;
  private keySize: usize = 0;
  private value_: usize = 0;
  private valueSize: usize = 0;

  constructor(public readonly buffer: ArrayBuffer) {
    // Every entry's sizes against the buffer's end, summed in 64 bits (two u32 sizes may wrap).
    const base = changetype<usize>(buffer);
    const total = <u64>buffer.byteLength;
    const count: u64 = total < 4 ? 0 : <u64>load<u32>(base);
    // An empty buffer is an empty map.
    let ok = total == 0 || (total >= 4 && count <= (total - 4) >> 3);
    let end: u64 = 4 + (count << 3);
    for (let i: usize = 0; ok && <u64>i < count; i++) {
      end += <u64>load<u32>(base + 4 + (i << 3)) + <u64>load<u32>(base + 8 + (i << 3)) + 2;
      ok = end <= total;
    }
    this.bad = !ok;
    this.count = ok ? <i32>count : 0;
  }

  /** Moves to entry i (0 <= i < count), walking forward from the last one (or the first). */
  private seek(i: i32): void {
    const base = changetype<usize>(this.buffer);
    let at = this.at;
    let next: usize;
    if (at < 0 || at > i) {
      at = -1;
      next = base + 4 + ((<usize>this.count) << 3);
    } else next = this.value_ + this.valueSize + 1;
    while (at < i) {
      at++;
      const sizes = base + 4 + ((<usize>at) << 3);
      this.key = next;
      this.keySize = <usize>load<u32>(sizes);
      this.value_ = next + this.keySize + 1;
      this.valueSize = <usize>load<u32>(sizes + 4);
      next = this.value_ + this.valueSize + 1;
    }
    this.at = at;
  }

  /** The first entry at or after `from` (>= 0) named `name`, or -1. */
  indexOf(name: string, from: i32 = 0): i32 {
    for (let i = from; i < this.count; i++) {
      this.seek(i);
      if (bytesEqualString(this.key, this.keySize, name)) return i;
    }
    return -1;
  }

  /** Entry i's key, decoded. */
  name(i: i32): string {
    this.seek(i);
    return String.UTF8.decodeUnsafe(this.key, this.keySize);
  }

  /** Entry i's value, decoded. */
  value(i: i32): string {
    this.seek(i);
    return String.UTF8.decodeUnsafe(this.value_, this.valueSize);
  }

  /** The first value named `name`, decoded, or null. */
  first(name: string): string | null {
    const i = this.indexOf(name);
    return i < 0 ? null : this.value(i);
  }

  /** Every value named `name`, in order, decoded (empty: absent). */
  values(name: string): string[] {
    const out = new Array<string>();
    for (let i = this.indexOf(name); i >= 0; i = this.indexOf(name, i + 1)) out.push(this.value(i));
    return out;
  }

  /** Whether an entry is named `name`. */
  has(name: string): bool {
    return this.indexOf(name) >= 0;
  }
}
