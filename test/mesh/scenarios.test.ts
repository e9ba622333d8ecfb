// filters/mesh (steering + authz + telemetry in one module) on the shared scenarios of its parts:
// `<scenario> [mesh harness]` runs the scenario with its separate filters and with mesh.wasm in the
// harness, each meeting the scenario's expectations, and compares the two answer by answer;
// `<scenario> [mesh envoy]` runs mesh.wasm in Envoy against the same expectations (the separate
// filters' Envoy runs are test/scenarios/scenarios.test.ts's).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runInEnvoy, runInHarness } from '../scenarios/runner.ts';
import type { Scenario, StepResult } from '../scenarios/types.ts';
import { asMesh } from './scenarios.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.scenarios.ts'))
  .sort();

/** Values that differ per request whatever the filters do. */
const VOLATILE = new Set(['x-request-id', 'date', 'x-envoy-upstream-service-time']);

function comparable(r: StepResult) {
  const keep = (h: Record<string, string> | null) =>
    h === null ? null : Object.fromEntries(Object.entries(h).map(([k, v]) => [k, VOLATILE.has(k) ? '<volatile>' : v]));
  return {
    status: r.status,
    servedBy: r.servedBy,
    upstreamPath: r.upstreamPath,
    upstreamHeaders: keep(r.upstreamHeaders),
    responseHeaders: keep(r.responseHeaders),
  };
}

/**
 * The scenario, recording every step's results into `into`; a step with its own check (a random
 * distribution: the check bounds it in both runs) records none.
 */
function recording(s: Scenario, into: StepResult[][]): Scenario {
  return {
    ...s,
    steps: s.steps?.map((step) => ({
      ...step,
      check: (results: StepResult[]) => {
        into.push(step.check === undefined ? results : []);
        step.check?.(results);
      },
    })),
  };
}

let meshScenarios = 0;
for (const file of files) {
  const { scenarios } = (await import(pathToFileURL(join(dir, file)).href)) as { scenarios?: Scenario[] };
  for (const scenario of scenarios ?? []) {
    const mesh = asMesh(scenario);
    if (typeof mesh === 'string') continue;
    meshScenarios++;
    const label = `${file.replace(/\.scenarios\.ts$/, '')}: ${scenario.name}`;
    const skip = (host: 'harness' | 'envoy') =>
      scenario.only !== undefined && scenario.only.host !== host ? `${scenario.only.host} only: ${scenario.only.why}` : false;
    test(`${label} [mesh harness]`, { skip: skip('harness') }, async () => {
      const separate: StepResult[][] = [];
      const together: StepResult[][] = [];
      await runInHarness(recording(scenario, separate));
      await runInHarness(recording(mesh, together));
      assert.deepEqual(
        together.map((rs) => rs.map(comparable)),
        separate.map((rs) => rs.map(comparable)),
        'mesh.wasm = the separate filters',
      );
    });
    test(`${label} [mesh envoy]`, { skip: skip('envoy') }, async () => {
      await runInEnvoy(mesh);
    });
  }
}

test("the parts' scenarios have a mesh form", () => {
  assert.ok(meshScenarios >= 45, `${meshScenarios} scenarios`);
});
