// `asmesh image` and `asmesh wasmplugin` against real tools: images pushed to Debian's docker-registry on
// loopback and pulled back by skopeo, read the way Istio's Wasm image fetcher reads them, and WasmPlugin
// resources checked against Istio's CRD schema (test/data/istio/wasmplugin-crd.yaml, vendored).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../harness/fixtures.ts';
import { runChild, type ChildResult } from '../child.ts';
import { portOutsideEphemeralRange } from '../../host/fixtures/ports.ts';
import { istioFile } from '../../host/fixtures/istio.ts';
import { crdErrors } from './k8s-schema.ts';
import { debianTool, REGISTRY_USER, startRegistry, type Registry, type TokenLog } from './registry.ts';
import { filterManifest } from '../../filters/manifest.ts';
import { istioPilot, workloadDocs } from '../../host/envoy/pilot.ts';
import { validateBootstrap } from '../../host/envoy/launcher.ts';

const cli = join(repoRoot, 'dist/asmesh.mjs');
const wasmFile = (f: string) => join(repoRoot, 'build', `${f}.wasm`);
let registry: Registry;
let work: string;
/** The wasmplugin test's output and the digests it pinned, for the pilot test after it. */
let wasmPluginYaml = '';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd: repoRoot, encoding: 'utf8', timeout: 120_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const asmesh = (args: string[], env?: NodeJS.ProcessEnv) => run(process.execPath, [cli, ...args], env);
/** As run(), without blocking this process's event loop (the token server of the registry runs here). */
function runAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildResult> {
  return runChild(cmd, args, { cwd: repoRoot, env });
}
const asmeshAsync = (args: string[], env?: NodeJS.ProcessEnv) => runAsync(process.execPath, [cli, ...args], env);

