// Rebuilds the checked-in C++ fixture module (test/fixtures/cpp/wasm/cpp-examples.wasm) from
// test/fixtures/cpp/examples.cc and the vendored proxy-wasm C++ SDK, with Debian's clang for wasm32-wasi
// (apt-get install clang-19 lld-19 wasi-libc libc++-19-dev-wasm32 libc++abi-19-dev-wasm32
// libclang-rt-19-dev-wasm32): the SDK's own build uses emscripten, which is not installable here; plain
// clang + wasi-libc builds the same reactor module. npm test uses the checked-in file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'cpp');
const sdk = join(root, 'proxy-wasm-cpp-sdk');
// The SDK marks its entry points PROXY_WASM_KEEPALIVE (emscripten exports those); wasm-ld exports only what it is told.
const exports = [...readFileSync(join(sdk, 'proxy_wasm_intrinsics.cc'), 'utf8').matchAll(/PROXY_WASM_KEEPALIVE\s+[\w:]+\s+(\w+)\(/g)].map(
  (m) => m[1],
);
const out = join(root, 'wasm', 'cpp-examples.wasm');
mkdirSync(dirname(out), { recursive: true });
const clang = process.env.CLANGXX ?? 'clang++-19';
const args = [
  '--target=wasm32-wasi',
  '-std=c++17',
  '-O2',
  '-fno-exceptions',
  '-mexec-model=reactor',
  `-I${sdk}`,
  join(sdk, 'proxy_wasm_intrinsics.cc'),
  // Relative: the SDK's LOG_* macros print the source file name.
  'examples.cc',
  '-o',
  out,
  // The proxy_* host functions are imports from env; Envoy allocates through malloc.
  '-Wl,--allow-undefined',
  '-Wl,--strip-all',
  ...['malloc', ...exports].map((name) => `-Wl,--export=${name}`),
];
const r = spawnSync(clang, args, { cwd: root, stdio: 'inherit' });
if (r.error) {
  console.error(`${clang}: ${r.error.message} (see this script's header for the Debian packages)`);
  process.exit(1);
}
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`built test/fixtures/cpp/wasm/cpp-examples.wasm (${statSync(out).size} bytes)`);
