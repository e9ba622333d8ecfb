// The npm package on its own, as a new user gets it: `npm pack`, `npm install` of the tarball into a fresh
// project (registry for its dependencies), `asmesh init`, the generated test, `asmesh build --project .`,
// `asmesh envoy --filter` with requests through real Envoy, `import('asmesh/harness')` from plain Node,
// and a TypeScript typecheck with `tsc --init`'s tsconfig against the shipped .d.ts.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { envoyBinary, ENVOY_VERSION } from '../../host/envoy/install.ts';
import { send } from '../../host/envoy/launcher.ts';
import { EchoServer } from '../../host/upstream/echo.ts';
import { until } from '../../host/until.ts';
import { repoRoot } from '../harness/fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'asmesh-package-'));
const proj = join(tmp, 'proj');
const cache = join(tmp, 'cache');
let tarball = '';
let envoy = '';

/** A user's shell: no npm_* variables of the npm running this test nor its node:test context; no Envoy on PATH or in ENVOY_BIN. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^npm_/i.test(k) && !['ENVOY_BIN', 'INIT_CWD', 'NODE_TEST_CONTEXT'].includes(k)) env[k] = v;
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    // npm run puts node_modules/.bin first, and ours holds an npm 6 (a dependency of as-pect's): not the user's npm.
    .filter((d) => d && !existsSync(join(d, 'envoy')) && !d.endsWith(join('node_modules', '.bin')))
    .join(delimiter);
  env.XDG_CACHE_HOME = cache;
  return env;
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: proj, encoding: 'utf8', env: userEnv(), timeout: 120_000, ...opts });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return { code: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), out, ms: Date.now() - started };
}

const asmesh = (args: string[], opts: SpawnSyncOptions = {}) => run(join(proj, 'node_modules/.bin/asmesh'), args, opts);

before(async () => {
  for (const f of ['authz', 'steering', 'telemetry', 'example'])
    assert.ok(existsSync(join(repoRoot, `build/${f}.wasm`)), `build/${f}.wasm is missing: run npm run build`);
  // The CLI bundle and the compiled harness as `npm run build` makes them, from this tree.
  for (const [cmd, args] of [
    [process.execPath, ['scripts/bundle.mjs']],
    [process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.harness.json']],
  ] as const) {
    const r = spawnSync(cmd, args, { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
  mkdirSync(proj, { recursive: true });
  // Envoy "installed" where an installed package looks for it (the user's cache): found without ENVOY_BIN or PATH.
  envoy = await envoyBinary();
  const installed = join(cache, 'asmesh/.envoy', ENVOY_VERSION, 'envoy/_bin/envoy');
  mkdirSync(dirname(installed), { recursive: true });
  symlinkSync(envoy, installed);
});

after(() => {
  if (!process.env.ASMESH_KEEP_PACKAGE_TEST) rmSync(tmp, { recursive: true, force: true });
});

test('npm pack: the CLI bundle, the prebuilt filters, the SDK and the compiled harness; no tests, no host sources', (t) => {
  const r = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: repoRoot });
  assert.equal(r.code, 0, r.out);
  const [info] = JSON.parse(r.stdout) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
  tarball = join(tmp, info!.filename);
  const files = info!.files.map((f) => f.path);
  for (const f of [
    'dist/asmesh.mjs',
    'dist/harness/index.js',
    'dist/harness/index.d.ts',
    'build/authz.wasm',
    'build/steering.wasm',
    'build/telemetry.wasm',
    'build/example.wasm',
    'assembly/proxy/index.ts',
    'assembly/proxy/runtime.ts',
    'assembly/lib/config.ts',
    'filters/example/filter.ts',
    'envoy/sidecar.yaml',
    'package.json',
    'README.md',
  ])
    assert.ok(files.includes(f), `${f} is in the tarball`);
  for (const f of files) assert.doesNotMatch(f, /^(test|host|scripts|bench|tools)\/|__tests__|\.debug\.wasm$/, `${f} is not shipped`);
  t.diagnostic(
    `tarball ${info!.filename}: ${(info!.size / 1024).toFixed(0)} KiB packed, ${(info!.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${files.length} files`,
  );
});

test('npm install of the tarball into a fresh project: asmesh and its peer dependency assemblyscript', (t) => {
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'proj', private: true, type: 'module' }, null, 2));
  const r = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball]);
  assert.equal(r.code, 0, r.out);
  assert.ok(existsSync(join(proj, 'node_modules/assemblyscript/package.json')), 'assemblyscript installed as the peer dependency');
  t.diagnostic(`npm install: ${r.ms} ms`);
});

test('asmesh init writes a filter project whose generated test passes as generated (npm test: asmesh build --project . + node --test)', (t) => {
  const init = asmesh(['init', '--name', 'hello', '.']);
  assert.equal(init.code, 0, init.out);
  assert.match(init.stdout, /wrote into .*: asconfig\.json, filters\/hello\/config\.ts/);
  const pkg = JSON.parse(readFileSync(join(proj, 'package.json'), 'utf8'));
  assert.match(pkg.dependencies.asmesh, /asmesh-\d+\.\d+\.\d+\.tgz$/, 'the installed asmesh is kept');
  assert.equal(
    pkg.devDependencies.assemblyscript,
    JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).peerDependencies.assemblyscript,
  );
  assert.equal(pkg.scripts.build, 'asmesh build --project .');
  const again = asmesh(['init', '.']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /^asmesh init: \S*asconfig\.json: exists/);
  const r = run('npm', ['test']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.stdout, /built build\/hello\.wasm \(\d+ bytes\)/);
  assert.match(r.stdout, /# pass 2\n# fail 0\n/);
  t.diagnostic(`npm test of the generated project: ${r.ms} ms`);
  const b = asmesh(['build', '--project', '.']);
  assert.equal(b.code, 0, b.out);
  assert.match(b.stdout, /^built build\/hello\.wasm \(\d+ bytes\)\n$/);
});

/**
 * Runs `asmesh envoy ...` until it prints its listener, sends one request, waits until its output matches
 * `logged` (Envoy's log reaches it through two pipes, often after the reply), stops it with SIGINT.
 */
