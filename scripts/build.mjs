// Compiles the filters it is given: filters/<name>/index.ts -> build/<name>.wasm, with asconfig.json's options
// (and its target <name>'s, when it has one), in the current directory (asmesh, or a filter project).
// Run by `asmesh build` (npm run build), which lists the filters and checks the names given
// (filters/manifest.ts filterFolders/unknownFilter); --debug also writes build/<name>.debug.wasm
// (unoptimized, with names).
import { main as asc } from 'assemblyscript/asc';
import { statSync } from 'node:fs';

const args = process.argv.slice(2);
const debug = args.includes('--debug');
const names = args.filter((a) => !a.startsWith('--'));
let failed = false;
for (const name of names) {
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
if (!names.length) console.error('build: no filter named (asmesh build lists them)');
process.exit(failed || !names.length ? 1 : 0);
