// `asmesh run`: one request through one filter in the host harness.
import { loadPlugin, type HttpRequestSpec } from '../harness/index.ts';
import { isObject } from './istio.ts';
import { InputError } from './errors.ts';

export interface RunOutput {
  filter: string;
  /** The filter rejected its configuration (or failed to start): its log lines are in `logs`. */
  error?: string;
  phases: { phase: string; status: number; action: string }[];
  upstreamRequest: { headers: [string, string][]; body: string } | null;
  response: { status: number; headers: [string, string][]; body: string; local: boolean; details?: string } | null;
  routeCacheClears: number;
  logs: { level: string; message: string }[];
  metrics: Record<string, number>;
}

function checkRequest(req: unknown): HttpRequestSpec {
  if (!isObject(req)) throw new InputError('request: must be a JSON object {"headers": {...}, "body": ...}');
  if (!isObject(req.headers) && !Array.isArray(req.headers)) throw new InputError('request: headers: required (an object or a list of [name, value])');
  for (const k of Object.keys(req)) {
    if (!['headers', 'body', 'trailers', 'properties', 'upstream'].includes(k)) throw new InputError(`request: ${k}: not supported (headers, body, trailers, properties, upstream)`);
  }
  return req as unknown as HttpRequestSpec;
}

export async function runRequest(opts: { wasm: string; config: string; request: unknown; name: string; clusters: string[] }): Promise<RunOutput> {
  const spec = checkRequest(opts.request);
  const out: RunOutput = { filter: opts.wasm, phases: [], upstreamRequest: null, response: null, routeCacheClears: 0, logs: [], metrics: {} };
  let plugin;
  try {
    plugin = await loadPlugin(opts.wasm, { config: opts.config, pluginName: opts.name, rootId: opts.name, vmId: opts.name, clusters: opts.clusters, nowMs: Date.now() });
  } catch (e) {
    const lines = (e as Error).message.split('\n');
    out.error = lines[0];
    out.logs = lines.slice(1).map((l) => {
      const m = /^\[(\w+)\] (.*)$/.exec(l);
      return m ? { level: m[1], message: m[2] } : { level: 'info', message: l };
    });
    return out;
  }
  let r = await plugin.http(spec);
  if (r.paused && r.completion) {
    // A filter waiting on a timer (e.g. a fault delay): advance the fake clock until it continues.
    for (let i = 0; i < 1000 && r.paused; i++) await plugin.tick();
    r = await r.completion;
  }
  out.phases = r.phases.map((p) => ({ ...p, action: p.status === 0 ? 'Continue' : p.status === 1 ? 'StopIteration' : `status ${p.status}` }));
  out.upstreamRequest = r.upstreamRequest ? { headers: r.upstreamRequest.headers, body: r.upstreamRequest.bodyText } : null;
  out.response = { status: r.response.status, headers: r.response.headers, body: r.response.bodyText, local: r.response.local, ...(r.response.details ? { details: r.response.details } : {}) };
  out.routeCacheClears = r.routeCacheClears;
  out.logs = plugin.logs.map((l) => ({ level: l.level, message: l.message }));
  for (const [k, m] of plugin.metrics()) out.metrics[k] = m.value;
  plugin.close();
  return out;
}

export function formatRun(r: RunOutput): string {
  const lines: string[] = [`filter ${r.filter}`];
  if (r.error) {
    lines.push(`configure FAILED: ${r.error}`);
  } else {
    lines.push('phases:');
    for (const p of r.phases) lines.push(`  ${p.phase.padEnd(24)} ${p.action}`);
    if (r.upstreamRequest) {
      lines.push('upstream received:');
      for (const [k, v] of r.upstreamRequest.headers) lines.push(`  ${k}: ${v}`);
      if (r.upstreamRequest.body) lines.push(`  body: ${r.upstreamRequest.body}`);
    } else {
      lines.push('upstream received: nothing (the filter answered)');
    }
    if (r.response) {
      lines.push(`client received: ${r.response.status}${r.response.local ? ' (local reply' + (r.response.details ? `, ${r.response.details}` : '') + ')' : ''}`);
      for (const [k, v] of r.response.headers) lines.push(`  ${k}: ${v}`);
      if (r.response.body) lines.push(`  body: ${r.response.body}`);
    }
    if (r.routeCacheClears) lines.push(`route cache cleared: ${r.routeCacheClears}`);
  }
  lines.push('logs:');
  for (const l of r.logs) lines.push(`  [${l.level}] ${l.message}`);
  const metrics = Object.entries(r.metrics);
  if (metrics.length) {
    lines.push('metrics:');
    for (const [k, v] of metrics) lines.push(`  ${k} ${v}`);
  }
  return lines.join('\n') + '\n';
}
