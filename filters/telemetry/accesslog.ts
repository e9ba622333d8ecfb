// The JSON access log line written at the end of each request. Pure: no host calls.
import { quote } from '../../assembly/lib/json';
import { joinStrings } from '../../assembly/lib/strings';
import { RequestFacts } from './logic';
import { ACCESS_LOG_FIELDS, ACCESS_LOG_DEFAULT_FIELDS, ACCESS_LOG_ENVOY_OPERATORS } from '../../assembly/lib/accesslog_contract';
import {
  L_REPORTER,
  L_SOURCE_WORKLOAD,
  L_SOURCE_WORKLOAD_NAMESPACE,
  L_SOURCE_PRINCIPAL,
  L_DESTINATION_WORKLOAD,
  L_DESTINATION_WORKLOAD_NAMESPACE,
  L_DESTINATION_PRINCIPAL,
  L_CONNECTION_SECURITY_POLICY,
  L_DESTINATION_SERVICE,
  responseFlagsString,
} from './labels';

export { ACCESS_LOG_FIELDS };
/** The first DEFAULT_FIELD_COUNT fields are logged when the configuration names none. */
export const DEFAULT_FIELD_COUNT: i32 = ACCESS_LOG_DEFAULT_FIELDS;

/** Fields the filter hands to Envoy's own logger as filter state (`accessLog.writer: "envoy"`): the values only it knows. */
export function isStateField(field: i32): bool {
  return ACCESS_LOG_ENVOY_OPERATORS[field].length == 0;
}

export function accessLogFieldIndex(name: string): i32 {
  return ACCESS_LOG_FIELDS.indexOf(name);
}

/** RFC 3339 UTC time with milliseconds, e.g. `2026-11-25T13:40:27.123Z`. */
export function formatTime(ns: u64): string {
  const ms = <i64>(ns / 1_000_000);
  let days = ms / 86_400_000;
  let rem = ms % 86_400_000;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  days += 719468;
  const era = days / 146097;
  const doe = days - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const h = rem / 3_600_000;
  rem %= 3_600_000;
  const min = rem / 60_000;
  rem %= 60_000;
  const s = rem / 1000;
  const milli = rem % 1000;
  // Written in place: one allocation instead of ~20 (it runs on every request). A u64 of nanoseconds
  // since 1970 ends in 2554: the year always has four digits.
  const out = changetype<string>(__new(24 << 1, idof<string>()));
  const at = changetype<usize>(out);
  digits(at, 0, y, 4);
  store<u16>(at + 8, 0x2d);
  digits(at, 5, m, 2);
  store<u16>(at + 14, 0x2d);
  digits(at, 8, d, 2);
  store<u16>(at + 20, 0x54);
  digits(at, 11, h, 2);
  store<u16>(at + 26, 0x3a);
  digits(at, 14, min, 2);
  store<u16>(at + 32, 0x3a);
  digits(at, 17, s, 2);
  store<u16>(at + 38, 0x2e);
  digits(at, 20, milli, 3);
  store<u16>(at + 46, 0x5a);
  return out;
}

/** Writes `n` (0 <= n < 10^width) as `width` decimal digits at character `pos` of the string at `at`. */
function digits(at: usize, pos: i32, n: i64, width: i32): void {
  for (let i = width - 1; i >= 0; i--) {
    store<u16>(at + ((<usize>(pos + i)) << 1), <u16>(0x30 + <i32>(n % 10)));
    n /= 10;
  }
}

function str(s: string | null): string {
  return s === null ? 'null' : quote(s);
}

/** Duration in milliseconds (integer division of the nanoseconds). */
export function durationMs(ns: u64): u64 {
  return ns / 1_000_000;
}

function fieldJson(field: i32, f: RequestFacts, labels: string[]): string {
  switch (field) {
    case 0:
      return quote(formatTime(f.startNs));
    case 1:
      return quote(f.method);
    case 2:
      return quote(f.path);
    case 3:
      return quote(f.protocol);
    case 4:
      return f.responseCode.toString();
    case 5:
      return quote(responseFlagsString(f.responseFlags));
    case 6:
      return f.requestBodyBytes.toString();
    case 7:
      return f.responseBodyBytes.toString();
    case 8:
      return durationMs(f.durationNs).toString();
    case 9:
      return str(f.upstreamCluster);
    case 10:
      return str(f.upstreamHost);
    case 15:
      return str(f.userAgent);
    case 16:
      return str(f.requestId);
    case 19:
      return quote(f.authority);
    case 24:
      return str(f.responseCodeDetails);
    case 27:
      return f.requestBytes.toString();
    case 28:
      return f.responseBytes.toString();
    default: {
      // The values only the filter knows (what the Envoy writer gets as filter state), quoted.
      const v = stateValue(field, f, labels);
      return v === null ? 'null' : quote(v);
    }
  }
}

/** One JSON object (no newline) with the chosen fields, in the configured order. */
export function accessLogLine(fields: i32[], f: RequestFacts, labels: string[]): string {
  const parts = new Array<string>(fields.length * 4 + 1);
  for (let i = 0; i < fields.length; i++) {
    parts[4 * i] = i == 0 ? '{"' : ',"';
    parts[4 * i + 1] = ACCESS_LOG_FIELDS[fields[i]];
    parts[4 * i + 2] = '":';
    parts[4 * i + 3] = fieldJson(fields[i], f, labels);
  }
  parts[fields.length * 4] = fields.length == 0 ? '{}' : '}';
  return joinStrings(parts);
}

/**
 * The plain value of a filter-state field (isStateField) as Envoy's `%FILTER_STATE(...:PLAIN)%` prints it, or null
 * when the Wasm line has null there (the state is then not set, and Envoy's json_format writes null too).
 */
export function stateValue(field: i32, f: RequestFacts, labels: string[]): string | null {
  switch (field) {
    case 11:
      return labels[L_SOURCE_WORKLOAD];
    case 12:
      return labels[L_SOURCE_PRINCIPAL];
    case 13:
      return labels[L_DESTINATION_WORKLOAD];
    case 14:
      return labels[L_DESTINATION_PRINCIPAL];
    case 17: {
      const t = f.trace;
      return t === null ? null : t.traceId;
    }
    case 18: {
      const t = f.trace;
      return t === null ? null : t.spanId;
    }
    case 20:
      return labels[L_REPORTER];
    case 21:
      return labels[L_SOURCE_WORKLOAD_NAMESPACE];
    case 22:
      return labels[L_DESTINATION_WORKLOAD_NAMESPACE];
    case 23:
      return labels[L_DESTINATION_SERVICE];
    case 25:
      return f.grpcStatus.length == 0 ? null : f.grpcStatus;
    case 26:
      return labels[L_CONNECTION_SECURITY_POLICY];
    case 27:
      return f.requestBytes.toString();
    default:
      return f.responseBytes.toString();
  }
}
