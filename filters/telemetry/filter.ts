// The telemetry filter's proxy-wasm adapter: collects request facts from headers, properties and
// the clock, then at the end of the stream (onLog) records Istio's standard metrics and writes the
// JSON access log line. Decisions live in logic.ts; configuration in config.ts.
import {
  RootContext, HttpContext, FilterHeadersStatus, FilterDataStatus, FilterTrailersStatus, configureOrFail,
  requestHeaders, responseHeaders, responseTrailers, logInfo, currentTimeNanoseconds, getProperty,
  getPropertyString, getPropertyInt64, getPropertyBool, isMissingInt, Counter, PairsLookup, MetricType,
  defineMetric, incrementMetric, recordMetric,
} from '../../assembly/proxy';
import { JsonValue, parseJson } from '../../assembly/lib/json';
import { TelemetryConfig, parseTelemetryConfig } from './config';
import {
  Reporter, RequestFacts, ValueContext, MetricKind, MetricSpec, SeriesTable, SourceKind, METRIC_COUNT,
  SERIES_FOUND, SERIES_NEW, Attribute, standardLabels, claimValue,
} from './logic';
import { PeerInfo, PEER_HEADER, decodePeer } from './peer';
import { traceIds } from './trace';
import { accessLogLine, accessLogFieldIndex } from './accesslog';

/** Filter state the authz filter writes with the verified JWT payload (JSON). */
import { JWT_PAYLOAD_STATE as JWT_PAYLOAD_PROPERTY } from '../../assembly/lib/contracts';
export const OVERFLOW_METRIC = 'asmesh_telemetry_overflow_total';
const PEER_CACHE_SIZE: i32 = 256;

function orEmpty(s: string | null): string {
  return s === null ? '' : s!;
}

/** This proxy's workload from Envoy's node metadata (Istio's WORKLOAD_NAME, NAMESPACE, LABELS, CLUSTER_ID). */
function localWorkload(): PeerInfo {
  const p = new PeerInfo();
  let base = ['xds', 'node', 'metadata'];
  if (getProperty(base) === null) base = ['node', 'metadata'];
  p.workload = orEmpty(getPropertyString(base.concat(['WORKLOAD_NAME'])));
  p.namespace = orEmpty(getPropertyString(base.concat(['NAMESPACE'])));
  p.app = orEmpty(getPropertyString(base.concat(['LABELS', 'app'])));
  if (p.app.length == 0) p.app = orEmpty(getPropertyString(base.concat(['LABELS', 'app.kubernetes.io/name'])));
  p.version = orEmpty(getPropertyString(base.concat(['LABELS', 'version'])));
  if (p.version.length == 0) p.version = orEmpty(getPropertyString(base.concat(['LABELS', 'app.kubernetes.io/version'])));
  p.cluster = orEmpty(getPropertyString(base.concat(['CLUSTER_ID'])));
  return p;
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
const REQUEST_WANTED: string[] = [':authority', ':method', ':path', 'content-type', 'user-agent', 'x-request-id', 'traceparent', 'x-b3-traceid', 'x-b3-spanid', 'b3', PEER_HEADER];
/** Where the tag overrides' request headers start in a scan. */
const RQ_FIXED = REQUEST_WANTED.length;
const RS_STATUS = 0;
const RS_GRPC = 1;
const RS_PEER = 2;
const RESPONSE_WANTED: string[] = [':status', 'grpc-status', PEER_HEADER];
const RS_FIXED = RESPONSE_WANTED.length;

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
  config: TelemetryConfig | null = null;
  local: PeerInfo = new PeerInfo();
  localHeader: string = '';
  tables: SeriesTable[] = [];
  // Metric ids by series index (not Counter/Histogram objects, which keep their ~1 kB names: at the
  // cap that was 4 names per label set, half the filter's Wasm memory; bench:telemetry-cardinality).
  counters: u32[] = [];
  histograms: u32[][] = [];
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

  // Recently seen peer headers, decoded (a sidecar sends the same value on every request).
  private peers: Map<string, PeerInfo | null> = new Map<string, PeerInfo | null>();

  peer(header: string): PeerInfo | null {
    if (this.peers.has(header)) return this.peers.get(header);
    const peer = decodePeer(header);
    if (this.peers.size >= PEER_CACHE_SIZE) this.peers.clear();
    this.peers.set(header, peer);
    return peer;
  }

  private logs(field: string): bool {
    const cfg = this.config as TelemetryConfig;
    return cfg.accessLog && cfg.accessLogFields.includes(accessLogFieldIndex(field));
  }

  onConfigure(configurationSize: u32): bool {
    const cfg = configureOrFail<TelemetryConfig>('telemetry', configurationSize, parseTelemetryConfig);
    if (cfg === null) return false;
    this.config = cfg;
    this.local = localWorkload();
    this.localHeader = this.local.encode();
    this.tables = [];
    this.histograms = [];
    for (let m = 0; m < METRIC_COUNT; m++) {
      this.tables.push(new SeriesTable(cfg.maxLabelSets));
      this.histograms.push(new Array<u32>());
    }
    this.counters = [];
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
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new TelemetryHttp(contextId, this);
  }

  /** Records one request in the series of `key` (folding into `other` past the cap); true when it folded. */
  record(spec: MetricSpec, key: string, standard: string[], value: u64): bool {
    const kind = <i32>spec.kind;
    const table = this.tables[kind];
    const state = table.classify(key);
    let index: u32;
    let folded = false;
    if (state == SERIES_FOUND) {
      index = table.id(key);
    } else if (state == SERIES_NEW) {
      index = this.define(spec, key + spec.name);
      table.add(key, index);
    } else {
      folded = true;
      if (table.overflowId == u32.MAX_VALUE) table.overflowId = this.define(spec, spec.overflowKey(standard) + spec.name);
      index = table.overflowId;
    }
    if (spec.kind == MetricKind.RequestCount) incrementMetric(this.counters[index], 1);
    else recordMetric(this.histograms[kind][index], value);
    return folded;
  }

  private define(spec: MetricSpec, name: string): u32 {
    if (spec.kind == MetricKind.RequestCount) {
      this.counters.push(defineMetric(MetricType.Counter, name));
      return <u32>(this.counters.length - 1);
    }
    const list = this.histograms[<i32>spec.kind];
    list.push(defineMetric(MetricType.Histogram, name));
    return <u32>(list.length - 1);
  }
}

