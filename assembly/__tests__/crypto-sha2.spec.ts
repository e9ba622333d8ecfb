import { sha256, sha384, sha512, digest, hashLength, HashAlg } from '../lib/crypto';

function hex(b: ArrayBuffer): string {
  const digits = '0123456789abcdef';
  let out = '';
  const p = changetype<usize>(b);
  for (let i = 0; i < b.byteLength; i++) {
    const v = load<u8>(p + <usize>i);
    out += digits.charAt(v >> 4) + digits.charAt(v & 15);
  }
  return out;
}
function ascii(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}
function repeated(byte: u8, n: i32): ArrayBuffer {
  const b = new ArrayBuffer(n);
  memory.fill(changetype<usize>(b), byte, <usize>n);
  return b;
}

describe('SHA-256 (FIPS 180-4 / NIST examples)', () => {
  it('hashes "abc"', () => {
    expect(hex(sha256(ascii('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('hashes the empty string', () => {
    expect(hex(sha256(new ArrayBuffer(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
  it('hashes the 448-bit message (two padding blocks)', () => {
    expect(hex(sha256(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });
  it('hashes the 896-bit message', () => {
    expect(
      hex(
        sha256(ascii('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu')),
      ),
    ).toBe('cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1');
  });
  it('hashes one million "a"', () => {
    expect(hex(sha256(repeated(0x61, 1000000)))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });
  it('hashes 55, 56 and 64 byte boundaries like a 2-block message would', () => {
    // 55 bytes fits one padding block, 56 needs two, 64 is one full block plus padding.
    expect(hex(sha256(repeated(0x61, 55)))).toBe('9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318');
    expect(hex(sha256(repeated(0x61, 56)))).toBe('b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a');
    expect(hex(sha256(repeated(0x61, 64)))).toBe('ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb');
  });
});

describe('SHA-384 and SHA-512', () => {
  it('hashes "abc"', () => {
    expect(hex(sha384(ascii('abc')))).toBe(
      'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
    );
    expect(hex(sha512(ascii('abc')))).toBe(
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    );
  });
  it('hashes the empty string', () => {
    expect(hex(sha384(new ArrayBuffer(0)))).toBe(
      '38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b',
    );
    expect(hex(sha512(new ArrayBuffer(0)))).toBe(
      'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e',
    );
  });
  it('hashes the 896-bit message (two padding blocks)', () => {
    const m = ascii('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu');
    expect(hex(sha384(m))).toBe('09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039');
    expect(hex(sha512(m))).toBe(
      '8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909',
    );
  });
  it('hashes one million "a"', () => {
    const m = repeated(0x61, 1000000);
    expect(hex(sha384(m))).toBe('9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985');
    expect(hex(sha512(m))).toBe(
      'e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b',
    );
  });
  it('digest() dispatches by algorithm and hashLength() matches', () => {
    expect(hashLength(HashAlg.SHA256)).toBe(32);
    expect(hashLength(HashAlg.SHA384)).toBe(48);
    expect(hashLength(HashAlg.SHA512)).toBe(64);
    expect(hex(digest(HashAlg.SHA384, ascii('abc')))).toBe(hex(sha384(ascii('abc'))));
  });
});
