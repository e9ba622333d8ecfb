// The ABI's pairs format for header maps, metadata and map-valued properties:
//   u32 count, then count x (u32 keySize, u32 valueSize), then each key and value followed by a NUL.
// Pure: no host calls, so as-pect tests it directly.

/** One header (or map entry) as raw bytes. */
export class Pair {
  constructor(public key: ArrayBuffer, public value: ArrayBuffer) {}

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
  const total = <usize>buf.byteLength;
  const result = new Array<Pair>();
  if (total == 0) return result;
  if (total < 4) return null;
  const base = changetype<usize>(buf);
  const count = <usize>load<u32>(base);
  if (count > (total - 4) / 8) return null;
  let sizes = base + 4;
  let data = base + 4 + count * 8;
  const end = base + total;
  for (let i: usize = 0; i < count; i++) {
    const keySize = <usize>load<u32>(sizes);
    const valueSize = <usize>load<u32>(sizes + 4);
    sizes += 8;
    if (keySize + valueSize + 2 > end - data) return null;
    const key = new ArrayBuffer(<i32>keySize);
    memory.copy(changetype<usize>(key), data, keySize);
    data += keySize + 1;
    const value = new ArrayBuffer(<i32>valueSize);
    memory.copy(changetype<usize>(value), data, valueSize);
    data += valueSize + 1;
    result.push(new Pair(key, value));
  }
  return result;
}

/**
 * The values of every entry named `key` in a pairs buffer, in order, without decoding the other
 * entries (a header sent several times has several). A truncated or inconsistent buffer yields null.
 */
export function pairValues(buf: ArrayBuffer, key: ArrayBuffer): ArrayBuffer[] | null {
  const total = <usize>buf.byteLength;
  const result = new Array<ArrayBuffer>();
  if (total == 0) return result;
  if (total < 4) return null;
  const base = changetype<usize>(buf);
  const count = <usize>load<u32>(base);
  if (count > (total - 4) / 8) return null;
  const keyBase = changetype<usize>(key);
  const want = <usize>key.byteLength;
  let sizes = base + 4;
  let data = base + 4 + count * 8;
  const end = base + total;
  for (let i: usize = 0; i < count; i++) {
    const keySize = <usize>load<u32>(sizes);
    const valueSize = <usize>load<u32>(sizes + 4);
    sizes += 8;
    if (keySize + valueSize + 2 > end - data) return null;
    if (keySize == want && memory.compare(data, keyBase, want) == 0) {
      const value = new ArrayBuffer(<i32>valueSize);
      memory.copy(changetype<usize>(value), data + keySize + 1, valueSize);
      result.push(value);
    }
    data += keySize + 1 + valueSize + 1;
  }
  return result;
}
