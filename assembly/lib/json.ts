// A strict JSON (RFC 8259) parser for plugin configurations, JWT headers/payloads and JWKS.
// Strict on purpose: duplicate keys, invalid UTF-8, unpaired surrogate escapes, nesting deeper
// than MAX_DEPTH and trailing data are errors, so two parsers can never read one input two ways.
// Every value knows its JSON path (`$.http[0].route`), which config errors quote verbatim; it is
// built from the value's place when asked for, not per value parsed (a JWT's claims never need it).
// Pure: no host calls.
import { utf8Valid } from './utf8';

export const MAX_DEPTH: i32 = 64;

export enum JsonKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

// Shared by every value that has none (most have none: scalars): never pushed to (the parser gives
// an array or object its own lists).
const NO_ITEMS: JsonValue[] = [];
const NO_KEYS: string[] = [];

export class JsonValue {
  bool: bool = false;
  number: f64 = 0;
  /** A number's source text: digits beyond f64 precision are kept here. */
  raw: string = '';
  str: string = '';
  items: JsonValue[] = NO_ITEMS;
  /** Object keys in source order. */
  keys: string[] = NO_KEYS;
  private members: Map<string, JsonValue> | null = null;
  /** An object's text in the parsed bytes, [start, end) (a composite filter hands a member on as its part's configuration). */
  start: i32 = 0;
  end: i32 = 0;
  // Where the value is, for its path (built only when asked for: config errors quote it).
  private parent: JsonValue | null = null;
  private key: string | null = null;
  private index: i32 = 0;

  /** `name`: the path of a value without a parent (a parsed root is `$`). */
  constructor(
    public readonly kind: JsonKind,
    private readonly name: string = '$',
  ) {}

  /** The value's JSON path (`$.http[0].route`). */
  get path(): string {
    const parent = this.parent;
    if (parent === null) return this.name;
    const key = this.key;
    return key !== null ? memberPath(parent.path, key) : indexPath(parent.path, this.index);
  }

  /** @internal The parser places a value in its parent object (`key`) or array (`index`). */
  placeIn(parent: JsonValue, key: string | null, index: i32): void {
    this.parent = parent;
    this.key = key;
    this.index = index;
  }

  isNull(): bool {
    return this.kind == JsonKind.Null;
  }
  isBool(): bool {
    return this.kind == JsonKind.Bool;
  }
  isNumber(): bool {
    return this.kind == JsonKind.Number;
  }
  isString(): bool {
    return this.kind == JsonKind.String;
  }
  isArray(): bool {
    return this.kind == JsonKind.Array;
  }
  isObject(): bool {
    return this.kind == JsonKind.Object;
  }

  /** The member `key` of an object, or null when absent (or when this is not an object). */
  get(key: string): JsonValue | null {
    const members = this.members;
    if (members === null || !members.has(key)) return null;
    return members.get(key);
  }

  has(key: string): bool {
    const members = this.members;
    return members !== null && members.has(key);
  }

  /** A number written as an integer (no fraction, no exponent) that fits in i64. */
  get isInteger(): bool {
    if (this.kind != JsonKind.Number) return false;
    return parseExactInt(this.raw).ok;
  }

  /** The integer value; 0 unless isInteger. */
  get int(): i64 {
    const r = parseExactInt(this.raw);
    return r.ok ? r.value : 0;
  }

  /** What kind of value this is, for error messages ("expected string, got number"). */
  kindName(): string {
    return kindName(this.kind);
  }

  /** @internal */
  setMember(key: string, value: JsonValue): bool {
    let members = this.members;
    if (members === null) {
      members = new Map<string, JsonValue>();
      this.members = members;
      this.keys = [];
    }
    if (members.has(key)) return false;
    members.set(key, value);
    this.keys.push(key);
    return true;
  }
}

export function kindName(kind: JsonKind): string {
  switch (kind) {
    case JsonKind.Null:
      return 'null';
    case JsonKind.Bool:
      return 'boolean';
    case JsonKind.Number:
      return 'number';
    case JsonKind.String:
      return 'string';
    case JsonKind.Array:
      return 'array';
    default:
      return 'object';
  }
}

