// as-pect tests of the shared-JWKS protocol (jwks.ts): several VMs of one plugin on one fake shared
// store and one fake clock whose timers fire as time advances. No host calls, no wall-clock time.
import { Clock, Fetcher, JwksEvent, JwksEvents, KeyWait, RemoteJwks, SharedData, SharedEntry } from '../jwks';
import { JwtRule, AuthzConfig, parseAuthzConfig } from '../config';
import { base64UrlEncode } from '../../../assembly/lib/base64';

class FakeShared extends SharedData {
  keys: string[] = [];
  values: ArrayBuffer[] = [];
  cas: u32[] = [];
  get(key: string): SharedEntry | null {
    const i = this.keys.indexOf(key);
    return i < 0 ? null : new SharedEntry(this.values[i], this.cas[i]);
  }
  set(key: string, value: ArrayBuffer, cas: u32): bool {
    const i = this.keys.indexOf(key);
    if (i < 0) {
      this.keys.push(key);
      this.values.push(value);
      this.cas.push(1);
      return true;
    }
    if (cas != 0 && cas != this.cas[i]) return false;
    this.values[i] = value;
    this.cas[i]++;
    return true;
  }
}

class Timer {
  constructor(
    public at: u64,
    public vm: Vm,
    public rule: i32,
    public gen: i32,
  ) {}
}

/** One clock for every VM; `advance` fires due timers in time order. */
class FakeTime {
  now: u64 = 1_000_000;
  timers: Timer[] = [];
  advance(ms: u64): void {
    const end = this.now + ms;
    for (;;) {
      let next = -1;
      for (let i = 0; i < this.timers.length; i++) {
        if (this.timers[i].at <= end && (next < 0 || this.timers[i].at < this.timers[next].at)) next = i;
      }
      if (next < 0) break;
      const t = this.timers[next];
      this.timers.splice(next, 1);
      if (t.at > this.now) this.now = t.at;
      t.vm.remote.onTimer(t.rule, t.gen);
    }
    this.now = end;
  }
}

class VmClock extends Clock {
  constructor(
    public time: FakeTime,
    public vm: Vm,
  ) {
    super();
  }
  nowMs(): u64 {
    return this.time.now;
  }
  setTimer(delayMs: u32, rule: i32, gen: i32): void {
    this.time.timers.push(new Timer(this.time.now + <u64>delayMs, this.vm, rule, gen));
  }
}

/** Records calls; the test answers them (Vm.answer). */
class FakeFetcher extends Fetcher {
  calls: i32 = 0;
  open: bool = false;
  refuse: bool = false;
  fetch(rule: JwtRule): bool {
    if (this.refuse) return false;
    this.calls++;
    this.open = true;
    return true;
  }
}

class Recorder extends JwksEvents {
  fetches: i32 = 0;
  failures: i32 = 0;
  shared: i32 = 0;
  resumed: u32[] = [];
  lines: string[] = [];
  count(event: JwksEvent): void {
    if (event == JwksEvent.Fetch) this.fetches++;
    else if (event == JwksEvent.FetchFailure) this.failures++;
    else this.shared++;
  }
  info(message: string): void {
    this.lines.push(message);
  }
  warn(message: string): void {
    this.lines.push('warn ' + message);
  }
  resume(contextId: u32): void {
    this.resumed.push(contextId);
  }
}

const RULE =
  '{"jwtRules":[{"issuer":"https://i","jwksUri":"https://keys.example/certs",' +
  '"asmesh":{"jwksRefreshSeconds":60,"jwksRetrySeconds":5,"kidRefetchSeconds":30,"jwksTimeoutMs":2000}}]}';

class Vm {
  remote!: RemoteJwks;
  fetcher: FakeFetcher = new FakeFetcher();
  events: Recorder = new Recorder();
  constructor(time: FakeTime, shared: FakeShared) {
    const config = parseAuthzConfig(String.UTF8.encode(RULE)).config as AuthzConfig;
    this.remote = new RemoteJwks(config.jwtRules, shared, new VmClock(time, this), this.fetcher, this.events);
  }
  answer(body: string | null): void {
    expect(this.fetcher.open).toBe(true);
    this.fetcher.open = false;
    this.remote.onResponse(0, body === null ? null : String.UTF8.encode(body), 'status 503');
  }
  kid(): string {
    const keys = this.remote.keys(0);
    if (keys === null) return '';
    const kid = keys[0].kid;
    return kid === null ? '' : kid;
  }
}

function nOfBits(bits: i32): string {
  const len = (bits + 7) >> 3;
  const buf = new ArrayBuffer(len);
  const p = changetype<usize>(buf);
  for (let i = 0; i < len; i++) store<u8>(p + <usize>i, 0xa5);
  store<u8>(p, 0xff);
  return base64UrlEncode(buf);
}
function jwks(kid: string): string {
  return '{"keys":[{"kty":"RSA","kid":"' + kid + '","n":"' + nOfBits(2048) + '","e":"AQAB"}]}';
}

function totalCalls(vms: Vm[]): i32 {
  let n = 0;
  for (let i = 0; i < vms.length; i++) n += vms[i].fetcher.calls;
  return n;
}

