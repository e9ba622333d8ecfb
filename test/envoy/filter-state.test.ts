// Filter state shared between Wasm filters in different VMs, measured in Envoy 1.40 and checked
// against the harness chain: a `writer` filter sets properties with proxy_set_property, a `reader`
// filter after it reads them back through several paths, in its request phase and in proxy_on_log
// (also when the writer answered the request itself). This is how authz hands the verified JWT
// payload (`asmesh.jwt_payload`) to telemetry.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { compileAs, repoRoot } from '../harness/fixtures.ts';
import { HarnessChain } from '../scenarios/runner.ts';
import { startEnvoy } from '../../host/envoy/launcher.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import type { Scenario } from '../scenarios/types.ts';

const outDir = join(repoRoot, '.tmp', 'envoy-fixtures');

async function compile(): Promise<void> {
  await compileAs(['test/envoy/fixtures/state.ts'], '.tmp/envoy-fixtures/state.wasm', ['--config', 'asconfig.json', '--target', 'example']);
  for (const name of ['writer', 'reader']) copyFileSync(join(outDir, 'state.wasm'), join(outDir, `${name}.wasm`));
}

const lines = (log: string) => [...log.matchAll(/wasm log reader reader reader: (STATE .*)/g)].map((m) => m[1]!);

test('proxy_set_property in one VM is filter state the next filter reads, in Envoy and in the harness alike', async () => {
  await compile();
  const mounted = [
    { name: 'writer', config: 'writer' },
    { name: 'reader', config: 'reader' },
  ];
  const requests: Record<string, string>[] = [{ 'x-set': 'v1' }, {}, { 'x-set': 'v3', 'x-reply': '1' }];
  const chain = await HarnessChain.load({ name: 'state', filters: mounted } as unknown as Scenario, { wasmDir: outDir });
  for (const headers of requests) await chain.request({ path: '/', headers });
  const harness = lines(chain.logLines());
  chain.close();
  const upstreams = await Upstreams.start();
  const envoy = await startEnvoy({ wasmDir: outDir, filters: mounted as unknown as Scenario['filters'], upstreams: upstreams.endpoints() });
  try {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (const headers of requests) await envoy.request('/', { headers: { host: 'service_b', ...headers }, agent });
    agent.destroy();
    await envoy.waitForLog(/(STATE log[\s\S]*){3}/);
    const measured = lines(envoy.logs());
    // What Envoy 1.40 does (measured): a one-segment path reads back under its own name and as
    // filter_state `wasm.<path>`, in the request phase and in proxy_on_log (also after the writer
    // answered); a path of two segments reads back through none of these (so use one segment).
    assert.deepEqual(measured, [
      'STATE req one=v1 fs=v1 two=<none> twodot=<none> fsdot=<none>',
      'STATE log one=v1 fs=v1 two=<none> twodot=<none> fsdot=<none>',
      'STATE req one=<none> fs=<none> two=<none> twodot=<none> fsdot=<none>',
      'STATE log one=<none> fs=<none> two=<none> twodot=<none> fsdot=<none>',
      'STATE log one=v3 fs=v3 two=<none> twodot=<none> fsdot=<none>',
    ]);
    assert.deepEqual(harness, measured);
  } finally {
    await envoy.stop();
    await upstreams.close();
  }
});
