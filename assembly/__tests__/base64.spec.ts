import { base64Decode, base64Encode, base64UrlDecode, base64UrlDecodeLenient, base64UrlEncode } from '../lib/base64';
import { isValidUtf8 } from '../lib/utf8';

function text(b: ArrayBuffer | null): string {
  if (b === null) return '<null>';
  return String.UTF8.decode(b as ArrayBuffer);
}

describe('base64', () => {
  it('round-trips RFC 4648 test vectors', () => {
    const inputs = ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'];
    const std = ['', 'Zg==', 'Zm8=', 'Zm9v', 'Zm9vYg==', 'Zm9vYmE=', 'Zm9vYmFy'];
    const url = ['', 'Zg', 'Zm8', 'Zm9v', 'Zm9vYg', 'Zm9vYmE', 'Zm9vYmFy'];
    for (let i = 0; i < inputs.length; i++) {
      expect(base64Encode(String.UTF8.encode(inputs[i]))).toBe(std[i]);
      expect(base64UrlEncode(String.UTF8.encode(inputs[i]))).toBe(url[i]);
      expect(text(base64Decode(std[i]))).toBe(inputs[i]);
      expect(text(base64UrlDecode(url[i]))).toBe(inputs[i]);
      expect(text(base64UrlDecode(std[i]))).toBe(inputs[i]);
    }
  });

  it('uses - and _ for base64url', () => {
    const b = new ArrayBuffer(3);
    store<u8>(changetype<usize>(b), 0xfb);
    store<u8>(changetype<usize>(b) + 1, 0xff);
    store<u8>(changetype<usize>(b) + 2, 0xbf);
    expect(base64UrlEncode(b)).toBe('-_-_');
    expect(base64Encode(b)).toBe('+/+/');
  });

  it('encodes inputs longer than one 1024-character chunk whole', () => {
    const b = new ArrayBuffer(3001);
    for (let i = 0; i < 3001; i++) store<u8>(changetype<usize>(b) + i, <u8>(i * 7));
    const text = base64Encode(b);
    expect(text.length).toBe(4004);
    expect(text.endsWith('==')).toBe(true);
    const back = base64Decode(text) as ArrayBuffer;
    expect(back.byteLength).toBe(3001);
    expect(memory.compare(changetype<usize>(back), changetype<usize>(b), 3001)).toBe(0);
  });

  it('rejects bad input instead of guessing', () => {
    expect(base64UrlDecode('Zm9v+')).toBeNull(); // wrong alphabet
    expect(base64UrlDecode('Z')).toBeNull(); // impossible length
    expect(base64UrlDecode('Zh')).toBeNull(); // non-zero padding bits
    expect(base64UrlDecode('Zg=')).toBeNull(); // padding that does not complete a quantum
    expect(base64Decode('Zg')).toBeNull(); // standard base64 needs padding
    expect(base64UrlDecode('Zm 9v')).toBeNull();
  });
});

describe('base64UrlDecodeLenient', () => {
  it('reads every code unit as the strict decoder does, skipping only whitespace', () => {
    // 'AAA' + one more code unit: a full quantum when it is in the alphabet.
    for (let c = 0; c < 0x180; c++) {
      const unit = String.fromCharCode(c);
      const lenient = base64UrlDecodeLenient('AAA' + unit);
      const strict = base64UrlDecode('AAA' + unit);
      if (c == 0x3d || c == 0x2e) {
        expect((lenient as ArrayBuffer).byteLength).toBe(2); // padding after three characters
      } else if (c == 0x20 || (c >= 0x09 && c <= 0x0d)) {
        expect((lenient as ArrayBuffer).byteLength).toBe(2); // skipped: three characters left
      } else if (strict !== null) {
        expect(lenient).not.toBeNull();
        expect((lenient as ArrayBuffer).byteLength).toBe(3);
        expect(load<u8>(changetype<usize>(lenient) + 2)).toBe(load<u8>(changetype<usize>(strict) + 2));
      } else {
        expect(lenient).toBeNull();
      }
    }
  });

  it('decodes what base64UrlEncode wrote, at every length', () => {
    const b = new ArrayBuffer(300);
    for (let i = 0; i < 300; i++) store<u8>(changetype<usize>(b) + i, <u8>(i * 37 + 11));
    for (let n = 0; n <= 300; n += 7) {
      const back = base64UrlDecodeLenient(base64UrlEncode(b.slice(0, n))) as ArrayBuffer;
      expect(back.byteLength).toBe(n);
      expect(memory.compare(changetype<usize>(back), changetype<usize>(b), n)).toBe(0);
    }
  });
});

describe('utf8', () => {
  it('accepts valid and rejects invalid sequences', () => {
    expect(isValidUtf8(String.UTF8.encode('héllo 😀'))).toBe(true);
    const bad = new ArrayBuffer(2);
    store<u8>(changetype<usize>(bad), 0xe2);
    store<u8>(changetype<usize>(bad) + 1, 0x82);
    expect(isValidUtf8(bad)).toBe(false);
  });
});
