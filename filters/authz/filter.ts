// The authz filter's proxy-wasm adapter: reads the request, runs authn (authn.ts) and policies
// (policy.ts), answers 401/403 or lets the request go on; fetches and refreshes jwksUri keys.
import {
  RootContext,
  HttpContext,
  FilterHeadersStatus,
  requestHeaders,
  configureOrFail,
  logWarn,
  logInfo,
  Counter,
  Pair,
  getPropertyString,
  getPropertyInt64,
  getPropertyBool,
  isMissingInt,
  currentTimeMilliseconds,
  httpCall,
  HttpCallHandler,
  HttpCallResponse,
  TimerHandler,
  setTimer,
  setEffectiveContext,
  httpContext,
  setProperty,
  getSharedData,
  setSharedData,
  WasmResult,
} from '../../assembly/proxy';
import { Jwk, Jwt, JwtStatus, jwtStatusString, parseJwks } from '../../assembly/lib/jwt';
import { JsonValue } from '../../assembly/lib/json';
import { AuthzConfig, JwtRule, parseAuthzConfig } from './config';
import { Authentication, HeaderReader, KeySource, RequestView, Suspend, TokenCache, isCorsPreflight } from './authn';
import { AuthInfo, Decision, RequestInfo, evaluate } from './policy';
import { stripPort } from './match';
import { pemCertificate, subjectAltNames } from '../../assembly/lib/x509';
import { JWT_PAYLOAD_STATE, REQUEST_PRINCIPAL_STATE } from '../../assembly/lib/contracts';
import { HostSignatureChecker } from './verify';

const TOKEN_CACHE_SIZE: i32 = 1024;
/**
 * JWKS fetched from a jwksUri are shared by all VMs of the plugin (Envoy runs one per worker
 * thread, plus the main thread's) through proxy-wasm shared data, which Envoy keeps per vm_id:
 * key `asmesh.authz.jwks.v1 <jwksUri>` (v1: the layout; a new layout takes a new key), value = u64 LE fetch time (ms, 0 = never) + u64 LE lease
 * (ms when a VM started fetching, 0 = nobody) + u64 LE time of the last failed fetch (0 = none) + the
 * JWKS body as fetched (already validated). A failed fetch holds the other VMs off until its retry time.
 * A VM about to fetch first looks there: fresher keys than its own are used without fetching; a
 * live lease means another VM is fetching (poll until it publishes); else it takes the lease by
 * CAS (one VM wins, the others see the lease) and fetches. A lease older than the fetch timeout
 * plus LEASE_MARGIN_MS is stale (the VM holding it went away) and may be taken.
 */
export const SHARED_JWKS_PREFIX = 'asmesh.authz.jwks.v1 ';
const LEASE_MARGIN_MS: u64 = 1000;
const POLL_MS: u32 = 100;
const SHARED_HEADER: i32 = 24;

class SharedJwks {
  constructor(
    public fetchedMs: u64,
    public leaseMs: u64,
    public failedMs: u64,
    public body: ArrayBuffer,
    public cas: u32,
  ) {}
}

function readSharedJwks(key: string): SharedJwks | null {
  const v = getSharedData(key);
  if (v === null) return null;
  const buf = v.value;
  if (buf.byteLength < SHARED_HEADER) return new SharedJwks(0, 0, 0, new ArrayBuffer(0), v.cas);
  const p = changetype<usize>(buf);
  return new SharedJwks(load<u64>(p), load<u64>(p + 8), load<u64>(p + 16), buf.slice(SHARED_HEADER), v.cas);
}

function encodeSharedJwks(fetchedMs: u64, leaseMs: u64, failedMs: u64, body: ArrayBuffer): ArrayBuffer {
  const out = new ArrayBuffer(SHARED_HEADER + body.byteLength);
  const p = changetype<usize>(out);
  store<u64>(p, fetchedMs);
  store<u64>(p + 8, leaseMs);
  store<u64>(p + 16, failedMs);
  memory.copy(p + <usize>SHARED_HEADER, changetype<usize>(body), <usize>body.byteLength);
  return out;
}

