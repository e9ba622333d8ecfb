// Request lifecycles per second through the example filter in the harness (target: >= 100,000/s
// on one core). Prints numbers; never asserts. Run: npm run bench:harness
import { loadPlugin } from '../host/harness/index.ts';
import { harnessLoop } from './load.ts';

const wasm = process.argv[2] ?? 'build/example.wasm';
const seconds = Number(process.env.BENCH_SECONDS ?? '3');
const plugin = await loadPlugin(wasm, {
  config: { header: 'x-asmesh-example', value: 'hello' },
  pluginName: 'example',
  rootId: 'example',
  vmId: 'example',
});
const request = { headers: { ':method': 'GET', ':path': '/bench', ':authority': 'bench.test', 'user-agent': 'bench' } };

const run = (ms: number) => harnessLoop(plugin, request, ms, 500);

await run(500); // warm up V8 and the module
const heapBefore = process.memoryUsage().heapUsed;
const wasmBefore = plugin.wasmMemoryBytes();
const { n, elapsed } = await run(seconds * 1000);
const rate = n / (elapsed / 1000);
const heapAfter = process.memoryUsage().heapUsed;
console.log(`harness: ${n} request lifecycles (headers, body, response, log, done, delete) in ${(elapsed / 1000).toFixed(2)} s`);
console.log(`harness: ${Math.round(rate).toLocaleString('en')} lifecycles/s, ${(1e6 / rate).toFixed(2)} us each (target >= 100,000/s)`);
console.log(
  `harness: JS heap ${(heapBefore / 1048576).toFixed(1)} MiB -> ${(heapAfter / 1048576).toFixed(1)} MiB; wasm linear memory ${wasmBefore / 1024} KiB -> ${plugin.wasmMemoryBytes() / 1024} KiB`,
);
