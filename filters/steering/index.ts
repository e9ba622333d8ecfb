// Entry of the steering filter: the proxy-wasm exports, and the root context for any root_id.
export * from '../../assembly/proxy/exports';
import { registerRootContext, RootContext } from '../../assembly/proxy';
import { SteeringRoot } from './filter';

registerRootContext((contextId: u32): RootContext => new SteeringRoot(contextId));
