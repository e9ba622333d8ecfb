// assembly/lib/regex against V8's RegExp (full match: /^(?:p)$/su) on randomly generated
// patterns and inputs from a grammar both engines read the same way, plus fixed RE2 cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileAs } from '../harness/fixtures.ts';

function compileFixture(): Promise<Uint8Array> {
  return compileAs(['test/fixtures/regex.ts', 'assembly/lib/regex.ts'], '.tmp/fixtures/regex.wasm', [
    '--config',
    'test/fixtures/asconfig.json',
    '--runtime',
    'incremental',
    '--optimizeLevel',
    '2',
  ]);
}

interface RegexExports {
  memory: WebAssembly.Memory;
  buffer(): number;
  compile(n: number): number;
  error(): number;
  matches(n: number): number;
}

async function engine() {
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(await compileFixture()), {
    env: {
      abort: () => {
        throw new Error('regex fixture aborted');
      },
    },
  });
  const x = instance.exports as unknown as RegexExports;
  const put = (s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    new Uint8Array(x.memory.buffer, x.buffer(), bytes.length).set(bytes);
    return bytes.length;
  };
  return {
    compile(p: string): string | null {
      if (x.compile(put(p)) === 1) return null;
      const n = x.error();
      return Buffer.from(new Uint8Array(x.memory.buffer, x.buffer(), n)).toString('utf8');
    },
    matches(s: string): boolean {
      return x.matches(put(s)) === 1;
    },
  };
}

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function genPattern(r: () => number, depth = 0): string {
  const atoms = ['a', 'b', 'c', '.', '[ab]', '[^a]', '[a-c]', '\\d', '\\w', '1', '-'];
  const n = 1 + Math.floor(r() * 3);
  let out = '';
  for (let i = 0; i < n; i++) {
    let atom: string;
    const k = r();
    if (k < 0.2 && depth < 3) atom = `(${genPattern(r, depth + 1)})`;
    else if (k < 0.3 && depth < 3) atom = `(?:${genPattern(r, depth + 1)}|${genPattern(r, depth + 1)})`;
    else atom = atoms[Math.floor(r() * atoms.length)]!;
    const q = r();
    if (q < 0.15) atom += '*';
    else if (q < 0.25) atom += '+';
    else if (q < 0.32) atom += '?';
    else if (q < 0.38) atom += `{${Math.floor(r() * 3)},${2 + Math.floor(r() * 2)}}`;
    else if (q < 0.41) atom += `{${1 + Math.floor(r() * 2)}}`;
    out += atom;
  }
  if (depth === 0 && r() < 0.2) out += `|${genPattern(r, 1)}`;
  return out;
}

function genInput(r: () => number): string {
  const chars = 'abc1-x_';
  const n = Math.floor(r() * 9);
  let s = '';
  for (let i = 0; i < n; i++) s += chars[Math.floor(r() * chars.length)];
  return s;
}

test('regex: 1,500 random patterns x 40 inputs agree with V8 RegExp (full match)', async () => {
  const e = await engine();
  const r = rng(20261125);
  let compared = 0,
    matched = 0;
  for (let i = 0; i < 1500; i++) {
    const p = genPattern(r);
    const err = e.compile(p);
    assert.equal(err, null, `pattern ${p} rejected: ${err}`);
    const reference = new RegExp(`^(?:${p})$`, 'su');
    const inputs = [genInput(r), ...Array.from({ length: 39 }, () => genInput(r))];
    for (const s of inputs) {
      const want = reference.test(s);
      assert.equal(e.matches(s), want, `pattern ${JSON.stringify(p)} input ${JSON.stringify(s)}: expected ${want}`);
      compared++;
      if (want) matched++;
    }
  }
  assert.ok(matched > compared / 20, `too few positive cases (${matched} of ${compared}) for a meaningful comparison`);
});

test('regex: fixed RE2 cases, non-ASCII, and rejections', async () => {
  const e = await engine();
  const cases: [string, string, boolean][] = [
    ['(?i)jason', 'JASON', true],
    ['a.c', 'a\nc', false],
    ['(?s)a.c', 'a\nc', true],
    ['caf.', 'café', true],
    ['[^a]', '😀', true],
    ['\\x{1F600}', '😀', true],
    ['a{2,3}', 'aaaa', false],
    ['(a*)*b', 'a'.repeat(20000), false],
    ['(a|aa)*', 'a'.repeat(5000), true],
    ['[[:upper:]][[:lower:]]+', 'Jason', true],
  ];
  for (const [p, s, want] of cases) {
    assert.equal(e.compile(p), null, p);
    assert.equal(e.matches(s), want, `${p} on ${s.slice(0, 20)}`);
  }
  assert.match(e.compile('(a)\\1')!, /backreferences are not supported/);
  assert.match(e.compile('x(?=y)')!, /lookahead is not supported/);
});
