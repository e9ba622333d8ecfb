// SLO file -> Prometheus rules: validation (exit 2, one line naming file and field), the SRE
// workbook's burn rates, and the rules run by Prometheus's own engine: `promtool check rules` and
// `promtool test rules` with synthetic series that do and do not fire each alert (burn-cases.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { BURN_PAIRS, burnRate, sloRulesYaml } from '../../host/slo/rules.ts';
import { parseSloFile } from '../../host/slo/spec.ts';
import { findPromtool } from '../../host/slo/command.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { CASES, promtoolTests } from './burn-cases.ts';

const DEMO_SLO = join(repoRoot, 'envoy/demo/slo.yaml');
const work = join(repoRoot, '.tmp/test-slo');

function promtool(): string {
  const tool = findPromtool();
  assert.ok(tool, 'promtool is required: apt-get install prometheus (.ci/run does), or PROMTOOL=path');
  return tool;
}

const HEAD = 'apiVersion: asmesh.io/v1alpha1\nkind: ServiceLevelObjectives\n';

test('bad SLO files: asmesh slo exits 2 with one line naming the file and the field', () => {
  mkdirSync(work, { recursive: true });
  const bad: [string, string][] = [
    ['services: []\n', 'services: must be a non-empty list'],
    [
      'services:\n- service: b\n  latency: { thresholdMs: 300, target: 99 }\n',
      'services[0].latency.thresholdMs: 300 is not a bucket bound',
    ],
    ['services:\n- service: b\n  availability: { target: 100 }\n', 'services[0].availability.target: 100 must be a percentage'],
    ['services:\n- service: b\n  window: 1h\n  availability: { target: 99 }\n', 'services[0].window: 1h must be between 3d and 90d'],
    ['services:\n- service: b\n  window: 30 days\n  availability: { target: 99 }\n', 'services[0].window: "30 days" is not a duration'],
    ['services:\n- service: b\n  availabilty: { target: 99 }\n', 'services[0].availabilty: unknown field'],
    ['services:\n- service: b\n', 'services[0]: needs availability or latency'],
    [
      'services:\n- service: b\n  reporter: client\n  availability: { target: 99 }\n',
      'services[0].reporter: "client" must be destination or source',
    ],
    [
      'services:\n- service: b\n  availability: { target: 99 }\n- service: b\n  latency: { thresholdMs: 100, target: 99 }\n',
      'services[1].service: b is listed twice',
    ],
  ];
  // Two through the CLI (exit code, one stderr line); every case through the parser the CLI calls.
  for (const [i, [body, message]] of bad.entries()) {
    const file = join(work, `bad-${i}.yaml`);
    writeFileSync(file, HEAD + body);
    assert.throws(
      () => parseSloFile(file, HEAD + body),
      (e: Error) => e.name === 'InputError' && e.message.startsWith(`${file}: ${message}`) && !e.message.includes('\n'),
    );
    if (i > 1) continue;
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'host/cli/main.ts'), 'slo', file], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, `${body}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.startsWith(`asmesh slo: ${file}: ${message}`), r.stderr);
    assert.equal(r.stdout, '');
  }
  assert.throws(() => parseSloFile('x.yaml', 'kind: Nope\n'), /^InputError: x\.yaml: apiVersion: must be asmesh\.io\/v1alpha1$/);
  assert.throws(() => parseSloFile('x.yaml', '{{'), /^InputError: x\.yaml: not YAML/);
});

test('burn rates: the SRE workbook table for a 30d window (2% in 1h, 5% in 6h, 10% in 1d and in 3d), scaled for others', () => {
  assert.deepEqual(
    BURN_PAIRS.map((p) => [p.long, p.short, p.severity, burnRate(p, 30 * 86400)]),
    [
      ['1h', '5m', 'page', 14.4],
      ['6h', '30m', 'page', 6],
      ['1d', '2h', 'ticket', 3],
      ['3d', '6h', 'ticket', 1],
    ],
  );
  assert.deepEqual(
    BURN_PAIRS.map((p) => burnRate(p, 7 * 86400)),
    [3.36, 1.4, 0.7, 0.233],
  );
  assert.equal(parseSloFile('x.yaml', HEAD + 'services:\n- service: b\n  availability: { target: 99 }\n')[0]!.reporter, 'destination');
  const [a, l] = parseSloFile('slo.yaml', readFileSync(DEMO_SLO, 'utf8'));
  assert.deepEqual(
    [a.name, a.target, a.window, a.reporter, l.name, l.target, l.thresholdMs, l.reporter],
    ['service_b-availability', 0.999, '30d', 'source', 'service_b-latency', 0.99, 250, 'source'],
  );
});

test('promtool check rules accepts the demo SLO rules; promtool test rules: each alert fires and stays quiet where the workbook says', (t) => {
  const tool = promtool();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const objectives = parseSloFile(DEMO_SLO, readFileSync(DEMO_SLO, 'utf8'));
  writeFileSync(join(work, 'rules.yaml'), sloRulesYaml(objectives, 'envoy/demo/slo.yaml'));
  const check = spawnSync(tool, ['check', 'rules', join(work, 'rules.yaml')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: 28 rules found/);

  // Every pair fires in some case and is quiet in another, for both SLIs.
  for (const p of BURN_PAIRS) {
    assert.ok(CASES.some((c) => c.fires.includes(p.long)) && CASES.some((c) => !c.fires.includes(p.long)), p.long);
  }
  writeFileSync(
    join(work, 'tests.yaml'),
    stringify(promtoolTests(objectives, 'rules.yaml'), { lineWidth: 0, aliasDuplicateObjects: false }),
  );
  const run = spawnSync(tool, ['test', 'rules', 'tests.yaml'], { cwd: work, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /SUCCESS/);
  t.diagnostic(`${tool} test rules: ${CASES.length} cases (${CASES.map((c) => `${c.name}: ${c.fires.join('+') || 'none'}`).join('; ')})`);
});
