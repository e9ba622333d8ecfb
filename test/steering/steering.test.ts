// The steering filter in the harness: Istio VirtualService routing, weighted canary, sticky
// splits, regex and query matches, faults, spoofing, bad configurations.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPlugin, type HttpResult, type Plugin } from '../../host/harness/index.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { badConfigs, faultConfig, regexAndQuery, stickyCanary, v1, v2, virtualServiceSpec } from '../../host/fixtures/steering.ts';

const wasm = join(repoRoot, 'build/steering.wasm');
const names = { pluginName: 'steering', rootId: 'steering', vmId: 'steering' };

function load(config: unknown): Promise<Plugin> {
  return loadPlugin(wasm, { config: typeof config === 'string' ? config : JSON.stringify(config), ...names });
}

function get(path: string, headers: Record<string, string> = {}, authority = 'service_b') {
  return { headers: { ':method': 'GET', ':path': path, ':authority': authority, ':scheme': 'http', ...headers } };
}

function header(r: HttpResult, name: string): string | undefined {
  return r.upstreamRequest?.headers.find(([k]) => k === name)?.[1];
}

function clusterOf(r: HttpResult): string | undefined {
  return header(r, 'x-asmesh-cluster');
}

/** Whether k successes of n are within 5 standard deviations of n*p (false alarm odds ~ 1 in 1.7 million). */
function withinBinomial(k: number, n: number, p: number): { ok: boolean; lo: number; hi: number } {
  const sd = Math.sqrt(n * p * (1 - p));
  const lo = Math.floor(n * p - 5 * sd),
    hi = Math.ceil(n * p + 5 * sd);
  return { ok: k >= lo && k <= hi, lo, hi };
}

test('virtualservice-steering: jason goes to v2, everyone else to v1, route cache cleared, counters per decision', async () => {
  const plugin = await load(virtualServiceSpec('steering'));
  const jason = await plugin.http(get('/reviews', { 'end-user': 'jason' }));
  assert.equal(clusterOf(jason), v2);
  assert.equal(jason.routeCacheClears, 1);
  for (const user of ['alice', 'Jason', 'jason2', '']) {
    const r = await plugin.http(get('/reviews', { 'end-user': user }));
    assert.equal(clusterOf(r), v1, `user ${JSON.stringify(user)}`);
  }
  const anonymous = await plugin.http(get('/reviews'));
  assert.equal(clusterOf(anonymous), v1);
  assert.equal(plugin.metric('route=0;subset=v2;asmesh_steering_decisions_total'), 1);
  assert.equal(plugin.metric('route=1;subset=v1;asmesh_steering_decisions_total'), 5);
  const rules = [
    { tagName: 'route', regex: '[.;](route=([^;]*);)' },
    { tagName: 'subset', regex: '[.;](subset=([^;]*);)' },
  ];
  assert.match(plugin.prometheus(rules), /asmesh_steering_decisions_total\{route="1",subset="v1"\} 5/);
});

test('a debug log line per decision', async () => {
  const plugin = await load(virtualServiceSpec('steering'));
  const r = await plugin.http(get('/', { 'end-user': 'jason' }));
  assert.deepEqual(
    r.logs.filter((l) => l.level === 'debug').map((l) => l.message),
    ['steering: route 0 -> outbound|80|v2|service_b'],
  );
});

test('a client-sent x-asmesh-cluster is removed before deciding, also when no route matches', async () => {
  const plugin = await load(virtualServiceSpec('steering'));
  const spoof = await plugin.http(get('/', { 'x-asmesh-cluster': v2 }));
  assert.equal(clusterOf(spoof), v1);
  assert.equal(spoof.upstreamRequest!.headers.filter(([k]) => k === 'x-asmesh-cluster').length, 1);
  // Another host: the VirtualService does not apply, the spoofed header still goes.
  const other = await plugin.http(get('/', { 'x-asmesh-cluster': v2 }, 'other.example'));
  assert.equal(clusterOf(other), undefined);
  assert.equal(other.routeCacheClears, 1);
});

test('no http route matches a host of the VirtualService: 404 (as Istio); another host passes untouched', async () => {
  const plugin = await load({
    hosts: ['service_b'],
    http: [{ match: [{ uri: { prefix: '/only' } }], route: [{ destination: { host: 'service_b', subset: 'v2' } }] }],
  });
  const notFound = await plugin.http(get('/elsewhere', { 'x-keep': '1' }));
  assert.equal(notFound.response.status, 404);
  assert.equal(notFound.response.bodyText, '');
  const r = await plugin.http(get('/elsewhere', { 'x-keep': '1' }, 'other.example'));
  assert.deepEqual(r.upstreamRequest!.headers, [
    [':method', 'GET'],
    [':path', '/elsewhere'],
    [':authority', 'other.example'],
    [':scheme', 'http'],
    ['x-keep', '1'],
  ]);
  assert.equal(r.routeCacheClears, 0);
  assert.equal(plugin.metric('asmesh_steering_unmatched_total'), 2);
  assert.equal(clusterOf(await plugin.http(get('/only/x'))), v2);
});

