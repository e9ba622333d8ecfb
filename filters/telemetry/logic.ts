// Telemetry decisions: label values for a finished request, per-metric label sets after the
// configured tag overrides, and the cap on distinct label sets. Pure: no host calls; the adapter
// (filter.ts) fills RequestFacts and answers ValueContext lookups.
import { pathWithoutQuery } from '../../assembly/lib/http';
import { JsonKind, JsonValue, jsonAt, scalarText } from '../../assembly/lib/json';
import { PeerInfo } from './peer';
import { TraceIds } from './trace';
import {
  STANDARD_LABELS,
  UNKNOWN,
  OTHER,
  L_REPORTER,
  L_SOURCE_WORKLOAD,
  L_SOURCE_WORKLOAD_NAMESPACE,
  L_SOURCE_PRINCIPAL,
  L_SOURCE_APP,
  L_SOURCE_VERSION,
  L_SOURCE_CANONICAL_SERVICE,
  L_SOURCE_CANONICAL_REVISION,
  L_SOURCE_CLUSTER,
  L_DESTINATION_WORKLOAD,
  L_DESTINATION_WORKLOAD_NAMESPACE,
  L_DESTINATION_PRINCIPAL,
  L_DESTINATION_APP,
  L_DESTINATION_VERSION,
  L_DESTINATION_SERVICE,
  L_DESTINATION_SERVICE_NAME,
  L_DESTINATION_SERVICE_NAMESPACE,
  L_DESTINATION_CANONICAL_SERVICE,
  L_DESTINATION_CANONICAL_REVISION,
  L_DESTINATION_CLUSTER,
  L_REQUEST_PROTOCOL,
  L_RESPONSE_CODE,
  L_GRPC_RESPONSE_STATUS,
  L_RESPONSE_FLAGS,
  L_CONNECTION_SECURITY_POLICY,
  sanitizeValue,
  encodeMetricName,
  responseFlagsString,
  hostOfAuthority,
  serviceOfCluster,
  serviceName,
  serviceNamespace,
} from './labels';

export enum Reporter {
  Source,
  Destination,
}

/** What the adapter learned about one request (from headers, properties and the clock). */
export class RequestFacts {
  authority: string = '';
  method: string = '';
  path: string = '';
  /** Envoy's request.protocol, e.g. HTTP/1.1. */
  protocol: string = '';
  contentType: string | null = null;
  userAgent: string | null = null;
  requestId: string | null = null;
  trace: TraceIds | null = null;
  responseCode: i32 = 0;
  responseCodeDetails: string | null = null;
  /** A gRPC request (content type, as Istio's stats filter decides). */
  grpc: bool = false;
  /** Istio's grpc_response_status (labels.ts grpcStatusOf) for gRPC requests; "" otherwise. */
  grpcStatus: string = '';
  /** gRPC messages seen in each direction (gRPC requests only). */
  requestMessages: u64 = 0;
  responseMessages: u64 = 0;
  responseFlags: u64 = 0;
  /** Header map bytes + body bytes, as Envoy's request.total_size. */
  requestBytes: i64 = 0;
  /** Header and trailer map bytes + body bytes, as Envoy's response.total_size. */
  responseBytes: i64 = 0;
  /** Body bytes, as Envoy's %BYTES_RECEIVED% / %BYTES_SENT%. */
  requestBodyBytes: i64 = 0;
  responseBodyBytes: i64 = 0;
  startNs: u64 = 0;
  durationNs: u64 = 0;
  upstreamCluster: string | null = null;
  upstreamHost: string | null = null;
  mtls: bool = false;
  /** URI SAN of the peer's certificate (spiffe://...), "" without mTLS. */
  peerPrincipal: string = '';
  /** URI SAN of our own certificate, "" without mTLS. */
  localPrincipal: string = '';
  /** URI SAN of the upstream connection's peer certificate (Envoy's upstream.uri_san_peer_certificate), "" without one. */
  upstreamPeerPrincipal: string = '';
  /** The other workload, from the peer header; null when none (or invalid). */
  peer: PeerInfo | null = null;
}

function orUnknown(s: string): string {
  return s.length == 0 ? UNKNOWN : s;
}

