// Runs every test/**/*.test.ts with node's test runner (via tsx). Extra args narrow by substring.
// Two files at a time (TEST_CONCURRENCY=1 for one): the files follow the parallel-safety rules of
// docs/DESIGN.md "Build and test" (ports, directories, build outputs). At the end, the slowest files
// and the sum of all files' wall times (the figure to compare runs by on a loaded machine).
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return path.endsWith('.test.ts') ? [path] : [];
  });
}
const filters = process.argv.slice(2);
const files = find('test')
  .filter((f) => !filters.length || filters.some((s) => f.includes(s)))
  .sort();
if (!files.length) {
  console.error('no test files found');
  process.exit(1);
}
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`TEST_CONCURRENCY: expected a whole number of files at a time (1 or more), got "${process.env.TEST_CONCURRENCY}"`);
  process.exit(2);
}
mkdirSync('.tmp', { recursive: true });
const times = join('.tmp', `test-times-${process.pid}.jsonl`);
const clock = new URL('./test-clock.mjs', import.meta.url).href;
const started = Date.now();
const { status } = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--import', clock, '--test', `--test-concurrency=${concurrency}`, ...files],
  {
    stdio: 'inherit',
    env: { ...process.env, ASMESH_TEST_TIMES: times },
  },
);
let rows = [];
try {
  rows = readFileSync(times, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  rmSync(times);
} catch {}
rows.sort((a, b) => b.ms - a.ms);
const sum = rows.reduce((s, r) => s + r.ms, 0) / 1000;
const wall = (Date.now() - started) / 1000;
console.error(
  `\n${rows.length} test files, concurrency ${concurrency}: ${wall.toFixed(1)} s wall, ${sum.toFixed(1)} s summed over files; slowest:`,
);
for (const r of rows.slice(0, Number(process.env.TEST_TIMES_TOP ?? 12)))
  console.error(`  ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${relative(process.cwd(), r.file)}`);
process.exit(status ?? 1);
