// @ts-nocheck -- AssemblyScript source, compiled by asc (bench/envoy-peers.ts buildAsEmpty), not by tsc
// bench:envoy's AssemblyScript floor: a plugin built with asmesh's SDK whose stream context returns at
// once from every callback (the SDK's defaults), the peer of bench/rust-steering's `empty`. Bench-only:
// not a filter users mount, so it is not in filters/ or the manifest.
export * from '../../assembly/proxy/exports';
import { registerRootContext, RootContext, HttpContext } from '../../assembly/proxy';

class EmptyRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext | null {
    return new HttpContext(contextId, this);
  }
}

registerRootContext((contextId: u32): RootContext => new EmptyRoot(contextId));
