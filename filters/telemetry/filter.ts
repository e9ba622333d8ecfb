// The telemetry filter's proxy-wasm adapter: collects request facts from headers, properties and
// the clock, then at the end of the stream (onLog) records Istio's standard metrics and writes the
// JSON access log line. Decisions live in logic.ts; configuration in config.ts.
import {
  RootContext, HttpContext, FilterHeadersStatus, FilterDataStatus, FilterTrailersStatus, pluginConfiguration,
  requestHeaders, responseHeaders, responseTrailers, logError, logInfo, currentTimeNanoseconds, getProperty,
  getPropertyString, getPropertyInt64, getPropertyBool, isMissingInt, Counter, Histogram,
} from '../../assembly/proxy';
import { JsonKind, parseJson } from '../../assembly/lib/json';
import { TelemetryConfig, parseTelemetryConfig } from './config';
import {
  Reporter, RequestFacts, ValueContext, MetricKind, MetricSpec, SeriesTable, SourceKind, METRIC_COUNT,
  SERIES_FOUND, SERIES_NEW, standardLabels,
} from './logic';
import { PeerInfo, PEER_HEADER, decodePeer } from './peer';
import { traceIds } from './trace';
import { accessLogLine } from './accesslog';

/** Filter state the authz filter writes with the verified JWT payload (JSON). */
export const JWT_PAYLOAD_PROPERTY = 'asmesh.jwt_payload';
export const OVERFLOW_METRIC = 'asmesh_telemetry_overflow_total';

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
  counters: Counter[] = [];
  histograms: Histogram[][] = [];
  overflow: Counter | null = null;
  requestHeaderNames: string[] = [];
  responseHeaderNames: string[] = [];

  onConfigure(configurationSize: u32): bool {
    const result = parseTelemetryConfig(pluginConfiguration(configurationSize));
    if (result.config === null) {
      logError('telemetry: config ' + result.error);
      return false;
    }
    const cfg = result.config!;
    this.config = cfg;
    this.local = localWorkload();
    this.localHeader = this.local.encode();
    this.tables = [];
    this.histograms = [];
    for (let m = 0; m < METRIC_COUNT; m++) {
      this.tables.push(new SeriesTable(cfg.maxLabelSets));
      this.histograms.push(new Array<Histogram>());
    }
    this.counters = [];
    this.overflow = new Counter(OVERFLOW_METRIC);
    this.requestHeaderNames = headerNames(cfg, SourceKind.RequestHeader);
    this.responseHeaderNames = headerNames(cfg, SourceKind.ResponseHeader);
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new TelemetryHttp(contextId, this);
  }

  /** Records one request in its series (folding into `other` past the cap); true when it folded. */
  record(spec: MetricSpec, standard: string[], facts: RequestFacts, ctx: ValueContext, value: u64): bool {
    const kind = <i32>spec.kind;
    const table = this.tables[kind];
    const name = spec.statName(standard, facts, ctx);
    const state = table.classify(name);
    let index: u32;
    let folded = false;
    if (state == SERIES_FOUND) {
      index = table.id(name);
    } else if (state == SERIES_NEW) {
      index = this.define(spec, name);
      table.add(name, index);
    } else {
      folded = true;
      if (table.overflowId == u32.MAX_VALUE) table.overflowId = this.define(spec, spec.overflowName(standard));
      index = table.overflowId;
    }
    if (spec.kind == MetricKind.RequestCount) this.counters[index].increment(1);
    else this.histograms[kind][index].record(value);
    return folded;
  }

  private define(spec: MetricSpec, name: string): u32 {
    if (spec.kind == MetricKind.RequestCount) {
      this.counters.push(new Counter(name));
      return <u32>(this.counters.length - 1);
    }
    const list = this.histograms[<i32>spec.kind];
    list.push(new Histogram(name));
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
  private requestValues: (string | null)[] = [];
  private responseValues: (string | null)[] = [];

  private get telemetry(): TelemetryRoot { return changetype<TelemetryRoot>(this.root); }

  /** Reads what the request headers tell (also from onLog when an earlier filter replied locally). */
  private readRequest(): void {
    this.started = true;
    const root = this.telemetry;
    const f = this.facts;
    f.startNs = currentTimeNanoseconds();
    f.authority = orEmpty(requestHeaders.get(':authority'));
    f.method = orEmpty(requestHeaders.get(':method'));
    f.path = orEmpty(requestHeaders.get(':path'));
    f.contentType = requestHeaders.get('content-type');
    f.userAgent = requestHeaders.get('user-agent');
    f.requestId = requestHeaders.get('x-request-id');
    f.trace = traceIds(requestHeaders.get('traceparent'), requestHeaders.get('x-b3-traceid'),
      requestHeaders.get('x-b3-spanid'), requestHeaders.get('b3'));
    const size = requestHeaders.byteSize();
    this.requestHeaderBytes = size < 0 ? 0 : size;
    const names = root.requestHeaderNames;
    this.requestValues = new Array<string | null>(names.length);
    for (let i = 0; i < names.length; i++) this.requestValues[i] = requestHeaders.get(names[i]);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const root = this.telemetry;
    const cfg = root.config as TelemetryConfig;
    this.readRequest();
    if (cfg.peerMetadata) {
      if (cfg.reporter == Reporter.Destination) {
        const header = requestHeaders.get(PEER_HEADER);
        if (header !== null) {
          const peer = decodePeer(header!);
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
    const status = responseHeaders.get(':status');
    if (status !== null) this.statusFromHeaders = I32.parseInt(status!);
    const grpc = responseHeaders.get('grpc-status');
    if (grpc !== null) this.facts.grpcStatus = grpc!;
    const size = responseHeaders.byteSize();
    this.responseHeaderBytes = size < 0 ? 0 : size;
    const names = root.responseHeaderNames;
    this.responseValues = new Array<string | null>(names.length);
    for (let i = 0; i < names.length; i++) this.responseValues[i] = responseHeaders.get(names[i]);
    if (cfg.peerMetadata) {
      if (cfg.reporter == Reporter.Source) {
        const header = responseHeaders.get(PEER_HEADER);
        if (header !== null) {
          this.facts.peer = decodePeer(header!);
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
    if (!this.started) this.readRequest();
    f.durationNs = now > f.startNs ? now - f.startNs : 0;
    const code = getPropertyInt64(['response', 'code']);
    f.responseCode = isMissingInt(code) ? this.statusFromHeaders : <i32>code;
    const flags = getPropertyInt64(['response', 'flags']);
    f.responseFlags = isMissingInt(flags) ? 0 : <u64>flags;
    f.responseCodeDetails = getPropertyString(['response', 'code_details']);
    const reqSize = getPropertyInt64(['request', 'total_size']);
    f.requestBytes = isMissingInt(reqSize) ? this.requestHeaderBytes + this.requestBodyBytes : reqSize;
    const respSize = getPropertyInt64(['response', 'total_size']);
    f.responseBytes = isMissingInt(respSize) ? this.responseHeaderBytes + this.responseBodyBytes : respSize;
    f.protocol = orEmpty(getPropertyString(['request', 'protocol']));
    f.upstreamCluster = getPropertyString(['xds', 'cluster_name']);
    f.upstreamHost = getPropertyString(['upstream', 'address']);
    f.mtls = getPropertyBool(['connection', 'mtls']);
    if (f.mtls) {
      f.peerPrincipal = orEmpty(getPropertyString(['connection', 'uri_san_peer_certificate']));
      f.localPrincipal = orEmpty(getPropertyString(['connection', 'uri_san_local_certificate']));
    }
    const standard = standardLabels(cfg.reporter, root.local, f);
    const ctx = new HttpValues(this);
    let folded = false;
    for (let m = 0; m < cfg.metrics.length; m++) {
      const spec = cfg.metrics[m];
      if (!spec.enabled) continue;
      let value: u64 = 1;
      if (spec.kind == MetricKind.RequestDuration) value = f.durationNs / 1_000_000;
      else if (spec.kind == MetricKind.RequestSize) value = <u64>f.requestBytes;
      else if (spec.kind == MetricKind.ResponseSize) value = <u64>f.responseBytes;
      if (root.record(spec, standard, f, ctx, value)) folded = true;
    }
    // One count per request whose label set did not fit under the cap.
    if (folded) (root.overflow as Counter).increment(1);
    if (cfg.accessLog) logInfo(accessLogLine(cfg.accessLogFields, f, standard));
  }

  /** @internal for HttpValues */
  requestValue(name: string): string | null {
    const i = this.telemetry.requestHeaderNames.indexOf(name);
    return i < 0 || i >= this.requestValues.length ? null : this.requestValues[i];
  }

  /** @internal for HttpValues */
  responseValue(name: string): string | null {
    const i = this.telemetry.responseHeaderNames.indexOf(name);
    return i < 0 || i >= this.responseValues.length ? null : this.responseValues[i];
  }
}

/** Custom dimension lookups for one request: captured headers, and JWT claims from the authz filter. */
class HttpValues extends ValueContext {
  private payloadRead: bool = false;
  private payload: Map<string, string> = new Map<string, string>();
  constructor(private readonly http: TelemetryHttp) { super(); }

  requestHeader(name: string): string | null { return this.http.requestValue(name); }
  responseHeader(name: string): string | null { return this.http.responseValue(name); }

  claim(name: string): string | null {
    if (!this.payloadRead) {
      this.payloadRead = true;
      const bytes = getProperty([JWT_PAYLOAD_PROPERTY]);
      if (bytes !== null) {
        const root = parseJson(bytes!).value;
        if (root !== null && root.kind == JsonKind.Object) {
          for (let i = 0; i < root.keys.length; i++) {
            const v = root.get(root.keys[i])!;
            if (v.kind == JsonKind.String) this.payload.set(root.keys[i], v.str);
            else if (v.kind == JsonKind.Number) this.payload.set(root.keys[i], v.raw);
            else if (v.kind == JsonKind.Bool) this.payload.set(root.keys[i], v.bool ? 'true' : 'false');
          }
        }
      }
    }
    return this.payload.has(name) ? this.payload.get(name) : null;
  }
}
