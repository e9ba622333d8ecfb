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
