// The telemetry filter's proxy-wasm adapter: collects request facts from headers, properties and
// the clock, then at the end of the stream (onLog) records Istio's standard metrics and writes the
// JSON access log line. Decisions live in logic.ts; configuration in config.ts.
import {
  RootContext,
  HttpContext,
  FilterHeadersStatus,
  FilterDataStatus,
  FilterTrailersStatus,
  configureOrFail,
  requestHeaders,
  responseHeaders,
  responseTrailers,
  getBufferBytes,
  BufferType,
  logInfo,
  currentTimeNanoseconds,
  Property,
  isMissingInt,
  Counter,
  PairsIndex,
  MetricType,
  defineMetric,
  incrementMetric,
  recordMetric,
} from '../../assembly/proxy';
import { JsonValue, parseJson } from '../../assembly/lib/json';
import { TelemetryConfig, parseTelemetryConfig } from './config';
import {
  Reporter,
  RequestFacts,
  ValueContext,
  MetricSpec,
  SeriesTable,
  LabelSet,
  LabelSets,
  sameLabelFacts,
  SourceKind,
  METRIC_COUNT,
  Attribute,
  standardLabels,
  claimValue,
  isCounter,
  recordsFor,
  metricValue,
  OVERFLOW_METRIC,
} from './logic';
import { isGrpcContentType, grpcStatusOf, encodeMetricName, STANDARD_LABELS } from './labels';
const STANDARD_LABEL_COUNT = STANDARD_LABELS.length;
import { GrpcFrames } from './grpc';
import { PeerInfo, PEER_HEADER, decodePeer } from './peer';
import { localWorkload } from './workload';
import { traceIds } from './trace';
import { accessLogLine, accessLogFieldIndex, isStateField, stateValue } from './accesslog';
import { ACCESS_LOG_FIELDS, ACCESS_LOG_STATE_PREFIX } from '../../assembly/lib/accesslog_contract';

/** Filter state the authz filter writes with the verified JWT payload (JSON). */
import { JWT_PAYLOAD_STATE as JWT_PAYLOAD_PROPERTY } from '../../assembly/lib/contracts';
// Property paths encoded once (a read then costs the host call alone).
const P_REQUEST_TIME = new Property(['request', 'time']);
const P_RESPONSE_CODE = new Property(['response', 'code']);
const P_RESPONSE_FLAGS = new Property(['response', 'flags']);
const P_RESPONSE_CODE_DETAILS = new Property(['response', 'code_details']);
const P_REQUEST_PROTOCOL = new Property(['request', 'protocol']);
const P_XDS_CLUSTER_NAME = new Property(['xds', 'cluster_name']);
const P_UPSTREAM_ADDRESS = new Property(['upstream', 'address']);
const P_CONNECTION_MTLS = new Property(['connection', 'mtls']);
const P_CONNECTION_URI_SAN_PEER_CERTIFICATE = new Property(['connection', 'uri_san_peer_certificate']);
const P_CONNECTION_URI_SAN_LOCAL_CERTIFICATE = new Property(['connection', 'uri_san_local_certificate']);
const P_UPSTREAM_URI_SAN_PEER_CERTIFICATE = new Property(['upstream', 'uri_san_peer_certificate']);
const P_REQUEST_TOTAL_SIZE = new Property(['request', 'total_size']);
const P_RESPONSE_SIZE = new Property(['response', 'size']);
const P_RESPONSE_TOTAL_SIZE = new Property(['response', 'total_size']);
const P_JWT_PAYLOAD = new Property([JWT_PAYLOAD_PROPERTY]);
const PEER_CACHE_SIZE: i32 = 256;

function orEmpty(s: string | null): string {
  return s === null ? '' : s!;
}

// Request headers read in one proxy_get_header_map_pairs call (a host call per header costs more).
const RQ_AUTHORITY = 0;
const RQ_METHOD = 1;
const RQ_PATH = 2;
const RQ_CONTENT_TYPE = 3;
const RQ_USER_AGENT = 4;
const RQ_REQUEST_ID = 5;
const RQ_TRACEPARENT = 6;
const RQ_B3_TRACE = 7;
const RQ_B3_SPAN = 8;
const RQ_B3 = 9;
const RQ_PEER = 10;
const REQUEST_WANTED: string[] = [
  ':authority',
  ':method',
  ':path',
  'content-type',
  'user-agent',
  'x-request-id',
  'traceparent',
  'x-b3-traceid',
  'x-b3-spanid',
  'b3',
  PEER_HEADER,
];
/** Where the tag overrides' request headers start in a scan. */
const RQ_FIXED = REQUEST_WANTED.length;
const RS_STATUS = 0;
const RS_GRPC = 1;
const RS_PEER = 2;
const RESPONSE_WANTED: string[] = [':status', 'grpc-status', PEER_HEADER];
const RS_FIXED = RESPONSE_WANTED.length;
const EMPTY_AT = new StaticArray<i32>(0);

