// Fixed-size unsigned big integers for signature verification: little-endian u32 limbs in a
// StaticArray<u32> (limb 0 is least significant). Numbers combined in one call have the same
// limb count. Montgomery arithmetic (FIOS) for RSA modexp and the P-256/P-384 fields.
// Not constant-time: it only handles public data (keys, signatures, messages).
import { montMul8, montMul12, addMod8, addMod12, subMod8, subMod12 } from './fixed';

/** Big-endian bytes at `p` (`len` bytes) into `size` limbs; null if the value needs more. */
export function limbsFromBytesAt(p: usize, len: i32, size: i32): StaticArray<u32> | null {
  let start = 0;
  while (start < len && load<u8>(p + <usize>start) == 0) start++;
  if (len - start > size * 4) return null;
  const out = new StaticArray<u32>(size);
  const o = changetype<usize>(out);
  for (let i = len - 1, k = 0; i >= start; i--, k++) {
    const at = o + ((<usize>(k >> 2)) << 2);
    store<u32>(at, load<u32>(at) | ((<u32>load<u8>(p + <usize>i)) << ((<u32>(k & 3)) << 3)));
  }
  return out;
}

/** Big-endian bytes of `buf` into `size` limbs; null if the value needs more. */
export function limbsFromBytes(buf: ArrayBuffer, size: i32): StaticArray<u32> | null {
  return limbsFromBytesAt(changetype<usize>(buf), buf.byteLength, size);
}

/** Writes `a` big-endian into exactly `len` bytes at `out`; false if it does not fit. */
export function limbsToBytesAt(a: StaticArray<u32>, out: usize, len: i32): bool {
  const size = a.length;
  const ap = changetype<usize>(a);
  for (let k = 0; k < size * 4; k++) {
    const v = <u8>(load<u32>(ap + ((<usize>(k >> 2)) << 2)) >>> ((<u32>(k & 3)) << 3));
    if (k < len) store<u8>(out + <usize>(len - 1 - k), v);
    else if (v != 0) return false;
  }
  for (let k = size * 4; k < len; k++) store<u8>(out + <usize>(len - 1 - k), 0);
  return true;
}

/** `a` as `len` big-endian bytes, or null if it does not fit. */
export function limbsToBytes(a: StaticArray<u32>, len: i32): ArrayBuffer | null {
  const out = new ArrayBuffer(len);
  return limbsToBytesAt(a, changetype<usize>(out), len) ? out : null;
}

export function isZero(a: StaticArray<u32>): bool {
  for (let i = 0; i < a.length; i++) if (unchecked(a[i]) != 0) return false;
  return true;
}

export function isOne(a: StaticArray<u32>): bool {
  if (a.length == 0 || unchecked(a[0]) != 1) return false;
  for (let i = 1; i < a.length; i++) if (unchecked(a[i]) != 0) return false;
  return true;
}

