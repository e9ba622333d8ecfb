// The asmesh CLI through the bundled file dist/asmesh.mjs (bundled here, as `npm run build` does).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parse } from 'yaml';
import { makeMeshCerts } from '../../host/cli/certs.ts';
import { envoyBinary } from '../../host/envoy/install.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { passthroughWasm } from './passthrough.ts';
import { istioDir } from '../../host/fixtures/istio.ts';
import { until } from '../../host/until.ts';

const cli = join(repoRoot, 'dist/asmesh.mjs');
const istio = istioDir;
const work = join(repoRoot, '.tmp/test-cli');
let envoyBin = '';

function asmesh(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  const b = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  mkdirSync(work, { recursive: true });
  envoyBin = await envoyBinary();
});

test('envoy --help names every sidecar flag translate --help documents (envoy --istio takes them all)', () => {
  const flags = (text: string) => new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]));
  const translate = flags(asmesh(['translate', '--help']).stdout);
  const envoy = flags(asmesh(['envoy', '--help']).stdout);
  // The flags translate writes files with or prints with are not sidecar flags envoy --istio shares.
  const ownToTranslate = ['json', 'wasm-dir', 'cert-dir', 'validate', 'help', 'all', 'out', 'output'];
  const missing = [...translate].filter((f) => !ownToTranslate.includes(f) && !envoy.has(f));
  assert.deepEqual(missing, []);
  assert.ok(envoy.has('trust-domain-alias') && envoy.has('root-namespace'));
});

