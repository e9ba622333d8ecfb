// RSA signature verification (RFC 8017): RSASSA-PKCS1-v1_5 and RSASSA-PSS (MGF1 with the same
// hash, salt length = hash length, as JWS PS256/384/512 require). Keys are the JWK `n` and `e`
// as big-endian bytes (leading zero bytes allowed). Malformed input returns false, never traps.
import { HashAlg, hashLength, digestInto } from './sha2';
import { Montgomery, limbsFromBytesAt, limbsToBytesAt, cmp, bitLength } from './bigint';

/** Smallest accepted modulus (RFC 7518 3.3: 2048 bits or larger) and largest (bounds cost). */
export const RSA_MIN_BITS: i32 = 2048;
export const RSA_MAX_BITS: i32 = 4096;
/** Largest accepted public exponent length in bytes (e < 2^32). */
export const RSA_MAX_EXPONENT_BYTES: i32 = 4;

const PREFIX_SHA256: StaticArray<u8> = [
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
];
const PREFIX_SHA384: StaticArray<u8> = [
  0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30,
];
const PREFIX_SHA512: StaticArray<u8> = [
  0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40,
];

function digestInfoPrefix(alg: HashAlg): StaticArray<u8> {
  return alg == HashAlg.SHA256 ? PREFIX_SHA256 : alg == HashAlg.SHA384 ? PREFIX_SHA384 : PREFIX_SHA512;
}

function validAlg(alg: HashAlg): bool {
  return alg == HashAlg.SHA256 || alg == HashAlg.SHA384 || alg == HashAlg.SHA512;
}

/** A parsed public key: modulus without leading zeros. */
class RsaKey {
  constructor(
    public mont: Montgomery,
    public k: i32,
    public bits: i32,
  ) {}
}

// Montgomery contexts (R^2 mod n costs about a third of a verification) for the last few
// moduli, compared byte for byte: bounded, round-robin replacement.
const CACHE_SIZE = 8;
const cachedModuli = new StaticArray<ArrayBuffer | null>(CACHE_SIZE);
const cachedKeys = new StaticArray<RsaKey | null>(CACHE_SIZE);
let cacheNext = 0;

function cachedKey(np: usize, k: i32): RsaKey | null {
  for (let i = 0; i < CACHE_SIZE; i++) {
    const m = unchecked(cachedModuli[i]);
    if (m != null && m.byteLength == k && memory.compare(changetype<usize>(m), np, <usize>k) == 0) return unchecked(cachedKeys[i]);
  }
  return null;
}

function parseKey(n: ArrayBuffer, e: ArrayBuffer): RsaKey | null {
  const np0 = changetype<usize>(n);
  let start = 0;
  while (start < n.byteLength && load<u8>(np0 + <usize>start) == 0) start++;
  const k = n.byteLength - start;
  const np = np0 + <usize>start;
  if (k * 8 < RSA_MIN_BITS - 7 || k * 8 > RSA_MAX_BITS) return null;
  // e: odd, >= 3, at most 32 bits (as Go's crypto/rsa: bounds the cost a hostile JWKS can cause).
  const ep = changetype<usize>(e);
  let es = 0;
  while (es < e.byteLength && load<u8>(ep + <usize>es) == 0) es++;
  const elen = e.byteLength - es;
  if (elen == 0 || elen > RSA_MAX_EXPONENT_BYTES) return null;
  if ((load<u8>(ep + <usize>(e.byteLength - 1)) & 1) == 0) return null;
  if (elen == 1 && load<u8>(ep + <usize>es) < 3) return null;
  const hit = cachedKey(np, k);
  if (hit != null) return hit;
  const size = (k + 3) >> 2;
  const m = limbsFromBytesAt(np, k, size);
  if (m == null) return null;
  const bits = bitLength(m);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS || !Montgomery.usable(m)) return null;
  const key = new RsaKey(new Montgomery(m), k, bits);
  const copy = new ArrayBuffer(k);
  memory.copy(changetype<usize>(copy), np, <usize>k);
  unchecked((cachedModuli[cacheNext] = copy));
  unchecked((cachedKeys[cacheNext] = key));
  cacheNext = (cacheNext + 1) % CACHE_SIZE;
  return key;
}

/** s^e mod n as k big-endian bytes, or null when the signature is not an integer in [0, n). */
function rsaep(key: RsaKey, e: ArrayBuffer, signature: ArrayBuffer): ArrayBuffer | null {
  if (signature.byteLength != key.k) return null;
  const size = key.mont.size;
  const s = limbsFromBytesAt(changetype<usize>(signature), signature.byteLength, size);
  if (s == null || cmp(s, key.mont.m) >= 0) return null;
  const m = new StaticArray<u32>(size);
  key.mont.modPowBytes(m, s, e);
  const em = new ArrayBuffer(key.k);
  if (!limbsToBytesAt(m, changetype<usize>(em), key.k)) return null;
  return em;
}