/** -1, 0, 1 as a <, ==, > b (same limb count). */
export function cmp(a: StaticArray<u32>, b: StaticArray<u32>): i32 {
  for (let i = a.length - 1; i >= 0; i--) {
    const x = unchecked(a[i]);
    const y = unchecked(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

export function copyLimbs(dst: StaticArray<u32>, src: StaticArray<u32>): void {
  memory.copy(changetype<usize>(dst), changetype<usize>(src), (<usize>src.length) << 2);
}

/** out = a + b; returns the carry. `out` may alias `a` or `b`. */
export function addLimbs(out: StaticArray<u32>, a: StaticArray<u32>, b: StaticArray<u32>): u32 {
  let c: u64 = 0;
  for (let i = 0; i < out.length; i++) {
    c += <u64>unchecked(a[i]) + <u64>unchecked(b[i]);
    unchecked((out[i] = <u32>c));
    c >>= 32;
  }
  return <u32>c;
}

/** out = a - b; returns the borrow (1 if a < b). `out` may alias `a` or `b`. */
export function subLimbs(out: StaticArray<u32>, a: StaticArray<u32>, b: StaticArray<u32>): u32 {
  let borrow: i64 = 0;
  for (let i = 0; i < out.length; i++) {
    const d = <i64>unchecked(a[i]) - <i64>unchecked(b[i]) + borrow;
    unchecked((out[i] = <u32>d));
    borrow = d >> 32; // 0 or -1
  }
  return <u32>-borrow;
}

export function bitLength(a: StaticArray<u32>): i32 {
  for (let i = a.length - 1; i >= 0; i--) {
    const v = unchecked(a[i]);
    if (v != 0) return i * 32 + 32 - <i32>clz<u32>(v);
  }
  return 0;
}

export function testBit(a: StaticArray<u32>, bit: i32): bool {
  return ((unchecked(a[bit >> 5]) >>> (<u32>(bit & 31))) & 1) != 0;
}

/** Montgomery arithmetic modulo an odd m > 1 (R = 2^(32*size)). Elements are < m. */
export class Montgomery {
  readonly size: i32;
  readonly m: StaticArray<u32>;
  readonly m0inv: u32;
  /** R mod m: 1 in Montgomery form. */
  readonly one: StaticArray<u32>;
  /** R^2 mod m: converts into Montgomery form. */
  readonly r2: StaticArray<u32>;
  private t: StaticArray<u32>;
  private plainOne: StaticArray<u32>;
  private scratch: StaticArray<u32>;

  /** `m` must be odd and > 1 (callers check with `Montgomery.usable`). */
  constructor(m: StaticArray<u32>) {
    const size = m.length;
    this.size = size;
    this.m = m;
    this.t = new StaticArray<u32>(size + 1);
    const plainOne = new StaticArray<u32>(size);
    unchecked((plainOne[0] = 1));
    this.plainOne = plainOne;
    this.scratch = new StaticArray<u32>(size);
    const one = new StaticArray<u32>(size);
    const r2 = new StaticArray<u32>(size);
    this.one = one;
    this.r2 = r2;
    // -m^-1 mod 2^32 by Newton iteration (x = m0 is right to 3 bits for odd m0).
    const m0 = unchecked(m[0]);
    let x: u32 = m0;
    for (let i = 0; i < 5; i++) x = x * (2 - m0 * x);
    this.m0inv = <u32>0 - x;
    // R mod m: 2^(bits-1) < m, doubled up to 2^(32*size).
    const bits = bitLength(m);
    const top = bits - 1;
    unchecked((one[top >> 5] = (<u32>1) << (<u32>(top & 31))));
    for (let i = 0; i < size * 32 - top; i++) this.double(one, one);
    // R^2 mod m = mont(2^(32*size)): start at mont(2), square and double along the bits of 32*size.
    this.double(r2, one);
    const target = size * 32;
    const tb = 32 - <i32>clz<u32>(<u32>target);
    for (let i = tb - 2; i >= 0; i--) {
      this.mul(r2, r2, r2);
      if (((target >> i) & 1) != 0) this.double(r2, r2);
    }
  }

  static usable(m: StaticArray<u32>): bool {
    return m.length > 0 && (unchecked(m[0]) & 1) == 1 && !isOne(m);
  }

  /** out = 2a mod m. */
  double(out: StaticArray<u32>, a: StaticArray<u32>): void {
    const n = this.size;
    if (n == 8) {
      addMod8(changetype<usize>(out), changetype<usize>(a), changetype<usize>(a), changetype<usize>(this.m));
      return;
    }
    if (n == 12) {
      addMod12(changetype<usize>(out), changetype<usize>(a), changetype<usize>(a), changetype<usize>(this.m));
      return;
    }
    const carry = addLimbs(out, a, a);
    if (carry != 0 || cmp(out, this.m) >= 0) subLimbs(out, out, this.m);
  }

  /** out = a + b mod m. */
  add(out: StaticArray<u32>, a: StaticArray<u32>, b: StaticArray<u32>): void {
    const n = this.size;
    if (n == 8) {
      addMod8(changetype<usize>(out), changetype<usize>(a), changetype<usize>(b), changetype<usize>(this.m));
      return;
    }
    if (n == 12) {
      addMod12(changetype<usize>(out), changetype<usize>(a), changetype<usize>(b), changetype<usize>(this.m));
      return;
    }
    const carry = addLimbs(out, a, b);
    if (carry != 0 || cmp(out, this.m) >= 0) subLimbs(out, out, this.m);
  }

  /** out = a - b mod m. */
  sub(out: StaticArray<u32>, a: StaticArray<u32>, b: StaticArray<u32>): void {
    const n = this.size;
    if (n == 8) {
      subMod8(changetype<usize>(out), changetype<usize>(a), changetype<usize>(b), changetype<usize>(this.m));
      return;
    }
    if (n == 12) {
      subMod12(changetype<usize>(out), changetype<usize>(a), changetype<usize>(b), changetype<usize>(this.m));
      return;
    }
    if (subLimbs(out, a, b) != 0) addLimbs(out, out, this.m);
  }

  /** out = a * b / R mod m (FIOS: multiply and reduce in one pass). Any of out, a, b may alias. */
  mul(out: StaticArray<u32>, a: StaticArray<u32>, b: StaticArray<u32>): void {
    const n = this.size;
    if (n == 8) {
      montMul8(changetype<usize>(out), changetype<usize>(a), changetype<usize>(b), changetype<usize>(this.m), this.m0inv);
      return;
    }
    if (n == 12) {
      montMul12(changetype<usize>(out), changetype<usize>(a), changetype<usize>(b), changetype<usize>(this.m), this.m0inv);
      return;
    }
    const t = changetype<usize>(this.t);
    const ap = changetype<usize>(a);
    const bp = changetype<usize>(b);
    const mp = changetype<usize>(this.m);
    const m0inv = this.m0inv;
    const a0 = <u64>load<u32>(ap);
    const m0 = <u64>load<u32>(mp);
    memory.fill(t, 0, (<usize>(n + 1)) << 2);
    for (let i = 0; i < n; i++) {
      const bi = <u64>load<u32>(bp + ((<usize>i) << 2));
      let s = <u64>load<u32>(t) + a0 * bi;
      let c1 = s >> 32;
      // (u32 product first: in a u64 context load<u32> would widen and the product not wrap.)
      const lo = <u32>s;
      const q32: u32 = lo * m0inv;
      const q = <u64>q32;
      let s2 = <u64>lo + q * m0;
      let c2 = s2 >> 32;
      let j = 1;
      for (; j + 3 < n; j += 4) {
        // unrolled by 4
        const tj = t + ((<usize>j) << 2),
          aj = ap + ((<usize>j) << 2),
          mj = mp + ((<usize>j) << 2);
        s = <u64>load<u32>(tj) + <u64>load<u32>(aj) * bi + c1;
        c1 = s >> 32;
        s2 = (s & 0xffffffff) + q * <u64>load<u32>(mj) + c2;
        c2 = s2 >> 32;
        store<u32>(tj - 4, <u32>s2);
        s = <u64>load<u32>(tj, 4) + <u64>load<u32>(aj, 4) * bi + c1;
        c1 = s >> 32;
        s2 = (s & 0xffffffff) + q * <u64>load<u32>(mj, 4) + c2;
        c2 = s2 >> 32;
        store<u32>(tj, <u32>s2);
        s = <u64>load<u32>(tj, 8) + <u64>load<u32>(aj, 8) * bi + c1;
        c1 = s >> 32;
        s2 = (s & 0xffffffff) + q * <u64>load<u32>(mj, 8) + c2;
        c2 = s2 >> 32;
        store<u32>(tj, <u32>s2, 4);
        s = <u64>load<u32>(tj, 12) + <u64>load<u32>(aj, 12) * bi + c1;
        c1 = s >> 32;
        s2 = (s & 0xffffffff) + q * <u64>load<u32>(mj, 12) + c2;
        c2 = s2 >> 32;
        store<u32>(tj, <u32>s2, 8);
      }
      for (; j < n; j++) {
        const off = (<usize>j) << 2;
        s = <u64>load<u32>(t + off) + <u64>load<u32>(ap + off) * bi + c1;
        c1 = s >> 32;
        s2 = (s & 0xffffffff) + q * <u64>load<u32>(mp + off) + c2;
        c2 = s2 >> 32;
        store<u32>(t + off - 4, <u32>s2);
      }
      // t < 2m throughout, so the top word t[n] is 0 or 1.
      const tn = t + ((<usize>n) << 2);
      s = <u64>load<u32>(tn) + c1 + c2;
      store<u32>(tn - 4, <u32>s);
      store<u32>(tn, <u32>(s >> 32));
    }
    // t < 2m: subtract m once if needed.
    const op = changetype<usize>(out);
    let ge = load<u32>(t + ((<usize>n) << 2)) != 0;
    if (!ge) {
      ge = true;
      for (let j = n - 1; j >= 0; j--) {
        const x = load<u32>(t + ((<usize>j) << 2));
        const y = load<u32>(mp + ((<usize>j) << 2));
        if (x != y) {
          ge = x > y;
          break;
        }
      }
    }
    if (ge) {
      let borrow: i64 = 0;
      for (let j = 0; j < n; j++) {
        const d = <i64>load<u32>(t + ((<usize>j) << 2)) - <i64>load<u32>(mp + ((<usize>j) << 2)) + borrow;
        store<u32>(op + ((<usize>j) << 2), <u32>d);
        borrow = d >> 32;
      }
    } else {
      memory.copy(op, t, (<usize>n) << 2);
    }
  }

  /** out = a in Montgomery form (a < m). */
  toMont(out: StaticArray<u32>, a: StaticArray<u32>): void {
    this.mul(out, a, this.r2);
  }

  /** out = a out of Montgomery form. */
  fromMont(out: StaticArray<u32>, a: StaticArray<u32>): void {
    this.mul(out, a, this.plainOne);
  }

  /** out = base^exp (both in Montgomery form domain: base is Montgomery, result Montgomery). `exp` limbs any length. */
  powMont(out: StaticArray<u32>, base: StaticArray<u32>, exp: StaticArray<u32>): void {
    const bits = bitLength(exp);
    if (bits == 0) {
      copyLimbs(out, this.one);
      return;
    }
    const acc = this.scratch;
    copyLimbs(acc, base);
    for (let i = bits - 2; i >= 0; i--) {
      this.mul(acc, acc, acc);
      if (testBit(exp, i)) this.mul(acc, acc, base);
    }
    copyLimbs(out, acc);
  }

  /** out = a^-1 (Montgomery form in and out) for a prime modulus, by Fermat: a^(m-2). */
  invMont(out: StaticArray<u32>, a: StaticArray<u32>): void {
    const e = new StaticArray<u32>(this.size);
    const two = new StaticArray<u32>(this.size);
    unchecked((two[0] = 2));
    subLimbs(e, this.m, two);
    this.powMont(out, a, e);
  }

  /** Plain modular exponentiation: out = base^exp mod m, base < m, exp as big-endian bytes. */
  modPowBytes(out: StaticArray<u32>, base: StaticArray<u32>, exp: ArrayBuffer): void {
    const x = new StaticArray<u32>(this.size);
    this.toMont(x, base);
    const acc = new StaticArray<u32>(this.size);
    copyLimbs(acc, this.one);
    const ep = changetype<usize>(exp);
    let started = false;
    for (let i = 0; i < exp.byteLength; i++) {
      const byte = load<u8>(ep + <usize>i);
      for (let bit = 7; bit >= 0; bit--) {
        const set = ((byte >> (<u8>bit)) & 1) != 0;
        if (started) {
          this.mul(acc, acc, acc);
          if (set) this.mul(acc, acc, x);
        } else if (set) {
          copyLimbs(acc, x);
          started = true;
        }
      }
    }
    this.fromMont(out, acc);
  }
}
