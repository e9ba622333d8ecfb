// One steering filter per VirtualService (translate): the first removes a client's x-asmesh-cluster,
// later ones (`asmesh.chained`) keep an earlier one's decision. In the harness with the built filter.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadChain } from '../../host/harness/index.ts';
import { repoRoot } from '../harness/fixtures.ts';

const wasm = join(repoRoot, 'build/steering.wasm');
const vs = (host: string, chained: boolean) =>
  JSON.stringify({
    hosts: [host],
    http: [{ route: [{ destination: { host, subset: 'v2' } }] }],
    asmesh: { clusterName: 'outbound|{port}|{subset}|{fqdn}', port: 80, ...(chained ? { chained: true } : {}) },
  });
const fqdn = (h: string) => `outbound|80|v2|${h}.default.svc.cluster.local`;

test('two steering filters: each host its own VirtualService, a client-sent cluster header never used', async (t) => {
  if (!existsSync(wasm)) return t.skip('build/steering.wasm not built');
  const clusters = Object.fromEntries(['a', 'b', 'evil'].map((h) => [fqdn(h), () => ({ status: 200, headers: {}, body: h })]));
  const chain = await loadChain({
    filters: [
      { name: 'steering', wasm, config: vs('a', false) },
      { name: 'steering', wasm, config: vs('b', true) },
    ],
    router: { defaultCluster: 'default', clusterHeader: 'x-asmesh-cluster' },
    clusters: { ...clusters, default: () => ({ status: 200, headers: {}, body: 'default' }) },
  });
  try {
    await chain.settle();
    for (const [host, want] of [
      ['a', fqdn('a')],
      ['b', fqdn('b')],
    ]) {
      const r = await chain.request({ authority: host, headers: { 'x-asmesh-cluster': fqdn('evil') } });
      assert.equal(r.upstream?.cluster, want, host);
    }
    const other = await chain.request({ authority: 'c', headers: { 'x-asmesh-cluster': fqdn('evil') } });
    assert.equal(other.upstream?.cluster, 'default', 'a host of neither: the spoofed header was removed by the first');
  } finally {
    chain.close();
  }
});
