// The contracts between the filters, and between a filter and Envoy's config, in one module.
// Only string constants: valid AssemblyScript and TypeScript, so the filters and the Node side
// (translate, the harness chain, tests) import this same file.

/** steering writes the chosen cluster here; the route takes it with `cluster_header` and removes it upstream. */
export const CLUSTER_HEADER = 'x-asmesh-cluster';

/** Istio's cluster name template: steering's default `asmesh.clusterName`, translate's clusters, telemetry's parse. */
export const CLUSTER_TEMPLATE = 'outbound|{port}|{subset}|{host}';

/** Filter state (one path segment, Envoy stores `wasm.<key>`) authz sets per verified token: the payload JSON as sent. */
export const JWT_PAYLOAD_STATE = 'asmesh.jwt_payload';

/**
 * Istio's standard metric labels (istio.io "Istio Standard Metrics"), in the order telemetry encodes them in
 * its stat names (`l=v;...;<metric>`); the manifest gives each a stats_tags rule.
 */
export const ISTIO_LABELS: string[] = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
];
