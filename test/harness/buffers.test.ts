// Bodies here come in one frame that ends the stream (bodyFrames 'last-chunk'): these tests are about buffers, not framing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { line, lines, probe, request } from './fixtures.ts';

test('request body: bytes, slices, status, past-the-end read, prepend/append, bad splice', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('body', {}, { body: 'hello', bodyFrames: 'last-chunk' }));
  assert.equal(line(r.logs, 'request_headers'), 'request_headers count=4 eos=0');
  assert.equal(line(r.logs, 'request_body'), 'request_body size=5 eos=1 rc=0 body=hello');
  assert.equal(line(r.logs, 'status rc='), 'status rc=0 length=5 flags=0');
  assert.equal(line(r.logs, 'slice rc='), 'slice rc=0 value=llo');
  assert.equal(line(r.logs, 'past_end rc='), 'past_end rc=0 size=0');
  assert.equal(line(r.logs, 'prepend rc='), 'prepend rc=0');
  assert.equal(line(r.logs, 'append rc='), 'append rc=0');
  assert.equal(line(r.logs, 'middle rc='), 'middle rc=2');
  assert.equal(line(r.logs, 'config_write rc='), 'config_write rc=2');
  assert.equal(r.upstreamRequest!.bodyText, '<hello>');
  // The default upstream echoes the body; the response body phase sees it.
  assert.equal(line(r.logs, 'response_body'), 'response_body size=7 eos=1 body=<hello>');
});

test('the body buffer outside its phase reads empty and cannot be written (Unimplemented)', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('body', {}, { body: 'x', bodyFrames: 'last-chunk' }));
  assert.equal(line(r.logs, 'body_in_headers'), 'body_in_headers rc=0 size=0');
  assert.equal(line(r.logs, 'set_body_in_headers'), 'set_body_in_headers rc=12');
});

test('replacing the whole body changes what the upstream receives', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('none', {}, { body: 'replace', bodyFrames: 'last-chunk' }));
  assert.equal(line(r.logs, 'replace rc='), 'replace rc=0');
  assert.equal(r.upstreamRequest!.bodyText, 'REPLACED');
});

test('configuration buffers: VM config always, plugin config only in on_configure, bad type BadArgument', async () => {
  const plugin = await probe({ config: 'my-config', vmConfig: 'my-vm' });
  assert.deepEqual(lines(plugin.logs, 'configure'), ['configure rc=0 config=my-config']);
  assert.deepEqual(lines(plugin.logs, 'vm_start'), ['vm_start rc=0 vm_config=my-vm']);
  const r = await plugin.http(request('misc'));
  assert.equal(line(r.logs, 'plugin_config_outside'), 'plugin_config_outside rc=1');
  assert.equal(line(r.logs, 'vm_config'), 'vm_config rc=0 value=my-vm');
  assert.equal(line(r.logs, 'buffer_bad_type'), 'buffer_bad_type rc=2');
  assert.equal(line(r.logs, 'call_body_outside'), 'call_body_outside rc=1');
});

test('stream(): a buffered body grows across chunks', async () => {
  const plugin = await probe();
  const s = plugin.stream();
  assert.equal(s.requestHeadersPhase({ ':path': '/', 'x-op': 'none' }), 0);
  assert.equal(s.requestBodyPhase('buffer', false), 1); // StopIterationAndBuffer
  assert.equal(s.requestBodyPhase('-more', true), 0);
  assert.deepEqual(
    plugin.logsAt('info').filter((m) => m.startsWith('request_body')),
    [
      'request_body size=6 eos=0 rc=0 body=buffer',
      // The probe wrapped the first chunk in < >; Envoy's buffer keeps that edit.
      'request_body size=13 eos=1 rc=0 body=<buffer>-more',
    ],
  );
  s.complete();
  assert.deepEqual(plugin.logsAt('info').slice(-3), [`on_log ${s.contextId}`, `on_done ${s.contextId}`, `on_delete ${s.contextId}`]);
});
