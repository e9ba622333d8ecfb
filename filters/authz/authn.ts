// JWT authentication as Envoy's jwt_authn runs the configuration Istio's pilot writes for a
// RequestAuthentication (pilot/pkg/security/authn/policy_applier.go):
//   one rule:  requires_any { provider 0, allow_missing }
//   n rules:   requires_any { provider 0 .. provider n-1, requires_all { any { provider i, allow_missing }... } }
// A provider (verifier) first removes its output headers (outputPayloadToHeader, outputClaimToHeaders),
// extracts every token at its own locations (each value of each header, params, cookies, in Envoy's
// sorted order) and checks them last to first: the first failure is its status; every token of
// every provider passes or the provider fails. A token is accepted only for the provider whose
// location it was found at, also when it comes from the verified-token cache.
// Each token: parse → issuer → exp/nbf (60 s skew) → audiences → key by kid/alg → signature.
// Side effects (header removal/addition, the query parameter taken out of the path) go to a
// RequestView and are applied by the adapter only when the request passes. Pure: keys and
// signature checks come through the abstract classes below.
import { Jwk, Jwt, JwtStatus, parseJwt } from '../../assembly/lib/jwt';
import { JsonValue, jsonAt, quote } from '../../assembly/lib/json';
import { base64Encode } from '../../assembly/lib/base64';
import { DecodedQueryParams, cookieValue } from '../../assembly/lib/http';
import { storeCodeUnits } from '../../assembly/lib/strings';
import { AuthzConfig, JwtRule } from './config';
import { NO_STRINGS } from './policy';

export const CLOCK_SKEW_SECONDS: i64 = 60;

/** Checks a signature with one key (Envoy's verify_signature or our own crypto). */
export abstract class SignatureChecker {
  abstract check(jwt: Jwt, key: Jwk): bool;
}

/** The current keys of a rule; null when they are not known yet (jwksUri not fetched). */
export abstract class KeySource {
  abstract keys(rule: JwtRule): Jwk[] | null;
  /** The fetch this request waited for failed: a token of this rule fails with `Jwks remote fetch is failed`. */
  fetchFailed(rule: JwtRule): bool {
    return false;
  }
}

/** The request headers as they were when the filter got them. */
export abstract class HeaderReader {
  abstract values(name: string): string[];
  /** The first value named `name`, or null. */
  first(name: string): string | null {
    const v = this.values(name);
    return v.length > 0 ? v[0] : null;
  }
}

/** One header name a run read or changed: its values now, and whether they differ from the request's. */
export class HeaderSlot {
  changed: bool = false;
  constructor(
    public name: string,
    public values: string[],
  ) {}
}

/** The request as jwt_authn changes it: header values by name and the path, over a HeaderReader. */
export class RequestView {
  /** One per name read or changed, in the order first touched (one list: three parallel ones were nine allocations). */
  slots: HeaderSlot[] = [];
  pathChanged: bool = false;
  constructor(
    public source: HeaderReader,
    public path: string,
  ) {}

  /** The slot of `name` if the run touched it. */
  find(name: string): HeaderSlot | null {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) if (slots[i].name == name) return slots[i];
    return null;
  }

  private slot(name: string): HeaderSlot {
    const found = this.find(name);
    if (found !== null) return found;
    const s = new HeaderSlot(name, this.source.values(name));
    this.slots.push(s);
    return s;
  }

  values(name: string): string[] {
    return this.slot(name).values;
  }

  remove(name: string): void {
    const s = this.slot(name);
    if (s.values.length == 0) return;
    s.values = NO_STRINGS; // `values` lists are read, never written: `add` copies
    s.changed = true;
  }

  add(name: string, value: string): void {
    const s = this.slot(name);
    const next = s.values.slice(0);
    next.push(value);
    s.values = next;
    s.changed = true;
  }

  setPath(path: string): void {
    this.path = path;
    this.pathChanged = true;
  }
}

export const enum Location {
  Header,
  Param,
  Cookie,
}

/** A token and where it was found: `value` from `start` on (taken out only when parsed: a cache hit reads it in place). */
export class FoundToken {
  private text: string | null = null;
  constructor(
    public value: string,
    public start: i32,
    public location: Location,
    public name: string,
  ) {}

  get token(): string {
    const t = this.text;
    if (t !== null) return t;
    const s = this.start == 0 ? this.value : this.value.substring(this.start);
    this.text = s;
    return s;
  }

  get length(): i32 {
    return this.value.length - this.start;
  }
}

