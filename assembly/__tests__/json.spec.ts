import { parseJsonString, parseJson, JsonKind, JsonValue, quote, MAX_DEPTH, jsonAt, scalarText } from '../lib/json';

function ok(text: string): JsonValue {
  const r = parseJsonString(text);
  if (r.value === null) throw new Error('unexpected error: ' + r.error);
  return r.value as JsonValue;
}

function err(text: string): string {
  const r = parseJsonString(text);
  expect(r.value).toBeNull();
  return r.error;
}

function bytesOf(values: u8[]): ArrayBuffer {
  const buf = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(buf) + i, values[i]);
  return buf;
}

describe('json: valid documents', () => {
  it('parses scalars', () => {
    expect(ok('true').bool).toBe(true);
    expect(ok(' false ').kind).toBe(JsonKind.Bool);
    expect(ok('null').isNull()).toBe(true);
    expect(ok('-12.5e1').number).toBe(-125.0);
    expect(ok('"a\\u00e9\\n"').str).toBe('aé\n');
    expect(ok('"\\ud83d\\ude00"').str).toBe('😀');
    expect(ok('"😀 héllo"').str).toBe('😀 héllo');
  });

  it('keeps object keys in order and paths on every value', () => {
    const v = ok('{"http":[{"route":[{"weight":95},{"weight":5}]}],"a.b":1}');
    expect(v.keys.length).toBe(2);
    expect(v.keys[0]).toBe('http');
    const w = ((v.get('http') as JsonValue).items[0].get('route') as JsonValue).items[1].get('weight') as JsonValue;
    expect(w.path).toBe('$.http[0].route[1].weight');
    expect(w.int).toBe(5);
    expect((v.get('a.b') as JsonValue).path).toBe('$["a.b"]');
    expect(v.get('missing')).toBeNull();
    expect(v.has('http')).toBe(true);
  });

  it('keeps the digits of huge numbers and knows exact integers', () => {
    const big = ok('123456789012345678901234567890');
    expect(big.raw).toBe('123456789012345678901234567890');
    expect(big.isInteger).toBe(false);
    expect(ok('9223372036854775807').int).toBe(i64.MAX_VALUE);
    expect(ok('-9223372036854775808').int).toBe(i64.MIN_VALUE);
    expect(ok('9223372036854775808').isInteger).toBe(false);
    expect(ok('1.0').isInteger).toBe(false);
    expect(ok('1e400').number).toBe(Infinity);
  });

  it('accepts nesting up to the limit', () => {
    let s = '';
    for (let i = 0; i < MAX_DEPTH; i++) s += '[';
    for (let i = 0; i < MAX_DEPTH; i++) s += ']';
    expect(ok(s).isArray()).toBe(true);
  });
});

describe('json: invalid documents', () => {
  it('names what is wrong and where', () => {
    expect(err('{"a":1,}')).toBe('expected a string key at byte 7');
    expect(err('[1 2]')).toBe("expected ',' or ']' at byte 3");
    expect(err('')).toBe('unexpected end of input at byte 0');
    expect(err('{"a":1} x')).toBe('unexpected data after the value at byte 8');
    expect(err('tru')).toBe("unexpected character 't' at byte 0");
  });

  it('rejects duplicate keys (strict: two readers must never disagree)', () => {
    expect(err('{"a":1,"a":2}')).toBe('duplicate key "a" at byte 7');
  });

  it('rejects bad numbers', () => {
    expect(err('01')).toBe('bad number: leading zero at byte 0');
    expect(err('1.')).toBe('bad number: digits expected after "." at byte 0');
    expect(err('-')).toBe('bad number at byte 0');
    expect(err('1e')).toBe('bad number: digits expected in exponent at byte 0');
    expect(err('+1')).toBe("unexpected character '+' at byte 0");
  });

  it('rejects bad strings', () => {
    expect(err('"abc')).toBe('unterminated string at byte 0');
    expect(err('"\\x"')).toBe('bad escape at byte 1');
    expect(err('"\\ud800"')).toBe('unpaired surrogate escape at byte 1');
    expect(err('"\\udc00"')).toBe('unpaired surrogate escape at byte 1');
    expect(err('"a\tb"')).toBe('control character in string at byte 2');
  });

  it('rejects invalid UTF-8 in strings', () => {
    // "a<C3>" truncated, overlong <C0 AF>, surrogate <ED A0 80>, above U+10FFFF <F4 90 80 80>
    expect(parseJson(bytesOf([0x22, 0x61, 0xc3, 0x22])).error).toBe('invalid UTF-8 in string at byte 2');
    expect(parseJson(bytesOf([0x22, 0xc0, 0xaf, 0x22])).error).toBe('invalid UTF-8 in string at byte 1');
    expect(parseJson(bytesOf([0x22, 0xed, 0xa0, 0x80, 0x22])).error).toBe('invalid UTF-8 in string at byte 1');
    expect(parseJson(bytesOf([0x22, 0xf4, 0x90, 0x80, 0x80, 0x22])).error).toBe('invalid UTF-8 in string at byte 1');
  });

  it('rejects nesting deeper than the limit without overflowing the stack', () => {
    let s = '';
    for (let i = 0; i < 100000; i++) s += '[';
    expect(err(s)).toBe('nesting deeper than 64 at byte 64');
  });
});

describe('json: quote', () => {
  it('escapes quotes, backslashes and control characters', () => {
    expect(quote('a"b\\c\nd\u0001')).toBe('"a\\"b\\\\c\\nd\\u0001"');
  });
});

describe('json: jsonAt and scalarText', () => {
  it('walks object members only, and renders scalars as text', () => {
    const v = ok('{"a":{"b":[1]},"s":"x","n":-1.50,"t":true,"z":null}');
    expect((jsonAt(v, ['a', 'b']) as JsonValue).kind).toBe(JsonKind.Array);
    expect(jsonAt(v, []) == v).toBe(true);
    expect(jsonAt(v, ['a', 'c'])).toBeNull();
    expect(jsonAt(v, ['a', 'b', '0'])).toBeNull();
    expect(jsonAt(null, ['a'])).toBeNull();
    expect(scalarText(jsonAt(v, ['s']) as JsonValue)).toBe('x');
    expect(scalarText(jsonAt(v, ['n']) as JsonValue)).toBe('-1.50');
    expect(scalarText(jsonAt(v, ['t']) as JsonValue)).toBe('true');
    expect(scalarText(jsonAt(v, ['z']) as JsonValue)).toBeNull();
    expect(scalarText(jsonAt(v, ['a']) as JsonValue)).toBeNull();
  });
});

describe("json: an object's text", () => {
  it('is [start, end) of the parsed bytes, nested and empty objects too', () => {
    const text = ' { "a" : {"b": [1, {"c": {}}]} , "d":{} } ';
    const v = ok(text);
    const slice = (o: JsonValue): string => text.substring(o.start, o.end);
    expect(slice(v)).toBe('{ "a" : {"b": [1, {"c": {}}]} , "d":{} }');
    expect(slice(v.get('a') as JsonValue)).toBe('{"b": [1, {"c": {}}]}');
    expect(slice((v.get('a') as JsonValue).get('b')!.items[1].get('c') as JsonValue)).toBe('{}');
    expect(slice(v.get('d') as JsonValue)).toBe('{}');
  });
});