test('hosts: short names, FQDNs with port, wildcards', async () => {
  const plugin = await load(virtualServiceSpec('steering'));
  assert.equal(clusterOf(await plugin.http(get('/', {}, 'service_b:80'))), v1);
  assert.equal(clusterOf(await plugin.http(get('/', {}, 'service_b.default.svc.cluster.local:9080'))), v1);
  assert.equal(clusterOf(await plugin.http(get('/', {}, 'service_bx'))), undefined);
  assert.equal(clusterOf(await plugin.http(get('/', {}, 'service_b.evil.com'))), undefined);
  const wild = await load({ hosts: ['*.example.com'], http: [{ route: [{ destination: { host: 'service_b', subset: 'v2' } }] }] });
  assert.equal(clusterOf(await wild.http(get('/', {}, 'a.example.com'))), v2);
  assert.equal(clusterOf(await wild.http(get('/', {}, 'example.com'))), undefined);
});

test('virtualservice-canary: 95/5 over 10,000 requests within the binomial bound', async () => {
  const plugin = await load(virtualServiceSpec('canary'));
  const n = 10_000;
  let toV2 = 0;
  for (let i = 0; i < n; i++) {
    const c = clusterOf(await plugin.http(get('/')));
    if (c === v2) toV2++;
    else assert.equal(c, v1);
  }
  const b = withinBinomial(toV2, n, 0.05);
  assert.ok(b.ok, `${toV2} of ${n} to v2, expected within [${b.lo}, ${b.hi}]`);
  assert.equal(plugin.metric('route=0;subset=v2;asmesh_steering_decisions_total'), toV2);
  assert.equal(plugin.metric('route=0;subset=v1;asmesh_steering_decisions_total'), n - toV2);
});

test('sticky key (header): a user never switches subset; users spread by weight', async () => {
  const plugin = await load(stickyCanary({ header: 'x-user' }));
  const users = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
  const first = new Map<string, string>();
  for (let round = 0; round < 3; round++) {
    for (const u of users) {
      const c = clusterOf(await plugin.http(get('/', { 'x-user': u })))!;
      if (round === 0) first.set(u, c);
      else assert.equal(c, first.get(u), `${u} switched subset`);
    }
  }
  const onV2 = [...first.values()].filter((c) => c === v2).length;
  const b = withinBinomial(onV2, users.length, 0.05);
  assert.ok(b.ok, `${onV2} of ${users.length} users on v2, expected within [${b.lo}, ${b.hi}]`);
  assert.ok(r(plugin).some((l) => l.includes('(sticky)')));
});

function r(plugin: Plugin): string[] {
  return plugin.logs.map((l) => l.message);
}

test('sticky key (cookie): the cookie value picks the subset; no cookie falls back to random', async () => {
  const plugin = await load(stickyCanary({ cookie: 'session' }));
  const seen = new Map<string, string>();
  for (let i = 0; i < 300; i++) {
    const s = `s${i % 100}`;
    const c = clusterOf(await plugin.http(get('/', { cookie: `theme=dark; session=${s}; x=1` })))!;
    if (seen.has(s)) assert.equal(c, seen.get(s));
    seen.set(s, c);
  }
  assert.ok([...seen.values()].includes(v2) || [...seen.values()].includes(v1));
  const random = await plugin.http(get('/', { cookie: 'theme=dark' }));
  assert.ok([v1, v2].includes(clusterOf(random)!));
});

test('regex and query parameter matches', async () => {
  const plugin = await load(regexAndQuery);
  assert.equal(clusterOf(await plugin.http(get('/api/v2/users'))), v2);
  assert.equal(clusterOf(await plugin.http(get('/api/v2/users?x=1'))), v2, 'the query is not part of the uri');
  assert.equal(clusterOf(await plugin.http(get('/api/v1/users'))), v1);
  assert.equal(clusterOf(await plugin.http(get('/api/v1/users?a=b&version=v2'))), v2);
  assert.equal(clusterOf(await plugin.http(get('/api/v1/users?version=v22'))), v1);
  assert.equal(clusterOf(await plugin.http(get('/x', { 'x-user': 'BETA-bob-42' }))), v2);
  assert.equal(clusterOf(await plugin.http(get('/x', { 'x-user': 'beta-bob-42x' }))), v1);
});

