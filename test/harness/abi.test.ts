// One source of ABI codes in effect: the harness's host/harness/abi.ts and the SDK's
// assembly/proxy/enums.ts must give every shared name the same number (a drift fails here).
// Member names differ only by the SDK's `Http` prefix (MapType.HttpRequestHeaders = RequestHeaders).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../host/paths.ts';
import { LOG_LEVELS } from '../../host/harness/abi.ts';

type Enums = Map<string, Map<string, number>>;

function enums(file: string): Enums {
  const out: Enums = new Map();
  const text = readFileSync(join(repoRoot, file), 'utf8');
  for (const m of text.matchAll(/export (?:const )?enum (\w+) \{([^}]*)\}/g)) {
    const members = new Map<string, number>();
    for (const e of m[2]!.matchAll(/(\w+) = (-?\d+)/g)) members.set(e[1]!.replace(/^Http(?=[A-Z])/, ''), Number(e[2]));
    out.set(m[1]!, members);
  }
  return out;
}

/** Harness enum name -> SDK enum name where they differ. */
const SDK_NAME: Record<string, string> = { HeadersStatus: 'FilterHeadersStatus', DataStatus: 'FilterDataStatus' };

test('host/harness/abi.ts and assembly/proxy/enums.ts agree on every ABI code', () => {
  const harness = enums('host/harness/abi.ts');
  const sdk = enums('assembly/proxy/enums.ts');
  assert.ok(harness.size >= 7, `parsed ${[...harness.keys()]}`);
  for (const [name, members] of harness) {
    const other = sdk.get(SDK_NAME[name] ?? name);
    assert.ok(other, `the SDK has no enum ${SDK_NAME[name] ?? name}`);
    assert.deepEqual(Object.fromEntries(members), Object.fromEntries(other), name);
  }
  const levels = sdk.get('LogLevel')!;
  assert.deepEqual(
    LOG_LEVELS.map((l, i) => [l, i]),
    [...levels].map(([n, v]) => [n.toLowerCase(), v]),
    'LOG_LEVELS',
  );
});
