// The telemetry filter's plugin configuration. Validated once at configure time; immutable after.
// Pure: no host calls.
//
// {
//   "reporter": "destination" | "source",        // inbound (server) or outbound (client) sidecar; default destination
//   "peerMetadata": true,                          // exchange x-asmesh-peer (see peer.ts); default true
//   "maxLabelSets": 10000,                         // distinct label sets per metric (per Envoy worker); default 10000
//   "metrics": [ { "providers": [...], "overrides": [   // Istio Telemetry API `spec.metrics`, verbatim
//     { "match": { "metric": "ALL_METRICS" | "REQUEST_COUNT" | "REQUEST_DURATION" | "REQUEST_SIZE" | "RESPONSE_SIZE"
//                            | "GRPC_REQUEST_MESSAGES" | "GRPC_RESPONSE_MESSAGES",
//                  "mode": "CLIENT_AND_SERVER" | "CLIENT" | "SERVER" },
//       "disabled": false,
//       "tagOverrides": { "<label>": { "operation": "UPSERT" | "REMOVE", "value": "<expression>" } } } ] } ],
//   "accessLog": { "enabled": true, "fields": ["start_time", ...],
//                  "writer": "wasm" | "envoy",   // who writes the line: the filter (logInfo), or Envoy's file
//                                                 // access logger with the filter's values as filter state; default wasm
//                  "path": "<file>" }            // envoy writer: the file Envoy writes; absent: Envoy's stdout
//                                                 // (read by the Envoy renderer, not by the filter)
// }
// Tag override expressions: request.headers['x'], response.headers['x'], request.auth.claims['x']
// (also request.auth.claims.x, request.auth.claims[x]; nested: request.auth.claims[a][b] or
// request.auth.claims.a.b; a list claim's items are joined with ','), a quoted literal ('v' or "v"), request.host, request.method,
// request.path, request.url_path, request.protocol, response.code.
import { ConfigChecker, ConfigResult } from '../../assembly/lib/config';
import { asciiLower } from '../../assembly/lib/matchers';
import { JsonKind, JsonValue, memberPath, indexPath } from '../../assembly/lib/json';
import { DEFAULT_MAX_LABEL_SETS, isValidLabelName } from './labels';
import { ACCESS_LOG_FIELDS, DEFAULT_FIELD_COUNT, accessLogFieldIndex } from './accesslog';
import {
  Reporter,
  MetricSpec,
  METRIC_COUNT,
  METRIC_MATCH_NAMES,
  LabelSource,
  SourceKind,
  Attribute,
  defaultMetricSpec,
  upsertLabel,
  removeLabel,
} from './logic';

export class TelemetryConfig {
  reporter: Reporter = Reporter.Destination;
  peerMetadata: bool = true;
  maxLabelSets: i32 = <i32>DEFAULT_MAX_LABEL_SETS;
  /** Indexed by MetricKind. */
  metrics: MetricSpec[] = [];
  accessLog: bool = true;
  accessLogFields: i32[] = [];
  /** Envoy's access logger writes the line; the filter sets the filter-state fields only. */
  envoyWriter: bool = false;
}

function unquoteBracket(s: string): string | null {
  // ['name'] or ["name"]
  if (s.length < 4 || s.charCodeAt(0) != 0x5b || s.charCodeAt(s.length - 1) != 0x5d) return null;
  const q = s.charCodeAt(1);
  if ((q != 0x27 && q != 0x22) || s.charCodeAt(s.length - 2) != q) return null;
  const inner = s.substring(2, s.length - 2);
  if (inner.length == 0 || inner.indexOf(String.fromCharCode(q)) >= 0) return null;
  return inner;
}

const MAX_CLAIM_DEPTH: i32 = 8;

function isIdentChar(c: i32, first: bool): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f || (!first && c >= 0x30 && c <= 0x39);
}

/**
 * The claim path after `request.auth.claims`: one or more segments, each `[name]` (Istio's
 * AuthorizationPolicy form, `[nested1][nested2]`), `['name']`, `["name"]` or `.name` (an identifier).
 * Null when malformed or deeper than MAX_CLAIM_DEPTH.
 */
