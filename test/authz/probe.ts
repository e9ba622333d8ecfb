// Compiles test/authz/fixtures/verify-probe.ts (the authz signature layer as a test plugin) once per change.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../harness/fixtures.ts';

const sources = ['test/authz/fixtures/verify-probe.ts', 'filters/authz/verify.ts', 'filters/authz/soft.ts', 'filters/authz/authn.ts', 'assembly/lib/jwt.ts'];

export async function verifyProbe(): Promise<Uint8Array> {
  const out = join(repoRoot, '.tmp/authz/verify-probe.wasm');
  const newest = Math.max(...sources.map((s) => statSync(join(repoRoot, s)).mtimeMs));
  if (!existsSync(out) || statSync(out).mtimeMs < newest) {
    mkdirSync(join(repoRoot, '.tmp/authz'), { recursive: true });
    const asc = await import('assemblyscript/asc');
    // The repository's options (runtime, abort/trace/seed routed to the SDK) via the authz target.
    const { error, stderr } = await asc.main([
      'test/authz/fixtures/verify-probe.ts', '--config', 'asconfig.json', '--target', 'authz', '--baseDir', repoRoot, '--outFile', out,
    ], { stdout: asc.createMemoryStream(), stderr: asc.createMemoryStream() });
    if (error) throw new Error(`asc failed for verify-probe: ${error.message}\n${stderr.toString()}`);
  }
  return new Uint8Array(readFileSync(out));
}
