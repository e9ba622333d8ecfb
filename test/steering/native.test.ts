// The steering filter's matching against Envoy's own route matching, in real Envoy: each case is an
// Istio match block and the Envoy RouteMatch Istio translates it to. One Envoy routes natively (no
// wasm filter), one runs the steering filter; the same requests go to both and must land on the same
// subset, which must also be the one the case expects.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectionManagers } from '../../host/envoy/config.ts';
import { send, startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { v1, v2 } from '../../host/fixtures/steering.ts';

interface Case {
  name: string;
  /** The Istio HTTPMatchRequest (without the x-case selector). */
  istio: Record<string, unknown>;
  /** The Envoy RouteMatch (without the x-case selector); path specifier defaults to prefix '/'. */
  envoy: Record<string, any>;
  /** Request path, extra headers, whether it matches (v2) or not (v1). */
  requests: { path: string; headers?: [string, string][]; match: boolean }[];
}

const cases: Case[] = [
  {
    name: 'query value: no percent-decoding',
    istio: { queryParams: { v: { exact: 'a b' } } },
    envoy: { query_parameters: [{ name: 'v', string_match: { exact: 'a b' } }] },
    requests: [
      { path: '/?v=a%20b', match: false },
      { path: '/?v=a+b', match: false },
    ],
  },
  {
    name: "query value: '+' is a '+', %2B is not",
    istio: { queryParams: { v: { exact: 'a+b' } } },
    envoy: { query_parameters: [{ name: 'v', string_match: { exact: 'a+b' } }] },
    requests: [
      { path: '/?v=a+b', match: true },
      { path: '/?v=a%2Bb', match: false },
      { path: '/?v=a%2bb', match: false },
      { path: '/?v=a%20b', match: false },
    ],
  },
  {
    name: 'query value: the escapes are compared as written',
    istio: { queryParams: { v: { exact: '%C3%A9%zz' } } },
    envoy: { query_parameters: [{ name: 'v', string_match: { exact: '%C3%A9%zz' } }] },
    requests: [
      { path: '/?v=%C3%A9%zz', match: true },
      { path: '/?v=%c3%a9%zz', match: false },
    ],
  },
  {
    name: 'query name: raw; the first value counts',
    istio: { queryParams: { 'v%201': { exact: '2' } } },
    envoy: { query_parameters: [{ name: 'v%201', string_match: { exact: '2' } }] },
    requests: [
      { path: '/?v%201=2', match: true },
      { path: '/?v%201=1&v%201=2', match: false },
      { path: '/?v%201=2&v%201=1', match: true },
      { path: '/?v+1=2', match: false },
    ],
  },
  {
    name: 'query regex on the raw value',
    istio: { queryParams: { v: { regex: 'a/b' } } },
    envoy: { query_parameters: [{ name: 'v', string_match: { safe_regex: { regex: 'a/b' } } }] },
    requests: [
      { path: '/?v=a/b', match: true },
      { path: '/?v=a%2Fb', match: false },
    ],
  },
  {
    name: 'query presence',
    istio: { queryParams: { v: {} } },
    envoy: { query_parameters: [{ name: 'v', present_match: true }] },
    requests: [
      { path: '/?v', match: true },
      { path: '/?v=', match: true },
      { path: '/?x=1&v=2', match: true },
      { path: '/?vv=1', match: false },
    ],
  },
  {
    name: 'a repeated header matches when any value does: the first',
    istio: { headers: { 'x-h': { exact: 'a' } } },
    envoy: { headers: [{ name: 'x-h', string_match: { exact: 'a' } }] },
    requests: [
      {
        path: '/',
        headers: [
          ['x-h', 'a'],
          ['x-h', 'b'],
        ],
        match: true,
      },
      { path: '/', headers: [['x-h', 'a,b']], match: false },
    ],
  },
  {
    name: 'a repeated header matches when any value does: the second',
    istio: { headers: { 'x-h': { exact: 'b' } } },
    envoy: { headers: [{ name: 'x-h', string_match: { exact: 'b' } }] },
    requests: [
      {
        path: '/',
        headers: [
          ['x-h', 'a'],
          ['x-h', 'b'],
        ],
        match: true,
      },
      {
        path: '/',
        headers: [
          ['x-h', 'a'],
          ['x-h', 'c'],
        ],
        match: false,
      },
    ],
  },
  {
    name: "a repeated header is not matched as its values joined with ','",
    istio: { headers: { 'x-h': { exact: 'a,b' } } },
    envoy: { headers: [{ name: 'x-h', string_match: { exact: 'a,b' } }] },
    requests: [
      {
        path: '/',
        headers: [
          ['x-h', 'a'],
          ['x-h', 'b'],
        ],
        match: false,
      },
      { path: '/', headers: [['x-h', 'a,b']], match: true },
    ],
  },
  {
    name: 'a repeated header: prefix and regex per value',
    istio: { headers: { 'x-h': { prefix: 'a,' }, 'x-r': { regex: '2' } } },
    envoy: {
      headers: [
        { name: 'x-h', string_match: { prefix: 'a,' } },
        { name: 'x-r', string_match: { safe_regex: { regex: '2' } } },
      ],
    },
    requests: [
      {
        path: '/',
        headers: [
          ['x-h', 'a,c'],
          ['x-r', '1'],
          ['x-r', '2'],
          ['x-r', '3'],
        ],
        match: true,
      },
      {
        path: '/',
        headers: [
          ['x-h', 'a'],
          ['x-h', 'b'],
          ['x-r', '1'],
          ['x-r', '2'],
        ],
        match: false,
      },
      {
        path: '/',
        headers: [
          ['x-h', 'a,b'],
          ['x-r', '1'],
          ['x-r', '3'],
        ],
        match: false,
      },
    ],
  },
  {
    name: 'withoutHeaders with a repeated header: no value may match',
    istio: { withoutHeaders: { 'x-h': { exact: 'b' } } },
    envoy: { headers: [{ name: 'x-h', string_match: { exact: 'b' }, invert_match: true }] },
    requests: [
      {
        path: '/',
        headers: [
          ['x-h', 'a'],
          ['x-h', 'b'],
        ],
        match: false,
      },
      {
        path: '/',
        headers: [
          ['x-h', 'a'],
          ['x-h', 'c'],
        ],
        match: true,
      },
    ],
  },
  {
    name: 'withoutHeaders exact "": a missing header is the empty value (treat_missing_header_as_empty)',
    istio: { withoutHeaders: { 'x-w': { exact: '' } } },
    envoy: { headers: [{ name: 'x-w', string_match: { exact: '' }, invert_match: true, treat_missing_header_as_empty: true }] },
    requests: [
      { path: '/', match: false },
      { path: '/', headers: [['x-w', '']], match: false },
      { path: '/', headers: [['x-w', 'a']], match: true },
    ],
  },
  {
    name: 'withoutHeaders regex a*: a missing header matches the regex, so the block fails',
    istio: { withoutHeaders: { 'x-w': { regex: 'a*' } } },
    envoy: {
      headers: [{ name: 'x-w', string_match: { safe_regex: { regex: 'a*' } }, invert_match: true, treat_missing_header_as_empty: true }],
    },
    requests: [
      { path: '/', match: false },
      { path: '/', headers: [['x-w', 'aa']], match: false },
      { path: '/', headers: [['x-w', 'b']], match: true },
    ],
  },
  {
    name: 'withoutHeaders exact a: a missing header does not match, so the block holds',
    istio: { withoutHeaders: { 'x-w': { exact: 'a' } } },
    envoy: { headers: [{ name: 'x-w', string_match: { exact: 'a' }, invert_match: true, treat_missing_header_as_empty: true }] },
    requests: [
      { path: '/', match: true },
      { path: '/', headers: [['x-w', 'a']], match: false },
    ],
  },
  {
    name: 'withoutHeaders {}: presence inverted, no treat_missing_header_as_empty',
    istio: { withoutHeaders: { 'x-w': {} } },
    envoy: { headers: [{ name: 'x-w', present_match: true, invert_match: true }] },
    requests: [
      { path: '/', match: true },
      { path: '/', headers: [['x-w', '']], match: false },
    ],
  },
  {
    name: 'uri exact ignores the query string',
    istio: { uri: { exact: '/a' } },
    envoy: { path: '/a' },
    requests: [
      { path: '/a', match: true },
      { path: '/a?x=1', match: true },
      { path: '/a/', match: false },
      { path: '/A', match: false },
      { path: '/a%3Fx', match: false },
    ],
  },
  {
    name: 'uri exact with ignoreUriCase',
    istio: { uri: { exact: '/a' }, ignoreUriCase: true },
    envoy: { path: '/a', case_sensitive: false },
    requests: [
      { path: '/A?X=1', match: true },
      { path: '/b', match: false },
    ],
  },
  {
    name: 'uri prefix with ignoreUriCase',
    istio: { uri: { prefix: '/api' }, ignoreUriCase: true },
    envoy: { prefix: '/api', case_sensitive: false },
    requests: [
      { path: '/API/x', match: true },
      { path: '/apix?q', match: true },
      { path: '/ap', match: false },
    ],
  },
  {
    name: 'uri prefix stops before the query string',
    istio: { uri: { prefix: '/a?x=' } },
    envoy: { prefix: '/a?x=' },
    requests: [
      { path: '/a?x=1', match: false },
      { path: '/a?y=1', match: false },
    ],
  },
  {
    name: 'uri regex ignores ignoreUriCase and the query string',
    istio: { uri: { regex: '/a[0-9]' }, ignoreUriCase: true },
    envoy: { safe_regex: { regex: '/a[0-9]' }, case_sensitive: false },
    requests: [
      { path: '/a1?q=2', match: true },
      { path: '/A1', match: false },
    ],
  },
];

function nativeRoutes(): unknown[] {
  const routes: unknown[] = cases.map((c, i) => {
    const m = { ...c.envoy };
    if (m.path === undefined && m.prefix === undefined && m.safe_regex === undefined) m.prefix = '/';
    m.headers = [...(m.headers ?? []), { name: 'x-case', string_match: { exact: String(i) } }];
    return { match: m, route: { cluster: v2 } };
  });
  routes.push({ match: { prefix: '/' }, route: { cluster: v1 } });
  return routes;
}

const steeringConfig = {
  hosts: ['service_b'],
  http: [
    ...cases.map((c, i) => ({
      name: `case${i}`,
      match: [{ ...c.istio, headers: { ...((c.istio.headers ?? {}) as object), 'x-case': { exact: String(i) } } }],
      route: [{ destination: { host: 'service_b', subset: 'v2' } }],
    })),
    { name: 'default', route: [{ destination: { host: 'service_b', subset: 'v1' } }] },
  ],
};

let upstreams: Upstreams;
let native: Envoy;
let steered: Envoy;

before(async () => {
  upstreams = await Upstreams.start();
  native = await startEnvoy({
    filters: [],
    upstreams: upstreams.endpoints(),
    edit: (b) => {
      connectionManagers(b)[0]!.route_config.virtual_hosts[0].routes = nativeRoutes();
    },
  });
  steered = await startEnvoy({ filters: [{ name: 'steering', config: steeringConfig }], upstreams: upstreams.endpoints() });
});

after(async () => {
  await native?.stop();
  await steered?.stop();
  await upstreams?.close();
});

async function servedBy(envoy: Envoy, path: string, headers: [string, string][]): Promise<string> {
  const reply = await send(envoy.listenerUrl, path, { headers: [['host', 'service_b'], ...headers] });
  assert.equal(reply.status, 200, `${path}: status ${reply.status} ${reply.body.slice(0, 200)}`);
  return reply.headers['x-served-by'] ?? '';
}

for (const [i, c] of cases.entries()) {
  test(`native Envoy and steering agree: ${c.name}`, async () => {
    for (const r of c.requests) {
      const headers: [string, string][] = [['x-case', String(i)], ...(r.headers ?? [])];
      const what = `${r.path} ${JSON.stringify(r.headers ?? [])}`;
      const want = r.match ? 'service_b/v2' : 'service_b/v1';
      assert.equal(await servedBy(native, r.path, headers), want, `native Envoy, ${what}`);
      assert.equal(await servedBy(steered, r.path, headers), want, `steering filter, ${what}`);
    }
  });
}
