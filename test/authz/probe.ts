// Compiles test/authz/fixtures/verify-probe.ts (the authz signature layer as a test plugin) once per change.
import { compileAs } from '../harness/fixtures.ts';

const sources = [
  'test/authz/fixtures/verify-probe.ts',
  'filters/authz/verify.ts',
  'filters/authz/soft.ts',
  'filters/authz/authn.ts',
  'assembly/lib/jwt.ts',
];

export function verifyProbe(): Promise<Uint8Array> {
  // The repository's options (runtime, abort/trace/seed routed to the SDK) via the authz target.
  return compileAs(sources, '.tmp/authz/verify-probe.wasm', ['--config', 'asconfig.json', '--target', 'authz']);
}