async function throughEnvoy(args: string[], logged?: RegExp) {
  const child = spawn(join(proj, 'node_modules/.bin/asmesh'), ['envoy', '--port', '0', '--admin-port', '0', ...args], {
    cwd: proj,
    env: userEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  try {
    const port = await until(() => /listener listener: 127\.0\.0\.1:(\d+)/.exec(out)?.[1], 30_000, `asmesh envoy to be ready:\n${out}`);
    const reply = await send(`http://127.0.0.1:${port}`, '/hello?x=1', { headers: { 'x-test': 'package' } });
    if (logged)
      await until(
        () => logged.test(out),
        10_000,
        () => `asmesh envoy to print ${logged}:\n${out}`,
      );
    return { reply, out };
  } finally {
    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
  }
}

test('asmesh envoy --filter: the generated filter in real Envoy (found in the cache of the installed package), echo upstream and --upstream', async () => {
  const logLine = /wasm log hello hello hello: hello: request \/hello\?x=1/;
  const echo = await throughEnvoy(['--filter', 'build/hello.wasm', '--plugin-config', 'config.json'], logLine);
  assert.match(echo.out, new RegExp(`Envoy ${ENVOY_VERSION.replace(/\./g, '\\.')} ready`));
  assert.equal(echo.reply.status, 200);
  assert.equal(echo.reply.headers['x-asmesh-hello'], 'hello');
  const seen = JSON.parse(echo.reply.body);
  assert.equal(seen.path, '/hello?x=1');
  assert.equal(seen.headers['x-test'], 'package');
  assert.match(echo.out, logLine);

  const mine = await EchoServer.start('mine');
  try {
    const up = await throughEnvoy([
      '--filter',
      'build/hello.wasm',
      '--plugin-config',
      'config.json',
      '--upstream',
      `127.0.0.1:${mine.port}`,
    ]);
    assert.equal(up.reply.headers['x-served-by'], 'mine');
    assert.equal(up.reply.headers['x-asmesh-hello'], 'hello');
    assert.equal(mine.requests.length, 1);
  } finally {
    await mine.close();
  }
  // Envoy's run files went to the user's cache, not into node_modules.
  assert.ok(existsSync(join(cache, 'asmesh/.tmp/envoy')));
  assert.ok(!existsSync(join(proj, 'node_modules/asmesh/.tmp')));

  writeFileSync(join(proj, 'bad.json'), '{"value": "x"}');
  const bad = asmesh(['envoy', '--port', '0', '--admin-port', '0', '--filter', 'build/hello.wasm', '--plugin-config', 'bad.json']);
  assert.equal(bad.code, 2, bad.out);
  assert.match(bad.stderr, /^asmesh envoy: bad\.json: the filter hello rejected it: hello: config \$\.header: required\n$/);
});

test("plain Node: import('asmesh/harness') runs the package's prebuilt example filter", () => {
  const script = `
    import { loadPlugin } from 'asmesh/harness';
    import { fileURLToPath } from 'node:url';
    const wasm = fileURLToPath(import.meta.resolve('asmesh/build/example.wasm'));
    const plugin = await loadPlugin(wasm, { config: { header: 'x-from', value: 'package' } });
    const r = await plugin.http({ headers: { ':method': 'GET', ':path': '/', ':authority': 'a' } });
    console.log(JSON.stringify(r.response.headers.find(([k]) => k === 'x-from')));`;
  const r = run(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.stdout, '["x-from","package"]\n');
});

test("TypeScript: tsc --init's tsconfig typechecks a harness user against the shipped .d.ts (typed, not any)", () => {
  const dir = join(proj, 'ts');
  mkdirSync(dir, { recursive: true });
  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
  const init = run(process.execPath, [tsc, '--init'], { cwd: dir });
  assert.equal(init.code, 0, init.out);
  writeFileSync(
    join(dir, 'check.ts'),
    `import { loadChain, loadPlugin, type HttpResult, type Plugin } from 'asmesh/harness';
const plugin: Plugin = await loadPlugin('../build/hello.wasm', { config: { header: 'x-a', value: 'b' }, rootId: 'hello' });
const r: HttpResult = await plugin.http({ headers: { ':method': 'GET', ':path': '/', ':authority': 'a' } });
const status: number = r.response.status;
// @ts-expect-error a status is a number: the declarations are typed
const wrong: string = r.response.status;
const chain = await loadChain({ filters: [{ name: 'hello', wasm: '../build/hello.wasm', config: {} }], clusters: {}, router: { defaultCluster: 'c' } });
const res = await chain.request({ method: 'GET', path: '/' });
export const out = [status, wrong, res.status];
`,
  );
  // As generated (skipLibCheck on), and checking the .d.ts themselves too.
  for (const extra of [[], ['--skipLibCheck', 'false']]) {
    const r = run(process.execPath, [tsc, '--noEmit', '-p', '.', ...extra], { cwd: dir });
    assert.equal(r.code, 0, `tsc ${extra.join(' ')}: ${r.out}`);
  }
});

test('vitest: a harness test of the generated filter runs under vitest (ESM, the shipped .d.ts), passing and failing as it should', (t) => {
  const dir = join(proj, 'vt');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'vt', private: true, type: 'module' }));
  // vitest 3 runs on Node 20 (vitest 4 wants 20.19+); from the npm registry, as a user's project gets it.
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', 'vitest@3.2.7', tarball], {
    cwd: dir,
  });
  assert.equal(install.code, 0, install.out);
  const spec = (expected: string) => `import { expect, test } from 'vitest';
import { loadPlugin } from 'asmesh/harness';
test('the filter adds its header', async () => {
  const plugin = await loadPlugin('../build/hello.wasm', { config: { header: 'x-a', value: 'b' }, rootId: 'hello' });
  const r = await plugin.http({ headers: { ':method': 'GET', ':path': '/', ':authority': 'a' } });
  expect(r.response.headers.find(([k]) => k === 'x-a')?.[1]).toBe(${JSON.stringify(expected)});
});
`;
  const vitest = join(dir, 'node_modules/vitest/vitest.mjs');
  writeFileSync(join(dir, 'hello.test.ts'), spec('b'));
  // No colours (vitest colours its output under CI=true even without a TTY).
  const env = { ...userEnv(), NO_COLOR: '1', FORCE_COLOR: '0' };
  const pass = run(process.execPath, [vitest, 'run', '--reporter', 'verbose'], { cwd: dir, env });
  assert.equal(pass.code, 0, pass.out);
  assert.match(pass.out, /✓ hello\.test\.ts > the filter adds its header/);
  assert.match(pass.out, /Tests {2}1 passed \(1\)/);
  // The same test with a wrong expectation fails: vitest really ran the filter.
  writeFileSync(join(dir, 'hello.test.ts'), spec('c'));
  const fail = run(process.execPath, [vitest, 'run'], { cwd: dir, env });
  assert.equal(fail.code, 1, fail.out);
  assert.match(fail.out, /expected 'b' to be 'c'/);
  t.diagnostic(`npm install vitest: ${install.ms} ms`);
});