export class JsonResult {
  constructor(
    public readonly value: JsonValue | null,
    /** `<what> at byte <offset>`, empty on success. */
    public readonly error: string,
    public readonly offset: i32,
  ) {}
  get ok(): bool {
    return this.value !== null;
  }
}

export function parseJson(bytes: ArrayBuffer): JsonResult {
  return new Parser(changetype<usize>(bytes), bytes.byteLength).run();
}

export function parseJsonString(text: string): JsonResult {
  return parseJson(String.UTF8.encode(text));
}

/** Parses `size` bytes at `ptr` (e.g. a slice of a larger buffer) without copying them. */
export function parseJsonAt(ptr: usize, size: i32): JsonResult {
  return new Parser(ptr, size).run();
}

/** The value at a path of object members (`['a', 'b']`: `$.a.b`); null when a step is missing or not an object. */
export function jsonAt(root: JsonValue | null, path: string[]): JsonValue | null {
  let v = root;
  for (let i = 0; i < path.length; i++) {
    if (v === null || v.kind != JsonKind.Object) return null;
    v = v.get(path[i]);
  }
  return v;
}

/** A scalar as text: a string as is, a number as written, a boolean as true/false; null otherwise. */
export function scalarText(v: JsonValue): string | null {
  if (v.kind == JsonKind.String) return v.str;
  if (v.kind == JsonKind.Number) return v.raw;
  if (v.kind == JsonKind.Bool) return v.bool ? 'true' : 'false';
  return null;
}

/** `$.a` for identifier-like keys, `$["a.b"]` otherwise, so paths stay unambiguous. */
export function memberPath(parent: string, key: string): string {
  let plain = key.length > 0;
  for (let i = 0; i < key.length && plain; i++) {
    const c = key.charCodeAt(i);
    plain = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f || c == 0x2d || (i > 0 && c >= 0x30 && c <= 0x39);
  }
  if (plain) return parent + '.' + key;
  return parent + '[' + quote(key) + ']';
}

export function indexPath(parent: string, index: i32): string {
  return parent + '[' + index.toString() + ']';
}

/** A JSON string literal for `s` (escapes quotes, backslashes and control characters). */
export function quote(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    out += s.substring(start, i);
    if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += '\\\\';
    else if (c == 0x0a) out += '\\n';
    else if (c == 0x0d) out += '\\r';
    else if (c == 0x09) out += '\\t';
    else out += '\\u00' + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
    start = i + 1;
  }
  return out + s.substring(start) + '"';
}

const HEX = '0123456789abcdef';

class ExactInt {
  constructor(
    public ok: bool,
    public value: i64,
  ) {}
}

function parseExactInt(raw: string): ExactInt {
  const n = raw.length;
  if (n == 0) return new ExactInt(false, 0);
  const negative = raw.charCodeAt(0) == 0x2d;
  let i = negative ? 1 : 0;
  if (i >= n) return new ExactInt(false, 0);
  // Accumulate negatively so i64.MIN_VALUE fits.
  let acc: i64 = 0;
  for (; i < n; i++) {
    const d = raw.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return new ExactInt(false, 0);
    if (acc < (i64.MIN_VALUE + <i64>d) / 10) return new ExactInt(false, 0);
    acc = acc * 10 - <i64>d;
  }
  if (!negative) {
    if (acc == i64.MIN_VALUE) return new ExactInt(false, 0);
    acc = -acc;
  }
  return new ExactInt(true, acc);
}

class Parser {
  pos: i32 = 0;
  error: string = '';
  errorAt: i32 = 0;

  constructor(
    private readonly base: usize,
    private readonly size: i32,
  ) {}

  run(): JsonResult {
    this.skipSpace();
    const value = this.value(0);
    if (value === null) return new JsonResult(null, this.error + ' at byte ' + this.errorAt.toString(), this.errorAt);
    this.skipSpace();
    if (this.pos < this.size) return new JsonResult(null, 'unexpected data after the value at byte ' + this.pos.toString(), this.pos);
    return new JsonResult(value, '', 0);
  }

  @inline byte(at: i32): u32 {
    return <u32>load<u8>(this.base + <usize>at);
  }

