// Network (TCP) filter contexts: the Rust probe behind a TCP listener in Envoy 1.40 (wasm network
// filter, then tcp_proxy to a Node server answering `pong:<data>`; the client then ends), and the same
// connection played in the harness: the probe's log lines are the same.
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEnvoy } from '../../host/envoy/launcher.ts';
import { loadPlugin, PeerType } from '../../host/harness/index.ts';
import { repoRoot } from './fixtures.ts';

const wasm = join(repoRoot, 'test/fixtures/rust/wasm/probe.wasm');
const probeLines = (log: string) => [...log.matchAll(/wasm log probe probe probe: (.*)$/gm)].map((m) => m[1]!);

async function inEnvoy(): Promise<string[]> {
  // The upstream answers and keeps its side open; the client's end then closes both sides in turn.
  const upstream = createServer((s) => {
    s.on('data', (d) => {
      s.write('pong:' + d.toString());
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const upPort = (upstream.address() as AddressInfo).port;
  const envoy = await startEnvoy({
    filters: [],
    edit: (b) => {
      b.static_resources.clusters.push({
        name: 'tcp_up',
        type: 'STATIC',
        connect_timeout: '1s',
        load_assignment: {
          cluster_name: 'tcp_up',
          endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: upPort } } } }] }],
        },
      });
      b.static_resources.listeners.push({
        name: 'tcp',
        address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        filter_chains: [
          {
            filters: [
              {
                name: 'probe',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm',
                  config: {
                    name: 'probe',
                    root_id: 'probe',
                    vm_config: { vm_id: 'probe', runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: wasm } } },
                  },
                },
              },
              {
                name: 'envoy.filters.network.tcp_proxy',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
                  stat_prefix: 'tcp',
                  cluster: 'tcp_up',
                },
              },
            ],
          },
        ],
      });
    },
  });
  try {
    const port = Number(new URL(envoy.listeners['tcp']!).port);
    const reply = await new Promise<string>((resolve, reject) => {
      const c = connect(port, '127.0.0.1', () => c.write('ping'));
      let got = '';
      c.on('data', (d) => {
        got += d;
        if (got === 'pong:ping') c.end();
      });
      c.on('close', () => resolve(got));
      c.on('error', reject);
    });
    assert.equal(reply, 'pong:ping');
    await envoy.waitForLog(/wasm log probe probe probe: log\n[^\n]*maps/);
    return probeLines(envoy.logs());
  } finally {
    await envoy.stop();
    upstream.close();
  }
}

test('a network filter context: new connection, data both ways, ends, closes, log, as in Envoy 1.40', async () => {
  const plugin = await loadPlugin(wasm, { pluginName: 'probe', rootId: 'probe', vmId: 'probe' });
  const c = plugin.connection();
  assert.equal(c.downstreamData('ping').status, 0);
  c.upstreamData('pong:ping');
  // The client ends; tcp_proxy passes it on; the upstream ends; Envoy closes both (measured order).
  c.downstreamData('', true);
  c.upstreamData('', true);
  c.closeUpstream(PeerType.Unknown);
  c.closeDownstream(PeerType.Local);
  c.complete();
  const harness = probeLines(plugin.envoyLogLines().join('\n'));
  assert.deepEqual(await inEnvoy(), harness);
});