class TelemetryHttp extends HttpContext {
  private readonly facts: RequestFacts = new RequestFacts();
  private started: bool = false;
  private peerValid: bool = false;
  private requestBodyBytes: i64 = 0;
  private requestHeaderBytes: i64 = 0;
  private responseBodyBytes: i64 = 0;
  private responseHeaderBytes: i64 = 0;
  private statusFromHeaders: i32 = 0;
  private sawResponse: bool = false;
  // The last header scans: the tag overrides' header values follow the fixed ones.
  private requestScan: PairsLookup | null = null;
  private responseScan: PairsLookup | null = null;

  private get telemetry(): TelemetryRoot { return changetype<TelemetryRoot>(this.root); }

  /** Reads what the request headers tell (also from onLog when an earlier filter replied locally). */
  private readRequest(): PairsLookup {
    this.started = true;
    const root = this.telemetry;
    const f = this.facts;
    f.startNs = currentTimeNanoseconds();
    const h = new PairsLookup(requestHeaders.pairsBuffer(), root.requestWanted);
    f.authority = orEmpty(h.get(RQ_AUTHORITY));
    f.method = orEmpty(h.get(RQ_METHOD));
    f.path = orEmpty(h.get(RQ_PATH));
    f.contentType = h.get(RQ_CONTENT_TYPE);
    if (root.needUserAgent) f.userAgent = h.get(RQ_USER_AGENT);
    if (root.needRequestId) f.requestId = h.get(RQ_REQUEST_ID);
    if (root.needTrace) f.trace = traceIds(h.get(RQ_TRACEPARENT), h.get(RQ_B3_TRACE), h.get(RQ_B3_SPAN), h.get(RQ_B3));
    this.requestHeaderBytes = h.byteSize;
    this.requestScan = h;
    return h;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const root = this.telemetry;
    const cfg = root.config as TelemetryConfig;
    const h = this.readRequest();
    if (cfg.peerMetadata) {
      if (cfg.reporter == Reporter.Destination) {
        const header = h.get(RQ_PEER);
        if (header !== null) {
          const peer = root.peer(header);
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
    return FilterDataStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const root = this.telemetry;
    const cfg = root.config as TelemetryConfig;
    this.sawResponse = true;
    const h = new PairsLookup(responseHeaders.pairsBuffer(), root.responseWanted);
    const status = h.get(RS_STATUS);
    if (status !== null) this.statusFromHeaders = I32.parseInt(status);
    const grpc = h.get(RS_GRPC);
    if (grpc !== null) this.facts.grpcStatus = grpc;
    this.responseHeaderBytes = h.byteSize;
    this.responseScan = h;
    if (cfg.peerMetadata) {
      if (cfg.reporter == Reporter.Source) {
        const header = h.get(RS_PEER);
        if (header !== null) {
          this.facts.peer = root.peer(header);
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
    return FilterDataStatus.Continue;
  }

  onResponseTrailers(trailerCount: u32): FilterTrailersStatus {
    const grpc = responseTrailers.get('grpc-status');
    if (grpc !== null) this.facts.grpcStatus = grpc!;
    return FilterTrailersStatus.Continue;
  }

  onLog(): void {
    const root = this.telemetry;
    const cfg = root.config;
    if (cfg === null) return;
    const f = this.facts;
    const now = currentTimeNanoseconds();
    if (!this.started) {
      // An earlier filter answered the request (e.g. authz 401/403): we never saw it, Envoy still has
      // its headers, the peer header included (nobody stripped it): the caller is known as Istio knows it.
      const h = this.readRequest();
      if (cfg.peerMetadata && cfg.reporter == Reporter.Destination) {
        const header = h.get(RQ_PEER);
        if (header !== null) f.peer = root.peer(header);
      }
      const t = getPropertyInt64(['request', 'time']);
      if (!isMissingInt(t) && t > 0 && <u64>t <= now) f.startNs = <u64>t;
    }
    f.durationNs = now > f.startNs ? now - f.startNs : 0;
    // The :status we saw; Envoy's response.code only when no response headers passed through us.
    if (this.statusFromHeaders != 0) f.responseCode = this.statusFromHeaders;
    else {
      const code = getPropertyInt64(['response', 'code']);
      f.responseCode = isMissingInt(code) ? 0 : <i32>code;
    }
    const flags = getPropertyInt64(['response', 'flags']);
    f.responseFlags = isMissingInt(flags) ? 0 : <u64>flags;
    if (root.needDetails) f.responseCodeDetails = getPropertyString(['response', 'code_details']);
    // Sizes as Envoy's request.total_size / response.total_size count them (header map bytes + body),
    // from what passed through us: a property read costs several microseconds in Envoy.
    f.requestBytes = this.requestHeaderBytes + this.requestBodyBytes;
    f.responseBytes = this.responseHeaderBytes + this.responseBodyBytes;
    if (!this.sawResponse) {
      // A local reply that did not pass through us: Envoy's own count.
      const size = getPropertyInt64(['response', 'total_size']);
      if (!isMissingInt(size)) f.responseBytes = size;
    }
    if (root.needProtocol) f.protocol = orEmpty(getPropertyString(['request', 'protocol']));
    if (root.needCluster) f.upstreamCluster = getPropertyString(['xds', 'cluster_name']);
    if (root.needUpstreamHost) f.upstreamHost = getPropertyString(['upstream', 'address']);
    f.mtls = getPropertyBool(['connection', 'mtls']);
    if (f.mtls) {
      f.peerPrincipal = orEmpty(getPropertyString(['connection', 'uri_san_peer_certificate']));
      f.localPrincipal = orEmpty(getPropertyString(['connection', 'uri_san_local_certificate']));
    }
    const standard = standardLabels(cfg.reporter, root.local, f);
    const ctx = new HttpValues(this);
    let folded = false;
    const keys = new Array<string>(cfg.metrics.length);
    for (let m = 0; m < cfg.metrics.length; m++) {
      const spec = cfg.metrics[m];
      if (!spec.enabled) continue;
      const same = spec.sameLabelsAs;
      const key = same < m && cfg.metrics[same].enabled ? keys[same] : spec.labelKey(standard, f, ctx);
      keys[m] = key;
      let value: u64 = 1;
      if (spec.kind == MetricKind.RequestDuration) value = f.durationNs / 1_000_000;
      else if (spec.kind == MetricKind.RequestSize) value = <u64>f.requestBytes;
      else if (spec.kind == MetricKind.ResponseSize) value = <u64>f.responseBytes;
      if (root.record(spec, key, standard, value)) folded = true;
    }
    // One count per request whose label set did not fit under the cap.
    if (folded) root.overflow.increment(1);
    if (cfg.accessLog) logInfo(accessLogLine(cfg.accessLogFields, f, standard));
  }

  /** @internal for HttpValues */
  requestValue(name: string): string | null {
    const i = this.telemetry.requestHeaderNames.indexOf(name);
    const scan = this.requestScan;
    return i < 0 || scan === null ? null : scan.get(RQ_FIXED + i);
  }

  /** @internal for HttpValues */
  responseValue(name: string): string | null {
    const i = this.telemetry.responseHeaderNames.indexOf(name);
    const scan = this.responseScan;
    return i < 0 || scan === null ? null : scan.get(RS_FIXED + i);
  }
}

/** Custom dimension lookups for one request: captured headers, and JWT claims from the authz filter. */
class HttpValues extends ValueContext {
  private payloadRead: bool = false;
  private payload: JsonValue | null = null;
  constructor(private readonly http: TelemetryHttp) { super(); }

  requestHeader(name: string): string | null { return this.http.requestValue(name); }
  responseHeader(name: string): string | null { return this.http.responseValue(name); }

  claim(path: string[]): string | null {
    if (!this.payloadRead) {
      this.payloadRead = true;
      const bytes = getProperty([JWT_PAYLOAD_PROPERTY]);
      if (bytes !== null) this.payload = parseJson(bytes!).value;
    }
    return claimValue(this.payload, path);
  }
}
