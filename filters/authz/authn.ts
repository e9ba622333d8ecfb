// JWT authentication as Envoy jwt_authn does it for Istio's RequestAuthentication:
// extract → parse → issuer → time (60 s skew) → audiences → key by kid/alg → signature.
// Pure: keys and signature checks come through the abstract classes below.
import { Jwk, Jwt, JwtStatus, parseJwt, MAX_TOKEN_BYTES } from '../../assembly/lib/jwt';
import { JwtRule } from './config';

export const CLOCK_SKEW_SECONDS: i64 = 60;

/** Checks a signature with one key (Envoy's verify_signature or our own crypto). */
export abstract class SignatureChecker {
  abstract check(jwt: Jwt, key: Jwk): bool;
}

/** The current keys of a rule; null when they are not known yet (jwksUri not fetched). */
export abstract class KeySource {
  abstract keys(rule: JwtRule): Jwk[] | null;
}

/** Where a token was found. */
export class FoundToken {
  constructor(
    public token: string,
    /** Lower-case header name, or '' when it came from a query parameter. */
    public header: string,
    public param: string,
    /** Rules that read this location (Envoy: the issuers allowed for it). */
    public rules: JwtRule[],
  ) {}
}

export const enum Outcome { Verified, Failed, NeedKeys }

export class AuthnResult {
  rule: JwtRule | null = null;
  jwt: Jwt | null = null;
  constructor(public outcome: Outcome, public status: JwtStatus) {}
}

function hasPrefixIgnoreCase(s: string, prefix: string): bool {
  if (s.length < prefix.length) return false;
  return s.substring(0, prefix.length).toLowerCase() == prefix.toLowerCase();
}

/** Query parameter `name` of a path, or null. */
export function queryParam(path: string, name: string): string | null {
  const q = path.indexOf('?');
  if (q < 0) return null;
  let end = path.indexOf('#', q);
  if (end < 0) end = path.length;
  let i = q + 1;
  while (i < end) {
    let amp = path.indexOf('&', i);
    if (amp < 0 || amp > end) amp = end;
    const eq = path.indexOf('=', i);
    if (eq > i && eq < amp && path.substring(i, eq) == name) return path.substring(eq + 1, amp);
    i = amp + 1;
  }
  return null;
}

/** Interface to request headers so extraction stays pure. */
export abstract class HeaderSource {
  abstract get(name: string): string | null;
}

/** The first token found, looking at every rule's locations in order. */
export function extractToken(rules: JwtRule[], headers: HeaderSource, path: string): FoundToken | null {
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    for (let j = 0; j < r.headers.length; j++) {
      const loc = r.headers[j];
      const value = headers.get(loc.name);
      if (value === null) continue;
      let token = value;
      if (loc.prefix.length > 0) {
        if (!hasPrefixIgnoreCase(value, loc.prefix)) continue;
        token = value.substring(loc.prefix.length);
      }
      token = token.trim();
      if (token.length == 0) continue;
      return new FoundToken(token, loc.name, '', rulesReadingHeader(rules, loc.name, loc.prefix));
    }
    for (let j = 0; j < r.params.length; j++) {
      const value = queryParam(path, r.params[j]);
      if (value === null || value.length == 0) continue;
      return new FoundToken(value, '', r.params[j], rulesReadingParam(rules, r.params[j]));
    }
  }
  return null;
}

function rulesReadingHeader(rules: JwtRule[], name: string, prefix: string): JwtRule[] {
  const out = new Array<JwtRule>();
  for (let i = 0; i < rules.length; i++) {
    for (let j = 0; j < rules[i].headers.length; j++) {
      const h = rules[i].headers[j];
      if (h.name == name && h.prefix.toLowerCase() == prefix.toLowerCase()) { out.push(rules[i]); break; }
    }
  }
  return out;
}

function rulesReadingParam(rules: JwtRule[], param: string): JwtRule[] {
  const out = new Array<JwtRule>();
  for (let i = 0; i < rules.length; i++) if (rules[i].params.includes(param)) out.push(rules[i]);
  return out;
}

