// RE2-syntax regular expressions (a subset), compiled once to an NFA program and run by a
// Thompson/Pike simulation: time O(pattern * input), no backtracking, no blow-up.
// Pure: no host calls.
//
// Supported: literals, `.`, classes `[...]` (ranges, negation, escapes, `[:alpha:]`-style POSIX
// names), `\d \w \s \D \W \S`, escapes (`\n \r \t \f \v \a \xHH \x{H..}`, escaped punctuation,
// `\Q...\E`), anchors `^ $ \A \z \b \B`, groups `(...)`, `(?:...)`, `(?P<n>...)`, `(?<n>...)`,
// flags `(?i)`, `(?s)`, `(?m)`, `(?U)` and `(?flags:...)`, alternation `|`, repetition
// `* + ? {n} {n,} {n,m}` (lazy forms accepted). Groups do not capture.
// Rejected at compile time, with a message: backreferences, lookaround, `\p{..}`, `\C`,
// repetition counts above 1000, programs above MAX_PROGRAM instructions.
// `matches` is a full match (the whole value), as Istio/Envoy's safe_regex match.
import { hexDigitValue } from './strings';
import { utf8CodePoint, utf8SequenceAt } from './utf8';

const MAX_REPEAT: i32 = 1000;
const MAX_PROGRAM: i32 = 20000;
const MAX_CODE_POINT: i32 = 0x10ffff;

// Flags
const FLAG_I: i32 = 1;
const FLAG_S: i32 = 2;
const FLAG_M: i32 = 4;

// AST node kinds
const N_EMPTY: i32 = 0;
const N_CLASS: i32 = 1;
const N_CONCAT: i32 = 2;
const N_ALT: i32 = 3;
const N_REPEAT: i32 = 4;
const N_ASSERT: i32 = 5;

// Assertions
const A_BEGIN_TEXT: i32 = 1;
const A_END_TEXT: i32 = 2;
const A_BEGIN_LINE: i32 = 3;
const A_END_LINE: i32 = 4;
const A_WORD: i32 = 5;
const A_NOT_WORD: i32 = 6;

// Instructions
const OP_CLASS: u8 = 0;
const OP_MATCH: u8 = 1;
const OP_JMP: u8 = 2;
const OP_SPLIT: u8 = 3;
const OP_ASSERT: u8 = 4;

class Node {
  kind: i32 = N_EMPTY;
  ranges: Array<i32> = new Array<i32>(); // sorted, merged [lo, hi] pairs (N_CLASS)
  children: Array<Node> = new Array<Node>();
  min: i32 = 0;
  max: i32 = -1; // -1: unbounded
  assertKind: i32 = 0;

  constructor(kind: i32) {
    this.kind = kind;
  }
}

// ---- character ranges ----

function normalizeRanges(r: Array<i32>): Array<i32> {
  // sort pairs by lo (insertion sort: classes are small)
  const n = r.length >> 1;
  for (let i = 1; i < n; i++) {
    const lo = r[2 * i],
      hi = r[2 * i + 1];
    let j = i - 1;
    while (j >= 0 && r[2 * j] > lo) {
      r[2 * j + 2] = r[2 * j];
      r[2 * j + 3] = r[2 * j + 1];
      j--;
    }
    r[2 * j + 2] = lo;
    r[2 * j + 3] = hi;
  }
  const out = new Array<i32>();
  for (let i = 0; i < n; i++) {
    const lo = r[2 * i],
      hi = r[2 * i + 1];
    const k = out.length;
    if (k > 0 && lo <= out[k - 1] + 1) {
      if (hi > out[k - 1]) out[k - 1] = hi;
    } else {
      out.push(lo);
      out.push(hi);
    }
  }
  return out;
}

function negateRanges(r: Array<i32>): Array<i32> {
  const out = new Array<i32>();
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i] > next) {
      out.push(next);
      out.push(r[i] - 1);
    }
    next = r[i + 1] + 1;
  }
  if (next <= MAX_CODE_POINT) {
    out.push(next);
    out.push(MAX_CODE_POINT);
  }
  return out;
}

