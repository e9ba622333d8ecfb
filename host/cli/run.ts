// `asmesh run`: one request through a chain of filters in the host harness, with Envoy's router in
// front of the clusters; every cluster (also for the filters' http calls) answers as an echo server.
import { loadChain, type ChainRequest, type ClusterServer, type HeaderInput } from '../harness/index.ts';
import { echoReply } from '../upstream/echo.ts';
import { isObject } from './istio.ts';
import { InputError } from './errors.ts';

export interface RunOutput {
  filter: string;
  /** A filter rejected its configuration (or failed to start): its log lines are in `logs`. */
  error?: string;
  phases: { filter: string; phase: string; status: number; action: string }[];
  upstreamRequest: { cluster: string; method: string; path: string; headers: [string, string][]; body: string } | null;
  response: { status: number; headers: [string, string][]; body: string; local: boolean } | null;
  routeCacheClears: number;
  logs: { level: string; message: string }[];
  metrics: Record<string, number>;
}

interface RequestFile {
  headers: HeaderInput;
  body?: string;
  properties?: ChainRequest['properties'];
  upstream?: { status?: number; headers?: Record<string, string>; body?: string };
}

function checkRequest(req: unknown): RequestFile {
  if (!isObject(req)) throw new InputError('request: must be a JSON object {"headers": {...}, "body": ...}');
  if (!isObject(req.headers) && !Array.isArray(req.headers))
    throw new InputError('request: headers: required (an object or a list of [name, value])');
  for (const k of Object.keys(req)) {
    if (!['headers', 'body', 'properties', 'upstream'].includes(k))
      throw new InputError(`request: ${k}: not supported (headers, body, properties, upstream)`);
  }
  if (req.body !== undefined && typeof req.body !== 'string') throw new InputError('request: body: must be a string');
  return req as unknown as RequestFile;
}

/** The request file's headers as the downstream request: pseudo-headers give method, path and authority. */
function chainRequest(file: RequestFile): ChainRequest {
  const list: [string, string][] = Array.isArray(file.headers) ? file.headers : Object.entries(file.headers);
  const pseudo = (name: string) => list.find(([k]) => k.toLowerCase() === name)?.[1];
  return {
    method: pseudo(':method'),
    path: pseudo(':path'),
    authority: pseudo(':authority') ?? pseudo('host'),
    headers: list.filter(([k]) => !k.startsWith(':')),
    body: file.body,
    properties: file.properties,
  };
}

const ACTIONS: Record<number, string> = {
  0: 'Continue',
  1: 'StopIteration',
  2: 'ContinueAndEndStream',
  3: 'StopAllIterationAndBuffer',
  4: 'StopAllIterationAndWatermark',
};

export interface RunOptions {
  /** The filters in chain order. */
  filters: { wasm: string; config: string; name: string }[];
  request: unknown;
  /** Clusters that exist besides the default route's. */
  clusters: string[];
  defaultCluster: string;
  clusterHeader?: string;
}

export async function runRequest(opts: RunOptions): Promise<RunOutput> {
  const file = checkRequest(opts.request);
  const out: RunOutput = {
    filter: opts.filters.map((f) => f.wasm).join(', '),
    phases: [],
    upstreamRequest: null,
    response: null,
    routeCacheClears: 0,
    logs: [],
    metrics: {},
  };
  const clusters: Record<string, ClusterServer> = {};
  for (const name of opts.clusters) clusters[name] = (req) => echoReply(name, req);
  const upstream = file.upstream;
  clusters[opts.defaultCluster] =
    upstream === undefined
      ? (req) => echoReply(opts.defaultCluster, req)
      : () => ({ status: upstream.status ?? 200, headers: upstream.headers ?? {}, body: upstream.body ?? '' });
  let chain;
  try {
    chain = await loadChain({
      filters: opts.filters.map((f) => ({ name: f.name, wasm: f.wasm, config: f.config })),
      router: { defaultCluster: opts.defaultCluster, clusterHeader: opts.clusterHeader },
      clusters,
    });
  } catch (e) {
    const lines = (e as Error).message.split('\n');
    out.error = lines[0];
    out.logs = lines.slice(1).map((l) => {
      const m = /^\[(\w+)\] (.*)$/.exec(l);
      return m ? { level: m[1]!, message: m[2]! } : { level: 'info', message: l };
    });
    return out;
  }
  try {
    await chain.settle();
    const r = await chain.request(chainRequest(file));
    out.phases = r.phases.map((p) => ({ ...p, action: ACTIONS[p.status] ?? `status ${p.status}` }));
    out.upstreamRequest = r.upstream && {
      cluster: r.upstream.cluster,
      method: r.upstream.method,
      path: r.upstream.path,
      headers: Object.entries(r.upstream.headers),
      body: r.upstream.body,
    };
    out.response = { status: r.status, headers: r.headerList, body: r.body, local: r.local };
    out.routeCacheClears = r.routeCacheClears;
    for (const { plugin } of chain.plugins) {
      out.logs.push(...plugin.logs.map((l) => ({ level: l.level, message: l.message })));
      for (const [k, m] of plugin.metrics()) out.metrics[k] = m.value;
    }
  } finally {
    chain.close();
  }
  return out;
}

export function formatRun(r: RunOutput): string {
  const lines: string[] = [`filter ${r.filter}`];
  if (r.error) {
    lines.push(`configure FAILED: ${r.error}`);
  } else {
    const several = new Set(r.phases.map((p) => p.filter)).size > 1;
    lines.push('phases:');
    for (const p of r.phases) lines.push(`  ${several ? `${p.filter} ` : ''}${p.phase.padEnd(24)} ${p.action}`);
    if (r.upstreamRequest) {
      lines.push(`upstream received (cluster ${r.upstreamRequest.cluster}):`, `  ${r.upstreamRequest.method} ${r.upstreamRequest.path}`);
      for (const [k, v] of r.upstreamRequest.headers) lines.push(`  ${k}: ${v}`);
      if (r.upstreamRequest.body) lines.push(`  body: ${r.upstreamRequest.body}`);
    } else {
      lines.push('upstream received: nothing (a filter or the router answered)');
    }
    if (r.response) {
      lines.push(`client received: ${r.response.status}${r.response.local ? ' (local reply)' : ''}`);
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