/** exp/nbf against `nowSec` with Envoy's default 60 s skew. */
export function checkTime(jwt: Jwt, nowSec: i64): JwtStatus {
  if (jwt.nbf != 0 && jwt.nbf > nowSec + CLOCK_SKEW_SECONDS) return JwtStatus.JwtNotYetValid;
  if (jwt.exp != 0 && jwt.exp < nowSec - CLOCK_SKEW_SECONDS) return JwtStatus.JwtExpired;
  return JwtStatus.Ok;
}

function audiencesAllowed(rule: JwtRule, jwt: Jwt): bool {
  if (rule.audiences.length == 0) return true;
  for (let i = 0; i < jwt.audiences.length; i++) {
    if (rule.audiences.includes(jwt.audiences[i])) return true;
  }
  return false;
}

/** Parses and checks everything but the keys: the rule that applies, or a failure. */
export function precheck(found: FoundToken, nowSec: i64): AuthnResult {
  if (found.token.length > MAX_TOKEN_BYTES) return new AuthnResult(Outcome.Failed, JwtStatus.JwtVerificationFail);
  const parsed = parseJwt(found.token);
  if (parsed.jwt === null) return new AuthnResult(Outcome.Failed, parsed.status);
  const jwt = parsed.jwt as Jwt;
  let rule: JwtRule | null = null;
  for (let i = 0; i < found.rules.length && rule === null; i++) {
    if (found.rules[i].issuer == jwt.iss) rule = found.rules[i];
  }
  const result = new AuthnResult(Outcome.Failed, JwtStatus.JwtUnknownIssuer);
  result.jwt = jwt;
  if (rule === null) return result;
  result.rule = rule;
  const time = checkTime(jwt, nowSec);
  if (time != JwtStatus.Ok) { result.status = time; return result; }
  if (!audiencesAllowed(rule as JwtRule, jwt)) { result.status = JwtStatus.JwtAudienceNotAllowed; return result; }
  // No `crit` extension is understood (RFC 7515 4.1.11): the token cannot be accepted.
  if (jwt.crit.length > 0) { result.status = JwtStatus.JwtVerificationFail; return result; }
  result.outcome = Outcome.Verified;
  result.status = JwtStatus.Ok;
  return result;
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

/** Full verification. NeedKeys: the rule's keys are not known yet; fetch them and call again. */
export function authenticate(found: FoundToken, nowSec: i64, keys: KeySource, checker: SignatureChecker): AuthnResult {
  const pre = precheck(found, nowSec);
  if (pre.outcome != Outcome.Verified) return pre;
  const rule = pre.rule as JwtRule;
  const jwt = pre.jwt as Jwt;
  const ks = keys.keys(rule);
  if (ks === null) { pre.outcome = Outcome.NeedKeys; pre.status = JwtStatus.JwksFetchFail; return pre; }
  const status = verifyWithKeys(jwt, ks as Jwk[], checker);
  if (status != JwtStatus.Ok) { pre.outcome = Outcome.Failed; pre.status = status; }
  return pre;
}

/** Verified tokens, keyed by a hash of the token, kept until they expire. Bounded. */
export class CachedToken {
  constructor(public jwt: Jwt, public rule: JwtRule) {}
}

export class TokenCache {
  private map: Map<string, CachedToken> = new Map<string, CachedToken>();
  hits: i64 = 0;
  constructor(public capacity: i32) {}

  get size(): i32 { return this.map.size; }

  /** A cached token still inside its validity window, or null (expired entries are dropped). */
  get(key: string, nowSec: i64): CachedToken | null {
    if (!this.map.has(key)) return null;
    const entry = this.map.get(key);
    if (checkTime(entry.jwt, nowSec) != JwtStatus.Ok) {
      this.map.delete(key);
      return null;
    }
    this.hits++;
    return entry;
  }

  put(key: string, entry: CachedToken, nowSec: i64): void {
    if (this.capacity <= 0) return;
    if (this.map.size >= this.capacity) this.evict(nowSec);
    this.map.set(key, entry);
  }

  /** Drops expired entries; if still full, drops everything (simple and bounded). */
  private evict(nowSec: i64): void {
    const keys = this.map.keys();
    for (let i = 0; i < keys.length; i++) {
      if (checkTime(this.map.get(keys[i]).jwt, nowSec) != JwtStatus.Ok) this.map.delete(keys[i]);
    }
    if (this.map.size >= this.capacity) this.map.clear();
  }

  clear(): void { this.map.clear(); }
}