// The last request's derived values: a sidecar sees few hosts and codes, so one compare replaces
// a substring or number formatting (an allocation) per request.
let lastAuthority = '';
let lastHost = '';
let lastService = '';
let lastServiceName = '';
let lastServiceNamespace = '';
let lastCode: i32 = 0;
let lastCodeText = '0';

/**
 * Istio's standard label values (raw, not yet sanitized), indexed like STANDARD_LABELS.
 * `local` is this proxy's workload (node metadata). Written into `out` when given (reused per request).
 */
export function standardLabels(reporter: Reporter, local: PeerInfo, f: RequestFacts, out: string[] | null = null): string[] {
  const v = out === null ? new Array<string>(STANDARD_LABELS.length) : out;
  const peer = f.peer;
  if (f.authority != lastAuthority) {
    lastAuthority = f.authority;
    lastHost = hostOfAuthority(f.authority);
  }
  const host = lastHost;
  let service = host;
  if (reporter == Reporter.Source && f.upstreamCluster !== null) {
    const fromCluster = serviceOfCluster(f.upstreamCluster!);
    if (fromCluster.length > 0) service = fromCluster;
  }
  let src: PeerInfo | null;
  let dst: PeerInfo | null;
  if (reporter == Reporter.Destination) {
    v[L_REPORTER] = 'destination';
    src = peer;
    dst = local;
    v[L_SOURCE_PRINCIPAL] = f.mtls ? orUnknown(f.peerPrincipal) : UNKNOWN;
    v[L_DESTINATION_PRINCIPAL] = f.mtls ? orUnknown(f.localPrincipal) : UNKNOWN;
    v[L_CONNECTION_SECURITY_POLICY] = f.mtls ? 'mutual_tls' : 'none';
  } else {
    v[L_REPORTER] = 'source';
    src = local;
    dst = peer;
    v[L_SOURCE_PRINCIPAL] = f.mtls ? orUnknown(f.localPrincipal) : UNKNOWN;
    // As Istio's stats filter on the client side: the server's identity is the upstream TLS peer's.
    v[L_DESTINATION_PRINCIPAL] = orUnknown(f.upstreamPeerPrincipal);
    v[L_CONNECTION_SECURITY_POLICY] = UNKNOWN;
  }
  v[L_SOURCE_WORKLOAD] = src === null ? UNKNOWN : orUnknown(src.workload);
  v[L_SOURCE_WORKLOAD_NAMESPACE] = src === null ? UNKNOWN : orUnknown(src.namespace);
  v[L_SOURCE_APP] = src === null ? UNKNOWN : orUnknown(src.app);
  v[L_SOURCE_VERSION] = src === null ? UNKNOWN : orUnknown(src.version);
  v[L_SOURCE_CLUSTER] = src === null ? UNKNOWN : orUnknown(src.cluster);
  // As Istio's stats filter: a peer without a canonical service is unknown, without a revision latest.
  v[L_SOURCE_CANONICAL_SERVICE] = src === null ? UNKNOWN : orUnknown(src.canonicalService);
  v[L_SOURCE_CANONICAL_REVISION] = src === null || src.canonicalRevision.length == 0 ? 'latest' : src.canonicalRevision;
  v[L_DESTINATION_CANONICAL_SERVICE] = dst === null ? UNKNOWN : orUnknown(dst.canonicalService);
  v[L_DESTINATION_CANONICAL_REVISION] = dst === null || dst.canonicalRevision.length == 0 ? 'latest' : dst.canonicalRevision;
  v[L_DESTINATION_WORKLOAD] = dst === null ? UNKNOWN : orUnknown(dst.workload);
  v[L_DESTINATION_WORKLOAD_NAMESPACE] = dst === null ? UNKNOWN : orUnknown(dst.namespace);
  v[L_DESTINATION_APP] = dst === null ? UNKNOWN : orUnknown(dst.app);
  v[L_DESTINATION_VERSION] = dst === null ? UNKNOWN : orUnknown(dst.version);
  v[L_DESTINATION_CLUSTER] = dst === null ? UNKNOWN : orUnknown(dst.cluster);
  v[L_DESTINATION_SERVICE] = orUnknown(service);
  if (service != lastService) {
    lastService = service;
    lastServiceName = serviceName(service);
    lastServiceNamespace = serviceNamespace(service);
  }
  v[L_DESTINATION_SERVICE_NAME] = orUnknown(lastServiceName);
  let ns = lastServiceNamespace;
  if (ns.length == 0 && dst !== null) ns = dst.namespace;
  v[L_DESTINATION_SERVICE_NAMESPACE] = orUnknown(ns);
  v[L_REQUEST_PROTOCOL] = f.grpc ? 'grpc' : 'http';
  if (f.responseCode != lastCode) {
    lastCode = f.responseCode;
    lastCodeText = f.responseCode.toString();
  }
  v[L_RESPONSE_CODE] = lastCodeText;
  v[L_GRPC_RESPONSE_STATUS] = f.grpcStatus;
  v[L_RESPONSE_FLAGS] = responseFlagsString(f.responseFlags);
  return v;
}

