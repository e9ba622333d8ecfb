// Runs every scenario of test/scenarios/*.scenarios.ts in the harness and in Envoy:
// subtests `<scenario> [harness]` and `<scenario> [envoy]`. Envoy runs are never skipped silently:
// without Envoy they fail with the reason; a scenario limited to one host says why in `only`.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { envoyBinary, envoyVersion } from '../../host/envoy/install.ts';
import { runInEnvoy, runInHarness } from './runner.ts';
import { runNetworkInEnvoy, runNetworkInHarness } from './network.ts';
import type { NetworkScenario, Scenario } from './types.ts';

const dir = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.scenarios.ts'))
  .sort();

let version: Promise<string> | null = null;
function envoyReady(): Promise<string> {
  version ??= envoyBinary().then((bin) => `${bin}: ${envoyVersion(bin)}`);
  return version;
}

for (const file of files) {
  let scenarios: Scenario[];
  let networkScenarios: NetworkScenario[];
  try {
    ({ scenarios, networkScenarios = [] } = (await import(pathToFileURL(join(dir, file)).href)) as {
      scenarios: Scenario[];
      networkScenarios?: NetworkScenario[];
    });
    if (!Array.isArray(scenarios)) throw new Error('it does not export `scenarios: Scenario[]`');
    if (!Array.isArray(networkScenarios)) throw new Error('its `networkScenarios` is not a NetworkScenario[]');
  } catch (error) {
    // One broken file fails its own test; the other files' scenarios still run.
    test(`${file} loads`, () => {
      throw new Error(`${file} failed to load: ${(error as Error).message}`);
    });
    continue;
  }
  const names = new Set<string>();
  for (const scenario of scenarios) {
    if (names.has(scenario.name)) throw new Error(`${file}: duplicate scenario name ${scenario.name}`);
    names.add(scenario.name);
    const label = `${file.replace(/\.scenarios\.ts$/, '')}: ${scenario.name}`;
    const skip = (host: 'harness' | 'envoy') =>
      scenario.only !== undefined && scenario.only.host !== host ? `${scenario.only.host} only: ${scenario.only.why}` : false;
    test(`${label} [harness]`, { skip: skip('harness') }, async () => {
      await runInHarness(scenario);
    });
    test(`${label} [envoy]`, { skip: skip('envoy') }, async (t) => {
      t.diagnostic(await envoyReady());
      await runInEnvoy(scenario);
    });
  }
  for (const scenario of networkScenarios) {
    if (names.has(scenario.name)) throw new Error(`${file}: duplicate scenario name ${scenario.name}`);
    names.add(scenario.name);
    const label = `${file.replace(/\.scenarios\.ts$/, '')}: ${scenario.name}`;
    // Both hosts must end with the same series and values, not only meet the expectations.
    let harness: Map<string, number> | null = null;
    test(`${label} [harness]`, async () => {
      harness = await runNetworkInHarness(scenario);
    });
    test(`${label} [envoy]`, async (t) => {
      t.diagnostic(await envoyReady());
      const envoy = await runNetworkInEnvoy(scenario);
      if (harness !== null)
        assert.deepEqual(Object.fromEntries([...envoy].sort()), Object.fromEntries([...harness].sort()), 'Envoy = harness');
    });
  }
}
