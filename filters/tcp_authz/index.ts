// Entry of the TCP authz filter (envoy.filters.network.wasm): the proxy-wasm exports (the callbacks it implements: assembly/proxy/callbacks.ts), and the root context for any root_id.
export * from '../../assembly/proxy/entry';
export { proxy_on_downstream_data } from '../../assembly/proxy/callbacks';
import { registerRootContext, RootContext } from '../../assembly/proxy';
import { TcpAuthzRoot } from './filter';

registerRootContext((contextId: u32): RootContext => new TcpAuthzRoot(contextId));
