// How Istio's pilot turns AuthorizationPolicy values into Envoy matchers
// (pilot/pkg/security/authz/matcher, model/generator.go), on assembly/lib/matchers.ts, plus IP
// blocks. Pure: no host calls.
import { StringMatcher } from '../../assembly/lib/matchers';
import { Regex } from '../../assembly/lib/regex';

/** Istio's HeaderMatcher / HostMatcher: `*` present (any value), `*x` suffix, `x*` prefix, else exact. */
export function headerPattern(v: string, ignoreCase: bool): StringMatcher {
  if (v == '*') return StringMatcher.present();
  if (v.startsWith('*')) return StringMatcher.suffix(v.substring(1), ignoreCase);
  if (v.endsWith('*')) return StringMatcher.prefix(v.substring(0, v.length - 1), ignoreCase);
  return StringMatcher.exact(v, ignoreCase);
}

/** Istio's StringMatcher (paths, claims, SNI): `*` is `.+` (a non-empty value), then as headerPattern. */
export function stringPattern(v: string): StringMatcher {
  if (v == '*') return StringMatcher.nonEmpty();
  return headerPattern(v, false);
}

/** Go's regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if ('\\.+*?()|[]{}^$'.includes(c)) out += '\\';
    out += c;
  }
  return out;
}

/** null when the pattern cannot be compiled (too large): the config is rejected. */
function regexMatcher(pattern: string): StringMatcher | null {
  const r = Regex.compile(pattern);
  return r.regex === null ? null : StringMatcher.regex(r.regex as Regex);
}

/** principals / source.principal on the peer's URI SAN: Istio's StringMatcherWithPrefix(v, "spiffe://"). */
export function principalPattern(v: string): StringMatcher | null {
  if (v == '*') return StringMatcher.nonEmpty();
  if (v.startsWith('*')) return regexMatcher('spiffe://.*' + quoteMeta(v.substring(1)));
  if (v.endsWith('*')) return StringMatcher.prefix('spiffe://' + v.substring(0, v.length - 1));
  return StringMatcher.exact('spiffe://' + v);
}

// namespaces / source.namespace on the peer's URI SAN: Istio's regex .*/ns/<v with * as .*>/.*
export function namespacePattern(v: string): StringMatcher | null {
  const parts = v.split('*');
  for (let i = 0; i < parts.length; i++) parts[i] = quoteMeta(parts[i]);
  return regexMatcher('.*/ns/' + parts.join('.*') + '/.*');
}

/** trustDomains / source.trustDomain on the peer's URI SAN (Istio's srcTrustDomainGenerator). */
export function trustDomainPattern(v: string): StringMatcher | null {
  if (v == '*') return StringMatcher.prefix('spiffe://');
  if (!v.includes('*')) return StringMatcher.prefix('spiffe://' + v + '/');
  const star = v.indexOf('*');
  return regexMatcher('spiffe://' + quoteMeta(v.substring(0, star)) + '[^/]*' + quoteMeta(v.substring(star + 1)) + '/.*');
}

/** A request principal `iss/sub` as Istio splits it (at the last '/'): matchers for `iss` and `sub`. */
export class RequestPrincipalPattern {
  constructor(
    public iss: StringMatcher,
    public sub: StringMatcher,
  ) {}

  static parse(v: string): RequestPrincipalPattern {
    const idx = v.lastIndexOf('/');
    const found = idx >= 0;
    const iss = found ? v.substring(0, idx) : v;
    const sub = found ? v.substring(idx + 1) : '';
    const any = StringMatcher.nonEmpty();
    if (v == '*') return new RequestPrincipalPattern(any, StringMatcher.nonEmpty());
    if (v.startsWith('*')) {
      if (found) return new RequestPrincipalPattern(iss == '*' ? any : StringMatcher.suffix(iss.substring(1)), StringMatcher.exact(sub));
      return new RequestPrincipalPattern(any, StringMatcher.suffix(v.substring(1)));
    }
    if (v.endsWith('*')) {
      if (found)
        return new RequestPrincipalPattern(
          StringMatcher.exact(iss),
          sub == '*' ? any : StringMatcher.prefix(sub.substring(0, sub.length - 1)),
        );
      return new RequestPrincipalPattern(StringMatcher.prefix(v.substring(0, v.length - 1)), any);
    }
    return new RequestPrincipalPattern(StringMatcher.exact(iss), StringMatcher.exact(sub));
  }
}

