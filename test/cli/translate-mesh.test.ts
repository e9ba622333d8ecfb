// asmesh translate on a whole mesh: Istio's bookinfo (test/data/istio-samples, verbatim) and resources
// scoped as pilot scopes them (host/cli/mesh.ts): each workload gets exactly the policies, routes and
// DestinationRules that apply to it.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputErrors } from '../../host/cli/errors.ts';
import { translate, listWorkloads, type TranslateResult } from '../../host/cli/translate.ts';
import type { JsonObject } from '../../host/cli/istio.ts';
import { repoRoot } from '../harness/fixtures.ts';

const samples = join(repoRoot, 'test/data/istio-samples');
const file = (p: string) => ({ name: p, text: readFileSync(join(samples, p), 'utf8') });
const bookinfo = file('bookinfo/platform/kube/bookinfo.yaml');
const net = (f: string) => file(`bookinfo/networking/${f}`);
const sec = (f: string) => file(`security/${f}`);
const doc = (name: string, text: string) => ({ name, text });

function errorsOf(files: { name: string; text: string }[], opts = {}): string[] {
  try {
    translate(files, opts);
  } catch (e) {
    assert.ok(e instanceof InputErrors, String(e));
    return e.errors;
  }
  assert.fail('expected InputErrors');
}
const policyNames = (r: TranslateResult) => ((r.authz?.policies as JsonObject[] | undefined) ?? []).map((p) => p.name);
const clusters = (r: TranslateResult) => (r.envoy.static_resources as JsonObject).clusters as JsonObject[];
const cluster = (r: TranslateResult, name: string) => {
  const c = clusters(r).find((x) => x.name === name);
  assert.ok(c, `no cluster ${name} in ${r.clusters.join(', ')}`);
  return c;
};

test('a policy selecting another workload does not apply (the bug: its ALLOW let a request Istio denies through)', () => {
  // allow-nothing denies everything in default; productpage-viewer allows GET, for productpage only.
  const files = [bookinfo, sec('allow-nothing.yaml'), sec('productpage-viewer.yaml')];
  const ratings = translate(files, { workload: { name: 'ratings-v1' } });
  assert.deepEqual(policyNames(ratings), ['allow-nothing'], 'ratings: only the namespace-wide policy; a GET is denied');
  const productpage = translate(files, { workload: { name: 'productpage-v1' } });
  assert.deepEqual(policyNames(productpage), ['allow-nothing', 'productpage-viewer']);
  // The selector is not passed to the filter (it is translate's to apply).
  assert.equal((productpage.authz!.policies as JsonObject[])[1].selector, undefined);
});

test('namespace, root namespace and targetRefs scope every policy kind as pilot does', () => {
  const ap = (name: string, ns: string, extra = '') =>
    `---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: ${ns} }\nspec:\n${extra}  action: DENY\n  rules: [{ to: [{ operation: { methods: [POST] } }] }]\n`;
  const text =
    ap('mesh', 'istio-system') +
    ap('mesh-reviews', 'istio-system', '  selector: { matchLabels: { app: reviews } }\n') +
    ap('other-ns', 'prod') +
    ap('here', 'default') +
    ap('gateway-only', 'default', '  targetRefs: [{ kind: Gateway, group: gateway.networking.k8s.io, name: gw }]\n');
  const files = [bookinfo, doc('aps.yaml', text)];
  assert.deepEqual(policyNames(translate(files, { workload: { name: 'reviews-v2' } })), ['mesh', 'mesh-reviews', 'here']);
  assert.deepEqual(policyNames(translate(files, { workload: { name: 'details-v1' } })), ['mesh', 'here']);
  // RequestAuthentication and Telemetry by the same rules.
  const ra = `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: default }
spec:
  selector: { matchLabels: { app: productpage } }
  jwtRules: [{ issuer: "https://issuer", jwks: '{"keys":[]}' }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: reviews-only, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  metrics: [{ overrides: [{ match: { metric: REQUEST_COUNT }, disabled: true }] }]
`;
  const pp = translate([bookinfo, doc('ra.yaml', ra)], { workload: { name: 'productpage-v1' } });
  assert.equal((pp.authz!.jwtRules as JsonObject[]).length, 1);
  assert.equal(pp.telemetry, null);
  const rv = translate([bookinfo, doc('ra.yaml', ra)], { workload: { name: 'reviews-v1' } });
  assert.equal(rv.authz, null);
  assert.equal((rv.telemetry!.metrics as JsonObject[]).length, 1);
});