describe('shared JWKS protocol', () => {
  it('one fetch for all VMs at start-up: the others poll the lease and take the keys from shared data', () => {
    const time = new FakeTime();
    const shared = new FakeShared();
    const vms = [new Vm(time, shared), new Vm(time, shared), new Vm(time, shared)];
    for (let i = 0; i < vms.length; i++) vms[i].remote.start();
    time.advance(0);
    expect(totalCalls(vms)).toBe(1);
    expect(vms[0].fetcher.calls).toBe(1);
    time.advance(50);
    vms[0].answer(jwks('a'));
    time.advance(200);
    for (let i = 0; i < vms.length; i++) expect(vms[i].kid()).toBe('a');
    expect(vms[1].events.shared).toBe(1);
    expect(vms[2].events.lines).toContain('authz: jwks https://keys.example/certs: 1 keys from shared data');
    expect(totalCalls(vms)).toBe(1);
  });

  it('one refresh per period for all VMs; a rotated key reaches every VM at that refresh', () => {
    const time = new FakeTime();
    const shared = new FakeShared();
    const vms = [new Vm(time, shared), new Vm(time, shared)];
    vms[0].remote.start();
    vms[1].remote.start();
    time.advance(0);
    vms[0].answer(jwks('a'));
    time.advance(1000);
    time.advance(60_000 - 1000 - 1);
    expect(totalCalls(vms)).toBe(1);
    time.advance(2);
    expect(totalCalls(vms)).toBe(2);
    const fetcher = vms[0].fetcher.open ? vms[0] : vms[1];
    const other = vms[0].fetcher.open ? vms[1] : vms[0];
    fetcher.answer(jwks('b'));
    time.advance(200);
    expect(other.kid()).toBe('b');
    // Three more periods: three more fetches, not six.
    for (let p = 0; p < 3; p++) {
      time.advance(60_000);
      const f = vms[0].fetcher.open ? vms[0] : vms[1];
      f.answer(jwks('b'));
    }
    time.advance(200);
    expect(totalCalls(vms)).toBe(5);
  });

  it('a failed fetch keeps the last good keys and holds every VM off until the retry period', () => {
    const time = new FakeTime();
    const shared = new FakeShared();
    const vms = [new Vm(time, shared), new Vm(time, shared)];
    vms[0].remote.start();
    vms[1].remote.start();
    time.advance(0);
    vms[0].answer(jwks('a'));
    time.advance(60_000);
    const first = vms[0].fetcher.open ? vms[0] : vms[1];
    first.answer(null);
    expect(first.events.failures).toBe(1);
    expect(first.events.lines).toContain('warn authz: jwks https://keys.example/certs: status 503');
    const before = totalCalls(vms);
    time.advance(4_999);
    expect(totalCalls(vms)).toBe(before);
    time.advance(2);
    expect(totalCalls(vms)).toBe(before + 1);
    expect(vms[0].kid()).toBe('a');
    expect(vms[1].kid()).toBe('a');
  });

  it('a stale lease (its VM went away) is taken over after the fetch timeout plus the margin', () => {
    const time = new FakeTime();
    const shared = new FakeShared();
    const gone = new Vm(time, shared);
    const live = new Vm(time, shared);
    gone.remote.start();
    time.advance(0);
    expect(gone.fetcher.calls).toBe(1);
    live.remote.start();
    time.advance(2_000 + 1_000 - 1);
    expect(live.fetcher.calls).toBe(0);
    time.advance(200);
    expect(live.fetcher.calls).toBe(1);
    live.answer(jwks('a'));
    expect(live.kid()).toBe('a');
  });

  it('a request without keys waits for the fetch and is resumed; after a failed first fetch it fails at once', () => {
    const time = new FakeTime();
    const vm = new Vm(time, new FakeShared());
    vm.remote.start();
    time.advance(0);
    expect(vm.remote.wait(0, false, 7)).toBe(KeyWait.Wait);
    vm.answer(null);
    expect(vm.events.resumed).toStrictEqual([7]);
    expect(vm.remote.wait(0, false, 8)).toBe(KeyWait.Fail);
    time.advance(5_000);
    vm.answer(jwks('a'));
    expect(vm.remote.wait(0, false, 9)).toBe(KeyWait.Decide);
  });

  it('an unknown kid refetches at most once per kidRefetchSeconds; a fetch that cannot start decides now', () => {
    const time = new FakeTime();
    const vm = new Vm(time, new FakeShared());
    vm.remote.start();
    time.advance(0);
    vm.answer(jwks('a'));
    time.advance(10_000);
    expect(vm.remote.wait(0, true, 1)).toBe(KeyWait.Decide);
    expect(vm.fetcher.calls).toBe(1);
    time.advance(20_000);
    expect(vm.remote.wait(0, true, 2)).toBe(KeyWait.Wait);
    expect(vm.fetcher.calls).toBe(2);
    vm.answer(jwks('b'));
    expect(vm.events.resumed).toStrictEqual([2]);
    expect(vm.kid()).toBe('b');
    time.advance(30_000);
    vm.fetcher.refuse = true;
    expect(vm.remote.wait(0, true, 3)).toBe(KeyWait.Decide);
    expect(vm.events.lines).toContain('warn authz: jwks https://keys.example/certs: cannot call cluster keys.example');
  });

  it('refresh and retry periods take fractions of a second, down to 0.1 s', () => {
    const rule = (ext: string): string => '{"jwtRules":[{"issuer":"https://i","jwksUri":"https://k/c","asmesh":{' + ext + '}}]}';
    const r = parseAuthzConfig(String.UTF8.encode(rule('"jwksRefreshSeconds":1.5,"jwksRetrySeconds":0.25,"kidRefetchSeconds":0')));
    const jr = (r.config as AuthzConfig).jwtRules[0];
    expect(jr.jwksRefreshMs).toBe(1500);
    expect(jr.jwksRetryMs).toBe(250);
    expect(jr.kidRefetchMs).toBe(0);
    const bad = parseAuthzConfig(String.UTF8.encode(rule('"jwksRetrySeconds":0.05')));
    expect(bad.config).toBeNull();
    expect(bad.error.startsWith('$.jwtRules[0].asmesh.jwksRetrySeconds: 0.05 is outside [0.1, ')).toBe(true);
  });
});
