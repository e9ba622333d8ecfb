// Compiles test/cli/fixtures/passthrough.ts (a filter that accepts any configuration) once, with the
// repository's asconfig.json options, to .tmp/cli/passthrough.wasm.
import { compileAs } from '../harness/fixtures.ts';

export function passthroughWasm(): Promise<Uint8Array> {
  return compileAs(['test/cli/fixtures/passthrough.ts'], '.tmp/cli/passthrough.wasm', ['--config', 'asconfig.json', '--target', 'example']);
}
