// Wycheproof vectors (test/vectors/wycheproof/, vendored from C2SP/wycheproof) through our
// AssemblyScript crypto (assembly/lib/crypto, compiled -O3) and, via our DER encoders, through
// node:crypto (OpenSSL), so both signature paths of the authz filter see the same vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as crypto from 'node:crypto';
import { CryptoModule, hex, type HashName } from '../../host/fixtures/crypto.ts';
import { repoRoot } from '../harness/fixtures.ts';

interface Vector {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface Group {
  sha: HashName;
  sLen?: number;
  publicKeyDer: string;
  publicKey: { modulus?: string; publicExponent?: string; curve?: string; wx?: string; wy?: string };
  tests: Vector[];
}
function load(file: string): { numberOfTests: number; testGroups: Group[] } {
  return JSON.parse(readFileSync(join(repoRoot, 'test/vectors/wycheproof', file), 'utf8'));
}
const nodeHash = (h: HashName) => h.replace('-', '').toLowerCase();

const mod = await CryptoModule.load(3);

interface Tally {
  valid: number;
  invalid: number;
  acceptableAccepted: number;
  acceptableRejected: number;
  nodeAgreed: number;
}
function tally(): Tally {
  return { valid: 0, invalid: 0, acceptableAccepted: 0, acceptableRejected: 0, nodeAgreed: 0 };
}

function check(t: Tally, file: string, v: Vector, ours: boolean, theirs: boolean | null): void {
  if (v.result === 'acceptable') {
    if (ours) t.acceptableAccepted++;
    else t.acceptableRejected++;
  } else {
    assert.equal(
      ours,
      v.result === 'valid',
      `${file} tcId ${v.tcId} (${v.comment}; ${v.flags.join(',')}): ours=${ours}, expected ${v.result}`,
    );
    if (ours) t.valid++;
    else t.invalid++;
  }
  if (theirs !== null) {
    assert.equal(theirs, ours, `${file} tcId ${v.tcId}: node:crypto with our DER says ${theirs}, ours ${ours}`);
    t.nodeAgreed++;
  }
}

function nodeVerify(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  } // OpenSSL throws on some malformed signatures
}

for (const [file, expectedHash] of [
  ['rsa_signature_2048_sha256_test.json', 'SHA-256'],
  ['rsa_signature_3072_sha384_test.json', 'SHA-384'],
  ['rsa_signature_4096_sha512_test.json', 'SHA-512'],
] as const) {
  test(`Wycheproof RSASSA-PKCS1-v1_5: ${file}`, () => {
    const data = load(file);
    const t = tally();
    for (const g of data.testGroups) {
      assert.equal(g.sha, expectedHash);
      const n = hex(g.publicKey.modulus!);
      const e = hex(g.publicKey.publicExponent!);
      const spki = mod.rsaSpki(n, e);
      assert.equal(Buffer.from(spki).toString('hex'), g.publicKeyDer, 'rsaSpkiDer matches the vector DER');
      const key = crypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      for (const v of g.tests) {
        const msg = hex(v.msg),
          sig = hex(v.sig);
        const ours = mod.rsaPkcs1(g.sha, n, e, msg, sig);
        const theirs = nodeVerify(() => crypto.verify(nodeHash(g.sha), msg, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, sig));
        // e = 3 keys (exponent below 65537) are legitimate; only compare when node agrees on validity.
        check(t, file, v, ours, v.result === 'acceptable' ? null : theirs);
      }
    }
    const total = t.valid + t.invalid + t.acceptableAccepted + t.acceptableRejected;
    assert.equal(total, data.numberOfTests);
    assert.ok(t.valid > 0 && t.invalid > 0);
    console.log(
      `${file}: ${total} vectors, ${t.valid} valid, ${t.invalid} invalid, acceptable accepted/rejected ${t.acceptableAccepted}/${t.acceptableRejected}, node:crypto agreed on ${t.nodeAgreed}`,
    );
  });
}