/** An IPv4 or IPv6 address as 4 or 16 bytes; null when not an address. */
export function parseIp(text: string): u8[] | null {
  if (text.indexOf(':') >= 0) return parseIp6(text);
  return parseIp4(text);
}

function parseIp4(text: string): u8[] | null {
  const parts = text.split('.');
  if (parts.length != 4) return null;
  const out = new Array<u8>(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p.length == 0 || p.length > 3) return null;
    let v = 0;
    for (let j = 0; j < p.length; j++) {
      const c = p.charCodeAt(j);
      if (c < 48 || c > 57) return null;
      v = v * 10 + (c - 48);
    }
    if (v > 255) return null;
    out[i] = <u8>v;
  }
  return out;
}

function hexGroup(p: string): i32 {
  if (p.length == 0 || p.length > 4) return -1;
  let v = 0;
  for (let j = 0; j < p.length; j++) {
    const c = p.charCodeAt(j);
    let d = -1;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

function parseIp6(text: string): u8[] | null {
  // Embedded IPv4 tail (::ffff:1.2.3.4).
  let tail4: u8[] | null = null;
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > 0) {
    tail4 = parseIp4(text.substring(lastColon + 1));
    if (tail4 === null) return null;
    body = text.substring(0, lastColon + 1) + '0:0';
  }
  const dbl = body.indexOf('::');
  if (dbl >= 0 && body.indexOf('::', dbl + 1) >= 0) return null;
  let head: string[] = [];
  let rest: string[] = [];
  if (dbl >= 0) {
    const a = body.substring(0, dbl);
    const b = body.substring(dbl + 2);
    head = a.length ? a.split(':') : [];
    rest = b.length ? b.split(':') : [];
    if (head.length + rest.length > 7) return null;
  } else {
    head = body.split(':');
    if (head.length != 8) return null;
  }
  const groups = new Array<i32>(8);
  for (let i = 0; i < 8; i++) groups[i] = 0;
  for (let i = 0; i < head.length; i++) {
    const g = hexGroup(head[i]);
    if (g < 0) return null;
    groups[i] = g;
  }
  for (let i = 0; i < rest.length; i++) {
    const g = hexGroup(rest[i]);
    if (g < 0) return null;
    groups[8 - rest.length + i] = g;
  }
  const out = new Array<u8>(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = <u8>(groups[i] >> 8);
    out[2 * i + 1] = <u8>(groups[i] & 0xff);
  }
  if (tail4 !== null) for (let i = 0; i < 4; i++) out[12 + i] = (tail4 as u8[])[i];
  return out;
}

/** `1.2.3.0/24`, `::1/128`, or a bare address (full-length prefix). */
export class Cidr {
  constructor(
    public bytes: u8[],
    public prefix: i32,
  ) {}

  static parse(text: string): Cidr | null {
    const slash = text.indexOf('/');
    const addr = parseIp(slash >= 0 ? text.substring(0, slash) : text);
    if (addr === null) return null;
    const bits = addr.length * 8;
    let prefix = bits;
    if (slash >= 0) {
      const p = text.substring(slash + 1);
      if (p.length == 0 || p.length > 3) return null;
      prefix = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        if (c < 48 || c > 57) return null;
        prefix = prefix * 10 + (c - 48);
      }
      if (prefix > bits) return null;
    }
    return new Cidr(addr, prefix);
  }

  contains(ip: u8[]): bool {
    if (ip.length != this.bytes.length) return false;
    let left = this.prefix;
    for (let i = 0; i < ip.length && left > 0; i++) {
      const take = left >= 8 ? 8 : left;
      const mask = <u8>((<i32>0xff) << (8 - take));
      if ((ip[i] & mask) != (this.bytes[i] & mask)) return false;
      left -= take;
    }
    return true;
  }
}

