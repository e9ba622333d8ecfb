// Entry of the TCP telemetry filter (envoy.filters.network.wasm): the proxy-wasm exports, and the root context for any root_id.
export * from '../../assembly/proxy/exports';
import { registerRootContext, RootContext } from '../../assembly/proxy';
import { TcpTelemetryRoot } from './filter';

registerRootContext((contextId: u32): RootContext => new TcpTelemetryRoot(contextId));
