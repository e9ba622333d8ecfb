import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePairs, encodePairs } from '../../host/harness/index.ts';
import { line, probe, request } from './fixtures.ts';

test('pairs codec: count, sizes, NUL-terminated keys and values', () => {
  const encoded = encodePairs([
    ['a', 'bc'],
    ['', 'x'],
  ]);
  assert.deepEqual([...encoded], [2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x61, 0, 0x62, 0x63, 0, 0, 0x78, 0]);
  assert.deepEqual(decodePairs(encoded), [
    ['a', 'bc'],
    ['', 'x'],
  ]);
  assert.equal(decodePairs(encoded.subarray(0, 10)), null);
  assert.deepEqual(decodePairs(new Uint8Array(0)), []);
});

test('get returns the first value, case-insensitively; missing key is NotFound', async () => {
  const plugin = await probe();
  let r = await plugin.http(
    request(
      'get',
      { 'x-key': 'X-Multi' },
      {
        headers: [
          [':method', 'GET'],
          [':path', '/'],
          [':authority', 'h'],
          ['x-op', 'get'],
          ['x-key', 'X-Multi'],
          ['x-map', '0'],
          ['x-multi', 'first'],
          ['x-multi', 'second'],
        ],
      },
    ),
  );
  assert.equal(line(r.logs, 'get rc='), 'get rc=0 value=first');
  r = await plugin.http(request('get', { 'x-map': '0', 'x-key': 'absent' }));
  assert.equal(line(r.logs, 'get rc='), 'get rc=1 value=');
});

test('a map that does not exist in the phase is BadArgument (response headers during request headers)', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('resp-in-req'));
  assert.equal(line(r.logs, 'response_in_request'), 'response_in_request rc=2');
  // Envoy drops the request map once request headers continued: the response phase cannot read it.
  assert.match(line(r.logs, 'response_headers'), /request_map=absent/);
});

test('add, replace, remove lower-case keys; replace keeps one value', async () => {
  const plugin = await probe();
  const r = await plugin.http(
    request(
      'mutate',
      { 'x-map': '0', 'x-dup': 'a', 'x-gone': 'b' },
      {
        headers: [
          [':method', 'GET'],
          [':path', '/'],
          [':authority', 'h'],
          ['x-op', 'mutate'],
          ['x-map', '0'],
          ['x-dup', 'a'],
          ['x-dup', 'b'],
          ['x-gone', '1'],
          ['x-gone', '2'],
        ],
      },
    ),
  );
  for (const op of ['add', 'add2', 'replace', 'remove']) assert.equal(line(r.logs, op + ' rc='), `${op} rc=0`);
  const up = r.upstreamRequest!.headers;
  assert.deepEqual(
    up.filter(([k]) => k === 'x-added'),
    [
      ['x-added', 'one'],
      ['x-added', 'two'],
    ],
  );
  assert.deepEqual(
    up.filter(([k]) => k === 'x-dup'),
    [['x-dup', 'replaced']],
  );
  assert.equal(
    up.some(([k]) => k === 'x-gone'),
    false,
  );
});

test('get_header_map_pairs encodes the map; size is the sum of key and value bytes', async () => {
  const plugin = await probe();
  const r = await plugin.http({
    headers: [
      [':path', '/'],
      ['x-op', 'pairs'],
      ['x-map', '0'],
    ],
  });
  const hex = line(r.logs, 'pairs rc=0').split('hex=')[1]!;
  assert.deepEqual(decodePairs(Buffer.from(hex, 'hex')), [
    [':path', '/'],
    ['x-op', 'pairs'],
    ['x-map', '0'],
  ]);
  assert.equal(line(r.logs, 'size rc='), `size rc=0 size=${':path/x-oppairsx-map0'.length}`);
});

test('pairs of a map absent in the phase: Ok and empty; its size: BadArgument', async () => {
  const plugin = await probe();
  const r = await plugin.http({
    headers: [
      [':path', '/'],
      ['x-op', 'pairs'],
      ['x-map', '3'],
    ],
  });
  assert.equal(line(r.logs, 'pairs rc='), 'pairs rc=0 hex=');
  assert.equal(line(r.logs, 'size rc='), 'size rc=2 size=0');
});

test('set_header_map_pairs replaces the whole map; malformed pairs are BadArgument', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('set-pairs'));
  assert.equal(line(r.logs, 'set_pairs rc='), 'set_pairs rc=0');
  assert.equal(line(r.logs, 'set_pairs_bad rc='), 'set_pairs_bad rc=2');
  // Set as [x-only, :path]: Envoy adds each pair as addCopy does, a pseudo-header before the others
  // (rust.scenarios.ts "probe: header edits in map order").
  assert.deepEqual(r.upstreamRequest!.headers, [
    [':path', '/rewritten'],
    ['x-only', 'yes'],
  ]);
});

test('response headers are writable in the response phase and reach the client', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('none', {}, { upstream: { status: 201, headers: { 'x-up': '1' }, body: 'created' } }));
  assert.equal(r.response.status, 201);
  assert.deepEqual(r.response.headers, [
    [':status', '201'],
    ['x-up', '1'],
    ['x-probe', 'seen'],
  ]);
  assert.equal(line(r.logs, 'response_headers'), 'response_headers count=2 eos=0 status=201 request_map=absent');
});
