import { decodeVerifySignatureResult, encodeVerifySignatureArguments } from '../proxy/signature';

function bytes(values: u8[]): ArrayBuffer {
  const buf = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(buf) + i, values[i]);
  return buf;
}

describe('verify_signature protobuf codec', () => {
  it('encodes the four fields in order with their lengths', () => {
    const out = encodeVerifySignatureArguments('sha256', bytes([1, 2]), bytes([3]), bytes([]));
    const p = changetype<usize>(out);
    // 0x0a len 6 "sha256", 0x12 len 2 01 02, 0x1a len 1 03, 0x22 len 0
    expect(out.byteLength).toBe(2 + 6 + 2 + 2 + 2 + 1 + 2);
    expect(load<u8>(p)).toBe(<u8>0x0a);
    expect(load<u8>(p + 1)).toBe(<u8>6);
    expect(load<u8>(p + 8)).toBe(<u8>0x12);
    expect(load<u8>(p + 12)).toBe(<u8>0x1a);
    expect(load<u8>(p + 15)).toBe(<u8>0x22);
    expect(load<u8>(p + 16)).toBe(<u8>0);
  });

  it('encodes lengths over 127 as varints', () => {
    const out = encodeVerifySignatureArguments('', new ArrayBuffer(300), new ArrayBuffer(0), new ArrayBuffer(0));
    const p = changetype<usize>(out);
    expect(load<u8>(p + 2)).toBe(<u8>0x12);
    expect(load<u8>(p + 3)).toBe(<u8>((300 & 0x7f) | 0x80));
    expect(load<u8>(p + 4)).toBe(<u8>(300 >> 7));
  });

  it('decodes result true only when field 1 is 1', () => {
    expect(decodeVerifySignatureResult(bytes([0x08, 0x01]))).toBe(true);
    expect(decodeVerifySignatureResult(bytes([0x08, 0x00]))).toBe(false);
    expect(decodeVerifySignatureResult(bytes([]))).toBe(false);
    expect(decodeVerifySignatureResult(bytes([0x12, 0x03, 0x61, 0x62, 0x63, 0x08, 0x01]))).toBe(true);
    expect(decodeVerifySignatureResult(bytes([0x08, 0x00, 0x12, 0x02, 0x65, 0x72]))).toBe(false);
  });

  it('rejects malformed results instead of trapping', () => {
    expect(decodeVerifySignatureResult(bytes([0x08, 0x81]))).toBe(false); // truncated varint
    expect(decodeVerifySignatureResult(bytes([0x12, 0x05, 0x61, 0x08, 0x01]))).toBe(false); // length past the end
    expect(decodeVerifySignatureResult(bytes([0x0d, 0, 0, 0, 0]))).toBe(false); // fixed32 wire type
  });
});
