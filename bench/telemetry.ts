// Telemetry filter cost. Prints numbers; never asserts. Run: npm run bench:telemetry
//  1. Harness: request lifecycles per second through build/telemetry.wasm (destination reporter,
//     peer header, access log on and off) beside build/example.wasm (the harness's own floor).
//  2. Envoy 1.40 (--concurrency 1), one run each, same load (wrk when installed, else a Node
//     keep-alive client) on loopback against a direct_response route (no upstream, so the proxy
//     is what is measured): stats disabled (stats_matcher reject_all), Envoy's native stats alone
//     (no Wasm), the example Wasm filter (Wasm's own floor), telemetry without and with its access log.
//     Rounds are interleaved and the best of BENCH_ROUNDS (default 2) is kept.
// BENCH_ONLY=harness|envoy runs one half. BENCH_SECONDS (default 3) per measurement; BENCH_CONNECTIONS (default 16).
import { spawn, spawnSync } from 'node:child_process';
import { loadPlugin } from '../host/harness/index.ts';
import { connectionManagers } from '../host/envoy/config.ts';
import { startEnvoy, type Envoy } from '../host/envoy/launcher.ts';
import { NODE_PRODUCTPAGE, SLEEP, peerHeader } from '../host/fixtures/peers.ts';
import { closedLoopLoad, harnessLoop } from './load.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? '3');
const connections = Number(process.env.BENCH_CONNECTIONS ?? '16');
const peer = peerHeader(SLEEP);
const node = { id: 'bench', cluster: 'bench', metadata: NODE_PRODUCTPAGE };

// ---------------------------------------------------------------- harness

async function harnessRate(wasm: string, config: object, headers: Record<string, string>): Promise<number> {
  const plugin = await loadPlugin(wasm, { config, pluginName: 'b', rootId: 'b', vmId: 'b', node });
  const req = {
    headers: {
      ':method': 'GET',
      ':path': '/bench',
      ':authority': 'productpage.default.svc.cluster.local:9080',
      'user-agent': 'bench',
      ...headers,
    },
  };
  const run = async (ms: number) => {
    const { n, elapsed } = await harnessLoop(plugin, req, ms, 200);
    return n / (elapsed / 1000);
  };
  await run(300);
  return run(seconds * 1000);
}

const only = process.env.BENCH_ONLY ?? ''; // 'harness' or 'envoy' to run one half
if (only !== 'envoy') {
  const example = await harnessRate('build/example.wasm', { header: 'x-asmesh-example', value: 'hello' }, {});
  const telLog = await harnessRate(
    'build/telemetry.wasm',
    {},
    { 'x-asmesh-peer': peer, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  );
  const telNoLog = await harnessRate('build/telemetry.wasm', { accessLog: { enabled: false } }, { 'x-asmesh-peer': peer });
  const us = (r: number) => (1e6 / r).toFixed(2);
  console.log(
    `harness: example filter          ${Math.round(example).toLocaleString('en')} req/s, ${us(example)} us/request (harness floor)`,
  );
  console.log(
    `harness: telemetry, access log   ${Math.round(telLog).toLocaleString('en')} req/s, ${us(telLog)} us/request (+${(1e6 / telLog - 1e6 / example).toFixed(2)} us over example)`,
  );
  console.log(
    `harness: telemetry, no log       ${Math.round(telNoLog).toLocaleString('en')} req/s, ${us(telNoLog)} us/request (+${(1e6 / telNoLog - 1e6 / example).toFixed(2)} us over example)`,
  );
}

// ---------------------------------------------------------------- envoy

function directResponse(bootstrap: any): void {
  for (const hcm of connectionManagers(bootstrap)) {
    for (const vh of hcm.route_config?.virtual_hosts ?? [])
      vh.routes = [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'ok' } } }];
  }
}

/** wrk's requests/s, or null without wrk. Asynchronous: Envoy's log pipe must keep draining meanwhile. */
async function wrk(url: string): Promise<number | null> {
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) return null;
  const child = spawn('wrk', ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '-H', `x-asmesh-peer: ${peer}`, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  await new Promise((resolve) => child.on('exit', resolve));
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  return m === null ? null : Number(m[1]);
}

async function nodeLoad(url: string): Promise<number> {
  const load = await closedLoopLoad({
    url,
    path: '/bench',
    seconds,
    concurrency: connections,
    warmupMs: 0,
    headers: () => ({ 'x-asmesh-peer': peer }),
    check: () => true,
  });
  return load.rps;
}

async function envoyRate(opts: Parameters<typeof startEnvoy>[0]): Promise<{ rate: number; tool: string }> {
  let envoy: Envoy | null = null;
  try {
    envoy = await startEnvoy({ ...opts, node, logArgs: ['-l', 'info'] });
    const url = `${envoy.listenerUrl}/bench`;
    const viaWrk = await wrk(url);
    return { rate: viaWrk ?? (await nodeLoad(url)), tool: viaWrk === null ? 'node client' : 'wrk' };
  } finally {
    await envoy?.stop();
  }
}

if (only !== 'harness') {
  const rejectAll = (b: any) => {
    directResponse(b);
    b.stats_config = { ...b.stats_config, stats_matcher: { reject_all: true } };
  };
  const variants: [string, Parameters<typeof startEnvoy>[0]][] = [
    ['stats disabled (reject_all), no Wasm', { filters: [], edit: rejectAll }],
    ['native stats alone, no Wasm', { filters: [], edit: directResponse }],
    [
      'native stats + example Wasm filter',
      { filters: [{ name: 'example', config: { header: 'x-asmesh-example', value: 'hello' } }], edit: directResponse },
    ],
    [
      'native stats + telemetry, access log off',
      { filters: [{ name: 'telemetry', config: { accessLog: { enabled: false } } }], edit: directResponse },
    ],
    ['native stats + telemetry, access log on', { filters: [{ name: 'telemetry', config: {} }], edit: directResponse }],
  ];
  // Interleaved rounds, best of each: the machine is shared, so a single run is at the mercy of other load.
  const rounds = Number(process.env.BENCH_ROUNDS ?? '2');
  const best = new Map<string, { rate: number; tool: string }>();
  for (let r = 0; r < rounds; r++) {
    for (const [label, opts] of variants) {
      const got = await envoyRate(opts);
      if ((best.get(label)?.rate ?? 0) < got.rate) best.set(label, got);
    }
  }
  const base = best.get('native stats alone, no Wasm')!.rate;
  for (const [label] of variants) {
    const { rate, tool } = best.get(label)!;
    const extra = 1e6 / rate - 1e6 / base;
    console.log(
      `envoy: ${label.padEnd(42)} ${Math.round(rate).toLocaleString('en').padStart(7)} req/s  (${extra >= 0 ? '+' : ''}${extra.toFixed(1)} us/request vs native stats; best of ${rounds}, ${tool}, ${connections} connections, ${seconds} s)`,
    );
  }
}
