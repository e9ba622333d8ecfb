// Istio's standard metric labels, their values, and how they are encoded in Envoy stat names.
// Pure: no host calls.
import { ISTIO_LABELS } from '../../assembly/lib/contracts';
import { statLabelValue } from '../../assembly/lib/stats';
export { encodeMetricName } from '../../assembly/lib/stats';
export { hostOfAuthority } from '../../assembly/lib/http';
//
// Encoding (measured in Envoy 1.40, see docs/DESIGN.md "telemetry"): a metric with labels
// l1..ln is defined as `l1=v1;l2=v2;...;ln=vn;<metric>`; Envoy names it
// `wasmcustom.l1=v1;...;<metric>` and a stats_tags rule per label, regex `[.;](<l>=([^;]*);)`,
// removes `<l>=<v>;` from the name and makes `<v>` the tag value, so Prometheus sees
// `<metric>{l1="v1",...}`. Values are sanitized so they cannot contain `;` or `=`: a value can
// neither end a label early nor look like another label to a rule.

export const UNKNOWN = 'unknown';
export const OTHER = 'other';

// Indexes of the standard labels, in the order of Istio's stats filter (istio/proxy
// source/extensions/filters/http/istio_stats), except that response_code and grpc_response_status
// stay before response_flags and connection_security_policy (label order does not matter to
// Prometheus; it fixes our stat names).
export const L_REPORTER: i32 = 0;
export const L_SOURCE_WORKLOAD: i32 = 1;
export const L_SOURCE_WORKLOAD_NAMESPACE: i32 = 2;
export const L_SOURCE_PRINCIPAL: i32 = 3;
export const L_SOURCE_APP: i32 = 4;
export const L_SOURCE_VERSION: i32 = 5;
export const L_SOURCE_CANONICAL_SERVICE: i32 = 6;
export const L_SOURCE_CANONICAL_REVISION: i32 = 7;
export const L_SOURCE_CLUSTER: i32 = 8;
export const L_DESTINATION_WORKLOAD: i32 = 9;
export const L_DESTINATION_WORKLOAD_NAMESPACE: i32 = 10;
export const L_DESTINATION_PRINCIPAL: i32 = 11;
export const L_DESTINATION_APP: i32 = 12;
export const L_DESTINATION_VERSION: i32 = 13;
export const L_DESTINATION_SERVICE: i32 = 14;
export const L_DESTINATION_SERVICE_NAME: i32 = 15;
export const L_DESTINATION_SERVICE_NAMESPACE: i32 = 16;
export const L_DESTINATION_CANONICAL_SERVICE: i32 = 17;
export const L_DESTINATION_CANONICAL_REVISION: i32 = 18;
export const L_DESTINATION_CLUSTER: i32 = 19;
export const L_REQUEST_PROTOCOL: i32 = 20;
export const L_RESPONSE_CODE: i32 = 21;
export const L_GRPC_RESPONSE_STATUS: i32 = 22;
export const L_RESPONSE_FLAGS: i32 = 23;
export const L_CONNECTION_SECURITY_POLICY: i32 = 24;

/** Istio's 25 standard labels, indexed by the L_* constants above (assembly/lib/contracts.ts: the Envoy side's stats_tags come from the same list). */
export const STANDARD_LABELS: string[] = ISTIO_LABELS;

/** A Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with `__`. */
export function isValidLabelName(name: string): bool {
  if (name.length == 0 || name.length > 64) return false;
  if (name.startsWith('__')) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alpha = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f;
    if (!alpha && !(i > 0 && c >= 0x30 && c <= 0x39)) return false;
  }
  return true;
}

/** A label value for the stat name (assembly/lib/stats.ts statLabelValue); empty becomes `unknown`. */
export function sanitizeValue(value: string): string {
  return value.length == 0 ? UNKNOWN : statLabelValue(value);
}

// Envoy's core response flags (StreamInfo::CoreResponseFlag), bit i = RESPONSE_FLAG_CODES[i] of the
// bitmask the `response.flags` property returns (StreamInfo::legacyResponseFlags). Checked against
// Envoy 1.40's own %RESPONSE_FLAGS% for UH UT UF UC UO NR DI FI RL DC URX SI UMSDR UPE NC in
// test/telemetry/envoy-flags.test.ts; the others follow Envoy's CoreResponseFlag enum order.
export const RESPONSE_FLAG_CODES: string[] = [
  'LH',
  'UH',
  'UT',
  'LR',
  'UR',
  'UF',
  'UC',
  'UO',
  'NR',
  'DI',
  'FI',
  'RL',
  'UAEX',
  'RLSE',
  'DC',
  'URX',
  'SI',
  'IH',
  'DPE',
  'UMSDR',
  'RFCF',
  'NFCF',
  'DT',
  'UPE',
  'NC',
  'OM',
  'DF',
  'DO',
  'DR',
  'UDO',
];
const FLAG_URX: i32 = 15;

