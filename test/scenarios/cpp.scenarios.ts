// A module built with the proxy-wasm C++ SDK (test/fixtures/cpp/: the SDK's http_wasm_example
// rewritten by us, the SDK's headers vendored), each scenario's log lines compared with what Envoy
// 1.40 logged. Rebuild the module: node scripts/build-cpp-fixtures.mjs (needs Debian's clang for wasm32-wasi).
import { join } from 'node:path';
import { repoRoot } from '../../host/envoy/install.ts';
import type { Scenario } from './types.ts';

const wasmDir = join(repoRoot, 'test/fixtures/cpp/wasm');
const filters = [{ name: 'cpp-examples', config: 'cpp' }];

export const scenarios: Scenario[] = [
  {
    name: 'C++ SDK example: headers and bodies both ways, a local reply, a stop continued by a tick',
    wasmDir,
    filters,
    steps: [
      { request: { path: '/get' }, expect: { status: 200, servedBy: 'service_b', responseHeaders: { 'x-wasm-custom': 'FOO' } } },
      { request: { method: 'POST', path: '/post', body: 'hello' }, expect: { status: 200, body: /^\[\d+ bytes\]\n$/ } },
      {
        request: { path: '/hello' },
        expect: { status: 200, servedBy: null, body: '[15 bytes]\n', responseHeaders: { 'x-cpp': 'reply' } },
      },
      {
        request: { method: 'POST', path: '/stop', body: 'abc', headers: { 'x-cpp-stop': '1' } },
        expect: { status: 200, servedBy: 'service_b' },
      },
    ],
    logLines: {
      match: /^cpp-examples: /,
      expect: [
        // Each VM configures: the base VM, the main thread's, the worker's.
        'cpp-examples: [examples.cc:20]::onConfigure() configured: cpp',
        'cpp-examples: [examples.cc:20]::onConfigure() configured: cpp',
        'cpp-examples: [examples.cc:20]::onConfigure() configured: cpp',
        'cpp-examples: [examples.cc:31]::onRequestHeaders() request headers /get 6 eos=1',
        'cpp-examples: [examples.cc:48]::onResponseHeaders() response headers 200 eos=0',
        'cpp-examples: [examples.cc:54]::onResponseBody() response body 217 eos=0',
        'cpp-examples: [examples.cc:54]::onResponseBody() response body 217 eos=1',
        'cpp-examples: [examples.cc:61]::onLog() log /get 200',
        'cpp-examples: [examples.cc:31]::onRequestHeaders() request headers /post 7 eos=0',
        'cpp-examples: [examples.cc:44]::onRequestBody() request body 5 eos=0',
        'cpp-examples: [examples.cc:44]::onRequestBody() request body 0 eos=1',
        'cpp-examples: [examples.cc:48]::onResponseHeaders() response headers 200 eos=0',
        'cpp-examples: [examples.cc:54]::onResponseBody() response body 245 eos=0',
        'cpp-examples: [examples.cc:54]::onResponseBody() response body 245 eos=1',
        'cpp-examples: [examples.cc:61]::onLog() log /post 200',
        'cpp-examples: [examples.cc:31]::onRequestHeaders() request headers /hello 6 eos=1',
        'cpp-examples: [examples.cc:48]::onResponseHeaders() response headers 200 eos=0',
        'cpp-examples: [examples.cc:54]::onResponseBody() response body 15 eos=1',
        'cpp-examples: [examples.cc:61]::onLog() log /hello 200',
        'cpp-examples: [examples.cc:31]::onRequestHeaders() request headers /stop 8 eos=0',
        'cpp-examples: [examples.cc:70]::onTick() tick: continuing',
        'cpp-examples: [examples.cc:44]::onRequestBody() request body 3 eos=1',
        'cpp-examples: [examples.cc:48]::onResponseHeaders() response headers 200 eos=0',
        'cpp-examples: [examples.cc:54]::onResponseBody() response body 260 eos=0',
        'cpp-examples: [examples.cc:54]::onResponseBody() response body 260 eos=1',
        'cpp-examples: [examples.cc:61]::onLog() log /stop 200',
      ],
    },
  },
];
