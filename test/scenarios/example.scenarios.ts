// Scenarios of the example filter: a configured response header, a rejected configuration, a counter.
import type { Scenario } from './types.ts';

const filters = [{ name: 'example' as const, config: { header: 'x-asmesh-example', value: 'hello' } }];

export const scenarios: Scenario[] = [
  {
    name: 'adds the configured response header, to the default cluster and the one named by x-asmesh-cluster',
    filters,
    steps: [
      {
        request: { path: '/a', headers: { 'x-user': 'u1' } },
        expect: {
          status: 200,
          servedBy: 'service_b',
          upstreamHeaders: { 'x-user': 'u1', 'x-asmesh-example': null, host: 'service_b' },
          responseHeaders: { 'x-asmesh-example': 'hello', 'content-type': 'application/json' },
          body: /"path":"\/a"/,
        },
      },
      {
        request: { method: 'POST', path: '/b', body: 'payload', headers: { 'x-asmesh-cluster': 'outbound|80|v2|service_b' } },
        expect: {
          status: 200,
          servedBy: 'service_b/v2',
          responseHeaders: { 'x-asmesh-example': 'hello' },
          body: /"method":"POST".*"body":"payload"/,
        },
      },
      {
        name: 'upstream error status passes through with the header',
        request: { path: '/c', headers: { 'x-echo-status': '503' } },
        expect: { status: 503, servedBy: 'service_b', responseHeaders: { 'x-asmesh-example': 'hello' } },
      },
      {
        name: 'unknown cluster: the router answers 503, still through the filter',
        request: { path: '/d', headers: { 'x-asmesh-cluster': 'outbound|80|v9|service_b' } },
        expect: { status: 503, servedBy: null, responseHeaders: { 'x-asmesh-example': 'hello' }, body: '' },
      },
    ],
    metrics: { asmesh_example_requests_total: 4 },
    logs: [/wasm log example example example: example: request \/a/, /wasm log example example example: example: request \/d/],
  },
  {
    name: 'counts every request',
    filters,
    steps: [{ request: { path: '/n' }, expect: { status: 200, servedBy: 'service_b' }, repeat: 25 }],
    metrics: { asmesh_example_requests_total: 25 },
  },
  {
    name: 'a configuration without header is rejected',
    filters: [{ name: 'example', config: { value: 'x' } }],
    configError: /example: config \$\.header: required/,
  },
];