/** Per-rule state of keys fetched from jwksUri. */
class JwksState {
  keys: Jwk[] | null = null;
  fetching: bool = false;
  /** Waiting for another VM's fetch (polling shared data). */
  polling: bool = false;
  /** When the keys we hold were last fetched (by us or another VM), or our fetch started. */
  lastFetchMs: u64 = 0;
  everFetched: bool = false;
  /** Fetch time (shared data) of the keys we hold; 0 = none from shared data. */
  sharedMs: u64 = 0;
  /** The lease we took for our running fetch (0 = none). */
  leaseMs: u64 = 0;
  sharedKey: string;
  /** Only the newest scheduled timer fetches; older ones are stale. */
  timerGen: i32 = 0;
  /** Streams waiting for this fetch. */
  waiting: u32[] = [];
  constructor(public rule: JwtRule) {
    this.sharedKey = SHARED_JWKS_PREFIX + rule.jwksUri;
  }
}

/** The keys a request sees: the root's, and the rules whose fetch it waited for in vain. */
class RequestKeys extends KeySource {
  constructor(
    public root: AuthzRoot,
    public failed: i32[],
  ) {
    super();
  }
  keys(rule: JwtRule): Jwk[] | null {
    if (rule.inlineKeys !== null) return rule.inlineKeys;
    return this.root.jwks[rule.index].keys;
  }
  fetchFailed(rule: JwtRule): bool {
    return this.failed.includes(rule.index);
  }
}

/** The request headers as the filter got them: every entry, read once (one host call). */
class HeaderSnapshot extends HeaderReader {
  names: string[] = [];
  values_: string[] = [];
  constructor(pairs: Pair[]) {
    super();
    for (let i = 0; i < pairs.length; i++) {
      this.names.push(pairs[i].keyString);
      this.values_.push(pairs[i].valueString);
    }
  }
  values(name: string): string[] {
    const out = new Array<string>();
    for (let i = 0; i < this.names.length; i++) if (this.names[i] == name) out.push(this.values_[i]);
    return out;
  }
  first(name: string): string | null {
    const i = this.names.indexOf(name);
    return i < 0 ? null : this.values_[i];
  }
}

/** jwt_authn's www-authenticate realm takes at most this much of the path. */
const REALM_MAX_PATH: i32 = 256;

class JwksResponse extends HttpCallHandler {
  constructor(
    public root: AuthzRoot,
    public index: i32,
  ) {
    super();
  }
  onResponse(response: HttpCallResponse): void {
    this.root.onJwks(this.index, response);
  }
}

class JwksTimer extends TimerHandler {
  constructor(
    public root: AuthzRoot,
    public index: i32,
    public gen: i32,
  ) {
    super();
  }
  onTimer(): void {
    if (this.root.jwks[this.index].timerGen == this.gen) this.root.fetchJwks(this.index, false);
  }
}

export class AuthzRoot extends RootContext {
  config: AuthzConfig | null = null;
  jwks: JwksState[] = [];
  checker: HostSignatureChecker = new HostSignatureChecker();
  cache: TokenCache = new TokenCache(TOKEN_CACHE_SIZE);
  allowed: Counter | null = null;
  denied: Counter | null = null;
  unauthenticated: Counter | null = null;
  jwksFetches: Counter | null = null;
  jwksFailures: Counter | null = null;
  jwksShared: Counter | null = null;
  cacheHits: Counter | null = null;

  onConfigure(configurationSize: u32): bool {
    const parsed = configureOrFail<AuthzConfig>('authz', configurationSize, parseAuthzConfig);
    if (parsed === null) return false;
    const config = parsed as AuthzConfig;
    this.config = config;
    this.jwks = [];
    for (let i = 0; i < config.jwtRules.length; i++) {
      const rule = config.jwtRules[i];
      this.jwks.push(new JwksState(rule));
      for (let j = 0; j < rule.inlineSkipped.length; j++)
        logWarn('authz: jwks of issuer ' + rule.issuer + ': dropped ' + rule.inlineSkipped[j]);
    }
    this.allowed = new Counter('asmesh_authz_allowed_total');
    this.denied = new Counter('asmesh_authz_denied_total');
    this.unauthenticated = new Counter('asmesh_authz_unauthenticated_total');
    this.jwksFetches = new Counter('asmesh_authz_jwks_fetches_total');
    this.jwksFailures = new Counter('asmesh_authz_jwks_fetch_failures_total');
    this.jwksShared = new Counter('asmesh_authz_jwks_shared_updates_total');
    this.cacheHits = new Counter('asmesh_authz_jwt_cache_hits_total');
    // Fetch remote keys right away (from the first tick: clusters are ready by then).
    for (let i = 0; i < config.jwtRules.length; i++) {
      if (config.jwtRules[i].jwksUri.length > 0) this.schedule(i, 0);
    }
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new AuthzHttp(contextId, this);
  }