/** RFC 4648 base64url characters plus '.': where Envoy starts a token after the header's prefix. */
function isTokenChar(c: i32): bool {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f || c == 0x2e;
}

/** Where tokenAfterPrefix's token starts in `value`, -1 when the prefix is absent. */
export function tokenStart(value: string, prefix: string): i32 {
  if (prefix.length == 0) return 0;
  const pos = value.indexOf(prefix);
  if (pos < 0) return -1;
  for (let i = pos + prefix.length; i < value.length; i++) if (isTokenChar(value.charCodeAt(i))) return i;
  return 0;
}

/**
 * A header value's token as Envoy's extractor takes it: the prefix found anywhere (case-sensitive),
 * then from the first token character after it to the end; the whole value when none follows.
 */
export function tokenAfterPrefix(value: string, prefix: string): string | null {
  const at = tokenStart(value, prefix);
  return at < 0 ? null : value.substring(at);
}

/** Every token at a rule's locations, in Envoy's order (headers, then params, then cookies). */
export function extractTokens(rule: JwtRule, view: RequestView): FoundToken[] {
  const out = new Array<FoundToken>();
  for (let i = 0; i < rule.headers.length; i++) {
    const loc = rule.headers[i];
    const values = view.values(loc.name);
    for (let j = 0; j < values.length; j++) {
      const at = tokenStart(values[j], loc.prefix);
      if (at >= 0) out.push(new FoundToken(values[j], at, Location.Header, loc.name));
    }
  }
  // A path without '?' has no query parameters: nothing to parse.
  if (rule.params.length > 0 && view.path.includes('?')) {
    const q = DecodedQueryParams.parse(view.path);
    for (let i = 0; i < rule.params.length; i++) {
      const v = q.first(rule.params[i]);
      if (v !== null) out.push(new FoundToken(v, 0, Location.Param, rule.params[i]));
    }
  }
  if (rule.cookies.length > 0) {
    const cookies = view.values('cookie');
    for (let i = 0; i < rule.cookies.length; i++) {
      const v = cookieValue(cookies, rule.cookies[i]);
      if (v !== null) out.push(new FoundToken(v, 0, Location.Cookie, rule.cookies[i]));
    }
  }
  return out;
}

/** exp/nbf against `nowSec` with Envoy's default 60 s skew. */
export function checkTime(jwt: Jwt, nowSec: i64): JwtStatus {
  if (jwt.nbf != 0 && jwt.nbf > nowSec + CLOCK_SKEW_SECONDS) return JwtStatus.JwtNotYetValid;
  if (jwt.exp != 0 && jwt.exp < nowSec - CLOCK_SKEW_SECONDS) return JwtStatus.JwtExpired;
  return JwtStatus.Ok;
}

/** jwt_verify_lib's audience form: without an http:// or https:// scheme and one trailing '/'. */
export function sanitizeAudience(aud: string): string {
  if (aud.length == 0) return aud;
  let s = aud;
  if (s.startsWith('http://')) s = s.substring(7);
  else if (s.startsWith('https://')) s = s.substring(8);
  if (aud.charCodeAt(aud.length - 1) == 0x2f) s = s.substring(0, s.length - 1);
  return s;
}

function audiencesAllowed(rule: JwtRule, jwt: Jwt): bool {
  if (rule.audiences.length == 0) return true;
  for (let i = 0; i < jwt.audiences.length; i++) {
    const a = sanitizeAudience(jwt.audiences[i]);
    for (let j = 0; j < rule.audiences.length; j++) if (sanitizeAudience(rule.audiences[j]) == a) return true;
  }
  return false;
}

/** Selects keys by kid and alg and checks the signature. */
export function verifyWithKeys(jwt: Jwt, keys: Jwk[], checker: SignatureChecker): JwtStatus {
  let tried = false;
  const kid = jwt.kid;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const keyKid = key.kid;
    if (kid !== null && keyKid !== null && keyKid != kid) continue;
    if (!key.fits(jwt.alg)) continue;
    tried = true;
    if (checker.check(jwt, key)) return JwtStatus.Ok;
  }
  return tried ? JwtStatus.JwtVerificationFail : JwtStatus.JwksKidAlgMismatch;
}