/** Adds the other ASCII case of every letter in the ranges. */
function foldRanges(r: Array<i32>): Array<i32> {
  const out = r.slice(0);
  for (let i = 0; i < r.length; i += 2) {
    const lo = r[i],
      hi = r[i + 1];
    const alo = max<i32>(lo, 0x61),
      ahi = min<i32>(hi, 0x7a);
    if (alo <= ahi) {
      out.push(alo - 32);
      out.push(ahi - 32);
    }
    const blo = max<i32>(lo, 0x41),
      bhi = min<i32>(hi, 0x5a);
    if (blo <= bhi) {
      out.push(blo + 32);
      out.push(bhi + 32);
    }
  }
  return normalizeRanges(out);
}

function pushRange(r: Array<i32>, lo: i32, hi: i32): void {
  r.push(lo);
  r.push(hi);
}

function addPerl(r: Array<i32>, c: i32): void {
  // c in d w s (lowercase)
  if (c == 0x64) pushRange(r, 0x30, 0x39);
  else if (c == 0x77) {
    pushRange(r, 0x30, 0x39);
    pushRange(r, 0x41, 0x5a);
    pushRange(r, 0x5f, 0x5f);
    pushRange(r, 0x61, 0x7a);
  } else {
    pushRange(r, 0x09, 0x0a);
    pushRange(r, 0x0c, 0x0d);
    pushRange(r, 0x20, 0x20);
  }
}

function perlRanges(c: i32): Array<i32> {
  const r = new Array<i32>();
  const lower = c | 0x20;
  addPerl(r, lower);
  const n = normalizeRanges(r);
  return c == lower ? n : negateRanges(n);
}

function posixRanges(name: string): Array<i32> | null {
  const r = new Array<i32>();
  if (name == 'alnum') {
    pushRange(r, 0x30, 0x39);
    pushRange(r, 0x41, 0x5a);
    pushRange(r, 0x61, 0x7a);
  } else if (name == 'alpha') {
    pushRange(r, 0x41, 0x5a);
    pushRange(r, 0x61, 0x7a);
  } else if (name == 'ascii') pushRange(r, 0, 0x7f);
  else if (name == 'blank') {
    pushRange(r, 0x09, 0x09);
    pushRange(r, 0x20, 0x20);
  } else if (name == 'cntrl') {
    pushRange(r, 0, 0x1f);
    pushRange(r, 0x7f, 0x7f);
  } else if (name == 'digit') pushRange(r, 0x30, 0x39);
  else if (name == 'graph') pushRange(r, 0x21, 0x7e);
  else if (name == 'lower') pushRange(r, 0x61, 0x7a);
  else if (name == 'print') pushRange(r, 0x20, 0x7e);
  else if (name == 'punct') {
    pushRange(r, 0x21, 0x2f);
    pushRange(r, 0x3a, 0x40);
    pushRange(r, 0x5b, 0x60);
    pushRange(r, 0x7b, 0x7e);
  } else if (name == 'space') {
    pushRange(r, 0x09, 0x0d);
    pushRange(r, 0x20, 0x20);
  } else if (name == 'upper') pushRange(r, 0x41, 0x5a);
  else if (name == 'word') {
    pushRange(r, 0x30, 0x39);
    pushRange(r, 0x41, 0x5a);
    pushRange(r, 0x5f, 0x5f);
    pushRange(r, 0x61, 0x7a);
  } else if (name == 'xdigit') {
    pushRange(r, 0x30, 0x39);
    pushRange(r, 0x41, 0x46);
    pushRange(r, 0x61, 0x66);
  } else return null;
  return normalizeRanges(r);
}

function isWordChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
}

// ---- parser ----

class Parser {
  cps: Array<i32>;
  pos: i32 = 0;
  error: string = '';
  flags: i32 = 0;

