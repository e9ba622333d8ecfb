// JWS signatures made by `jose` (as the authz tests make tokens) checked by our AssemblyScript
// crypto for every algorithm the authz filter supports, several key sizes, and tampering.
// Also: malformed inputs fail closed (false, no trap) and memory stays bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { CryptoModule, type HashName } from '../../host/fixtures/crypto.ts';

const mod = await CryptoModule.load(3);
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));
const enc = (s: string) => new TextEncoder().encode(s);

async function jws(alg: string, opts: Record<string, unknown> = {}) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...opts });
  const token = await new CompactSign(enc(JSON.stringify({ sub: 'alice', iss: 'https://issuer.test', aud: 'asmesh' })))
    .setProtectedHeader({ alg })
    .sign(privateKey);
  const [h, p, s] = token.split('.');
  return { jwk: await exportJWK(publicKey), input: enc(`${h}.${p}`), sig: b64(s!) };
}

function flip(b: Uint8Array, i: number): Uint8Array {
  const c = b.slice();
  c[i]! ^= 1;
  return c;
}

const rsaCases: [string, HashName, number][] = [
  ['RS256', 'SHA-256', 2048],
  ['RS384', 'SHA-384', 3072],
  ['RS512', 'SHA-512', 4096],
  ['PS256', 'SHA-256', 2048],
  ['PS384', 'SHA-384', 2048],
  ['PS512', 'SHA-512', 4096],
];
for (const [alg, hash, bits] of rsaCases) {
  test(`jose ${alg} (RSA-${bits}) verifies, tampering fails`, async () => {
    const { jwk, input, sig } = await jws(alg, { modulusLength: bits });
    const n = b64(jwk.n!),
      e = b64(jwk.e!);
    const verify = alg.startsWith('PS') ? mod.rsaPss.bind(mod) : mod.rsaPkcs1.bind(mod);
    const other = alg.startsWith('PS') ? mod.rsaPkcs1.bind(mod) : mod.rsaPss.bind(mod);
    assert.equal(verify(hash, n, e, input, sig), true);
    assert.equal(verify(hash, n, e, flip(input, 3), sig), false, 'changed message');
    assert.equal(verify(hash, n, e, input, flip(sig, sig.length - 1)), false, 'changed signature');
    assert.equal(verify(hash, n, e, input, sig.slice(1)), false, 'short signature');
    assert.equal(verify(hash === 'SHA-256' ? 'SHA-384' : 'SHA-256', n, e, input, sig), false, 'other hash');
    assert.equal(other(hash, n, e, input, sig), false, 'other padding');
    assert.equal(verify(hash, flip(n, 10), e, input, sig), false, 'other modulus');
    // Leading zero bytes on n and e (ASN.1 style) are accepted.
    assert.equal(verify(hash, new Uint8Array([0, ...n]), new Uint8Array([0, 0, ...e]), input, sig), true);
    // The DER key our encoder builds verifies the same way in OpenSSL (Envoy's verify_signature path).
    const key = crypto.createPublicKey({ key: Buffer.from(mod.rsaSpki(n, e)), format: 'der', type: 'spki' });
    const padding = alg.startsWith('PS') ? crypto.constants.RSA_PKCS1_PSS_PADDING : crypto.constants.RSA_PKCS1_PADDING;
    assert.equal(
      crypto.verify(hash.replace('-', '').toLowerCase(), input, { key, padding, saltLength: Number(hash.slice(4)) / 8 }, sig),
      true,
    );
  });
}

