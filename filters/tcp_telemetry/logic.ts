// TCP telemetry decisions, as Istio's stats filter (istio/proxy istio_stats, its network filter side)
// makes them: the label set of a connection and the byte deltas each report adds. Pure: no host calls.
//
// Istio labels a TCP connection once: when the peer's metadata is known, or at close. asmesh has no TCP
// metadata exchange (stock Envoy lacks istio.metadata_exchange), so the peer is what the connection
// itself tells: its mTLS certificates, known once the first bytes arrived (the TLS handshake is done).
// The connection is labelled (and counted opened) at its first data in either direction, or at close.
import { PeerInfo } from '../telemetry/peer';
import { Reporter, RequestFacts, standardLabels } from '../telemetry/logic';
import {
  STANDARD_LABELS,
  UNKNOWN,
  OTHER,
  L_REPORTER,
  L_SOURCE_WORKLOAD_NAMESPACE,
  L_DESTINATION_WORKLOAD_NAMESPACE,
  L_DESTINATION_SERVICE,
  L_DESTINATION_SERVICE_NAME,
  L_DESTINATION_SERVICE_NAMESPACE,
  L_REQUEST_PROTOCOL,
  L_RESPONSE_CODE,
  L_GRPC_RESPONSE_STATUS,
  sanitizeValue,
  encodeMetricName,
} from '../telemetry/labels';

export const TCP_OPENED = 0;
export const TCP_CLOSED = 1;
export const TCP_SENT = 2;
export const TCP_RECEIVED = 3;
/** Istio's TCP metrics, indexed by TCP_OPENED..TCP_RECEIVED (all counters). */
export const TCP_METRICS: string[] = [
  'istio_tcp_connections_opened_total',
  'istio_tcp_connections_closed_total',
  'istio_tcp_sent_bytes_total',
  'istio_tcp_received_bytes_total',
];

/** Istio's standard labels a TCP metric has: all but response_code and grpc_response_status, in the HTTP order. */
export const TCP_LABEL_INDEXES: i32[] = tcpLabelIndexes();
export const TCP_LABEL_NAMES: string[] = TCP_LABEL_INDEXES.map<string>((i: i32): string => STANDARD_LABELS[i]);

function tcpLabelIndexes(): i32[] {
  const out = new Array<i32>();
  for (let i = 0; i < STANDARD_LABELS.length; i++) if (i != L_RESPONSE_CODE && i != L_GRPC_RESPONSE_STATUS) out.push(i);
  return out;
}

/** What the adapter learned about one connection when it labelled it. */
export class ConnectionFacts {
  mtls: bool = false;
  /** URI SAN of the peer's certificate, "" without one. */
  peerPrincipal: string = '';
  /** URI SAN of our own certificate, "" without one. */
  localPrincipal: string = '';
  /** The upstream cluster tcp_proxy chose (Istio's `outbound|port||host`), null before it chose. */
  upstreamCluster: string | null = null;
  /** Envoy's response flags bitmask (e.g. UF when the upstream refused). */
  responseFlags: u64 = 0;
}

/** The namespace of a SPIFFE principal `<domain>/ns/<namespace>/sa/<account>`, "" without one (Istio's getNamespace). */
export function namespaceOfPrincipal(principal: string): string {
  const key = '/ns/';
  const at = principal.indexOf(key);
  if (at < 0) return '';
  const begin = at + key.length;
  const end = principal.indexOf('/', begin);
  return end < 0 ? principal.substring(begin) : principal.substring(begin, end);
}

/** Raw label values of a connection, indexed like STANDARD_LABELS (response_code and grpc_response_status unused). */
export function tcpStandardLabels(reporter: Reporter, local: PeerInfo, c: ConnectionFacts): string[] {
  const f = new RequestFacts();
  f.mtls = c.mtls;
  f.peerPrincipal = c.peerPrincipal;
  f.localPrincipal = c.localPrincipal;
  f.upstreamCluster = c.upstreamCluster;
  f.responseFlags = c.responseFlags;
  // No peer metadata on TCP: the other side is known by its certificate only.
  const v = standardLabels(reporter, local, f);
  v[L_REQUEST_PROTOCOL] = 'tcp';
  // Istio takes the peer's namespace from its SPIFFE principal first.
  const peerNamespace = c.mtls ? namespaceOfPrincipal(c.peerPrincipal) : '';
  if (reporter == Reporter.Destination) {
    if (peerNamespace.length > 0) v[L_SOURCE_WORKLOAD_NAMESPACE] = peerNamespace;
    // No Host header on TCP: the service is this workload's canonical service (Istio's fallback).
    const service = local.canonicalService.length > 0 ? local.canonicalService : UNKNOWN;
    v[L_DESTINATION_SERVICE] = service;
    v[L_DESTINATION_SERVICE_NAME] = service;
    v[L_DESTINATION_SERVICE_NAMESPACE] = local.namespace.length > 0 ? local.namespace : UNKNOWN;
  } else if (peerNamespace.length > 0) {
    v[L_DESTINATION_WORKLOAD_NAMESPACE] = peerNamespace;
    if (v[L_DESTINATION_SERVICE_NAMESPACE] == UNKNOWN) v[L_DESTINATION_SERVICE_NAMESPACE] = peerNamespace;
  }
  return v;
}

/** The `l=v;...;` prefix of the connection's four metric names (sanitized values). */
export function tcpLabelKey(standard: string[]): string {
  const values = new Array<string>(TCP_LABEL_INDEXES.length);
  for (let i = 0; i < TCP_LABEL_INDEXES.length; i++) values[i] = sanitizeValue(standard[TCP_LABEL_INDEXES[i]]);
  return encodeMetricName('', TCP_LABEL_NAMES, values);
}

/** The label key connections fold into past the cap: `other` everywhere but the reporter. */
export function tcpOverflowKey(standard: string[]): string {
  const values = new Array<string>(TCP_LABEL_INDEXES.length);
  for (let i = 0; i < TCP_LABEL_INDEXES.length; i++) values[i] = TCP_LABEL_INDEXES[i] == L_REPORTER ? standard[L_REPORTER] : OTHER;
  return encodeMetricName('', TCP_LABEL_NAMES, values);
}

/** Bytes of one connection and what earlier reports already added (Istio reports deltas). */
export class ByteMeter {
  /** Bytes from the client (Istio's received: the downstream connection's received bytes). */
  received: u64 = 0;
  /** Bytes to the client (Istio's sent). */
  sent: u64 = 0;
  private reportedReceived: u64 = 0;
  private reportedSent: u64 = 0;

  /** Received bytes not reported yet; marks them reported. */
  takeReceived(): u64 {
    const d = this.received - this.reportedReceived;
    this.reportedReceived = this.received;
    return d;
  }
  takeSent(): u64 {
    const d = this.sent - this.reportedSent;
    this.reportedSent = this.sent;
    return d;
  }
}