function encodeAll(fixed: string[], extra: string[]): ArrayBuffer[] {
  const out = new Array<ArrayBuffer>();
  for (let i = 0; i < fixed.length; i++) out.push(String.UTF8.encode(fixed[i]));
  for (let i = 0; i < extra.length; i++) out.push(String.UTF8.encode(extra[i]));
  return out;
}

function usesAttribute(cfg: TelemetryConfig, a: Attribute): bool {
  for (let m = 0; m < cfg.metrics.length; m++) {
    const spec = cfg.metrics[m];
    for (let i = 0; i < spec.sources.length; i++) {
      if (spec.sources[i].kind == SourceKind.Attribute && spec.sources[i].index == <i32>a) return true;
    }
  }
  return false;
}

/** Whether every label of every metric is a standard label or a constant: then equal facts give equal label sets. */
function labelsFromFacts(cfg: TelemetryConfig): bool {
  for (let m = 0; m < cfg.metrics.length; m++) {
    const sources = cfg.metrics[m].sources;
    for (let i = 0; i < sources.length; i++) {
      const kind = sources[i].kind;
      if (kind != SourceKind.Standard && kind != SourceKind.Constant) return false;
    }
  }
  return true;
}

/** The union of header names the tag overrides read, per side. */
function headerNames(cfg: TelemetryConfig, kind: SourceKind): string[] {
  const out = new Array<string>();
  for (let m = 0; m < cfg.metrics.length; m++) {
    const spec = cfg.metrics[m];
    for (let i = 0; i < spec.sources.length; i++) {
      const s = spec.sources[i];
      if (s.kind == kind && !out.includes(s.name)) out.push(s.name);
    }
  }
  return out;
}

export class TelemetryRoot extends RootContext {
  config!: TelemetryConfig;
  local: PeerInfo = new PeerInfo();
  localHeader: string = '';
  tables: SeriesTable[] = [];
  // Metric ids by MetricKind, then series index (not Counter/Histogram objects, which keep their
  // ~1 kB names: at the cap that was 4 names per label set, half the filter's Wasm memory;
  // bench:telemetry-cardinality).
  metricIds: u32[][] = [];
  // Per metric (cfg.metrics index): the label sets seen (used for the first metric of each group
  // sharing labels), and this request's values, hash and set (reused: no allocation per request).
  sets: LabelSets[] = [];
  values: string[][] = [];
  requestHashes: u32[] = [];
  requestSets: (LabelSet | null)[] = [];
  /** This request's standard label values (reused). */
  standard: string[] = new Array<string>(STANDARD_LABEL_COUNT);
  /** Labels from the facts alone (labelsFromFacts), and the finished request whose facts last set `standard` and `requestSets`. */
  labelsFromFacts: bool = false;
  lastFacts: RequestFacts | null = null;
  overflow!: Counter;
  requestHeaderNames: string[] = [];
  responseHeaderNames: string[] = [];
  requestWanted: ArrayBuffer[] = [];
  responseWanted: ArrayBuffer[] = [];
  // What the access log and labels need, so a request reads no more than that.
  needProtocol: bool = false;
  needCluster: bool = false;
  needUpstreamHost: bool = false;
  needDetails: bool = false;
  needUserAgent: bool = false;
  needRequestId: bool = false;
  needTrace: bool = false;
  // accessLog.writer "envoy": the fields this filter sets as filter state, and their keys (encoded once).
  stateFields: i32[] = [];
  stateKeys: Property[] = [];

  // Recently seen peer headers, decoded (a sidecar sends the same value on every request).
  private peers: Map<string, PeerInfo | null> = new Map<string, PeerInfo | null>();

  private lastPeerBytes: ArrayBuffer | null = null;
  private lastPeer: PeerInfo | null = null;

  /** The peer in entry `i` of a scan (present): usually the previous request's, found by comparing bytes (no decoding). */
  peerOf(scan: PairsIndex, i: i32): PeerInfo | null {
    const last = this.lastPeerBytes;
    if (last !== null && scan.valueIs(i, last)) return this.lastPeer;
    const peer = this.peer(scan.value(i));
    this.lastPeerBytes = scan.valueBytes(i);
    this.lastPeer = peer;
    return peer;
  }