/** A number claim as Envoy writes it into a header: an unsigned integer, else C's "%f". */
export function claimNumberText(d: f64): string {
  if (d >= 0 && d < 18446744073709551616.0 && Math.floor(d) == d) return (<u64>d).toString();
  const neg = d < 0;
  const a = Math.abs(d);
  if (!isFinite(a)) return neg ? '-inf' : isNaN(d) ? 'nan' : 'inf';
  const whole = Math.floor(a);
  let frac = <u64>Math.round((a - whole) * 1e6);
  let w = whole;
  if (frac >= 1000000) {
    frac -= 1000000;
    w += 1;
  }
  const fracText = frac.toString();
  return (neg ? '-' : '') + (<u64>w).toString() + '.' + '000000'.substring(fracText.length) + fracText;
}

/** A claim as protobuf's JSON printer writes a Struct value: compact, numbers as doubles, object keys sorted. */
function compactJson(v: JsonValue): string {
  if (v.isString()) return quote(v.str);
  if (v.isBool()) return v.bool ? 'true' : 'false';
  if (v.isNumber()) {
    const d = v.number;
    if (Math.floor(d) == d && Math.abs(d) < 9007199254740992.0) return (<i64>d).toString();
    return d.toString();
  }
  if (v.isArray()) {
    const parts = new Array<string>();
    for (let i = 0; i < v.items.length; i++) parts.push(compactJson(v.items[i]));
    return '[' + parts.join(',') + ']';
  }
  if (v.isObject()) {
    const keys = v.keys.slice(0);
    keys.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
    const parts = new Array<string>();
    for (let i = 0; i < keys.length; i++) parts.push(quote(keys[i]) + ':' + compactJson(v.get(keys[i]) as JsonValue));
    return '{' + parts.join(',') + '}';
  }
  return 'null';
}

/**
 * outputClaimToHeaders as Envoy 1.40 writes it ('.' walks nested claims): a string as is, a number
 * as claimNumberText, a boolean as true/false, a list or object as base64 of its JSON; '' (no header)
 * when absent or empty.
 */
export function claimHeaderValue(payload: JsonValue | null, claim: string): string {
  const v = jsonAt(payload, claim.split('.'));
  if (v === null) return '';
  if (v.isString()) return v.str;
  if (v.isNumber()) return claimNumberText(v.number);
  if (v.isBool()) return v.bool ? 'true' : 'false';
  if (v.isArray() || v.isObject()) return base64Encode(String.UTF8.encode(compactJson(v)));
  return '';
}

/**
 * Verified tokens, keyed by tokenKey (a 32-bit hash of the token's end), kept until they expire.
 * Bounded. The hash is not trusted: a hit must also be the same token (sameToken against the
 * token's bytes kept with it), so a colliding token is verified like a new one. (A SHA-256 of every
 * token on every request was its cost; then an FNV-1a of all of it, and a comparison that re-encoded
 * the signature: 11k of authz's 96k instructions per cached request in Envoy.)
 */
export class CachedToken {
  /** The token as it was verified, one byte per character when `ascii` (only such a token is cached). */
  bytes: ArrayBuffer;
  ascii: bool;
  constructor(
    public jwt: Jwt,
    public rule: JwtRule,
    token: string,
  ) {
    // One byte per code unit; a code unit above 0x7f makes the entry uncacheable (see put).
    const bytes = new ArrayBuffer(token.length);
    this.ascii = storeCodeUnits(token, 0, token.length, changetype<usize>(bytes)) < 0x80;
    this.bytes = bytes;
  }
}

/** How many code units at a token's end tokenKey hashes: a signed token ends in its signature, whose bytes are random. */
const KEY_TAIL: i32 = 64;
const NO_BYTES = new ArrayBuffer(0);

/**
 * FNV-1a (32-bit) over the length and the last KEY_TAIL code units (two per step) of the token from
 * `start`: cheap and well spread over signed tokens; not collision resistant (see TokenCache). A
 * colliding token can only evict an entry by being verified itself.
 */
export function tokenKey(token: string, start: i32 = 0): u32 {
  const len = token.length - start;
  let h: u32 = (0x811c9dc5 ^ (<u32>len)) * 0x01000193;
  const p = changetype<usize>(token);
  const n = (<usize>token.length) << 1;
  let i = (<usize>(len > KEY_TAIL ? token.length - KEY_TAIL : start)) << 1;
  for (; i + 4 <= n; i += 4) h = (h ^ load<u32>(p + i)) * 0x01000193;
  if (i < n) h = (h ^ (<u32>load<u16>(p + i))) * 0x01000193;
  return h;
}

/**
 * Whether `token` (from `start`) is exactly `bytes`, one code unit per byte, compared in place without
 * allocating: four code units at a time against four bytes widened to 16 bits each.
 */