/**
 * Whether two requests have the facts standardLabels reads (besides the reporter and the local
 * workload, fixed per config) equal, so the same standard labels: a filter whose labels are all
 * standard or constant keeps the last request's label sets (a sidecar sees the same caller, code and
 * host request after request). The peer is compared as the cached object: a re-decoded peer differs.
 */
export function sameLabelFacts(a: RequestFacts, b: RequestFacts): bool {
  return (
    a.peer === b.peer &&
    a.mtls == b.mtls &&
    a.responseCode == b.responseCode &&
    a.responseFlags == b.responseFlags &&
    a.grpc == b.grpc &&
    a.grpcStatus == b.grpcStatus &&
    a.authority == b.authority &&
    a.peerPrincipal == b.peerPrincipal &&
    a.localPrincipal == b.localPrincipal &&
    a.upstreamPeerPrincipal == b.upstreamPeerPrincipal &&
    a.upstreamCluster == b.upstreamCluster
  );
}

// ---- Metrics and their label sets -------------------------------------------------------------

export enum MetricKind {
  RequestCount,
  RequestDuration,
  RequestSize,
  ResponseSize,
  RequestMessages,
  ResponseMessages,
}
export const METRIC_COUNT: i32 = 6;
/** Requests whose label set did not fit under the cap (also tcp_telemetry's). */
export const OVERFLOW_METRIC = 'asmesh_telemetry_overflow_total';
export const METRIC_NAMES: string[] = [
  'istio_requests_total',
  'istio_request_duration_milliseconds',
  'istio_request_bytes',
  'istio_response_bytes',
  'istio_request_messages_total',
  'istio_response_messages_total',
];
/** Istio Telemetry API names (`match.metric`). */
export const METRIC_MATCH_NAMES: string[] = [
  'REQUEST_COUNT',
  'REQUEST_DURATION',
  'REQUEST_SIZE',
  'RESPONSE_SIZE',
  'GRPC_REQUEST_MESSAGES',
  'GRPC_RESPONSE_MESSAGES',
];

/** Counters (the others are histograms). */
export function isCounter(kind: MetricKind): bool {
  return kind == MetricKind.RequestCount || kind == MetricKind.RequestMessages || kind == MetricKind.ResponseMessages;
}

/**
 * Istio records the gRPC message counters for gRPC requests whose stream Envoy's grpc_stats filter
 * saw a message of (its filter state exists then; a local reply before any message has none).
 */
export function recordsFor(kind: MetricKind, f: RequestFacts): bool {
  if (kind != MetricKind.RequestMessages && kind != MetricKind.ResponseMessages) return true;
  return f.grpc && f.requestMessages + f.responseMessages > 0;
}

/** The value one request adds to (counter) or records in (histogram) metric `kind`. */
export function metricValue(kind: MetricKind, f: RequestFacts): u64 {
  switch (kind) {
    case MetricKind.RequestDuration:
      return f.durationNs / 1_000_000;
    case MetricKind.RequestSize:
      return <u64>f.requestBytes;
    case MetricKind.ResponseSize:
      return <u64>f.responseBytes;
    case MetricKind.RequestMessages:
      return f.requestMessages;
    case MetricKind.ResponseMessages:
      return f.responseMessages;
    default:
      return 1;
  }
}

export enum SourceKind {
  Standard,
  RequestHeader,
  ResponseHeader,
  Claim,
  Constant,
  Attribute,
}

// Attributes a tag value may name directly.
export enum Attribute {
  RequestHost,
  RequestMethod,
  RequestPath,
  RequestUrlPath,
  RequestProtocol,
  ResponseCode,
}

