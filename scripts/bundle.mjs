// Bundles the asmesh CLI (host/cli/main.ts and everything it imports) into one file, dist/asmesh.mjs,
// the package's "bin". Run by `npm run bundle` and by `npm run build`.
import { build } from 'esbuild';
import { chmodSync, renameSync, statSync } from 'node:fs';

const outfile = 'dist/asmesh.mjs';
// Written beside and renamed: tests that bundle run in parallel with tests that run the bundle.
const tmp = `dist/.asmesh-${process.pid}.mjs`;
await build({
  entryPoints: ['host/cli/main.ts'],
  outfile: tmp,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // One file; node: built-ins stay imports. `require` for CommonJS dependencies inside an ES module:
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __asmeshCreateRequire } from 'node:module';\nconst require = __asmeshCreateRequire(import.meta.url);",
  },
  // The project's AssemblyScript compiler (a peer dependency), not a copy: `asmesh build` compiles with it.
  external: ['assemblyscript', 'assemblyscript/*'],
  logLevel: 'warning',
});
chmodSync(tmp, 0o755);
renameSync(tmp, outfile);
console.log(`bundled ${outfile} (${statSync(outfile).size} bytes)`);
