// Request-parsing helpers, one per job, for every filter. Pure: no host calls.
import { hexDigitValue } from './strings';

/**
 * The host of an authority or of an Envoy `ip:port` address, without its port; case kept:
 * `svc.ns:8080` -> `svc.ns`, `[::1]:80` -> `[::1]`, `:80` -> ``. An unbracketed string with two or
 * more ':' can only be a bare IPv6 address (a reg-name has no ':'), so it has no port: `::1` -> `::1`.
 */
export function hostOfAuthority(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.substring(0, end + 1);
  }
  const colon = authority.indexOf(':');
  if (colon < 0 || authority.indexOf(':', colon + 1) >= 0) return authority;
  return authority.substring(0, colon);
}

/** The IP of an Envoy address (`source.address`): `10.0.0.1:80` -> `10.0.0.1`, `[::1]:80` -> `::1`. */
export function ipOfAddress(address: string): string {
  const host = hostOfAuthority(address);
  return host.length >= 2 && host.startsWith('[') && host.endsWith(']') ? host.substring(1, host.length - 1) : host;
}

/** A `:path` without its query (`/a?b=1` -> `/a`). */
export function pathWithoutQuery(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.substring(0, q);
}

/** Envoy's PathUtil::removeQueryAndFragment (rbac url_path, route path matching): `/a#f?b` -> `/a`. */
export function pathWithoutQueryOrFragment(path: string): string {
  const q = path.indexOf('?');
  const h = path.indexOf('#');
  let end = path.length;
  if (q >= 0) end = q;
  if (h >= 0 && h < end) end = h;
  return end == path.length ? path : path.substring(0, end);
}

/** The query of a `:path` without the `?` (`/a?b=1` -> `b=1`), "" when it has none. */
export function queryOf(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? '' : path.substring(q + 1);
}

/**
 * The query parameters, the first value of each name. Names and values stay raw, as Envoy 1.40's
 * route matcher compares them (measured, test/steering/native.test.ts): no percent-decoding, `+` is a `+`.
 */
export function queryParams(query: string): Map<string, string> {
  const params = new Map<string, string>();
  const parts = query.split('&');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.length == 0) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.substring(0, eq);
    const v = eq < 0 ? '' : part.substring(eq + 1);
    if (!params.has(k)) params.set(k, v);
  }
  return params;
}

/** Envoy's PercentEncoding::decode: each valid %XX becomes its byte, anything else stays. */
export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  const b = String.UTF8.encode(s);
  const p = changetype<usize>(b);
  const n = b.byteLength;
  const out = new Uint8Array(n);
  let w = 0;
  for (let i = 0; i < n; i++) {
    const c = <i32>load<u8>(p + <usize>i);
    if (c == 0x25 && i + 2 < n) {
      const h = hexDigitValue(<i32>load<u8>(p + <usize>i + 1));
      const l = hexDigitValue(<i32>load<u8>(p + <usize>i + 2));
      if (h >= 0 && l >= 0) {
        out[w++] = <u8>(h * 16 + l);
        i += 2;
        continue;
      }
    }
    out[w++] = <u8>c;
  }
  return String.UTF8.decode(out.buffer.slice(0, w));
}

/**
 * A path's query as Envoy's QueryParamsMulti (jwt_authn's token parameters): percent-decoded names →
 * values in order, names sorted. Unlike `queryParams` (raw, as the route matcher compares them).
 */
export class DecodedQueryParams {
  keys: string[] = [];
  values: string[][] = [];

  static parse(path: string): DecodedQueryParams {
    const q = new DecodedQueryParams();
    const query = queryOf(path);
    let i = 0;
    while (i < query.length) {
      let end = query.indexOf('&', i);
      if (end < 0) end = query.length;
      const param = query.substring(i, end);
      const eq = param.indexOf('=');
      if (eq >= 0) q.add(percentDecode(param.substring(0, eq)), percentDecode(param.substring(eq + 1)));
      else q.add(percentDecode(param), '');
      i = end + 1;
    }
    return q;
  }

  private add(key: string, value: string): void {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    if (lo < this.keys.length && this.keys[lo] == key) {
      this.values[lo].push(value);
      return;
    }
    this.keys.push(key);
    this.values.push([value]);
    for (let i = this.keys.length - 1; i > lo; i--) {
      this.keys[i] = this.keys[i - 1];
      this.values[i] = this.values[i - 1];
    }
    this.keys[lo] = key;
    this.values[lo] = [value];
  }

  first(key: string): string | null {
    const i = this.keys.indexOf(key);
    return i < 0 ? null : this.values[i][0];
  }

  remove(key: string): void {
    const i = this.keys.indexOf(key);
    if (i < 0) return;
    this.keys.splice(i, 1);
    this.values.splice(i, 1);
  }

  /** Envoy's replaceQueryString: the path without its query, then `?k=v&...` (decoded, sorted), if any. */
  replaceIn(path: string): string {
    let out = pathWithoutQuery(path);
    let delim = '?';
    for (let i = 0; i < this.keys.length; i++) {
      for (let j = 0; j < this.values[i].length; j++) {
        out += delim + this.keys[i] + '=' + this.values[i][j];
        delim = '&';
      }
    }
    return out;
  }
}

/**
 * Envoy's Http::Utility::parseCookieValue (jwt_authn `fromCookies`, a `httpCookie` hash policy): the
 * value of the first `name=value` in any of the `cookie` header values, in order; null when none.
 * Only leading spaces are skipped; the name is compared as written, the value kept as sent but
 * for one pair of surrounding double quotes.
 */
export function cookieValue(headers: string[], name: string): string | null {
  for (let h = 0; h < headers.length; h++) {
    const parts = headers[h].split(';');
    for (let i = 0; i < parts.length; i++) {
      const s = parts[i];
      const eq = s.indexOf('=');
      if (eq < 0) continue;
      let k = 0;
      while (k < eq && s.charCodeAt(k) == 0x20) k++;
      if (s.substring(k, eq) != name) continue;
      const v = s.substring(eq + 1);
      return v.length >= 2 && v.charCodeAt(0) == 0x22 && v.charCodeAt(v.length - 1) == 0x22 ? v.substring(1, v.length - 1) : v;
    }
  }
  return null;
}