test('a pathological regex over a long header value stays linear', async () => {
  const plugin = await load({
    hosts: ['service_b'],
    http: [
      { match: [{ headers: { 'x-a': { regex: '(a*)*b' } } }], route: [{ destination: { host: 'service_b', subset: 'v2' } }] },
      { route: [{ destination: { host: 'service_b', subset: 'v1' } }] },
    ],
  });
  const long = 'a'.repeat(10_000);
  assert.equal(clusterOf(await plugin.http(get('/', { 'x-a': long }))), v1);
  assert.equal(clusterOf(await plugin.http(get('/', { 'x-a': long + 'b' }))), v2);
});

test('match fields: method, withoutHeaders, authority, port, ignoreUriCase, header presence', async () => {
  const cfg = {
    hosts: ['service_b'],
    http: [
      {
        name: 'post',
        match: [{ method: { exact: 'POST' }, withoutHeaders: { 'x-legacy': {} } }],
        route: [{ destination: { host: 'service_b', subset: 'v2' } }],
      },
      { name: 'port', match: [{ port: 9080 }], route: [{ destination: { host: 'service_b', subset: 'v2', port: { number: 9080 } } }] },
      {
        name: 'login',
        match: [{ uri: { exact: '/Login' }, ignoreUriCase: true }],
        route: [{ destination: { host: 'service_b', subset: 'v2' } }],
      },
      { name: 'canary-header', match: [{ headers: { 'x-canary': {} } }], route: [{ destination: { host: 'service_b', subset: 'v2' } }] },
      { route: [{ destination: { host: 'service_b', subset: 'v1' } }] },
    ],
  };
  const plugin = await load(cfg);
  const post = (headers: Record<string, string>) => ({ headers: { ...get('/').headers, ':method': 'POST', ...headers } });
  assert.equal(clusterOf(await plugin.http(post({}))), v2);
  assert.equal(clusterOf(await plugin.http(post({ 'x-legacy': 'yes' }))), v1);
  // port is the listener's (Envoy's destination.port), not the :authority's.
  assert.equal(clusterOf(await plugin.http({ ...get('/'), properties: { 'destination.port': 9080n } })), 'outbound|9080|v2|service_b');
  assert.equal(clusterOf(await plugin.http({ ...get('/', {}, 'service_b:9080'), properties: { 'destination.port': 15001n } })), v1);
  assert.equal(clusterOf(await plugin.http(get('/LOGIN'))), v2);
  assert.equal(clusterOf(await plugin.http(get('/login/x'))), v1);
  assert.equal(clusterOf(await plugin.http(get('/', { 'x-canary': '' }))), v2);
});

test('asmesh.clusterName and asmesh.defaultPort shape the cluster name', async () => {
  const plugin = await load({ ...virtualServiceSpec('steering'), asmesh: { clusterName: '{host}-{subset}-{port}', defaultPort: 8080 } });
  assert.equal(clusterOf(await plugin.http(get('/', { 'end-user': 'jason' }))), 'service_b-v2-8080');
});

test('headers.request and headers.response: set, add, remove', async () => {
  const plugin = await load({
    hosts: ['service_b'],
    http: [
      {
        headers: {
          request: { set: { 'x-env': 'canary' }, add: { 'x-trace': 'steering' }, remove: ['x-drop'] },
          response: { set: { 'x-route': 'r0' }, remove: ['x-internal'] },
        },
        route: [{ destination: { host: 'service_b', subset: 'v1' }, headers: { request: { set: { 'x-dest': 'v1' } } } }],
      },
    ],
  });
  const res = await plugin.http({
    ...get('/', { 'x-env': 'prod', 'x-drop': '1', 'x-trace': 'a' }),
    upstream: { status: 200, headers: { 'x-internal': 'secret' } },
  });
  const up = res.upstreamRequest!.headers;
  assert.deepEqual(
    up.filter(([k]) => k === 'x-env'),
    [['x-env', 'canary']],
  );
  assert.deepEqual(
    up.filter(([k]) => k === 'x-trace'),
    [
      ['x-trace', 'a'],
      ['x-trace', 'steering'],
    ],
  );
  assert.equal(header(res, 'x-drop'), undefined);
  assert.equal(header(res, 'x-dest'), 'v1');
  assert.deepEqual(
    res.response.headers.filter(([k]) => k === 'x-route' || k === 'x-internal'),
    [['x-route', 'r0']],
  );
});

test('fault abort at 100%: local reply 503 "fault filter abort", the upstream is never reached', async () => {
  const plugin = await load(faultConfig({ abort: { httpStatus: 503, percentage: { value: 100 } } }));
  for (let i = 0; i < 20; i++) {
    const res = await plugin.http(get('/'));
    assert.equal(res.response.status, 503);
    assert.equal(res.response.local, true);
    assert.equal(res.response.bodyText, 'fault filter abort');
    assert.equal(res.upstreamRequest, null);
  }
  assert.equal(plugin.metric('route=faulty;fault=abort;asmesh_steering_faults_total'), 20);
});

