// telemetry's access-log contract with Envoy's access logger (its own module: the filters that do not log
// must not pay for these tables, which AssemblyScript initialises at start).

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
