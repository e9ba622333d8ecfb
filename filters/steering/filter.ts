// The steering filter's proxy-wasm adapter: reads the request, asks logic.ts for a decision, writes
// `x-asmesh-cluster`, clears the route cache, applies header operations and faults.
import {
  RootContext,
  HttpContext,
  FilterHeadersStatus,
  FilterDataStatus,
  FilterTrailersStatus,
  TimerHandler,
  requestHeaders,
  responseHeaders,
  configureOrFail,
  logWarn,
  logDebug,
  logLevel,
  LogLevel,
  Counter,
  clearRouteCache,
  setTimer,
  randomU64,
  Pair,
  getProperty,
  getPropertyString,
  getPropertyInt64,
  isMissingInt,
  PairsIndex,
  GrpcStatus,
} from '../../assembly/proxy';
import { SteeringConfig, HeaderOps, HttpRoute, Destination, parseSteeringConfig } from './config';
import { Decision, RandomSource, RequestView, decide } from './logic';
import { CLUSTER_HEADER } from '../../assembly/lib/contracts';
import { ConfigResult } from '../../assembly/lib/config';
import { encodeMetricName, statLabelValue } from '../../assembly/lib/stats';

const CLUSTER_HEADER_BYTES = String.UTF8.encode(CLUSTER_HEADER);
const ABORT_BODY = 'fault filter abort';

class HostRandom extends RandomSource {
  next(): u64 {
    return randomU64();
  }
}

const DESTINATION_PORT = ['destination', 'port'];

/**
 * The request through the host: the header map fetched once (one host call), looked up in place;
 * only the values a matcher asks for are decoded. (A map the SDK cannot read, a host fault, reads
 * as no headers: the client's x-asmesh-cluster is still checked on its own.)
 */
class HostRequestView extends RequestView {
  constructor(public map: PairsIndex) {
    super();
  }
  header(name: string): string | null {
    return this.map.first(name);
  }
  headerValues(name: string): string[] {
    return this.map.values(name);
  }
  headerValue(name: string, n: i32): string | null {
    let i = this.map.indexOf(name);
    for (let k = 0; k < n && i >= 0; k++) i = this.map.indexOf(name, i + 1);
    return i < 0 ? null : this.map.value(i);
  }
  destinationPort(): i32 {
    // The downstream connection's local port: the listener's (or the original destination's).
    const p = getPropertyInt64(DESTINATION_PORT);
    return isMissingInt(p) || p <= 0 || p > 65535 ? 0 : <i32>p;
  }
}

/** The filter's metrics, defined at configure for the configuration's routes. */
class SteeringStats {
  /** decisions[route][destination] */
  decisions: Counter[][] = [];
  delays: Counter[] = [];
  aborts: Counter[] = [];
  unmatched: Counter = new Counter('asmesh_steering_unmatched_total');

  constructor(config: SteeringConfig) {
    for (let i = 0; i < config.routes.length; i++) {
      const route = config.routes[i];
      const row = new Array<Counter>();
      const r = statLabelValue(route.label);
      for (let j = 0; j < route.destinations.length; j++) {
        const subset = statLabelValue(route.destinations[j].subset);
        row.push(new Counter(encodeMetricName('asmesh_steering_decisions_total', ['route', 'subset'], [r, subset])));
      }
      this.decisions.push(row);
      this.delays.push(new Counter(encodeMetricName('asmesh_steering_faults_total', ['route', 'fault'], [r, 'delay'])));
      this.aborts.push(new Counter(encodeMetricName('asmesh_steering_faults_total', ['route', 'fault'], [r, 'abort'])));
    }
  }
}

export class SteeringRoot extends RootContext {
  config!: SteeringConfig;
  stats!: SteeringStats;
  rng: HostRandom = new HostRandom();

  onConfigure(configurationSize: u32): bool {
    const config = configureOrFail<SteeringConfig>('steering', configurationSize, parseForThisNode);
    if (config === null) return false;
    for (let i = 0; i < config.ignored.length; i++) {
      logWarn('steering: config ' + config.ignored[i] + ': not enforced by asmesh steering, ignored');
    }
    this.config = config;
    this.stats = new SteeringStats(config);
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new SteeringHttp(contextId, this);
  }
}

/** The configuration as this proxy reads it: its namespace comes from the node when the config names none. */
function parseForThisNode(bytes: ArrayBuffer): ConfigResult<SteeringConfig> {
  return parseSteeringConfig(bytes, nodeNamespace());
}

/** This proxy's namespace from Envoy's node metadata (Istio's NAMESPACE), '' when absent. */
function nodeNamespace(): string {
  let base = ['xds', 'node', 'metadata'];
  if (getProperty(base) === null) base = ['node', 'metadata'];
  const ns = getPropertyString(base.concat(['NAMESPACE']));
  return ns === null ? '' : ns;
}

class DelayTimer extends TimerHandler {
  constructor(public http: SteeringHttp) {
    super();
    this.contextId = http.contextId;
  }
  onTimer(): void {
    this.http.afterDelay();
  }
}

function applyRemoves(ops: HeaderOps | null, response: bool): void {
  if (ops === null) return;
  const map = response ? responseHeaders : requestHeaders;
  for (let i = 0; i < ops.toRemove.length; i++) map.remove(ops.toRemove[i]);
}

function applySets(ops: HeaderOps | null, response: bool): void {
  if (ops === null) return;
  const map = response ? responseHeaders : requestHeaders;
  for (let i = 0; i < ops.toSet.length; i++) map.replace(ops.toSet[i].name, ops.toSet[i].value);
}

