// ECDSA verification (FIPS 186-4 / SEC 1) on P-256 and P-384 with Jacobian coordinates.
// Field elements are Montgomery-form limbs mod p; scalars are plain limbs mod n. Curves and
// their scratch space are built once per curve and reused, so a verification only allocates
// its own few temporaries. Malformed input returns false, never traps.
import { HashAlg, hashLength, digestInto } from './sha2';
import { Montgomery, limbsFromBytesAt, cmp, isZero, copyLimbs, addLimbs, subLimbs, bitLength } from './bigint';

export enum Curve {
  P256 = 0,
  P384 = 1,
}

/** Field element / scalar length in bytes (32 for P-256, 48 for P-384). */
export function curveByteLength(curve: Curve): i32 {
  return curve == Curve.P256 ? 32 : 48;
}

function hexLimbs(hex: string, size: i32): StaticArray<u32> {
  const out = new StaticArray<u32>(size);
  const len = hex.length;
  for (let i = 0; i < len; i++) {
    const c = hex.charCodeAt(len - 1 - i);
    const v: u32 = c <= 57 ? <u32>(c - 48) : <u32>((c | 32) - 87);
    const at = i >> 3;
    unchecked((out[at] = unchecked(out[at]) | (v << ((<u32>(i & 7)) << 2))));
  }
  return out;
}

class JPoint {
  x: StaticArray<u32>;
  y: StaticArray<u32>;
  z: StaticArray<u32>;
  constructor(size: i32) {
    this.x = new StaticArray<u32>(size);
    this.y = new StaticArray<u32>(size);
    this.z = new StaticArray<u32>(size);
  }
  set(o: JPoint): void {
    copyLimbs(this.x, o.x);
    copyLimbs(this.y, o.y);
    copyLimbs(this.z, o.z);
  }
  isInfinity(): bool {
    return isZero(this.z);
  }
}

class CurveImpl {
  size: i32;
  bytes: i32;
  fp: Montgomery;
  fn: Montgomery;
  b: StaticArray<u32>; // Montgomery form
  g: JPoint; // Montgomery form, z = 1
  // scratch field elements
  t: StaticArray<StaticArray<u32>>;
  q: JPoint;
  acc: JPoint;
  // Odd multiples 1G, 3G, .., 127G in affine form (z = 1; built once) for width-7 NAF digits,
  // and 1Q, 3Q, .., 15Q (Jacobian; rebuilt per verification) for width-5 NAF digits.
  gTable: StaticArray<JPoint>;
  qTable: StaticArray<JPoint>;
  neg: JPoint;
  zero: StaticArray<u32>;
  naf1: StaticArray<i8>;
  naf2: StaticArray<i8>;
  nafTmp: StaticArray<u32>;

