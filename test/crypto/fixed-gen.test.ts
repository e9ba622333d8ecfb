// assembly/lib/crypto/fixed.ts is generated (unrolled per limb count for speed): the arithmetic lives once, in
// fixed.gen.mjs. The checked-in file must be exactly the generator's output as prettier lays it out.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as prettier from 'prettier';
import { repoRoot } from '../../host/paths.ts';

test('assembly/lib/crypto/fixed.ts is what fixed.gen.mjs generates', async () => {
  const file = join(repoRoot, 'assembly/lib/crypto/fixed.ts');
  const generated = execFileSync(process.execPath, [join(repoRoot, 'assembly/lib/crypto/fixed.gen.mjs')], { encoding: 'utf8' });
  const options = await prettier.resolveConfig(file);
  const expected = await prettier.format(generated, { ...options, filepath: file });
  assert.ok(expected.includes('export function montMul12('), 'the generator emits the 12-limb multiplication');
  assert.equal(
    readFileSync(file, 'utf8'),
    expected,
    'fixed.ts is stale: node assembly/lib/crypto/fixed.gen.mjs > it, then prettier --write',
  );
});
