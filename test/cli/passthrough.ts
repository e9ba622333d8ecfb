// Compiles test/cli/fixtures/passthrough.ts (a filter that accepts any configuration) once, with the
// repository's asconfig.json options, to .tmp/cli/passthrough.wasm.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../harness/fixtures.ts';

export async function passthroughWasm(): Promise<Uint8Array> {
  const source = join(repoRoot, 'test/cli/fixtures/passthrough.ts');
  const out = join(repoRoot, '.tmp/cli/passthrough.wasm');
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(join(repoRoot, '.tmp/cli'), { recursive: true });
    const asc = await import('assemblyscript/asc');
    const { error, stderr } = await asc.main(['test/cli/fixtures/passthrough.ts', '--config', 'asconfig.json', '--target', 'example', '--baseDir', repoRoot, '--outFile', '.tmp/cli/passthrough.wasm'],
      { stdout: asc.createMemoryStream(), stderr: asc.createMemoryStream() });
    if (error) throw new Error(`asc failed for passthrough: ${error.message}\n${stderr.toString()}`);
  }
  return new Uint8Array(readFileSync(out));
}
