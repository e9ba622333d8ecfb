// Entry of the TCP authz filter (envoy.filters.network.wasm): the proxy-wasm exports, and the root context for any root_id.
export * from '../../assembly/proxy/exports';
import { registerRootContext, RootContext } from '../../assembly/proxy';
import { TcpAuthzRoot } from './filter';

registerRootContext((contextId: u32): RootContext => new TcpAuthzRoot(contextId));