  schedule(index: i32, delayMs: u32): void {
    const st = this.jwks[index];
    st.timerGen++;
    setTimer(delayMs, new JwksTimer(this, index, st.timerGen));
  }

  /**
   * Brings rule `index`'s keys up to date: from shared data when another VM fetched fresher keys,
   * else by waiting for another VM's running fetch, else by fetching (taking the shared lease).
   * `force` (an unknown kid, or no keys yet): fetch even when the shared keys are within their
   * refresh period (the caller rate-limits). Waiting streams are resumed once keys are settled.
   */
  fetchJwks(index: i32, force: bool): void {
    const st = this.jwks[index];
    if (st.fetching) return;
    st.polling = false;
    const rule = st.rule;
    let shared = true;
    for (let attempt = 0; attempt < 4; attempt++) {
      const now = currentTimeMilliseconds();
      let s = readSharedJwks(st.sharedKey);
      if (s === null) {
        // First use: create the entry, so that every later write is a CAS.
        setSharedData(st.sharedKey, encodeSharedJwks(0, 0, 0, new ArrayBuffer(0)), 0);
        s = readSharedJwks(st.sharedKey);
        if (s === null) {
          shared = false;
          break;
        } // a host without shared data: fetch alone
      }
      const sj = s as SharedJwks;
      const fresh = sj.fetchedMs != 0 && now < sj.fetchedMs + <u64>rule.jwksRefreshMs;
      if (this.adoptShared(index, sj) && (force || fresh)) {
        this.schedule(index, fresh ? <u32>(sj.fetchedMs + <u64>rule.jwksRefreshMs - now) : rule.jwksRefreshMs);
        this.resumeWaiting(index);
        return;
      }
      if (!force && fresh && st.sharedMs == sj.fetchedMs) {
        // Our keys are the shared, fresh ones: refresh when they age.
        this.schedule(index, <u32>(sj.fetchedMs + <u64>rule.jwksRefreshMs - now));
        this.resumeWaiting(index);
        return;
      }
      this.noteSharedFailure(index, sj);
      if (!force && sj.failedMs > sj.fetchedMs && now < sj.failedMs + <u64>rule.jwksRetryMs) {
        // Another VM's fetch just failed: retry when it would (not once per VM).
        this.schedule(index, <u32>(sj.failedMs + <u64>rule.jwksRetryMs - now));
        this.resumeWaiting(index);
        return;
      }
      if (sj.leaseMs != 0 && now < sj.leaseMs + <u64>rule.jwksTimeoutMs + LEASE_MARGIN_MS) {
        // Another VM is fetching: look again shortly, and use what it publishes.
        st.polling = true;
        this.schedule(index, POLL_MS);
        return;
      }
      const lease = now == 0 ? <u64>1 : now;
      if (setSharedData(st.sharedKey, encodeSharedJwks(sj.fetchedMs, lease, sj.failedMs, sj.body), sj.cas) == WasmResult.Ok) {
        st.leaseMs = lease;
        break;
      }
      // CAS mismatch: another VM wrote in between; read again.
      if (attempt == 3) {
        st.polling = true;
        this.schedule(index, POLL_MS);
        return;
      }
    }
    if (!shared) st.leaseMs = 0;
    const headers: Pair[] = [
      Pair.fromStrings(':method', 'GET'),
      Pair.fromStrings(':path', rule.jwksPath),
      Pair.fromStrings(':authority', rule.jwksAuthority),
      Pair.fromStrings('accept', 'application/json'),
    ];
    st.lastFetchMs = currentTimeMilliseconds();
    (this.jwksFetches as Counter).increment(1);
    const token = httpCall(rule.jwksCluster, headers, new ArrayBuffer(0), [], rule.jwksTimeoutMs, new JwksResponse(this, index));
    if (token == u32.MAX_VALUE) {
      logWarn('authz: jwks ' + rule.jwksUri + ': cannot call cluster ' + rule.jwksCluster);
      this.releaseLease(index);
      this.jwksDone(index, false);
      return;
    }
    st.fetching = true;
  }

