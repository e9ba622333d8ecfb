// Generic string matchers (exact, prefix, suffix, contains, regex, presence), as Istio's
// StringMatch and Envoy's StringMatcher. Pure: no host calls; shared by steering and authz.
import { Regex } from './regex';

export enum MatchKind {
  Exact = 0,
  Prefix = 1,
  Suffix = 2,
  Contains = 3,
  Regex = 4,
  /** The value exists (any value, even empty). */
  Present = 5,
  /** Any non-empty value (Envoy's safe_regex `.+`, which Istio writes for `*`). */
  NonEmpty = 6,
}

export class StringMatcher {
  private constructor(
    public readonly kind: MatchKind,
    /** The expected text (lower-cased when ignoreCase). */
    public readonly value: string,
    public readonly regex: Regex | null,
    /** Exact/prefix/suffix/contains compare case-insensitively (ASCII); regex is unaffected. */
    public readonly ignoreCase: bool,
  ) {}

  static exact(value: string, ignoreCase: bool = false): StringMatcher {
    return new StringMatcher(MatchKind.Exact, ignoreCase ? asciiLower(value) : value, null, ignoreCase);
  }
  static prefix(value: string, ignoreCase: bool = false): StringMatcher {
    return new StringMatcher(MatchKind.Prefix, ignoreCase ? asciiLower(value) : value, null, ignoreCase);
  }
  static suffix(value: string, ignoreCase: bool = false): StringMatcher {
    return new StringMatcher(MatchKind.Suffix, ignoreCase ? asciiLower(value) : value, null, ignoreCase);
  }
  static contains(value: string, ignoreCase: bool = false): StringMatcher {
    return new StringMatcher(MatchKind.Contains, ignoreCase ? asciiLower(value) : value, null, ignoreCase);
  }
  /** A compiled regex (full match). */
  static regex(regex: Regex): StringMatcher {
    return new StringMatcher(MatchKind.Regex, regex.pattern, regex, false);
  }
  static present(): StringMatcher {
    return new StringMatcher(MatchKind.Present, '', null, false);
  }
  static nonEmpty(): StringMatcher {
    return new StringMatcher(MatchKind.NonEmpty, '', null, false);
  }

  /** Matches a value; null (absent) matches nothing, not even Present. */
  matches(input: string | null): bool {
    if (input === null) return false;
    const kind = this.kind;
    if (kind == MatchKind.Present) return true;
    if (kind == MatchKind.NonEmpty) return input.length > 0;
    if (kind == MatchKind.Regex) return (this.regex as Regex).matches(input);
    const v = this.ignoreCase ? asciiLower(input) : input;
    if (kind == MatchKind.Exact) return v == this.value;
    if (kind == MatchKind.Prefix) return v.startsWith(this.value);
    if (kind == MatchKind.Suffix) return v.endsWith(this.value);
    return v.includes(this.value);
  }

  /** A short description for logs: `exact:"v"`. */
  describe(): string {
    const names = ['exact', 'prefix', 'suffix', 'contains', 'regex', 'present', 'nonEmpty'];
    return names[<i32>this.kind] + (this.kind >= MatchKind.Present ? '' : ':"' + this.value + '"');
  }
}

/** ASCII-only lower-casing (HTTP header names, URI case folding); other characters unchanged. */
export function asciiLower(s: string): string {
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) break;
    i++;
  }
  if (i == n) return s;
  let start = 0;
  let buf = '';
  for (let j = 0; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c >= 0x41 && c <= 0x5a) {
      buf += s.substring(start, j) + String.fromCharCode(c + 32);
      start = j + 1;
    }
  }
  return buf + s.substring(start);
}
