// The TCP telemetry filter (filters/tcp_telemetry) behind a TCP listener: Istio's TCP metrics with
// Istio's labels, in the harness and in Envoy (test/scenarios/network.ts). The node is the sidecar's
// (envoy/sidecar.yaml: workload client, namespace default, app client, version v1).
import type { NetworkScenario } from './types.ts';

const PEER = 'spiffe://cluster.local/ns/shop/sa/buyer';
const SERVER = 'spiffe://cluster.local/ns/default/sa/client';

export const scenarios = [];

export const networkScenarios: NetworkScenario[] = [
  {
    name: 'plain TCP, destination reporter: one open and one close per connection, bytes both ways',
    filter: { name: 'tcp_telemetry', config: { reporter: 'destination' } },
    connections: [{ chunks: ['hello', 'world!'] }, { chunks: ['x'.repeat(3000)] }],
    metrics: [
      {
        name: 'istio_tcp_connections_opened_total',
        value: 2,
        series: 1,
        labels: {
          reporter: 'destination',
          request_protocol: 'tcp',
          source_workload: 'unknown',
          source_workload_namespace: 'unknown',
          source_principal: 'unknown',
          source_canonical_revision: 'latest',
          destination_workload: 'client',
          destination_workload_namespace: 'default',
          destination_app: 'client',
          destination_version: 'v1',
          destination_principal: 'unknown',
          destination_service: 'client',
          destination_service_name: 'client',
          destination_service_namespace: 'default',
          destination_cluster: 'Kubernetes',
          response_flags: '-',
          connection_security_policy: 'none',
        },
      },
      { name: 'istio_tcp_connections_closed_total', value: 2, series: 1 },
      { name: 'istio_tcp_received_bytes_total', value: 3011, series: 1 },
      { name: 'istio_tcp_sent_bytes_total', value: 3011, series: 1 },
    ],
  },
  {
    name: 'mTLS: source_principal and namespace from the peer certificate, destination_principal ours',
    filter: { name: 'tcp_telemetry', config: { reporter: 'destination' } },
    serverIdentity: SERVER,
    connections: [{ chunks: ['ping'], clientIdentity: PEER }],
    metrics: [
      {
        name: 'istio_tcp_connections_opened_total',
        value: 1,
        series: 1,
        labels: {
          source_principal: PEER,
          source_workload_namespace: 'shop',
          destination_principal: SERVER,
          connection_security_policy: 'mutual_tls',
        },
      },
      { name: 'istio_tcp_received_bytes_total', value: 4, labels: { source_principal: PEER } },
      { name: 'istio_tcp_sent_bytes_total', value: 4, labels: { source_principal: PEER } },
      { name: 'istio_tcp_connections_closed_total', value: 1, labels: { source_principal: PEER } },
    ],
  },
  {
    name: "source reporter: destination_service from tcp_proxy's cluster",
    filter: { name: 'tcp_telemetry', config: { reporter: 'source' } },
    connections: [{ chunks: ['abc'] }],
    metrics: [
      {
        name: 'istio_tcp_connections_opened_total',
        value: 1,
        series: 1,
        labels: {
          reporter: 'source',
          source_workload: 'client',
          source_workload_namespace: 'default',
          source_app: 'client',
          source_version: 'v1',
          source_cluster: 'Kubernetes',
          destination_workload: 'unknown',
          destination_service: 'echo.default.svc.cluster.local',
          destination_service_name: 'echo',
          destination_service_namespace: 'default',
          connection_security_policy: 'unknown',
          request_protocol: 'tcp',
        },
      },
      { name: 'istio_tcp_received_bytes_total', value: 3 },
      { name: 'istio_tcp_sent_bytes_total', value: 3 },
    ],
  },
  {
    name: 'an open connection: bytes reported every reporting interval, closed only at close',
    filter: { name: 'tcp_telemetry', config: { reporter: 'destination', reportingIntervalMs: 200 } },
    connections: [
      {
        chunks: ['12345'],
        whileOpen: [
          { name: 'istio_tcp_connections_opened_total', value: 1 },
          { name: 'istio_tcp_received_bytes_total', value: 5 },
          { name: 'istio_tcp_sent_bytes_total', value: 5 },
          { name: 'istio_tcp_connections_closed_total', value: 0 },
        ],
      },
    ],
    metrics: [
      { name: 'istio_tcp_connections_opened_total', value: 1 },
      { name: 'istio_tcp_received_bytes_total', value: 5 },
      { name: 'istio_tcp_connections_closed_total', value: 1 },
    ],
  },
];
