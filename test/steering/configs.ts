// Steering configurations for tests and benches: the Istio VirtualService samples (spec, verbatim)
// and variants built from them.
import { istioSpec } from '../istio.ts';

/** The `spec` of the Istio sample virtualservice-<name>.yaml, as the user wrote it. */
export function virtualServiceSpec(name: 'steering' | 'canary'): Record<string, unknown> {
  return istioSpec(`virtualservice-${name}.yaml`);
}

export const v1 = 'outbound|80|v1|service_b';
export const v2 = 'outbound|80|v2|service_b';

export const regexAndQuery = {
  hosts: ['service_b'],
  http: [
    {
      name: 'api-v2',
      match: [{ uri: { regex: '/api/v2/.*' } }, { queryParams: { version: { exact: 'v2' } } }],
      route: [{ destination: { host: 'service_b', subset: 'v2' } }],
    },
    {
      name: 'users',
      match: [{ headers: { 'x-user': { regex: '(?i)beta-[a-z]+-\\d{1,4}' } } }],
      route: [{ destination: { host: 'service_b', subset: 'v2' } }],
    },
    { name: 'default', route: [{ destination: { host: 'service_b', subset: 'v1' } }] },
  ],
};

export function faultConfig(fault: Record<string, unknown>): Record<string, unknown> {
  return {
    hosts: ['service_b'],
    http: [{ name: 'faulty', fault, route: [{ destination: { host: 'service_b', subset: 'v1' } }] }],
  };
}

export function stickyCanary(key: { header?: string; cookie?: string }): Record<string, unknown> {
  return { ...virtualServiceSpec('canary'), asmesh: { stickyKey: key } };
}

/** Bad configurations and the error line each must produce. */
export const badConfigs: { name: string; config: unknown; error: RegExp }[] = [
  {
    name: 'weights not summing to 100',
    config: {
      hosts: ['service_b'],
      http: [
        { route: [{ destination: { host: 'service_b', subset: 'v1' }, weight: 90 }, { destination: { host: 'service_b', subset: 'v2' } }] },
      ],
    },
    error: /steering: config \$\.http\[0\]\.route: weights sum to 90, not 100/,
  },
  {
    name: 'a bad regex',
    config: {
      hosts: ['service_b'],
      http: [{ match: [{ headers: { 'end-user': { regex: '(jason' } } }], route: [{ destination: { host: 'service_b' } }] }],
    },
    error: /steering: config \$\.http\[0\]\.match\[0\]\.headers\.end-user\.regex: invalid regex: missing closing \)/,
  },
  {
    name: 'a backreference (cannot run in linear time)',
    config: { hosts: ['service_b'], http: [{ match: [{ uri: { regex: '/(a)\\1' } }], route: [{ destination: { host: 'service_b' } }] }] },
    error: /steering: config \$\.http\[0\]\.match\[0\]\.uri\.regex: invalid regex: backreferences are not supported/,
  },
  {
    name: 'a wrong type',
    config: { hosts: ['service_b'], http: [{ route: [{ destination: { host: 'service_b' }, weight: '100' }] }] },
    error: /steering: config \$\.http\[0\]\.route\[0\]\.weight: expected number, got string/,
  },
  {
    name: 'an unknown field',
    config: { hosts: ['service_b'], http: [{ route: [{ destination: { host: 'service_b', subsets: 'v1' } }] }] },
    error: /steering: config \$\.http\[0\]\.route\[0\]\.destination: unknown field "subsets"/,
  },
  {
    name: 'missing hosts',
    config: { http: [{ route: [{ destination: { host: 'service_b' } }] }] },
    error: /steering: config \$\.hosts: required/,
  },
  {
    name: 'an abort status out of range',
    config: { hosts: ['service_b'], http: [{ fault: { abort: { httpStatus: 700 } }, route: [{ destination: { host: 'service_b' } }] }] },
    error: /steering: config \$\.http\[0\]\.fault\.abort\.httpStatus: 700 is outside \[200, 599\]/,
  },
  {
    name: 'a bad delay duration',
    config: {
      hosts: ['service_b'],
      http: [{ fault: { delay: { fixedDelay: '5 seconds' } }, route: [{ destination: { host: 'service_b' } }] }],
    },
    error: /steering: config \$\.http\[0\]\.fault\.delay\.fixedDelay: invalid duration "5 seconds"/,
  },
  {
    name: 'an unsupported route action (rewrite)',
    config: { hosts: ['service_b'], http: [{ rewrite: { uri: '/x' }, route: [{ destination: { host: 'service_b' } }] }] },
    error: /steering: config \$\.http\[0\]\.rewrite: not supported by asmesh steering/,
  },
  {
    name: 'invalid JSON',
    config: '{"hosts": ["service_b"],',
    error: /steering: config \$: invalid JSON/,
  },
];
