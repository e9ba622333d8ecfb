import {
  Montgomery,
  limbsFromBytes,
  limbsToBytes,
  addLimbs,
  subLimbs,
  cmp,
  bitLength,
  isZero,
  copyLimbs,
  rsaSpkiDer,
  ecdsaP1363ToDer,
  ecSpkiDer,
  Curve,
  ecPointOnCurve,
} from '../lib/crypto';

function bytes(values: u8[]): ArrayBuffer {
  const b = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(b) + <usize>i, values[i]);
  return b;
}
function hexOf(b: ArrayBuffer): string {
  const digits = '0123456789abcdef';
  let out = '';
  for (let i = 0; i < b.byteLength; i++) {
    const v = load<u8>(changetype<usize>(b) + <usize>i);
    out += digits.charAt(v >> 4) + digits.charAt(v & 15);
  }
  return out;
}
function fromHex(h: string): ArrayBuffer {
  const b = new ArrayBuffer(h.length >> 1);
  for (let i = 0; i < b.byteLength; i++) store<u8>(changetype<usize>(b) + <usize>i, <u8>I32.parseInt(h.substr(i * 2, 2), 16));
  return b;
}
function limbs(values: u32[]): StaticArray<u32> {
  const out = new StaticArray<u32>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

describe('limbs', () => {
  it('converts big-endian bytes to little-endian limbs and back', () => {
    const a = limbsFromBytes(bytes([0, 0, 1, 2, 3, 4, 5]), 2)!;
    expect(a[0]).toBe(0x02030405);
    expect(a[1]).toBe(0x01);
    expect(hexOf(limbsToBytes(a, 6)!)).toBe('000102030405');
    expect(limbsToBytes(a, 4)).toBeNull(); // 0x0102030405 needs 5 bytes
    expect(limbsFromBytes(bytes([1, 0, 0, 0, 0]), 1)).toBeNull();
    expect(bitLength(a)).toBe(33);
  });
  it('adds and subtracts with carry and borrow', () => {
    const out = new StaticArray<u32>(2);
    expect(addLimbs(out, limbs([0xffffffff, 0xffffffff]), limbs([1, 0]))).toBe(1);
    expect(isZero(out)).toBe(true);
    expect(subLimbs(out, limbs([0, 0]), limbs([1, 0]))).toBe(1);
    expect(out[0]).toBe(0xffffffff);
    expect(out[1]).toBe(0xffffffff);
    expect(subLimbs(out, limbs([0, 1]), limbs([1, 0]))).toBe(0);
    expect(out[0]).toBe(0xffffffff);
    expect(out[1]).toBe(0);
    expect(cmp(limbs([5, 1]), limbs([6, 0]))).toBe(1);
    expect(cmp(limbs([5, 1]), limbs([5, 1]))).toBe(0);
  });
});

describe('Montgomery', () => {
  it('multiplies modulo a one-limb prime', () => {
    const m = new Montgomery(limbs([1000003]));
    const a = limbs([123456]),
      b = limbs([654321]),
      am = new StaticArray<u32>(1),
      bm = new StaticArray<u32>(1);
    m.toMont(am, a);
    m.toMont(bm, b);
    m.mul(am, am, bm);
    m.fromMont(am, am);
    expect(am[0]).toBe(<u32>((<u64>123456 * 654321) % 1000003));
  });
  it('computes R mod m and R^2 mod m for a two-limb modulus', () => {
    // m = 2^61 - 1 (prime): R = 2^64 = 8 mod m, R^2 = 64 mod m.
    const m = new Montgomery(limbs([0xffffffff, 0x1fffffff]));
    expect(m.one[0]).toBe(8);
    expect(m.one[1]).toBe(0);
    expect(m.r2[0]).toBe(64);
    expect(m.r2[1]).toBe(0);
  });
  it('raises to a power given as bytes (3^200 mod 2^61-1) and inverts by Fermat', () => {
    const m = new Montgomery(limbs([0xffffffff, 0x1fffffff]));
    const out = new StaticArray<u32>(2);
    m.modPowBytes(out, limbs([3, 0]), bytes([200]));
    // 3^200 mod (2^61 - 1) = 0x05e3cf3fd8a82b5c (computed with BigInt)
    expect(out[0]).toBe(0xd8a82b5c);
    expect(out[1]).toBe(0x05e3cf3f);
    const x = new StaticArray<u32>(2),
      inv = new StaticArray<u32>(2),
      prod = new StaticArray<u32>(2);
    m.toMont(x, limbs([12345, 678]));
    m.invMont(inv, x);
    m.mul(prod, x, inv);
    m.fromMont(prod, prod);
    expect(prod[0]).toBe(1);
    expect(prod[1]).toBe(0);
  });
  it('adds and subtracts modulo m', () => {
    const m = new Montgomery(limbs([0xffffffff, 0x1fffffff]));
    const out = new StaticArray<u32>(2);
    m.add(out, limbs([0xfffffffe, 0x1fffffff]), limbs([5, 0])); // (m - 1) + 5 = 4
    expect(out[0]).toBe(4);
    m.sub(out, limbs([1, 0]), limbs([3, 0])); // 1 - 3 = m - 2
    expect(out[0]).toBe(0xfffffffd);
    expect(out[1]).toBe(0x1fffffff);
    const c = new StaticArray<u32>(2);
    copyLimbs(c, out);
    expect(cmp(c, out)).toBe(0);
  });
});

describe('DER encoders', () => {
  it('encodes an RSA SubjectPublicKeyInfo with minimal INTEGERs', () => {
    // n = 0x00c1 (leading zero stripped, sign byte added), e = 0x010001
    expect(hexOf(rsaSpkiDer(bytes([0, 0xc1]), bytes([1, 0, 1])))).toBe('301d300d06092a864886f70d0101010500030c003009020200c10203010001');
  });
  it('encodes an ECDSA signature and an EC SubjectPublicKeyInfo', () => {
    expect(hexOf(ecdsaP1363ToDer(bytes([0, 1, 0x80, 0]))!)).toBe('30080201010203008000');
    expect(ecdsaP1363ToDer(bytes([1, 2, 3]))).toBeNull();
    const gx = fromHex('6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296');
    const gy = fromHex('4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5');
    expect(hexOf(ecSpkiDer(Curve.P256, gx, gy)!)).toBe('3059301306072a8648ce3d020106082a8648ce3d03010703420004' + hexOf(gx) + hexOf(gy));
    expect(ecPointOnCurve(Curve.P256, gx, gy)).toBe(true);
    expect(ecPointOnCurve(Curve.P256, gy, gx)).toBe(false);
  });
});
