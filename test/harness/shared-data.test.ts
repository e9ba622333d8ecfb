import assert from 'node:assert/strict';
import { test } from 'node:test';
import { line, probe, request } from './fixtures.ts';

test('shared data: NotFound, set, get with cas, CasMismatch on stale cas', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('shared'));
  assert.equal(line(r.logs, 'get_missing rc='), 'get_missing rc=1');
  assert.equal(line(r.logs, 'set rc='), 'set rc=0');
  assert.equal(line(r.logs, 'get rc='), 'get rc=0 value=v1 cas=1');
  assert.equal(line(r.logs, 'set_stale rc='), 'set_stale rc=8');
  assert.equal(line(r.logs, 'set_cas rc='), 'set_cas rc=0');
  assert.equal(line(r.logs, 'set_old_cas rc='), 'set_old_cas rc=8');
  const entry = plugin.sharedData.get('probe-key')!;
  assert.equal(Buffer.from(entry.value).toString(), 'v2');
  assert.equal(entry.cas, 2);
});

test('shared queues: register, resolve, NotFound, Empty, enqueue wakes proxy_on_queue_ready on the root context', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('queue'));
  assert.equal(line(r.logs, 'register rc='), 'register rc=0 id=1');
  assert.equal(line(r.logs, 'resolve rc='), 'resolve rc=0 id=1');
  assert.equal(line(r.logs, 'resolve_missing rc='), 'resolve_missing rc=1');
  assert.equal(line(r.logs, 'dequeue_empty rc='), 'dequeue_empty rc=7');
  assert.equal(line(r.logs, 'dequeue_unknown rc='), 'dequeue_unknown rc=1');
  assert.equal(line(r.logs, 'enqueue_unknown rc='), 'enqueue_unknown rc=1');
  assert.equal(line(r.logs, 'enqueue rc='), 'enqueue rc=0');
  assert.equal(line(r.logs, 'queue_ready'), 'queue_ready context=1 queue=1 rc=0 item=item-1');
});

test('a test inspects a shared queue and enqueues on it as another VM would (proxy_on_queue_ready follows)', async () => {
  const plugin = await probe();
  assert.equal(plugin.sharedQueue('probe-queue'), undefined);
  await plugin.http(request('queue'));
  // The probe's own proxy_on_queue_ready dequeued its item: the queue is empty again.
  assert.deepEqual(plugin.sharedQueue('probe-queue'), []);
  plugin.enqueueSharedQueue('probe-queue', 'from-test');
  assert.equal(plugin.logs.at(-1)?.message, 'queue_ready context=1 queue=1 rc=0 item=from-test');
  assert.throws(() => plugin.enqueueSharedQueue('nope', 'x'), /no shared queue nope/);
});
