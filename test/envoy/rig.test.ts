// The Envoy rig itself: binary and version, launcher start/stop without orphans, config rendering,
// start-up failures, echo upstreams, and docker-compose agreeing with envoy/sidecar.yaml.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { SIDECAR_YAML, connectionManagers, renderBootstrap, wasmFiles } from '../../host/envoy/config.ts';
import { ENVOY_VERSION, envoyBinary, envoyVersion, repoRoot } from '../../host/envoy/install.ts';
import { runEnvoyExpectingFailure, send, startEnvoy, validateConfig } from '../../host/envoy/launcher.ts';
import { CLUSTER_IDENTITIES, EchoServer, Upstreams } from '../../host/upstream/echo.ts';
import { istioSpec } from '../../host/fixtures/istio.ts';
import { decodeStatName, parseExposition, select } from '../../host/envoy/prometheus.ts';
import { until } from '../../host/until.ts';
import { FILTER_NAMES } from '../../filters/manifest.ts';

const example = { name: 'example', config: { header: 'x-asmesh-example', value: 'rig' } };

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves once `pid` is gone; throws if it outlives `ms`. */
function gone(pid: number, ms = 3000): Promise<boolean> {
  return until(() => !alive(pid), ms, `Envoy ${pid} to die with its parent`, 20);
}

test(`Envoy ${ENVOY_VERSION} is available and prints its version`, async () => {
  const binary = await envoyBinary();
  const version = envoyVersion(binary);
  console.log(`# envoy: ${binary}\n# ${version}`);
  assert.match(version, new RegExp(`/${ENVOY_VERSION.replace(/\./g, '\\.')}/`));
});

test('launcher: starts Envoy on loopback ports, routes through the example filter, stops it (no orphan)', async () => {
  const upstreams = await Upstreams.start();
  const envoy = await startEnvoy({ filters: [example], upstreams: upstreams.endpoints() });
  try {
    assert.match(envoy.listenerUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(envoy.adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(envoy.listeners, { outbound: envoy.listenerUrl });
    assert.ok(alive(envoy.pid));
    const viaDefault = await envoy.request('/hello?x=1', { headers: { host: 'service_b', 'x-test': 'a' } });
    assert.equal(viaDefault.status, 200);
    assert.equal(viaDefault.headers['x-served-by'], 'service_b');
    assert.equal(viaDefault.headers['x-asmesh-example'], 'rig');
    const echoed = JSON.parse(viaDefault.body);
    assert.equal(echoed.path, '/hello?x=1');
    assert.equal(echoed.headers['x-test'], 'a');
    const viaHeader = await envoy.request('/v2', {
      method: 'POST',
      body: 'payload',
      headers: { host: 'service_b', 'x-asmesh-cluster': 'outbound|80|v2|service_b' },
    });
    assert.equal(viaHeader.headers['x-served-by'], 'service_b/v2');
    assert.equal(JSON.parse(viaHeader.body).body, 'payload');
    assert.equal(upstreams.get('outbound|80|v2|service_b').requests.at(-1)!.method, 'POST');
    assert.equal(await envoy.metric('asmesh_example_requests_total'), 2);
    assert.match(await envoy.prometheus(), /\nasmesh_example_requests_total\{\} 2\n/);
    await envoy.waitForLog(/wasm log example example example: example: request \/v2/);
  } finally {
    await envoy.stop();
    await upstreams.close();
  }
  assert.deepEqual(envoy.exit, { code: 0, signal: null });
  assert.equal(alive(envoy.pid), false);
});

test('launcher: an Envoy started by a process that exits is killed with it', async () => {
  const script = `
    import { startEnvoy } from ${JSON.stringify(join(repoRoot, 'host/envoy/launcher.ts'))};
    const envoy = await startEnvoy({ filters: [] });
    console.log('PID=' + envoy.pid);
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: repoRoot,
    timeout: 60_000,
  });
  const pid = Number(r.stdout.match(/PID=(\d+)/)?.[1]);
  assert.ok(pid > 0, `no pid printed: ${r.stdout}${r.stderr}`);
  assert.ok(await gone(pid), `Envoy ${pid} outlived its parent`);
});

test('launcher: an Envoy whose parent is killed by SIGKILL dies with it', async () => {
  const script = `
    import { startEnvoy } from ${JSON.stringify(join(repoRoot, 'host/envoy/launcher.ts'))};
    const envoy = await startEnvoy({ filters: [] });
    console.log('PID=' + envoy.pid);
    process.kill(process.pid, 'SIGKILL');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: repoRoot,
    timeout: 60_000,
  });
  assert.equal(r.signal, 'SIGKILL');
  const pid = Number(r.stdout.match(/PID=(\d+)/)?.[1]);
  assert.ok(pid > 0, `no pid printed: ${r.stdout}${r.stderr}`);
  assert.ok(await gone(pid), `Envoy ${pid} outlived its parent`);
});