  constructor(bytes: i32, p: string, n: string, b: string, gx: string, gy: string) {
    const size = bytes >> 2;
    this.size = size;
    this.bytes = bytes;
    this.fp = new Montgomery(hexLimbs(p, size));
    this.fn = new Montgomery(hexLimbs(n, size));
    this.b = new StaticArray<u32>(size);
    this.g = new JPoint(size);
    const t = new StaticArray<StaticArray<u32>>(16);
    for (let i = 0; i < 16; i++) t[i] = new StaticArray<u32>(size);
    this.t = t;
    this.q = new JPoint(size);
    this.acc = new JPoint(size);
    const gTable = new StaticArray<JPoint>(G_TABLE);
    for (let i = 0; i < G_TABLE; i++) gTable[i] = new JPoint(size);
    const qTable = new StaticArray<JPoint>(Q_TABLE);
    for (let i = 0; i < Q_TABLE; i++) qTable[i] = new JPoint(size);
    this.gTable = gTable;
    this.qTable = qTable;
    this.neg = new JPoint(size);
    this.zero = new StaticArray<u32>(size);
    this.naf1 = new StaticArray<i8>(size * 32 + 1);
    this.naf2 = new StaticArray<i8>(size * 32 + 1);
    this.nafTmp = new StaticArray<u32>(size + 1);
    this.fp.toMont(this.b, hexLimbs(b, size));
    this.fp.toMont(this.g.x, hexLimbs(gx, size));
    this.fp.toMont(this.g.y, hexLimbs(gy, size));
    copyLimbs(this.g.z, this.fp.one);
    this.fillOdd(gTable, this.g);
    // Affine: (X / Z^2, Y / Z^3, 1), once per curve; one inversion for all (Montgomery's trick).
    const f = this.fp;
    const prefix = new StaticArray<StaticArray<u32>>(G_TABLE);
    for (let i = 0; i < G_TABLE; i++) {
      const pr = new StaticArray<u32>(size);
      if (i == 0) copyLimbs(pr, unchecked(gTable[0]).z);
      else f.mul(pr, unchecked(prefix[i - 1]), unchecked(gTable[i]).z);
      prefix[i] = pr;
    }
    const inv = new StaticArray<u32>(size);
    f.invMont(inv, unchecked(prefix[G_TABLE - 1])); // 1 / (z0 z1 .. z63)
    const zi = new StaticArray<u32>(size),
      zi2 = new StaticArray<u32>(size);
    for (let i = G_TABLE - 1; i >= 0; i--) {
      const pt = unchecked(gTable[i]);
      if (i > 0) {
        f.mul(zi, inv, unchecked(prefix[i - 1])); // 1 / z_i
        f.mul(inv, inv, pt.z); // 1 / (z0 .. z_{i-1})
      } else {
        copyLimbs(zi, inv);
      }
      f.mul(zi2, zi, zi);
      f.mul(pt.x, pt.x, zi2);
      f.mul(zi2, zi2, zi);
      f.mul(pt.y, pt.y, zi2);
      copyLimbs(pt.z, f.one);
    }
  }

  /** table[i] = (2i + 1) P. */
  fillOdd(table: StaticArray<JPoint>, p: JPoint): void {
    const twice = this.neg; // scratch
    twice.set(p);
    this.dbl(twice);
    unchecked(table[0]).set(p);
    for (let i = 1; i < table.length; i++) {
      const t = unchecked(table[i]);
      t.set(unchecked(table[i - 1]));
      this.add(t, twice);
    }
  }

  /** Width-w NAF digits of k (least significant first) into out; returns the digit count. */
  wnaf(k: StaticArray<u32>, w: i32, out: StaticArray<i8>): i32 {
    const size = this.size;
    const tmp = this.nafTmp;
    for (let i = 0; i < size; i++) unchecked((tmp[i] = unchecked(k[i])));
    unchecked((tmp[size] = 0));
    const mask: u32 = ((<u32>1) << (<u32>w)) - 1;
    const half: i32 = 1 << (w - 1);
    let len = 0;
    for (;;) {
      let nonzero = false;
      for (let i = 0; i <= size; i++)
        if (unchecked(tmp[i]) != 0) {
          nonzero = true;
          break;
        }
      if (!nonzero) break;
      let d: i32 = 0;
      const low = unchecked(tmp[0]);
      if ((low & 1) != 0) {
        d = <i32>(low & mask);
        if (d >= half) d -= 1 << w;
        if (d > 0) {
          unchecked((tmp[0] = low - <u32>d)); // the low w bits were d: no borrow
        } else {
          let c: u64 = <u64>-d;
          for (let i = 0; i <= size && c != 0; i++) {
            c += <u64>unchecked(tmp[i]);
            unchecked((tmp[i] = <u32>c));
            c >>= 32;
          }
        }
      }
      unchecked((out[len] = <i8>d));
      len++;
      for (let i = 0; i < size; i++) unchecked((tmp[i] = (unchecked(tmp[i]) >>> 1) | (unchecked(tmp[i + 1]) << 31)));
      unchecked((tmp[size] = unchecked(tmp[size]) >>> 1));
    }
    return len;
  }

  /** acc += sign(d) table[|d| >> 1]. */
  addDigit(acc: JPoint, table: StaticArray<JPoint>, d: i32, affine: bool): void {
    if (d > 0) {
      const pt = unchecked(table[d >> 1]);
      if (affine) this.addAffine(acc, pt);
      else this.add(acc, pt);
    } else {
      const pt = unchecked(table[-d >> 1]);
      const neg = this.neg;
      copyLimbs(neg.x, pt.x);
      this.fp.sub(neg.y, this.zero, pt.y);
      copyLimbs(neg.z, pt.z);
      if (affine) this.addAffine(acc, neg);
      else this.add(acc, neg);
    }
  }

