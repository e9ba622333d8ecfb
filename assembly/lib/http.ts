// Request-parsing helpers, one per job, for every filter. Pure: no host calls.

/** The host of an authority without its port (`svc.ns:8080` -> `svc.ns`, `[::1]:80` -> `[::1]`); case kept. */
export function hostOfAuthority(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.substring(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? authority : authority.substring(0, colon);
}

/** A `:path` without its query (`/a?b=1` -> `/a`). */
export function pathWithoutQuery(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.substring(0, q);
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
