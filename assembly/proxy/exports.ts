// Every export of proxy-wasm ABI v0.2.1: a module that re-exports this file gets every callback
// (the simple choice for a filter of one's own):
//   export * from '../../assembly/proxy/exports';
// asmesh's filters export entry.ts and only the callbacks they implement (callbacks.ts says why).
export * from './entry';
export * from './callbacks';