  constructor(pattern: string) {
    this.cps = codePointsOf(pattern);
  }

  fail(what: string): Node {
    if (this.error.length == 0) this.error = what;
    return new Node(N_EMPTY);
  }

  get done(): bool {
    return this.pos >= this.cps.length;
  }
  peek(): i32 {
    return this.pos < this.cps.length ? this.cps[this.pos] : -1;
  }
  peekAt(k: i32): i32 {
    return this.pos + k < this.cps.length ? this.cps[this.pos + k] : -1;
  }

  literal(c: i32): Node {
    const n = new Node(N_CLASS);
    const r = new Array<i32>();
    pushRange(r, c, c);
    n.ranges = (this.flags & FLAG_I) != 0 ? foldRanges(r) : r;
    return n;
  }

  classNode(ranges: Array<i32>): Node {
    const n = new Node(N_CLASS);
    n.ranges = (this.flags & FLAG_I) != 0 ? foldRanges(ranges) : ranges;
    return n;
  }

  parseAlt(depth: i32): Node {
    if (depth > 200) return this.fail('expression nests too deeply');
    const first = this.parseConcat(depth);
    if (this.peek() != 0x7c) return first;
    const alt = new Node(N_ALT);
    alt.children.push(first);
    while (this.error.length == 0 && this.peek() == 0x7c) {
      this.pos++;
      alt.children.push(this.parseConcat(depth));
    }
    return alt;
  }

  parseConcat(depth: i32): Node {
    const cat = new Node(N_CONCAT);
    while (this.error.length == 0 && !this.done) {
      const c = this.peek();
      if (c == 0x7c || c == 0x29) break; // | )
      const atom = this.parseRepeat(depth);
      if (atom !== null) cat.children.push(atom);
    }
    if (cat.children.length == 1) return cat.children[0];
    return cat;
  }

  /** Parses `{n}`, `{n,}`, `{n,m}` at pos; returns false (pos unchanged) when it is not one. */
  parseBraces(node: Node): bool {
    let p = this.pos + 1;
    const cps = this.cps;
    let lo: i32 = 0,
      digits = 0;
    while (p < cps.length && cps[p] >= 0x30 && cps[p] <= 0x39) {
      lo = min<i32>(lo * 10 + cps[p] - 0x30, 100000);
      p++;
      digits++;
    }
    if (digits == 0) return false;
    let hi = lo;
    if (p < cps.length && cps[p] == 0x2c) {
      p++;
      let hd = 0;
      let h: i32 = 0;
      while (p < cps.length && cps[p] >= 0x30 && cps[p] <= 0x39) {
        h = min<i32>(h * 10 + cps[p] - 0x30, 100000);
        p++;
        hd++;
      }
      hi = hd == 0 ? -1 : h;
    }
    if (p >= cps.length || cps[p] != 0x7d) return false;
    node.min = lo;
    node.max = hi;
    this.pos = p + 1;
    return true;
  }

  parseRepeat(depth: i32): Node | null {
    const start = this.pos;
    const atom = this.parseAtom(depth);
    if (atom === null || this.error.length > 0) return atom;
    let result: Node = atom;
    let repeated = false;
    while (this.error.length == 0 && !this.done) {
      const c = this.peek();
      const rep = new Node(N_REPEAT);
      if (c == 0x2a) {
        rep.min = 0;
        rep.max = -1;
        this.pos++;
      } else if (c == 0x2b) {
        rep.min = 1;
        rep.max = -1;
        this.pos++;
      } else if (c == 0x3f) {
        rep.min = 0;
        rep.max = 1;
        this.pos++;
      } else if (c == 0x7b) {
        if (!this.parseBraces(rep)) break;
        if (rep.min > MAX_REPEAT || rep.max > MAX_REPEAT || (rep.max >= 0 && rep.max < rep.min)) {
          this.fail('bad repetition operator at offset ' + start.toString());
          return null;
        }
      } else break;
      if (repeated) {
        this.fail('bad repetition operator: repeated repetition at offset ' + (this.pos - 1).toString());
        return null;
      }
      if (this.peek() == 0x3f) this.pos++; // lazy: same language, same full-match result
      rep.children.push(result);
      result = rep;
      repeated = true;
    }
    return result;
  }

