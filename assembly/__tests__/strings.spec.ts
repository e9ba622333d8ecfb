import { storeCodeUnits } from '../lib/strings';

describe('storeCodeUnits', () => {
  it('stores a range of an ASCII string as its UTF-8 bytes', () => {
    const s = 'ab.cdef';
    const out = new ArrayBuffer(4);
    expect(storeCodeUnits(s, 3, 7, changetype<usize>(out))).toBeLessThan(0x80);
    expect(String.UTF8.decode(out)).toBe('cdef');
  });

  it('answers 0x80 or more when a code unit in the range is not ASCII, not for one outside it', () => {
    const s = 'aé€b';
    const out = new ArrayBuffer(4);
    expect(storeCodeUnits(s, 0, 4, changetype<usize>(out))).toBeGreaterThanOrEqual(0x80);
    expect(storeCodeUnits(s, 2, 3, changetype<usize>(out))).toBeGreaterThanOrEqual(0x80);
    expect(storeCodeUnits(s, 3, 4, changetype<usize>(out))).toBeLessThan(0x80);
    expect(load<u8>(changetype<usize>(out))).toBe(0x62);
  });
});
