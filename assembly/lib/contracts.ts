// The contracts between the filters, and between a filter and Envoy's config, in one module.
// Only string constants: valid AssemblyScript and TypeScript, so the filters and the Node side
// (translate, the harness chain, tests) import this same file.

/** steering writes the chosen cluster here; the route takes it with `cluster_header` and removes it upstream. */
export const CLUSTER_HEADER = 'x-asmesh-cluster';

/** Istio's cluster name template: steering's default `asmesh.clusterName`, translate's clusters, telemetry's parse. */
export const CLUSTER_TEMPLATE = 'outbound|{port}|{subset}|{host}';

/** Filter state (one path segment, Envoy stores `wasm.<key>`) authz sets per verified token: the payload JSON as sent. */
export const JWT_PAYLOAD_STATE = 'asmesh.jwt_payload';
/** Filter state authz sets per verified token: `iss/sub`. */
export const REQUEST_PRINCIPAL_STATE = 'asmesh.request_principal';

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

/**
 * telemetry's access log fields, in its index order (`accessLog.fields` names them; the first
 * ACCESS_LOG_DEFAULT_FIELDS are the default set). With `accessLog.writer: "envoy"` Envoy's own access
 * logger writes the line (json_format, host/envoy/config.ts `telemetryAccessLogs`): a field whose entry in
 * ACCESS_LOG_ENVOY_OPERATORS is an Envoy command operator is Envoy's; an empty one is a value only the filter
 * knows, which it sets per request as filter state ACCESS_LOG_STATE_PREFIX + field (Envoy keeps it as
 * `wasm.<key>`, read by `%FILTER_STATE(wasm.<key>:PLAIN)%`).
 */
export const ACCESS_LOG_FIELDS: string[] = [
  'start_time',
  'method',
  'path',
  'protocol',
  'response_code',
  'response_flags',
  'bytes_received',
  'bytes_sent',
  'duration',
  'upstream_cluster',
  'upstream_host',
  'source_workload',
  'source_principal',
  'destination_workload',
  'destination_principal',
  'user_agent',
  'request_id',
  'trace_id',
  'span_id',
  // Not in the default set:
  'authority',
  'reporter',
  'source_namespace',
  'destination_namespace',
  'destination_service',
  'response_code_details',
  'grpc_status',
  'connection_security_policy',
  // What istio_request_bytes / istio_response_bytes record (Envoy's request.total_size / response.total_size).
  'request_total_size',
  'response_total_size',
];
export const ACCESS_LOG_DEFAULT_FIELDS = 19;
export const ACCESS_LOG_ENVOY_OPERATORS: string[] = [
  '%START_TIME(%Y-%m-%dT%H:%M:%S.%3fZ)%',
  '%REQ(:METHOD)%',
  '%REQ(:PATH)%',
  '%PROTOCOL%',
  '%RESPONSE_CODE%',
  '%RESPONSE_FLAGS%',
  '%BYTES_RECEIVED%',
  '%BYTES_SENT%',
  '%DURATION%',
  '%UPSTREAM_CLUSTER_RAW%',
  '%UPSTREAM_HOST%',
  '',
  '',
  '',
  '',
  '%REQ(USER-AGENT)%',
  '%REQ(X-REQUEST-ID)%',
  '',
  '',
  '%REQ(:AUTHORITY)%',
  '',
  '',
  '',
  '',
  '%RESPONSE_CODE_DETAILS%',
  '',
  '',
  '',
  '',
];
export const ACCESS_LOG_STATE_PREFIX = 'asmesh.log.';
