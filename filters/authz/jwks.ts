// Keys fetched from jwksUri, shared by all VMs of the plugin: a pure state machine over small host
// interfaces (shared data, clock + timers, fetcher, events), so that as-pect drives it with a fake
// clock and several "VMs" on one fake shared store. filter.ts gives it the proxy-wasm host calls.
import { Jwk, JwtStatus, jwtStatusString, parseJwks } from '../../assembly/lib/jwt';
import { JwtRule } from './config';

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
export const LEASE_MARGIN_MS: u64 = 1000;
export const POLL_MS: u32 = 100;
const SHARED_HEADER: i32 = 24;

/** A shared-data entry and its CAS token. */
export class SharedEntry {
  constructor(
    public value: ArrayBuffer,
    public cas: u32,
  ) {}
}

/** The plugin's shared data (proxy_get/set_shared_data). */
export abstract class SharedData {
  abstract get(key: string): SharedEntry | null;
  /** Writes unless another VM wrote since `cas` was read (cas 0: always); true when written. */
  abstract set(key: string, value: ArrayBuffer, cas: u32): bool;
}

/** Time and timers: `setTimer` calls RemoteJwks.onTimer(rule, gen) after `delayMs`. */
export abstract class Clock {
  abstract nowMs(): u64;
  abstract setTimer(delayMs: u32, rule: i32, gen: i32): void;
}

/** Starts a GET of the rule's jwksUri (answer to RemoteJwks.onResponse); false when it cannot start. */
export abstract class Fetcher {
  abstract fetch(rule: JwtRule): bool;
}

export enum JwksEvent {
  Fetch,
  FetchFailure,
  SharedUpdate,
}

/** What the protocol tells the filter: counters, log lines, streams to resume. */
export abstract class JwksEvents {
  abstract count(event: JwksEvent): void;
  abstract info(message: string): void;
  abstract warn(message: string): void;
  /** Stream `contextId` waited for keys that are now settled. */
  abstract resume(contextId: u32): void;
}

/** What a request that needs keys of a rule does next. */
export enum KeyWait {
  /** Decide now with the keys there are. */
  Decide,
  /** Decide now; the rule's fetch failed (`Jwks remote fetch is failed`). */
  Fail,
  /** Paused until the keys settle (JwksEvents.resume). */
  Wait,
}

class SharedJwks {
  constructor(
    public fetchedMs: u64,
    public leaseMs: u64,
    public failedMs: u64,
    public body: ArrayBuffer,
    public cas: u32,
  ) {}
}

