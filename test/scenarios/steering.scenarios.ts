// Scenarios of the steering filter (harness and Envoy): the Istio samples verbatim, weighted canary,
// sticky users, regex and query matches, faults, spoofing, bad configurations.
import assert from 'node:assert/strict';
import { portOutsideEphemeralRange } from '../../host/fixtures/ports.ts';
import { badConfigs, faultConfig, regexAndQuery, stickyCanary, v1, v2, virtualServiceSpec } from '../../host/fixtures/steering.ts';
import type { Scenario, ScenarioStep, StepResult } from './types.ts';

const steering = (config: unknown) => [{ name: 'steering' as const, config }];

/** k of n within 5 standard deviations of n*p: a false alarm about once in 1.7 million runs. */
function assertBinomial(what: string, k: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  const lo = Math.floor(n * p - 5 * sd),
    hi = Math.ceil(n * p + 5 * sd);
  assert.ok(k >= lo && k <= hi, `${what}: ${k} of ${n}, expected within [${lo}, ${hi}] (p=${p})`);
}

// The port match needs the listener port in the configuration: picked before Envoy starts.
const LISTENER_PORT = await portOutsideEphemeralRange();

const toV2 = [{ destination: { host: 'service_b', subset: 'v2' } }];
const toV1 = [{ destination: { host: 'service_b', subset: 'v1' } }];
const decisions = (route: string, subset: string) => `route=${route};subset=${subset};asmesh_steering_decisions_total`;

