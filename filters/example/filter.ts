// The example filter's proxy-wasm adapter: adds a configured response header, logs once per request.
import {
  RootContext,
  HttpContext,
  FilterHeadersStatus,
  responseHeaders,
  requestHeaders,
  configureOrFail,
  logInfo,
  Counter,
} from '../../assembly/proxy';
import { ExampleConfig, parseExampleConfig } from './config';

/** The filter's metrics, defined at configure. */
class ExampleStats {
  requests: Counter = new Counter('asmesh_example_requests_total');
}

export class ExampleRoot extends RootContext {
  config!: ExampleConfig;
  stats!: ExampleStats;

  onConfigure(configurationSize: u32): bool {
    const config = configureOrFail<ExampleConfig>('example', configurationSize, parseExampleConfig);
    if (config === null) return false;
    this.config = config;
    this.stats = new ExampleStats();
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new ExampleHttp(contextId, this);
  }
}

class ExampleHttp extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    changetype<ExampleRoot>(this.root).stats.requests.increment(1);
    const path = requestHeaders.get(':path');
    logInfo('example: request ' + (path === null ? '-' : path));
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const config = changetype<ExampleRoot>(this.root).config;
    responseHeaders.replaceBytes(config.header, config.value);
    return FilterHeadersStatus.Continue;
  }
}
