// Validating reads of a JSON plugin configuration. The first problem found wins and is kept as
// `<json-path>: <what>`, the text a filter logs as `<filter>: config <path>: <what>`.
// Usage: `const c = new ConfigChecker(); const o = c.object(root, ['hosts', 'http']); ... if (c.failed) ...`
// Pure: no host calls.
import { JsonKind, JsonValue, kindName, memberPath, parseJson } from './json';

/** A parsed configuration, or the first problem as `<json-path>: <what>`; the same shape for every filter. */
export class ConfigResult<T> {
  constructor(
    public readonly config: T | null,
    public readonly error: string,
  ) {}
}

export class ConfigChecker {
  error: string = '';

  get failed(): bool {
    return this.error.length > 0;
  }

  /** Records a problem at `path` (only the first one is kept). Returns false for chaining. */
  fail(path: string, what: string): bool {
    if (this.error.length == 0) this.error = path + ': ' + what;
    return false;
  }

  /** Parses the configuration bytes; an empty configuration is `{}`. */
  parse(bytes: ArrayBuffer): JsonValue | null {
    if (bytes.byteLength == 0) return parseJson(String.UTF8.encode('{}')).value;
    const r = parseJson(bytes);
    if (r.value === null) {
      this.fail('$', 'invalid JSON: ' + r.error);
      return null;
    }
    return r.value;
  }

  /** `v` must be an object whose keys are all in `allowed`. */
  object(v: JsonValue | null, allowed: string[]): bool {
    if (v === null) return false;
    if (!this.kind(v, JsonKind.Object)) return false;
    for (let i = 0; i < v.keys.length; i++) {
      if (!allowed.includes(v.keys[i])) {
        return this.fail(v.path, 'unknown field "' + v.keys[i] + '"');
      }
    }
    return true;
  }

  kind(v: JsonValue, kind: JsonKind): bool {
    if (v.kind == kind) return true;
    return this.fail(v.path, 'expected ' + kindName(kind) + ', got ' + v.kindName());
  }

  /** The member `key` when present, of the given kind; null (and no error) when absent. */
  optional(parent: JsonValue, key: string, kind: JsonKind): JsonValue | null {
    const v = parent.get(key);
    if (v === null) return null;
    if (!this.kind(v, kind)) return null;
    return v;
  }

  /** The member `key`, which must be present and of the given kind. */
  required(parent: JsonValue, key: string, kind: JsonKind): JsonValue | null {
    const v = parent.get(key);
    if (v === null) {
      this.fail(memberPath(parent.path, key), 'required');
      return null;
    }
    if (!this.kind(v, kind)) return null;
    return v;
  }

  /** A string member, or `fallback` when absent. */
  str(parent: JsonValue, key: string, fallback: string = ''): string {
    const v = this.optional(parent, key, JsonKind.String);
    return v === null ? fallback : v.str;
  }

  requiredStr(parent: JsonValue, key: string): string {
    const v = this.required(parent, key, JsonKind.String);
    if (v === null) return '';
    if (v.str.length == 0) {
      this.fail(v.path, 'must not be empty');
      return '';
    }
    return v.str;
  }

  bool(parent: JsonValue, key: string, fallback: bool): bool {
    const v = this.optional(parent, key, JsonKind.Bool);
    return v === null ? fallback : v.bool;
  }

  /** An integer member in [min, max], or `fallback` when absent. */
  int(parent: JsonValue, key: string, fallback: i64, min: i64, max: i64): i64 {
    const v = this.optional(parent, key, JsonKind.Number);
    if (v === null) return fallback;
    if (!v.isInteger) {
      this.fail(v.path, 'expected an integer, got ' + v.raw);
      return fallback;
    }
    const n = v.int;
    if (n < min || n > max) {
      this.fail(v.path, v.raw + ' is outside [' + min.toString() + ', ' + max.toString() + ']');
      return fallback;
    }
    return n;
  }

  /** A number member in [min, max], or `fallback` when absent. */
  number(parent: JsonValue, key: string, fallback: f64, min: f64, max: f64): f64 {
    const v = this.optional(parent, key, JsonKind.Number);
    if (v === null) return fallback;
    if (v.number < min || v.number > max) {
      this.fail(v.path, v.raw + ' is outside [' + min.toString() + ', ' + max.toString() + ']');
      return fallback;
    }
    return v.number;
  }

  /** An array of strings, or an empty array when absent. */
  strings(parent: JsonValue, key: string): string[] {
    const out = new Array<string>();
    const v = this.optional(parent, key, JsonKind.Array);
    if (v === null) return out;
    for (let i = 0; i < v.items.length; i++) {
      const item = v.items[i];
      if (!this.kind(item, JsonKind.String)) return out;
      out.push(item.str);
    }
    return out;
  }

  /** The items of an array member, or an empty array when absent. */
  items(parent: JsonValue, key: string): JsonValue[] {
    const v = this.optional(parent, key, JsonKind.Array);
    return v === null ? new Array<JsonValue>() : v.items;
  }
}