/** Where a label's value comes from. */
export class LabelSource {
  /** A claim's path (`request.auth.claims[a][b]` -> ["a", "b"]); `name` is its segments joined by NUL. */
  path: string[] = [];
  constructor(
    public readonly kind: SourceKind,
    public readonly index: i32,
    public readonly name: string,
  ) {}
  static standard(index: i32): LabelSource {
    return new LabelSource(SourceKind.Standard, index, '');
  }
  static claim(path: string[]): LabelSource {
    const s = new LabelSource(SourceKind.Claim, 0, path.join('\u0000'));
    s.path = path;
    return s;
  }
}

/**
 * The value of the claim at `path` in a JWT payload: scalars as text, a list's scalar items joined
 * with ',' (as Istio joins list claims; an empty list, or one with no scalar item, is absent); an
 * object, null or a missing member is absent (null).
 */
export function claimValue(payload: JsonValue | null, path: string[]): string | null {
  const v = jsonAt(payload, path);
  if (v === null) return null;
  if (v.kind != JsonKind.Array) return scalarText(v);
  const parts = new Array<string>();
  for (let i = 0; i < v.items.length; i++) {
    const t = scalarText(v.items[i]);
    if (t !== null) parts.push(t);
  }
  return parts.length == 0 ? null : parts.join(',');
}

/** Lookups the adapter answers for custom dimensions; null when absent. */
export class ValueContext {
  requestHeader(name: string): string | null {
    return null;
  }
  responseHeader(name: string): string | null {
    return null;
  }
  claim(path: string[]): string | null {
    return null;
  }
}

function attributeValue(a: i32, f: RequestFacts): string {
  switch (a) {
    case Attribute.RequestHost:
      return f.authority;
    case Attribute.RequestMethod:
      return f.method;
    case Attribute.RequestPath:
      return f.path;
    case Attribute.RequestUrlPath:
      return pathWithoutQuery(f.path);
    case Attribute.RequestProtocol:
      return f.protocol;
    default:
      return f.responseCode.toString();
  }
}

/** The value of one label for this request, sanitized for the stat name. */
export function labelValue(src: LabelSource, standard: string[], f: RequestFacts, ctx: ValueContext): string {
  let raw: string | null;
  switch (src.kind) {
    case SourceKind.Standard: {
      // grpc_response_status is legitimately empty for plain HTTP (Istio prints "").
      const s = standard[src.index];
      return src.index == L_GRPC_RESPONSE_STATUS && s.length == 0 ? '' : sanitizeValue(s);
    }
    case SourceKind.RequestHeader:
      raw = ctx.requestHeader(src.name);
      break;
    case SourceKind.ResponseHeader:
      raw = ctx.responseHeader(src.name);
      break;
    case SourceKind.Claim:
      raw = ctx.claim(src.path);
      break;
    case SourceKind.Constant:
      raw = src.name;
      break;
    default:
      raw = attributeValue(src.index, f);
      break;
  }
  return sanitizeValue(raw === null ? '' : raw);
}

/** One metric's configured shape: its label names and where each value comes from. */
export class MetricSpec {
  enabled: bool = true;
  labelNames: string[] = [];
  sources: LabelSource[] = [];
  /** Index of the first metric with the same labels (itself when none): its key is reused. */
  sameLabelsAs: i32 = 0;
  constructor(
    public readonly kind: MetricKind,
    public readonly name: string,
  ) {}

  sameLabels(other: MetricSpec): bool {
    if (other.labelNames.length != this.labelNames.length) return false;
    for (let i = 0; i < this.labelNames.length; i++) {
      if (other.labelNames[i] != this.labelNames[i]) return false;
      const a = other.sources[i];
      const b = this.sources[i];
      if (a.kind != b.kind || a.index != b.index || a.name != b.name) return false;
    }
    return true;
  }

  /**
   * Writes this request's label values (sanitized) into `out` and returns their hash: how a
   * request finds its label set (LabelSets) without building the stat name.
   */
  labelValues(standard: string[], f: RequestFacts, ctx: ValueContext, out: string[]): u32 {
    let h = HASH_SEED;
    for (let i = 0; i < this.sources.length; i++) {
      const v = labelValue(this.sources[i], standard, f, ctx);
      unchecked((out[i] = v));
      h = hashValue(h, v);
    }
    return h;
  }

