import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPlugin } from '../../host/harness/index.ts';
import { fixture, line, lines, probe, request } from './fixtures.ts';

test('proxy_on_configure returning false fails the load with the filter log lines', async () => {
  await assert.rejects(probe({ config: 'fail' }), (error: Error) => {
    assert.match(error.message, /Failed to configure base Wasm plugin/);
    assert.match(error.message, /\[error\] probe: config rejected/);
    return true;
  });
});

test('proxy_on_vm_start returning false fails the load', async () => {
  await assert.rejects(probe({ vmConfig: 'vm-fail' }), /Failed to start base Wasm/);
});

test('a module importing something Envoy does not provide is refused, naming the import', async () => {
  const wasm = await fixture('badimport');
  await assert.rejects(loadPlugin(wasm), /missing import: env\.proxy_not_a_thing/);
});

test('a module without the ABI version export is refused', async () => {
  // (module (memory (export "memory") 1))
  const wasm = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1, 7, 10, 1, 6, 109, 101, 109, 111, 114, 121, 2, 0]);
  await assert.rejects(loadPlugin(wasm), /proxy_abi_version_0_2_1/);
});

test('every phase in order, with end_of_stream flags, then log, done, delete', async () => {
  const plugin = await probe();
  const r = await plugin.http(
    request('none', {}, { body: 'b', trailers: { 'x-t': 'tv' }, upstream: { status: 200, body: 'resp', trailers: { 'x-rt': '1' } } }),
  );
  assert.deepEqual(
    r.phases.map((p) => p.phase),
    ['request_headers', 'request_body', 'request_trailers', 'response_headers', 'response_body', 'response_trailers'],
  );
  assert.equal(line(r.logs, 'request_headers'), 'request_headers count=4 eos=0');
  assert.equal(line(r.logs, 'request_body'), 'request_body size=1 eos=0 rc=0 body=b');
  assert.equal(line(r.logs, 'request_trailers'), 'request_trailers count=1 x-t=tv');
  assert.equal(line(r.logs, 'response_body'), 'response_body size=4 eos=0 body=resp');
  assert.equal(line(r.logs, 'response_trailers'), 'response_trailers count=1');
  assert.deepEqual(
    r.logs.slice(-3).map((l) => l.message),
    [`on_log ${r.contextId}`, `on_done ${r.contextId}`, `on_delete ${r.contextId}`],
  );
  assert.deepEqual(r.upstreamRequest!.trailers, [['x-t', 'tv']]);
});

test('a trap fails the stream with 503 wasm_fail_stream, and later streams too (fail closed)', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('trap'));
  assert.equal(r.response.status, 503);
  assert.equal(r.response.local, true);
  assert.equal(r.response.details, 'wasm_fail_stream');
  assert.equal(r.response.bodyText, '');
  assert.equal(r.upstreamRequest, null);
  assert.equal(lines(r.logs, 'Function: proxy_on_request_headers failed').length, 1);
  assert.equal(plugin.failed, true);
  const next = await plugin.http(request('none'));
  assert.equal(next.response.status, 503);
  assert.deepEqual(next.phases, []);
});

test('fail open: a trap lets the request through without the filter', async () => {
  const plugin = await probe({ failOpen: true });
  const r = await plugin.http(request('trap'));
  assert.equal(r.response.status, 200);
  assert.notEqual(r.upstreamRequest, null);
  assert.equal(
    r.response.headers.some(([k]) => k === 'x-probe'),
    false,
  );
});

test('proxy_close_stream resets the stream: no response, details wasm_fail_stream', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('close'));
  assert.equal(line(r.logs, 'close rc='), 'close rc=0');
  assert.equal(r.response.reset, true);
  assert.equal(r.response.status, 0);
  assert.equal(r.upstreamRequest, null);
});

test('misc host calls: log level, bad log level, WASI, effective context, continue, gRPC, bad pointers, proxy_done', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('misc'));
  const expected: Record<string, string> = {
    log_level: 'rc=0 level=0',
    log_bad_level: 'rc=2',
    random: 'rc=0',
    fd_write: 'rc=0 written=12',
    effective_bad: 'rc=2',
    effective_root: 'rc=0',
    effective_self: 'rc=0',
    continue_bad: 'rc=2',
    continue_downstream: 'rc=2',
    // An unknown cluster: ParseFailure (measured in Envoy 1.40, test/scenarios/rust.scenarios.ts).
    grpc_call: 'rc=4',
    grpc_cancel: 'rc=1',
    oob: 'rc=6',
    done: 'rc=0',
  };
  for (const [name, rest] of Object.entries(expected)) assert.equal(line(r.logs, name + ' rc='), `${name} ${rest}`);
  assert.deepEqual(
    r.logs.filter((l) => l.message === 'from stdout').map((l) => l.level),
    ['info'],
  );
});

test('logsAt and envoyLogLines', async () => {
  const plugin = await probe({ pluginName: 'probe', rootId: 'probe', vmId: 'probe' });
  assert.ok(plugin.logsAt('info').includes('configure rc=0 config=probe-config'));
  assert.deepEqual(plugin.logsAt('error'), []);
  // The root context's lines carry root_id and vm_id only (measured in Envoy 1.40).
  assert.ok(plugin.envoyLogLines().includes('[info] wasm log probe probe: configure rc=0 config=probe-config'));
});

test('the fixture compiles to a module that imports only what Envoy links', async () => {
  const { unsupportedImports } = await import('../../host/wasm/envoy-imports.ts');
  assert.deepEqual(unsupportedImports(new WebAssembly.Module(await fixture('probe'))), []);
});
