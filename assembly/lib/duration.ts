// Duration strings as Istio resources write them (protobuf Duration in YAML/JSON: "5s", "0.5s", "100ms").
// Pure: no host calls.

/** "5s", "0.5s", "1.25s", "100ms" (also "us"/"ns", "m", "h") -> milliseconds (rounded up); -1 when invalid. */
export function parseDurationMs(s: string): i64 {
  let unitAt = 0;
  while (unitAt < s.length) {
    const c = s.charCodeAt(unitAt);
    if ((c >= 0x30 && c <= 0x39) || c == 0x2e) unitAt++;
    else break;
  }
  const num = s.substring(0, unitAt);
  const unit = s.substring(unitAt);
  if (num.length == 0 || num == '.') return -1;
  const dot = num.indexOf('.');
  if (dot >= 0 && num.indexOf('.', dot + 1) >= 0) return -1;
  // nanoseconds per unit
  let scale: i64 = 0;
  if (unit == 'h') scale = 3_600_000_000_000;
  else if (unit == 'm') scale = 60_000_000_000;
  else if (unit == 's') scale = 1_000_000_000;
  else if (unit == 'ms') scale = 1_000_000;
  else if (unit == 'us' || unit == 'µs') scale = 1_000;
  else if (unit == 'ns') scale = 1;
  else return -1;
  const whole = dot >= 0 ? num.substring(0, dot) : num;
  const frac = dot >= 0 ? num.substring(dot + 1) : '';
  if (whole.length > 6) return -1;
  let ns: i64 = (whole.length > 0 ? I64.parseInt(whole) : 0) * scale;
  let div: i64 = 1;
  let fracNs: i64 = 0;
  for (let i = 0; i < frac.length && i < 9; i++) {
    div *= 10;
    fracNs = fracNs * 10 + <i64>(frac.charCodeAt(i) - 0x30);
  }
  ns += fracNs * (scale / div) + (fracNs * (scale % div)) / div;
  return (ns + 999_999) / 1_000_000;
}