export function anyCidrContains(blocks: Cidr[], ipText: string): bool {
  const ip = parseIp(ipText);
  if (ip === null) return false;
  for (let i = 0; i < blocks.length; i++) if (blocks[i].contains(ip)) return true;
  return false;
}

/** A path template as pilot gives it to Envoy's uri_template matcher: the matcher, or why it is refused. */
export class PathTemplate {
  constructor(
    public m: StringMatcher | null,
    public error: string,
  ) {}
}

const ISTIO_LITERAL = "-._~%!$&'()+,;:@=";
// Envoy's uri_template literal characters (RFC 3986 pchar without '*' and '='), as a regex class body.
const ENVOY_LITERAL = "-._~%!$&'()+,;:@";

function literalOf(s: string, extra: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum && !extra.includes(s.charAt(i))) return false;
  }
  return true;
}

/** Go's strings.Trim(s, "/"). */
function trimSlashes(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) == 0x2f) a++;
  while (b > a && s.charCodeAt(b - 1) == 0x2f) b--;
  return s.substring(a, b);
}

/**
 * A `paths` value with `{*}` / `{**}`: Istio's validation (whole segments only, `{**}` last, literal
 * segments of pchar), pilot's rewrite to `*` / `**`, then Envoy's uri_template: `*` is one segment
 * (`[pchar]+`), `**` any rest (`[pchar/]*`), a full match of the path without query and fragment.
 * Templates Envoy itself would refuse (no leading '/', '=' in a literal) are config errors too.
 */
export function pathTemplate(v: string): PathTemplate {
  const globs = trimSlashes(v).split('/');
  let any = false;
  for (let i = 0; i < globs.length; i++) {
    const g = globs[i];
    if ((g == '{*}' || g == '{**}') && any) return new PathTemplate(null, '{**} must be the last operator');
    if (g == '{*}') continue;
    if (g == '{**}') {
      any = true;
      continue;
    }
    if (g.includes('{') || g.includes('}')) return new PathTemplate(null, "'{' or '}' beyond a whole-segment {*} or {**}");
    if (!literalOf(g, ISTIO_LITERAL)) return new PathTemplate(null, 'segment "' + g + '" is not a valid literal');
  }
  const t = v.replaceAll('{**}', '**').replaceAll('{*}', '*');
  if (!t.startsWith('/')) return new PathTemplate(null, 'a path template must start with /');
  const one = '[' + ENVOY_LITERAL + 'a-zA-Z0-9]+';
  const rest = '[' + ENVOY_LITERAL + 'a-zA-Z0-9/]*';
  const parts = new Array<string>();
  let s = t.substring(1);
  while (s.length > 0) {
    if (s.startsWith('**')) {
      parts.push(rest);
      s = s.substring(2);
    } else if (s.startsWith('*')) {
      parts.push(one);
      s = s.substring(1);
    } else {
      const slash = s.indexOf('/');
      const lit = slash < 0 ? s : s.substring(0, slash);
      if (!literalOf(lit, ENVOY_LITERAL)) return new PathTemplate(null, 'Envoy refuses the literal "' + lit + '"');
      parts.push(quoteMeta(lit));
      s = s.substring(lit.length);
    }
    if (s.length == 0) break;
    if (s.charCodeAt(0) != 0x2f) return new PathTemplate(null, 'Envoy refuses text after an operator in a segment');
    s = s.substring(1);
    if (s.length == 0) parts.push(''); // a trailing '/'
  }
  const m = regexMatcher('/' + parts.join('/'));
  return m === null ? new PathTemplate(null, 'pattern too large') : new PathTemplate(m, '');
}