  /** The stat name for this request (labels encoded, see labels.ts). */
  statName(standard: string[], f: RequestFacts, ctx: ValueContext): string {
    const values = new Array<string>(this.sources.length);
    this.labelValues(standard, f, ctx, values);
    return encodeMetricName(this.name, this.labelNames, values);
  }

  /** The label key series fold into past the cap: reporter kept, every other label `other`. */
  overflowKey(standard: string[]): string {
    const values = new Array<string>(this.sources.length);
    for (let i = 0; i < this.sources.length; i++) {
      const s = this.sources[i];
      values[i] = s.kind == SourceKind.Standard && s.index == L_REPORTER ? standard[L_REPORTER] : OTHER;
    }
    return encodeMetricName('', this.labelNames, values);
  }
}

/** A MetricSpec with Istio's standard labels in Istio's order. */
export function defaultMetricSpec(kind: MetricKind): MetricSpec {
  const spec = new MetricSpec(kind, METRIC_NAMES[<i32>kind]);
  for (let i = 0; i < STANDARD_LABELS.length; i++) {
    spec.labelNames.push(STANDARD_LABELS[i]);
    spec.sources.push(LabelSource.standard(i));
  }
  return spec;
}

/** Sets (adds at the end, or replaces in place) a label. */
export function upsertLabel(spec: MetricSpec, name: string, source: LabelSource): void {
  const at = spec.labelNames.indexOf(name);
  if (at >= 0) {
    spec.sources[at] = source;
    return;
  }
  spec.labelNames.push(name);
  spec.sources.push(source);
}

export function removeLabel(spec: MetricSpec, name: string): void {
  const at = spec.labelNames.indexOf(name);
  if (at < 0) return;
  spec.labelNames.splice(at, 1);
  spec.sources.splice(at, 1);
}

// ---- Cardinality cap --------------------------------------------------------------------------

/** How many series one metric has defined, at most `cap`; past it requests fold into its overflow series. */
export class SeriesTable {
  size: i32 = 0;
  overflowId: u32 = u32.MAX_VALUE;
  constructor(public readonly cap: i32) {}

  /** Counts one more series; false when the cap is reached. */
  take(): bool {
    if (this.size >= this.cap) return false;
    this.size++;
    return true;
  }
}

const HASH_SEED: u32 = 2166136261;

/** FNV-1a over a value's UTF-16 code units, then a separator (so value boundaries count). */
export function hashValue(h: u32, v: string): u32 {
  const at = changetype<usize>(v);
  const end = at + ((<usize>v.length) << 1);
  for (let p = at; p < end; p += 2) h = (h ^ (<u32>load<u16>(p))) * 16777619;
  return (h ^ 0x3b) * 16777619;
}

/** One distinct label set of the metrics sharing a MetricSpec's labels, and each metric's id (u32.MAX_VALUE: none yet). */
export class LabelSet {
  readonly ids: StaticArray<u32> = new StaticArray<u32>(METRIC_COUNT);
  next: LabelSet | null = null;
  constructor(
    public readonly hash: u32,
    public readonly values: StaticArray<string>,
  ) {
    for (let k = 0; k < METRIC_COUNT; k++) unchecked((this.ids[k] = u32.MAX_VALUE));
  }

  matches(values: string[]): bool {
    const mine = this.values;
    if (mine.length != values.length) return false;
    for (let i = 0; i < mine.length; i++) if (unchecked(mine[i]) != unchecked(values[i])) return false;
    return true;
  }
}

/** Label sets by the hash of their values (MetricSpec.labelValues), compared value by value on a hit. */
export class LabelSets {
  private readonly byHash: Map<u32, LabelSet> = new Map<u32, LabelSet>();

  find(hash: u32, values: string[]): LabelSet | null {
    if (!this.byHash.has(hash)) return null;
    let s: LabelSet | null = this.byHash.get(hash);
    while (s !== null) {
      if (s.matches(values)) return s;
      s = s.next;
    }
    return null;
  }

  /** Adds a copy of `values` (the caller reuses its array). */
  add(hash: u32, values: string[]): LabelSet {
    const copy = new StaticArray<string>(values.length);
    for (let i = 0; i < values.length; i++) unchecked((copy[i] = values[i]));
    const set = new LabelSet(hash, copy);
    if (this.byHash.has(hash)) set.next = this.byHash.get(hash);
    this.byHash.set(hash, set);
    return set;
  }
}
