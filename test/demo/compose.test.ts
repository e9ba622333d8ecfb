// docker compose's demo (envoy/docker-compose.yaml, its default services) runs the configs `asmesh demo
// --render` writes: they come from the same translate as `npm run demo`, every host and port they
// name is a compose service that listens there, and Envoy accepts each of them.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderCompose } from '../../host/demo/render.ts';
import { validateBootstrap } from '../../host/envoy/launcher.ts';
import { repoRoot } from '../harness/fixtures.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test('compose demo: rendered sidecar configs match the compose services and pass envoy --mode validate', async () => {
  const dir = join(repoRoot, '.tmp/test-compose-render');
  rmSync(dir, { recursive: true, force: true });
  const { files, token } = renderCompose(dir);
  assert.equal(token.split('.').length, 3);
  const compose = parse(readFileSync(join(repoRoot, 'envoy/docker-compose.yaml'), 'utf8'), { merge: true }) as Obj;
  const services = compose.services as Record<string, Obj>;
  const listensOn = (name: string): number => {
    const s = services[name];
    assert.ok(s, `no compose service ${name}`);
    assert.equal(s.profiles, undefined, `${name} is needed by the demo: it must start on a plain docker compose up`);
    if (String(s.image).startsWith('envoyproxy/envoy')) return -1; // a sidecar: its own config says
    return Number(s.command.at(-1) === 'sidecar_a:15001' ? s.command.at(-2) : s.command.at(-1));
  };
  for (const name of ['sidecar_a', 'sidecar_b_v1', 'sidecar_b_v2']) {
    const s = services[name];
    assert.equal(s.profiles, undefined, `${name} runs on a plain docker compose up`);
    assert.equal(s.image, services.envoy.image, 'same Envoy image as the rig');
    const cfgPath = s.command[s.command.indexOf('-c') + 1];
    assert.equal(cfgPath, `/demo/${name}.yaml`);
    assert.ok(s.volumes.includes('demo:/demo:ro') && s.volumes.includes('../build:/etc/asmesh/wasm:ro'), name);
    const file = files.find((f) => f.endsWith(`/${name}.yaml`))!;
    const bootstrap = parse(readFileSync(file, 'utf8')) as Obj;
    for (const c of bootstrap.static_resources.clusters as Obj[]) {
      const sa = c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
      if (String(c.name).startsWith('outbound|')) {
        assert.match(sa.address, /^sidecar_b_v[12]$/, c.name);
        assert.equal(sa.port_value, 15006);
        assert.equal(
          c.transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain.filename.split('/')[1],
          'demo',
        );
      } else {
        assert.equal(listensOn(sa.address), sa.port_value, `${name} ${c.name} -> ${sa.address}:${sa.port_value}`);
      }
    }
    // Envoy accepts it, with the compose paths mapped to this machine.
    const local = JSON.parse(
      JSON.stringify(bootstrap)
        .split('"/demo/')
        .join(JSON.stringify(dir + '/').slice(0, -1))
        .split('/etc/asmesh/wasm/')
        .join(join(repoRoot, 'build') + '/'),
    );
    const v = await validateBootstrap(local);
    assert.equal(v.ok, true, `${name}: ${v.output}`);
  }
  assert.equal(services.service_a.command.at(-1), 'sidecar_a:15001');
  assert.deepEqual(services['demo-render'].command.slice(-1)[0].split('|| ')[1], 'node dist/asmesh.mjs demo --render /demo');
});
