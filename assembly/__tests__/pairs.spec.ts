import { HeaderEdit, Pair, PairsIndex, encodePairs, decodePairs } from '../proxy/pairs';

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
    expect(decodePairs(bytesOf([1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 0x61, 0]))).toBeNull();
    expect(new PairsIndex(bytesOf([1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 0x61, 0])).bad).toBe(true);
  });

  it('PairsIndex.locate: the first entry of each wanted key in one walk; bytes compared and copied in place', () => {
    const buf = encodePairs([
      Pair.fromStrings(':path', '/ä'),
      Pair.fromStrings('x', '1'),
      Pair.fromStrings('x', '2'),
      Pair.fromStrings('', ''),
    ]);
    const m = new PairsIndex(buf);
    const at = m.locate([String.UTF8.encode('x'), String.UTF8.encode('y'), String.UTF8.encode(':path'), String.UTF8.encode('x')]);
    expect(at.length).toBe(4);
    expect(at[0]).toBe(1);
    expect(at[1]).toBe(-1);
    expect(at[2]).toBe(0);
    // a key listed twice: each slot gets its first entry
    expect(at[3]).toBe(1);
    expect(m.valueOrNull(at[0])).toBe('1');
    expect(m.valueOrNull(at[1])).toBeNull();
    expect(m.valueOrNull(at[2])).toBe('/ä');
    expect(m.byteSize).toBe(5 + 3 + 1 + 1 + 1 + 1);
    expect(m.valueIs(at[2], String.UTF8.encode('/ä'))).toBe(true);
    expect(m.valueIs(at[2], String.UTF8.encode('/a'))).toBe(false);
    expect(m.valueIs(-1, new ArrayBuffer(0))).toBe(false);
    expect(m.valueIs(3, new ArrayBuffer(0))).toBe(true);
    expect(String.UTF8.decode(m.valueBytes(2)!)).toBe('2');
    expect(m.valueBytes(-1)).toBeNull();
    expect(m.pair(0).keyString).toBe(':path');
    expect(new PairsIndex(new ArrayBuffer(0)).byteSize).toBe(0);
    // inconsistent: the first entry reads, the second runs past the end: nothing is found, size 0
    const bad = new PairsIndex(bytesOf([2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 0x78, 0, 0x31, 0]));
    expect(bad.locate([String.UTF8.encode('x')])[0]).toBe(-1);
    expect(bad.byteSize).toBe(0);
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

/** The request of the Rust probe's "header edits in map order" scenario, as Envoy holds it. */
function probeRequest(): PairsIndex {
  const kv = [
    ':authority',
    'service_b',
    ':path',
    '/get',
    ':method',
    'GET',
    ':scheme',
    'http',
    'x-e-dup',
    'a',
    'x-e-mid',
    'm',
    'x-e-dup',
    'b',
    'content-type',
    'text/plain',
    'x-e-gone',
    'g1',
    'x-e-gone',
    'g2',
  ];
  const pairs = new Array<Pair>();
  for (let i = 0; i < kv.length; i += 2) pairs.push(Pair.fromStrings(kv[i], kv[i + 1]));
  return new PairsIndex(encodePairs(pairs));
}

/** Every entry as `key=value`, space separated, decoded through a fresh index (the buffer checked again). */
function listed(map: PairsIndex | null): string {
  if (map === null) return 'null';
  const again = new PairsIndex(map.buffer);
  if (again.bad) return 'bad';
  const out = new Array<string>();
  for (let i = 0; i < again.count; i++) out.push(again.name(i) + '=' + again.value(i));
  return out.join(' ');
}

function edit(map: PairsIndex, e: HeaderEdit, name: string, value: string = ''): PairsIndex | null {
  return map.edited(e, String.UTF8.encode(name), String.UTF8.encode(value));
}

describe('PairsIndex.edited (what Envoy 1.40 measured in rust.scenarios.ts does to the map)', () => {
  it('replace: every entry of the name goes, one comes back at the end', () => {
    expect(listed(edit(probeRequest(), HeaderEdit.Replace, 'x-e-dup', 'c'))).toBe(
      ':authority=service_b :path=/get :method=GET :scheme=http x-e-mid=m content-type=text/plain x-e-gone=g1 x-e-gone=g2 x-e-dup=c',
    );
  });

  it('replace of a pseudo-header: after the other pseudo-headers', () => {
    expect(listed(edit(probeRequest(), HeaderEdit.Replace, ':path', '/edited'))).toBe(
      ':authority=service_b :method=GET :scheme=http :path=/edited x-e-dup=a x-e-mid=m x-e-dup=b content-type=text/plain x-e-gone=g1 x-e-gone=g2',
    );
  });

  it('add of an absent name: lower-cased, at the end (a pseudo-header after the pseudo-headers)', () => {
    expect(listed(edit(probeRequest(), HeaderEdit.Add, 'X-E-Upper', 'u'))).toBe(
      ':authority=service_b :path=/get :method=GET :scheme=http x-e-dup=a x-e-mid=m x-e-dup=b content-type=text/plain x-e-gone=g1 x-e-gone=g2 x-e-upper=u',
    );
    expect(listed(edit(probeRequest(), HeaderEdit.Add, ':protocol', 'websocket'))).toBe(
      ':authority=service_b :path=/get :method=GET :scheme=http :protocol=websocket x-e-dup=a x-e-mid=m x-e-dup=b content-type=text/plain x-e-gone=g1 x-e-gone=g2',
    );
  });

  it('add of a present name: unknown here (Envoy joins inline headers), so no copy', () => {
    expect(edit(probeRequest(), HeaderEdit.Add, 'x-e-mid', 'n')).toBeNull();
    expect(edit(probeRequest(), HeaderEdit.Add, 'Content-Type', 'x')).toBeNull();
  });

  it('remove: every entry of the name, none when absent; a replace into an empty map', () => {
    expect(listed(edit(probeRequest(), HeaderEdit.Remove, 'X-E-Gone'))).toBe(
      ':authority=service_b :path=/get :method=GET :scheme=http x-e-dup=a x-e-mid=m x-e-dup=b content-type=text/plain',
    );
    expect(listed(edit(probeRequest(), HeaderEdit.Remove, 'absent'))).toBe(listed(probeRequest()));
    expect(listed(edit(new PairsIndex(new ArrayBuffer(0)), HeaderEdit.Replace, 'a', ''))).toBe('a=');
  });

  it('a bad map has no edited copy', () => {
    expect(edit(new PairsIndex(bytesOf([9, 0, 0, 0])), HeaderEdit.Remove, 'a')).toBeNull();
  });
});
