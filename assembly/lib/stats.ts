// Metric names with labels, shared by every filter: a metric with labels l1..ln is defined as
// `l1=v1;...;ln=vn;<metric>`; Envoy names it `wasmcustom.<that>` and one stats_tags rule per label
// (statsTagRule of filters/manifest.ts, regex `[.;](<l>=([^;]*);)`) turns it into `<metric>{l1="v1",...}`
// on /stats/prometheus. Pure: no host calls.
import { joinStrings } from './strings';

/** Longest label value kept (longer values are cut). */
export const MAX_LABEL_VALUE_LENGTH: i32 = 256;

function unsafe(c: i32): bool {
  // `;` and `=` are the encoding's separators; control characters have no place in a stat name.
  return c == 0x3b || c == 0x3d || c < 0x20 || c == 0x7f;
}

/** A label value safe inside a stat name: separators and control characters become `_`; at most MAX_LABEL_VALUE_LENGTH characters. */
export function statLabelValue(value: string): string {
  const n = value.length < MAX_LABEL_VALUE_LENGTH ? value.length : MAX_LABEL_VALUE_LENGTH;
  let clean = true;
  for (let i = 0; i < n; i++) {
    if (unsafe(value.charCodeAt(i))) {
      clean = false;
      break;
    }
  }
  if (clean) return n == value.length ? value : value.substring(0, n);
  let out = '';
  let start = 0;
  for (let i = 0; i < n; i++) {
    if (unsafe(value.charCodeAt(i))) {
      out += value.substring(start, i) + '_';
      start = i + 1;
    }
  }
  return out + value.substring(start, n);
}

/** `l1=v1;...;ln=vn;<metric>` for values already made safe (statLabelValue). */
export function encodeMetricName(metric: string, names: string[], values: string[]): string {
  const parts = new Array<string>(names.length * 4 + 1);
  for (let i = 0; i < names.length; i++) {
    parts[4 * i] = names[i];
    parts[4 * i + 1] = '=';
    parts[4 * i + 2] = values[i];
    parts[4 * i + 3] = ';';
  }
  parts[names.length * 4] = metric;
  return joinStrings(parts);
}