/** The canary subset (95/5) the sticky hash picks for a key: FNV-1a 64 of its UTF-8 bytes, mod 100. */
function stickySubset(key: string): 'v1' | 'v2' {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(key, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h % 100n < 95n ? 'v1' : 'v2';
}
/** Users for the split-cookie scenario: 6 the hash sends to v2 and 6 to v1. */
const SPLIT_COOKIE_USERS = (() => {
  const users = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
  return [...users.filter((u) => stickySubset(u) === 'v2').slice(0, 6), ...users.filter((u) => stickySubset(u) === 'v1').slice(0, 6)];
})();

const count = (results: StepResult[], pred: (r: StepResult) => boolean) => results.filter(pred).length;

function stickySteps(users: number, repeat: number, header: (u: string) => Record<string, string>): ScenarioStep[] {
  return Array.from({ length: users }, (_, i) => `user-${i}`).map((u) => ({
    name: `sticky ${u}`,
    request: { path: '/sticky', headers: header(u) },
    expect: { status: 200 },
    repeat,
    check: (results: StepResult[]) => {
      for (const r of results) assert.match(r.servedBy ?? '', /^service_b\/v[12]$/);
      const subsets = new Set(results.map((r) => r.servedBy));
      assert.equal(subsets.size, 1, `${u} switched subsets: ${[...subsets].join(', ')}`);
    },
  }));
}

export const scenarios: Scenario[] = [
  {
    name: 'virtualservice-steering: jason goes to v2, everyone else to v1',
    filters: steering(virtualServiceSpec('steering')),
    steps: [
      {
        name: 'jason',
        request: { path: '/reviews', headers: { 'end-user': 'jason' } },
        expect: { status: 200, servedBy: 'service_b/v2', upstreamHeaders: { 'x-asmesh-cluster': null, 'end-user': 'jason' } },
      },
      {
        name: 'alice',
        request: { path: '/reviews', headers: { 'end-user': 'alice' } },
        expect: { status: 200, servedBy: 'service_b/v1', upstreamHeaders: { 'x-asmesh-cluster': null } },
      },
      {
        name: 'Jason (case matters)',
        request: { path: '/reviews', headers: { 'end-user': 'Jason' } },
        expect: { status: 200, servedBy: 'service_b/v1' },
      },
      { name: 'anonymous', request: { path: '/reviews' }, expect: { status: 200, servedBy: 'service_b/v1' }, repeat: 3 },
    ],
    metrics: { 'route=0;subset=v2;asmesh_steering_decisions_total': 1, 'route=1;subset=v1;asmesh_steering_decisions_total': 5 },
    logs: [/wasm log steering steering steering: steering: route 0 -> outbound\|80\|v2\|service_b/],
  },
  {
    name: 'a spoofed x-asmesh-cluster is ignored',
    filters: steering(virtualServiceSpec('steering')),
    steps: [
      {
        name: 'anonymous asks for v2',
        request: { headers: { 'x-asmesh-cluster': v2 } },
        expect: { status: 200, servedBy: 'service_b/v1', upstreamHeaders: { 'x-asmesh-cluster': null } },
      },
      {
        name: 'jason asks for v1',
        request: { headers: { 'end-user': 'jason', 'x-asmesh-cluster': v1 } },
        expect: { status: 200, servedBy: 'service_b/v2' },
      },
      {
        name: 'another host asks for v2: no route applies, the header is still dropped',
        request: { authority: 'other.example', headers: { 'x-asmesh-cluster': v2 } },
        expect: { status: 200, servedBy: 'service_b', upstreamHeaders: { 'x-asmesh-cluster': null } },
      },
    ],
    metrics: { asmesh_steering_unmatched_total: 1 },
  },
  {
    name: 'virtualservice-canary: 95/5 over 2,000 requests within the binomial bound',
    filters: steering(virtualServiceSpec('canary')),
    steps: [
      {
        request: { path: '/canary' },
        expect: { status: 200 },
        repeat: 2000,
        check: (results) => {
          assert.equal(
            count(results, (r) => r.servedBy === 'service_b/v1') + count(results, (r) => r.servedBy === 'service_b/v2'),
            results.length,
          );
          assertBinomial(
            'requests on v2',
            count(results, (r) => r.servedBy === 'service_b/v2'),
            results.length,
            0.05,
          );
        },
      },
    ],
  },
  {
    name: 'sticky header: 60 users, each stays on one subset across 5 requests',
    filters: steering(stickyCanary({ header: 'x-user' })),
    steps: stickySteps(60, 5, (u) => ({ 'x-user': u })),
  },
  {
    name: 'sticky cookie: each session stays on one subset',
    filters: steering(stickyCanary({ cookie: 'session' })),
    steps: stickySteps(30, 4, (u) => ({ cookie: `theme=dark; session=${u}` })),
  },
  {
    name: 'sticky cookie: the session cookie in a second cookie header picks the subset its hash says',
    filters: steering(stickyCanary({ cookie: 'session' })),
    steps: SPLIT_COOKIE_USERS.map((u): ScenarioStep => ({
      name: `split cookie ${u}`,
      request: {
        path: '/sticky',
        headers: [
          ['cookie', 'theme=dark'],
          ['cookie', `session=${u}`],
        ],
      },
      expect: { status: 200, servedBy: `service_b/${stickySubset(u)}` },
      repeat: 3,
    })),
  },
  {
    name: 'regex and query parameter matches',
    filters: steering(regexAndQuery),
    steps: [
      { name: 'uri regex', request: { path: '/api/v2/users' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { name: 'uri regex ignores the query', request: { path: '/api/v2/users?page=2' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { name: 'uri regex is a full match', request: { path: '/x/api/v2/users' }, expect: { status: 200, servedBy: 'service_b/v1' } },
      {
        name: 'query parameter exact',
        request: { path: '/api/v1/users?a=1&version=v2' },
        expect: { status: 200, servedBy: 'service_b/v2' },
      },
      {
        name: 'query parameter mismatch',
        request: { path: '/api/v1/users?version=v3' },
        expect: { status: 200, servedBy: 'service_b/v1' },
      },
      { name: 'header regex (?i)', request: { headers: { 'x-user': 'Beta-Ann-7' } }, expect: { status: 200, servedBy: 'service_b/v2' } },
      {
        name: 'header regex mismatch',
        request: { headers: { 'x-user': 'beta-ann-12345' } },
        expect: { status: 200, servedBy: 'service_b/v1' },
      },
    ],
  },
  {
    name: 'a pathological regex ((a*)*b) over a 10,000-character header stays linear',
    filters: steering({
      hosts: ['service_b'],
      http: [
        {
          name: 'evil',
          match: [{ headers: { 'x-a': { regex: '(a*)*b' } } }],
          route: [{ destination: { host: 'service_b', subset: 'v2' } }],
        },
        { route: [{ destination: { host: 'service_b', subset: 'v1' } }] },
      ],
    }),
    steps: [
      { name: 'no match', request: { headers: { 'x-a': 'a'.repeat(10_000) } }, expect: { status: 200, servedBy: 'service_b/v1' } },
      { name: 'match', request: { headers: { 'x-a': 'a'.repeat(10_000) + 'b' } }, expect: { status: 200, servedBy: 'service_b/v2' } },
    ],
  },
  {
    name: 'fault abort 503 at 100%',
    filters: steering(faultConfig({ abort: { httpStatus: 503, percentage: { value: 100 } } })),
    steps: [{ request: { path: '/abort' }, expect: { status: 503, servedBy: null, body: 'fault filter abort' }, repeat: 10 }],
    metrics: { 'route=faulty;fault=abort;asmesh_steering_faults_total': 10 },
  },
  {
    name: 'fault abort at 50%: the abort count is within the binomial bound',
    filters: steering(faultConfig({ abort: { httpStatus: 503, percentage: { value: 50 } } })),
    steps: [
      {
        request: { path: '/maybe' },
        expect: {},
        repeat: 800,
        check: (results) => {
          const aborted = results.filter((r) => r.status === 503);
          for (const r of aborted) assert.equal(r.body, 'fault filter abort');
          assert.equal(
            count(results, (r) => r.status === 200 && r.servedBy === 'service_b/v1'),
            results.length - aborted.length,
          );
          assertBinomial('aborted requests', aborted.length, results.length, 0.5);
        },
      },
    ],
  },
  {
    name: 'fault delay: the request is held, then reaches the upstream',
    filters: steering(faultConfig({ delay: { fixedDelay: '0.2s', percentage: { value: 100 } } })),
    steps: [
      {
        request: { method: 'POST', path: '/slow', body: 'held' },
        expect: { status: 200, servedBy: 'service_b/v1', body: /"body":"held"/ },
        repeat: 2,
      },
    ],
    metrics: { 'route=faulty;fault=delay;asmesh_steering_faults_total': 2 },
  },
  {
    name: 'port: the listener port (destination.port) matches, the :authority port does not',
    filters: steering({
      hosts: ['service_b'],
      http: [
        { name: 'authority-port', match: [{ port: 9080 }], route: toV2 },
        { name: 'listener-port', match: [{ port: LISTENER_PORT, headers: { 'x-probe': { exact: 'listener' } } }], route: toV2 },
        { name: 'default', route: toV1 },
      ],
    }),
    listenerPort: LISTENER_PORT,
    steps: [
      {
        name: 'authority says 9080, the listener is elsewhere',
        request: { authority: 'service_b:9080' },
        expect: { status: 200, servedBy: 'service_b/v1' },
      },
      {
        name: 'the listener port, no port in the authority',
        request: { headers: { 'x-probe': 'listener' } },
        expect: { status: 200, servedBy: 'service_b/v2' },
      },
      {
        name: 'the listener port, another port in the authority',
        request: { authority: 'service_b:9080', headers: { 'x-probe': 'listener' } },
        expect: { status: 200, servedBy: 'service_b/v2' },
      },
    ],
    metrics: { [decisions('listener-port', 'v2')]: 2, [decisions('default', 'v1')]: 1 },
  },
  {
    name: 'a header sent twice matches when any of its values does (as Envoy header matchers)',
    filters: steering({
      hosts: ['service_b'],
      http: [
        { name: 'second-value', match: [{ headers: { 'x-h': { exact: 'b' } } }], route: toV2 },
        { name: 'joined', match: [{ headers: { 'x-j': { exact: 'a,b' } } }], route: toV2 },
        { name: 'without', match: [{ headers: { 'x-w': {} }, withoutHeaders: { 'x-w': { exact: 'b' } } }], route: toV2 },
        { name: 'default', route: toV1 },
      ],
    }),
    steps: [
      {
        name: 'x-h: a, x-h: b',
        request: {
          headers: [
            ['x-h', 'a'],
            ['x-h', 'b'],
          ],
        },
        expect: { status: 200, servedBy: 'service_b/v2' },
      },
      {
        name: 'x-h: a, x-h: c',
        request: {
          headers: [
            ['x-h', 'a'],
            ['x-h', 'c'],
          ],
        },
        expect: { status: 200, servedBy: 'service_b/v1' },
      },
      {
        name: 'x-j twice is not the joined value',
        request: {
          headers: [
            ['x-j', 'a'],
            ['x-j', 'b'],
          ],
        },
        expect: { status: 200, servedBy: 'service_b/v1' },
      },
      { name: 'x-j: a,b once', request: { headers: [['x-j', 'a,b']] }, expect: { status: 200, servedBy: 'service_b/v2' } },
      {
        name: 'withoutHeaders sees the second value',
        request: {
          headers: [
            ['x-w', 'a'],
            ['x-w', 'b'],
          ],
        },
        expect: { status: 200, servedBy: 'service_b/v1' },
      },
      {
        name: 'withoutHeaders: no value matches',
        request: {
          headers: [
            ['x-w', 'a'],
            ['x-w', 'c'],
          ],
        },
        expect: { status: 200, servedBy: 'service_b/v2' },
      },
    ],
    metrics: {
      [decisions('second-value', 'v2')]: 1,
      [decisions('joined', 'v2')]: 1,
      [decisions('without', 'v2')]: 1,
      [decisions('default', 'v1')]: 3,
    },
  },
  {
    name: "query parameters are matched raw, first value, as Envoy's route matcher (no percent-decoding, + stays +)",
    filters: steering({
      hosts: ['service_b'],
      http: [
        { name: 'plus', match: [{ queryParams: { v: { exact: 'a+b' } } }], route: toV2 },
        { name: 'encoded', match: [{ queryParams: { w: { exact: 'a%20b' } } }], route: toV2 },
        { name: 'first', match: [{ queryParams: { f: { exact: '2' } } }], route: toV2 },
        { name: 'default', route: toV1 },
      ],
    }),
    steps: [
      { request: { path: '/?v=a+b' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { request: { path: '/?v=a%2Bb' }, expect: { status: 200, servedBy: 'service_b/v1' } },
      { request: { path: '/?w=a%20b' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { request: { path: '/?w=a+b' }, expect: { status: 200, servedBy: 'service_b/v1' } },
      { request: { path: '/?f=1&f=2' }, expect: { status: 200, servedBy: 'service_b/v1' } },
      { request: { path: '/?f=2&f=1' }, expect: { status: 200, servedBy: 'service_b/v2' } },
    ],
    metrics: {
      [decisions('plus', 'v2')]: 1,
      [decisions('encoded', 'v2')]: 1,
      [decisions('first', 'v2')]: 1,
      [decisions('default', 'v1')]: 3,
    },
  },
  {
    name: 'uri: the query string is not part of it; ignoreUriCase applies to exact and prefix, not regex',
    filters: steering({
      hosts: ['service_b'],
      http: [
        { name: 'exact', match: [{ uri: { exact: '/a' } }], route: toV2 },
        { name: 'exact-ci', match: [{ uri: { exact: '/ci' }, ignoreUriCase: true }], route: toV2 },
        { name: 'prefix-ci', match: [{ uri: { prefix: '/Pre' }, ignoreUriCase: true }], route: toV2 },
        { name: 'prefix-query', match: [{ uri: { prefix: '/q?x=' } }], route: toV2 },
        { name: 'regex-ci', match: [{ uri: { regex: '/r[0-9]' }, ignoreUriCase: true }], route: toV2 },
        { name: 'default', route: toV1 },
      ],
    }),
    steps: [
      { name: 'uri.exact /a matches /a?x=1', request: { path: '/a?x=1' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { request: { path: '/a/' }, expect: { status: 200, servedBy: 'service_b/v1' } },
      { request: { path: '/A' }, expect: { status: 200, servedBy: 'service_b/v1' } },
      { request: { path: '/CI?Q=1' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { request: { path: '/pREfix?x' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { name: 'a prefix never reaches into the query', request: { path: '/q?x=1' }, expect: { status: 200, servedBy: 'service_b/v1' } },
      { request: { path: '/r1?q=2' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { name: 'regex stays case-sensitive', request: { path: '/R1' }, expect: { status: 200, servedBy: 'service_b/v1' } },
    ],
    metrics: {
      [decisions('exact', 'v2')]: 1,
      [decisions('exact-ci', 'v2')]: 1,
      [decisions('prefix-ci', 'v2')]: 1,
      [decisions('regex-ci', 'v2')]: 1,
      [decisions('default', 'v1')]: 4,
    },
  },
  {
    name: "hosts: exactly the domains of Istio's virtual host for service_b in namespace default (any :authority port)",
    filters: steering({ hosts: ['service_b'], asmesh: { namespace: 'default', port: 80 }, http: [{ name: 'all', route: toV2 }] }),
    steps: [
      ...[
        'service_b',
        'service_b:80',
        'service_b:8080',
        'service_b.default',
        'service_b.default.svc:80',
        'service_b.default.svc.cluster.local',
        'service_b.default.svc.cluster.local.',
        'service_b.default.svc.cluster.local.:80',
        'SERVICE_B.Default',
      ].map((authority): ScenarioStep => ({
        name: `${authority}: the VirtualService applies`,
        request: { authority },
        expect: { status: 200, servedBy: 'service_b/v2' },
      })),
      ...[
        'service_b.evil.com',
        'service_b.other',
        'service_b.other.svc.cluster.local',
        'service_b.',
        'service_b.default.',
        'service_b.default.svc.cluster',
        'service_bb',
      ].map((authority): ScenarioStep => ({
        name: `${authority}: another virtual host (Envoy's own routes)`,
        request: { authority },
        expect: { status: 200, servedBy: 'service_b' },
      })),
    ],
    metrics: { [decisions('all', 'v2')]: 9, asmesh_steering_unmatched_total: 7 },
  },
  {
    name: 'hosts: the namespace comes from the node metadata (NAMESPACE) when the configuration names none',
    filters: steering({ hosts: ['service_b'], http: [{ name: 'all', route: toV2 }] }),
    node: {
      id: 'sidecar~10.0.0.1~client.shop~shop.svc.cluster.local',
      cluster: 'client.shop',
      metadata: { NAMESPACE: 'shop', WORKLOAD_NAME: 'client' },
    },
    steps: [
      { request: { authority: 'service_b.shop' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { request: { authority: 'service_b.shop.svc.cluster.local' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { request: { authority: 'service_b.default' }, expect: { status: 200, servedBy: 'service_b' } },
    ],
  },
  {
    name: 'no route matches a host of the VirtualService: 404, as the virtual host Istio builds for it',
    filters: steering({ hosts: ['service_b'], http: [{ name: 'api', match: [{ uri: { prefix: '/api' } }], route: toV2 }] }),
    steps: [
      { name: 'a matching request', request: { path: '/api/x' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      {
        name: 'no route',
        request: { path: '/other', headers: { 'x-asmesh-cluster': v1 } },
        expect: { status: 404, servedBy: null, body: '' },
      },
      {
        name: 'another host is not ours',
        request: { path: '/other', authority: 'other.example' },
        expect: { status: 200, servedBy: 'service_b' },
      },
    ],
    metrics: { asmesh_steering_unmatched_total: 2 },
  },
  {
    name: 'port: with asmesh.port, a VirtualService whose routes all name other ports leaves the service to its default route',
    filters: steering({ hosts: ['service_b'], asmesh: { port: 80 }, http: [{ name: 'p9080', match: [{ port: 9080 }], route: toV2 }] }),
    listenerPort: LISTENER_PORT,
    steps: [{ request: { path: '/x' }, expect: { status: 200, servedBy: 'service_b' } }],
  },
  {
    name: 'port: with asmesh.port the service port stands for the listener port (Istio: the outbound listener of that port)',
    filters: steering({
      hosts: ['service_b'],
      asmesh: { port: 9080 },
      http: [
        { name: 'other', match: [{ port: 80 }], route: toV1 },
        // A destination without a port takes the service port (as pilot's cluster names): name 80 here, the rig's clusters'.
        { name: 'p9080', match: [{ port: 9080 }], route: [{ destination: { host: 'service_b', subset: 'v2', port: { number: 80 } } }] },
      ],
    }),
    steps: [{ request: { authority: 'service_b:80' }, expect: { status: 200, servedBy: 'service_b/v2' } }],
  },
  {
    name: 'a fault without percentage injects nothing (Istio: an unspecified percentage is 0)',
    filters: steering(faultConfig({ abort: { httpStatus: 503 }, delay: { fixedDelay: '10s' } })),
    steps: [{ request: { path: '/nofault' }, expect: { status: 200, servedBy: 'service_b/v1' }, repeat: 20 }],
    metrics: { 'route=faulty;fault=abort;asmesh_steering_faults_total': 0, 'route=faulty;fault=delay;asmesh_steering_faults_total': 0 },
  },
  {
    name: 'withoutHeaders: a missing header is matched as empty (Istio sets treat_missing_header_as_empty), except presence',
    filters: steering({
      hosts: ['service_b'],
      http: [
        {
          name: 'not-empty-exact',
          match: [{ headers: { 'x-case': { exact: '1' } }, withoutHeaders: { 'x-w': { exact: '' } } }],
          route: toV2,
        },
        {
          name: 'not-regex-any',
          match: [{ headers: { 'x-case': { exact: '2' } }, withoutHeaders: { 'x-w': { regex: '.*' } } }],
          route: toV2,
        },
        { name: 'not-exact-a', match: [{ headers: { 'x-case': { exact: '3' } }, withoutHeaders: { 'x-w': { exact: 'a' } } }], route: toV2 },
        { name: 'not-present', match: [{ headers: { 'x-case': { exact: '4' } }, withoutHeaders: { 'x-w': {} } }], route: toV2 },
        { name: 'default', route: toV1 },
      ],
    }),
    steps: [
      {
        name: 'exact "" without the header: fails',
        request: { headers: { 'x-case': '1' } },
        expect: { status: 200, servedBy: 'service_b/v1' },
      },
      {
        name: 'regex .* without the header: fails',
        request: { headers: { 'x-case': '2' } },
        expect: { status: 200, servedBy: 'service_b/v1' },
      },
      {
        name: 'exact a without the header: matches',
        request: { headers: { 'x-case': '3' } },
        expect: { status: 200, servedBy: 'service_b/v2' },
      },
      {
        name: 'exact a with x-w: b: matches',
        request: { headers: { 'x-case': '3', 'x-w': 'b' } },
        expect: { status: 200, servedBy: 'service_b/v2' },
      },
      {
        name: 'presence without the header: matches',
        request: { headers: { 'x-case': '4' } },
        expect: { status: 200, servedBy: 'service_b/v2' },
      },
      {
        name: 'presence with an empty header: fails',
        request: { headers: { 'x-case': '4', 'x-w': '' } },
        expect: { status: 200, servedBy: 'service_b/v1' },
      },
    ],
  },
  {
    name: "header operations in the order Envoy applies pilot's routes: removes, sets, adds; weighted: the destination's, then the route's (it wins)",
    filters: steering({
      hosts: ['service_b'],
      asmesh: { stickyKey: { header: 'x-user' } },
      http: [
        {
          name: 'single',
          match: [{ uri: { prefix: '/single' } }],
          headers: {
            request: { set: { 'x-a': 'route' }, add: { 'x-b': 'route' }, remove: ['x-c'] },
            response: { set: { 'x-r': 'route' } },
          },
          route: [
            {
              destination: { host: 'service_b', subset: 'v1' },
              headers: { request: { set: { 'x-a': 'dest' }, remove: ['x-b'] }, response: { add: { 'x-r': 'dest' } } },
            },
          ],
        },
        {
          name: 'sets-before-adds',
          match: [{ uri: { prefix: '/order' } }],
          headers: { request: { add: { 'x-b': 'route' } } },
          route: [{ destination: { host: 'service_b', subset: 'v1' }, headers: { request: { set: { 'x-b': 'dest' } } } }],
        },
        {
          name: 'weighted',
          match: [{ uri: { prefix: '/weighted' } }],
          headers: { request: { set: { 'x-a': 'route' }, remove: ['x-b'] }, response: { set: { 'x-r': 'route' } } },
          route: [
            {
              destination: { host: 'service_b', subset: 'v1' },
              weight: 50,
              headers: { request: { set: { 'x-a': 'dest', 'x-b': 'dest' } }, response: { set: { 'x-r': 'dest' } } },
            },
            {
              destination: { host: 'service_b', subset: 'v2' },
              weight: 50,
              headers: { request: { set: { 'x-a': 'dest', 'x-b': 'dest' } }, response: { set: { 'x-r': 'dest' } } },
            },
          ],
        },
      ],
    }),
    steps: [
      {
        name: "one destination: a remove never undoes an add; the destination's set comes after the route's",
        request: { path: '/single', headers: { 'x-b': 'client', 'x-c': 'client' } },
        expect: {
          status: 200,
          servedBy: 'service_b/v1',
          upstreamHeaders: { 'x-a': 'dest', 'x-b': 'route', 'x-c': null },
          responseHeaders: { 'x-r': 'route,dest' },
        },
      },
      {
        name: "one list: every set before every add (the route's add survives the destination's set)",
        request: { path: '/order', headers: { 'x-b': 'client' } },
        expect: { status: 200, servedBy: 'service_b/v1', upstreamHeaders: { 'x-b': 'dest,route' } },
      },
      {
        name: 'weighted: the route-level set and remove come last',
        request: { path: '/weighted', headers: { 'x-user': 'u1' } },
        expect: { status: 200, upstreamHeaders: { 'x-a': 'route', 'x-b': null }, responseHeaders: { 'x-r': 'route' } },
      },
    ],
  },
  ...badConfigs.map((b): Scenario => ({
    name: `bad configuration rejected: ${b.name}`,
    filters: steering(b.config),
    configError: b.error,
  })),
];
