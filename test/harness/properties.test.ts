import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePairs } from '../../host/harness/index.ts';
import { line, probe, request } from './fixtures.ts';

async function property(
  path: string,
  opts: Parameters<typeof probe>[0] = {},
  properties: Record<string, never> | Record<string, unknown> = {},
) {
  const plugin = await probe(opts);
  const r = await plugin.http(request('property', { 'x-path': path }, { properties: properties as never }));
  const [, rc, hex] = /property rc=(\d+) hex=(.*)/.exec(line(r.logs, 'property rc='))!;
  return { rc: Number(rc), bytes: Buffer.from(hex!, 'hex') };
}

test('strings raw, integers 8-byte little-endian, booleans 1 byte, doubles IEEE', async () => {
  assert.equal((await property('source.address', {}, { 'source.address': '10.0.0.1:5000' })).bytes.toString(), '10.0.0.1:5000');
  assert.equal((await property('source.port', {}, { 'source.port': 5000 })).bytes.readBigInt64LE(), 5000n);
  assert.deepEqual([...(await property('connection.mtls', {}, { 'connection.mtls': true })).bytes], [1]);
  assert.equal((await property('x.ratio', {}, { 'x.ratio': 0.5 })).bytes.readDoubleLE(), 0.5);
  assert.equal(
    (
      await property('connection.uri_san_peer_certificate', {}, { 'connection.uri_san_peer_certificate': 'spiffe://td/ns/a/sa/b' })
    ).bytes.toString(),
    'spiffe://td/ns/a/sa/b',
  );
});

test('attributes derived from the stream: request.path, request.method, request.headers as pairs', async () => {
  assert.equal((await property('request.path')).bytes.toString(), '/probe');
  assert.equal((await property('request.method')).bytes.toString(), 'GET');
  assert.equal((await property('request.host')).bytes.toString(), 'example.test');
  const headers = decodePairs((await property('request.headers')).bytes)!;
  assert.deepEqual(
    headers.find(([k]) => k === 'x-op'),
    ['x-op', 'property'],
  );
  assert.equal((await property('request.headers.x-op')).bytes.toString(), 'property');
});

test('plugin attributes and node metadata', async () => {
  const opts = {
    pluginName: 'probe',
    rootId: 'probe-root',
    vmId: 'probe-vm',
    node: { id: 'sidecar~1', cluster: 'svc-a', metadata: { ISTIO_VERSION: '1.24' } },
    properties: { 'xds.cluster_name': 'outbound|80||b' },
  };
  assert.equal((await property('plugin_name', opts)).bytes.toString(), 'probe');
  assert.equal((await property('plugin_root_id', opts)).bytes.toString(), 'probe-root');
  assert.equal((await property('plugin_vm_id', opts)).bytes.toString(), 'probe-vm');
  assert.equal((await property('xds.node.id', opts)).bytes.toString(), 'sidecar~1');
  // Envoy 1.40 has no `node` attribute (measured with test/fixtures/rust/probe): only xds.node.
  assert.equal((await property('node.id', opts)).rc, 1);
  assert.equal((await property('xds.node.cluster', opts)).bytes.toString(), 'svc-a');
  assert.equal((await property('xds.node.metadata.ISTIO_VERSION', opts)).bytes.toString(), '1.24');
  assert.equal((await property('xds.cluster_name', opts)).bytes.toString(), 'outbound|80||b');
});

test('unknown attribute is NotFound', async () => {
  assert.equal((await property('no.such.thing')).rc, 1);
  assert.equal((await property('xds.node.metadata.MISSING', { node: { metadata: {} } })).rc, 1);
});

test('set_property writes filter state readable by its path', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('set-property'));
  assert.equal(line(r.logs, 'set_property rc='), 'set_property rc=0');
  assert.equal(line(r.logs, 'get_property rc='), 'get_property rc=0 value=my value');
});