test('PeerAuthentication: workload > namespace > mesh, UNSET inherits, port-level modes', () => {
  const pa = (name: string, ns: string, spec: string) =>
    `---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: ${name}, namespace: ${ns} }\nspec: ${spec}\n`;
  const mesh = pa('mesh', 'istio-system', '{ mtls: { mode: STRICT } }');
  const nsDisable = pa('ns', 'default', '{ mtls: { mode: DISABLE } }');
  const wlUnset = pa(
    'wl',
    'default',
    '{ selector: { matchLabels: { app: ratings } }, mtls: { mode: UNSET }, portLevelMtls: { 9080: { mode: PERMISSIVE } } }',
  );
  const r = (text: string, name: string) => translate([bookinfo, doc('pa.yaml', text)], { workload: { name } });
  assert.equal(r(mesh, 'details-v1').mtls, 'STRICT');
  assert.equal(r(mesh + nsDisable, 'details-v1').mtls, 'DISABLE');
  // ratings serves 9080 (its Service's targetPort): the port-level mode.
  assert.equal(r(mesh + nsDisable + wlUnset, 'ratings-v1').mtls, 'PERMISSIVE');
  // A selector PeerAuthentication in the root namespace is not workload-level (ignored).
  assert.equal(
    r(pa('root-sel', 'istio-system', '{ selector: { matchLabels: { app: ratings } }, mtls: { mode: DISABLE } }'), 'ratings-v1').mtls,
    'PERMISSIVE',
  );
  // Callers: mTLS to a STRICT destination, plaintext to DISABLE (auto mTLS).
  const caller = r(mesh + nsDisable, 'productpage-v1');
  assert.equal(cluster(caller, 'outbound|9080||reviews.default.svc.cluster.local').transport_socket, undefined);
  const strictCaller = r(mesh, 'productpage-v1');
  assert.ok(cluster(strictCaller, 'outbound|9080||reviews.default.svc.cluster.local').transport_socket);
});

test('bookinfo: every Service becomes clusters on its port, the VirtualServices of every host, DestinationRule subsets', () => {
  const files = [
    bookinfo,
    net('destination-rule-all.yaml'),
    net('virtual-service-reviews-test-v2.yaml'),
    net('virtual-service-ratings-test-abort.yaml'),
  ];
  const r = translate(files, { workload: { name: 'productpage-v1' } });
  for (const svc of ['details', 'ratings', 'reviews', 'productpage']) {
    cluster(r, `outbound|9080||${svc}.default.svc.cluster.local`);
  }
  for (const v of ['v1', 'v2', 'v3']) cluster(r, `outbound|9080|${v}|reviews.default.svc.cluster.local`);
  // Two VirtualServices: one steering filter each, destinations named by the registry (FQDN) on the Service's port.
  assert.equal(r.virtualServices.length, 2);
  const reviews = r.virtualServices.find((v) => (v.hosts as string[])[0] === 'reviews')!;
  const d = ((reviews.http as JsonObject[])[0].route as JsonObject[])[0].destination as JsonObject;
  assert.deepEqual(d, { host: 'reviews.default.svc.cluster.local', subset: 'v2', port: { number: 9080 } });
  const hcm = (((r.envoy.static_resources as JsonObject).listeners as JsonObject[])[0].filter_chains as JsonObject[])[0]
    .filters as JsonObject[];
  const names = ((hcm[0].typed_config as JsonObject).http_filters as JsonObject[]).map((f) => f.name);
  assert.deepEqual(names, ['asmesh.steering', 'asmesh.steering.2', 'asmesh.telemetry', 'envoy.filters.http.router']);
  // The workload's identity and labels come from its Deployment.
  assert.deepEqual(r.workload.labels, { app: 'productpage', version: 'v1' });
  assert.equal(r.workload.serviceAccount, 'bookinfo-productpage');
  assert.equal(clusters(r).find((c) => String(c.name).startsWith('inbound|'))!.name, 'inbound|9080||');
});

