// filters/manifest.ts is the one list of filters: the folders, the shipped Envoy files and what
// translate renders must agree with it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { FILTERS, FILTER_NAMES, MESH_FILTERS, chainOrder, filterFolders, statsTags } from '../filters/manifest.ts';
import { missingExports } from '../host/wasm/filter-exports.ts';
import { SIDECAR_YAML, asmeshFilterName, connectionManagers } from '../host/envoy/config.ts';
import { repoRoot } from '../host/paths.ts';
import { translate } from '../host/cli/translate.ts';
import { FILES } from '../scripts/gen-envoy.ts';

test('every filters/<name>/index.ts has a manifest entry, and every entry a folder', () => {
  assert.deepEqual([...FILTER_NAMES].sort(), filterFolders(repoRoot));
});

test('envoy/sidecar.yaml and envoy/stats-tags.yaml are generated from the manifest (npm run gen:envoy)', () => {
  for (const [file, render] of Object.entries(FILES)) {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    assert.equal(text, render(text), `${file} is stale: run npm run gen:envoy`);
  }
  const sidecar = parse(readFileSync(SIDECAR_YAML, 'utf8'));
  assert.deepEqual(sidecar.stats_config.stats_tags, statsTags());
  assert.deepEqual(parse(readFileSync(join(repoRoot, 'envoy/stats-tags.yaml'), 'utf8')).stats_tags, statsTags());
  // The sidecar mounts the mesh filters as the manifest orders them.
  const chain = connectionManagers(sidecar)[0]!
    .http_filters.map((e: any) => asmeshFilterName(e))
    .filter((n: string | null) => n !== null);
  assert.deepEqual(chain, MESH_FILTERS);
});

test("translate: stats_tags = the manifest's rules (+ custom labels), filters on the manifest's listener sides in chain order", () => {
  const telemetry = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: t, namespace: default }
spec:
  metrics:
  - overrides:
    - tagOverrides: { user_tier: { value: "request.headers['x-tier']" } }
`;
  const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: vs, namespace: default }
spec:
  hosts: [service_b]
  http: [{ route: [{ destination: { host: service_b } }] }]
`;
  const ap = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ap, namespace: default }
spec: {}
`;
  const r = translate([
    { name: 't.yaml', text: telemetry },
    { name: 'vs.yaml', text: vs },
    { name: 'ap.yaml', text: ap },
  ]);
  assert.deepEqual((r.envoy as any).stats_config.stats_tags, statsTags(['user_tier']));
  for (const hcm of connectionManagers(r.envoy as any)) {
    const mounted = hcm.http_filters.map((e: any) => asmeshFilterName(e)).filter((n: string | null) => n !== null);
    const side = hcm.stat_prefix as 'outbound' | 'inbound';
    assert.deepEqual(
      mounted,
      FILTERS.filter((f) => side in f.sides && (f as { layer?: string }).layer !== 'network').map((f) => f.name),
      side,
    );
    assert.deepEqual(
      mounted,
      chainOrder(mounted.map((name: string) => ({ name }))).map((f) => f.name),
    );
  }
});

test('a filter module exports every callback its filter implements, and the check names one it lacks', () => {
  const wasm = (name: string) => new WebAssembly.Module(readFileSync(join(repoRoot, 'build', `${name}.wasm`)));
  for (const name of FILTER_NAMES) assert.deepEqual(missingExports(name, wasm(name)), [], name);
  // authz.wasm exports no response or log callbacks: as telemetry's module it would lack them.
  assert.deepEqual(missingExports('telemetry', wasm('authz')), [
    'proxy_on_request_body (needed by filters/telemetry/filter.ts)',
    'proxy_on_response_headers (needed by filters/telemetry/filter.ts)',
    'proxy_on_response_body (needed by filters/telemetry/filter.ts)',
    'proxy_on_response_trailers (needed by filters/telemetry/filter.ts)',
    'proxy_on_log (needed by filters/telemetry/filter.ts)',
  ]);
  // mesh.wasm's parts are read through its imports: steering's delay timer needs proxy_on_tick.
  assert.ok(missingExports('mesh', wasm('telemetry')).includes('proxy_on_tick (needed by filters/steering/filter.ts)'));
});
