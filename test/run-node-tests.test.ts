// scripts/run-node-tests.mjs refuses a TEST_CONCURRENCY that is not a whole number of files, with one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { repoRoot } from '../host/paths.ts';

test('a bad TEST_CONCURRENCY exits 2 with one line naming it, before any test runs', () => {
  for (const bad of ['two', '0', '1.5']) {
    const r = spawnSync(process.execPath, ['scripts/run-node-tests.mjs', 'layout'], {
      cwd: repoRoot,
      env: { ...process.env, TEST_CONCURRENCY: bad },
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, bad);
    assert.equal(r.stderr.trim(), `TEST_CONCURRENCY: expected a whole number of files at a time (1 or more), got "${bad}"`);
    assert.equal(r.stdout, '');
  }
});