  /** p = p + q for q affine (z = 1) (madd-2007-bl); q is not p. */
  addAffine(p: JPoint, q: JPoint): void {
    if (p.isInfinity()) {
      p.set(q);
      return;
    }
    const f = this.fp;
    const z1z1 = unchecked(this.t[6]),
      u2 = unchecked(this.t[7]),
      s2 = unchecked(this.t[8]),
      h = unchecked(this.t[9]);
    const hh = unchecked(this.t[10]),
      i = unchecked(this.t[11]),
      j = unchecked(this.t[12]),
      r = unchecked(this.t[13]);
    const v = unchecked(this.t[14]),
      w = unchecked(this.t[15]);
    f.mul(z1z1, p.z, p.z);
    f.mul(u2, q.x, z1z1);
    f.mul(s2, q.y, p.z);
    f.mul(s2, s2, z1z1);
    f.sub(h, u2, p.x);
    f.sub(r, s2, p.y);
    if (isZero(h)) {
      if (isZero(r)) {
        this.dbl(p);
        return;
      }
      memory.fill(changetype<usize>(p.z), 0, (<usize>this.size) << 2);
      return;
    }
    f.double(r, r);
    f.mul(hh, h, h);
    f.double(i, hh);
    f.double(i, i); // I = 4 HH
    f.mul(j, h, i);
    f.mul(v, p.x, i);
    // z3 = (z1 + H)^2 - z1z1 - HH
    f.add(w, p.z, h);
    f.mul(w, w, w);
    f.sub(w, w, z1z1);
    f.sub(p.z, w, hh);
    // x3 = r^2 - J - 2V
    f.mul(w, r, r);
    f.sub(w, w, j);
    f.sub(w, w, v);
    f.sub(p.x, w, v);
    // y3 = r (V - x3) - 2 Y1 J
    f.sub(v, v, p.x);
    f.mul(v, r, v);
    f.mul(w, p.y, j);
    f.double(w, w);
    f.sub(p.y, v, w);
  }

  /** y^2 == x^3 - 3x + b for Montgomery-form x, y. */
  onCurve(x: StaticArray<u32>, y: StaticArray<u32>): bool {
    const f = this.fp;
    const t0 = unchecked(this.t[0]),
      t1 = unchecked(this.t[1]);
    f.mul(t0, x, x);
    f.mul(t0, t0, x); // x^3
    f.double(t1, x);
    f.add(t1, t1, x); // 3x
    f.sub(t0, t0, t1);
    f.add(t0, t0, this.b);
    f.mul(t1, y, y);
    return cmp(t0, t1) == 0;
  }

  /** p = 2p (a = -3, dbl-2001-b). */
  dbl(p: JPoint): void {
    if (p.isInfinity()) return;
    const f = this.fp;
    const delta = unchecked(this.t[0]),
      gamma = unchecked(this.t[1]),
      beta = unchecked(this.t[2]);
    const alpha = unchecked(this.t[3]),
      u = unchecked(this.t[4]),
      v = unchecked(this.t[5]);
    f.mul(delta, p.z, p.z);
    f.mul(gamma, p.y, p.y);
    f.mul(beta, p.x, gamma);
    f.sub(u, p.x, delta);
    f.add(v, p.x, delta);
    f.mul(u, u, v);
    f.double(alpha, u);
    f.add(alpha, alpha, u); // alpha = 3(x-delta)(x+delta)
    // z3 = (y + z)^2 - gamma - delta
    f.add(v, p.y, p.z);
    f.mul(v, v, v);
    f.sub(v, v, gamma);
    f.sub(p.z, v, delta);
    // x3 = alpha^2 - 8 beta
    f.double(beta, beta);
    f.double(beta, beta); // 4 beta
    f.mul(u, alpha, alpha);
    f.double(v, beta); // 8 beta
    f.sub(p.x, u, v);
    // y3 = alpha (4 beta - x3) - 8 gamma^2
    f.sub(u, beta, p.x);
    f.mul(u, alpha, u);
    f.mul(gamma, gamma, gamma);
    f.double(gamma, gamma);
    f.double(gamma, gamma);
    f.double(gamma, gamma);
    f.sub(p.y, u, gamma);
  }