  /** A failed fetch of another VM counts as our own last try (retry and kid refetch limits). */
  noteSharedFailure(index: i32, s: SharedJwks): void {
    const st = this.jwks[index];
    if (s.failedMs > s.fetchedMs && s.failedMs > st.lastFetchMs) st.lastFetchMs = s.failedMs;
  }

  /** Has another VM published newer keys than ours, or is one fetching now? */
  sharedNews(index: i32): bool {
    const st = this.jwks[index];
    const s = readSharedJwks(st.sharedKey);
    if (s === null) return false;
    if (s.fetchedMs > st.sharedMs) return true;
    return s.leaseMs != 0 && currentTimeMilliseconds() < s.leaseMs + <u64>st.rule.jwksTimeoutMs + LEASE_MARGIN_MS;
  }

  /** Takes the shared keys when they are newer than ours; true if it did. */
  adoptShared(index: i32, s: SharedJwks): bool {
    const st = this.jwks[index];
    if (s.fetchedMs == 0 || s.fetchedMs <= st.sharedMs || s.body.byteLength == 0) return false;
    const parsed = parseJwks(s.body);
    if (parsed.status != JwtStatus.Ok) return false;
    st.keys = parsed.keys;
    st.sharedMs = s.fetchedMs;
    st.lastFetchMs = s.fetchedMs;
    st.everFetched = true;
    (this.jwksShared as Counter).increment(1);
    logInfo('authz: jwks ' + st.rule.jwksUri + ': ' + parsed.keys.length.toString() + ' keys from shared data');
    return true;
  }

  /**
   * Publishes keys we fetched, by CAS (read, then write unless another VM wrote in between), with a
   * fetch time newer than any published: the other VMs take them at their next look.
   */
  publish(index: i32, body: ArrayBuffer): void {
    const st = this.jwks[index];
    for (let attempt = 0; attempt < 4; attempt++) {
      const s = readSharedJwks(st.sharedKey);
      if (s === null) break;
      const now = currentTimeMilliseconds();
      const fetched = now <= s.fetchedMs ? s.fetchedMs + 1 : now;
      // Our lease ends here; one another VM took over (ours had gone stale) stays.
      const lease = s.leaseMs == st.leaseMs ? <u64>0 : s.leaseMs;
      if (setSharedData(st.sharedKey, encodeSharedJwks(fetched, lease, 0, body), s.cas) == WasmResult.Ok) {
        st.sharedMs = fetched;
        break;
      }
    }
    st.leaseMs = 0;
  }

  /** After a failed fetch: frees our lease so that another VM (or our retry) may fetch. */
  releaseLease(index: i32): void {
    const st = this.jwks[index];
    if (st.leaseMs == 0) return;
    for (let attempt = 0; attempt < 4; attempt++) {
      const s = readSharedJwks(st.sharedKey);
      if (s === null || s.leaseMs != st.leaseMs) break;
      const failed = currentTimeMilliseconds();
      if (setSharedData(st.sharedKey, encodeSharedJwks(s.fetchedMs, 0, failed == 0 ? 1 : failed, s.body), s.cas) == WasmResult.Ok) break;
    }
    st.leaseMs = 0;
  }