function decodeSharedJwks(e: SharedEntry): SharedJwks {
  const buf = e.value;
  if (buf.byteLength < SHARED_HEADER) return new SharedJwks(0, 0, 0, new ArrayBuffer(0), e.cas);
  const p = changetype<usize>(buf);
  return new SharedJwks(load<u64>(p), load<u64>(p + 8), load<u64>(p + 16), buf.slice(SHARED_HEADER), e.cas);
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
class RuleKeys {
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

/** The remote keys of every rule of one VM (rules with inline keys are never fetched). */
export class RemoteJwks {
  rules: RuleKeys[] = [];

  constructor(
    rules: JwtRule[],
    public shared: SharedData,
    public clock: Clock,
    public fetcher: Fetcher,
    public events: JwksEvents,
  ) {
    for (let i = 0; i < rules.length; i++) this.rules.push(new RuleKeys(rules[i]));
  }

  /** Fetches remote keys from the first tick (clusters are ready by then). */
  start(): void {
    for (let i = 0; i < this.rules.length; i++) {
      if (this.rules[i].rule.jwksUri.length > 0) this.schedule(i, 0);
    }
  }

  keys(index: i32): Jwk[] | null {
    return this.rules[index].keys;
  }

  onTimer(index: i32, gen: i32): void {
    if (this.rules[index].timerGen == gen) this.refresh(index, false);
  }

  private schedule(index: i32, delayMs: u32): void {
    const st = this.rules[index];
    st.timerGen++;
    this.clock.setTimer(delayMs, index, st.timerGen);
  }

  private read(key: string): SharedJwks | null {
    const e = this.shared.get(key);
    return e === null ? null : decodeSharedJwks(e);
  }

  private leaseLive(s: SharedJwks, rule: JwtRule): bool {
    return s.leaseMs != 0 && this.clock.nowMs() < s.leaseMs + <u64>rule.jwksTimeoutMs + LEASE_MARGIN_MS;
  }

  /**
   * Brings rule `index`'s keys up to date: from shared data when another VM fetched fresher keys,
   * else by waiting for another VM's running fetch, else by fetching (taking the shared lease).
   * `force` (an unknown kid, or no keys yet): fetch even when the shared keys are within their
   * refresh period (the caller rate-limits). Waiting streams are resumed once keys are settled.
   */
  refresh(index: i32, force: bool): void {
    const st = this.rules[index];
    if (st.fetching) return;
    st.polling = false;
    const rule = st.rule;
    let shared = true;
    for (let attempt = 0; attempt < 4; attempt++) {
      const now = this.clock.nowMs();
      let s = this.read(st.sharedKey);
      if (s === null) {
        // First use: create the entry, so that every later write is a CAS.
        this.shared.set(st.sharedKey, encodeSharedJwks(0, 0, 0, new ArrayBuffer(0)), 0);
        s = this.read(st.sharedKey);
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
      if (this.leaseLive(sj, rule)) {
        // Another VM is fetching: look again shortly, and use what it publishes.
        st.polling = true;
        this.schedule(index, POLL_MS);
        return;
      }
      const lease = now == 0 ? <u64>1 : now;
      if (this.shared.set(st.sharedKey, encodeSharedJwks(sj.fetchedMs, lease, sj.failedMs, sj.body), sj.cas)) {
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
    st.lastFetchMs = this.clock.nowMs();
    this.events.count(JwksEvent.Fetch);
    if (!this.fetcher.fetch(rule)) {
      this.events.warn('authz: jwks ' + rule.jwksUri + ': cannot call cluster ' + rule.jwksCluster);
      this.releaseLease(index);
      this.fetchDone(index, false);
      return;
    }
    st.fetching = true;
  }

  /** A failed fetch of another VM counts as our own last try (retry and kid refetch limits). */
  private noteSharedFailure(index: i32, s: SharedJwks): void {
    const st = this.rules[index];
    if (s.failedMs > s.fetchedMs && s.failedMs > st.lastFetchMs) st.lastFetchMs = s.failedMs;
  }

  /** Has another VM published newer keys than ours, or is one fetching now? */
  private sharedNews(index: i32): bool {
    const st = this.rules[index];
    const s = this.read(st.sharedKey);
    if (s === null) return false;
    if (s.fetchedMs > st.sharedMs) return true;
    return this.leaseLive(s, st.rule);
  }

  /** Takes the shared keys when they are newer than ours; true if it did. */
  private adoptShared(index: i32, s: SharedJwks): bool {
    const st = this.rules[index];
    if (s.fetchedMs == 0 || s.fetchedMs <= st.sharedMs || s.body.byteLength == 0) return false;
    const parsed = parseJwks(s.body);
    if (parsed.status != JwtStatus.Ok) return false;
    st.keys = parsed.keys;
    st.sharedMs = s.fetchedMs;
    st.lastFetchMs = s.fetchedMs;
    st.everFetched = true;
    this.events.count(JwksEvent.SharedUpdate);
    this.events.info('authz: jwks ' + st.rule.jwksUri + ': ' + parsed.keys.length.toString() + ' keys from shared data');
    return true;
  }

  /**
   * Publishes keys we fetched, by CAS (read, then write unless another VM wrote in between), with a
   * fetch time newer than any published: the other VMs take them at their next look.
   */
  private publish(index: i32, body: ArrayBuffer): void {
    const st = this.rules[index];
    for (let attempt = 0; attempt < 4; attempt++) {
      const s = this.read(st.sharedKey);
      if (s === null) break;
      const now = this.clock.nowMs();
      const fetched = now <= s.fetchedMs ? s.fetchedMs + 1 : now;
      // Our lease ends here; one another VM took over (ours had gone stale) stays.
      const lease = s.leaseMs == st.leaseMs ? <u64>0 : s.leaseMs;
      if (this.shared.set(st.sharedKey, encodeSharedJwks(fetched, lease, 0, body), s.cas)) {
        st.sharedMs = fetched;
        break;
      }
    }
    st.leaseMs = 0;
  }

  /** After a failed fetch: frees our lease so that another VM (or our retry) may fetch. */
  private releaseLease(index: i32): void {
    const st = this.rules[index];
    if (st.leaseMs == 0) return;
    for (let attempt = 0; attempt < 4; attempt++) {
      const s = this.read(st.sharedKey);
      if (s === null || s.leaseMs != st.leaseMs) break;
      const failed = this.clock.nowMs();
      if (this.shared.set(st.sharedKey, encodeSharedJwks(s.fetchedMs, 0, failed == 0 ? 1 : failed, s.body), s.cas)) break;
    }
    st.leaseMs = 0;
  }

  /** The answer to our fetch: `body` of a 200, or null and why the fetch failed. */
  onResponse(index: i32, body: ArrayBuffer | null, error: string): void {
    const st = this.rules[index];
    st.fetching = false;
    let ok = false;
    if (body === null) {
      this.events.warn('authz: jwks ' + st.rule.jwksUri + ': ' + error);
    } else {
      const parsed = parseJwks(body);
      for (let i = 0; i < parsed.skipped.length; i++) this.events.warn('authz: jwks ' + st.rule.jwksUri + ': dropped ' + parsed.skipped[i]);
      if (parsed.status != JwtStatus.Ok) {
        this.events.warn('authz: jwks ' + st.rule.jwksUri + ': ' + jwtStatusString(parsed.status));
      } else {
        st.keys = parsed.keys;
        st.everFetched = true;
        ok = true;
        this.events.info('authz: jwks ' + st.rule.jwksUri + ': ' + parsed.keys.length.toString() + ' keys');
        this.publish(index, body);
      }
    }
    if (!ok) this.releaseLease(index);
    this.fetchDone(index, ok);
  }

  /** After a fetch: schedule the next one, then resume the streams that waited. */
  private fetchDone(index: i32, ok: bool): void {
    const st = this.rules[index];
    if (!ok) this.events.count(JwksEvent.FetchFailure);
    this.schedule(index, ok ? st.rule.jwksRefreshMs : st.rule.jwksRetryMs);
    this.resumeWaiting(index);
  }

  private resumeWaiting(index: i32): void {
    const st = this.rules[index];
    const waiting = st.waiting;
    st.waiting = [];
    for (let i = 0; i < waiting.length; i++) this.events.resume(waiting[i]);
  }

  /**
   * Stream `contextId` needs rule `index`'s keys (none yet, or `forKid`: an unknown kid, at most one
   * refresh per request and rate-limited per rule). When no fetch will come, it decides now: without
   * keys the token fails with `Jwks remote fetch is failed`, with an unknown kid as is.
   */
  wait(index: i32, forKid: bool, contextId: u32): KeyWait {
    const st = this.rules[index];
    const rule = st.rule;
    if (forKid) {
      // (Keys another VM fetched since, or is fetching now, are waited for / used below.)
      if (!(st.fetching || st.polling || this.clock.nowMs() - st.lastFetchMs >= <u64>rule.kidRefetchMs || this.sharedNews(index))) {
        return KeyWait.Decide;
      }
    }
    let pending = st.fetching || st.polling;
    if (!pending) {
      // Another VM of the plugin may have fetched newer keys: use them without fetching.
      const s = this.read(st.sharedKey);
      if (s !== null && this.adoptShared(index, s)) return KeyWait.Decide;
      if (s !== null) this.noteSharedFailure(index, s);
      if (s !== null && this.leaseLive(s, rule)) {
        // Another VM is fetching right now (e.g. its refresh, just before ours): wait for its keys.
        st.polling = true;
        this.schedule(index, POLL_MS);
        pending = true;
      }
    }
    // Keys never arrived and the last try failed recently: fail now rather than wait.
    if (
      !pending &&
      st.everFetched == false &&
      st.lastFetchMs != 0 &&
      this.clock.nowMs() - st.lastFetchMs < <u64>rule.jwksRetryMs &&
      st.keys === null
    ) {
      return KeyWait.Fail;
    }
    if (!pending && st.keys !== null && this.clock.nowMs() - st.lastFetchMs < <u64>rule.kidRefetchMs) {
      return KeyWait.Decide;
    }
    if (!pending) {
      // Not in `waiting` yet, so nothing refresh settles right away resumes this stream.
      const before = st.sharedMs;
      this.refresh(index, true);
      pending = st.fetching || st.polling;
      if (!pending) {
        if (st.sharedMs != before) return KeyWait.Decide; // newer shared keys arrived meanwhile
        // The call could not start.
        return st.keys === null ? KeyWait.Fail : KeyWait.Decide;
      }
    }
    st.waiting.push(contextId);
    return KeyWait.Wait;
  }
}
