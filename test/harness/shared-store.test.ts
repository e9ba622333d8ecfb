// Several VMs of one vm_id sharing data, as Envoy's worker VMs do: plugins given one SharedStore.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedStore } from '../../host/harness/index.ts';
import { line, probe, request } from './fixtures.ts';

test("shared store: a second VM of the same vm_id sees the first one's data and CAS sequence", async () => {
  const store = new SharedStore('probe-vm-id');
  const a = await probe({ vmId: 'probe-vm-id', sharedStore: store });
  const b = await probe({ vmId: 'probe-vm-id', sharedStore: a.sharedStore });
  const alone = await probe({ vmId: 'probe-vm-id' });
  await a.http(request('shared')); // a: set v1, then v2 by CAS
  const rb = await b.http(request('shared'));
  // b writes over a's entry: one CAS sequence for both VMs (a's writes were cas 1 and 2).
  assert.equal(line(rb.logs, 'get rc='), 'get rc=0 value=v1 cas=3');
  assert.equal(line(rb.logs, 'set_cas rc='), 'set_cas rc=0');
  assert.equal(a.sharedData, b.sharedData);
  assert.equal(a.sharedData.get('probe-key')!.cas, 4, "a sees b's write");
  const ralone = await alone.http(request('shared'));
  assert.equal(line(ralone.logs, 'get rc='), 'get rc=0 value=v1 cas=1', 'a plugin with its own store has its own data');
});

test('shared store: only for plugins of its vm_id', async () => {
  await assert.rejects(probe({ vmId: 'other', sharedStore: new SharedStore('probe-vm-id') }), /Envoy shares data only within one vm_id/);
});
