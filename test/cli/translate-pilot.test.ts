// Differential: each bookinfo workload's translated sidecar against what Istio's own pilot generates for
// the same YAML (tools/istio-pilot, host/envoy/pilot.ts): the outbound clusters, the virtual host domains
// of every service, the authorization policies that apply on inbound, the inbound mTLS chains. The
// differences accepted are listed in docs/DESIGN.md ("translate vs pilot").
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { translate } from '../../host/cli/translate.ts';
import { istioPilot, pilotBinaryPath } from '../../host/envoy/pilot.ts';
import type { JsonObject } from '../../host/cli/istio.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { pilotPod } from './pilot-input.ts';

const samples = join(repoRoot, 'test/data/istio-samples');
const PATHS = [
  'bookinfo/platform/kube/bookinfo.yaml',
  'bookinfo/networking/destination-rule-all.yaml',
  'bookinfo/networking/virtual-service-reviews-test-v2.yaml',
  'bookinfo/networking/virtual-service-ratings-test-abort.yaml',
  'security/allow-nothing.yaml',
  'security/productpage-viewer.yaml',
];
const FILES = PATHS.map((p) => ({ name: p, text: readFileSync(join(samples, p), 'utf8') }));

const policyNames = (listeners: JsonObject[]) => [
  ...new Set([...JSON.stringify(listeners).matchAll(/ns\[default\]-policy\[([^\]]+)\]-rule/g)].map((m) => m[1])),
];

test('bookinfo, every workload: translate agrees with pilot on clusters, domains, inbound policies and mTLS chains', async (t) => {
  if (!existsSync(pilotBinaryPath())) return t.skip(`${pilotBinaryPath()} not built (npm run pilot:build)`);
  for (const name of ['details-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'productpage-v1']) {
    const ours = translate(FILES, { workload: { name } });
    const wl = ours.workload;
    const text = FILES.map((f) => f.text).join('\n---\n') + pilotPod(name, wl.labels, wl.serviceAccount, [9080]);
    const pilot = await istioPilot(text, {
      namespace: 'default',
      labels: wl.labels,
      ip: '10.0.0.1',
      serviceAccount: wl.serviceAccount,
      workloadName: name,
    });
    // Clusters: the same outbound set (pilot's BlackHole/Passthrough/inbound ones are accepted differences).
    const outbound = (names: string[]) => names.filter((n) => n.startsWith('outbound|')).sort();
    assert.deepEqual(outbound(ours.clusters), outbound(pilot.clusters.map((c) => String(c.name))), `${name}: clusters`);
    // Domains: every pilot domain of each service's virtual host is ours (ours add `host:*`, port-free matching).
    const route = pilot.routes.find((r) => r.name === '9080')!;
    const hcm = (((ours.envoy.static_resources as JsonObject).listeners as JsonObject[])[0].filter_chains as JsonObject[])[0]
      .filters as JsonObject[];
    const ourHosts = ((hcm[0].typed_config as JsonObject).route_config as JsonObject).virtual_hosts as JsonObject[];
    for (const vh of route.virtual_hosts as JsonObject[]) {
      if (vh.name === 'allow_any') continue;
      const fqdn = String(vh.name).replace(/:9080$/, '');
      const mine = ourHosts.find((h) => h.name === fqdn);
      assert.ok(mine, `${name}: no virtual host ${fqdn}`);
      for (const d of vh.domains as string[]) assert.ok((mine.domains as string[]).includes(d), `${name}: ${fqdn}: domain ${d}`);
    }
    // Inbound: the same AuthorizationPolicies apply (pilot's rbac policy names).
    const ourPolicies = ((ours.authz?.policies as JsonObject[] | undefined) ?? []).map((p) => p.name).sort();
    assert.deepEqual(ourPolicies, policyNames(pilot.listeners).sort(), `${name}: policies`);
    // mTLS: no PeerAuthentication = PERMISSIVE; pilot's inbound has a tls and a raw_buffer chain, as ours.
    const inbound = pilot.listeners.find((l) => l.name === 'virtualInbound')!;
    const protocols = new Set(
      (inbound.filter_chains as JsonObject[]).map((c) => (c.filter_chain_match as JsonObject | undefined)?.transport_protocol),
    );
    assert.ok(protocols.has('tls') && protocols.has('raw_buffer'), `${name}: pilot inbound ${[...protocols]}`);
    assert.equal(ours.mtls, 'PERMISSIVE');
  }
});
