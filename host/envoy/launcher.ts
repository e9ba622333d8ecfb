// Starts real Envoy, for the tests, the CLI (`asmesh envoy`) and the demo alike: `startEnvoy` renders
// the bootstrap for tests (host/envoy/config.ts: loopback port 0 everywhere), `launchEnvoy` runs a
// bootstrap as given. Either way the admin and listener addresses are read back from Envoy, /ready is
// awaited, the log captured; stop() is SIGTERM then SIGKILL, and any Envoy still running when this
// process exits is killed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { envoyYaml, renderBootstrap, wasmFiles, type RenderOptions } from './config.ts';
import { envoyBinary } from './install.ts';
import { stateRoot } from '../paths.ts';
import { until } from '../until.ts';

export interface LaunchOptions {
  /** Extra command-line arguments. */
  args?: string[];
  /** Worker threads (`--concurrency`), each with its own Wasm VMs; default 1. */
  concurrency?: number;
  /** Default: `-l info --component-log-level wasm:debug`. */
  logArgs?: string[];
  /** How long to wait for /ready (or the exit, for runEnvoyExpectingFailure); default 30 s. */
  timeoutMs?: number;
}

export interface EnvoyOptions extends RenderOptions, LaunchOptions {}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  rawHeaders: [string, string][];
  body: string;
}
export interface SendOptions {
  method?: string;
  headers?: Record<string, string> | [string, string][];
  body?: string;
  timeoutMs?: number;
  /** Default: a new connection per request. */
  agent?: Agent;
  /** HTTPS with this client certificate (PEM texts), trusting `ca`: for listeners that require mTLS. */
  tls?: { cert: string; key: string; ca: string };
}

const running = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // A program that handles the signal itself stops its Envoys (the exit hook kills any left).
      if (process.listenerCount(signal) > 0) return;
      for (const child of running) child.kill('SIGKILL');
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    });
  }
}

/** A run's files (.tmp/envoy/<pid>-<n>/) are removed after a clean run unless ASMESH_KEEP_ENVOY_FILES is set. */
function cleanup(dir: string): void {
  if (!process.env.ASMESH_KEEP_ENVOY_FILES) rmSync(dir, { recursive: true, force: true });
}

/** The wasm files a bootstrap loads that do not exist. */
export function missingWasmFiles(bootstrap: any): string[] {
  return wasmFiles(bootstrap).filter((file) => !existsSync(file));
}