  parseAtom(depth: i32): Node | null {
    const c = this.peek();
    if (c == 0x28) return this.parseGroup(depth);
    if (c == 0x5b) return this.parseClass();
    if (c == 0x2a || c == 0x2b || c == 0x3f) return this.fail('missing argument to repetition operator at offset ' + this.pos.toString());
    if (c == 0x7b) {
      const probe = new Node(N_REPEAT);
      const save = this.pos;
      if (this.parseBraces(probe)) {
        this.pos = save;
        return this.fail('missing argument to repetition operator at offset ' + this.pos.toString());
      }
    }
    this.pos++;
    if (c == 0x2e) {
      const r = new Array<i32>();
      if ((this.flags & FLAG_S) != 0) pushRange(r, 0, MAX_CODE_POINT);
      else {
        pushRange(r, 0, 9);
        pushRange(r, 11, MAX_CODE_POINT);
      }
      const n = new Node(N_CLASS);
      n.ranges = r;
      return n;
    }
    if (c == 0x5e) return assertNode((this.flags & FLAG_M) != 0 ? A_BEGIN_LINE : A_BEGIN_TEXT);
    if (c == 0x24) return assertNode((this.flags & FLAG_M) != 0 ? A_END_LINE : A_END_TEXT);
    if (c == 0x5c) return this.parseEscape();
    return this.literal(c);
  }

  parseEscape(): Node | null {
    // pos is just after the backslash
    if (this.done) return this.fail('trailing backslash at end of expression');
    const c = this.cps[this.pos++];
    if (c == 0x41) return assertNode(A_BEGIN_TEXT); // \A
    if (c == 0x7a) return assertNode(A_END_TEXT); // \z
    if (c == 0x62) return assertNode(A_WORD); // \b
    if (c == 0x42) return assertNode(A_NOT_WORD); // \B
    if (c == 0x51) {
      // \Q...\E
      const cat = new Node(N_CONCAT);
      while (!this.done) {
        if (this.peek() == 0x5c && this.peekAt(1) == 0x45) {
          this.pos += 2;
          break;
        }
        cat.children.push(this.literal(this.cps[this.pos++]));
      }
      return cat;
    }
    if (c == 0x45) return null; // stray \E: RE2 ignores it
    const r = this.escapeRanges(c);
    if (r === null) return new Node(N_EMPTY);
    return this.classNode(r);
  }

  /** The ranges of an escape inside or outside a class (pos after the escaped char); null on error. */
  escapeRanges(c: i32): Array<i32> | null {
    const lower = c | 0x20;
    if ((lower == 0x64 || lower == 0x77 || lower == 0x73) && ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) return perlRanges(c);
    const r = new Array<i32>();
    let v: i32 = -1;
    if (c == 0x6e) v = 0x0a;
    else if (c == 0x72) v = 0x0d;
    else if (c == 0x74) v = 0x09;
    else if (c == 0x66) v = 0x0c;
    else if (c == 0x76) v = 0x0b;
    else if (c == 0x61) v = 0x07;
    else if (c == 0x78) v = this.parseHexEscape();
    else if (c >= 0x31 && c <= 0x39) {
      this.fail('backreferences are not supported (\\' + String.fromCharCode(c) + ')');
      return null;
    } else if (c == 0x70 || c == 0x50) {
      this.fail('unicode classes (\\' + String.fromCharCode(c) + ') are not supported');
      return null;
    } else if (c < 0x80 && !isWordChar(c) && c > 0x20)
      v = c; // escaped punctuation
    else {
      this.fail('invalid escape sequence \\' + String.fromCodePoint(c));
      return null;
    }
    if (v < 0) {
      this.fail('invalid hex escape');
      return null;
    }
    pushRange(r, v, v);
    return r;
  }