  /** p = p + q (add-2007-bl); q is not modified and must not be p. */
  add(p: JPoint, q: JPoint): void {
    if (q.isInfinity()) return;
    if (p.isInfinity()) {
      p.set(q);
      return;
    }
    const f = this.fp;
    const z1z1 = unchecked(this.t[6]),
      z2z2 = unchecked(this.t[7]),
      u1 = unchecked(this.t[8]),
      u2 = unchecked(this.t[9]);
    const s1 = unchecked(this.t[10]),
      s2 = unchecked(this.t[11]),
      h = unchecked(this.t[12]),
      r = unchecked(this.t[13]);
    const i = unchecked(this.t[14]),
      j = unchecked(this.t[15]);
    f.mul(z1z1, p.z, p.z);
    f.mul(z2z2, q.z, q.z);
    f.mul(u1, p.x, z2z2);
    f.mul(u2, q.x, z1z1);
    f.mul(s1, p.y, q.z);
    f.mul(s1, s1, z2z2);
    f.mul(s2, q.y, p.z);
    f.mul(s2, s2, z1z1);
    f.sub(h, u2, u1);
    f.sub(r, s2, s1);
    if (isZero(h)) {
      if (isZero(r)) {
        this.dbl(p);
        return;
      }
      memory.fill(changetype<usize>(p.z), 0, (<usize>this.size) << 2); // P + (-P) = infinity
      return;
    }
    f.double(r, r);
    f.double(i, h);
    f.mul(i, i, i); // I = (2H)^2
    f.mul(j, h, i); // J = H I
    f.mul(u2, u1, i); // V = U1 I (u2 reused)
    // z3 = ((z1 + z2)^2 - z1z1 - z2z2) H
    f.add(s2, p.z, q.z);
    f.mul(s2, s2, s2);
    f.sub(s2, s2, z1z1);
    f.sub(s2, s2, z2z2);
    f.mul(p.z, s2, h);
    // x3 = r^2 - J - 2V
    f.mul(s2, r, r);
    f.sub(s2, s2, j);
    f.double(u1, u2);
    f.sub(p.x, s2, u1);
    // y3 = r (V - x3) - 2 S1 J
    f.sub(u2, u2, p.x);
    f.mul(u2, r, u2);
    f.mul(s1, s1, j);
    f.double(s1, s1);
    f.sub(p.y, u2, s1);
  }