export function parseClaimPath(rest: string): string[] | null {
  const path = new Array<string>();
  let i = 0;
  const n = rest.length;
  while (i < n) {
    const c = rest.charCodeAt(i);
    if (c == 0x2e) {
      // .name
      let j = i + 1;
      while (j < n && isIdentChar(rest.charCodeAt(j), j == i + 1)) j++;
      if (j == i + 1) return null;
      path.push(rest.substring(i + 1, j));
      i = j;
    } else if (c == 0x5b) {
      // [name], ['name'], ["name"]
      if (i + 1 >= n) return null;
      const q = rest.charCodeAt(i + 1);
      if (q == 0x27 || q == 0x22) {
        const end = rest.indexOf(String.fromCharCode(q), i + 2);
        if (end < 0 || end == i + 2 || end + 1 >= n || rest.charCodeAt(end + 1) != 0x5d) return null;
        path.push(rest.substring(i + 2, end));
        i = end + 2;
      } else {
        const end = rest.indexOf(']', i + 1);
        if (end < 0 || end == i + 1) return null;
        const name = rest.substring(i + 1, end);
        if (name.indexOf('[') >= 0 || name.indexOf("'") >= 0 || name.indexOf('"') >= 0) return null;
        path.push(name);
        i = end + 1;
      }
    } else {
      return null;
    }
    if (path.length > MAX_CLAIM_DEPTH) return null;
  }
  return path.length == 0 ? null : path;
}

/** A tag override value expression, or null when unsupported. */
export function parseValueExpression(expr: string): LabelSource | null {
  const e = expr.trim();
  if (e.length >= 2) {
    const q = e.charCodeAt(0);
    if ((q == 0x27 || q == 0x22) && e.charCodeAt(e.length - 1) == q) {
      const inner = e.substring(1, e.length - 1);
      if (inner.indexOf(String.fromCharCode(q)) >= 0) return null;
      return new LabelSource(SourceKind.Constant, 0, inner);
    }
  }
  if (e.startsWith('request.headers[')) {
    const name = unquoteBracket(e.substring(15));
    return name === null ? null : new LabelSource(SourceKind.RequestHeader, 0, asciiLower(name));
  }
  if (e.startsWith('response.headers[')) {
    const name = unquoteBracket(e.substring(16));
    return name === null ? null : new LabelSource(SourceKind.ResponseHeader, 0, asciiLower(name));
  }
  if (e.startsWith('request.auth.claims')) {
    const path = parseClaimPath(e.substring(19));
    return path === null ? null : LabelSource.claim(path);
  }
  if (e == 'request.host') return new LabelSource(SourceKind.Attribute, Attribute.RequestHost, '');
  if (e == 'request.method') return new LabelSource(SourceKind.Attribute, Attribute.RequestMethod, '');
  if (e == 'request.path') return new LabelSource(SourceKind.Attribute, Attribute.RequestPath, '');
  if (e == 'request.url_path') return new LabelSource(SourceKind.Attribute, Attribute.RequestUrlPath, '');
  if (e == 'request.protocol') return new LabelSource(SourceKind.Attribute, Attribute.RequestProtocol, '');
  if (e == 'response.code') return new LabelSource(SourceKind.Attribute, Attribute.ResponseCode, '');
  return null;
}

function applyOverride(c: ConfigChecker, o: JsonValue, cfg: TelemetryConfig): void {
  if (!c.object(o, ['match', 'disabled', 'tagOverrides'])) return;
  // Which metrics: all unless match.metric names one.
  let first = 0;
  let last = METRIC_COUNT - 1;
  let applies = true;
  const match = c.optional(o, 'match', JsonKind.Object);
  if (match !== null) {
    if (!c.object(match, ['metric', 'mode', 'customMetric'])) return;
    if (match.has('customMetric')) {
      c.fail(memberPath(match.path, 'customMetric'), 'custom metrics are not supported');
      return;
    }
    const metric = c.str(match, 'metric', 'ALL_METRICS');
    if (metric != 'ALL_METRICS') {
      const at = METRIC_MATCH_NAMES.indexOf(metric);
      if (at < 0) {
        c.fail(
          memberPath(match.path, 'metric'),
          'unsupported metric "' + metric + '" (ALL_METRICS, ' + METRIC_MATCH_NAMES.join(', ') + ')',
        );
        return;
      }
      first = at;
      last = at;
    }
    const mode = c.str(match, 'mode', 'CLIENT_AND_SERVER');
    if (mode == 'CLIENT') applies = cfg.reporter == Reporter.Source;
    else if (mode == 'SERVER') applies = cfg.reporter == Reporter.Destination;
    else if (mode != 'CLIENT_AND_SERVER') {
      c.fail(memberPath(match.path, 'mode'), 'expected CLIENT_AND_SERVER, CLIENT or SERVER, got "' + mode + '"');
      return;
    }
  }
  const disabled = c.bool(o, 'disabled', false);
  const tags = c.optional(o, 'tagOverrides', JsonKind.Object);
  // Parse every override (errors are reported even when the override does not apply here).
  const names = new Array<string>();
  const sources = new Array<LabelSource | null>();
  if (tags !== null) {
    for (let i = 0; i < tags.keys.length; i++) {
      const name = tags.keys[i];
      const t = tags.get(name)!;
      if (!isValidLabelName(name)) {
        c.fail(t.path, 'invalid label name "' + name + '"');
        return;
      }
      if (!c.object(t, ['operation', 'value'])) return;
      const op = c.str(t, 'operation', 'UPSERT');
      if (op == 'REMOVE') {
        names.push(name);
        sources.push(null);
        continue;
      }
      if (op != 'UPSERT') {
        c.fail(memberPath(t.path, 'operation'), 'expected UPSERT or REMOVE, got "' + op + '"');
        return;
      }
      const value = c.required(t, 'value', JsonKind.String);
      if (value === null) return;
      const source = parseValueExpression(value.str);
      if (source === null) {
        c.fail(value.path, 'unsupported expression "' + value.str + '"');
        return;
      }
      names.push(name);
      sources.push(source);
    }
  }
  if (c.failed || !applies) return;
  for (let m = first; m <= last; m++) {
    const spec = cfg.metrics[m];
    if (o.has('disabled')) spec.enabled = !disabled;
    for (let i = 0; i < names.length; i++) {
      const source = sources[i];
      if (source === null) removeLabel(spec, names[i]);
      else upsertLabel(spec, names[i], source);
    }
  }
}