  onJwks(index: i32, response: HttpCallResponse): void {
    const st = this.jwks[index];
    st.fetching = false;
    let ok = false;
    if (response.failed) {
      logWarn('authz: jwks ' + st.rule.jwksUri + ': fetch failed');
    } else if (response.status() != 200) {
      logWarn('authz: jwks ' + st.rule.jwksUri + ': status ' + response.status().toString());
    } else {
      const body = response.body();
      const parsed = parseJwks(body);
      for (let i = 0; i < parsed.skipped.length; i++) logWarn('authz: jwks ' + st.rule.jwksUri + ': dropped ' + parsed.skipped[i]);
      if (parsed.status != JwtStatus.Ok) {
        logWarn('authz: jwks ' + st.rule.jwksUri + ': ' + jwtStatusString(parsed.status));
      } else {
        st.keys = parsed.keys;
        st.everFetched = true;
        ok = true;
        logInfo('authz: jwks ' + st.rule.jwksUri + ': ' + parsed.keys.length.toString() + ' keys');
        this.publish(index, body);
      }
    }
    if (!ok) this.releaseLease(index);
    this.jwksDone(index, ok);
  }

  /** After a fetch: schedule the next one, then resume the streams that waited. */
  jwksDone(index: i32, ok: bool): void {
    const st = this.jwks[index];
    if (!ok) (this.jwksFailures as Counter).increment(1);
    this.schedule(index, ok ? st.rule.jwksRefreshMs : st.rule.jwksRetryMs);
    this.resumeWaiting(index);
  }

  resumeWaiting(index: i32): void {
    const st = this.jwks[index];
    const waiting = st.waiting;
    st.waiting = [];
    for (let i = 0; i < waiting.length; i++) {
      const ctx = httpContext(waiting[i]);
      if (ctx === null) continue;
      setEffectiveContext(waiting[i]);
      changetype<AuthzHttp>(ctx).resume();
    }
  }
}

function wwwAuthenticate(h: HeaderSnapshot): string {
  let scheme = h.first('x-forwarded-proto');
  if (scheme === null) scheme = h.first(':scheme');
  if (scheme === null) scheme = 'http';
  const host = h.first(':authority');
  let path = h.first(':path');
  if (path !== null && path.length > REALM_MAX_PATH) path = path.substring(0, REALM_MAX_PATH);
  return (
    'Bearer realm="' + (scheme as string) + '://' + (host === null ? '' : host) + (path === null ? '' : path) + '", error="invalid_token"'
  );
}

