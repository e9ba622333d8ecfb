// The TCP telemetry filter's proxy-wasm adapter (a network filter, mounted before tcp_proxy): counts the
// bytes of each connection in both directions and reports Istio's TCP metrics: opened when the
// connection is labelled (logic.ts), bytes every reporting interval and at close, closed at close.
import {
  RootContext,
  NetworkContext,
  FilterStatus,
  PeerType,
  Counter,
  MetricType,
  configureOrFail,
  defineMetric,
  incrementMetric,
  getPropertyBool,
  getPropertyInt64,
  getPropertyString,
  isMissingInt,
} from '../../assembly/proxy';
import { PeerInfo } from '../telemetry/peer';
import { localWorkload } from '../telemetry/workload';
import { OVERFLOW_METRIC } from '../telemetry/logic';
import { TcpTelemetryConfig, parseTcpTelemetryConfig } from './config';
import {
  ByteMeter,
  ConnectionFacts,
  TCP_METRICS,
  TCP_OPENED,
  TCP_CLOSED,
  TCP_SENT,
  TCP_RECEIVED,
  tcpStandardLabels,
  tcpLabelKey,
  tcpOverflowKey,
} from './logic';

function orEmpty(s: string | null): string {
  return s === null ? '' : s!;
}

export class TcpTelemetryRoot extends RootContext {
  config!: TcpTelemetryConfig;
  local: PeerInfo = new PeerInfo();
  overflow!: Counter;
  /** Metric ids (TCP_OPENED..TCP_RECEIVED) by label key. */
  private series: Map<string, u32[]> = new Map<string, u32[]>();
  /** Open connections, reported every interval. */
  readonly live: Map<u32, TcpTelemetryConnection> = new Map<u32, TcpTelemetryConnection>();

  onConfigure(configurationSize: u32): bool {
    const cfg = configureOrFail<TcpTelemetryConfig>('tcp_telemetry', configurationSize, parseTcpTelemetryConfig);
    if (cfg === null) return false;
    this.config = cfg;
    this.local = localWorkload();
    this.overflow = new Counter(OVERFLOW_METRIC);
    this.setTickPeriod(cfg.reportingIntervalMs);
    return true;
  }

  onTick(): void {
    const open = this.live.values();
    for (let i = 0; i < open.length; i++) open[i].report();
  }

  createNetworkContext(contextId: u32): NetworkContext | null {
    const c = new TcpTelemetryConnection(contextId, this);
    this.live.set(contextId, c);
    return c;
  }

  /** The metric ids of a label set, defined on first use; past the cap, the overflow set's. */
  seriesFor(standard: string[]): u32[] {
    const key = tcpLabelKey(standard);
    if (this.series.has(key)) return this.series.get(key);
    const cfg = this.config;
    if (this.series.size < cfg.maxLabelSets) return this.define(key);
    this.overflow.increment(1);
    const folded = tcpOverflowKey(standard);
    return this.series.has(folded) ? this.series.get(folded) : this.define(folded);
  }

  private define(key: string): u32[] {
    const ids = new Array<u32>(TCP_METRICS.length);
    for (let m = 0; m < TCP_METRICS.length; m++) ids[m] = defineMetric(MetricType.Counter, key + TCP_METRICS[m]);
    this.series.set(key, ids);
    return ids;
  }
}

class TcpTelemetryConnection extends NetworkContext {
  private readonly bytes: ByteMeter = new ByteMeter();
  /** The label set's metric ids once labelled. */
  private ids: u32[] | null = null;
  private closed: bool = false;

  private get telemetry(): TcpTelemetryRoot {
    return changetype<TcpTelemetryRoot>(this.root);
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    this.bytes.received += <u64>dataSize;
    if (dataSize > 0 && this.ids === null) this.label();
    return FilterStatus.Continue;
  }

  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    this.bytes.sent += <u64>dataSize;
    if (dataSize > 0 && this.ids === null) this.label();
    return FilterStatus.Continue;
  }

  onDownstreamConnectionClose(peer: PeerType): void {
    this.finish();
  }

  onLog(): void {
    this.finish();
  }

  onDelete(): void {
    this.telemetry.live.delete(this.contextId);
  }

  /** Adds the bytes not reported yet (a labelled connection only, as Istio). */
  report(): void {
    const ids = this.ids;
    if (ids === null) return;
    const received = this.bytes.takeReceived();
    const sent = this.bytes.takeSent();
    if (received > 0) incrementMetric(ids[TCP_RECEIVED], <i64>received);
    if (sent > 0) incrementMetric(ids[TCP_SENT], <i64>sent);
  }

  private label(): void {
    const root = this.telemetry;
    const cfg = root.config;
    const f = new ConnectionFacts();
    f.mtls = getPropertyBool(['connection', 'mtls']);
    if (f.mtls) {
      f.peerPrincipal = orEmpty(getPropertyString(['connection', 'uri_san_peer_certificate']));
      f.localPrincipal = orEmpty(getPropertyString(['connection', 'uri_san_local_certificate']));
    }
    f.upstreamCluster = getPropertyString(['xds', 'cluster_name']);
    const flags = getPropertyInt64(['response', 'flags']);
    f.responseFlags = isMissingInt(flags) ? 0 : <u64>flags;
    const ids = root.seriesFor(tcpStandardLabels(cfg.reporter, root.local, f));
    this.ids = ids;
    incrementMetric(ids[TCP_OPENED], 1);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ids === null) this.label();
    this.report();
    incrementMetric((this.ids as u32[])[TCP_CLOSED], 1);
    this.telemetry.live.delete(this.contextId);
  }
}