  parseHexEscape(): i32 {
    if (this.peek() == 0x7b) {
      this.pos++;
      let v: i32 = 0,
        n = 0;
      while (!this.done && this.peek() != 0x7d) {
        const h = hexDigitValue(this.cps[this.pos++]);
        if (h < 0) return -1;
        v = v * 16 + h;
        n++;
        if (v > MAX_CODE_POINT) return -1;
      }
      if (this.done || n == 0) return -1;
      this.pos++;
      return v;
    }
    const a = hexDigitValue(this.peek()),
      b = hexDigitValue(this.peekAt(1));
    if (a < 0 || b < 0) return -1;
    this.pos += 2;
    return a * 16 + b;
  }

  parseGroup(depth: i32): Node | null {
    const open = this.pos;
    this.pos++; // (
    const saved = this.flags;
    if (this.peek() == 0x3f) {
      // (?
      const k = this.peekAt(1);
      if (k == 0x3d || k == 0x21) return this.fail('lookahead is not supported at offset ' + open.toString());
      if (k == 0x3c && (this.peekAt(2) == 0x3d || this.peekAt(2) == 0x21))
        return this.fail('lookbehind is not supported at offset ' + open.toString());
      if (k == 0x50 && this.peekAt(2) == 0x3d) return this.fail('backreferences are not supported at offset ' + open.toString());
      if (k == 0x50 || k == 0x3c) {
        // named group (?P<name>...) or (?<name>...)
        this.pos += k == 0x50 ? 2 : 1;
        if (this.peek() != 0x3c) return this.fail('invalid named capture group at offset ' + open.toString());
        this.pos++;
        let n = 0;
        while (!this.done && this.peek() != 0x3e) {
          const ch = this.cps[this.pos++];
          if (!isWordChar(ch)) return this.fail('invalid named capture group at offset ' + open.toString());
          n++;
        }
        if (this.done || n == 0) return this.fail('invalid named capture group at offset ' + open.toString());
        this.pos++;
      } else {
        // flags: (?flags) or (?flags:...)
        this.pos++;
        let neg = false;
        let flags = this.flags;
        let any = false;
        while (true) {
          if (this.done) return this.fail('missing closing ) at offset ' + open.toString());
          const f = this.cps[this.pos++];
          let bit = 0;
          if (f == 0x69) bit = FLAG_I;
          else if (f == 0x73) bit = FLAG_S;
          else if (f == 0x6d) bit = FLAG_M;
          else if (f == 0x55)
            bit = 8; // U: ungreedy, no effect on a full match
          else if (f == 0x2d && !neg) {
            neg = true;
            any = false;
            continue;
          } else if (f == 0x29 && (any || !neg)) {
            // (?i) applies to the rest of the enclosing group
            this.flags = flags;
            return null;
          } else if (f == 0x3a && (any || !neg)) {
            this.flags = flags;
            break;
          } else return this.fail('invalid or unsupported group flags at offset ' + open.toString());
          flags = neg ? flags & ~bit : flags | bit;
          any = true;
        }
      }
    }
    const inner = this.parseAlt(depth + 1);
    if (this.error.length > 0) return inner;
    if (this.peek() != 0x29) return this.fail('missing closing ) for group at offset ' + open.toString());
    this.pos++;
    this.flags = saved;
    return inner;
  }

