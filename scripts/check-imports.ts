// Fails when a .wasm in build/ imports anything Envoy does not provide (e.g. env.abort, env.seed), or when
// a filter's module does not export a callback the filter implements (Envoy would never call it).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { unsupportedImports } from '../host/wasm/envoy-imports.ts';
import { missingExports } from '../host/wasm/filter-exports.ts';
import { FILTER_NAMES } from '../filters/manifest.ts';

const dir = process.argv[2] ?? 'build';
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.wasm')) : [];
if (!files.length) {
  console.error(`check-imports: no .wasm files in ${dir}/ (run npm run build first)`);
  process.exit(1);
}
let bad = 0;
for (const file of files.sort()) {
  const module = new WebAssembly.Module(readFileSync(join(dir, file)));
  const problems = unsupportedImports(module);
  const total = WebAssembly.Module.imports(module).length;
  const name = file.replace(/\.wasm$/, '');
  const missing = (FILTER_NAMES as readonly string[]).includes(name) ? missingExports(name, module) : [];
  if (problems.length) {
    bad++;
    console.error(`check-imports: ${file}: Envoy does not provide ${problems.map((p) => `${p.module}.${p.name} (${p.kind})`).join(', ')}`);
  } else {
    console.log(`check-imports: ${file}: ${total} imports, all provided by Envoy`);
  }
  if (missing.length) {
    bad++;
    console.error(`check-imports: ${file} does not export ${missing.join(', ')}: add it to filters/${name}/index.ts`);
  }
}
process.exit(bad ? 1 : 0);
