// Trace and span ids from W3C `traceparent` or Zipkin B3 headers. Pure: no host calls.
import { asciiLower } from '../../assembly/lib/matchers';

export class TraceIds {
  constructor(
    public readonly traceId: string,
    public readonly spanId: string,
  ) {}
}

function isLowerHex(s: string, from: i32, to: i32): bool {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function isHex(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function allZero(s: string, from: i32, to: i32): bool {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) != 0x30) return false;
  return true;
}

/** `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>` (W3C Trace Context level 1); null when invalid. */
export function parseTraceparent(value: string): TraceIds | null {
  const v = value.trim();
  if (v.length < 55) return null;
  if (v.charCodeAt(2) != 0x2d || v.charCodeAt(35) != 0x2d || v.charCodeAt(52) != 0x2d) return null;
  if (!isLowerHex(v, 0, 2) || !isLowerHex(v, 3, 35) || !isLowerHex(v, 36, 52) || !isLowerHex(v, 53, 55)) return null;
  const version = v.substring(0, 2);
  if (version == 'ff') return null;
  // Version 00 is exactly 55 characters; later versions may append `-...`.
  if (version == '00' ? v.length != 55 : v.length > 55 && v.charCodeAt(55) != 0x2d) return null;
  if (allZero(v, 3, 35) || allZero(v, 36, 52)) return null;
  return new TraceIds(v.substring(3, 35), v.substring(36, 52));
}

/** Multi-header B3: x-b3-traceid (16 or 32 hex) and x-b3-spanid (16 hex); null when invalid. */
export function parseB3(traceId: string | null, spanId: string | null): TraceIds | null {
  if (traceId === null || spanId === null) return null;
  const t = asciiLower(traceId.trim());
  const s = asciiLower(spanId.trim());
  if ((t.length != 16 && t.length != 32) || s.length != 16) return null;
  if (!isHex(t) || !isHex(s) || allZero(t, 0, t.length) || allZero(s, 0, s.length)) return null;
  return new TraceIds(t, s);
}

/** Single-header B3: `<traceid>-<spanid>[-<sampled>[-<parentspanid>]]`; null when invalid. */
export function parseB3Single(value: string | null): TraceIds | null {
  if (value === null) return null;
  const parts = value.trim().split('-');
  if (parts.length < 2 || parts.length > 4) return null;
  return parseB3(parts[0], parts[1]);
}

/** traceparent first, then x-b3-traceid/x-b3-spanid, then b3. */
export function traceIds(
  traceparent: string | null,
  b3TraceId: string | null,
  b3SpanId: string | null,
  b3: string | null,
): TraceIds | null {
  if (traceparent !== null) {
    const t = parseTraceparent(traceparent);
    if (t !== null) return t;
  }
  const m = parseB3(b3TraceId, b3SpanId);
  if (m !== null) return m;
  return parseB3Single(b3);
}
