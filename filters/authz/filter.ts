// The authz filter's proxy-wasm adapter: reads the request, runs authn (authn.ts) and policies
// (policy.ts), answers 401/403 or lets the request go on; gives the JWKS protocol (jwks.ts) its host calls.
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
  currentTimeMilliseconds,
  httpCall,
  HttpCallHandler,
  HttpCallResponse,
  TimerHandler,
  setTimer,
  setEffectiveContext,
  httpContextOf,
  Property,
  getSharedData,
  setSharedData,
  WasmResult,
  PairsIndex,
} from '../../assembly/proxy';
import { Jwk, JwtStatus, jwtStatusString } from '../../assembly/lib/jwt';
import { JsonValue } from '../../assembly/lib/json';
import { AuthzConfig, JwtRule, parseAuthzConfig } from './config';
import { Authentication, HeaderReader, KeySource, RequestView, Suspend, TokenCache, isCorsPreflight } from './authn';
import { AuthInfo, Decision, RequestInfo, evaluate } from './policy';
import { readConnection } from './connection';
import { JWT_PAYLOAD_STATE } from '../../assembly/lib/contracts';
import { HostSignatureChecker } from './verify';
import { Clock, Fetcher, JwksEvent, JwksEvents, KeyWait, RemoteJwks, SharedData, SharedEntry } from './jwks';

const TOKEN_CACHE_SIZE: i32 = 1024;
// Written on every authenticated request: the path encoded once.
const JWT_PAYLOAD = new Property([JWT_PAYLOAD_STATE]);
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
    return this.root.remote.keys(rule.index);
  }
  fetchFailed(rule: JwtRule): bool {
    return this.failed.includes(rule.index);
  }
}

/**
 * The request headers as the filter got them: the map read once (one host call) and looked up in
 * place; only the values asked for are decoded. A map the SDK cannot read is read as empty: no
 * token (a policy that needs one denies) and no headers for rbac (fail closed).
 */
class HeaderSnapshot extends HeaderReader {
  constructor(public map: PairsIndex) {
    super();
  }
  values(name: string): string[] {
    return this.map.values(name);
  }
  first(name: string): string | null {
    return this.map.first(name);
  }
}

/** A stream's failed rules until one fails: shared, never written (a list per stream was an allocation per request). */
const NO_RULES: i32[] = [];

/** jwt_authn's www-authenticate realm takes at most this much of the path. */
const REALM_MAX_PATH: i32 = 256;

class JwksResponse extends HttpCallHandler {
  constructor(
    public remote: RemoteJwks,
    public index: i32,
  ) {
    super();
  }
  onResponse(response: HttpCallResponse): void {
    if (response.failed) this.remote.onResponse(this.index, null, 'fetch failed');
    else if (response.status() != 200) this.remote.onResponse(this.index, null, 'status ' + response.status().toString());
    else this.remote.onResponse(this.index, response.body(), '');
  }
}

class JwksTimer extends TimerHandler {
  constructor(
    public remote: RemoteJwks,
    public index: i32,
    public gen: i32,
  ) {
    super();
  }
  onTimer(): void {
    this.remote.onTimer(this.index, this.gen);
  }
}

class HostSharedData extends SharedData {
  get(key: string): SharedEntry | null {
    const v = getSharedData(key);
    return v === null ? null : new SharedEntry(v.value, v.cas);
  }
  set(key: string, value: ArrayBuffer, cas: u32): bool {
    return setSharedData(key, value, cas) == WasmResult.Ok;
  }
}

/** Timers and http calls reach the protocol through `remote`, set once it exists. */
class HostJwks extends Clock {
  remote: RemoteJwks | null = null;
  nowMs(): u64 {
    return currentTimeMilliseconds();
  }
  setTimer(delayMs: u32, rule: i32, gen: i32): void {
    setTimer(delayMs, new JwksTimer(this.remote as RemoteJwks, rule, gen));
  }
}

class HostFetcher extends Fetcher {
  constructor(public host: HostJwks) {
    super();
  }
  fetch(rule: JwtRule): bool {
    const headers: Pair[] = [
      Pair.fromStrings(':method', 'GET'),
      Pair.fromStrings(':path', rule.jwksPath),
      Pair.fromStrings(':authority', rule.jwksAuthority),
      Pair.fromStrings('accept', 'application/json'),
    ];
    const handler = new JwksResponse(this.host.remote as RemoteJwks, rule.index);
    return httpCall(rule.jwksCluster, headers, new ArrayBuffer(0), [], rule.jwksTimeoutMs, handler) != u32.MAX_VALUE;
  }
}