for (const [alg, curve, hash] of [
  ['ES256', 'P256', 'SHA-256'],
  ['ES384', 'P384', 'SHA-384'],
] as const) {
  test(`jose ${alg} verifies, tampering fails, DER forms are OpenSSL's`, async () => {
    for (let round = 0; round < 5; round++) {
      const { jwk, input, sig } = await jws(alg);
      const x = b64(jwk.x!),
        y = b64(jwk.y!);
      assert.equal(mod.ecdsa(curve, x, y, input, sig, hash), true);
      assert.equal(mod.ecdsa(curve, x, y, flip(input, 0), sig, hash), false, 'changed message');
      assert.equal(mod.ecdsa(curve, x, y, input, flip(sig, 5), hash), false, 'changed r');
      assert.equal(mod.ecdsa(curve, x, y, input, flip(sig, sig.length - 1), hash), false, 'changed s');
      assert.equal(mod.ecdsa(curve, y, x, input, sig, hash), false, 'swapped coordinates (off the curve)');
      assert.equal(mod.ecdsa(curve === 'P256' ? 'P384' : 'P256', x, y, input, sig, hash), false, 'other curve');
      const key = crypto.createPublicKey({ key: Buffer.from(mod.ecSpki(curve, x, y)!), format: 'der', type: 'spki' });
      assert.deepEqual(key.export({ format: 'jwk' }), { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y });
      const der = mod.p1363ToDer(sig)!;
      assert.equal(crypto.verify(hash.replace('-', '').toLowerCase(), input, { key, dsaEncoding: 'der' }, der), true);
    }
  });
}

test('P1363 to DER: sign bits and leading zeros give minimal INTEGERs', () => {
  const sig = new Uint8Array(64);
  sig[0] = 0x80;
  sig[31] = 1; // r = 0x80..01 needs a 0x00 pad byte
  sig[63] = 0x7f; // s = 0x7f: one byte
  assert.equal(Buffer.from(mod.p1363ToDer(sig)!).toString('hex'), `3026022100${Buffer.from(sig.slice(0, 32)).toString('hex')}02017f`);
  assert.equal(Buffer.from(mod.p1363ToDer(new Uint8Array(2))!).toString('hex'), '3006020100020100');
  assert.equal(mod.p1363ToDer(new Uint8Array(63)), null);
  assert.equal(mod.p1363ToDer(new Uint8Array(0)), null);
  assert.equal(mod.ecSpki('P256', new Uint8Array(33).fill(1), new Uint8Array(32)), null, 'x longer than the field');
});

test('malformed keys and signatures fail closed without trapping', async () => {
  const { jwk, input, sig } = await jws('RS256', { modulusLength: 2048 });
  const n = b64(jwk.n!),
    e = b64(jwk.e!);
  const empty = new Uint8Array(0);
  for (const verify of [mod.rsaPkcs1.bind(mod), mod.rsaPss.bind(mod)]) {
    assert.equal(verify('SHA-256', empty, e, input, sig), false);
    assert.equal(verify('SHA-256', n, empty, input, sig), false);
    assert.equal(verify('SHA-256', n, e, input, empty), false);
    assert.equal(verify('SHA-256', n, new Uint8Array([2]), input, sig), false, 'even exponent');
    assert.equal(verify('SHA-256', n, new Uint8Array([1]), input, sig), false, 'e = 1');
    assert.equal(verify('SHA-256', flip(n, n.length - 1), e, input, sig), false, 'even modulus');
    assert.equal(verify('SHA-256', n.slice(0, 128), e, input, sig.slice(0, 128)), false, '1024-bit modulus is too small');
    assert.equal(verify('SHA-256', new Uint8Array(513).fill(0xff), e, input, new Uint8Array(513)), false, 'modulus over 4096 bits');
    assert.equal(verify('SHA-256', n, e, input, new Uint8Array(256).fill(0xff)), false, 'signature >= n');
    assert.equal(
      mod.x.rsaPkcs1(7, ...([n, e, input, sig].map((b) => mod.buffer(b)) as [number, number, number, number])),
      0,
      'unknown hash id',
    );
  }
  const { jwk: ec, input: ein, sig: esig } = await jws('ES256');
  const x = b64(ec.x!),
    y = b64(ec.y!);
  const p = Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex');
  const nOrder = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
  assert.equal(mod.ecdsa('P256', empty, empty, ein, esig, 'SHA-256'), false);
  assert.equal(mod.ecdsa('P256', x, y, ein, empty, 'SHA-256'), false);
  assert.equal(mod.ecdsa('P256', x, y, ein, esig.slice(0, 63), 'SHA-256'), false);
  assert.equal(mod.ecdsa('P256', new Uint8Array(p), y, ein, esig, 'SHA-256'), false, 'x = p');
  assert.equal(mod.ecdsa('P256', x, y, ein, new Uint8Array(64), 'SHA-256'), false, 'r = s = 0');
  assert.equal(mod.ecdsa('P256', x, y, ein, new Uint8Array([...nOrder, ...esig.slice(32)]), 'SHA-256'), false, 'r = n');
  assert.equal(mod.ecdsa('P256', x, y, ein, new Uint8Array([...esig.slice(0, 32), ...nOrder]), 'SHA-256'), false, 's = n');
  assert.equal(
    mod.x.ecdsa(9, ...([x, y, ein, esig].map((b) => mod.buffer(b)) as [number, number, number, number]), 0),
    0,
    'unknown curve id',
  );
});

