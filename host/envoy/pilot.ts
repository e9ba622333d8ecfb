// Istio's own pilot as the test oracle: runs tools/istio-pilot (pilot's fake discovery server, offline)
// on Istio/Kubernetes YAML for one proxy and returns the Envoy resources istiod would push to it, then
// turns pieces of them into configuration stock Envoy 1.40 runs (what it lacks is stripped; see
// tools/istio-pilot/README.md and docs/DESIGN.md "Istio pilot oracle").
// Run directly (`node --import tsx host/envoy/pilot.ts build`) it builds the tool if needed and says how long it took.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './install.ts';

export const PILOT_SOURCE_DIR = join(repoRoot, 'tools', 'istio-pilot');
const TOOLS_DIR = join(repoRoot, '.tools');

type Obj = Record<string, any>;

/** The proxy pilot generates for (tools/istio-pilot flags). */
export interface ProxySpec {
  /** Default `default`. */
  namespace?: string;
  /** Workload labels: what RequestAuthentication/AuthorizationPolicy/Sidecar selectors match. */
  labels?: Record<string, string>;
  /** The proxy IP; a ServiceEntry/WorkloadEntry/Pod/EndpointSlice endpoint with this address makes it that workload
   * (its inbound listener then has a chain per endpoint port). Default 10.0.0.1. */
  ip?: string;
  /** Default `default`. */
  serviceAccount?: string;
  /** Default `sidecar`; `router` is a gateway. */
  type?: 'sidecar' | 'router';
  /** Default `Kubernetes`. */
  clusterId?: string;
  /** Default: the app label. */
  workloadName?: string;
}

/** What pilot pushes to the proxy: Envoy v3 resources as proto JSON with the .proto field names (Envoy's YAML names). */
export interface PilotConfig {
  listeners: Obj[];
  /** RDS RouteConfigurations (sidecar outbound: one per port, named `80`, `9080`, ...). */
  routes: Obj[];
  clusters: Obj[];
  /** EDS ClusterLoadAssignments of the EDS clusters. */
  endpoints: Obj[];
  /** Istio validation warnings (not errors), `<file>: document <n> (<Kind> <ns/name>): <warning>`. */
  warnings: string[];
}

/** The Istio/Kubernetes documents: YAML text (multi-document), or files. */
export type PilotInput = string | { files: string[] };

/** Thrown when pilot refuses the input (exit 2): `message` is the tool's one line. */
export class PilotInputError extends Error {}

/** sha256 of the tool's go.mod, go.sum and *.go: the key of the built binary. */
export function pilotSourceHash(): string {
  const h = createHash('sha256');
  const files = readdirSync(PILOT_SOURCE_DIR).filter((f) => f === 'go.mod' || f === 'go.sum' || f.endsWith('.go')).sort();
  for (const f of files) h.update(`${f}\0`).update(readFileSync(join(PILOT_SOURCE_DIR, f))).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** Where the binary for the current sources lives (.tools/istio-pilot-<hash>/istio-pilot). */
export function pilotBinaryPath(): string {
  return join(TOOLS_DIR, `istio-pilot-${pilotSourceHash()}`, 'istio-pilot');
}

function goCommand(): string {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error('tools/istio-pilot needs Go (1.26+) on PATH: `go` was not found or failed; install it from https://go.dev/dl/');
  }
  return 'go';
}

/**
 * The tool's binary, built when missing or stale (`go build` in tools/istio-pilot: modules come from the Go
 * module proxy, verified by the committed go.sum; about 5 min cold, seconds warm). Old builds are removed.
 */
export function ensurePilotBinary(log: (line: string) => void = () => {}): { path: string; built: boolean; ms: number } {
  const path = pilotBinaryPath();
  if (existsSync(path)) return { path, built: false, ms: 0 };
  const go = goCommand();
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const t0 = Date.now();
  log(`building tools/istio-pilot -> ${path}`);
  const r = spawnSync(go, ['build', '-mod=readonly', '-o', tmp, '.'], {
    cwd: PILOT_SOURCE_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`go build of tools/istio-pilot failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  renameSync(tmp, path); // atomic: a concurrent build of the same sources writes the same file
  for (const old of readdirSync(TOOLS_DIR)) {
    if (old.startsWith('istio-pilot-') && join(TOOLS_DIR, old) !== dir) rmSync(join(TOOLS_DIR, old), { recursive: true, force: true });
  }
  return { path, built: true, ms: Date.now() - t0 };
}

export function pilotArgs(proxy: ProxySpec = {}): string[] {
  const args: string[] = [];
  if (proxy.namespace !== undefined) args.push('--namespace', proxy.namespace);
  if (proxy.labels !== undefined) args.push('--labels', Object.entries(proxy.labels).map(([k, v]) => `${k}=${v}`).join(','));
  if (proxy.ip !== undefined) args.push('--ip', proxy.ip);
  if (proxy.serviceAccount !== undefined) args.push('--service-account', proxy.serviceAccount);
  if (proxy.type !== undefined) args.push('--type', proxy.type);
  if (proxy.clusterId !== undefined) args.push('--cluster-id', proxy.clusterId);
  if (proxy.workloadName !== undefined) args.push('--workload-name', proxy.workloadName);
  return args;
}

/**
 * The Envoy configuration Istio's pilot generates for `proxy` from `input`. Rejects with PilotInputError
 * (the tool's one-line message) when Istio refuses the input: bad YAML, a validation failure.
 */
export async function istioPilot(input: PilotInput, proxy: ProxySpec = {}): Promise<PilotConfig> {
  const binary = ensurePilotBinary().path;
  const files = typeof input === 'string' ? ['-'] : input.files;
  const child = spawn(binary, [...pilotArgs(proxy), ...files], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.end(typeof input === 'string' ? input : '');
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const stderr = Buffer.concat(err).toString('utf8').trim();
  if (code === 2) throw new PilotInputError(stderr);
  if (code !== 0) throw new Error(`istio-pilot exited ${code}: ${stderr}`);
  return JSON.parse(Buffer.concat(out).toString('utf8')) as PilotConfig;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] !== 'build') {
    console.error('usage: node --import tsx host/envoy/pilot.ts build');
    process.exit(2);
  }
  try {
    const r = ensurePilotBinary((line) => console.log(line));
    const size = (readFileSync(r.path).length / 1e6).toFixed(0);
    console.log(r.built ? `istio-pilot: built in ${(r.ms / 1000).toFixed(1)} s (${size} MB): ${r.path}` : `istio-pilot: up to date (${size} MB): ${r.path}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
