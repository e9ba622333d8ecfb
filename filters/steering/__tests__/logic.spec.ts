import { parseSteeringConfig, SteeringConfig } from '../config';
import { RequestView, RandomSource, decide, hostMatches, cookieValue, fnv1a64, pickByBucket, draw, RequestFacts } from '../logic';

class MapView extends RequestView {
  map: Map<string, string> = new Map<string, string>();
  with(name: string, value: string): MapView { this.map.set(name, value); return this; }
  header(name: string): string | null { return this.map.has(name) ? this.map.get(name) : null; }
}

class Scripted extends RandomSource {
  i: i32 = 0;
  constructor(public values: u64[]) { super(); }
  next(): u64 { return this.values[this.i++ % this.values.length]; }
}

function cfg(json: string): SteeringConfig {
  const r = parseSteeringConfig(String.UTF8.encode(json));
  if (r.config === null) throw new Error(r.error);
  return r.config as SteeringConfig;
}

function req(path: string, authority: string = 'service_b'): MapView {
  return new MapView().with(':path', path).with(':authority', authority).with(':method', 'GET').with(':scheme', 'http');
}

const STEERING = '{"hosts":["service_b"],"http":[{"match":[{"headers":{"end-user":{"exact":"jason"}}}],"route":[{"destination":{"host":"service_b","subset":"v2"}}]},{"route":[{"destination":{"host":"service_b","subset":"v1"}}]}]}';
const CANARY = '{"hosts":["service_b"],"http":[{"route":[{"destination":{"host":"service_b","subset":"v1"},"weight":95},{"destination":{"host":"service_b","subset":"v2"},"weight":5}]}]}';

describe('steering decisions', () => {
  it('first matching http route wins; a route without match matches everything', () => {
    const c = cfg(STEERING);
    const rng = new Scripted([0]);
    const j = decide(c, req('/').with('end-user', 'jason'), rng);
    expect(j.route!.index).toBe(0);
    expect(j.destination!.cluster).toBe('outbound|80|v2|service_b');
    const a = decide(c, req('/').with('end-user', 'alice'), rng);
    expect(a.route!.index).toBe(1);
    expect(a.destination!.cluster).toBe('outbound|80|v1|service_b');
    expect(rng.i).toBe(0); // single destinations draw nothing
  });

  it('an authority outside hosts gets no decision', () => {
    const d = decide(cfg(STEERING), req('/', 'elsewhere:80'), new Scripted([0]));
    expect(d.route).toBeNull();
    expect(d.destination).toBeNull();
  });

  it('weighted choice by the random draw: buckets 0-94 v1, 95-99 v2', () => {
    const c = cfg(CANARY);
    expect(decide(c, req('/'), new Scripted([94])).destination!.subset).toBe('v1');
    expect(decide(c, req('/'), new Scripted([95])).destination!.subset).toBe('v2');
    expect(decide(c, req('/'), new Scripted([199])).destination!.subset).toBe('v2');
    expect(decide(c, req('/'), new Scripted([200])).destination!.subset).toBe('v1');
  });

  it('sticky header: the hash picks the bucket, no random draw', () => {
    const c = cfg(CANARY.replace('"hosts"', '"asmesh":{"stickyKey":{"header":"X-User"}},"hosts"'));
    expect(c.stickyHeader).toBe('x-user');
    const rng = new Scripted([99]);
    const d = decide(c, req('/').with('x-user', 'alice'), rng);
    expect(d.sticky).toBe(true);
    expect(rng.i).toBe(0);
    const bucket = <i32>(fnv1a64('alice') % 100);
    expect(d.destination!.subset).toBe(bucket < 95 ? 'v1' : 'v2');
    // absent or empty key: random
    const r2 = new Scripted([97]);
    expect(decide(c, req('/').with('x-user', ''), r2).destination!.subset).toBe('v2');
    expect(r2.i).toBe(1);
  });

  it('fault draws: delay then abort, each by percentage', () => {
    const c = cfg('{"hosts":["*"],"http":[{"fault":{"delay":{"fixedDelay":"2s","percentage":{"value":50}},"abort":{"httpStatus":503,"percentage":{"value":10}}},"route":[{"destination":{"host":"h"}}]}]}');
    const half: u64 = 1 << 63;
    // first draw (delay): just below half -> delayed; second (abort): 0 -> aborted
    const d = decide(c, req('/', 'x'), new Scripted([half - 4096, 0]));
    expect(d.delayMs).toBe(2000);
    expect(d.abortStatus).toBe(503);
    const e = decide(c, req('/', 'x'), new Scripted([half, u64.MAX_VALUE]));
    expect(e.delayMs).toBe(0);
    expect(e.abortStatus).toBe(0);
  });

  it('match block fields are ANDed, blocks are ORed', () => {
    const c = cfg('{"hosts":["service_b"],"http":[{"match":[{"method":{"exact":"POST"},"uri":{"prefix":"/api"}},{"queryParams":{"v":{"exact":"2"}}}],"route":[{"destination":{"host":"service_b","subset":"v2"}}]}]}');
    const rng = new Scripted([0]);
    expect(decide(c, req('/api/x').with(':method', 'POST'), rng).route).not.toBeNull();
    expect(decide(c, req('/api/x'), rng).route).toBeNull();
    expect(decide(c, req('/other').with(':method', 'POST'), rng).route).toBeNull();
    expect(decide(c, req('/other?a=1&v=2'), rng).route).not.toBeNull();
    expect(decide(c, req('/other?v=22'), rng).route).toBeNull();
  });
});