/** The filter's metrics, defined once at configure. */
class AuthzStats {
  allowed: Counter = new Counter('asmesh_authz_allowed_total');
  denied: Counter = new Counter('asmesh_authz_denied_total');
  unauthenticated: Counter = new Counter('asmesh_authz_unauthenticated_total');
  jwksFetches: Counter = new Counter('asmesh_authz_jwks_fetches_total');
  jwksFailures: Counter = new Counter('asmesh_authz_jwks_fetch_failures_total');
  jwksShared: Counter = new Counter('asmesh_authz_jwks_shared_updates_total');
  cacheHits: Counter = new Counter('asmesh_authz_jwt_cache_hits_total');
}

class HostJwksEvents extends JwksEvents {
  constructor(
    public stats: AuthzStats,
    public root: AuthzRoot,
  ) {
    super();
  }
  count(event: JwksEvent): void {
    if (event == JwksEvent.Fetch) this.stats.jwksFetches.increment(1);
    else if (event == JwksEvent.FetchFailure) this.stats.jwksFailures.increment(1);
    else this.stats.jwksShared.increment(1);
  }
  info(message: string): void {
    logInfo(message);
  }
  warn(message: string): void {
    logWarn(message);
  }
  resume(contextId: u32): void {
    // This plugin's context of the stream (a part of it when authz runs inside filters/mesh).
    const ctx = httpContextOf(contextId, this.root);
    if (ctx === null) return;
    setEffectiveContext(contextId);
    changetype<AuthzHttp>(ctx).resume();
  }
}

export class AuthzRoot extends RootContext {
  config!: AuthzConfig;
  stats!: AuthzStats;
  remote!: RemoteJwks;
  checker: HostSignatureChecker = new HostSignatureChecker();
  cache: TokenCache = new TokenCache(TOKEN_CACHE_SIZE);

  onConfigure(configurationSize: u32): bool {
    const config = configureOrFail<AuthzConfig>('authz', configurationSize, parseAuthzConfig);
    if (config === null) return false;
    this.config = config;
    for (let i = 0; i < config.jwtRules.length; i++) {
      const rule = config.jwtRules[i];
      for (let j = 0; j < rule.inlineSkipped.length; j++)
        logWarn('authz: jwks of issuer ' + rule.issuer + ': dropped ' + rule.inlineSkipped[j]);
    }
    this.stats = new AuthzStats();
    const host = new HostJwks();
    this.remote = new RemoteJwks(config.jwtRules, new HostSharedData(), host, new HostFetcher(host), new HostJwksEvents(this.stats, this));
    host.remote = this.remote;
    this.remote.start();
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new AuthzHttp(contextId, this);
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
  failedRules: i32[] = NO_RULES;

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    this.headers = new HeaderSnapshot(requestHeaders.snapshot());
    return this.decide();
  }

  /** Called with this context effective after a JWKS fetch it waited for. */
  resume(): void {
    if (this.decide() == FilterHeadersStatus.Continue) this.resumeRequest();
  }

