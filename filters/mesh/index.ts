// Entry of the mesh filter (steering + authz + telemetry in one module): the proxy-wasm exports (the callbacks it implements: assembly/proxy/callbacks.ts), and the root context for any root_id.
export * from '../../assembly/proxy/entry';
export {
  proxy_on_request_headers,
  proxy_on_request_body,
  proxy_on_request_trailers,
  proxy_on_response_headers,
  proxy_on_response_body,
  proxy_on_response_trailers,
  proxy_on_log,
  proxy_on_tick,
  proxy_on_http_call_response,
} from '../../assembly/proxy/callbacks';
import { registerRootContext, RootContext } from '../../assembly/proxy';
import { MeshRoot } from './filter';

registerRootContext((contextId: u32): RootContext => new MeshRoot(contextId));