function skopeo(args: string[]) {
  const r = run('skopeo', args);
  assert.equal(r.code, 0, `skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function skopeoAsync(args: string[]): Promise<string> {
  const r = await runAsync('skopeo', args);
  assert.equal(r.code, 0, `skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

before(async () => {
  for (const tool of ['docker-registry', 'skopeo'])
    assert.ok(debianTool(tool), `${tool} is not installed: apt-get install ${tool} (.ci/run installs it)`);
  for (const f of ['steering', 'authz', 'telemetry']) assert.ok(existsSync(wasmFile(f)), `${wasmFile(f)}: run npm run build`);
  const b = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  work = mkdtempSync(join(tmpdir(), 'asmesh-image-'));
  registry = await startRegistry();
});

after(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Manifest {
  mediaType?: string;
  config: { mediaType: string; digest: string };
  layers: { mediaType: string; digest: string; size: number }[];
  annotations?: Record<string, string>;
}

/**
 * What istio/istio pkg/wasm/imagefetcher.go does with a pulled image, check for check: the manifest's
 * content type must be an image manifest (remote.Descriptor.Image()); Docker schema 2 -> the last layer
 * must be application/vnd.docker.image.rootfs.diff.tar.gzip; else the last layer
 * application/vnd.oci.image.layer.v1.tar+gzip (compat) or else exactly two layers, one
 * application/vnd.module.wasm.content.layer.v1+wasm (oci); a tar.gz layer yields the entry whose base name
 * is plugin.wasm (unpacked here by GNU tar). Returns the module and which branch took it.
 */
function istioExtract(contentType: string, m: Manifest, blob: (digest: string) => string): { wasm: Buffer; branch: string } {
  assert.ok(
    ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'].includes(contentType),
    `Descriptor.Image() wants an image manifest, got ${contentType}`,
  );
  const tarGz = (path: string) => {
    const list = run('tar', ['-tzf', path]);
    assert.equal(list.code, 0, list.stderr);
    const entry = list.stdout.split('\n').find((n) => n.split('/').pop() === 'plugin.wasm');
    assert.ok(entry, `plugin.wasm not in the layer: ${list.stdout}`);
    return run('sh', ['-c', `tar -xzOf '${path}' '${entry}' | base64 -w0`]).stdout;
  };
  const last = m.layers.at(-1)!;
  if (m.mediaType === 'application/vnd.docker.distribution.manifest.v2+json') {
    assert.equal(last.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    return { wasm: Buffer.from(tarGz(blob(last.digest)), 'base64'), branch: 'extractDockerImage' };
  }
  if (last.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip')
    return { wasm: Buffer.from(tarGz(blob(last.digest)), 'base64'), branch: 'extractOCIStandardImage' };
  assert.equal(m.layers.length, 2, 'extractOCIArtifactImage: number of layers must be 2');
  const layer = m.layers.find((l) => l.mediaType === 'application/vnd.module.wasm.content.layer.v1+wasm');
  assert.ok(layer, 'extractOCIArtifactImage: no application/vnd.module.wasm.content.layer.v1+wasm layer');
  return { wasm: readFileSync(blob(layer.digest)), branch: 'extractOCIArtifactImage' };
}

const VARIANTS = [
  { variant: 'compat', branch: 'extractOCIStandardImage', pullTo: 'oci' },
  // skopeo writing an oci: layout converts a Docker manifest to OCI (new digest); dir: keeps it as pulled.
  { variant: 'docker', branch: 'extractDockerImage', pullTo: 'dir' },
  { variant: 'oci', branch: 'extractOCIArtifactImage', pullTo: 'oci' },
] as const;

for (const { variant, branch, pullTo } of VARIANTS) {
  test(`image --variant ${variant}: pushed to docker-registry, pulled by skopeo with the same digest, read as Istio's ${branch} does: plugin.wasm byte-identical`, async () => {
    const wasm = readFileSync(wasmFile('authz'));
    const ref = `${registry.host}/asmesh/authz-${variant}:0.1.0`;
    const push = asmesh(['image', wasmFile('authz'), '--push', ref, '--insecure', '--variant', variant]);
    assert.equal(push.code, 0, push.stderr);
    const digest = push.stdout.trim();
    assert.match(digest, /^sha256:[a-f0-9]{64}$/);

    // The registry serves it as go-containerregistry asks for it (Accept: the manifest types).
    const r = await fetch(`http://${registry.host}/v2/asmesh/authz-${variant}/manifests/0.1.0`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-content-digest'), digest);
    const served = Buffer.from(await r.arrayBuffer());
    assert.equal(sha256(served), digest);

    // skopeo (containers/image) sees the same digest and pulls every blob, verifying each.
    assert.equal(sha256(Buffer.from(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]))), digest);
    // (skopeo inspect without --raw refuses artifacts: "unsupported image-specific operation on artifact")
    if (variant !== 'oci') assert.equal(JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${ref}`])).Digest, digest);
    const dir = join(work, `pulled-${variant}`);
    skopeo(['copy', '--src-tls-verify=false', `docker://${ref}`, pullTo === 'oci' ? `oci:${dir}:0.1.0` : `dir:${dir}`]);
    const manifestBytes =
      pullTo === 'oci'
        ? (() => {
            const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
            assert.equal(index.manifests[0].digest, digest, 'the pulled layout holds the pushed manifest unchanged');
            return readFileSync(join(dir, 'blobs/sha256', digest.slice(7)));
          })()
        : readFileSync(join(dir, 'manifest.json'));
    assert.equal(sha256(manifestBytes), digest);
    const blob = (d: string) => {
      const path = pullTo === 'oci' ? join(dir, 'blobs/sha256', d.slice(7)) : join(dir, d.slice(7));
      assert.equal(sha256(readFileSync(path)), d, `blob ${d}`);
      return path;
    };
    const m = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
    assert.equal(m.mediaType, r.headers.get('content-type'));
    for (const d of [m.config, ...m.layers]) blob(d.digest);

    const got = istioExtract(r.headers.get('content-type')!, m, blob);
    assert.equal(got.branch, branch);
    assert.ok(got.wasm.equals(wasm), 'plugin.wasm is the module, byte for byte');

    if (variant === 'compat') {
      // solo-io/wasm spec-compat.md: exactly one layer and the variant annotation; a valid image config.
      assert.equal(m.layers.length, 1);
      assert.deepEqual(m.annotations, { 'module.wasm.image/variant': 'compat' });
      assert.equal(m.config.mediaType, 'application/vnd.oci.image.config.v1+json');
      const config = JSON.parse(readFileSync(blob(m.config.digest), 'utf8')) as { rootfs: { diff_ids: string[] } };
      const tar = run('sh', ['-c', `gzip -dc '${blob(m.layers[0].digest)}' | sha256sum`]).stdout.split(' ')[0];
      assert.deepEqual(config.rootfs.diff_ids, [`sha256:${tar}`]);
    }
    if (variant === 'oci') {
      assert.equal(m.config.mediaType, 'application/vnd.module.wasm.config.v1+json');
      const runtime = JSON.parse(readFileSync(blob(m.config.digest), 'utf8'));
      assert.deepEqual(runtime, { type: 'envoy_proxy', abiVersions: ['v0.2.1'], config: { rootIds: ['authz'] } });
    }
  });
}

test('image -o DIR: an OCI layout skopeo reads and copies to the registry unchanged; the same digest as a push (reproducible)', () => {
  const dir = join(work, 'layout');
  const out = asmesh(['image', wasmFile('telemetry'), '-o', dir, '--tag', '0.1.0']);
  assert.equal(out.code, 0, out.stderr);
  const digest = out.stdout.trim();
  assert.equal(JSON.parse(skopeo(['inspect', `oci:${dir}:0.1.0`])).Digest, digest);
  const ref = `${registry.host}/asmesh/telemetry-layout:0.1.0`;
  skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${dir}:0.1.0`, `docker://${ref}`]);
  assert.equal(JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${ref}`])).Digest, digest);
  const push = asmesh(['image', wasmFile('telemetry'), '--push', `${registry.host}/asmesh/telemetry:0.1.0`, '--insecure']);
  assert.equal(push.code, 0, push.stderr);
  assert.equal(push.stdout.trim(), digest, 'one module, one digest');
  const again = asmesh(['image', wasmFile('telemetry'), '-o', join(work, 'layout2')]);
  assert.equal(again.stdout.trim(), digest);
});

for (const auth of ['htpasswd', 'token'] as const) {
  test(`image --push to a registry that asks for credentials (${auth === 'htpasswd' ? 'HTTP Basic' : "Docker's token protocol"}): --creds or the auth file, refused without`, async () => {
    const tokens: TokenLog = { requests: [] };
    const secured = await startRegistry(auth, tokens);
    try {
      const ref = `${secured.host}/asmesh/authz:auth`;
      // No auth file of the machine's user is read: an empty DOCKER_CONFIG and no REGISTRY_AUTH_FILE / XDG_RUNTIME_DIR.
      const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: join(work, `no-docker-${auth}`) };
      delete env.REGISTRY_AUTH_FILE;
      delete env.XDG_RUNTIME_DIR;
      const creds = `${REGISTRY_USER.username}:${REGISTRY_USER.password}`;
      const refusals: [string[], RegExp][] = [
        [
          [],
          auth === 'htpasswd'
            ? /HTTP 401 \(Basic realm="asmesh-test"\): the registry wants credentials; give --creds/
            : /HTTP 401 \(Bearer realm=.*\): the registry wants credentials \(an anonymous token was not enough\); give --creds/,
        ],
        [
          ['--creds', `${REGISTRY_USER.username}:wrong`],
          auth === 'htpasswd'
            ? /HTTP 401 .*the credentials were refused/
            : /the token realm http:\/\/127\.0\.0\.1:\d+\/token answered HTTP 401/,
        ],
      ];
      for (const [extra, message] of refusals) {
        const r = await asmeshAsync(['image', wasmFile('authz'), '--push', ref, '--insecure', ...extra], env);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
        assert.equal(r.stdout, '');
      }
      const push = await asmeshAsync(['image', wasmFile('authz'), '--push', ref, '--insecure', '--creds', creds], env);
      assert.equal(push.code, 0, push.stderr);
      const digest = push.stdout.trim();
      assert.match(digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(JSON.parse(await skopeoAsync(['inspect', '--tls-verify=false', '--creds', creds, `docker://${ref}`])).Digest, digest);
      // docker login's file: auths[host].auth = base64(user:pass), found through DOCKER_CONFIG.
      const dockerConfig = join(work, `docker-${auth}`);
      mkdirSync(dockerConfig, { recursive: true });
      writeFileSync(
        join(dockerConfig, 'config.json'),
        JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from(creds).toString('base64') } } }),
      );
      const fromFile = await asmeshAsync(['image', wasmFile('steering'), '--push', `${secured.host}/asmesh/steering:auth`, '--insecure'], {
        ...env,
        DOCKER_CONFIG: dockerConfig,
      });
      assert.equal(fromFile.code, 0, fromFile.stderr);
      assert.equal(
        JSON.parse(await skopeoAsync(['inspect', '--tls-verify=false', '--creds', creds, `docker://${secured.host}/asmesh/steering:auth`]))
          .Digest,
        fromFile.stdout.trim(),
      );
      if (auth === 'token') {
        // One token per push (the first challenge's), asked for the repository's pull,push scope with the user's credentials.
        const ours = tokens.requests.filter((t) => t.scope.startsWith('repository:asmesh/') && t.user === REGISTRY_USER.username);
        assert.ok(
          ours.some((t) => t.scope === 'repository:asmesh/authz:pull,push'),
          JSON.stringify(tokens.requests),
        );
        assert.ok(
          ours.some((t) => t.scope === 'repository:asmesh/steering:pull,push'),
          JSON.stringify(tokens.requests),
        );
      }
      // Bad credentials input: exit 2, one line naming the flag or the file.
      const badFile = join(work, `bad-auth-${auth}.json`);
      writeFileSync(badFile, '{"auths": ');
      for (const [args, e, message] of [
        [['--creds', 'nocolon'], env, /^asmesh image: --creds: expected USER:PASS$/m],
        [[], { ...env, REGISTRY_AUTH_FILE: badFile }, /bad-auth-\w+\.json: not a registry auth file/],
      ] as [string[], NodeJS.ProcessEnv, RegExp][]) {
        const r = await asmeshAsync(['image', wasmFile('authz'), '--push', ref, '--insecure', ...args], e);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      }
    } finally {
      await secured.stop();
    }
  });
}