  parseClass(): Node | null {
    const open = this.pos;
    this.pos++; // [
    let negated = false;
    if (this.peek() == 0x5e) {
      negated = true;
      this.pos++;
    }
    const r = new Array<i32>();
    let first = true;
    while (true) {
      if (this.done) return this.fail('missing closing ] for class at offset ' + open.toString());
      let c = this.peek();
      if (c == 0x5d && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c == 0x5b && this.peekAt(1) == 0x3a) {
        // [:name:]
        let p = this.pos + 2;
        let name = '';
        let neg = false;
        if (p < this.cps.length && this.cps[p] == 0x5e) {
          neg = true;
          p++;
        }
        while (p < this.cps.length && this.cps[p] != 0x3a) {
          name += String.fromCharCode(this.cps[p]);
          p++;
        }
        if (p + 1 < this.cps.length && this.cps[p + 1] == 0x5d) {
          const pr = posixRanges(name);
          if (pr === null) return this.fail('invalid character class range [:' + name + ':]');
          const use = neg ? negateRanges(pr) : pr;
          for (let i = 0; i < use.length; i++) r.push(use[i]);
          this.pos = p + 2;
          continue;
        }
      }
      let lo = this.classChar(r);
      if (this.error.length > 0) return null;
      if (lo < 0) continue; // a \d-style escape already added its ranges
      if (this.peek() == 0x2d && this.peekAt(1) != 0x5d && this.peekAt(1) != -1) {
        this.pos++;
        const hi = this.classChar(r);
        if (this.error.length > 0) return null;
        if (hi < 0 || hi < lo) return this.fail('invalid character class range at offset ' + open.toString());
        pushRange(r, lo, hi);
      } else pushRange(r, lo, lo);
    }
    let ranges = normalizeRanges(r);
    if ((this.flags & FLAG_I) != 0) ranges = foldRanges(ranges);
    if (negated) ranges = negateRanges(ranges);
    const n = new Node(N_CLASS);
    n.ranges = ranges;
    return n;
  }

  /** One class member: returns the char, or -1 after adding a multi-range escape to r. */
  classChar(r: Array<i32>): i32 {
    const c = this.cps[this.pos++];
    if (c != 0x5c) return c;
    if (this.done) {
      this.fail('trailing backslash in class');
      return -1;
    }
    const e = this.cps[this.pos++];
    const er = this.escapeRanges(e);
    if (er === null) return -1;
    if (er.length == 2 && er[0] == er[1]) return er[0];
    for (let i = 0; i < er.length; i++) r.push(er[i]);
    return -1;
  }
}

function assertNode(kind: i32): Node {
  const n = new Node(N_ASSERT);
  n.assertKind = kind;
  return n;
}

function codePointsOf(s: string): Array<i32> {
  const out = new Array<i32>();
  appendCodePoints(s, out);
  return out;
}

/** Appends the code points of a UTF-16 string (a lone surrogate stands for itself). */
function appendCodePoints(s: string, out: Array<i32>): void {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = <i32>s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const d = <i32>s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        out.push(0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00));
        i++;
        continue;
      }
    }
    out.push(c);
  }
}

// ---- compiler ----

class Compiler {
  ops: Array<u8> = new Array<u8>();
  x: Array<i32> = new Array<i32>();
  y: Array<i32> = new Array<i32>();
  classes: Array<Array<i32>> = new Array<Array<i32>>();
  tooLarge: bool = false;

  emit(op: u8, x: i32, y: i32): i32 {
    const pc = this.ops.length;
    if (pc >= MAX_PROGRAM) {
      this.tooLarge = true;
      return pc;
    }
    this.ops.push(op);
    this.x.push(x);
    this.y.push(y);
    return pc;
  }

  patch(pc: i32, x: i32, y: i32): void {
    if (pc >= this.ops.length) return;
    this.x[pc] = x;
    this.y[pc] = y;
  }

