import { parseSteeringConfig, SteeringConfig } from '../config';
import { RequestView, RandomSource, decide, hostMatches, cookieValue, fnv1a64, pickByBucket, draw, RequestFacts } from '../logic';

const V2 = '"route":[{"destination":{"host":"service_b","subset":"v2"}}]';
const ROUTES = '"http":[{' + V2 + '}]';
/** One http route with this match block, to v2. */
function one(match: string): SteeringConfig {
  return cfg('{"hosts":["service_b"],"http":[{"match":[' + match + '],' + V2 + '}]}');
}

class MapView extends RequestView {
  map: Map<string, string[]> = new Map<string, string[]>();
  port: i32 = 0;
  portReads: i32 = 0;
  /** Sets a header (one value). */
  with(name: string, value: string): MapView {
    this.map.set(name, [value]);
    return this;
  }
  /** Adds one more value (the header sent again). */
  plus(name: string, value: string): MapView {
    if (this.map.has(name)) this.map.get(name).push(value);
    else this.map.set(name, [value]);
    return this;
  }
  onPort(port: i32): MapView {
    this.port = port;
    return this;
  }
  header(name: string): string | null {
    return this.map.has(name) ? this.map.get(name)[0] : null;
  }
  headerValues(name: string): string[] {
    return this.map.has(name) ? this.map.get(name) : [];
  }
  destinationPort(): i32 {
    this.portReads++;
    return this.port;
  }
}

class Scripted extends RandomSource {
  i: i32 = 0;
  constructor(public values: u64[]) {
    super();
  }
  next(): u64 {
    return this.values[this.i++ % this.values.length];
  }
}

function zero(): Scripted {
  return new Scripted([0]);
}

function cfg(json: string): SteeringConfig {
  const r = parseSteeringConfig(String.UTF8.encode(json));
  if (r.config === null) throw new Error(r.error);
  return r.config as SteeringConfig;
}

function req(path: string, authority: string = 'service_b'): MapView {
  return new MapView().with(':path', path).with(':authority', authority).with(':method', 'GET').with(':scheme', 'http');
}

const STEERING =
  '{"hosts":["service_b"],"http":[{"match":[{"headers":{"end-user":{"exact":"jason"}}}],"route":[{"destination":{"host":"service_b","subset":"v2"}}]},{"route":[{"destination":{"host":"service_b","subset":"v1"}}]}]}';
const CANARY =
  '{"hosts":["service_b"],"http":[{"route":[{"destination":{"host":"service_b","subset":"v1"},"weight":95},{"destination":{"host":"service_b","subset":"v2"},"weight":5}]}]}';

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

  it('any total: a random value modulo the total, as Envoy weighted_clusters (7 = 1 + 0 + 2 + 4)', () => {
    const c = cfg(
      '{"hosts":["h"],"http":[{"route":[{"destination":{"host":"h","subset":"a"},"weight":1},{"destination":{"host":"h","subset":"z"},"weight":0},{"destination":{"host":"h","subset":"b"},"weight":2},{"destination":{"host":"h","subset":"c"}, "weight":4}]}]}',
    );
    expect(c.routes[0].totalWeight).toBe(7);
    const picks = ['a', 'b', 'b', 'c', 'c', 'c', 'c'];
    for (let v: u64 = 0; v < 21; v++) expect(decide(c, req('/', 'h'), new Scripted([v])).destination!.subset).toBe(picks[<i32>(v % 7)]);
    expect(decide(c, req('/', 'h'), new Scripted([u64.MAX_VALUE])).destination!.subset).toBe(picks[<i32>(u64.MAX_VALUE % 7)]);
    // sticky: the key's hash modulo the total
    const s = cfg(
      '{"asmesh":{"stickyKey":{"header":"u"}},"hosts":["h"],"http":[{"route":[{"destination":{"host":"h","subset":"a"},"weight":500},{"destination":{"host":"h","subset":"b"},"weight":501}]}]}',
    );
    const keys = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
    for (let i = 0; i < keys.length; i++) {
      const want = fnv1a64(keys[i]) % 1001 < 500 ? 'a' : 'b';
      expect(decide(s, req('/', 'h').with('u', keys[i]), new Scripted([0])).destination!.subset).toBe(want);
    }
  });

  it('a single destination is taken whatever its weight, with no draw', () => {
    for (let i = 0; i < 3; i++) {
      const w = ['0', '7', '250'][i];
      const rng = new Scripted([5]);
      const c = cfg('{"hosts":["h"],"http":[{"route":[{"destination":{"host":"h","subset":"only"},"weight":' + w + '}]}]}');
      expect(decide(c, req('/', 'h'), rng).destination!.subset).toBe('only');
      expect(rng.i).toBe(0);
    }
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

  it('fault draws: delay then abort, each by percentage (random % 1e6 < share per million)', () => {
    const c = cfg(
      '{"hosts":["*"],"http":[{"fault":{"delay":{"fixedDelay":"2s","percentage":{"value":50}},"abort":{"httpStatus":503,"percentage":{"value":10}}},"route":[{"destination":{"host":"h"}}]}]}',
    );
    // first draw (delay): 499999 < 500000 -> delayed; second (abort): 0 -> aborted
    const d = decide(c, req('/', 'x'), new Scripted([3_499_999, 0]));
    expect(d.delayMs).toBe(2000);
    expect(d.abortStatus).toBe(503);
    const e = decide(c, req('/', 'x'), new Scripted([500_000, 100_000]));
    expect(e.delayMs).toBe(0);
    expect(e.abortStatus).toBe(0);
  });

  it('match block fields are ANDed, blocks are ORed', () => {
    const c = cfg(
      '{"hosts":["service_b"],"http":[{"match":[{"method":{"exact":"POST"},"uri":{"prefix":"/api"}},{"queryParams":{"v":{"exact":"2"}}}],"route":[{"destination":{"host":"service_b","subset":"v2"}}]}]}',
    );
    const rng = new Scripted([0]);
    expect(decide(c, req('/api/x').with(':method', 'POST'), rng).route).not.toBeNull();
    expect(decide(c, req('/api/x'), rng).route).toBeNull();
    expect(decide(c, req('/other').with(':method', 'POST'), rng).route).toBeNull();
    expect(decide(c, req('/other?a=1&v=2'), rng).route).not.toBeNull();
    expect(decide(c, req('/other?v=22'), rng).route).toBeNull();
  });
});

