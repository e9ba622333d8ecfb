// Rebuilds the checked-in Rust fixture modules (test/fixtures/rust/wasm/*.wasm) from their sources
// with cargo (target wasm32-wasip1: `rustup target add wasm32-wasip1` where missing). npm test uses
// the checked-in files and never needs cargo. Also writes probe-abi-0-2-0.wasm: the probe with its
// ABI marker export renamed to proxy_abi_version_0_2_0 (what Go-SDK modules export).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'rust');
const target = join(root, '..', '..', '..', '.tmp', 'rust-fixtures');
const build = spawnSync('cargo', ['build', '--release', '--target', 'wasm32-wasip1', '--target-dir', target], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);
const out = join(root, 'wasm');
mkdirSync(out, { recursive: true });
for (const name of ['probe', 'sdk_examples']) {
  copyFileSync(join(target, 'wasm32-wasip1', 'release', `${name}.wasm`), join(out, `${name.replace('_', '-')}.wasm`));
}
// The export name has the same length in both versions: rename it in place.
const probe = readFileSync(join(out, 'probe.wasm'));
const from = Buffer.from('proxy_abi_version_0_2_1');
const at = probe.indexOf(from);
if (at < 0 || probe.indexOf(from, at + 1) >= 0) throw new Error('probe.wasm: expected exactly one proxy_abi_version_0_2_1');
Buffer.from('proxy_abi_version_0_2_0').copy(probe, at);
writeFileSync(join(out, 'probe-abi-0-2-0.wasm'), probe);
for (const f of ['probe.wasm', 'sdk-examples.wasm', 'probe-abi-0-2-0.wasm'])
  console.log(`built test/fixtures/rust/wasm/${f} (${readFileSync(join(out, f)).length} bytes)`);
