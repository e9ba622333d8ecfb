import assert from 'node:assert/strict';
import { test } from 'node:test';
import { line, lines, probe, request } from './fixtures.ts';

test('tick period, fake clock and a request continued from proxy_on_tick', async () => {
  const plugin = await probe({ nowMs: 1_000 });
  const paused = await plugin.http(request('timer'));
  assert.equal(line(paused.logs, 'tick_period rc='), 'tick_period rc=0');
  assert.equal(paused.paused, true);
  assert.equal(plugin.tickPeriodMs, 100);
  await plugin.tick(50); // not due yet
  assert.deepEqual(lines(plugin.logs, 'tick '), []);
  await plugin.tick(50);
  assert.deepEqual(lines(plugin.logs, 'tick '), ['tick context=1']);
  const done = await paused.completion!;
  assert.equal(done.response.status, 200);
  assert.notEqual(done.upstreamRequest, null);
  assert.equal(plugin.nowMs(), 1_100);
  assert.equal(line(plugin.logs, 'continue rc='), 'continue rc=0');
});

test('StopAllIteration holds the request until continued; advance() moves the clock without ticking', async () => {
  const plugin = await probe();
  const paused = await plugin.http(request('stop-all', {}, { body: 'later' }));
  assert.equal(paused.paused, true);
  // The body is not delivered while headers stop all iteration.
  assert.deepEqual(lines(paused.logs, 'request_body'), []);
  plugin.advance(500);
  assert.deepEqual(lines(plugin.logs, 'tick '), []);
  assert.equal(plugin.nowMs(), 500);
  await plugin.tick();
  const done = await paused.completion!;
  assert.deepEqual(lines(done.logs, 'request_body'), ['request_body size=5 eos=1 rc=0 body=later']);
  assert.equal(done.upstreamRequest!.bodyText, '<later>');
});

test('current time comes from the fake clock (proxy_get_current_time_nanoseconds and WASI clock_time_get)', async () => {
  const plugin = await probe({ nowMs: 1234 });
  const r = await plugin.http(request('misc'));
  assert.equal(line(r.logs, 'time rc='), 'time rc=0 ns=1234000000');
  assert.equal(line(r.logs, 'clock rc='), 'clock rc=0 ns=1234000000');
});