test('--help on every command, exit 0; no command or an unknown one: exit 2', () => {
  const main = asmesh(['--help']);
  assert.equal(main.code, 0);
  const commands = [...main.stdout.matchAll(/^  (\w+) {2,}/gm)].map((m) => m[1]);
  assert.deepEqual(commands, ['init', 'build', 'translate', 'run', 'envoy', 'ca', 'demo', 'slo', 'dashboard', 'image', 'wasmplugin']);
  for (const cmd of commands) {
    const r = asmesh([cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, new RegExp(`^Usage: asmesh ${cmd}`), cmd);
    assert.deepEqual(asmesh(['help', cmd]), r, `asmesh help ${cmd}`);
  }
  assert.deepEqual(asmesh(['help']), main);
  const noSuch = asmesh(['help', 'nosuch']);
  assert.equal(noSuch.code, 2);
  assert.match(noSuch.stderr, /^asmesh help: unknown command "nosuch" \(commands: [^\n]*\)\n$/);
  assert.equal(noSuch.stdout, '');
  assert.equal(asmesh([]).code, 2);
  const unknown = asmesh(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const noEnvoy = asmesh(['envoy', '--config', join(istio, 'virtualservice-canary.yaml')], { ENVOY_BIN: '/nonexistent/envoy' });
  assert.equal(noEnvoy.code, 2);
  assert.match(noEnvoy.stderr, /ENVOY_BIN=\/nonexistent\/envoy: no such file/);
  const badTd = asmesh(['translate', '--trust-domain-alias', 'Old/TD', join(istio, 'authorizationpolicy-httpbin.yaml')]);
  assert.equal(badTd.code, 2);
  assert.equal(
    badTd.stderr,
    'asmesh translate: --trust-domain-alias: "Old/TD" is not a trust domain (lowercase letters, digits, ".", "-", "_")\n',
  );
  const tcpEcho = join(repoRoot, 'test/data/istio-samples/tcp-echo/tcp-echo-services.yaml');
  const badPort = asmesh(['translate', '--listener-port', 'inbound_9000', tcpEcho]);
  assert.equal(badPort.code, 2);
  assert.equal(badPort.stderr, 'asmesh translate: --listener-port: "inbound_9000" is not LISTENER=PORT (e.g. inbound_9000=15007)\n');
  const clash = asmesh(['translate', '--workload', 'tcp-echo-v1', '--listener-port', 'inbound_9001=15001', tcpEcho]);
  assert.equal(clash.code, 2);
  assert.match(
    clash.stderr,
    /^asmesh translate: listeners outbound and inbound_9001 both bind 0\.0\.0\.0:15001: move one with --listener-port inbound_9001=PORT/,
  );
  assert.equal(clash.stderr.trim().split('\n').length, 1, clash.stderr);
  const badFlag = asmesh(['translate', '--nope', 'x.yaml']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--nope/);
});

test('--version and -v print the package.json version, exit 0', () => {
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  for (const flag of ['--version', '-v']) assert.deepEqual(asmesh([flag]), { code: 0, stdout: `asmesh ${version}\n`, stderr: '' });
});

test('translate: YAML bootstrap on stdout, --out writes the three configs and envoy.yaml', () => {
  const files = [
    'virtualservice-canary.yaml',
    'destinationrule-subsets.yaml',
    'authorizationpolicy-httpbin.yaml',
    'requestauthentication-httpbin.yaml',
  ].map((f) => join(istio, f));
  const r = asmesh(['translate', ...files]);
  assert.equal(r.code, 0, r.stderr);
  const bootstrap = parse(r.stdout);
  assert.deepEqual(
    bootstrap.static_resources.listeners.map((l: { name: string }) => l.name),
    ['outbound', 'inbound'],
  );
  const out = join(work, 'out');
  // The policies are in namespace foo: they apply to a workload there.
  const w = asmesh(['translate', '-o', out, '--namespace', 'foo', ...files]);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stderr, /wrote steering\.json, authz\.json, telemetry\.json, envoy\.yaml/);
  const steering = JSON.parse(readFileSync(join(out, 'steering.json'), 'utf8'));
  assert.deepEqual(
    steering.http[0].route.map((d: { weight: number }) => d.weight),
    [95, 5],
  );
  assert.equal(JSON.parse(readFileSync(join(out, 'authz.json'), 'utf8')).policies[0].name, 'httpbin');
  assert.equal(JSON.parse(readFileSync(join(out, 'telemetry.json'), 'utf8')), null);
  assert.deepEqual(
    parse(readFileSync(join(out, 'envoy.yaml'), 'utf8')),
    parse(asmesh(['translate', '--namespace', 'foo', ...files]).stdout),
  );
  const j = asmesh(['translate', '--json', files[0]]);
  assert.deepEqual(JSON.parse(j.stdout).steering.hosts, ['service_b']);
});

test('translate: input errors name file and field, exit 2', () => {
  const vs = join(work, 'mirror.yaml');
  writeFileSync(
    vs,
    readFileSync(join(istio, 'virtualservice-canary.yaml'), 'utf8').replace('  - route:\n', '  - mirror: { host: shadow }\n    route:\n'),
  );
  const r = asmesh(['translate', vs]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `asmesh translate: ${vs}: spec.http[0].mirror: not supported\n`);
  assert.equal(r.stdout, '');
  const missing = asmesh(['translate', join(work, 'nope.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.yaml: cannot read Istio resource: ENOENT/);
  // Two VirtualServices for one host: the first routes it (Istio: the oldest), the second is named in a warning.
  const two = asmesh(['translate', join(istio, 'virtualservice-canary.yaml'), join(istio, 'virtualservice-steering.yaml')]);
  assert.equal(two.code, 0, two.stderr);
  assert.match(
    two.stderr,
    /warning: .*virtualservice-steering\.yaml: VirtualService default\/service_b: host service_b\.default\.svc\.cluster\.local is already routed/,
  );
  assert.equal(asmesh(['translate']).code, 2);
  // Bad YAML: exit 2, one line, no stack trace.
  for (const [name, text, line] of [
    ['nul.yaml', 'a\0', /: a NUL byte at offset 1: not YAML text$/],
    ['empty.yaml', '', /: empty: no YAML documents$/],
    ['tag.yaml', 'kind: !x y\n', /: YAML: Unresolved tag: !x/],
    ['alias.yaml', 'kind: *x\n', /: YAML: Unresolved alias/],
  ] as const) {
    const f = join(work, name);
    writeFileSync(f, text);
    const b = asmesh(['translate', f]);
    assert.equal(b.code, 2, name);
    assert.equal(b.stderr.trim().split('\n').length, 1, b.stderr);
    assert.match(b.stderr.trim(), line);
  }
});

test("translate runs each filter's own configuration check: a configuration the filter rejects is exit 2", (t) => {
  if (!existsSync(join(repoRoot, 'build/steering.wasm'))) return t.skip('build/steering.wasm not built');
  const f = join(work, 'percent.yaml');
  writeFileSync(
    f,
    'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: b }\nspec:\n  hosts: [b.example.com]\n  http:\n  - headers: { request: { set: { x-share: "50%" } } }\n    route: [{ destination: { host: b.example.com } }]\n',
  );
  const r = asmesh(['translate', f]);
  assert.equal(r.code, 2, r.stderr);
  const errors = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('warning: '));
  assert.deepEqual(errors, [
    'asmesh translate: listener outbound: asmesh.steering: the filter rejects its configuration: steering: config $.http[0].headers.request.set.x-share: a % (an Envoy formatter) is not supported by asmesh steering',
  ]);
  assert.equal(r.stdout, '');
});

test("translate: weights as Istio validates them, by the filter's own check (any total > 0; all zero or negative: exit 2)", (t) => {
  if (!existsSync(join(repoRoot, 'build/steering.wasm'))) return t.skip('build/steering.wasm not built');
  const vs = (weights: (number | null)[]) => {
    const f = join(work, `weights-${weights.join('_')}.yaml`);
    const route = weights.map((w, i) => `{ destination: { host: b.example.com, subset: s${i} }${w === null ? '' : `, weight: ${w}`} }`);
    writeFileSync(
      f,
      `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: b }\nspec:\n  hosts: [b.example.com]\n  http:\n  - route: [${route.join(', ')}]\n`,
    );
    const r = asmesh(['translate', f]);
    return {
      code: r.code,
      errors: r.stderr
        .trim()
        .split('\n')
        .filter((l) => l && !l.startsWith('warning: ')),
    };
  };
  for (const ok of [[60, 30], [1, 2, 4], [250, null], [0], [1000]]) assert.deepEqual(vs(ok), { code: 0, errors: [] }, String(ok));
  const rejects = 'asmesh translate: listener outbound: asmesh.steering: the filter rejects its configuration: steering: config ';
  assert.deepEqual(vs([0, null]), { code: 2, errors: [`${rejects}$.http[0].route: total destination weight = 0 (Istio rejects it)`] });
  assert.deepEqual(vs([10, -1]), { code: 2, errors: [`${rejects}$.http[0].route[1].weight: -1 is outside [0, 2147483647]`] });
});

test('translate --all -o DIR: one config set per bookinfo workload, from a directory and a file', () => {
  const samples = join(repoRoot, 'test/data/istio-samples/bookinfo');
  const out = join(work, 'all');
  rmSync(out, { recursive: true, force: true });
  const r = asmesh([
    'translate',
    '--all',
    '-o',
    out,
    join(samples, 'platform/kube/bookinfo.yaml'),
    join(samples, 'networking/destination-rule-all.yaml'),
    join(samples, 'networking/virtual-service-reviews-test-v2.yaml'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(join(out, 'default')).sort(), [
    'details-v1',
    'productpage-v1',
    'ratings-v1',
    'reviews-v1',
    'reviews-v2',
    'reviews-v3',
  ]);
  const pp = parse(readFileSync(join(out, 'default/productpage-v1/envoy.yaml'), 'utf8'));
  assert.equal(pp.node.metadata.SERVICE_ACCOUNT, 'bookinfo-productpage');
  assert.equal(pp.admin.address.socket_address.address, '127.0.0.1');
  assert.equal(JSON.parse(readFileSync(join(out, 'default/productpage-v1/steering.json'), 'utf8')).hosts[0], 'reviews');
  const dir = asmesh(['translate', '--workload', 'ratings-v1', '--listen-address', '127.0.0.1', '--json', samples]);
  // The networking directory holds a Gateway (ignored, with a warning) and a ServiceEntry (not supported).
  assert.equal(dir.code, 2);
  assert.match(dir.stderr, /egress-rule-google-apis\.yaml: document 1: kind: "ServiceEntry" not supported/);
  assert.equal(asmesh(['translate', '--all', join(samples, 'networking/destination-rule-all.yaml')]).code, 2);
});

test('run: one request through the example filter in the harness, text and JSON', () => {
  const cfg = join(work, 'example.json');
  const req = join(work, 'req.json');
  writeFileSync(cfg, JSON.stringify({ header: 'x-asmesh-example', value: 'hi' }));
  writeFileSync(req, JSON.stringify({ headers: { ':method': 'GET', ':path': '/cli', ':authority': 'a.test' }, upstream: { status: 201 } }));
  const r = asmesh(['run', '--filter', 'build/example.wasm', '--config', cfg, '--request', req]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /phases:\n {2}request_headers +Continue\n/);
  assert.match(r.stdout, /upstream received \(cluster upstream\):\n {2}GET \/cli\n {2}host: a\.test\n/);
  assert.match(r.stdout, /client received: 201\n(.*\n)* {2}x-asmesh-example: hi\n/);
  assert.match(r.stdout, /logs:\n {2}\[info\] example: request \/cli\n/);
  assert.match(r.stdout, /metrics:\n {2}asmesh_example_requests_total 1\n/);
  const j = asmesh(['run', '--filter', 'build/example.wasm', '--config', cfg, '--request', req, '--json']);
  const out = JSON.parse(j.stdout);
  assert.equal(out.response.status, 201);
  assert.deepEqual(out.phases.map((p: { phase: string }) => p.phase).slice(0, 1), ['request_headers']);
  assert.equal(out.metrics.asmesh_example_requests_total, 1);
  assert.equal(asmesh(['run', '--filter', 'build/example.wasm', '--config', cfg, '--request', req, '--expect-status', '201']).code, 0);
  const wrong = asmesh(['run', '--filter', 'build/example.wasm', '--config', cfg, '--request', req, '--expect-status', '200']);
  assert.equal(wrong.code, 3);
  assert.match(wrong.stderr, /expected status 200, got 201/);
});

test('run: a configuration the filter rejects exits 2 with its error line; missing files exit 2', () => {
  const cfg = join(work, 'bad.json');
  writeFileSync(cfg, JSON.stringify({ value: 'x' }));
  const r = asmesh(['run', '--filter', 'build/example.wasm', '--config', cfg]);
  assert.equal(r.code, 2);
  assert.match(r.stdout, /configure FAILED: Wasm VM failed Failed to configure base Wasm plugin/);
  assert.match(r.stdout, /\[error\] example: config \$\.header: required/);
  assert.equal(asmesh(['run', '--filter', 'build/nope.wasm']).code, 2);
  assert.equal(asmesh(['run']).code, 2);
});

test("build: no asconfig.json, an unknown filter or missing SDK runtime hooks are input errors; asmesh's own example builds", () => {
  const r = asmesh(['build', '--project', work]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no asconfig\.json/);
  const unknown = asmesh(['build', 'nosuchfilter']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^asmesh build: no filter nosuchfilter \(filters\/<name>\/index\.ts\): known: authz, example, [^\n]*\n$/);
  // An asconfig without the SDK's runtime hooks builds a module Envoy cannot run: refused, naming what is missing.
  const proj = join(work, 'nohooks');
  rmSync(proj, { recursive: true, force: true });
  mkdirSync(join(proj, 'filters/hello'), { recursive: true });
  writeFileSync(join(proj, 'filters/hello/index.ts'), 'export function f(): i32 { return 1; }\n');
  const hooks = ['abort', 'trace', 'seed'].map((f) => `${f}=~lib/asmesh/assembly/proxy/runtime/${f}Handler`);
  const cases: [object, RegExp][] = [
    [{ runtime: 'incremental', exportStart: '_initialize', use: hooks.slice(1) }, /lack the SDK runtime hooks: use abort=\s/],
    [{ runtime: 'incremental', exportStart: '_initialize', use: [hooks[0]] }, /hooks: use trace=, use seed=\s/],
    [{ runtime: 'incremental', use: hooks }, /hooks: exportStart: "_initialize"\s/],
    [{ exportStart: '_initialize', use: hooks }, /hooks: runtime: "minimal"\s/],
    [{ runtime: 'stub', exportStart: '_initialize', use: hooks }, /hooks: runtime: "minimal"\s/],
  ];
  for (const [options, missing] of cases) {
    writeFileSync(join(proj, 'asconfig.json'), JSON.stringify({ options }));
    const r = asmesh(['build', '--project', proj]);
    assert.equal(r.code, 2, JSON.stringify(options));
    assert.match(r.stderr, /^asmesh build: \S*asconfig\.json: options lack the SDK runtime hooks: [^\n]*\n$/);
    assert.match(r.stderr, missing);
    assert.ok(!existsSync(join(proj, 'build')), 'nothing built');
  }
  const ok = asmesh(['build', 'example']);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.match(ok.stdout, /built build\/example\.wasm \(\d+ bytes\)/);
});

test('envoy --filter: bad flags, and a module Envoy would not link (built without the runtime hooks), exit 2 with one line', () => {
  // A module importing env.abort, as AssemblyScript's default abort makes it.
  const abort = join(work, 'abort.wasm');
  writeFileSync(abort, Buffer.from('0061736d01000000' + '01080160047f7f7f7f00' + '020d0103656e760561626f72740000', 'hex'));
  const cases: [string[], RegExp][] = [
    [
      ['--filter', abort],
      /^asmesh envoy: \S*abort\.wasm: imports env\.abort, which Envoy does not provide \(built without the SDK runtime hooks: asconfig\.json options need use abort=;/,
    ],
    [['--filter', abort, '--config', 'x.yaml'], /^asmesh envoy: envoy: --config \(a whole bootstrap\) or --filter/],
    [['--plugin-config', 'c.json', '--config', 'x.yaml'], /^asmesh envoy: envoy: --plugin-config goes with --filter/],
    [['--filter', abort, '--validate'], /^asmesh envoy: envoy: --validate goes with --config, not --filter/],
    [['--filter', 'nosuch.wasm'], /^asmesh envoy: nosuch\.wasm: no such file/],
    [['--filter', abort, '--upstream', 'nope'], /^asmesh envoy: --upstream: "nope" is not HOST:PORT/],
    [['--plugin-config', 'c.json', '--filter', abort], /^asmesh envoy: --plugin-config must follow the --filter it belongs to/],
  ];
  for (const [args, message] of cases) {
    const r = asmesh(['envoy', ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
  }
});

test('envoy --istio DIR --watch: a missing or unreadable DIR and other bad flags exit 2 with one line naming it, before Envoy starts', () => {
  const dir = join(work, 'watch-flags');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'istio'), { recursive: true });
  mkdirSync(join(dir, 'dangling'), { recursive: true });
  mkdirSync(join(dir, 'emptywasm'), { recursive: true });
  mkdirSync(join(dir, 'notaca'), { recursive: true });
  writeFileSync(join(dir, 'file.yaml'), 'kind: VirtualService\n');
  writeFileSync(join(dir, 'istio', 'vs.yaml'), readFileSync(join(istio, 'virtualservice-steering.yaml'), 'utf8'));
  // A file that cannot be read (root reads anything chmod forbids: a dangling link is unreadable for everyone).
  symlinkSync(join(dir, 'nowhere.yaml'), join(dir, 'dangling', 'vs.yaml'));
  const live = (d: string, ...more: string[]) => ['--istio', d, '--watch', '--xds-dir', join(dir, 'xds'), ...more];
  const cases: [string[], RegExp][] = [
    [live(join(dir, 'nosuch')), /^asmesh envoy: --istio \S*nosuch: no such directory$/],
    [live(join(dir, 'file.yaml')), /^asmesh envoy: --istio \S*file\.yaml: not a directory$/],
    [live(join(dir, 'dangling')), /^asmesh envoy: \S*dangling\/vs\.yaml: cannot read the Istio file: no such file or directory$/],
    [['--istio', join(dir, 'istio')], /^asmesh envoy: envoy: --istio DIR and --watch go together/],
    [['--watch'], /^asmesh envoy: envoy: --istio DIR and --watch go together/],
    [live(join(dir, 'istio'), '--config', 'x.yaml'), /^asmesh envoy: envoy: --config or --istio DIR --watch, not both/],
    [live(join(dir, 'istio'), '--validate'), /^asmesh envoy: envoy: --validate does not go with --istio DIR --watch/],
    [live(join(dir, 'istio'), '--port', '1'), /^asmesh envoy: envoy: --port does not go with --istio DIR --watch/],
    [live(join(dir, 'istio'), '--ca', join(dir, 'nosuch')), /^asmesh envoy: --ca \S*nosuch: no such directory$/],
    [
      live(join(dir, 'istio'), '--ca', join(dir, 'notaca')),
      /^asmesh envoy: --ca \S*notaca: no ca\.pem: not a mesh CA \(asmesh ca init --dir /,
    ],
    [live(join(dir, 'istio'), '--cert-hours', '1'), /^asmesh envoy: envoy: --cert-hours goes with --ca DIR/],
    [
      live(join(dir, 'istio'), '--ca', join(dir, 'notaca'), '--cert-hours', '0'),
      /^asmesh envoy: --cert-hours: "0" is not a positive number/,
    ],
    [live(join(dir, 'istio'), '--wasm-dir', join(dir, 'nosuch')), /^asmesh envoy: --wasm-dir \S*nosuch: no such directory$/],
    [
      live(join(dir, 'istio'), '--wasm-dir', join(dir, 'emptywasm')),
      /^asmesh envoy: --wasm-dir \S*emptywasm: \S*\.wasm(, \S*\.wasm)*: no such file \(asmesh build\)$/,
    ],
    [
      live(join(dir, 'istio'), '--xds-dir', join(dir, 'file.yaml', 'x')),
      /^asmesh envoy: --xds-dir \S*file\.yaml\/x: cannot create it: ENOTDIR$/,
    ],
    [live(join(dir, 'istio'), '--endpoint', 'nope'), /^asmesh envoy: --endpoint: "nope" is not CLUSTER=HOST:PORT/],
    [live(join(dir, 'istio'), '--admin-port', 'x'), /^asmesh envoy: --admin-port: "x" is not a number/],
    [['--xds-dir', dir, '--config', 'x.yaml'], /^asmesh envoy: envoy: --xds-dir goes with --istio DIR --watch/],
  ];
  for (const [args, message] of cases) {
    // ENVOY_BIN unset and nothing to install from: a flag error must come before Envoy is looked for.
    const r = asmesh(['envoy', ...args], { ENVOY_BIN: '/nonexistent/envoy' });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), message, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('envoy: --validate accepts a translated bootstrap and rejects a broken one; starts real Envoy until SIGINT', async () => {
  const wasmDir = join(work, 'wasm');
  mkdirSync(wasmDir, { recursive: true });
  const pass = await passthroughWasm();
  for (const f of ['steering', 'authz', 'telemetry']) writeFileSync(join(wasmDir, `${f}.wasm`), pass);
  const certDir = makeMeshCerts(join(work, 'certs'), [{ name: 'w', namespace: 'default', serviceAccount: 'sleep' }]).w;
  // Port 0 everywhere: Envoy binds, `asmesh envoy` prints the ports it reads back.
  const cfg = join(work, 'envoy.yaml');
  const t = asmesh([
    'translate',
    '-o',
    work,
    '--admin-port',
    '0',
    '--outbound-port',
    '0',
    '--inbound-port',
    '0',
    '--app-address',
    '127.0.0.1:9',
    '--endpoint',
    'outbound|80|v1|service_b=127.0.0.1:9',
    '--endpoint',
    'outbound|80|v2|service_b=127.0.0.1:9',
    '--endpoint',
    'outbound|80||service_b=127.0.0.1:9',
    join(istio, 'virtualservice-steering.yaml'),
    join(istio, 'destinationrule-subsets.yaml'),
    join(istio, 'peerauthentication-strict.yaml'),
  ]);
  assert.equal(t.code, 0, t.stderr);
  const env = { ENVOY_BIN: envoyBin };
  const v = asmesh(['envoy', '--config', cfg, '--wasm-dir', wasmDir, '--cert-dir', certDir, '--validate'], env);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /envoy\.yaml: valid \(1\.40/);
  const broken = join(work, 'broken.yaml');
  writeFileSync(broken, readFileSync(cfg, 'utf8').replace('lb_policy: ROUND_ROBIN', 'lb_policy: SOMETIMES'));
  const b = asmesh(['envoy', '--config', broken, '--wasm-dir', wasmDir, '--cert-dir', certDir, '--validate'], env);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /SOMETIMES/);

  const child = spawn(process.execPath, [cli, 'envoy', '--config', cfg, '--wasm-dir', wasmDir, '--cert-dir', certDir], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', () => {});
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  let admin = 0;
  try {
    await until(() => out.includes('Ctrl-C to stop'), 30_000, 'asmesh envoy to say it is ready');
    const m = /admin: http:\/\/127\.0\.0\.1:(\d+)\n {2}listener outbound: 0\.0\.0\.0:(\d+)\n {2}listener inbound: 0\.0\.0\.0:(\d+)\n/.exec(
      out,
    );
    assert.ok(m, out);
    admin = Number(m[1]);
    assert.ok(Number(m[2]) > 0 && Number(m[3]) > 0 && new Set(m.slice(1)).size === 3, out);
    const ready = await fetch(`http://127.0.0.1:${admin}/ready`);
    assert.equal(ready.status, 200);
    const clusters = await (await fetch(`http://127.0.0.1:${admin}/clusters`)).text();
    assert.match(clusters, /outbound\|80\|v2\|service_b::/);
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0);
  await assert.rejects(fetch(`http://127.0.0.1:${admin}/ready`));
  assert.ok(existsSync(cfg));
});

test('translate then run: the translated steering configuration sends jason to v2 in the harness', (t) => {
  if (!existsSync(join(repoRoot, 'build/steering.wasm'))) return t.skip('build/steering.wasm not built');
  const out = join(work, 'steer');
  assert.equal(asmesh(['translate', '-o', out, join(istio, 'virtualservice-steering.yaml')]).code, 0);
  const req = join(work, 'jason.json');
  for (const [user, cluster] of [
    ['jason', 'outbound|80|v2|service_b'],
    ['alice', 'outbound|80|v1|service_b'],
  ]) {
    writeFileSync(req, JSON.stringify({ headers: { ':method': 'GET', ':path': '/info', ':authority': 'service_b', 'end-user': user } }));
    const r = asmesh([
      'run',
      '--filter',
      'build/steering.wasm',
      '--config',
      join(out, 'steering.json'),
      '--request',
      req,
      '--json',
      '--cluster-header',
      'x-asmesh-cluster',
      '--clusters',
      'outbound|80|v1|service_b,outbound|80|v2|service_b',
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const o = JSON.parse(r.stdout);
    // Envoy's router takes the steered cluster and drops the header (request_headers_to_remove).
    assert.equal(o.upstreamRequest.cluster, cluster, user);
    assert.equal(
      o.upstreamRequest.headers.find(([k]: [string, string]) => k === 'x-asmesh-cluster'),
      undefined,
    );
    assert.equal(JSON.parse(o.response.body).served_by, cluster);
    assert.equal(o.routeCacheClears, 1);
  }
});

test('translate --validate: the seed resources pass envoy --mode validate with the real filters', (t) => {
  const missing = ['steering', 'authz', 'telemetry'].filter((f) => !existsSync(join(repoRoot, 'build', `${f}.wasm`)));
  if (missing.length) return t.skip(`not built: ${missing.join(', ')}`);
  const files = [
    'virtualservice-canary.yaml',
    'destinationrule-subsets.yaml',
    'destinationrule-circuit-breaker.yaml',
    'authorizationpolicy-httpbin.yaml',
    'requestauthentication-httpbin.yaml',
    'peerauthentication-strict.yaml',
  ];
  const r = asmesh(['translate', '--validate', ...files.map((f) => join(istio, f))], { ENVOY_BIN: envoyBin });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /envoy --mode validate: OK \(1\.40\.\d+\)/);
  // A configuration the filter rejects is caught the same way (Envoy runs the filter's configure).
  const bad = join(work, 'bad-weights.yaml');
  // (Istio accepts any positive total: 95/4 is fine; several destinations weighing 0 in total are not.)
  writeFileSync(
    bad,
    readFileSync(join(istio, 'virtualservice-canary.yaml'), 'utf8').replace('weight: 95', 'weight: 0').replace('weight: 5', 'weight: 0'),
  );
  const b = asmesh(['translate', '--validate', bad], { ENVOY_BIN: envoyBin });
  assert.equal(b.code, 2);
  assert.match(b.stderr, /steering: config \$\.http\[0\]\.route: total destination weight = 0/);
});

test("build --project: a user's filter project importing asmesh as a package builds, and runs in the harness", () => {
  const proj = join(work, 'userproj');
  rmSync(proj, { recursive: true, force: true });
  mkdirSync(join(proj, 'filters/hello'), { recursive: true });
  mkdirSync(join(proj, 'node_modules'), { recursive: true });
  symlinkSync(repoRoot, join(proj, 'node_modules/asmesh')); // as `npm install asmesh` would
  writeFileSync(
    join(proj, 'asconfig.json'),
    JSON.stringify({
      options: {
        runtime: 'incremental',
        exportStart: '_initialize',
        optimizeLevel: 3,
        shrinkLevel: 1,
        use: ['abort', 'trace', 'seed'].map((f) => `${f}=~lib/asmesh/assembly/proxy/runtime/${f}Handler`),
      },
      targets: { hello: { outFile: 'build/hello.wasm' } },
    }),
  );
  writeFileSync(
    join(proj, 'filters/hello/index.ts'),
    `export * from 'asmesh/assembly/proxy/exports';
import { registerRootContext, RootContext, HttpContext, FilterHeadersStatus, responseHeaders } from 'asmesh/assembly/proxy';
class HelloHttp extends HttpContext {
  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    responseHeaders.replace('x-hello', 'world');
    return FilterHeadersStatus.Continue;
  }
}
class HelloRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext | null { return new HelloHttp(contextId, this); }
}
registerRootContext((contextId: u32): RootContext => new HelloRoot(contextId));
`,
  );
  const b = asmesh(['build', '--project', proj]);
  assert.equal(b.code, 0, b.stderr + b.stdout);
  assert.match(b.stdout, /built build\/hello\.wasm \(\d+ bytes\)/);
  const r = asmesh(['run', '--filter', join(proj, 'build/hello.wasm'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout).response.headers.find(([k]: [string, string]) => k === 'x-hello'),
    ['x-hello', 'world'],
  );
  // A compile error is the user's: exit 2 with asc's message.
  writeFileSync(join(proj, 'filters/hello/index.ts'), 'export function broken(): i32 { return "x"; }\n');
  const bad = asmesh(['build', '--project', proj]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /build hello failed/);
  // Bad input loses nothing: the module built before stays, and no temporary file is left beside it.
  assert.deepEqual(readdirSync(join(proj, 'build')), ['hello.wasm']);
});
