import { Pair, PairsLookup, PairsIndex, encodePairs, decodePairs, pairValues, pairStringValues } from '../proxy/pairs';

function bytesOf(values: u8[]): ArrayBuffer {
  const buf = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(buf) + i, values[i]);
  return buf;
}

describe('pairs codec', () => {
  it('encodes count, sizes, then NUL-terminated keys and values', () => {
    const encoded = encodePairs([Pair.fromStrings('a', 'bc'), Pair.fromStrings('', 'x')]);
    // 4 (count) + 2*8 (sizes) + (1+1 + 2+1) + (0+1 + 1+1)
    expect(encoded.byteLength).toBe(4 + 16 + 5 + 3);
    const base = changetype<usize>(encoded);
    expect(load<u32>(base)).toBe(2);
    expect(load<u32>(base + 4)).toBe(1);
    expect(load<u32>(base + 8)).toBe(2);
    expect(load<u32>(base + 12)).toBe(0);
    expect(load<u32>(base + 16)).toBe(1);
    expect(load<u8>(base + 20)).toBe(<u8>0x61);
    expect(load<u8>(base + 21)).toBe(<u8>0);
    expect(load<u8>(base + 24)).toBe(<u8>0);
  });

  it('round-trips UTF-8 and empty values', () => {
    const decoded = decodePairs(encodePairs([Pair.fromStrings(':path', '/ünï'), Pair.fromStrings('empty', '')]));
    expect(decoded).not.toBeNull();
    const pairs = decoded as Pair[];
    expect(pairs.length).toBe(2);
    expect(pairs[0].keyString).toBe(':path');
    expect(pairs[0].valueString).toBe('/ünï');
    expect(pairs[1].valueString).toBe('');
  });

  it('decodes an empty buffer as no pairs', () => {
    expect((decodePairs(new ArrayBuffer(0)) as Pair[]).length).toBe(0);
  });

  it('rejects truncated input instead of trapping', () => {
    expect(decodePairs(bytesOf([1, 0]))).toBeNull();
    // count 1, sizes (5, 5), but no data
    expect(decodePairs(bytesOf([1, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0]))).toBeNull();
    // count claims more size entries than the buffer holds
    expect(decodePairs(bytesOf([255, 255, 255, 255, 0, 0, 0, 0]))).toBeNull();
    // sizes whose u32 sum wraps around (0xffffffff + 0 + 2 == 1)
    expect(decodePairs(bytesOf([1, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 0x61, 0]))).toBeNull();
    expect(pairValues(bytesOf([1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 0x61, 0]), new ArrayBuffer(0))).toBeNull();
  });

  it('pairValues: every value of one name, in order, nothing else decoded', () => {
    const buf = encodePairs([
      Pair.fromStrings('x-h', 'a'),
      Pair.fromStrings('x-hh', 'z'),
      Pair.fromStrings('x-h', ''),
      Pair.fromStrings('x', 'q'),
      Pair.fromStrings('x-h', 'b,c'),
    ]);
    const values = pairValues(buf, String.UTF8.encode('x-h')) as ArrayBuffer[];
    expect(values.length).toBe(3);
    expect(String.UTF8.decode(values[0])).toBe('a');
    expect(String.UTF8.decode(values[1])).toBe('');
    expect(String.UTF8.decode(values[2])).toBe('b,c');
    expect((pairValues(buf, String.UTF8.encode('y')) as ArrayBuffer[]).length).toBe(0);
    expect((pairValues(new ArrayBuffer(0), String.UTF8.encode('x')) as ArrayBuffer[]).length).toBe(0);
    expect(pairValues(bytesOf([1, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0x61]), String.UTF8.encode('a'))).toBeNull();
  });

  it('pairStringValues: the values decoded, empty when absent or inconsistent', () => {
    const buf = encodePairs([Pair.fromStrings('x-h', 'ä'), Pair.fromStrings('y', 'q'), Pair.fromStrings('x-h', '')]);
    const values = pairStringValues(buf, 'x-h');
    expect(values.length).toBe(2);
    expect(values[0]).toBe('ä');
    expect(values[1]).toBe('');
    expect(pairStringValues(buf, 'z').length).toBe(0);
    expect(pairStringValues(bytesOf([1, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0x61]), 'a').length).toBe(0);
  });

  it('PairsLookup: first value of each wanted key, and the keys and values size', () => {
    const buf = encodePairs([
      Pair.fromStrings(':path', '/ä'),
      Pair.fromStrings('x', '1'),
      Pair.fromStrings('x', '2'),
      Pair.fromStrings('', ''),
    ]);
    const keys = [String.UTF8.encode('x'), String.UTF8.encode('y'), String.UTF8.encode(':path')];
    const l = new PairsLookup(buf, keys);
    expect(l.get(0)).toBe('1');
    expect(l.get(1)).toBeNull();
    expect(l.get(2)).toBe('/ä');
    expect(l.byteSize).toBe(5 + 3 + 1 + 1 + 1 + 1);
    expect(l.has(0)).toBe(true);
    expect(l.has(1)).toBe(false);
    expect(l.valueIs(2, String.UTF8.encode('/ä'))).toBe(true);
    expect(l.valueIs(2, String.UTF8.encode('/a'))).toBe(false);
    expect(l.valueIs(1, new ArrayBuffer(0))).toBe(false);
    expect(String.UTF8.decode(l.valueBytes(0)!)).toBe('1');
    expect(l.valueBytes(1)).toBeNull();
    const twice = new PairsLookup(buf, [String.UTF8.encode('x'), String.UTF8.encode(':path'), String.UTF8.encode('x')]);
    expect(twice.get(0)).toBe('1');
    expect(twice.get(2)).toBe('1');
    const none = new PairsLookup(null, keys);
    expect(none.get(0)).toBeNull();
    expect(none.byteSize).toBe(0);
    // inconsistent: the first entry reads, the second runs past the end: nothing is kept
    const bad = new PairsLookup(bytesOf([2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 0x78, 0, 0x31, 0]), keys);
    expect(bad.get(0)).toBeNull();
    expect(bad.byteSize).toBe(0);
    expect(bad.has(0)).toBe(false);
  });

  it('PairsIndex: looks names up in place, decodes only what is asked; a bad buffer is empty', () => {
    const buf = encodePairs([
      Pair.fromStrings(':path', '/ä'),
      Pair.fromStrings('x', '1'),
      Pair.fromStrings('xy', 'n'),
      Pair.fromStrings('x', '2'),
      Pair.fromStrings('ü', 'u'),
      Pair.fromStrings('', ''),
    ]);
    const m = new PairsIndex(buf);
    expect(m.bad).toBe(false);
    expect(m.count).toBe(6);
    expect(m.first(':path')).toBe('/ä');
    expect(m.first('x')).toBe('1');
    expect(m.indexOf('x', 2)).toBe(3);
    const xs = m.values('x');
    expect(xs.length).toBe(2);
    expect(xs[1]).toBe('2');
    expect(m.first('X')).toBeNull();
    expect(m.first(':pat')).toBeNull();
    expect(m.first('ü')).toBe('u');
    expect(m.has('')).toBe(true);
    expect(m.name(2)).toBe('xy');
    expect(m.values('zz').length).toBe(0);
    expect(new PairsIndex(new ArrayBuffer(0)).count).toBe(0);
    // inconsistent: the second entry runs past the end
    const bad = new PairsIndex(bytesOf([2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 0x78, 0, 0x31, 0]));
    expect(bad.bad).toBe(true);
    expect(bad.count).toBe(0);
    expect(bad.first('x')).toBeNull();
  });
});
