// The SLO file: per service an availability and/or a latency objective over a rolling window
// (OpenSLO's ratio SLIs, cut down to what Istio's standard metrics measure). Parsed and validated
// once; a bad file is an InputError naming the file and the field (the CLI exits 2).
//
//   apiVersion: asmesh.io/v1alpha1
//   kind: ServiceLevelObjectives
//   services:
//   - service: service_b        # destination_service of istio_requests_total (reporter destination)
//     window: 30d               # the rolling window the targets hold over (3d..90d)
//     reporter: destination     # whose view the SLIs count: destination (server side, default) or
//                               # source (the clients' sidecars: also faults they inject, failed connections)
//     availability: { target: 99.9 }                  # % of requests not answered 5xx
//     latency: { thresholdMs: 250, target: 99 }       # % of requests faster than a histogram bucket bound
import { parse as parseYaml } from 'yaml';
import { InputError } from '../cli/errors.ts';

export const SLO_API_VERSION = 'asmesh.io/v1alpha1';
export const SLO_KIND = 'ServiceLevelObjectives';

/** Envoy's default histogram bucket bounds (ms): the only thresholds a histogram can answer exactly. */
export const DURATION_BUCKETS_MS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

export type SliKind = 'availability' | 'latency';

export interface Objective {
  /** `<service>-<sli>`: the `slo` label of every generated series and alert. */
  name: string;
  service: string;
  sli: SliKind;
  /** Fraction of good requests required, e.g. 0.999. */
  target: number;
  /** Latency only: the bucket bound (ms) a good request stays under. */
  thresholdMs?: number;
  /** The rolling window, as written (`30d`) and in seconds. */
  window: string;
  windowSeconds: number;
  /** Istio's `reporter` label of the counted requests: the server's sidecar or the clients'. */
  reporter: 'destination' | 'source';
}

const UNITS: Record<string, number> = { m: 60, h: 3600, d: 86400, w: 604800 };

/** Seconds of a Prometheus-style duration `<n>m|h|d|w`, or null. */
export function durationSeconds(text: string): number | null {
  const m = /^([1-9]\d*)([mhdw])$/.exec(text);
  return m ? Number(m[1]) * UNITS[m[2]] : null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and validates an SLO file's text; `file` names it in errors. */
export function parseSloFile(file: string, text: string): Objective[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new InputError(`${file}: not YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const fail = (path: string, what: string): never => {
    throw new InputError(`${file}: ${path}: ${what}`);
  };
  if (!isObj(doc)) fail('(top)', 'must be a mapping with apiVersion, kind, services');
  const top = doc as Obj;
  if (top.apiVersion !== SLO_API_VERSION) fail('apiVersion', `must be ${SLO_API_VERSION}`);
  if (top.kind !== SLO_KIND) fail('kind', `must be ${SLO_KIND}`);
  known(top, ['apiVersion', 'kind', 'metadata', 'services'], '', fail);
  if (!Array.isArray(top.services) || top.services.length === 0) fail('services', 'must be a non-empty list');
  const out: Objective[] = [];
  const seen = new Set<string>();
  (top.services as unknown[]).forEach((s, i) => {
    const at = `services[${i}]`;
    if (!isObj(s)) fail(at, 'must be a mapping');
    const svc = s as Obj;
    known(svc, ['service', 'window', 'reporter', 'availability', 'latency'], at, fail);
    if (typeof svc.service !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(svc.service))
      fail(`${at}.service`, 'must be a service host name (destination_service)');
    const service = svc.service as string;
    if (seen.has(service)) fail(`${at}.service`, `${service} is listed twice`);
    seen.add(service);
    const window = svc.window ?? '30d';
    const windowSeconds = typeof window === 'string' ? durationSeconds(window) : null;
    if (windowSeconds === null) fail(`${at}.window`, `${JSON.stringify(window)} is not a duration like 30d, 4w, 720h`);
    // The slowest burn-rate pair looks back 3 days; a window shorter than that has no such alert.
    if (windowSeconds! < 3 * 86400 || windowSeconds! > 90 * 86400) fail(`${at}.window`, `${window} must be between 3d and 90d`);
    if (svc.availability === undefined && svc.latency === undefined) fail(at, 'needs availability or latency');
    const reporter = svc.reporter ?? 'destination';
    if (reporter !== 'destination' && reporter !== 'source')
      fail(`${at}.reporter`, `${JSON.stringify(reporter)} must be destination or source`);
    const base = { service, window: window as string, windowSeconds: windowSeconds!, reporter: reporter as Objective['reporter'] };
    if (svc.availability !== undefined) {
      const a = svc.availability;
      if (!isObj(a)) fail(`${at}.availability`, 'must be a mapping with target');
      known(a as Obj, ['target'], `${at}.availability`, fail);
      out.push({
        ...base,
        name: `${service}-availability`,
        sli: 'availability',
        target: percent((a as Obj).target, `${at}.availability.target`, fail),
      });
    }
    if (svc.latency !== undefined) {
      const l = svc.latency;
      if (!isObj(l)) fail(`${at}.latency`, 'must be a mapping with thresholdMs and target');
      known(l as Obj, ['thresholdMs', 'target'], `${at}.latency`, fail);
      const th = (l as Obj).thresholdMs;
      if (typeof th !== 'number' || !DURATION_BUCKETS_MS.includes(th)) {
        fail(
          `${at}.latency.thresholdMs`,
          `${JSON.stringify(th)} is not a bucket bound of istio_request_duration_milliseconds (${DURATION_BUCKETS_MS.join(', ')})`,
        );
      }
      out.push({
        ...base,
        name: `${service}-latency`,
        sli: 'latency',
        target: percent((l as Obj).target, `${at}.latency.target`, fail),
        thresholdMs: th as number,
      });
    }
  });
  return out;
}

function percent(v: unknown, path: string, fail: (p: string, w: string) => never): number {
  if (typeof v !== 'number' || !(v > 0 && v < 100))
    fail(path, `${JSON.stringify(v)} must be a percentage between 0 and 100 (exclusive), e.g. 99.9`);
  return Math.round((v as number) * 1e6) / 1e8;
}

function known(o: Obj, fields: string[], at: string, fail: (p: string, w: string) => never): void {
  for (const k of Object.keys(o)) if (!fields.includes(k)) fail(at ? `${at}.${k}` : k, `unknown field (expected ${fields.join(', ')})`);
}
