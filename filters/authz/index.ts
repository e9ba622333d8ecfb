// Entry of the authz filter: the proxy-wasm exports (the callbacks it implements: assembly/proxy/callbacks.ts), and the root context for any root_id.
export * from '../../assembly/proxy/entry';
export { proxy_on_request_headers, proxy_on_tick, proxy_on_http_call_response } from '../../assembly/proxy/callbacks';
import { registerRootContext, RootContext } from '../../assembly/proxy';
import { AuthzRoot } from './filter';

registerRootContext((contextId: u32): RootContext => new AuthzRoot(contextId));