export function sameToken(bytes: ArrayBuffer, token: string, start: i32 = 0): bool {
  const n = <usize>bytes.byteLength;
  if (<usize>(token.length - start) != n) return false;
  const tp = changetype<usize>(token) + ((<usize>start) << 1);
  const bp = changetype<usize>(bytes);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    let w = <u64>load<u32>(bp + i);
    w = (w | (w << 16)) & 0x0000ffff0000ffff;
    w = (w | (w << 8)) & 0x00ff00ff00ff00ff;
    if (load<u64>(tp + (i << 1)) != w) return false;
  }
  for (; i < n; i++) if (<u32>load<u16>(tp + (i << 1)) != <u32>load<u8>(bp + i)) return false;
  return true;
}

export class TokenCache {
  private map: Map<u32, CachedToken> = new Map<u32, CachedToken>();
  hits: i64 = 0;
  constructor(public capacity: i32) {}

  get size(): i32 {
    return this.map.size;
  }

  /** The cached `token` (from `start`; key = tokenKey(token, start)) still inside its validity window, or null (expired entries are dropped). */
  get(key: u32, token: string, nowSec: i64, start: i32 = 0): CachedToken | null {
    if (!this.map.has(key)) return null;
    const entry = this.map.get(key);
    if (!sameToken(entry.bytes, token, start)) return null;
    if (checkTime(entry.jwt, nowSec) != JwtStatus.Ok) {
      this.map.delete(key);
      return null;
    }
    this.hits++;
    return entry;
  }

  put(key: u32, entry: CachedToken, nowSec: i64): void {
    // A token with a non-ASCII character (none parses as a JWT) would not compare byte for code unit.
    if (this.capacity <= 0 || !entry.ascii) return;
    if (this.map.size >= this.capacity) this.evict(nowSec);
    this.map.set(key, entry);
    // A hit compares the token's bytes: the signature and its input are not needed again.
    entry.jwt.signingInput = NO_BYTES;
    entry.jwt.signature = NO_BYTES;
  }

  /** Drops expired entries; if still full, drops everything (simple and bounded). */
  private evict(nowSec: i64): void {
    const keys = this.map.keys();
    for (let i = 0; i < keys.length; i++) {
      if (checkTime(this.map.get(keys[i]).jwt, nowSec) != JwtStatus.Ok) this.map.delete(keys[i]);
    }
    if (this.map.size >= this.capacity) this.map.clear();
  }

  clear(): void {
    this.map.clear();
  }
}

export const enum Suspend {
  None,
  NeedKeys,
  UnknownKid,
}

/** One run of the requirement tree over a request. */
export class Authentication {
  /** The payload Envoy leaves in the metadata: the last token that passed (and its rule). */
  jwt: Jwt | null = null;
  rule: JwtRule | null = null;
  /** Set when the run stopped to wait for a rule's keys: fetch, then run again. */
  suspend: Suspend = Suspend.None;
  suspendRule: i32 = -1;
  cacheHits: i32 = 0;

  constructor(
    public config: AuthzConfig,
    public view: RequestView,
    public keys: KeySource,
    public checker: SignatureChecker,
    public cache: TokenCache,
    public nowSec: i64,
    /** An unknown kid of a jwksUri rule suspends the run for one refetch. */
    public kidRefetch: bool,
  ) {}

  /** The request's status (Ok: go on, with `jwt` when a token passed); meaningless while suspended. */
  run(): JwtStatus {
    const n = this.config.jwtRules.length;
    if (n == 0) return JwtStatus.Ok;
    if (n == 1) return anyOfOne(this.provider(0));
    const statuses = new Array<JwtStatus>();
    for (let i = 0; i < n; i++) {
      const s = this.provider(i);
      if (this.suspend != Suspend.None) return s;
      if (s == JwtStatus.Ok) return s;
      statuses.push(s);
    }
    let all = JwtStatus.Ok;
    for (let i = 0; i < n && all == JwtStatus.Ok; i++) {
      const s = this.provider(i);
      if (this.suspend != Suspend.None) return s;
      all = anyOf([s], true);
    }
    if (all == JwtStatus.Ok) return all;
    statuses.push(all);
    return anyOf(statuses, false);
  }

  private provider(index: i32): JwtStatus {
    const rule = this.config.jwtRules[index];
    for (let i = 0; i < rule.outputHeaders.length; i++) this.view.remove(rule.outputHeaders[i]);
    const tokens = extractTokens(rule, this.view);
    if (tokens.length == 0) return JwtStatus.JwtMissed;
    for (let i = tokens.length - 1; i >= 0; i--) {
      const s = this.token(rule, tokens[i]);
      if (this.suspend != Suspend.None || s != JwtStatus.Ok) return s;
    }
    return JwtStatus.Ok;
  }