test('image: bad inputs exit 2 with one line naming the file or flag; an unreachable registry exits 1 with one line', async () => {
  const notWasm = join(work, 'not.wasm');
  writeFileSync(notWasm, 'hello');
  const port = await portOutsideEphemeralRange(); // nothing listens there
  const cases: [string[], RegExp, number][] = [
    [['image', join(work, 'nosuch.wasm'), '-o', join(work, 'x')], /nosuch\.wasm: cannot read the filter module: ENOENT/, 2],
    [['image', notWasm, '-o', join(work, 'x')], /not\.wasm: not a WebAssembly module/, 2],
    [['image', wasmFile('authz'), '--push', 'asmesh/authz:1'], /--push: "asmesh\/authz:1" is not HOST\[:PORT\]\/REPO/, 2],
    [['image', wasmFile('authz'), '--push', `${registry.host}/Asmesh/authz`], /is not HOST/, 2],
    [['image', wasmFile('authz'), '--push', `${registry.host}/a:b:c`], /is not HOST/, 2],
    [['image', wasmFile('authz')], /give one of -o DIR or --push REF/, 2],
    [['image', wasmFile('authz'), '-o', join(work, 'x'), '--variant', 'zip'], /--variant: "zip" is not one of compat, docker, oci/, 2],
    [['image', wasmFile('authz'), '--push', `127.0.0.1:${port}/a/b:1`, '--insecure'], /cannot reach the registry: ECONNREFUSED/, 1],
  ];
  for (const [args, message, code] of cases) {
    const r = asmesh(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.equal(r.stdout, '');
  }
  assert.ok(!existsSync(join(work, 'x')), 'nothing written on bad input');
});

const crd = parse(readFileSync(join(repoRoot, 'test/data/istio/wasmplugin-crd.yaml'), 'utf8'));
const ISTIO_INPUTS = [
  'virtualservice-canary.yaml',
  'destinationrule-subsets.yaml',
  'requestauthentication-httpbin.yaml',
  'authorizationpolicy-httpbin.yaml',
].map(istioFile);

test('wasmplugin: one WasmPlugin per filter and side, valid against Istio CRD schema, pluginConfig = translate, url/sha256 = the pushed image', () => {
  const images: string[] = [];
  const digests: Record<string, string> = {};
  for (const f of ['steering', 'authz', 'telemetry']) {
    const ref = `${registry.host}/asmesh/${f}:0.1.0`;
    const push = asmesh(['image', wasmFile(f), '--push', ref, '--insecure']);
    assert.equal(push.code, 0, push.stderr);
    digests[f] = push.stdout.trim();
    images.push('--image', `${f}=${ref}@${digests[f]}`);
  }
  const workload = ['--app', 'httpbin', '--version', 'v1', '--namespace', 'foo'];
  const r = asmesh(['wasmplugin', ...ISTIO_INPUTS, ...workload, ...images]);
  assert.equal(r.code, 0, r.stderr);
  wasmPluginYaml = r.stdout;
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, any>);
  const translated = JSON.parse(asmesh(['translate', '--json', ...ISTIO_INPUTS, ...workload]).stdout);
  const sideConfig = (filter: string, side: string) => {
    const listener = translated.envoy.static_resources.listeners.find((l: { name: string }) => l.name === side);
    const entry = listener.filter_chains[0].filters[0].typed_config.http_filters.find(
      (h: { name: string }) => h.name === `asmesh.${filter}`,
    );
    return JSON.parse(entry.typed_config.config.configuration.value);
  };
  assert.deepEqual(
    docs.map((d) => [d.metadata.name, d.spec.match[0].mode]),
    [
      ['asmesh-httpbin-steering', 'CLIENT'],
      ['asmesh-httpbin-authz', 'SERVER'],
      ['asmesh-httpbin-telemetry-outbound', 'CLIENT'],
      ['asmesh-httpbin-telemetry-inbound', 'SERVER'],
    ],
  );
  for (const d of docs) {
    assert.deepEqual(crdErrors(crd, d), [], d.metadata.name);
    const s = d.spec;
    const side = s.match[0].mode === 'CLIENT' ? 'outbound' : 'inbound';
    assert.equal(s.url, `oci://${registry.host}/asmesh/${s.pluginName}:0.1.0`);
    assert.equal(
      `sha256:${s.sha256}`,
      digests[s.pluginName],
      'Istio compares sha256 with the manifest digest (imagefetcher.go: img.Digest().Hex)',
    );
    assert.equal(s.phase, filterManifest(s.pluginName)!.wasmPluginPhase);
    assert.equal(s.failStrategy, 'FAIL_CLOSE');
    assert.deepEqual(s.selector, { matchLabels: { app: 'httpbin', version: 'v1' } });
    assert.equal(d.metadata.namespace, 'foo');
    assert.equal(s.priority, undefined, 'no two of our plugins share a phase and side');
    const expected = sideConfig(s.pluginName, side);
    if (s.pluginName === 'authz') {
      // The one change: the JWKS cluster named as an Istio sidecar names it.
      for (const rule of expected.jwtRules) rule.asmesh = { jwksCluster: 'outbound|443||www.googleapis.com' };
    }
    assert.deepEqual(s.pluginConfig, expected, `${d.metadata.name}: pluginConfig`);
  }
  assert.match(r.stderr, /through Istio's cluster outbound\|443\|\|www\.googleapis\.com/);
  assert.match(r.stderr, /steering picks a cluster by writing x-asmesh-cluster; Istio's routes do not read it/);

  const bad = [
    [['--image', 'steering=127.0.0.1:5000/asmesh/steering:0.1.0'], /names no digest/],
    [['--image', 'nosuch=127.0.0.1:5000/a@' + digests.authz], /nosuch is not a filter translate mounts here/],
    [images.slice(0, 2), /--image authz=REF@sha256:\.\.\. is missing/],
    [['--image', 'steering'], /is not FILTER=HOST/],
  ] as const;
  for (const [args, message] of bad) {
    const b = asmesh(['wasmplugin', ...ISTIO_INPUTS, ...workload, ...args]);
    assert.equal(b.code, 2, b.stderr);
    assert.match(b.stderr, message);
    assert.equal(b.stderr.trim().split('\n').length, 1, b.stderr);
  }
});

test("Istio's pilot takes the WasmPlugins: chain positions by phase, ECDS Wasm config = url/sha256/root id/pluginConfig; stock Envoy accepts it with the pulled plugin.wasm", async () => {
  assert.ok(wasmPluginYaml, 'the wasmplugin test ran first');
  const docs = parseAllDocuments(wasmPluginYaml).map((d) => d.toJS() as Record<string, any>);
  // The workload the selector names: a ServiceEntry endpoint with the proxy's IP and labels.
  const proxy = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' }, serviceAccount: 'httpbin', ip: '10.0.0.1' };
  const workload = join(work, 'httpbin-workload.yaml');
  writeFileSync(
    workload,
    workloadDocs({ ...proxy, name: 'httpbin', host: 'httpbin.foo.svc.cluster.local', port: { number: 80, name: 'http', protocol: 'HTTP' } })
      .map((d) => stringify(d))
      .join('---\n'),
  );
  const wp = join(work, 'wasmplugins.yaml');
  writeFileSync(wp, wasmPluginYaml);
  // RequestAuthentication and AuthorizationPolicy too, so Istio's own jwt_authn and rbac mark the phases.
  const pilot = await istioPilot(
    { files: [workload, wp, istioFile('requestauthentication-httpbin.yaml'), istioFile('authorizationpolicy-httpbin.yaml')] },
    proxy,
  );
  assert.deepEqual(pilot.warnings, []);
  const ecds = (name: string) => `extensions.istio.io/trafficextension/foo.${name}~istio-translated-wasmplugin`;
  const chains = (direction: string) =>
    pilot.listeners
      .filter((l) => l.traffic_direction === direction || (direction === 'OUTBOUND' && l.name === '0.0.0.0_80'))
      .flatMap((l) => l.filter_chains ?? [])
      .flatMap((c: any) => c.filters ?? [])
      .filter((f: any) => f.typed_config?.http_filters)
      .map((f: any) => (f.typed_config.http_filters as { name: string }[]).map((h) => h.name));
  const inbound = chains('INBOUND');
  assert.ok(inbound.length > 0, 'inbound HTTP chains');
  for (const names of inbound) {
    const at = (n: string) => names.indexOf(n);
    // AUTHZ: after Istio's authn (jwt_authn), before its authz (rbac); STATS: after them.
    assert.ok(at('envoy.filters.http.jwt_authn') < at(ecds('asmesh-httpbin-authz')), names.join(' > '));
    assert.ok(at(ecds('asmesh-httpbin-authz')) < at('envoy.filters.http.rbac'), names.join(' > '));
    assert.ok(at('envoy.filters.http.rbac') < at(ecds('asmesh-httpbin-telemetry-inbound')), names.join(' > '));
    assert.equal(at(ecds('asmesh-httpbin-steering')), -1, 'steering is CLIENT only');
  }
  const outbound = chains('OUTBOUND').find((names) => names.includes(ecds('asmesh-httpbin-steering')));
  assert.ok(outbound, 'steering on an outbound chain');
  assert.ok(outbound.includes(ecds('asmesh-httpbin-telemetry-outbound')) && !outbound.includes(ecds('asmesh-httpbin-authz')));

  assert.deepEqual(pilot.extensions.map((e) => e.name).sort(), docs.map((d) => ecds(d.metadata.name)).sort());
  for (const d of docs) {
    const ext = pilot.extensions.find((e) => e.name === ecds(d.metadata.name))!;
    const wasm = ext.typed_config.config;
    assert.equal(wasm.root_id, d.spec.pluginName);
    assert.equal(wasm.vm_config.code.remote.http_uri.uri, d.spec.url);
    assert.equal(wasm.vm_config.code.remote.sha256, d.spec.sha256);
    assert.equal(wasm.failure_policy, 'FAIL_CLOSED');
    assert.deepEqual(JSON.parse(wasm.configuration.value), d.spec.pluginConfig, `${d.metadata.name}: the configuration the filter gets`);

    // As istio-agent does after pulling the image: the remote code becomes the local plugin.wasm.
    const ref = d.spec.url.slice('oci://'.length);
    const dir = join(work, `agent-${d.metadata.name}`);
    skopeo(['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}:pulled`]);
    const manifest = JSON.parse(readFileSync(join(dir, 'blobs/sha256', d.spec.sha256), 'utf8')) as Manifest;
    const { wasm: module } = istioExtract(manifest.mediaType!, manifest, (x) => join(dir, 'blobs/sha256', x.slice(7)));
    writeFileSync(join(dir, 'plugin.wasm'), module);
    const local = structuredClone(ext.typed_config);
    local.config.vm_config.code = { local: { filename: join(dir, 'plugin.wasm') } };
    const ok = await validateBootstrap(wasmBootstrap(local));
    assert.ok(ok.ok, `${d.metadata.name}: ${ok.output}`);
  }
  // The control: Envoy's validation runs the filter's configure, so a configuration it rejects fails here.
  const authz = structuredClone(pilot.extensions.find((e) => e.name === ecds('asmesh-httpbin-authz'))!.typed_config);
  authz.config.vm_config.code = { local: { filename: wasmFile('authz') } };
  authz.config.configuration.value = JSON.stringify({ jwtRules: 5, policies: [] });
  const rejected = await validateBootstrap(wasmBootstrap(authz));
  assert.equal(rejected.ok, false, 'a rejected configuration fails validation');
  assert.match(rejected.output, /authz: config \$\.jwtRules/);
});

/** A listener with one Wasm filter (Istio's ECDS typed_config) before the router. */
function wasmBootstrap(wasm: unknown) {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [
        {
          name: 'l',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'l',
                    route_config: {
                      virtual_hosts: [
                        { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200 } }] },
                      ],
                    },
                    http_filters: [
                      { name: 'istio-ecds', typed_config: wasm },
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

test('the CRD check rejects what the API server would (so the validation above can fail)', () => {
  const ok = {
    apiVersion: 'extensions.istio.io/v1alpha1',
    kind: 'WasmPlugin',
    metadata: { name: 'p', namespace: 'default' },
    spec: { url: 'oci://r.example/a:1', selector: { matchLabels: { app: 'a' } }, pluginConfig: { any: { thing: [1] } } },
  };
  assert.deepEqual(crdErrors(crd, ok), []);
  const broken: [string, (o: any) => void, RegExp][] = [
    ['unknown field', (o) => (o.spec.pluginconfig = {}), /\.spec\.pluginconfig: unknown field/],
    ['bad enum', (o) => (o.spec.failStrategy = 'FAIL_CLOSED'), /not in enum/],
    ['sha256 with prefix', (o) => (o.spec.sha256 = 'sha256:' + 'a'.repeat(64)), /does not match/],
    ['no url', (o) => delete o.spec.url, /\.spec\.url: required/],
    ['bad scheme', (o) => (o.spec.url = 'ftp://x/y'), /url must have schema/],
    ['selector and targetRef', (o) => (o.spec.targetRef = { kind: 'Gateway', name: 'g' }), /only one of targetRefs or selector/],
    ['wildcard label', (o) => (o.spec.selector.matchLabels.app = 'a*'), /wildcard not allowed/],
    ['priority not int32', (o) => (o.spec.priority = 2 ** 31), /not an int32/],
    ['pluginConfig not an object', (o) => (o.spec.pluginConfig = 'x'), /string, schema wants object/],
    ['bad name', (o) => (o.metadata.name = 'service_a'), /metadata\.name/],
    ['wrong version', (o) => (o.apiVersion = 'extensions.istio.io/v1'), /not served/],
  ];
  for (const [what, mutate, message] of broken) {
    const o = structuredClone(ok);
    mutate(o);
    const errors = crdErrors(crd, o);
    assert.ok(
      errors.some((e) => message.test(e)),
      `${what}: ${JSON.stringify(errors)}`,
    );
  }
});