  peer(header: string): PeerInfo | null {
    if (this.peers.has(header)) return this.peers.get(header);
    const peer = decodePeer(header);
    if (this.peers.size >= PEER_CACHE_SIZE) this.peers.clear();
    this.peers.set(header, peer);
    return peer;
  }

  /** Whether this filter produces access log field `field` (with Envoy as the writer, only the filter-state ones). */
  private logs(field: string): bool {
    const cfg = this.config;
    const at = accessLogFieldIndex(field);
    return cfg.accessLog && cfg.accessLogFields.includes(at) && (!cfg.envoyWriter || isStateField(at));
  }

  onConfigure(configurationSize: u32): bool {
    const cfg = configureOrFail<TelemetryConfig>('telemetry', configurationSize, parseTelemetryConfig);
    if (cfg === null) return false;
    this.config = cfg;
    this.local = localWorkload();
    this.localHeader = this.local.encode();
    this.tables = [];
    this.metricIds = [];
    for (let m = 0; m < METRIC_COUNT; m++) {
      this.tables.push(new SeriesTable(cfg.maxLabelSets));
      this.metricIds.push(new Array<u32>());
    }
    this.sets = [];
    this.values = [];
    for (let m = 0; m < cfg.metrics.length; m++) {
      this.sets.push(new LabelSets());
      this.values.push(new Array<string>(cfg.metrics[m].sources.length));
    }
    this.requestHashes = new Array<u32>(cfg.metrics.length);
    this.requestSets = new Array<LabelSet | null>(cfg.metrics.length);
    this.labelsFromFacts = labelsFromFacts(cfg);
    this.lastFacts = null;
    this.overflow = new Counter(OVERFLOW_METRIC);
    this.requestHeaderNames = headerNames(cfg, SourceKind.RequestHeader);
    this.responseHeaderNames = headerNames(cfg, SourceKind.ResponseHeader);
    this.requestWanted = encodeAll(REQUEST_WANTED, this.requestHeaderNames);
    this.responseWanted = encodeAll(RESPONSE_WANTED, this.responseHeaderNames);
    this.needProtocol = this.logs('protocol') || usesAttribute(cfg, Attribute.RequestProtocol);
    this.needCluster = cfg.reporter == Reporter.Source || this.logs('upstream_cluster');
    this.needUpstreamHost = this.logs('upstream_host');
    this.needDetails = this.logs('response_code_details');
    this.needUserAgent = this.logs('user_agent');
    this.needRequestId = this.logs('request_id');
    this.needTrace = this.logs('trace_id') || this.logs('span_id');
    this.stateFields = [];
    this.stateKeys = [];
    if (cfg.accessLog && cfg.envoyWriter) {
      for (let i = 0; i < cfg.accessLogFields.length; i++) {
        const field = cfg.accessLogFields[i];
        if (!isStateField(field)) continue;
        this.stateFields.push(field);
        this.stateKeys.push(new Property([ACCESS_LOG_STATE_PREFIX + ACCESS_LOG_FIELDS[field]]));
      }
    }
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new TelemetryHttp(contextId, this);
  }

  /** This request's label set of metric `m` (the first of its group): found by its values' hash, compared on a hit. */
  findSet(m: i32, spec: MetricSpec, standard: string[], f: RequestFacts, ctx: ValueContext): void {
    const values = unchecked(this.values[m]);
    const hash = spec.labelValues(standard, f, ctx, values);
    unchecked((this.requestHashes[m] = hash));
    unchecked((this.requestSets[m] = unchecked(this.sets[m]).find(hash, values)));
  }

  /** Records one request in the series of group `g`'s label set (folding into `other` past the cap); true when it folded. */
  record(spec: MetricSpec, g: i32, standard: string[], value: u64): bool {
    const kind = <i32>spec.kind;
    let set = unchecked(this.requestSets[g]);
    let index: u32 = set === null ? u32.MAX_VALUE : unchecked(set.ids[kind]);
    let folded = false;
    if (index == u32.MAX_VALUE) {
      const table = this.tables[kind];
      const values = unchecked(this.values[g]);
      if (table.take()) {
        index = this.define(spec, encodeMetricName(spec.name, spec.labelNames, values));
        if (set === null) {
          set = unchecked(this.sets[g]).add(unchecked(this.requestHashes[g]), values);
          unchecked((this.requestSets[g] = set));
        }
        unchecked((set.ids[kind] = index));
      } else {
        folded = true;
        if (table.overflowId == u32.MAX_VALUE) table.overflowId = this.define(spec, spec.overflowKey(standard) + spec.name);
        index = table.overflowId;
      }
    }
    const id = this.metricIds[kind][index];
    if (isCounter(spec.kind)) incrementMetric(id, <i64>value);
    else recordMetric(id, value);
    return folded;
  }

