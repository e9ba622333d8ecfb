// `asmesh init DIR`: a filter project. Its filter is asmesh's filters/example (generated from it, never
// a hand-kept copy: imports become package paths `asmesh/assembly/...`, "example" becomes the name);
// its asconfig.json is asmesh's own with the runtime hooks as package paths; a node:test harness test;
// npm scripts build, test and envoy. package.json is created, or completed when it exists.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { FILTERS } from '../../filters/manifest.ts';
import { repoRoot } from '../paths.ts';
import { InputError } from './errors.ts';

const TEMPLATE = 'example';

export interface InitResult {
  dir: string;
  name: string;
  files: string[];
}

/** `example` -> name, `Example` -> Name in the template's text. */
function rename(text: string, name: string): string {
  const cap = name[0]!.toUpperCase() + name.slice(1);
  return text.replaceAll(TEMPLATE, name).replaceAll('Example', cap);
}

/** The template filter's sources with package imports: `../../assembly/x` -> `asmesh/assembly/x`. */
function filterSources(name: string): Record<string, string> {
  const dir = join(repoRoot, 'filters', TEMPLATE);
  const out: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(dir, file), 'utf8').replace(/(from |import )'\.\.\/\.\.\/assembly\//g, "$1'asmesh/assembly/");
    if (/'\.\.?\//.test(text.replace(/'\.\/[\w-]+'/g, '')))
      throw new Error(`filters/${TEMPLATE}/${file}: an import outside the filter's folder and the SDK`);
    out[`filters/${name}/${file}`] = rename(text, name);
  }
  return out;
}

/** asmesh's asconfig.json with the runtime hooks as package paths (~lib/asmesh/...). */
function asconfig(): string {
  const own = JSON.parse(readFileSync(join(repoRoot, 'asconfig.json'), 'utf8')) as { options: { use: string[] } };
  own.options.use = own.options.use.map((u) => u.replace('=assembly/', '=~lib/asmesh/assembly/'));
  return JSON.stringify(own, null, 2) + '\n';
}

function harnessTest(name: string, config: Record<string, unknown>): string {
  const header = String(config.header);
  return `// The ${name} filter in asmesh's host harness (proxy-wasm as Envoy 1.40 runs it). npm test builds it first.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadPlugin } from 'asmesh/harness';

const wasm = fileURLToPath(new URL('../build/${name}.wasm', import.meta.url));
const config = JSON.parse(readFileSync(new URL('../config.json', import.meta.url), 'utf8'));
const get = (path) => ({ headers: { ':method': 'GET', ':path': path, ':authority': 'example.test' } });

test('adds the configured response header and logs the request', async () => {
  const plugin = await loadPlugin(wasm, { config, rootId: '${name}', vmId: '${name}' });
  const r = await plugin.http(get('/hello'));
  assert.equal(r.response.status, 200);
  assert.deepEqual(
    r.response.headers.find(([k]) => k === ${JSON.stringify(header)}),
    [${JSON.stringify(header)}, config.value],
  );
  assert.deepEqual(
    r.logs.map((l) => \`\${l.level} \${l.message}\`),
    ['info ${name}: request /hello'],
  );
  assert.equal(plugin.metric('asmesh_${name}_requests_total'), 1);
});

test('a configuration without header is rejected at configure, naming the field', async () => {
  await assert.rejects(loadPlugin(wasm, { config: { value: 'x' } }), /${name}: config \\$\\.header: required/);
});
`;
}

/** The package.json of the project: scripts added (kept when present), asmesh and assemblyscript as dev dependencies. */
function packageJson(path: string, dir: string, name: string, version: string): string {
  let pkg: Record<string, unknown> = {
    name: basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, '-'),
    private: true,
    type: 'module',
  };
  if (existsSync(path)) {
    try {
      pkg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new InputError(`${path}: not JSON: ${(e as Error).message}`);
    }
  }
  const scripts = (pkg.scripts ?? {}) as Record<string, string>;
  const wanted: Record<string, string> = {
    build: 'asmesh build --project .',
    test: `asmesh build --project . && node --test test/${name}.test.mjs`,
    envoy: `asmesh envoy --filter build/${name}.wasm --plugin-config config.json`,
  };
  for (const [k, v] of Object.entries(wanted))
    if (!scripts[k] || scripts[k] === 'echo "Error: no test specified" && exit 1') scripts[k] = v;
  const own = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
  const deps = { ...(pkg.dependencies as object) } as Record<string, string>;
  const dev = { ...(pkg.devDependencies as object) } as Record<string, string>;
  if (!deps.asmesh && !dev.asmesh) dev.asmesh = `^${version}`;
  for (const [k, v] of Object.entries(own.peerDependencies)) if (!deps[k] && !dev[k]) dev[k] = v;
  return JSON.stringify({ ...pkg, type: pkg.type ?? 'module', scripts, devDependencies: dev }, null, 2) + '\n';
}

export function initProject(target: string, opts: { name?: string; version: string }): InitResult {
  const name = opts.name ?? TEMPLATE;
  if (!/^[a-z][a-z0-9_]*$/.test(name))
    throw new InputError(`--name: ${JSON.stringify(name)}: lower-case letters, digits, _ (an identifier)`);
  const dir = resolve(target);
  const template = FILTERS.find((f) => f.name === TEMPLATE)!;
  const config = JSON.parse(rename(JSON.stringify(template.defaultConfig), name)) as Record<string, unknown>;
  const files: Record<string, string> = {
    'asconfig.json': asconfig(),
    ...filterSources(name),
    'config.json': JSON.stringify(config, null, 2) + '\n',
    [`test/${name}.test.mjs`]: harnessTest(name, config),
    '.gitignore': 'node_modules/\nbuild/\n',
  };
  for (const file of Object.keys(files))
    if (existsSync(join(dir, file))) throw new InputError(`${join(dir, file)}: exists (asmesh init writes a new project)`);
  const pkgPath = join(dir, 'package.json');
  files['package.json'] = packageJson(pkgPath, dir, name, opts.version);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return { dir, name, files: Object.keys(files) };
}
