// A live sidecar: one Envoy whose listeners, clusters, routes, Wasm filter configurations and TLS
// secrets come from files (host/envoy/xds.ts), kept in step with a directory of Istio YAML. Every
// change under the directory is translated again, the filter configurations are pre-checked in the
// harness (a filter's configure, as Envoy runs it), and only then are the changed files replaced, in
// Istio's push order (clusters before the listeners and filters that name them; clusters no longer
// named are removed last). A change that does not translate, or that a filter or Envoy rejects, is
// reported and the last good configuration keeps serving. With a CA, the workload certificate is
// issued here, renewed at half-life, and the trust bundle follows the CA's bundle.pem.
import { watch, readFileSync, mkdirSync, statSync, existsSync, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import { localizePaths } from '../cli/envoy.ts';
import { InputError, InputErrors } from '../cli/errors.ts';
import { issueWorkloadCert, spiffeId, trustBundle, type WorkloadCert } from '../cli/certs.ts';
import { launchEnvoy, type Envoy, type LaunchOptions } from '../envoy/launcher.ts';
import { wasmPluginOptions } from '../envoy/config.ts';
import { dynamicSidecar, fileText, secretFiles, writeXdsFile, type XdsFile } from '../envoy/xds.ts';
import { loadPlugin } from '../harness/index.ts';
import { filterManifest, MESH_FILTERS } from '../../filters/manifest.ts';
import { istioDirs, istioFiles, translateDir, type TranslateOptions, type TranslateResult } from './source.ts';
import { until } from '../until.ts';

type Obj = Record<string, any>;

export interface LiveOptions {
  /** The Istio YAML directory (watched recursively). */
  istioDir: string;
  /** Where the xDS files go (created). */
  xdsDir: string;
  /** Directory holding <filter>.wasm. */
  wasmDir: string;
  /** translate's options (workload, endpoints, ports...). */
  translate: TranslateOptions;
  /** Bind the listeners and admin on 127.0.0.1 instead of translate's 0.0.0.0. */
  loopback?: boolean;
  /** Mesh CA directory (asmesh ca init): the workload certificate is issued from it and renewed at half-life. */
  caDir?: string;
  /** Workload certificate lifetime; default 3600 s. */
  certLifetimeSeconds?: number;
  /** Milliseconds of quiet after a file event before translating (editors write in several steps); default 100. */
  debounceMs?: number;
  /** How long to wait for Envoy to take a file; default 10 s. */
  applyTimeoutMs?: number;
  launch?: LaunchOptions;
  /** Envoy's stats_flush_interval (histograms reach /stats/prometheus only at a flush; Envoy's default 5 s). */
  statsFlushMs?: number;
  /** One line per event (applied, rejected, renewed). */
  log?: (line: string) => void;
}

export interface ApplyReport {
  ok: boolean;
  /** What started it: a file name, "start", "certificate renewal", "trust bundle". */
  trigger: string;
  /** The files Envoy took, by resource name, with the milliseconds from the write to Envoy's update_success. */
  applied: { kind: string; name: string; ms: number }[];
  /** Milliseconds from the first write to the last update_success. */
  ms: number;
  /** Why the change was not applied (one line per problem: file and field). */
  errors: string[];
}

/** What a directory flag names, or why not (one line); null when it is a directory. */
function notADirectory(path: string): string | null {
  try {
    return statSync(path).isDirectory() ? null : 'not a directory';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : String((e as NodeJS.ErrnoException).code ?? e);
  }
}

/** The options' directories, checked before anything starts: an InputError (one line naming the option and path). */
export function checkLiveOptions(opts: Pick<LiveOptions, 'istioDir' | 'wasmDir' | 'caDir' | 'xdsDir' | 'translate'>): void {
  const dirs: [string, string | undefined][] = [
    ['--istio', opts.istioDir],
    ['--wasm-dir', opts.wasmDir],
    ['--ca', opts.caDir],
  ];
  for (const [flag, dir] of dirs) {
    const why = dir === undefined ? null : notADirectory(dir);
    if (why) throw new InputError(`${flag} ${dir}: ${why}`);
  }
  istioFiles(opts.istioDir);
  // Every mesh filter a later edit may mount (the stable chain; steering with the first VirtualService).
  const wasm = (opts.translate.filters ?? MESH_FILTERS).map((f) => join(opts.wasmDir, `${f}.wasm`)).filter((f) => !existsSync(f));
  if (wasm.length) throw new InputError(`--wasm-dir ${opts.wasmDir}: ${wasm.join(', ')}: no such file (asmesh build)`);
  if (opts.caDir)
    for (const f of ['ca.pem', 'ca.key'])
      if (!existsSync(join(opts.caDir, f)))
        throw new InputError(`--ca ${opts.caDir}: no ${f}: not a mesh CA (asmesh ca init --dir ${opts.caDir})`);
  try {
    mkdirSync(opts.xdsDir, { recursive: true });
  } catch (e) {
    throw new InputError(`--xds-dir ${opts.xdsDir}: cannot create it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The .wasm files the xDS files name that do not exist. */
function missingWasm(files: XdsFile[]): string[] {
  const named = files.flatMap((f) => [...JSON.stringify(f.content).matchAll(/"filename":"([^"]+\.wasm)"/g)].map((m) => m[1]!));
  return [...new Set(named)].filter((f) => !existsSync(f));
}

/** The resource kinds and file names whose Istio resources configure a filter (to name them in a rejection). */
function sourcesOf(filter: string, dir: string): string[] {
  const kinds = filterManifest(filter)?.istioKinds ?? [];
  return istioFiles(dir)
    .filter((f) => kinds.some((k) => new RegExp(`^kind:\\s*["']?${k}["']?\\s*$`, 'm').test(f.text)))
    .map((f) => f.name);
}

export class LiveSidecar {
  envoy!: Envoy;
  /** Every apply, in order. */
  readonly reports: ApplyReport[] = [];
  /** The files Envoy serves now (the last good set), by path. */
  private serving = new Map<string, XdsFile>();
  private cert: WorkloadCert | null = null;
  private roots: string | null = null;
  private watchers: FSWatcher[] = [];
  private renewTimer: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly wasm = new Map<string, Uint8Array>();
  private stopped = false;
  readonly xdsDir: string;

  private constructor(private readonly opts: LiveOptions) {
    this.xdsDir = resolve(opts.xdsDir);
  }

  /** Translates, writes the files, starts Envoy on them and watches the directories. Throws (InputErrors) when the first translation fails. */
  static async start(opts: LiveOptions): Promise<LiveSidecar> {
    checkLiveOptions(opts);
    const s = new LiveSidecar(opts);
    if (opts.caDir) {
      s.roots = trustBundle(opts.caDir);
      s.cert = s.issue();
    }
    s.lastInput = s.inputKey();
    const { bootstrap, files } = s.render(s.translateNow());
    const missing = missingWasm(files);
    if (missing.length) throw new InputError(`--wasm-dir ${opts.wasmDir}: ${missing.join(', ')}: no such file (asmesh build)`);
    const problems = await s.precheck(files);
    if (problems.length) throw new InputErrors(problems);
    for (const f of files) writeXdsFile(s.xdsDir, f);
    s.serving = new Map(files.map((f) => [f.path, f]));
    if (opts.statsFlushMs !== undefined) bootstrap.stats_flush_interval = `${opts.statsFlushMs / 1000}s`;
    s.envoy = await launchEnvoy(bootstrap, opts.launch);
    s.watch();
    s.scheduleRenewal();
    return s;
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private translateNow(): TranslateResult {
    return translateDir(this.opts.istioDir, this.opts.translate);
  }

  private issue(): WorkloadCert {
    const wl = this.opts.translate.workload ?? {};
    const id = spiffeId(
      { name: wl.name ?? 'workload', namespace: wl.namespace ?? 'default', serviceAccount: wl.serviceAccount ?? wl.name ?? 'default' },
      this.opts.translate.trustDomain,
    );
    return issueWorkloadCert(this.opts.caDir!, id, this.opts.certLifetimeSeconds ?? 3600);
  }

  /** The workload certificate served now (null without a CA). */
  get certificate(): WorkloadCert | null {
    return this.cert;
  }

  private render(result: TranslateResult): { bootstrap: Obj; files: XdsFile[] } {
    let local = localizePaths(result.envoy, { wasmDir: this.opts.wasmDir }) as Obj;
    if (this.opts.loopback) local = JSON.parse(JSON.stringify(local).split('"address":"0.0.0.0"').join('"address":"127.0.0.1"'));
    // No CA, no workload certificate: a PERMISSIVE listener serves its plaintext chain only (its mTLS chain
    // would wait for a secret that never comes, and the listener with it). STRICT still needs --ca.
    if (!this.opts.caDir)
      for (const l of local.static_resources?.listeners ?? [])
        if ((l.filter_chains ?? []).length > 1) {
          l.filter_chains = l.filter_chains.filter((c: Obj) => c.filter_chain_match?.transport_protocol !== 'tls');
          for (const c of l.filter_chains) delete c.filter_chain_match;
          delete l.listener_filters;
        }
    const d = dynamicSidecar(local, this.xdsDir, { filters: this.opts.translate.filters });
    return { bootstrap: d.bootstrap, files: [...secretFiles(this.cert, this.roots), ...d.files] };
  }

  private wasmBytes(file: string): Uint8Array {
    let b = this.wasm.get(file);
    if (!b) this.wasm.set(file, (b = new Uint8Array(readFileSync(file))));
    return b;
  }

  /** Runs each changed filter configuration's configure in the harness, as Envoy will: the rejections, with the filter's log. */
  private async precheck(files: XdsFile[]): Promise<string[]> {
    const problems: string[] = [];
    for (const f of files) {
      if (f.kind !== 'ecds' || (this.serving.get(f.path) && fileText(this.serving.get(f.path)!) === fileText(f))) continue;
      const cfg = f.content.resources[0].typed_config.config as Obj;
      try {
        (await loadPlugin(this.wasmBytes(cfg.vm_config.code.local.filename), wasmPluginOptions(cfg))).close();
      } catch (e) {
        const why = (e as Error).message
          .split('\n')
          .filter((l) => /^\[(error|critical|warn)/.test(l))
          .map((l) => l.replace(/^\[\w+\] /, ''));
        const from = sourcesOf(cfg.name, this.opts.istioDir);
        problems.push(
          `${from.join(', ') || cfg.name}: the ${cfg.name} filter rejects its configuration: ${why.join('; ') || (e as Error).message}`,
        );
      }
    }
    return problems;
  }

  private async counters(prefix: string): Promise<{ success: number; rejected: number }> {
    const s = await this.envoy.stats();
    // A file Envoy cannot parse counts as update_failure, one it parses and refuses as update_rejected.
    const rejected = (s.get(`${prefix}.update_rejected`) ?? 0) + (s.get(`${prefix}.update_failure`) ?? 0);
    return { success: s.get(`${prefix}.update_success`) ?? 0, rejected };
  }

  /** Writes the files that changed and waits for Envoy to take or reject each (it keeps the old config on a rejection). */
  private async write(files: XdsFile[], report: ApplyReport, t0: number): Promise<boolean> {
    const changed = files.filter((f) => {
      const now = this.serving.get(f.path);
      return now === undefined || fileText(now) !== fileText(f);
    });
    const before = await Promise.all(changed.map((f) => this.counters(f.statPrefix)));
    const mark = this.envoy.logs().length;
    // Independent subscriptions are written together; Envoy counts each on its own.
    const written = changed.map((f) => {
      writeXdsFile(this.xdsDir, f);
      return { f, at: Date.now() };
    });
    let ok = true;
    await Promise.all(
      written.map(async ({ f, at }, i) => {
        const was = before[i]!;
        const timeout = this.opts.applyTimeoutMs ?? 10_000;
        const now = await until(
          async () => {
            const c = await this.counters(f.statPrefix);
            return c.success > was.success || c.rejected > was.rejected ? c : null;
          },
          timeout,
          `Envoy to take ${f.path}`,
          5,
        ).catch(() => null);
        if (now === null) {
          ok = false;
          report.errors.push(`Envoy did not take ${f.path} within ${timeout} ms`);
          return;
        }
        if (now.success > was.success) {
          report.applied.push({ kind: f.kind, name: f.name, ms: Date.now() - at });
          this.serving.set(f.path, f);
          return;
        }
        ok = false;
        const said = this.envoy
          .logs()
          .slice(mark)
          .split('\n')
          .filter((l) => /\]\[(warning|error|critical)\]/.test(l))
          .map((l) => l.replace(/^(\[[^\]]*\]\s*)+/, '').slice(0, 400));
        report.errors.push(`Envoy rejected ${f.path}: ${said.find((l) => /rejected/.test(l)) ?? said[0] ?? 'update rejected'}`);
      }),
    );
    report.ms = Date.now() - t0;
    return ok;
  }

  /** Translates the directory again and applies what changed; serialized (one apply at a time). */
  reload(trigger = 'reload'): Promise<ApplyReport> {
    const run = this.queue.then(() => this.apply(trigger));
    this.queue = run.catch(() => {});
    return run;
  }

  private async apply(trigger: string): Promise<ApplyReport> {
    const report: ApplyReport = { ok: false, trigger, applied: [], ms: 0, errors: [] };
    let input: string;
    try {
      input = this.inputKey();
    } catch (e) {
      // The directory or a file went away or became unreadable: reported, the last good configuration serves.
      report.errors = [(e as Error).message];
      this.lastInput = '';
      this.reports.push(report);
      this.log(`not applied (${trigger}); the last good configuration keeps serving:\n  ${report.errors.join('\n  ')}`);
      return report;
    }
    // Editors and renames fire several events per save: one apply per distinct input.
    if (input === this.lastInput) return { ...report, ok: this.reports.at(-1)?.ok ?? true };
    this.lastInput = input;
    try {
      await this.applyInput(report);
    } finally {
      this.reports.push(report);
    }
    return report;
  }

  private lastInput = '';
  private inputKey(): string {
    return JSON.stringify([istioFiles(this.opts.istioDir), this.cert?.serial, this.roots]);
  }

  private async applyInput(report: ApplyReport): Promise<void> {
    const trigger = report.trigger;
    let files: XdsFile[];
    try {
      files = this.render(this.translateNow()).files;
    } catch (e) {
      report.errors = e instanceof InputErrors ? e.errors : [(e as Error).message];
      this.log(`not applied (${trigger}); the last good configuration keeps serving:\n  ${report.errors.join('\n  ')}`);
      return;
    }
    report.errors = await this.precheck(files);
    if (report.errors.length) {
      this.log(`not applied (${trigger}); the last good configuration keeps serving:\n  ${report.errors.join('\n  ')}`);
      return;
    }
    const t0 = Date.now();
    const byKind = (...kinds: string[]) => files.filter((f) => kinds.includes(f.kind));
    // Make before break: clusters old and new, then what names them, then the clusters alone.
    const cds = byKind('cds')[0]!;
    const old = this.serving.get(cds.path);
    const union = old ? withClusters(cds, old) : cds;
    report.ok =
      (await this.write([...byKind('sds'), union], report, t0)) &&
      (await this.write(byKind('lds', 'rds', 'ecds'), report, t0)) &&
      (await this.write([cds], report, t0));
    if (!report.ok) {
      // Envoy kept the old configuration; put its files back so a restart serves it too.
      for (const f of this.serving.values()) writeXdsFile(this.xdsDir, f);
      this.log(`not applied (${trigger}); the last good configuration keeps serving:\n  ${report.errors.join('\n  ')}`);
    } else if (report.applied.length) {
      this.log(`applied (${trigger}) in ${report.ms} ms: ${report.applied.map((a) => `${a.kind} ${a.name} ${a.ms} ms`).join(', ')}`);
    }
  }

  /** Issues a new workload certificate now and serves it (SDS); also what the half-life timer does. */
  renewCertificate(trigger = 'certificate renewal'): Promise<ApplyReport> {
    const run = this.queue.then(async () => {
      this.cert = this.issue();
      this.scheduleRenewal();
      return this.apply(`${trigger} (serial ${this.cert.serial})`);
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private scheduleRenewal(): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    if (!this.cert || this.stopped) return;
    const delay = Math.max(0, this.cert.renewAt.getTime() - Date.now());
    this.renewTimer = setTimeout(() => void this.renewCertificate(), delay);
    this.renewTimer.unref();
  }

  private watch(): void {
    const changed = (what: string) => {
      if (this.stopped) return;
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        if (what === 'ca') {
          // A new bundle is trusted at once; the leaf moves to the new CA at its next renewal (docs/DESIGN.md).
          void this.queue.then(() => {
            this.roots = trustBundle(this.opts.caDir!);
          });
          void this.reload('trust bundle');
        } else void this.reload(what);
      }, this.opts.debounceMs ?? 100);
    };
    // Each directory on its own (inotify on directories sees renames; Node 20's recursive mode on Linux
    // watches files and loses one once an editor renames a new copy over it).
    const watched = new Set<string>();
    const watchTree = (dir: string) => {
      if (watched.has(dir)) return;
      watched.add(dir);
      const w = watch(dir, (_e, name) => {
        try {
          for (const d of istioDirs(this.opts.istioDir)) watchTree(d);
        } catch {
          /* gone or unreadable: the apply reports it */
        }
        changed(String(name ?? dir));
      });
      // A watched directory removed: the next apply reports the tree as it is.
      w.on('error', () => changed(dir));
      this.watchers.push(w);
    };
    for (const d of istioDirs(this.opts.istioDir)) watchTree(d);
    if (this.opts.caDir) this.watchers.push(watch(this.opts.caDir, (_e, name) => name === 'bundle.pem' && changed('ca')));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    if (this.debounce) clearTimeout(this.debounce);
    if (this.renewTimer) clearTimeout(this.renewTimer);
    await this.queue;
    await this.envoy?.stop();
  }
}

/** `cds` with the clusters of `old` it lacks added (make before break). */
function withClusters(cds: XdsFile, old: XdsFile): XdsFile {
  const names = new Set(cds.content.resources.map((c: Obj) => c.name));
  const extra = old.content.resources.filter((c: Obj) => !names.has(c.name));
  if (!extra.length) return cds;
  return { ...cds, content: { ...cds.content, resources: [...cds.content.resources, ...extra] } };
}
