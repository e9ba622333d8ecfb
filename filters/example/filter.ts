// The example filter's proxy-wasm adapter: adds a configured response header, logs once per request.
import {
  RootContext, HttpContext, FilterHeadersStatus, responseHeaders, requestHeaders, pluginConfiguration,
  logError, logInfo, Counter,
} from '../../assembly/proxy';
import { ExampleConfig, parseExampleConfig } from './config';

export class ExampleRoot extends RootContext {
  config: ExampleConfig | null = null;
  requests: Counter | null = null;

  onConfigure(configurationSize: u32): bool {
    const result = parseExampleConfig(pluginConfiguration(configurationSize));
    if (result.config === null) {
      logError('example: config ' + result.error);
      return false;
    }
    this.config = result.config;
    this.requests = new Counter('asmesh_example_requests_total');
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new ExampleHttp(contextId, this);
  }
}

class ExampleHttp extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const root = changetype<ExampleRoot>(this.root);
    (root.requests as Counter).increment(1);
    const path = requestHeaders.get(':path');
    logInfo('example: request ' + (path === null ? '-' : path));
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const config = changetype<ExampleRoot>(this.root).config as ExampleConfig;
    responseHeaders.replaceBytes(config.header, config.value);
    return FilterHeadersStatus.Continue;
  }
}