  private define(spec: MetricSpec, name: string): u32 {
    const list = this.metricIds[<i32>spec.kind];
    list.push(defineMetric(isCounter(spec.kind) ? MetricType.Counter : MetricType.Histogram, name));
    return <u32>(list.length - 1);
  }
}

class TelemetryHttp extends HttpContext {
  private readonly facts: RequestFacts = new RequestFacts();
  private started: bool = false;
  private peerValid: bool = false;
  private requestBodyBytes: i64 = 0;
  private responseBodyBytes: i64 = 0;
  // Header map bytes when we saw the maps (a last resort: Envoy logs the final maps).
  private requestHeaderBytes: i64 = 0;
  private responseHeaderBytes: i64 = 0;
  private statusFromHeaders: i32 = 0;
  private grpcHeader: string | null = null;
  private grpcTrailer: string | null = null;
  // gRPC messages per direction (gRPC requests only).
  private requestFrames: GrpcFrames | null = null;
  private responseFrames: GrpcFrames | null = null;
  private sawResponse: bool = false;
  // The last header scans: the tag overrides' header values follow the fixed ones.
  private requestScan: PairsIndex | null = null;
  private responseScan: PairsIndex | null = null;
  // Where the wanted headers are in the scans (entry index, -1: absent).
  private requestAt: StaticArray<i32> = EMPTY_AT;
  private responseAt: StaticArray<i32> = EMPTY_AT;

  private get telemetry(): TelemetryRoot {
    return changetype<TelemetryRoot>(this.root);
  }

  /** Reads what the request headers tell (also from onLog when an earlier filter replied locally). */
  private readRequest(): PairsIndex {
    this.started = true;
    const root = this.telemetry;
    const f = this.facts;
    f.startNs = currentTimeNanoseconds();
    const h = requestHeaders.snapshot();
    const at = h.locate(root.requestWanted);
    f.authority = orEmpty(h.valueOrNull(at[RQ_AUTHORITY]));
    f.method = orEmpty(h.valueOrNull(at[RQ_METHOD]));
    f.path = orEmpty(h.valueOrNull(at[RQ_PATH]));
    f.contentType = h.valueOrNull(at[RQ_CONTENT_TYPE]);
    f.grpc = isGrpcContentType(f.contentType);
    if (root.needUserAgent) f.userAgent = h.valueOrNull(at[RQ_USER_AGENT]);
    if (root.needRequestId) f.requestId = h.valueOrNull(at[RQ_REQUEST_ID]);
    if (root.needTrace)
      f.trace = traceIds(
        h.valueOrNull(at[RQ_TRACEPARENT]),
        h.valueOrNull(at[RQ_B3_TRACE]),
        h.valueOrNull(at[RQ_B3_SPAN]),
        h.valueOrNull(at[RQ_B3]),
      );
    this.requestHeaderBytes = h.byteSize;
    this.requestScan = h;
    this.requestAt = at;
    return h;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const root = this.telemetry;
    const cfg = root.config;
    const h = this.readRequest();
    if (this.facts.grpc) {
      this.requestFrames = new GrpcFrames();
      this.responseFrames = new GrpcFrames();
    }
    if (cfg.peerMetadata) {
      if (cfg.reporter == Reporter.Destination) {
        const at = this.requestAt[RQ_PEER];
        if (at >= 0) {
          const peer = root.peerOf(h, at);
          this.facts.peer = peer;
          this.peerValid = peer !== null;
          requestHeaders.remove(PEER_HEADER);
        }
      } else {
        requestHeaders.replace(PEER_HEADER, root.localHeader);
      }
    }
    return FilterHeadersStatus.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    this.requestBodyBytes += <i64>bodySize;
    const frames = this.requestFrames;
    if (frames !== null) countFrames(frames, BufferType.HttpRequestBody, bodySize);
    return FilterDataStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const root = this.telemetry;
    const cfg = root.config;
    this.sawResponse = true;
    const h = responseHeaders.snapshot();
    const at = h.locate(root.responseWanted);
    const status = h.valueOrNull(at[RS_STATUS]);
    if (status !== null) this.statusFromHeaders = I32.parseInt(status);
    this.grpcHeader = h.valueOrNull(at[RS_GRPC]);
    this.responseHeaderBytes = h.byteSize;
    this.responseScan = h;
    this.responseAt = at;
    if (cfg.peerMetadata) {
      if (cfg.reporter == Reporter.Source) {
        if (at[RS_PEER] >= 0) {
          this.facts.peer = root.peerOf(h, at[RS_PEER]);
          responseHeaders.remove(PEER_HEADER);
        }
      } else if (this.peerValid) {
        responseHeaders.replace(PEER_HEADER, root.localHeader);
      }
    }
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    this.responseBodyBytes += <i64>bodySize;
    const frames = this.responseFrames;
    if (frames !== null) countFrames(frames, BufferType.HttpResponseBody, bodySize);
    return FilterDataStatus.Continue;
  }