  fail(what: string, at: i32): JsonValue | null {
    if (this.error.length == 0) {
      this.error = what;
      this.errorAt = at;
    }
    return null;
  }

  skipSpace(): void {
    while (this.pos < this.size) {
      const c = this.byte(this.pos);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) return;
      this.pos++;
    }
  }

  value(depth: i32): JsonValue | null {
    if (this.pos >= this.size) return this.fail('unexpected end of input', this.pos);
    const c = this.byte(this.pos);
    if (c == 0x7b) return this.object(depth + 1);
    if (c == 0x5b) return this.array(depth + 1);
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return null;
      const v = new JsonValue(JsonKind.String);
      v.str = s;
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.literal('true')) {
      const v = new JsonValue(JsonKind.Bool);
      v.bool = true;
      return v;
    }
    if (this.literal('false')) return new JsonValue(JsonKind.Bool);
    if (this.literal('null')) return new JsonValue(JsonKind.Null);
    return this.fail('unexpected character ' + describe(c), this.pos);
  }

  literal(word: string): bool {
    const n = word.length;
    if (this.pos + n > this.size) return false;
    for (let i = 0; i < n; i++) if (this.byte(this.pos + i) != <u32>word.charCodeAt(i)) return false;
    this.pos += n;
    return true;
  }

  object(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail('nesting deeper than ' + MAX_DEPTH.toString(), this.pos);
    const obj = new JsonValue(JsonKind.Object);
    obj.start = this.pos;
    this.pos++; // {
    this.skipSpace();
    if (this.pos < this.size && this.byte(this.pos) == 0x7d) {
      this.pos++;
      obj.end = this.pos;
      return obj;
    }
    while (true) {
      this.skipSpace();
      if (this.pos >= this.size) return this.fail('unexpected end of input in object', this.pos);
      if (this.byte(this.pos) != 0x22) return this.fail('expected a string key', this.pos);
      const keyAt = this.pos;
      const key = this.string();
      if (key === null) return null;
      this.skipSpace();
      if (this.pos >= this.size || this.byte(this.pos) != 0x3a) return this.fail("expected ':'", this.pos);
      this.pos++;
      this.skipSpace();
      const member = this.value(depth);
      if (member === null) return null;
      member.placeIn(obj, key, 0);
      if (!obj.setMember(key, member)) return this.fail('duplicate key ' + quote(key), keyAt);
      this.skipSpace();
      if (this.pos >= this.size) return this.fail('unexpected end of input in object', this.pos);
      const c = this.byte(this.pos);
      this.pos++;
      if (c == 0x7d) {
        obj.end = this.pos;
        return obj;
      }
      if (c != 0x2c) return this.fail("expected ',' or '}'", this.pos - 1);
    }
  }

  array(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail('nesting deeper than ' + MAX_DEPTH.toString(), this.pos);
    const arr = new JsonValue(JsonKind.Array);
    arr.items = [];
    this.pos++; // [
    this.skipSpace();
    if (this.pos < this.size && this.byte(this.pos) == 0x5d) {
      this.pos++;
      return arr;
    }
    while (true) {
      this.skipSpace();
      const item = this.value(depth);
      if (item === null) return null;
      item.placeIn(arr, null, arr.items.length);
      arr.items.push(item);
      this.skipSpace();
      if (this.pos >= this.size) return this.fail('unexpected end of input in array', this.pos);
      const c = this.byte(this.pos);
      this.pos++;
      if (c == 0x5d) return arr;
      if (c != 0x2c) return this.fail("expected ',' or ']'", this.pos - 1);
    }
  }

  number(): JsonValue | null {
    const start = this.pos;
    if (this.byte(this.pos) == 0x2d) this.pos++;
    if (this.pos >= this.size) return this.fail('bad number', start);
    if (this.byte(this.pos) == 0x30) {
      this.pos++;
    } else if (!this.digits()) {
      return this.fail('bad number', start);
    }
    if (this.pos < this.size && this.byte(this.pos) == 0x2e) {
      this.pos++;
      if (!this.digits()) return this.fail('bad number: digits expected after "."', start);
    }
    if (this.pos < this.size && (this.byte(this.pos) | 0x20) == 0x65) {
      this.pos++;
      if (this.pos < this.size && (this.byte(this.pos) == 0x2b || this.byte(this.pos) == 0x2d)) this.pos++;
      if (!this.digits()) return this.fail('bad number: digits expected in exponent', start);
    }
    if (this.pos < this.size) {
      const c = this.byte(this.pos);
      if ((c >= 0x30 && c <= 0x39) || c == 0x2e) return this.fail('bad number: leading zero', start);
    }
    const v = new JsonValue(JsonKind.Number);
    v.raw = String.UTF8.decodeUnsafe(this.base + <usize>start, <usize>(this.pos - start));
    v.number = parseFloat(v.raw);
    return v;
  }

  digits(): bool {
    const start = this.pos;
    while (this.pos < this.size) {
      const c = this.byte(this.pos);
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    return this.pos > start;
  }

  /** Reads a string literal at pos (which holds '"'); null on error. */
  string(): string | null {
    const open = this.pos;
    this.pos++;
    let chunkStart = this.pos;
    let out = '';
    let escaped = false;
    while (true) {
      if (this.pos >= this.size) {
        this.fail('unterminated string', open);
        return null;
      }
      const c = this.byte(this.pos);
      if (c == 0x22) break;
      if (c < 0x20) {
        this.fail('control character in string', this.pos);
        return null;
      }
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      // An escape: flush the plain run before it.
      if (!this.flushable(chunkStart, this.pos)) return null;
      out += String.UTF8.decodeUnsafe(this.base + <usize>chunkStart, <usize>(this.pos - chunkStart));
      escaped = true;
      const decoded = this.escape();
      if (decoded === null) return null;
      out += decoded;
      chunkStart = this.pos;
    }
    if (!this.flushable(chunkStart, this.pos)) return null;
    const tail = String.UTF8.decodeUnsafe(this.base + <usize>chunkStart, <usize>(this.pos - chunkStart));
    this.pos++; // closing quote
    return escaped ? out + tail : tail;
  }

  flushable(start: i32, end: i32): bool {
    const bad = utf8Valid(this.base + <usize>start, end - start);
    if (bad < 0) return true;
    this.fail('invalid UTF-8 in string', start + bad);
    return false;
  }

  /** Decodes the escape at pos ('\\'), advancing past it. */
  escape(): string | null {
    const at = this.pos;
    if (this.pos + 1 >= this.size) {
      this.fail('unterminated escape', at);
      return null;
    }
    const e = this.byte(this.pos + 1);
    this.pos += 2;
    switch (e) {
      case 0x22:
        return '"';
      case 0x5c:
        return '\\';
      case 0x2f:
        return '/';
      case 0x62:
        return '\b';
      case 0x66:
        return '\f';
      case 0x6e:
        return '\n';
      case 0x72:
        return '\r';
      case 0x74:
        return '\t';
      case 0x75:
        break;
      default:
        this.fail('bad escape', at);
        return null;
    }
    const hi = this.hex4();
    if (hi < 0) {
      this.fail('bad \\u escape', at);
      return null;
    }
    if (hi >= 0xdc00 && hi <= 0xdfff) {
      this.fail('unpaired surrogate escape', at);
      return null;
    }
    if (hi < 0xd800 || hi > 0xdbff) return String.fromCharCode(hi);
    if (this.pos + 1 >= this.size || this.byte(this.pos) != 0x5c || this.byte(this.pos + 1) != 0x75) {
      this.fail('unpaired surrogate escape', at);
      return null;
    }
    this.pos += 2;
    const lo = this.hex4();
    if (lo < 0xdc00 || lo > 0xdfff) {
      this.fail('unpaired surrogate escape', at);
      return null;
    }
    return String.fromCharCode(hi, lo);
  }

  hex4(): i32 {
    if (this.pos + 4 > this.size) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.byte(this.pos + i);
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x61 + 10;
      else return -1;
      v = (v << 4) | d;
    }
    this.pos += 4;
    return v;
  }
}

function describe(c: u32): string {
  if (c >= 0x21 && c < 0x7f) return "'" + String.fromCharCode(c) + "'";
  return '0x' + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
}