export class AuthzHttp extends HttpContext {
  headers: HeaderSnapshot | null = null;
  /** One JWKS refresh per request for an unknown kid. */
  refetched: bool = false;
  /** Rules whose key fetch this request waited for and that failed. */
  failedRules: i32[] = [];

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    this.headers = new HeaderSnapshot(requestHeaders.pairs());
    return this.decide();
  }

  /** Called with this context effective after a JWKS fetch it waited for. */
  resume(): void {
    if (this.decide() == FilterHeadersStatus.Continue) this.resumeRequest();
  }

  private decide(): FilterHeadersStatus {
    const root = changetype<AuthzRoot>(this.root);
    const config = root.config as AuthzConfig;
    const h = this.headers as HeaderSnapshot;
    const path = h.first(':path');
    const view = new RequestView(h, path === null ? '' : path);
    let auth: AuthInfo | null = null;
    if (config.jwtRules.length > 0) {
      // Envoy's jwt_authn removes every provider's output headers (outputPayloadToHeader,
      // outputClaimToHeaders) first, whatever happens next: a client cannot send them.
      for (let i = 0; i < config.jwtRules.length; i++) {
        const out = config.jwtRules[i].outputHeaders;
        for (let j = 0; j < out.length; j++) view.remove(out[j]);
      }
      const method = h.first(':method');
      if (isCorsPreflight(method === null ? '' : method, h.first('origin'), h.first('access-control-request-method'))) {
        // Istio sets bypass_cors_preflight: no token is checked.
      } else {
        const nowSec = <i64>(currentTimeMilliseconds() / 1000);
        const run = new Authentication(
          config,
          view,
          new RequestKeys(root, this.failedRules),
          root.checker,
          root.cache,
          nowSec,
          !this.refetched,
        );
        const status = run.run();
        if (run.cacheHits > 0) (root.cacheHits as Counter).increment(run.cacheHits);
        if (run.suspend == Suspend.NeedKeys) return this.waitForKeys(root, run.suspendRule, false);
        if (run.suspend == Suspend.UnknownKid) return this.waitForKeys(root, run.suspendRule, true);
        if (status != JwtStatus.Ok) return this.rejectJwt(root, status);
        const jwt = run.jwt;
        if (jwt !== null) {
          // Filter state for later filters (any VM, also in on_log): Envoy keeps a one-segment property as `wasm.<key>`.
          setProperty([JWT_PAYLOAD_STATE], jwt.payloadBytes);
          setProperty([REQUEST_PRINCIPAL_STATE], String.UTF8.encode(jwt.iss + '/' + jwt.sub));
          auth = new AuthInfo(jwt.payload as JsonValue, (run.rule as JwtRule).spaceDelimitedClaims);
        }
      }
      this.apply(view);
    }
    if (config.policies.length == 0) {
      (root.allowed as Counter).increment(1);
      return FilterHeadersStatus.Continue;
    }
    const req = this.requestInfo(config, h, view);
    req.auth = auth;
    if (req.peerIds === null) logWarn('authz: the peer certificate cannot be read: request denied');
    const decision: Decision = evaluate(config.policies, req);
    for (let i = 0; i < decision.audited.length; i++) logInfo('authz: audit policy ' + decision.audited[i] + ' matched');
    if (!decision.allowed) {
      (root.denied as Counter).increment(1);
      this.sendLocalResponse(
        403,
        'rbac_access_denied_matched_policy[' + (decision.policy.length ? decision.policy : 'none') + ']',
        'RBAC: access denied',
        [Pair.fromStrings('content-type', 'text/plain')],
      );
      return FilterHeadersStatus.StopIteration;
    }
    (root.allowed as Counter).increment(1);
    return FilterHeadersStatus.Continue;
  }

  /** Writes jwt_authn's header changes to the request. */
  private apply(view: RequestView): void {
    for (let i = 0; i < view.names.length; i++) {
      if (!view.changed[i]) continue;
      const name = view.names[i];
      requestHeaders.remove(name);
      const values = view.current[i];
      for (let j = 0; j < values.length; j++) requestHeaders.add(name, values[j]);
    }
    if (view.pathChanged) requestHeaders.replace(':path', view.path);
  }

  /**
   * Waits for rule `index`'s keys (none yet, or `forKid`: an unknown kid, at most one refresh per
   * request and rate-limited per rule), then decides again. When no fetch will come, decides now:
   * without keys the token fails with `Jwks remote fetch is failed`, with an unknown kid as is.
   */
  private waitForKeys(root: AuthzRoot, index: i32, forKid: bool): FilterHeadersStatus {
    const st = root.jwks[index];
    const rule = st.rule;
    if (forKid) {
      this.refetched = true;
      // (Keys another VM fetched since, or is fetching now, are waited for / used below.)
      if (!(st.fetching || st.polling || currentTimeMilliseconds() - st.lastFetchMs >= <u64>rule.kidRefetchMs || root.sharedNews(index))) {
        return this.decide();
      }
    }
    let pending = st.fetching || st.polling;
    if (!pending) {
      // Another VM of the plugin may have fetched newer keys: use them without fetching.
      const s = readSharedJwks(st.sharedKey);
      if (s !== null && root.adoptShared(index, s)) return this.decide();
      if (s !== null) root.noteSharedFailure(index, s);
      if (s !== null && s.leaseMs != 0 && currentTimeMilliseconds() < s.leaseMs + <u64>rule.jwksTimeoutMs + LEASE_MARGIN_MS) {
        // Another VM is fetching right now (e.g. its refresh, just before ours): wait for its keys.
        st.polling = true;
        root.schedule(index, POLL_MS);
        pending = true;
      }
    }
    // Keys never arrived and the last try failed recently: fail now rather than wait.
    if (
      !pending &&
      st.everFetched == false &&
      st.lastFetchMs != 0 &&
      currentTimeMilliseconds() - st.lastFetchMs < <u64>rule.jwksRetryMs &&
      st.keys === null
    ) {
      return this.failKeys(index);
    }
    if (!pending && st.keys !== null && currentTimeMilliseconds() - st.lastFetchMs < <u64>rule.kidRefetchMs) {
      return this.decide();
    }
    if (!pending) {
      // Not in `waiting` yet, so nothing fetchJwks settles right away resumes this stream.
      const before = st.sharedMs;
      root.fetchJwks(index, true);
      pending = st.fetching || st.polling;
      if (!pending) {
        if (st.sharedMs != before) return this.decide(); // newer shared keys arrived meanwhile
        // The call could not start.
        return st.keys === null ? this.failKeys(index) : this.decide();
      }
    }
    st.waiting.push(this.contextId);
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  private failKeys(index: i32): FilterHeadersStatus {
    if (!this.failedRules.includes(index)) this.failedRules.push(index);
    return this.decide();
  }

  /** jwt_authn's reply: 403 for a disallowed audience, else 401, with Envoy's status text. */
  private rejectJwt(root: AuthzRoot, status: JwtStatus): FilterHeadersStatus {
    (root.unauthenticated as Counter).increment(1);
    const code: u32 = status == JwtStatus.JwtAudienceNotAllowed ? 403 : 401;
    this.sendLocalResponse(code, 'jwt_authn_access_denied{' + jwtStatusString(status).replaceAll(' ', '_') + '}', jwtStatusString(status), [
      Pair.fromStrings('www-authenticate', wwwAuthenticate(this.headers as HeaderSnapshot)),
      Pair.fromStrings('content-type', 'text/plain'),
    ]);
    return FilterHeadersStatus.StopIteration;
  }

  private requestInfo(config: AuthzConfig, h: HeaderSnapshot, view: RequestView): RequestInfo {
    const req = new RequestInfo();
    const m = h.first(':method');
    const h2 = h.first(':authority');
    req.method = m === null ? '' : m;
    req.path = view.path;
    req.host = h2 === null ? '' : h2;
    if (config.needsHeaders) {
      // The headers as rbac sees them: after jwt_authn's changes, each entry on its own.
      for (let i = 0; i < h.names.length; i++) {
        const k = h.names[i];
        const slot = view.names.indexOf(k);
        if (slot >= 0 && view.changed[slot]) continue;
        req.addHeader(k, k == ':path' ? view.path : h.values_[i]);
      }
      for (let i = 0; i < view.names.length; i++) {
        if (!view.changed[i]) continue;
        const values = view.current[i];
        for (let j = 0; j < values.length; j++) req.addHeader(view.names[i], values[j]);
      }
    }
    if (config.needsSourceIp) {
      // source.address is the HCM's client address: the connection's, or (port 0) the one Envoy took from
      // x-forwarded-for (use_remote_address: false, as Istio's inbound), when the connection's is not visible.
      const src = getPropertyString(['source', 'address']);
      if (src !== null) req.remoteIp = stripPort(src);
      const port = getPropertyInt64(['source', 'port']);
      if (src !== null && !isMissingInt(port) && port == 0) req.sourceIpUnknown = true;
      else req.sourceIp = req.remoteIp;
    }
    if (config.needsDestIp) {
      const dst = getPropertyString(['destination', 'address']);
      if (dst !== null) req.destIp = stripPort(dst);
    }
    if (config.needsDestPort) {
      const port = getPropertyInt64(['destination', 'port']);
      if (!isMissingInt(port)) req.destPort = <i32>port;
    }
    if (config.needsSni) {
      const sni = getPropertyString(['connection', 'requested_server_name']);
      req.sni = sni === null ? '' : sni;
    }
    if (config.needsPeer) req.peerIds = this.peerIds();
    return req;
  }

  /**
   * What rbac's `authenticated` principal tries: every URI SAN, every DNS SAN, then the subject. Envoy's
   * `*_san_peer_certificate` attributes give only the first of each, so the SANs come from the peer's
   * certificate itself; null (the request is denied) when a client certificate was presented but cannot be read.
   */
  private peerIds(): string[] | null {
    const pem = getPropertyString(['connection', 'peer_certificate']);
    if (pem === null || pem.length == 0) return getPropertyBool(['connection', 'mtls']) ? null : [];
    const der = pemCertificate(pem);
    if (der === null) return null;
    const sans = subjectAltNames(der);
    if (sans === null) return null;
    const ids = sans.uris.concat(sans.dns);
    const subject = getPropertyString(['connection', 'subject_peer_certificate']);
    ids.push(subject === null ? '' : subject);
    return ids;
  }
}