test('launcher: a rejected filter configuration makes Envoy exit 1 with the filter error line', async () => {
  const failure = await runEnvoyExpectingFailure({ filters: [{ name: 'example', config: { value: 'x' } }] });
  assert.equal(failure.ready, false);
  assert.equal(failure.code, 1);
  assert.match(failure.log, /wasm log example.*: example: config \$\.header: required/);
  assert.match(failure.log, /Unable to create Wasm plugin example/);
});

test('launcher: runEnvoyExpectingFailure reports an Envoy that started anyway', async () => {
  const failure = await runEnvoyExpectingFailure({ filters: [example] });
  assert.equal(failure.ready, true);
  assert.equal(failure.code, null);
});

test('envoy --mode validate accepts the sidecar routes and clusters, and rejects a broken route', async () => {
  const ok = await validateConfig({ filters: [example] });
  assert.equal(ok.ok, true, ok.output);
  const bad = await validateConfig({
    filters: [],
    edit: (b) => {
      connectionManagers(b)[0]!.route_config.virtual_hosts[0].routes[1].route = {};
    },
  });
  assert.equal(bad.ok, false);
});

test('envoy/sidecar.yaml as shipped serves in Envoy, and every asmesh metric reaches /stats/prometheus with its labels', async () => {
  const sidecar = parse(readFileSync(SIDECAR_YAML, 'utf8'));
  const steering = connectionManagers(sidecar)[0]!.http_filters.find((f: any) => f.name === 'asmesh.steering');
  assert.deepEqual(
    JSON.parse(steering.typed_config.config.configuration.value),
    istioSpec('virtualservice-steering.yaml'),
    'steering config = the seed VirtualService spec',
  );
  const upstreams = await Upstreams.start();
  // The shipped file as is; only the flush interval is short, so histograms reach /stats/prometheus soon.
  const envoy = await startEnvoy({ upstreams: upstreams.endpoints(), statsFlushMs: 200 });
  try {
    assert.deepEqual(
      connectionManagers(envoy.bootstrap)[0]!.http_filters.map((f: any) => f.name),
      ['asmesh.steering', 'asmesh.authz', 'asmesh.telemetry', 'envoy.filters.http.router'],
    );
    const jason = await envoy.request('/', { headers: { host: 'service_b', 'end-user': 'jason' } });
    assert.equal(jason.status, 200);
    assert.equal(jason.headers['x-served-by'], 'service_b/v2');
    const other = await envoy.request('/', { headers: { host: 'service_b', 'end-user': 'someone' } });
    assert.equal(other.headers['x-served-by'], 'service_b/v1');

    // Every Wasm counter `wasmcustom.l1=v1;...;<metric>` must come out as `<metric>{l1="v1",...}` with its value.
    const counters = [...(await envoy.stats())].filter(([name]) => name.startsWith('wasmcustom.'));
    const filters = new Set(counters.map(([name]) => /(?:^|;)(?:wasmcustom\.)?(asmesh_[a-z]+|istio)_[^;]*$/.exec(name)?.[1]));
    for (const f of ['asmesh_steering', 'asmesh_authz', 'istio']) assert.ok(filters.has(f), `no ${f} counters in /stats`);
    const exp = await until(
      async () => {
        const e = parseExposition(await envoy.prometheus());
        return e.samples.some((x) => x.name === 'istio_request_duration_milliseconds_count') ? e : null;
      },
      20_000,
      'histograms on /stats/prometheus',
    );
    for (const [name, value] of counters) {
      const { name: metric, labels } = decodeStatName(name.slice('wasmcustom.'.length));
      const found = exp.samples.find((x) => x.name === metric && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
      assert.ok(found, `${name}: no ${metric}{${Object.keys(labels).join(',')}} on /stats/prometheus`);
      assert.equal(found.value, value, `${name}: value`);
    }
    const steered = exp.samples.filter((x) => x.name === 'asmesh_steering_decisions_total');
    assert.deepEqual(steered.map((x) => [x.labels.subset, x.value]).sort(), [
      ['v1', 1],
      ['v2', 1],
    ]);
    assert.equal(select(exp, 'istio_requests_total', { reporter: 'source', response_code: '200' }).length, 1);
    // Nothing asmesh emits keeps label text in its name (`route_0_subset_v2_asmesh_...` was the bug).
    for (const x of exp.samples) assert.doesNotMatch(x.name, /.(asmesh_|istio_)/, `${x.name}: labels left in the name`);
  } finally {
    await envoy.stop();
    await upstreams.close();
  }
});

test('renderer: loopback ports, build/ wasm paths, mounted filters in chain order, upstream endpoints', () => {
  const b = renderBootstrap({
    filters: [{ name: 'telemetry', config: {} }, { name: 'steering', config: 'raw' }, example],
    upstreams: { 'outbound|80|v1|service_b': { port: 1234 } },
  });
  assert.deepEqual(b.admin.address, { socket_address: { address: '127.0.0.1', port_value: 0 } });
  const filters = connectionManagers(b)[0]!.http_filters.map((f: any) => f.name);
  assert.deepEqual(filters, ['asmesh.example', 'asmesh.steering', 'asmesh.telemetry', 'envoy.filters.http.router']);
  assert.deepEqual(
    wasmFiles(b),
    ['example', 'steering', 'telemetry'].map((n) => join(repoRoot, 'build', `${n}.wasm`)),
  );
  const steering = connectionManagers(b)[0]!.http_filters[1].typed_config.config;
  assert.equal(steering.configuration.value, 'raw');
  assert.equal(steering.vm_config.runtime, 'envoy.wasm.runtime.v8');
  const v1 = b.static_resources.clusters.find((c: any) => c.name === 'outbound|80|v1|service_b');
  assert.equal(v1.type, 'STATIC');
  assert.deepEqual(v1.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, {
    address: '127.0.0.1',
    port_value: 1234,
  });
  // Unmapped clusters keep the file's endpoints; the file itself is untouched.
  const v2 = b.static_resources.clusters.find((c: any) => c.name === 'outbound|80|v2|service_b');
  assert.equal(v2.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address, 'service_b_v2');
  assert.match(readFileSync(SIDECAR_YAML, 'utf8'), /port_value: 15001/);
});

test('echo upstream: identity, JSON echo, x-echo-status, x-echo-delay-ms, routes, recorded requests', async () => {
  const server = await EchoServer.start('service_b/v1');
  try {
    const r = await send(server.url, '/p?q=1', { method: 'PUT', body: 'abc', headers: { 'x-a': '1', 'x-echo-status': '418' } });
    assert.equal(r.status, 418);
    assert.equal(r.headers['x-served-by'], 'service_b/v1');
    const body = JSON.parse(r.body);
    assert.deepEqual(
      [body.served_by, body.method, body.path, body.body, body.headers['x-a']],
      ['service_b/v1', 'PUT', '/p?q=1', 'abc', '1'],
    );
    server.setRoute('/jwks.json', { status: 200, headers: { 'content-type': 'application/json' }, body: '{"keys":[]}' });
    assert.equal((await send(server.url, '/jwks.json?v=2')).body, '{"keys":[]}');
    const t0 = Date.now();
    await send(server.url, '/slow', { headers: { 'x-echo-delay-ms': '150' } });
    assert.ok(Date.now() - t0 >= 140);
    assert.deepEqual(
      server.requests.map((q) => q.path),
      ['/p?q=1', '/jwks.json?v=2', '/slow'],
    );
  } finally {
    await server.close();
  }
});

test('docker-compose mounts envoy/sidecar.yaml and build/*.wasm where the sidecar expects them, with matching hosts and ports', () => {
  const compose = parse(readFileSync(join(repoRoot, 'envoy/docker-compose.yaml'), 'utf8'), { merge: true });
  const sidecar = parse(readFileSync(SIDECAR_YAML, 'utf8'));
  const envoy = compose.services.envoy;
  assert.match(envoy.image, /^envoyproxy\/envoy:v1\.40\.\d+$/);
  assert.equal(envoy.image, `envoyproxy/envoy:v${ENVOY_VERSION}`);
  const configPath = envoy.command[envoy.command.indexOf('-c') + 1];
  const mounts = new Map<string, string>(
    envoy.volumes.map((v: string) => {
      const [src, dst] = v.split(':');
      return [dst!, src!];
    }),
  );
  assert.equal(mounts.get(configPath), './sidecar.yaml', 'compose mounts envoy/sidecar.yaml as the Envoy config');
  const wasmDir = '/etc/asmesh/wasm';
  assert.equal(mounts.get(wasmDir), '../build');
  const targets: readonly string[] = FILTER_NAMES;
  for (const file of wasmFiles(sidecar)) {
    assert.ok(file.startsWith(`${wasmDir}/`), `${file} is outside ${wasmDir}`);
    assert.ok(targets.includes(file.slice(wasmDir.length + 1).replace(/\.wasm$/, '')), `${file} is not a filter of filters/manifest.ts`);
  }
  const published = envoy.ports.map((p: string) => Number(p.split(':')[1]));
  assert.ok(published.includes(sidecar.static_resources.listeners[0].address.socket_address.port_value));
  assert.ok(published.includes(sidecar.admin.address.socket_address.port_value));
  for (const cluster of sidecar.static_resources.clusters) {
    const address = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    const service = compose.services[address.address];
    assert.ok(service, `cluster ${cluster.name}: no compose service ${address.address}`);
    assert.ok(envoy.depends_on.includes(address.address));
    const [identity, port] = service.command.slice(-2);
    assert.equal(Number(port), address.port_value, `cluster ${cluster.name}: port`);
    assert.equal(identity, CLUSTER_IDENTITIES[cluster.name], `cluster ${cluster.name}: identity`);
    assert.ok(service.volumes.includes('..:/app:ro'));
  }
});