describe('matching as Envoy 1.40 matches (test/steering/native.test.ts)', () => {
  it('port: the destination (listener) port, never the :authority port; read only when a block asks', () => {
    const c = one('{"port":9080}');
    const rng = new Scripted([0]);
    expect(decide(c, req('/', 'service_b:9080').onPort(15001), rng).route).toBeNull();
    expect(decide(c, req('/', 'service_b').onPort(9080), rng).route).not.toBeNull();
    expect(decide(c, req('/', 'service_b:15001').onPort(9080), rng).route).not.toBeNull();
    expect(decide(c, req('/', 'service_b'), rng).route).toBeNull(); // unknown port: no match
    const noPort = req('/').onPort(9080);
    decide(cfg(STEERING), noPort, rng);
    expect(noPort.portReads).toBe(0);
  });

  it('a repeated header matches when any of its values does', () => {
    const rng = new Scripted([0]);
    const exactA = one('{"headers":{"x-h":{"exact":"a"}}}');
    const exactB = one('{"headers":{"x-h":{"exact":"b"}}}');
    const joined = one('{"headers":{"x-h":{"exact":"a,b"}}}');
    const ab = (): MapView => req('/').with('x-h', 'a').plus('x-h', 'b');
    expect(decide(exactA, ab(), rng).route).not.toBeNull();
    expect(decide(exactB, ab(), rng).route).not.toBeNull();
    expect(decide(joined, ab(), rng).route).toBeNull();
    expect(decide(joined, req('/').with('x-h', 'a,b'), rng).route).not.toBeNull();
    expect(decide(exactB, req('/').with('x-h', 'a,b'), rng).route).toBeNull();
    expect(decide(one('{"headers":{"x-h":{"regex":"b"}}}'), ab(), rng).route).not.toBeNull();
    expect(decide(one('{"headers":{"x-h":{"prefix":"a,"}}}'), ab(), rng).route).toBeNull();
    expect(decide(one('{"headers":{"x-h":{}}}'), ab(), rng).route).not.toBeNull();
    expect(decide(one('{"headers":{"x-h":{}}}'), req('/'), rng).route).toBeNull();
  });

  it('sticky cookie: found in any of several cookie headers', () => {
    const c = cfg(CANARY.replace('"hosts"', '"asmesh":{"stickyKey":{"cookie":"session"}},"hosts"'));
    const one = decide(c, req('/').with('cookie', 'session=u-1'), new Scripted([0]));
    const split = decide(c, req('/').with('cookie', 'theme=dark').plus('cookie', 'session=u-1'), new Scripted([0]));
    expect(split.sticky).toBe(true);
    expect(split.destination!.subset).toBe(one.destination!.subset);
    expect(decide(c, req('/').with('cookie', 'theme=dark'), new Scripted([0])).sticky).toBe(false);
  });

  it('withoutHeaders: the block fails when any value matches', () => {
    const rng = new Scripted([0]);
    const c = one('{"withoutHeaders":{"x-h":{"exact":"b"}}}');
    expect(decide(c, req('/').with('x-h', 'a').plus('x-h', 'b'), rng).route).toBeNull();
    expect(decide(c, req('/').with('x-h', 'a').plus('x-h', 'c'), rng).route).not.toBeNull();
    expect(decide(c, req('/'), rng).route).not.toBeNull();
  });

  it('query parameters: raw names and values (no percent-decoding, + stays +), the first value counts', () => {
    const rng = new Scripted([0]);
    const plus = one('{"queryParams":{"v":{"exact":"a+b"}}}');
    expect(decide(plus, req('/?v=a+b'), rng).route).not.toBeNull();
    expect(decide(plus, req('/?v=a%2Bb'), rng).route).toBeNull();
    const space = one('{"queryParams":{"v":{"exact":"a b"}}}');
    expect(decide(space, req('/?v=a%20b'), rng).route).toBeNull();
    expect(decide(space, req('/?v=a+b'), rng).route).toBeNull();
    const encoded = one('{"queryParams":{"v":{"exact":"a%20b"}}}');
    expect(decide(encoded, req('/?v=a%20b'), rng).route).not.toBeNull();
    const first = one('{"queryParams":{"v":{"exact":"2"}}}');
    expect(decide(first, req('/?v=1&v=2'), rng).route).toBeNull();
    expect(decide(first, req('/?v=2&v=1'), rng).route).not.toBeNull();
    expect(decide(one('{"queryParams":{"v 1":{"exact":"2"}}}'), req('/?v%201=2'), rng).route).toBeNull();
  });

  it('uri: exact and regex ignore the query string; prefix too; ignoreUriCase for exact and prefix only', () => {
    const rng = new Scripted([0]);
    const exact = one('{"uri":{"exact":"/a"}}');
    expect(decide(exact, req('/a?x=1'), rng).route).not.toBeNull();
    expect(decide(exact, req('/a'), rng).route).not.toBeNull();
    expect(decide(exact, req('/A'), rng).route).toBeNull();
    expect(decide(exact, req('/a/'), rng).route).toBeNull();
    expect(decide(exact, req('/a%3Fx'), rng).route).toBeNull();
    expect(decide(one('{"uri":{"exact":"/a"},"ignoreUriCase":true}'), req('/A?X=1'), rng).route).not.toBeNull();
    expect(decide(one('{"uri":{"prefix":"/api"},"ignoreUriCase":true}'), req('/APIx?q'), rng).route).not.toBeNull();
    expect(decide(one('{"uri":{"prefix":"/a?x="}}'), req('/a?x=1'), rng).route).toBeNull();
    const regex = one('{"uri":{"regex":"/a[0-9]"},"ignoreUriCase":true}');
    expect(decide(regex, req('/a1?q=2'), rng).route).not.toBeNull();
    expect(decide(regex, req('/A1'), rng).route).toBeNull();
  });
});

