// The TCP authz filter's proxy-wasm adapter (a network filter, before tcp_proxy), as Envoy's network
// rbac: decides once, at the connection's first downstream data (the TLS handshake is over, the peer
// certificate known); a denied connection is closed and its bytes never reach the upstream. Upstream
// bytes before the decision (a server-first protocol's banner) pass, as with rbac.
import { RootContext, NetworkContext, FilterStatus, configureOrFail, logDebug, logInfo, logWarn, Counter } from '../../assembly/proxy';
import { AuthzConfig } from '../authz/config';
import { RequestInfo, evaluate } from '../authz/policy';
import { readConnection } from '../authz/connection';
import { parseTcpAuthzConfig } from './config';

const UNDECIDED: i32 = 0;
const ALLOWED: i32 = 1;
const DENIED: i32 = 2;

/** The filter's metrics, defined once at configure. */
class TcpAuthzStats {
  allowed: Counter = new Counter('asmesh_tcp_authz_allowed_total');
  denied: Counter = new Counter('asmesh_tcp_authz_denied_total');
}

export class TcpAuthzRoot extends RootContext {
  // Set by a successful onConfigure; Envoy creates no connection context before that.
  config!: AuthzConfig;
  stats!: TcpAuthzStats;

  onConfigure(configurationSize: u32): bool {
    const config = configureOrFail<AuthzConfig>('tcp_authz', configurationSize, parseTcpAuthzConfig);
    if (config === null) return false;
    this.config = config;
    this.stats = new TcpAuthzStats();
    return true;
  }

  createNetworkContext(contextId: u32): NetworkContext | null {
    return new TcpAuthzConnection(contextId, this);
  }
}

class TcpAuthzConnection extends NetworkContext {
  private state: i32 = UNDECIDED;

  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    if (this.state == UNDECIDED) this.decide();
    return this.state == ALLOWED ? FilterStatus.Continue : FilterStatus.StopIteration;
  }

  private decide(): void {
    const root = changetype<TcpAuthzRoot>(this.root);
    const config = root.config;
    const req = new RequestInfo();
    readConnection(config, req);
    if (req.peerIds === null) logWarn('tcp_authz: the peer certificate cannot be read: connection denied');
    const decision = evaluate(config.policies, req);
    for (let i = 0; i < decision.audited.length; i++) logInfo('tcp_authz: audit policy ' + decision.audited[i] + ' matched');
    if (decision.allowed) {
      this.state = ALLOWED;
      root.stats.allowed.increment(1);
      return;
    }
    this.state = DENIED;
    root.stats.denied.increment(1);
    // Debug, as Envoy's rbac: a flood of denied connections must not flood the log.
    logDebug('tcp_authz: connection denied, matched policy ' + (decision.policy.length ? decision.policy : 'none'));
    this.closeDownstream();
  }
}