  verify(x: ArrayBuffer, y: ArrayBuffer, message: ArrayBuffer, sig: ArrayBuffer, hash: HashAlg): bool {
    const size = this.size;
    const bytes = this.bytes;
    if (sig.byteLength != 2 * bytes) return false;
    const sp = changetype<usize>(sig);
    const r = limbsFromBytesAt(sp, bytes, size);
    const s = limbsFromBytesAt(sp + <usize>bytes, bytes, size);
    if (r == null || s == null) return false;
    const n = this.fn.m;
    if (isZero(r) || isZero(s) || cmp(r, n) >= 0 || cmp(s, n) >= 0) return false;
    // Public key: affine coordinates < p, on the curve (cofactor 1: that is the whole check).
    const qx = limbsFromBytesAt(changetype<usize>(x), x.byteLength, size);
    const qy = limbsFromBytesAt(changetype<usize>(y), y.byteLength, size);
    if (qx == null || qy == null) return false;
    const f = this.fp;
    if (cmp(qx, f.m) >= 0 || cmp(qy, f.m) >= 0) return false;
    const q = this.q;
    f.toMont(q.x, qx);
    f.toMont(q.y, qy);
    copyLimbs(q.z, f.one);
    if (!this.onCurve(q.x, q.y)) return false;
    // e = leftmost min(hLen, bytes) bytes of the hash, reduced mod n.
    const hLen = hashLength(hash);
    const hbuf = new ArrayBuffer(hLen);
    const hp = changetype<usize>(hbuf);
    digestInto(hash, changetype<usize>(message), message.byteLength, hp);
    const e = limbsFromBytesAt(hp, min(hLen, bytes), size);
    if (e == null) return false;
    if (cmp(e, n) >= 0) subLimbs(e, e, n);
    // w = s^-1 mod n; u1 = e w, u2 = r w (montmul of a plain and a Montgomery value is plain).
    const w = new StaticArray<u32>(size);
    this.fn.toMont(w, s);
    this.fn.invMont(w, w);
    const u1 = new StaticArray<u32>(size);
    const u2 = new StaticArray<u32>(size);
    this.fn.mul(u1, e, w);
    this.fn.mul(u2, r, w);
    // u1 G + u2 Q, interleaved width-7 (G, affine table) and width-5 (Q) NAF.
    this.fillOdd(this.qTable, q);
    const len1 = this.wnaf(u1, 7, this.naf1);
    const len2 = this.wnaf(u2, 5, this.naf2);
    const acc = this.acc;
    memory.fill(changetype<usize>(acc.z), 0, (<usize>size) << 2);
    for (let i = max(len1, len2) - 1; i >= 0; i--) {
      this.dbl(acc);
      if (i < len1) {
        const d1 = <i32>unchecked(this.naf1[i]);
        if (d1 != 0) this.addDigit(acc, this.gTable, d1, true);
      }
      if (i < len2) {
        const d2 = <i32>unchecked(this.naf2[i]);
        if (d2 != 0) this.addDigit(acc, this.qTable, d2, false);
      }
    }
    if (acc.isInfinity()) return false;
    // x(acc) mod n == r  <=>  X == x' Z^2 (mod p) for x' = r or, when r + n < p, x' = r + n.
    const z2 = unchecked(this.t[0]);
    f.mul(z2, acc.z, acc.z);
    const xr = unchecked(this.t[1]);
    f.toMont(xr, r);
    f.mul(xr, xr, z2);
    if (cmp(xr, acc.x) == 0) return true;
    const rn = unchecked(this.t[2]);
    if (addLimbs(rn, r, n) != 0 || cmp(rn, f.m) >= 0) return false;
    f.toMont(xr, rn);
    f.mul(xr, xr, z2);
    return cmp(xr, acc.x) == 0;
  }
}

const G_TABLE = 64; // odd multiples up to 127 G
const Q_TABLE = 8; // odd multiples up to 15 Q

let p256: CurveImpl | null = null;
let p384: CurveImpl | null = null;

function curveImpl(curve: Curve): CurveImpl {
  if (curve == Curve.P256) {
    let c = p256;
    if (c == null) {
      c = new CurveImpl(
        32,
        'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff',
        'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
        '5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b',
        '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296',
        '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5',
      );
      p256 = c;
    }
    return c;
  }
  let c = p384;
  if (c == null) {
    c = new CurveImpl(
      48,
      'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff',
      'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
      'b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef',
      'aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7',
      '3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f',
    );
    p384 = c;
  }
  return c;
}

/**
 * ECDSA verification with the public key (x, y) (big-endian affine coordinates, as in a JWK),
 * a P1363 signature r || s (2 * curveByteLength bytes, as in JWS) over `message` hashed with `hash`.
 */
export function ecdsaVerify(
  curve: Curve,
  x: ArrayBuffer,
  y: ArrayBuffer,
  message: ArrayBuffer,
  signatureP1363: ArrayBuffer,
  hash: HashAlg,
): bool {
  if (curve != Curve.P256 && curve != Curve.P384) return false;
  if (hash != HashAlg.SHA256 && hash != HashAlg.SHA384 && hash != HashAlg.SHA512) return false;
  return curveImpl(curve).verify(x, y, message, signatureP1363, hash);
}

/** (x, y) is a point on `curve` (coordinates < p). */
export function ecPointOnCurve(curve: Curve, x: ArrayBuffer, y: ArrayBuffer): bool {
  if (curve != Curve.P256 && curve != Curve.P384) return false;
  const c = curveImpl(curve);
  const qx = limbsFromBytesAt(changetype<usize>(x), x.byteLength, c.size);
  const qy = limbsFromBytesAt(changetype<usize>(y), y.byteLength, c.size);
  if (qx == null || qy == null) return false;
  if (cmp(qx, c.fp.m) >= 0 || cmp(qy, c.fp.m) >= 0) return false;
  const mx = new StaticArray<u32>(c.size);
  const my = new StaticArray<u32>(c.size);
  c.fp.toMont(mx, qx);
  c.fp.toMont(my, qy);
  return c.onCurve(mx, my);
}