test('VirtualService and DestinationRule visibility: exportTo, namespaces, short names, first owner of a host', () => {
  const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: private, namespace: prod }
spec:
  exportTo: ["."]
  hosts: [reviews.default.svc.cluster.local]
  http: [{ route: [{ destination: { host: reviews.default.svc.cluster.local, subset: v3 } }] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: first, namespace: default }
spec:
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews, subset: v1 } }] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: second, namespace: default }
spec:
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews, subset: v2 } }] }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews-local, namespace: default }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews-more, namespace: default }
spec:
  host: reviews
  subsets: [{ name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews-hidden, namespace: prod }
spec:
  host: reviews.default.svc.cluster.local
  exportTo: ["."]
  trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 } } }
`;
  const r = translate([bookinfo, doc('vis.yaml', text)], { workload: { name: 'productpage-v1' } });
  assert.deepEqual(
    r.virtualServices.map(
      (v) =>
        (v.asmesh as JsonObject).namespace +
        ':' +
        String(
          ((v.http as JsonObject[])[0].route as JsonObject[])[0].destination &&
            (((v.http as JsonObject[])[0].route as JsonObject[])[0].destination as JsonObject).subset,
        ),
    ),
    ['default:v1'],
  );
  assert.ok(
    r.warnings.some((w) => /second: host reviews\.default\.svc\.cluster\.local is already routed/.test(w)),
    r.warnings.join('\n'),
  );
  // The two DestinationRules of default merge their subsets; prod's (exported to prod only) does not apply.
  cluster(r, 'outbound|9080|v1|reviews.default.svc.cluster.local');
  cluster(r, 'outbound|9080|v2|reviews.default.svc.cluster.local');
  assert.equal(cluster(r, 'outbound|9080||reviews.default.svc.cluster.local').circuit_breakers, undefined);
});

test('DestinationRule tls: DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL', () => {
  const dr = (host: string, tls: string) =>
    `---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ${host} }\nspec: { host: ${host}, trafficPolicy: { tls: ${tls} } }\n`;
  const text =
    dr('details', '{ mode: DISABLE }') +
    dr('ratings', '{ mode: SIMPLE, sni: ratings.example, caCertificates: /etc/ca.pem, subjectAltNames: [ratings.example] }') +
    dr('reviews', '{ mode: MUTUAL, clientCertificate: /etc/c.pem, privateKey: /etc/k.pem }') +
    dr('productpage', '{ mode: ISTIO_MUTUAL }');
  const r = translate([bookinfo, doc('tls.yaml', text)], { workload: { name: 'productpage-v1' } });
  const ts = (h: string) => cluster(r, `outbound|9080||${h}.default.svc.cluster.local`).transport_socket as JsonObject | undefined;
  assert.equal(ts('details'), undefined);
  const simple = ts('ratings')!.typed_config as JsonObject;
  assert.equal(simple.sni, 'ratings.example');
  assert.deepEqual(simple.common_tls_context, {
    validation_context: {
      trusted_ca: { filename: '/etc/ca.pem' },
      match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'ratings.example' } }],
    },
  });
  const mutual = (ts('reviews')!.typed_config as JsonObject).common_tls_context as JsonObject;
  assert.deepEqual(mutual.tls_certificates, [{ certificate_chain: { filename: '/etc/c.pem' }, private_key: { filename: '/etc/k.pem' } }]);
  const istio = (ts('productpage')!.typed_config as JsonObject).common_tls_context as JsonObject;
  assert.deepEqual((istio.validation_context as JsonObject).match_typed_subject_alt_names, [
    { san_type: 'URI', matcher: { prefix: 'spiffe://cluster.local/' } },
  ]);
  assert.deepEqual(
    errorsOf([doc('m.yaml', dr('x', '{ mode: MUTUAL }'))]),
    [
      'm.yaml: document 1: spec.trafficPolicy.tls.clientCertificate: required for MUTUAL (a file path)',
      'm.yaml: document 1: spec.trafficPolicy.tls.privateKey: required for MUTUAL (a file path)',
    ].map((l) => l.replace('document 1: ', '')),
  );
});

test('bad YAML: one line naming file and document, never a stack trace', () => {
  assert.deepEqual(errorsOf([doc('nul.yaml', 'kind: a\0b\n')]), ['nul.yaml: a NUL byte at offset 7: not YAML text']);
  assert.deepEqual(errorsOf([doc('empty.yaml', '  \n')]), ['empty.yaml: empty: no YAML documents']);
  assert.deepEqual(errorsOf([doc('c.yaml', '# only a comment\n')]), ['c.yaml: no resources']);
  assert.match(errorsOf([doc('tag.yaml', 'kind: !nope x\n')])[0], /^tag\.yaml: YAML: Unresolved tag: !nope/);
  assert.match(errorsOf([doc('alias.yaml', 'a: &x 1\n---\nkind: *nope\n')]).at(-1)!, /^alias\.yaml: document 2: YAML: Unresolved alias/);
  const bomb =
    'a: &a [x, x]\n' +
    Array.from(
      { length: 12 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
    ).join('\n') +
    '\n';
  assert.deepEqual(errorsOf([doc('bomb.yaml', bomb)]), ['bomb.yaml: YAML: more than 100 alias expansions']);
  assert.deepEqual(errorsOf([]), ['no input files']);
});

test('workload picking: --workload among the Deployments, --labels, an unknown one is an error', () => {
  assert.deepEqual(
    listWorkloads([bookinfo]).map((w) => w.name),
    ['details-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'productpage-v1'],
  );
  assert.equal(translate([bookinfo], { labels: { app: 'reviews', version: 'v3' } }).workload.name, 'reviews-v3');
  assert.match(errorsOf([bookinfo], { labels: { app: 'reviews' } })[0], /^--labels: 3 workloads match/);
  assert.match(errorsOf([bookinfo], { workload: { name: 'nope' } })[0], /^--workload: no Deployment\/Pod nope/);
});

test('translate stays linear on a large mesh (2000 Services and VirtualServices: one pass, no per-pair work)', () => {
  const n = 2000;
  const docs: string[] = [];
  for (let i = 0; i < n; i++)
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata: { name: s${i} }\nspec: { ports: [{ name: http, port: 80 }], selector: { app: s${i} } }`,
      `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: s${i} }\nspec: { hosts: [s${i}], http: [{ route: [{ destination: { host: s${i} } }] }] }`,
    );
  const r = translate([doc('big.yaml', docs.join('\n---\n'))]);
  assert.equal(r.virtualServices.length, n);
  assert.equal(r.clusters.filter((c) => c.startsWith('outbound|')).length, n);
});