let runs = 0;
/** Writes a bootstrap to .tmp/envoy/<pid>-<n>/envoy.yaml after checking its wasm files exist. */
function writeBootstrap(bootstrap: any): { dir: string; path: string } {
  for (const file of missingWasmFiles(bootstrap)) throw new Error(`${file} does not exist: run npm run build`);
  const dir = join(stateRoot, '.tmp', 'envoy', `${process.pid}-${++runs}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'envoy.yaml');
  writeFileSync(path, envoyYaml(bootstrap));
  return { dir, path };
}

function envoyArgs(configPath: string, opts: LaunchOptions): string[] {
  return [
    '-c',
    configPath,
    '--concurrency',
    String(opts.concurrency ?? 1),
    '--use-dynamic-base-id',
    '--disable-hot-restart',
    ...(opts.logArgs ?? ['-l', 'info', '--component-log-level', 'wasm:debug']),
    ...(opts.args ?? []),
  ];
}

/** One HTTP/1.1 request (HTTPS with `tls`) with exact headers (the Host header too); no connection reuse. */
export function send(url: string, path: string, opts: SendOptions = {}): Promise<HttpReply> {
  const target = new URL(url);
  const headers: [string, string][] = Array.isArray(opts.headers) ? opts.headers : Object.entries(opts.headers ?? {});
  if (!headers.some(([k]) => k.toLowerCase() === 'host')) headers.unshift(['host', target.host]);
  if (opts.body !== undefined && !headers.some(([k]) => k.toLowerCase() === 'content-length')) {
    headers.push(['content-length', String(Buffer.byteLength(opts.body))]);
  }
  return new Promise((resolve, reject) => {
    const req = (opts.tls ? httpsRequest : httpRequest)(
      {
        host: target.hostname,
        port: target.port,
        method: opts.method ?? 'GET',
        path,
        agent: opts.agent ?? false,
        setHost: false,
        headers: headers.flat() as unknown as Record<string, string>,
        timeout: opts.timeoutMs ?? 10_000,
        ...opts.tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const rawHeaders: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) rawHeaders.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
          const flat: Record<string, string> = {};
          for (const [k, v] of rawHeaders) flat[k] = k in flat ? `${flat[k]},${v}` : v;
          resolve({ status: res.statusCode ?? 0, headers: flat, rawHeaders, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request ${path} timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export class Envoy {
  private exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exitWaiters: (() => void)[] = [];
  /** The first listener's URL. */
  listenerUrl = '';
  /** Every listener's URL by listener name. */
  listeners: Record<string, string> = {};
  adminUrl = '';

  /** @internal */
  constructor(
    readonly child: ChildProcess,
    readonly configPath: string,
    readonly bootstrap: any,
    private readonly log: string[],
  ) {
    child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      running.delete(child);
      for (const w of this.exitWaiters.splice(0)) w();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exited;
  }
  /** Envoy's log so far (stderr and stdout). */
  logs(): string {
    return this.log.join('');
  }

  /** Waits until the log matches `pattern`; throws after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    return until(() => this.logs().match(pattern)?.[0], timeoutMs, `the Envoy log to match ${pattern}`);
  }

  waitExit(timeoutMs: number): Promise<boolean> {
    if (this.exited !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** A request to the listener. */
  request(path: string, opts: SendOptions = {}): Promise<HttpReply> {
    return send(this.listenerUrl, path, opts);
  }
  /** A request to the admin interface. */
  admin(path: string, method = 'GET'): Promise<HttpReply> {
    return send(this.adminUrl, path, { method });
  }

  /** Every counter and gauge from /stats, by full name (Wasm metrics are `wasmcustom.<name>`). */
  async stats(): Promise<Map<string, number>> {
    const reply = await this.admin('/stats?format=json');
    const out = new Map<string, number>();
    for (const s of (JSON.parse(reply.body).stats ?? []) as { name?: string; value?: number }[]) {
      if (typeof s.name === 'string' && typeof s.value === 'number') out.set(s.name, s.value);
    }
    return out;
  }

  /** A Wasm metric by the name the filter defined (without `wasmcustom.`). */
  async metric(name: string): Promise<number | undefined> {
    return (await this.stats()).get(`wasmcustom.${name}`);
  }

  async prometheus(): Promise<string> {
    return (await this.admin('/stats/prometheus')).body;
  }

  /** Keep the rendered config after stop() (set when start-up failed, so the error can point at it). */
  keepFiles = false;

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited === null) {
      this.child.kill('SIGTERM');
      if (!(await this.waitExit(graceMs))) {
        this.child.kill('SIGKILL');
        await this.waitExit(5000);
      }
    }
    if (!this.keepFiles) cleanup(dirname(this.configPath));
  }
}

// With util-linux `setpriv`, the kernel kills Envoy when this process dies, even by SIGKILL.
let setpriv: string | null | undefined;
function pdeathsigWrapper(): string | null {
  if (setpriv === undefined) {
    const r = process.platform === 'linux' ? spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true']) : null;
    setpriv = r !== null && r.status === 0 ? 'setpriv' : null;
  }
  return setpriv;
}

function spawnEnvoy(binary: string, args: string[], log: string[]): ChildProcess {
  hookExit();
  const wrapper = pdeathsigWrapper();
  const [command, argv] = wrapper === null ? [binary, args] : [wrapper, ['--pdeathsig', 'KILL', '--', binary, ...args]];
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: stateRoot });
  running.add(child);
  child.stdout!.setEncoding('utf8').on('data', (c: string) => log.push(c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => log.push(c));
  return child;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bound `host:port` as an address to connect to: a wildcard address means this host. */
function connectable(address: string): string {
  return address.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

async function tryGet(url: string): Promise<HttpReply | null> {
  try {
    return await send(url, new URL(url).pathname + new URL(url).search, { timeoutMs: 1000 });
  } catch {
    return null;
  }
}

/** Starts Envoy with a bootstrap rendered for tests (renderBootstrap) once it is /ready. */
export function startEnvoy(opts: EnvoyOptions = {}): Promise<Envoy> {
  return launchEnvoy(renderBootstrap(opts), opts);
}

/** Starts Envoy with `bootstrap` as given; resolves once the admin says /ready (LIVE) and the listeners are known. */
export async function launchEnvoy(bootstrap: any, opts: LaunchOptions = {}): Promise<Envoy> {
  const binary = await envoyBinary();
  const { dir, path } = writeBootstrap(bootstrap);
  const adminFile = join(dir, 'admin.address');
  const log: string[] = [];
  const child = spawnEnvoy(binary, [...envoyArgs(path, opts), '--admin-address-path', adminFile], log);
  const envoy = new Envoy(child, path, bootstrap, log);
  try {
    await until(
      async () => {
        if (envoy.exit !== null) throw new Error(`Envoy exited (code ${envoy.exit.code}, signal ${envoy.exit.signal}) before it was ready`);
        if (existsSync(adminFile) && envoy.adminUrl === '') {
          const address = readFileSync(adminFile, 'utf8').trim();
          if (address) envoy.adminUrl = `http://${connectable(address)}`;
        }
        return envoy.adminUrl !== '' && (await tryGet(`${envoy.adminUrl}/ready`))?.status === 200;
      },
      opts.timeoutMs ?? 30_000,
      'Envoy to be ready',
      50,
    );
    const listeners = JSON.parse((await envoy.admin('/listeners?format=json')).body) as {
      listener_statuses?: { name: string; local_address?: { socket_address?: { address: string; port_value: number } } }[];
    };
    for (const l of listeners.listener_statuses ?? []) {
      const a = l.local_address?.socket_address;
      if (a !== undefined) envoy.listeners[l.name] = `http://${connectable(`${a.address}:${a.port_value}`)}`;
    }
    const first = Object.values(envoy.listeners)[0];
    if (first === undefined) throw new Error('Envoy has no listener');
    envoy.listenerUrl = first;
    return envoy;
  } catch (error) {
    envoy.keepFiles = true;
    await envoy.stop();
    throw new Error(`${(error as Error).message}\nconfig: ${path}\n--- envoy log ---\n${envoy.logs()}`);
  }
}

