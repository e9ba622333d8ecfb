// Scenarios of filters/mesh itself (its parts' own scenarios run through it in test/mesh): its
// configuration (one member per part, each checked by that filter, errors under `$.<part>`) and an
// absent part being inactive.
import type { Scenario } from './types.ts';

const denyPath = (path: string) => ({
  jwtRules: [],
  policies: [{ name: 'deny', action: 'DENY', rules: [{ to: [{ operation: { paths: [path] } }] }] }],
});

export const scenarios: Scenario[] = [
  {
    name: 'only the configured parts run: authz without steering and telemetry',
    filters: [{ name: 'mesh', config: { authz: denyPath('/deny') } }],
    steps: [
      { request: { path: '/deny' }, expect: { status: 403, servedBy: null, body: 'RBAC: access denied' } },
      {
        request: { path: '/ok', headers: { 'x-asmesh-cluster': 'outbound|80|v2|service_b' } },
        expect: { status: 200, servedBy: 'service_b/v2' },
      },
    ],
    metrics: { asmesh_authz_denied_total: 1 },
  },
  {
    name: 'a member that is not a part is rejected with its JSON path',
    filters: [{ name: 'mesh', config: { steering: { hosts: ['service_b'], http: [] }, rbac: {} } }],
    configError: /mesh: config \$: unknown field "rbac"/,
  },
  {
    name: "a part's configuration is checked by that filter, its JSON path under the part",
    filters: [
      {
        name: 'mesh',
        config: {
          telemetry: {},
          authz: { policies: [{ name: 'p', action: 'ALLOW', rules: [{ to: [{ operation: { method: 'GET' } }] }] }] },
        },
      },
    ],
    configError: /mesh: config \$\.authz\.policies\[0\]\.rules\[0\]\.to\[0\]\.operation: unknown field "method"/,
  },
  {
    name: 'a part that is not an object is rejected',
    filters: [{ name: 'mesh', config: { steering: 3 } }],
    configError: /mesh: config \$\.steering: expected object, got number/,
  },
  {
    name: 'a configuration that is not JSON is rejected',
    filters: [{ name: 'mesh', config: '{"steering": ' }],
    configError: /mesh: config \$: invalid JSON/,
  },
];
