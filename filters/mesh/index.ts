// Entry of the mesh filter (steering + authz + telemetry in one module): the proxy-wasm exports, and the root context for any root_id.
export * from '../../assembly/proxy/exports';
import { registerRootContext, RootContext } from '../../assembly/proxy';
import { MeshRoot } from './filter';

registerRootContext((contextId: u32): RootContext => new MeshRoot(contextId));
