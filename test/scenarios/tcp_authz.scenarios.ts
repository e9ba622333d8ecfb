// The TCP authz filter (filters/tcp_authz) behind a TCP listener: AuthorizationPolicy as pilot's network
// rbac applies it (HTTP-only fields skip an ALLOW rule, widen a DENY), in the harness and in Envoy
// (test/scenarios/network.ts). A denied connection is closed at its first bytes; none reach the upstream.
import type { NetworkScenario } from './types.ts';

const FOO = 'spiffe://cluster.local/ns/foo/sa/x';
const BAR = 'spiffe://cluster.local/ns/bar/sa/y';
const allowed = (value: number) => ({ name: 'asmesh_tcp_authz_allowed_total', value });
const denied = (value: number) => ({ name: 'asmesh_tcp_authz_denied_total', value });

export const scenarios = [];

export const networkScenarios: NetworkScenario[] = [
  {
    name: 'DENY namespaces bar over mTLS: bar closed at its first bytes, foo echoed',
    filter: {
      name: 'tcp_authz',
      config: { policies: [{ name: 'd', action: 'DENY', rules: [{ from: [{ source: { namespaces: ['bar'] } }] }] }] },
    },
    connections: [
      { chunks: ['hello', 'again'], clientIdentity: FOO },
      { chunks: ['hello'], clientIdentity: BAR, denied: true },
    ],
    metrics: [allowed(1), denied(1)],
  },
  {
    name: 'ALLOW principals: only that peer; a plaintext client is denied',
    filter: {
      name: 'tcp_authz',
      config: { policies: [{ name: 'a', rules: [{ from: [{ source: { principals: ['cluster.local/ns/foo/sa/x'] } }] }] }] },
    },
    connections: [
      { chunks: ['x'], clientIdentity: FOO },
      { chunks: ['x'], clientIdentity: BAR, denied: true },
      { chunks: ['x'], denied: true },
    ],
    metrics: [allowed(1), denied(2)],
  },
  {
    name: 'ALLOW whose only rule is HTTP-only (methods): pilot skips it, every connection denied',
    filter: {
      name: 'tcp_authz',
      config: { policies: [{ name: 'a', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }] },
    },
    connections: [{ chunks: ['GET / HTTP/1.1\r\n\r\n'], denied: true }],
    metrics: [allowed(0), denied(1)],
  },
  {
    name: 'DENY requestPrincipals * with ipBlocks: the HTTP-only field dropped, loopback denied',
    filter: {
      name: 'tcp_authz',
      config: {
        policies: [{ name: 'd', action: 'DENY', rules: [{ from: [{ source: { requestPrincipals: ['*'], ipBlocks: ['127.0.0.0/8'] } }] }] }],
      },
    },
    connections: [{ chunks: ['x'], denied: true }],
    metrics: [denied(1)],
  },
  {
    name: 'DENY notIpBlocks 127.0.0.0/8 and AUDIT: loopback passes',
    filter: {
      name: 'tcp_authz',
      config: {
        policies: [
          { name: 'd', action: 'DENY', rules: [{ from: [{ source: { notIpBlocks: ['127.0.0.0/8'] } }] }] },
          { name: 'au', action: 'AUDIT', rules: [{}] },
        ],
      },
    },
    connections: [{ chunks: ['one', 'two', 'three'] }],
    metrics: [allowed(1), denied(0)],
  },
  {
    // translate binds inbound_<port> on another port (15007, ...): asmesh.port is the workload port pilot's rbac sees.
    name: 'DENY ports 9000 with asmesh.port 9000: denied whatever port the listener binds; notPorts 9000 passes',
    filter: {
      name: 'tcp_authz',
      config: {
        policies: [
          { name: 'd', action: 'DENY', rules: [{ to: [{ operation: { ports: ['9000'] } }] }] },
          {
            name: 'a',
            rules: [{ to: [{ operation: { notPorts: ['9000'] } }] }, { when: [{ key: 'destination.port', values: ['9000'] }] }],
          },
        ],
        asmesh: { port: 9000 },
      },
    },
    connections: [{ chunks: ['x'], denied: true }],
    metrics: [allowed(0), denied(1)],
  },
  {
    name: 'ALLOW destination.port 9000 with asmesh.port 9000: allowed',
    filter: {
      name: 'tcp_authz',
      config: { policies: [{ name: 'a', rules: [{ when: [{ key: 'destination.port', values: ['9000'] }] }] }], asmesh: { port: 9000 } },
    },
    connections: [{ chunks: ['x', 'y'] }],
    metrics: [allowed(1), denied(0)],
  },
  {
    name: 'a bad configuration is refused with its JSON path (fail closed: no listener serves)',
    filter: {
      name: 'tcp_authz',
      config: { policies: [{ name: 'd', action: 'DENY', rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/33'] } }] }] }] },
    },
    configError:
      /tcp_authz: config \$\.policies\[0\]\.rules\[0\]\.from\[0\]\.source\.ipBlocks\[0\]: "10\.0\.0\.0\/33" is not an IP address or CIDR block/,
    connections: [],
    metrics: [],
  },
];