test('fields asmesh does not honour are named: a sniffed or UDP Service port, a Telemetry provider other than prometheus / envoy', () => {
  const svc = `apiVersion: v1
kind: Service
metadata: { name: db }
spec: { ports: [{ name: tcp-mysql, port: 3306 }, { name: http, port: 80 }, { name: web, port: 81 }, { name: dns, port: 53, protocol: UDP }] }
`;
  const r = translate([doc('db.yaml', svc)]);
  assert.deepEqual(
    r.warnings.filter((w) => w.startsWith('db.yaml')),
    [
      "db.yaml: spec.ports[2] (web): Istio serves it as sniffed HTTP or TCP; asmesh's outbound listener routes it as HTTP",
      'db.yaml: spec.ports[3] (dns): Istio serves it as no listener (UDP); asmesh neither',
    ],
  );
  const tel = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: t }
spec:
  metrics: [{ providers: [{ name: stackdriver }] }]
`;
  assert.deepEqual(errorsOf([doc('t.yaml', tel)]), [
    't.yaml: spec.metrics[0].providers[0].name: "stackdriver" not supported (asmesh reports to prometheus only)',
  ]);
  const logs = tel.replace('metrics: [{ providers: [{ name: stackdriver }] }]', 'accessLogging: [{ providers: [{ name: otel }] }]');
  assert.ok(translate([doc('t.yaml', logs)]).warnings.some((w) => w.startsWith('t.yaml: spec.accessLogging[0].providers[0].name: "otel"')));
});