  private token(rule: JwtRule, found: FoundToken): JwtStatus {
    const key = tokenKey(found.value, found.start);
    const cached = this.cache.get(key, found.value, this.nowSec, found.start);
    const hit = cached !== null && cached.rule === rule;
    let jwt: Jwt;
    if (hit) {
      jwt = (cached as CachedToken).jwt;
      this.cacheHits++;
    } else {
      if (found.length > this.config.maxTokenBytes) return JwtStatus.JwtVerificationFail;
      const parsed = parseJwt(found.token);
      if (parsed.jwt === null) return parsed.status;
      jwt = parsed.jwt as Jwt;
    }
    if (rule.issuer.length > 0 && jwt.iss != rule.issuer) return JwtStatus.JwtUnknownIssuer;
    const time = checkTime(jwt, this.nowSec);
    if (time != JwtStatus.Ok) return time;
    if (!audiencesAllowed(rule, jwt)) return JwtStatus.JwtAudienceNotAllowed;
    if (!hit) {
      // No `crit` extension is understood (RFC 7515 4.1.11); Envoy ignores the header.
      if (this.config.rejectCrit && jwt.crit.length > 0) return JwtStatus.JwtVerificationFail;
      const ks = this.keys.keys(rule);
      if (ks === null) {
        if (this.keys.fetchFailed(rule)) return JwtStatus.JwksFetchFail;
        this.suspend = Suspend.NeedKeys;
        this.suspendRule = rule.index;
        return JwtStatus.JwksFetchFail;
      }
      const st = verifyWithKeys(jwt, ks as Jwk[], this.checker);
      if (st == JwtStatus.JwksKidAlgMismatch && this.kidRefetch && rule.jwksUri.length > 0) {
        this.suspend = Suspend.UnknownKid;
        this.suspendRule = rule.index;
        return st;
      }
      if (st != JwtStatus.Ok) return st;
      this.cache.put(key, new CachedToken(jwt, rule, found.token), this.nowSec);
    }
    this.accept(rule, found, jwt);
    return JwtStatus.Ok;
  }

  /** Envoy's handleGoodJwt: output headers added, the token removed unless forwarded. */
  private accept(rule: JwtRule, found: FoundToken, jwt: Jwt): void {
    if (rule.outputPayloadToHeader.length > 0) this.view.add(rule.outputPayloadToHeader, jwt.payloadB64);
    for (let i = 0; i < rule.claimToHeaders.length; i++) {
      const ch = rule.claimToHeaders[i];
      const value = claimHeaderValue(jwt.payload, ch.claim);
      if (value.length > 0) this.view.add(ch.header, value);
    }
    if (!rule.forwardOriginalToken) {
      if (found.location == Location.Header) this.view.remove(found.name);
      else if (found.location == Location.Param) {
        const q = DecodedQueryParams.parse(this.view.path);
        q.remove(found.name);
        this.view.setPath(q.replaceIn(this.view.path));
      }
      // Envoy does not remove a token from a cookie.
    }
    this.jwt = jwt;
    this.rule = rule;
  }
}

/** anyOf([status], true) without the list: one rule's requirement (allow_missing). */
function anyOfOne(status: JwtStatus): JwtStatus {
  return status == JwtStatus.JwtMissed ? JwtStatus.Ok : status;
}

/** requires_any's final status: any Ok passes; else the last error other than missing/unknown issuer. */
function anyOf(statuses: JwtStatus[], allowMissing: bool): JwtStatus {
  let final = JwtStatus.JwtMissed;
  for (let i = 0; i < statuses.length; i++) {
    const s = statuses[i];
    if (s == JwtStatus.Ok) return s;
    if ((s != JwtStatus.JwtMissed && s != JwtStatus.JwtUnknownIssuer) || final == JwtStatus.JwtMissed) final = s;
  }
  if (allowMissing && final == JwtStatus.JwtMissed) return JwtStatus.Ok;
  return final;
}

/** Envoy's bypass_cors_preflight test: OPTIONS with non-empty origin and access-control-request-method (read only for OPTIONS). */
export function isCorsPreflight(method: string, headers: HeaderReader): bool {
  if (method != 'OPTIONS') return false;
  const origin = headers.first('origin');
  const requestMethod = headers.first('access-control-request-method');
  return origin !== null && origin.length > 0 && requestMethod !== null && requestMethod.length > 0;
}
