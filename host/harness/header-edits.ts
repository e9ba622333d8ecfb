// How Envoy 1.40's HeaderMapImpl applies a filter's edits (what proxy_add/replace/remove/
// set_header_map_pairs do to the map), measured with the Rust probe (test/scenarios/rust.scenarios.ts
// "probe: header edits in map order"): an add of a header the map already has joins it to the first
// value with ',' when the header is one of Envoy's built-in O(1) (inline) headers, else adds an entry;
// a replace removes every entry of the name and adds it again; a pseudo-header goes after the other
// pseudo-headers, any other header at the end.
import { MapType } from './abi.ts';
import type { HeaderList } from './state.ts';

// Envoy's default inline headers (envoy/http/header_map.h: INLINE_REQ_*, INLINE_RESP_*, INLINE_REQ_RESP_*).
// Extensions register more at start-up (custom inline headers, e.g. authorization); the harness treats
// those as regular headers.
const BOTH =
  'connection content-type x-envoy-decorator-operation keep-alive proxy-connection proxy-status x-request-id ' +
  'transfer-encoding upgrade via content-length x-envoy-attempt-count';
const REQUEST = names(
  `${BOTH} x-client-trace-id x-envoy-downstream-service-cluster x-envoy-downstream-service-node ` +
    'x-envoy-external-address x-envoy-force-trace x-envoy-hedge-on-per-try-timeout x-envoy-internal ' +
    'x-envoy-ip-tags x-envoy-retry-on x-envoy-retry-grpc-on x-envoy-retriable-status-codes ' +
    'x-envoy-retriable-header-names x-envoy-is-timeout-retry x-envoy-original-path x-envoy-original-url ' +
    'x-envoy-upstream-alt-stat-name x-envoy-upstream-rq-timeout-alt-response expect x-forwarded-client-cert ' +
    'x-forwarded-for x-forwarded-host x-forwarded-proto grpc-timeout :authority :method :path :protocol :scheme te ' +
    'user-agent x-envoy-expected-rq-timeout-ms x-envoy-max-retries x-envoy-upstream-rq-timeout-ms ' +
    'x-envoy-upstream-rq-per-try-timeout-ms x-envoy-upstream-stream-duration-ms x-forwarded-port',
);
const RESPONSE = names(
  `${BOTH} date x-envoy-degraded x-envoy-immediate-health-check-fail x-envoy-ratelimited x-envoy-upstream-canary ` +
    'x-envoy-upstream-healthchecked-cluster location server x-envoy-upstream-service-time :status grpc-message grpc-status',
);
const RESPONSE_TRAILERS = names('grpc-message grpc-status');
const NONE = names('');

function names(list: string): Set<string> {
  return new Set(list.split(' ').filter((n) => n !== ''));
}

function inlineHeaders(type: number): Set<string> {
  if (type === MapType.RequestHeaders) return REQUEST;
  if (type === MapType.ResponseHeaders) return RESPONSE;
  if (type === MapType.ResponseTrailers) return RESPONSE_TRAILERS;
  return NONE;
}

/** Envoy's addCopy: `key` is lower case. */
export function addHeader(map: HeaderList, type: number, key: string, value: string): void {
  if (inlineHeaders(type).has(key)) {
    const first = map.findIndex(([k]) => k === key);
    if (first >= 0) {
      map[first] = [key, `${map[first]![1]},${value}`];
      return;
    }
  }
  if (!key.startsWith(':')) {
    map.push([key, value]);
    return;
  }
  let at = 0;
  while (at < map.length && map[at]![0].startsWith(':')) at++;
  map.splice(at, 0, [key, value]);
}

/** Envoy's remove: every entry named `key` (lower case). */
export function removeHeader(map: HeaderList, key: string): void {
  for (let i = map.length - 1; i >= 0; i--) if (map[i]![0] === key) map.splice(i, 1);
}

/** Envoy's setCopy: remove, then add. */
export function setHeader(map: HeaderList, type: number, key: string, value: string): void {
  removeHeader(map, key);
  addHeader(map, type, key, value);
}