test('public exponents over 32 bits are refused (bounded cost), 32-bit ones accepted', () => {
  const big = (b: Uint8Array) => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'));
  const bytes = (v: bigint, len: number) => new Uint8Array(Buffer.from(v.toString(16).padStart(len * 2, '0'), 'hex'));
  const modPow = (b: bigint, e: bigint, m: bigint) => {
    let r = 1n;
    b %= m;
    while (e > 0n) {
      if (e & 1n) r = (r * b) % m;
      b = (b * b) % m;
      e >>= 1n;
    }
    return r;
  };
  const modInv = (a: bigint, m: bigint) => {
    let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
    while (r1) {
      const q = r0 / r1;
      [r0, r1] = [r1, r0 - q * r1];
      [s0, s1] = [s1, s0 - q * s1];
    }
    return r0 === 1n ? ((s0 % m) + m) % m : 0n;
  };
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const n = big(b64(jwk.n!)),
    p = big(b64(jwk.p!)),
    q = big(b64(jwk.q!));
  const phi = (p - 1n) * (q - 1n);
  const message = enc('payload');
  // EMSA-PKCS1-v1_5 for SHA-256, signed with d = e^-1 for each exponent.
  const digest = crypto.createHash('sha256').update(message).digest('hex');
  const em = BigInt('0x0001' + 'ff'.repeat(256 - 3 - 51) + '00' + '3031300d060960864801650304020105000420' + digest);
  let checked = 0;
  for (const [exponent, accepted] of [
    [2n ** 40n + 15n, false],
    [2n ** 32n + 15n, false],
    [2n ** 31n + 11n, true],
    [65537n, true],
  ] as const) {
    let e = exponent;
    while (modInv(e, phi) === 0n) e += 2n; // coprime to phi
    const sig = modPow(em, modInv(e, phi), n);
    assert.equal(modPow(sig, e, n), em, 'the signature is mathematically valid');
    const eBytes = bytes(e, Math.ceil(e.toString(16).length / 2));
    assert.equal(mod.rsaPkcs1('SHA-256', b64(jwk.n!), eBytes, message, bytes(sig, 256)), accepted, `e = ${e}`);
    checked++;
  }
  assert.equal(checked, 4);
});

test('repeated verifications do not grow linear memory (temporaries are collected)', async () => {
  const r = await jws('RS256', { modulusLength: 2048 });
  const ec = await jws('ES256');
  const rsaArgs = [r.jwk.n!, r.jwk.e!]
    .map(b64)
    .concat([r.input, r.sig])
    .map((b) => mod.buffer(b)) as [number, number, number, number];
  const ecArgs = [ec.jwk.x!, ec.jwk.y!]
    .map(b64)
    .concat([ec.input, ec.sig])
    .map((b) => mod.buffer(b)) as [number, number, number, number];
  const round = (count: number) => {
    for (let i = 0; i < count; i++) {
      assert.equal(mod.x.rsaPkcs1(0, ...rsaArgs), 1);
      assert.equal(mod.x.ecdsa(0, ...ecArgs, 0), 1);
    }
  };
  round(50);
  const before = mod.memoryBytes();
  round(400);
  assert.equal(mod.memoryBytes(), before, `memory grew from ${before} to ${mod.memoryBytes()} bytes`);
});