describe('steering helpers', () => {
  it("hosts: exactly the domains of pilot's virtual host (namespace default)", () => {
    const short = cfg('{"hosts":["service_b"],' + ROUTES + '}').hostSet;
    const names = [
      'service_b',
      'service_b.default',
      'service_b.default.svc',
      'service_b.default.svc.cluster.local',
      'service_b.default.svc.cluster.local.',
    ];
    for (let i = 0; i < names.length; i++) expect(hostMatches(short, names[i])).toBe(true, names[i]);
    const others = [
      'service_b.',
      'service_b.default.',
      'service_b.evil.com',
      'service_b.other',
      'service_b.other.svc.cluster.local',
      'service_bb',
      'service_b.default.svc.cluster',
      '',
    ];
    for (let i = 0; i < others.length; i++) expect(hostMatches(short, others[i])).toBe(false, others[i]);
    // The FQDN written in the VirtualService gives the same set.
    const fqdn = cfg('{"hosts":["service_b.default.svc.cluster.local"],' + ROUTES + '}').hostSet;
    for (let i = 0; i < names.length; i++) expect(hostMatches(fqdn, names[i])).toBe(true, names[i]);
    expect(hostMatches(fqdn, 'service_b.other')).toBe(false);
  });

  it('hosts: a service of another namespace has no short name; non-Kubernetes hosts only themselves', () => {
    const other = cfg('{"hosts":["reviews.prod.svc.cluster.local"],' + ROUTES + '}').hostSet;
    expect(hostMatches(other, 'reviews.prod')).toBe(true);
    expect(hostMatches(other, 'reviews.prod.svc')).toBe(true);
    expect(hostMatches(other, 'reviews.prod.svc.cluster.local.')).toBe(true);
    expect(hostMatches(other, 'reviews')).toBe(false);
    const ext = cfg('{"hosts":["api.example.com"],' + ROUTES + '}').hostSet;
    expect(hostMatches(ext, 'api.example.com')).toBe(true);
    expect(hostMatches(ext, 'api.example.com.')).toBe(true);
    expect(hostMatches(ext, 'api')).toBe(false);
    const wild = cfg('{"hosts":["*.example.com"],' + ROUTES + '}').hostSet;
    expect(hostMatches(wild, 'a.example.com')).toBe(true);
    expect(hostMatches(wild, 'example.com')).toBe(false);
    expect(hostMatches(wild, '.example.com')).toBe(false);
    expect(hostMatches(cfg('{"hosts":["*"],' + ROUTES + '}').hostSet, '')).toBe(true);
  });

  it('hosts: the namespace comes from asmesh.namespace, else the node metadata, else default', () => {
    const inProd = cfg('{"hosts":["reviews"],"asmesh":{"namespace":"prod"},' + ROUTES + '}');
    expect(inProd.namespace).toBe('prod');
    expect(hostMatches(inProd.hostSet, 'reviews')).toBe(true);
    expect(hostMatches(inProd.hostSet, 'reviews.prod.svc.cluster.local')).toBe(true);
    expect(hostMatches(inProd.hostSet, 'reviews.default')).toBe(false);
    const fromNode = parseSteeringConfig(String.UTF8.encode('{"hosts":["reviews"],' + ROUTES + '}'), 'shop').config as SteeringConfig;
    expect(fromNode.namespace).toBe('shop');
    expect(hostMatches(fromNode.hostSet, 'reviews.shop')).toBe(true);
    // A VirtualService of namespace prod seen from a proxy in shop: no short name (as pilot's domains).
    const across = parseSteeringConfig(String.UTF8.encode('{"hosts":["reviews"],"asmesh":{"namespace":"prod"},' + ROUTES + '}'), 'shop')
      .config as SteeringConfig;
    expect(across.namespace).toBe('prod');
    expect(across.proxyNamespace).toBe('shop');
    expect(hostMatches(across.hostSet, 'reviews.prod')).toBe(true);
    expect(hostMatches(across.hostSet, 'reviews.prod.svc')).toBe(true);
    expect(hostMatches(across.hostSet, 'reviews')).toBe(false);
    expect(hostMatches(across.hostSet, 'reviews.shop')).toBe(false);
    expect(parseSteeringConfig(String.UTF8.encode('{"hosts":["a"],"asmesh":{"namespace":"Prod"},' + ROUTES + '}')).error).toBe(
      '$.asmesh.namespace: not a namespace name (a DNS label: a-z, 0-9, -)',
    );
  });

  it('hosts: the :authority port is stripped whatever it is; case does not matter', () => {
    const c = cfg('{"hosts":["service_b"],' + ROUTES + '}');
    expect(decide(c, req('/', 'service_b:80'), zero()).route).not.toBeNull();
    expect(decide(c, req('/', 'SERVICE_B.Default:9999'), zero()).route).not.toBeNull();
    expect(decide(c, req('/', 'service_b.evil.com'), zero()).route).toBeNull();
    expect(decide(c, req('/', 'service_b.evil.com'), zero()).notFound).toBe(false);
  });

  it('request facts: path without query, host without port, port from the destination', () => {
    const f = new RequestFacts(req('/a/b?x=1&y&x=2', 'svc:9080').onPort(15001));
    expect(f.path).toBe('/a/b');
    expect(f.port).toBe(15001);
    expect(f.host).toBe('svc');
    expect(f.queryParam('x')).toBe('1');
    expect(f.queryParam('y')).toBe('');
    expect(f.queryParam('z')).toBeNull();
    expect(new RequestFacts(req('/', '[::1]:8443')).host).toBe('[::1]');
    expect(new RequestFacts(req('/', '[::1]:8443')).port).toBe(0);
    expect(new RequestFacts(req('/', 'svc').onPort(70000)).port).toBe(0);
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
    expect(draw(1_000_000, new Scripted([u64.MAX_VALUE]))).toBe(true);
    expect(draw(0, new Scripted([0]))).toBe(false);
    expect(draw(1, new Scripted([2_000_000]))).toBe(true);
    expect(draw(1, new Scripted([2_000_001]))).toBe(false);
  });

  it('fault percentages as Istio hands them to Envoy: unset is 0; value * 10000 per million, floored', () => {
    const unset = cfg('{"hosts":["s"],"http":[{"fault":{"delay":{"fixedDelay":"1s"},"abort":{"httpStatus":503}},' + V2 + '}]}');
    const f = unset.routes[0].fault!;
    expect(f.delayPerMillion).toBe(0);
    expect(f.abortPerMillion).toBe(0);
    const d = decide(unset, req('/', 's'), new Scripted([0]));
    expect(d.delayMs).toBe(0);
    expect(d.abortStatus).toBe(0);
    const set = cfg(
      '{"hosts":["s"],"http":[{"fault":{"delay":{"fixedDelay":"1s","percent":7},"abort":{"httpStatus":503,"percentage":{"value":0.57}}},' +
        V2 +
        '}]}',
    );
    expect(set.routes[0].fault!.delayPerMillion).toBe(70000);
    expect(set.routes[0].fault!.abortPerMillion).toBe(5699); // 0.57 * 10000 = 5699.99.. in float64, truncated as Go's uint32()
    const all = cfg('{"hosts":["s"],"http":[{"fault":{"abort":{"httpStatus":503,"percentage":{"value":100}}},' + V2 + '}]}');
    expect(decide(all, req('/', 's'), new Scripted([999_999])).abortStatus).toBe(503);
  });

  it('no route for a host of the VirtualService: notFound (Istio answers 404)', () => {
    const c = one('{"uri":{"exact":"/a"}}');
    const d = decide(c, req('/b'), zero());
    expect(d.route).toBeNull();
    expect(d.notFound).toBe(true);
    expect(decide(c, req('/b', 'other'), zero()).notFound).toBe(false);
  });

  it('port: compared with asmesh.port when known; a VirtualService with no route on that port is inert', () => {
    const c = cfg('{"hosts":["service_b"],"asmesh":{"port":9080},"http":[{"match":[{"port":9080}],' + V2 + '}]}');
    const r = req('/').onPort(15001);
    expect(decide(c, r, zero()).route).not.toBeNull();
    expect(r.portReads).toBe(0);
    const inert = cfg('{"hosts":["service_b"],"asmesh":{"port":80},"http":[{"match":[{"port":9080}],' + V2 + '}]}');
    expect(inert.inert).toBe(true);
    expect(decide(inert, req('/'), zero()).notFound).toBe(false);
    const partly = cfg(
      '{"hosts":["service_b"],"asmesh":{"port":80},"http":[{"match":[{"port":9080}],' +
        V2 +
        '},{"match":[{"uri":{"prefix":"/x"}}],' +
        V2 +
        '}]}',
    );
    expect(partly.inert).toBe(false);
    expect(decide(partly, req('/'), zero()).notFound).toBe(true);
    expect(cfg('{"hosts":["s"],"http":[{"match":[{"port":9080}],' + V2 + '}]}').inert).toBe(false);
  });

  it('withoutHeaders: a missing header is matched as the empty value, except presence matches', () => {
    expect(decide(one('{"withoutHeaders":{"x":{"regex":"a*"}}}'), req('/'), zero()).route).toBeNull();
    expect(decide(one('{"withoutHeaders":{"x":{"regex":".*"}}}'), req('/'), zero()).route).toBeNull();
    expect(decide(one('{"withoutHeaders":{"x":{"exact":""}}}'), req('/'), zero()).route).toBeNull();
    expect(decide(one('{"withoutHeaders":{"x":{"exact":"a"}}}'), req('/'), zero()).route).not.toBeNull();
    expect(decide(one('{"withoutHeaders":{"x":{}}}'), req('/'), zero()).route).not.toBeNull();
    expect(decide(one('{"withoutHeaders":{"x":{"regex":".*"}}}'), req('/').with('x', 'v'), zero()).route).toBeNull();
    expect(decide(one('{"withoutHeaders":{"x":{"prefix":"a"}}}'), req('/').with('x', 'b'), zero()).route).not.toBeNull();
  });

  it("Istio's catch-all form: {} on uri, method, authority, scheme matches all; regex * is invalid (Istio's validation)", () => {
    const starErr = parseSteeringConfig(
      String.UTF8.encode('{"hosts":["s"],"http":[{"match":[{"headers":{"x":{"regex":"*"}}}],' + V2 + '}]}'),
    ).error;
    expect(starErr).toBe('$.http[0].match[0].headers.x.regex: invalid regex: missing argument to repetition operator at offset 0');
    expect(decide(one('{"uri":{},"method":{},"authority":{},"scheme":{}}'), req('/x'), zero()).route).not.toBeNull();
  });
});