/**
 * Envoy's response flags bitmask as Envoy's %RESPONSE_FLAGS% (and Istio's response_flags) prints
 * it: `-` when none, else codes joined by `,`. Envoy prints flags in the order they were set, which
 * the bitmask loses; the order here is bit order except that URX comes first, because Envoy's
 * router sets URX (retries exhausted) before the flag of the failure that ended the last try
 * (`URX,UF`, `URX,UC`, `URX,UT`, as Envoy prints them); the other combinations Envoy produces
 * (e.g. `DI,FI`) are set in bit order.
 */
export function responseFlagsString(flags: u64): string {
  if (flags == 0) return '-';
  const urx = (flags & ((<u64>1) << (<u64>FLAG_URX))) != 0;
  let out = urx ? 'URX' : '';
  for (let i = 0; i < RESPONSE_FLAG_CODES.length; i++) {
    if (i != FLAG_URX && (flags & ((<u64>1) << (<u64>i))) != 0) {
      if (out.length > 0) out += ',';
      out += RESPONSE_FLAG_CODES[i];
    }
  }
  return out.length == 0 ? '-' : out;
}

/**
 * A gRPC content type as Envoy's Grpc::Common::hasGrpcContentType (what Istio's stats filter
 * tests): exactly `application/grpc` or `application/grpc+<codec>`; `application/grpc-web` is not.
 */
export function isGrpcContentType(contentType: string | null): bool {
  if (contentType === null || !contentType.startsWith('application/grpc')) return false;
  return contentType.length == 16 || contentType.charCodeAt(16) == 0x2b;
}

/** Istio's request_protocol: `grpc` for gRPC requests, else `http`. */
export function requestProtocol(contentType: string | null): string {
  return isGrpcContentType(contentType) ? 'grpc' : 'http';
}

/**
 * The gRPC status of a gRPC request as Envoy's Grpc::Common::getGrpcStatus(trailers, headers, info)
 * gives it to Istio's stats filter: the trailers' grpc-status, else the headers', else the HTTP
 * status mapped as Envoy's Grpc::Utility::httpToGrpcStatus; "" without any (no response code).
 * An empty grpc-status counts as absent; one that is not a number or is above 16 is Envoy's
 * InvalidCode, which Istio prints as -1.
 */
export function grpcStatusOf(trailer: string | null, header: string | null, httpStatus: i32): string {
  const value = trailer !== null && trailer.length > 0 ? trailer : header;
  if (value !== null && value.length > 0) {
    const v = value;
    if (v.length > 9) return '-1';
    for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) < 0x30 || v.charCodeAt(i) > 0x39) return '-1';
    const n = I32.parseInt(v);
    return n > 16 ? '-1' : n.toString();
  }
  if (httpStatus <= 0) return '';
  switch (httpStatus) {
    case 400:
      return '13';
    case 401:
      return '16';
    case 403:
      return '7';
    case 404:
      return '12';
    case 429:
    case 502:
    case 503:
    case 504:
      return '14';
    default:
      return '2';
  }
}

/** The service host of an Istio cluster name `outbound|80|v1|svc.ns.svc.cluster.local`, else "". */
export function serviceOfCluster(cluster: string): string {
  const parts = cluster.split('|');
  if (parts.length != 4) return '';
  return parts[3];
}

/** `name` of a service host `name.ns.svc...` (or the whole host when it has no dot). */
export function serviceName(host: string): string {
  const dot = host.indexOf('.');
  return dot < 0 ? host : host.substring(0, dot);
}

/** `ns` of a service host `name.ns[.svc...]`, or "" when the host has no namespace part. */
export function serviceNamespace(host: string): string {
  if (host.startsWith('[')) return '';
  const dot = host.indexOf('.');
  if (dot < 0) return '';
  const rest = host.substring(dot + 1);
  const next = rest.indexOf('.');
  const ns = next < 0 ? rest : rest.substring(0, next);
  // A bare IPv4 address or a public domain is not an in-mesh service name.
  if (next >= 0 && !rest.substring(next + 1).startsWith('svc')) return '';
  if (ns.length == 0 || (ns.charCodeAt(0) >= 0x30 && ns.charCodeAt(0) <= 0x39)) return '';
  return ns;
}

export const DEFAULT_MAX_LABEL_SETS: i64 = 10000;
