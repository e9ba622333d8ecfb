// Path tricks against an ALLOW `/info*` and a DENY `/info/admin*` in real Envoy 1.40 with the HCM
// settings asmesh ships (envoy/sidecar.yaml, asmesh translate: Istio's normalize_path, merge_slashes
// off, escaped slashes kept): every attempt to reach another path than the one the policy matched is
// refused, and what the service receives is exactly the path the policy saw. The same HCM settings
// are checked against the ones Istio's pilot writes for a sidecar.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadBootstrap, connectionManagers } from '../../host/envoy/config.ts';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { HTTPBIN_WORKLOAD, inboundHttpManager, istioPilot } from '../../host/envoy/pilot.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { ISTIO_PATH_HANDLING } from '../../host/cli/translate.ts';

let upstreams: Upstreams, envoy: Envoy;

before(async () => {
  upstreams = await Upstreams.start();
  envoy = await startEnvoy({
    filters: [
      {
        name: 'authz',
        config: {
          policies: [
            { name: 'info-only', action: 'ALLOW', rules: [{ to: [{ operation: { paths: ['/info*'] } }] }] },
            { name: 'no-admin', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/info/admin*'] } }] }] },
          ],
        },
      },
    ],
    upstreams: upstreams.endpoints(),
  });
});

after(async () => {
  await envoy?.stop();
  await upstreams?.close();
});

test('path tricks: normalized before authz, so they are refused or reach the service as the path the policy allowed', async () => {
  const cases: [string, number, string | null][] = [
    ['/info/x', 200, '/info/x'],
    ['/info/../admin', 403, null],
    ['/info/x/../../admin', 403, null],
    ['/info/%2E%2E/admin', 403, null],
    ['//info', 403, null],
    ['//admin', 403, null],
    ['/info/./admin', 403, null],
    ['/info/%61dmin', 403, null],
    ['/info//admin', 200, '/info//admin'],
    // Escaped slashes are kept (Istio's default): the service gets the very path /info* matched.
    ['/info%2F..%2Fadmin', 200, '/info%2F..%2Fadmin'],
  ];
  for (const [path, status, served] of cases) {
    const r = await envoy.request(path, { headers: { host: 'service_b' } });
    assert.equal(r.status, status, `${path}: ${r.body}`);
    if (served !== null) assert.equal(JSON.parse(r.body).path, served, path);
  }
});

test('asmesh ships the path handling Istio gives a sidecar (envoy/sidecar.yaml, asmesh translate, pilot)', async () => {
  const pilot = await istioPilot(HTTPBIN_WORKLOAD.yaml, HTTPBIN_WORKLOAD.proxy);
  const hcm = inboundHttpManager(pilot, 80).config;
  const pick = (h: Record<string, unknown>) => ({
    normalize_path: h.normalize_path ?? false,
    merge_slashes: h.merge_slashes ?? false,
    path_with_escaped_slashes_action: h.path_with_escaped_slashes_action ?? 'IMPLEMENTATION_SPECIFIC_DEFAULT',
  });
  assert.deepEqual(pick(hcm), ISTIO_PATH_HANDLING);
  for (const m of connectionManagers(loadBootstrap())) assert.deepEqual(pick(m), ISTIO_PATH_HANDLING);
});