describe('steering helpers', () => {
  it('hosts: exact, short name, FQDN, wildcard', () => {
    expect(hostMatches(['service_b'], 'service_b')).toBe(true);
    expect(hostMatches(['service_b'], 'service_b.default.svc.cluster.local')).toBe(true);
    expect(hostMatches(['service_b.default.svc.cluster.local'], 'service_b')).toBe(true);
    expect(hostMatches(['service_b'], 'service_bb')).toBe(false);
    expect(hostMatches(['*.example.com'], 'a.example.com')).toBe(true);
    expect(hostMatches(['*.example.com'], 'example.com')).toBe(false);
    expect(hostMatches(['*'], '')).toBe(true);
  });

  it('request facts: path without query, port from authority', () => {
    const f = new RequestFacts(req('/a/b?x=1&y&x=2', 'svc:9080'), 80);
    expect(f.path).toBe('/a/b');
    expect(f.port).toBe(9080);
    expect(f.host).toBe('svc');
    expect(f.queryParam('x')).toBe('1');
    expect(f.queryParam('y')).toBe('');
    expect(f.queryParam('z')).toBeNull();
    expect(new RequestFacts(req('/', '[::1]:8443'), 80).port).toBe(8443);
    expect(new RequestFacts(req('/', 'svc'), 80).port).toBe(80);
  });

  it('cookies', () => {
    expect(cookieValue('a=1; session=abc; b=2', 'session')).toBe('abc');
    expect(cookieValue('session="q"', 'session')).toBe('q');
    expect(cookieValue('xsession=abc', 'session')).toBeNull();
    expect(cookieValue(null, 'session')).toBeNull();
  });

  it('fnv1a64 known vectors; bucket picking; draw edges', () => {
    expect(fnv1a64('')).toBe(0xcbf29ce484222325);
    expect(fnv1a64('a')).toBe(0xaf63dc4c8601ec8c);
    const c = cfg(CANARY);
    const dests = c.routes[0].destinations;
    expect(pickByBucket(dests, 0).subset).toBe('v1');
    expect(pickByBucket(dests, 99).subset).toBe('v2');
    expect(draw(100, new Scripted([u64.MAX_VALUE]))).toBe(true);
    expect(draw(0, new Scripted([0]))).toBe(false);
  });
});
