// asmesh's proxy-wasm SDK (ABI v0.2.1): the typed API filters use. Raw imports stay in hostcalls.ts.
export * from './enums';
export { HeaderEdit, Pair, PairsIndex, encodePairs, decodePairs } from './pairs';
export {
  RootContext,
  HttpContext,
  HttpChain,
  useHttpChain,
  NetworkContext,
  RootFactory,
  registerRootContext,
  rootContext,
  httpContext,
  httpContextOf,
  networkContext,
  liveHttpContextCount,
  liveNetworkContextCount,
} from './context';
export { ConnectionData, downstreamData, upstreamData } from './network';
export {
  log,
  logTrace,
  logDebug,
  logInfo,
  logWarn,
  logError,
  logCritical,
  logLevel,
  currentTimeNanoseconds,
  currentTimeMilliseconds,
} from './log';
export {
  HeaderMap,
  requestHeaders,
  requestTrailers,
  responseHeaders,
  responseTrailers,
  httpCallResponseHeaders,
  httpCallResponseTrailers,
} from './headers';
export { shareHeaderReads } from './shared_reads';
export { getBufferBytes, setBufferBytes, getBufferLength, pluginConfiguration, vmConfiguration } from './buffers';
export { configureOrFail, beginPart, endPart } from './configure';
export {
  getProperty,
  getPropertyString,
  getPropertyInt64,
  getPropertyBool,
  getPropertyPairs,
  Property,
  setProperty,
  isMissingInt,
} from './properties';
export { defineMetric, incrementMetric, recordMetric, Counter, Gauge, Histogram } from './metrics';
export { HttpCallHandler, HttpCallResponse, httpCall, pendingHttpCallCount } from './http_call';
export { TimerHandler, setTimer, pendingTimerCount } from './timers';
export { ForeignResult, callForeignFunction, clearRouteCache, SignatureCheck, verifySignature } from './foreign';
export {
  SharedValue,
  getSharedData,
  setSharedData,
  registerSharedQueue,
  resolveSharedQueue,
  dequeueSharedQueue,
  enqueueSharedQueue,
} from './shared_data';
export { sendLocalResponse, continueStream, closeStream, setEffectiveContext, done } from './stream';
export { randomU64 } from './runtime';