  compile(n: Node): void {
    if (this.tooLarge) return;
    if (n.kind == N_EMPTY) return;
    if (n.kind == N_CLASS) {
      this.classes.push(n.ranges);
      this.emit(OP_CLASS, this.classes.length - 1, 0);
      return;
    }
    if (n.kind == N_ASSERT) {
      this.emit(OP_ASSERT, n.assertKind, 0);
      return;
    }
    if (n.kind == N_CONCAT) {
      for (let i = 0; i < n.children.length; i++) this.compile(n.children[i]);
      return;
    }
    if (n.kind == N_ALT) {
      const jumps = new Array<i32>();
      const k = n.children.length;
      for (let i = 0; i < k; i++) {
        if (i < k - 1) {
          const split = this.emit(OP_SPLIT, 0, 0);
          this.compile(n.children[i]);
          jumps.push(this.emit(OP_JMP, 0, 0));
          this.patch(split, split + 1, this.ops.length);
        } else this.compile(n.children[i]);
      }
      const end = this.ops.length;
      for (let i = 0; i < jumps.length; i++) this.patch(jumps[i], end, 0);
      return;
    }
    // N_REPEAT
    const body = n.children[0];
    for (let i = 0; i < n.min; i++) {
      this.compile(body);
      if (this.tooLarge) return;
    }
    if (n.max < 0) {
      const split = this.emit(OP_SPLIT, 0, 0);
      this.compile(body);
      this.emit(OP_JMP, split, 0);
      this.patch(split, split + 1, this.ops.length);
      return;
    }
    const splits = new Array<i32>();
    for (let i = n.min; i < n.max; i++) {
      splits.push(this.emit(OP_SPLIT, 0, 0));
      this.compile(body);
      if (this.tooLarge) return;
    }
    const end = this.ops.length;
    for (let i = 0; i < splits.length; i++) this.patch(splits[i], splits[i] + 1, end);
  }
}

/** A set of program counters with O(1) insert, membership and clear (Russ Cox's sparse set). */
class SparseSet {
  dense: StaticArray<i32>;
  sparse: StaticArray<i32>;
  size: i32 = 0;
  constructor(n: i32) {
    this.dense = new StaticArray<i32>(n);
    this.sparse = new StaticArray<i32>(n);
  }
  @inline has(pc: i32): bool {
    const i = unchecked(this.sparse[pc]);
    return i < this.size && unchecked(this.dense[i]) == pc;
  }
  @inline add(pc: i32): void {
    unchecked((this.sparse[pc] = this.size));
    unchecked((this.dense[this.size] = pc));
    this.size++;
  }
}

export class RegexResult {
  constructor(
    public readonly regex: Regex | null,
    public readonly error: string,
  ) {}
}

export class Regex {
  readonly pattern: string;
  private ops: StaticArray<u8>;
  private xs: StaticArray<i32>;
  private ys: StaticArray<i32>;
  private classes: Array<StaticArray<i32>>;
  private clist: SparseSet;
  private nlist: SparseSet;
  private stack: StaticArray<i32>;
  private input: Array<i32> = new Array<i32>();

  private constructor(pattern: string, c: Compiler) {
    this.pattern = pattern;
    const n = c.ops.length;
    const ops = new StaticArray<u8>(n);
    const xs = new StaticArray<i32>(n);
    const ys = new StaticArray<i32>(n);
    for (let i = 0; i < n; i++) {
      ops[i] = c.ops[i];
      xs[i] = c.x[i];
      ys[i] = c.y[i];
    }
    const classes = new Array<StaticArray<i32>>();
    for (let i = 0; i < c.classes.length; i++) {
      const src = c.classes[i];
      const dst = new StaticArray<i32>(src.length);
      for (let j = 0; j < src.length; j++) dst[j] = src[j];
      classes.push(dst);
    }
    this.ops = ops;
    this.xs = xs;
    this.ys = ys;
    this.classes = classes;
    this.clist = new SparseSet(n);
    this.nlist = new SparseSet(n);
    this.stack = new StaticArray<i32>(n * 2 + 2);
  }

  /** Compiles a pattern; `error` says why a pattern cannot be run (then `regex` is null). */
  static compile(pattern: string): RegexResult {
    const p = new Parser(pattern);
    const ast = p.parseAlt(0);
    if (p.error.length == 0 && !p.done) p.fail('unexpected ) at offset ' + p.pos.toString());
    if (p.error.length > 0) return new RegexResult(null, p.error);
    const c = new Compiler();
    c.compile(ast);
    c.emit(OP_MATCH, 0, 0);
    if (c.tooLarge) return new RegexResult(null, 'pattern too large (over ' + MAX_PROGRAM.toString() + ' instructions)');
    return new RegexResult(new Regex(pattern, c), '');
  }