export function parseTelemetryConfig(bytes: ArrayBuffer): ConfigResult<TelemetryConfig> {
  const c = new ConfigChecker();
  const root = c.parse(bytes);
  if (root === null || !c.object(root, ['reporter', 'peerMetadata', 'maxLabelSets', 'metrics', 'accessLog'])) {
    return new ConfigResult<TelemetryConfig>(null, c.error);
  }
  const cfg = new TelemetryConfig();
  const reporter = c.str(root, 'reporter', 'destination');
  if (reporter == 'source') cfg.reporter = Reporter.Source;
  else if (reporter != 'destination')
    c.fail(memberPath(root.path, 'reporter'), 'expected "source" or "destination", got "' + reporter + '"');
  cfg.peerMetadata = c.bool(root, 'peerMetadata', true);
  cfg.maxLabelSets = <i32>c.int(root, 'maxLabelSets', DEFAULT_MAX_LABEL_SETS, 1, 1000000);
  for (let m = 0; m < METRIC_COUNT; m++) cfg.metrics.push(defaultMetricSpec(m));

  const metrics = c.items(root, 'metrics');
  for (let i = 0; i < metrics.length && !c.failed; i++) {
    const entry = metrics[i];
    if (!c.object(entry, ['providers', 'overrides', 'reportingInterval'])) break;
    const overrides = c.items(entry, 'overrides');
    for (let j = 0; j < overrides.length && !c.failed; j++) applyOverride(c, overrides[j], cfg);
  }

  const log = c.optional(root, 'accessLog', JsonKind.Object);
  for (let i = 0; i < DEFAULT_FIELD_COUNT; i++) cfg.accessLogFields.push(i);
  if (log !== null && c.object(log, ['enabled', 'fields', 'writer', 'path'])) {
    cfg.accessLog = c.bool(log, 'enabled', true);
    const writer = c.str(log, 'writer', 'wasm');
    if (writer == 'envoy') cfg.envoyWriter = true;
    else if (writer != 'wasm') c.fail(memberPath(log.path, 'writer'), 'expected "wasm" or "envoy", got "' + writer + '"');
    if (log.has('path')) c.requiredStr(log, 'path');
    const fields = c.optional(log, 'fields', JsonKind.Array);
    if (fields !== null) {
      cfg.accessLogFields = [];
      for (let i = 0; i < fields.items.length; i++) {
        const f = fields.items[i];
        if (!c.kind(f, JsonKind.String)) break;
        const at = accessLogFieldIndex(f.str);
        if (at < 0) {
          c.fail(indexPath(fields.path, i), 'unknown access log field "' + f.str + '" (' + ACCESS_LOG_FIELDS.join(', ') + ')');
          break;
        }
        if (cfg.accessLogFields.includes(at)) {
          c.fail(indexPath(fields.path, i), 'duplicate access log field "' + f.str + '"');
          break;
        }
        cfg.accessLogFields.push(at);
      }
    }
  }
  if (c.failed) return new ConfigResult<TelemetryConfig>(null, c.error);
  for (let m = 0; m < cfg.metrics.length; m++) {
    const spec = cfg.metrics[m];
    spec.sameLabelsAs = m;
    for (let k = 0; k < m; k++)
      if (spec.sameLabels(cfg.metrics[k])) {
        spec.sameLabelsAs = k;
        break;
      }
  }
  return new ConfigResult<TelemetryConfig>(cfg, '');
}
