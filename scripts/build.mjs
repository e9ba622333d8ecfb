// Builds every filter folder: filters/<name>/index.ts -> build/<name>.wasm, with asconfig.json's options
// (and its target <name>'s, when it has one). For asmesh itself the folders are the filters of
// filters/manifest.ts (test/manifest.test.ts checks they agree); a filter project lays out the same.
// --debug also writes build/<name>.debug.wasm (unoptimized, with names). Extra args: filter names to build.
import { main as asc } from 'assemblyscript/asc';
import { existsSync, readdirSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
const debug = args.includes('--debug');
const only = args.filter((a) => !a.startsWith('--'));
const names = existsSync('filters')
  ? readdirSync('filters')
      .filter((n) => existsSync(`filters/${n}/index.ts`))
      .sort()
  : [];
for (const name of only) {
  if (!names.includes(name)) {
    console.error(`build: no filter ${name} (filters/${name}/index.ts; filters: ${names.join(', ') || 'none'})`);
    process.exit(1);
  }
}

let failed = false;
for (const name of names) {
  if (only.length && !only.includes(name)) continue;
  const entry = `filters/${name}/index.ts`;
  const variants = [['--target', name, '--outFile', `build/${name}.wasm`]];
  if (debug) variants.push(['--target', name, '-O0', '--debug', '--outFile', `build/${name}.debug.wasm`]);
  for (const flags of variants) {
    const { error, stderr } = await asc([entry, '--config', 'asconfig.json', ...flags], {});
    if (error) {
      console.error(`build ${name} failed: ${error.message}\n${stderr.toString()}`);
      failed = true;
      continue;
    }
    const out = flags[flags.indexOf('--outFile') + 1];
    console.log(`built ${out} (${statSync(out).size} bytes)`);
  }
}
if (!names.length) console.error('build: no filters/<name>/index.ts here');
process.exit(failed || !names.length ? 1 : 0);