  onResponseTrailers(trailerCount: u32): FilterTrailersStatus {
    if (this.facts.grpc) this.grpcTrailer = responseTrailers.get('grpc-status');
    return FilterTrailersStatus.Continue;
  }

  onLog(): void {
    const root = this.telemetry;
    const cfg = root.config;
    const f = this.facts;
    const now = currentTimeNanoseconds();
    const missedRequest = !this.started;
    if (missedRequest) {
      // An earlier filter answered the request (e.g. authz 401/403): we never saw it, Envoy still has
      // its headers, the peer header included (nobody stripped it): the caller is known as Istio knows it.
      const h = this.readRequest();
      if (cfg.peerMetadata && cfg.reporter == Reporter.Destination) {
        const at = this.requestAt[RQ_PEER];
        if (at >= 0) f.peer = root.peerOf(h, at);
      }
      const t = P_REQUEST_TIME.int64();
      if (!isMissingInt(t) && t > 0 && <u64>t <= now) f.startNs = <u64>t;
    }
    f.durationNs = now > f.startNs ? now - f.startNs : 0;
    // The :status we saw; Envoy's response.code only when no response headers passed through us.
    if (this.statusFromHeaders != 0) f.responseCode = this.statusFromHeaders;
    else {
      const code = P_RESPONSE_CODE.int64();
      f.responseCode = isMissingInt(code) ? 0 : <i32>code;
    }
    const flags = P_RESPONSE_FLAGS.int64();
    f.responseFlags = isMissingInt(flags) ? 0 : <u64>flags;
    if (root.needDetails) f.responseCodeDetails = P_RESPONSE_CODE_DETAILS.string();
    this.measureBytes();
    if (f.grpc) {
      // A local reply of an earlier filter never passed through us: Envoy has its headers (for a gRPC
      // request, a trailers-only reply with grpc-status) in the log phase, as Istio's filter reads them.
      if (!this.sawResponse) {
        this.grpcHeader = responseHeaders.get('grpc-status');
        this.grpcTrailer = responseTrailers.get('grpc-status');
      }
      f.grpcStatus = grpcStatusOf(this.grpcTrailer, this.grpcHeader, f.responseCode);
      const rq = this.requestFrames;
      const rs = this.responseFrames;
      f.requestMessages = rq === null ? 0 : rq.messages;
      f.responseMessages = rs === null ? 0 : rs.messages;
    }
    if (root.needProtocol) f.protocol = orEmpty(P_REQUEST_PROTOCOL.string());
    if (root.needCluster) f.upstreamCluster = P_XDS_CLUSTER_NAME.string();
    if (root.needUpstreamHost) f.upstreamHost = P_UPSTREAM_ADDRESS.string();
    f.mtls = P_CONNECTION_MTLS.bool();
    if (f.mtls) {
      f.peerPrincipal = orEmpty(P_CONNECTION_URI_SAN_PEER_CERTIFICATE.string());
      f.localPrincipal = orEmpty(P_CONNECTION_URI_SAN_LOCAL_CERTIFICATE.string());
    }
    // Set once the upstream TLS handshake is done, so read in the log phase.
    if (cfg.reporter == Reporter.Source) f.upstreamPeerPrincipal = orEmpty(P_UPSTREAM_URI_SAN_PEER_CERTIFICATE.string());
    // Labels from the facts alone and the last request's facts: its standard values and label sets hold.
    const last = root.lastFacts;
    const reuse = root.labelsFromFacts && last !== null && sameLabelFacts(last!, f);
    if (!reuse) {
      standardLabels(cfg.reporter, root.local, f, root.standard);
      // A stream's facts are final once it logs: kept, not copied.
      if (root.labelsFromFacts) root.lastFacts = f;
    }
    const standard = root.standard;
    const ctx = new HttpValues(this);
    let folded = false;
    const metrics = cfg.metrics;
    for (let m = 0; m < metrics.length; m++) {
      const spec = metrics[m];
      if (!spec.enabled) continue;
      // Metrics sharing labels share one label set: its values are read and looked up once.
      const same = spec.sameLabelsAs;
      const g = same < m && metrics[same].enabled ? same : m;
      if (g == m && !reuse) root.findSet(m, spec, standard, f, ctx);
      if (!recordsFor(spec.kind, f)) continue;
      if (root.record(spec, g, standard, metricValue(spec.kind, f))) folded = true;
    }
    // One count per request whose label set did not fit under the cap.
    if (folded) root.overflow.increment(1);
    if (!cfg.accessLog) return;
    if (!cfg.envoyWriter) {
      logInfo(accessLogLine(cfg.accessLogFields, f, standard));
      return;
    }
    // Envoy's access logger writes the line after onLog: it reads these from filter state.
    const fields = root.stateFields;
    for (let i = 0; i < fields.length; i++) {
      const value = stateValue(unchecked(fields[i]), f, standard);
      if (value !== null) unchecked(root.stateKeys[i]).set(String.UTF8.encode(value));
    }
  }