  private decide(): FilterHeadersStatus {
    const root = changetype<AuthzRoot>(this.root);
    const config = root.config;
    const h = this.headers as HeaderSnapshot;
    const path = h.first(':path');
    const method = h.first(':method');
    const view = new RequestView(h, path === null ? '' : path);
    let auth: AuthInfo | null = null;
    if (config.jwtRules.length > 0) {
      // Envoy's jwt_authn removes every provider's output headers (outputPayloadToHeader,
      // outputClaimToHeaders) first, whatever happens next: a client cannot send them.
      for (let i = 0; i < config.jwtRules.length; i++) {
        const out = config.jwtRules[i].outputHeaders;
        for (let j = 0; j < out.length; j++) view.remove(out[j]);
      }
      if (isCorsPreflight(method === null ? '' : method, h)) {
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
        if (run.cacheHits > 0) root.stats.cacheHits.increment(run.cacheHits);
        if (run.suspend == Suspend.NeedKeys) return this.waitForKeys(root, run.suspendRule, false);
        if (run.suspend == Suspend.UnknownKid) return this.waitForKeys(root, run.suspendRule, true);
        if (status != JwtStatus.Ok) return this.rejectJwt(root, status);
        const jwt = run.jwt;
        if (jwt !== null) {
          // Filter state for later filters (any VM, also in on_log): Envoy keeps a one-segment property as `wasm.<key>`.
          // Only the payload, as Istio's jwt_authn writes only the payload (payload_in_metadata): the principal
          // `iss/sub` is in it, and each set_property costs ≈ 3 µs.
          JWT_PAYLOAD.set(jwt.payloadBytes);
          auth = new AuthInfo(jwt.payload as JsonValue, (run.rule as JwtRule).spaceDelimitedClaims);
        }
      }
      this.apply(view);
    }
    if (config.policies.length == 0) {
      root.stats.allowed.increment(1);
      return FilterHeadersStatus.Continue;
    }
    const req = this.requestInfo(config, h, view, method);
    req.auth = auth;
    if (req.peerIds === null) logWarn('authz: the peer certificate cannot be read: request denied');
    const decision: Decision = evaluate(config.policies, req);
    for (let i = 0; i < decision.audited.length; i++) logInfo('authz: audit policy ' + decision.audited[i] + ' matched');
    if (!decision.allowed) {
      root.stats.denied.increment(1);
      this.sendLocalResponse(
        403,
        'rbac_access_denied_matched_policy[' + (decision.policy.length ? decision.policy : 'none') + ']',
        'RBAC: access denied',
        [Pair.fromStrings('content-type', 'text/plain')],
      );
      return FilterHeadersStatus.StopIteration;
    }
    root.stats.allowed.increment(1);
    return FilterHeadersStatus.Continue;
  }

  /** Writes jwt_authn's header changes to the request. */
  private apply(view: RequestView): void {
    const slots = view.slots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      if (!slot.changed) continue;
      requestHeaders.remove(slot.name);
      const values = slot.values;
      for (let j = 0; j < values.length; j++) requestHeaders.add(slot.name, values[j]);
    }
    if (view.pathChanged) requestHeaders.replace(':path', view.path);
  }

  /** Waits for rule `index`'s keys (RemoteJwks.wait), or decides now. */
  private waitForKeys(root: AuthzRoot, index: i32, forKid: bool): FilterHeadersStatus {
    if (forKid) this.refetched = true;
    const next = root.remote.wait(index, forKid, this.contextId);
    if (next == KeyWait.Wait) return FilterHeadersStatus.StopAllIterationAndWatermark;
    return next == KeyWait.Fail ? this.failKeys(index) : this.decide();
  }

  private failKeys(index: i32): FilterHeadersStatus {
    if (this.failedRules === NO_RULES) this.failedRules = [];
    if (!this.failedRules.includes(index)) this.failedRules.push(index);
    return this.decide();
  }

  /** jwt_authn's reply: 403 for a disallowed audience, else 401, with Envoy's status text. */
  private rejectJwt(root: AuthzRoot, status: JwtStatus): FilterHeadersStatus {
    root.stats.unauthenticated.increment(1);
    const code: u32 = status == JwtStatus.JwtAudienceNotAllowed ? 403 : 401;
    this.sendLocalResponse(code, 'jwt_authn_access_denied{' + jwtStatusString(status).replaceAll(' ', '_') + '}', jwtStatusString(status), [
      Pair.fromStrings('www-authenticate', wwwAuthenticate(this.headers as HeaderSnapshot)),
      Pair.fromStrings('content-type', 'text/plain'),
    ]);
    return FilterHeadersStatus.StopIteration;
  }

  private requestInfo(config: AuthzConfig, h: HeaderSnapshot, view: RequestView, method: string | null): RequestInfo {
    const req = new RequestInfo();
    req.method = method === null ? '' : method;
    req.path = view.path;
    if (config.needsHost || config.needsHeaders) {
      const host = h.first(':authority');
      req.host = host === null ? '' : host;
    }
    if (config.needsHeaders) {
      // The headers as rbac sees them: after jwt_authn's changes, each entry on its own.
      const map = h.map;
      for (let i = 0; i < map.count; i++) {
        const k = map.name(i);
        const slot = view.find(k);
        if (slot !== null && slot.changed) continue;
        req.addHeader(k, k == ':path' ? view.path : map.value(i));
      }
      const slots = view.slots;
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i];
        if (!slot.changed) continue;
        for (let j = 0; j < slot.values.length; j++) req.addHeader(slot.name, slot.values[j]);
      }
    }
    readConnection(config, req);
    return req;
  }
}