/** RSASSA-PKCS1-v1_5 verification of `signature` over `message` (hashed here with `hash`). */
export function rsaVerifyPkcs1v15(hash: HashAlg, n: ArrayBuffer, e: ArrayBuffer, message: ArrayBuffer, signature: ArrayBuffer): bool {
  if (!validAlg(hash)) return false;
  const key = parseKey(n, e);
  if (key == null) return false;
  const em = rsaep(key, e, signature);
  if (em == null) return false;
  const k = key.k;
  const prefix = digestInfoPrefix(hash);
  const hLen = hashLength(hash);
  const tLen = prefix.length + hLen;
  const psLen = k - 3 - tLen;
  if (psLen < 8) return false;
  // Expected EM = 00 01 FF..FF 00 || DigestInfo prefix || H(message), compared byte for byte.
  const p = changetype<usize>(em);
  if (load<u8>(p) != 0 || load<u8>(p, 1) != 1) return false;
  for (let i = 0; i < psLen; i++) if (load<u8>(p + <usize>(2 + i)) != 0xff) return false;
  if (load<u8>(p + <usize>(2 + psLen)) != 0) return false;
  const at = 3 + psLen;
  for (let i = 0; i < prefix.length; i++) if (load<u8>(p + <usize>(at + i)) != unchecked(prefix[i])) return false;
  const h = new ArrayBuffer(hLen);
  digestInto(hash, changetype<usize>(message), message.byteLength, changetype<usize>(h));
  return memory.compare(p + <usize>(at + prefix.length), changetype<usize>(h), <usize>hLen) == 0;
}

/** MGF1 mask (RFC 8017 B.2.1) of `seedLen` bytes at `seed`, XORed into `len` bytes at `out`. */
function mgf1Xor(alg: HashAlg, seed: usize, seedLen: i32, out: usize, len: i32): void {
  const hLen = hashLength(alg);
  const input = new ArrayBuffer(seedLen + 4);
  const ip = changetype<usize>(input);
  memory.copy(ip, seed, <usize>seedLen);
  const block = new ArrayBuffer(hLen);
  const bp = changetype<usize>(block);
  let done = 0;
  for (let counter: u32 = 0; done < len; counter++) {
    store<u32>(ip + <usize>seedLen, bswap<u32>(counter));
    digestInto(alg, ip, seedLen + 4, bp);
    const take = min(hLen, len - done);
    for (let i = 0; i < take; i++) {
      const o = out + <usize>(done + i);
      store<u8>(o, load<u8>(o) ^ load<u8>(bp + <usize>i));
    }
    done += take;
  }
}

/** RSASSA-PSS verification (EMSA-PSS, MGF1 with `hash`, salt length = hash length). */
export function rsaVerifyPss(hash: HashAlg, n: ArrayBuffer, e: ArrayBuffer, message: ArrayBuffer, signature: ArrayBuffer): bool {
  if (!validAlg(hash)) return false;
  const key = parseKey(n, e);
  if (key == null) return false;
  const full = rsaep(key, e, signature);
  if (full == null) return false;
  const emBits = key.bits - 1;
  const emLen = (emBits + 7) >> 3;
  // I2OSP(m, emLen): when emLen = k - 1 the leading byte must be zero.
  const fp = changetype<usize>(full);
  const skip = key.k - emLen;
  for (let i = 0; i < skip; i++) if (load<u8>(fp + <usize>i) != 0) return false;
  const em = fp + <usize>skip;
  const hLen = hashLength(hash);
  const sLen = hLen;
  if (emLen < hLen + sLen + 2) return false;
  if (load<u8>(em + <usize>(emLen - 1)) != 0xbc) return false;
  const dbLen = emLen - hLen - 1;
  const hp = em + <usize>dbLen;
  const topBits = 8 * emLen - emBits; // 0..7 leading bits of DB that must be zero
  const topMask = <u8>(0xff >> (<u8>topBits));
  if ((load<u8>(em) & ~topMask) != 0) return false;
  // DB = maskedDB XOR MGF1(H), in place.
  mgf1Xor(hash, hp, hLen, em, dbLen);
  store<u8>(em, load<u8>(em) & topMask);
  const psEnd = emLen - hLen - sLen - 2;
  for (let i = 0; i < psEnd; i++) if (load<u8>(em + <usize>i) != 0) return false;
  if (load<u8>(em + <usize>psEnd) != 1) return false;
  // M' = 00*8 || mHash || salt; H must equal Hash(M').
  const mp = new ArrayBuffer(8 + hLen + sLen);
  const mpp = changetype<usize>(mp);
  digestInto(hash, changetype<usize>(message), message.byteLength, mpp + 8);
  memory.copy(mpp + <usize>(8 + hLen), em + <usize>(dbLen - sLen), <usize>sLen);
  const h2 = new ArrayBuffer(hLen);
  digestInto(hash, mpp, mp.byteLength, changetype<usize>(h2));
  return memory.compare(hp, changetype<usize>(h2), <usize>hLen) == 0;
}
