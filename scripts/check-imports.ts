// Fails when a .wasm in build/ imports anything Envoy does not provide (e.g. env.abort, env.seed).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { unsupportedImports } from '../host/wasm/envoy-imports.ts';

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
  if (problems.length) {
    bad++;
    console.error(`check-imports: ${file}: Envoy does not provide ${problems.map((p) => `${p.module}.${p.name} (${p.kind})`).join(', ')}`);
  } else {
    console.log(`check-imports: ${file}: ${total} imports, all provided by Envoy`);
  }
}
process.exit(bad ? 1 : 0);
