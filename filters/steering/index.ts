// Entry of the steering filter: the proxy-wasm exports (the callbacks it implements: assembly/proxy/callbacks.ts), and the root context for any root_id.
export * from '../../assembly/proxy/entry';
export {
  proxy_on_request_headers,
  proxy_on_request_body,
  proxy_on_request_trailers,
  proxy_on_response_headers,
  proxy_on_tick,
} from '../../assembly/proxy/callbacks';
import { registerRootContext, RootContext } from '../../assembly/proxy';
import { SteeringRoot } from './filter';

registerRootContext((contextId: u32): RootContext => new SteeringRoot(contextId));