function applyAdds(ops: HeaderOps | null, response: bool): void {
  if (ops === null) return;
  const map = response ? responseHeaders : requestHeaders;
  for (let i = 0; i < ops.toAdd.length; i++) map.add(ops.toAdd[i].name, ops.toAdd[i].value);
}

/**
 * Header operations in the order Envoy applies what pilot generates. Envoy evaluates one list of
 * operations (a route's, a weighted cluster's) as: every remove, then every set, then every add
 * (header_parser.cc). One destination: pilot merges its operations into the route's list (route's,
 * then the destination's). Several destinations (weighted clusters): Envoy applies the chosen
 * cluster's list, then the route's, so a route-level value comes last and wins.
 */
function applyHeaderOps(route: HttpRoute, dest: Destination, response: bool): void {
  const routeOps = response ? route.responseOps : route.requestOps;
  const destOps = response ? dest.responseOps : dest.requestOps;
  if (route.destinations.length == 1) {
    applyRemoves(routeOps, response);
    applyRemoves(destOps, response);
    applySets(routeOps, response);
    applySets(destOps, response);
    applyAdds(routeOps, response);
    applyAdds(destOps, response);
  } else {
    applyRemoves(destOps, response);
    applySets(destOps, response);
    applyAdds(destOps, response);
    applyRemoves(routeOps, response);
    applySets(routeOps, response);
    applyAdds(routeOps, response);
  }
}

export class SteeringHttp extends HttpContext {
  route: HttpRoute | null = null;
  destination: Destination | null = null;
  pendingAbort: i32 = 0;
  pendingAbortGrpc: i32 = -1;
  delayed: bool = false;

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const root = changetype<SteeringRoot>(this.root);
    const map = requestHeaders.snapshot();
    const sent = map.bad ? requestHeaders.getBytes(CLUSTER_HEADER_BYTES) !== null : map.has(CLUSTER_HEADER);
    // An earlier steering filter of this chain decided (it removed any client-sent header first).
    if (root.config.chained && sent) return FilterHeadersStatus.Continue;
    // A client must never pick the cluster: drop what it sent before deciding.
    const spoofed = sent;
    if (spoofed) requestHeaders.removeBytes(CLUSTER_HEADER_BYTES);
    const view = new HostRequestView(map);
    const d: Decision = decide(root.config, view, root.rng);
    const route = d.route;
    if (route === null) {
      root.stats.unmatched.increment(1);
      if (logLevel() <= LogLevel.Debug)
        logDebug(
          'steering: ' +
            (d.notFound ? 'no route matched: 404' : 'not a host of the VirtualService') +
            (spoofed ? ' (client x-asmesh-cluster removed)' : ''),
        );
      if (d.notFound) {
        // Istio's virtual host holds only the VirtualService's routes: Envoy answers 404 (route_not_found).
        this.sendLocalResponse(404, 'route_not_found', '', []);
        return FilterHeadersStatus.StopIteration;
      }
      if (spoofed) clearRouteCache();
      return FilterHeadersStatus.Continue;
    }
    const dest = d.destination as Destination;
    this.route = route;
    this.destination = dest;
    requestHeaders.replaceBytes(CLUSTER_HEADER_BYTES, dest.clusterBytes);
    applyHeaderOps(route, dest, false);
    clearRouteCache();
    const index = route.index;
    const di = route.destinations.indexOf(dest);
    root.stats.decisions[index][di].increment(1);
    if (logLevel() <= LogLevel.Debug) {
      logDebug(
        'steering: route ' +
          route.label +
          ' -> ' +
          dest.cluster +
          (d.sticky ? ' (sticky)' : '') +
          (d.delayMs > 0 ? ' delay ' + d.delayMs.toString() + 'ms' : '') +
          (d.abortStatus > 0 ? ' abort ' + d.abortStatus.toString() : '') +
          (spoofed ? ' (client x-asmesh-cluster removed)' : ''),
      );
    }
    if (d.delayMs > 0) {
      root.stats.delays[index].increment(1);
      this.pendingAbort = d.abortStatus;
      this.pendingAbortGrpc = d.abortGrpcStatus;
      this.delayed = true;
      setTimer(d.delayMs, new DelayTimer(this));
      return FilterHeadersStatus.StopIteration;
    }
    if (d.abortStatus > 0) {
      this.abort(d.abortStatus, d.abortGrpcStatus);
      return FilterHeadersStatus.StopIteration;
    }
    return FilterHeadersStatus.Continue;
  }

  abort(status: i32, grpcStatus: i32): void {
    const root = changetype<SteeringRoot>(this.root);
    const route = this.route as HttpRoute;
    root.stats.aborts[route.index].increment(1);
    this.sendLocalResponse(
      <u32>status,
      'fault_filter_abort',
      ABORT_BODY,
      [Pair.fromStrings('content-type', 'text/plain')],
      <GrpcStatus>grpcStatus,
    );
  }

  afterDelay(): void {
    if (!this.delayed) return;
    this.delayed = false;
    if (this.pendingAbort > 0) this.abort(this.pendingAbort, this.pendingAbortGrpc);
    else this.resumeRequest();
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return this.delayed ? FilterDataStatus.StopIterationAndBuffer : FilterDataStatus.Continue;
  }

  onRequestTrailers(trailerCount: u32): FilterTrailersStatus {
    return this.delayed ? FilterTrailersStatus.StopIteration : FilterTrailersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const route = this.route;
    const dest = this.destination;
    if (route === null || dest === null) return FilterHeadersStatus.Continue;
    applyHeaderOps(route, dest as Destination, true);
    return FilterHeadersStatus.Continue;
  }
}
