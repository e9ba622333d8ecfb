import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractTags, prometheusName } from '../../host/harness/prometheus.ts';
import { line, probe, request } from './fixtures.ts';

test('metric ids carry the type; result codes follow Envoy', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('metrics'));
  const expected: Record<string, string> = {
    define_counter: 'rc=0 id=0',
    define_gauge: 'rc=0 id=1',
    define_histogram: 'rc=0 id=2',
    define_bad: 'rc=2',
    inc_counter: 'rc=0',
    inc_counter_zero: 'rc=2',
    inc_counter_neg: 'rc=2',
    record_counter: 'rc=0',
    inc_gauge: 'rc=0',
    dec_gauge: 'rc=0',
    inc_histogram: 'rc=2',
    record_histogram: 'rc=0',
    get_counter: 'rc=0 value=7',
    get_gauge: 'rc=0 value=7',
    get_histogram: 'rc=2',
    get_unknown: 'rc=1',
    inc_unknown: 'rc=1',
    record_unknown: 'rc=1',
    record_gauge: 'rc=0',
  };
  for (const [name, rest] of Object.entries(expected)) assert.equal(line(r.logs, name + ' rc='), `${name} ${rest}`);
  assert.equal(plugin.metric('probe_requests_total'), 7);
  assert.equal(plugin.metric('wasmcustom.probe_requests_total'), 7);
  assert.equal(plugin.metric('probe_active'), 42);
  assert.deepEqual(plugin.metrics().get('probe_latency_ms'), { type: 'histogram', value: 1, samples: [7] });
  assert.equal(plugin.metric('nope'), undefined);
});

test('a second definition gets a new id (step 4) for the same stat', async () => {
  const plugin = await probe();
  await plugin.http(request('metrics'));
  const r = await plugin.http(request('metrics'));
  assert.equal(line(r.logs, 'define_counter rc='), 'define_counter rc=0 id=4');
  assert.equal(plugin.metric('probe_requests_total'), 14);
});

test('prometheus: wasmcustom namespace stripped, no envoy_ prefix, tags by stats_tags regexes', async () => {
  const plugin = await probe();
  await plugin.http(request('metrics'));
  const text = plugin.prometheus();
  assert.match(text, /^# TYPE probe_active gauge\nprobe_active 42\n/m);
  assert.match(text, /# TYPE probe_requests_total counter\nprobe_requests_total 7\n/);
  assert.match(text, /probe_latency_ms_bucket\{le="5"\} 0\nprobe_latency_ms_bucket\{le="10"\} 1\n/);
  assert.match(text, /probe_latency_ms_count 1\n/);
  assert.match(text, /probe_latency_ms_sum 7\n/);
});

test('tag extraction removes the first group and uses the second as value', () => {
  const rules = [{ tagName: 'route', regex: '^wasmcustom\\.asmesh_steering\\.(route=([^.]+)\\.)' }];
  assert.deepEqual(extractTags('wasmcustom.asmesh_steering.route=r1.requests_total', rules), {
    name: 'wasmcustom.asmesh_steering.requests_total',
    tags: [['route', 'r1']],
  });
  assert.equal(prometheusName('wasmcustom.asmesh_steering.requests_total'), 'asmesh_steering_requests_total');
  assert.equal(prometheusName('http.ingress.rq_total'), 'envoy_http_ingress_rq_total');
});
