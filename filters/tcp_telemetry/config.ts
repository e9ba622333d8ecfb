// The TCP telemetry filter's configuration (plugin configuration JSON), validated once:
//   {
//     "reporter": "destination" | "source",   // inbound (server) or outbound (client) listener; default destination
//     "reportingIntervalMs": 5000,              // bytes of open connections are reported this often (Istio's
//                                               // tcp_reporting_duration, default 5 s); 0: only at close
//     "maxLabelSets": 10000                     // distinct label sets (per Envoy worker); more fold into `other`
//   }
import { ConfigChecker, ConfigResult } from '../../assembly/lib/config';
import { memberPath } from '../../assembly/lib/json';
import { Reporter } from '../telemetry/logic';
import { DEFAULT_MAX_LABEL_SETS } from '../telemetry/labels';

export const DEFAULT_REPORTING_INTERVAL_MS: i64 = 5000;

export class TcpTelemetryConfig {
  reporter: Reporter = Reporter.Destination;
  reportingIntervalMs: u32 = <u32>DEFAULT_REPORTING_INTERVAL_MS;
  maxLabelSets: i32 = <i32>DEFAULT_MAX_LABEL_SETS;
}

export function parseTcpTelemetryConfig(bytes: ArrayBuffer): ConfigResult<TcpTelemetryConfig> {
  const c = new ConfigChecker();
  const root = c.parse(bytes);
  if (root === null || !c.object(root, ['reporter', 'reportingIntervalMs', 'maxLabelSets'])) {
    return new ConfigResult<TcpTelemetryConfig>(null, c.error);
  }
  const cfg = new TcpTelemetryConfig();
  const reporter = c.str(root, 'reporter', 'destination');
  if (reporter == 'source') cfg.reporter = Reporter.Source;
  else if (reporter != 'destination')
    c.fail(memberPath(root.path, 'reporter'), 'expected "source" or "destination", got "' + reporter + '"');
  cfg.reportingIntervalMs = <u32>c.int(root, 'reportingIntervalMs', DEFAULT_REPORTING_INTERVAL_MS, 0, 3_600_000);
  cfg.maxLabelSets = <i32>c.int(root, 'maxLabelSets', DEFAULT_MAX_LABEL_SETS, 1, 1000000);
  if (c.failed) return new ConfigResult<TcpTelemetryConfig>(null, c.error);
  return new ConfigResult<TcpTelemetryConfig>(cfg, '');
}
