// Just enough protobuf wire format for Envoy's foreign-function messages (varint and
// length-delimited fields).

export type Fields = Map<number, Uint8Array | bigint>;

export function decodeMessage(data: Uint8Array): Fields | null {
  const fields: Fields = new Map();
  let offset = 0;
  const varint = (): bigint | null => {
    let result = 0n;
    let shift = 0n;
    while (offset < data.length) {
      const byte = data[offset++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
    return null;
  };
  while (offset < data.length) {
    const key = varint();
    if (key === null) return null;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const v = varint();
      if (v === null) return null;
      fields.set(field, v);
    } else if (wire === 2) {
      const len = varint();
      if (len === null || offset + Number(len) > data.length) return null;
      fields.set(field, data.slice(offset, offset + Number(len)));
      offset += Number(len);
    } else {
      return null;
    }
  }
  return fields;
}

export function encodeMessage(fields: [number, boolean | Uint8Array][]): Uint8Array {
  const out: number[] = [];
  const varint = (n: number) => {
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
  };
  for (const [field, value] of fields) {
    if (typeof value === 'boolean') {
      if (!value) continue; // proto3 omits defaults
      varint(field << 3);
      varint(1);
    } else {
      if (value.length === 0) continue;
      varint((field << 3) | 2);
      varint(value.length);
      out.push(...value);
    }
  }
  return Uint8Array.from(out);
}
