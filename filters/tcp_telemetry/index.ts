// Entry of the TCP telemetry filter (envoy.filters.network.wasm): the proxy-wasm exports (the callbacks it implements: assembly/proxy/callbacks.ts), and the root context for any root_id.
export * from '../../assembly/proxy/entry';
export {
  proxy_on_tick,
  proxy_on_downstream_data,
  proxy_on_upstream_data,
  proxy_on_downstream_connection_close,
  proxy_on_log,
} from '../../assembly/proxy/callbacks';
import { registerRootContext, RootContext } from '../../assembly/proxy';
import { TcpTelemetryRoot } from './filter';

registerRootContext((contextId: u32): RootContext => new TcpTelemetryRoot(contextId));
