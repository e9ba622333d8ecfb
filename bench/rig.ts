// The Envoy rig's own costs: Envoy start-to-ready time and sequential requests per second through
// the example filter (one keep-alive connection), beside the harness chain doing the same.
// Run: node --import tsx bench/rig.ts
import { Agent } from 'node:http';
import { startEnvoy, send } from '../host/envoy/launcher.ts';
import { loadChain } from '../host/harness/index.ts';
import { CLUSTER_IDENTITIES, EchoService, Upstreams } from '../host/upstream/echo.ts';
import { CLUSTER_HEADER } from '../assembly/lib/contracts.ts';

const filters = [{ name: 'example' as const, config: { header: 'x-asmesh-example', value: 'bench' } }];
const upstreams = await Upstreams.start();

const starts: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const envoy = await startEnvoy({ filters, upstreams: upstreams.endpoints() });
  starts.push(performance.now() - t0);
  await envoy.stop();
}
console.log(`envoy start to /ready: median ${starts.sort((a, b) => a - b)[2]!.toFixed(0)} ms (5 runs)`);

const envoy = await startEnvoy({ filters, upstreams: upstreams.endpoints(), logArgs: ['-l', 'warn'] });
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
let n = 0;
const t0 = performance.now();
while (performance.now() - t0 < 3000) {
  await send(envoy.listenerUrl, '/', { headers: { host: 'service_b' }, agent });
  n++;
}
console.log(`envoy: ${(n / ((performance.now() - t0) / 1000)).toFixed(0)} sequential requests/s through the example filter (${n} in 3 s)`);
agent.destroy();
await envoy.stop();
await upstreams.close();

const services = Object.fromEntries(
  Object.entries(CLUSTER_IDENTITIES).map(([cluster, identity]) => {
    const service = new EchoService(identity);
    return [cluster, (req: Parameters<EchoService['handle']>[0]) => service.handle(req)];
  }),
);
const chain = await loadChain({
  filters: filters.map((f) => ({ name: f.name, wasm: `build/${f.name}.wasm`, config: f.config })),
  router: { clusterHeader: CLUSTER_HEADER, defaultCluster: 'outbound|80||service_b' },
  clusters: services,
});
let m = 0;
const t1 = performance.now();
while (performance.now() - t1 < 3000) {
  await chain.request({ path: '/', authority: 'service_b' });
  m++;
}
console.log(`harness chain: ${(m / ((performance.now() - t1) / 1000)).toFixed(0)} requests/s through the example filter (${m} in 3 s)`);
chain.close();