export interface EnvoyFailure {
  /** Exit code; null when Envoy did not exit (it became ready, or hung and was killed). */
  code: number | null;
  /** True when Envoy became ready instead of failing. */
  ready: boolean;
  log: string;
}

/** Starts Envoy with a config expected to be rejected at start-up; returns how it ended and its log. */
export async function runEnvoyExpectingFailure(opts: EnvoyOptions = {}): Promise<EnvoyFailure> {
  const binary = await envoyBinary();
  const { dir, path } = writeBootstrap(renderBootstrap(opts));
  const adminFile = join(dir, 'admin.address');
  const log: string[] = [];
  const child = spawnEnvoy(binary, [...envoyArgs(path, opts), '--admin-address-path', adminFile], log);
  const envoy = new Envoy(child, path, null, log);
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (envoy.exit === null && Date.now() < deadline) {
    if (existsSync(adminFile)) {
      const address = readFileSync(adminFile, 'utf8').trim();
      const ready = address ? await tryGet(`http://${address}/ready`) : null;
      if (ready?.status === 200) {
        await envoy.stop();
        return { code: null, ready: true, log: envoy.logs() };
      }
    }
    await envoy.waitExit(50);
  }
  if (envoy.exit === null) await envoy.stop();
  // Let the pipes drain.
  await sleep(20);
  cleanup(dir);
  return { code: envoy.exit?.code ?? null, ready: false, log: envoy.logs() };
}

export interface Validation {
  ok: boolean;
  code: number | null;
  output: string;
}

/** `envoy --mode validate` of a bootstrap rendered for tests. */
export function validateConfig(opts: EnvoyOptions = {}): Promise<Validation> {
  return validateBootstrap(renderBootstrap(opts), opts);
}

/** `envoy --mode validate` of `bootstrap` as given: checks it without serving. */
export async function validateBootstrap(bootstrap: any, opts: LaunchOptions = {}): Promise<Validation> {
  const binary = await envoyBinary();
  const { dir, path } = writeBootstrap(bootstrap);
  const r = spawnSync(binary, ['--mode', 'validate', ...envoyArgs(path, opts)], { encoding: 'utf8', cwd: stateRoot, timeout: 60_000 });
  cleanup(dir);
  return { ok: r.status === 0, code: r.status, output: `${r.stdout}${r.stderr}` };
}