for (const [file, sLen] of [
  ['rsa_pss_2048_sha256_mgf1_32_test.json', 32],
  ['rsa_pss_2048_sha384_mgf1_48_test.json', 48],
  ['rsa_pss_4096_sha512_mgf1_64_test.json', 64],
] as const) {
  test(`Wycheproof RSASSA-PSS (MGF1 same hash, salt = hash length): ${file}`, () => {
    const data = load(file);
    const t = tally();
    for (const g of data.testGroups) {
      assert.equal(g.sLen, sLen);
      const n = hex(g.publicKey.modulus!);
      const e = hex(g.publicKey.publicExponent!);
      const key = crypto.createPublicKey({ key: Buffer.from(mod.rsaSpki(n, e)), format: 'der', type: 'spki' });
      for (const v of g.tests) {
        const msg = hex(v.msg),
          sig = hex(v.sig);
        const ours = mod.rsaPss(g.sha, n, e, msg, sig);
        const theirs = nodeVerify(() =>
          crypto.verify(nodeHash(g.sha), msg, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: sLen }, sig),
        );
        check(t, file, v, ours, theirs);
      }
    }
    assert.equal(t.valid + t.invalid + t.acceptableAccepted + t.acceptableRejected, data.numberOfTests);
    assert.ok(t.valid > 0 && t.invalid > 0);
    console.log(
      `${file}: ${data.numberOfTests} vectors, ${t.valid} valid, ${t.invalid} invalid, acceptable accepted/rejected ${t.acceptableAccepted}/${t.acceptableRejected}, node:crypto agreed on ${t.nodeAgreed}`,
    );
  });
}

for (const [file, curve, width] of [
  ['ecdsa_secp256r1_sha256_p1363_test.json', 'P256', 32],
  ['ecdsa_secp384r1_sha384_p1363_test.json', 'P384', 48],
  ['ecdsa_secp256r1_sha512_p1363_test.json', 'P256', 32],
] as const) {
  test(`Wycheproof ECDSA P1363: ${file}`, () => {
    const data = load(file);
    const t = tally();
    let derChecked = 0;
    for (const g of data.testGroups) {
      const x = hex(g.publicKey.wx!),
        y = hex(g.publicKey.wy!);
      const spki = mod.ecSpki(curve, x, y);
      assert.ok(spki, 'ecSpkiDer encodes the vector key');
      assert.equal(Buffer.from(spki).toString('hex'), g.publicKeyDer, 'ecSpkiDer matches the vector DER');
      const key = crypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      for (const v of g.tests) {
        const msg = hex(v.msg),
          sig = hex(v.sig);
        const ours = mod.ecdsa(curve, x, y, msg, sig, g.sha);
        let theirs: boolean | null = null;
        if (sig.length === 2 * width) {
          // Through our P1363 -> DER converter, as the authz filter calls Envoy's verify_signature.
          const der = mod.p1363ToDer(sig);
          assert.ok(der);
          const viaDer = nodeVerify(() => crypto.verify(nodeHash(g.sha), msg, { key, dsaEncoding: 'der' }, der));
          const viaP1363 = nodeVerify(() => crypto.verify(nodeHash(g.sha), msg, { key, dsaEncoding: 'ieee-p1363' }, sig));
          assert.equal(viaDer, viaP1363, `${file} tcId ${v.tcId}: DER conversion changes node's answer`);
          theirs = viaDer;
          derChecked++;
        }
        check(t, file, v, ours, theirs);
      }
    }
    assert.equal(t.valid + t.invalid + t.acceptableAccepted + t.acceptableRejected, data.numberOfTests);
    assert.ok(t.valid > 100 && t.invalid > 50);
    assert.equal(t.acceptableAccepted + t.acceptableRejected, 0);
    console.log(
      `${file}: ${data.numberOfTests} vectors, ${t.valid} valid, ${t.invalid} invalid, node:crypto (via our DER) agreed on ${t.nodeAgreed}, DER-converted ${derChecked}`,
    );
  });
}
