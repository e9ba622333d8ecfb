// Layering the tree relies on: bench/ and host/ never import from test/ (what both need lives in
// host/, e.g. host/fixtures), so a benchmark keeps working whatever a test file becomes; the scenario
// runner and the benches reach the harness through host/harness/index.ts only.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../host/paths.ts';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'target' ? [] : tsFiles(path);
    return /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

test('bench/ and host/ import nothing from test/', () => {
  const offenders: string[] = [];
  for (const file of [...tsFiles(join(repoRoot, 'bench')), ...tsFiles(join(repoRoot, 'host'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(repoRoot, resolve(dirname(file), m[1]!));
      if (target.startsWith('test/')) offenders.push(`${relative(repoRoot, file)} -> ${target}`);
    }
  }
  assert.deepEqual(offenders, []);
});

// The harness owns Envoy's semantics; the scenario runner and the benches drive it through its public API only.
test('test/scenarios/ and bench/ import host/harness only through its index', () => {
  const offenders: string[] = [];
  for (const file of [...tsFiles(join(repoRoot, 'test/scenarios')), ...tsFiles(join(repoRoot, 'bench'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(repoRoot, resolve(dirname(file), m[1]!));
      if (target.startsWith('host/harness/') && target !== 'host/harness/index.ts')
        offenders.push(`${relative(repoRoot, file)} -> ${target}`);
    }
  }
  assert.deepEqual(offenders, []);
});
