// Differential: each bookinfo workload's translated sidecar against what Istio's own pilot generates for
// the same YAML (tools/istio-pilot, host/envoy/pilot.ts): the outbound clusters, the virtual host domains
// of every service, the authorization policies that apply on inbound, the inbound mTLS chains; and every
// route of every bookinfo VirtualService field by field (route-fields.ts). The differences accepted are
// listed in docs/DESIGN.md ("translate vs pilot").
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { translate, type TranslateResult } from '../../host/cli/translate.ts';
import { istioPilot, pilotBinaryPath } from '../../host/envoy/pilot.ts';
import type { JsonObject } from '../../host/cli/istio.ts';
import { repoRoot } from '../harness/fixtures.ts';
import { pilotPod } from './pilot-input.ts';
import { asmeshRoutes, canonical, differingFields, pilotRoutes, type RouteFields } from './route-fields.ts';

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
    // Routes: every VirtualService's, field by field, as this workload sees them.
    const unlisted: string[] = [];
    assert.ok(compareRoutes(name, ours, pilot.routes, unlisted, new Map()) >= 3, name);
    assert.deepEqual(unlisted, [], name);
  }
});

/** Istio's default retry policy (pilot's retry.DefaultPolicy), on every route of a VirtualService without `retries`. */
const ISTIO_DEFAULT_RETRIES = {
  retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
  num_retries: 2,
  retry_host_predicate: [
    {
      name: 'envoy.retry_host_predicates.previous_hosts',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
    },
  ],
  host_selection_retry_max_attempts: '5',
};

/** Accepted route differences (docs/DESIGN.md "translate vs pilot" has the same rows); any other fails the test. */
const ACCEPTED_ROUTE: { name: string; field: keyof RouteFields; applies: (ours: RouteFields, pilot: RouteFields) => boolean }[] = [
  {
    name: "Istio's default retry policy",
    field: 'retries',
    applies: (ours, pilot) => ours.retries === null && canonical(pilot.retries) === canonical(ISTIO_DEFAULT_RETRIES),
  },
];

/** Every bookinfo sample with a VirtualService for sidecars, the istio.io request-timeouts task's, and asmesh's own for the fields those leave out. */
const VS_FILES = [
  ...[
    'fault-injection-details-v1',
    'virtual-service-all-v1',
    'virtual-service-details-v2',
    'virtual-service-ratings-db',
    'virtual-service-ratings-mysql',
    'virtual-service-ratings-mysql-vm',
    'virtual-service-ratings-test-abort',
    'virtual-service-ratings-test-delay',
    'virtual-service-reviews-50-v3',
    'virtual-service-reviews-80-20',
    'virtual-service-reviews-90-10',
    'virtual-service-reviews-jason-v2-v3',
    'virtual-service-reviews-test-v2',
    'virtual-service-reviews-v2-v3',
    'virtual-service-reviews-v3',
  ].map((f) => `bookinfo/networking/${f}.yaml`),
  'traffic/request-timeouts.yaml',
  '../../cli/fixtures/bookinfo-route-fields.yaml',
];

/**
 * Compares each VirtualService's routes in `ours` with pilot's RDS `9080`, record by record (route-fields.ts);
 * differences not in ACCEPTED_ROUTE go to `unlisted`. Returns the number of routes compared.
 */
function compareRoutes(
  label: string,
  ours: TranslateResult,
  routes: JsonObject[],
  unlisted: string[],
  accepted: Map<string, number>,
): number {
  const rds = routes.find((r) => r.name === '9080')!;
  const outbound = ((ours.envoy.static_resources as JsonObject).listeners as JsonObject[]).find((l) => l.name === 'outbound')!;
  const hcm = ((outbound.filter_chains as JsonObject[])[0].filters as JsonObject[])[0].typed_config as JsonObject;
  const ourHosts = (hcm.route_config as JsonObject).virtual_hosts as JsonObject[];
  assert.ok(ours.virtualServices.length > 0, label);
  let compared = 0;
  for (const spec of ours.virtualServices) {
    const fqdn = `${(spec.hosts as string[])[0]}.default.svc.cluster.local`;
    const steered = (ourHosts.find((h) => h.name === fqdn)!.routes as JsonObject[])[0];
    assert.equal(steered.name, 'asmesh-steered');
    const mine = asmeshRoutes(spec, steered);
    const theirs = pilotRoutes((rds.virtual_hosts as JsonObject[]).find((v) => v.name === `${fqdn}:9080`)!.routes as JsonObject[]);
    assert.equal(mine.length, theirs.length, `${label} ${fqdn}: routes`);
    mine.forEach((a, i) => {
      compared++;
      for (const field of differingFields(a, theirs[i]!)) {
        const ok = ACCEPTED_ROUTE.find((x) => x.field === field && x.applies(a, theirs[i]!));
        if (ok) accepted.set(ok.name, (accepted.get(ok.name) ?? 0) + 1);
        else
          unlisted.push(
            `${label} ${fqdn} route ${i}: ${field}: asmesh ${JSON.stringify(a[field])}, pilot ${JSON.stringify(theirs[i]![field])}`,
          );
      }
    });
  }
  return compared;
}

test("bookinfo VirtualServices, route by route and field by field: the steering config encodes what pilot's RDS routes say", async (t) => {
  if (!existsSync(pilotBinaryPath())) return t.skip(`${pilotBinaryPath()} not built (npm run pilot:build)`);
  const unlisted: string[] = [];
  const accepted = new Map<string, number>();
  let compared = 0;
  for (const vsFile of VS_FILES) {
    // Its VirtualServices only (fault-injection-details-v1 also carries a DestinationRule destination-rule-all has).
    const vsText = parseAllDocuments(readFileSync(join(samples, vsFile), 'utf8'))
      .filter((d) => d.get('kind') === 'VirtualService')
      .map((d) => d.toString())
      .join('---\n');
    const files = [...FILES.slice(0, 2), { name: vsFile, text: vsText }];
    const ours = translate(files, { workload: { name: 'productpage-v1' } });
    const wl = ours.workload;
    const pilot = await istioPilot(files.map((f) => f.text).join('\n---\n'), {
      namespace: 'default',
      labels: wl.labels,
      ip: '10.0.0.1',
      serviceAccount: wl.serviceAccount,
      workloadName: wl.name,
    });
    compared += compareRoutes(vsFile, ours, pilot.routes, unlisted, accepted);
  }
  console.log(
    `# ${compared} routes compared over ${VS_FILES.length} files; accepted: ${JSON.stringify(Object.fromEntries(accepted))}; unlisted: ${unlisted.length}`,
  );
  assert.deepEqual(unlisted, []);
  // Each accepted row is still needed (a stale one would hide nothing and should go).
  for (const a of ACCEPTED_ROUTE) assert.ok((accepted.get(a.name) ?? 0) > 0, `accepted row "${a.name}" never applied`);
});
