// Scenarios of the steering filter (harness and Envoy): the Istio samples verbatim, weighted canary,
// sticky users, regex and query matches, faults, spoofing, bad configurations.
import assert from 'node:assert/strict';
import { badConfigs, faultConfig, regexAndQuery, stickyCanary, v1, v2, virtualServiceSpec } from '../steering/configs.ts';
import type { Scenario, ScenarioStep, StepResult } from './types.ts';

const steering = (config: unknown) => [{ name: 'steering' as const, config }];

/** k of n within 5 standard deviations of n*p: a false alarm about once in 1.7 million runs. */
function assertBinomial(what: string, k: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  const lo = Math.floor(n * p - 5 * sd), hi = Math.ceil(n * p + 5 * sd);
  assert.ok(k >= lo && k <= hi, `${what}: ${k} of ${n}, expected within [${lo}, ${hi}] (p=${p})`);
}

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
      { name: 'jason', request: { path: '/reviews', headers: { 'end-user': 'jason' } }, expect: { status: 200, servedBy: 'service_b/v2', upstreamHeaders: { 'x-asmesh-cluster': null, 'end-user': 'jason' } } },
      { name: 'alice', request: { path: '/reviews', headers: { 'end-user': 'alice' } }, expect: { status: 200, servedBy: 'service_b/v1', upstreamHeaders: { 'x-asmesh-cluster': null } } },
      { name: 'Jason (case matters)', request: { path: '/reviews', headers: { 'end-user': 'Jason' } }, expect: { status: 200, servedBy: 'service_b/v1' } },
      { name: 'anonymous', request: { path: '/reviews' }, expect: { status: 200, servedBy: 'service_b/v1' }, repeat: 3 },
    ],
    metrics: { 'route=0;subset=v2;asmesh_steering_decisions_total': 1, 'route=1;subset=v1;asmesh_steering_decisions_total': 5 },
    logs: [/wasm log steering steering steering: steering: route 0 -> outbound\|80\|v2\|service_b/],
  },
  {
    name: 'a spoofed x-asmesh-cluster is ignored',
    filters: steering(virtualServiceSpec('steering')),
    steps: [
      { name: 'anonymous asks for v2', request: { headers: { 'x-asmesh-cluster': v2 } }, expect: { status: 200, servedBy: 'service_b/v1', upstreamHeaders: { 'x-asmesh-cluster': null } } },
      { name: 'jason asks for v1', request: { headers: { 'end-user': 'jason', 'x-asmesh-cluster': v1 } }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { name: 'another host asks for v2: no route applies, the header is still dropped', request: { authority: 'other.example', headers: { 'x-asmesh-cluster': v2 } }, expect: { status: 200, servedBy: 'service_b', upstreamHeaders: { 'x-asmesh-cluster': null } } },
    ],
    metrics: { asmesh_steering_unmatched_total: 1 },
  },
  {
    name: 'virtualservice-canary: 95/5 over 2,000 requests within the binomial bound',
    filters: steering(virtualServiceSpec('canary')),
    steps: [{
      request: { path: '/canary' },
      expect: { status: 200 },
      repeat: 2000,
      check: (results) => {
        assert.equal(count(results, (r) => r.servedBy === 'service_b/v1') + count(results, (r) => r.servedBy === 'service_b/v2'), results.length);
        assertBinomial('requests on v2', count(results, (r) => r.servedBy === 'service_b/v2'), results.length, 0.05);
      },
    }],
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
    name: 'regex and query parameter matches',
    filters: steering(regexAndQuery),
    steps: [
      { name: 'uri regex', request: { path: '/api/v2/users' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { name: 'uri regex ignores the query', request: { path: '/api/v2/users?page=2' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { name: 'uri regex is a full match', request: { path: '/x/api/v2/users' }, expect: { status: 200, servedBy: 'service_b/v1' } },
      { name: 'query parameter exact', request: { path: '/api/v1/users?a=1&version=v2' }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { name: 'query parameter mismatch', request: { path: '/api/v1/users?version=v3' }, expect: { status: 200, servedBy: 'service_b/v1' } },
      { name: 'header regex (?i)', request: { headers: { 'x-user': 'Beta-Ann-7' } }, expect: { status: 200, servedBy: 'service_b/v2' } },
      { name: 'header regex mismatch', request: { headers: { 'x-user': 'beta-ann-12345' } }, expect: { status: 200, servedBy: 'service_b/v1' } },
    ],
  },
  {
    name: 'a pathological regex ((a*)*b) over a 10,000-character header stays linear',
    filters: steering({
      hosts: ['service_b'],
      http: [
        { name: 'evil', match: [{ headers: { 'x-a': { regex: '(a*)*b' } } }], route: [{ destination: { host: 'service_b', subset: 'v2' } }] },
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
    steps: [{
      request: { path: '/maybe' },
      expect: {},
      repeat: 800,
      check: (results) => {
        const aborted = results.filter((r) => r.status === 503);
        for (const r of aborted) assert.equal(r.body, 'fault filter abort');
        assert.equal(count(results, (r) => r.status === 200 && r.servedBy === 'service_b/v1'), results.length - aborted.length);
        assertBinomial('aborted requests', aborted.length, results.length, 0.5);
      },
    }],
  },
  {
    name: 'fault delay: the request is held, then reaches the upstream',
    filters: steering(faultConfig({ delay: { fixedDelay: '0.2s', percentage: { value: 100 } } })),
    steps: [{ request: { method: 'POST', path: '/slow', body: 'held' }, expect: { status: 200, servedBy: 'service_b/v1', body: /"body":"held"/ }, repeat: 2 }],
    metrics: { 'route=faulty;fault=delay;asmesh_steering_faults_total': 2 },
  },
  ...badConfigs.map((b): Scenario => ({ name: `bad configuration rejected: ${b.name}`, filters: steering(b.config), configError: b.error })),
];