test('fault abort at 50%: the abort count is within the binomial bound', async () => {
  const plugin = await load(faultConfig({ abort: { httpStatus: 500, percentage: { value: 50 } } }));
  const n = 4000;
  let aborted = 0;
  for (let i = 0; i < n; i++) {
    const res = await plugin.http(get('/'));
    if (res.response.status === 500) {
      aborted++;
      assert.equal(res.upstreamRequest, null);
    } else assert.equal(res.response.status, 200);
  }
  const b = withinBinomial(aborted, n, 0.5);
  assert.ok(b.ok, `${aborted} of ${n} aborted, expected within [${b.lo}, ${b.hi}]`);
});

test('fault delay: the request waits for the timer, then reaches the upstream (body buffered meanwhile)', async () => {
  const plugin = await load(faultConfig({ delay: { fixedDelay: '1.5s', percentage: { value: 100 } } }));
  const paused = await plugin.http({ ...get('/'), body: 'payload' });
  assert.equal(paused.paused, true);
  assert.equal(paused.upstreamRequest, null);
  await plugin.tick(1499);
  await plugin.tick(1);
  const done = await paused.completion!;
  assert.equal(done.response.status, 200);
  assert.equal(done.upstreamRequest!.bodyText, 'payload');
  assert.equal(clusterOf(done), v1);
  assert.equal(plugin.nowMs(), 1500);
  assert.equal(plugin.metric('route=faulty;fault=delay;asmesh_steering_faults_total'), 1);
});

test('fault delay then abort: the abort comes after the delay', async () => {
  const plugin = await load(
    faultConfig({ delay: { fixedDelay: '100ms', percentage: { value: 100 } }, abort: { httpStatus: 429, percentage: { value: 100 } } }),
  );
  const paused = await plugin.http(get('/'));
  assert.equal(paused.paused, true);
  await plugin.tick(100);
  const done = await paused.completion!;
  assert.equal(done.response.status, 429);
  assert.equal(done.response.bodyText, 'fault filter abort');
});

for (const bad of badConfigs) {
  test(`a bad configuration is rejected: ${bad.name}`, async () => {
    await assert.rejects(load(bad.config), (e: Error) => {
      assert.match(e.message, /Failed to configure base Wasm plugin/);
      assert.match(e.message, bad.error);
      return true;
    });
  });
}

test('ignored Istio fields (timeout, retries) load with a warning', async () => {
  const plugin = await load({
    hosts: ['service_b'],
    http: [{ timeout: '10s', retries: { attempts: 3 }, route: [{ destination: { host: 'service_b' } }] }],
  });
  assert.deepEqual(plugin.logsAt('warn'), [
    'steering: config $.http[0].timeout: not enforced by asmesh steering, ignored',
    'steering: config $.http[0].retries: not enforced by asmesh steering, ignored',
  ]);
  assert.equal(clusterOf(await plugin.http(get('/'))), 'outbound|80||service_b');
});

test('odd requests never trap: missing pseudo-headers, bad authorities, odd queries and cookies, non-UTF-8 values', async () => {
  const plugin = await load({
    ...stickyCanary({ cookie: 'session' }),
    http: [
      {
        match: [{ queryParams: { v: { regex: '\\d+' } } }, { uri: { regex: '/ü.*' } }],
        route: [{ destination: { host: 'service_b', subset: 'v2' } }],
      },
      ...(virtualServiceSpec('canary').http as unknown[]),
    ],
  });
  const odd: Record<string, string>[] = [
    { ':method': 'GET' },
    { ':method': 'GET', ':path': '', ':authority': '' },
    { ':method': 'GET', ':path': '/?', ':authority': '[' },
    { ':method': 'GET', ':path': '/?&&=&v', ':authority': '[::1' },
    { ':method': 'GET', ':path': '/?v=12&v=x', ':authority': 'service_b:99999999' },
    { ':method': 'GET', ':path': '/#frag?v=1', ':authority': 'service_b:', cookie: ';;;=;session' },
    { ':method': 'GET', ':path': '/ü/x', ':authority': 'SERVICE_B', cookie: 'session="' },
    { ':method': 'GET', ':path': '/%ff%fe', ':authority': 'service_b', cookie: 'session=\u00ff\u00fe', 'x-bytes': '\u00c3\u0028' },
  ];
  for (const headers of odd) {
    const r = await plugin.http({ headers });
    assert.equal(plugin.failed, false, `trapped on ${JSON.stringify(headers)}`);
    assert.equal(r.response.status, 200, JSON.stringify(headers));
  }
  assert.equal(clusterOf(await plugin.http(get('/?v=12&v=x'))), v2);
  assert.equal(clusterOf(await plugin.http(get('/ü/x'))), v2);
  assert.equal(clusterOf(await plugin.http(get('/x', {}, 'SERVICE_B:80'))) !== undefined, true, 'host names compare case-insensitively');
});
