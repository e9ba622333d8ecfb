// Builds every filter named as a target in asconfig.json: filters/<name>/index.ts -> build/<name>.wasm.
// --debug also writes build/<name>.debug.wasm (unoptimized, with names). Extra args: filter names to build.
import { main as asc } from 'assemblyscript/asc';
import { existsSync, readFileSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
const debug = args.includes('--debug');
const only = args.filter((a) => !a.startsWith('--'));
const { targets } = JSON.parse(readFileSync('asconfig.json', 'utf8'));

let failed = false;
for (const name of Object.keys(targets)) {
  if (only.length && !only.includes(name)) continue;
  const entry = `filters/${name}/index.ts`;
  if (!existsSync(entry)) {
    console.log(`skip ${name}: ${entry} does not exist yet`);
    continue;
  }
  const variants = [['--target', name]];
  if (debug) variants.push(['--target', name, '-O0', '--debug', '--outFile', `build/${name}.debug.wasm`]);
  for (const flags of variants) {
    const { error, stderr } = await asc([entry, '--config', 'asconfig.json', ...flags], {});
    if (error) {
      console.error(`build ${name} failed: ${error.message}\n${stderr.toString()}`);
      failed = true;
      continue;
    }
    const out = flags.includes('--outFile') ? flags[flags.indexOf('--outFile') + 1] : targets[name].outFile;
    console.log(`built ${out} (${statSync(out).size} bytes)`);
  }
}
process.exit(failed ? 1 : 0);