  /** Number of NFA instructions (for tests and limits). */
  get programSize(): i32 {
    return this.ops.length;
  }

  /** True when the whole string matches. */
  matches(s: string): bool {
    const input = this.input;
    input.length = 0;
    appendCodePoints(s, input);
    return this.run(input);
  }

  /** True when the whole UTF-8 byte string matches (invalid sequences read as U+FFFD). */
  matchesBytes(bytes: ArrayBuffer): bool {
    const input = this.input;
    input.length = 0;
    const base = changetype<usize>(bytes);
    const n = bytes.byteLength;
    let i = 0;
    while (i < n) {
      const len = utf8SequenceAt(base, n, i, true);
      if (len == 0) {
        input.push(0xfffd);
        i++;
      } else {
        input.push(<i32>utf8CodePoint);
        i += len;
      }
    }
    return this.run(input);
  }

  private assertHolds(kind: i32, input: Array<i32>, pos: i32): bool {
    const n = input.length;
    if (kind == A_BEGIN_TEXT) return pos == 0;
    if (kind == A_END_TEXT) return pos == n;
    if (kind == A_BEGIN_LINE) return pos == 0 || unchecked(input[pos - 1]) == 0x0a;
    if (kind == A_END_LINE) return pos == n || unchecked(input[pos]) == 0x0a;
    const before = pos > 0 && isWordChar(unchecked(input[pos - 1]));
    const after = pos < n && isWordChar(unchecked(input[pos]));
    return kind == A_WORD ? before != after : before == after;
  }

  /** Adds pc and everything reachable from it by empty transitions at `pos`. */
  private addThread(list: SparseSet, start: i32, input: Array<i32>, pos: i32): void {
    const stack = this.stack;
    let sp = 0;
    unchecked((stack[sp++] = start));
    while (sp > 0) {
      const pc = unchecked(stack[--sp]);
      if (list.has(pc)) continue;
      list.add(pc);
      const op = unchecked(this.ops[pc]);
      if (op == OP_JMP) unchecked((stack[sp++] = this.xs[pc]));
      else if (op == OP_SPLIT) {
        unchecked((stack[sp++] = this.ys[pc]));
        unchecked((stack[sp++] = this.xs[pc]));
      } else if (op == OP_ASSERT) {
        if (this.assertHolds(unchecked(this.xs[pc]), input, pos)) unchecked((stack[sp++] = pc + 1));
      }
    }
  }

  private run(input: Array<i32>): bool {
    let clist = this.clist;
    let nlist = this.nlist;
    clist.size = 0;
    this.addThread(clist, 0, input, 0);
    const n = input.length;
    for (let pos = 0; pos < n; pos++) {
      if (clist.size == 0) return false;
      const c = unchecked(input[pos]);
      nlist.size = 0;
      for (let i = 0; i < clist.size; i++) {
        const pc = unchecked(clist.dense[i]);
        if (unchecked(this.ops[pc]) != OP_CLASS) continue;
        if (classContains(unchecked(this.classes[this.xs[pc]]), c)) this.addThread(nlist, pc + 1, input, pos + 1);
      }
      const t = clist;
      clist = nlist;
      nlist = t;
    }
    for (let i = 0; i < clist.size; i++) {
      if (unchecked(this.ops[clist.dense[i]]) == OP_MATCH) return true;
    }
    return false;
  }
}

function classContains(r: StaticArray<i32>, c: i32): bool {
  // binary search over [lo, hi] pairs
  let lo = 0,
    hi = (r.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c < unchecked(r[2 * mid])) hi = mid - 1;
    else if (c > unchecked(r[2 * mid + 1])) lo = mid + 1;
    else return true;
  }
  return false;
}
