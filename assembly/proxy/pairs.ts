// The ABI's pairs format for header maps, metadata and map-valued properties:
//   u32 count, then count x (u32 keySize, u32 valueSize), then each key and value followed by a NUL.
// Pure: no host calls, so as-pect tests it directly.

/** A filter's header write, as mesh.wasm's shared read of a map replays it (PairsIndex.edited). */
export const enum HeaderEdit {
  Add,
  Replace,
  Remove,
}

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

/** Parses the pairs format. A truncated or inconsistent buffer yields null, never a trap. */
export function decodePairs(buf: ArrayBuffer): Pair[] | null {
  const m = new PairsIndex(buf);
  if (m.bad) return null;
  const result = new Array<Pair>(m.count);
  for (let i = 0; i < m.count; i++) unchecked((result[i] = m.pair(i)));
  return result;
}

/** Writes one entry's sizes at `sizes` and its NUL-terminated key and value at `data`; returns the data's end. */
function putEntry(sizes: usize, data: usize, key: usize, keySize: usize, value: usize, valueSize: usize): usize {
  store<u32>(sizes, <u32>keySize);
  store<u32>(sizes + 4, <u32>valueSize);
  memory.copy(data, key, keySize);
  store<u8>(data + keySize, 0);
  memory.copy(data + keySize + 1, value, valueSize);
  store<u8>(data + keySize + 1 + valueSize, 0);
  return data + keySize + valueSize + 2;
}

/** `name` with ASCII upper case lowered (Envoy's LowerCaseString), the same buffer when it has none. */
function lowerAscii(name: ArrayBuffer): ArrayBuffer {
  const p = changetype<usize>(name);
  const n = <usize>name.byteLength;
  let i: usize = 0;
  while (i < n && (load<u8>(p + i) < 0x41 || load<u8>(p + i) > 0x5a)) i++;
  if (i == n) return name;
  const out = name.slice(0);
  const q = changetype<usize>(out);
  for (; i < n; i++) {
    const c = load<u8>(q + i);
    if (c >= 0x41 && c <= 0x5a) store<u8>(q + i, c + 0x20);
  }
  return out;
}

function copyOut(ptr: usize, size: usize): ArrayBuffer {
  const out = new ArrayBuffer(<i32>size);
  memory.copy(changetype<usize>(out), ptr, size);
  return out;
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
 * up by name without decoding the others; only the values asked for are decoded or copied. The
 * buffer is checked once: a truncated or inconsistent one reads as an empty map (`bad`), never a trap.
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

  /** The size of every key and value (Envoy's header map byte size); 0 when `bad`. */
  get byteSize(): i64 {
    const base = changetype<usize>(this.buffer);
    let size: i64 = 0;
    for (let i: usize = 0; i < <usize>this.count; i++) size += <i64>load<u32>(base + 4 + (i << 3)) + <i64>load<u32>(base + 8 + (i << 3));
    return size;
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

  /** For each of `keys` (raw names), the first entry so named, -1 when absent: one walk for them all. */
  locate(keys: ArrayBuffer[]): StaticArray<i32> {
    const n = keys.length;
    const out = new StaticArray<i32>(n);
    for (let k = 0; k < n; k++) unchecked((out[k] = -1));
    for (let i = 0; i < this.count; i++) {
      this.seek(i);
      for (let k = 0; k < n; k++) {
        const key = unchecked(keys[k]);
        if (
          unchecked(out[k]) < 0 &&
          <usize>key.byteLength == this.keySize &&
          memory.compare(this.key, changetype<usize>(key), this.keySize) == 0
        )
          unchecked((out[k] = i));
      }
    }
    return out;
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

  /** value(i), or null for i = -1 (what indexOf and locate answer for an absent name). */
  valueOrNull(i: i32): string | null {
    return i < 0 ? null : this.value(i);
  }

  /** Whether entry i (-1: none) has exactly these bytes as its value. */
  valueIs(i: i32, bytes: ArrayBuffer): bool {
    if (i < 0) return false;
    this.seek(i);
    return this.valueSize == <usize>bytes.byteLength && memory.compare(this.value_, changetype<usize>(bytes), this.valueSize) == 0;
  }

  /** A copy of entry i's raw value (null for i = -1). */
  valueBytes(i: i32): ArrayBuffer | null {
    if (i < 0) return null;
    this.seek(i);
    return copyOut(this.value_, this.valueSize);
  }

  /** A copy of entry i, key and value as raw bytes. */
  pair(i: i32): Pair {
    this.seek(i);
    return new Pair(copyOut(this.key, this.keySize), copyOut(this.value_, this.valueSize));
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

  /**
   * This map after `edit` of `name` (with `value`), as Envoy 1.40's HeaderMapImpl applies it (the
   * Rust probe's "header edits in map order" scenario; the harness's header-edits.ts): the name is
   * lower-cased; a remove drops every entry of the name; a replace drops them and adds one; an entry
   * added goes after the pseudo-headers when it is one, else at the end. Null when the result
   * depends on what a copy cannot know, or the map is `bad`: an add of a name already present
   * (Envoy joins its inline headers' values with ',', keeps others apart).
   */
  edited(edit: HeaderEdit, name: ArrayBuffer, value: ArrayBuffer): PairsIndex | null {
    if (this.bad) return null;
    const key = lowerAscii(name);
    const kp = changetype<usize>(key);
    const ks = <usize>key.byteLength;
    const adds = edit != HeaderEdit.Remove;
    const pseudo = ks > 0 && load<u8>(kp) == 0x3a;
    // Which entries stay, the buffer's size, and where the added entry goes (its index among them).
    let kept: i32 = 0;
    let size: usize = 4;
    let at: i32 = 0;
    for (let i = 0; i < this.count; i++) {
      this.seek(i);
      if (this.keySize == ks && memory.compare(this.key, kp, ks) == 0) {
        if (edit == HeaderEdit.Add) return null;
        continue;
      }
      kept++;
      size += 8 + this.keySize + this.valueSize + 2;
      if (pseudo && this.keySize > 0 && load<u8>(this.key) == 0x3a) at = kept;
    }
    if (!pseudo) at = kept;
    const vs = <usize>value.byteLength;
    if (adds) size += 8 + ks + vs + 2;
    const out = new ArrayBuffer(<i32>size);
    const base = changetype<usize>(out);
    const total = adds ? kept + 1 : kept;
    store<u32>(base, total);
    let sizes = base + 4;
    let data = base + 4 + ((<usize>total) << 3);
    let written: i32 = 0;
    let placed = !adds;
    for (let i = 0; i < this.count; i++) {
      this.seek(i);
      if (this.keySize == ks && memory.compare(this.key, kp, ks) == 0) continue;
      if (!placed && written == at) {
        data = putEntry(sizes, data, kp, ks, changetype<usize>(value), vs);
        sizes += 8;
        placed = true;
      }
      data = putEntry(sizes, data, this.key, this.keySize, this.value_, this.valueSize);
      sizes += 8;
      written++;
    }
    if (!placed) putEntry(sizes, data, kp, ks, changetype<usize>(value), vs);
    return new PairsIndex(out);
  }
}