  /**
   * Byte counts as Envoy's: bodies as %BYTES_RECEIVED% / %BYTES_SENT% (what passed through us), totals
   * as request.total_size / response.total_size. Envoy's log phase has no map sizes (the size call
   * answers BadArgument there: rust.scenarios.ts, "header map sizes"), so a host without those
   * properties gets the maps as they passed through us.
   */
  private measureBytes(): void {
    const f = this.facts;
    f.requestBodyBytes = this.requestBodyBytes;
    const requestTotal = P_REQUEST_TOTAL_SIZE.int64();
    f.requestBytes = isMissingInt(requestTotal) ? this.requestHeaderBytes + f.requestBodyBytes : requestTotal;
    f.responseBodyBytes = this.responseBodyBytes;
    if (!this.sawResponse) {
      // A local reply that did not pass through us.
      const size = P_RESPONSE_SIZE.int64();
      f.responseBodyBytes = isMissingInt(size) ? 0 : size;
    }
    const responseTotal = P_RESPONSE_TOTAL_SIZE.int64();
    f.responseBytes = isMissingInt(responseTotal) ? this.responseHeaderBytes + f.responseBodyBytes : responseTotal;
  }

  /** @internal for HttpValues */
  requestValue(name: string): string | null {
    const i = this.telemetry.requestHeaderNames.indexOf(name);
    const scan = this.requestScan;
    return i < 0 || scan === null ? null : scan.valueOrNull(this.requestAt[RQ_FIXED + i]);
  }

  /** @internal for HttpValues */
  responseValue(name: string): string | null {
    const i = this.telemetry.responseHeaderNames.indexOf(name);
    const scan = this.responseScan;
    return i < 0 || scan === null ? null : scan.valueOrNull(this.responseAt[RS_FIXED + i]);
  }
}

/** Counts the gRPC messages starting in the current body chunk, reading only their 5-byte prefixes. */
function countFrames(frames: GrpcFrames, buffer: BufferType, size: u32): void {
  let pos: u32 = 0;
  for (;;) {
    pos = frames.skip(pos, size);
    if (pos >= size) return;
    const want = min<u32>(<u32>frames.prefixWanted, size - pos);
    const bytes = getBufferBytes(buffer, pos, want);
    if (bytes === null || bytes.byteLength == 0) return;
    pos = frames.prefix(Uint8Array.wrap(bytes), pos);
  }
}

/** Custom dimension lookups for one request: captured headers, and JWT claims from the authz filter. */
class HttpValues extends ValueContext {
  private payloadRead: bool = false;
  private payload: JsonValue | null = null;
  constructor(private readonly http: TelemetryHttp) {
    super();
  }

  requestHeader(name: string): string | null {
    return this.http.requestValue(name);
  }
  responseHeader(name: string): string | null {
    return this.http.responseValue(name);
  }

  claim(path: string[]): string | null {
    if (!this.payloadRead) {
      this.payloadRead = true;
      const bytes = P_JWT_PAYLOAD.bytes();
      if (bytes !== null) this.payload = parseJson(bytes!).value;
    }
    return claimValue(this.payload, path);
  }
}
